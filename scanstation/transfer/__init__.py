"""Year-end transfer (R27–R34, R38): batches, sealed and signed BagIt packages, the outbox, the
archive room's four-property check, acceptance or rejection, and signed receipts.

Station side: ``batches`` (create/list/cancel), ``seal`` (BagIt package with the R28 layout,
``register`` for the 登记表, signed with ``keys``), ``outbox`` (delivery to a folder or a .zip).
Archive side: ``verify`` (DA/T 70 four-property check), ``receive`` (sample, ingest, receipt),
``receipts`` (signed 回执, imported back on the station). ``package_layout`` says what a package
holds and how its XML files are written and read; ``bagit`` and ``signing`` are the BagIt and
signature layers underneath.

``MIGRATION`` holds this package's catalog tables.
"""

from __future__ import annotations

from scanstation.errors import HomeError
from scanstation.storage.migrations import register as register_migrations

MIGRATION = (
    4,
    "transfer",
    """
-- Which dossiers a batch holds (history kept: a returned dossier may go into a later batch).
CREATE TABLE IF NOT EXISTS batch_dossiers (
    batch_id INTEGER NOT NULL REFERENCES batches(id),
    dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
    seq INTEGER NOT NULL,                    -- 顺序号 in 文件目录.xml
    outcome TEXT NOT NULL DEFAULT '',        -- '' | transferred | returned | cancelled
    PRIMARY KEY (batch_id, dossier_id)
);
CREATE INDEX IF NOT EXISTS batch_dossiers_dossier ON batch_dossiers(dossier_id);
-- Every delivery attempt of the outbox (R38), successful or not.
CREATE TABLE IF NOT EXISTS transfer_deliveries (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL REFERENCES batches(id),
    destination TEXT NOT NULL,
    kind TEXT NOT NULL,                      -- folder | zip
    attempt INTEGER NOT NULL,
    ok INTEGER NOT NULL,
    error TEXT NOT NULL DEFAULT '',
    path TEXT NOT NULL DEFAULT '',
    bytes INTEGER NOT NULL DEFAULT 0,
    started_at TEXT NOT NULL,
    finished_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS transfer_deliveries_batch ON transfer_deliveries(batch_id, id);
-- Station: receipts (回执) imported from the archive room.
CREATE TABLE IF NOT EXISTS transfer_receipts (
    id INTEGER PRIMARY KEY,
    batch_id INTEGER NOT NULL REFERENCES batches(id),
    receipt_id TEXT NOT NULL,
    receipt_sm3 TEXT NOT NULL UNIQUE,        -- SM3 of the signed receipt content
    tagmanifest_sm3 TEXT NOT NULL,
    decision TEXT NOT NULL,                  -- accepted | rejected
    signer_fingerprint TEXT NOT NULL,
    signer_name TEXT NOT NULL DEFAULT '',
    issued_at TEXT NOT NULL,
    imported_by TEXT NOT NULL,
    imported_at TEXT NOT NULL,
    path TEXT NOT NULL DEFAULT '',           -- kept copy, relative to the home
    content TEXT NOT NULL                    -- the receipt JSON
);
-- Archive room: every package decided on. The tag-manifest digest is unique: a package is
-- received once (replay guard), whatever the decision was.
CREATE TABLE IF NOT EXISTS received_packages (
    id INTEGER PRIMARY KEY,
    tagmanifest_sm3 TEXT NOT NULL UNIQUE,
    batch_id TEXT NOT NULL,                  -- External-Identifier of the package
    fonds_code TEXT NOT NULL DEFAULT '',
    year INTEGER,
    source_station TEXT NOT NULL DEFAULT '',
    signer_fingerprint TEXT NOT NULL DEFAULT '',
    signer_name TEXT NOT NULL DEFAULT '',
    decision TEXT NOT NULL,                  -- accepted | rejected
    reasons TEXT NOT NULL DEFAULT '[]',      -- JSON
    sample TEXT NOT NULL DEFAULT '{}',       -- JSON: seed, percent, dossiers, results
    checks TEXT NOT NULL DEFAULT '{}',       -- JSON summary of the four-property check
    dossiers INTEGER NOT NULL DEFAULT 0,
    files INTEGER NOT NULL DEFAULT 0,
    bytes INTEGER NOT NULL DEFAULT 0,
    package_path TEXT NOT NULL DEFAULT '',   -- where it was received from
    kept_path TEXT NOT NULL DEFAULT '',      -- tag files and non-image payload kept, relative to the home
    receipt_id TEXT NOT NULL DEFAULT '',
    receipt_path TEXT NOT NULL DEFAULT '',
    received_by TEXT NOT NULL,
    received_at TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS received_dossiers (
    package_id INTEGER NOT NULL REFERENCES received_packages(id),
    dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
    PRIMARY KEY (package_id, dossier_id)
);
CREATE INDEX IF NOT EXISTS received_dossiers_dossier ON received_dossiers(dossier_id);
""",
)
register_migrations(__name__, MIGRATION)

TRANSFER_TABLES = (
    "batch_dossiers",
    "transfer_deliveries",
    "transfer_receipts",
    "received_packages",
    "received_dossiers",
)


def require_schema(catalog) -> None:
    """Transfer commands need migration 4; say so plainly when this catalog lacks it."""
    row = catalog.one("SELECT name FROM sqlite_master WHERE type = 'table' AND name = 'received_packages'")
    if row is None:
        raise HomeError(
            "This catalog has no transfer tables (catalog migration {n}). Update ScanStation; nothing was changed.",
            "此目录数据库缺少移交相关的数据表（目录迁移 {n}）。请更新 ScanStation；未做任何修改。",
            n=MIGRATION[0],
        )


__all__ = ["MIGRATION", "TRANSFER_TABLES", "require_schema"]
