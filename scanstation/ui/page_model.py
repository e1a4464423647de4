"""Page thumbnails: a list model whose small images are decoded lazily, off the GUI thread.

A 1,000-page dossier must scroll smoothly and stay small in memory, so:

* the model holds only the catalog rows; a thumbnail is decoded when the view paints that row
  (``data(DecorationRole)``), by ``QImageReader`` with a scaled size (JPEG decodes at 1/2..1/8
  directly), on the ``images`` pool;
* requests are served newest first and dropped when their row has scrolled out of sight, so a
  fast scroll does not queue a thousand decodes;
* decoded thumbnails live in a bounded LRU cache (a few hundred small pixmaps, some tens of MB).

The cache key contains the file's checksum: after a rotation or a replacement the page gets a new
thumbnail, while renumbering (same bytes, new name) keeps the cached one.
"""

from __future__ import annotations

import collections
import json
from collections.abc import Callable
from pathlib import Path

from PySide6.QtCore import (
    QAbstractListModel,
    QBuffer,
    QByteArray,
    QCoreApplication,
    QIODevice,
    QMimeData,
    QModelIndex,
    QObject,
    QRect,
    QSize,
    Qt,
    Signal,
)
from PySide6.QtGui import QColor, QFont, QImage, QImageReader, QPainter, QPalette, QPen, QPixmap
from PySide6.QtWidgets import QStyle, QStyledItemDelegate

from scanstation.ui.tasks import run_task

THUMB_SIZE = QSize(112, 158)
CELL_SIZE = QSize(128, 196)
MIME_PAGES = "application/x-scanstation-page-seq"
PageRole = Qt.ItemDataRole.UserRole + 1
FlagsRole = Qt.ItemDataRole.UserRole + 2
SeqRole = Qt.ItemDataRole.UserRole + 3
DecisionRole = Qt.ItemDataRole.UserRole + 4


def decode_thumbnail(path: str, size: QSize) -> QImage:
    """Runs on a worker thread: decode ``path`` at (about) ``size``; a null image if unreadable."""
    source = path
    from scanstation.storage.image_store import is_encrypted_at_rest

    if is_encrypted_at_rest(path):  # images encrypted at rest (R40): the core decrypts with the login's key
        from scanstation.storage.encryption import open_page_file

        try:
            buffer = QBuffer()
            buffer.setData(QByteArray(open_page_file(path)))
        except Exception:
            return QImage()
        buffer.open(QIODevice.OpenModeFlag.ReadOnly)
        source = buffer
    reader = QImageReader(source)
    reader.setAutoTransform(True)
    full = reader.size()
    if full.isValid() and not full.isEmpty():
        reader.setScaledSize(full.scaled(size, Qt.AspectRatioMode.KeepAspectRatio))
    image = reader.read()
    if image.isNull():  # formats Qt cannot read here (e.g. JPEG 2000): Pillow as a fallback
        try:
            import io

            from PIL import Image

            with Image.open(io.BytesIO(bytes(source.data())) if isinstance(source, QBuffer) else path) as im:
                im.draft("RGB", (size.width(), size.height()))
                im.thumbnail((size.width(), size.height()))
                rgb = im.convert("RGB")
                data = rgb.tobytes()
                image = QImage(data, rgb.width, rgb.height, rgb.width * 3, QImage.Format.Format_RGB888).copy()
        except Exception:
            return QImage()
    return image


