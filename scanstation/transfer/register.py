"""The transfer register (电子档案移交与接收登记表, R32) as XML and PDF.

It names the package, describes it, counts dossiers, images and files, gives the data volume in
GB to three decimals, the carrier, the results of the four checks (the transferring side's when
sealing; the receiving side's are filled in by the receipt), the digest with its algorithm, and
signer / reviewer / date lines for both sides.

The digest is SM3 over the SM3 manifest lines of 文件目录.xml and every file under 电子档案/
(``package_layout.register_digest``): the register travels inside the package it describes, so it
cannot name the digest of the manifest that lists it; the receiver recomputes this digest from the
verified manifest.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET

from scanstation.transfer import package_layout as layout
from scanstation.transfer.pdf_report import PdfDocument

GB = 1024**3
PROPERTIES = (("authenticity", "真实性"), ("integrity", "完整性"), ("usability", "可用性"), ("security", "安全性"))
RESULT_ZH = {"pass": "通过", "fail": "不通过", "not_available": "未检测", "": ""}


def gb(value: int) -> str:
    return f"{value / GB:.3f}"


def register_xml(reg: dict) -> bytes:
    root = ET.Element("电子档案移交与接收登记表", {"批次": reg["batch_id"]})
    base = ET.SubElement(root, "基本信息")
    for tag, key in (
        ("名称", "name"),
        ("内容描述", "description"),
        ("批次号", "batch_id"),
        ("全宗号", "fonds"),
        ("年度", "year"),
        ("移交单位", "organization"),
        ("移交站点", "station"),
        ("载体", "carrier"),
        ("移交截止日期", "deadline"),
        ("封装时间", "sealed_at"),
    ):
        ET.SubElement(base, tag).text = str(reg.get(key, ""))
    counts = ET.SubElement(root, "数量")
    ET.SubElement(counts, "案卷数").text = str(reg["dossiers"])
    ET.SubElement(counts, "图像文件数").text = str(reg["images"])
    ET.SubElement(counts, "登记页数").text = str(reg["declared_pages"])
    ET.SubElement(counts, "文件总数").text = str(reg["files"])
    ET.SubElement(counts, "字节数").text = str(reg["bytes"])
    ET.SubElement(counts, "数据量", {"单位": "GB", "换算": f"1 GB = {GB} 字节"}).text = gb(reg["bytes"])
    if reg.get("explained"):  # R09/R10: differences between images and 页数 that were explained at completion
        explained = ET.SubElement(root, "页数说明", {"案卷数": str(len(reg["explained"]))})
        for e in reg["explained"]:
            ET.SubElement(
                explained,
                "案卷",
                {
                    "档号": e["number"],
                    "登记页数": str(e["declared"]),
                    "图像数": str(e["images"]),
                    "未扫描说明数": str(e["not_scanned"]),
                    "说明人": e.get("by", ""),
                },
            ).text = e["text"]
    ET.SubElement(
        root, "摘要", {"算法": "SM3", "范围": "文件目录.xml 与 电子档案/ 下每个文件的 SM3 清单行（按路径排序）"}
    ).text = reg["digest"]
    for side, tag in (("sender", "移交方"), ("receiver", "接收方")):
        checks = ET.SubElement(root, "检测", {"方": tag})
        results = reg.get("checks", {}).get(side, {})
        for key, name in PROPERTIES:
            item = results.get(key, {})
            ET.SubElement(
                checks, name, {"结果": RESULT_ZH.get(item.get("result", ""), item.get("result", ""))}
            ).text = item.get("note", "")
    signs = ET.SubElement(root, "签署")
    for side, tag in (("sender", "移交方"), ("receiver", "接收方")):
        s = reg.get("signatures", {}).get(side, {})
        ET.SubElement(
            signs,
            tag,
            {
                "经办人": s.get("handler", ""),
                "审核人": s.get("reviewer", ""),
                "日期": s.get("date", ""),
                "单位": s.get("organization", ""),
            },
        )
    return layout.to_bytes(root)


def read_register_xml(data: bytes) -> dict:
    root = layout.parse_xml(data, "移交登记表.xml")
    if root.tag != "电子档案移交与接收登记表":
        raise layout.XmlProblem(
            "移交登记表.xml has the root element <{tag}>.", "移交登记表.xml 的根元素是 <{tag}>。", tag=root.tag
        )

    def num(path):
        el = root.find(path)
        try:
            return int((el.text or "").strip()) if el is not None else None
        except ValueError:
            return None

    digest = root.find("摘要")
    volume = root.find("数量/数据量")
    return {
        "batch_id": root.get("批次", ""),
        "dossiers": num("数量/案卷数"),
        "images": num("数量/图像文件数"),
        "declared_pages": num("数量/登记页数"),
        "files": num("数量/文件总数"),
        "bytes": num("数量/字节数"),
        "volume_gb": (volume.text or "").strip() if volume is not None else "",
        "explained": [el.get("档号", "") for el in root.findall("页数说明/案卷")],
        "digest": (digest.text or "").strip().lower() if digest is not None else "",
        "digest_algorithm": digest.get("算法", "") if digest is not None else "",
    }


def register_pdf(reg: dict, title: str = "电子档案移交与接收登记表") -> bytes:
    doc = PdfDocument(title, reg["batch_id"])
    doc.key_values(
        [
            ("名称 Name", reg.get("name", "")),
            ("内容描述 Description", reg.get("description", "")),
            ("批次号 Batch", reg["batch_id"]),
            ("全宗号 / 年度 Fonds / year", f"{reg.get('fonds', '')} / {reg.get('year', '')}"),
            ("移交单位 Transferring unit", reg.get("organization", "")),
            ("移交站点 Station", reg.get("station", "")),
            ("载体 Carrier", reg.get("carrier", "")),
            ("移交截止日期 Deadline", reg.get("deadline", "")),
            ("封装时间 Sealed", reg.get("sealed_at", "")),
            ("案卷数 Dossiers", reg["dossiers"]),
            ("图像文件数 Images", reg["images"]),
            ("登记页数 Declared pages", reg["declared_pages"]),
            ("文件总数 Files", reg["files"]),
            ("数据量 Volume", f"{gb(reg['bytes'])} GB（{reg['bytes']} 字节，1 GB = {GB} 字节）"),
            ("摘要 Digest (SM3)", reg["digest"]),
        ]
    )
    doc.heading("四性检测结果 Results of the four checks")
    rows = [["检测项 Check", "移交方 Transferring side", "接收方 Receiving side"]]
    checks = reg.get("checks", {})
    for key, name in PROPERTIES:
        cells = []
        for side in ("sender", "receiver"):
            item = checks.get(side, {}).get(key, {})
            result = RESULT_ZH.get(item.get("result", ""), item.get("result", ""))
            cells.append(f"{result}  {item.get('note', '')}".strip())
        rows.append([f"{name} {key}"] + cells)
    doc.table(rows, widths=(0.2, 0.4, 0.4))
    if reg.get("explained"):
        doc.heading("页数差异说明 Explained page-count differences (R09/R10)")
        rows = [["档号", "登记页数 Declared", "图像 Images", "未扫描说明 Notes", "说明 Explanation"]]
        rows += [
            [
                e["number"],
                str(e["declared"]),
                str(e["images"]),
                str(e["not_scanned"]),
                f"{e['text']}（{e.get('by', '')}）",
            ]
            for e in reg["explained"]
        ]
        doc.table(rows, widths=(0.3, 0.12, 0.12, 0.12, 0.34))
    doc.heading("签署 Signatures")
    sig_rows = [["", "移交方 Transferring side", "接收方 Receiving side"]]
    signs = reg.get("signatures", {})
    for label, key in (
        ("单位 Unit", "organization"),
        ("经办人 Handled by", "handler"),
        ("审核人 Reviewed by", "reviewer"),
        ("日期 Date", "date"),
    ):
        sig_rows.append(
            [label, signs.get("sender", {}).get(key, "") or " ", signs.get("receiver", {}).get(key, "") or " "]
        )
    doc.table(sig_rows, widths=(0.2, 0.4, 0.4))
    if reg.get("footnote"):
        doc.spacer()
        doc.paragraph(reg["footnote"], small=True)
    return doc.render()


__all__ = ["GB", "PROPERTIES", "gb", "read_register_xml", "register_pdf", "register_xml"]
