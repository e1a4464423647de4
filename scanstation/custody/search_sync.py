"""Keep the full-text search index in step when custody changes catalog rows.

Destruction removes a dossier's pages and catalog fields from the index (their tokens would
otherwise still find it); corrections and encryption re-index the dossier. Runs in the caller's
transaction; does nothing when the catalog has no search index.
"""

from __future__ import annotations


def _has_index(conn) -> bool:
    return conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_dossier_state'").fetchone() is not None


def reindex_dossier(conn, dossier_id: int) -> None:
    if not _has_index(conn):
        return
    from scanstation import search
    search.index_dossier(conn, dossier_id)


def unindex_pages(conn, page_ids: list[int]) -> None:
    """Call before the pages' OCR text is deleted: the index needs the text to remove its tokens."""
    if not page_ids or not _has_index(conn):
        return
    from scanstation import search
    for page_id in page_ids:
        search.unindex_page(conn, page_id)
