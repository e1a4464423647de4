"""OFD (GB/T 33190-2016) copies of a dossier: a small writer and reader of our own.

No maintained Python library writes OFD without an AGPL dependency (easyofd needs PyMuPDF), so this
module writes the parts of the standard a scanned document needs, with the standard library only:

    OFD.xml                          entry: DocBody with DocInfo (title, author, dates, CustomDatas
                                     with 档号, 全宗号, 年度, 保管期限, 页数) and DocRoot
    Doc_0/Document.xml               CommonData (MaxUnitID, PageArea, PublicRes, DocumentRes), Pages
    Doc_0/PublicRes.xml              the font of the text layer, Doc_0/Res/font_1.ttf: the CJK TrueType
                                     font cut down to the characters used (fontTools)
    Doc_0/DocumentRes.xml            one MultiMedia (Type="Image") per page image
    Doc_0/Res/image_N.jpg|png        the images (a JPEG master as it is, no re-encoding)
    Doc_0/Pages/Page_N/Content.xml   a Body layer with the ImageObject over the whole page and a
                                     Foreground layer with the invisible text (TextObject Fill="false")

Units are millimetres, origin top left (the standard's). Every object has a unique ID; MaxUnitID
is the largest. Each TextObject carries one word with DeltaX spreading its characters over the
word's box, so a reader that extracts text gets the words where they were read, CJK without spaces.
The font (WenQuanYi Zen Hei, or the station's CJK font) is embedded as a subset, as archive OFD asks.
"""

from __future__ import annotations

import io
import uuid
import zipfile
from datetime import datetime
from xml.etree import ElementTree as ET

from scanstation.errors import InvalidInput
from scanstation.export import SourceDossier, SourcePage, text_runs

NS = "http://www.ofdspec.org/2016"
ET.register_namespace("ofd", NS)
MM_PER_PT = 25.4 / 72.0
FONT_NAME = "WenQuanYi Zen Hei"
CUSTOM_FIELDS = ("档号", "全宗号", "年度", "保管期限", "题名", "责任者", "日期", "页数", "密级")
MAX_PART_BYTES = 512 << 20  # a reader refuses a part larger than this (zip bombs)


def _q(tag: str) -> str:
    return f"{{{NS}}}{tag}"


def _el(parent, tag: str, text: str | None = None, **attrs) -> ET.Element:
    node = ET.SubElement(parent, _q(tag), {k: str(v) for k, v in attrs.items()})
    if text is not None:
        node.text = text
    return node


def _num(value: float) -> str:
    text = f"{value:.3f}".rstrip("0").rstrip(".")
    return text if text not in ("", "-0") else "0"


def _xml(root: ET.Element) -> bytes:
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


class _Ids:
    def __init__(self):
        self.last = 0

    def next(self) -> int:
        self.last += 1
        return self.last


def _image_media(page: SourcePage, watermark_lines) -> tuple[bytes, str, str]:
    """(bytes, format, extension) of the page image for the OFD: JPEG as it is, else JPEG/PNG."""
    from PIL import Image

    if page.format == "jpeg" and not watermark_lines:
        with Image.open(io.BytesIO(page.data)) as img:
            if img.mode in ("RGB", "L"):
                return page.data, "JPEG", "jpg"
    with Image.open(io.BytesIO(page.data)) as img:
        img.load()
        if watermark_lines:
            from scanstation.custody.watermark import watermark

            img = watermark(img, watermark_lines)
        if img.mode == "1":
            out = io.BytesIO()
            img.save(out, "PNG", optimize=True)
            return out.getvalue(), "PNG", "png"
        from scanstation.export.pdf import _jpeg

        return _jpeg(img), "JPEG", "jpg"


def font_subset(text: str) -> bytes | None:
    """The CJK TrueType font cut down to the characters of ``text`` (fontTools), or None when there is
    no text or the font cannot be subset (the text layer then names the font without embedding it)."""
    chars = {c for c in text if not c.isspace()}
    if not chars:
        return None
    import logging

    from fontTools import subset
    from fontTools.ttLib import TTFont

    from scanstation.custody.pdf import cjk_font_file

    log = logging.getLogger("fontTools")
    level = log.level
    log.setLevel(logging.ERROR)  # "BDF NOT subset; dropped" and the like are expected
    try:
        font = TTFont(cjk_font_file(), fontNumber=0)
        options = subset.Options()
        options.layout_features, options.hinting, options.notdef_outline = [], False, True
        options.name_IDs, options.name_languages = ["*"], ["*"]
        subsetter = subset.Subsetter(options)
        subsetter.populate(text="".join(sorted(chars | {" "})))
        subsetter.subset(font)
        out = io.BytesIO()
        font.save(out)
        return out.getvalue()
    except Exception:  # noqa: BLE001 - a font the subsetter cannot handle: name it, do not embed
        return None
    finally:
        log.setLevel(level)


