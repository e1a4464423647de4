"""The station's SQLite catalog: numbered migrations, WAL, foreign keys, one writer.

sqlite-utils wraps the connection for convenient inserts and queries; schema changes are
plain SQL in numbered migrations so that a reader sees the whole schema in one place.
The process that holds the home lock is the only writer (see scanstation.home).
"""

from __future__ import annotations

import contextlib
import sqlite3
import threading
from pathlib import Path

from scanstation.errors import HomeError
from scanstation.i18n import tr
from scanstation.storage import migrations

# Dossier life cycle. Order matters only for reading; transitions live in the domain modules.
DOSSIER_STATES = (
    "cataloged",  # known from the 目录, nothing scanned yet
    "scanning",  # at least one page captured, not completed
    "completed",  # page count reconciled, waiting for QC
    "qc_rejected",  # QC sent it back for rescans
    "approved",  # QC approved, may go into a transfer batch
    "batched",  # in a sealed batch
    "sent",  # batch sent, locked until the receipt
    "transferred",  # receipt: accepted by the archive room
    "archived",  # archive room side: accepted into the archive
    "destroyed",  # tombstone after the destruction procedure
)

MIGRATIONS: list[tuple[int, str, str]] = [
    (
        1,
        "foundation",
        """
CREATE TABLE fonds (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT ''
);
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    roles TEXT NOT NULL,                 -- space separated: clerk qc archivist admin auditor
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE dossiers (
    id INTEGER PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,         -- 档号 (R12: unique)
    fonds_code TEXT NOT NULL,            -- 全宗号
    year INTEGER NOT NULL,               -- 年度
    category TEXT NOT NULL DEFAULT '',   -- 门类·类别 group of the 档号
    insurance_type TEXT NOT NULL DEFAULT '',   -- 险种
    business_stage TEXT NOT NULL DEFAULT '',   -- 业务环节
    retention TEXT NOT NULL,             -- 保管期限: Y D100 D50 D30 D10
    title TEXT NOT NULL DEFAULT '',      -- 题名
    responsible TEXT NOT NULL DEFAULT '',-- 责任者
    date TEXT NOT NULL DEFAULT '',       -- 日期 (ISO 8601)
    declared_pages INTEGER,              -- 页数
    security_level TEXT NOT NULL DEFAULT '',   -- 密级
    volume_no TEXT NOT NULL DEFAULT '',  -- 案卷号
    item_no TEXT NOT NULL DEFAULT '',    -- 件号
    box_no TEXT NOT NULL DEFAULT '',     -- 盒号
    person_name TEXT NOT NULL DEFAULT '',
    person_id_number TEXT NOT NULL DEFAULT '',
    employer TEXT NOT NULL DEFAULT '',
    remarks TEXT NOT NULL DEFAULT '',    -- 备注
    status TEXT NOT NULL DEFAULT 'cataloged',
    scanned_by TEXT NOT NULL DEFAULT '',
    completed_by TEXT NOT NULL DEFAULT '',
    qc_by TEXT NOT NULL DEFAULT '',
    batch_id INTEGER REFERENCES batches(id),
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    FOREIGN KEY (fonds_code) REFERENCES fonds(code)
);
CREATE INDEX dossiers_list ON dossiers(fonds_code, year, status, number);
CREATE INDEX dossiers_status ON dossiers(status, number);
CREATE INDEX dossiers_person ON dossiers(person_id_number);
CREATE TABLE pages (
    id INTEGER PRIMARY KEY,
    dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
    seq INTEGER,                         -- 1..n for active pages; NULL for replaced originals
    state TEXT NOT NULL DEFAULT 'active',-- active | replaced | deleted | not_scanned
    file_name TEXT NOT NULL DEFAULT '',  -- {档号}-{NNNN}.{ext}, relative to the dossier folder
    bytes INTEGER NOT NULL DEFAULT 0,
    sha256 TEXT NOT NULL DEFAULT '',
    sm3 TEXT NOT NULL DEFAULT '',
    format TEXT NOT NULL DEFAULT '',     -- jpeg | tiff | jp2
    width INTEGER, height INTEGER,
    dpi INTEGER,
    color_mode TEXT NOT NULL DEFAULT '', -- color | gray | lineart
    compression TEXT NOT NULL DEFAULT '',
    capture_time TEXT NOT NULL DEFAULT '',
    device TEXT NOT NULL DEFAULT '{}',   -- JSON: maker, model, serial, backend
    software TEXT NOT NULL DEFAULT '',
    operator TEXT NOT NULL DEFAULT '',
    processing_log TEXT NOT NULL DEFAULT '[]',  -- JSON list of steps (R05)
    qc_flags TEXT NOT NULL DEFAULT '[]',        -- JSON list of flag names
    note TEXT NOT NULL DEFAULT '',
    session_id INTEGER,
    created_at TEXT NOT NULL
);
CREATE UNIQUE INDEX pages_active_seq ON pages(dossier_id, seq) WHERE state IN ('active', 'not_scanned');
CREATE INDEX pages_dossier ON pages(dossier_id, state, seq);
CREATE TABLE page_text (
    page_id INTEGER PRIMARY KEY REFERENCES pages(id),
    status TEXT NOT NULL DEFAULT 'queued',   -- queued | done | failed
    attempts INTEGER NOT NULL DEFAULT 0,
    text TEXT NOT NULL DEFAULT '',
    confidence REAL,
    error TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
CREATE INDEX page_text_queue ON page_text(status, page_id);
CREATE TABLE batches (
    id INTEGER PRIMARY KEY,
    batch_id TEXT NOT NULL UNIQUE,       -- e.g. X001-2024-001
    fonds_code TEXT NOT NULL,
    year INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'draft', -- draft sealed sent received rejected
    deadline TEXT NOT NULL DEFAULT '',
    package_path TEXT NOT NULL DEFAULT '',
    tagmanifest_sm3 TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '{}',
    created_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (fonds_code, year, seq)
);
CREATE TABLE capture_sessions (
    id INTEGER PRIMARY KEY,
    dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
    operator TEXT NOT NULL,
    device TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL DEFAULT 'open',  -- open | closed | interrupted
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL                  -- JSON
);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    user TEXT NOT NULL,
    station TEXT NOT NULL,
    action TEXT NOT NULL,
    object_type TEXT NOT NULL,
    object_id TEXT NOT NULL,
    before TEXT NOT NULL DEFAULT '',
    after TEXT NOT NULL DEFAULT '',
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE INDEX audit_object ON audit_log(object_type, object_id);
CREATE INDEX audit_user ON audit_log(user, ts);
""",
    ),
    (
        3,
        "capture",
        """
-- File moves decided in a transaction and carried out after it commits; replayed at start-up
-- so that renumbering, replacing and deleting pages survive a crash at any point.
CREATE TABLE pending_moves (
    id INTEGER PRIMARY KEY,
    src TEXT NOT NULL,                   -- relative to the home
    dst TEXT NOT NULL,
    created_at TEXT NOT NULL
);
ALTER TABLE pages ADD COLUMN source_ref TEXT NOT NULL DEFAULT '';   -- session:{id}:{index} of the device page
ALTER TABLE pages ADD COLUMN kept_path TEXT NOT NULL DEFAULT '';    -- where a replaced/deleted original is kept
ALTER TABLE pages ADD COLUMN original_page_no INTEGER;              -- for not_scanned notes (R10)
ALTER TABLE pages ADD COLUMN signature TEXT NOT NULL DEFAULT '';    -- near-duplicate signature (JSON)
CREATE INDEX pages_source ON pages(source_ref);
CREATE TABLE qc_decisions (
    id INTEGER PRIMARY KEY,
    dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
    page_id INTEGER REFERENCES pages(id),
    decision TEXT NOT NULL,              -- pass | reject | rescan | approve | reject_dossier
    reason TEXT NOT NULL DEFAULT '',
    user TEXT NOT NULL,
    ts TEXT NOT NULL,
    resolved INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX qc_decisions_dossier ON qc_decisions(dossier_id, resolved);
""",
    ),
]

