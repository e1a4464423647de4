"""DA/T 48 electronic file encapsulation packages (EEP, 基于XML的电子文件封装), one per 件.

An alternative to the BagIt transfer package for archive systems that ask for EEP. One XML file per
dossier (件), UTF-8 (R23), holding:

    电子文件封装包
      封装包格式描述, 版本
      被签名对象 (eep版本="2009")
        封装包类型 原始型, 封装包类型描述, 封装包创建时间, 封装包创建单位
        封装内容 / 文件实体块 / 文件实体
          DA/T 46 metadata: 聚合层次, 来源, 电子文件号, 档号 (全宗号, 年度, 保管期限, 件号),
          内容描述 (题名, 责任者, 日期, 附注), 形式特征 (页数, 文件组合类型), 权限管理 (密级)
          文件数据 / 文档 / 文档数据 / 编码 per page: 电子属性 (格式信息, 计算机文件名,
          计算机文件大小, 数字摘要 SM3 and SHA-256 of the image), 数字化属性 (扫描分辨率,
          扫描色彩模式), 编码描述, 反编码关键字 (the extension), 编码数据 (the image, base64)
      电子签名块 / 电子签名
        签名规则, 签名时间, 签名人, 签名结果 (base64 of the SM2 signature, DER r/s),
        证书块 / 证书 (the station's public key, PEM), 证书引证 (its fingerprint), 签名算法标识

What is signed: the UTF-8 bytes of the XML canonical form (C14N 2.0, ``xml.etree.ElementTree.
canonicalize``) of the 被签名对象 element, with the station key (SM2 with SM3 and the default ID,
as ``scanstation.transfer.signing`` makes; OpenSSL verifies it). ``verify`` recomputes those bytes,
checks the signature and every image's digests, and compares the pages with 页数.
"""

from __future__ import annotations

import base64
import binascii
import io
import re
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree as ET

from scanstation.custody import protection
from scanstation.errors import CheckFailed, InvalidInput, Refused
from scanstation.export import check_out_path, require_numbers, resolve_dossier
from scanstation.storage.files import digests, write_atomic

FORMAT_DESCRIPTION = "本EEP根据中华人民共和国档案行业标准DA/T 48-2009《基于XML的电子文件封装规范》生成"
VERSION = "2009"
SIGNATURE_RULE = (
    "对“被签名对象”元素的XML规范化形式（C14N 2.0，UTF-8）以SM2/SM3签名（GB/T 32918，默认用户标识"
    "1234567812345678）；签名结果为DER编码(r, s)的Base64"
)
ALGORITHM_ID = {"sm2": "SM2-with-SM3 1.2.156.10197.1.501", "ed25519": "Ed25519 1.3.101.112"}
ENCODING_DESCRIPTION = (
    "本封装包中“编码数据”元素存储的是计算机文件二进制流的Base64编码（IETF RFC 2045）；提取时应对其"
    "反编码，并依据“反编码关键字”元素中记录的值还原计算机文件的扩展名"
)
MIME = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "tif": "image/tiff",
    "tiff": "image/tiff",
    "jp2": "image/jp2",
    "png": "image/png",
}
COLOUR_ZH = {"color": "彩色", "gray": "灰度", "lineart": "黑白"}
SUFFIX = ".eep"


def _sub(parent, tag: str, text=None, **attrs) -> ET.Element:
    node = ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items()})
    if text is not None:
        node.text = str(text)
    return node


def signed_bytes(signed_object: ET.Element) -> bytes:
    """The bytes the signature covers: the canonical form of the 被签名对象 element."""
    return ET.canonicalize(ET.tostring(signed_object, encoding="unicode")).encode("utf-8")


def _item_number(number: str) -> str:
    return number.rsplit("-", 1)[-1] if "-" in number else ""