def render(
    source: SourceDossier, *, watermark_lines: list[str] | None = None, now: datetime | None = None
) -> tuple[bytes, dict]:
    """The OFD bytes of a dossier and a report like the PDF writer's."""
    meta = source.metadata
    moment = now or datetime.now().astimezone()
    ids = _Ids()
    report = {"pages": len(source.pages), "pages_unpositioned": [], "pages_without_text": [], "images": {}}
    parts: dict[str, bytes] = {}

    font_id = ids.next()
    public = ET.Element(_q("Res"), {"BaseLoc": "Res"})
    fonts = _el(public, "Fonts")
    font = _el(fonts, "Font", ID=font_id, FontName=FONT_NAME, FamilyName=FONT_NAME)
    all_runs = [text_runs(page) for page in source.pages]
    subset = font_subset("".join(run.text for runs in all_runs for run in runs))
    report["font_embedded"] = subset is not None
    if subset is not None:
        _el(font, "FontFile", "font_1.ttf")
        parts["Doc_0/Res/font_1.ttf"] = subset

    doc_res = ET.Element(_q("Res"), {"BaseLoc": "Res"})
    medias = _el(doc_res, "MultiMedias")
    page_entries = []
    for index, (page, runs) in enumerate(zip(source.pages, all_runs)):
        data, fmt, ext = _image_media(page, watermark_lines)
        how = "jpeg-embedded" if data is page.data else f"{fmt.lower()}-converted"
        report["images"][how] = report["images"].get(how, 0) + 1
        media_id = ids.next()
        file_name = f"image_{index + 1}.{ext}"
        media = _el(medias, "MultiMedia", ID=media_id, Type="Image", Format=fmt)
        _el(media, "MediaFile", file_name)
        parts[f"Doc_0/Res/{file_name}"] = data

        w, h = page.width_pt * MM_PER_PT, page.height_pt * MM_PER_PT
        root = ET.Element(_q("Page"))
        area = _el(root, "Area")
        _el(area, "PhysicalBox", f"0 0 {_num(w)} {_num(h)}")
        content = _el(root, "Content")
        body = _el(content, "Layer", ID=ids.next(), Type="Body")
        _el(
            body,
            "ImageObject",
            ID=ids.next(),
            ResourceID=media_id,
            Boundary=f"0 0 {_num(w)} {_num(h)}",
            CTM=f"{_num(w)} 0 0 {_num(h)} 0 0",
        )
        if runs:
            text_layer = _el(content, "Layer", ID=ids.next(), Type="Foreground")
            for run in runs:
                x, top = run.x * MM_PER_PT, run.top * MM_PER_PT
                size, width = run.size * MM_PER_PT, run.width * MM_PER_PT
                obj = _el(
                    text_layer,
                    "TextObject",
                    ID=ids.next(),
                    Font=font_id,
                    Size=_num(size),
                    Fill="false",
                    Boundary=f"{_num(x)} {_num(top)} {_num(width)} {_num(size)}",
                )
                attrs = {"X": "0", "Y": _num(0.8 * size)}
                if len(run.text) > 1:
                    step = width / len(run.text)
                    attrs["DeltaX"] = " ".join([_num(step)] * (len(run.text) - 1))
                _el(obj, "TextCode", run.text, **attrs)
        if page.text_source == "text":
            report["pages_unpositioned"].append(page.seq)
        elif page.text_source == "none":
            report["pages_without_text"].append(page.seq)
        page_id = ids.next()
        parts[f"Doc_0/Pages/Page_{index}/Content.xml"] = _xml(root)
        page_entries.append((page_id, f"Pages/Page_{index}/Content.xml"))

    document = ET.Element(_q("Document"))
    common = _el(document, "CommonData")
    max_unit = _el(common, "MaxUnitID", "0")
    first = source.pages[0]
    area = _el(common, "PageArea")
    _el(area, "PhysicalBox", f"0 0 {_num(first.width_pt * MM_PER_PT)} {_num(first.height_pt * MM_PER_PT)}")
    _el(common, "PublicRes", "PublicRes.xml")
    _el(common, "DocumentRes", "DocumentRes.xml")
    pages = _el(document, "Pages")
    for page_id, loc in page_entries:
        _el(pages, "Page", ID=page_id, BaseLoc=loc)
    max_unit.text = str(ids.last)

    ofd = ET.Element(_q("OFD"), {"Version": "1.0", "DocType": "OFD"})
    body = _el(ofd, "DocBody")
    info = _el(body, "DocInfo")
    _el(info, "DocID", uuid.uuid4().hex)
    _el(info, "Title", meta["题名"] or meta["档号"])
    if meta["责任者"]:
        _el(info, "Author", meta["责任者"])
    _el(info, "Subject", meta["档号"])
    _el(info, "CreationDate", moment.date().isoformat())
    _el(info, "ModDate", moment.date().isoformat())
    _el(info, "Creator", "ScanStation")
    from scanstation import __version__

    _el(info, "CreatorVersion", __version__)
    customs = _el(info, "CustomDatas")
    for name in CUSTOM_FIELDS:
        if meta.get(name):
            _el(customs, "CustomData", meta[name], Name=name)
    _el(body, "DocRoot", "Doc_0/Document.xml")

    parts = {
        "OFD.xml": _xml(ofd),
        "Doc_0/Document.xml": _xml(document),
        "Doc_0/PublicRes.xml": _xml(public),
        "Doc_0/DocumentRes.xml": _xml(doc_res),
        **parts,
    }
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as z:
        for name, data in parts.items():
            info_ = zipfile.ZipInfo(name, date_time=moment.timetuple()[:6])
            info_.compress_type = zipfile.ZIP_STORED if name.endswith((".jpg", ".png")) else zipfile.ZIP_DEFLATED
            z.writestr(info_, data)
    return out.getvalue(), report


