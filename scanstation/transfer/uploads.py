"""Packages delivered over the network (archive side): chunked, resumable uploads and the intake queue.

A station sends its sealed package as one .zip (``scanstation.transfer.https_delivery``):

1. ``begin`` names the upload by the package's identity (the SM3 of its signed tag manifest, which
   the station knows from sealing) and its size. The same package again gets the same upload (and,
   once checked, the same answer): sending twice is harmless.
2. ``put_chunk`` appends one chunk at the offset the archive asks for, after checking the chunk's
   SM3, and extends a chain of the chunk digests (``chain_step``). The chunk is written and synced
   before the received count moves in the catalog, so a server that stops at any moment resumes at
   the last whole chunk; a station that lost its connection asks ``status`` for the offset and goes
   on from there. Sizes are bounded: a chunk at most ``MAX_CHUNK``, a package at most the setting
   ``network.max_package_gb``, and never more than the free space of the disk leaves.
3. ``complete`` compares the station's chain with the archive's (the same chunks, in the same order,
   none missing: one SM3 pass over the data on each side, not three), then the four-property check
   (DA/T 70, ``scanstation.transfer.verify``) recomputes every file's digests and checks the
   signature before the package enters the intake queue; a package whose tag manifest is not the
   announced identity fails that check. A package whose signed tag manifest matches one already
   queued or decided gets that answer.
4. Archive staff ``decide`` through ``scanstation.transfer.receive.receive`` (accept or reject, the
   acceptance sample, the signed receipt): the same call as ``scanstation receive``.
5. The station fetches the signed receipt with ``receipt``.

Files live in ``inbox/uploads`` of the archive home, named by the upload's row id only; nothing
from a request is used as a path. The web serves no folder of the home.
"""

from __future__ import annotations

import collections
import contextlib
import hashlib
import json
import os
import re
import shutil
import threading
import time
from pathlib import Path

from scanstation import settings
from scanstation.errors import CheckFailed, InvalidInput, NotFound, Refused, StorageError
from scanstation.storage.files import fsync_dir
from scanstation.storage.migrations import register as register_migrations

MIGRATION = (
    80,
    "network uploads",
    """
CREATE TABLE IF NOT EXISTS package_uploads (
    id INTEGER PRIMARY KEY,
    upload_id TEXT NOT NULL UNIQUE,          -- the package's identity: SM3 of its signed tag manifest, hex
    size INTEGER NOT NULL,
    batch_id TEXT NOT NULL DEFAULT '',       -- as the station names it (shown only, never a path)
    received INTEGER NOT NULL DEFAULT 0,     -- bytes written and synced
    chain_sm3 TEXT NOT NULL DEFAULT '',      -- chain of the received chunks' SM3 (chain_step)
    state TEXT NOT NULL DEFAULT 'receiving', -- receiving | checking | queued | accepted | rejected | failed
    checks_passed INTEGER,
    report TEXT NOT NULL DEFAULT '',         -- JSON four-property report
    tagmanifest_sm3 TEXT NOT NULL DEFAULT '',
    same_as INTEGER REFERENCES package_uploads(id),   -- a second copy of an earlier package
    error TEXT NOT NULL DEFAULT '',
    uploaded_by TEXT NOT NULL,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    decided_by TEXT NOT NULL DEFAULT '',
    decided_at TEXT NOT NULL DEFAULT '',
    receipt_id TEXT NOT NULL DEFAULT '',
    receipt_path TEXT NOT NULL DEFAULT ''    -- relative to the home
);
CREATE INDEX IF NOT EXISTS package_uploads_state ON package_uploads(state, id);
CREATE INDEX IF NOT EXISTS package_uploads_tag ON package_uploads(tagmanifest_sm3);
""",
)
register_migrations(__name__, MIGRATION)

