"""The one place where the catalog's SQL meets a server other than SQLite.

The domain code writes its SQL once, in the SQLite form the station has always used (``?`` and
``:name`` placeholders, ``INSERT OR IGNORE``, ``INSERT OR REPLACE``, ``datetime('now')``,
``cursor.lastrowid``, ``sqlite_master``). ``PostgresDialect.translate`` rewrites a statement into the
portable subset that PostgreSQL and its derivatives (KingbaseES, openGauss) accept, and the
archive's PostgreSQL schema lives here as numbered migrations (``PG_MIGRATIONS``, 100 and up).
docs/archive-postgresql.md lists what a KingbaseES or openGauss dialect would change.

Portable subset used here: BIGSERIAL keys, TEXT/INTEGER/BIGINT/DOUBLE PRECISION columns, plain
UNIQUE/PRIMARY KEY/REFERENCES constraints, partial indexes, ``INSERT ... ON CONFLICT``, ``RETURNING``,
``pg_advisory_xact_lock``/``pg_try_advisory_lock``. No JSONB, arrays, domains, or procedural code.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

# -- the archive schema on PostgreSQL ----------------------------------------------------------------
# Column names and meanings are those of the SQLite catalog (scanstation.storage.catalog and the
# domain migrations), so that the same queries run on both; "user" is quoted (a reserved word).
PG_MIGRATIONS: list[tuple[int, str, str]] = [
    (
        100,
        "archive_foundation",
        """
