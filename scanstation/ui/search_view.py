"""Search: full-text (OCR) and catalog fields; results with snippets; Enter or double-click opens the
dossier at the matching page."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from scanstation.ui.errors import present
from scanstation.ui.row_table import RowTableModel
from scanstation.ui.tasks import run_task


class HitsModel(RowTableModel):
    def __init__(self, parent=None):
        super().__init__(parent)
        self.headers = [self.tr("Dossier number"), self.tr("Page"), self.tr("Found in"), self.tr("Snippet")]

    # the name this view's callers use for its rows
    set_hits = RowTableModel.set_rows

    @property
    def hits(self) -> list:
        return self.rows

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        hit = self.rows[index.row()]
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            column = index.column()
            if column == 0:
                # grouped by dossier: the 档号 heads its group (the tooltip names it on every row)
                first = index.row() == 0 or self.rows[index.row() - 1].number != hit.number
                return hit.number if first or role == Qt.ItemDataRole.ToolTipRole else ""

            if column == 1:
                return "" if hit.page is None else str(hit.page)
            if column == 2:  # a page's text says which OCR engine read it
                engine = getattr(hit, "engine", "")
                return self.field_label(hit.field) + (f" · {engine}" if engine else "")
            return hit.snippet
        return None

    def field_label(self, field: str) -> str:
        labels = {
            "text": self.tr("page text (OCR)"),
            "number": self.tr("dossier number"),
            "title": self.tr("title"),
            "person_name": self.tr("insured person"),
            "person_id_number": self.tr("ID number"),
            "employer": self.tr("employer"),
        }
        return labels.get(field, field)


class SearchView(QWidget):
    """``openRequested(number, page)`` when a result is opened (page 0 = the dossier itself)."""

    openRequested = Signal(str, int)

    def __init__(self, api, parent: QWidget | None = None):
        super().__init__(parent)
        self.api = api
        self.query_edit = QLineEdit(self)
        self.query_edit.setObjectName("searchQuery")
        self.query_edit.setPlaceholderText(self.tr("Words, a name, an ID number or a 档号"))
        self.query_edit.setClearButtonEnabled(True)
        # no mnemonic: Alt+S opens the Station menu (Enter in the field searches)
        self.search_button = QPushButton(self.tr("Search"), self)
        self.model = HitsModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("searchResults")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        self.table.setWordWrap(False)
        self.summary = QLabel(self)
        self.summary.setObjectName("searchSummary")
        label = QLabel(self.tr("Search &for:"), self)
        label.setBuddy(self.query_edit)
        top = QHBoxLayout()
        top.addWidget(label)
        top.addWidget(self.query_edit, 1)
        top.addWidget(self.search_button)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.summary)
        hint = QLabel(self.tr("Enter or double-click opens the dossier at the page."), self)
        hint.setEnabled(False)
        layout.addWidget(hint)
        self.query_edit.returnPressed.connect(self.search)
        down = QShortcut(QKeySequence(Qt.Key.Key_Down), self.query_edit, context=Qt.ShortcutContext.WidgetShortcut)
        down.activated.connect(self.table.setFocus)
        self.search_button.clicked.connect(self.search)
        self.table.activated.connect(self._open)
        self.table.doubleClicked.connect(self._open)
        self._generation = 0

    def search(self) -> None:
        query = self.query_edit.text().strip()
        if not query:
            return
        self._generation += 1
        generation = self._generation
        self.summary.setText(self.tr("Searching…"))
        run_task(
            lambda: self.api.search(query),
            lambda hits: self._show(generation, query, hits),
            self._failed,
            pool="catalog",
            owner=self,
        )

    def _failed(self, error) -> None:
        self.summary.setText("")
        present(error, self.window())

    def _show(self, generation: int, query: str, hits) -> None:
        if generation != self._generation:
            return
        order = {number: i for i, number in enumerate(dict.fromkeys(h.number for h in hits))}
        hits = sorted(hits, key=lambda h: (order[h.number], h.page or 0))  # stable: best dossier first
        self.model.set_hits(hits)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(3, QHeaderView.ResizeMode.Stretch)
        if not hits:  # say so, and what helps, rather than point at an empty list
            self.summary.setText(
                self.tr(
                    "Nothing found for “{q}”. Try fewer or shorter words, a name, an ID number or a 档号; "
                    "pages still waiting for OCR are not searchable yet."
                ).format(q=query)
            )
            return
        self.summary.setText(
            self.tr("{n} result(s) in {d} dossier(s) for “{q}”. ↓ goes to the results.").format(
                n=len(hits), d=len(order), q=query
            )
        )
        if hits:
            self.table.selectRow(0)  # the keyboard stays in the query: a second Enter searches, it opens nothing

    def _open(self, index) -> None:
        if not index.isValid():
            return
        hit = self.model.hits[index.row()]
        self.openRequested.emit(hit.number, hit.page or 0)
