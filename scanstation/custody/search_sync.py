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


def seal_page_text(conn, key) -> dict:
    """Personal-data protection switched on: encrypt OCR text and layouts still in plain text and
    re-index those pages with keyed tokens (scanstation.custody.text_protection)."""
    import scanstation.custody.text_protection as text_protection

    pages = layouts = 0
    conn.execute("PRAGMA secure_delete = ON")  # freed pages that held plain text are overwritten
    with text_protection.sealing_with(conn, key) as tp:
        rows = conn.execute(
            "SELECT page_id, text FROM page_text WHERE text != '' AND text NOT LIKE 'enc1:%'"
        ).fetchall()
        has_index = _has_index(conn)
        from scanstation import search

        for page_id, text in rows:
            if has_index:
                search.unindex_page(conn, page_id)  # the plain tokens go while the plain text is still there
            conn.execute("UPDATE page_text SET text = ? WHERE page_id = ?", (tp.seal(text), page_id))
            if has_index:
                search.index_page_text(conn, page_id)
            pages += 1
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'page_layout'").fetchone():
            for page_id, layout in conn.execute(
                "SELECT page_id, layout FROM page_layout WHERE layout NOT LIKE 'enc1:%'"
            ).fetchall():
                conn.execute(
                    "UPDATE page_layout SET layout = ? WHERE page_id = ?",
                    (tp.seal(layout, text_protection.LAYOUT_FIELD), page_id),
                )
                layouts += 1
    if pages and _has_index(conn):
        # a contentless FTS5 'delete' only marks tokens deleted; merging the segments drops the plain ones
        conn.execute("INSERT INTO search_pages(search_pages) VALUES ('optimize')")
    return {"sealed_page_texts": pages, "sealed_page_layouts": layouts}
