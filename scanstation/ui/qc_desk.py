"""The QC desk: completed dossiers waiting for review, page by page pass / reject with a reason,
rescan requests for page N, approval. Who may review what (another user than the clerk, R36) is
decided by the core; its refusal is shown as it says it.

Keyboard: F2 queue · F3 dossier number · PgDown / PgUp next / previous page · F7 pass page ·
F8 reject page · F9 request rescan · Ctrl+Return approve · Shift+F8 return the dossier.
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPushButton,
    QSplitter,
    QTableView,
    QToolBar,
    QVBoxLayout,
    QWidget,
)

from scanstation.ui.barcode import BarcodeField
from scanstation.ui.dossier_panel import status_label
from scanstation.ui.errors import present, presenter
from scanstation.ui.icons import icon
from scanstation.ui.page_strip import PageStrip, open_over_strip
from scanstation.ui.page_viewer import PageViewer
from scanstation.ui.row_table import RowTableModel
from scanstation.ui.sizing import fit_dialog
from scanstation.ui.tasks import run_task
from scanstation.ui.text import local_time


class QueueModel(RowTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.headers = [
            self.tr("Dossier number"),
            self.tr("Pages"),
            self.tr("Scanned by"),
            self.tr("Completed"),
            self.tr("Low OCR confidence"),
            self.tr("Title"),
        ]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        row = self.rows[index.row()]
        key = ("number", "declared_pages", "scanned_by", "updated_at", "low_confidence_pages", "title")[index.column()]
        value = row.get(key)
        if key == "updated_at":
            return local_time(value)
        if key == "low_confidence_pages":  # the pages whose OCR text search may miss
            return ", ".join(self.tr("p.{n}").format(n=n) for n in value or [])
        return "" if value is None else str(value)


def seq_ranges(seqs: list[int]) -> str:
    """[1, 2, 3, 5] -> "1–3, 5"."""
    out, start, prev = [], None, None
    for s in sorted(seqs) + [None]:
        if start is not None and (s is None or s != prev + 1):
            out.append(str(start) if start == prev else f"{start}–{prev}")
            start = None
        if s is not None and start is None:
            start = s
        prev = s
    return ", ".join(out)


class ReasonDialog(QDialog):
    """A Kofax-style reason (missing page, poorly scanned, skewed, wrong dossier...) and a note."""

    def __init__(self, title: str, reasons: list[tuple[str, str]], parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        form = QFormLayout(self)
        self.reason = QComboBox(self)
        self.reason.setObjectName("qcReason")
        for code, label in reasons:
            self.reason.addItem(label, code)
        self.reason.setPlaceholderText(self.tr("choose a reason"))
        self.reason.setCurrentIndex(-1)  # no reason chosen for the inspector (it used to say "missing page")
        self.message = QLabel(self)
        self.message.setObjectName("qcReasonMessage")
        self.message.setStyleSheet("color: #b91c1c")
        self.note = QLineEdit(self)
        self.note.setObjectName("qcNote")
        form.addRow(self.tr("&Reason:"), self.reason)
        form.addRow(self.tr("&Note:"), self.note)
        form.addRow(self.message)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        fit_dialog(self, 460)

    def accept(self) -> None:
        if self.reason.currentIndex() < 0:
            self.message.setText(self.tr("Choose a reason."))
            self.reason.setFocus()
            return
        super().accept()

    def reason_text(self) -> str:
        code = self.reason.currentData()
        note = self.note.text().strip()
        return f"{code}: {note}" if note else code


class QcDesk(QWidget):
    approved = Signal(str)

    def __init__(self, api, parent: QWidget | None = None):
        super().__init__(parent)
        self.api = api
        self.dossier_number: str | None = None

        self.queue_model = QueueModel(self)
        self.queue = QTableView(self)
        self.queue.setObjectName("qcQueue")
        self.queue.setModel(self.queue_model)
        self.queue.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.queue.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        header = self.queue.horizontalHeader()
        for column in range(self.queue_model.columnCount()):
            header.setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        header.setStretchLastSection(True)  # the title last: number, pages, clerk and time never scroll away
        self.queue.setWordWrap(False)
        self.queue.verticalHeader().hide()
        self.queue.activated.connect(self._queue_activated)
        self.queue.doubleClicked.connect(self._queue_activated)
        self.refresh_button = QPushButton(self.tr("Refresh"), self)
        self.refresh_button.clicked.connect(self.refresh_queue)
        self.number_edit = QLineEdit(self)
        self.number_edit.setObjectName("qcNumber")
        self.number_edit.setPlaceholderText(self.tr("or type / scan a 档号 and Enter"))
        self.number_edit.returnPressed.connect(lambda: self.open_dossier(self.number_edit.text().strip()))
        self.low_confidence = QCheckBox(self.tr("Only dossiers with &low OCR confidence pages"), self)
        self.low_confidence.setObjectName("qcLowConfidence")
        self.low_confidence.toggled.connect(self.refresh_queue)

        left = QWidget(self)
        left_layout = QVBoxLayout(left)
        left_layout.setContentsMargins(0, 0, 0, 0)
        queue_label = QLabel(self.tr("&Waiting for QC:"), left)
        queue_label.setBuddy(self.queue)
        head = QHBoxLayout()
        head.addWidget(queue_label, 1)
        head.addWidget(self.refresh_button)
        left_layout.addLayout(head)
        left_layout.addWidget(self.queue, 1)
        left_layout.addWidget(self.low_confidence)
        left_layout.addWidget(self.number_edit)

        self.strip = PageStrip(self._page_path, movable=False, parent=self)
        self.strip.setObjectName("qcThumbnails")
        self.viewer = PageViewer(self)
        self.viewer.setObjectName("qcViewer")
        self.strip.currentPageChanged.connect(self._page_selected)
        self.title_label = QLabel(self.tr("Choose a dossier from the queue."), self)
        self.title_label.setObjectName("qcTitle")
        self.title_label.setWordWrap(True)

        self.toolbar = QToolBar(self.tr("QC"), self)
        self.toolbar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.act_queue = self._action("actQcQueue", self.tr("Queue"), "F2", self.queue.setFocus, None, toolbar=False)
        self.act_number = self._action(
            "actQcNumber", self.tr("Dossier number"), "F3", self.number_edit.setFocus, None, toolbar=False
        )
        self.act_next = self._action(
            "actQcNext", self.tr("Next page"), "PgDown", lambda: self.strip.select_next(1), None, toolbar=False
        )
        self.act_prev = self._action(
            "actQcPrev", self.tr("Previous page"), "PgUp", lambda: self.strip.select_next(-1), None, toolbar=False
        )
        self.act_pass = self._action("actQcPass", self.tr("Pass page"), "F7", self.pass_page, "pass")
        self.act_reject = self._action("actQcReject", self.tr("Reject page"), "F8", self.reject_page, "reject")
        self.act_rescan = self._action("actQcRescan", self.tr("Request rescan"), "F9", self.request_rescan, "rescan")
        self.toolbar.addSeparator()
        self.act_approve = self._action(
            "actQcApprove", self.tr("Approve dossier"), ["Ctrl+Return", "Ctrl+Enter"], self.approve, "approve"
        )
        self.act_return = self._action(
            "actQcReturn", self.tr("Return dossier"), "Shift+F8", self.reject_dossier, "reject"
        )
        self.toolbar.addSeparator()
        self._action("actQcZoomIn", self.tr("Zoom in"), ["Ctrl++", "Ctrl+="], self.viewer.zoom_in, "zoom-in")
        self._action("actQcZoomOut", self.tr("Zoom out"), "Ctrl+-", self.viewer.zoom_out, "zoom-out")
        self._action("actQcFit", self.tr("Fit page"), "Ctrl+0", self.viewer.fit, "fit")

        right = QWidget(self)
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(0, 0, 0, 0)
        right_layout.addWidget(self.title_label)
        self.explanation_label = QLabel(self)
        self.explanation_label.setObjectName("qcExplanation")
        self.explanation_label.setWordWrap(True)
        self.explanation_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.explanation_label.setStyleSheet(
            "#qcExplanation { background: #eff6ff; border: 1px solid #2563eb; padding: 4px; }"
        )
        self.explanation_label.hide()
        right_layout.addWidget(self.explanation_label)
        right_layout.addWidget(self.toolbar)
        pages = QSplitter(Qt.Orientation.Horizontal, right)
        pages.addWidget(self.strip)
        pages.addWidget(self.viewer)
        pages.setStretchFactor(0, 2)
        pages.setStretchFactor(1, 3)
        pages.setSizes([400, 600])
        right_layout.addWidget(pages, 1)
        self.status_label = QLabel(self)
        self.status_label.setObjectName("qcStatus")
        right_layout.addWidget(self.status_label)

        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        splitter.setObjectName("qcSplitter")
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 3)
        self.splitter = splitter
        splitter.setSizes([560, 800])
        layout = QVBoxLayout(self)
        layout.addWidget(splitter)
        self.setTabOrder(self.queue, self.number_edit)
        self.setTabOrder(self.number_edit, self.strip)
        self.setTabOrder(self.strip, self.viewer)
        self.viewed: set[int] = set()
        self.dossier: dict = {}
        self._tips: dict = {}
        self.barcode = BarcodeField(self.number_edit, self)
        self._update_enabled()

    def _action(self, name, text, shortcut, slot, icon_name, toolbar=True) -> QAction:
        action = QAction(icon(icon_name) if icon_name else icon("blank"), text, self)
        action.setObjectName(name)
        shortcuts = shortcut if isinstance(shortcut, list) else [shortcut]
        action.setShortcuts([QKeySequence(s) for s in shortcuts])
        action.setToolTip(f"{text} ({QKeySequence(shortcuts[0]).toString(QKeySequence.SequenceFormat.NativeText)})")
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(slot)
        self.addAction(action)
        if toolbar:
            self.toolbar.addAction(action)
        return action

    def reasons(self) -> list[tuple[str, str]]:
        from scanstation.qc import reason_label

        return [(code, reason_label(code)) for code in self.api.qc_reasons()]

    # -- queue -------------------------------------------------------------------------------
    def refresh_queue(self) -> None:
        low = self.low_confidence.isChecked()
        run_task(
            lambda: self.api.qc_queue(low_confidence_only=low),
            self._queue_loaded,
            lambda e: present(e, self.window()),
            pool="catalog",
            owner=self,
        )

    def _queue_loaded(self, rows: list[dict]) -> None:
        self.queue_model.set_rows(rows)
        self._update_status()  # the count of the queue as it is now, not as it was

    def _queue_activated(self, index) -> None:
        row = self.queue_model.rows[index.row()] if index.isValid() else None
        if row:
            self.open_dossier(row["number"])

    def open_dossier(self, number: str, page: int | None = None) -> None:
        if not number:
            return
        run_task(
            lambda: (self.api.dossier(number), self.api.list_pages(number), self.api.clerk_explanations(number)),
            lambda result: self._opened(result, page),
            lambda e: present(e, self.window()),
            pool="catalog",
            owner=self,
        )

    def _opened(self, result, page: int | None) -> None:
        dossier, pages, explained = result
        self.dossier_number = dossier["number"]
        self.dossier = dossier
        self.viewed = set()
        self._show_explanations(explained)
        self.title_label.setText(
            self.tr("{number} · {title} · {pages} page(s), declared {declared}").format(
                number=dossier["number"],
                title=dossier.get("title", ""),
                pages=len([p for p in pages if p.get("seq")]),
                declared=dossier.get("declared_pages") if dossier.get("declared_pages") is not None else "?",
            )
        )
        self.strip.pages.decisions.clear()
        self.strip.set_pages(pages, page or 1)
        self.strip.setFocus()
        self._update_enabled()
        self._update_status()

    def _page_path(self, row: dict):
        if not self.dossier_number or not row.get("file_name"):
            return None
        return self.api.page_path(self.dossier_number, row["file_name"])

    def _show_explanations(self, explained: dict) -> None:
        """What the clerk wrote when completing: the inspector judges the pages with it."""
        lines = []
        if explained.get("missing"):
            lines.append(self.tr("Fewer pages than declared: {text}").format(text=explained["missing"]))
        if explained.get("extra"):
            lines.append(self.tr("More pages than declared: {text}").format(text=explained["extra"]))
        for page in explained.get("pages", []):
            lines.append(self.tr("Page {seq}: {text}").format(seq=page["seq"], text=page["note"]))
        if lines:
            self.explanation_label.setText(
                self.tr("The clerk ({user}) explained:").format(user=explained.get("by") or "—")
                + "\n"
                + "\n".join("• " + x for x in lines)
            )
            self.explanation_label.show()
        else:
            self.explanation_label.hide()

    def _page_selected(self, row: dict) -> None:
        if row and row.get("seq") and row.get("state", "active") == "active":
            self.viewed.add(row["seq"])
        path = self._page_path(row) if row else None
        self.viewer.show_page(str(path) if path else None, f"qc:{row.get('sha256', '')}:{row.get('file_name', '')}")
        self._update_enabled()

    # -- decisions ---------------------------------------------------------------------------
    def _decide(self, fn, seq: int | None, decision: str | None, then_next: bool = False, after=None) -> None:
        def done(_r):
            if seq is not None and decision:
                self.strip.pages.set_decision(seq, decision)
            if then_next:
                self.strip.select_next(1)
            self._update_status()
            if after:
                after()

        run_task(fn, done, lambda e: present(e, self.window()), pool="catalog", owner=self)

    def pass_page(self) -> None:
        seq = self.strip.current_seq()
        if seq is None:
            return
        number = self.dossier_number
        self._decide(lambda: self.api.qc_page_decision(number, seq, True, ""), seq, "pass", then_next=True)

    def reject_page(self) -> None:
        seq = self.strip.current_seq()
        if seq is None:
            return
        dialog = ReasonDialog(self.tr("Reject page {seq}").format(seq=seq), self.reasons(), self)
        dialog.setObjectName("qcRejectDialog")
        number = self.dossier_number
        # the reason is read here, on the GUI thread, while the dialog exists; the task gets plain text
        dialog.accepted.connect(lambda: self._reject_page(number, seq, dialog.reason_text()))
        open_over_strip(dialog, self.strip)

    def request_rescan(self) -> None:
        seq = self.strip.current_seq()
        if seq is None:
            return
        dialog = ReasonDialog(self.tr("Request a rescan of page {seq}").format(seq=seq), self.reasons(), self)
        dialog.setObjectName("qcRescanDialog")
        number = self.dossier_number
        dialog.accepted.connect(lambda: self._request_rescan(number, seq, dialog.reason_text()))
        open_over_strip(dialog, self.strip)

    def _reject_page(self, number: str, seq: int, reason: str) -> None:
        self._decide(lambda: self.api.qc_page_decision(number, seq, False, reason), seq, "reject", True)

    def _request_rescan(self, number: str, seq: int, reason: str) -> None:
        self._decide(
            lambda: self.api.qc_request_rescan(number, seq, reason), seq, "rescan", after=lambda: self._returned(number)
        )

    def _return_dossier(self, number: str, reason: str) -> None:
        self._decide(lambda: self.api.qc_reject(number, [reason]), None, None, after=lambda: self._returned(number))

    def unviewed_pages(self) -> list[int]:
        """Active pages nobody looked at in this review (and no decision taken on them)."""
        decided = set(self.strip.pages.decisions)
        seqs = [r.get("seq") for r in self.strip.pages.rows if r.get("seq") and r.get("state", "active") == "active"]
        return [s for s in seqs if s not in self.viewed and s not in decided]

    def approve(self) -> None:
        number = self.dossier_number
        if not number:
            return
        unviewed = self.unviewed_pages()
        if unviewed:
            box = QMessageBox(
                QMessageBox.Icon.Warning,
                self.tr("Pages not looked at"),
                self.tr("{n} page(s) of {number} were not looked at: {pages}. Approve anyway?").format(
                    n=len(unviewed), number=number, pages=seq_ranges(unviewed)
                ),
                QMessageBox.StandardButton.NoButton,
                self,
            )
            box.setObjectName("qcUnviewedBox")
            show = box.addButton(self.tr("Show the first one"), QMessageBox.ButtonRole.RejectRole)
            box.addButton(self.tr("Approve anyway"), QMessageBox.ButtonRole.AcceptRole)
            box.setDefaultButton(show)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            first = unviewed[0]

            def answered(_r=None, b=box, s=show):
                self.window().activateWindow()  # the keyboard back on the desk
                if b.clickedButton() is s or b.clickedButton() is None:
                    self.strip.select_seq(first)
                    self.strip.setFocus()
                else:
                    self._approve_now(number)

            box.finished.connect(answered)
            box.open()
            return
        self._approve_now(number)

    def _approve_now(self, number: str) -> None:
        self._decide(lambda: self.api.qc_approve(number), None, None, after=lambda: self._approved(number))

    def reject_dossier(self) -> None:
        number = self.dossier_number
        if not number:
            return
        dialog = ReasonDialog(self.tr("Return dossier {n} to the clerk").format(n=number), self.reasons(), self)
        dialog.setObjectName("qcReturnDialog")
        dialog.accepted.connect(lambda: self._return_dossier(number, dialog.reason_text()))
        open_over_strip(dialog, self.strip)

    def _approved(self, number: str) -> None:
        presenter().notify(self.tr("Dossier {n} is approved.").format(n=number), self)
        self.approved.emit(number)
        self._close_dossier()

    def _returned(self, number: str) -> None:
        presenter().notify(self.tr("Dossier {n} goes back to the clerk for rescanning.").format(n=number), self)
        self._close_dossier()

    def _close_dossier(self) -> None:
        self.dossier_number = None
        self.dossier = {}
        self.explanation_label.hide()
        self.strip.set_pages([])
        self.viewer.clear()
        self.title_label.setText(self.tr("Choose a dossier from the queue."))
        self.refresh_queue()
        self._update_enabled()
        self._update_status()

    def _update_status(self) -> None:
        decisions = list(self.strip.pages.decisions.values())
        if not self.dossier_number:
            self.status_label.setText(self.tr("{n} dossier(s) waiting.").format(n=self.queue_model.rowCount()))
            return
        self.status_label.setText(
            self.tr("Passed {p}, rejected {r}, rescan requested {s} of {n} page(s).").format(
                p=decisions.count("pass"),
                r=decisions.count("reject"),
                s=decisions.count("rescan"),
                n=self.strip.pages.active_count(),
            )
        )

    def _update_enabled(self) -> None:
        has = self.dossier_number is not None
        has_page = self.strip.current_seq() is not None
        status = (self.dossier or {}).get("status") if has else None
        reviewable = status == "completed"
        if not has:
            why = self.tr("Choose a dossier from the queue first.")
        elif not reviewable:
            why = self.tr("The dossier is {state}; only completed dossiers are reviewed.").format(
                state=status_label(status or "")
            )
        else:
            why = "" if has_page else self.tr("Select a page first.")
        for action in (self.act_pass, self.act_reject, self.act_rescan, self.act_approve, self.act_return):
            base = self._tips.setdefault(action, action.toolTip())
            enabled = reviewable and (has_page or action in (self.act_approve, self.act_return))
            action.setEnabled(enabled)
            action.setToolTip(base if enabled else f"{base} — {why}")

    def showEvent(self, event) -> None:
        super().showEvent(event)
        self.refresh_queue()
