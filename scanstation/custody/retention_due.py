"""Dossiers whose retention period has run out (R16): the list an appraisal starts from (R37).

Expiry is 1 January of (formation year + 1 + N) for a retention code DN; Y never expires
(``scanstation.retention.expiry_date``). The formation year is the dossier's 年度. The query
is one indexed pass: a DN dossier has expired on ``as_of`` exactly when
``year <= as_of.year - 1 - N``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from scanstation.errors import InvalidInput


def parse_date(text, what_en: str = "date", what_zh: str = "日期") -> date:
    if isinstance(text, date):
        return text
    try:
        return date.fromisoformat(str(text).strip())
    except ValueError:
        raise InvalidInput(
            "The {what} '{value}' is not a date; write it as YYYY-MM-DD, e.g. 2035-01-01.",
            "{what_zh}“{value}”不是有效日期；请按 YYYY-MM-DD 填写，例如 2035-01-01。",
            what=what_en,
            what_zh=what_zh,
            value=text,
        ) from None


@dataclass
class DueDossier:
    id: int
    number: str
    title: str
    year: int
    retention: str
    date: str
    status: str
    expiry: str
    pages: int
    register_no: str = ""  # an open destruction register already holding it

    def as_dict(self) -> dict:
        return dict(self.__dict__)


def due(catalog, as_of: date | None = None, fonds: str | None = None) -> list[DueDossier]:
    """Every dossier, except destroyed ones, whose retention expired on or before ``as_of``."""
    from scanstation import retention

    as_of = as_of or date.today()
    clauses, params = [], []
    for code, info in retention.CODES.items():
        if info.years is None:
            continue  # Y: permanent (R16)
        clauses.append("(d.retention = ? AND d.year <= ?)")
        params += [code, as_of.year - 1 - info.years]
    where = f"d.status != 'destroyed' AND ({' OR '.join(clauses)})"
    if fonds:
        where += " AND d.fonds_code = ?"
        params.append(fonds)
    rows = catalog.query(
        "SELECT d.id, d.number, d.title, d.year, d.retention, d.date, d.status,"
        " (SELECT count(*) FROM pages p WHERE p.dossier_id = d.id AND p.state = 'active') AS pages,"
        " (SELECT r.register_no FROM destruction_items i JOIN destruction_registers r ON r.id = i.register_id"
        "   WHERE i.dossier_id = d.id AND r.state IN ('proposed', 'approved') LIMIT 1) AS register_no"
        f" FROM dossiers d WHERE {where} ORDER BY d.year, d.number",
        params,
    )
    out = []
    for r in rows:
        expiry = retention.expiry_date(r["year"], r["retention"])
        out.append(
            DueDossier(
                id=r["id"],
                number=r["number"],
                title=r["title"],
                year=r["year"],
                retention=r["retention"],
                date=r["date"],
                status=r["status"],
                expiry=expiry.isoformat() if expiry else "",
                pages=r["pages"],
                register_no=r["register_no"] or "",
            )
        )
    return out


__all__ = ["DueDossier", "due", "parse_date"]
