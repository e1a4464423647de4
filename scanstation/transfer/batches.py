"""Transfer batches (R27): one 全宗 and one 年度, a sequential number, a deadline.

Life cycle (the outbox, R38): draft → sealed → sent → received | rejected; a draft or sealed batch
may be cancelled. A dossier joins a batch only when completed and QC-approved (status
``approved``); from then on it is ``batched`` (then ``sent``), which capture, page operations and
QC all refuse to change. The receipt makes it ``transferred``; a rejection returns it (see
scanstation.transfer.receipts).
"""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

from scanstation import settings
from scanstation.errors import InvalidInput, NotFound, Refused
from scanstation.home import now_iso
from scanstation.i18n import tr
from scanstation.service import Session
from scanstation.transfer import require_schema

STATES = ("draft", "sealed", "sent", "received", "rejected", "cancelled")
STATE_ZH = {
    "draft": "草稿",
    "sealed": "已封装",
    "sent": "已发送",
    "received": "已接收",
    "rejected": "被退回",
    "cancelled": "已撤销",
}


def state_label(state: str) -> str:
    return tr(state, STATE_ZH.get(state, state))


def batch_name(fonds: str, year: int, seq: int) -> str:
    return f"{fonds}-{year}-{seq:03d}"


def deadline_for(home, year: int) -> str:
    """Default deadline: the configured MM-DD (31 March) of the year after the batch's 年度."""
    text = str(settings.get(home, "transfer.deadline") or "03-31")
    try:
        month, day = (int(x) for x in text.split("-"))
        return date(year + 1, month, day).isoformat()
    except ValueError:
        raise InvalidInput(
            "The setting transfer.deadline '{v}' is not a MM-DD date.",
            "设置项 transfer.deadline“{v}”不是“月-日”格式的日期。",
            v=text,
        ) from None


def get(catalog, ref) -> dict:
    """A batch by its id ("X001-2024-001") or row number."""
    row = catalog.one("SELECT * FROM batches WHERE batch_id = ?", (str(ref),))
    if row is None and str(ref).isdigit():
        row = catalog.one("SELECT * FROM batches WHERE id = ?", (int(ref),))
    if row is None:
        raise NotFound(
            "There is no batch {ref}. See: scanstation batch list",
            "没有批次 {ref}。请查看：scanstation batch list",
            ref=ref,
        )
    row["details"] = json.loads(row["details"] or "{}")
    return row


def dossiers_of(catalog, batch_row_id: int) -> list[dict]:
    return catalog.query(
        "SELECT d.*, bd.seq AS batch_seq FROM batch_dossiers bd JOIN dossiers d ON d.id = bd.dossier_id"
        " WHERE bd.batch_id = ? ORDER BY bd.seq",
        (batch_row_id,),
    )


def approved_categories(catalog) -> list[str]:
    """The 门类·类别 of the approved dossiers (what a new batch may be limited to)."""
    rows = catalog.query(
        "SELECT DISTINCT category FROM dossiers WHERE status = 'approved' AND category != '' ORDER BY category"
    )
    return [r["category"] for r in rows]


