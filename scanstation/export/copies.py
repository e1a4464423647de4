"""``scanstation export pdf|ofd``: a double-layer PDF (or PDF/A-2b) or an OFD copy per dossier.

The role (``export``) is checked first, every dossier is resolved and every target path
checked before anything is written, each file is written atomically, and each export has its
audit entry with the file's size, SHA-256 and SM3 (R22, R36). A page without a stored OCR layout is
named in the result (and the audit entry): QC sees which pages have no positioned text.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from scanstation.custody import protection
from scanstation.errors import InvalidInput
from scanstation.export import check_out_path, load_pages, require_numbers, resolve_dossier
from scanstation.storage.files import digests, write_atomic

FORMATS = {"pdf": ".pdf", "ofd": ".ofd"}


def watermark_lines(session, text: str | None, moment: datetime) -> list[str] | None:
    """The lines of a visible watermark: the given text, who exported and when."""
    from scanstation.export.pdf import watermark_lines as clean

    if text is None:
        return None
    lines = clean(text)
    if not lines:
        raise InvalidInput("The watermark text is empty.", "水印文字为空。")
    return lines + [session.user.name, moment.strftime("%Y-%m-%d %H:%M")]


def render_copy(source, fmt: str, *, pdfa: bool = False, watermark: list[str] | None = None) -> tuple[bytes, dict]:
    if fmt == "pdf":
        from scanstation.export import pdf

        return pdf.render(source, pdfa=pdfa, watermark_lines=watermark)
    from scanstation.export import ofd

    return ofd.render(source, watermark_lines=watermark)


def export_copies(
    session,
    numbers,
    out,
    fmt: str = "pdf",
    *,
    pdfa: bool = False,
    watermark: str | None = None,
    now: datetime | None = None,
) -> dict:
    """One copy per dossier into ``out`` (a folder, or a file name when one dossier is given)."""
    session.require("export")
    if fmt not in FORMATS:
        raise InvalidInput("Unknown copy format {f}; use pdf or ofd.", "未知的副本格式 {f}；请使用 pdf 或 ofd。", f=fmt)
    if pdfa and fmt != "pdf":
        raise InvalidInput("--pdfa applies to PDF only.", "--pdfa 仅适用于 PDF。")
    moment = now or datetime.now().astimezone()
    numbers = require_numbers(numbers)
    dossiers = [resolve_dossier(session.catalog, n) for n in numbers]
    targets = [check_out_path(Path(out), FORMATS[fmt], len(dossiers), d["number"]) for d in dossiers]
    marks = watermark_lines(session, watermark, moment)
    store = protection.image_store(session.home)
    files = []
    for dossier, target in zip(dossiers, targets):
        source = load_pages(session.catalog, store, dossier)
        data, report = render_copy(source, fmt, pdfa=pdfa, watermark=marks)
        write_atomic(target, data)
        sha256, sm3 = digests(data)
        entry = {
            "number": dossier["number"],
            "file": str(target),
            "bytes": len(data),
            "sha256": sha256,
            "sm3": sm3,
            "format": "pdf/a-2b" if pdfa else fmt,
            "pages": report["pages"],
            "declared_pages": dossier["declared_pages"],
            "watermark": " ".join(marks) if marks else "",
            "pages_unpositioned": report["pages_unpositioned"],
            "pages_without_text": report["pages_without_text"],
            "images": report["images"],
        }
        session.log(f"export.{fmt}", "dossier", dossier["number"], entry)
        files.append(entry)
    return {"format": fmt, "pdfa": pdfa, "count": len(files), "files": files}


__all__ = ["FORMATS", "export_copies", "render_copy", "watermark_lines"]