# The storage layer's own tables are registered like every domain's (storage.migrations); the domains
# register theirs when scanstation.bootstrap imports them.
migrations.register(__name__, MIGRATIONS)


def all_migrations() -> list[tuple[int, str, str]]:
    """Every migration of the catalog, by number (refused until every domain has registered)."""
    return migrations.registered()


def schema_version() -> int:
    """The newest catalog schema this program knows."""
    return max(number for number, _, _ in all_migrations())


def __getattr__(name: str):
    if name == "SCHEMA_VERSION":  # computed when asked: the domains register after this module is imported
        return schema_version()
    raise AttributeError(name)


class Catalog:
    """An open catalog. ``write()`` is the one way to change it (a transaction)."""

    backend = "sqlite"

    def __init__(self, path: Path):
        self.path = Path(path)
        try:
            conn = sqlite3.connect(str(self.path), timeout=30, check_same_thread=False, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA foreign_keys=ON")
            # FULL: a commit is on disk when it returns, so a power cut never takes back a page (or a file
            # move) the station has acted on; WAL keeps it to one sync per transaction.
            conn.execute("PRAGMA synchronous=FULL")
        except sqlite3.DatabaseError as exc:
            raise HomeError(
                "The catalog {path} is damaged or not a catalog ({error}). Restore it from a backup.",
                "目录数据库 {path} 已损坏或不是目录数据库（{error}）。请从备份恢复。",
                path=str(self.path),
                error=str(exc),
            ) from exc
        self.conn = conn
        self._db = None
        self._write_lock = threading.RLock()
        self._depth = 0

    @property
    def db(self):
        """sqlite-utils view of the same connection, for table-level conveniences off the hot paths
        (imported on first use: it costs most of the program's start-up time; see docs/storage.md)."""
        if self._db is None:
            import sqlite_utils

            self._db = sqlite_utils.Database(self.conn)
        return self._db

    def columns(self, table: str) -> list[str]:
        """The columns of ``table`` in schema order, read from the schema by sqlite-utils (not from a row)."""
        return [column.name for column in self.db[table].columns]

    # -- schema ------------------------------------------------------------------------
    def applied_migrations(self) -> list[int]:
        try:
            rows = self.conn.execute("SELECT number FROM migrations ORDER BY number").fetchall()
        except sqlite3.OperationalError:
            return []
        return [r[0] for r in rows]

    def migrate(self) -> list[int]:
        """Apply missing migrations in order; returns those applied."""
        with self.write():
            self.conn.execute(
                "CREATE TABLE IF NOT EXISTS migrations (number INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)"
            )
            done = set(self.applied_migrations())
            applied = []
            for number, name, sql in all_migrations():
                if number in done:
                    continue
                for statement in _statements(sql):
                    self.conn.execute(statement)
                self.conn.execute("INSERT INTO migrations VALUES (?, ?, datetime('now'))", (number, name))
                applied.append(number)
        if applied:
            for hook in migrations.upgrade_hooks():  # e.g. the search index fills itself from the rows already there
                hook(self)
        return applied

    def check_version(self) -> None:
        newest = max(self.applied_migrations(), default=0)
        known = schema_version()
        if newest > known:
            raise HomeError(
                "This home was written by a newer ScanStation (catalog schema {found}, this program knows {known}). "
                "Install the newer version; nothing was changed.",
                "此工作目录由更新版本的 ScanStation 创建（目录结构版本 {found}，本程序支持到 {known}）。"
                "请安装新版本；未做任何修改。",
                found=newest,
                known=known,
            )

    # -- transactions ------------------------------------------------------------------
    @contextlib.contextmanager
    def write(self):
        """One write transaction (re-entrant: inner blocks join the outer one)."""
        with self._write_lock:
            if self._depth:
                self._depth += 1
                try:
                    yield self.conn
                finally:
                    self._depth -= 1
                return
            try:
                self.conn.execute("BEGIN IMMEDIATE")
            except sqlite3.OperationalError as exc:
                if _is_full(exc):
                    raise _disk_full(self.path) from exc
                raise
            self._depth = 1
            try:
                yield self.conn
                self._depth = 0
                self.conn.execute("COMMIT")
            except BaseException as exc:
                self._depth = 0
                if self.conn.in_transaction:
                    try:
                        self.conn.execute("ROLLBACK")
                    except sqlite3.Error:
                        pass
                if isinstance(exc, sqlite3.OperationalError) and _is_full(exc):
                    raise _disk_full(self.path) from exc
                raise

    @contextlib.contextmanager
    def claim(self, digest: str, *, desk: str, station: str, user: str):
        """Hold a package for this desk while the block runs. A SQLite home has one desk (the process
        holding the home lock), so there is nobody to wait for (see PgCatalog.claim)."""
        yield

    def query(self, sql: str, params=()) -> list[dict]:
        cur = self.conn.execute(sql, params)
        names = [d[0] for d in cur.description]
        return [dict(zip(names, row)) for row in cur.fetchall()]

    def one(self, sql: str, params=()) -> dict | None:
        rows = self.query(sql, params)
        return rows[0] if rows else None

    def reader(self) -> sqlite3.Connection:
        """A read-only connection of this thread to the same file (WAL lets readers run beside the
        writer), for services that answer many reads at once; closed with the catalog."""
        local = self.__dict__.setdefault("_readers", threading.local())
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(
                f"{self.path.resolve().as_uri()}?mode=ro",
                uri=True,
                timeout=30,
                check_same_thread=False,
                isolation_level=None,
            )
            conn.execute("PRAGMA query_only=ON")
            local.conn = conn
            self.__dict__.setdefault("_reader_list", []).append(conn)
        return conn

    def close(self) -> None:
        for conn in self.__dict__.get("_reader_list", []):
            conn.close()
        self.conn.close()


def _is_full(exc: sqlite3.Error) -> bool:
    return getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL or "disk is full" in str(exc)


def _disk_full(path: Path):
    """A full disk met by the catalog is said like any other full disk; nothing was changed (rolled back)."""
    from scanstation.storage.files import disk_full

    return disk_full(path)


def _statements(sql: str) -> list[str]:
    parts, current = [], []
    for line in sql.splitlines():
        current.append(line)
        if sqlite3.complete_statement("\n".join(current)):
            parts.append("\n".join(current))
            current = []
    if "".join(current).strip():
        parts.append("\n".join(current))
    return [p for p in parts if p.strip()]


def damaged_message(path: Path, error: Exception) -> HomeError:
    return HomeError(
        "The catalog {path} cannot be read ({error}). Restore it from a backup; nothing was changed.",
        "无法读取目录数据库 {path}（{error}）。请从备份恢复；未做任何修改。",
        path=str(path),
        error=str(error),
    )


__all__ = ["Catalog", "MIGRATIONS", "DOSSIER_STATES", "all_migrations", "schema_version", "tr"]
