"""Audit trail export for an inspection (R36): CSV (every field, with the hash chain so it can be
re-checked) or PDF (readable, with the chain's verification result).

Who: auditors and administrators. The before/after values are protected fields: an auditor sees
them in full, anyone else gets every ID and bank number in them masked. Every export is itself
written to the audit trail with the file's SHA-256.
"""

from __future__ import annotations

import csv
import hashlib
import io
from datetime import timedelta
from pathlib import Path

from scanstation import audit, id_number, settings
from scanstation.custody import protection
from scanstation.custody.pdf import Document, Section, render
from scanstation.custody.personal_data import reveal_text
from scanstation.custody.retention_due import parse_date
from scanstation.errors import InvalidInput
from scanstation.home import now_iso
from scanstation.spreadsheet_cells import safe_row
from scanstation.storage.files import write_atomic

COLUMNS = ("id", "ts", "user", "station", "action", "object_type", "object_id", "before", "after", "prev_hash", "hash")
PDF_CELL_LIMIT = 400


def time_range(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """Bounds for ISO timestamps: ``since`` inclusive, ``until`` a whole day when it is a date."""
    low = parse_date(since, "start date", "开始日期").isoformat() if since else None
    high = (parse_date(until, "end date", "结束日期") + timedelta(days=1)).isoformat() if until else None
    if low and high and low >= high:
        raise InvalidInput("--since must be before --until.", "--since 必须早于 --until。")
    return low, high


def entries(catalog, since: str | None, until: str | None) -> list[dict]:
    low, high = time_range(since, until)
    where, params = [], []
    if low:
        where.append("ts >= ?")
        params.append(low)
    if high:
        where.append("ts < ?")
        params.append(high)
    sql = f"SELECT {', '.join(COLUMNS)} FROM audit_log"
    if where:
        sql += " WHERE " + " AND ".join(where)
    return catalog.query(sql + " ORDER BY id", params)


def protect_row(row: dict, full: bool, key, rule: id_number.MaskRule | None = None) -> dict:
    """An audit entry with its before/after values decrypted, and masked (``rule``) unless ``full``."""
    out = dict(row)
    for name in ("before", "after"):
        text = reveal_text(row[name] or "", key)
        out[name] = text if full else id_number.mask_text(text, rule)
    return out


def export(session, fmt: str, out: Path, since: str | None = None, until: str | None = None) -> dict:
    session.require("audit.read")
    if fmt not in ("csv", "pdf"):
        raise InvalidInput("The export format is csv or pdf.", "导出格式为 csv 或 pdf。")
    full = session.can("audit.read_protected")
    key = protection.unlocked_key(session.home)
    rule = settings.id_mask_rule(session.home)
    rows = [protect_row(r, full, key, rule) for r in entries(session.catalog, since, until)]
    chain = audit.verify(session.catalog.conn)
    if fmt == "csv":
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(COLUMNS)
        for r in rows:
            writer.writerow(safe_row(r[c] for c in COLUMNS))
        data = buffer.getvalue().encode("utf-8-sig")
    else:
        facts = [
            ("全宗号", session.home.fonds),
            ("站点", session.home.station),
            ("范围", f"{since or '开始'} 至 {until or '现在'}"),
            ("记录条数", str(len(rows))),
            (
                "审计链校验",
                f"完整，共 {chain.entries} 条" if chain.ok else f"在第 {chain.broken_id} 条处断裂：{chain.reason_zh}",
            ),
            ("变更前后内容", "完整（审计员）" if full else "身份证号、银行账号已脱敏（导出人非审计员）"),
            ("导出人", session.user.name),
            ("导出时间", now_iso()),
        ]

        def cell(text: str) -> str:
            return text if len(text) <= PDF_CELL_LIMIT else text[:PDF_CELL_LIMIT] + "…"

        table = [
            [
                r["id"],
                r["ts"],
                r["user"],
                r["action"],
                f"{r['object_type']}:{r['object_id']}",
                cell(r["before"]),
                cell(r["after"]),
            ]
            for r in rows
        ]
        doc = Document(
            title="审计日志导出",
            facts=facts,
            sections=[
                Section(
                    "审计记录",
                    ["序号", "时间", "用户", "操作", "对象", "变更前", "变更后"],
                    table,
                    [0.6, 2.2, 1.2, 2, 3, 4, 4],
                )
            ],
            footer=f"ScanStation · {session.home.fonds} · {session.home.station} · 审计日志",
            landscape=True,
        )
        data = render(doc)
    out = Path(out)
    write_atomic(out, data)
    digest = hashlib.sha256(data).hexdigest()
    details = {
        "format": fmt,
        "since": since,
        "until": until,
        "rows": len(rows),
        "first_id": rows[0]["id"] if rows else None,
        "last_id": rows[-1]["id"] if rows else None,
        "protected_fields": "full" if full else "masked",
        "chain_ok": chain.ok,
        "file": out.name,
        "sha256": digest,
    }
    with session.change(None, "audit.export", "audit_log", session.home.fonds) as ch:
        ch.after = details
    return details


__all__ = ["COLUMNS", "entries", "export", "protect_row", "time_range"]
