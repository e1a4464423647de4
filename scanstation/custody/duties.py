"""Separation of duties (R24, R36): scanning, QC and acceptance of one dossier are done by
different users.

The QC and receive code calls these checks before it changes anything; they read the names the
catalog recorded (``dossiers.scanned_by / completed_by / qc_by`` and, for QC, every page's operator).
"""

from __future__ import annotations

import re

from scanstation.errors import InvalidInput, Refused

_DUTY = {
    "scanned_by": ("scanned", "扫描"),
    "completed_by": ("completed", "完成"),
    "qc_by": ("quality-checked", "质检"),
}


def names_in(value) -> set[str]:
    """The user names a field holds (one name, or several separated by commas or spaces)."""
    if not value:
        return set()
    return {part for part in re.split(r"[,\s]+", str(value)) if part}


def assert_different_user(session, dossier_row: dict, field: str) -> None:
    """Refuse if the acting user is the one recorded in ``dossier_row[field]``."""
    if field not in _DUTY:
        raise InvalidInput(
            "Unknown duty field '{field}'; use one of {fields}.",
            "未知的职责字段“{field}”；应为 {fields} 之一。",
            field=field,
            fields=", ".join(_DUTY),
        )
    if session.user.name in names_in(dossier_row.get(field)):
        did_en, did_zh = _DUTY[field]
        raise Refused(
            "User '{user}' {did} dossier {number} and so may not check it too (R36). Ask another colleague.",
            "用户“{user}”已{did_zh}案卷 {number}，不能再对其进行审核（R36）。请由其他同事处理。",
            user=session.user.name,
            did=did_en,
            did_zh=did_zh,
            number=dossier_row.get("number", "?"),
        )


def page_operators(catalog, dossier_id: int) -> set[str]:
    rows = catalog.query("SELECT DISTINCT operator FROM pages WHERE dossier_id = ? AND operator != ''", (dossier_id,))
    return {r["operator"] for r in rows}


def assert_may_qc(session, dossier_row: dict) -> None:
    """QC (R24): not by whoever scanned or completed the dossier or captured any of its pages."""
    assert_different_user(session, dossier_row, "scanned_by")
    assert_different_user(session, dossier_row, "completed_by")
    if "id" in dossier_row and session.user.name in page_operators(session.catalog, dossier_row["id"]):
        raise Refused(
            "User '{user}' captured pages of dossier {number} and so may not QC it (R36). Ask another colleague.",
            "用户“{user}”扫描过案卷 {number} 的页面，不能对其质检（R36）。请由其他同事处理。",
            user=session.user.name,
            number=dossier_row.get("number", "?"),
        )


def assert_may_receive(session, dossier_row: dict) -> None:
    """Acceptance in the archive room (R36): not by the dossier's scanner, completer or QC inspector."""
    for field in ("scanned_by", "completed_by", "qc_by"):
        assert_different_user(session, dossier_row, field)


__all__ = ["assert_different_user", "assert_may_qc", "assert_may_receive", "names_in", "page_operators"]
