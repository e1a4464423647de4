"""Fixity checks: re-hash stored page images and compare with the catalog (R22, R39).

Every active page (or a random sample of them, with its seed recorded so it can be repeated) is
read again, from the home's image folders or, on an archive on PostgreSQL, from the page store (the
object named by the page's SM3; a full run also re-hashes the store's other objects); SHA-256 and SM3 are compared with the values stored when the page was saved. The
catalog's SM3 must also be one the audit trail recorded for that dossier (capture, rotation,
replacement, receipt): a page file swapped with the catalog's checksums edited to match is caught
here. Missing files, mismatches and unrecorded checksums are reported; the run and its result go into ``fixity_runs`` and the audit trail.
"""

from __future__ import annotations

import json
import random
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from scanstation import audit
from scanstation.custody.protection import page_files, unlocked_key
from scanstation.errors import InvalidInput, Refused
from scanstation.home import now_iso


@dataclass
class FixityResult:
    run_id: int = 0
    sample_percent: float = 100.0
    seed: int | None = None
    pages_total: int = 0
    checked: int = 0
    bytes: int = 0
    mismatched: list[dict] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)
    #: pages whose catalog SM3 the audit trail never recorded (the catalog was edited around the service layer)
    unrecorded: list[dict] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.mismatched or self.missing or self.unrecorded)

    def as_dict(self) -> dict:
        return {**self.__dict__, "ok": self.ok}


def _check_one(files, row: dict, home) -> tuple[str, dict]:
    where = {"number": row["number"], "seq": row["seq"], "file": row["file_name"], "page_id": row["id"]}
    try:
        size, sha256, sm3 = files.digests(row)
    except FileNotFoundError:
        return "missing", where
    except Refused as exc:  # an encrypted file whose tag does not verify was changed
        if unlocked_key(home) is None:
            raise
        return "mismatch", {**where, "bytes": row["bytes"], "error": exc.en}
    found = {**where, "bytes": size}
    if sha256 != row["sha256"] or sm3 != row["sm3"] or (row["bytes"] and size != row["bytes"]):
        found.update(
            {
                "expected_sha256": row["sha256"],
                "found_sha256": sha256,
                "expected_sm3": row["sm3"],
                "found_sm3": sm3,
                "expected_bytes": row["bytes"],
            }
        )
        return "mismatch", found
    return "ok", found


def check(session, sample_percent: float = 100.0, seed: int | None = None, workers: int = 2) -> FixityResult:
    """Re-hash stored pages; record the run in the audit trail. ``result.ok`` is False on any problem."""
    session.require("fixity.check")
    if not 0 < sample_percent <= 100:
        raise InvalidInput(
            "--sample must be a percentage above 0 and at most 100.", "--sample 须为大于 0 且不超过 100 的百分比。"
        )
    started = now_iso()
    rows = session.catalog.query(
        "SELECT p.id, p.seq, p.file_name, p.bytes, p.sha256, p.sm3, d.number FROM pages p"
        " JOIN dossiers d ON d.id = p.dossier_id WHERE p.state = 'active' AND p.file_name != '' ORDER BY p.id"
    )
    result = FixityResult(sample_percent=sample_percent, pages_total=len(rows))
    if sample_percent < 100:
        result.seed = seed if seed is not None else random.SystemRandom().randrange(1 << 31)
        count = max(1, round(len(rows) * sample_percent / 100)) if rows else 0
        rows = sorted(random.Random(result.seed).sample(rows, count), key=lambda r: r["id"])
    result.unrecorded = _unrecorded(session.catalog.conn, rows)
    files = page_files(session.home)
    if sample_percent >= 100:
        # a full run also checks the store's other objects (package records, receipts) where there are any
        for other in files.other_objects(session.catalog):
            rows.append(
                {
                    "id": None,
                    "seq": None,
                    "number": "",
                    "file_name": "store:" + other["sm3"],
                    "bytes": other["bytes"],
                    "sha256": other["sha256"],
                    "sm3": other["sm3"],
                }
            )
    # hashlib releases the GIL on large buffers: two threads keep two cores busy.
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for outcome, info in pool.map(lambda r: _check_one(files, r, session.home), rows):
            if outcome == "missing":
                result.missing.append(info)
                continue
            result.checked += 1
            result.bytes += info["bytes"]
            if outcome == "mismatch":
                result.mismatched.append(info)
    finished = now_iso()
    details = {
        "pages_total": result.pages_total,
        "bytes": result.bytes,
        "mismatched": result.mismatched[:200],
        "missing": result.missing[:200],
        "unrecorded": result.unrecorded[:200],
    }
    with session.change(None, "fixity.check", "home", session.home.fonds) as ch:
        cur = ch.conn.execute(
            "INSERT INTO fixity_runs(user, started_at, finished_at, sample_percent, seed, checked, mismatched, missing,"
            " ok, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                session.user.name,
                started,
                finished,
                sample_percent,
                result.seed,
                result.checked,
                len(result.mismatched),
                len(result.missing),
                int(result.ok),
                json.dumps(details, ensure_ascii=False),
            ),
        )
        result.run_id = cur.lastrowid
        ch.after = {
            "run": result.run_id,
            "ok": result.ok,
            "sample_percent": sample_percent,
            "seed": result.seed,
            "checked": result.checked,
            "mismatched": [_label(m) for m in result.mismatched][:50],
            "missing": [_label(m) for m in result.missing][:50],
            "unrecorded": [_label(m) for m in result.unrecorded][:50],
        }
    return result


def _label(m: dict) -> str:
    return f"{m['number']}#{m['seq']}" if m["number"] else m["file"]


def _unrecorded(conn, rows: list[dict]) -> list[dict]:
    """Pages whose catalog SM3 no audit entry recorded: a file swapped on disk with the catalog's checksums
    updated to match passes the re-hash, but not this comparison with the (anchored) audit trail."""
    recorded, legacy = audit.recorded_page_digests(conn)
    return [
        {"number": r["number"], "seq": r["seq"], "file": r["file_name"], "page_id": r["id"], "catalog_sm3": r["sm3"]}
        for r in rows
        if r["number"] not in legacy and r["sm3"] not in recorded.get(r["number"], ())
    ]


def last_run(catalog) -> dict | None:
    return catalog.one("SELECT * FROM fixity_runs ORDER BY id DESC LIMIT 1")


def due(home, now: datetime | None = None) -> bool:
    """For the GUI's schedule: the last check is older than ``fixity.interval_days`` (0 = never)."""
    from scanstation import settings

    interval = float(settings.get(home, "fixity.interval_days") or 0)
    if interval <= 0:
        return False
    if not home.catalog.one("SELECT 1 AS x FROM pages WHERE state = 'active' AND file_name != '' LIMIT 1"):
        return False
    last = last_run(home.catalog)
    if last is None:
        return True
    try:
        finished = datetime.fromisoformat(last["finished_at"])
    except (TypeError, ValueError):
        return True
    now = now or datetime.now().astimezone()
    return now - finished > timedelta(days=interval)


def scheduled_check(session) -> FixityResult:
    """The check the GUI runs when one is due: a sample of ``fixity.sample_percent`` of the pages."""
    from scanstation import settings

    sample = float(settings.get(session.home, "fixity.sample_percent") or 100)
    return check(session, sample_percent=min(100.0, max(0.1, sample)))


__all__ = ["FixityResult", "check", "due", "last_run", "scheduled_check"]
