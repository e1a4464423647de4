"""The archive room's four-property check (四性检测, DA/T 70-2018; R33) of a transfer package.

Every check is reported on its own line with pass/fail and the object concerned:

- authenticity (真实性): signature valid and signer trusted; every SHA-256 and SM3 recomputed; the
  register's digest; 档号 grammar; metadata values against 文件目录.xml and file properties against
  the metadata; no duplicates (also none already in the receiving archive).
- integrity (完整性): BagIt structure; tag manifest present and complete (Bagger #56);
  Payload-Oxum; no missing or extra file; counts and bytes equal the register; mandatory fields;
  page sequence continuous from 0001; every dossier has its declared pages.
- usability (可用性): XML parses (UTF-8, no DTD); formats on the allow-list (jpeg/tiff/jp2, checked
  by content); every image decodes; resolution ≥ 200 dpi with X = Y.
- security (安全性): no link, device file or path outside the package; nothing outside the
  manifest; size limits and the decompression-bomb guard (image dimensions are read from the header
  before decoding); no encryption or proprietary compression (R31); ClamAV when installed.

The BagIt layer is scanstation.transfer.bagit (one parallel pass over every file for both
algorithms). When the file tree fails the security check, no payload file is opened as an image.
"""

from __future__ import annotations

import builtins
import contextlib
import hashlib
import json
import os
import re
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from scanstation import SOFTWARE_NAME, __version__
from scanstation.errors import ScanStationError
from scanstation.home import now_iso
from scanstation.i18n import is_english, tr
from scanstation.rules import MIN_DPI
from scanstation.transfer import bagit, malware, register, signing, zip_package
from scanstation.transfer import package_layout as layout

PROPERTIES = ("authenticity", "integrity", "usability", "security")
PROPERTY_ZH = {"authenticity": "真实性", "integrity": "完整性", "usability": "可用性", "security": "安全性"}

#: check code -> (property, English title, Chinese title), in report order
CHECKS: dict[str, tuple[str, str, str]] = {
    "paths": ("security", "no link, device file or path outside the package", "无链接、设备文件或包外路径"),
    "unlisted": ("security", "no file outside the manifest", "无清单外的文件"),
    "limits": ("security", "size limits and decompression-bomb guard", "大小限制与解压炸弹防护"),
    "encryption": ("security", "no encryption or proprietary compression (R31)", "无加密、无专有压缩（R31）"),
    "malware": ("security", "malware scan", "恶意代码检测"),
    "signature": ("authenticity", "signature valid and signer trusted", "签名有效且签名者受信任"),
    "checksums": ("authenticity", "every SHA-256 and SM3 recomputed", "逐一重算 SHA-256 与 SM3"),
    "register_digest": ("authenticity", "register digest", "登记表摘要"),
    "dossier_numbers": ("authenticity", "档号 grammar", "档号规则"),
    "metadata": ("authenticity", "metadata values and file properties", "元数据值与文件属性"),
    "duplicates": ("authenticity", "no duplicates", "无重复"),
    "bagit": ("integrity", "BagIt structure (RFC 8493)", "BagIt 结构（RFC 8493）"),
    "tag_manifest": ("integrity", "tag manifest present and complete", "标签清单存在且完整"),
    "oxum": ("integrity", "Payload-Oxum", "Payload-Oxum"),
    "files": ("integrity", "no missing or extra file", "无缺失、无多余文件"),
    "register_counts": ("integrity", "counts and bytes equal the register", "数量与字节数与登记表一致"),
    "mandatory": ("integrity", "mandatory files and fields", "必备文件与著录项"),
    "sequence": ("integrity", "page sequence continuous from 0001", "页号自 0001 起连续"),
    "declared_pages": ("integrity", "every dossier has its declared pages", "每个案卷的页数与登记一致"),
    "xml": ("usability", "XML parses (UTF-8)", "XML 可解析（UTF-8）"),
    "formats": ("usability", "formats on the allow-list (jpeg, tiff, jp2)", "格式在允许范围内（jpeg、tiff、jp2）"),
    "decode": ("usability", "every image decodes", "每个图像可解码"),
    "resolution": ("usability", "resolution at least 200 dpi, X = Y", "分辨率不低于 200 dpi 且横纵一致"),
    "copies": (
        "usability",
        "derived copies (档号.pdf/.ofd) have their text layer and 页数",
        "派生副本（档号.pdf/.ofd）有文本层且页数一致",
    ),
}

BAG_CODE_CHECK = {
    "symlink": "paths",
    "special-file": "paths",
    "path-unsafe": "paths",
    "name-not-utf8": "paths",
    "line-too-long": "limits",
    "tag-file-too-large": "limits",
    "digest-mismatch": "checksums",
    "tag-digest-mismatch": "checksums",
    "manifest-conflict": "checksums",
    "unreadable": "checksums",
    "tag-manifest-missing": "tag_manifest",
    "tag-manifest-incomplete": "tag_manifest",
    "tag-file-missing": "tag_manifest",
    "payload-oxum-mismatch": "oxum",
    "payload-oxum-malformed": "oxum",
    "file-missing": "files",
    "file-unlisted": "files",
    "fetch-incomplete": "files",
    "normalization-collision": "paths",
    "case-collision": "paths",
    "normalization-alias": "paths",
    "normalization-mismatch": "paths",
    "case-alias": "paths",
}
#: Tag files a tag manifest cannot list: the signature over tagmanifest-sm3.txt and the key that made it
#: (both are checked by the signature check). Every other file outside data/ must be in the tag manifests.
UNMANIFESTED_TAG_FILES = frozenset({layout.SIGNATURE, layout.SIGNER_PEM})
ZIP_CODE_CHECK = {
    "zip-name-not-utf8": "paths",
    "zip-unsafe-path": "paths",
    "zip-link": "paths",
    "zip-special": "paths",
    "zip-encrypted": "encryption",
    "zip-method": "encryption",
    "zip-bomb": "limits",
    "zip-duplicate": "limits",
}

MAX_IMAGE_BYTES = 512 * 1024 * 1024
MAX_PIXELS = 150_000_000  # A0 at 600 dpi is 139 megapixels
MAX_SIG_BYTES = 4096
MAX_PEM_BYTES = 64 * 1024
MAGIC = {
    "jpeg": (b"\xff\xd8\xff",),
    "tiff": (b"II*\x00", b"MM\x00*"),
    "jp2": (b"\x00\x00\x00\x0cjP  \r\n\x87\n", b"\xff\x4f\xff\x51"),
}
ENCRYPTED_MAGIC = b"SSENC1\x00"
PIL_FORMAT = {"JPEG": "jpeg", "TIFF": "tiff", "JPEG2000": "jp2"}


