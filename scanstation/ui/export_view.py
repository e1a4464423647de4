"""Exports from the window: copies of dossiers (double-layer PDF / PDF/A, OFD, DA/T 48 EEP), the
数据挂接 catalog export, and the loans view that hands out a loan's watermarked PDF copy.

Every check (the ``export`` role, the 档号, existing files, locked encrypted images) is made by the
core functions the command line uses (``scanstation.export``, ``scanstation.custody.lending``); the
dialogs only gather values, read on the GUI thread before the task starts.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from scanstation.ui.errors import present
from scanstation.ui.row_table import RowTableModel
from scanstation.ui.sizing import fit_dialog
from scanstation.ui.tasks import run_task


def _folder_row(
    parent: QWidget, edit: QLineEdit, title: str, browse_text: str, file_filter: str | None = None
) -> QHBoxLayout:
    browse = QPushButton(browse_text, parent)

    def choose() -> None:
        if file_filter is None:
            path = QFileDialog.getExistingDirectory(parent, title, edit.text())
        else:
            path, _ = QFileDialog.getSaveFileName(parent, title, edit.text(), file_filter)
        if path:
            edit.setText(path)

    browse.clicked.connect(choose)
    row = QHBoxLayout()
    row.addWidget(edit, 1)
    row.addWidget(browse)
    return row


def guarded(fn, where: Path):
    """``fn`` with a folder the system refuses (read-only, a file in its place) told in words, not a traceback."""

    def run():
        try:
            return fn()
        except OSError as exc:
            from scanstation.storage.files import storage_error

            raise storage_error(Path(exc.filename) if getattr(exc, "filename", None) else where, exc) from exc

    return run


class ExportDialog(QDialog):
    """Copies of one or more dossiers: PDF (PDF/A, watermark), OFD (watermark) or signed EEP."""

    def __init__(self, numbers: list[str], key_names: list[str], start_dir: str = "", parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Export dossiers"))
        self.numbers = QLineEdit(" ".join(numbers), self)
        self.numbers.setObjectName("exportNumbers")
        self.numbers.setPlaceholderText(self.tr("one or more 档号, separated by spaces"))
        self.format = QComboBox(self)
        self.format.setObjectName("exportFormat")
        for code, label in (
            ("pdf", self.tr("Double-layer PDF (image + OCR text)")),
            ("ofd", self.tr("OFD (GB/T 33190)")),
            ("eep", self.tr("EEP package (DA/T 48, signed)")),
        ):
            self.format.addItem(label, code)
        self.pdfa = QCheckBox(self.tr("PDF/&A-2b (for long-term keeping)"), self)
        self.pdfa.setObjectName("exportPdfa")
        self.watermark = QLineEdit(self)
        self.watermark.setObjectName("exportWatermark")
        self.watermark.setPlaceholderText(self.tr("optional; your name and the time are added"))
        self.key = QComboBox(self)
        self.key.setObjectName("exportKey")
        self.key.setEditable(True)
        self.key.addItems(key_names)
        self.passphrase = QLineEdit(self)
        self.passphrase.setObjectName("exportPassphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.folder = QLineEdit(start_dir, self)
        self.folder.setObjectName("exportFolder")
        form = QFormLayout(self)
        note = QLabel(
            self.tr(
                "One file per dossier, named by its 档号, in the folder you choose. The masters are not "
                "changed; an existing file is never overwritten."
            ),
            self,
        )
        note.setWordWrap(True)
        form.addRow(note)
        form.addRow(self.tr("&Dossiers:"), self.numbers)
        form.addRow(self.tr("&Format:"), self.format)
        form.addRow(self.pdfa)
        form.addRow(self.tr("&Watermark:"), self.watermark)
        form.addRow(self.tr("Signing &key:"), self.key)
        form.addRow(self.tr("&Passphrase:"), self.passphrase)
        label = QLabel(self.tr("F&older:"), self)
        label.setBuddy(self.folder)
        form.addRow(label, _folder_row(self, self.folder, self.tr("Choose the export folder"), self.tr("&Browse…")))
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.format.currentIndexChanged.connect(lambda _i: self._format_changed())
        self._format_changed()
        fit_dialog(self, 560)

    def _format_changed(self) -> None:
        fmt = self.format.currentData()
        self.pdfa.setEnabled(fmt == "pdf")
        self.watermark.setEnabled(fmt in ("pdf", "ofd"))
        self.key.setEnabled(fmt == "eep")
        self.passphrase.setEnabled(fmt == "eep")

    def values(self) -> dict:
        fmt = self.format.currentData()
        return {
            "numbers": self.numbers.text().split(),
            "format": fmt,
            "pdfa": fmt == "pdf" and self.pdfa.isChecked(),
            "watermark": (self.watermark.text().strip() or None) if fmt in ("pdf", "ofd") else None,
            "key": self.key.currentText().strip(),
            "passphrase": self.passphrase.text(),
            "folder": self.folder.text().strip(),
        }


class CatalogExportDialog(QDialog):
    """数据挂接: the catalog of a year or a batch (xlsx/csv/xml) and its images in one folder per 档号."""

    def __init__(self, default_year: int, batch_ids: list[str], parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Export the catalog (数据挂接)"))
        self.scope = QComboBox(self)
        self.scope.setObjectName("catalogScope")
        self.scope.addItem(self.tr("Year"), "year")
        self.scope.addItem(self.tr("Transfer batch"), "batch")
        self.scope.addItem(self.tr("Whole catalog"), "all")
        self.year = QSpinBox(self)
        self.year.setObjectName("catalogYear")
        self.year.setRange(1900, 2100)
        self.year.setValue(default_year)
        self.batch = QComboBox(self)
        self.batch.setObjectName("catalogBatch")
        self.batch.setEditable(True)
        self.batch.addItems(batch_ids)
        self.format = QComboBox(self)
        self.format.setObjectName("catalogFormat")
        self.format.addItems(["xlsx", "csv", "xml"])
        self.out = QLineEdit(self)
        self.out.setObjectName("catalogOut")
        self.images = QLineEdit(self)
        self.images.setObjectName("catalogImages")
        self.images.setPlaceholderText(self.tr("a new or empty folder"))
        form = QFormLayout(self)
        note = QLabel(
            self.tr(
                "The catalog in the column order archive systems import, and the images in one folder "
                "per 档号 with a checksum file."
            ),
            self,
        )
        note.setWordWrap(True)
        form.addRow(note)
        form.addRow(self.tr("&Scope:"), self.scope)
        form.addRow(self.tr("&Year:"), self.year)
        form.addRow(self.tr("&Batch:"), self.batch)
        form.addRow(self.tr("&Format:"), self.format)
        out_label = QLabel(self.tr("Catalog fi&le:"), self)
        out_label.setBuddy(self.out)
        form.addRow(
            out_label,
            _folder_row(
                self,
                self.out,
                self.tr("Choose the catalog file"),
                self.tr("B&rowse…"),
                self.tr("Catalogs (*.xlsx *.csv *.xml)"),
            ),
        )
        images_label = QLabel(self.tr("&Image folder:"), self)
        images_label.setBuddy(self.images)
        form.addRow(
            images_label, _folder_row(self, self.images, self.tr("Choose the image folder"), self.tr("Br&owse…"))
        )
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        self.scope.currentIndexChanged.connect(lambda _i: self._scope_changed())
        self._scope_changed()
        fit_dialog(self, 560)

    def _scope_changed(self) -> None:
        scope = self.scope.currentData()
        self.year.setEnabled(scope == "year")
        self.batch.setEnabled(scope == "batch")

    def values(self) -> dict:
        scope = self.scope.currentData()
        return {
            "year": self.year.value() if scope == "year" else None,
            "batch": (self.batch.currentText().strip() or None) if scope == "batch" else None,
            "format": self.format.currentText(),
            "out": self.out.text().strip(),
            "images": self.images.text().strip(),
        }


class ExportActions(QObject):
    """The window's Export menu: copies of the open or selected dossiers, and the 数据挂接 export.

    ``numbers`` gives the 档号 the window has open or selected; ``status(text)`` shows a result.
    """

    def __init__(self, api, window, numbers, parent=None):
        super().__init__(parent or window)
        self.api = api
        self.window = window
        self.numbers = numbers
        self.busy = False
        self.last_result: dict | None = None
        self._last_folder = ""
        # dialog hook (tests replace it; the window uses the real dialogs)
        self.run_dialog = lambda dialog: dialog.exec()
        self.progress = QProgressBar(window)
        self.progress.setObjectName("exportProgress")
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(160)
        self.progress.hide()
        window.statusBar().insertPermanentWidget(0, self.progress)  # a message does not cover it
        self.act_export = QAction(self.tr("&Export…"), window)
        self.act_export.setObjectName("actExport")
        self.act_export.setShortcut(QKeySequence("Ctrl+Shift+E"))
        self.act_export.triggered.connect(self.ask_export)
        self.act_catalog = QAction(self.tr("Export the &catalog (数据挂接)…"), window)
        self.act_catalog.setObjectName("actExportCatalog")
        self.act_catalog.setShortcut(QKeySequence("Ctrl+Shift+K"))
        self.act_catalog.triggered.connect(self.ask_export_catalog)
        self._update_enabled()

    def actions(self) -> list[QAction]:
        return [self.act_export, self.act_catalog]

    def _update_enabled(self) -> None:
        may = self.api.can("export")
        for action, text in (
            (self.act_export, self.tr("Export the open or selected dossiers as PDF, OFD or EEP")),
            (self.act_catalog, self.tr("Export the catalog and its images for an archive system")),
        ):
            action.setEnabled(may and not self.busy)
            action.setToolTip(text if may else self.tr("Your role may not export (ask an administrator)."))

    # -- copies ------------------------------------------------------------------------------
    def _key_names(self) -> list[str]:
        from scanstation.transfer import keys

        return [k["name"] for k in keys.list_keys(self.api.home)["signing"] if "error" not in k]

    def _may_start(self) -> bool:
        """The permission (the core checks it again), one export at a time, never behind the lock."""
        return self.api.can("export") and not self.busy and not getattr(self.window, "is_locked", False)

    def ask_export(self) -> None:
        if not self._may_start():
            return
        dialog = ExportDialog(self.numbers(), self._key_names(), self._last_folder, self.window)
        if self.run_dialog(dialog) != QDialog.DialogCode.Accepted:
            return
        self.export(dialog.values())

    def export(self, values: dict) -> None:
        from scanstation.errors import InvalidInput

        session = self.api.session
        if not values["folder"]:
            self._failed(InvalidInput("Choose the folder to export into.", "请选择导出目录。"))
            return
        self._last_folder = values["folder"]
        numbers, folder, fmt = list(values["numbers"]), Path(values["folder"]), values["format"]

        def work() -> dict:
            if fmt == "eep":
                from scanstation.export.eep import export_eep
                from scanstation.transfer import keys

                session.require("export")
                signer = keys.signer(session.home, values["key"], values["passphrase"])
                return export_eep(session, numbers, folder, signer)
            from scanstation.export.copies import export_copies

            return export_copies(session, numbers, folder, fmt, pdfa=values["pdfa"], watermark=values["watermark"])

        def done(result: dict) -> None:
            names = ", ".join(Path(f["file"]).name for f in result["files"])
            self._done(self.tr("Exported {n} file(s) to {d}: {f}").format(n=len(result["files"]), d=folder, f=names))

        self._start(self.tr("Exporting {n} dossier(s)…").format(n=len(numbers)), guarded(work, folder), done)

    # -- 数据挂接 -------------------------------------------------------------------------------
    def _batch_ids(self) -> list[str]:
        from scanstation.transfer import batches

        try:
            return [b["batch_id"] for b in batches.list_batches(self.api.session)]
        except Exception:  # noqa: BLE001 - no batches table or no right to read: the field stays free text
            return []

    def ask_export_catalog(self) -> None:
        if not self._may_start():
            return
        from datetime import date

        dialog = CatalogExportDialog(date.today().year - 1, self._batch_ids(), self.window)
        if self.run_dialog(dialog) != QDialog.DialogCode.Accepted:
            return
        self.export_catalog(dialog.values())

    def export_catalog(self, values: dict) -> None:
        from scanstation.errors import InvalidInput
        from scanstation.export.catalog_export import export_catalog

        session = self.api.session
        if not values["out"] or not values["images"]:
            self._failed(InvalidInput("Choose the catalog file and the image folder.", "请选择目录文件和图像目录。"))
            return
        out, images = Path(values["out"]), Path(values["images"])
        if not out.suffix:
            out = out.with_suffix("." + values["format"])

        def done(r: dict) -> None:
            self._done(
                self.tr("Catalog of {r} dossier(s) written to {f}; {i} image(s) in {d}.").format(
                    r=r["rows"], f=r["file"], i=r["images"], d=r["images_dir"]
                )
            )

        self._start(
            self.tr("Exporting the catalog to {f}…").format(f=out.name),
            guarded(
                lambda: export_catalog(
                    session, out, values["format"], images, year=values["year"], batch=values["batch"]
                ),
                out,
            ),
            done,
        )

    # -- plumbing -------------------------------------------------------------------------------
    def _start(self, text: str, fn, done) -> None:
        self.busy = True
        self._update_enabled()
        self.progress.show()
        self.window.statusBar().showMessage(text)

        def finished(result) -> None:
            self._stop()
            self.last_result = result
            done(result)

        run_task(fn, finished, self._failed, pool="catalog", owner=self.window)

    def _stop(self) -> None:
        self.busy = False
        self.progress.hide()
        self._update_enabled()

    def _done(self, text: str) -> None:
        self.window.statusBar().showMessage(text)

    def _failed(self, error) -> None:
        self._stop()
        self.last_result = None
        from scanstation.ui.text import plain_message

        self.window.statusBar().showMessage(plain_message(getattr(error, "message", str(error))))
        present(error, self.window)


class LoansModel(RowTableModel):
    KEYS = ("id", "number", "requester", "state", "reason", "due_at")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headers = [
            self.tr("Loan"),
            self.tr("Dossier number"),
            self.tr("Borrower"),
            self.tr("State"),
            self.tr("Reason"),
            self.tr("Due"),
        ]

    def state_text(self, state: str) -> str:
        return {
            "requested": self.tr("requested"),
            "approved": self.tr("approved"),
            "rejected": self.tr("rejected"),
            "returned": self.tr("returned"),
            "expired": self.tr("expired"),
        }.get(state, state)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        row = self.rows[index.row()]
        key = self.KEYS[index.column()]
        value = row.get(key)
        if key == "state":
            return self.state_text(value or "")
        return "" if value is None else str(value)


class LoanView(QWidget):
    """借阅: the loans the user may see; a borrower hands out the watermarked PDF copy of an approved loan."""

    def __init__(self, api, parent: QWidget | None = None):
        super().__init__(parent)
        self.api = api
        self.busy = False
        self.last_result: dict | None = None
        self.choose_folder = self._choose_folder  # tests replace it
        intro = QLabel(
            self.tr(
                "Loans (借阅). During an approved loan the borrower exports a double-layer PDF copy of "
                "the dossier, every page watermarked with the borrower's name, the time and the loan "
                "number."
            ),
            self,
        )
        intro.setWordWrap(True)
        self.model = LoansModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("loansTable")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.export_button = QPushButton(self.tr("E&xport loan copy (PDF)…"), self)
        self.export_button.setObjectName("exportLoanPdf")
        self.refresh_button = QPushButton(self.tr("&Refresh"), self)
        self.status = QLabel(self)
        self.status.setObjectName("loanStatus")
        self.status.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addWidget(self.export_button)
        buttons.addWidget(self.refresh_button)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        layout.addWidget(self.status)
        self.export_button.clicked.connect(self.ask_export)
        self.refresh_button.clicked.connect(self.refresh)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_enabled())
        self._update_enabled()
        self.refresh()

    def selected(self) -> dict | None:
        rows = self.table.selectionModel().selectedRows()
        return self.model.rows[rows[0].row()] if rows else None

    def _update_enabled(self) -> None:
        loan = self.selected() or {}
        mine = loan.get("requester") == self.api.user.name
        self.export_button.setEnabled(not self.busy and mine and loan.get("state") == "approved")
        self.export_button.setToolTip(
            self.tr("Export the watermarked PDF copy of your approved loan")
            if mine
            else self.tr("Only the borrower may export the copy of an approved loan.")
        )

    def refresh(self) -> None:
        from scanstation.custody import lending

        session = self.api.session
        chosen = (self.selected() or {}).get("id")
        run_task(
            lambda: lending.list_loans(session),
            lambda rows: self._show(rows, chosen),
            self._failed,
            pool="catalog",
            owner=self,
        )

    def _show(self, rows: list[dict], chosen) -> None:
        self.model.set_rows(rows)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        for i, row in enumerate(rows):
            if row["id"] == chosen:
                self.table.selectRow(i)
        if not rows:
            self.status.setText(self.tr("No loans."))
        self._update_enabled()

    def select_loan(self, loan_id: int) -> None:
        for i, row in enumerate(self.model.rows):
            if row["id"] == loan_id:
                self.table.selectRow(i)

    def _choose_folder(self) -> str:
        return QFileDialog.getExistingDirectory(self, self.tr("Choose the folder for the loan copy"), "")

    def ask_export(self) -> None:
        loan = self.selected()
        if loan is None:
            return
        folder = self.choose_folder()
        if folder:
            self.export_loan(loan["id"], folder)

    def export_loan(self, loan_id: int, folder: str) -> None:
        from scanstation.custody import lending

        session = self.api.session
        self.busy = True
        self._update_enabled()
        self.status.setStyleSheet("")
        self.status.setText(self.tr("Exporting the copy of loan {id}…").format(id=loan_id))

        def done(r: dict) -> None:
            self.busy = False
            self.last_result = r
            self.status.setStyleSheet("color: #15803d")
            self.status.setText(
                self.tr("Loan {id}: {f} written to {d} (watermarked, {p} page(s)).").format(
                    id=r["id"], f=", ".join(r["files"]), d=r["folder"], p=r["pages"]
                )
            )
            self.refresh()

        run_task(
            guarded(lambda: lending.export(session, loan_id, Path(folder), fmt="pdf"), Path(folder)),
            done,
            self._failed,
            pool="catalog",
            owner=self,
        )

    def _failed(self, error) -> None:
        from scanstation.ui.text import plain_message

        self.busy = False
        self.last_result = None
        self._update_enabled()
        self.status.setStyleSheet("color: #b91c1c")
        self.status.setText(plain_message(getattr(error, "message", str(error))))
        present(error, self.window())
