"""Small PDF documents for the transfer (登记表, 四性检测报告, 回执) with an embedded CJK font.

reportlab with a TrueType font embedded (WenQuanYi Zen Hei, ``subfontIndex=0``): the built-in
``STSong-Light`` is not embedded and renders badly on other machines, and reportlab refuses the
CFF-based Noto CJK fonts. ``SCANSTATION_CJK_FONT`` may name another TrueType file.
"""

from __future__ import annotations

import io

from scanstation.fonts import FONT_NAME


def register_font() -> str:
    """The station's one CJK font (scanstation.fonts), registered in reportlab."""
    from scanstation.fonts import register_cjk_font

    return register_cjk_font()


class PdfDocument:
    """A simple flowing document: a title, headings, key/value tables, tables, paragraphs."""

    def __init__(self, title: str, subject: str = ""):
        from reportlab.lib.styles import ParagraphStyle

        font = register_font()
        self.title = title
        self.subject = subject
        self.story: list = []
        self.styles = {
            "title": ParagraphStyle("title", fontName=font, fontSize=16, leading=22, alignment=1, spaceAfter=10),
            "heading": ParagraphStyle("heading", fontName=font, fontSize=11.5, leading=16, spaceBefore=8, spaceAfter=4),
            "body": ParagraphStyle("body", fontName=font, fontSize=9, leading=13, wordWrap="CJK"),
            "cell": ParagraphStyle("cell", fontName=font, fontSize=8, leading=10.5, wordWrap="CJK"),
            "small": ParagraphStyle("small", fontName=font, fontSize=7, leading=9, wordWrap="CJK"),
        }
        self.story.append(self._para(title, "title"))

    @staticmethod
    def _escape(text) -> str:
        from xml.sax.saxutils import escape

        return escape("" if text is None else str(text)).replace("\n", "<br/>")

    def _para(self, text, style: str = "body"):
        from reportlab.platypus import Paragraph

        return Paragraph(self._escape(text), self.styles[style])

    def heading(self, text: str) -> None:
        self.story.append(self._para(text, "heading"))

    def paragraph(self, text: str, small: bool = False) -> None:
        self.story.append(self._para(text, "small" if small else "body"))

    def key_values(self, rows: list[tuple[str, object]]) -> None:
        self.table([[k, v] for k, v in rows], widths=(0.28, 0.72), header=False)

    def table(
        self,
        rows: list[list],
        widths: tuple[float, ...] | None = None,
        header: bool = True,
        fail_rows: set[int] | None = None,
    ) -> None:
        from reportlab.lib import colors
        from reportlab.lib.pagesizes import A4
        from reportlab.platypus import Table, TableStyle

        if not rows:
            return
        usable = A4[0] - 36 * 2
        cols = len(rows[0])
        widths = widths or tuple(1 / cols for _ in range(cols))
        data = [[self._para(cell, "cell") for cell in row] for row in rows]
        table = Table(data, colWidths=[usable * w for w in widths], repeatRows=1 if header else 0)
        style = [
            ("FONT", (0, 0), (-1, -1), FONT_NAME, 8),
            ("GRID", (0, 0), (-1, -1), 0.4, colors.grey),
            ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ]
        if header:
            style.append(("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8e8e8")))
        else:
            style.append(("BACKGROUND", (0, 0), (0, -1), colors.HexColor("#f2f2f2")))
        for index in fail_rows or ():
            style.append(("BACKGROUND", (0, index), (-1, index), colors.HexColor("#fbe3e3")))
        table.setStyle(TableStyle(style))
        self.story.append(table)

    def spacer(self, height: float = 8) -> None:
        from reportlab.platypus import Spacer

        self.story.append(Spacer(1, height))

    def render(self) -> bytes:
        from reportlab.lib.pagesizes import A4
        from reportlab.platypus import SimpleDocTemplate

        buf = io.BytesIO()
        doc = SimpleDocTemplate(
            buf,
            pagesize=A4,
            leftMargin=36,
            rightMargin=36,
            topMargin=36,
            bottomMargin=36,
            title=self.title,
            subject=self.subject,
            author="ScanStation",
            creator="ScanStation",
            initialFontName=FONT_NAME,
        )  # no stray, non-embedded Helvetica
        font = FONT_NAME

        def footer(canvas, document):
            canvas.saveState()
            canvas.setFont(font, 7)
            canvas.drawRightString(A4[0] - 36, 20, f"{self.title} — {document.page}")
            canvas.restoreState()

        # reportlab stamps the creation time and a random document id; invariant=1 makes the same
        # content give the same bytes, so a package can be sealed reproducibly.
        from reportlab import rl_config

        old = rl_config.invariant
        rl_config.invariant = 1
        try:
            doc.build(self.story, onFirstPage=footer, onLaterPages=footer)
        finally:
            rl_config.invariant = old
        return buf.getvalue()