@dataclass
class CheckLine:
    property: str
    check: str
    status: str  # pass | fail | not_available | skipped | explained (R09/R10: a difference explained)
    object: str
    en: str
    zh: str
    dossier: str = ""

    # the field ``property`` shadows the builtin inside this class body
    @builtins.property
    def title(self) -> str:
        _, en, zh = CHECKS[self.check]
        return en if is_english() else zh

    @builtins.property
    def message(self) -> str:
        return self.en if is_english() else self.zh

    def to_dict(self) -> dict:
        prop, title_en, title_zh = CHECKS[self.check]
        return {
            "property": self.property,
            "property_zh": PROPERTY_ZH[self.property],
            "check": self.check,
            "title": title_en,
            "title_zh": title_zh,
            "status": self.status,
            "object": self.object,
            "dossier": self.dossier,
            "en": self.en,
            "zh": self.zh,
        }


class _Lines:
    def __init__(self):
        self.failures: dict[str, list[CheckLine]] = {c: [] for c in CHECKS}
        self.special: dict[str, CheckLine] = {}
        self.explained: dict[str, list[CheckLine]] = {}
        self.summary: dict[str, tuple[str, str, str]] = {}

    def fail(self, check: str, obj: str, en: str, zh: str, dossier: str = "") -> None:
        line = CheckLine(CHECKS[check][0], check, "fail", obj, en, zh, dossier)
        if line not in self.failures[check]:
            self.failures[check].append(line)

    def explain(self, check: str, obj: str, en: str, zh: str, dossier: str = "") -> None:
        """A finding that is not a failure: reported on its own line as explained (R09/R10)."""
        self.explained.setdefault(check, []).append(
            CheckLine(CHECKS[check][0], check, "explained", obj, en, zh, dossier)
        )

    def passed(self, check: str, obj: str, en: str, zh: str) -> None:
        self.summary[check] = (obj, en, zh)

    def set(self, check: str, status: str, obj: str, en: str, zh: str) -> None:
        self.special[check] = CheckLine(CHECKS[check][0], check, status, obj, en, zh)

    def skip(self, check: str, en: str, zh: str) -> None:
        if check not in self.special and not self.failures[check]:
            self.special[check] = CheckLine(CHECKS[check][0], check, "skipped", "", en, zh)

    def lines(self) -> list[CheckLine]:
        out = []
        for check in CHECKS:
            if self.failures[check]:
                out.extend(self.failures[check])
            elif check in self.special:
                out.append(self.special[check])
            else:
                obj, en, zh = self.summary.get(check, ("", "checked", "已检查"))
                out.append(CheckLine(CHECKS[check][0], check, "pass", obj, en, zh))
                out.extend(self.explained.get(check, ()))
        return out


@dataclass
class DossierContent:
    """What the package says about one dossier (kept for sampling and ingest)."""

    number: str
    folder: str
    entry: dict
    meta: layout.DossierMeta | None = None
    images: list[str] = field(default_factory=list)  # package paths of the page images, in order


@dataclass
class VerifyReport:
    package: str
    name: str = ""
    is_zip: bool = False
    lines: list[CheckLine] = field(default_factory=list)
    info: dict = field(default_factory=dict)
    signer: dict = field(default_factory=dict)
    tagmanifest_sm3: str = ""
    counts: dict = field(default_factory=dict)
    malware: dict = field(default_factory=dict)
    checked_at: str = ""
    seconds: float = 0.0
    dossiers: dict[str, DossierContent] = field(default_factory=dict)
    root: Path | None = None
    payload: dict[str, int] = field(default_factory=dict)
    manifests: dict = field(default_factory=dict)
    content_checked: bool = True
    #: package path -> SM3 of every file the check vouched for (payload and tag manifests, tag manifests and
    #: signature files as read); a receiver copies these and nothing else (see ``verified_files``)
    verified: dict[str, str] = field(default_factory=dict)

    @property
    def passed(self) -> bool:
        # a fixity-only run skips the content checks on purpose: skipped is not failed there
        accepted = (
            ("pass", "not_available", "explained")
            if self.content_checked
            else ("pass", "not_available", "explained", "skipped")
        )
        return all(line.status in accepted for line in self.lines)

    def property_result(self, prop: str) -> str:
        statuses = [line.status for line in self.lines if line.property == prop]
        if "fail" in statuses:
            return "fail"
        if "skipped" in statuses:
            return "skipped"
        return "pass"

    @property
    def failures(self) -> list[CheckLine]:
        return [line for line in self.lines if line.status in ("fail", "skipped")]

    def failed_dossiers(self) -> dict[str, list[CheckLine]]:
        out: dict[str, list[CheckLine]] = {}
        for line in self.failures:
            if line.dossier:
                out.setdefault(line.dossier, []).append(line)
        return out

    def to_dict(self) -> dict:
        return {
            "package": self.package,
            "name": self.name,
            "zip": self.is_zip,
            "passed": self.passed,
            "properties": {p: self.property_result(p) for p in PROPERTIES},
            "batch_id": self.info.get("External-Identifier", ""),
            "bag_info": self.info,
            "tagmanifest_sm3": self.tagmanifest_sm3,
            "digest_algorithm": "SM3",
            "signer": self.signer,
            "counts": self.counts,
            "malware": self.malware,
            "checked_at": self.checked_at,
            "seconds": round(self.seconds, 3),
            "software": f"{SOFTWARE_NAME} {__version__}",
            "checks": [line.to_dict() for line in self.lines],
        }

    def text_lines(self) -> list[str]:
        status_text = {
            "pass": tr("PASS", "通过"),
            "fail": tr("FAIL", "不通过"),
            "not_available": tr("N/A ", "未检测"),
            "skipped": tr("SKIP", "未检查"),
            "explained": tr("EXPLAINED", "已说明"),
        }
        out = [tr("Four-property check of {p}", "{p} 的四性检测", p=self.package)]
        for line in self.lines:
            prop = line.property if is_english() else PROPERTY_ZH[line.property]
            obj = f" — {line.object}" if line.object else ""
            out.append(f"[{status_text[line.status]}] {prop} · {line.title}{obj}: {line.message}")
        verdict = tr("PASSED", "通过") if self.passed else tr("FAILED", "不通过")
        if self.passed and not self.content_checked:
            verdict = tr(
                "PASSED (fixity only: BagIt, checksums and signature; the content was not checked)",
                "通过（仅固定性检测：BagIt、校验值与签名；未检查内容）",
            )
        out.append(
            tr(
                "Result: {v} (authenticity {a}, integrity {i}, usability {u}, security {s})",
                "结论：{v}（真实性 {a}，完整性 {i}，可用性 {u}，安全性 {s}）",
                v=verdict,
                **{k[0]: status_text[self.property_result(k)] for k in PROPERTIES},
            )
        )
        return out


