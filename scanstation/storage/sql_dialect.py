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
# Statuses after QC approval (scanstation.custody.AFTER_QC, kept in step by a test).
_AFTER_QC = "'approved', 'batched', 'sent', 'transferred', 'archived', 'destroyed'"
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
        104,
        "archive_custody",
        """
-- The custody tables of the station's catalog migration 5 (scanstation.custody.MIGRATION), same
-- columns and meanings: destruction registers and tombstones, corrections, loans, fixity runs and
-- the personal-data index. (Backup runs belong to the backup of the archive.)
CREATE TABLE destruction_registers (
    id BIGSERIAL PRIMARY KEY,
    register_no TEXT NOT NULL UNIQUE,
    fonds_code TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'proposed',
    as_of TEXT NOT NULL,
    opinion TEXT NOT NULL,
    proposed_by TEXT NOT NULL,
    proposed_at TEXT NOT NULL,
    decided_by TEXT NOT NULL DEFAULT '',
    decided_at TEXT NOT NULL DEFAULT '',
    decision_note TEXT NOT NULL DEFAULT '',
    method TEXT NOT NULL DEFAULT '',
    executed_on TEXT NOT NULL DEFAULT '',
    executed_at TEXT NOT NULL DEFAULT '',
    pdf_path TEXT NOT NULL DEFAULT '',
    pdf_sha256 TEXT NOT NULL DEFAULT '',
    pdf_sm3 TEXT NOT NULL DEFAULT ''
);
CREATE TABLE destruction_items (
    register_id BIGINT NOT NULL REFERENCES destruction_registers(id),
    seq INTEGER NOT NULL,
    dossier_id BIGINT NOT NULL REFERENCES dossiers(id),
    number TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    year INTEGER NOT NULL,
    retention TEXT NOT NULL,
    expiry TEXT NOT NULL,
    date TEXT NOT NULL DEFAULT '',
    pages INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (register_id, seq)
);
CREATE INDEX destruction_items_dossier ON destruction_items(dossier_id);
CREATE TABLE destruction_confirmations (
    register_id BIGINT NOT NULL REFERENCES destruction_registers(id),
    supervisor TEXT NOT NULL,
    roles TEXT NOT NULL,
    method TEXT NOT NULL,
    executed_on TEXT NOT NULL,
    confirmed_at TEXT NOT NULL,
    PRIMARY KEY (register_id, supervisor)
);
CREATE TABLE tombstones (
    id BIGSERIAL PRIMARY KEY,
    dossier_id BIGINT NOT NULL UNIQUE REFERENCES dossiers(id),
    number TEXT NOT NULL,
    fonds_code TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    year INTEGER NOT NULL,
    retention TEXT NOT NULL,
    date TEXT NOT NULL DEFAULT '',
    expiry TEXT NOT NULL DEFAULT '',
    register_id BIGINT NOT NULL REFERENCES destruction_registers(id),
    register_no TEXT NOT NULL,
    method TEXT NOT NULL,
    executed_on TEXT NOT NULL,
    supervisors TEXT NOT NULL,
    destroyed_at TEXT NOT NULL,
    files INTEGER NOT NULL DEFAULT 0,
    bytes BIGINT NOT NULL DEFAULT 0,
    digests TEXT NOT NULL DEFAULT '[]'
);
CREATE TABLE corrections (
    id BIGSERIAL PRIMARY KEY,
    dossier_id BIGINT NOT NULL REFERENCES dossiers(id),
    number TEXT NOT NULL,
    field TEXT NOT NULL,
    old_value TEXT NOT NULL,
    new_value TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,
    after_transfer INTEGER NOT NULL DEFAULT 0,
    "user" TEXT NOT NULL,
    ts TEXT NOT NULL
);
CREATE INDEX corrections_dossier ON corrections(dossier_id, id);
CREATE TABLE dossier_former_numbers (
    number TEXT PRIMARY KEY,
    dossier_id BIGINT NOT NULL REFERENCES dossiers(id),
    correction_id BIGINT NOT NULL REFERENCES corrections(id),
    changed_at TEXT NOT NULL
);
CREATE TABLE loans (
    id BIGSERIAL PRIMARY KEY,
    dossier_id BIGINT NOT NULL REFERENCES dossiers(id),
    number TEXT NOT NULL,
    requester TEXT NOT NULL,
    reason TEXT NOT NULL,
    days INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'requested',
    requested_at TEXT NOT NULL,
    approved_by TEXT NOT NULL DEFAULT '',
    approved_at TEXT NOT NULL DEFAULT '',
    due_at TEXT NOT NULL DEFAULT '',
    returned_by TEXT NOT NULL DEFAULT '',
    returned_at TEXT NOT NULL DEFAULT '',
    exports INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX loans_state ON loans(state, due_at);
CREATE TABLE fixity_runs (
    id BIGSERIAL PRIMARY KEY,
    "user" TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    sample_percent DOUBLE PRECISION NOT NULL,
    seed BIGINT,
    checked INTEGER NOT NULL,
    mismatched INTEGER NOT NULL,
    missing INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    details TEXT NOT NULL DEFAULT '{}'
);
CREATE TABLE personal_index (
    dossier_id BIGINT PRIMARY KEY REFERENCES dossiers(id),
    id_number_token TEXT NOT NULL
);
CREATE INDEX personal_index_token ON personal_index(id_number_token);
""",
    ),
    (
        105,
        "archive_custody_rules",
        f"""
-- R37/R12 as on the station's catalog (the SQLite triggers of scanstation.custody.MIGRATION): a
-- dossier in an open destruction register cannot be changed, a dossier past QC (and its pages) is
-- never deleted, tombstones, registers and correction records are permanent. PostgreSQL triggers
-- call a function, and a trigger's WHEN may not hold a subquery, so the lookups are SQL functions.
-- The only procedural code of the schema: one PL/pgSQL function that raises the refusal, with the
-- SQLSTATE of a constraint violation (reported to the domain code as sqlite3.IntegrityError).
CREATE FUNCTION custody_refuse() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING ERRCODE = 'integrity_constraint_violation', MESSAGE = TG_ARGV[0];
END
$$;
CREATE FUNCTION custody_in_open_register(dossier BIGINT) RETURNS BOOLEAN LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM destruction_items i JOIN destruction_registers r ON r.id = i.register_id
                   WHERE i.dossier_id = dossier AND r.state IN ('proposed', 'approved'))
$$;
CREATE FUNCTION custody_past_qc(dossier BIGINT) RETURNS BOOLEAN LANGUAGE sql STABLE AS $$
    SELECT EXISTS (SELECT 1 FROM dossiers WHERE id = dossier AND status IN ({_AFTER_QC}))
$$;
CREATE TRIGGER custody_dossier_in_register BEFORE UPDATE ON dossiers FOR EACH ROW
    WHEN (custody_in_open_register(OLD.id))
    EXECUTE FUNCTION custody_refuse('R37: the dossier is in an open destruction register and cannot be changed');
CREATE TRIGGER custody_pages_in_register_update BEFORE UPDATE ON pages FOR EACH ROW
    WHEN (custody_in_open_register(OLD.dossier_id))
    EXECUTE FUNCTION custody_refuse('R37: the dossier is in an open destruction register and cannot be changed');
CREATE TRIGGER custody_pages_in_register_insert BEFORE INSERT ON pages FOR EACH ROW
    WHEN (custody_in_open_register(NEW.dossier_id))
    EXECUTE FUNCTION custody_refuse('R37: the dossier is in an open destruction register and cannot be changed');
CREATE TRIGGER custody_no_dossier_delete_after_qc BEFORE DELETE ON dossiers FOR EACH ROW
    WHEN (OLD.status IN ({_AFTER_QC}))
    EXECUTE FUNCTION custody_refuse('R37: a dossier past QC is never deleted; use the destruction procedure');
CREATE TRIGGER custody_no_page_delete_after_qc BEFORE DELETE ON pages FOR EACH ROW
    WHEN (custody_past_qc(OLD.dossier_id))
    EXECUTE FUNCTION custody_refuse('R37: pages of a dossier past QC are never deleted; use the destruction procedure');
CREATE TRIGGER custody_destroyed_dossier_frozen BEFORE UPDATE ON dossiers FOR EACH ROW
    WHEN (OLD.status = 'destroyed')
    EXECUTE FUNCTION custody_refuse('R37: a destroyed dossier is a permanent tombstone');
CREATE TRIGGER custody_tombstone_frozen BEFORE UPDATE ON tombstones FOR EACH ROW
    EXECUTE FUNCTION custody_refuse('R37: tombstones are permanent');
CREATE TRIGGER custody_tombstone_kept BEFORE DELETE ON tombstones FOR EACH ROW
    EXECUTE FUNCTION custody_refuse('R37: tombstones are permanent');
CREATE TRIGGER custody_register_kept BEFORE DELETE ON destruction_registers FOR EACH ROW
    EXECUTE FUNCTION custody_refuse('R37: destruction registers are kept permanently');
CREATE TRIGGER custody_executed_register_frozen BEFORE UPDATE ON destruction_registers FOR EACH ROW
    WHEN (OLD.state IN ('executed', 'rejected'))
    EXECUTE FUNCTION custody_refuse('R37: a closed destruction register cannot be changed');
CREATE TRIGGER custody_register_items_kept BEFORE DELETE ON destruction_items FOR EACH ROW
    EXECUTE FUNCTION custody_refuse('R37: destruction registers are kept permanently');
CREATE TRIGGER custody_corrections_kept BEFORE DELETE ON corrections FOR EACH ROW
    EXECUTE FUNCTION custody_refuse('R12: correction records are kept permanently');
CREATE TRIGGER custody_corrections_frozen BEFORE UPDATE ON corrections FOR EACH ROW
    EXECUTE FUNCTION custody_refuse('R12: correction records are kept permanently');
""",
    ),
    (
        106,
        "archive_store_removals",
        """
-- Store objects the destruction procedure removes. Queued in the transaction that destroys the
-- dossiers (only objects no other live page names), removed after the commit under an exclusive
-- advisory lock that receiving desks take shared while they commit (see scanstation.storage.page_files).
-- A desk killed between the commit and the removal leaves rows 'pending': the next run finishes them.
CREATE TABLE store_removals (
    sm3 TEXT PRIMARY KEY,
    register_no TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'pending',
    queued_at TEXT NOT NULL,
    done_at TEXT NOT NULL DEFAULT ''
);
CREATE INDEX store_removals_state ON store_removals(state);
""",
    ),
    (
        107,
        "archive_paper_custody",
        """
-- Paper custody as on the station's catalog (migration 61, scanstation.custody.paper): dossiers checked
-- out to a desk and back, their binding state, the hand-over lists.
CREATE TABLE paper_moves (
    id BIGSERIAL PRIMARY KEY,
    kind TEXT NOT NULL,
    box_no TEXT NOT NULL DEFAULT '',
    dossiers TEXT NOT NULL,
    store_person TEXT NOT NULL,
    desk_person TEXT NOT NULL,
    due_at TEXT NOT NULL DEFAULT '',
    at TEXT NOT NULL,
    note TEXT NOT NULL DEFAULT ''
);
CREATE TABLE paper_state (
    dossier_id BIGINT PRIMARY KEY REFERENCES dossiers(id),
    location TEXT NOT NULL DEFAULT 'store',
    binding TEXT NOT NULL DEFAULT 'bound',
    move_id BIGINT REFERENCES paper_moves(id),
    due_at TEXT NOT NULL DEFAULT '',
    updated_at TEXT NOT NULL
);
CREATE INDEX paper_state_desk ON paper_state(location, due_at);
""",
    ),
    (
        108,
        "archive_station_tables",
        """
-- The station's tables that the window's views read on any home (batches, stack scanning, capture
-- sessions, QC decisions, OCR layout, pending file moves). On an archive they stay empty, as on a
-- SQLite archive home, so that every view opens and shows nothing rather than failing.
CREATE TABLE batches (
    id BIGSERIAL PRIMARY KEY,
    batch_id TEXT NOT NULL UNIQUE,
    fonds_code TEXT NOT NULL,
    year INTEGER NOT NULL,
    seq INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'draft',
    deadline TEXT NOT NULL DEFAULT '',
    package_path TEXT NOT NULL DEFAULT '',
    tagmanifest_sm3 TEXT NOT NULL DEFAULT '',
    details TEXT NOT NULL DEFAULT '{}',
    created_by TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (fonds_code, year, seq)
);
CREATE TABLE batch_dossiers (
    batch_id BIGINT NOT NULL REFERENCES batches(id),
    dossier_id BIGINT NOT NULL REFERENCES dossiers(id),
    seq INTEGER NOT NULL,
    outcome TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (batch_id, dossier_id)
);
CREATE INDEX batch_dossiers_dossier ON batch_dossiers(dossier_id);
CREATE TABLE transfer_deliveries (
    id BIGSERIAL PRIMARY KEY,
    batch_id BIGINT NOT NULL REFERENCES batches(id),
    destination TEXT NOT NULL,
    kind TEXT NOT NULL,
    attempt INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    path TEXT NOT NULL DEFAULT '',
    bytes BIGINT NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL
);
CREATE INDEX transfer_deliveries_batch ON transfer_deliveries(batch_id, id);
CREATE TABLE transfer_receipts (
    id BIGSERIAL PRIMARY KEY,
    batch_id BIGINT NOT NULL REFERENCES batches(id),
    receipt_id TEXT NOT NULL,
    receipt_sm3 TEXT NOT NULL UNIQUE,
    tagmanifest_sm3 TEXT NOT NULL,
    decision TEXT NOT NULL,
    signer_fingerprint TEXT NOT NULL,
    signer_name TEXT NOT NULL DEFAULT '',
    issued_at TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    path TEXT NOT NULL DEFAULT '',
    content TEXT NOT NULL
);
CREATE TABLE pending_moves (
    id BIGSERIAL PRIMARY KEY,
    src TEXT NOT NULL,
    dst TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE TABLE split_runs (
    id BIGSERIAL PRIMARY KEY,
    operator TEXT NOT NULL,
    device TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'running',
    stop_reason TEXT NOT NULL DEFAULT '',
    message TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '{}',
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE split_counts (
    id BIGSERIAL PRIMARY KEY,
    run_id BIGINT NOT NULL REFERENCES split_runs(id),
    dossier_id BIGINT NOT NULL REFERENCES dossiers(id),
    declared INTEGER,
    counted INTEGER NOT NULL,
    added INTEGER NOT NULL,
    state TEXT NOT NULL,
    created_at TEXT NOT NULL
);
CREATE INDEX split_counts_dossier ON split_counts(dossier_id, state);
CREATE TABLE split_held (
    id BIGSERIAL PRIMARY KEY,
    run_id BIGINT NOT NULL REFERENCES split_runs(id),
    position INTEGER NOT NULL,
    file TEXT NOT NULL,
    dpi INTEGER NOT NULL DEFAULT 300,
    mode TEXT NOT NULL DEFAULT '',
    device TEXT NOT NULL DEFAULT '{}',
    kind TEXT NOT NULL DEFAULT 'page',
    number TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'held',
    assigned_to TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    resolved_at TEXT NOT NULL DEFAULT '',
    resolved_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX split_held_open ON split_held(state, run_id, position);
CREATE TABLE capture_sessions (
    id BIGSERIAL PRIMARY KEY,
    dossier_id BIGINT NOT NULL REFERENCES dossiers(id),
    operator TEXT NOT NULL,
    device TEXT NOT NULL DEFAULT '',
    settings TEXT NOT NULL DEFAULT '{}',
    state TEXT NOT NULL DEFAULT 'open',
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE qc_decisions (
    id BIGSERIAL PRIMARY KEY,
    dossier_id BIGINT NOT NULL REFERENCES dossiers(id),
    page_id BIGINT REFERENCES pages(id),
    decision TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    "user" TEXT NOT NULL,
    ts TEXT NOT NULL,
    resolved INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX qc_decisions_dossier ON qc_decisions(dossier_id, resolved);
CREATE TABLE page_layout (
    page_id BIGINT PRIMARY KEY REFERENCES pages(id),
    engine TEXT NOT NULL,
    layout TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
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
    (
        111,
        "archive_dossier_list_indexes",
        """
-- Every listing shape (none, 年度, status, 年度 + status; scanstation.dossier_list) has an index that
-- returns its rows in 档号 order, as on the station's catalog (migration 70): without the 年度 one,
-- PostgreSQL sorted a whole year's dossiers for each page (117 ms p95 at 2 M dossiers).
CREATE INDEX IF NOT EXISTS dossiers_fonds_year_number ON dossiers(fonds_code, year, number);
CREATE INDEX IF NOT EXISTS dossiers_fonds_status_number ON dossiers(fonds_code, status, number);
CREATE INDEX IF NOT EXISTS dossiers_fonds_number ON dossiers(fonds_code, number);
""",
    ),
    (
        112,
        "archive_search_trigrams",
        """
-- Trigram tokens beside the bigrams (scanstation.storage.pg_search.trigram_positions): a word of three
-- CJK characters becomes one trigram lexeme, which GIN answers exactly, instead of a phrase of two
-- bigrams that PostgreSQL re-checks against every candidate row's tsvector (186-206 ms p95 at 20 M
-- pages); longer words become a phrase of trigrams, with fewer candidates to re-check. Rows already
-- indexed get their trigrams from their stored bigrams: wherever a two-character token is followed
-- by one that continues it, the same rule the application uses for new rows.
"""
        + "".join(
            f"""
