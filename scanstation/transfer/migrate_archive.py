"""``scanstation archive migrate --from HOME --to ARCH``: a SQLite archive home into PostgreSQL and a page store.

1. Every page file of the source (active pages, and replaced originals that it keeps) goes into the page
   store under its SM3 name. The store checks each file against the digests the catalog holds, writes
   it, and reads it back. A file that does not match stops the migration with its name, and nothing is
   committed. Kept package records (tag files, signatures, XML) go into the store too, as a manifest.
2. Then one transaction copies the rows: fonds, users (those the target does not have yet), settings,
   dossiers, pages, OCR text, received packages and their dossiers, and the store's object list. The
   ids are kept, so the source's audit chain is copied verbatim and still verifies. The target's own
   setup entries (``home.init``/``home.join``, its keys and users) are folded, verbatim, into one
   ``archive.migrated`` entry appended after the source chain. The search index is rebuilt in the same
   transaction.
3. After the commit, the row counts and every page file in the store are checked again.

Interrupted at any point, it is simply run again: the rows commit only at the end, and the files already
stored are recognised by their names (and re-hashed). An archive that already holds dossiers or
packages is not a migration target. Receipts in the source's outbox are copied to the target home's.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from scanstation import audit, settings
from scanstation.errors import CheckFailed, Refused
from scanstation.home import Home, now_iso
from scanstation.i18n import tr

# tables copied, in the order their references need; columns are those both catalogs have
TABLES = (
    "fonds",
    "settings",
    "dossiers",
    "pages",
    "page_text",
    "received_packages",
    "received_dossiers",
    # custody: registers, tombstones and corrections are permanent records (R37, R12); loans, fixity runs,
    # the personal-data index and paper custody go with them
    "destruction_registers",
    "destruction_items",
    "destruction_confirmations",
    "tombstones",
    "corrections",
    "dossier_former_numbers",
    "loans",
    "fixity_runs",
    "personal_index",
    "paper_moves",
    "paper_state",
)
SERIAL = (
    "dossiers",
    "pages",
    "received_packages",
    "destruction_registers",
    "tombstones",
    "corrections",
    "loans",
    "fixity_runs",
    "paper_moves",
)
# what a new archive's desks may have done before the migration (folded into the archive.migrated entry)
SETUP_ACTIONS = ("home.", "keys.", "user.")


def _columns(catalog, table: str) -> list[str]:
    """The columns of ``table``: from the schema on SQLite (``Catalog.columns``, sqlite-utils), from an
    empty result's description on PostgreSQL."""
    if catalog.backend == "sqlite":
        return catalog.columns(table)
    cur = catalog.conn.execute(f"SELECT * FROM {table} LIMIT 0")
    return [d[0] for d in cur.description]


def _page_files(src: Home):
    from scanstation.storage.encryption import image_store

    store = image_store(src)
    rows = src.catalog.query(
        "SELECT p.id, p.file_name, p.kept_path, p.sha256, p.sm3, p.state, d.number FROM pages p "
        "JOIN dossiers d ON d.id = p.dossier_id WHERE p.sm3 != '' AND p.state NOT IN ('not_scanned', 'destroyed') "
        "ORDER BY p.id"
    )
    for row in rows:
        if row["state"] == "active":
            path = store.path(row["number"], row["file_name"])
        elif row["kept_path"]:
            path = src.path / row["kept_path"]
        else:
            continue
        yield row, path, store


def migrate(session, source: Path, progress=None) -> dict:
    """Move the SQLite archive home ``source`` into this session's PostgreSQL archive (see module text)."""
    try:
        return _migrate(session, source, progress)
    except OSError as exc:
        from scanstation.storage.files import storage_error

        raise storage_error(Path(getattr(exc, "filename", "") or str(source)), exc) from exc