def create(session: Session, year: int, category: str | None = None, numbers: list[str] | None = None) -> dict:
    """A draft batch of every approved dossier of this home's 全宗 and ``year`` (optionally one
    category, or only the named 档号), numbered after the last batch of that 全宗 and 年度."""
    session.require("batch.manage")
    require_schema(session.catalog)
    home = session.home
    fonds = home.fonds
    try:
        year = int(year)
    except (TypeError, ValueError):
        raise InvalidInput("The year '{y}' is not a number.", "年度“{y}”不是数字。", y=year) from None
    sql = "SELECT * FROM dossiers WHERE fonds_code = ? AND year = ? AND status = 'approved' AND batch_id IS NULL"
    params: list = [fonds, year]
    if category:
        sql += " AND category = ?"
        params.append(category)
    rows = session.catalog.query(sql + " ORDER BY number", params)
    if numbers:
        from scanstation import dossier_number

        wanted = [dossier_number.normalise(n) for n in numbers]
        by_number = {r["number"]: r for r in rows}
        missing = [n for n in wanted if n not in by_number]
        if missing:
            details = []
            for n in missing:
                row = session.catalog.one("SELECT status, year, fonds_code FROM dossiers WHERE number = ?", (n,))
                if row is None:
                    details.append(tr("{n}: not in the catalog", "{n}：目录中没有", n=n))
                elif row["fonds_code"] != fonds or row["year"] != year:
                    details.append(
                        tr(
                            "{n}: fonds {f} year {y} (a batch holds one fonds and one year, R27)",
                            "{n}：全宗 {f}、年度 {y}（一个批次只含一个全宗、一个年度，R27）",
                            n=n,
                            f=row["fonds_code"],
                            y=row["year"],
                        )
                    )
                else:
                    details.append(
                        tr("{n}: status {s}, not approved by QC", "{n}：状态为 {s}，未通过质检", n=n, s=row["status"])
                    )
            raise Refused(
                "These dossiers cannot go into the batch: {list}.",
                "以下案卷不能组入批次：{list}。",
                list="; ".join(details),
            )
        rows = [by_number[n] for n in dict.fromkeys(wanted)]
    if not rows:
        raise Refused(
            "There is no QC-approved dossier of fonds {f}, year {y}{c} that is not already in a batch.",
            "全宗 {f}、年度 {y}{c_zh} 没有尚未组批的已通过质检案卷。",
            f=fonds,
            y=year,
            c=f", category {category}" if category else "",
            c_zh=f"、类别 {category}" if category else "",
        )
    deadline = deadline_for(home, year)
    stamp = now_iso()
    with session.change("batch.manage", "batch.create", "batch", "") as ch:
        seq = (
            ch.conn.execute("SELECT max(seq) FROM batches WHERE fonds_code = ? AND year = ?", (fonds, year)).fetchone()[
                0
            ]
            or 0
        ) + 1
        name = batch_name(fonds, year, seq)
        batch_details = {"category": category or "", "dossiers": len(rows)}
        cur = ch.conn.execute(
            "INSERT INTO batches(batch_id, fonds_code, year, seq, state, deadline, details, created_by, created_at,"
            " updated_at) VALUES (?, ?, ?, ?, 'draft', ?, ?, ?, ?, ?)",
            (
                name,
                fonds,
                year,
                seq,
                deadline,
                json.dumps(batch_details, ensure_ascii=False),
                session.user.name,
                stamp,
                stamp,
            ),
        )
        batch_row = cur.lastrowid
        for index, row in enumerate(rows, start=1):
            ch.conn.execute(
                "INSERT INTO batch_dossiers(batch_id, dossier_id, seq) VALUES (?, ?, ?)", (batch_row, row["id"], index)
            )
            changed = ch.conn.execute(
                "UPDATE dossiers SET status = 'batched', batch_id = ?, updated_at = ?"
                " WHERE id = ? AND status = 'approved' AND batch_id IS NULL",
                (batch_row, stamp, row["id"]),
            ).rowcount
            if changed != 1:  # changed since it was read: the whole batch is rolled back
                raise Refused(
                    "Dossier {n} changed while the batch was made; try again.",
                    "组批过程中案卷 {n} 发生了变化；请重试。",
                    n=row["number"],
                )
            ch.also(
                "dossier.batched",
                "dossier",
                row["number"],
                {"status": "approved"},
                {"status": "batched", "batch": name},
            )
        ch.object_id = name
        ch.after = {
            "batch": name,
            "fonds": fonds,
            "year": year,
            "category": category or "",
            "deadline": deadline,
            "dossiers": [r["number"] for r in rows],
        }
    return summary(session.catalog, get(session.catalog, name))


def summary(catalog, batch: dict) -> dict:
    counts = catalog.one(
        "SELECT count(DISTINCT d.id) dossiers, count(p.id) pages, coalesce(sum(p.bytes), 0) bytes"
        " FROM batch_dossiers bd JOIN dossiers d ON d.id = bd.dossier_id"
        " LEFT JOIN pages p ON p.dossier_id = d.id AND p.state = 'active' WHERE bd.batch_id = ?",
        (batch["id"],),
    )
    return {
        "batch_id": batch["batch_id"],
        "fonds": batch["fonds_code"],
        "year": batch["year"],
        "seq": batch["seq"],
        "state": batch["state"],
        "deadline": batch["deadline"],
        "package": batch["package_path"],
        "tagmanifest_sm3": batch["tagmanifest_sm3"],
        "created_by": batch["created_by"],
        "created_at": batch["created_at"],
        "updated_at": batch["updated_at"],
        "dossiers": counts["dossiers"],
        "images": counts["pages"],
        "image_bytes": counts["bytes"],
        "details": batch["details"],
    }


