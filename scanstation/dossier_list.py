"""Listing dossiers, one page at a time, equally fast at any depth.

Every filter shape the window and the command line offer (none, 年度, status, 年度 + status) has an
index that returns its rows already in 档号 order, so SQLite never sorts the match set; and a list is
paged by key (``after`` = the last 档号 shown), not by OFFSET, which would walk every skipped row.
``next_after`` of a page is what the caller passes to get the next one (None at the end).
"""

from __future__ import annotations

from dataclasses import dataclass

from scanstation.errors import InvalidInput
from scanstation.storage.catalog import DOSSIER_STATES
from scanstation.storage.migrations import register as register_migrations

MIGRATION = (
    70,
    "dossier_list_indexes",
    """
CREATE INDEX IF NOT EXISTS dossiers_fonds_year_number ON dossiers(fonds_code, year, number);
CREATE INDEX IF NOT EXISTS dossiers_fonds_status_number ON dossiers(fonds_code, status, number);
CREATE INDEX IF NOT EXISTS dossiers_fonds_number ON dossiers(fonds_code, number);
""",
)
register_migrations(__name__, MIGRATION)

MAX_LIMIT = 10000
COLUMNS = "number, title, year, retention, declared_pages, status, person_name, person_id_number"


@dataclass(frozen=True)
class DossierPage:
    rows: list[dict]
    next_after: str | None  # the 档号 to pass as ``after`` for the next page; None when this was the last


def list_dossiers(
    catalog,
    fonds: str,
    *,
    status: str | None = None,
    year: int | None = None,
    after: str | None = None,
    limit: int = 50,
    offset: int = 0,
) -> DossierPage:
    """One page of the fonds' dossiers in 档号 order, filtered by status and/or 年度.

    ``offset`` is kept for scripts written against older versions; it is only cheap near the top.
    """
    if not 1 <= int(limit) <= MAX_LIMIT or int(offset) < 0:
        raise InvalidInput(
            "--limit must be 1-{max} and --offset ≥ 0.", "--limit 须在 1-{max} 之间，--offset ≥ 0。", max=MAX_LIMIT
        )
    if status is not None and status not in DOSSIER_STATES:
        raise InvalidInput(
            "Unknown status “{s}”. Known: {known}.",
            "未知状态“{s}”。可用：{known}。",
            s=status,
            known=", ".join(DOSSIER_STATES),
        )
    where: list[str] = ["fonds_code = ?"]
    params: list[object] = [fonds]
    if year is not None:
        where.append("year = ?")
        params.append(int(year))
    if status is not None:
        where.append("status = ?")
        params.append(status)
    if after:
        where.append("number > ?")
        params.append(after)
    # one row more than asked tells whether there is a next page
    rows = catalog.query(
        f"SELECT {COLUMNS} FROM dossiers WHERE {' AND '.join(where)} ORDER BY number LIMIT ? OFFSET ?",
        params + [int(limit) + 1, int(offset)],
    )
    more = len(rows) > limit
    rows = rows[:limit]
    return DossierPage(rows=rows, next_after=rows[-1]["number"] if more and rows else None)


def by_number_prefix(catalog, prefix: str, limit: int = 15) -> list[dict]:
    """Number, title and status of the dossiers whose 档号 starts with ``prefix``, in 档号 order (an index range)."""
    return catalog.query(
        "SELECT number, title, status FROM dossiers WHERE number >= ? AND number < ? ORDER BY number LIMIT ?",
        (prefix, prefix + "\U0010ffff", int(limit)),
    )


def brief(catalog, number: str) -> dict | None:
    """Number, title and status of one dossier (None when the catalog has no such 档号)."""
    return catalog.one("SELECT number, title, status FROM dossiers WHERE number = ?", (number,))


def query_plan(catalog, fonds: str, *, status: str | None = None, year: int | None = None) -> str:
    """SQLite's plan for a listing shape (tests check that no shape sorts in a temporary B-tree)."""
    where: list[str] = ["fonds_code = ?"]
    params: list[object] = [fonds]
    if year is not None:
        where.append("year = ?")
        params.append(year)
    if status is not None:
        where.append("status = ?")
        params.append(status)
    where.append("number > ?")
    params.append("")
    rows = catalog.conn.execute(
        f"EXPLAIN QUERY PLAN SELECT {COLUMNS} FROM dossiers WHERE {' AND '.join(where)} ORDER BY number LIMIT 51",
        params,
    ).fetchall()
    return "\n".join(str(r[-1]) for r in rows)


__all__ = ["MIGRATION", "DossierPage", "brief", "by_number_prefix", "list_dossiers", "query_plan", "MAX_LIMIT"]
