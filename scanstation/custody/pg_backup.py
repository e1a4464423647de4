"""Backups of an archive home on PostgreSQL and a page store (R39 on the server backend).

A generation in ``DEST/gen-YYYYmmdd-HHMMSS/`` has the same shape and ``manifest.json`` (path, bytes,
SHA-256 and SM3 of every file) as a station home's, so ``backup list`` and ``backup verify`` read it
unchanged. It holds:

- ``archive.dump``: ``pg_dump`` in custom format, taken in a snapshot exported by a REPEATABLE READ
  transaction, in which the row count of every table and the store's object list are read too: the
  dump, the counts and the object list describe the same moment while desks keep receiving.
- ``store/objects/ab/cd/<sm3>``: every object the catalog's ``store_objects`` names, read from the
  store (a folder or S3) and checked against its name while copied. Objects are immutable and named by
  their digest, so an object the previous generation holds is hard-linked from it, not copied again.
- ``home/``: the desk's home folder (``station.json``, ``archive.json`` without secrets, keys, receipts).

Credentials never enter a generation: the connection string carries no password (``archive init``
refuses one), ``pg_dump`` gets it from the environment, a credentials file is skipped, and messages
show connection strings redacted. The manifest's SM3 is written to the audit chain, as on a station.

``restore`` checks every file against the manifest and that the dump is readable before anything is
written, authenticates the restorer against the dump's own user list, then fills a new, empty database
(``pg_restore``) and a new store (each object written and read back), writes a home naming them, and
proves the result: row counts per table equal to the manifest's, every object present with its digest,
and the audit chain intact.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import subprocess
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime
from pathlib import Path

from scanstation import audit
from scanstation.custody import backup as station_backup
from scanstation.errors import CheckFailed, HomeError, InvalidInput, Refused
from scanstation.home import Home, now_iso
from scanstation.storage.files import CHUNK, file_digests, fsync_dir, storage_error
from scanstation.storage.pg_catalog import redact
from scanstation.users import PERMISSIONS, check_password, row_to_user

DUMP_FILE = "archive.dump"
STORE_DIR = "store"
HOME_DIR = "home"
DUMP_TIMEOUT = 6 * 3600  # a catalog of millions of dossiers dumps in minutes; a hung server must still end
BACKEND = "postgresql"


# -- the client programs ------------------------------------------------------------------------
def client_program(name: str, server_major: int | None = None) -> Path:
    """``pg_dump``/``pg_restore`` of the server's major version (Debian keeps them in
    /usr/lib/postgresql/<major>/bin), else the one on PATH."""
    explicit = os.environ.get("SCANSTATION_PG_BIN")
    candidates = []
    if explicit:
        candidates.append(Path(explicit) / name)
    if server_major:
        candidates.append(Path(f"/usr/lib/postgresql/{server_major}/bin") / name)
    found = shutil.which(name)
    if found:
        candidates.append(Path(found))
    from scanstation.storage.postgres_cluster import server_bin_dir

    newest = server_bin_dir()
    if newest is not None:
        candidates.append(newest / name)
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    from scanstation.storage.postgres_cluster import INSTALL_HINT

    raise HomeError(
        "{tool} is not installed; it is needed to back up and restore the archive database. Install it with: {hint}",
        "未安装 {tool}；备份和恢复档案数据库需要它。请安装：{hint}",
        tool=name,
        hint=INSTALL_HINT.replace("postgresql", "postgresql-client"),
    )


def run(args: list[str], what_en: str, what_zh: str, timeout: float = DUMP_TIMEOUT) -> subprocess.CompletedProcess:
    """Run a PostgreSQL client program; its failure is a plain message with any connection string redacted."""
    try:
        proc = subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    except subprocess.TimeoutExpired as exc:
        raise HomeError(
            "{what} did not finish within {s} s; nothing was changed.",
            "{what_zh}在 {s} 秒内未完成；未做任何修改。",
            what=what_en,
            what_zh=what_zh,
            s=int(timeout),
        ) from exc
    except OSError as exc:
        raise HomeError(
            "{what} could not start ({error}).",
            "{what_zh}无法启动（{error}）。",
            what=what_en,
            what_zh=what_zh,
            error=exc.strerror or str(exc),
        ) from exc
    if proc.returncode != 0:
        lines = [redact(line) for line in (proc.stderr or proc.stdout or "").strip().splitlines() if line.strip()]
        raise HomeError(
            "{what} failed: {detail}",
            "{what_zh}失败：{detail}",
            what=what_en,
            what_zh=what_zh,
            detail=(lines[-1] if lines else f"exit {proc.returncode}")[:300],
        )
    return proc


def _server_major(conn) -> int:
    return int(conn.execute("SHOW server_version_num").fetchone()[0]) // 10000


def _copy_checked(src, dst: Path) -> tuple[int, str, str]:
    """Copy a readable binary object into ``dst``, hashing what was read."""
    dst.parent.mkdir(parents=True, exist_ok=True)
    sha, sm3, size = hashlib.sha256(), hashlib.new("sm3"), 0
    with open(dst, "wb") as out:
        for chunk in iter(lambda: src.read(CHUNK), b""):
            sha.update(chunk)
            sm3.update(chunk)
            size += len(chunk)
            out.write(chunk)
    return size, sha.hexdigest(), sm3.hexdigest()


def _object_path(sm3: str) -> str:
    return f"{STORE_DIR}/objects/{sm3[:2]}/{sm3[2:4]}/{sm3}"


def _base_tables(conn) -> list[str]:
    return [
        r[0]
        for r in conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
            "AND table_type = 'BASE TABLE' ORDER BY table_name"
        ).fetchall()
    ]


def _count_rows(conn, tables: list[str]) -> dict[str, int]:
    from psycopg import sql

    return {t: conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(t))).fetchone()[0] for t in tables}


def _secret_files(home: Home) -> set[Path]:
    """Files of the home never copied: a credentials file kept inside it."""
    from scanstation.storage import archive_backend

    config = archive_backend.read_config(home.path)
    named = config.get("credentials") or ""
    return {Path(named).resolve()} if named else set()


# -- create ---------------------------------------------------------------------------------------
def create(session, dest: Path, rehash: bool = False, timeout: float = DUMP_TIMEOUT) -> station_backup.BackupResult:
    """A new complete generation of the archive in ``dest``: dump, store objects, home files, manifest."""
    import psycopg

    session.require("backup")
    home = session.home
    dest = Path(dest)
    if station_backup._within(dest, home.path):
        raise InvalidInput(
            "The backup folder {d} is inside the archive home; choose another disk or folder.",
            "备份目录 {d} 位于档案工作目录之内；请选择其他磁盘或目录。",
            d=str(dest),
        )
    store = home.page_store
    if getattr(store, "root", None) is not None and station_backup._within(dest, store.root):
        raise InvalidInput(
            "The backup folder {d} is inside the page store; choose another disk or folder.",
            "备份目录 {d} 位于页面存储之内；请选择其他磁盘或目录。",
            d=str(dest),
        )
    started = now_iso()
    try:
        dest.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise storage_error(dest, exc) from exc
    gens = station_backup.generations(dest)
    previous = gens[-1] if gens else None
    prev_entries: dict[str, dict] = {}
    if previous is not None:
        for entry in station_backup.load_manifest(previous).get("files", []):
            prev_entries[entry["path"]] = entry
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    name, n = f"{station_backup.GEN_PREFIX}{stamp}", 1
    while (dest / name).exists() or (dest / (name + station_backup.PARTIAL)).exists():
        n += 1
        name = f"{station_backup.GEN_PREFIX}{stamp}-{n}"
    work = dest / (name + station_backup.PARTIAL)
    result = station_backup.BackupResult(dest=str(dest), generation=name)
    entries: list[dict] = []
    written: list[Path] = []
    dsn = home.catalog.dsn
    try:
        work.mkdir()

        def one_object(row):
            """Copy one store object, checked against its name; link it when the previous generation has it."""
            o_sm3, o_sha, o_bytes = row
            rel = _object_path(o_sm3)
            entry = {"path": rel, "bytes": o_bytes, "sha256": o_sha, "sm3": o_sm3, "mtime_ns": 0}
            prev = prev_entries.get(rel)
            if not rehash and prev is not None and prev["sm3"] == o_sm3 and (previous / rel).is_file():
                return entry, "linked" if station_backup._link_or_copy(previous / rel, work / rel) else "reused", None
            try:
                fh = store.open(o_sm3)
            except FileNotFoundError:
                return None, "missing", f"{o_sm3}: named by the catalog but not in the store (run a fixity check)"
            with fh:
                got = _copy_checked(fh, work / rel)
            if got != (o_bytes, o_sha, o_sm3):
                (work / rel).unlink()
                return None, "damaged", f"{o_sm3}: the stored object does not match its name (run a fixity check)"
            return entry, "copied", None

        problems: list[str] = []
        n_objects = object_bytes = 0
        # One snapshot for the dump, the row counts and the object list (desks may be receiving now); the
        # transaction stays open while the objects are streamed from it (a server-side cursor, not a list).
        try:
            snap_conn = psycopg.connect(dsn, connect_timeout=10)
        except psycopg.Error as exc:
            raise home.catalog._unavailable(exc) from exc
        try:
            snap_conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            snap_conn.read_only = True
            snapshot = snap_conn.execute("SELECT pg_export_snapshot()").fetchone()[0]
            major = _server_major(snap_conn)
            server_version = snap_conn.execute("SHOW server_version").fetchone()[0]
            tables = _base_tables(snap_conn)
            counts = _count_rows(snap_conn, tables)
            pg_dump = client_program("pg_dump", major)
            version = run([str(pg_dump), "--version"], "pg_dump", "pg_dump", timeout=30).stdout.strip()
            run(
                [
                    str(pg_dump),
                    "--format=custom",
                    "--no-owner",
                    "--no-privileges",
                    f"--snapshot={snapshot}",
                    f"--file={work / DUMP_FILE}",
                    f"--dbname={dsn}",
                ],
                "Dumping the archive database (pg_dump)",
                "导出档案数据库（pg_dump）",
                timeout=timeout,
            )
            size, sha, sm3 = file_digests(work / DUMP_FILE)
            dump_entry = {"path": DUMP_FILE, "bytes": size, "sha256": sha, "sm3": sm3, "mtime_ns": 0}
            entries.append(dump_entry)
            written.append(work / DUMP_FILE)
            result.copied += 1
            result.copied_bytes += size
            with snap_conn.cursor(name="store_objects") as rows, ThreadPoolExecutor(max_workers=2) as pool:
                rows.execute("SELECT sm3, sha256, bytes FROM store_objects ORDER BY sm3")
                for batch in station_backup._batches(iter(rows)):
                    n_objects += len(batch)
                    object_bytes += sum(int(r[2]) for r in batch)
                    for entry, how, warning in pool.map(one_object, batch):
                        if warning:
                            result.warnings.append(warning)
                            problems.append(warning.split(":")[0])
                        if entry is None:
                            continue
                        entries.append(entry)
                        if how == "linked":
                            result.linked += 1
                        else:
                            written.append(work / entry["path"])
                            result.copied += 1
                            result.copied_bytes += entry["bytes"]
        except psycopg.Error as exc:
            raise home.catalog._unavailable(exc) from exc
        finally:
            with contextlib.suppress(Exception):
                snap_conn.rollback()
                snap_conn.close()
        secrets = _secret_files(home)
        for rel, path in station_backup._home_files(Path(home.path)):
            if path.resolve() in secrets:
                continue
            target = work / HOME_DIR / rel
            try:
                with open(path, "rb") as fh:
                    f_size, f_sha, f_sm3 = _copy_checked(fh, target)
            except FileNotFoundError:
                continue
            entries.append({"path": f"{HOME_DIR}/{rel}", "bytes": f_size, "sha256": f_sha, "sm3": f_sm3, "mtime_ns": 0})
            written.append(target)
            result.copied += 1
            result.copied_bytes += f_size
        result.files = len(entries)
        result.bytes = sum(e["bytes"] for e in entries)
        manifest = {
            "format": 1,
            "generation": name,
            "created": now_iso(),
            "fonds": home.fonds,
            "station": home.station,
            "software": home.info.software,
            "backend": BACKEND,
            "previous": previous.name if previous else "",
            "catalog": f"pg_dump custom format ({version}; server {server_version})",
            "dump": DUMP_FILE,
            "tables": counts,
            "store": {
                "kind": "s3" if str(store.url).startswith("s3://") else "posix",
                "objects": n_objects,
                "bytes": object_bytes,
                "not_copied": problems,
            },
            "algorithms": ["sha256", "sm3"],
            "totals": {"files": result.files, "bytes": result.bytes},
            "files": entries,
        }
        data = json.dumps(manifest, ensure_ascii=False, indent=1).encode("utf-8")
        with open(work / station_backup.MANIFEST, "wb") as fh:
            fh.write(data)
        station_backup._flush(work, written + [work / station_backup.MANIFEST])
        os.rename(work, dest / name)
        fsync_dir(dest)
    except OSError as exc:
        shutil.rmtree(work, ignore_errors=True)
        raise storage_error(work, exc) from exc
    except BaseException:
        shutil.rmtree(work, ignore_errors=True)
        raise
    manifest_sm3 = hashlib.new("sm3", data).hexdigest()
    station_backup._record(
        session,
        "create",
        dest,
        name,
        started,
        not problems,
        result.files,
        result.bytes,
        {k: v for k, v in result.as_dict().items() if k not in ("dest", "generation")}
        | {"manifest_sm3": manifest_sm3, "dump_sm3": dump_entry["sm3"], "backend": BACKEND, "objects": n_objects},
    )
    return result


# -- verify -----------------------------------------------------------------------------------------
def dump_problem(gen: Path, manifest: dict) -> str | None:
    """None when ``pg_restore`` can read the dump's table of contents, else what it said."""
    try:
        run(
            [str(client_program("pg_restore")), "--list", str(Path(gen) / manifest.get("dump", DUMP_FILE))],
            "Reading the dump (pg_restore --list)",
            "读取数据库导出文件（pg_restore --list）",
            timeout=600,
        )
    except HomeError as exc:
        return str(exc)
    return None


