"""The one place that decides how an error is shown to the user.

A ``ScanStationError`` already says what happened and what to do next, in the user's language
(``.message``). The presenter picks the form: a device fault goes to the scan view that is running
the scanner (a banner with a Continue button, so nothing modal blocks the feeder); everything else
becomes a message box whose title says the kind of problem. An unexpected exception (a bug) is shown
once with its details and written to the home's log; it never closes the window.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QMessageBox, QWidget

from scanstation.errors import (
    CheckFailed,
    DeviceError,
    HomeError,
    InvalidInput,
    NotFound,
    Refused,
    ScanStationError,
    StorageError,
)

log = logging.getLogger("scanstation.ui")


class ErrorPresenter(QObject):
    """``present(error, parent)``; ``shown(kind, text)`` is emitted for every error shown."""

    shown = Signal(str, str)

    def __init__(self, parent: QObject | None = None):
        super().__init__(parent)
        self.window: QWidget | None = None
        self.device_fault_handler: Callable[[DeviceError], bool] | None = None
        self.last_text = ""
        self.last_title = ""
        self.open_box: QMessageBox | None = None

    def titles(self) -> list[tuple[type, str]]:
        return [
            (DeviceError, self.tr("Scanner problem")),
            (Refused, self.tr("Not allowed")),
            (InvalidInput, self.tr("Please check the input")),
            (NotFound, self.tr("Not found")),
            (CheckFailed, self.tr("Check failed")),
            (StorageError, self.tr("Cannot save")),
            (HomeError, self.tr("Station folder problem")),
        ]

    def present(self, error: BaseException, parent: QWidget | None = None) -> None:
        if isinstance(error, DeviceError) and self.device_fault_handler is not None:
            # the scan desk's banner shows error.message: it is cleaned there the same way
            if self.device_fault_handler(error):
                self._record("device", error.message)
                return
        if isinstance(error, ScanStationError):
            from scanstation.ui.text import plain_message

            title = next((t for cls, t in self.titles() if isinstance(error, cls)), self.tr("Problem"))
            log.info("%s: %s", type(error).__name__, error.message)  # the full text, rule numbers included
            text = plain_message(error.message)
            self._box(QMessageBox.Icon.Warning, title, text, "", parent)
            self._record(type(error).__name__, text)
            return
        details = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        log.error("unexpected error\n%s", details)
        text = self.tr(
            "An unexpected error occurred: {error}. Everything saved before is kept. "
            "Please report this to the administrator with the details below."
        ).format(error=error)
        self._box(QMessageBox.Icon.Critical, self.tr("Program error"), text, details, parent)
        self._record("unexpected", text)

    def inform(self, title: str, text: str, parent: QWidget | None = None) -> None:
        """A plain notice (not an error), shown the same non-blocking way."""
        self._box(QMessageBox.Icon.Information, title, text, "", parent)
        self._record("info", text)

    def notify(self, text: str, parent: QWidget | None = None, timeout_ms: int = 15000) -> None:
        """A success or a hint that needs no answer: in the status bar of the window, never modal
        (a dialog after every dossier steals the focus and costs the clerk an Enter)."""
        window = parent.window() if parent is not None and shiboken6.isValid(parent) else self.window
        if window is not None and shiboken6.isValid(window) and hasattr(window, "statusBar"):
            window.statusBar().showMessage(text, timeout_ms)
        self._record("notice", text)

    def _record(self, kind: str, text: str) -> None:
        self.last_text = text
        self.shown.emit(kind, text)

    def _box(self, icon, title: str, text: str, details: str, parent: QWidget | None) -> None:
        # Non-blocking (open, not exec): a running scan keeps delivering pages behind the box.
        if parent is None and self.window is not None and shiboken6.isValid(self.window):
            parent = self.window
        if parent is not None and not shiboken6.isValid(parent):
            parent = None
        from scanstation.ui.sizing import shorten_message

        text, whole = shorten_message(text)
        if whole and not details:
            details = whole
        box = QMessageBox(icon, title, text, QMessageBox.StandardButton.Ok, parent)
        box.setObjectName("errorBox")
        box.setWindowModality(Qt.WindowModality.WindowModal if parent else Qt.WindowModality.ApplicationModal)
        box.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        if details:
            box.setDetailedText(details)
        box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        box.finished.connect(lambda _r, b=box: self._closed(b))
        self.last_title = title
        self.open_box = box
        box.open()

    def close_open_box(self) -> None:
        if self.open_box is not None and shiboken6.isValid(self.open_box):
            self.open_box.close()
        self.open_box = None

    def _closed(self, box) -> None:
        if self.open_box is box:
            self.open_box = None
        parent = box.parentWidget() if shiboken6.isValid(box) else None
        if parent is not None and shiboken6.isValid(parent) and parent.window().isVisible():
            parent.window().activateWindow()  # the keyboard (and the desk's shortcuts) back on the window


_presenter: ErrorPresenter | None = None


def presenter() -> ErrorPresenter:
    """The application's presenter (created on first use, on the GUI thread)."""
    global _presenter
    if _presenter is None:
        _presenter = ErrorPresenter()
    return _presenter


def present(error: BaseException, parent: QWidget | None = None) -> None:
    presenter().present(error, parent)
