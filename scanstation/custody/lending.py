"""Lending (借阅) in the archive room: request → approval → access for a period → return.

The approver is an archivist or administrator who is not the requester. During the approved period
the borrower may export the dossier's pages; each exported page carries a visible watermark with
the borrower's name, the time and the loan number, and every export is logged. A loan whose period
ran out is marked expired (logged) the next time loans are listed or used; export is then refused.
"""

from __future__ import annotations

import io
from datetime import datetime, timedelta
from pathlib import Path

from scanstation.custody import protection
from scanstation.custody.watermark import watermark
from scanstation.dossier_number import page_file_name
from scanstation.errors import InvalidInput, NotFound, Refused
from scanstation.home import now_iso
from scanstation.storage.files import write_atomic

MAX_DAYS = 365
STATE_ZH = {
    "requested": "待批准",
    "approved": "借阅中",
    "rejected": "未批准",
    "expired": "已逾期",
    "returned": "已归还",
}


def _now(now: datetime | None) -> datetime:
    return now or datetime.now().astimezone()


def _iso(moment: datetime) -> str:
    return moment.isoformat(timespec="seconds")


def get_loan(catalog, loan_id) -> dict:
    try:
        ident = int(str(loan_id).strip())
    except ValueError:
        ident = -1
    row = catalog.one("SELECT * FROM loans WHERE id = ?", (ident,))
    if row is None:
        raise NotFound(
            "No loan {id}. List loans with: scanstation lend list",
            "没有借阅单 {id}。可用 scanstation lend list 查看。",
            id=loan_id,
        )
    return row


def request(session, number: str, reason: str, days: int) -> dict:
    from scanstation.custody.corrections import resolve

    session.require("lend.request")
    reason = (reason or "").strip()
    if len(reason) < 2:
        raise InvalidInput("Give the reason for borrowing (利用目的).", "请填写借阅理由（利用目的）。")
    if not isinstance(days, int) or not 1 <= days <= MAX_DAYS:
        raise InvalidInput("The loan period must be 1 to {max} days.", "借阅期限须为 1 至 {max} 天。", max=MAX_DAYS)
    dossier = resolve(session.catalog, number)
    if dossier["status"] == "destroyed":
        raise Refused(
            "Dossier {n} was destroyed and cannot be lent.", "案卷 {n} 已销毁，不能借阅。", n=dossier["number"]
        )
    with session.change("lend.request", "lend.request", "dossier", dossier["number"]) as ch:
        cur = ch.conn.execute(
            "INSERT INTO loans(dossier_id, number, requester, reason, days, requested_at) VALUES (?, ?, ?, ?, ?, ?)",
            (dossier["id"], dossier["number"], session.user.name, reason, days, now_iso()),
        )
        loan_id = cur.lastrowid
        ch.after = {"loan": loan_id, "reason": reason, "days": days}
    return {"id": loan_id, "number": dossier["number"], "days": days, "state": "requested"}


def approve(session, loan_id, now: datetime | None = None) -> dict:
    session.require("lend.approve")
    loan = get_loan(session.catalog, loan_id)
    if loan["state"] != "requested":
        raise Refused(
            "Loan {id} is {state}; only a requested loan can be approved.",
            "借阅单 {id} 当前为“{state_zh}”；只有待批准的借阅单才能批准。",
            id=loan["id"],
            state=loan["state"],
            state_zh=STATE_ZH.get(loan["state"], loan["state"]),
        )
    if loan["requester"] == session.user.name:
        raise Refused(
            "User '{u}' requested loan {id} and so may not approve it; another archivist must.",
            "用户“{u}”是借阅单 {id} 的申请人，不能自行批准；须由其他档案人员批准。",
            u=session.user.name,
            id=loan["id"],
        )
    start = _now(now)
    due = start + timedelta(days=loan["days"])
    with session.change("lend.approve", "lend.approve", "loan", str(loan["id"])) as ch:
        ch.conn.execute(
            "UPDATE loans SET state = 'approved', approved_by = ?, approved_at = ?, due_at = ? WHERE id = ?",
            (session.user.name, _iso(start), _iso(due), loan["id"]),
        )
        ch.before, ch.after = (
            {"state": "requested"},
            {"state": "approved", "due_at": _iso(due), "number": loan["number"]},
        )
    return {"id": loan["id"], "state": "approved", "due_at": _iso(due)}