def is_pg_generation(manifest: dict) -> bool:
    return manifest.get("backend") == BACKEND


def verify_dest(dest: Path, generation: str | None = None) -> station_backup.VerifyResult:
    """Every checksum of every (or one) generation, as on a station, and for an archive generation whose
    files all match, that ``pg_restore`` can read its dump."""
    result = station_backup.verify_dest(dest, generation)
    damaged = {m["generation"] for m in result.mismatched + result.missing}
    for name in result.generations:
        gen = Path(dest) / name
        manifest = station_backup.load_manifest(gen)
        if is_pg_generation(manifest) and name not in damaged:
            problem = dump_problem(gen, manifest)
            if problem:
                result.mismatched.append(
                    {"generation": name, "path": manifest.get("dump", DUMP_FILE), "error": problem}
                )
    return result


def verify(session, dest: Path, generation: str | None = None) -> station_backup.VerifyResult:
    """``verify_dest``, recorded as a station records its verification (the window's reminder reads it)."""
    session.require("backup")
    started = now_iso()
    result = verify_dest(dest, generation)
    finished = now_iso()
    problems = len(result.mismatched) + len(result.missing) + len(result.unexpected)
    settings = {
        "backup.last_verify": {
            "at": finished,
            "dest": str(dest),
            "ok": result.ok,
            "generations": len(result.generations),
            "problems": problems,
        }
    }
    if result.ok:
        settings["backup.last_verified_at"] = finished
    station_backup._record(
        session,
        "verify",
        Path(dest),
        result.generations[-1] if result.generations else "",
        started,
        result.ok,
        result.files,
        result.bytes,
        {k: getattr(result, k) for k in ("generations", "mismatched", "missing", "unexpected", "incomplete")},
        settings,
    )
    return result


