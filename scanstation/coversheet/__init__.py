"""Cover sheets: printing them (``sheet``), finding them on scanned pages (``detect``), and splitting one
feeder run of many dossiers at the sheets (``split``).

The catalog tables of splitting are declared here: the runs, the pages held in the spool when a run
stops (for the clerk to assign), and the page-count reconciliation of each dossier a run filled.
"""

from __future__ import annotations

from scanstation.storage.migrations import register as register_migrations

MIGRATIONS = [
    (
        60,
        "split runs, held pages and page-count reconciliation",
        """
CREATE TABLE split_runs (
    id INTEGER PRIMARY KEY,
    operator TEXT NOT NULL,
    device TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'running',   -- running | done | stopped | interrupted
    stop_reason TEXT NOT NULL DEFAULT '',     -- before_first_sheet | not_capturable | two_sheets | unreadable | error
    message TEXT NOT NULL DEFAULT '',
    summary TEXT NOT NULL DEFAULT '{}',       -- JSON: dossiers filled, pages, sheets, decode time
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL DEFAULT ''
);
CREATE TABLE split_held (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES split_runs(id),
    position INTEGER NOT NULL,                -- order in the stack
    file TEXT NOT NULL,                       -- relative to the home
    dpi INTEGER NOT NULL DEFAULT 300,
    mode TEXT NOT NULL DEFAULT '',
    device TEXT NOT NULL DEFAULT '{}',
    kind TEXT NOT NULL DEFAULT 'page',        -- page | sheet | unreadable (a sheet that could not be read)
    number TEXT NOT NULL DEFAULT '',          -- the 档号 a sheet carries
    reason TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT 'held',       -- held | assigned | discarded | resumed
    assigned_to TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    resolved_at TEXT NOT NULL DEFAULT '',
    resolved_by TEXT NOT NULL DEFAULT ''
);
CREATE INDEX split_held_open ON split_held(state, run_id, position);
CREATE TABLE split_counts (
    id INTEGER PRIMARY KEY,
    run_id INTEGER NOT NULL REFERENCES split_runs(id),
    dossier_id INTEGER NOT NULL REFERENCES dossiers(id),
    declared INTEGER,
    counted INTEGER NOT NULL,
    added INTEGER NOT NULL,
    state TEXT NOT NULL,                      -- ok | mismatch
    created_at TEXT NOT NULL
);
CREATE INDEX split_counts_dossier ON split_counts(dossier_id, state);
""",
    ),
]
register_migrations(__name__, MIGRATIONS)