# -- reading (for verify and the four-property check) --------------------------------------------
def _bad(path, reason: str) -> InvalidInput:
    return InvalidInput(
        "{f} is not a readable OFD file ({r}).", "{f} 不是可读取的 OFD 文件（{r}）。", f=str(path), r=reason
    )


def _resolve(base: str, loc: str) -> str:
    loc = loc.strip().replace("\\", "/")
    if loc.startswith("/"):
        joined = loc.lstrip("/")
    else:
        joined = f"{base}/{loc}" if base else loc
    parts = []
    for piece in joined.split("/"):
        if piece in ("", "."):
            continue
        if piece == "..":
            if not parts:
                raise ValueError(f"path leaves the package: {loc}")
            parts.pop()
        else:
            parts.append(piece)
    return "/".join(parts)


def read(path) -> dict:
    """What an OFD file holds: metadata (CustomDatas and DocInfo), pages with their text and images.

    InvalidInput with a plain message when it is not an OFD this reader understands (also when a
    part's location leads outside the package).
    """
    try:
        z = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise _bad(path, str(exc)) from exc
    try:
        with z:
            return _read(z, path)
    except ValueError as exc:
        raise _bad(path, str(exc)) from exc


def _read(z: zipfile.ZipFile, path) -> dict:
    names = set(z.namelist())

    def part(name: str) -> ET.Element:
        if name not in names:
            raise _bad(path, f"missing {name}")
        info = z.getinfo(name)
        if info.file_size > MAX_PART_BYTES:
            raise _bad(path, f"{name} is too large")
        try:
            return ET.fromstring(z.read(name))
        except ET.ParseError as exc:
            raise _bad(path, f"{name}: {exc}") from exc

    root = part("OFD.xml")
    if root.tag != _q("OFD"):
        raise _bad(path, f"root element {root.tag}")
    body = root.find(_q("DocBody"))
    doc_root = body.findtext(_q("DocRoot")) if body is not None else None
    if not doc_root:
        raise _bad(path, "no DocRoot")
    info = body.find(_q("DocInfo"))
    meta = {}
    if info is not None:
        for key in ("Title", "Author", "Subject", "CreationDate", "Creator", "DocID"):
            value = info.findtext(_q(key))
            if value:
                meta[key] = value
        for cd in info.iter(_q("CustomData")):
            meta[cd.get("Name", "")] = cd.text or ""
    doc_path = _resolve("", doc_root)
    doc_dir = doc_path.rsplit("/", 1)[0] if "/" in doc_path else ""
    document = part(doc_path)
    media = {}
    common = document.find(_q("CommonData"))
    for res_tag in ("DocumentRes", "PublicRes"):
        for loc in common.findall(_q(res_tag)) if common is not None else []:
            res_path = _resolve(doc_dir, loc.text or "")
            res = part(res_path)
            res_dir = res_path.rsplit("/", 1)[0] if "/" in res_path else ""
            base = _resolve(res_dir, res.get("BaseLoc", "")) if res.get("BaseLoc") else res_dir
            for mm in res.iter(_q("MultiMedia")):
                media[mm.get("ID")] = _resolve(base, mm.findtext(_q("MediaFile")) or "")
    pages = []
    for entry in document.iter(_q("Page")):
        content = part(_resolve(doc_dir, entry.get("BaseLoc", "")))
        words, images = [], []
        for obj in content.iter(_q("ImageObject")):
            images.append(media.get(obj.get("ResourceID"), ""))
        for obj in content.iter(_q("TextObject")):
            words.append("".join(code.text or "" for code in obj.iter(_q("TextCode"))))
        pages.append(
            {
                "id": entry.get("ID"),
                "images": images,
                "text": "".join(words),
                "missing_images": [m for m in images if m not in names],
            }
        )
    return {"metadata": meta, "pages": pages, "parts": sorted(names)}


__all__ = ["CUSTOM_FIELDS", "NS", "read", "render"]