MAX_CHUNK = 16 << 20
DEFAULT_MAX_GB = 50
RESERVE_BYTES = 256 << 20  # free space left on the disk after the largest upload
STATE_ZH = {
    "receiving": "接收中",
    "checking": "检测中",
    "queued": "待处理",
    "accepted": "已接收",
    "rejected": "已退回",
    "failed": "无法检测",
}
_HEX64 = re.compile(r"[0-9a-f]{64}")
ORDER_WAIT = 60.0  # seconds a chunk waits for the one before it, while that one is still arriving
ORDER_GRACE = 2.0  # ... and for the one before it to begin arriving
_locks: dict[str, threading.Lock] = {}
_locks_guard = threading.Lock()
WAITING_MAX = 8  # chunks waiting at once (each holds a worker thread): beyond that one is refused at once
_arriving: dict[str, collections.Counter] = {}  # upload -> offsets of chunks being received or stored now
_arrivals = threading.Condition()
_waiting = [0]  # chunks waiting for an earlier one now


def now_iso() -> str:
    from scanstation.clock import now_iso as now

    return now()


def sm3(data=b""):
    """A new SM3 hash (OpenSSL's, through hashlib)."""
    return hashlib.new("sm3", data)


def chain_step(chain: str, offset: int, chunk_sm3: str) -> str:
    """The chain after one more chunk: SM3 of the previous chain, the chunk's offset and its SM3."""
    return hashlib.new("sm3", f"{chain}:{offset}:{chunk_sm3}".encode("ascii")).hexdigest()


def _lock(upload_id: str) -> threading.Lock:
    with _locks_guard:
        return _locks.setdefault(upload_id, threading.Lock())


@contextlib.contextmanager
def arriving(upload_id: str, offset: int):
    """While a chunk is being received and stored: a chunk after it that arrives first waits for it
    (``put_chunk``) instead of being refused, so a station can send the next chunk before the
    previous one's answer. Kept in memory only: after a restart nothing is arriving."""
    key = str(upload_id).lower()
    with _arrivals:
        _arriving.setdefault(key, collections.Counter())[offset] += 1
    try:
        yield
    finally:
        with _arrivals:
            offsets = _arriving.get(key, collections.Counter())
            offsets[offset] -= 1
            if offsets[offset] <= 0:
                del offsets[offset]
            if not offsets:
                _arriving.pop(key, None)
            _arrivals.notify_all()


def _wait_for_earlier(upload_id: str, offset: int, received: int, started: float) -> bool:
    """Wait a little while a chunk before ``offset`` (and from ``received`` on) is still arriving, or
    for a moment in case it has not begun to (two chunks sent at once may arrive in either order);
    False when none is (the station must send from ``received``)."""
    key = str(upload_id).lower()
    waited = time.monotonic() - started
    with _arrivals:
        earlier = any(received <= o < offset for o in _arriving.get(key, ()))
        if waited > (ORDER_WAIT if earlier else ORDER_GRACE):
            return False
        _arrivals.wait(timeout=0.5 if earlier else 0.05)
    return True


def folder(home) -> Path:
    return home.dir("inbox") / "uploads"


def part_path(home, row: dict) -> Path:
    return folder(home) / f"{int(row['id'])}.part"


def package_path(home, row: dict) -> Path:
    return folder(home) / f"{int(row['id'])}.zip"


def max_bytes(home) -> int:
    return int(float(settings.get(home, "network.max_package_gb") or DEFAULT_MAX_GB) * 1024**3)


def _row(catalog, upload_id: str) -> dict:
    upload_id = str(upload_id or "").strip().lower()
    row = (
        catalog.one("SELECT * FROM package_uploads WHERE upload_id = ?", (upload_id,))
        if _HEX64.fullmatch(upload_id)
        else None
    )
    if row is None:
        raise NotFound(
            "No upload {id} on this archive; start the delivery again.",
            "本档案室没有上传任务 {id}；请重新发送。",
            id=upload_id[:16],
        )
    return row


