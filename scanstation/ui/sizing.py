"""Window and dialog sizes that fit the screen they open on.

Government desktops are often 1366×768, and 150 % scaling turns a 1920×1080 screen into 1280×720
logical pixels. The main window opens within the available area of its screen (maximised when the
screen is small) and remembers its geometry per screen; every dialog gets a sane width and a cap
(90 % of the available area), so a long text never makes a dialog taller than the screen.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QRect, QSize
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QWidget

PREFERRED_WINDOW = QSize(1400, 900)
DIALOG_CAP = 0.9  # share of the available screen a dialog may take at most
MESSAGE_CAP_CHARS = 600  # longer message texts are cut in the box; the whole text is under "Show Details"


def available(widget: QWidget | None = None) -> QRect:
    """The available geometry (without task bars) of the screen ``widget`` is on, or the primary screen."""
    screen = None
    if widget is not None:
        window = widget.window()
        handle = window.windowHandle() if window is not None else None
        screen = handle.screen() if handle is not None else widget.screen()
    if screen is None:
        screen = QGuiApplication.primaryScreen()
    return screen.availableGeometry() if screen is not None else QRect(0, 0, 1366, 768)


def screen_key(widget: QWidget | None = None) -> str:
    """A name for the screen and its size: the geometry is remembered separately for each."""
    screen = widget.screen() if widget is not None else QGuiApplication.primaryScreen()
    if screen is None:
        return "default"
    size = screen.geometry().size()
    name = "".join(c if c.isalnum() else "_" for c in (screen.name() or "screen"))
    return f"{name}_{size.width()}x{size.height()}"


def cap(widget: QWidget | None = None) -> QSize:
    area = available(widget)
    return QSize(int(area.width() * DIALOG_CAP), int(area.height() * DIALOG_CAP))


def fit_dialog(dialog: QWidget, width: int = 480, height: int = 0) -> None:
    """A dialog at least ``width`` wide (when the screen allows), never larger than the cap."""
    limit = cap(dialog.parentWidget() or dialog)
    dialog.setMaximumSize(limit)
    dialog.setMinimumWidth(min(width, limit.width()))
    hint = dialog.sizeHint()
    dialog.resize(min(max(hint.width(), width), limit.width()), min(max(hint.height(), height), limit.height()))


def place_main_window(window: QWidget, saved: QByteArray | None) -> None:
    """Restore the geometry saved for this screen, or open at the preferred size within the available
    area (maximised when the screen is smaller than the preferred size)."""
    area = available(window)
    if isinstance(saved, QByteArray) and not saved.isEmpty() and window.restoreGeometry(saved):
        frame = window.frameGeometry()
        if area.contains(frame) or window.isMaximized():
            return
    width, height = min(PREFERRED_WINDOW.width(), area.width()), min(PREFERRED_WINDOW.height(), area.height())
    window.resize(width, height)
    window.move(area.x() + (area.width() - width) // 2, area.y() + (area.height() - height) // 2)
    if area.width() < PREFERRED_WINDOW.width() or area.height() < PREFERRED_WINDOW.height():
        window.setWindowState(window.windowState() | _maximized())


def _maximized():
    from PySide6.QtCore import Qt

    return Qt.WindowState.WindowMaximized


def shorten_message(text: str) -> tuple[str, str]:
    """(text for the box, the whole text for its details when it was cut)."""
    if len(text) <= MESSAGE_CAP_CHARS:
        return text, ""
    return text[:MESSAGE_CAP_CHARS].rstrip() + " …", text
