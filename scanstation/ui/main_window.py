"""The main window: the views a user's roles allow, the menus, the status bar, the idle lock.

Layout (window geometry, splitters) is remembered in ``ui.ini`` in the station home, so a desk
looks the same for every clerk who signs in there.
"""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings, Qt, Signal
from PySide6.QtGui import QAction, QActionGroup, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QHeaderView,
    QLabel,
    QMainWindow,
    QMessageBox,
    QStackedWidget,
    QTableWidget,
    QTableWidgetItem,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from scanstation import __version__
from scanstation.ui import binding_guard, sizing, tasks
from scanstation.ui.batch_view import BatchView
from scanstation.ui.custody_watch import CustodyWatch
from scanstation.ui.errors import presenter
from scanstation.ui.export_view import LoanView
from scanstation.ui.icons import icon
from scanstation.ui.import_view import ImportView
from scanstation.ui.intake_view import IntakeView
from scanstation.ui.login import IdleLock, LoginDialog
from scanstation.ui.paper_desk_view import PaperDeskView
from scanstation.ui.qc_desk import QcDesk
from scanstation.ui.scan_desk import ScanDesk
from scanstation.ui.search_view import SearchView
from scanstation.ui.settings_view import SettingsView
from scanstation.ui.stack_scan_view import StackScanView
from scanstation.users import ROLE_NAMES_ZH


def ui_settings(home) -> QSettings:
    return QSettings(str(home.path / "ui.ini"), QSettings.Format.IniFormat)


class ShortcutsDialog(QDialog):
    """F1: every action and its keys, so the whole desk can be learnt without a mouse."""

    def __init__(self, actions: list[QAction], parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Keyboard shortcuts"))
        table = QTableWidget(0, 2, self)
        table.setObjectName("shortcutsTable")
        table.setHorizontalHeaderLabels([self.tr("Action"), self.tr("Keys")])
        table.verticalHeader().hide()
        table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        seen = set()
        for action in actions:
            keys = ", ".join(s.toString(QKeySequence.SequenceFormat.NativeText) for s in action.shortcuts())
            text = action.text().replace("&", "")
            if not keys or (text, keys) in seen:
                continue
            seen.add((text, keys))
            row = table.rowCount()
            table.insertRow(row)
            table.setItem(row, 0, QTableWidgetItem(text))
            table.setItem(row, 1, QTableWidgetItem(keys))
        layout = QVBoxLayout(self)
        layout.addWidget(table)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close, self)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        sizing.fit_dialog(self, 520, 600)


