"""What a transfer package holds (R28) and how its XML files are written and read.

```
{batch id}/                         BagIt 1.0 bag (RFC 8493)
  bagit.txt  bag-info.txt
  manifest-sha256.txt  manifest-sm3.txt  tagmanifest-sha256.txt  tagmanifest-sm3.txt
  tagmanifest-sm3.txt.sig  signer.pem    detached signature of tagmanifest-sm3.txt and its key
  audit-checkpoint.json               the station's signed audit checkpoint (docs/audit-anchors.md)
  data/说明文件.txt                   description of the package
  data/文件目录.xml                   one <文件> per dossier: 顺序号 档号 责任者 题名 日期 密级 文件名 备注
                                     (then 年度 保管期限 页数 图像数 页数说明: an explained R09/R10 difference)
  data/电子档案/{年度}/{类别}/{档号}/  page images {档号}-{NNNN}.jpg|tif|jp2 and {档号}.xml (metadata)
  data/其他/档号规则.json|.txt  质检报告.xml  移交登记表.xml|.pdf
```

XML files are UTF-8 with Chinese element names (the terms of the standards). They never carry a
DOCTYPE; a reader refuses one (no entity expansion, no external references).
"""

from __future__ import annotations

import json
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field

from scanstation.errors import InvalidInput

DATA = "data"
DESCRIPTION = "data/说明文件.txt"
CATALOG_XML = "data/文件目录.xml"
RECORDS_DIR = "data/电子档案"
OTHER_DIR = "data/其他"
SCHEMA_JSON = "data/其他/档号规则.json"
SCHEMA_TXT = "data/其他/档号规则.txt"
QC_REPORT = "data/其他/质检报告.xml"
REGISTER_XML = "data/其他/移交登记表.xml"
REGISTER_PDF = "data/其他/移交登记表.pdf"
SIGNED_TAG_MANIFEST = "tagmanifest-sm3.txt"
SIGNATURE = "tagmanifest-sm3.txt.sig"
SIGNER_PEM = "signer.pem"
ALGORITHMS = ("sha256", "sm3")
ALGORITHM_NAMES = {"sha256": "SHA-256", "sm3": "SM3"}
UNCLASSIFIED = "未分类"

EXTENSIONS = {"jpeg": "jpg", "tiff": "tif", "jp2": "jp2"}
FORMAT_BY_EXT = {v: k for k, v in EXTENSIONS.items()}
MIME = {"jpeg": "image/jpeg", "tiff": "image/tiff", "jp2": "image/jp2"}
PAGE_FILE_RE = re.compile(r"^(?P<number>.+)-(?P<seq>[0-9]{4})\.(?P<ext>jpg|tif|jp2)$")
MAX_XML_BYTES = 64 * 1024 * 1024

# Catalog fields (R18): column -> element name.
DOSSIER_FIELDS = (
    ("number", "档号"),
    ("fonds_code", "全宗号"),
    ("year", "年度"),
    ("category", "门类类别"),
    ("insurance_type", "险种"),
    ("business_stage", "业务环节"),
    ("retention", "保管期限"),
    ("title", "题名"),
    ("responsible", "责任者"),
    ("date", "日期"),
    ("declared_pages", "页数"),
    ("security_level", "密级"),
    ("volume_no", "案卷号"),
    ("item_no", "件号"),
    ("box_no", "盒号"),
    ("person_name", "姓名"),
    ("person_id_number", "身份证号"),
    ("employer", "单位名称"),
    ("remarks", "备注"),
    ("scanned_by", "扫描人"),
    ("completed_by", "完成人"),
    ("qc_by", "质检人"),
)
#: Catalog XML (文件目录) fields per entry, in R28's order, then the ones a receiver also needs.
CATALOG_FIELDS = (
    ("seq", "顺序号"),
    ("number", "档号"),
    ("responsible", "责任者"),
    ("title", "题名"),
    ("date", "日期"),
    ("security_level", "密级"),
    ("file_name", "文件名"),
    ("remarks", "备注"),
    ("year", "年度"),
    ("retention", "保管期限"),
    ("declared_pages", "页数"),
    ("images", "图像数"),
    ("count_explanation", "页数说明"),
)
MANDATORY_FIELDS = (
    ("number", "档号"),
    ("title", "题名"),
    ("year", "年度"),
    ("retention", "保管期限"),
    ("declared_pages", "页数"),
)
#: Fields that must agree between 文件目录.xml and a dossier's metadata XML.
SHARED_FIELDS = ("number", "responsible", "title", "date", "security_level", "year", "retention", "declared_pages")


def category_folder(category: str) -> str:
    return (category or "").strip() or UNCLASSIFIED


def dossier_dir(year, category: str, number: str) -> str:
    return f"{RECORDS_DIR}/{year}/{category_folder(category)}/{number}"


def metadata_name(number: str) -> str:
    return f"{number}.xml"


# -- writing ------------------------------------------------------------------------------
def _sub(parent, tag: str, text=None, **attrs) -> ET.Element:
    el = ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items() if v is not None})
    if text is not None:
        el.text = str(text)
    return el