# -- restore ------------------------------------------------------------------------------------------
def _users_from_dump(pg_restore: Path, dump: Path) -> dict[str, dict]:
    """The backed-up ``users`` rows, read from the dump itself (nothing is restored yet)."""
    proc = run(
        [str(pg_restore), "--data-only", "--table=users", "--file=-", str(dump)],
        "Reading the dump (pg_restore)",
        "读取数据库导出文件（pg_restore）",
        timeout=600,
    )
    users, columns, inside = {}, [], False
    for line in proc.stdout.splitlines():
        if re.match(r'COPY (?:\w+\.)?"?users"? \(', line) and line.endswith("FROM stdin;"):
            columns = [c.strip().strip('"') for c in line[line.index("(") + 1 : line.index(")")].split(",")]
            inside = True
            continue
        if inside:
            if line == "\\.":
                break
            values = [None if v == "\\N" else _unescape_copy(v) for v in line.split("\t")]
            row = dict(zip(columns, values))
            users[row["name"]] = row
    return users


def _unescape_copy(value: str) -> str:
    """COPY text format: backslash escapes (names and hashes rarely need them)."""
    if "\\" not in value:
        return value
    out, i = [], 0
    table = {"t": "\t", "n": "\n", "r": "\r", "\\": "\\", "b": "\b", "f": "\f", "v": "\v"}
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            out.append(table.get(value[i + 1], value[i + 1]))
            i += 2
        else:
            out.append(ch)
            i += 1
    return "".join(out)


