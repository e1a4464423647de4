"""The clerk's scan desk: dossier, scanner, live thumbnails, page review, completion.

Keyboard: F2 dossier number · F5 scan (or continue after a fault) · Esc stop · F6 replace the
selected page by a rescan · Shift+F6 scan pages to insert after the selected one · Ctrl+] / Ctrl+[
rotate · Delete delete · Alt+Left / Alt+Right move · F8 "not scanned" note · Ctrl+Z / Ctrl+Shift+Z
undo / redo · Ctrl+Return complete · Ctrl++ / Ctrl+- / Ctrl+0 zoom and fit · Ctrl+Shift+P correct
the catalog's page count (页数).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QAction, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QFrame,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMenu,
    QPushButton,
    QSpinBox,
    QSplitter,
    QToolBar,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from scanstation.ui.barcode import BarcodeField
from scanstation.ui.dossier_panel import DossierPanel, status_label
from scanstation.ui.errors import present, presenter
from scanstation.ui.icons import icon
from scanstation.ui.page_commands import INVERSES, PageCommand, insert_steps, move_steps, rotate_steps
from scanstation.ui.page_strip import PageStrip, open_over_strip
from scanstation.ui.page_viewer import PageViewer
from scanstation.ui.sizing import fit_dialog
from scanstation.ui.tasks import LongOperation, run_task
from scanstation.ui.text import plain_message

STATUS_POLL_MS = 1000
VIEWER_FOLLOW_MS = 400


# The station's default scan profiles are named in Chinese (they are data, stored in the home); in the
# English window they are shown by their English names. An administrator's own profiles keep their names.
DEFAULT_PROFILE_NAMES_EN = {
    "标准彩色": "Standard colour",
    "灰度": "Grayscale",
    "双面彩色": "Duplex colour",
    "高精度600": "High resolution 600 dpi",
}


def profile_label(name: str) -> str:
    from scanstation.i18n import is_english

    return DEFAULT_PROFILE_NAMES_EN.get(name, name) if is_english() else name


class ExplanationDialog(QDialog):
    """Completion refused by the page-count check: list what differs and take an explanation for each."""

    def __init__(self, report, parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Pages do not match the catalog"))
        self.report = report
        self.fields: dict[str, QLineEdit] = {}
        layout = QVBoxLayout(self)
        intro = QLabel(self.tr("The dossier cannot be completed yet:"), self)
        layout.addWidget(intro)
        problems = QLabel("\n".join("• " + p for p in report.problems()), self)
        problems.setObjectName("completionProblems")
        problems.setWordWrap(True)
        problems.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        layout.addWidget(problems)
        form = QFormLayout()
        if report.declared is not None:
            if report.missing:
                self._field(form, "missing", self.tr("Why are {n} page(s) missing?").format(n=report.missing))
            if report.extra:
                self._field(form, "extra", self.tr("Why are there {n} more page(s)?").format(n=report.extra))
            for flagged in report.unresolved_flags:
                self._field(
                    form,
                    f"page:{flagged['seq']}",
                    self.tr("Page {seq} ({flags}) is kept because:").format(
                        seq=flagged["seq"], flags=", ".join(flagged["flags"])
                    ),
                )
        layout.addLayout(form)
        hint = QLabel(self.tr('Or close this window and fix the pages (rescan, delete, "not scanned" note).'), self)
        hint.setWordWrap(True)
        layout.addWidget(hint)
        self.correct_pages_requested = False
        self.correct_pages_button = None
        if report.declared is not None and (report.missing or report.extra):
            # the catalog's count may be what is wrong: the logged correction, instead of an explanation
            row = QHBoxLayout()
            row.addWidget(QLabel(self.tr("If the catalog's page count is wrong:"), self))
            self.correct_pages_button = QPushButton(self.tr("Correct page count…"), self)
            self.correct_pages_button.setObjectName("explanationCorrectPages")
            self.correct_pages_button.clicked.connect(self._correct_pages)
            row.addWidget(self.correct_pages_button)
            row.addStretch(1)
            layout.addLayout(row)
        self.message = QLabel(self)
        self.message.setObjectName("explanationMessage")
        self.message.setStyleSheet("color: #b91c1c")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.complete_button = buttons.addButton(
            self.tr("Complete with these explanations"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.complete_button.setEnabled(bool(self.fields))
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        fit_dialog(self, 640)

    def _field(self, form: QFormLayout, key: str, label: str) -> None:
        edit = QLineEdit(self)
        edit.setMinimumWidth(300)
        edit.setObjectName(f"explain_{key}")
        self.fields[key] = edit
        form.addRow(label, edit)

    def accept(self) -> None:
        empty = [edit for edit in self.fields.values() if not edit.text().strip()]
        if empty:  # stays open and says what is missing (it used to close and open again silently)
            self.message.setText(self.tr("Write an explanation for each difference, or cancel and fix the pages."))
            empty[0].setFocus()
            return
        super().accept()

    def _correct_pages(self) -> None:
        self.correct_pages_requested = True
        self.reject()

    def explanations(self) -> dict[str, str]:
        return {key: edit.text().strip() for key, edit in self.fields.items() if edit.text().strip()}


class PageCountDialog(QDialog):
    """The logged correction of the catalog's 页数: the new count and the reason (kept with the record)."""

    def __init__(self, number: str, declared: int | None, suggested: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Correct the page count"))
        layout = QVBoxLayout(self)
        intro = QLabel(
            self.tr(
                "The catalog's page count (页数) of {n} is {d}. A correction is logged with the old "
                "value, your name and the reason."
            ).format(n=number, d=declared if declared is not None else "—"),
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)
        form = QFormLayout()
        self.pages = QSpinBox(self)
        self.pages.setObjectName("correctedPages")
        self.pages.setRange(1, 99999)
        self.pages.setValue(max(1, suggested))
        self.reason = QLineEdit(self)
        self.reason.setObjectName("correctionReason")
        self.reason.setMinimumWidth(300)
        self.reason.setPlaceholderText(self.tr("e.g. the register counted the cover; the file has 9 pages"))
        pages_label = QLabel(self.tr("&New page count:"), self)
        pages_label.setBuddy(self.pages)
        reason_label = QLabel(self.tr("Rea&son:"), self)
        reason_label.setBuddy(self.reason)
        form.addRow(pages_label, self.pages)
        form.addRow(reason_label, self.reason)
        layout.addLayout(form)
        self.message = QLabel(self)
        self.message.setObjectName("correctionMessage")
        self.message.setStyleSheet("color: #b91c1c")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        self.ok_button = buttons.addButton(self.tr("Correct"), QDialogButtonBox.ButtonRole.AcceptRole)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout.addWidget(buttons)
        self.declared = declared
        fit_dialog(self, 520)

    def accept(self) -> None:
        # the core checks again; the dialog says at once what is missing instead of closing
        if len(self.reason.text().strip()) < 2:
            self.message.setText(self.tr("Write the reason for the correction; it is kept with the record."))
            self.reason.setFocus()
            return
        if self.declared is not None and self.pages.value() == self.declared:
            self.message.setText(
                self.tr("The page count is already {d}; enter the correct count.").format(d=self.declared)
            )
            self.pages.setFocus()
            return
        super().accept()


class NotScannedDialog(QDialog):
    """R10: the page number of the original that is deliberately not scanned, and why."""

    def __init__(self, suggested_page: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Page not scanned"))
        form = QFormLayout(self)
        self.page = QSpinBox(self)
        self.page.setRange(1, 9999)
        self.page.setValue(max(1, suggested_page))
        self.note = QLineEdit(self)
        self.note.setPlaceholderText(self.tr("e.g. blank back side, duplicate copy of page 3"))
        form.addRow(self.tr("Page of the original:"), self.page)
        form.addRow(self.tr("Reason:"), self.note)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        fit_dialog(self, 460)


class ScanDesk(QWidget):
    """``pagesChanged(int)`` after the page list was reloaded (the number of active pages)."""

    pagesChanged = Signal(int)
    dossierCompleted = Signal(str)

    def __init__(self, api, parent: QWidget | None = None):
        super().__init__(parent)
        self.api = api
        self.operation: LongOperation | None = None
        self.fault = None
        self.after_scan: tuple | None = None  # ("replace", seq) or ("insert", after_seq)
        self._open_number: str | None = None
        self._pending_page: int | None = None
        self._pages_before_scan = 0
        self._last_rate = 0.0
        self.undo_stack = QUndoStack(self)
        self.undo_stack.setUndoLimit(200)

        self.panel = DossierPanel(api, self)
        self.panel.dossierOpened.connect(self._dossier_opened)
        self.panel.dossierCleared.connect(self._dossier_cleared)
        self.barcode = BarcodeField(self.panel.number_edit, self)  # armed for the gun whatever has focus

        # dossiers QC sent back: the clerk's to-do list, with the reasons
        self.returned_button = QToolButton(self)
        self.returned_button.setObjectName("returnedButton")
        self.returned_button.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.returned_menu = QMenu(self.returned_button)
        self.returned_button.setMenu(self.returned_menu)
        self.returned_button.setText(self.tr("&Returned by QC ({n})").format(n=0))
        self.returned_button.setToolTip(self.tr("Dossiers QC returned for rework, with the reasons"))
        self.returned_rows: list[dict] = []
        self.panel.top_row.addWidget(self.returned_button)
        self.return_notice = QLabel(self)
        self.return_notice.setObjectName("returnNotice")
        self.return_notice.setWordWrap(True)
        self.return_notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.return_notice.setStyleSheet(
            "#returnNotice { background: #fffbeb; border: 1px solid #d97706; padding: 4px; }"
        )
        self.return_notice.hide()

        # scanner controls
        self.device_combo = QComboBox(self)
        self.device_combo.setObjectName("deviceCombo")
        self.device_combo.setAccessibleName(self.tr("Scanner"))
        self.device_combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.device_combo.setMinimumContentsLength(18)  # "Noname fr" was all a clerk saw of a name
        self.device_combo.currentIndexChanged.connect(self._device_changed)
        self.demo_mark = QLabel(self.tr("Demo"), self)
        self.demo_mark.setObjectName("demoMark")
        self.demo_mark.setToolTip(
            self.tr("The demo scanner invents its pages: for training only, never for a real dossier.")
        )
        self.demo_mark.setStyleSheet(
            "#demoMark { background: #b45309; color: white; font-weight: bold; padding: 2px 6px; border-radius: 3px; }"
        )
        self.demo_mark.hide()
        self.profile_combo = QComboBox(self)
        self.profile_combo.setObjectName("profileCombo")
        self.profile_combo.setAccessibleName(self.tr("Scan profile"))
        self.refresh_devices_button = QPushButton(self.tr("Look for scanners"), self)
        self.refresh_devices_button.setToolTip(self.tr("Look again for connected scanners"))
        self.refresh_devices_button.clicked.connect(lambda: self.load_devices(refresh=True))
        self.limit_spin = QSpinBox(self)
        self.limit_spin.setRange(0, 9999)
        self.limit_spin.setSpecialValueText(self.tr("until the feeder is empty"))
        self.limit_spin.setAccessibleName(self.tr("Page limit"))
        self.scan_button = QPushButton(icon("scan"), self.tr("Scan (F5)"), self)
        self.scan_button.setObjectName("scanButton")
        self.stop_button = QPushButton(icon("stop"), self.tr("Stop (Esc)"), self)
        self.stop_button.setObjectName("stopButton")
        self.scan_button.clicked.connect(self.scan)
        self.stop_button.clicked.connect(self.stop)

        controls = QHBoxLayout()
        device_label = QLabel(self.tr("Scan&ner:"), self)  # Alt+S is the Station menu
        device_label.setBuddy(self.device_combo)
        profile_label = QLabel(self.tr("&Profile:"), self)
        profile_label.setBuddy(self.profile_combo)
        limit_label = QLabel(self.tr("Page &limit:"), self)
        limit_label.setBuddy(self.limit_spin)
        for w in (
            device_label,
            self.device_combo,
            self.demo_mark,
            self.refresh_devices_button,
            profile_label,
            self.profile_combo,
            limit_label,
            self.limit_spin,
        ):
            controls.addWidget(w)
        controls.addStretch(1)
        controls.addWidget(self.scan_button)
        controls.addWidget(self.stop_button)

        # device fault banner: one plain message and Continue
        self.fault_frame = QFrame(self)
        self.fault_frame.setObjectName("faultBanner")
        self.fault_frame.setFrameShape(QFrame.Shape.StyledPanel)
        self.fault_frame.setStyleSheet("#faultBanner { background: #fef2f2; border: 1px solid #dc2626; }")
        self.fault_label = QLabel(self.fault_frame)
        self.fault_label.setObjectName("faultMessage")
        self.fault_label.setWordWrap(True)
        self.continue_button = QPushButton(icon("scan"), self.tr("Continue scanning (F5)"), self.fault_frame)
        self.continue_button.setObjectName("continueButton")
        self.end_button = QPushButton(self.tr("End this batch"), self.fault_frame)
        self.continue_button.clicked.connect(self.continue_after_fault)
        self.end_button.clicked.connect(self.end_after_fault)
        fault_layout = QHBoxLayout(self.fault_frame)
        fault_layout.addWidget(self.fault_label, 1)
        fault_layout.addWidget(self.continue_button)
        fault_layout.addWidget(self.end_button)
        self.fault_frame.hide()

        # pages
        self.strip = PageStrip(self._page_path, movable=True, parent=self)
        self.strip.setObjectName("scanThumbnails")
        self.strip.pages.moveRequested.connect(self.move_page)
        self.viewer = PageViewer(self)
        self.viewer.setObjectName("pageViewer")
        self._selected_row: dict = {}
        self._viewer_timer = QTimer(self)
        self._viewer_timer.setSingleShot(True)
        self._viewer_timer.timeout.connect(self._show_selected)
        self.strip.currentPageChanged.connect(self._page_selected)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setObjectName("scanSplitter")
        splitter.addWidget(self.strip)
        splitter.addWidget(self.viewer)
        splitter.setStretchFactor(0, 2)
        splitter.setStretchFactor(1, 3)
        self.splitter = splitter
        splitter.setSizes([520, 820])

        self.toolbar = QToolBar(self.tr("Pages"), self)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self._make_actions()

        self.status_label = QLabel(self)
        self.status_label.setObjectName("scanStatus")

        layout = QVBoxLayout(self)
        layout.addWidget(self.panel)
        layout.addWidget(self.return_notice)
        layout.addLayout(controls)
        layout.addWidget(self.fault_frame)
        layout.addWidget(self.toolbar)
        layout.addWidget(splitter, 1)
        layout.addWidget(self.status_label)
        self.setTabOrder(self.panel.number_edit, self.device_combo)
        self.setTabOrder(self.device_combo, self.profile_combo)
        self.setTabOrder(self.profile_combo, self.limit_spin)
        self.setTabOrder(self.limit_spin, self.scan_button)
        self.setTabOrder(self.scan_button, self.strip)
        self.setTabOrder(self.strip, self.viewer)

        self._status_timer = QTimer(self)
        self._status_timer.setInterval(STATUS_POLL_MS)
        self._status_timer.timeout.connect(self._poll_status)
        self._ocr_queue = 0
        self._action_tips: dict = {}
        # a refresh of the same dossier (after a correction, QC's return…) may change what is allowed
        self.panel.dossierOpened.connect(lambda _d: (self._update_enabled(), self._update_status()))
        self._update_enabled()
        self._update_status()
        self.load_devices()
        self.load_profiles()

    # -- actions -----------------------------------------------------------------------------
    def _action(
        self,
        name: str,
        text: str,
        shortcut,
        slot,
        icon_name: str | None = None,
        toolbar: bool = True,
        context=Qt.ShortcutContext.WidgetWithChildrenShortcut,
    ) -> QAction:
        action = QAction(icon(icon_name) if icon_name else icon("blank"), text, self)
        action.setObjectName(name)
        if shortcut:
            shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
            action.setShortcuts([QKeySequence(s) for s in shortcuts])
            action.setToolTip(f"{text} ({QKeySequence(shortcuts[0]).toString(QKeySequence.SequenceFormat.NativeText)})")
        action.setShortcutContext(context)
        action.triggered.connect(slot)
        self.addAction(action)
        if toolbar:
            self.toolbar.addAction(action)
        return action

    def _make_actions(self) -> None:
        self.act_focus = self._action(
            "actFocusNumber", self.tr("Dossier number"), "F2", self.panel.focus_number, toolbar=False
        )
        self.act_scan = self._action("actScan", self.tr("Scan"), "F5", self.scan_or_continue, toolbar=False)
        self.act_stop = self._action("actStop", self.tr("Stop"), "Esc", self.stop, toolbar=False)
        self.act_replace = self._action(
            "actReplace", self.tr("Replace by rescan"), "F6", self.replace_selected, "replace"
        )
        self.act_insert = self._action(
            "actInsert", self.tr("Insert pages after"), "Shift+F6", self.insert_after_selected, "insert"
        )
        self.toolbar.addSeparator()
        self.act_rotate_left = self._action(
            "actRotateLeft", self.tr("Rotate left"), "Ctrl+[", lambda: self.rotate_selected(270), "rotate-left"
        )
        self.act_rotate_right = self._action(
            "actRotateRight", self.tr("Rotate right"), "Ctrl+]", lambda: self.rotate_selected(90), "rotate-right"
        )
        self.act_move_left = self._action(
            "actMoveLeft", self.tr("Move earlier"), "Alt+Left", lambda: self.move_selected(-1), "move-left"
        )
        self.act_move_right = self._action(
            "actMoveRight", self.tr("Move later"), "Alt+Right", lambda: self.move_selected(1), "move-right"
        )
        self.act_delete = self._action("actDelete", self.tr("Delete page"), "Del", self.delete_selected, "delete")
        self.act_not_scanned = self._action(
            "actNotScanned", self.tr('"Not scanned" note'), "F8", self.note_not_scanned, "note"
        )
        self.toolbar.addSeparator()
        # fixed labels (the stack's own actions grow with "Undo rotate page 5" and push the toolbar's
        # last buttons into its overflow); the step is named in the tooltip
        self.act_undo = QAction(self.tr("Undo"), self)
        self.act_undo.triggered.connect(self.undo_stack.undo)
        self.undo_stack.canUndoChanged.connect(self.act_undo.setEnabled)
        self.undo_stack.undoTextChanged.connect(
            lambda text: self.act_undo.setToolTip(
                self.tr("Undo: {step} (Ctrl+Z)").format(step=text) if text else self.tr("Undo (Ctrl+Z)")
            )
        )
        self.act_undo.setEnabled(False)
        self.act_undo.setObjectName("actUndo")
        self.act_undo.setShortcut(QKeySequence("Ctrl+Z"))
        self.act_undo.setIcon(icon("undo"))
        self.act_undo.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        self.act_redo = QAction(self.tr("Redo"), self)
        self.act_redo.triggered.connect(self.undo_stack.redo)
        self.undo_stack.canRedoChanged.connect(self.act_redo.setEnabled)
        self.undo_stack.redoTextChanged.connect(
            lambda text: self.act_redo.setToolTip(
                self.tr("Redo: {step} (Ctrl+Shift+Z)").format(step=text) if text else self.tr("Redo (Ctrl+Shift+Z)")
            )
        )
        self.act_redo.setEnabled(False)
        self.act_redo.setObjectName("actRedo")
        self.act_redo.setShortcuts([QKeySequence("Ctrl+Shift+Z"), QKeySequence("Ctrl+Y")])
        self.act_redo.setIcon(icon("redo"))
        self.act_redo.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        for a in (self.act_undo, self.act_redo):
            self.addAction(a)
            self.toolbar.addAction(a)
        self.toolbar.addSeparator()
        self.act_zoom_in = self._action(
            "actZoomIn", self.tr("Zoom in"), ["Ctrl++", "Ctrl+="], self.viewer.zoom_in, "zoom-in"
        )
        self.act_zoom_out = self._action("actZoomOut", self.tr("Zoom out"), "Ctrl+-", self.viewer.zoom_out, "zoom-out")
        self.act_fit = self._action("actFit", self.tr("Fit page"), "Ctrl+0", self.viewer.fit, "fit")
        self.toolbar.addSeparator()
        self.act_complete = self._action(
            "actComplete", self.tr("Complete dossier"), ["Ctrl+Return", "Ctrl+Enter"], self.complete, "complete"
        )
        self.act_correct_pages = self._action(
            "actCorrectPages", self.tr("Correct page count…"), "Ctrl+Shift+P", self.correct_page_count, toolbar=False
        )
        self._correct_pages_tip = (
            self.tr("Correct the catalog's page count (页数); the correction is logged with the reason")
            + " (Ctrl+Shift+P)"
        )
        self.correct_pages_button = QToolButton(self)
        self.correct_pages_button.setObjectName("correctPagesButton")
        self.correct_pages_button.setDefaultAction(self.act_correct_pages)
        self.panel.top_row.addWidget(self.correct_pages_button)
        # cover sheets for a feeder run of many dossiers: picked from a list of the year, the open one selected
        self.act_cover_sheets = self._action(
            "actCoverSheets", self.tr("Print cover sheets…"), "Ctrl+Shift+C", self.print_cover_sheets, toolbar=False
        )
        self.cover_sheets_button = QToolButton(self)
        self.cover_sheets_button.setObjectName("coverSheetsButton")
        self.cover_sheets_button.setDefaultAction(self.act_cover_sheets)
        self.panel.top_row.addWidget(self.cover_sheets_button)
        self.page_actions = [
            self.act_replace,
            self.act_insert,
            self.act_rotate_left,
            self.act_rotate_right,
            self.act_move_left,
            self.act_move_right,
            self.act_delete,
            self.act_not_scanned,
            self.act_complete,
        ]

    # -- devices and profiles ------------------------------------------------------------------
    def load_devices(self, refresh: bool = False) -> None:
        if self.device_combo.count() == 0:
            self.device_combo.setPlaceholderText(self.tr("Looking for scanners…"))
        self._discovering = True
        self._refresh_asked = refresh
        self.refresh_devices_button.setEnabled(False)
        run_task(
            lambda: self.api.devices(refresh), self._devices_loaded, self._devices_failed, pool="device", owner=self
        )

    def _devices_failed(self, error) -> None:
        self._discovering = False
        self.refresh_devices_button.setEnabled(True)
        present(error, self.window())

    def _devices_loaded(self, devices) -> None:
        self._discovering = False
        self.refresh_devices_button.setEnabled(True)
        current = self.device_combo.currentData()
        self.device_combo.clear()
        for device in devices:
            label = self.tr("Demo scanner") if device.id == "demo" else device.display_name()
            self.device_combo.addItem(label, device.id)
            self.device_combo.setItemData(self.device_combo.count() - 1, label, Qt.ItemDataRole.ToolTipRole)
        if not devices:
            # never a silent switch to the demo scanner: say that nothing was found
            self.device_combo.setPlaceholderText(self.tr("No scanner found"))
            self.device_combo.setCurrentIndex(-1)
            if self._refresh_asked:  # the clerk pressed "Look for scanners": answer in the status bar
                presenter().notify(
                    self.tr('No scanner found. Check the cable and the power, then press "Look for scanners".'), self
                )
            self._update_enabled()
            return
        index = self.device_combo.findData(current)
        if index < 0:  # the first real scanner by default; the demo scanner only when it is all there is
            index = next((i for i in range(self.device_combo.count()) if self.device_combo.itemData(i) != "demo"), 0)
        self.device_combo.setCurrentIndex(index)
        self._update_enabled()

    def _device_changed(self, _index: int = -1) -> None:
        demo = self.device_combo.currentData() == "demo"
        self.demo_mark.setVisible(demo)
        self.device_combo.setToolTip(self.device_combo.currentText())

    def load_profiles(self) -> None:
        run_task(
            self.api.profiles, self._profiles_loaded, lambda e: present(e, self.window()), pool="catalog", owner=self
        )

    def _profiles_loaded(self, profiles) -> None:
        self.profile_combo.clear()
        for profile in profiles:
            self.profile_combo.addItem(profile_label(profile.name), profile.name)

    def select_device(self, device_id: str) -> None:
        index = self.device_combo.findData(device_id)
        if index < 0:
            self.device_combo.addItem(device_id, device_id)
            index = self.device_combo.count() - 1
        self.device_combo.setCurrentIndex(index)

    # -- dossier -----------------------------------------------------------------------------
    @property
    def number(self) -> str | None:
        return self.panel.dossier["number"] if self.panel.dossier else None

    def open_dossier(self, number: str, page: int | None = None) -> None:
        self._pending_page = page
        self.panel.number_edit.setText(number)
        self.panel.open_number(number)

    def print_cover_sheets(self) -> None:
        """The cover-sheet dialog: the year of the open dossier listed, that dossier selected."""
        from scanstation.ui.coversheet_dialog import CoverSheetDialog

        dossier = self.panel.dossier or {}
        year = dossier.get("year")
        self.cover_dialog = CoverSheetDialog(
            self.api, year=int(year) if year else None, number=dossier.get("number"), parent=self
        )
        self.cover_dialog.printed.connect(
            lambda done: presenter().notify(
                self.tr("{n} cover sheet(s) written to {f}").format(n=done["sheets"], f=done["file"]), self
            )
        )
        self.cover_dialog.open()

    def _dossier_opened(self, dossier: dict) -> None:
        pending_page, self._pending_page = self._pending_page, None
        if dossier["number"] == self._open_number:
            # the same dossier again (a refresh of its counts, or a search hit in it): keep the desk's state
            if pending_page:
                self.strip.select_seq(pending_page)
            return
        if self.operation is not None and (self.operation.running or self.fault is not None):
            return  # one dossier at a time while the feeder runs or waits for Continue
        self._open_number = dossier["number"]
        self._last_rate = 0.0  # the speed of the previous dossier's scan is not this one's
        self.undo_stack.clear()  # the history belongs to one dossier
        self.fault = None
        self.fault_frame.hide()
        self.after_scan = None
        self.viewer.clear()
        self.reload_pages(keep_seq=pending_page)
        self.strip.setFocus()  # page keys work; a barcode burst still lands in the 档号 field
        self._show_return_reasons(dossier)

    def _dossier_cleared(self) -> None:
        """The 档号 field no longer names an open dossier (a failed lookup): nothing stays on the desk."""
        if self.operation is not None and (self.operation.running or self.fault is not None):
            return
        self._open_number = None
        self.undo_stack.clear()
        self.after_scan = None
        self.strip.set_pages([])
        self.viewer.clear()
        self.return_notice.hide()
        self._update_enabled()
        self._update_status()

    def _show_return_reasons(self, dossier: dict) -> None:
        self.return_notice.hide()
        if dossier.get("status") != "qc_rejected":
            return
        number = dossier["number"]
        run_task(
            lambda: self.api.return_reasons(number),
            lambda rows: self._return_reasons_loaded(number, rows),
            lambda _e: None,
            pool="catalog",
            owner=self,
        )

    def _return_reasons_loaded(self, number: str, rows: list[dict]) -> None:
        if number != self.number:
            return
        lines = []
        for r in rows:
            where = self.tr("page {seq}").format(seq=r["seq"]) if r.get("seq") else self.tr("the dossier")
            lines.append(self.tr("{where}: {reason} ({user})").format(where=where, reason=r["label"], user=r["user"]))
        text = self.tr("Returned by QC. Fix these, then complete again:") + "\n" + "\n".join("• " + x for x in lines)
        self.return_notice.setText(text if lines else self.tr("Returned by QC."))
        self.return_notice.show()
        first = next((r["seq"] for r in rows if r.get("seq")), None)
        if first:  # the page QC named first, ready for F6 (replace by rescan)
            self.strip.select_seq(first)

    def refresh_returned(self) -> None:
        if not self.api.can("capture"):
            self.returned_button.hide()
            return
        run_task(self.api.returned_dossiers, self._returned_loaded, lambda _e: None, pool="catalog", owner=self)

    def _returned_loaded(self, rows: list[dict]) -> None:
        self.returned_rows = rows
        self.returned_menu.clear()
        self.returned_button.setText(self.tr("&Returned by QC ({n})").format(n=len(rows)))
        self.returned_button.setEnabled(bool(rows))
        for r in rows:
            reasons = "; ".join(x["label"] for x in r["reasons"])
            action = self.returned_menu.addAction(f"{r['number']}  {r.get('title') or ''}")
            action.setToolTip(reasons)
            action.setStatusTip(reasons)
            action.triggered.connect(lambda _c=False, n=r["number"]: self.open_dossier(n))
        self.returned_menu.setToolTipsVisible(True)

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh_returned()

    def reload_pages(self, keep_seq: int | None = None) -> None:
        number = self.number
        if not number:
            self.strip.set_pages([])
            return
        run_task(
            lambda: self.api.list_pages(number),
            lambda rows: self._pages_loaded(number, rows, keep_seq),
            lambda e: present(e, self.window()),
            pool="catalog",
            owner=self,
        )

    def _pages_loaded(self, number: str, rows: list[dict], keep_seq: int | None) -> None:
        if number != self.number:
            return
        current = keep_seq or self.strip.current_seq()
        self.strip.set_pages(rows, current)
        self.panel.set_scanned(self.strip.pages.active_count())
        self._update_enabled()
        self._update_status()
        self.pagesChanged.emit(self.strip.pages.active_count())

    def _page_path(self, row: dict):
        if not self.number or not row.get("file_name"):
            return None
        return self.api.page_path(self.number, row["file_name"])

    def _page_selected(self, row: dict) -> None:
        self._selected_row = row
        # while the feeder runs, the big view follows the last page a few times a second, not per page
        # (a timer restarted by every page would never fire while pages keep coming: a blank preview)
        if not (self.scanning and self._viewer_timer.isActive()):
            self._viewer_timer.start(VIEWER_FOLLOW_MS if self.scanning else 0)
        self._update_enabled()

    def _show_selected(self) -> None:
        row = self._selected_row
        path = self._page_path(row) if row else None
        self.viewer.show_page(str(path) if path else None, f"{row.get('sha256', '')}:{row.get('file_name', '')}")

    # -- scanning ----------------------------------------------------------------------------
    @property
    def scanning(self) -> bool:
        return self.operation is not None and self.operation.running

    def scan_or_continue(self) -> None:
        if self.fault is not None:
            self.continue_after_fault()
        else:
            self.scan()

    def scan(self, pages: int | None = None, scan_options: dict | None = None) -> None:
        if self.scanning or self.fault is not None:
            return
        if not self.number:
            self.panel.focus_number()
            presenter().notify(self.tr("No dossier is open: type or scan the 档号 of the dossier first."), self)
            return
        number = self.number
        typed = self.panel.number_edit.text().strip()
        if typed != number:
            # the field names another number than the dossier on the desk: never scan into the wrong one
            self.panel.focus_number()
            presenter().notify(
                self.tr(
                    "The 档号 field shows {typed}, but the open dossier is {number}. Press Enter to open {typed} first."
                ).format(typed=typed or "—", number=number),
                self,
            )
            return
        if not self._may_change():
            presenter().notify(self._locked_reason(), self)
            return
        device = self.device_combo.currentData()
        if not device:
            presenter().notify(self.tr('No scanner is chosen. Connect a scanner and press "Look for scanners".'), self)
            return
        profile = self.profile_combo.currentData()
        limit = pages if pages is not None else (self.limit_spin.value() or None)
        self._pages_before_scan = self.strip.pages.active_count()
        run_task(
            lambda: self.api.start_capture(number, device, profile, pages=limit, scan_options=scan_options),
            self._run_ready,
            self._start_failed,
            pool="catalog",
            owner=self,
        )
        self.scan_button.setEnabled(False)

    def _start_failed(self, error) -> None:
        self.after_scan = None
        self._update_enabled()
        present(error, self.window())

    def _run_ready(self, run) -> None:
        op = LongOperation(run, "device", parent=self)
        op.pagesArrived.connect(self._pages_arrived)
        op.stateChanged.connect(lambda _s: self._update_status())
        op.faulted.connect(self._faulted)
        op.finished.connect(self._finished)
        self.operation = op
        presenter().device_fault_handler = self.show_device_fault
        op.start()
        self._status_timer.start()
        self._update_enabled()
        self._update_status()

    def _pages_arrived(self, rows: list[dict]) -> None:
        if self.device_combo.currentData() == "demo":
            for row in rows:  # the thumbnails carry the demo mark from the first moment
                row.setdefault("device", '{"backend": "demo"}')
        was_at_end = self.strip.current_seq() in (None, self.strip.pages.active_count())
        self.strip.pages.append_pages(rows)
        count = self.strip.pages.active_count()
        if not (self.after_scan and self.after_scan[0] == "replace"):  # a replacement adds no page
            self.panel.set_scanned(count)
        if was_at_end:  # follow the feeder unless the clerk is looking at another page
            self.strip.select_seq(count)
        self._update_status()

    def stop(self) -> None:
        if self.scanning:
            self.operation.cancel()
        elif self.fault is not None:
            self.end_after_fault()

    def _faulted(self, error) -> None:
        self._status_timer.stop()
        present(error, self.window())  # the presenter hands it back to show_device_fault

    def show_device_fault(self, error) -> bool:
        """Called by the error presenter for device faults while this desk drives the scanner."""
        if self.operation is None:
            return False
        self.fault = error
        self.fault_label.setText(plain_message(error.message))
        self.panel.refresh()  # the pages received before the fault are in the catalog
        self.fault_frame.show()
        self.continue_button.setFocus()
        self._update_enabled()
        self._update_status()
        return True

    def continue_after_fault(self) -> None:
        if self.fault is None or self.operation is None:
            return
        self.fault = None
        self.fault_frame.hide()
        self.operation.resume()
        self._status_timer.start()
        self._update_enabled()
        self._update_status()

    def end_after_fault(self) -> None:
        self.fault = None
        self.fault_frame.hide()
        self._finished(None)

    def _finished(self, error) -> None:
        # the status keeps following the OCR queue until it is empty (no stale "OCR queue: 8")
        if self.operation is not None:
            self._last_rate = self._rate()
        self.operation = None
        if presenter().device_fault_handler == self.show_device_fault:
            presenter().device_fault_handler = None
        if error is not None:
            present(error, self.window())
        self.api.wake_ocr()
        self._update_enabled()
        after, self.after_scan = self.after_scan, None
        new_pages = self.strip.pages.active_count() - self._pages_before_scan
        if after and new_pages > 0 and error is None:
            self._after_scan(after, new_pages)
        else:
            self.reload_pages()
        self.panel.refresh()

    def _after_scan(self, after: tuple, new_pages: int) -> None:
        number = self.number
        kind, seq = after
        if kind == "replace":
            if new_pages != 1:  # the scan asked for one page; a feeder may still deliver more
                presenter().notify(
                    self.tr(
                        "{n} pages were scanned; the last one replaces page {seq}, the others stay "
                        "at the end of the dossier."
                    ).format(n=new_pages, seq=seq),
                    self,
                )
            self._run_unrecorded(
                "replace",
                self.tr("Replace page {seq}").format(seq=seq),
                lambda: self.api.replace_with_last(number, seq),
                (number, seq),
                keep_seq=seq,
            )
        elif kind == "insert":
            total = self.strip.pages.active_count()
            do, undo = insert_steps(self.api, number, new_pages, seq, total)
            self._push(
                self.tr("Insert {n} page(s) after page {seq}").format(n=new_pages, seq=seq), do, undo, keep_seq=seq + 1
            )

    def replace_selected(self) -> None:
        seq = self.strip.current_seq()
        if seq is None or self.scanning:
            return
        self.after_scan = ("replace", seq)
        self.scan(pages=1, scan_options={"first_page_number": seq})  # the device and its messages say page N

    def insert_after_selected(self) -> None:
        seq = self.strip.current_seq()
        if seq is None or self.scanning:
            return
        self.after_scan = ("insert", seq)
        self.scan(scan_options={"first_page_number": seq + 1})

    # -- page operations (undoable) ------------------------------------------------------------
    def _run_step(self, fn, text: str, keep_seq: int | None = None) -> None:
        def failed(error):
            self.undo_stack.clear()  # the history no longer matches the catalog
            present(error, self.window())
            self.reload_pages()

        run_task(fn, lambda _r: self.reload_pages(keep_seq), failed, pool="catalog", owner=self)

    def _push(self, text: str, do, undo, keep_seq: int | None = None) -> None:
        self.undo_stack.push(PageCommand(lambda fn, _t: self._run_step(fn, _t, keep_seq), text, do, undo))

    def _run_unrecorded(self, kind: str, text: str, do, inverse_args: tuple, keep_seq: int | None = None) -> None:
        """A step whose inverse the core may not offer: undoable only when it does."""
        inverse = INVERSES.get(kind)
        if inverse and self.api.inverse_available(inverse):
            self._push(text, do, lambda: self.api.undo_core(inverse, *inverse_args), keep_seq)
            return
        self.undo_stack.clear()
        self._run_step(do, text, keep_seq)

    def rotate_selected(self, degrees: int) -> None:
        seq = self.strip.current_seq()
        if seq is None or self.scanning:
            return
        do, undo = rotate_steps(self.api, self.number, seq, degrees)
        self._push(self.tr("Rotate page {seq}").format(seq=seq), do, undo, keep_seq=seq)

    def move_selected(self, step: int) -> None:
        seq = self.strip.current_seq()
        if seq is None or self.scanning:
            return
        target = seq + step
        if 1 <= target <= self.strip.pages.active_count():
            self.move_page(seq, target)

    def move_page(self, from_seq: int, to_seq: int) -> None:
        if self.scanning or from_seq == to_seq:
            return
        do, undo = move_steps(self.api, self.number, from_seq, to_seq)
        self._push(self.tr("Move page {a} to {b}").format(a=from_seq, b=to_seq), do, undo, keep_seq=to_seq)

    def delete_selected(self) -> None:
        seq = self.strip.current_seq()
        if seq is None or self.scanning:
            return
        number = self.number
        self._run_unrecorded(
            "delete",
            self.tr("Delete page {seq}").format(seq=seq),
            lambda: self.api.delete(number, seq),
            (number, seq),
            keep_seq=min(seq, max(1, self.strip.pages.active_count() - 1)),
        )

    def note_not_scanned(self) -> None:
        if not self.number or self.scanning:
            return
        dialog = NotScannedDialog(self.strip.pages.active_count() + 1, self)
        dialog.setObjectName("notScannedDialog")
        dialog.accepted.connect(lambda: self._not_scanned_chosen(dialog.page.value(), dialog.note.text()))
        open_over_strip(dialog, self.strip)

    def _not_scanned_chosen(self, page_no: int, note: str) -> None:
        number = self.number
        self._run_unrecorded(
            "not_scanned",
            self.tr('"Not scanned" note for page {n}').format(n=page_no),
            lambda: self.api.mark_not_scanned(number, page_no, note),
            (number, page_no),
        )

    # -- the catalog's page count (页数) ---------------------------------------------------------
    def _correct_pages_reason(self) -> str:
        """Why the 页数 cannot be corrected here now (empty when it can). The core decides again."""
        dossier = self.panel.dossier
        if not dossier:
            return self.tr("Open a dossier first: type or scan its 档号 (F2).")
        if self.scanning or self.fault is not None:
            return self.tr("A scan is running.")
        if self.api.can("catalog.correct"):
            return ""
        if not self.api.can("capture"):
            return self.tr("Your role may not correct the page count.")
        if dossier.get("status") not in self.CHANGEABLE:
            return self.tr(
                "The dossier is {state}: a clerk corrects the page count only while it is being scanned. "
                "Ask QC to return it, or an archivist to correct it."
            ).format(state=status_label(dossier.get("status") or ""))
        return ""

    def correct_page_count(self, suggested: int | None = None) -> None:
        dossier = self.panel.dossier
        if not dossier or self._correct_pages_reason():
            return
        number, declared = dossier["number"], dossier.get("declared_pages")
        if isinstance(suggested, bool) or suggested is None:  # QAction.triggered passes "checked"
            suggested = self.strip.pages.active_count() or declared or 1
        dialog = PageCountDialog(number, declared, suggested, self)
        dialog.setObjectName("pageCountDialog")
        # the values are read here, on the GUI thread, before the dialog goes and the task starts
        dialog.accepted.connect(
            lambda: self._correct_pages_chosen(number, declared, dialog.pages.value(), dialog.reason.text())
        )
        open_over_strip(dialog, self.strip)

    def _correct_pages_chosen(self, number: str, declared, pages: int, reason: str) -> None:
        def done(_result) -> None:
            presenter().notify(
                self.tr("Page count of {n} corrected from {old} to {new}; the correction is logged.").format(
                    n=number, old=declared if declared is not None else "—", new=pages
                ),
                self,
            )
            self.panel.refresh()

        run_task(
            lambda: self.api.correct_page_count(number, pages, reason),
            done,
            lambda e: present(e, self.window()),
            pool="catalog",
            owner=self,
        )

    # -- completion --------------------------------------------------------------------------
    def complete(self, explanations: dict | None = None) -> None:
        if not self.number or self.scanning:
            return
        number = self.number
        run_task(
            lambda: self.api.complete(number, explanations or {}),
            lambda report: self._completed(number, report),
            lambda e: present(e, self.window()),
            pool="catalog",
            owner=self,
        )

    def _completed(self, number: str, report) -> None:
        if report.ok:
            self.undo_stack.clear()  # completed: page operations are closed (the core refuses them now)
            presenter().notify(
                self.tr("Dossier {n} is complete: {s} page(s). It now waits for QC.").format(
                    n=number, s=report.scanned
                ),
                self,
            )
            self.panel.refresh()
            self.reload_pages()
            self.refresh_returned()
            self.panel.focus_number()  # ready for the next dossier's barcode
            self.dossierCompleted.emit(number)
            return
        dialog = ExplanationDialog(report, self)
        dialog.setObjectName("explanationDialog")
        dialog.accepted.connect(lambda: self.complete(dialog.explanations()))
        if dialog.correct_pages_button is not None:
            reason = self._correct_pages_reason()
            dialog.correct_pages_button.setEnabled(not reason)
            dialog.correct_pages_button.setToolTip(reason or self._correct_pages_tip)
            suggested = report.scanned + report.not_scanned  # what the pages on the desk account for
            dialog.rejected.connect(lambda: dialog.correct_pages_requested and self.correct_page_count(suggested))
        open_over_strip(dialog, self.strip)

    # -- state -------------------------------------------------------------------------------
    def _rate(self) -> float:
        if self.operation is None:
            return self._last_rate
        return float(getattr(self.operation.operation, "rate_per_min", 0.0) or 0.0)

    def _poll_status(self) -> None:
        self._update_status()
        run_task(self.api.ocr_queue_length, self._ocr_queue_loaded, lambda e: None, pool="catalog", owner=self)

    def _ocr_queue_loaded(self, n: int) -> None:
        self._ocr_queue = n
        if n == 0 and not self.scanning:
            self._status_timer.stop()  # nothing left to follow; a new scan starts the timer again
        self._update_status()

    def _update_status(self) -> None:
        dossier = self.panel.dossier
        if not dossier:
            self.status_label.setText(self.tr("No dossier open. Type or scan a 档号 (F2)."))
            return
        declared = dossier.get("declared_pages")
        scanned = self.strip.pages.active_count()
        parts = [
            self.tr("Scanned {n} of {d} declared pages").format(n=scanned, d=declared if declared is not None else "?")
        ]
        parts.append(self.tr("{rate} images/min").format(rate=int(round(self._rate()))))
        if self._ocr_queue:
            parts.append(self.tr("OCR queue: {n}").format(n=self._ocr_queue))
        if self.scanning:
            parts.insert(0, self.tr("Scanning…"))
        elif self.fault is not None:
            parts.insert(0, self.tr("Stopped by a scanner fault"))
        self.status_label.setText("  ·  ".join(parts))

    CHANGEABLE = ("cataloged", "scanning", "qc_rejected")  # the core's capture states (capture.CAPTURE_STATES)

    def _may_change(self) -> bool:
        dossier = self.panel.dossier
        return bool(dossier) and dossier.get("status") in self.CHANGEABLE and self.api.can("capture")

    def _locked_reason(self) -> str:
        """Why scanning and page edits are off, for the tooltips (empty when they are on)."""
        dossier = self.panel.dossier
        if not self.api.can("capture"):
            return self.tr("Your role may not scan or change pages.")
        if not dossier:
            return self.tr("Open a dossier first: type or scan its 档号 (F2).")
        status = dossier.get("status")
        if status == "completed":
            return self.tr("The dossier is completed and waits for QC; pages can no longer be changed.")
        if status in self.CHANGEABLE:
            return ""
        return self.tr("The dossier is {state}; its pages can no longer be changed.").format(
            state=status_label(status or "")
        )

    def _set_enabled(self, widget, enabled: bool, tip: str, reason: str) -> None:
        widget.setEnabled(enabled)
        widget.setToolTip(tip if enabled or not reason else f"{tip} — {reason}")

    def _update_enabled(self) -> None:
        busy = self.scanning or self.fault is not None
        has_dossier = self.number is not None
        can_capture = self._may_change()
        reason = self._locked_reason()
        if busy:
            reason = self.tr("A scan is running.")
        has_device = bool(self.device_combo.currentData())
        if not has_device and not reason and not busy:
            reason = self.tr("No scanner is chosen.")
        self._set_enabled(
            self.scan_button,
            has_dossier and not busy and can_capture and has_device,
            self.tr("Scan into {number} (F5)").format(number=self.number) if self.number else self.tr("Scan (F5)"),
            reason,
        )
        self.stop_button.setEnabled(busy)
        self.device_combo.setEnabled(not busy)
        self.refresh_devices_button.setEnabled(not busy and not getattr(self, "_discovering", False))
        self.panel.number_edit.setReadOnly(busy)  # one dossier at a time while the feeder runs
        self.profile_combo.setEnabled(not busy)
        has_page = self.strip.current_seq() is not None
        for action in self.page_actions:
            base = self._action_tips.get(action)
            if base is None:
                base = self._action_tips[action] = action.toolTip()
            enabled = (
                has_dossier
                and not busy
                and can_capture
                and (has_page or action in (self.act_not_scanned, self.act_complete))
            )
            action.setEnabled(enabled)
            why = reason or ("" if has_page or enabled else self.tr("Select a page first."))
            action.setToolTip(base if enabled or not why else f"{base} — {why}")
        why_not = self._correct_pages_reason()
        self.act_correct_pages.setEnabled(not why_not)
        self.act_correct_pages.setToolTip(
            self._correct_pages_tip if not why_not else f"{self._correct_pages_tip} — {why_not}"
        )
        self.act_scan.setEnabled(has_dossier and can_capture and not self.scanning)
        self.act_stop.setEnabled(busy)

    def shutdown(self) -> None:
        if self.operation is not None and self.operation.running:
            self.operation.cancel()