def to_bytes(root: ET.Element) -> bytes:
    ET.indent(root, space="  ")
    return ET.tostring(root, encoding="utf-8", xml_declaration=True) + b"\n"


def dossier_xml(dossier: dict, pages: list[dict], notes: list[dict], *, batch_id: str) -> bytes:
    """Per-dossier metadata: the R18 catalog fields and per image the R20–R21 process metadata."""
    root = ET.Element("案卷", {"批次": batch_id})
    fields_el = _sub(root, "著录项")
    for column, name in DOSSIER_FIELDS:
        value = dossier.get(column)
        _sub(fields_el, name, "" if value is None else value)
    _sub(fields_el, "扫描状态", "已完成并通过质检")
    explained = dossier.get("count_explanation")
    if explained is not None and not isinstance(explained, str):  # R09/R10: the explained difference, with its counts
        _sub(
            fields_el,
            "页数说明",
            explained.text,
            登记页数=explained.declared,
            图像数=explained.images,
            未扫描说明数=explained.not_scanned,
            说明人=explained.by,
            说明时间=explained.at,
        )
    if notes:
        notes_el = _sub(root, "未扫描页")
        for note in notes:
            _sub(notes_el, "页", note.get("note", ""), 原页号=note.get("original_page_no"))
    images = _sub(root, "图像", 数量=len(pages))
    for p in pages:
        page = _sub(images, "页", 顺序号=p["seq"])
        _sub(page, "文件名", p["file_name"])
        _sub(page, "字节数", p["bytes"])
        _sub(page, "格式", p["format"], MIME=MIME.get(p["format"], ""))
        _sub(page, "宽度", p.get("width") if p.get("width") is not None else "")
        _sub(page, "高度", p.get("height") if p.get("height") is not None else "")
        _sub(page, "分辨率", p.get("dpi") if p.get("dpi") is not None else "", 单位="dpi")
        _sub(page, "色彩模式", p.get("color_mode", ""))
        _sub(page, "压缩", p.get("compression", ""))
        _sub(page, "采集时间", p.get("capture_time", ""))
        device = p.get("device") or {}
        if isinstance(device, str):
            try:
                device = json.loads(device or "{}")
            except ValueError:
                device = {"description": device}
        _sub(
            page,
            "设备",
            None,
            厂商=device.get("maker", ""),
            型号=device.get("model", ""),
            序列号=device.get("serial", ""),
            接口=device.get("backend", ""),
        )
        _sub(page, "软件", p.get("software", ""))
        _sub(page, "操作员", p.get("operator", ""))
        log = p.get("processing_log", "[]")
        _sub(page, "处理记录", log if isinstance(log, str) else json.dumps(log, ensure_ascii=False), 格式="JSON")
        flags = p.get("qc_flags", "[]")
        _sub(page, "质检标记", flags if isinstance(flags, str) else json.dumps(flags, ensure_ascii=False), 格式="JSON")
        if p.get("note"):
            _sub(page, "备注", p["note"])
        _sub(page, "校验值", p["sha256"], 算法="SHA-256")
        _sub(page, "校验值", p["sm3"], 算法="SM3")
    return to_bytes(root)


def catalog_xml(batch: dict, entries: list[dict]) -> bytes:
    root = ET.Element(
        "文件目录",
        {
            "批次": batch["batch_id"],
            "全宗号": batch["fonds_code"],
            "年度": str(batch["year"]),
            "案卷数": str(len(entries)),
        },
    )
    for entry in entries:
        item = _sub(root, "文件")
        for key, name in CATALOG_FIELDS:
            value = entry.get(key)
            _sub(item, name, "" if value is None else value)
    return to_bytes(root)


# -- reading ------------------------------------------------------------------------------
class XmlProblem(InvalidInput):
    pass


def parse_xml(data: bytes, name: str) -> ET.Element:
    """Parse package XML; refuses DTDs (entities) and anything that is not well-formed UTF-8 XML."""
    if len(data) > MAX_XML_BYTES:
        raise XmlProblem("{name} is larger than {n} bytes.", "{name} 大于 {n} 字节。", name=name, n=MAX_XML_BYTES)
    head = data[:4096].lstrip()
    if b"<!DOCTYPE" in data or b"<!ENTITY" in data:
        raise XmlProblem(
            "{name} declares a DOCTYPE or entities, which packages must not.",
            "{name} 含有 DOCTYPE 或实体声明，移交包中不允许。",
            name=name,
        )
    if head.startswith(b"<?xml"):
        decl = head[: head.find(b"?>") + 2].lower()
        m = re.search(rb'encoding\s*=\s*["\']([a-z0-9._-]+)["\']', decl)
        if m and m.group(1) not in (b"utf-8", b"utf8"):
            raise XmlProblem("{name} is not UTF-8 (R23).", "{name} 不是 UTF-8 编码（R23）。", name=name)
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        raise XmlProblem("{name} is not UTF-8 (R23).", "{name} 不是 UTF-8 编码（R23）。", name=name) from None
    try:
        return ET.fromstring(data)
    except ET.ParseError as exc:
        raise XmlProblem(
            "{name} is not well-formed XML: {error}.", "{name} 不是格式正确的 XML：{error}。", name=name, error=str(exc)
        ) from None