def _public(row: dict, home=None) -> dict:
    """What the station and the intake page are told about an upload."""
    out = {
        k: row[k]
        for k in (
            "upload_id",
            "size",
            "batch_id",
            "received",
            "state",
            "checks_passed",
            "tagmanifest_sm3",
            "error",
            "uploaded_by",
            "created_at",
            "updated_at",
            "decided_by",
            "decided_at",
            "receipt_id",
        )
    }
    out["id"] = row["id"]
    out["state_zh"] = STATE_ZH.get(row["state"], row["state"])
    out["same_as"] = row["same_as"]
    return out


def _owner_or_staff(session, row: dict) -> None:
    if row["uploaded_by"] != session.user.name and not session.can("receive"):
        raise Refused(
            "Upload {id} belongs to another account.", "上传任务 {id} 属于其他账户。", id=row["upload_id"][:16]
        )


# -- the station's side of the protocol -------------------------------------------------------
def begin(session, upload_id: str, size: int, batch_id: str = "") -> dict:
    """Start (or find again) the upload of a file with this SM3 and size."""
    session.require("package.deliver")
    home = session.home
    if home.info.role != "archive":
        raise Refused(
            "This home is a scanning station; packages are delivered to an archive room's home.",
            "此工作目录是扫描站；移交包须送到档案室的工作目录。",
        )
    upload_id = str(upload_id or "").strip().lower()
    if not _HEX64.fullmatch(upload_id):
        raise InvalidInput("The package digest must be 64 hex digits (SM3).", "移交包摘要须为 64 位十六进制数（SM3）。")
    if not isinstance(size, int) or size <= 0:
        raise InvalidInput("The package size must be a positive number of bytes.", "移交包大小须为正整数（字节）。")
    limit = max_bytes(home)
    if size > limit:
        raise Refused(
            "The package has {n} bytes; this archive takes at most {m} bytes per package "
            "(setting network.max_package_gb). Split the batch or ask the archive to raise the limit.",
            "移交包有 {n} 字节；本档案室每个移交包最多接收 {m} 字节（设置 network.max_package_gb）。请拆分批次或请档案室调高上限。",
            n=size,
            m=limit,
        )
    batch_id = re.sub(r"[^\w.·-]", "", str(batch_id or ""))[:80]
    existing = session.catalog.one("SELECT * FROM package_uploads WHERE upload_id = ?", (upload_id,))
    if existing:
        _owner_or_staff(session, existing)
        if existing["size"] != size:
            raise InvalidInput(
                "Upload {id} was started with {a} bytes, not {b}.",
                "上传任务 {id} 开始时为 {a} 字节，而非 {b} 字节。",
                id=upload_id[:16],
                a=existing["size"],
                b=size,
            )
        return _public(existing)
    target = folder(home)
    target.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(target).free
    if size + RESERVE_BYTES > free:
        raise StorageError(
            "The archive's disk has {free} bytes free; a package of {n} bytes does not fit. "
            "Nothing was stored; ask the archive staff to free space.",
            "档案室磁盘剩余 {free} 字节，放不下 {n} 字节的移交包。未保存任何内容；请档案室清理空间。",
            free=free,
            n=size,
        )
    stamp = now_iso()
    with session.change("package.deliver", "package.upload_begin", "upload", upload_id) as ch:
        ch.conn.execute(
            "INSERT INTO package_uploads(upload_id, size, batch_id, uploaded_by, created_at, updated_at)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (upload_id, size, batch_id, session.user.name, stamp, stamp),
        )
        ch.after = {"size": size, "batch_id": batch_id}
    return _public(session.catalog.one("SELECT * FROM package_uploads WHERE upload_id = ?", (upload_id,)))


def status(session, upload_id: str) -> dict:
    if not session.can("receive"):
        session.require("package.deliver")
    row = _row(session.catalog, upload_id)
    _owner_or_staff(session, row)
    return _public(row)