ALTER TABLE {table} ADD COLUMN tri TSVECTOR NOT NULL DEFAULT '';
UPDATE {table} SET tri = (
    SELECT coalesce(string_agg(
        '''' || replace(replace(a.lexeme || right(b.lexeme, 1), '\\', '\\\\'), '''', '''''') || ''':' || a.pos,
        ' '), '')::tsvector
    FROM (SELECT u.lexeme, p AS pos FROM unnest(bi) AS u, unnest(u.positions) AS p) AS a
    JOIN (SELECT u.lexeme, p AS pos FROM unnest(bi) AS u, unnest(u.positions) AS p) AS b ON b.pos = a.pos + 1
    WHERE char_length(a.lexeme) = 2 AND char_length(b.lexeme) = 2 AND right(a.lexeme, 1) = left(b.lexeme, 1)
) WHERE bi <> '';
CREATE INDEX {table}_tri ON {table} USING GIN (tri);
"""
            for table in ("search_pages", "search_dossiers")
        ),
    ),
]

# Tables whose rows get a new id from a sequence: INSERTs into them return it (cursor.lastrowid).
SERIAL_TABLES = frozenset(
    {
        "users",
        "dossiers",
        "pages",
        "received_packages",
        "audit_log",
        "destruction_registers",
        "tombstones",
        "corrections",
        "loans",
        "fixity_runs",
        "paper_moves",
        "batches",
        "transfer_deliveries",
        "transfer_receipts",
        "pending_moves",
        "split_runs",
        "split_counts",
        "split_held",
        "capture_sessions",
        "qc_decisions",
    }
)
# The key ``INSERT OR REPLACE`` replaces on, per table.
REPLACE_KEYS = {
    "page_text": ("page_id",),
    "settings": ("key",),
    "fonds": ("code",),
    "store_objects": ("sm3",),
    "package_claims": ("digest",),
    "personal_index": ("dossier_id",),
    "store_removals": ("sm3",),
    "page_layout": ("page_id",),
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
        # group_concat(x[, sep]) is string_agg(x, sep); SQLite's default separator is a comma
        sql = re.sub(r"\bgroup_concat\(([^(),]+)\)", r"string_agg(\1, ',')", sql, flags=re.IGNORECASE)
        sql = re.sub(r"\bgroup_concat\(", "string_agg(", sql, flags=re.IGNORECASE)
        for literal, code in _split_literals(sql):
            if literal:
                out.append(code.replace("%", "%%"))
                continue
            code = code.replace("%", "%%")
            for word in RESERVED_COLUMNS:
                code = re.sub(rf'(?<![":\w.]){word}(?![\w"(])', f'"{word}"', code)
            # a bare parameter tested for NULL has no type PostgreSQL can infer ("? IS NULL OR col = ?")
            code = re.sub(
                r"(\?|(?<!:):\w+)(\s+IS\s+(?:NOT\s+)?NULL\b)", r"CAST(\1 AS TEXT)\2", code, flags=re.IGNORECASE
            )
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
    TRY_LOCK_MIGRATIONS = "SELECT pg_try_advisory_xact_lock(%s)"
    LOCK_SHARED = "SELECT pg_advisory_xact_lock_shared(%s)"
    LOCK_EXCLUSIVE = "SELECT pg_advisory_xact_lock(%s)"


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


def tsvector_at(positioned) -> str:
    """(position, token) pairs as a tsvector literal (positions from 1; later ones share the largest)."""
    return " ".join(f"{_lexeme(t)}:{min(i, MAX_POSITION)}" for i, t in positioned)


def tsquery_phrase(tokens) -> str:
    """Consecutive tokens as a tsquery phrase ('参保' <-> '保人' <-> '人员'); one token on its own."""
    return " <-> ".join(_lexeme(t) for t in tokens)


def lock_key(text: str) -> int:
    """A signed 64-bit advisory-lock key for a name (stable across processes and machines)."""
    import hashlib

    return int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big", signed=True)


AUDIT_CHAIN_LOCK = lock_key("scanstation:audit_log:head")
MIGRATION_LOCK = lock_key("scanstation:migrations")
STORE_REMOVAL_LOCK = lock_key("scanstation:store:removals")

__all__ = [
    "PG_MIGRATIONS",
    "PostgresDialect",
    "Translated",
    "lock_key",
    "AUDIT_CHAIN_LOCK",
    "MIGRATION_LOCK",
    "STORE_REMOVAL_LOCK",
]
