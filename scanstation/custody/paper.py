"""Custody of the paper while it is digitised: 调档 (check-out from the store room to the scanning desk and
check-in back), 拆装订 (unbound for the feeder, rebound before it goes back), and the hand-over list of
each move, printed for both people to sign.

Every action goes through the service layer (role checked, change and audit entry in one
transaction). A dossier is at the store or at the desk; it can be checked out only from the store,
unbound and rebound only at the desk, and checked in only when it is not left unbound. A box (盒号)
moves as all of its dossiers.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from scanstation.errors import InvalidInput, NotFound, Refused
from scanstation.storage.migrations import register as register_migrations

MIGRATION = (
    61,
    "paper custody: check-out/check-in to the scanning desk, binding state, hand-over lists",
    """
CREATE TABLE paper_moves (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                  -- checkout | checkin
    box_no TEXT NOT NULL DEFAULT '',     -- the box moved, '' when dossiers were named one by one
    dossiers TEXT NOT NULL,              -- JSON list of 档号
    store_person TEXT NOT NULL,          -- who hands over / receives at the store room
    desk_person TEXT NOT NULL,           -- the clerk at the scanning desk
    due_at TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE paper_state (
    dossier_id INTEGER PRIMARY KEY REFERENCES dossiers(id),
    location TEXT NOT NULL DEFAULT 'store',   -- store | desk
    binding TEXT NOT NULL DEFAULT 'bound',    -- bound | unbound | rebound
    move_id INTEGER REFERENCES paper_moves(id),
    due_at TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
CREATE INDEX paper_state_desk ON paper_state(location, due_at);
""",
)
register_migrations(__name__, MIGRATION)

DEFAULT_DUE_DAYS = 5


def now_iso() -> str:
    from scanstation.clock import now_iso as now

    return now()


BINDING_ZH = {"bound": "原装订", "unbound": "已拆装订", "rebound": "已还原装订"}


@dataclass
class PaperMove:
    id: int
    kind: str
    numbers: list[str]
    box_no: str
    due_at: str


def _dossiers(session, numbers: list[str] | None, box: str | None) -> list[dict]:
    from scanstation.coversheet.sheet import from_scanned

    if bool(numbers) == bool(box):
        raise InvalidInput(
            "Name the dossiers (档号…) or one box (--box), not both.", "请给出档号或一个盒号（--box），不能同时给出。"
        )
    if box:
        rows = session.catalog.query("SELECT * FROM dossiers WHERE box_no = ? ORDER BY number", (box,))
        if not rows:
            raise NotFound("Box {b} holds no dossier of the catalog.", "目录中没有盒号为 {b} 的案卷。", b=box)
        return rows
    rows = []
    for number in numbers:
        row = session.catalog.one("SELECT * FROM dossiers WHERE number = ?", (from_scanned(number),))
        if row is None:
            raise NotFound(
                "Dossier {n} is not in the catalog; nothing was moved.", "目录中没有档号 {n}；未做任何登记。", n=number
            )
        rows.append(row)
    return rows


def _state(session, dossier_id: int) -> dict:
    row = session.catalog.one("SELECT * FROM paper_state WHERE dossier_id = ?", (dossier_id,))
    return row or {"location": "store", "binding": "bound", "due_at": "", "move_id": None}


def _person(name: str, what_en: str, what_zh: str) -> str:
    name = (name or "").strip()
    if not name or len(name) > 64:
        raise InvalidInput(
            "Give the name of {w} (1-64 characters).", "请填写{wz}的姓名（1-64 个字符）。", w=what_en, wz=what_zh
        )
    return name


def check_out(
    session,
    *,
    numbers: list[str] | None = None,
    box: str | None = None,
    store_person: str,
    due_days: int = DEFAULT_DUE_DAYS,
    note: str = "",
) -> PaperMove:
    """调档: the paper goes from the store room to the scanning desk of the acting clerk."""
    session.require("paper.custody")
    store_person = _person(store_person, "the store-room person handing over", "档案库房交出人")
    if not 1 <= int(due_days) <= 365:
        raise InvalidInput("The loan to the desk lasts 1-365 days.", "调档期限为 1-365 天。")
    rows = _dossiers(session, numbers, box)
    away = [r["number"] for r in rows if _state(session, r["id"])["location"] == "desk"]
    if away:
        raise Refused(
            "Already at the scanning desk: {n}. Nothing was checked out.",
            "以下案卷已在扫描台：{n}。未做任何登记。",
            n=", ".join(away),
        )
    due = (datetime.now().astimezone() + timedelta(days=int(due_days))).isoformat(timespec="seconds")
    numbers_ = [r["number"] for r in rows]
    with session.change(
        "paper.custody", "paper.check_out", "box" if box else "dossiers", box or ",".join(numbers_)
    ) as ch:
        cur = ch.conn.execute(
            "INSERT INTO paper_moves(kind, box_no, dossiers, store_person, desk_person, due_at, at, note)"
            " VALUES ('checkout', ?, ?, ?, ?, ?, ?, ?)",
            (
                box or "",
                json.dumps(numbers_, ensure_ascii=False),
                store_person,
                session.user.name,
                due,
                now_iso(),
                note,
            ),
        )
        move_id = cur.lastrowid
        for r in rows:
            ch.conn.execute(
                "INSERT INTO paper_state(dossier_id, location, binding, move_id, due_at, updated_at)"
                " VALUES (?, 'desk', 'bound', ?, ?, ?) ON CONFLICT(dossier_id) DO UPDATE SET"
                " location = 'desk', binding = 'bound', move_id = excluded.move_id, due_at = excluded.due_at,"
                " updated_at = excluded.updated_at",
                (r["id"], move_id, due, now_iso()),
            )
        ch.after = {"move": move_id, "dossiers": numbers_, "from": store_person, "to": session.user.name, "due": due}
    return PaperMove(move_id, "checkout", numbers_, box or "", due)


def set_binding(session, state: str, *, numbers: list[str] | None = None, box: str | None = None) -> list[str]:
    """拆装订: ``unbound`` before the feeder, ``rebound`` when the original binding is restored."""
    session.require("paper.custody")
    if state not in ("unbound", "rebound"):
        raise InvalidInput("Binding state is unbound or rebound.", "装订状态只能是“已拆装订”或“已还原装订”。")
    rows = _dossiers(session, numbers, box)
    not_here = [r["number"] for r in rows if _state(session, r["id"])["location"] != "desk"]
    if not_here:
        raise Refused(
            "Not checked out to the scanning desk: {n}. Check the paper out first (scanstation paper out).",
            "以下案卷未调至扫描台：{n}。请先办理调档（scanstation paper out）。",
            n=", ".join(not_here),
        )
    numbers_ = [r["number"] for r in rows]
    with session.change(
        "paper.custody", f"paper.{state}", "box" if box else "dossiers", box or ",".join(numbers_)
    ) as ch:
        for r in rows:
            ch.conn.execute(
                "UPDATE paper_state SET binding = ?, updated_at = ? WHERE dossier_id = ?", (state, now_iso(), r["id"])
            )
        ch.after = {"dossiers": numbers_, "binding": state}
    return numbers_


def check_in(
    session, *, numbers: list[str] | None = None, box: str | None = None, store_person: str, note: str = ""
) -> PaperMove:
    """The paper goes back to the store room. Refused while a dossier is still unbound."""
    session.require("paper.custody")
    store_person = _person(store_person, "the store-room person receiving", "档案库房接收人")
    rows = _dossiers(session, numbers, box)
    states = {r["number"]: _state(session, r["id"]) for r in rows}
    not_here = [n for n, s in states.items() if s["location"] != "desk"]
    if not_here:
        raise Refused(
            "Not at the scanning desk: {n}. Nothing was checked in.",
            "以下案卷不在扫描台：{n}。未做任何登记。",
            n=", ".join(not_here),
        )
    unbound = [n for n, s in states.items() if s["binding"] == "unbound"]
    if unbound:
        raise Refused(
            "Still unbound: {n}. Restore the binding (scanstation paper rebind) before the paper goes back.",
            "以下案卷尚未还原装订：{n}。请先还原装订（scanstation paper rebind）再归还。",
            n=", ".join(unbound),
        )
    numbers_ = [r["number"] for r in rows]
    with session.change(
        "paper.custody", "paper.check_in", "box" if box else "dossiers", box or ",".join(numbers_)
    ) as ch:
        cur = ch.conn.execute(
            "INSERT INTO paper_moves(kind, box_no, dossiers, store_person, desk_person, at, note)"
            " VALUES ('checkin', ?, ?, ?, ?, ?, ?)",
            (box or "", json.dumps(numbers_, ensure_ascii=False), store_person, session.user.name, now_iso(), note),
        )
        move_id = cur.lastrowid
        for r in rows:
            ch.conn.execute(
                "UPDATE paper_state SET location = 'store', move_id = ?, due_at = '', updated_at = ?"
                " WHERE dossier_id = ?",
                (move_id, now_iso(), r["id"]),
            )
        ch.after = {"move": move_id, "dossiers": numbers_, "from": session.user.name, "to": store_person}
    return PaperMove(move_id, "checkin", numbers_, box or "", "")


def at_desk(session, as_of: datetime | None = None) -> list[dict]:
    """What paper is at the scanning desk, with its binding state and whether it is overdue."""
    session.require("catalog.read")
    now = as_of or datetime.now().astimezone()
    rows = session.catalog.query(
        "SELECT d.number, d.title, d.box_no, d.declared_pages, d.status, s.binding, s.due_at, m.desk_person,"
        " m.store_person, m.at AS checked_out_at, s.move_id FROM paper_state s JOIN dossiers d ON d.id = s.dossier_id"
        " LEFT JOIN paper_moves m ON m.id = s.move_id WHERE s.location = 'desk' ORDER BY s.due_at, d.number"
    )
    for r in rows:
        r["overdue"] = bool(r["due_at"]) and datetime.fromisoformat(r["due_at"]) < now
    return rows


def handover_document(session, move_id: int):
    """The hand-over list (交接清单) of one move, with both signature lines; printing it is audited."""
    from scanstation.custody.pdf import Document, Section

    session.require("paper.custody")
    move = session.catalog.one("SELECT * FROM paper_moves WHERE id = ?", (move_id,))
    if move is None:
        raise NotFound("There is no paper move {m}.", "没有编号为 {m} 的调档记录。", m=move_id)
    numbers = json.loads(move["dossiers"])
    rows = []
    for i, number in enumerate(numbers, 1):
        d = (
            session.catalog.one(
                "SELECT d.*, s.binding FROM dossiers d LEFT JOIN paper_state s ON s.dossier_id = d.id"
                " WHERE d.number = ?",
                (number,),
            )
            or {}
        )
        rows.append(
            [
                i,
                number,
                d.get("title", ""),
                d.get("declared_pages") or "",
                d.get("box_no", ""),
                BINDING_ZH.get(d.get("binding") or "bound", ""),
            ]
        )
    checkout = move["kind"] == "checkout"
    title = "档案调出交接清单（库房→扫描台）" if checkout else "档案归还交接清单（扫描台→库房）"
    giver, taker = (
        (move["store_person"], move["desk_person"]) if checkout else (move["desk_person"], move["store_person"])
    )
    facts = [
        ("交接编号", str(move["id"])),
        ("盒号", move["box_no"] or "—"),
        ("交接时间", move["at"]),
        ("移交人", giver),
        ("接收人", taker),
        ("案卷数", str(len(numbers))),
    ]
    if checkout:
        facts.append(("应归还日期", move["due_at"][:10]))
    doc = Document(
        title=title,
        facts=facts,
        sections=[
            Section(
                "案卷清单",
                ["序号", "档号", "题名", "页数", "盒号", "装订状态"],
                rows,
                widths=[0.6, 3.2, 4, 0.8, 1, 1.2],
            )
        ],
        signatures=[f"移交人（{giver}）签字", f"接收人（{taker}）签字"],
        footer=f"ScanStation {session.home.station} · 交接编号 {move['id']}",
    )
    return doc


def write_handover(session, move_id: int, out: Path) -> Path:
    from scanstation.custody.pdf import write_pdf

    path = write_pdf(handover_document(session, move_id), Path(out))
    session.log("paper.handover_print", "paper_move", str(move_id), {"file": Path(out).name})
    return path