def put_chunk(
    session, upload_id: str, offset: int, data: bytes, chunk_sm3: str, *, received_sm3: str | None = None
) -> dict:
    """Write one chunk at ``offset`` (it must be the received count, or a chunk already written).

    ``received_sm3`` is the SM3 of ``data`` when the archive computed it while the bytes arrived (the
    web route does, so that hashing overlaps receiving); otherwise it is computed here."""
    session.require("package.deliver")
    if len(data) > MAX_CHUNK:
        raise InvalidInput("A chunk may hold at most {m} bytes.", "每个数据块最多 {m} 字节。", m=MAX_CHUNK)
    if not len(data):
        raise InvalidInput("An empty chunk was sent.", "收到了空数据块。")
    digest = received_sm3 or sm3(data).hexdigest()
    if digest != str(chunk_sm3 or "").strip().lower():
        raise CheckFailed(
            "The chunk at byte {o} arrived damaged (its SM3 differs); nothing was written. Send it again.",
            "第 {o} 字节处的数据块传输损坏（SM3 不符）；未写入。请重新发送。",
            o=offset,
        )
    started, waiting = time.monotonic(), False
    try:
        while True:
            row = _row(session.catalog, upload_id)
            _owner_or_staff(session, row)
            if not isinstance(offset, int) or offset <= row["received"] or row["state"] != "receiving":
                break
            if not waiting:
                with _arrivals:
                    if _waiting[0] >= WAITING_MAX:
                        break
                    _waiting[0] += 1
                    waiting = True
            if not _wait_for_earlier(row["upload_id"], offset, row["received"], started):
                break
    finally:
        if waiting:
            with _arrivals:
                _waiting[0] -= 1
    with _lock(str(upload_id).lower()):
        row = _row(session.catalog, upload_id)
        _owner_or_staff(session, row)
        if row["state"] != "receiving":
            return _public(row)
        if not isinstance(offset, int) or offset < 0 or offset + len(data) > row["size"]:
            raise InvalidInput(
                "The chunk at byte {o} ({n} bytes) lies outside the package's {s} bytes.",
                "第 {o} 字节处的数据块（{n} 字节）超出移交包的 {s} 字节。",
                o=offset,
                n=len(data),
                s=row["size"],
            )
        path = part_path(session.home, row)
        if offset < row["received"]:  # a chunk written before whose answer was lost: it must be the same bytes
            with open(path, "rb") as fh:
                fh.seek(offset)
                if hashlib.new("sm3", fh.read(len(data))).digest() != bytes.fromhex(digest):
                    raise CheckFailed(
                        "The chunk at byte {o} differs from what was received before; start the delivery again.",
                        "第 {o} 字节处的数据块与此前收到的不同；请重新发送。",
                        o=offset,
                    )
            return _public(row)
        if offset > row["received"]:
            raise Refused(
                "The archive has {r} bytes of this package; send from byte {r}, not {o}.",
                "档案室已收到该移交包的 {r} 字节；请从第 {r} 字节起发送，而非 {o}。",
                r=row["received"],
                o=offset,
            )
        try:
            with open(path, "ab") as fh:
                fh.truncate(row["received"])  # drop a chunk half-written before a stop
                fh.seek(row["received"])
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
        except OSError as exc:
            raise StorageError(
                "The archive could not store the chunk ({error}); nothing of it counts. Try again later.",
                "档案室无法保存该数据块（{error}）；该块不计入。请稍后重试。",
                error=exc.strerror or str(exc),
            ) from exc
        received = row["received"] + len(data)
        chain = chain_step(row["chain_sm3"], offset, digest)
        with session.catalog.write() as conn:
            conn.execute(
                "UPDATE package_uploads SET received = ?, chain_sm3 = ?, updated_at = ? WHERE id = ?",
                (received, chain, now_iso(), row["id"]),
            )
        row = dict(row, received=received, chain_sm3=chain)
    with _arrivals:
        _arrivals.notify_all()
    return _public(row)


