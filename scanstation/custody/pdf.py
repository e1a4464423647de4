"""Shared PDF set-up for the station's reports and registers (reportlab).

A TrueType CJK font is embedded (subset) in every PDF so the documents read the same on any
machine: WenQuanYi Zen Hei (Debian fonts-wqy-zenhei, ``subfontIndex=0``) or another TrueType CJK
font found by path or fontconfig. reportlab's built-in ``STSong-Light`` is never used: it is not
embedded and renders differently, or not at all, elsewhere; Noto CJK (CFF outlines) is refused by
reportlab, so it is skipped.

``render_table_report`` draws a titled document with a block of facts, one or more tables whose
header row repeats on every page, optional signature lines, and a footer with the page number.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path
from xml.sax.saxutils import escape

from scanstation import fonts
from scanstation.storage.files import write_atomic

FONT_NAME = fonts.FONT_NAME
register_cjk_font = fonts.register_cjk_font  # the one CJK font finder (scanstation.fonts)
cjk_font_file = fonts.pdf_font_file


@dataclass
class Section:
    heading: str
    columns: list[str]
    rows: list[list]
    widths: list[float] | None = None  # relative column widths
    note: str = ""


@dataclass
class Document:
    title: str
    facts: list[tuple[str, str]] = field(default_factory=list)  # label, value lines under the title
    sections: list[Section] = field(default_factory=list)
    signatures: list[str] = field(default_factory=list)  # labels of signature lines at the end
    footer: str = ""
    landscape: bool = False


def _numbered_canvas(footer: str, font: str):
    from reportlab.pdfgen import canvas

    class NumberedCanvas(canvas.Canvas):
        """Defers page output so every footer can say 'page n of total'."""

        def __init__(self, *args, **kwargs):
            kwargs["initialFontName"] = font  # no stray, non-embedded Helvetica
            super().__init__(*args, **kwargs)
            self._saved = []

        def showPage(self):
            self._saved.append(dict(self.__dict__))
            self._startPage()

        def save(self):
            total = len(self._saved)
            for state in self._saved:
                self.__dict__.update(state)
                width, _ = self._pagesize
                self.setFont(font, 8)
                self.drawString(36, 20, footer)
                self.drawRightString(width - 36, 20, f"第 {self._pageNumber} 页 / 共 {total} 页")
                super().showPage()
            super().save()

    return NumberedCanvas


def render(doc: Document) -> bytes:
    """The PDF bytes of ``doc``."""
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4, landscape
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.platypus import Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    font = register_cjk_font()
    title_style = ParagraphStyle("title", fontName=font, fontSize=16, leading=22, alignment=1, spaceAfter=6)
    head_style = ParagraphStyle("head", fontName=font, fontSize=11, leading=15, spaceBefore=8, spaceAfter=4)
    text_style = ParagraphStyle("text", fontName=font, fontSize=9, leading=12, wordWrap="CJK")
    cell_style = ParagraphStyle("cell", fontName=font, fontSize=8, leading=10, wordWrap="CJK")
    pagesize = landscape(A4) if doc.landscape else A4
    buffer = io.BytesIO()
    template = SimpleDocTemplate(
        buffer,
        pagesize=pagesize,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
        topMargin=15 * mm,
        bottomMargin=18 * mm,
        title=doc.title,
        author="ScanStation",
        creator="ScanStation",
        subject=doc.title,
        initialFontName=font,
    )

    def para(value, style=cell_style):
        return Paragraph(escape("" if value is None else str(value)).replace("\n", "<br/>"), style)

    story = [Paragraph(escape(doc.title), title_style)]
    for label, value in doc.facts:
        story.append(para(f"{label}：{value}", text_style))
    width = pagesize[0] - 30 * mm
    for section in doc.sections:
        story.append(Paragraph(escape(section.heading), head_style))
        if section.note:
            story.append(para(section.note, text_style))
        weights = section.widths or [1] * len(section.columns)
        col_widths = [width * w / sum(weights) for w in weights]
        data = [[para(c) for c in section.columns]]
        if section.rows:
            data += [[para(v) for v in row] for row in section.rows]
        else:
            data.append([para("（无）")] + [para("") for _ in section.columns[1:]])
        table = Table(data, colWidths=col_widths, repeatRows=1)
        table.setStyle(
            TableStyle(
                [
                    ("FONT", (0, 0), (-1, -1), font, 8),  # the cells' own font: otherwise Helvetica is referenced
                    ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e6e6e6")),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                    ("LEFTPADDING", (0, 0), (-1, -1), 3),
                    ("RIGHTPADDING", (0, 0), (-1, -1), 3),
                ]
            )
        )
        story.append(table)
    if doc.signatures:
        story.append(Spacer(1, 10 * mm))
        for label in doc.signatures:
            story.append(para(f"{label}：______________________    日期：____________", text_style))
            story.append(Spacer(1, 6 * mm))
    template.build(story, canvasmaker=_numbered_canvas(doc.footer, font))
    return buffer.getvalue()


def write_pdf(doc: Document, out: Path) -> Path:
    out = Path(out)
    write_atomic(out, render(doc))
    return out


__all__ = ["Document", "FONT_NAME", "Section", "cjk_font_file", "register_cjk_font", "render", "write_pdf"]