CREATE TABLE fonds (
    code TEXT PRIMARY KEY,
    name TEXT NOT NULL DEFAULT ''
);
CREATE TABLE users (
    id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    roles TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0,
    created_at TEXT NOT NULL
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE dossiers (
    id BIGSERIAL PRIMARY KEY,
    number TEXT NOT NULL UNIQUE,
    fonds_code TEXT NOT NULL REFERENCES fonds(code),
    year INTEGER NOT NULL,
    category TEXT NOT NULL DEFAULT '',
    insurance_type TEXT NOT NULL DEFAULT '',
    business_stage TEXT NOT NULL DEFAULT '',
    retention TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    responsible TEXT NOT NULL DEFAULT '',
    date TEXT NOT NULL DEFAULT '',
    declared_pages INTEGER,
    security_level TEXT NOT NULL DEFAULT '',
    volume_no TEXT NOT NULL DEFAULT '',
    item_no TEXT NOT NULL DEFAULT '',
    box_no TEXT NOT NULL DEFAULT '',
    person_name TEXT NOT NULL DEFAULT '',
    person_id_number TEXT NOT NULL DEFAULT '',
    employer TEXT NOT NULL DEFAULT '',
    remarks TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'cataloged',
    scanned_by TEXT NOT NULL DEFAULT '',
    completed_by TEXT NOT NULL DEFAULT '',
    qc_by TEXT NOT NULL DEFAULT '',
    batch_id BIGINT,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE INDEX dossiers_list ON dossiers(fonds_code, year, status, number);
CREATE INDEX dossiers_status ON dossiers(status, number);
CREATE INDEX dossiers_person ON dossiers(person_id_number);
CREATE TABLE pages (
    id BIGSERIAL PRIMARY KEY,
    dossier_id BIGINT NOT NULL REFERENCES dossiers(id),
    seq INTEGER,
    state TEXT NOT NULL DEFAULT 'active',
    file_name TEXT NOT NULL DEFAULT '',
    bytes BIGINT NOT NULL DEFAULT 0,
    sha256 TEXT NOT NULL DEFAULT '',
    sm3 TEXT NOT NULL DEFAULT '',
    format TEXT NOT NULL DEFAULT '',
    width INTEGER, height INTEGER,
    dpi INTEGER,
    color_mode TEXT NOT NULL DEFAULT '',
    compression TEXT NOT NULL DEFAULT '',
    capture_time TEXT NOT NULL DEFAULT '',
    device TEXT NOT NULL DEFAULT '{}',
    software TEXT NOT NULL DEFAULT '',
    operator TEXT NOT NULL DEFAULT '',
    processing_log TEXT NOT NULL DEFAULT '[]',
    qc_flags TEXT NOT NULL DEFAULT '[]',
    note TEXT NOT NULL DEFAULT '',
    session_id BIGINT,
    created_at TEXT NOT NULL,
    source_ref TEXT NOT NULL DEFAULT '',
    kept_path TEXT NOT NULL DEFAULT '',
    original_page_no INTEGER,
    signature TEXT NOT NULL DEFAULT ''
);
CREATE UNIQUE INDEX pages_active_seq ON pages(dossier_id, seq) WHERE state IN ('active', 'not_scanned');
CREATE INDEX pages_dossier ON pages(dossier_id, state, seq);
CREATE INDEX pages_sm3 ON pages(sm3);
CREATE TABLE page_text (
    page_id BIGINT PRIMARY KEY REFERENCES pages(id),
    status TEXT NOT NULL DEFAULT 'queued',
    attempts INTEGER NOT NULL DEFAULT 0,
    text TEXT NOT NULL DEFAULT '',
    confidence DOUBLE PRECISION,
    error TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
CREATE INDEX page_text_queue ON page_text(status, page_id);
CREATE TABLE audit_log (
    id BIGINT PRIMARY KEY,
    ts TEXT NOT NULL,
    "user" TEXT NOT NULL,
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
CREATE INDEX audit_user ON audit_log("user", ts);
CREATE TABLE received_packages (
    id BIGSERIAL PRIMARY KEY,
    tagmanifest_sm3 TEXT NOT NULL UNIQUE,
    batch_id TEXT NOT NULL,
    fonds_code TEXT NOT NULL DEFAULT '',
    year INTEGER,
    source_station TEXT NOT NULL DEFAULT '',
    signer_fingerprint TEXT NOT NULL DEFAULT '',
    signer_name TEXT NOT NULL DEFAULT '',
    decision TEXT NOT NULL,
    reasons TEXT NOT NULL DEFAULT '[]',
    sample TEXT NOT NULL DEFAULT '{}',
    checks TEXT NOT NULL DEFAULT '{}',
    dossiers INTEGER NOT NULL DEFAULT 0,
    files INTEGER NOT NULL DEFAULT 0,
    bytes BIGINT NOT NULL DEFAULT 0,
    package_path TEXT NOT NULL DEFAULT '',
    kept_path TEXT NOT NULL DEFAULT '',
    receipt_id TEXT NOT NULL DEFAULT '',
    receipt_path TEXT NOT NULL DEFAULT '',
    received_by TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE received_dossiers (
    package_id BIGINT NOT NULL REFERENCES received_packages(id),
    dossier_id BIGINT NOT NULL REFERENCES dossiers(id),
    PRIMARY KEY (package_id, dossier_id)
);
CREATE INDEX received_dossiers_dossier ON received_dossiers(dossier_id);
-- What the domain code asks of SQLite's sqlite_master, answered from the information schema.
CREATE VIEW catalog_objects AS
    SELECT 'table' AS type, table_name AS name FROM information_schema.tables
    WHERE table_schema = current_schema();
""",
    ),
    (
        101,
        "archive_intake",
        """
-- Which desk is receiving a package now. The row says who (for the message to a second desk); the
-- claim itself is a session advisory lock, released by PostgreSQL when the desk's connection ends
-- (a desk killed at any moment, or the server restarted, leaves no stale claim).
CREATE TABLE package_claims (
    digest TEXT PRIMARY KEY,
    desk TEXT NOT NULL,
    station TEXT NOT NULL,
    user_name TEXT NOT NULL,
    pid INTEGER NOT NULL,
    claimed_at TEXT NOT NULL
);
-- Every object the content-addressed store holds for a received package, written only after the
-- object was stored and read back (fixity runs against this list).
CREATE TABLE store_objects (
    sm3 TEXT PRIMARY KEY,
    sha256 TEXT NOT NULL,
    bytes BIGINT NOT NULL,
    stored_at TEXT NOT NULL
);
""",
    ),
    (
        102,
        "archive_search",
        """
-- Search on PostgreSQL: the same application-made tokens as the SQLite index (scanstation.search:
-- CJK bigrams + other words in ``bi``, CJK unigrams in ``uni``, 档号/ID-number parts in ``codes``),
-- stored as tsvectors with positions (phrases of bigrams are checked with <->), indexed with GIN.
-- No text-search parser or dictionary is involved: the tsvector is written literally.
CREATE TABLE search_pages (
    page_id BIGINT PRIMARY KEY,
    bi TSVECTOR NOT NULL,
    uni TSVECTOR NOT NULL
);
CREATE INDEX search_pages_bi ON search_pages USING GIN (bi);
CREATE INDEX search_pages_uni ON search_pages USING GIN (uni);
CREATE TABLE search_dossiers (
    dossier_id BIGINT PRIMARY KEY,
    bi TSVECTOR NOT NULL,
    uni TSVECTOR NOT NULL
);
CREATE INDEX search_dossiers_bi ON search_dossiers USING GIN (bi);
CREATE INDEX search_dossiers_uni ON search_dossiers USING GIN (uni);
CREATE TABLE search_codes (
    dossier_id BIGINT PRIMARY KEY,
    codes TSVECTOR NOT NULL
);
CREATE INDEX search_codes_codes ON search_codes USING GIN (codes);
CREATE TABLE search_page_state (
    page_id BIGINT PRIMARY KEY,
    digest TEXT NOT NULL
);
CREATE TABLE search_dossier_state (
    dossier_id BIGINT PRIMARY KEY,
    source TEXT NOT NULL
);
CREATE INDEX dossiers_id_number_prefix ON dossiers(person_id_number text_pattern_ops);
CREATE INDEX dossiers_number_prefix ON dossiers(number text_pattern_ops);
""",
    ),
    (
        103,
        "archive_station_columns",
        """
-- Columns the station's catalog gained in its own migrations (10, 41, 90), so that rows and queries
-- stay the same on both backends (tests/test_archive_pg_catalog.py checks that none is missing).
ALTER TABLE pages ADD COLUMN source_file TEXT NOT NULL DEFAULT '';
ALTER TABLE page_text ADD COLUMN engine TEXT NOT NULL DEFAULT '';
ALTER TABLE page_text ADD COLUMN redo_engine TEXT NOT NULL DEFAULT '';
ALTER TABLE dossiers ADD COLUMN count_explanation TEXT NOT NULL DEFAULT '';
""",
    ),
    (
        110,
        "archive_backup_runs",
        """
-- Backups of the archive (pg_dump + the store's objects; scanstation.custody.pg_backup), their
-- verification and restores, as the station's custody migration records them.
CREATE TABLE backup_runs (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    dest TEXT NOT NULL,
    generation TEXT NOT NULL DEFAULT '',
    "user" TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    ok INTEGER NOT NULL,
    files BIGINT NOT NULL DEFAULT 0,
    bytes BIGINT NOT NULL DEFAULT 0,
    details TEXT NOT NULL DEFAULT '{}'
);
""",
    ),
]

# Tables whose rows get a new id from a sequence: INSERTs into them return it (cursor.lastrowid).
SERIAL_TABLES = frozenset({"users", "dossiers", "pages", "received_packages", "audit_log"})
# The key ``INSERT OR REPLACE`` replaces on, per table.
REPLACE_KEYS = {
    "page_text": ("page_id",),
    "settings": ("key",),
    "fonds": ("code",),
    "store_objects": ("sm3",),
    "package_claims": ("digest",),
}
RESERVED_COLUMNS = ("user",)

_INSERT = re.compile(
    r"^\s*INSERT\s+(?:OR\s+(IGNORE|REPLACE)\s+)?INTO\s+(\w+)\s*(\(([^)]*)\))?", re.IGNORECASE | re.DOTALL
)


@dataclass(frozen=True)
class Translated:
    sql: str
    returns_id: bool  # the statement was given RETURNING id for lastrowid


class PostgresDialect:
    """SQLite-form statements into PostgreSQL's portable subset (placeholders, upserts, names)."""

    name = "postgresql"
    migrations = PG_MIGRATIONS

    def __init__(self):
        self._cache: dict[tuple[str, bool], Translated] = {}

    def translate(self, sql: str, named: bool = False) -> Translated:
        key = (sql, named)
        done = self._cache.get(key)
        if done is None:
            done = self._cache[key] = self._translate(sql, named)
        return done

    def _translate(self, sql: str, named: bool) -> Translated:
        out = []
        sql = sql.replace("datetime('now')", "to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS')")
        for literal, code in _split_literals(sql):
            if literal:
                out.append(code.replace("%", "%%"))
                continue
            code = code.replace("%", "%%")
            for word in RESERVED_COLUMNS:
                code = re.sub(rf'(?<![":\w.]){word}(?![\w"(])', f'"{word}"', code)
            code = re.sub(r"(?<!:):(\w+)", r"%(\1)s", code) if named else code.replace("?", "%s")
            code = re.sub(r"\bsqlite_master\b", "catalog_objects", code)
            out.append(code)
        text = "".join(out)
        returns_id = False
        m = _INSERT.match(text)
        if m:
            mode, table = (m.group(1) or "").upper(), m.group(2)
            columns = [c.strip().strip('"') for c in (m.group(4) or "").split(",") if c.strip()]
            if mode:
                text = (
                    text[: m.start()]
                    + re.sub(r"\s+OR\s+(IGNORE|REPLACE)", "", m.group(0), count=1, flags=re.IGNORECASE)
                    + text[m.end() :]
                )
            body = text.rstrip().rstrip(";")
            if mode == "IGNORE" and "ON CONFLICT" not in body.upper():
                body += " ON CONFLICT DO NOTHING"
            elif mode == "REPLACE":
                keys = REPLACE_KEYS.get(table)
                if not keys or not columns:
                    raise ValueError(f"INSERT OR REPLACE into {table} needs its key in sql_dialect.REPLACE_KEYS")
                updates = ", ".join(f"{_q(c)} = excluded.{_q(c)}" for c in columns if c not in keys)
                body += f" ON CONFLICT ({', '.join(keys)}) DO " + (f"UPDATE SET {updates}" if updates else "NOTHING")
            if table in SERIAL_TABLES and "RETURNING" not in body.upper():
                body += " RETURNING id"
                returns_id = True
            text = body
        return Translated(text, returns_id)

    # -- statements of the PostgreSQL catalog itself --------------------------------------------------
    MIGRATIONS_TABLE = "CREATE TABLE IF NOT EXISTS migrations (number INTEGER PRIMARY KEY, name TEXT, applied_at TEXT)"
    LOCK_AUDIT_CHAIN = "SELECT pg_advisory_xact_lock(%s)"
    TRY_CLAIM = "SELECT pg_try_advisory_lock(%s)"
    RELEASE_CLAIM = "SELECT pg_advisory_unlock(%s)"
    LOCK_MIGRATIONS = "SELECT pg_advisory_xact_lock(%s)"


def _q(column: str) -> str:
    return f'"{column}"' if column in RESERVED_COLUMNS else column


def _split_literals(sql: str):
    """Yield (is_literal, text) pieces: single-quoted strings apart from code."""
    i, n = 0, len(sql)
    start = 0
    while i < n:
        if sql[i] == "'":
            if i > start:
                yield False, sql[start:i]
            j = i + 1
            while j < n:
                if sql[j] == "'":
                    if j + 1 < n and sql[j + 1] == "'":
                        j += 2
                        continue
                    break
                j += 1
            yield True, sql[i : j + 1]
            i = start = j + 1
        else:
            i += 1
    if start < n:
        yield False, sql[start:]


MAX_POSITION = 16383  # PostgreSQL's largest tsvector position; later tokens share it


def _lexeme(token: str) -> str:
    return "'" + token.replace("\\", "\\\\").replace("'", "''") + "'"


def tsvector_literal(tokens: str) -> str:
    """Space-separated application tokens as a tsvector literal with their positions (1, 2, …)."""
    return " ".join(f"{_lexeme(t)}:{min(i, MAX_POSITION)}" for i, t in enumerate(tokens.split(), start=1))


def tsquery_phrase(tokens) -> str:
    """Consecutive tokens as a tsquery phrase ('参保' <-> '保人' <-> '人员'); one token on its own."""
    return " <-> ".join(_lexeme(t) for t in tokens)


def lock_key(text: str) -> int:
    """A signed 64-bit advisory-lock key for a name (stable across processes and machines)."""
    import hashlib

    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big", signed=True)


AUDIT_CHAIN_LOCK = lock_key("scanstation:audit_log:head")
MIGRATION_LOCK = lock_key("scanstation:migrations")

__all__ = ["PG_MIGRATIONS", "PostgresDialect", "Translated", "lock_key", "AUDIT_CHAIN_LOCK", "MIGRATION_LOCK"]
