"""Catalog import: choose the department's 目录 (.xlsx or .csv); all or nothing. When the core
rejects the file, every problem is listed as a table (row as the spreadsheet shows it, column, reason)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFileDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from scanstation.i18n import is_english
from scanstation.ui.errors import present
from scanstation.ui.row_table import RowTableModel
from scanstation.ui.tasks import run_task


class ProblemsModel(RowTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.headers = [self.tr("Row"), self.tr("Column"), self.tr("Problem")]

    # the name this view's callers use for its rows
    set_problems = RowTableModel.set_rows

    @property
    def problems(self) -> list:
        return self.rows

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or role not in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            return None
        p = self.rows[index.row()]
        if index.column() == 0:
            return str(p.row)
        if index.column() == 1:
            return p.column
        return p.en if is_english() else p.zh


class ImportView(QWidget):
    imported = Signal(int)

    def __init__(self, api, parent: QWidget | None = None):
        super().__init__(parent)
        self.api = api
        intro = QLabel(
            self.tr(
                "Import the department's catalog (目录) from an Excel (.xlsx) or CSV file. "
                "The whole file is checked first: if any row is wrong, nothing is imported and "
                "every problem is listed below."
            ),
            self,
        )
        intro.setWordWrap(True)
        self.path_edit = QLineEdit(self)
        self.path_edit.setObjectName("importPath")
        self.path_edit.setPlaceholderText(self.tr("Catalog file (.xlsx or .csv)"))
        self.browse_button = QPushButton(self.tr("&Choose file…"), self)
        self.import_button = QPushButton(self.tr("&Import"), self)
        self.import_button.setObjectName("importButton")
        self.result_label = QLabel(self)
        self.result_label.setObjectName("importResult")
        self.result_label.setWordWrap(True)
        self.model = ProblemsModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("importProblems")
        self.table.setModel(self.model)
        self.table.verticalHeader().hide()
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        label = QLabel(self.tr("&File:"), self)
        label.setBuddy(self.path_edit)
        row = QHBoxLayout()
        row.addWidget(label)
        row.addWidget(self.path_edit, 1)
        row.addWidget(self.browse_button)
        row.addWidget(self.import_button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.result_label)
        layout.addWidget(self.table, 1)
        self.browse_button.clicked.connect(self.choose_file)
        self.import_button.clicked.connect(self.start_import)
        self.path_edit.returnPressed.connect(self.start_import)
        self.import_button.setEnabled(api.can("catalog.import"))

    def choose_file(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Choose the catalog file"),
            self.path_edit.text(),
            self.tr("Catalogs (*.xlsx *.csv);;All files (*)"),
        )
        if path:
            self.path_edit.setText(path)

    def start_import(self) -> None:
        path = self.path_edit.text().strip()
        if not path:
            self.choose_file()
            path = self.path_edit.text().strip()
            if not path:
                return
        self.import_button.setEnabled(False)
        self.result_label.setText(self.tr("Checking {file}…").format(file=Path(path).name))
        self.model.set_problems([])
        run_task(lambda: self.api.import_catalog(path), self._imported, self._failed, pool="catalog", owner=self)

    def _imported(self, result) -> None:
        self.import_button.setEnabled(True)
        self.result_label.setStyleSheet("color: #15803d")
        self.result_label.setText(
            self.tr("{n} dossier(s) imported from {file}.").format(n=result.count, file=result.file)
        )
        self.imported.emit(result.count)

    def _failed(self, error) -> None:
        self.import_button.setEnabled(True)
        problems = getattr(error, "problems", None)
        if problems is not None:
            self.result_label.setStyleSheet("color: #b91c1c")
            self.result_label.setText(error.message)
            self.model.set_problems(problems)
            self.table.resizeColumnsToContents()
            self.table.horizontalHeader().setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
            self.table.setFocus()
            return
        self.result_label.setText("")
        present(error, self.window())
