"""One way back after a crash, a power cut or a full disk, used by the command line and the window alike.

``recover()`` always does the same three things, in this order, and audits what it did:

1. replays the journalled file moves of page operations (``pending_moves``): a committed renumbering,
   deletion or replacement reaches the disk before anything else looks at the files;
2. finishes interrupted capture sessions: every page that reached the spool (handed over, or still in
   the device's folder) is stored and cataloged, in capture order, exactly once;
3. reconciles disk and catalog: leftover files go to quarantine (never deleted), rows whose file is
   missing are reported.

``settle_dossier()`` is the guard every entry point that touches a dossier runs first (scan, import,
hot folder, page operations, completion; the window calls the same core functions): the journal is
replayed, and the dossier's interrupted sessions are finished (when the caller can process pages) or
the action is refused with a message that says to run ``scanstation recover``. So a crashed run's pages
are always filed before newer ones, and no new page is written over a file that is still to be moved.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from scanstation.storage.migrations import register as register_migrations

if TYPE_CHECKING:  # scanstation.bootstrap imports this module for its migration: keep its imports light
    from scanstation.service import Session

# Imported pages remember the file (and frame) they came from, so a hot-folder file is filed only once.
MIGRATIONS = [
    (
        10,
        "capture_seams",
        """
ALTER TABLE pages ADD COLUMN source_file TEXT NOT NULL DEFAULT '';   -- imports: {sha256 of the file}:{name}#{frame}
CREATE INDEX pages_source_file ON pages(dossier_id, source_file);
""",
    ),
]
register_migrations(__name__, MIGRATIONS)


@dataclass
class RecoveryReport:
    moves_replayed: int = 0
    sessions: list = field(default_factory=list)  # capture.RunResult per finished session
    failed: list[dict] = field(default_factory=list)  # sessions that could not be finished now
    reconcile: object = None  # image_store.ReconcileReport

    @property
    def pages(self) -> int:
        return sum(len(r.pages) for r in self.sessions)

    @property
    def clean(self) -> bool:
        return not self.failed and (self.reconcile is None or not self.reconcile.missing_files)

    def as_dict(self) -> dict:
        return {
            "moves_replayed": self.moves_replayed,
            "sessions": [{"number": r.number, "pages": len(r.pages)} for r in self.sessions],
            "failed": [
                {"session": f["session"], "number": f["number"], "error": f["error"].message} for f in self.failed
            ],
            "reconcile": self.reconcile.as_dict() if self.reconcile is not None else None,
        }


def recover(session: Session, capture=None, progress: Callable[[dict], None] | None = None) -> RecoveryReport:
    """Replay pending moves, finish interrupted sessions, reconcile; audited as ``station.recover``."""
    from scanstation.capture import Capture
    from scanstation.storage import file_moves
    from scanstation.storage.image_store import ImageStore

    session.require("capture")
    own = capture is None
    capture = capture or Capture(session)
    report = RecoveryReport()
    try:
        report.moves_replayed = file_moves.apply(session.home.path, session.catalog)
        report.sessions = capture.recover(progress, failures=report.failed)
    finally:
        if own:
            capture.close()
    report.reconcile = ImageStore(session.home.path).reconcile(session.catalog)
    if report.moves_replayed or report.sessions or report.failed or not report.reconcile.clean:
        session.log("station.recover", "home", session.home.fonds, report.as_dict())
    return report


def settle_dossier(session: Session, dossier: dict, capture=None) -> None:
    """The guard: finish what a crash left of this dossier before anything new is written to it.

    Pending file moves are replayed (all of them, in order: cheap, and the journal is one sequence).
    The dossier's interrupted capture sessions are finished with ``capture`` when the caller has one
    (scan, import, hot folder: ``Capture.settle``); otherwise (page operations, completion) the action is
    refused with a message that says to run recover."""
    from scanstation.capture import is_live, unfinished_refusal
    from scanstation.storage import file_moves

    if capture is not None:
        capture.settle(dossier)
        return
    if file_moves.pending(session.catalog):
        file_moves.apply(session.home.path, session.catalog)
    rows = session.catalog.query(
        "SELECT id FROM capture_sessions WHERE dossier_id = ? AND state IN ('open', 'interrupted')", (dossier["id"],)
    )
    if any(not is_live(session.home, r["id"]) for r in rows):
        raise unfinished_refusal(dossier, None)
