"""Backups of a station home (R39): generations, incremental, verified by recomputing checksums.

``DEST/gen-YYYYmmdd-HHMMSS/`` holds one complete copy of the home: the catalog taken with SQLite's
online backup API (a consistent snapshot while the station keeps working), then every other file
of the home. A file whose size and modification time match the previous generation's manifest,
or whose content (SHA-256) is already in it, is hard-linked from the previous generation instead of
copied again, so every generation is complete on its own while unchanged pages take no extra space
(on file systems without hard links, e.g. FAT/exFAT USB disks, they are copied). A generation is
built under ``*.partial`` and renamed only once its ``manifest.json`` (path, bytes, SHA-256 and SM3
of every file) is written. Files removed by the destruction procedure are simply absent from the
next generation.

``verify`` recomputes every checksum of every generation and records the result in the home's
settings (``backup.last_verified_at``) so the GUI can remind when it is older than
``backup.max_age_days``. ``restore`` copies a generation into an empty folder, checking every
file against the manifest, and proves the restored catalog's audit chain.
"""

from __future__ import annotations

import ctypes
import errno
import hashlib
import json
import os
import shutil
import sqlite3
import sys
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

from scanstation import audit
from scanstation import settings as station_settings
from scanstation.errors import CheckFailed, InvalidInput, NotFound, Refused
from scanstation.home import CATALOG_FILE, Home, now_iso
from scanstation.storage.files import PART_SUFFIX, copy_hashed, file_digests, fsync_dir, storage_error
from scanstation.storage.image_store import is_encrypted_at_rest
from scanstation.storage.temp_files import FOLDER as TEMP_FOLDER
from scanstation.users import PERMISSIONS, check_password, row_to_user

MANIFEST = "manifest.json"
GEN_PREFIX = "gen-"
PARTIAL = ".partial"
# Never copied: the live catalog (it is taken by the online backup API), its journals, the home lock.
_SKIP_TOP = {".lock", CATALOG_FILE, CATALOG_FILE + "-wal", CATALOG_FILE + "-shm", CATALOG_FILE + "-journal"}


@dataclass
class BackupResult:
    dest: str
    generation: str
    files: int = 0
    bytes: int = 0
    copied: int = 0
    linked: int = 0
    copied_bytes: int = 0
    warnings: list[str] = field(default_factory=list)

    def as_dict(self) -> dict:
        return dict(self.__dict__)


@dataclass
class VerifyResult:
    dest: str
    generations: list[str] = field(default_factory=list)
    files: int = 0
    bytes: int = 0
    mismatched: list[dict] = field(default_factory=list)
    missing: list[dict] = field(default_factory=list)
    unexpected: list[dict] = field(default_factory=list)
    incomplete: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.generations) and not (self.mismatched or self.missing or self.unexpected)

    def as_dict(self) -> dict:
        return {**self.__dict__, "ok": self.ok}


# -- generations ------------------------------------------------------------------------
def generations(dest: Path) -> list[Path]:
    """Complete generations, oldest first."""
    dest = Path(dest)
    if not dest.is_dir():
        return []
    return sorted(
        p
        for p in dest.iterdir()
        if p.is_dir() and p.name.startswith(GEN_PREFIX) and not p.name.endswith(PARTIAL) and (p / MANIFEST).is_file()
    )