def build(session, dossier: dict, store, signer, moment: datetime) -> tuple[bytes, dict]:
    """The EEP XML of one dossier (件) and a summary."""
    home = session.home
    pages = session.catalog.query(
        "SELECT seq, file_name, sha256, sm3, dpi, color_mode FROM pages WHERE dossier_id = ?"
        " AND state = 'active' AND file_name != '' ORDER BY seq",
        (dossier["id"],),
    )
    if not pages:
        raise Refused(
            "Dossier {n} has no scanned pages to package.", "案卷 {n} 没有可封装的扫描页面。", n=dossier["number"]
        )
    root = ET.Element("电子文件封装包")
    _sub(root, "封装包格式描述", FORMAT_DESCRIPTION)
    _sub(root, "版本", VERSION)
    signed = _sub(root, "被签名对象", eep版本=VERSION)
    _sub(signed, "封装包类型", "原始型")
    _sub(signed, "封装包类型描述", "本封装包包含电子文件数据及其元数据，原始封装，未经修改")
    _sub(signed, "封装包创建时间", moment.isoformat(timespec="seconds"))
    _sub(signed, "封装包创建单位", f"{home.fonds} {home.station}")
    entity = _sub(_sub(_sub(signed, "封装内容"), "文件实体块"), "文件实体")
    _sub(entity, "聚合层次", "件")
    source = _sub(entity, "来源")
    _sub(source, "全宗名称", dossier["fonds_code"])
    _sub(source, "立档单位名称", dossier["responsible"] or "")
    _sub(entity, "电子文件号", dossier["number"])
    code = _sub(entity, "档号")
    _sub(code, "档号", dossier["number"])
    _sub(code, "全宗号", dossier["fonds_code"])
    _sub(code, "年度", dossier["year"])
    _sub(code, "保管期限", dossier["retention"])
    _sub(code, "件号", dossier["item_no"] or _item_number(dossier["number"]))
    content = _sub(entity, "内容描述")
    _sub(content, "题名", dossier["title"] or "")
    _sub(content, "责任者", dossier["responsible"] or "")
    _sub(content, "日期", dossier["date"] or "")
    _sub(content, "附注", dossier["remarks"] or "")
    form = _sub(entity, "形式特征")
    _sub(form, "文件组合类型", "单件" if len(pages) == 1 else "组合文件")
    _sub(form, "页数", dossier["declared_pages"] if dossier["declared_pages"] is not None else "")
    rights = _sub(entity, "权限管理")
    _sub(rights, "密级", dossier["security_level"] or "")
    _sub(rights, "保管期限", dossier["retention"])
    doc = _sub(_sub(entity, "文件数据"), "文档", 文档标识符="修改0文档1")
    _sub(doc, "文档序号", 1)
    data_el = _sub(doc, "文档数据", 文档数据标识符="修改0文档1数据1")
    total = 0
    for p in pages:
        try:
            data = store.read_bytes(dossier["number"], p["file_name"])
        except FileNotFoundError:
            raise Refused(
                "Page {seq} of {n} is missing from the store; nothing was exported. Run: scanstation fixity check",
                "{n} 第 {seq} 页在存储中缺失；未导出任何内容。请执行：scanstation fixity check",
                seq=p["seq"],
                n=dossier["number"],
            ) from None
        sha256, sm3 = digests(data)
        if (p["sha256"] and sha256 != p["sha256"]) or (p["sm3"] and sm3 != p["sm3"]):
            raise CheckFailed(
                "Page {seq} of {n} no longer matches its checksum in the catalog; nothing was exported. "
                "Run: scanstation fixity check",
                "{n} 第 {seq} 页与目录中的校验值不符；未导出任何内容。请执行：scanstation fixity check",
                seq=p["seq"],
                n=dossier["number"],
            )
        ext = p["file_name"].rsplit(".", 1)[-1].lower()
        enc = _sub(data_el, "编码", 编码标识符=f"修改0文档1数据1编码{p['seq']}")
        props = _sub(enc, "电子属性")
        _sub(props, "格式信息", MIME.get(ext, "application/octet-stream"))
        _sub(props, "计算机文件名", p["file_name"])
        _sub(props, "计算机文件大小", len(data))
        _sub(props, "数字摘要", sm3, 算法="SM3")
        _sub(props, "数字摘要", sha256, 算法="SHA-256")
        digi = _sub(enc, "数字化属性")
        _sub(digi, "数字化对象形态", "纸质")
        _sub(digi, "扫描分辨率", p["dpi"] or "")
        _sub(digi, "扫描色彩模式", COLOUR_ZH.get(p["color_mode"], p["color_mode"] or ""))
        _sub(enc, "编码描述", ENCODING_DESCRIPTION)
        _sub(enc, "反编码关键字", ext)
        _sub(enc, "编码数据", base64.b64encode(data).decode("ascii"))
        total += len(data)
    signature = signer.sign(signed_bytes(signed))
    block = _sub(_sub(root, "电子签名块"), "电子签名", 签名标识符="签名1")
    _sub(block, "签名规则", SIGNATURE_RULE)
    _sub(block, "签名时间", moment.isoformat(timespec="seconds"))
    _sub(block, "签名人", f"{home.station} {session.user.name}")
    _sub(block, "签名结果", base64.b64encode(signature).decode("ascii"))
    _sub(_sub(block, "证书块"), "证书", signer.public_pem)
    _sub(block, "证书引证", signer.fingerprint)
    _sub(block, "签名算法标识", ALGORITHM_ID[signer.algorithm])
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True), {"pages": len(pages), "image_bytes": total}


def export_eep(session, numbers, out, signer, now: datetime | None = None) -> dict:
    """One signed EEP per dossier into ``out`` (a folder, or a file name when one dossier is given)."""
    session.require("export")
    moment = now or datetime.now().astimezone()
    numbers = require_numbers(numbers)
    dossiers = [resolve_dossier(session.catalog, n) for n in numbers]
    targets = [check_out_path(Path(out), SUFFIX, len(dossiers), d["number"]) for d in dossiers]
    store = protection.image_store(session.home)
    files = []
    for dossier, target in zip(dossiers, targets):
        data, summary = build(session, dossier, store, signer, moment)
        write_atomic(target, data)
        sha256, sm3 = digests(data)
        entry = {
            "number": dossier["number"],
            "file": str(target),
            "bytes": len(data),
            "sha256": sha256,
            "sm3": sm3,
            "pages": summary["pages"],
            "key": signer.fingerprint,
            "algorithm": signer.algorithm,
        }
        session.log("export.eep", "dossier", dossier["number"], entry)
        files.append(entry)
    return {"format": "eep", "count": len(files), "files": files}


