"""打印分隔页: cover sheets for the dossiers the clerk picks from a list, or for a whole 年度/status filter.

The list and the PDF come from the core functions ``scanstation coversheet`` uses
(``coversheet.sheet.sheet_candidates`` / ``print_cover_sheets``): the role, the lookup and the audit
entry are theirs. A year's sheets take a while to draw, so the PDF is written on the pool of long
jobs, not on the catalog thread the desk's own look-ups wait for; the bar shows how far it is.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from PySide6.QtCore import QDate, QObject, Qt, QUrl, Signal
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QTableView,
    QVBoxLayout,
)

from scanstation.ui.dossier_panel import status_label
from scanstation.ui.errors import present
from scanstation.ui.row_table import RowTableModel
from scanstation.ui.sizing import fit_dialog
from scanstation.ui.tasks import run_task

STATUS_CHOICES = ("capturable", "not_scanned", "scanning", "qc_rejected")  # coversheet --status


class _Progress(QObject):
    step = Signal(int, int)  # done, total: emitted on the worker thread, delivered queued


class SheetTableModel(RowTableModel):
    KEYS = ("number", "title", "year", "declared_pages", "status", "box_no")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headers = [
            self.tr("档号"),
            self.tr("Title (题名)"),
            self.tr("Year"),
            self.tr("Declared pages"),
            self.tr("Status"),
            self.tr("Box"),
        ]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role != Qt.ItemDataRole.DisplayRole:
            return None
        key = self.KEYS[index.column()]
        value = self.rows[index.row()].get(key)
        if key == "status":
            return status_label(value or "")
        return "" if value is None else str(value)


class CoverSheetDialog(QDialog):
    """``printed(dict)`` with the core's answer (file, sheets, numbers) once a PDF was written."""

    printed = Signal(dict)

    def __init__(self, api, year: int | None = None, number: str | None = None, parent=None):
        super().__init__(parent)
        self.api = api
        self.setObjectName("coverSheetDialog")
        self.setWindowTitle(self.tr("Print cover sheets (分隔页)"))
        self._preselect = number
        self._busy = False
        self.last_file: str | None = None
        self.progress_relay = _Progress(self)
        self.progress_relay.step.connect(self._step)

        intro = QLabel(
            self.tr(
                "One A4 sheet per dossier, put in front of its pages in the feeder. List a year, select the "
                "dossiers (Ctrl or Shift for several), then print the selected ones or all listed."
            ),
            self,
        )
        intro.setWordWrap(True)
        self.year = QSpinBox(self)
        self.year.setObjectName("sheetYear")
        self.year.setRange(1949, 2100)
        self.year.setValue(year or QDate.currentDate().year())
        self.year.setAccessibleName(self.tr("Year"))
        self.status = QComboBox(self)
        self.status.setObjectName("sheetStatus")
        self.status.setAccessibleName(self.tr("Status"))
        names = {
            "capturable": self.tr("all not yet completed"),
            "not_scanned": self.tr("not scanned"),
            "scanning": self.tr("scanning started"),
            "qc_rejected": self.tr("returned by QC"),
        }
        for key in STATUS_CHOICES:
            self.status.addItem(names[key], key)
        self.list_button = QPushButton(self.tr("&List"), self)
        self.list_button.setObjectName("sheetList")
        self.list_button.clicked.connect(lambda: self.load())
        year_label = QLabel(self.tr("&Year:"), self)
        year_label.setBuddy(self.year)
        status_label_ = QLabel(self.tr("S&tatus:"), self)
        status_label_.setBuddy(self.status)
        filters = QHBoxLayout()
        for w in (year_label, self.year, status_label_, self.status, self.list_button):
            filters.addWidget(w)
        filters.addStretch(1)

        self.model = SheetTableModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("sheetTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setWordWrap(False)
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        for column in (0, 5):
            self.table.horizontalHeader().setSectionResizeMode(column, QHeaderView.ResizeMode.ResizeToContents)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._update_buttons())

        self.summary = QLabel(self)
        self.summary.setObjectName("sheetSummary")
        self.bar = QProgressBar(self)
        self.bar.setObjectName("sheetProgress")
        self.bar.hide()
        self.result = QLabel(self)
        self.result.setObjectName("sheetResult")
        self.result.setWordWrap(True)
        self.result.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)

        self.selected_button = QPushButton(self.tr("Print &selected"), self)
        self.selected_button.setObjectName("sheetPrintSelected")
        self.selected_button.clicked.connect(lambda: self.print_selected())
        self.all_button = QPushButton(self.tr("Print &all listed"), self)
        self.all_button.setObjectName("sheetPrintAll")
        self.all_button.clicked.connect(lambda: self.print_filter())
        self.open_button = QPushButton(self.tr("&Open PDF"), self)
        self.open_button.setObjectName("sheetOpen")
        self.open_button.setToolTip(self.tr("Open the sheets in the PDF viewer, to look at them or print them"))
        self.open_button.clicked.connect(self.open_pdf)
        self.open_button.setEnabled(False)
        close = QPushButton(self.tr("Close"), self)
        close.clicked.connect(self.reject)
        buttons = QHBoxLayout()
        buttons.addWidget(self.selected_button)
        buttons.addWidget(self.all_button)
        buttons.addWidget(self.open_button)
        buttons.addStretch(1)
        buttons.addWidget(close)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(filters)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        layout.addWidget(self.bar)
        layout.addWidget(self.result)
        layout.addLayout(buttons)
        fit_dialog(self, 760, 520)
        self._update_buttons()
        if year:
            self.load()
        else:  # nothing open at the desk: the newest year that still has dossiers to scan
            from scanstation.coversheet.sheet import latest_year

            session = api.session
            run_task(lambda: latest_year(session), self._year_found, self._load_failed, pool="catalog", owner=self)

    # -- the list ----------------------------------------------------------------------------
    def load(self) -> None:
        from scanstation.coversheet.sheet import sheet_candidates

        session, year, status = self.api.session, self.year.value(), self.status.currentData()
        self.list_button.setEnabled(False)
        run_task(
            lambda: sheet_candidates(session, year, status),
            self._loaded,
            self._load_failed,
            pool="catalog",
            owner=self,
        )

    def _year_found(self, year: int | None) -> None:
        if year:
            self.year.setValue(int(year))
        self.load()

    def _loaded(self, rows: list[dict]) -> None:
        self.list_button.setEnabled(True)
        self.model.set_rows(rows)
        self.summary.setText(self.tr("{n} dossier(s) listed").format(n=len(rows)))
        if self._preselect:
            self.select_numbers([self._preselect])
            self._preselect = None
        if rows:
            self.table.setFocus()  # arrows, Shift+arrows and Ctrl+Space pick the dossiers
        self._update_buttons()

    def _load_failed(self, error) -> None:
        self.list_button.setEnabled(True)
        self.model.set_rows([])
        self._update_buttons()
        present(error, self)

    def select_numbers(self, numbers: list[str]) -> None:
        """Select the rows of these 档号 (the one open at the desk, or a test's choice)."""
        from PySide6.QtCore import QItemSelection, QItemSelectionModel

        wanted = set(numbers)
        selection = QItemSelection()
        for i, row in enumerate(self.model.rows):
            if row["number"] in wanted:
                selection.select(self.model.index(i, 0), self.model.index(i, self.model.columnCount() - 1))
        model = self.table.selectionModel()
        model.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        if not selection.isEmpty():
            first = min(selection.indexes(), key=lambda i: i.row())
            # the keyboard's Shift+arrow extends from here, not from the top row
            model.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)
            self.table.scrollTo(first)

    def selected_numbers(self) -> list[str]:
        rows = sorted(i.row() for i in self.table.selectionModel().selectedRows())
        return [self.model.rows[r]["number"] for r in rows]

    def _update_buttons(self) -> None:
        n = len(self.selected_numbers())
        self.selected_button.setText(self.tr("Print &selected ({n})").format(n=n))
        self.selected_button.setEnabled(n > 0 and not self._busy)
        self.all_button.setText(self.tr("Print &all listed ({n})").format(n=self.model.rowCount()))
        self.all_button.setEnabled(self.model.rowCount() > 0 and not self._busy)

    # -- printing ----------------------------------------------------------------------------
    def _choose_file(self) -> str | None:
        folder = self.api.home.dir("reports")
        name = f"分隔页-{datetime.now().strftime('%Y%m%d-%H%M')}.pdf"
        out, _ = QFileDialog.getSaveFileName(self, self.tr("Save cover sheets"), str(folder / name), "PDF (*.pdf)")
        return out or None

    def print_selected(self, out: str | None = None) -> None:
        numbers = self.selected_numbers()
        if numbers:
            self._print(out, numbers=numbers)

    def print_filter(self, out: str | None = None) -> None:
        """Every dossier of the year and status (as ``coversheet --year Y --status S``), listed or not."""
        self._print(out, year=self.year.value(), status=self.status.currentData())

    def _print(self, out: str | None, **which) -> None:
        from scanstation.coversheet.sheet import print_cover_sheets

        out = out or self._choose_file()
        if not out:
            return
        if not out.lower().endswith(".pdf"):
            out += ".pdf"
        session, step = self.api.session, self.progress_relay.step.emit
        self._busy = True
        self._update_buttons()
        self.bar.setRange(0, 0)
        self.bar.show()
        self.result.clear()
        run_task(
            lambda: print_cover_sheets(session, Path(out), progress=step, **which),
            self._printed,
            self._print_failed,
            pool="custody",  # long jobs: the catalog thread stays free for the desk
            owner=self,
        )

    def _step(self, done: int, total: int) -> None:
        self.bar.setRange(0, total)
        self.bar.setValue(done)

    def _printed(self, done: dict) -> None:
        self._busy = False
        self.bar.hide()
        self.last_file = done["file"]
        self.result.setText(
            self.tr("{n} cover sheet(s) written to {f}").format(n=done["sheets"], f=Path(done["file"]).name)
        )
        self.result.setToolTip(done["file"])
        self.open_button.setEnabled(True)
        self._update_buttons()
        self.printed.emit(done)

    def _print_failed(self, error) -> None:
        self._busy = False
        self.bar.hide()
        self._update_buttons()
        present(error, self)

    def open_pdf(self) -> None:
        if self.last_file:
            QDesktopServices.openUrl(QUrl.fromLocalFile(self.last_file))