class ThumbnailLoader(QObject):
    """Decodes thumbnails on the images pool, newest request first, into a bounded LRU cache."""

    ready = Signal(str)

    def __init__(
        self, size: QSize = THUMB_SIZE, max_items: int = 400, max_in_flight: int = 3, parent: QObject | None = None
    ):
        super().__init__(parent)
        self.size = size
        self.max_items = max_items
        self.max_in_flight = max_in_flight
        self._cache: collections.OrderedDict[str, QPixmap] = collections.OrderedDict()
        self._requests: collections.OrderedDict[str, tuple[str, object]] = collections.OrderedDict()
        self._in_flight: set[str] = set()
        self._failed: set[str] = set()
        self.is_wanted: Callable[[object], bool] = lambda tag: True
        self.decoded = 0  # for tests and the benchmark: how many decodes ran

    def cached(self, key: str) -> QPixmap | None:
        pixmap = self._cache.get(key)
        if pixmap is not None:
            self._cache.move_to_end(key)
        return pixmap

    def request(self, key: str, path: str, tag: object = None) -> None:
        if key in self._in_flight or key in self._failed or key in self._cache:
            return
        self._requests[key] = (path, tag)
        self._requests.move_to_end(key)
        self._pump()

    def forget_requests(self) -> None:
        self._requests.clear()

    def _pump(self) -> None:
        while self._requests and len(self._in_flight) < self.max_in_flight:
            key, (path, tag) = self._requests.popitem(last=True)  # newest first: what is on screen now
            if not self.is_wanted(tag):
                continue
            self._in_flight.add(key)
            size = QSize(self.size)
            run_task(
                lambda p=path, s=size: decode_thumbnail(p, s),
                lambda image, k=key: self._done(k, image),
                lambda _exc, k=key: self._done(k, QImage()),
                pool="images",
                owner=self,
            )

    def _done(self, key: str, image: QImage) -> None:
        self._in_flight.discard(key)
        self.decoded += 1
        if image.isNull():
            self._failed.add(key)
        else:
            self._cache[key] = QPixmap.fromImage(image)
            while len(self._cache) > self.max_items:
                self._cache.popitem(last=False)
        self.ready.emit(key)
        self._pump()

    def cache_bytes(self) -> int:
        return sum(p.width() * p.height() * max(1, p.depth() // 8) for p in self._cache.values())


def page_key(row: dict) -> str:
    return f"{row.get('sha256') or row.get('file_name') or row.get('id')}"


def is_demo_page(row: dict) -> bool:
    """A page made by the demo scanner (its capture record names the demo backend)."""
    device = row.get("device")
    if not device:
        return False
    if isinstance(device, str):
        try:
            device = json.loads(device)
        except ValueError:
            return False
    return isinstance(device, dict) and device.get("backend") == "demo"


class PageListModel(QAbstractListModel):
    """The pages of one dossier (catalog rows as ``pages.list_pages`` returns them)."""

    moveRequested = Signal(int, int)  # from_seq, to_seq (drag and drop)

    def __init__(
        self,
        loader: ThumbnailLoader,
        path_for: Callable[[dict], Path | None],
        parent: QObject | None = None,
        movable: bool = False,
    ):
        super().__init__(parent)
        self.loader = loader
        self.path_for = path_for
        self.movable = movable
        self.rows: list[dict] = []
        self.decisions: dict[int, str] = {}  # seq -> "pass" | "reject" | "rescan" (QC desk)
        self._row_of_key: dict[str, list[int]] = {}
        loader.ready.connect(self._thumbnail_ready)

    # -- content ---------------------------------------------------------------------------
    def set_pages(self, rows: list[dict]) -> None:
        self.beginResetModel()
        self.rows = list(rows)
        self._reindex()
        self.endResetModel()

    def append_pages(self, rows: list[dict]) -> None:
        if not rows:
            return
        # pages arrive before the not-scanned notes, which stay at the end
        insert_at = sum(1 for r in self.rows if r.get("state", "active") == "active")
        self.beginInsertRows(QModelIndex(), insert_at, insert_at + len(rows) - 1)
        self.rows[insert_at:insert_at] = [dict(r, state=r.get("state", "active")) for r in rows]
        self._reindex()
        self.endInsertRows()

    def clear(self) -> None:
        self.set_pages([])

    def active_count(self) -> int:
        return sum(1 for r in self.rows if r.get("state", "active") == "active")

    def row_for_seq(self, seq: int) -> int:
        for i, r in enumerate(self.rows):
            if r.get("seq") == seq and r.get("state", "active") == "active":
                return i
        return -1

    def page(self, row: int) -> dict | None:
        return self.rows[row] if 0 <= row < len(self.rows) else None

    def set_decision(self, seq: int, decision: str | None) -> None:
        if decision is None:
            self.decisions.pop(seq, None)
        else:
            self.decisions[seq] = decision
        row = self.row_for_seq(seq)
        if row >= 0:
            idx = self.index(row)
            self.dataChanged.emit(idx, idx, [DecisionRole])

    def _reindex(self) -> None:
        self._row_of_key = {}
        for i, r in enumerate(self.rows):
            self._row_of_key.setdefault(page_key(r), []).append(i)

    def _thumbnail_ready(self, key: str) -> None:
        for row in self._row_of_key.get(key, ()):
            idx = self.index(row)
            self.dataChanged.emit(idx, idx, [Qt.ItemDataRole.DecorationRole])

    # -- Qt model --------------------------------------------------------------------------
    def rowCount(self, parent=QModelIndex()) -> int:
        return 0 if parent.isValid() else len(self.rows)

    def data(self, index: QModelIndex, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid() or index.row() >= len(self.rows):
            return None
        row = self.rows[index.row()]
        state = row.get("state", "active")
        if role == Qt.ItemDataRole.DisplayRole:
            if state == "not_scanned":
                return self.tr("Not scanned: p. {n}").format(n=row.get("original_page_no") or "?")
            return str(row.get("seq", ""))
        if role == Qt.ItemDataRole.DecorationRole:
            if state != "active":
                return None
            key = page_key(row)
            pixmap = self.loader.cached(key)
            if pixmap is None:
                path = self.path_for(row)
                if path is not None:
                    self.loader.request(key, str(path), index.row())
            return pixmap
        if role == Qt.ItemDataRole.ToolTipRole:
            if state == "not_scanned":
                return self.tr("Page {n} of the original is not scanned: {note}").format(
                    n=row.get("original_page_no") or "?", note=row.get("note", "")
                )
            parts = [self.tr("Page {seq}: {file}").format(seq=row.get("seq"), file=row.get("file_name", ""))]
            if is_demo_page(row):
                parts.append(self.tr("Demo page: invented by the demo scanner"))
            flags = row.get("qc_flags") or []
            if flags:
                parts.append(self.tr("Flags: {flags}").format(flags=", ".join(flag_label(f) for f in flags)))
            if row.get("note"):
                parts.append(row["note"])
            return "\n".join(parts)
        if role == PageRole:
            return row
        if role == FlagsRole:
            return list(row.get("qc_flags") or [])
        if role == SeqRole:
            return row.get("seq")
        if role == DecisionRole:
            return self.decisions.get(row.get("seq"))
        return None

    def flags(self, index: QModelIndex):
        base = super().flags(index)
        if not index.isValid():
            return base | (Qt.ItemFlag.ItemIsDropEnabled if self.movable else Qt.ItemFlag.NoItemFlags)
        row = self.rows[index.row()]
        if self.movable and row.get("state", "active") == "active":
            base |= Qt.ItemFlag.ItemIsDragEnabled | Qt.ItemFlag.ItemIsDropEnabled
        return base

    # -- drag to reorder: the model does not move rows itself; it asks for the core move ----
    def supportedDropActions(self):
        return Qt.DropAction.MoveAction

    def supportedDragActions(self):
        return Qt.DropAction.MoveAction

    def mimeTypes(self):
        return [MIME_PAGES]

    def mimeData(self, indexes):
        seqs = [self.rows[i.row()].get("seq") for i in indexes if i.isValid()]
        seqs = [s for s in seqs if s]
        mime = QMimeData()
        mime.setData(MIME_PAGES, QByteArray(",".join(map(str, seqs)).encode()))
        return mime

    def canDropMimeData(self, data, action, row, column, parent) -> bool:
        return self.movable and data.hasFormat(MIME_PAGES)

    def dropMimeData(self, data, action, row, column, parent) -> bool:
        if not self.canDropMimeData(data, action, row, column, parent):
            return False
        seqs = [int(s) for s in bytes(data.data(MIME_PAGES)).decode().split(",") if s]
        if len(seqs) != 1:
            return False
        target_row = parent.row() if parent.isValid() else (row if row >= 0 else self.active_count())
        to_seq = self.target_seq(seqs[0], target_row)
        if to_seq != seqs[0]:
            self.moveRequested.emit(seqs[0], to_seq)
        return False  # rows are not removed here: the page list is reloaded after the core moved the page

    def target_seq(self, from_seq: int, target_row: int) -> int:
        """The position a page dropped before ``target_row`` ends up at."""
        count = self.active_count()
        target = min(max(target_row, 0), count)  # 0..count: insert before that row
        to_seq = target + 1 if target <= from_seq - 1 else target
        return min(max(to_seq, 1), count)


FLAG_COLOURS = {
    "skew": "#d97706",
    "blank": "#6b7280",
    "duplicate": "#7c3aed",
    "dark": "#1f2937",
    "light": "#9ca3af",
    "low_dpi": "#dc2626",
}


def flag_label(flag: str) -> str:
    """The clerk's word for an automatic QC flag of the core."""
    labels = {
        "skew": QCoreApplication.translate("PageFlags", "skewed"),
        "blank": QCoreApplication.translate("PageFlags", "blank"),
        "duplicate": QCoreApplication.translate("PageFlags", "duplicate"),
        "dark": QCoreApplication.translate("PageFlags", "too dark"),
        "light": QCoreApplication.translate("PageFlags", "too light"),
        "low_dpi": QCoreApplication.translate("PageFlags", "low dpi"),
    }
    return labels.get(flag, flag)


class ThumbnailDelegate(QStyledItemDelegate):
    """Draws a page: thumbnail, page number, flag badges (skew, blank, duplicate, dark) and QC marks."""

    def sizeHint(self, option, index):
        return CELL_SIZE

    def paint(self, painter: QPainter, option, index) -> None:
        painter.save()
        rect = option.rect.adjusted(4, 4, -4, -4)
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        palette = option.palette
        if selected:
            painter.fillRect(option.rect, palette.color(QPalette.ColorRole.Highlight).lighter(160))
        image_rect = QRect(
            rect.left() + (rect.width() - THUMB_SIZE.width()) // 2, rect.top(), THUMB_SIZE.width(), THUMB_SIZE.height()
        )
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        row = index.data(PageRole) or {}
        if row.get("state", "active") == "not_scanned":
            painter.fillRect(image_rect, QColor("#fef3c7"))
            painter.setPen(QColor("#92400e"))
            painter.drawText(
                image_rect.adjusted(6, 6, -6, -6),
                Qt.AlignmentFlag.AlignCenter | Qt.TextFlag.TextWordWrap,
                index.data(Qt.ItemDataRole.DisplayRole),
            )
        elif isinstance(pixmap, QPixmap) and not pixmap.isNull():
            scaled = pixmap.size().scaled(image_rect.size(), Qt.AspectRatioMode.KeepAspectRatio)
            target = QRect(
                image_rect.left() + (image_rect.width() - scaled.width()) // 2,
                image_rect.top() + (image_rect.height() - scaled.height()) // 2,
                scaled.width(),
                scaled.height(),
            )
            painter.drawPixmap(target, pixmap)
            painter.setPen(QPen(QColor("#9ca3af")))
            painter.drawRect(target)
        else:
            painter.fillRect(image_rect, QColor("#e5e7eb"))
        # flag badges along the top of the thumbnail
        x = image_rect.left() + 2
        small = QFont(option.font)
        small.setPointSizeF(max(6.0, option.font.pointSizeF() * 0.75))
        painter.setFont(small)
        metrics = painter.fontMetrics()
        for flag in index.data(FlagsRole) or []:
            text = flag_label(flag)
            w = metrics.horizontalAdvance(text) + 6
            badge = QRect(x, image_rect.top() + 2, w, metrics.height() + 2)
            painter.fillRect(badge, QColor(FLAG_COLOURS.get(flag, "#b91c1c")))
            painter.setPen(QColor("white"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
            x += w + 2
        if is_demo_page(row):  # invented by the demo scanner: never mistaken for a real page
            text = self.tr("Demo")
            w = metrics.horizontalAdvance(text) + 8
            badge = QRect(image_rect.left() + 2, image_rect.bottom() - metrics.height() - 4, w, metrics.height() + 2)
            painter.fillRect(badge, QColor("#b45309"))
            painter.setPen(QColor("white"))
            painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, text)
        decision = index.data(DecisionRole)
        if decision:
            mark = {"pass": ("✓", "#15803d"), "reject": ("✗", "#b91c1c"), "rescan": ("↻", "#b45309")}.get(decision)
            if mark:
                badge = QRect(image_rect.right() - 22, image_rect.bottom() - 22, 20, 20)
                painter.fillRect(badge, QColor(mark[1]))
                painter.setPen(QColor("white"))
                painter.drawText(badge, Qt.AlignmentFlag.AlignCenter, mark[0])
        painter.setFont(option.font)
        painter.setPen(
            palette.color(QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text)
            if not selected
            else QColor("black")
        )
        label_rect = QRect(rect.left(), image_rect.bottom() + 4, rect.width(), rect.bottom() - image_rect.bottom() - 4)
        if row.get("state", "active") == "active":
            painter.drawText(
                label_rect,
                Qt.AlignmentFlag.AlignHCenter | Qt.AlignmentFlag.AlignTop,
                self.tr("p. {seq}").format(seq=row.get("seq", "")),
            )
        painter.restore()