# -- verification ----------------------------------------------------------------------------------
_B64_RE = re.compile(r"\s+")


def verify(path, trust=None) -> dict:
    """Check an EEP: it parses, the signature verifies over the signed object, every image decodes
    from base64 with the digests it names, and the pages agree with 页数.

    Returns {"ok", "problems": [(en, zh)], "number", "pages", "declared_pages", "signer", "trusted"}.
    A file that is not an EEP raises InvalidInput.
    """
    from scanstation.transfer import signing

    path = Path(path)
    try:
        tree = ET.parse(path)
    except (OSError, ET.ParseError) as exc:
        raise InvalidInput(
            "{f} is not a readable EEP file ({e}).", "{f} 不是可读取的 EEP 文件（{e}）。", f=str(path), e=str(exc)
        ) from exc
    root = tree.getroot()
    if root.tag != "电子文件封装包":
        raise InvalidInput(
            "{f} is not a DA/T 48 EEP (root element {t}).",
            "{f} 不是 DA/T 48 电子文件封装包（根元素 {t}）。",
            f=str(path),
            t=root.tag,
        )
    problems: list[tuple[str, str]] = []
    signed = root.find("被签名对象")
    sig = root.find("电子签名块/电子签名")
    result = {"file": str(path), "number": "", "pages": 0, "declared_pages": None, "signer": "", "trusted": None}
    if signed is None:
        problems.append(("the package has no 被签名对象", "封装包缺少“被签名对象”"))
    else:
        result["number"] = signed.findtext("封装内容/文件实体块/文件实体/档号/档号") or ""
        declared = signed.findtext("封装内容/文件实体块/文件实体/形式特征/页数") or ""
        result["declared_pages"] = int(declared) if declared.strip().isdigit() else None
        encodings = signed.findall("封装内容/文件实体块/文件实体/文件数据/文档/文档数据/编码")
        result["pages"] = len(encodings)
        for enc in encodings:
            name = enc.findtext("电子属性/计算机文件名") or enc.get("编码标识符", "?")
            try:
                data = base64.b64decode(_B64_RE.sub("", enc.findtext("编码数据") or ""), validate=True)
            except (binascii.Error, ValueError):
                problems.append((f"{name}: 编码数据 is not valid base64", f"{name}：编码数据不是有效的 Base64"))
                continue
            sha256, sm3 = digests(data)
            named = {d.get("算法"): (d.text or "").strip().lower() for d in enc.findall("电子属性/数字摘要")}
            if not named:
                problems.append((f"{name}: no digest", f"{name}：缺少数字摘要"))
            if named.get("SM3", sm3) != sm3 or named.get("SHA-256", sha256) != sha256:
                problems.append((f"{name}: digest does not match the image", f"{name}：数字摘要与图像不符"))
            size = enc.findtext("电子属性/计算机文件大小") or ""
            if size.strip() and size.strip() != str(len(data)):
                problems.append(
                    (
                        f"{name}: size {size} differs from the image's {len(data)} bytes",
                        f"{name}：文件大小 {size} 与图像的 {len(data)} 字节不符",
                    )
                )
            try:
                from PIL import Image

                with Image.open(io.BytesIO(data)) as img:
                    img.verify()
            except Exception as exc:  # noqa: BLE001 - any decoder error means the image is unusable
                problems.append((f"{name}: the image does not decode ({exc})", f"{name}：图像无法解码（{exc}）"))
        if result["declared_pages"] is not None and result["declared_pages"] != result["pages"]:
            problems.append(
                (
                    f"{result['pages']} images but 页数 is {result['declared_pages']}",
                    f"图像 {result['pages']} 幅，但页数为 {result['declared_pages']}",
                )
            )
    if sig is None:
        problems.append(("the package is not signed (no 电子签名)", "封装包未签名（缺少“电子签名”）"))
    elif signed is not None:
        pem = sig.findtext("证书块/证书") or ""
        try:
            signature = base64.b64decode(_B64_RE.sub("", sig.findtext("签名结果") or ""), validate=True)
            ok = signing.verify(pem, signed_bytes(signed), signature)
            result["signer"] = signing.fingerprint(pem)
        except (binascii.Error, ValueError, InvalidInput):
            ok = False
        if not ok:
            problems.append(
                (
                    "the signature does not verify: the package was changed or damaged",
                    "签名验证失败：封装包已被修改或损坏",
                )
            )
        elif trust is not None:
            result["trusted"] = trust.is_trusted(pem)
            if not result["trusted"]:
                problems.append(
                    (
                        f"the signing key {result['signer']} is not in the trust list",
                        f"签名密钥 {result['signer']} 不在信任列表中",
                    )
                )
    result["ok"] = not problems
    result["problems"] = problems
    return result


__all__ = ["SUFFIX", "build", "export_eep", "signed_bytes", "verify"]
