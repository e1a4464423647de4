"""数据挂接 export: the catalog in the column order archive management systems import, plus the
images in one folder per 档号 and a checksum file.

``scanstation export catalog [--year Y] [--batch B] --format xlsx|csv|xml --out FILE --images DIR``

Columns: 档号, 全宗号, 年度, 保管期限, 题名, 责任者, 日期, 页数, 密级, 备注, 图像文件夹, 图像数量.
Images: ``DIR/{档号}/{档号}-NNNN.ext`` (the plain masters, decrypted when encrypted at rest), and
``DIR/checksums.csv`` (文件, 字节数, SM3, SHA-256) for every image. Each image's digests are
recomputed from the bytes written and compared with the catalog's (R22): a page whose bytes no
longer match stops the export with a message naming it.

Spreadsheet safety: in CSV a cell starting with = + - @ (or a tab / carriage return) gets a leading
apostrophe, so no spreadsheet evaluates it as a formula; in XLSX such a value is stored as a text
cell (never a formula) and keeps its exact value.

The images are staged in ``DIR.part`` and moved to ``DIR`` when complete; the catalog file is
written last, atomically. Nothing that exists is overwritten.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
from datetime import datetime
from pathlib import Path
from xml.etree import ElementTree as ET

from scanstation.custody import protection
from scanstation.errors import CheckFailed, InvalidInput, NotFound, Refused
from scanstation.spreadsheet_cells import safe_cell
from scanstation.storage.files import digests, write_atomic

COLUMNS = (
    "档号",
    "全宗号",
    "年度",
    "保管期限",
    "题名",
    "责任者",
    "日期",
    "页数",
    "密级",
    "备注",
    "图像文件夹",
    "图像数量",
)
FORMATS = ("xlsx", "csv", "xml")
CHECKSUM_FILE = "checksums.csv"


def csv_safe(value) -> str:
    """A CSV cell that no spreadsheet evaluates as a formula (the station's one rule: spreadsheet_cells)."""
    return safe_cell("" if value is None else str(value))


def select(catalog, fonds: str, year: int | None = None, batch: str | None = None) -> list[dict]:
    where, params = ["d.status != 'destroyed'", "d.fonds_code = ?"], [fonds]
    if year is not None:
        where.append("d.year = ?")
        params.append(year)
    if batch:
        row = catalog.one("SELECT id FROM batches WHERE batch_id = ?", (batch.strip(),))
        if row is None:
            raise NotFound(
                "No batch {b}. List batches with: scanstation batch list",
                "没有批次 {b}。可用 scanstation batch list 查看。",
                b=batch,
            )
        where.append("d.batch_id = ?")
        params.append(row["id"])
    return catalog.query("SELECT d.* FROM dossiers d WHERE " + " AND ".join(where) + " ORDER BY d.number", params)


def row_values(dossier: dict, images: int) -> list:
    d = dossier
    return [
        d["number"],
        d["fonds_code"],
        d["year"],
        d["retention"],
        d["title"] or "",
        d["responsible"] or "",
        d["date"] or "",
        d["declared_pages"] if d["declared_pages"] is not None else "",
        d["security_level"] or "",
        d["remarks"] or "",
        d["number"] if images else "",
        images,
    ]


def _xlsx(rows: list[list]) -> bytes:
    from openpyxl import Workbook

    wb = Workbook()
    ws = wb.active
    ws.title = "目录"
    ws.append(list(COLUMNS))
    for row in rows:
        ws.append([None] * len(row))
        r = ws.max_row
        for c, value in enumerate(row, start=1):
            cell = ws.cell(row=r, column=c)
            cell.value = value
            if isinstance(value, str):
                cell.data_type = "s"  # text, never a formula, whatever it starts with
    ws.freeze_panes = "A2"
    out = io.BytesIO()
    wb.save(out)
    return out.getvalue()


def _csv(rows: list[list]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(COLUMNS)
    for row in rows:
        writer.writerow([csv_safe(v) for v in row])
    return out.getvalue().encode("utf-8-sig")  # BOM: spreadsheets open the Chinese text correctly


def _xml(rows: list[list], fonds: str, moment: datetime) -> bytes:
    root = ET.Element(
        "目录", {"全宗号": fonds, "导出时间": moment.isoformat(timespec="seconds"), "条目数": str(len(rows))}
    )
    for row in rows:
        item = ET.SubElement(root, "条目")
        for name, value in zip(COLUMNS, row):
            ET.SubElement(item, name).text = "" if value is None else str(value)
    ET.indent(root)
    return ET.tostring(root, encoding="UTF-8", xml_declaration=True)


def export_catalog(
    session,
    out,
    fmt: str,
    images_dir,
    *,
    year: int | None = None,
    batch: str | None = None,
    now: datetime | None = None,
) -> dict:
    session.require("export")
    if fmt not in FORMATS:
        raise InvalidInput(
            "Unknown catalog format {f}; use xlsx, csv or xml.", "未知的目录格式 {f}；请使用 xlsx、csv 或 xml。", f=fmt
        )
    out, images_dir = Path(out), Path(images_dir)
    if out.exists():
        raise Refused(
            "{f} already exists; nothing was overwritten. Choose another --out.",
            "{f} 已存在；未覆盖任何文件。请另选 --out。",
            f=str(out),
        )
    if images_dir.exists() and (not images_dir.is_dir() or any(images_dir.iterdir())):
        raise Refused(
            "{f} already holds files; give a new or empty folder for the images.",
            "{f} 中已有文件；请为图像指定新的或空的目录。",
            f=str(images_dir),
        )
    moment = now or datetime.now().astimezone()
    dossiers = select(session.catalog, session.home.fonds, year, batch)
    if not dossiers:
        raise NotFound(
            "No dossiers match (year {y}, batch {b}); nothing was exported.",
            "没有符合条件的案卷（年度 {y}，批次 {b}）；未导出任何内容。",
            y=year if year is not None else "-",
            b=batch or "-",
        )
    store = protection.image_store(session.home)
    stage = images_dir.with_name(images_dir.name + ".part")
    if stage.exists():
        shutil.rmtree(stage)  # our own leftover of an interrupted export (never the target itself)
    rows, sums, total_bytes = [], [], 0
    try:
        for d in dossiers:
            pages = session.catalog.query(
                "SELECT seq, file_name, sha256, sm3 FROM pages WHERE dossier_id = ?"
                " AND state = 'active' AND file_name != '' ORDER BY seq",
                (d["id"],),
            )
            for p in pages:
                try:
                    data = store.read_bytes(d["number"], p["file_name"])
                except FileNotFoundError:
                    raise Refused(
                        "Page {seq} of {n} is missing from the store; nothing was exported. Run: scanstation fixity check",
                        "{n} 第 {seq} 页在存储中缺失；未导出任何内容。请执行：scanstation fixity check",
                        seq=p["seq"],
                        n=d["number"],
                    ) from None
                sha256, sm3 = digests(data)
                if (p["sha256"] and sha256 != p["sha256"]) or (p["sm3"] and sm3 != p["sm3"]):
                    raise CheckFailed(
                        "Page {seq} of {n} no longer matches its checksum in the catalog; nothing was "
                        "exported. Run: scanstation fixity check",
                        "{n} 第 {seq} 页与目录中的校验值不符；未导出任何内容。请执行：scanstation fixity check",
                        seq=p["seq"],
                        n=d["number"],
                    )
                write_atomic(stage / d["number"] / p["file_name"], data)
                sums.append([f"{d['number']}/{p['file_name']}", len(data), sm3, sha256])
                total_bytes += len(data)
            rows.append(row_values(d, len(pages)))
        checksum = io.StringIO()
        w = csv.writer(checksum, lineterminator="\r\n")
        w.writerow(["文件", "字节数", "SM3", "SHA-256"])
        w.writerows(sums)
        write_atomic(stage / CHECKSUM_FILE, checksum.getvalue().encode("utf-8-sig"))
        if images_dir.exists():
            images_dir.rmdir()  # empty (checked above)
        os.replace(stage, images_dir)
    except BaseException:
        shutil.rmtree(stage, ignore_errors=True)
        raise
    data = {"xlsx": _xlsx, "csv": _csv}[fmt](rows) if fmt != "xml" else _xml(rows, session.home.fonds, moment)
    write_atomic(out, data)
    sha256, sm3 = digests(data)
    result = {
        "file": str(out),
        "format": fmt,
        "rows": len(rows),
        "images": len(sums),
        "image_bytes": total_bytes,
        "images_dir": str(images_dir),
        "checksums": str(images_dir / CHECKSUM_FILE),
        "sha256": sha256,
        "sm3": sm3,
        "year": year,
        "batch": batch or "",
    }
    session.log("export.catalog", "catalog", session.home.fonds, result)
    return result


__all__ = ["CHECKSUM_FILE", "COLUMNS", "FORMATS", "csv_safe", "export_catalog", "row_values", "select"]