def complete(session, upload_id: str, chain: str) -> dict:
    """All bytes are here: the station's chain of chunk digests must be the archive's; the package
    then waits for ``check``."""
    session.require("package.deliver")
    with _lock(str(upload_id).lower()):
        row = _row(session.catalog, upload_id)
        _owner_or_staff(session, row)
        if row["state"] != "receiving":
            return _public(row)
        if row["received"] != row["size"]:
            raise Refused(
                "The archive has {r} of {s} bytes; send the rest first.",
                "档案室已收到 {r}/{s} 字节；请先发送其余部分。",
                r=row["received"],
                s=row["size"],
            )
        part = part_path(session.home, row)
        if not row["chain_sm3"] or str(chain or "").strip().lower() != row["chain_sm3"]:
            part.unlink(missing_ok=True)
            with session.change("package.deliver", "package.upload_damaged", "upload", row["upload_id"]) as ch:
                ch.conn.execute(
                    "UPDATE package_uploads SET received = 0, chain_sm3 = '', updated_at = ? WHERE id = ?",
                    (now_iso(), row["id"]),
                )
            raise CheckFailed(
                "The chunks the archive received are not the ones the station sent (their SM3 chain "
                "differs); the upload was discarded. Send it again.",
                "档案室收到的数据块与扫描站发送的不一致（SM3 链不符），已丢弃。请重新发送。",
            )
        os.replace(part, package_path(session.home, row))
        fsync_dir(folder(session.home))
        with session.change("package.deliver", "package.uploaded", "upload", row["upload_id"]) as ch:
            ch.conn.execute(
                "UPDATE package_uploads SET state = 'checking', updated_at = ? WHERE id = ?", (now_iso(), row["id"])
            )
            ch.after = {"bytes": row["size"], "batch_id": row["batch_id"]}
        return _public(session.catalog.one("SELECT * FROM package_uploads WHERE id = ?", (row["id"],)))


def check(session, upload_id: str, workers: int | None = None) -> dict:
    """The four-property check of an uploaded package; it then waits in the intake queue.

    A package whose signed tag manifest matches one uploaded before takes that one's place and
    answer (its own copy is removed)."""
    from scanstation import dossier_number
    from scanstation.transfer import keys, verify

    row = _row(session.catalog, upload_id)
    if row["state"] != "checking":
        return _public(row)
    home = session.home
    path = package_path(home, row)
    try:
        with verify.checked(
            path,
            trust=keys.trust_list(home),
            schema=dossier_number.schema_for_home(home),
            catalog=home.catalog,
            workers=workers,
            work_dir=home.dir("inbox"),
        ) as report:
            data = report.to_dict()
            tag = report.tagmanifest_sm3
            passed = report.passed
            batch = report.info.get("External-Identifier", "") or row["batch_id"]
    except Exception as exc:  # an unreadable zip and the like: stays visible to the archive staff with the reason
        message = getattr(exc, "message", None) or str(exc)
        with session.change(None, "package.check_failed", "upload", row["upload_id"]) as ch:
            ch.conn.execute(
                "UPDATE package_uploads SET state = 'failed', error = ?, updated_at = ? WHERE id = ?",
                (message[:2000], now_iso(), row["id"]),
            )
            ch.after = {"error": message[:500]}
        return _public(session.catalog.one("SELECT * FROM package_uploads WHERE id = ?", (row["id"],)))
    if tag != row["upload_id"]:
        message = (
            f"The package's signed tag manifest has SM3 {tag[:16] or '—'}…, not the identity "
            f"{row['upload_id'][:16]}… it was sent under."
        )
        report_json = json.dumps(data, ensure_ascii=False)
        with session.change(None, "package.check_failed", "upload", row["upload_id"]) as ch:
            ch.conn.execute(
                "UPDATE package_uploads SET state = 'failed', error = ?, checks_passed = 0, report = ?,"
                " batch_id = ?, updated_at = ? WHERE id = ?",
                (message, report_json, batch, now_iso(), row["id"]),
            )
            ch.after = {"error": message}
        return _public(session.catalog.one("SELECT * FROM package_uploads WHERE id = ?", (row["id"],)))
    earlier = (
        session.catalog.one(
            "SELECT * FROM package_uploads WHERE tagmanifest_sm3 = ? AND tagmanifest_sm3 != '' "
            "AND id != ? AND same_as IS NULL ORDER BY id LIMIT 1",
            (tag, row["id"]),
        )
        if tag
        else None
    )
    with session.change(None, "package.checked", "upload", row["upload_id"]) as ch:
        if earlier:
            ch.conn.execute(
                "UPDATE package_uploads SET state = ?, same_as = ?, tagmanifest_sm3 = ?, checks_passed = ?,"
                " report = ?, batch_id = ?, updated_at = ? WHERE id = ?",
                (
                    earlier["state"],
                    earlier["id"],
                    tag,
                    int(passed),
                    json.dumps(data, ensure_ascii=False),
                    batch,
                    now_iso(),
                    row["id"],
                ),
            )
            ch.after = {"same_as": earlier["upload_id"], "state": earlier["state"]}
        else:
            ch.conn.execute(
                "UPDATE package_uploads SET state = 'queued', tagmanifest_sm3 = ?, checks_passed = ?,"
                " report = ?, batch_id = ?, updated_at = ? WHERE id = ?",
                (tag, int(passed), json.dumps(data, ensure_ascii=False), batch, now_iso(), row["id"]),
            )
            ch.after = {"passed": passed, "tagmanifest_sm3": tag, "batch_id": batch}
    if earlier:
        path.unlink(missing_ok=True)
    return _public(session.catalog.one("SELECT * FROM package_uploads WHERE id = ?", (row["id"],)))


