"""The thumbnail strip: a QListView in icon mode over a ``PageListModel``."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import QItemSelectionModel, Qt, Signal
from PySide6.QtWidgets import QAbstractItemView, QListView

from scanstation.ui.page_model import CELL_SIZE, PageListModel, ThumbnailDelegate, ThumbnailLoader


class PageStrip(QListView):
    """``currentPageChanged(dict)`` when the selected page changes (``{}`` for none)."""

    currentPageChanged = Signal(dict)

    def __init__(self, path_for: Callable[[dict], Path | None], movable: bool = False, parent=None):
        super().__init__(parent)
        self.loader = ThumbnailLoader(parent=self)
        self.pages = PageListModel(self.loader, path_for, self, movable=movable)
        self.setModel(self.pages)
        self.setItemDelegate(ThumbnailDelegate(self))
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setUniformItemSizes(True)  # the view never asks every row for its size
        self.setLayoutMode(QListView.LayoutMode.Batched)
        self.setBatchSize(200)
        self.setGridSize(CELL_SIZE)
        self.setMovement(QListView.Movement.Static)
        self.setWrapping(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.setAccessibleName(self.tr("Page thumbnails"))
        if movable:
            self.setDragEnabled(True)
            self.setAcceptDrops(True)
            self.setDropIndicatorShown(True)
            self.setDragDropMode(QAbstractItemView.DragDropMode.DragDrop)
            self.setDefaultDropAction(Qt.DropAction.MoveAction)
        self.loader.is_wanted = self._row_visible
        self.selectionModel().currentChanged.connect(self._current_changed)
        self.verticalScrollBar().valueChanged.connect(lambda _v: self.loader.forget_requests())

    def _row_visible(self, row) -> bool:
        if not isinstance(row, int) or row >= self.pages.rowCount():
            return False
        area = self.viewport().rect().adjusted(0, -CELL_SIZE.height(), 0, CELL_SIZE.height())
        return self.visualRect(self.pages.index(row)).intersects(area)

    def _current_changed(self, current, _previous) -> None:
        self.currentPageChanged.emit(self.pages.page(current.row()) or {} if current.isValid() else {})

    def current_page(self) -> dict | None:
        index = self.currentIndex()
        return self.pages.page(index.row()) if index.isValid() else None

    def current_seq(self) -> int | None:
        page = self.current_page()
        if page and page.get("state", "active") == "active":
            return page.get("seq")
        return None

    def select_seq(self, seq: int | None) -> None:
        row = self.pages.row_for_seq(seq) if seq else -1
        if row < 0:
            if self.pages.rowCount():
                row = min(self.pages.active_count(), self.pages.rowCount()) - 1
            else:
                return
        index = self.pages.index(max(row, 0))
        self.selectionModel().setCurrentIndex(index, QItemSelectionModel.SelectionFlag.ClearAndSelect)
        self.scrollTo(index)

    def select_next(self, step: int = 1) -> None:
        index = self.currentIndex()
        row = (index.row() if index.isValid() else -1) + step
        if 0 <= row < self.pages.rowCount():
            target = self.pages.index(row)
            self.selectionModel().setCurrentIndex(target, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            self.scrollTo(target)

    def set_pages(self, rows: list[dict], keep_seq: int | None = None) -> None:
        self.pages.set_pages(rows)
        if rows:
            self.select_seq(keep_seq or 1)
        else:
            self.currentPageChanged.emit({})


def open_over_strip(dialog, strip: PageStrip) -> None:
    """A dialog over a desk; when it closes, the keyboard is back on the desk's pages."""
    dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

    def back(_result=None) -> None:
        strip.window().activateWindow()
        strip.setFocus(Qt.FocusReason.OtherFocusReason)

    dialog.finished.connect(back)
    dialog.open()
