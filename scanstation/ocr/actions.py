"""What a user may do with OCR, roles checked here: re-read pages with another engine, read what
was read (``scanstation ocr redo`` / ``scanstation ocr text``, the GUI calls the same functions).

Re-reading queues the pages (their current text stays searchable until the new text arrives); the
station's background OCR -- or ``scanstation ocr --wait`` -- reads them with the engine asked for.
"""

from __future__ import annotations

from scanstation.errors import InvalidInput, NotFound
from scanstation.ocr import engines
from scanstation.ocr.queue import queue_redo, select_pages


def redo(session, engine: str, number: str | None = None, year: int | None = None, all_pages: bool = False) -> dict:
    """Queue the active pages of one dossier, one year or all dossiers to be read again with
    ``engine`` (``auto``: the one this machine would choose). Audited; needs catalog.edit."""
    engine = engines.resolve_engine(engine)
    problems = engines.check_engine(engine)
    if problems:  # refuse now rather than fill the queue with pages no one here can read
        raise InvalidInput(
            "OCR engine {engine} cannot run on this station: {problems}",
            "本工作站无法运行识别引擎 {engine}：{problems}",
            engine=engine,
            problems=" ".join(problems),
        )
    what = number or (f"year {year}" if year is not None else "all")
    with session.change("catalog.edit", "ocr.redo", "pages", what) as ch:
        page_ids = select_pages(ch.conn, number=number, year=year, all_pages=all_pages)
        n = queue_redo(ch.conn, page_ids, engine)
        ch.after = {"engine": engine, "pages": n}
    return {"engine": engine, "queued": n, "selection": what}


def page_texts(session, number: str, page: int | None = None, unmasked: bool = False) -> dict:
    """What OCR read on each active page of a dossier (or one page): text, engine, confidence,
    status. ID and bank numbers in the text are masked unless ``unmasked`` (needs personal.unmasked,
    audited), R40."""
    from scanstation import id_number, settings
    from scanstation.dossier_number import normalise

    session.require("catalog.read")
    if unmasked:
        session.require("personal.unmasked")
    if page is not None and page < 1:
        raise InvalidInput("--page must be 1 or more.", "--page 须大于等于 1。")
    text = normalise(number)
    dossier = session.catalog.one("SELECT id, number, status FROM dossiers WHERE number = ?", (text,))
    if dossier is None or dossier["status"] == "destroyed":
        raise NotFound("No dossier {number} in the catalog.", "目录中没有档号为 {number} 的案卷。", number=number)
    rows = session.catalog.query(
        "SELECT p.id AS page_id, p.seq, t.status, t.text, t.confidence, t.engine, t.redo_engine, t.error, t.updated_at "
        "FROM pages p LEFT JOIN page_text t ON t.page_id = p.id WHERE p.dossier_id = ? AND p.state = 'active' "
        + ("AND p.seq = ? " if page is not None else "")
        + "ORDER BY p.seq",
        (dossier["id"], page) if page is not None else (dossier["id"],),
    )
    if page is not None and not rows:
        raise NotFound(
            "Dossier {number} has no page {page}.",
            "案卷 {number} 没有第 {page} 页。",
            number=dossier["number"],
            page=page,
        )
    from scanstation.custody.text_protection import read_page_text

    rule = None if unmasked else settings.id_mask_rule(session.home)
    pages = []
    for row in rows:
        body = read_page_text(session.catalog, row["page_id"]) if row["text"] else ""  # R40: decrypted here
        pages.append(
            {
                "page": row["seq"],
                "status": row["status"] or "not queued",
                "engine": row["engine"] or "",
                "confidence": row["confidence"],
                "queued_engine": row["redo_engine"] or "",
                "updated_at": row["updated_at"],
                "error": row["error"] or "",
                "text": body if unmasked else id_number.mask_text(body, rule),
            }
        )
    if unmasked:
        session.log("personal.view", "dossier", dossier["number"], {"ocr_text_pages": len(pages)})
    return {"number": dossier["number"], "pages": pages}
