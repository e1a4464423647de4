"""纸质档案: what paper is at the scanning desk, overdue first, and the moves of the paper (调档, 拆装订,
归还, hand-over list). Every action is a call of ``scanstation.custody.paper`` (roles checked there)."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QBrush, QColor
from PySide6.QtWidgets import (
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scanstation.ui.errors import presenter
from scanstation.ui.tasks import run_task

OVERDUE = QColor("#a10000")


class PaperDeskView(QWidget):
    changed = Signal()

    def __init__(self, api, parent=None):
        super().__init__(parent)
        self.api = api
        self.last_move: int | None = None
        layout = QVBoxLayout(self)
        self.summary = QLabel(self)
        self.summary.setObjectName("paperSummary")
        layout.addWidget(self.summary)
        self.table = QTableWidget(0, 6, self)
        self.table.setObjectName("paperTable")
        self.table.setHorizontalHeaderLabels(
            [self.tr("档号"), self.tr("Title"), self.tr("Box"), self.tr("Binding"), self.tr("Due"), self.tr("Clerk")]
        )
        layout.addWidget(self.table, 1)
        row = QHBoxLayout()
        self.which = QLineEdit(self)
        self.which.setObjectName("paperWhich")
        self.which.setPlaceholderText(self.tr("box number, or 档号 separated by spaces"))
        self.person = QLineEdit(self)
        self.person.setObjectName("paperPerson")
        self.person.setPlaceholderText(self.tr("store-room person"))
        self.days = QSpinBox(self)
        self.days.setRange(1, 365)
        self.days.setValue(5)
        row.addWidget(self.which, 2)
        row.addWidget(self.person, 1)
        row.addWidget(self.days)
        layout.addLayout(row)
        buttons = QHBoxLayout()
        for name, text, slot in (
            ("paperOut", self.tr("Check out (调档)"), self.check_out),
            ("paperUnbind", self.tr("Unbound"), lambda: self.binding("unbound")),
            ("paperRebind", self.tr("Rebound"), lambda: self.binding("rebound")),
            ("paperIn", self.tr("Check in"), self.check_in),
            ("paperHandover", self.tr("Hand-over list…"), lambda: self.handover()),
        ):
            button = QPushButton(text, self)
            button.setObjectName(name)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.refresh()

    def _which(self) -> dict:
        text = self.which.text().strip()
        parts = text.split()
        if len(parts) == 1 and "-" not in parts[0]:
            return {"box": parts[0]}
        return {"numbers": parts}

    def _do(self, fn) -> None:
        def done(result):
            if hasattr(result, "id"):
                self.last_move = result.id
            self.refresh()
            self.changed.emit()

        run_task(fn, done, lambda e: presenter().present(e, self), pool="catalog", owner=self)

    def check_out(self) -> None:
        from scanstation.custody.paper import check_out

        which, person, days = self._which(), self.person.text(), self.days.value()
        self._do(lambda: check_out(self.api.session, store_person=person, due_days=days, **which))

    def check_in(self) -> None:
        from scanstation.custody.paper import check_in

        which, person = self._which(), self.person.text()
        self._do(lambda: check_in(self.api.session, store_person=person, **which))

    def binding(self, state: str) -> None:
        from scanstation.custody.paper import set_binding

        which = self._which()
        self._do(lambda: set_binding(self.api.session, state, **which))

    def handover(self, out: str | None = None) -> None:
        from scanstation.custody.paper import write_handover

        if self.last_move is None:
            return
        if out is None:
            out, _ = QFileDialog.getSaveFileName(self, self.tr("Save hand-over list"), "交接清单.pdf", "PDF (*.pdf)")
            if not out:
                return
        move = self.last_move
        run_task(
            lambda: write_handover(self.api.session, move, Path(out)),
            None,
            lambda e: presenter().present(e, self),
            pool="catalog",
            owner=self,
        )

    def refresh(self) -> None:
        from scanstation.custody.paper import BINDING_ZH, at_desk

        rows = at_desk(self.api.session)
        rows.sort(key=lambda r: (not r["overdue"], r["due_at"], r["number"]))
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            values = (
                r["number"],
                r["title"],
                r["box_no"],
                BINDING_ZH.get(r["binding"], r["binding"]),
                r["due_at"][:10],
                r["desk_person"],
            )
            for j, value in enumerate(values):
                item = QTableWidgetItem(str(value or ""))
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                if r["overdue"]:
                    item.setForeground(QBrush(OVERDUE))
                self.table.setItem(i, j, item)
        overdue = sum(1 for r in rows if r["overdue"])
        self.summary.setText(self.tr("{n} dossier(s) at the desk, {o} overdue").format(n=len(rows), o=overdue))