# ---------------------------------------------------------------------------------------------
def _info_value(bag: bagit.BagReport, label: str) -> str:
    values = bag.info_values(label)
    return values[0] if values else ""


def _read_small(root: Path, rel: str, limit: int) -> bytes | None:
    path = root / rel
    try:
        st = os.lstat(path)
    except OSError:
        return None
    import stat as stat_mod

    if not stat_mod.S_ISREG(st.st_mode) or st.st_size > limit:
        return None
    with open(path, "rb") as fh:
        return fh.read(limit + 1)


def _check_signature(
    lines: _Lines, root: Path, bag: bagit.BagReport, trust: signing.TrustList | None, report: VerifyReport
) -> None:
    sig = _read_small(root, layout.SIGNATURE, MAX_SIG_BYTES) if layout.SIGNATURE in bag.tag_files else None
    pem = _read_small(root, layout.SIGNER_PEM, MAX_PEM_BYTES) if layout.SIGNER_PEM in bag.tag_files else None
    signed = (
        _read_small(root, layout.SIGNED_TAG_MANIFEST, bagit.MAX_TAG_FILE_BYTES)
        if layout.SIGNED_TAG_MANIFEST in bag.tag_files
        else None
    )
    if signed is None:
        lines.fail(
            "signature",
            layout.SIGNED_TAG_MANIFEST,
            "The signed tag manifest is missing, so nothing proves who sent the package.",
            "缺少被签名的标签清单，无法证明移交包的来源。",
        )
        return
    if sig is None or pem is None:
        missing = [n for n, v in ((layout.SIGNATURE, sig), (layout.SIGNER_PEM, pem)) if v is None]
        lines.fail(
            "signature",
            ", ".join(missing),
            "The signature or the signer's public key is missing: the package cannot be shown to come from the sender.",
            "缺少签名或签名者公钥：无法证明移交包来自移交方。",
        )
        return
    try:
        key = signing.parse_public_key(pem)
    except Exception as exc:
        lines.fail(
            "signature",
            layout.SIGNER_PEM,
            f"The signer's public key cannot be read: {exc}.",
            f"无法读取签名者公钥：{exc}。",
        )
        return
    report.signer = {"algorithm": key.algorithm, "fingerprint": key.fingerprint, "trusted_name": ""}
    for rel, data in ((layout.SIGNATURE, sig), (layout.SIGNER_PEM, pem), (layout.SIGNED_TAG_MANIFEST, signed)):
        report.verified[rel] = hashlib.new("sm3", data).hexdigest()
    if not signing.verify(pem.decode("ascii", "replace"), signed, sig):
        lines.fail(
            "signature",
            layout.SIGNATURE,
            "The signature does not match tagmanifest-sm3.txt: the package was changed after it was signed.",
            "签名与 tagmanifest-sm3.txt 不符：移交包在签名后被修改过。",
        )
        return
    if trust is None or not len(trust):
        lines.fail(
            "signature",
            key.fingerprint[:16],
            "There is no trust list, so the signer cannot be recognised. Import the sender's public key "
            "(scanstation keys trust NAME FILE.pem) or pass --trust FILE.pem.",
            "没有信任列表，无法确认签名者。请导入移交方公钥（scanstation keys trust 名称 公钥.pem）或使用 --trust 公钥.pem。",
        )
        return
    trusted = trust.find(pem.decode("ascii", "replace"))
    if trusted is None:
        lines.fail(
            "signature",
            key.fingerprint[:16],
            f"The signature is valid but its key ({key.fingerprint[:16]}…) is not trusted. If the key is "
            "genuine, import it: scanstation keys trust NAME FILE.pem.",
            f"签名有效，但其公钥（{key.fingerprint[:16]}…）不在信任列表中。如确为移交方公钥，请导入：scanstation keys trust 名称 公钥.pem。",
        )
        return
    report.signer["trusted_name"] = trusted.name
    label = {"sm2": "SM2-with-SM3", "ed25519": "Ed25519"}.get(key.algorithm, key.algorithm)
    lines.passed(
        "signature",
        layout.SIGNATURE,
        f"signed with {label} by '{trusted.name}' ({key.fingerprint[:16]}…)",
        f"由“{trusted.name}”以 {label} 签名（{key.fingerprint[:16]}…）",
    )