def reject(session, loan_id, reason: str) -> dict:
    session.require("lend.approve")
    loan = get_loan(session.catalog, loan_id)
    if loan["state"] != "requested":
        raise Refused(
            "Loan {id} is {state}; only a requested loan can be rejected.",
            "借阅单 {id} 当前为“{state_zh}”；只有待批准的借阅单才能退回。",
            id=loan["id"],
            state=loan["state"],
            state_zh=STATE_ZH.get(loan["state"], loan["state"]),
        )
    with session.change("lend.approve", "lend.reject", "loan", str(loan["id"])) as ch:
        ch.conn.execute(
            "UPDATE loans SET state = 'rejected', approved_by = ?, approved_at = ? WHERE id = ?",
            (session.user.name, now_iso(), loan["id"]),
        )
        ch.before, ch.after = {"state": "requested"}, {"state": "rejected", "reason": reason}
    return {"id": loan["id"], "state": "rejected"}


def expire_overdue(session, now: datetime | None = None) -> list[int]:
    """Mark approved loans whose period ran out as expired, each with its audit entry."""
    moment = _now(now)
    overdue = [
        r
        for r in session.catalog.query("SELECT id, due_at, number FROM loans WHERE state = 'approved'")
        if datetime.fromisoformat(r["due_at"]) <= moment
    ]
    if not overdue:
        return []
    with session.change(None, "lend.expire", "loan", str(overdue[0]["id"])) as ch:
        for r in overdue:
            ch.conn.execute("UPDATE loans SET state = 'expired' WHERE id = ? AND state = 'approved'", (r["id"],))
        ch.after = {"expired": [r["id"] for r in overdue]}
        for r in overdue[1:]:
            ch.also("lend.expire", "loan", str(r["id"]), before={"state": "approved"}, after={"state": "expired"})
    return [r["id"] for r in overdue]


def return_loan(session, loan_id) -> dict:
    loan = get_loan(session.catalog, loan_id)
    if loan["requester"] != session.user.name:
        session.require("lend.approve")
    if loan["state"] not in ("approved", "expired"):
        raise Refused(
            "Loan {id} is {state}; only a loan being borrowed or overdue can be returned.",
            "借阅单 {id} 当前为“{state_zh}”；只有借阅中或已逾期的借阅单才能归还。",
            id=loan["id"],
            state=loan["state"],
            state_zh=STATE_ZH.get(loan["state"], loan["state"]),
        )
    now = now_iso()
    with session.change(None, "lend.return", "loan", str(loan["id"])) as ch:
        ch.conn.execute(
            "UPDATE loans SET state = 'returned', returned_by = ?, returned_at = ? WHERE id = ?",
            (session.user.name, now, loan["id"]),
        )
        ch.before, ch.after = {"state": loan["state"]}, {"state": "returned"}
    return {"id": loan["id"], "state": "returned", "returned_at": now}


def list_loans(session, overdue: bool = False, now: datetime | None = None) -> list[dict]:
    """Loans; a user without ``lend.approve`` sees only their own."""
    session.require("lend.request")
    expire_overdue(session, now)
    where, params = [], []
    if overdue:
        where.append("state = 'expired'")
    if not session.can("lend.approve"):
        where.append("requester = ?")
        params.append(session.user.name)
    sql = "SELECT * FROM loans" + (" WHERE " + " AND ".join(where) if where else "") + " ORDER BY id"
    return session.catalog.query(sql, params)


