"""The destruction procedure (R37), the only path that deletes page images.

1. An archivist proposes a register from the retention-due list with an appraisal opinion (鉴定意见);
   the destruction register (销毁清册) PDF is written to ``reports/destruction/``.
2. An administrator who is not the proposer approves (or rejects) it.
3. Two different supervisors (监销人: archivist or admin) each record the method and date with their
   own session. The second confirmation removes the dossiers' files (the image folders of a SQLite
   home, or the objects of the page store that no other page names) and turns each
   catalog row into a permanent tombstone (status ``destroyed``, personal fields blanked, a
   ``tombstones`` row with 档号, title, dates, register and the digests of every destroyed file).

From the proposal on, the listed dossiers cannot be changed by any other path (catalog triggers of
migration 5). Registers, their items and their PDFs are kept forever.
"""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

from scanstation.custody import protection, retention_due, search_sync
from scanstation.custody.pdf import Document, Section, render
from scanstation.errors import InvalidInput, NotFound, Refused
from scanstation.home import now_iso
from scanstation.storage.files import digests, write_atomic

STATE_ZH = {"proposed": "待批准", "approved": "已批准，待监销", "executed": "已销毁", "rejected": "未批准"}
IN_TRANSIT = ("batched", "sent")  # in a transfer that has not come back: not proposed now


# -- reading ----------------------------------------------------------------------------
def get_register(catalog, ref) -> dict:
    """A register by id or by its number (销毁清册编号)."""
    text = str(ref).strip()
    row = None
    if text.isdigit():
        row = catalog.one("SELECT * FROM destruction_registers WHERE id = ?", (int(text),))
    if row is None:
        row = catalog.one("SELECT * FROM destruction_registers WHERE register_no = ?", (text,))
    if row is None:
        raise NotFound(
            "No destruction register {ref}. List them with: scanstation destruction list",
            "没有销毁清册 {ref}。可用 scanstation destruction list 查看。",
            ref=text,
        )
    return row


def register_items(catalog, register_id: int) -> list[dict]:
    return catalog.query("SELECT * FROM destruction_items WHERE register_id = ? ORDER BY seq", (register_id,))


def confirmations(catalog, register_id: int) -> list[dict]:
    return catalog.query(
        "SELECT * FROM destruction_confirmations WHERE register_id = ? ORDER BY confirmed_at", (register_id,)
    )


def list_registers(catalog) -> list[dict]:
    return catalog.query(
        "SELECT r.id, r.register_no, r.state, r.as_of, r.proposed_by, r.proposed_at, r.decided_by, r.decided_at,"
        " r.method, r.executed_on, r.pdf_path,"
        " (SELECT count(*) FROM destruction_items i WHERE i.register_id = r.id) AS dossiers,"
        " (SELECT coalesce(sum(pages), 0) FROM destruction_items i WHERE i.register_id = r.id) AS pages,"
        " (SELECT group_concat(supervisor, ' ') FROM destruction_confirmations c WHERE c.register_id = r.id)"
        "   AS supervisors"
        " FROM destruction_registers r ORDER BY r.id"
    )


def open_register_for(catalog, dossier_id: int) -> dict | None:
    return catalog.one(
        "SELECT r.* FROM destruction_items i JOIN destruction_registers r ON r.id = i.register_id"
        " WHERE i.dossier_id = ? AND r.state IN ('proposed', 'approved') LIMIT 1",
        (dossier_id,),
    )


def assert_changeable(catalog, dossier_row: dict) -> None:
    """For any code about to change a dossier: refuse tombstones and dossiers in an open register."""
    if dossier_row.get("status") == "destroyed":
        raise Refused(
            "Dossier {n} was destroyed; its tombstone cannot be changed.",
            "案卷 {n} 已销毁；其销毁记录不能修改。",
            n=dossier_row.get("number"),
        )
    register = open_register_for(catalog, dossier_row["id"])
    if register is not None:
        raise Refused(
            "Dossier {n} is in destruction register {r} ({state}) and cannot be changed until the register is closed.",
            "案卷 {n} 已列入销毁清册 {r}（{state_zh}），清册办结前不能修改。",
            n=dossier_row.get("number"),
            r=register["register_no"],
            state=register["state"],
            state_zh=STATE_ZH.get(register["state"], register["state"]),
        )