def _text(el, tag: str) -> str:
    found = el.find(tag) if el is not None else None
    return (found.text or "").strip() if found is not None and found.text else ""


def _int(value: str | None) -> int | None:
    if value is None:
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@dataclass
class CatalogEntry:
    seq: int | None
    fields: dict


def read_catalog_xml(data: bytes) -> tuple[dict, list[CatalogEntry]]:
    root = parse_xml(data, "文件目录.xml")
    if root.tag != "文件目录":
        raise XmlProblem(
            "文件目录.xml has the root element <{tag}>, not <文件目录>.",
            "文件目录.xml 的根元素是 <{tag}>，不是 <文件目录>。",
            tag=root.tag,
        )
    entries = []
    for item in root.findall("文件"):
        values = {key: _text(item, name) for key, name in CATALOG_FIELDS}
        entries.append(CatalogEntry(_int(values["seq"]), values))
    return dict(root.attrib), entries


@dataclass
class PageMeta:
    seq: int | None
    file_name: str
    values: dict
    checksums: dict = field(default_factory=dict)  # alg -> hex ("sha256", "sm3")


@dataclass
class DossierMeta:
    fields: dict
    pages: list[PageMeta]
    notes: list[dict]
    batch_id: str = ""
    count_explanation: dict | None = None  # R09/R10: {"text", "declared", "images", "not_scanned", "by", "at"}


def read_dossier_xml(data: bytes, name: str) -> DossierMeta:
    root = parse_xml(data, name)
    if root.tag != "案卷":
        raise XmlProblem(
            "{name} has the root element <{tag}>, not <案卷>.",
            "{name} 的根元素是 <{tag}>，不是 <案卷>。",
            name=name,
            tag=root.tag,
        )
    fields_el = root.find("著录项")
    values = {column: _text(fields_el, tag) for column, tag in DOSSIER_FIELDS}
    notes = []
    for note in root.findall("未扫描页/页"):
        notes.append({"original_page_no": _int(note.get("原页号")), "note": (note.text or "").strip()})
    pages = []
    by_alg = {v: k for k, v in ALGORITHM_NAMES.items()}
    for page in root.findall("图像/页"):
        device = page.find("设备")
        vals = {
            "bytes": _int(_text(page, "字节数")),
            "format": _text(page, "格式"),
            "width": _int(_text(page, "宽度")),
            "height": _int(_text(page, "高度")),
            "dpi": _int(_text(page, "分辨率")),
            "color_mode": _text(page, "色彩模式"),
            "compression": _text(page, "压缩"),
            "capture_time": _text(page, "采集时间"),
            "software": _text(page, "软件"),
            "operator": _text(page, "操作员"),
            "processing_log": _text(page, "处理记录") or "[]",
            "qc_flags": _text(page, "质检标记") or "[]",
            "note": _text(page, "备注"),
            "device": {
                "maker": device.get("厂商", ""),
                "model": device.get("型号", ""),
                "serial": device.get("序列号", ""),
                "backend": device.get("接口", ""),
            }
            if device is not None
            else {},
        }
        sums = {}
        for el in page.findall("校验值"):
            alg = by_alg.get(el.get("算法", ""))
            if alg:
                sums[alg] = (el.text or "").strip().lower()
        pages.append(PageMeta(_int(page.get("顺序号")), _text(page, "文件名"), vals, sums))
    explained = fields_el.find("页数说明") if fields_el is not None else None
    count_explanation = None
    if explained is not None:
        count_explanation = {
            "text": (explained.text or "").strip(),
            "declared": _int(explained.get("登记页数")),
            "images": _int(explained.get("图像数")),
            "not_scanned": _int(explained.get("未扫描说明数")),
            "by": explained.get("说明人", ""),
            "at": explained.get("说明时间", ""),
        }
    return DossierMeta(values, pages, notes, root.get("批次", ""), count_explanation)


def register_digest_lines(manifest_sm3: dict[str, str]) -> bytes:
    """The bytes the register's digest covers: the SM3 manifest lines of 文件目录.xml and every
    file under 电子档案/, sorted by path (其他/ and 说明文件 are outside: they carry the digest)."""
    from scanstation.transfer.bagit import encode_path

    lines = [
        f"{digest}  {encode_path(path)}\n"
        for path, digest in sorted(manifest_sm3.items())
        if path == CATALOG_XML or path.startswith(RECORDS_DIR + "/")
    ]
    return "".join(lines).encode("utf-8")


def register_digest(manifest_sm3: dict[str, str]) -> str:
    import hashlib

    return hashlib.new("sm3", register_digest_lines(manifest_sm3)).hexdigest()
