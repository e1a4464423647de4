"""Crash-safe file moves tied to catalog transactions.

A change that renames page files (renumbering, replacing, deleting) records the moves in
``pending_moves`` inside its transaction, then carries them out after the commit. Moves are
idempotent (a move whose source is gone and whose target exists is done), so replaying the table
finishes whatever a crash interrupted. Files are moved, never deleted.

A move whose source and target are both missing is never counted as done: the file may have been
set aside in ``quarantine/`` by a reconcile that ran before the moves were replayed (older versions
did that); it is brought back from there, otherwise the replay stops and says which file is missing.
Every entry point that touches a dossier replays the journal first (``scanstation.recovery``).
"""

from __future__ import annotations

import os
import shutil
import threading
from pathlib import Path

from scanstation.clock import now_iso
from scanstation.errors import StorageError
from scanstation.storage.faults import crash_point
from scanstation.storage.files import fsync_dir, storage_error

_LOCK = threading.Lock()  # one replay at a time in this process (the window runs tasks on several threads)


def plan(conn, moves: list[tuple[str, str]]) -> None:
    """Record moves (paths relative to the home) in the caller's transaction."""
    conn.executemany(
        "INSERT INTO pending_moves(src, dst, created_at) VALUES (?, ?, ?)",
        [(src, dst, now_iso()) for src, dst in moves],
    )


def pending(catalog) -> int:
    return catalog.one("SELECT count(*) n FROM pending_moves")["n"]


def pending_paths(catalog) -> set[str]:
    """Every path (relative to the home) a pending move reads or writes."""
    paths: set[str] = set()
    for row in catalog.query("SELECT src, dst FROM pending_moves"):
        paths.update((row["src"], row["dst"]))
    return paths


def _quarantined(home_path: Path, rel: str) -> Path | None:
    """A file of this name that a reconcile moved to quarantine/reconcile-*/{folder}/ (newest first)."""
    rel_path = Path(rel)
    root = home_path / "quarantine"
    if not root.is_dir():
        return None
    for batch in sorted((p for p in root.iterdir() if p.name.startswith("reconcile-")), reverse=True):
        candidate = batch / rel_path.parent.name / rel_path.name
        if candidate.is_file():
            return candidate
    return None


def _move(src: Path, dst: Path) -> None:
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


def apply(home_path: Path, catalog) -> int:
    """Carry out pending moves in order; returns how many were done now."""
    home_path = Path(home_path)
    done = 0
    with _LOCK:
        for row in catalog.query("SELECT id, src, dst FROM pending_moves ORDER BY id"):
            src, dst = home_path / row["src"], home_path / row["dst"]
            if src.exists():
                if dst.exists():
                    raise storage_error(dst, FileExistsError(17, "target exists", str(dst)))
                _move(src, dst)
                done += 1
            elif not dst.exists():
                kept = _quarantined(home_path, row["src"]) or _quarantined(home_path, row["dst"])
                if kept is None:
                    raise StorageError(
                        "A page file move recorded before a crash cannot be finished: {src} is missing and {dst} "
                        "does not exist. Nothing more was changed. Put the file back from a backup (or from "
                        "quarantine/), then run scanstation recover.",
                        "崩溃前记录的页面文件移动无法完成：{src} 不存在，{dst} 也不存在。未再做任何修改。"
                        "请从备份（或 quarantine/ 隔离区）放回该文件，然后运行 scanstation recover。",
                        src=row["src"],
                        dst=row["dst"],
                    )
                _move(kept, dst)  # set aside by a reconcile before the replay: it goes where it belongs
                done += 1
            crash_point("moves.renamed")
            with catalog.write() as conn:
                conn.execute("DELETE FROM pending_moves WHERE id = ?", (row["id"],))
    return done