# -- export with watermark (scanstation.custody.watermark draws it) ----------------------------
def export(session, loan_id, out_dir: Path, now: datetime | None = None, fmt: str = "jpeg") -> dict:
    """Watermarked copies of the dossier's pages for the borrower, during the approved period only:
    one JPEG per page, or (``fmt="pdf"``) one double-layer PDF of the whole dossier."""
    from PIL import Image, UnidentifiedImageError

    session.require("lend.request")
    if fmt not in ("jpeg", "pdf"):
        raise InvalidInput(
            "Unknown loan copy format {f}; use jpeg or pdf.", "未知的借阅副本格式 {f}；请使用 jpeg 或 pdf。", f=fmt
        )
    moment = _now(now)
    expire_overdue(session, moment)
    loan = get_loan(session.catalog, loan_id)
    if loan["requester"] != session.user.name:
        raise Refused(
            "Only the borrower ({u}) may export the pages of loan {id}.",
            "只有借阅人（{u}）可以导出借阅单 {id} 的页面。",
            u=loan["requester"],
            id=loan["id"],
        )
    if loan["state"] != "approved":
        raise Refused(
            "Loan {id} is {state}; pages can be exported only during an approved loan period.",
            "借阅单 {id} 当前为“{state_zh}”；只能在已批准的借阅期限内导出页面。",
            id=loan["id"],
            state=loan["state"],
            state_zh=STATE_ZH.get(loan["state"], loan["state"]),
        )
    if not datetime.fromisoformat(loan["approved_at"]) <= moment < datetime.fromisoformat(loan["due_at"]):
        raise Refused(
            "Loan {id} is valid from {a} to {d}; it is not valid now.",
            "借阅单 {id} 的有效期为 {a} 至 {d}；当前不在有效期内。",
            id=loan["id"],
            a=loan["approved_at"],
            d=loan["due_at"],
        )
    dossier = session.catalog.one("SELECT * FROM dossiers WHERE id = ?", (loan["dossier_id"],))
    if dossier["status"] == "destroyed":
        raise Refused("Dossier {n} was destroyed.", "案卷 {n} 已销毁。", n=dossier["number"])
    pages = session.catalog.query(
        "SELECT seq, file_name, sm3 FROM pages WHERE dossier_id = ? AND state = 'active' AND file_name != ''"
        " ORDER BY seq",
        (dossier["id"],),
    )
    if not pages:
        raise Refused(
            "Dossier {n} has no scanned pages to export.", "案卷 {n} 没有可导出的扫描页面。", n=dossier["number"]
        )
    folder = Path(out_dir) / dossier["number"]
    if folder.exists() and any(folder.iterdir()):
        raise Refused(
            "{f} already holds files; export into a new or empty folder.",
            "{f} 中已有文件；请导出到新的或空的目录。",
            f=str(folder),
        )
    store = protection.page_files(session.home)
    stamp = moment.strftime("%Y-%m-%d %H:%M")
    lines = [f"借阅 {session.user.name}", stamp, f"借阅单 {loan['id']}", "ScanStation"]
    written = []
    if fmt == "pdf":  # the double-layer PDF of scanstation.export, every page watermarked
        from scanstation.export import load_pages
        from scanstation.export.pdf import render

        data, _ = render(load_pages(session.catalog, store, dossier), watermark_lines=lines)
        write_atomic(folder / f"{dossier['number']}.pdf", data)
        written.append(f"{dossier['number']}.pdf")
    for page in pages if fmt == "jpeg" else []:
        try:
            data = store.read_page(dict(page, number=dossier["number"]))
            with Image.open(io.BytesIO(data)) as img:
                dpi = img.info.get("dpi")
                marked = watermark(img, lines)
        except FileNotFoundError:
            raise Refused(
                "Page {seq} of {n} is missing from the store; run: scanstation fixity check",
                "{n} 第 {seq} 页在存储中缺失；请执行：scanstation fixity check",
                seq=page["seq"],
                n=dossier["number"],
            ) from None
        except (UnidentifiedImageError, OSError) as exc:
            raise Refused(
                "Page {seq} of {n} cannot be decoded ({error}); run: scanstation fixity check",
                "{n} 第 {seq} 页无法解码（{error}）；请执行：scanstation fixity check",
                seq=page["seq"],
                n=dossier["number"],
                error=str(exc),
            ) from exc
        buffer = io.BytesIO()
        marked.save(buffer, "JPEG", quality=88, **({"dpi": dpi} if dpi else {}))
        name = page_file_name(dossier["number"], page["seq"], "jpeg")  # R11; the copy is a JPEG
        write_atomic(folder / name, buffer.getvalue())
        written.append(name)
    with session.change(None, "lend.export", "loan", str(loan["id"])) as ch:
        ch.conn.execute("UPDATE loans SET exports = exports + 1 WHERE id = ?", (loan["id"],))
        ch.after = {
            "number": dossier["number"],
            "pages": len(pages),
            "watermark": " ".join(lines),
            "folder": str(folder),
            "format": fmt,
            "files": written,
        }
    return {
        "id": loan["id"],
        "number": dossier["number"],
        "pages": len(pages),
        "folder": str(folder),
        "files": written,
        "format": fmt,
    }


__all__ = [
    "approve",
    "expire_overdue",
    "export",
    "get_loan",
    "list_loans",
    "reject",
    "request",
    "return_loan",
    "watermark",
]
