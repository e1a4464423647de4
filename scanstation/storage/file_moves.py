"""Crash-safe file moves tied to catalog transactions.

A change that renames page files (renumbering, replacing, deleting) records the moves in
``pending_moves`` inside its transaction, then carries them out after the commit. Moves are
idempotent (a move whose source is gone and whose target exists is done), so replaying the table
at start-up finishes whatever a crash interrupted. Files are moved, never deleted.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from scanstation.home import now_iso
from scanstation.storage.files import fsync_dir, storage_error


def plan(conn, moves: list[tuple[str, str]]) -> None:
    """Record moves (paths relative to the home) in the caller's transaction."""
    conn.executemany("INSERT INTO pending_moves(src, dst, created_at) VALUES (?, ?, ?)",
                     [(src, dst, now_iso()) for src, dst in moves])


def apply(home_path: Path, catalog) -> int:
    """Carry out pending moves in order; returns how many were done now."""
    home_path = Path(home_path)
    done = 0
    for row in catalog.query("SELECT id, src, dst FROM pending_moves ORDER BY id"):
        src, dst = home_path / row["src"], home_path / row["dst"]
        if src.exists():
            if dst.exists():
                raise storage_error(dst, FileExistsError(17, "target exists", str(dst)))
            dst.parent.mkdir(parents=True, exist_ok=True)
            try:
                if src.parent == dst.parent:
                    os.replace(src, dst)
                else:
                    shutil.move(str(src), str(dst))
                fsync_dir(dst.parent)
                if src.parent != dst.parent:
                    fsync_dir(src.parent)
            except OSError as exc:
                raise storage_error(dst, exc) from exc
            done += 1
        with catalog.write() as conn:
            conn.execute("DELETE FROM pending_moves WHERE id = ?", (row["id"],))
    return done