def _probe_image(path: Path, ext_format: str, max_pixels: int) -> dict:
    """Header, format and decode check of one image; never decodes an oversized one."""
    import warnings

    from PIL import Image, UnidentifiedImageError

    out: dict = {"size": None, "dpi": None, "format": None, "problems": []}
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        out["problems"].append(("decode", f"cannot be read: {exc.strerror or exc}", f"无法读取：{exc.strerror or exc}"))
        return out
    if head.startswith(ENCRYPTED_MAGIC):
        out["problems"].append(("encryption", "the file is encrypted (R31)", "文件已加密（R31）"))
        return out
    if not head:
        out["problems"].append(("decode", "the file is empty (0 bytes)", "文件为空（0 字节）"))
        return out
    magic = next((fmt for fmt, sigs in MAGIC.items() if any(head.startswith(s) for s in sigs)), None)
    if magic is None:
        out["problems"].append(
            ("formats", "the content is not JPEG, TIFF or JPEG 2000", "内容不是 JPEG、TIFF 或 JPEG 2000")
        )
        return out
    if magic != ext_format:
        out["problems"].append(
            (
                "formats",
                f"the content is {magic}, the name says {ext_format}",
                f"内容为 {magic}，文件名表示 {ext_format}",
            )
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(path) as im:
                out["size"] = im.size
                out["format"] = PIL_FORMAT.get(im.format or "", (im.format or "").lower())
                dpi = im.info.get("dpi")
                if dpi:
                    out["dpi"] = (float(dpi[0]), float(dpi[1]))
                width, height = im.size
                if width * height > max_pixels:
                    out["problems"].append(
                        (
                            "limits",
                            f"{width} × {height} pixels exceeds {max_pixels:,}; not decoded (decompression-bomb guard)",
                            f"{width} × {height} 像素超过 {max_pixels:,}，未解码（解压炸弹防护）",
                        )
                    )
                    return out
                if im.format == "JPEG":
                    # Scaled decoding still entropy-decodes the whole scan (a damaged or truncated
                    # stream fails) while skipping most of the inverse DCT work.
                    im.draft(im.mode, (max(1, width // 8), max(1, height // 8)))
                im.load()
    except Image.DecompressionBombError as exc:
        out["problems"].append(("limits", f"decompression bomb refused: {exc}", f"拒绝解压炸弹：{exc}"))
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, Image.DecompressionBombWarning) as exc:
        out["problems"].append(("decode", f"does not decode: {exc}", f"无法解码：{exc}"))
    except Exception as exc:  # a malformed file may raise anything inside a codec
        out["problems"].append(
            ("decode", f"does not decode: {type(exc).__name__}: {exc}", f"无法解码：{type(exc).__name__}：{exc}")
        )
    return out


_DOSSIER_PATH_RE = re.compile(r"^data/电子档案/(?P<year>[^/]+)/(?P<category>[^/]+)/(?P<number>[^/]+)/(?P<file>[^/]+)$")


def _check_copy(lines: _Lines, path: Path, rel: str, declared: int | None, number: str) -> None:
    from scanstation.export.check import check_file

    try:
        result = check_file(path, declared)
    except ScanStationError as exc:
        lines.fail("copies", rel, exc.en, exc.zh, number)
        return
    for en, zh in result["problems"]:
        lines.fail("copies", rel, en[:1].upper() + en[1:] + ".", zh + "。", number)


def _content_checks(
    lines: _Lines,
    root: Path,
    bag: bagit.BagReport,
    report: VerifyReport,
    *,
    schema,
    catalog,
    workers: int,
    max_pixels: int,
) -> None:
    from scanstation import dossier_number

    payload = bag.payload
    sm3 = bag.manifests.get("sm3", {})
    sha = bag.manifests.get("sha256", {})

    def load_xml(rel: str, reader, mandatory: bool = True):
        if rel not in payload:
            if mandatory:
                lines.fail(
                    "mandatory",
                    rel,
                    "A mandatory file of the package (R28) is missing.",
                    "缺少移交包的必备文件（R28）。",
                )
            return None
        if payload[rel] > layout.MAX_XML_BYTES:
            lines.fail("limits", rel, "The XML file is too large to be read.", "XML 文件过大，不予读取。")
            return None
        try:
            return reader((root / rel).read_bytes())
        except layout.XmlProblem as exc:
            lines.fail("xml", rel, exc.en, exc.zh)
        except OSError as exc:
            lines.fail("xml", rel, f"cannot be read: {exc}", f"无法读取：{exc}")
        return None

    for rel in (layout.DESCRIPTION, layout.SCHEMA_JSON, layout.REGISTER_PDF):
        if rel not in payload:
            lines.fail(
                "mandatory", rel, "A mandatory file of the package (R28) is missing.", "缺少移交包的必备文件（R28）。"
            )
    catalog_data = load_xml(layout.CATALOG_XML, layout.read_catalog_xml)
    reg = load_xml(layout.REGISTER_XML, register.read_register_xml)
    load_xml(layout.QC_REPORT, lambda data: layout.parse_xml(data, "质检报告.xml"))

    # Dossier folders as found on disk
    folders: dict[str, dict] = {}
    records_files = {rel: size for rel, size in payload.items() if rel.startswith(layout.RECORDS_DIR + "/")}
    for rel in records_files:
        m = _DOSSIER_PATH_RE.match(rel)
        if m is None:
            lines.fail(
                "files",
                rel,
                "The file is not in the layout 电子档案/{年度}/{类别}/{档号}/ (R28).",
                "文件不在 电子档案/{年度}/{类别}/{档号}/ 结构中（R28）。",
            )
            continue
        folder = rel.rsplit("/", 1)[0]
        f = folders.setdefault(
            folder, {"year": m["year"], "category": m["category"], "number": m["number"], "files": []}
        )
        f["files"].append(m["file"])

    entries = catalog_data[1] if catalog_data else []
    attrs = catalog_data[0] if catalog_data else {}
    seen_numbers: dict[str, int] = {}
    declared_total = 0
    image_paths: list[tuple[str, str, str]] = []  # (rel, format by name, dossier)
    for entry in entries:
        fields = entry.fields
        number = fields.get("number", "")
        label = number or f"#{fields.get('seq', '?')}"
        for key, name in layout.MANDATORY_FIELDS:
            if not str(fields.get(key, "")).strip():
                lines.fail(
                    "mandatory",
                    f"文件目录.xml: {label}",
                    f"The mandatory field {name} is empty.",
                    f"必备著录项“{name}”为空。",
                    number,
                )
        if number:
            seen_numbers[number] = seen_numbers.get(number, 0) + 1
            found = dossier_number.problems(number, schema, strict=True)
            if found:
                lines.fail(
                    "dossier_numbers",
                    number,
                    "; ".join(p.en if hasattr(p, "en") else str(p) for p in found),
                    "；".join(getattr(p, "zh", str(p)) for p in found),
                    number,
                )
        declared = layout._int(fields.get("declared_pages"))
        declared_total += declared or 0
        folder = f"data/{fields.get('file_name', '')}".rstrip("/")
        content = DossierContent(number, folder, dict(fields))
        report.dossiers[number or label] = content
        if folder not in folders:
            lines.fail(
                "files",
                folder,
                "The dossier listed in 文件目录.xml has no folder in the package.",
                "文件目录.xml 中列出的案卷在包中没有对应目录。",
                number,
            )
            continue
        info = folders[folder]
        info["listed"] = True
        if info["number"] != number or str(info["year"]) != str(fields.get("year")):
            lines.fail(
                "metadata",
                folder,
                f"The folder does not match the 档号 {number} and year {fields.get('year')}.",
                f"目录与档号 {number}、年度 {fields.get('year')} 不符。",
                number,
            )
        meta_name = layout.metadata_name(number)
        meta_rel = f"{folder}/{meta_name}"
        meta = load_xml(meta_rel, lambda data, n=meta_name: layout.read_dossier_xml(data, n))
        content.meta = meta
        derived = sorted(f for f in info["files"] if f in (f"{number}.pdf", f"{number}.ofd"))
        disk_images = sorted(f for f in info["files"] if f != meta_name and f not in derived)
        for name in derived:  # a double-layer PDF / OFD beside the masters (R04: derived copies)
            _check_copy(lines, root / folder / name, f"{folder}/{name}", declared, number)
        seqs = []
        for name in disk_images:
            m = layout.PAGE_FILE_RE.match(name)
            rel = f"{folder}/{name}"
            if m is None or m["number"] != number:
                ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
                if ext not in layout.FORMAT_BY_EXT:
                    lines.fail(
                        "formats",
                        rel,
                        "Only jpg, tif and jp2 page images and the metadata XML may be here.",
                        "此处只能存放 jpg、tif、jp2 页面图像及元数据 XML。",
                        number,
                    )
                else:
                    lines.fail(
                        "dossier_numbers",
                        rel,
                        f"The file name does not follow {number}-NNNN.{ext} (R11).",
                        f"文件名不符合 {number}-NNNN.{ext}（R11）。",
                        number,
                    )
                continue
            seqs.append(int(m["seq"]))
            image_paths.append((rel, layout.FORMAT_BY_EXT[m["ext"]], number))
            content.images.append(rel)
        seqs.sort()
        if seqs != list(range(1, len(seqs) + 1)):
            missing = sorted(set(range(1, (max(seqs) if seqs else 0) + 1)) - set(seqs))
            dup = sorted({s for s in seqs if seqs.count(s) > 1})
            shown = ", ".join(f"{s:04d}" for s in missing[:10]) or ", ".join(f"{s:04d}" for s in dup[:10])
            lines.fail(
                "sequence",
                folder,
                f"Page numbers are not continuous from 0001 (missing or repeated: {shown}).",
                f"页号不是自 0001 起连续（缺少或重复：{shown}）。",
                number,
            )
        if not seqs:
            lines.fail(
                "declared_pages",
                folder,
                "The dossier has no page image (R19).",
                "案卷没有任何页面图像（R19）。",
                number,
            )
        if meta is None:
            continue
        _declared_pages(lines, folder, number, declared, len(seqs), meta, fields)
        for key in layout.SHARED_FIELDS:
            a, b = str(fields.get(key, "")).strip(), str(meta.fields.get(key, "")).strip()
            if a != b:
                name = dict(layout.CATALOG_FIELDS).get(key, key)
                lines.fail(
                    "metadata",
                    meta_rel,
                    f"{name} is '{b}' here but '{a}' in 文件目录.xml.",
                    f"{name}在此为“{b}”，在文件目录.xml 中为“{a}”。",
                    number,
                )
        listed = {p.file_name: p for p in meta.pages}
        for name in sorted(set(listed) - set(disk_images)):
            lines.fail(
                "files",
                f"{folder}/{name}",
                "The metadata lists this image but the package does not hold it.",
                "元数据列出了该图像，但包中没有。",
                number,
            )
        for name in sorted(set(disk_images) - set(listed)):
            lines.fail(
                "files",
                f"{folder}/{name}",
                "The image is in the package but not in the dossier's metadata.",
                "包中有该图像，但案卷元数据中没有。",
                number,
            )
        for name, page in listed.items():
            rel = f"{folder}/{name}"
            if rel not in payload:
                continue
            if page.values.get("bytes") != payload[rel]:
                lines.fail(
                    "metadata",
                    rel,
                    f"The metadata says {page.values.get('bytes')} bytes, the file has {payload[rel]}.",
                    f"元数据记载 {page.values.get('bytes')} 字节，文件实为 {payload[rel]} 字节。",
                    number,
                )
            for alg, manifest in (("sha256", sha), ("sm3", sm3)):
                if page.checksums.get(alg) != manifest.get(rel):
                    lines.fail(
                        "metadata",
                        rel,
                        f"The {layout.ALGORITHM_NAMES[alg]} checksum in the metadata differs from the file's.",
                        f"元数据中的 {layout.ALGORITHM_NAMES[alg]} 校验值与文件不符。",
                        number,
                    )
    for folder, info in folders.items():
        if not info.get("listed"):
            lines.fail(
                "files",
                folder,
                "The dossier folder is not listed in 文件目录.xml.",
                "该案卷目录未列入文件目录.xml。",
                info["number"],
            )
    if catalog_data and attrs.get("案卷数") and attrs.get("案卷数") != str(len(entries)):
        lines.fail(
            "register_counts",
            layout.CATALOG_XML,
            f"文件目录.xml says {attrs.get('案卷数')} dossiers but lists {len(entries)}.",
            f"文件目录.xml 记载 {attrs.get('案卷数')} 个案卷，实际列出 {len(entries)} 个。",
        )

    # Duplicates: in the package, and against the receiving archive
    for number, count in seen_numbers.items():
        if count > 1:
            lines.fail("duplicates", number, f"The 档号 is listed {count} times.", f"该档号被列出 {count} 次。", number)
    if catalog is not None and seen_numbers:
        numbers = list(seen_numbers)
        for i in range(0, len(numbers), 500):
            chunk = numbers[i : i + 500]
            rows = catalog.query(
                f"SELECT number, status FROM dossiers WHERE number IN ({','.join('?' * len(chunk))})", chunk
            )
            for row in rows:
                lines.fail(
                    "duplicates",
                    row["number"],
                    f"The archive already holds this 档号 (status {row['status']}).",
                    f"档案室已有该档号（状态：{row['status']}）。",
                    row["number"],
                )
    by_digest: dict[str, str] = {}
    for rel, _fmt, number in image_paths:
        digest = sha.get(rel)
        if digest and digest in by_digest:
            lines.fail(
                "duplicates",
                rel,
                f"The image is byte-for-byte identical to {by_digest[digest]}.",
                f"该图像与 {by_digest[digest]} 完全相同。",
                number,
            )
        elif digest:
            by_digest[digest] = rel

    # Register: counts, bytes, digest; bag-info counts
    images_total = len(image_paths)
    records_bytes = sum(records_files.values())
    report.counts = {
        "dossiers": len(entries),
        "images": images_total,
        "files": len(records_files),
        "bytes": records_bytes,
        "declared_pages": declared_total,
        "payload_files": len(payload),
        "payload_bytes": sum(payload.values()),
    }
    if reg is not None:
        expected = {
            "dossiers": len(entries),
            "images": images_total,
            "files": len(records_files),
            "bytes": records_bytes,
            "declared_pages": declared_total,
        }
        names = {
            "dossiers": ("dossiers", "案卷数"),
            "images": ("image files", "图像文件数"),
            "files": ("files", "文件总数"),
            "bytes": ("bytes", "字节数"),
            "declared_pages": ("declared pages", "登记页数"),
        }
        for key, actual in expected.items():
            if reg.get(key) != actual:
                lines.fail(
                    "register_counts",
                    layout.REGISTER_XML,
                    f"The register says {reg.get(key)} {names[key][0]}; the package holds {actual}.",
                    f"登记表记载{names[key][1]} {reg.get(key)}，包中实为 {actual}。",
                )
        if reg.get("volume_gb") != register.gb(records_bytes):
            lines.fail(
                "register_counts",
                layout.REGISTER_XML,
                f"The register gives {reg.get('volume_gb')} GB; the files make {register.gb(records_bytes)} GB.",
                f"登记表记载数据量 {reg.get('volume_gb')} GB，实为 {register.gb(records_bytes)} GB。",
            )
        digest = layout.register_digest(sm3)
        if reg.get("digest_algorithm") != "SM3" or reg.get("digest") != digest:
            lines.fail(
                "register_digest",
                layout.REGISTER_XML,
                "The register's SM3 digest does not match the package's files.",
                "登记表中的 SM3 摘要与包中文件不符。",
            )
        else:
            lines.passed("register_digest", layout.REGISTER_XML, f"SM3 {digest[:16]}…", f"SM3 {digest[:16]}…")
        batch_ids = {reg.get("batch_id"), attrs.get("批次"), report.info.get("External-Identifier")}
        if len(batch_ids) != 1:
            lines.fail(
                "metadata",
                "bag-info.txt",
                f"The batch is named differently: {', '.join(sorted(map(str, batch_ids)))}.",
                f"批次号前后不一致：{', '.join(sorted(map(str, batch_ids)))}。",
            )
    for label, actual in (("Dossier-Count", len(entries)), ("Image-File-Count", images_total)):
        value = report.info.get(label)
        if value is None:
            lines.fail("mandatory", "bag-info.txt", f"{label} is missing.", f"缺少 {label}。")
        elif value != str(actual):
            lines.fail(
                "register_counts",
                "bag-info.txt",
                f"{label} is {value}; the package holds {actual}.",
                f"{label} 为 {value}，包中实为 {actual}。",
            )
    for label in ("Source-Organization", "Bagging-Date", "Payload-Oxum", "External-Identifier"):
        if not report.info.get(label):
            lines.fail("mandatory", "bag-info.txt", f"{label} is missing.", f"缺少 {label}。")

    # Images: allow-list by content, size limits, decompression guard, decode, resolution; file
    # properties against the metadata.
    def probe(item):
        rel, fmt, number = item
        if payload[rel] > MAX_IMAGE_BYTES:
            return item, {
                "size": None,
                "dpi": None,
                "format": None,
                "problems": [
                    (
                        "limits",
                        f"{payload[rel]} bytes exceeds the {MAX_IMAGE_BYTES}-byte limit",
                        f"{payload[rel]} 字节超过 {MAX_IMAGE_BYTES} 字节的上限",
                    )
                ],
            }
        return item, _probe_image(root / rel, fmt, max_pixels)

    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="verify-image") as pool:
        results = list(pool.map(probe, image_paths))
    metas = {}
    for content in report.dossiers.values():
        if content.meta:
            for page in content.meta.pages:
                metas[f"{content.folder}/{page.file_name}"] = page
    for (rel, fmt, number), result in results:
        for check, en, zh in result["problems"]:
            lines.fail(check, rel, en[:500], zh[:500], number)
        dpi = result["dpi"]
        if result["size"] is not None and not any(c in ("decode", "limits") for c, _, _ in result["problems"]):
            if dpi is None:
                lines.fail(
                    "resolution",
                    rel,
                    "The file records no resolution (dpi) in its header (R03).",
                    "文件头中没有记录分辨率（R03）。",
                    number,
                )
            else:
                x, y = round(dpi[0]), round(dpi[1])
                if x != y or x < MIN_DPI:
                    lines.fail(
                        "resolution",
                        rel,
                        f"{x} × {y} dpi: masters need at least 200 dpi with X = Y (R02/R03).",
                        f"{x} × {y} dpi：母版至少 200 dpi 且横纵一致（R02/R03）。",
                        number,
                    )
            page = metas.get(rel)
            if page is not None:
                w, h = result["size"]
                checks = [
                    ("format", page.values.get("format"), result["format"]),
                    ("width", page.values.get("width"), w),
                    ("height", page.values.get("height"), h),
                ]
                if dpi is not None:
                    checks.append(("dpi", page.values.get("dpi"), round(dpi[0])))
                for key, said, actual in checks:
                    if said != actual:
                        lines.fail(
                            "metadata",
                            rel,
                            f"The metadata gives {key} {said}; the file has {actual}.",
                            f"元数据记载 {key} 为 {said}，文件实为 {actual}。",
                            number,
                        )
    n = len(image_paths)
    lines.passed(
        "formats",
        f"{n} images",
        f"{n} image(s) are JPEG, TIFF or JPEG 2000 by content",
        f"{n} 个图像按内容判定均为 JPEG、TIFF 或 JPEG 2000",
    )
    lines.passed("decode", f"{n} images", f"{n} image(s) decode", f"{n} 个图像均可解码")
    lines.passed(
        "resolution", f"{n} images", f"{n} image(s) at ≥ 200 dpi, X = Y", f"{n} 个图像分辨率均 ≥ 200 dpi 且横纵一致"
    )
    lines.passed(
        "dossier_numbers",
        f"{len(entries)} 档号",
        f"{len(entries)} 档号 follow the rules",
        f"{len(entries)} 个档号均符合规则",
    )
    lines.passed(
        "metadata",
        f"{len(entries)} dossiers, {n} images",
        "metadata agree with 文件目录.xml and the files",
        "元数据与文件目录.xml 及文件一致",
    )
    lines.passed("duplicates", f"{len(entries)} dossiers, {n} images", "no duplicate 档号 or image", "无重复档号或图像")
    lines.passed(
        "register_counts",
        layout.REGISTER_XML,
        f"{len(entries)} dossiers, {n} images, {len(records_files)} files, {records_bytes} bytes",
        f"{len(entries)} 个案卷、{n} 个图像、{len(records_files)} 个文件、{records_bytes} 字节",
    )
    lines.passed("sequence", f"{len(entries)} dossiers", "continuous from 0001", "均自 0001 起连续")
    n_explained = len(lines.explained.get("declared_pages", ()))
    lines.passed(
        "declared_pages",
        f"{len(entries)} dossiers",
        f"{declared_total} declared pages accounted for"
        + (f" ({n_explained} dossier(s) with an explained difference, R09/R10)" if n_explained else ""),
        f"登记 {declared_total} 页均有着落"
        + (f"（其中 {n_explained} 个案卷的差异已说明，R09/R10）" if n_explained else ""),
    )
    lines.passed("mandatory", "bag-info.txt, 文件目录.xml", "present", "齐全")
    xml_count = 3 + len(report.dossiers)
    lines.passed("xml", f"{xml_count} XML files", "well-formed UTF-8 XML", "均为格式正确的 UTF-8 XML")


def _declared_pages(lines: _Lines, folder: str, number: str, declared, images: int, meta, fields: dict) -> None:
    """R09/R10 by the one rule of scanstation.page_count: images + not-scanned notes = 页数, or the
    difference is explained in the dossier's metadata for exactly these counts (then reported as explained)."""
    from scanstation import page_count

    said = meta.count_explanation
    explanation = None
    if said and said.get("text") and None not in (said.get("declared"), said.get("images"), said.get("not_scanned")):
        explanation = page_count.Explanation(
            said["declared"], said["images"], said["not_scanned"], said["text"], said.get("by", ""), said.get("at", "")
        )
    listed = str(fields.get("count_explanation", "")).strip()
    if said and listed != (said.get("text") or ""):
        lines.fail(
            "metadata",
            folder,
            f"页数说明 is '{said.get('text')}' in the dossier's metadata but '{listed}' in 文件目录.xml.",
            f"页数说明在案卷元数据中为“{said.get('text')}”，在文件目录.xml 中为“{listed}”。",
            number,
        )
    status = page_count.status(declared, images, len(meta.notes), explanation)
    if status == page_count.EXPLAINED and explanation is not None:
        en, zh = page_count.describe(explanation)
        lines.explain("declared_pages", folder, f"{en} (R09/R10)", f"{zh}（R09/R10）", number)
    elif status == page_count.UNRESOLVED:
        lines.fail(
            "declared_pages",
            folder,
            f"{declared} pages are declared; the package holds {images} images and {len(meta.notes)} "
            "not-scanned notes, and the difference is not explained.",
            f"登记 {declared} 页；包中有 {images} 个图像、{len(meta.notes)} 条未扫描说明，差异未说明。",
            number,
        )


def verify_folder(
    root: Path,
    *,
    trust: signing.TrustList | None,
    schema=None,
    catalog=None,
    workers: int | None = None,
    scan_malware: bool = True,
    content: bool = True,
    max_pixels: int = MAX_PIXELS,
    zip_findings: list | None = None,
    package: str | None = None,
    is_zip: bool = False,
    tee=None,
) -> VerifyReport:
    """Run every check on a package folder (``root`` may be None when a zip was refused unopened).
    ``tee``: given every payload byte as it is hashed (bagit.hash_files), for a desk that stores the
    files in the same read."""
    import time

    from scanstation import dossier_number

    started = time.perf_counter()
    workers = workers or os.cpu_count() or 1
    report = VerifyReport(
        package=package or str(root), is_zip=is_zip, checked_at=now_iso(), root=root, content_checked=content
    )
    lines = _Lines()
    for f in zip_findings or ():
        lines.fail(ZIP_CODE_CHECK.get(f.code, "paths"), f.object, f.en, f.zh)
    if zip_findings:
        reason = (
            "not checked: the zip file failed the security check and was not opened",
            "未检查：压缩包未通过安全检查，未打开",
        )
        for check in CHECKS:
            lines.skip(check, *reason)
        lines.set("malware", "skipped", "", *reason)
        report.lines = lines.lines()
        report.seconds = time.perf_counter() - started
        return report
    report.name = Path(root).name
    bag = bagit.validate_bag(
        root, algorithms=layout.ALGORITHMS, require_tag_manifest=True, strict=True, workers=workers, tee=tee
    )
    report.payload = dict(bag.payload)
    report.manifests = bag.manifests
    report.info = {label: value for label, value in bag.info}
    if layout.SIGNED_TAG_MANIFEST in bag.tag_files:
        data = _read_small(root, layout.SIGNED_TAG_MANIFEST, bagit.MAX_TAG_FILE_BYTES)
        report.tagmanifest_sm3 = hashlib.new("sm3", data).hexdigest() if data is not None else ""
    for problem in bag.problems:
        check = BAG_CODE_CHECK.get(problem.code, "bagit")
        if problem.code == "algorithm-missing" and problem.object.startswith("tagmanifest"):
            check = "tag_manifest"
        lines.fail(check, problem.object, problem.en, problem.zh)
        if problem.code == "file-unlisted":
            lines.fail("unlisted", problem.object, problem.en, problem.zh)
    _check_unlisted_tag_files(lines, bag)
    _record_verified(report, root, bag)
    n_files, n_bytes = len(bag.payload), sum(bag.payload.values())
    lines.passed(
        "paths",
        f"{n_files + len(bag.tag_files)} files",
        "only regular files inside the package",
        "包内均为普通文件，无包外路径",
    )
    lines.passed("unlisted", f"{n_files} files", "every file is in the manifests", "每个文件均列入清单")
    lines.passed(
        "checksums",
        f"{n_files} files, {n_bytes} bytes",
        f"SHA-256 and SM3 recomputed for {n_files} files and every tag file",
        f"已重算 {n_files} 个文件及全部标签文件的 SHA-256 与 SM3",
    )
    lines.passed("bagit", "bagit.txt", f"BagIt {bag.version}", f"BagIt {bag.version}")
    lines.passed("tag_manifest", "tagmanifest-sha256.txt, tagmanifest-sm3.txt", "present and complete", "存在且完整")
    lines.passed("oxum", "bag-info.txt", f"Payload-Oxum {bag.payload_oxum}", f"Payload-Oxum {bag.payload_oxum}")
    lines.passed("files", f"{n_files} files", "none missing, none extra", "无缺失、无多余")
    lines.passed("encryption", f"{n_files} files", "nothing is encrypted", "无加密内容")
    lines.passed("limits", f"{n_files} files", "within the size limits", "均在大小限制之内")
    _check_signature(lines, root, bag, trust, report)
    tree_unsafe = any(
        p.code in ("symlink", "special-file", "path-unsafe", "name-not-utf8", "unreadable") for p in bag.problems
    )
    if schema is None:
        schema = _package_schema(root, bag) or dossier_number.default_schema()
    if not content:
        reason = ("not checked (fixity only)", "未检查（仅固定性检测）")
        for check in (
            "register_digest",
            "dossier_numbers",
            "metadata",
            "duplicates",
            "register_counts",
            "mandatory",
            "sequence",
            "declared_pages",
            "xml",
            "formats",
            "decode",
            "resolution",
        ):
            lines.skip(check, *reason)
    elif tree_unsafe:
        reason = (
            "not checked: the package failed the security check, so its files were not opened",
            "未检查：移交包未通过安全检查，未打开其中的文件",
        )
        for check in (
            "register_digest",
            "dossier_numbers",
            "metadata",
            "duplicates",
            "register_counts",
            "mandatory",
            "sequence",
            "declared_pages",
            "xml",
            "formats",
            "decode",
            "resolution",
        ):
            lines.skip(check, *reason)
    else:
        _content_checks(
            lines, root, bag, report, schema=schema, catalog=catalog, workers=workers, max_pixels=max_pixels
        )
    if scan_malware and not tree_unsafe:
        result = malware.scan(Path(root) / "data")
    elif tree_unsafe:
        result = {"status": "skipped", "engine": "", "version": "", "findings": []}
    else:
        result = {"status": "not_available", "engine": "", "version": "", "findings": []}
    report.malware = result
    if result["status"] == "clean":
        lines.passed(
            "malware",
            f"{result['engine']}",
            f"no malware found ({result['version']})",
            f"未发现恶意代码（{result['version']}）",
        )
    elif result["status"] == "not_available":
        lines.set(
            "malware",
            "not_available",
            "",
            "not available: no ClamAV (clamscan/clamdscan) is installed",
            "未检测：未安装 ClamAV（clamscan/clamdscan）",
        )
    elif result["status"] == "skipped":
        lines.set(
            "malware", "skipped", "", "not run: the package failed the security check", "未运行：移交包未通过安全检查"
        )
    elif result["status"] == "infected":
        for finding in result["findings"] or ["?"]:
            lines.fail(
                "malware",
                finding.split(":", 1)[0],
                f"{finding} ({result['version']})",
                f"{finding}（{result['version']}）",
            )
    else:
        lines.fail(
            "malware",
            result["engine"],
            f"the scan failed: {'; '.join(result['findings'])}",
            f"检测失败：{'；'.join(result['findings'])}",
        )
    report.lines = lines.lines()
    report.seconds = time.perf_counter() - started
    return report


def _record_verified(report: VerifyReport, root: Path, bag: bagit.BagReport) -> None:
    """What a copy must match: manifest digests (checked by the bag pass) and the tag manifests as read."""
    report.verified.update(bag.manifests.get("sm3", {}))
    report.verified.update(bag.tag_manifests.get("sm3", {}))
    for rel in bag.tag_files:
        if bagit.is_tag_manifest(rel):
            data = _read_small(root, rel, bagit.MAX_TAG_FILE_BYTES)
            if data is not None:
                report.verified[rel] = hashlib.new("sm3", data).hexdigest()


def _check_unlisted_tag_files(lines: _Lines, bag: bagit.BagReport) -> None:
    """BagIt allows tag files no tag manifest lists; our packages do not (they would be copied unchecked)."""
    if not bag.tag_manifests:
        return  # reported as tag_manifest: nothing outside data/ is protected at all
    for rel in bag.uncovered_tag_files:
        if rel in UNMANIFESTED_TAG_FILES:
            continue
        lines.fail(
            "unlisted",
            rel,
            f"{rel} is outside data/ and no tag manifest lists it: nothing vouches for it. Ask the sender for "
            "the package as sealed.",
            f"{rel} 位于 data/ 之外，且未列入任何标签清单，无法证明其来源。请向移交方索取原封装的移交包。",
        )


def _package_schema(root: Path, bag: bagit.BagReport):
    from scanstation import dossier_number

    if layout.SCHEMA_JSON not in bag.payload or bag.payload[layout.SCHEMA_JSON] > 1 << 20:
        return None
    try:
        return dossier_number.Schema.from_dict(json.loads((root / layout.SCHEMA_JSON).read_text("utf-8")))
    except Exception:
        return None


@contextlib.contextmanager
def checked(
    path,
    *,
    trust,
    schema=None,
    catalog=None,
    workers: int | None = None,
    scan_malware: bool = True,
    content: bool = True,
    work_dir: Path | None = None,
    max_pixels: int = MAX_PIXELS,
    tee=None,
):
    """Open a package folder or .zip, verify it, and yield the report while its files are readable."""
    if not Path(path).exists():
        from scanstation.errors import NotFound

        raise NotFound("There is no package at {p}.", "{p} 处没有移交包。", p=str(path))
    with zip_package.opened(path, work_dir) as (root, findings, is_zip):
        yield verify_folder(
            root,
            trust=trust,
            schema=schema,
            catalog=catalog,
            workers=workers,
            scan_malware=scan_malware,
            content=content,
            zip_findings=findings,
            package=str(path),
            is_zip=is_zip,
            max_pixels=max_pixels,
            tee=tee,
        )


def verify_package(
    path,
    *,
    trust,
    schema=None,
    catalog=None,
    workers: int | None = None,
    scan_malware: bool = True,
    content: bool = True,
    work_dir: Path | None = None,
) -> VerifyReport:
    with checked(
        path,
        trust=trust,
        schema=schema,
        catalog=catalog,
        workers=workers,
        scan_malware=scan_malware,
        content=content,
        work_dir=work_dir,
    ) as report:
        report.root = None
        return report


# -- the written report -----------------------------------------------------------------------
def report_pdf(report: VerifyReport) -> bytes:
    from scanstation.transfer.pdf_report import PdfDocument

    status_zh = {
        "pass": "通过",
        "fail": "不通过",
        "not_available": "未检测",
        "skipped": "未检查",
        "explained": "已说明",
    }
    doc = PdfDocument("电子档案移交四性检测报告", report.info.get("External-Identifier", report.name))
    signer = report.signer or {}
    doc.key_values(
        [
            ("移交包 Package", report.package),
            ("批次 Batch", report.info.get("External-Identifier", "")),
            ("移交单位 From", report.info.get("Source-Organization", "")),
            ("标签清单摘要 Tag-manifest digest (SM3)", report.tagmanifest_sm3 or "—"),
            (
                "签名者 Signer",
                f"{signer.get('trusted_name') or '—'} {signer.get('algorithm', '')} "
                f"{signer.get('fingerprint', '')[:32]}",
            ),
            ("数量 Counts", json.dumps(report.counts, ensure_ascii=False)),
            ("恶意代码检测 Malware scan", malware.describe(report.malware) if report.malware else "—"),
            ("检测时间 Checked", report.checked_at),
            ("软件 Software", f"{SOFTWARE_NAME} {__version__}"),
            (
                "结论 Result",
                ("通过 PASSED" if report.passed else "不通过 FAILED")
                + "  "
                + "，".join(f"{PROPERTY_ZH[p]} {status_zh.get(report.property_result(p), '')}" for p in PROPERTIES),
            ),
        ]
    )
    doc.heading("检测明细 Checks")
    rows = [["性质 Property", "检测项 Check", "结果 Result", "对象 Object", "说明 Detail"]]
    fail_rows = set()
    shown = report.lines[:3000]
    for line in shown:
        _, title_en, title_zh = CHECKS[line.check]
        rows.append(
            [
                f"{PROPERTY_ZH[line.property]}\n{line.property}",
                f"{title_zh}\n{title_en}",
                status_zh.get(line.status, line.status),
                line.object,
                f"{line.zh}\n{line.en}",
            ]
        )
        if line.status == "fail":
            fail_rows.add(len(rows) - 1)
    doc.table(rows, widths=(0.12, 0.2, 0.08, 0.25, 0.35), fail_rows=fail_rows)
    if len(report.lines) > len(shown):
        doc.paragraph(f"… 另有 {len(report.lines) - len(shown)} 行，见 JSON 报告。")
    return doc.render()


def write_report(report: VerifyReport, out_dir) -> tuple[Path, Path]:
    from scanstation.storage.files import write_atomic

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    stamp = report.checked_at[:19].replace(":", "").replace("-", "")
    base = f"四性检测-{report.info.get('External-Identifier') or report.name or 'package'}-{stamp}"
    json_path, pdf_path = out_dir / f"{base}.json", out_dir / f"{base}.pdf"
    write_atomic(json_path, (json.dumps(report.to_dict(), ensure_ascii=False, indent=2) + "\n").encode("utf-8"))
    write_atomic(pdf_path, report_pdf(report))
    return json_path, pdf_path


__all__ = [
    "CHECKS",
    "CheckLine",
    "PROPERTIES",
    "VerifyReport",
    "checked",
    "report_pdf",
    "verify_folder",
    "verify_package",
    "write_report",
]
