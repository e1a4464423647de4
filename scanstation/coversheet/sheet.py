"""Printed cover sheets (案卷分隔页): one A4 sheet per dossier, put in front of its pages in the feeder.

What a sheet carries, and why:

* the 档号 as a QR code in UTF-8 with the ECI designator declared (segno). A reader then knows the
  bytes are UTF-8; an undeclared "·" (U+00B7) is read back as Shift-JIS or Latin-1 garbage.
* the 档号 as an ASCII Code 128 with "·" written as "." for handheld barcode guns: Code 128 cannot
  carry "·" without FNC4, which most guns and tools lack. "." is read back as "·" (``from_scanned``).
* the title, the declared page count (页数) and a check value over 档号 and 页数, so the clerk can
  compare the sheet with the screen and a sheet printed before the 页数 was corrected is noticed.
* the codes twice, in a band along the top edge and the same band turned by 180° along the bottom
  edge, so a sheet fed upside down, turned, or with one band damaged still reads.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

from scanstation.dossier_number import GROUP_SEP, normalise
from scanstation.storage.files import storage_error, write_atomic

SHEET_TITLE_ZH = "案卷分隔页"
SHEET_TITLE_EN = "Cover sheet"
QR_SIZE_MM = 34.0
CODE128_BAR_MM = 0.36
CODE128_HEIGHT_MM = 13.0
BAND_MM = 62.0  # height of each code band, from its edge


@dataclass(frozen=True)
class SheetData:
    number: str
    title: str = ""
    declared_pages: int | None = None
    year: int | None = None
    box_no: str = ""

    @property
    def check(self) -> str:
        return check_value(self.number, self.declared_pages)


def check_value(number: str, declared_pages: int | None) -> str:
    """Four characters over 档号 and 页数 (SM3, the station's digest): the same sheet data gives the same
    value, a changed 页数 gives another one."""
    digest = hashlib.new("sm3", f"{normalise(number)}|{declared_pages or 0}".encode()).hexdigest()
    return digest[:4].upper()


def code128_text(number: str) -> str:
    """The 档号 as Code 128 can carry it: ASCII, "·" written as "."."""
    text = normalise(number).replace(GROUP_SEP, ".")
    if not text.isascii():
        from scanstation.errors import InvalidInput

        raise InvalidInput(
            "{n} has characters outside ASCII; Code 128 cannot print it (the QR code still can).",
            "{n} 含有非 ASCII 字符，Code 128 无法打印（QR 码仍可）。",
            n=number,
        )
    return text


def from_scanned(text: str) -> str:
    """What a handheld gun or the splitter read, back to the 档号: "." means "·" (R13 refuses "." otherwise)."""
    return normalise((text or "").replace(".", GROUP_SEP))


def qr_matrix(number: str):
    """The QR modules of the 档号: UTF-8 bytes with ECI 26 declared, error correction level M."""
    import segno

    qr = segno.make_qr(normalise(number), encoding="utf-8", eci=True, error="m", boost_error=False)
    return qr.matrix


def _draw_band(c, data: SheetData, page_w: float, font: str) -> None:
    """The code band along the top edge, in the canvas' current orientation."""
    from reportlab.graphics.barcode.code128 import Code128
    from reportlab.lib.units import mm

    top = c._pagesize[1]
    margin = 14 * mm
    # QR code, drawn module by module as vector squares (sharp at any printer resolution)
    matrix = qr_matrix(data.number)
    modules = len(matrix)
    size = QR_SIZE_MM * mm
    cell = size / modules
    x0, y0 = margin, top - margin - size
    c.setFillGray(0)
    for r, row in enumerate(matrix):
        run_start = None
        for col, dark in enumerate(list(row) + [0]):
            if dark and run_start is None:
                run_start = col
            elif not dark and run_start is not None:
                c.rect(
                    x0 + run_start * cell, y0 + size - (r + 1) * cell, (col - run_start) * cell, cell, stroke=0, fill=1
                )
                run_start = None
    # beside the QR: the 档号 in words, the check value
    tx = x0 + size + 8 * mm
    c.setFont(font, 17)
    c.drawString(tx, top - margin - 8 * mm, data.number)
    c.setFont(font, 10)
    c.drawString(
        tx,
        top - margin - 15 * mm,
        f"页数 {data.declared_pages if data.declared_pages is not None else '—'}    校验码 {data.check}",
    )
    c.drawString(tx, top - margin - 21 * mm, f"{SHEET_TITLE_ZH} · {SHEET_TITLE_EN}")
    # Code 128 under the QR, full width
    barcode = Code128(
        code128_text(data.number),
        barWidth=CODE128_BAR_MM * mm,
        barHeight=CODE128_HEIGHT_MM * mm,
        humanReadable=False,
        quiet=True,
    )
    bx = max(margin - 10 * CODE128_BAR_MM * mm, (page_w - barcode.width) / 2)
    barcode.drawOn(c, bx, y0 - 5 * mm - CODE128_HEIGHT_MM * mm)
    c.setFont("Courier", 8) if False else c.setFont(font, 8)
    c.drawCentredString(page_w / 2, y0 - 9 * mm - CODE128_HEIGHT_MM * mm, code128_text(data.number))


def _draw_sheet(c, data: SheetData, font: str) -> None:
    from reportlab.lib.units import mm
    from reportlab.lib.utils import simpleSplit

    page_w, page_h = c._pagesize
    _draw_band(c, data, page_w, font)
    c.saveState()  # the same band turned by 180°, along the bottom edge
    c.translate(page_w, page_h)
    c.rotate(180)
    _draw_band(c, data, page_w, font)
    c.restoreState()
    # the middle: what a person reads
    c.setStrokeGray(0.3)
    c.setLineWidth(0.6)
    c.line(14 * mm, page_h - BAND_MM * mm - 10 * mm, page_w - 14 * mm, page_h - BAND_MM * mm - 10 * mm)
    c.line(14 * mm, BAND_MM * mm + 10 * mm, page_w - 14 * mm, BAND_MM * mm + 10 * mm)
    y = page_h - BAND_MM * mm - 28 * mm
    c.setFont(font, 26)
    c.drawCentredString(page_w / 2, y, SHEET_TITLE_ZH)
    y -= 14 * mm
    c.setFont(font, 18)
    c.drawCentredString(page_w / 2, y, data.number)
    y -= 12 * mm
    c.setFont(font, 12)
    for line in simpleSplit(f"题名：{data.title or '—'}", font, 12, page_w - 50 * mm)[:4]:
        c.drawCentredString(page_w / 2, y, line)
        y -= 7 * mm
    y -= 2 * mm
    facts = [f"页数：{data.declared_pages if data.declared_pages is not None else '—'}", f"校验码：{data.check}"]
    if data.year:
        facts.insert(0, f"年度：{data.year}")
    if data.box_no:
        facts.append(f"盒号：{data.box_no}")
    c.drawCentredString(page_w / 2, y, "    ".join(facts))
    y -= 12 * mm
    c.setFont(font, 9)
    c.drawCentredString(page_w / 2, y, "扫描时放在本案卷第一页之前；本页不作为档案页面保存，不计入页数。")
    c.drawCentredString(
        page_w / 2, y - 5 * mm, "Put this sheet before the first page of the dossier; it is not stored and not counted."
    )


def render_sheets(sheets: list[SheetData], progress=None) -> bytes:
    """The PDF bytes: one A4 page per sheet, CJK font embedded. ``progress(done, total)`` after each sheet
    (a year's sheets take a while: the window shows how far it is)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from scanstation.fonts import register_cjk_font

    font = register_cjk_font()
    buffer = io.BytesIO()
    c = canvas.Canvas(buffer, pagesize=A4, initialFontName=font)
    c.setTitle("案卷分隔页 Cover sheets")
    c.setAuthor("ScanStation")
    c.setCreator("ScanStation")
    for i, data in enumerate(sheets, 1):
        _draw_sheet(c, data, font)
        c.showPage()
        if progress is not None:
            progress(i, len(sheets))
    c.save()
    return buffer.getvalue()


def write_sheets(sheets: list[SheetData], out: Path, progress=None) -> Path:
    out = Path(out)
    data = render_sheets(sheets, progress)
    try:
        write_atomic(out, data)
    except OSError as exc:  # a folder that is a file, read-only, full: said in words, nothing half-written
        raise storage_error(out, exc) from exc
    return out


STATUS_FILTERS = {
    "not_scanned": ("cataloged",),
    "scanning": ("scanning",),
    "qc_rejected": ("qc_rejected",),
    "capturable": ("cataloged", "scanning", "qc_rejected"),
}


def select_dossiers(
    session, numbers: list[str] | None = None, year: int | None = None, status: str | None = None
) -> list[dict]:
    """The dossiers to print sheets for: by 档号 (in the order given), or by 年度 and status."""
    from scanstation.errors import InvalidInput, NotFound

    session.require("catalog.read")
    if numbers:
        rows = []
        for number in numbers:
            row = session.catalog.one("SELECT * FROM dossiers WHERE number = ?", (from_scanned(number),))
            if row is None:
                raise NotFound(
                    "Dossier {n} is not in the catalog; no sheets were printed.",
                    "目录中没有档号 {n}；未打印任何分隔页。",
                    n=number,
                )
            rows.append(row)
        return rows
    if year is None:
        raise InvalidInput("Name the dossiers (档号…) or a year (--year).", "请给出档号，或用 --year 指定年度。")
    if status is not None and status not in STATUS_FILTERS:
        raise InvalidInput(
            "Unknown status {s}; use one of {all}.",
            "未知状态 {s}；可用：{all}。",
            s=status,
            all=", ".join(STATUS_FILTERS),
        )
    states = STATUS_FILTERS[status or "capturable"]
    return session.catalog.query(
        f"SELECT * FROM dossiers WHERE year = ? AND status IN ({', '.join('?' * len(states))}) ORDER BY box_no, number",
        (year, *states),
    )


def print_sheets(session, rows: list[dict], out: Path, progress=None) -> Path:
    """Write the sheets of ``rows`` to ``out`` (PDF) and audit what was printed."""
    from scanstation.errors import NotFound

    if not rows:
        raise NotFound("No dossier matches; no sheets were printed.", "没有符合条件的案卷；未打印任何分隔页。")
    sheets = [SheetData(r["number"], r["title"], r["declared_pages"], r["year"], r["box_no"]) for r in rows]
    path = write_sheets(sheets, out, progress)
    session.log(
        "coversheet.print",
        "dossiers",
        f"{len(rows)}",
        {"numbers": [r["number"] for r in rows][:500], "count": len(rows), "file": Path(out).name},
    )
    return path


LISTED = ("number", "title", "year", "declared_pages", "status", "box_no")


def sheet_candidates(session, year: int, status: str | None = None) -> list[dict]:
    """What a 年度 (and status) filter would print, for a list to choose from: the same selection as
    ``coversheet --year``, only the columns a sheet shows (no personal data)."""
    return [{k: r[k] for k in LISTED} for r in select_dossiers(session, None, year, status)]


def latest_year(session) -> int | None:
    """The newest 年度 with dossiers that can still be scanned: what the window lists when no dossier is open."""
    session.require("catalog.read")
    states = STATUS_FILTERS["capturable"]
    row = session.catalog.one(
        f"SELECT max(year) AS year FROM dossiers WHERE status IN ({', '.join('?' * len(states))})", states
    )
    return row["year"] if row else None


def print_cover_sheets(
    session,
    out: Path,
    numbers: list[str] | None = None,
    year: int | None = None,
    status: str | None = None,
    progress=None,
) -> dict:
    """``coversheet 档号… | --year Y [--status S] --out FILE``, for the command line and the window alike:
    the role is checked and the dossiers are looked up (``select_dossiers``), the PDF is written
    atomically and the printing audited (``print_sheets``)."""
    rows = select_dossiers(session, numbers, year, status)
    path = print_sheets(session, rows, Path(out), progress)
    return {"file": str(path), "sheets": len(rows), "numbers": [r["number"] for r in rows]}