class MainWindow(QMainWindow):
    locked = Signal()
    unlocked = Signal()

    def __init__(
        self, api, idle_timeout_ms: int | None = None, background_ocr: bool = False, parent: QWidget | None = None
    ):
        super().__init__(parent)
        self.api = api
        self.home = api.home
        self.setObjectName("mainWindow")
        self.setWindowTitle(self.tr("ScanStation — social-security archive scanning station"))
        self.setWindowIcon(icon("app"))
        binding_guard.install()  # before the first paint
        presenter().window = self
        tasks.unexpected_error_handler = lambda exc: presenter().present(exc, self)

        self.stack = QStackedWidget(self)
        self.setCentralWidget(self.stack)
        self.views: dict[str, QWidget] = {}
        self.view_actions: dict[str, QAction] = {}
        self.scan_desk = ScanDesk(api, self)
        self.scan_desk.setObjectName("scanDesk")
        self.qc_desk = QcDesk(api, self) if api.can("qc.decide") else None
        self.search_view = SearchView(api, self)
        self.search_view.setObjectName("searchView")
        self.import_view = ImportView(api, self) if api.can("catalog.import") else None
        self.settings_view = SettingsView(api, self) if api.can("settings.manage") else None
        self.batch_view = _optional_view(BatchView, api, self, "batch.manage")
        self.intake_view = _optional_view(IntakeView, api, self, "receive")
        self.stack_view = _optional_view(StackScanView, api, self, "capture")
        self.paper_view = _optional_view(PaperDeskView, api, self, "paper.custody")
        self.loan_view = _optional_view(LoanView, api, self, "lend.request")
        self.locked_page = QLabel(self.tr("Locked"), self)
        self.locked_page.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.locked_page.setObjectName("lockedPage")

        self.view_bar = QToolBar(self.tr("Views"), self)
        self.view_bar.setObjectName("viewBar")
        self.view_bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextUnderIcon)
        self.view_bar.setMovable(False)
        self.addToolBar(Qt.ToolBarArea.LeftToolBarArea, self.view_bar)
        self._group = QActionGroup(self)
        menu_bar = self.menuBar()
        self.file_menu = menu_bar.addMenu(self.tr("&Station"))
        self.view_menu = menu_bar.addMenu(self.tr("&View"))
        self.export_menu = menu_bar.addMenu(self.tr("&Export"))
        self.help_menu = menu_bar.addMenu(self.tr("&Help"))

        scan_title = self.tr("Scan desk") if api.can("capture") else self.tr("Dossiers")
        self._add_view("scan", self.scan_desk, scan_title, "Ctrl+1", "scan-desk")
        if self.qc_desk is not None:
            self.qc_desk.setObjectName("qcDesk")
            self._add_view("qc", self.qc_desk, self.tr("QC desk"), "Ctrl+2", "qc-desk")
        self._add_view("search", self.search_view, self.tr("Search"), ["Ctrl+3", "Ctrl+F"], "search")
        if self.import_view is not None:
            self.import_view.setObjectName("importView")
            self._add_view("import", self.import_view, self.tr("Catalog import"), "Ctrl+4", "import")
        if self.batch_view is not None:
            self.batch_view.setObjectName("batchView")
            self._add_view("batches", self.batch_view, self.tr("Transfer batches"), "Ctrl+6", "batches")
        if self.intake_view is not None:
            self.intake_view.setObjectName("intakeView")
            self._add_view("intake", self.intake_view, self.tr("Receive batches"), "Ctrl+7", "intake")
        for key, view, title, keys, name in (
            ("stack", self.stack_view, self.tr("Stack scan"), "Ctrl+8", "scan-desk"),
            ("paper", self.paper_view, self.tr("Paper at desk"), "Ctrl+9", "batches"),
        ):
            if view is not None:
                view.setObjectName(f"{key}View")
                self._add_view(key, view, title, keys, name)
        if self.loan_view is not None:
            self.loan_view.setObjectName("loanView")
            self._add_view("loans", self.loan_view, self.tr("Loans"), "Ctrl+J", "search")
        if self.settings_view is not None:
            self.settings_view.setObjectName("settingsView")
            self._add_view("settings", self.settings_view, self.tr("Settings"), "Ctrl+5", "settings")
        self.stack.addWidget(self.locked_page)

        self.act_lock = QAction(icon("lock"), self.tr("&Lock station"), self)
        self.act_lock.setObjectName("actLock")
        self.act_lock.setShortcut(QKeySequence("Ctrl+L"))
        self.act_lock.triggered.connect(self.lock)
        self.file_menu.addAction(self.act_lock)
        self.act_sign_out = QAction(self.tr("Sign &out / switch user"), self)
        self.act_sign_out.setObjectName("actSignOut")
        self.act_sign_out.setShortcut(QKeySequence("Ctrl+Shift+L"))
        self.act_sign_out.triggered.connect(self.sign_out)
        self.file_menu.addAction(self.act_sign_out)
        self.signed_out = False
        language_menu = self.file_menu.addMenu(self.tr("Lan&guage"))
        for code, label in (("zh_CN", "中文"), ("en", "English")):
            action = language_menu.addAction(label)
            action.triggered.connect(lambda _c=False, c=code: self.choose_language(c))
        from scanstation.ui.export_view import ExportActions

        self.exports = ExportActions(api, self, self.selected_numbers)
        for action in self.exports.actions():
            self.export_menu.addAction(action)
        self.custody = CustodyWatch(api, self)
        if self.custody.actions():
            self.file_menu.addSeparator()
            for action in self.custody.actions():
                self.file_menu.addAction(action)
        self.file_menu.addSeparator()
        quit_action = self.file_menu.addAction(self.tr("&Quit"))
        quit_action.setShortcut(QKeySequence("Ctrl+Q"))
        quit_action.triggered.connect(self.close)
        shortcuts = self.help_menu.addAction(self.tr("&Keyboard shortcuts"))
        shortcuts.setShortcut(QKeySequence("F1"))
        shortcuts.triggered.connect(self.show_shortcuts)
        about = self.help_menu.addAction(self.tr("&About ScanStation"))
        about.triggered.connect(self.about)

        self.search_view.openRequested.connect(self.open_dossier)

        bar = self.statusBar()
        roles = ", ".join(api.user.roles) if _english() else "、".join(ROLE_NAMES_ZH.get(r, r) for r in api.user.roles)
        self.user_label = QLabel(self.tr("User: {user} ({roles})").format(user=api.user.name, roles=roles), self)
        self.user_label.setObjectName("statusUser")
        self.station_label = QLabel(
            self.tr("Station {station} · fonds {fonds}").format(station=self.home.station, fonds=self.home.fonds), self
        )
        bar.addPermanentWidget(self.user_label)
        bar.addPermanentWidget(self.station_label)

        minutes = api.setting("session.idle_lock_minutes")
        self.idle = (
            IdleLock(idle_timeout_ms, self) if idle_timeout_ms is not None else IdleLock.from_minutes(minutes, self)
        )
        self.idle.idle.connect(self.lock)
        self._lock_dialog: LoginDialog | None = None
        self._view_before_lock = 0

        self.restore_layout()
        first = (
            "scan"
            if api.can("capture")
            else ("qc" if self.qc_desk is not None else "intake" if self.intake_view is not None else "search")
        )
        self.show_view(first)
        if api.can("capture"):  # after a crash or power cut: the station's one recovery, as `scanstation recover`
            tasks.run_task(
                api.recover_interrupted,
                self._recovered,
                lambda e: presenter().present(e, self),
                pool="device",
                owner=self,
            )
        self.custody.start()  # backup reminder (R39) and the scheduled fixity check
        if background_ocr:  # pages become searchable while the clerk keeps scanning
            tasks.run_task(
                api.start_background_ocr, None, lambda e: presenter().present(e, self), pool="catalog", owner=self
            )

    # -- views -------------------------------------------------------------------------------
    def _add_view(self, key: str, widget: QWidget, title: str, shortcut, icon_name: str) -> None:
        self.stack.addWidget(widget)
        self.views[key] = widget
        action = QAction(icon(icon_name), title, self)
        action.setObjectName(f"view_{key}")
        action.setCheckable(True)
        shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setToolTip(f"{title} ({shortcuts[0]})")
        action.triggered.connect(lambda _c=False, k=key: self.show_view(k))
        self._group.addAction(action)
        self.view_bar.addAction(action)
        self.view_menu.addAction(action)
        self.view_actions[key] = action

    def show_view(self, key: str) -> None:
        if self._lock_dialog is not None:
            return
        widget = self.views[key]
        self.stack.setCurrentWidget(widget)
        self.view_actions[key].setChecked(True)
        if key == "scan":
            self.scan_desk.panel.focus_number() if not self.scan_desk.number else self.scan_desk.strip.setFocus()
        elif key == "search":
            self.search_view.query_edit.setFocus()
        elif key == "qc" and self.qc_desk is not None:
            self.qc_desk.queue.setFocus()
        elif key == "import" and self.import_view is not None:
            self.import_view.path_edit.setFocus()

    def current_view(self) -> str:
        current = self.stack.currentWidget()
        return next((k for k, w in self.views.items() if w is current), "locked")

    def open_dossier(self, number: str, page: int = 0) -> None:
        """From search: the scan desk (or the QC desk for an inspector) at the page."""
        if self.qc_desk is not None and not self.api.can("capture"):
            self.show_view("qc")
            self.qc_desk.open_dossier(number, page or None)
        else:
            self.show_view("scan")
            self.scan_desk.open_dossier(number, page or None)

    def selected_numbers(self) -> list[str]:
        """The 档号 the current view has open or selected (what the Export action exports)."""
        view = self.current_view()
        if view == "search":
            rows = self.search_view.table.selectionModel().selectedRows()
            return list(dict.fromkeys(self.search_view.model.hits[r.row()].number for r in rows))
        if view == "qc" and self.qc_desk is not None and self.qc_desk.number:
            return [self.qc_desk.number]
        if view == "loans" and self.loan_view is not None and self.loan_view.selected():
            return [self.loan_view.selected()["number"]]
        return [self.scan_desk.number] if self.scan_desk.number else []

    def _recovered(self, results: list) -> None:
        if not results:
            return
        pages = sum(len(r.pages) for r in results)
        self.statusBar().clearMessage()
        presenter().inform(
            self.tr("Interrupted scans recovered"),
            self.tr(
                "{n} page(s) from {s} interrupted scan(s) were saved to their dossiers ({numbers}). Check them before "
                "completing."
            ).format(n=pages, s=len(results), numbers=", ".join(r.number for r in results)),
            self,
        )
        if self.scan_desk.number:
            self.scan_desk.reload_pages()

    # -- lock --------------------------------------------------------------------------------
    def lock(self) -> None:
        if self._lock_dialog is not None:
            return
        self._view_before_lock = self.stack.currentIndex()
        self.stack.setCurrentWidget(self.locked_page)  # hide personal data behind the lock
        self.view_bar.setEnabled(False)
        self.menuBar().setEnabled(False)
        dialog = LoginDialog(self.home, locked_user=self.api.user.name, parent=self)
        dialog.setWindowModality(Qt.WindowModality.WindowModal)
        dialog.accepted.connect(self._unlocked)
        dialog.switchRequested.connect(self.sign_out)
        self._lock_dialog = dialog
        self.locked.emit()
        dialog.open()

    def sign_out(self) -> None:
        """Close this user's window; the sign-in comes back for the next user (QC at the same PC)."""
        if self.scan_desk.scanning or self.scan_desk.fault is not None:
            text = self.tr("A scan is running: stop it or let it finish before signing out.")
            if self._lock_dialog is not None:
                self._lock_dialog.message.setText(text)
            else:
                presenter().notify(text, self)
            return
        self.signed_out = True
        if self._lock_dialog is not None:
            dialog, self._lock_dialog = self._lock_dialog, None
            dialog.locked_user = None  # a locked dialog refuses to close otherwise
            dialog.done(QDialog.DialogCode.Rejected)
        self.api.session.log("session.sign_out", "user", self.api.user.name, {})
        self.close()

    @property
    def is_locked(self) -> bool:
        return self._lock_dialog is not None

    def _unlocked(self) -> None:
        self._lock_dialog = None
        self.view_bar.setEnabled(True)
        self.menuBar().setEnabled(True)
        self.stack.setCurrentIndex(self._view_before_lock)
        self.idle.resume()
        self.unlocked.emit()

    # -- misc --------------------------------------------------------------------------------
    def choose_language(self, code: str) -> None:
        ui_settings(self.home).setValue("ui/language", code)
        presenter().notify(self.tr("The language changes the next time ScanStation starts."), self)

    def all_actions(self) -> list[QAction]:
        actions = list(self.view_actions.values()) + [self.act_lock, self.act_sign_out] + self.exports.actions()
        for view in self.views.values():
            actions += view.actions()
        return actions

    def show_shortcuts(self) -> None:
        dialog = ShortcutsDialog(self.all_actions(), self)
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    def about(self) -> None:
        presenter().inform(
            self.tr("About ScanStation"),
            self.tr(
                "ScanStation {version}: scanning station for social-security archives. Station {station}, home {home}."
            ).format(version=__version__, station=self.home.station, home=self.home.path),
            self,
        )

    # -- layout memory -----------------------------------------------------------------------
    def save_layout(self) -> None:
        s = ui_settings(self.home)
        s.setValue(f"window/geometry/{sizing.screen_key(self)}", self.saveGeometry())
        s.setValue("window/state", self.saveState())
        s.setValue("window/scanSplitter", self.scan_desk.splitter.saveState())
        if self.qc_desk is not None:
            s.setValue("window/qcSplitter", self.qc_desk.splitter.saveState())
        s.sync()

    def restore_layout(self) -> None:
        s = ui_settings(self.home)
        sizing.place_main_window(self, s.value(f"window/geometry/{sizing.screen_key(self)}"))
        for key, restore in (
            ("window/state", self.restoreState),
            ("window/scanSplitter", self.scan_desk.splitter.restoreState),
        ):
            value = s.value(key)
            if isinstance(value, QByteArray) and not value.isEmpty():
                restore(value)
        value = s.value("window/qcSplitter")
        if self.qc_desk is not None and isinstance(value, QByteArray):
            self.qc_desk.splitter.restoreState(value)

    def closeEvent(self, event) -> None:
        if self.scan_desk.scanning:
            answer = QMessageBox.question(
                self,
                self.tr("Scanning"),
                self.tr("A scan is running. Stop it and close? Every page received so far is kept."),
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
        self.scan_desk.shutdown()
        self.custody.stop()
        self.idle.stop()
        self.save_layout()
        super().closeEvent(event)


def _optional_view(view, api, parent, permission: str):
    """A view of another part of the station (transfer), shown when the role has its permission.

    If that view fails to build, the rest of the window still works (logged)."""
    if not api.can(permission):
        return None
    try:
        return view(api, parent)
    except Exception:  # noqa: BLE001 - one broken optional view must not keep the station from starting
        import logging

        logging.getLogger("scanstation.ui").exception("the %s view is not available", view.__name__)
        return None


def _english() -> bool:
    from scanstation.i18n import is_english

    return is_english()