def list_batches(session: Session, state: str | None = None) -> list[dict]:
    session.require("catalog.read")
    require_schema(session.catalog)
    sql, params = "SELECT * FROM batches", []
    if state:
        sql += " WHERE state = ?"
        params.append(state)
    out = []
    for row in session.catalog.query(sql + " ORDER BY fonds_code, year, seq", params):
        row["details"] = json.loads(row["details"] or "{}")
        out.append(summary(session.catalog, row))
    return out


def show(session: Session, ref) -> dict:
    session.require("catalog.read")
    require_schema(session.catalog)
    batch = get(session.catalog, ref)
    info = summary(session.catalog, batch)
    info["dossier_list"] = [
        {
            "seq": d["batch_seq"],
            "number": d["number"],
            "title": d["title"],
            "status": d["status"],
            "declared_pages": d["declared_pages"],
        }
        for d in dossiers_of(session.catalog, batch["id"])
    ]
    info["deliveries"] = session.catalog.query(
        "SELECT attempt, destination, kind, ok, error, path, bytes, started_at, finished_at FROM transfer_deliveries"
        " WHERE batch_id = ? ORDER BY id",
        (batch["id"],),
    )
    info["receipts"] = session.catalog.query(
        "SELECT receipt_id, decision, signer_name, issued_at, imported_by, imported_at, path FROM transfer_receipts"
        " WHERE batch_id = ? ORDER BY id",
        (batch["id"],),
    )
    return info


def cancel(session: Session, ref) -> dict:
    """Give up a draft or sealed (not yet sent) batch: its dossiers go back to ``approved``.

    The batch number is not reused; a sealed package is moved aside in the outbox, never deleted.
    """
    session.require("batch.manage")
    batch = get(session.catalog, ref)
    if batch["state"] not in ("draft", "sealed"):
        raise Refused(
            "Batch {b} is {s}; only a draft or sealed batch that was not sent can be cancelled.",
            "批次 {b} 当前为“{s_zh}”；只有未发送的草稿或已封装批次可以撤销。",
            b=batch["batch_id"],
            s=batch["state"],
            s_zh=STATE_ZH.get(batch["state"], batch["state"]),
        )
    moved = ""
    if batch["package_path"]:
        src = Path(session.home.path) / batch["package_path"]
        if src.exists():
            dst = src.with_name(f"{src.name}.cancelled-{now_iso()[:19].replace(':', '')}")
            shutil.move(str(src), str(dst))
            moved = str(dst.relative_to(session.home.path))
    stamp = now_iso()
    with session.change("batch.manage", "batch.cancel", "batch", batch["batch_id"]) as ch:
        for d in dossiers_of(session.catalog, batch["id"]):
            ch.conn.execute(
                "UPDATE dossiers SET status = 'approved', batch_id = NULL, updated_at = ? WHERE id = ?",
                (stamp, d["id"]),
            )
            ch.also("dossier.unbatched", "dossier", d["number"], {"status": d["status"]}, {"status": "approved"})
        ch.conn.execute("UPDATE batch_dossiers SET outcome = 'cancelled' WHERE batch_id = ?", (batch["id"],))
        details = dict(batch["details"], cancelled_package=moved)
        ch.conn.execute(
            "UPDATE batches SET state = 'cancelled', details = ?, updated_at = ? WHERE id = ?",
            (json.dumps(details, ensure_ascii=False), stamp, batch["id"]),
        )
        ch.before, ch.after = {"state": batch["state"]}, {"state": "cancelled", "package_moved_to": moved}
    return summary(session.catalog, get(session.catalog, batch["batch_id"]))


__all__ = [
    "STATES",
    "batch_name",
    "cancel",
    "create",
    "deadline_for",
    "dossiers_of",
    "get",
    "list_batches",
    "show",
    "state_label",
    "summary",
]