def pending_checks(catalog) -> list[str]:
    """Uploads complete but not checked yet (the service stopped while checking): checked again at start."""
    return [
        r["upload_id"]
        for r in catalog.query("SELECT upload_id FROM package_uploads WHERE state = 'checking' ORDER BY id")
    ]


def answer(session, upload_id: str) -> dict:
    """The upload as the station sees it; a copy of an earlier package answers with that package."""
    info = status(session, upload_id)
    if info.get("same_as"):
        first = session.catalog.one("SELECT * FROM package_uploads WHERE id = ?", (info["same_as"],))
        merged = _public(first)
        merged["upload_id"], merged["same_as_upload"] = info["upload_id"], first["upload_id"]
        return merged
    return info


# -- the archive staff's side ------------------------------------------------------------------
def queue(
    session, states: tuple[str, ...] = ("checking", "queued", "failed", "accepted", "rejected"), limit: int = 200
) -> list[dict]:
    session.require("receive")
    marks = ",".join("?" * len(states))
    rows = session.catalog.query(
        f"SELECT * FROM package_uploads WHERE state IN ({marks}) AND same_as IS NULL "
        f"ORDER BY CASE state WHEN 'queued' THEN 0 WHEN 'checking' THEN 1 ELSE 2 END, id DESC "
        f"LIMIT ?",
        list(states) + [limit],
    )
    return [_public(r) for r in rows]


def _row_by_id(catalog, ident) -> dict:
    try:
        ident = int(ident)
    except (TypeError, ValueError):
        ident = -1
    row = catalog.one("SELECT * FROM package_uploads WHERE id = ?", (ident,))
    if row is None:
        raise NotFound("No package {id} in the intake queue.", "接收队列中没有编号为 {id} 的移交包。", id=ident)
    return row


def report(session, ident) -> dict:
    """One queued package with its four-property report (for the intake page)."""
    session.require("receive")
    row = _row_by_id(session.catalog, ident)
    out = _public(row)
    out["report"] = json.loads(row["report"]) if row["report"] else None
    session.log("package.view", "upload", row["upload_id"], {"batch_id": row["batch_id"]})
    return out


