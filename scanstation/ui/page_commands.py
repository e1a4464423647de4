"""Undoable page operations: each step calls the core, and its undo calls the inverse core operation.

The undo history lives until the dossier is completed. A step whose inverse the core does not
offer is carried out without entering the history, and the history is cleared at that point, so
an undo never pretends to revert something it cannot.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand


class PageCommand(QUndoCommand):
    """``do`` and ``undo`` are blocking core calls; the desk runs them on the catalog pool in order."""

    def __init__(
        self,
        runner: Callable[[Callable[[], object], str], None],
        text: str,
        do: Callable[[], object],
        undo: Callable[[], object],
    ):
        super().__init__(text)
        self._runner = runner
        self._do = do
        self._undo = undo

    def redo(self) -> None:
        self._runner(self._do, self.text())

    def undo(self) -> None:
        self._runner(self._undo, self.text())


def rotate_steps(api, number: str, seq: int, degrees: int):
    return (lambda: api.rotate(number, seq, degrees), lambda: api.rotate(number, seq, (360 - degrees) % 360))


def move_steps(api, number: str, from_seq: int, to_seq: int):
    return (lambda: api.move(number, from_seq, to_seq), lambda: api.move(number, to_seq, from_seq))


def insert_steps(api, number: str, count: int, after_seq: int, total: int):
    """Insert the last ``count`` pages after ``after_seq``; undo puts them back at the end."""

    def undo():
        for _ in range(count):
            api.move(number, after_seq + 1, total)

    return (lambda: api.insert_last_after(number, count, after_seq), undo)


# Core inverses that make the other operations undoable, when the core offers them.
INVERSES = {
    "delete": "restore_deleted",  # restore_deleted(session, number, seq)
    "replace": "undo_replace",  # undo_replace(session, number, seq)
    "not_scanned": "remove_not_scanned",  # remove_not_scanned(session, number, original_page_no)
}
