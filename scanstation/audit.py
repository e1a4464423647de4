"""Append-only audit trail, each entry chained to the previous one with SM3 (R36).

An entry's hash covers its id and every field plus the previous entry's hash, so editing,
deleting or reordering any row breaks the chain at that row. Entries are written in the same
transaction as the change they describe (see scanstation.service).
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass

from scanstation.storage.files import sm3_hex

GENESIS = "0" * 64
FIELDS = ("id", "ts", "user", "station", "action", "object_type", "object_id", "before", "after")


def _canonical(value) -> str:
    if value is None or value == "":
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True, separators=(",", ":"), default=str)


def entry_hash(prev_hash: str, row: dict) -> str:
    payload = "\x1f".join([prev_hash] + [str(row[f]) for f in FIELDS])
    return sm3_hex(payload.encode("utf-8"))


def append(
    conn: sqlite3.Connection,
    *,
    ts: str,
    user: str,
    station: str,
    action: str,
    object_type: str,
    object_id: str,
    before=None,
    after=None,
) -> int:
    """Append one entry; the caller's transaction makes it atomic with the change.

    A catalog shared by several processes serialises the chain's head until the transaction ends
    (``lock_audit_chain``); SQLite's single writer needs nothing."""
    lock = getattr(conn, "lock_audit_chain", None)
    if lock is not None:
        lock()
    last = conn.execute("SELECT id, hash FROM audit_log ORDER BY id DESC LIMIT 1").fetchone()
    prev_hash = last[1] if last else GENESIS
    row = {
        "id": (last[0] + 1) if last else 1,
        "ts": ts,
        "user": user,
        "station": station,
        "action": action,
        "object_type": object_type,
        "object_id": str(object_id),
        "before": _canonical(before),
        "after": _canonical(after),
    }
    row["prev_hash"] = prev_hash
    row["hash"] = entry_hash(prev_hash, row)
    conn.execute(
        "INSERT INTO audit_log (id, ts, user, station, action, object_type, object_id, before, after,"
        " prev_hash, hash) VALUES (:id, :ts, :user, :station, :action, :object_type, :object_id,"
        " :before, :after, :prev_hash, :hash)",
        row,
    )
    return int(row["id"])


@dataclass
class ChainReport:
    ok: bool
    entries: int
    broken_id: int | None = None
    reason_en: str = ""
    reason_zh: str = ""


def tail(catalog, limit: int = 200) -> list[dict]:
    """The newest ``limit`` entries, newest first (the window's audit view)."""
    return catalog.query(
        "SELECT id, ts, user, action, object_type, object_id FROM audit_log ORDER BY id DESC LIMIT ?", (int(limit),)
    )


def verify(conn: sqlite3.Connection) -> ChainReport:
    """Walk the chain; report the first entry whose link or content does not match."""
    cur = conn.execute(
        "SELECT id, ts, user, station, action, object_type, object_id, before, after,"
        " prev_hash, hash FROM audit_log ORDER BY id"
    )
    names = [d[0] for d in cur.description]
    prev_hash, expected_id, count = GENESIS, 1, 0
    for values in cur:
        row = dict(zip(names, values))
        count += 1
        if row["id"] != expected_id:
            return ChainReport(
                False,
                count,
                expected_id,
                f"entry {expected_id} is missing (next is {row['id']})",
                f"第 {expected_id} 条记录缺失（下一条是 {row['id']}）",
            )
        if row["prev_hash"] != prev_hash:
            return ChainReport(
                False, count, row["id"], "link to the previous entry does not match", "与上一条记录的链接不符"
            )
        if entry_hash(prev_hash, row) != row["hash"]:
            return ChainReport(
                False, count, row["id"], "content was changed after it was written", "记录内容在写入后被修改"
            )
        prev_hash, expected_id = row["hash"], expected_id + 1
    return ChainReport(True, count)


#: Audited actions whose "after" names the SM3 of a page file that was legitimately stored.
PAGE_DIGEST_ACTIONS = (
    "page.capture",
    "page.rotate",
    "page.replace",
    "page.restore",
    "page.unreplace",
    "dossier.archived",
)


def recorded_page_digests(conn: sqlite3.Connection) -> tuple[dict[str, set[str]], set[str]]:
    """What the audit trail says each dossier's page files were: ``({档号: {SM3, ...}}, legacy 档号)``.

    Every stored page file is audited with its SM3 (capture, rotation, replacement, restore, receipt
    into an archive). A catalog checksum that no entry records was written around the service layer.
    ``legacy``: dossiers received before receipts recorded their pages' SM3 (nothing to compare).
    """
    recorded: dict[str, set[str]] = {}
    legacy: set[str] = set()
    actions = PAGE_DIGEST_ACTIONS + ("dossier.renumber",)
    marks = ", ".join("?" for _ in actions)
    for action, object_id, before, after in conn.execute(
        f"SELECT action, object_id, before, after FROM audit_log WHERE action IN ({marks}) ORDER BY id", actions
    ):
        number = str(object_id).split("#", 1)[0]
        try:
            value = json.loads(after) if after else {}
        except ValueError:
            continue
        if action == "dossier.renumber":  # a corrected 档号 (R12): its pages' history goes with it
            try:
                old = json.loads(before or "{}").get("number")
            except (ValueError, AttributeError):
                continue
            if isinstance(old, str):
                recorded.setdefault(number, set()).update(recorded.pop(old, set()))
                if old in legacy:
                    legacy.add(number)
            continue
        sm3 = value.get("sm3") if isinstance(value, dict) else None
        if isinstance(sm3, str):
            recorded.setdefault(number, set()).add(sm3)
        elif isinstance(sm3, list):
            recorded.setdefault(number, set()).update(s for s in sm3 if isinstance(s, str))
        elif action == "dossier.archived":
            legacy.add(number)
    return recorded, legacy
