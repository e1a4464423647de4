"""The large page view: one page image with zoom and fit-to-window, decoded off the GUI thread."""

from __future__ import annotations

from PySide6.QtCore import QSize, Qt, Signal
from PySide6.QtGui import QImage, QPainter, QPixmap
from PySide6.QtWidgets import QGraphicsPixmapItem, QGraphicsScene, QGraphicsView

from scanstation.ui.page_model import decode_thumbnail
from scanstation.ui.tasks import run_task

# A 300 dpi A4 page is 2480 x 3507; on screen 2000 px on the long side is sharp enough to judge a
# page at 100 % zoom on a desk monitor and costs 16 MB instead of 35 MB.
VIEW_SIZE = QSize(1600, 2200)


class PageViewer(QGraphicsView):
    """Shows ``show_page(path, key)``; ``zoom_in``, ``zoom_out``, ``fit``. Ctrl+wheel zooms."""

    pageShown = Signal(str)

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setScene(QGraphicsScene(self))
        self._item = QGraphicsPixmapItem()
        self._item.setTransformationMode(Qt.TransformationMode.SmoothTransformation)
        self.scene().addItem(self._item)
        self.setRenderHint(QPainter.RenderHint.SmoothPixmapTransform)
        self.setDragMode(QGraphicsView.DragMode.ScrollHandDrag)
        self.setTransformationAnchor(QGraphicsView.ViewportAnchor.AnchorUnderMouse)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self._fit = True
        self._key = ""
        self._path: str | None = None
        self._full = False
        self.setAccessibleName(self.tr("Page image"))

    @property
    def current_key(self) -> str:
        return self._key

    def show_page(self, path: str | None, key: str) -> None:
        if key == self._key and path is not None:
            return
        self._key = key
        self._path = path
        self._full = False
        if path is None:
            self.clear()
            return
        self._decode(self._fit_size())

    def show_data(self, data: bytes, key: str) -> None:
        """An image held in memory (a page read out of a package), decoded off the GUI thread."""
        if key == self._key:
            return
        self._key = key
        self._path = None
        self._full = True  # decoded once at the full view size: zooming needs no second decode

        def decode() -> QImage:
            image = QImage.fromData(data)
            if not image.isNull() and (image.width() > VIEW_SIZE.width() or image.height() > VIEW_SIZE.height()):
                image = image.scaled(
                    VIEW_SIZE, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation
                )
            return image

        run_task(decode, lambda image, k=key: self._decoded(k, image), lambda _e: None, pool="images", owner=self)

    def _fit_size(self) -> QSize:
        """Fitting the page to the window needs no more pixels than the window has (cheap to paint)."""
        ratio = self.devicePixelRatioF() or 1.0
        side = int(max(self.viewport().width(), self.viewport().height(), 400) * ratio * 1.25)
        return QSize(min(side, VIEW_SIZE.width()), min(side * 11 // 8, VIEW_SIZE.height()))

    def _decode(self, size: QSize) -> None:
        path, key = self._path, self._key
        run_task(
            lambda: decode_thumbnail(path, size),
            lambda image, k=key: self._decoded(k, image),
            lambda _e: None,
            pool="images",
            owner=self,
        )

    def clear(self) -> None:
        self._key = ""
        self._path = None
        self._item.setPixmap(QPixmap())

    def _decoded(self, key: str, image: QImage) -> None:
        if key != self._key or image.isNull():
            return  # the clerk has moved on to another page meanwhile
        previous = self._item.pixmap()
        pixmap = QPixmap.fromImage(image)
        if self._full and not previous.isNull() and previous.width():
            # the sharper image replaces the fitted one at the same place and size on screen
            self.scale(previous.width() / pixmap.width(), previous.width() / pixmap.width())
        self._item.setPixmap(pixmap)
        self.scene().setSceneRect(self._item.boundingRect())
        if self._fit:
            self.fit()
        self.pageShown.emit(key)

    def has_image(self) -> bool:
        return not self._item.pixmap().isNull()

    def fit(self) -> None:
        self._fit = True
        if self.has_image():
            self.fitInView(self._item, Qt.AspectRatioMode.KeepAspectRatio)

    def zoom_in(self) -> None:
        self._zoom(1.25)

    def zoom_out(self) -> None:
        self._zoom(0.8)

    def zoom_factor(self) -> float:
        return self.transform().m11()

    def _zoom(self, factor: float) -> None:
        self._fit = False
        current = self.zoom_factor()
        if 0.05 <= current * factor <= 8:
            self.scale(factor, factor)
        if factor > 1 and not self._full and self._path and self.zoom_factor() > 1.0:
            self._full = True  # zooming in beyond the fitted image: decode the page at full view size
            self._decode(QSize(VIEW_SIZE))

    def wheelEvent(self, event) -> None:
        if event.modifiers() & Qt.KeyboardModifier.ControlModifier:
            self._zoom(1.25 if event.angleDelta().y() > 0 else 0.8)
            event.accept()
        else:
            super().wheelEvent(event)

    def resizeEvent(self, event) -> None:
        super().resizeEvent(event)
        if self._fit:
            self.fit()