# -- the register document ------------------------------------------------------------------
def build_document(home, register: dict, items: list[dict], confirms: list[dict]) -> Document:
    facts = [
        ("清册编号", register["register_no"]),
        ("全宗号", register["fonds_code"]),
        ("状态", STATE_ZH.get(register["state"], register["state"])),
        ("到期截止日期", register["as_of"]),
        ("鉴定意见", register["opinion"]),
        ("提出人（鉴定）", f"{register['proposed_by']}  {register['proposed_at']}"),
    ]
    if register.get("decided_by"):
        verb = "批准人" if register["state"] in ("approved", "executed") else "审批人（未批准）"
        note = f"  {register['decision_note']}" if register.get("decision_note") else ""
        facts.append((verb, f"{register['decided_by']}  {register['decided_at']}{note}"))
    for n, c in enumerate(confirms, 1):
        facts.append(
            (
                f"监销人{n}",
                f"{c['supervisor']}  销毁方式：{c['method']}  销毁日期：{c['executed_on']}"
                f"  （确认于 {c['confirmed_at']}）",
            )
        )
    if register.get("executed_at"):
        facts.append(("文件删除时间", register["executed_at"]))
    total_pages = sum(i["pages"] for i in items)
    facts.append(("合计", f"{len(items)} 卷，{total_pages} 页"))
    rows = [[i["seq"], i["number"], i["title"], i["year"], i["retention"], i["expiry"], i["pages"]] for i in items]
    section = Section(
        "销毁清册",
        ["序号", "档号", "题名", "年度", "保管期限", "到期日期", "页数"],
        rows,
        [0.6, 4, 5, 0.8, 1, 1.4, 0.7],
    )
    return Document(
        title="档案销毁清册",
        facts=facts,
        sections=[section],
        signatures=["鉴定人", "批准人", "监销人", "监销人"],
        footer=f"ScanStation · {home.fonds} · {home.station} · {register['register_no']}",
        landscape=True,
    )


def _write_register_pdf(home, register: dict, items, confirms, stage: str) -> tuple[str, str, str]:
    """Render and keep the register PDF under reports/destruction/; returns (relative path, sha256, sm3)."""
    data = render(build_document(home, register, items, confirms))
    relative = Path("reports") / "destruction" / f"{register['register_no']}-{stage}.pdf"
    write_atomic(Path(home.path) / relative, data)
    sha256, sm3 = digests(data)
    return relative.as_posix(), sha256, sm3


def export_register_pdf(session, ref, out: Path) -> dict:
    """A copy of a register's PDF in its current state (logged)."""
    session.require("report")
    register = get_register(session.catalog, ref)
    data = render(
        build_document(
            session.home,
            register,
            register_items(session.catalog, register["id"]),
            confirmations(session.catalog, register["id"]),
        )
    )
    write_atomic(Path(out), data)
    sha256, _ = digests(data)
    with session.change(None, "destruction.register_export", "destruction_register", register["register_no"]) as ch:
        ch.after = {"file": Path(out).name, "sha256": sha256, "state": register["state"]}
    return {"register_no": register["register_no"], "file": str(out), "sha256": sha256}


