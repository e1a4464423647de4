"""How values look in the window: local time instead of UTC ISO stamps, sizes in KB/MB/GB instead of
byte counts. (Logs, reports and the audit trail keep the exact values.)"""

from __future__ import annotations

from datetime import UTC, datetime

from PySide6.QtCore import QCoreApplication


def local_time(iso: str | None, with_seconds: bool = False) -> str:
    """'2026-12-06T03:04:05Z' -> '2026-12-06 11:04' in the desk's time zone; other text unchanged."""
    if not iso:
        return ""
    text = str(iso).strip()
    try:
        stamp = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return text
    if stamp.tzinfo is None:
        stamp = stamp.replace(tzinfo=UTC)
    if len(text) <= 10:  # a date alone stays a date
        return text
    return stamp.astimezone().strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")


def human_size(n: int | float | None) -> str:
    """1536 -> '1.5 KB'; decimal steps of 1024 as file managers show them."""
    if n is None:
        return ""
    size = float(n)
    for unit in ("B", "KB", "MB", "GB", "TB"):
        if abs(size) < 1024 or unit == "TB":
            return f"{int(size)} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024
    return f"{size:.1f} TB"


def count_files(n: int) -> str:
    return QCoreApplication.translate("Text", "{n} file(s)").format(n=n)


_RULE_REF = r"R\d{2}(?:\s*[/、,，和及]\s*R?\d{2})*"
_NOISE = [
    (r"\s*[（(]\s*" + _RULE_REF + r"\s*[)）]", ""),  # "（R09/R10）" — rule numbers belong in logs and reports
    (r"\s*[（(]\s*U\+[0-9A-Fa-f]{4,6}\s*[)）]", ""),  # "（U+00B7）"
    (r"[（(]\s*pid\s+\d+[^)）]*[)）]", ""),  # "(pid 19018, scanstation gui)"
    (r"\bpid\s+\d+", ""),
    (r"\s*[（(]\s*scanstation\s[^)）]*[)）]", ""),  # "（scanstation catalog import）": a command line
]


def plain_message(text: str) -> str:
    """A core message as the window shows it: without rule numbers, code points or process ids (the log
    and the command line keep the full text)."""
    import re

    out = text or ""
    for pattern, replacement in _NOISE:
        out = re.sub(pattern, replacement, out)
    return re.sub(r"[ \t]{2,}", " ", out).strip()
