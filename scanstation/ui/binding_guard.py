"""A guard against a reference-counting bug of some PySide6 builds on Python < 3.12.

PySide6-Essentials 6.12.0 on CPython 3.11 releases one reference to ``None`` too many each time a
method that returns nothing (``QPainter.save``, ``QPen.setColor``...) is called from Python. A
window paints thousands of those calls a second, so after minutes of use ``None``'s count reaches
zero and the interpreter aborts ("Fatal Python error: none_dealloc"), taking the station down in
the middle of a batch. (6.11 is not affected; from Python 3.12 on ``None`` is immortal.)

The guard measures the leak once at start-up; only when it is there, it tops the count up from a
timer, far ahead of what the binding takes away. Those extra references are never released, which
is harmless: ``None`` lives as long as the interpreter. The real fix is a PySide6 without the bug.
"""

from __future__ import annotations

import ctypes
import logging
import sys

from PySide6.QtCore import QObject, QTimer

log = logging.getLogger("scanstation.ui")

TOP_UP = 50_000_000  # references added each time the count runs low
LOW_WATER = 10_000_000  # the count below which the guard tops up
CHECK_MS = 1000  # painting at full speed costs well under 1,000,000 references a second


def leaks_none() -> bool:
    """True when calling a void Qt method from Python loses a reference to None (the binding bug)."""
    if sys.version_info >= (3, 12) or sys.implementation.name != "cpython":
        return False
    from PySide6.QtGui import QFont

    font = QFont()
    before = sys.getrefcount(None)
    for _ in range(200):
        font.setPointSizeF(9.0)
    return sys.getrefcount(None) < before - 100


def _add_references(count: int) -> None:
    # CPython < 3.12: ob_refcnt is the first field of every object (Py_ssize_t)
    cell = ctypes.c_ssize_t.from_address(id(None))
    cell.value += count


class NoneRefcountGuard(QObject):
    """Keeps None's reference count far from zero while an affected binding is in use."""

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.active = leaks_none()
        self._timer = QTimer(self)
        self._timer.setInterval(CHECK_MS)
        self._timer.timeout.connect(self.check)
        if self.active:
            log.warning(
                "this PySide6 build loses references to None; compensating (install PySide6 6.11 "
                "or use Python 3.12+ to remove the cause)"
            )
            self.check()
            self._timer.start()

    def check(self) -> None:
        if sys.getrefcount(None) < LOW_WATER:
            _add_references(TOP_UP)


_guard: NoneRefcountGuard | None = None


def install() -> bool:
    """Start the guard once per process (after the QApplication exists); True when it is needed."""
    global _guard
    if _guard is None:
        _guard = NoneRefcountGuard()
    return _guard.active
