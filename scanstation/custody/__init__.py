"""Custody: the rules that keep the archive trustworthy over decades (R12, R15–R16, R36–R40).

Separation of duties, audit export, personal-data masking and encryption at rest, retention due
lists and the destruction procedure, corrections after transfer, backups, fixity checks, lending
and the PDF reports. Each capability lives in its own module of this package.

``MIGRATION`` holds this package's catalog tables. Besides the tables it installs triggers that
make R37 hold for every module, not only this one: a dossier in an open destruction register cannot
be changed, a dossier past QC (and its pages) can never be deleted, and tombstones, executed
registers and correction records can never be changed.
"""

from __future__ import annotations

from scanstation.errors import HomeError
from scanstation.storage.migrations import register as register_migrations

# Statuses after QC approval: from here on only the destruction procedure ends a dossier (R37).
AFTER_QC = ("approved", "batched", "sent", "transferred", "archived", "destroyed")
_AFTER_QC_SQL = ", ".join(f"'{s}'" for s in AFTER_QC)

MIGRATION = (
    5,
    "custody",
    f"""
CREATE TABLE IF NOT EXISTS destruction_registers (
    id INTEGER PRIMARY KEY,
    register_no TEXT NOT NULL UNIQUE,        -- 销毁清册编号
    fonds_code TEXT NOT NULL,
    state TEXT NOT NULL DEFAULT 'proposed',  -- proposed | approved | executed | rejected
    as_of TEXT NOT NULL,                     -- retention expired by this date
    opinion TEXT NOT NULL,                   -- 鉴定意见
    proposed_by TEXT NOT NULL,
    proposed_at TEXT NOT NULL,
    decided_by TEXT NOT NULL DEFAULT '',     -- approving (or rejecting) administrator
    decided_at TEXT NOT NULL DEFAULT '',
    decision_note TEXT NOT NULL DEFAULT '',
    method TEXT NOT NULL DEFAULT '',         -- 销毁方式
    executed_on TEXT NOT NULL DEFAULT '',    -- 销毁日期 as recorded by the supervisors
    executed_at TEXT NOT NULL DEFAULT '',    -- when the files were removed
    pdf_path TEXT NOT NULL DEFAULT '',       -- the kept register, relative to the home
    pdf_sha256 TEXT NOT NULL DEFAULT '',
    pdf_sm3 TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS destruction_items (
    register_id INTEGER NOT NULL REFERENCES destruction_registers(id),
    seq INTEGER NOT NULL,
    dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
    number TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    year INTEGER NOT NULL,
    retention TEXT NOT NULL,
    expiry TEXT NOT NULL,
    date TEXT NOT NULL DEFAULT '',
    pages INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (register_id, seq)
);
CREATE INDEX IF NOT EXISTS destruction_items_dossier ON destruction_items(dossier_id);
CREATE TABLE IF NOT EXISTS destruction_confirmations (
    register_id INTEGER NOT NULL REFERENCES destruction_registers(id),
    supervisor TEXT NOT NULL,                -- 监销人
    roles TEXT NOT NULL,
    method TEXT NOT NULL,
    executed_on TEXT NOT NULL,
    confirmed_at TEXT NOT NULL,
    PRIMARY KEY (register_id, supervisor)
);
CREATE TABLE IF NOT EXISTS tombstones (
    id INTEGER PRIMARY KEY,
    dossier_id INTEGER NOT NULL UNIQUE REFERENCES dossiers(id),
    number TEXT NOT NULL,
    fonds_code TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    year INTEGER NOT NULL,
    retention TEXT NOT NULL,
    date TEXT NOT NULL DEFAULT '',
    expiry TEXT NOT NULL DEFAULT '',
    register_id INTEGER NOT NULL REFERENCES destruction_registers(id),
    register_no TEXT NOT NULL,
    method TEXT NOT NULL,
    executed_on TEXT NOT NULL,
    supervisors TEXT NOT NULL,               -- JSON list of user names
    destroyed_at TEXT NOT NULL,
    files INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    digests TEXT NOT NULL DEFAULT '[]'       -- JSON: file, bytes, sha256, sm3 of every destroyed file
);
CREATE TABLE IF NOT EXISTS corrections (
    id INTEGER PRIMARY KEY,
    dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
    number TEXT NOT NULL,                    -- 档号 when the correction was made
    field TEXT NOT NULL,
    old_value TEXT NOT NULL,
    new_value TEXT NOT NULL,
    reason TEXT NOT NULL,
    status TEXT NOT NULL,                    -- dossier status at the time
    after_transfer INTEGER NOT NULL DEFAULT 0,
    user TEXT NOT NULL,
    ts TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS corrections_dossier ON corrections(dossier_id, id);
CREATE TABLE IF NOT EXISTS dossier_former_numbers (
    number TEXT PRIMARY KEY,                 -- a 档号 the dossier had before a correction
    dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
    correction_id INTEGER NOT NULL REFERENCES corrections(id),
    changed_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS loans (
    id INTEGER PRIMARY KEY,                  -- 借阅单号
    dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
    number TEXT NOT NULL,
    requester TEXT NOT NULL,
    reason TEXT NOT NULL,
    days INTEGER NOT NULL,
    state TEXT NOT NULL DEFAULT 'requested', -- requested | approved | rejected | expired | returned
    requested_at TEXT NOT NULL,
    approved_by TEXT NOT NULL DEFAULT '',
    approved_at TEXT NOT NULL DEFAULT '',
    due_at TEXT NOT NULL DEFAULT '',
    returned_by TEXT NOT NULL DEFAULT '',
    returned_at TEXT NOT NULL DEFAULT '',
    exports INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS loans_state ON loans(state, due_at);
CREATE TABLE IF NOT EXISTS backup_runs (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL,                      -- create | verify | restore
    dest TEXT NOT NULL,
    generation TEXT NOT NULL DEFAULT '',
    user TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    ok INTEGER NOT NULL,
    files INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    details TEXT NOT NULL DEFAULT '{{}}'
);
CREATE TABLE IF NOT EXISTS fixity_runs (
    id INTEGER PRIMARY KEY,
    user TEXT NOT NULL,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL,
    sample_percent REAL NOT NULL,
    seed INTEGER,
    checked INTEGER NOT NULL,
    mismatched INTEGER NOT NULL,
    missing INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    details TEXT NOT NULL DEFAULT '{{}}'
);
CREATE TABLE IF NOT EXISTS personal_index (
    dossier_id INTEGER PRIMARY KEY REFERENCES dossiers(id),
    id_number_token TEXT NOT NULL            -- keyed hash of the ID number: lookup without decrypting
);
CREATE INDEX IF NOT EXISTS personal_index_token ON personal_index(id_number_token);

-- R37: a dossier in an open destruction register cannot be changed by any other path.
CREATE TRIGGER IF NOT EXISTS custody_dossier_in_register BEFORE UPDATE ON dossiers
WHEN EXISTS (SELECT 1 FROM destruction_items i JOIN destruction_registers r ON r.id = i.register_id
             WHERE i.dossier_id = OLD.id AND r.state IN ('proposed', 'approved'))
BEGIN
    SELECT RAISE(ABORT, 'R37: the dossier is in an open destruction register and cannot be changed');
END;
CREATE TRIGGER IF NOT EXISTS custody_pages_in_register_update BEFORE UPDATE ON pages
WHEN EXISTS (SELECT 1 FROM destruction_items i JOIN destruction_registers r ON r.id = i.register_id
             WHERE i.dossier_id = OLD.dossier_id AND r.state IN ('proposed', 'approved'))
BEGIN
    SELECT RAISE(ABORT, 'R37: the dossier is in an open destruction register and cannot be changed');
END;
CREATE TRIGGER IF NOT EXISTS custody_pages_in_register_insert BEFORE INSERT ON pages
WHEN EXISTS (SELECT 1 FROM destruction_items i JOIN destruction_registers r ON r.id = i.register_id
             WHERE i.dossier_id = NEW.dossier_id AND r.state IN ('proposed', 'approved'))
BEGIN
    SELECT RAISE(ABORT, 'R37: the dossier is in an open destruction register and cannot be changed');
END;
-- R37: no ordinary deletion after QC; the tombstone of a destroyed dossier is permanent.
CREATE TRIGGER IF NOT EXISTS custody_no_dossier_delete_after_qc BEFORE DELETE ON dossiers
WHEN OLD.status IN ({_AFTER_QC_SQL})
BEGIN
    SELECT RAISE(ABORT, 'R37: a dossier past QC is never deleted; use the destruction procedure');
END;
CREATE TRIGGER IF NOT EXISTS custody_no_page_delete_after_qc BEFORE DELETE ON pages
WHEN (SELECT status FROM dossiers WHERE id = OLD.dossier_id) IN ({_AFTER_QC_SQL})
BEGIN
    SELECT RAISE(ABORT, 'R37: pages of a dossier past QC are never deleted; use the destruction procedure');
END;
CREATE TRIGGER IF NOT EXISTS custody_destroyed_dossier_frozen BEFORE UPDATE ON dossiers
WHEN OLD.status = 'destroyed'
BEGIN
    SELECT RAISE(ABORT, 'R37: a destroyed dossier is a permanent tombstone');
END;
CREATE TRIGGER IF NOT EXISTS custody_tombstone_frozen BEFORE UPDATE ON tombstones
BEGIN
    SELECT RAISE(ABORT, 'R37: tombstones are permanent');
END;
CREATE TRIGGER IF NOT EXISTS custody_tombstone_kept BEFORE DELETE ON tombstones
BEGIN
    SELECT RAISE(ABORT, 'R37: tombstones are permanent');
END;
CREATE TRIGGER IF NOT EXISTS custody_register_kept BEFORE DELETE ON destruction_registers
BEGIN
    SELECT RAISE(ABORT, 'R37: destruction registers are kept permanently');
END;
CREATE TRIGGER IF NOT EXISTS custody_executed_register_frozen BEFORE UPDATE ON destruction_registers
WHEN OLD.state IN ('executed', 'rejected')
BEGIN
    SELECT RAISE(ABORT, 'R37: a closed destruction register cannot be changed');
END;
CREATE TRIGGER IF NOT EXISTS custody_register_items_kept BEFORE DELETE ON destruction_items
BEGIN
    SELECT RAISE(ABORT, 'R37: destruction registers are kept permanently');
END;
CREATE TRIGGER IF NOT EXISTS custody_corrections_kept BEFORE DELETE ON corrections
BEGIN
    SELECT RAISE(ABORT, 'R12: correction records are kept permanently');
END;
CREATE TRIGGER IF NOT EXISTS custody_corrections_frozen BEFORE UPDATE ON corrections
BEGIN
    SELECT RAISE(ABORT, 'R12: correction records are kept permanently');
END;
""",
)
register_migrations(__name__, MIGRATION)

CUSTODY_TABLES = (
    "destruction_registers",
    "destruction_items",
    "destruction_confirmations",
    "tombstones",
    "corrections",
    "dossier_former_numbers",
    "loans",
    "backup_runs",
    "fixity_runs",
    "personal_index",
)


def require_schema(catalog) -> None:
    """Custody commands need migration 5; say so plainly when this program's catalog lacks it."""
    row = catalog.one("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'destruction_registers'")
    if row is None:
        raise HomeError(
            "This catalog has no custody tables (catalog migration {n}). Update ScanStation; nothing was changed.",
            "此目录数据库缺少保管相关的数据表（目录迁移 {n}）。请更新 ScanStation；未做任何修改。",
            n=MIGRATION[0],
        )


__all__ = ["AFTER_QC", "CUSTODY_TABLES", "MIGRATION", "require_schema"]