# -- the procedure -----------------------------------------------------------------------
def propose(session, as_of: date, opinion: str, numbers: list[str] | None = None) -> dict:
    """Appraisal: put the dossiers due on ``as_of`` (or the named ones among them) into a new register."""
    session.require("retention.propose")
    opinion = (opinion or "").strip()
    if len(opinion) < 4:
        raise InvalidInput(
            "Write the appraisal opinion (鉴定意见): why these dossiers need not be kept.",
            "请填写鉴定意见：说明这些案卷为何无需继续保存。",
        )
    if as_of > date.today():
        raise InvalidInput(
            "The appraisal date {d} is in the future; only expired retention can be appraised.",
            "鉴定截止日期 {d} 晚于今天；只能鉴定已到期的档案。",
            d=as_of.isoformat(),
        )
    candidates = retention_due.due(session.catalog, as_of, fonds=session.home.fonds)
    skipped = [c for c in candidates if c.register_no or c.status in IN_TRANSIT]
    chosen = [c for c in candidates if not c.register_no and c.status not in IN_TRANSIT]
    if numbers:
        wanted = list(dict.fromkeys(n.strip() for n in numbers if n.strip()))
        by_number = {c.number: c for c in chosen}
        missing = [n for n in wanted if n not in by_number]
        if missing:
            raise Refused(
                "These dossiers are not due for destruction on {d} (or are in a register or a transfer "
                "already): {numbers}.",
                "以下案卷截至 {d} 尚未到期（或已列入销毁清册、正在移交）：{numbers}。",
                d=as_of.isoformat(),
                numbers="、".join(missing),
            )
        chosen = [by_number[n] for n in wanted]
    if not chosen:
        raise Refused(
            "No dossier is due for destruction on {d}; nothing was proposed.",
            "截至 {d} 没有到期可销毁的案卷；未生成销毁清册。",
            d=as_of.isoformat(),
        )
    year = date.today().year
    prefix = f"{session.home.fonds}-XH-{year}-"
    seq = (
        session.catalog.one(
            "SELECT count(*) AS n FROM destruction_registers WHERE register_no LIKE ?", (prefix + "%",)
        )["n"]
        + 1
    )
    register_no = f"{prefix}{seq:03d}"
    now = now_iso()
    with session.change("retention.propose", "destruction.propose", "destruction_register", register_no) as ch:
        cur = ch.conn.execute(
            "INSERT INTO destruction_registers(register_no, fonds_code, state, as_of, opinion, proposed_by, proposed_at)"
            " VALUES (?, ?, 'proposed', ?, ?, ?, ?)",
            (register_no, session.home.fonds, as_of.isoformat(), opinion, session.user.name, now),
        )
        register_id = cur.lastrowid
        for seq_no, c in enumerate(chosen, 1):
            ch.conn.execute(
                "INSERT INTO destruction_items(register_id, seq, dossier_id, number, title, year, retention, expiry,"
                " date, pages) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (register_id, seq_no, c.id, c.number, c.title, c.year, c.retention, c.expiry, c.date, c.pages),
            )
        register = session.catalog.one("SELECT * FROM destruction_registers WHERE id = ?", (register_id,))
        path, sha256, sm3 = _write_register_pdf(
            session.home, register, register_items(session.catalog, register_id), [], "proposed"
        )
        ch.conn.execute(
            "UPDATE destruction_registers SET pdf_path = ?, pdf_sha256 = ?, pdf_sm3 = ? WHERE id = ?",
            (path, sha256, sm3, register_id),
        )
        ch.after = {
            "as_of": as_of.isoformat(),
            "opinion": opinion,
            "dossiers": [c.number for c in chosen],
            "pdf": path,
            "pdf_sm3": sm3,
        }
    return {
        "id": register_id,
        "register_no": register_no,
        "dossiers": len(chosen),
        "pages": sum(c.pages for c in chosen),
        "pdf": path,
        "skipped": [{"number": c.number, "register_no": c.register_no, "status": c.status} for c in skipped],
    }


def _decide(session, ref, approve: bool, note: str = "") -> dict:
    session.require("retention.approve")
    register = get_register(session.catalog, ref)
    if register["state"] != "proposed":
        raise Refused(
            "Register {r} is {state}; only a proposed register can be approved or rejected.",
            "销毁清册 {r} 当前为“{state_zh}”；只有待批准的清册才能批准或退回。",
            r=register["register_no"],
            state=register["state"],
            state_zh=STATE_ZH.get(register["state"], register["state"]),
        )
    if approve and register["proposed_by"] == session.user.name:
        raise Refused(
            "User '{u}' proposed register {r} and so may not approve it; another administrator must.",
            "用户“{u}”是销毁清册 {r} 的提出人，不能自行批准；须由另一位管理员批准。",
            u=session.user.name,
            r=register["register_no"],
        )
    state = "approved" if approve else "rejected"
    now = now_iso()
    with session.change(
        "retention.approve",
        f"destruction.{'approve' if approve else 'reject'}",
        "destruction_register",
        register["register_no"],
    ) as ch:
        register = {
            **register,
            "state": state,
            "decided_by": session.user.name,
            "decided_at": now,
            "decision_note": note,
        }
        path, sha256, sm3 = _write_register_pdf(
            session.home, register, register_items(session.catalog, register["id"]), [], state
        )
        ch.conn.execute(
            "UPDATE destruction_registers SET state = ?, decided_by = ?, decided_at = ?, decision_note = ?,"
            " pdf_path = ?, pdf_sha256 = ?, pdf_sm3 = ? WHERE id = ?",
            (state, session.user.name, now, note, path, sha256, sm3, register["id"]),
        )
        ch.before, ch.after = {"state": "proposed"}, {"state": state, "note": note, "pdf": path, "pdf_sm3": sm3}
    return {"register_no": register["register_no"], "state": state, "pdf": path}


def approve(session, ref) -> dict:
    return _decide(session, ref, True)


def reject(session, ref, reason: str) -> dict:
    if not (reason or "").strip():
        raise InvalidInput("Give the reason for not approving the register.", "请填写不予批准的理由。")
    return _decide(session, ref, False, reason.strip())


