"""The station's clock (base layer): every timestamp the station writes comes from here."""

from __future__ import annotations

from datetime import UTC, datetime


def now_iso() -> str:
    """Local time, ISO 8601 with zone (R20)."""
    return datetime.now(UTC).astimezone().isoformat(timespec="seconds")


__all__ = ["now_iso"]
