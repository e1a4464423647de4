"""Personal data in lists and exports (R40): ID and bank numbers masked unless the user may see
them and asks to, and then the viewing is logged.

The masking itself is ``scanstation.id_number`` (the station's one rule, ``privacy.id_mask_keep``);
``id_number.mask_text`` finds ID and bank numbers inside free text (audit before/after values,
remarks), so exports mask them wherever they were written.
"""

from __future__ import annotations

import csv
import hashlib
import os
import re
from pathlib import Path

from scanstation import id_number, settings
from scanstation.errors import InvalidInput
from scanstation.spreadsheet_cells import safe_row
from scanstation.storage import encryption
from scanstation.storage.files import fsync_dir, storage_error


def reveal_text(text: str, key) -> str:
    """Replace encrypted field values inside ``text`` by their plain text (or a marker without a key)."""
    if not text or encryption.FIELD_PREFIX not in text:
        return text or ""

    def one(match):
        token = match.group(0)
        if key is None:
            return "[已加密/encrypted]"
        for field in encryption.PERSONAL_FIELDS:
            try:
                return key.decrypt_field(field, token)
            except Exception:
                continue
        return "[无法解密/undecryptable]"

    return re.sub(r"enc1:[A-Za-z0-9_=-]+", one, text)


EXPORT_COLUMNS = (
    ("number", "档号"),
    ("fonds_code", "全宗号"),
    ("year", "年度"),
    ("category", "门类·类别"),
    ("insurance_type", "险种"),
    ("business_stage", "业务环节"),
    ("retention", "保管期限"),
    ("title", "题名"),
    ("responsible", "责任者"),
    ("date", "日期"),
    ("declared_pages", "页数"),
    ("scanned_pages", "已扫描页数"),
    ("security_level", "密级"),
    ("volume_no", "案卷号"),
    ("item_no", "件号"),
    ("box_no", "盒号"),
    ("person_name", "姓名"),
    ("person_id_number", "身份证号"),
    ("employer", "单位名称"),
    ("remarks", "备注"),
    ("status", "状态"),
    ("scanned_by", "扫描人"),
    ("qc_by", "质检人"),
    ("updated_at", "更新时间"),
)


def export_catalog(session, out: Path, unmasked: bool = False, key=None) -> dict:
    """All dossiers to a CSV (UTF-8 with BOM so spreadsheet programs read the Chinese).

    ID numbers are masked unless ``unmasked`` and the user holds ``personal.unmasked``; the export,
    and separately an unmasked one, are written to the audit trail.
    """
    session.require("catalog.export")
    if unmasked:
        session.require("personal.unmasked")
    out = Path(out)
    if out.suffix.lower() != ".csv":
        raise InvalidInput(
            "The catalog export is a CSV file; give a name ending in .csv.",
            "目录导出为 CSV 文件；请使用以 .csv 结尾的文件名。",
        )
    if key is None and encryption.is_enabled(session.home):
        key = encryption.unlocked_key(session.home)
    rule = settings.id_mask_rule(session.home)
    rows = session.catalog.conn.execute(
        "SELECT d.*, (SELECT count(*) FROM pages p WHERE p.dossier_id = d.id AND p.state = 'active') AS scanned_pages"
        " FROM dossiers d ORDER BY d.number"
    )
    names = [c[0] for c in rows.description]
    digest, count = hashlib.sha256(), 0
    tmp = out.with_name(out.name + ".part")
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "w", encoding="utf-8-sig", newline="") as fh:
            writer = csv.writer(fh)
            writer.writerow([zh for _, zh in EXPORT_COLUMNS])
            for values in rows:
                row = dict(zip(names, values))
                for field in encryption.PERSONAL_FIELDS:
                    if encryption.is_encrypted(row[field]):
                        row[field] = encryption.decrypt_field(key, field, row[field])
                if not unmasked:
                    row["person_id_number"] = id_number.mask(row["person_id_number"], rule)
                    row["remarks"] = id_number.mask_text(row["remarks"], rule)
                    row["title"] = id_number.mask_text(row["title"], rule)
                writer.writerow(safe_row("" if row.get(k) is None else row.get(k) for k, _ in EXPORT_COLUMNS))
                count += 1
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, out)
        fsync_dir(out.parent)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise storage_error(out, exc) from exc
    with open(out, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            digest.update(chunk)
    details = {"file": out.name, "rows": count, "masked": not unmasked, "sha256": digest.hexdigest()}
    with session.change(
        None, "catalog.export_unmasked" if unmasked else "catalog.export", "catalog", session.home.fonds
    ) as ch:
        ch.after = details
    return details


__all__ = ["EXPORT_COLUMNS", "export_catalog", "reveal_text"]