def execute(session, ref, method: str, executed_on: date) -> dict:
    """One supervisor's record of the destruction. The second one (a different user) removes the files."""
    session.require("retention.execute")
    finish_removals(session)  # what an earlier destruction killed after its commit left queued
    register = get_register(session.catalog, ref)
    if register["state"] != "approved":
        raise Refused(
            "Register {r} is {state}; only an approved register can be executed.",
            "销毁清册 {r} 当前为“{state_zh}”；只有已批准的清册才能执行销毁。",
            r=register["register_no"],
            state=register["state"],
            state_zh=STATE_ZH.get(register["state"], register["state"]),
        )
    method = (method or "").strip()
    if not method:
        raise InvalidInput(
            "Give the destruction method (e.g. 粉碎 / 删除并覆写).", "请填写销毁方式（如：粉碎、删除并覆写）。"
        )
    if executed_on > date.today():
        raise InvalidInput(
            "The destruction date {d} is in the future.", "销毁日期 {d} 晚于今天。", d=executed_on.isoformat()
        )
    if executed_on.isoformat() < register["decided_at"][:10]:
        raise InvalidInput(
            "The destruction date {d} is before the approval ({a}).",
            "销毁日期 {d} 早于批准日期（{a}）。",
            d=executed_on.isoformat(),
            a=register["decided_at"][:10],
        )
    confirms = confirmations(session.catalog, register["id"])
    if any(c["supervisor"] == session.user.name for c in confirms):
        raise Refused(
            "User '{u}' has already confirmed register {r}; a second, different supervisor must confirm.",
            "用户“{u}”已确认过销毁清册 {r}；须由另一位监销人确认。",
            u=session.user.name,
            r=register["register_no"],
        )
    now = now_iso()
    confirmation = {
        "register_id": register["id"],
        "supervisor": session.user.name,
        "roles": " ".join(session.user.roles),
        "method": method,
        "executed_on": executed_on.isoformat(),
        "confirmed_at": now,
    }
    if not confirms:
        with session.change(
            "retention.execute", "destruction.confirm", "destruction_register", register["register_no"]
        ) as ch:
            ch.conn.execute(
                "INSERT INTO destruction_confirmations(register_id, supervisor, roles, method, executed_on,"
                " confirmed_at) VALUES (:register_id, :supervisor, :roles, :method, :executed_on,"
                " :confirmed_at)",
                confirmation,
            )
            ch.after = {"supervisor": 1, "method": method, "executed_on": executed_on.isoformat()}
        return {"register_no": register["register_no"], "confirmations": 1, "executed": False}
    first = confirms[0]
    if (first["method"], first["executed_on"]) != (method, executed_on.isoformat()):
        raise Refused(
            "The first supervisor ({u}) recorded method '{m}' on {d}; both records must agree. "
            "Check with them and repeat with the same method and date.",
            "第一位监销人（{u}）记录的销毁方式为“{m}”，日期为 {d}；两人记录必须一致。请核实后以相同方式和日期重新确认。",
            u=first["supervisor"],
            m=first["method"],
            d=first["executed_on"],
        )
    return _destroy(session, register, confirms + [confirmation], method, executed_on.isoformat(), now)


