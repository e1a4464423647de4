"""The one place that decides how an error is shown to the user.

A ``ScanStationError`` already says what happened and what to do next, in the user's language
(``.message``). The presenter picks the form: a device fault goes to the scan view that is running
the scanner (a banner with a Continue button, so nothing modal blocks the feeder); everything else
becomes a message box whose title says the kind of problem. An unexpected exception (a bug) is written
with its traceback to the station's log file (``scanstation.error_log``) and shown as one sentence
naming that file, never as a traceback; it never closes the window. ``install_excepthook`` sends
exceptions no code caught (in a slot, a timer) the same way.
"""

from __future__ import annotations

import logging
import sys
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
    ProgramError,
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
        self.home_path = None  # the station home: its logs/ folder holds the log file of unexpected errors

    def titles(self) -> list[tuple[type, str]]:
        return [
            (DeviceError, self.tr("Scanner problem")),
            (Refused, self.tr("Not allowed")),
            (InvalidInput, self.tr("Please check the input")),
            (NotFound, self.tr("Not found")),
            (CheckFailed, self.tr("Check failed")),
            (StorageError, self.tr("Cannot save")),
            (HomeError, self.tr("Station folder problem")),
            (ProgramError, self.tr("A program is missing or failed")),
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
        if isinstance(error, OSError):  # a full disk, a file name too long, no permission: said in words
            from scanstation.error_log import describe_os_error

            text, unexpected = describe_os_error(error)
            if unexpected:
                text += " " + self._logged(error)
            self._box(QMessageBox.Icon.Warning, self.tr("Cannot save"), text, "", parent)
            self._record("OSError", text)
            return
        # a defect: the traceback goes to the station's log file, the user reads one sentence naming it
        text = self.tr("An unexpected error stopped this action ({error}).").format(error=type(error).__name__)
        text += " " + self._logged(error)
        self._box(QMessageBox.Icon.Critical, self.tr("Program error"), text, "", parent)
        self._record("unexpected", text)

    def _logged(self, error: BaseException) -> str:
        from scanstation.error_log import write

        path = write(self.home_path, ["(window)"], error)
        details = "".join(traceback.format_exception(type(error), error, error.__traceback__))
        log.error("unexpected error, written to %s\n%s", path, details)
        if path is None:
            return self.tr("The details could not be written to a log file.")
        return self.tr(
            "The details are in {path}; send that file to your support contact. Everything saved before is kept."
        ).format(path=path)

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


def install_excepthook(home_path=None) -> None:
    """Every exception no code caught (a slot, a timer, a virtual method Qt calls) reaches the presenter:
    written with its traceback to the station's log file, shown as one sentence naming that file."""
    presenter().home_path = home_path

    def hook(kind, error, tb) -> None:
        if issubclass(kind, KeyboardInterrupt):
            sys.__excepthook__(kind, error, tb)
            return
        if error is None:
            error = kind()
        if error.__traceback__ is None:
            error = error.with_traceback(tb)
        try:
            presenter().present(error)
        except Exception:  # the presenter itself failed: the terminal is the last resort
            sys.__excepthook__(kind, error, tb)

    sys.excepthook = hook
