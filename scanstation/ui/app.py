"""GUI entry point: ``scanstation`` with no sub-command.

Start-up: the language (``--lang``, the desk's choice in ui.ini, or Chinese), the station home (a
first-start dialog when the folder has no station yet: set-up or the demo), sign-in, the main window.
"""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from scanstation.errors import Refused, ScanStationError

log = logging.getLogger("scanstation.ui")


def _display_available() -> bool:
    if not sys.platform.startswith("linux"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or os.environ.get("QT_QPA_PLATFORM"))


def application():
    """The QApplication, created once with high-DPI settings and the station's name and icon."""
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    if app is None:
        # Qt 6 scales by the screen's device pixel ratio; pass fractional factors (125 %, 150 %)
        # through instead of rounding them, so text and thumbnails stay sharp on office monitors.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(Qt.HighDpiScaleFactorRoundingPolicy.PassThrough)
        app = QApplication(sys.argv[:1])
        app.setApplicationName("ScanStation")
        app.setOrganizationName("ScanStation")
        app.setApplicationDisplayName("ScanStation")
        from scanstation.ui.icons import icon

        app.setWindowIcon(icon("app"))
    from scanstation.ui import binding_guard

    binding_guard.install()
    return app


def freeze_long_lived_objects() -> None:
    """Once the window is built: its long-lived objects (tens of thousands of Qt wrappers and
    modules) would make each full collection of Python's cyclic GC take ~100 ms on the GUI thread
    while the feeder runs; frozen, the collector only walks the short-lived objects of a scan."""
    import gc

    gc.collect()
    gc.freeze()


def language_for(ctx, home_path: Path) -> str | None:
    """``--lang`` first, then the language chosen at this desk (ui.ini in the home)."""
    explicit = getattr(getattr(ctx, "args", None), "lang", None)
    if explicit:
        return explicit
    ini = home_path / "ui.ini"
    if ini.exists():
        from PySide6.QtCore import QSettings

        value = QSettings(str(ini), QSettings.Format.IniFormat).value("ui/language")
        if value:
            return str(value)
    return None


def _show_fatal(error: BaseException) -> None:
    from PySide6.QtWidgets import QMessageBox

    text = error.message if isinstance(error, ScanStationError) else str(error)
    box = QMessageBox(QMessageBox.Icon.Critical, "ScanStation", text, QMessageBox.StandardButton.Ok)
    box.exec()


def _open_home(home_path: Path):
    """Home.open, saying so in a window while another desk upgrades the archive database (it can
    take long, and a desk that shows nothing looks broken)."""
    from PySide6.QtWidgets import QApplication, QMessageBox

    from scanstation.home import Home, upgrade_wait_message

    shown = []

    def on_wait() -> None:
        box = QMessageBox(QMessageBox.Icon.Information, "ScanStation", upgrade_wait_message())
        box.setStandardButtons(QMessageBox.StandardButton.NoButton)
        box.setModal(False)
        box.show()
        QApplication.processEvents()
        shown.append(box)

    try:
        return Home.open(home_path, on_wait=on_wait)
    finally:
        for box in shown:
            box.hide()  # close() is refused by a message box without buttons
            box.deleteLater()


def run_gui(ctx) -> int:
    if not _display_available():
        raise Refused(
            "No display: the window needs a desktop session. Use the sub-commands (scanstation --help).",
            "没有图形显示：窗口需要桌面环境。请使用子命令（scanstation --help）。",
        )
    from PySide6.QtWidgets import QDialog

    import scanstation.bootstrap  # noqa: F401 (every domain's catalog migrations, before a home is opened)
    from scanstation.home import STATION_FILE
    from scanstation.ui import i18n, tasks
    from scanstation.ui.core_api import CoreApi
    from scanstation.ui.errors import install_excepthook, presenter
    from scanstation.ui.first_start import FirstStartDialog, demo_hint, is_demo_home
    from scanstation.ui.login import LoginDialog
    from scanstation.ui.main_window import MainWindow

    app = application()
    home_path = ctx.home_path()
    i18n.install(language_for(ctx, home_path))
    tasks.unexpected_error_handler = lambda exc: presenter().present(exc)
    install_excepthook(home_path)  # an exception in a slot: the log file and one sentence, never a traceback
    hint = ""
    try:
        if not (home_path / STATION_FILE).exists():
            first = FirstStartDialog(home_path)
            if first.exec() != QDialog.DialogCode.Accepted or first.home is None:
                return 0
            home = first.home
            if first.is_demo:
                hint = demo_hint()
        else:
            home = _open_home(home_path)
    except ScanStationError as error:
        _show_fatal(error)
        return error.exit_code
    ctx.adopt(home)
    presenter().home_path = home.path
    if is_demo_home(home):
        hint = demo_hint()  # a demo station shows its users and password at every sign-in
    while True:  # "Sign out / switch user" closes the window and comes back here
        login = LoginDialog(home, hint=hint)
        if hint:
            login.prefill("demo-clerk")
        if login.exec() != QDialog.DialogCode.Accepted or login.session is None:
            return 0
        api = CoreApi(login.session)
        ctx.adopt(home, login.session)
        window = MainWindow(api, background_ocr=True)
        window.show()
        window.raise_()
        window.activateWindow()  # F5 and the other desk shortcuts work at once, without a click
        freeze_long_lived_objects()
        try:
            code = app.exec()
        finally:
            tasks.wait_for_pools(10000)
            api.close()
            from scanstation.custody import protection

            protection.forget(home)  # the personal-data key never outlives the session
        if not window.signed_out:
            return code
        window.deleteLater()  # the next user gets a new window; this one's filters and timers go with it