def _migrate(session, source: Path, progress=None) -> dict:
    session.require("settings.manage")
    target = session.home
    if target.page_store is None:
        raise Refused(
            "The target must be an archive home on PostgreSQL (scanstation archive init); nothing was changed.",
            "目标须为 PostgreSQL 档案工作目录（scanstation archive init）；未做任何修改。",
        )
    src = Home.open(Path(source))
    try:
        if src.info.role != "archive" or src.info.backend != "sqlite":
            raise Refused(
                "{home} is not a SQLite archive home; nothing was changed.",
                "{home} 不是 SQLite 档案工作目录；未做任何修改。",
                home=str(source),
            )
        done = target.setting("archive.migrated_from")
        if done:
            raise Refused(
                "This archive already holds the migration of {home} ({when}); nothing was changed.",
                "本档案库已迁入 {home}（{when}）；未做任何修改。",
                home=done.get("home", "?"),
                when=done.get("at", "?"),
            )
        busy = target.catalog.one(
            "SELECT (SELECT count(*) FROM dossiers) + (SELECT count(*) FROM received_packages) AS n"
        )["n"]
        own = target.catalog.query("SELECT action FROM audit_log ORDER BY id")
        if busy or any(not r["action"].startswith(SETUP_ACTIONS) for r in own):
            raise Refused(
                "The target archive is already in use (it holds dossiers, packages or audited work); migrate "
                "into a new archive. Nothing was changed.",
                "目标档案库已在使用（已有案卷、移交包或审计记录）；请迁入新建的档案库。未做任何修改。",
            )
        chain = audit.verify(src.catalog.conn)
        if not chain.ok:
            raise CheckFailed(
                "The source's audit chain is broken at entry {n} ({why}); nothing was migrated.",
                "源工作目录的审计链在第 {n} 条处断开（{why_zh}）；未迁移任何内容。",
                n=chain.broken_id,
                why=chain.reason_en,
                why_zh=chain.reason_zh,
            )
        store = target.page_store
        objects: dict[str, tuple[str, int]] = {}
        files = 0
        # 1. page files
        for row, path, image_store in _page_files(src):
            if not path.is_file():
                raise CheckFailed(
                    "The page file {f} of {n} is missing in the source; nothing was migrated. Run "
                    "scanstation reconcile and fixity on the source first.",
                    "源工作目录中 {n} 的页面文件 {f} 缺失；未迁移任何内容。请先在源工作目录执行 reconcile 与 fixity。",
                    f=path.name,
                    n=row["number"],
                )
            blob = path.read_bytes()
            plain = image_store.open_blob(blob, path.name)
            if plain is blob:
                size = store.put_file(path, row["sha256"], row["sm3"])
            else:
                sha, sm3 = store.put_bytes(plain)
                if (sha, sm3) != (row["sha256"], row["sm3"]):
                    raise CheckFailed(
                        "{f} does not match the catalog; nothing was migrated.",
                        "{f} 与目录记录不一致；未迁移任何内容。",
                        f=path.name,
                    )
                size = len(plain)
            objects[row["sm3"]] = (row["sha256"], size)
            files += 1
            if progress:
                progress("files", files)
        # 2. kept package records
        kept_paths: dict[int, str] = {}
        for pkg in src.catalog.query("SELECT id, kept_path FROM received_packages WHERE kept_path != ''"):
            folder = src.path / pkg["kept_path"]
            if not folder.is_dir():
                continue
            record = {}
            for item in sorted(folder.rglob("*")):
                if item.is_file() and not item.is_symlink():
                    data = item.read_bytes()
                    sha, sm3 = store.put_bytes(data)
                    objects[sm3] = (sha, len(data))
                    record[item.relative_to(folder).as_posix()] = sm3
            manifest = json.dumps(
                {"files": record, "migrated_from": pkg["kept_path"]}, ensure_ascii=False, sort_keys=True
            ).encode("utf-8")
            sha, sm3 = store.put_bytes(manifest)
            objects[sm3] = (sha, len(manifest))
            kept_paths[pkg["id"]] = f"store:{sm3}"
        # 3. rows, in one transaction
        stamp = now_iso()
        counts = {}
        with target.catalog.write() as conn:
            own_entries = target.catalog.query("SELECT * FROM audit_log ORDER BY id")
            conn.execute("DELETE FROM audit_log")
            for table in TABLES:
                cols = [c for c in _columns(src.catalog, table) if c in set(_columns(target.catalog, table))]
                rows = src.catalog.query(f"SELECT {', '.join(cols)} FROM {table}")
                if table == "settings":
                    rows = [r for r in rows if r["key"] != "search.index"]
                marks = ", ".join("?" * len(cols))
                verb = "INSERT OR IGNORE" if table in ("fonds", "settings") else "INSERT"
                for r in rows:
                    if table == "received_packages" and r["id"] in kept_paths:
                        r["kept_path"] = kept_paths[r["id"]]
                    conn.execute(f"{verb} INTO {table}({', '.join(cols)}) VALUES ({marks})", [r[c] for c in cols])
                counts[table] = len(rows)
            for user in src.catalog.query("SELECT name, roles, password_hash, disabled, created_at FROM users"):
                conn.execute(
                    "INSERT INTO users(name, roles, password_hash, disabled, created_at) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT (name) DO NOTHING",
                    list(user.values()),
                )
            for table in SERIAL:
                conn.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                    f"(SELECT COALESCE(max(id), 0) + 1 FROM {table}), false)"
                )
            for sm3, (sha, size) in sorted(objects.items()):
                conn.execute(
                    "INSERT OR IGNORE INTO store_objects(sm3, sha256, bytes, stored_at) VALUES (?, ?, ?, ?)",
                    (sm3, sha, size, stamp),
                )
            entries = src.catalog.query(
                "SELECT id, ts, user, station, action, object_type, object_id, before, after,"
                " prev_hash, hash FROM audit_log ORDER BY id"
            )
            for e in entries:
                conn.execute(
                    "INSERT INTO audit_log(id, ts, user, station, action, object_type, object_id, before, after,"
                    " prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                    list(e.values()),
                )
            counts["audit_log"] = len(entries)
            from scanstation import search

            search.rebuild_index(target.catalog)
            details = {"home": str(Path(source).resolve()), "station": src.station, "fonds": src.fonds, "at": stamp}
            settings.store(conn, "archive.migrated_from", details)
            audit.append(
                conn,
                ts=stamp,
                user=session.user.name,
                station=target.station,
                action="archive.migrated",
                object_type="home",
                object_id=src.fonds,
                after={
                    **details,
                    "files": files,
                    "objects": len(objects),
                    "rows": counts,
                    "target_entries": [
                        {
                            k: e[k]
                            for k in ("ts", "user", "station", "action", "object_type", "object_id", "before", "after")
                        }
                        for e in own_entries
                    ],
                },
            )
        # 4. the receipts the source issued, and a check of what was written
        receipts_dir = src.path / "outbox" / "receipts"
        if receipts_dir.is_dir():
            dest = target.dir("outbox") / "receipts"
            dest.mkdir(exist_ok=True)
            for item in receipts_dir.iterdir():
                if item.is_file() and not (dest / item.name).exists():
                    shutil.copy2(item, dest / item.name)
        for table in ("dossiers", "pages", "received_packages"):
            n = target.catalog.one(f"SELECT count(*) AS n FROM {table}")["n"]
            if n != counts[table]:
                raise CheckFailed(
                    "After the migration {t} holds {n} rows, the source {m}. Check the archive database.",
                    "迁移后 {t} 有 {n} 行，源为 {m} 行。请检查档案数据库。",
                    t=table,
                    n=n,
                    m=counts[table],
                )
        bad = [sm3 for sm3, (sha, _) in objects.items() if not store.check(sm3, sha)]
        if bad:
            raise CheckFailed(
                "{n} file(s) in the page store do not match after the migration (first {d}…).",
                "迁移后页面存储中有 {n} 个文件不一致（首个 {d}…）。",
                n=len(bad),
                d=bad[0][:16],
            )
        return {
            "source": str(source),
            "files": files,
            "objects": len(objects),
            "rows": counts,
            "audit_entries": counts["audit_log"] + 1,
            "message": tr(
                "Migrated {f} page files and {d} dossiers; every file verified in the store.",
                "已迁移 {f} 个页面文件、{d} 个案卷；存储中的每个文件均已校验。",
                f=files,
                d=counts["dossiers"],
            ),
        }
    finally:
        src.close()


__all__ = ["migrate"]