def check_restorer(users: dict[str, dict], user_name: str, password: str):
    row = users.get(user_name)
    if row is None or not check_password(row["password_hash"], password):
        raise Refused(
            "Wrong user name or password (checked against the backup's own user list).",
            "用户名或密码错误（按备份中的用户列表核对）。",
        )
    row = dict(row, disabled=int(row.get("disabled") or 0), id=int(row.get("id") or 0))
    user = row_to_user(row)
    if user.disabled or not user.has("backup"):
        raise Refused(
            "Only an administrator of the backed-up archive may restore it (needs: {roles}).",
            "只有被备份档案库的管理员才能恢复（需要：{roles}）。",
            roles=" / ".join(PERMISSIONS["backup"]),
        )
    return user


def restore(
    dest: Path,
    target: Path,
    user_name: str,
    password: str,
    generation: str | None = None,
    *,
    db: str | None = None,
    store: str | None = None,
    endpoint: str | None = None,
    credentials: str | None = None,
    timeout: float = DUMP_TIMEOUT,
) -> dict:
    """Restore an archive generation into a new, empty database and a new store, with a new home at
    ``target`` naming them; then prove it (row counts, objects, audit chain)."""
    import psycopg

    from scanstation.storage import archive_backend
    from scanstation.storage.page_store import open_store

    gen = station_backup.pick_generation(Path(dest), generation)
    manifest = station_backup.load_manifest(gen)
    if not is_pg_generation(manifest):
        raise InvalidInput(
            "Backup {g} is of a station home (SQLite); restore it without --db and --store.",
            "备份 {g} 来自扫描站工作目录（SQLite）；恢复时请不要使用 --db 和 --store。",
            g=gen.name,
        )
    if not db or not store:
        raise InvalidInput(
            "Backup {g} is of an archive on PostgreSQL: name the new, empty database with --db "
            "postgresql://… and the new page store with --store FOLDER|s3://bucket/prefix.",
            "备份 {g} 来自 PostgreSQL 档案库：请用 --db postgresql://… 指定新的空数据库，并用 --store "
            "目录|s3://存储桶/前缀 指定新的页面存储。",
            g=gen.name,
        )
    target = Path(target)
    if target.exists() and (not target.is_dir() or any(target.iterdir())):
        raise Refused(
            "The restore target {t} is not empty. Restore into a new or empty folder.",
            "恢复目标 {t} 不是空目录。请恢复到新的或空的目录。",
            t=str(target),
        )
    archive_backend.check_dsn(db)
    archive_backend.load_credentials(credentials)
    # 1. the backup itself: every checksum, and a dump pg_restore can read; nothing written before this
    checked = station_backup.verify_dest(Path(dest), gen.name)  # the dump is read below
    if not checked.ok:
        bad = [f"{m['path']} (checksum differs)" for m in checked.mismatched] + [
            f"{m['path']} (missing)" for m in checked.missing
        ]
        raise CheckFailed(
            "Backup {g} is damaged: {n} file(s) do not match its manifest ({first}). Nothing was restored; "
            "use another generation.",
            "备份 {g} 已损坏：{n} 个文件与清单不符（{first}）。未恢复任何内容；请改用其他备份代。",
            g=gen.name,
            n=len(bad),
            first="; ".join(bad[:5]),
        )
    problem = dump_problem(gen, manifest)
    if problem:
        raise CheckFailed(
            "Backup {g}: the database dump cannot be read ({error}). Nothing was restored; use another generation.",
            "备份 {g}：数据库导出文件无法读取（{error}）。未恢复任何内容；请改用其他备份代。",
            g=gen.name,
            error=problem,
        )
    pg_restore = client_program("pg_restore")
    user = check_restorer(_users_from_dump(pg_restore, gen / manifest["dump"]), user_name, password)
    # 2. the new database must be empty, the new store usable
    try:
        with psycopg.connect(db, connect_timeout=10, autocommit=True) as conn:
            if _base_tables(conn):
                raise Refused(
                    "The database {db} is not empty. Restore into a new, empty database (createdb); nothing was "
                    "changed.",
                    "数据库 {db} 不是空库。请恢复到新建的空数据库（createdb）；未做任何修改。",
                    db=redact(db),
                )
            major = _server_major(conn)
    except psycopg.Error as exc:
        raise HomeError(
            "Cannot reach the database {db} ({error}); nothing was changed.",
            "无法连接数据库 {db}（{error}）；未做任何修改。",
            db=redact(db),
            error=type(exc).__name__,
        ) from exc
    page_store = open_store(store, endpoint)
    page_store.create()
    started = now_iso()
    # 3. objects into the store (each written and read back), then the database in one transaction
    objects = [e for e in manifest["files"] if e["path"].startswith(STORE_DIR + "/")]

    def put(entry):
        page_store.put_file(gen / entry["path"], entry["sha256"], entry["sm3"])

    with ThreadPoolExecutor(max_workers=2) as pool:
        for batch in station_backup._batches(iter(objects)):
            list(pool.map(put, batch))
    run(
        [
            str(client_program("pg_restore", major)),
            "--no-owner",
            "--no-privileges",
            "--exit-on-error",
            "--single-transaction",
            f"--dbname={db}",
            str(gen / manifest["dump"]),
        ],
        "Restoring the archive database (pg_restore)",
        "恢复档案数据库（pg_restore）",
        timeout=timeout,
    )
    # 4. the home: the backed-up desk's files, with archive.json naming the new database and store
    files = 0
    try:
        target.mkdir(parents=True, exist_ok=True)
        for entry in manifest["files"]:
            rel = entry["path"]
            if not rel.startswith(HOME_DIR + "/"):
                continue
            inner = rel[len(HOME_DIR) + 1 :]
            if inner.startswith("/") or ".." in Path(inner).parts:
                continue
            with open(gen / rel, "rb") as fh:
                _copy_checked(fh, target / inner)
            files += 1
        (target / archive_backend.ARCHIVE_FILE).unlink(missing_ok=True)
        archive_backend.write_config(target, dsn=db, store=store, endpoint=endpoint, credentials=credentials)
    except OSError as exc:
        raise storage_error(target, exc) from exc
    # 5. the proof, before anything is written into the restored archive
    problems: list[str] = []
    with psycopg.connect(db, connect_timeout=10, autocommit=True) as conn:
        counts = _count_rows(conn, list(manifest.get("tables", {})))
        listed = {r[0]: (r[1], r[2]) for r in conn.execute("SELECT sm3, sha256, bytes FROM store_objects")}
    for table, expected in manifest.get("tables", {}).items():
        if counts.get(table) != expected:
            problems.append(f"table {table}: {counts.get(table)} rows, the backup had {expected}")
    present = 0
    for entry in objects:
        if page_store.check(entry["sm3"], entry["sha256"]):
            present += 1
        else:
            problems.append(f"object {entry['sm3'][:16]}… missing or damaged in the new store")
    copied = {e["sm3"] for e in objects}
    for sm3 in sorted(set(listed) - copied)[:20]:
        problems.append(f"object {sm3[:16]}… named by the catalog is not in the backup")
    from scanstation.service import Session

    with Home.open(target) as home:
        chain = audit.verify(home.catalog.conn)
        if not chain.ok:
            problems.append(f"audit chain broken at entry {chain.broken_id}")
        details = {
            "source": str(dest),
            "backend": BACKEND,
            "tables": len(counts),
            "rows": sum(v or 0 for v in counts.values()),
            "objects": present,
            "home_files": files,
            "audit_chain_ok": chain.ok,
            "audit_entries": chain.entries,
            "problems": problems[:20],
        }
        station_backup._record(
            Session(home, user),
            "restore",
            Path(dest),
            gen.name,
            started,
            not problems,
            len(manifest["files"]),
            manifest.get("totals", {}).get("bytes", 0),
            details,
        )
    if problems:
        raise CheckFailed(
            "The restore into {t} does not match backup {g}: {n} problem(s) ({first}). Do not use it; report this "
            "and try another generation.",
            "恢复到 {t} 的内容与备份 {g} 不符：{n} 处问题（{first}）。请勿使用；请报告并改用其他备份代。",
            t=str(target),
            g=gen.name,
            n=len(problems),
            first="; ".join(problems[:5]),
        )
    return {
        "generation": gen.name,
        "target": str(target),
        "backend": BACKEND,
        "files": len(manifest["files"]),
        "tables": counts,
        "objects": present,
        "audit_entries": chain.entries,
        "audit_chain_ok": chain.ok,
    }


__all__ = ["create", "restore", "dump_problem", "is_pg_generation", "client_program", "run"]