def decide(
    session,
    ident,
    decision: str,
    *,
    reasons: list[str] | None = None,
    key_name: str | None = None,
    passphrase: str = "",
) -> dict:
    """Accept or reject a queued package: ``receive`` re-checks it, samples, decides and signs the receipt."""
    from scanstation.transfer import receive as receiving

    session.require("receive")
    row = _row_by_id(session.catalog, ident)
    if row["state"] not in ("queued", "failed"):
        raise Refused(
            "Package {id} is {state}; only a package waiting in the queue can be decided on.",
            "移交包 {id} 当前为“{state_zh}”；只有队列中待处理的移交包才能处理。",
            id=row["id"],
            state=row["state"],
            state_zh=STATE_ZH.get(row["state"], row["state"]),
        )
    if decision not in ("accept", "reject"):
        raise InvalidInput("Decide with accept or reject.", "请选择接收（accept）或退回（reject）。")
    path = package_path(session.home, row)
    if not path.is_file():
        raise NotFound(
            "The file of package {id} is not in the intake folder any more; ask the station to send it again.",
            "接收目录中已没有移交包 {id} 的文件；请扫描站重新发送。",
            id=row["id"],
        )
    result = receiving.receive(
        session, path, decision=decision, reasons=reasons, key_name=key_name, passphrase=passphrase
    )
    receipt_file = next((f for f in result.get("receipt_files", []) if f.endswith(".json")), "")
    rel = str(Path(receipt_file).resolve().relative_to(Path(session.home.path).resolve())) if receipt_file else ""
    state = result["decision"]
    with session.change("receive", f"package.{state}_upload", "upload", row["upload_id"]) as ch:
        ch.conn.execute(
            "UPDATE package_uploads SET state = ?, decided_by = ?, decided_at = ?, receipt_id = ?,"
            " receipt_path = ?, updated_at = ? WHERE id = ? OR same_as = ?",
            (
                state,
                session.user.name,
                now_iso(),
                result["receipt"]["receipt"]["receipt_id"],
                rel,
                now_iso(),
                row["id"],
                row["id"],
            ),
        )
        ch.after = {"decision": state, "receipt": result["receipt"]["receipt"]["receipt_id"]}
    return {
        "id": row["id"],
        "state": state,
        "receipt_id": result["receipt"]["receipt"]["receipt_id"],
        "dossiers_accepted": result.get("dossiers_accepted", []),
        "dossiers_returned": result.get("dossiers_returned", []),
    }


def receipt(session, upload_id: str | None = None, ident=None) -> dict:
    """The signed receipt of a decided package (the envelope as written by ``receive``)."""
    if ident is not None:
        session.require("receive")
        row = _row_by_id(session.catalog, ident)
    else:
        row = _row(session.catalog, upload_id)
        _owner_or_staff(session, row)
        if row["same_as"]:
            row = session.catalog.one("SELECT * FROM package_uploads WHERE id = ?", (row["same_as"],))
    if row["state"] not in ("accepted", "rejected") or not row["receipt_path"]:
        raise NotFound(
            "Package {b} has no receipt yet ({state_zh}); fetch it again after the archive staff decided.",
            "移交包 {b} 尚无回执（{state_zh}）；请在档案室处理后再获取。",
            b=row["batch_id"] or row["id"],
            state_zh=STATE_ZH.get(row["state"], row["state"]),
        )
    path = Path(session.home.path) / row["receipt_path"]
    envelope = json.loads(path.read_text(encoding="utf-8"))
    session.log("receipt.fetch", "upload", row["upload_id"], {"receipt": row["receipt_id"]})
    return envelope


__all__ = [
    "MAX_CHUNK",
    "MIGRATION",
    "answer",
    "begin",
    "check",
    "complete",
    "decide",
    "pending_checks",
    "put_chunk",
    "queue",
    "receipt",
    "report",
    "status",
]
