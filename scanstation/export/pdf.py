"""Double-layer PDF (双层PDF) of a dossier, optionally PDF/A-2b.

Each page is the master image at its scanned size (pixels / dpi), with the OCR words laid over it
as invisible text (text render mode 3) in the embedded CJK TrueType font. Each word starts where
the engine found it and is stretched horizontally (``Tz``) to reach the next word of its line, or
its own right edge: Chinese runs abut, so text extraction gives them without spaces; a space the
line text has between two words is written as a real space character. Lines are written top to
bottom in the layout's order, so copying or ``pdftotext`` gives the text as read.

A page without a stored layout: when it has plain OCR text, the text is laid over the page as
invisible lines from the top, not positioned over the words (searchable, copyable); otherwise the
page carries the image only. Either way the export result names the page (``pages_unpositioned``,
``pages_without_text``) so QC sees it.

Images: a JPEG master is embedded as it is (DCTDecode, no re-encoding); a bitonal TIFF/PNG stays
bitonal (Flate); other TIFF/JPEG 2000/PNG masters are converted to JPEG quality 90 for the copy
(the master is never changed, R04). A watermarked copy re-encodes the marked page as JPEG.

reportlab draws the pages; pikepdf (qpdf) adds what reportlab's canvas does not do: page labels,
the custom document information (档号, 年度), XMP metadata and, for PDF/A-2b, the PDF/A
identification and the sRGB output intent (an ICC profile made by LittleCMS through Pillow).
"""

from __future__ import annotations

import contextlib
import io
import re

from scanstation import __version__
from scanstation.export import SourceDossier, SourcePage, text_runs

PRODUCER = f"ScanStation {__version__}"
JPEG_QUALITY = 90
SRGB_IDENTIFIER = "sRGB IEC61966-2.1"
#: Custom document information entries -> catalog field.
CUSTOM_INFO = {
    "ArchivalCode": "档号",
    "FondsCode": "全宗号",
    "Year": "年度",
    "Retention": "保管期限",
    "DeclaredPages": "页数",
}


# -- text layer ------------------------------------------------------------------------------------
def _draw_text(canvas, font: str, page: SourcePage) -> int:
    """The invisible text layer (render mode 3), each run scaled to its width."""
    from reportlab.pdfbase.pdfmetrics import stringWidth

    text = canvas.beginText()
    text.setTextRenderMode(3)
    count = 0
    for run in text_runs(page):
        natural = stringWidth(run.text, font, run.size)
        if natural <= 0:
            continue
        text.setFont(font, run.size)
        text.setHorizScale(max(1.0, min(1000.0, 100.0 * run.width / natural)))
        text.setTextOrigin(run.x, page.height_pt - run.baseline)
        text.textOut(run.text)
        count += 1
    if count:
        canvas.drawText(text)
    return count


# -- images ----------------------------------------------------------------------------------------
def page_image(page: SourcePage, watermark_lines: list[str] | None = None):
    """(reportlab ImageReader, how) for a page: the JPEG master as it is, or a sensible conversion."""
    from PIL import Image
    from reportlab.lib.utils import ImageReader

    if page.format == "jpeg" and not watermark_lines:
        with Image.open(io.BytesIO(page.data)) as img:
            if img.mode in ("RGB", "L"):
                return ImageReader(io.BytesIO(page.data)), "jpeg-embedded"
    with Image.open(io.BytesIO(page.data)) as img:
        img.load()
        if watermark_lines:
            from scanstation.custody.watermark import watermark

            return ImageReader(io.BytesIO(_jpeg(watermark(img, watermark_lines)))), "jpeg-watermarked"
        if img.mode == "1":
            return ImageReader(img.copy()), "bitonal-flate"
        return ImageReader(io.BytesIO(_jpeg(img))), "jpeg-converted"


def _jpeg(img) -> bytes:
    if img.mode not in ("RGB", "L"):
        if img.mode in ("I;16", "I;16B", "I"):
            img = img.point(lambda v: v / 256).convert("L")
        else:
            img = img.convert("RGB")  # drops alpha: no transparency in a copy
    out = io.BytesIO()
    img.save(out, "JPEG", quality=JPEG_QUALITY, optimize=True)
    return out.getvalue()


@contextlib.contextmanager
def _binary_streams():
    """reportlab wraps image streams in ASCII85 by default (+25 % size); not for these copies."""
    from reportlab import rl_config

    old = rl_config.useA85
    rl_config.useA85 = 0
    try:
        yield
    finally:
        rl_config.useA85 = old


