"""Render the SVG icons in resources/icons to PNGs (for installers and desktop menus).

    python -m scanstation.ui.build_icons

Writes resources/icons/png/{name}-{size}.png: the application icon at 16-256 px, the others at
24 and 48 px. QtSvg renders them, so no other tool is needed.
"""

from __future__ import annotations

import os
import sys

APP_SIZES = (16, 24, 32, 48, 64, 128, 256)
ICON_SIZES = (24, 48)


def build(folder=None) -> list[str]:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QGuiApplication, QImage, QPainter
    from PySide6.QtSvg import QSvgRenderer

    from scanstation.ui.resources import resource

    _app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # rendering needs an application
    source = folder or resource("icons")
    out = source / "png"
    out.mkdir(exist_ok=True)
    written = []
    for svg in sorted(source.glob("*.svg")):
        renderer = QSvgRenderer(str(svg))
        if not renderer.isValid():
            raise SystemExit(f"{svg.name}: not a valid SVG")
        for size in APP_SIZES if svg.stem == "app" else ICON_SIZES:
            image = QImage(size, size, QImage.Format.Format_ARGB32_Premultiplied)
            image.fill(Qt.GlobalColor.transparent)
            painter = QPainter(image)
            painter.setRenderHint(QPainter.RenderHint.Antialiasing)
            renderer.render(painter)
            painter.end()
            target = out / f"{svg.stem}-{size}.png"
            if not image.save(str(target)):
                raise SystemExit(f"cannot write {target}")
            written.append(str(target))
    return written


def main() -> int:
    written = build()
    print(f"{len(written)} PNG icons written")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