def load_manifest(gen: Path) -> dict:
    try:
        return json.loads((Path(gen) / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CheckFailed(
            "The backup manifest {path} cannot be read ({error}); use another generation.",
            "无法读取备份清单 {path}（{error}）；请改用其他备份代。",
            path=str(Path(gen) / MANIFEST),
            error=str(exc),
        ) from exc


def pick_generation(dest: Path, name: str | None = None) -> Path:
    gens = generations(dest)
    if name:
        for gen in gens:
            if gen.name == name:
                return gen
        raise NotFound("No complete backup generation {g} in {d}.", "{d} 中没有完整的备份代 {g}。", g=name, d=str(dest))
    if not gens:
        raise NotFound("No complete backup generation in {d}.", "{d} 中没有完整的备份。", d=str(dest))
    return gens[-1]


def _copy_hashed(src: Path, dst: Path) -> tuple[int, str, str]:
    """Copy a file, hashing what was read. Durability comes from ``_flush`` once at the end."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    return copy_hashed(src, dst)


def _flush(root: Path, files: list[Path]) -> None:
    """Make everything written under ``root`` durable: one syncfs on Linux (a per-file fsync costs
    milliseconds each, minutes for a day's pages on a USB disk), else fsync file by file."""
    synced = False
    if sys.platform.startswith("linux"):
        try:
            libc = ctypes.CDLL(None, use_errno=True)
            fd = os.open(str(root), os.O_RDONLY)
            try:
                synced = libc.syncfs(fd) == 0
            finally:
                os.close(fd)
        except (OSError, AttributeError):
            synced = False
    if not synced:
        for file in files:
            with open(file, "rb+") as fh:
                os.fsync(fh.fileno())
    for folder in sorted({f.parent for f in files} | {root}, reverse=True):
        fsync_dir(folder)


def _link_or_copy(src: Path, dst: Path) -> bool:
    """Hard link ``src`` at ``dst``; copy when the file system cannot link. True when linked."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dst)
        return True
    except OSError as exc:
        if exc.errno not in (errno.EXDEV, errno.EPERM, errno.EMLINK, errno.ENOTSUP, errno.EOPNOTSUPP, errno.EACCES):
            raise
    shutil.copyfile(src, dst)
    return False


def _home_files(home_path: Path):
    """(relative posix path, absolute path) of every file to back up, in a stable order."""
    for root, dirs, files in os.walk(home_path):
        rel_root = Path(root).relative_to(home_path)
        if rel_root == Path("."):  # temporary files (storage.temp_files) are never backed up
            dirs[:] = [d for d in dirs if d != TEMP_FOLDER]
        dirs.sort()
        for name in sorted(files):
            if rel_root == Path(".") and name in _SKIP_TOP:
                continue
            if name.endswith(PART_SUFFIX):
                continue
            path = Path(root) / name
            yield (rel_root / name).as_posix(), path


def _batches(items, size: int = 512):
    """Bounded chunks, so a home with millions of files never queues them all at once."""
    batch = []
    for item in items:
        batch.append(item)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def _snapshot_catalog(home: Home, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    src = sqlite3.connect(f"file:{home.catalog.path}?mode=ro", uri=True)
    dst = sqlite3.connect(str(target))
    try:
        src.backup(dst)  # one step: a consistent snapshot of the live catalog
        dst.execute("PRAGMA journal_mode=DELETE")  # a self-contained file, no -wal beside it
    finally:
        dst.close()
        src.close()


def _expected_page_digests(catalog_file: Path) -> dict[str, str]:
    conn = sqlite3.connect(f"file:{catalog_file}?mode=ro", uri=True)
    try:
        rows = conn.execute(
            "SELECT d.number, p.file_name, p.sha256 FROM pages p JOIN dossiers d ON d.id = p.dossier_id"
            " WHERE p.state = 'active' AND p.file_name != ''"
        ).fetchall()
    finally:
        conn.close()
    return {f"images/{number}/{name}": sha for number, name, sha in rows}


def _within(child: Path, parent: Path) -> bool:
    try:
        child.resolve().relative_to(parent.resolve())
        return True
    except ValueError:
        return False


def create(session, dest: Path, rehash: bool = False) -> BackupResult:
    """A new complete generation in ``dest``; unchanged files are linked from the previous one."""
    session.require("backup")
    home = session.home
    dest = Path(dest)
    if _within(dest, home.path):
        raise InvalidInput(
            "The backup folder {d} is inside the station home; choose another disk or folder.",
            "备份目录 {d} 位于工作目录之内；请选择其他磁盘或目录。",
            d=str(dest),
        )
    started = now_iso()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(dest, exc) from exc
    gens = generations(dest)
    previous = gens[-1] if gens else None
    prev_entries: dict[str, dict] = {}
    prev_by_sha: dict[str, str] = {}
    if previous is not None:
        for entry in load_manifest(previous).get("files", []):
            prev_entries[entry["path"]] = entry
            prev_by_sha.setdefault(entry["sha256"], entry["path"])
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    name, n = f"{GEN_PREFIX}{stamp}", 1
    while (dest / name).exists() or (dest / (name + PARTIAL)).exists():
        n += 1
        name = f"{GEN_PREFIX}{stamp}-{n}"
    work = dest / (name + PARTIAL)
    result = BackupResult(dest=str(dest), generation=name)
    entries = []
    try:
        work.mkdir()
        _snapshot_catalog(home, work / CATALOG_FILE)
        size, sha, sm3 = file_digests(work / CATALOG_FILE)
        entries.append({"path": CATALOG_FILE, "bytes": size, "sha256": sha, "sm3": sm3, "mtime_ns": 0})
        result.copied += 1
        result.copied_bytes += size
        written = [work / CATALOG_FILE]
        expected = _expected_page_digests(work / CATALOG_FILE)

        def one(item):
            """Back up one file; runs in two threads (hashlib releases the GIL while hashing)."""
            rel, path = item
            try:
                st = path.stat()
            except FileNotFoundError:
                return None  # removed while we walked (a page replaced, a temp file)
            target = work / rel
            prev = prev_entries.get(rel)
            if (
                not rehash
                and prev is not None
                and prev["bytes"] == st.st_size
                and prev.get("mtime_ns") == st.st_mtime_ns
                and (previous / rel).is_file()
            ):
                return dict(prev), "linked" if _link_or_copy(previous / rel, target) else "reused", None
            size, sha, sm3 = _copy_hashed(path, target)
            warning = None
            if rel in expected and expected[rel] != sha and not is_encrypted_at_rest(target):
                # (a file encrypted at rest cannot match the plain image's checksum; fixity checks it)
                warning = f"{rel}: content differs from the catalog checksum (run: scanstation fixity check)"
            entry = {"path": rel, "bytes": size, "sha256": sha, "sm3": sm3, "mtime_ns": st.st_mtime_ns}
            same = prev_by_sha.get(sha)
            if same is not None and (previous / same).is_file():
                target.unlink()
                return entry, "linked" if _link_or_copy(previous / same, target) else "reused", warning
            return entry, "copied", warning

        with ThreadPoolExecutor(max_workers=2) as pool:
            for batch in _batches(_home_files(Path(home.path))):
                for outcome in pool.map(one, batch):
                    if outcome is None:
                        continue
                    entry, how, warning = outcome
                    entries.append(entry)
                    if warning:
                        result.warnings.append(warning)
                    if how == "linked":
                        result.linked += 1
                    else:
                        written.append(work / entry["path"])
                        result.copied += 1
                        result.copied_bytes += entry["bytes"]
        result.files = len(entries)
        result.bytes = sum(e["bytes"] for e in entries)
        manifest = {
            "format": 1,
            "generation": name,
            "created": now_iso(),
            "fonds": home.fonds,
            "station": home.station,
            "software": home.info.software,
            "previous": previous.name if previous else "",
            "catalog": "SQLite online backup API",
            "algorithms": ["sha256", "sm3"],
            "totals": {"files": result.files, "bytes": result.bytes},
            "files": entries,
        }
        data = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
        with open(work / MANIFEST, "wb") as fh:
            fh.write(data)
        _flush(work, written + [work / MANIFEST])
        os.rename(work, dest / name)
        fsync_dir(dest)
    except OSError as exc:
        raise storage_error(work, exc) from exc
    manifest_sm3 = hashlib.new("sm3", data).hexdigest()
    _record(
        session,
        "create",
        dest,
        name,
        started,
        True,
        result.files,
        result.bytes,
        {k: v for k, v in result.as_dict().items() if k not in ("dest", "generation")} | {"manifest_sm3": manifest_sm3},
    )
    return result


def _record(
    session,
    kind: str,
    dest: Path,
    generation: str,
    started: str,
    ok: bool,
    files: int,
    size: int,
    details: dict,
    settings: dict | None = None,
) -> None:
    with session.change("backup", f"backup.{kind}", "backup", str(dest)) as ch:
        ch.conn.execute(
            "INSERT INTO backup_runs(kind, dest, generation, user, started_at, finished_at, ok, files, bytes,"
            " details) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                kind,
                str(dest),
                generation,
                session.user.name,
                started,
                now_iso(),
                int(ok),
                files,
                size,
                json.dumps(details, ensure_ascii=False),
            ),
        )
        for key, value in (settings or {}).items():
            station_settings.store(ch.conn, key, value)
        ch.after = {
            "generation": generation,
            "ok": ok,
            "files": files,
            "bytes": size,
            **{k: v for k, v in details.items() if not isinstance(v, list)},
            **{k: v[:20] for k, v in details.items() if isinstance(v, list)},
        }


# -- verify ----------------------------------------------------------------------------------
def verify_dest(dest: Path, generation: str | None = None) -> VerifyResult:
    """Recompute every checksum of every (or one) generation; no home needed."""
    dest = Path(dest)
    result = VerifyResult(dest=str(dest))
    if dest.is_dir():
        result.incomplete = sorted(p.name for p in dest.iterdir() if p.is_dir() and p.name.endswith(PARTIAL))
    gens = [pick_generation(dest, generation)] if generation else generations(dest)
    if not gens:
        raise NotFound("No complete backup generation in {d}.", "{d} 中没有完整的备份。", d=str(dest))
    cache: dict[tuple[int, int], tuple[int, str, str]] = {}  # hard links: hash each inode once
    with ThreadPoolExecutor(max_workers=2) as pool:
        for gen in gens:
            manifest = load_manifest(gen)
            result.generations.append(gen.name)
            listed = set()
            present = []
            for entry in manifest.get("files", []):
                path = gen / entry["path"]
                listed.add(entry["path"])
                try:
                    st = path.stat()
                except FileNotFoundError:
                    result.missing.append({"generation": gen.name, "path": entry["path"]})
                    continue
                present.append((entry, path, (st.st_dev, st.st_ino)))
            for batch in _batches(present):
                todo = list({key: path for _, path, key in batch if key not in cache}.items())
                for (key, _), digest in zip(todo, pool.map(lambda kp: file_digests(kp[1]), todo)):
                    cache[key] = digest
                for entry, path, key in batch:
                    size, sha, sm3 = cache[key]
                    result.files += 1
                    result.bytes += size
                    if (size, sha, sm3) != (entry["bytes"], entry["sha256"], entry["sm3"]):
                        result.mismatched.append(
                            {
                                "generation": gen.name,
                                "path": entry["path"],
                                "expected_sha256": entry["sha256"],
                                "found_sha256": sha,
                                "expected_sm3": entry["sm3"],
                                "found_sm3": sm3,
                            }
                        )
            for root, _, files in os.walk(gen):
                for name in files:
                    rel = (Path(root) / name).relative_to(gen).as_posix()
                    if rel != MANIFEST and rel not in listed:
                        result.unexpected.append({"generation": gen.name, "path": rel})
    return result


def verify(session, dest: Path, generation: str | None = None) -> VerifyResult:
    """Verify and record the result; the time of the last successful verification feeds the GUI reminder."""
    session.require("backup")
    started = now_iso()
    result = verify_dest(dest, generation)
    details = {
        "generations": result.generations,
        "mismatched": result.mismatched,
        "missing": result.missing,
        "unexpected": result.unexpected,
        "incomplete": result.incomplete,
    }
    finished = now_iso()
    settings = {
        "backup.last_verify": {
            "at": finished,
            "dest": str(dest),
            "ok": result.ok,
            "generations": len(result.generations),
            "problems": len(result.mismatched) + len(result.missing) + len(result.unexpected),
        }
    }
    if result.ok:
        settings["backup.last_verified_at"] = finished
    _record(
        session,
        "verify",
        Path(dest),
        result.generations[-1] if result.generations else "",
        started,
        result.ok,
        result.files,
        result.bytes,
        details,
        settings,
    )
    return result


def reminder(home) -> dict | None:
    """For the GUI: None when a backup was verified within ``backup.max_age_days``, else what to say."""
    from scanstation import settings as station_settings

    max_days = station_settings.get(home, "backup.max_age_days")
    last = home.setting("backup.last_verified_at")
    if last:
        try:
            age = datetime.now().astimezone() - datetime.fromisoformat(last)
        except ValueError:
            age = None
        if age is not None and age <= timedelta(days=max_days):
            return None
    return {
        "last_verified_at": last,
        "max_age_days": max_days,
        "en": (
            f"The last verified backup is older than {max_days} days." if last else "No backup has been verified yet."
        )
        + " Run: scanstation backup create DEST, then backup verify DEST.",
        "zh": (f"最近一次已校验的备份已超过 {max_days} 天。" if last else "尚无已校验的备份。")
        + "请执行：scanstation backup create 目标目录，然后 backup verify 目标目录。",
    }


# -- restore ---------------------------------------------------------------------------------
def check_restorer(gen: Path, user_name: str, password: str):
    """Authenticate against the backed-up catalog itself (the damaged home may be gone)."""
    conn = sqlite3.connect(f"file:{gen / CATALOG_FILE}?mode=ro&immutable=1", uri=True)
    try:
        conn.row_factory = sqlite3.Row
        row = conn.execute("SELECT * FROM users WHERE name = ?", (user_name,)).fetchone()
    except sqlite3.DatabaseError as exc:
        raise CheckFailed(
            "The catalog in backup {g} cannot be read ({error}); use another generation.",
            "备份 {g} 中的目录数据库无法读取（{error}）；请改用其他备份代。",
            g=gen.name,
            error=str(exc),
        ) from exc
    finally:
        conn.close()
    if row is None or not check_password(row["password_hash"], password):
        raise Refused(
            "Wrong user name or password (checked against the backup's own user list).",
            "用户名或密码错误（按备份中的用户列表核对）。",
        )
    user = row_to_user(dict(row))
    if user.disabled or not user.has("backup"):
        raise Refused(
            "Only an administrator of the backed-up home may restore it (needs: {roles}).",
            "只有被备份工作目录的管理员才能恢复（需要：{roles}）。",
            roles=" / ".join(PERMISSIONS["backup"]),
        )
    return user


def restore(dest: Path, target: Path, user_name: str, password: str, generation: str | None = None) -> dict:
    """Restore a generation into an empty folder, checking every file; returns a summary."""
    gen = pick_generation(Path(dest), generation)
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise Refused(
            "The restore target {t} is not empty. Restore into a new or empty folder.",
            "恢复目标 {t} 不是空目录。请恢复到新的或空的目录。",
            t=str(target),
        )
    user = check_restorer(gen, user_name, password)
    manifest = load_manifest(gen)
    started = now_iso()
    problems: list[str] = []
    files = size_total = 0
    try:
        target.mkdir(parents=True, exist_ok=True)
        for entry in manifest.get("files", []):
            rel = entry["path"]
            if rel.startswith("/") or ".." in Path(rel).parts:
                problems.append(f"{rel}: unsafe path in manifest")
                continue
            src = gen / rel
            if not src.is_file():
                problems.append(f"{rel}: missing in the backup")
                continue
            size, sha, sm3 = _copy_hashed(src, target / rel)
            if (size, sha, sm3) != (entry["bytes"], entry["sha256"], entry["sm3"]):
                problems.append(f"{rel}: checksum differs from the manifest")
            if entry.get("mtime_ns"):
                os.utime(target / rel, ns=(entry["mtime_ns"], entry["mtime_ns"]))
            files += 1
            size_total += size
        _flush(target, [p for p in target.rglob("*") if p.is_file()])
    except OSError as exc:
        raise storage_error(target, exc) from exc
    if problems:
        raise CheckFailed(
            "The restore into {t} is incomplete: {n} file(s) failed ({first}). Try another generation.",
            "恢复到 {t} 不完整：{n} 个文件有问题（{first}）。请改用其他备份代。",
            t=str(target),
            n=len(problems),
            first="; ".join(problems[:5]),
        )
    from scanstation.service import Session

    with Home.open(target) as home:
        chain = audit.verify(home.catalog.conn)
        session = Session(home, user)
        details = {
            "source": str(dest),
            "files": files,
            "bytes": size_total,
            "audit_chain_ok": chain.ok,
            "audit_entries": chain.entries,
        }
        _record(session, "restore", Path(dest), gen.name, started, chain.ok, files, size_total, details)
    if not chain.ok:
        raise CheckFailed(
            "Restored, but the audit chain of the restored catalog is broken at entry {i}. "
            "Report this to the auditor; try another generation.",
            "已恢复，但恢复后的审计链在第 {i} 条记录处断裂。请报告审计员，并改用其他备份代。",
            i=chain.broken_id,
        )
    return {
        "generation": gen.name,
        "target": str(target),
        "files": files,
        "bytes": size_total,
        "audit_entries": chain.entries,
        "audit_chain_ok": chain.ok,
    }


__all__ = [
    "BackupResult",
    "VerifyResult",
    "create",
    "generations",
    "load_manifest",
    "pick_generation",
    "reminder",
    "restore",
    "verify",
    "verify_dest",
]