# -- metadata --------------------------------------------------------------------------------------
def srgb_profile() -> bytes:
    """An sRGB ICC profile (LittleCMS's built-in sRGB, through Pillow)."""
    from PIL import ImageCms

    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def _keywords(meta: dict) -> str:
    return "; ".join(f"{k}:{v}" for k, v in meta.items() if v and k in ("档号", "全宗号", "年度", "保管期限", "页数"))


def _finish(raw: bytes, meta: dict, pdfa: bool, title: str) -> bytes:
    """Page labels, document information, XMP and (PDF/A-2b) identification and output intent."""
    import pikepdf
    from pikepdf import Dictionary, Name

    pdf = pikepdf.open(io.BytesIO(raw))
    pdf.Root.PageLabels = Dictionary(Nums=[0, Dictionary(S=Name.D, St=1)])
    info = pdf.docinfo
    if Name.Trapped in info:
        del info[Name.Trapped]
    info[Name.Title] = title
    info[Name.Subject] = meta["档号"]
    info[Name.Keywords] = _keywords(meta)
    if meta.get("责任者"):
        info[Name.Author] = meta["责任者"]
    info[Name.Creator] = PRODUCER
    info[Name.Producer] = PRODUCER
    with pdf.open_metadata(set_pikepdf_as_editor=False) as xmp:
        xmp.load_from_docinfo(info, raise_failure=False)
        xmp["dc:identifier"] = meta["档号"]
        xmp["dc:title"] = title
        xmp["pdf:Producer"] = PRODUCER
        xmp["xmp:CreatorTool"] = PRODUCER
        if pdfa:
            xmp["pdfaid:part"] = "2"
            xmp["pdfaid:conformance"] = "B"
    # Custom entries for archive QC tools that read the document information dictionary
    # (no XMP equivalent: PDF/A asks only that the standard entries agree with the XMP).
    for key, field in CUSTOM_INFO.items():
        info[Name("/" + key)] = meta[field]
    if pdfa:
        icc = pdf.make_stream(srgb_profile())
        icc[Name.N] = 3
        pdf.Root.OutputIntents = [
            Dictionary(
                Type=Name.OutputIntent,
                S=Name.GTS_PDFA1,
                OutputConditionIdentifier=SRGB_IDENTIFIER,
                Info=SRGB_IDENTIFIER,
                RegistryName="http://www.color.org",
                DestOutputProfile=icc,
            )
        ]
        pdf.Root.MarkInfo = Dictionary(Marked=False)
    out = io.BytesIO()
    pdf.save(
        out,
        min_version="1.7" if pdfa else "1.4",
        fix_metadata_version=True,
        object_stream_mode=pikepdf.ObjectStreamMode.preserve,
    )
    return out.getvalue()


# -- the document ----------------------------------------------------------------------------------
def render(
    source: SourceDossier, *, pdfa: bool = False, watermark_lines: list[str] | None = None
) -> tuple[bytes, dict]:
    """The PDF bytes of a dossier and what went into them (per-page text source and image handling)."""
    from reportlab.pdfgen import canvas as rl_canvas

    from scanstation.fonts import register_cjk_font

    font = register_cjk_font()
    meta = source.metadata
    title = meta["题名"] or meta["档号"]
    buffer = io.BytesIO()
    report = {"pages": len(source.pages), "pages_unpositioned": [], "pages_without_text": [], "images": {}}
    with _binary_streams():
        c = rl_canvas.Canvas(buffer, pageCompression=1, initialFontName=font)
        c.setTitle(title)
        c.setSubject(meta["档号"])
        c.setCreator(PRODUCER)
        c.setProducer(PRODUCER)
        for page in source.pages:
            c.setPageSize((page.width_pt, page.height_pt))
            reader, how = page_image(page, watermark_lines)
            report["images"][how] = report["images"].get(how, 0) + 1
            c.drawImage(reader, 0, 0, width=page.width_pt, height=page.height_pt, mask=None)
            _draw_text(c, font, page)
            if page.text_source == "text":
                report["pages_unpositioned"].append(page.seq)
            elif page.text_source == "none":
                report["pages_without_text"].append(page.seq)
            c.showPage()
        c.save()
    return _finish(buffer.getvalue(), meta, pdfa, title), report


_SAFE = re.compile(r"[\x00-\x1f]")


def watermark_lines(text: str) -> list[str]:
    cleaned = _SAFE.sub(" ", text or "").strip()
    return [cleaned] if cleaned else []


__all__ = ["CUSTOM_INFO", "PRODUCER", "page_image", "render", "srgb_profile", "watermark_lines"]