def _destroy(session, register: dict, confirms: list[dict], method: str, executed_on: str, now: str) -> dict:
    home, catalog = session.home, session.catalog
    page_files = protection.page_files(home)
    items = register_items(catalog, register["id"])
    supervisors = [c["supervisor"] for c in confirms]
    final = {**register, "state": "executed", "method": method, "executed_on": executed_on, "executed_at": now}
    with session.change(
        "retention.execute", "destruction.execute", "destruction_register", register["register_no"]
    ) as ch:
        conn = ch.conn
        c = confirms[-1]
        conn.execute(
            "INSERT INTO destruction_confirmations(register_id, supervisor, roles, method, executed_on,"
            " confirmed_at) VALUES (?, ?, ?, ?, ?, ?)",
            (register["id"], c["supervisor"], c["roles"], c["method"], c["executed_on"], c["confirmed_at"]),
        )
        path, sha256, sm3 = _write_register_pdf(home, final, items, confirms, "executed")
        # The register closes first: the catalog triggers then let this path (and only it) change the dossiers.
        conn.execute(
            "UPDATE destruction_registers SET state = 'executed', method = ?, executed_on = ?, executed_at = ?,"
            " pdf_path = ?, pdf_sha256 = ?, pdf_sm3 = ? WHERE id = ?",
            (method, executed_on, now, path, sha256, sm3, register["id"]),
        )
        plans = []
        total_files = total_bytes = 0
        for item in items:
            dossier = catalog.one("SELECT * FROM dossiers WHERE id = ?", (item["dossier_id"],))
            files, plan = page_files.dossier_files(catalog, dossier)
            plans.append(plan)
            listed = {f["file"].rsplit("/", 1)[-1] for f in files}
            missing = [
                p["file_name"]
                for p in catalog.query(
                    "SELECT file_name FROM pages WHERE dossier_id = ? AND state = 'active' AND file_name != ''",
                    (dossier["id"],),
                )
                if p["file_name"] not in listed
            ]
            total_files += len(files)
            total_bytes += sum(f["bytes"] for f in files)
            conn.execute(
                "INSERT INTO tombstones(dossier_id, number, fonds_code, title, year, retention, date, expiry,"
                " register_id, register_no, method, executed_on, supervisors, destroyed_at, files, bytes, digests)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    dossier["id"],
                    dossier["number"],
                    dossier["fonds_code"],
                    dossier["title"],
                    dossier["year"],
                    dossier["retention"],
                    dossier["date"],
                    item["expiry"],
                    register["id"],
                    register["register_no"],
                    method,
                    executed_on,
                    json.dumps(supervisors, ensure_ascii=False),
                    now,
                    len(files),
                    sum(f["bytes"] for f in files),
                    json.dumps(files, ensure_ascii=False),
                ),
            )
            conn.execute(
                "UPDATE dossiers SET status = 'destroyed', person_name = '', person_id_number = '',"
                " updated_at = ? WHERE id = ?",
                (now, dossier["id"]),
            )
            page_ids = [r["id"] for r in catalog.query("SELECT id FROM pages WHERE dossier_id = ?", (dossier["id"],))]
            conn.execute(
                "UPDATE pages SET state = 'destroyed', seq = NULL, note = '' WHERE dossier_id = ?", (dossier["id"],)
            )
            search_sync.unindex_pages(conn, page_ids)
            if page_ids:
                marks = ",".join("?" * len(page_ids))
                conn.execute(f"DELETE FROM page_text WHERE page_id IN ({marks})", page_ids)
            conn.execute("DELETE FROM personal_index WHERE dossier_id = ?", (dossier["id"],))
            search_sync.reindex_dossier(conn, dossier["id"])  # a destroyed dossier leaves the index
            ch.also(
                "dossier.destroy",
                "dossier",
                dossier["number"],
                before={"status": dossier["status"], "pages": len(page_ids)},
                after={
                    "status": "destroyed",
                    "register_no": register["register_no"],
                    "files": len(files),
                    "missing_files": missing,
                },
            )
        # Files go last, still inside the transaction: image folders are removed here (a failure leaves the
        # catalog as it was); store objects no other page names are queued, and removed after the commit.
        removal = page_files.remove_dossier_files(conn, plans, register["register_no"], now)
        ch.before = {"state": "approved"}
        ch.after = {
            "state": "executed",
            "method": method,
            "executed_on": executed_on,
            "supervisors": supervisors,
            "dossiers": len(items),
            "files": total_files,
            "bytes": total_bytes,
            "pdf": path,
            "pdf_sm3": sm3,
            **removal,
        }
    finish_removals(session)
    return {
        "register_no": register["register_no"],
        "confirmations": len(confirms),
        "executed": True,
        "dossiers": len(items),
        "files": total_files,
        "bytes": total_bytes,
        "pdf": path,
    }


def finish_removals(session) -> dict:
    """Remove the store objects a committed destruction queued (none on a SQLite home, whose folders go
    inside the destroying transaction). Audited; run after each destruction and again by the next one,
    so a process killed in between leaves nothing behind for good."""
    files = protection.page_files(session.home)
    pending = files.pending_removals(session.catalog)
    if not pending:
        return {"removed": [], "kept": []}
    registers = sorted({r["register_no"] for r in pending})
    with session.change("retention.execute", "store.remove", "destruction_register", " ".join(registers)) as ch:
        done = files.finish_removals(ch.conn, pending, now_iso())
        ch.after = {"removed": done["removed"], "kept": done["kept"]}
    return done


def tombstone(catalog, number: str) -> dict | None:
    return catalog.one("SELECT * FROM tombstones WHERE number = ?", (number,))


__all__ = [
    "approve",
    "assert_changeable",
    "build_document",
    "confirmations",
    "execute",
    "export_register_pdf",
    "finish_removals",
    "get_register",
    "list_registers",
    "open_register_for",
    "propose",
    "register_items",
    "reject",
    "tombstone",
]
