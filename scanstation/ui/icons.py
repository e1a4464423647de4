"""Icons: SVG sources in resources/icons (crisp at any screen scale); PNGs for installers are
rendered from them by ``python -m scanstation.ui.build_icons``."""

from __future__ import annotations

from functools import cache

from PySide6.QtGui import QIcon

from scanstation.ui.resources import resource


@cache
def icon(name: str) -> QIcon:
    svg = resource("icons", f"{name}.svg")
    if svg.exists():
        return QIcon(str(svg))
    png = resource("icons", "png", f"{name}-48.png")
    return QIcon(str(png)) if png.exists() else QIcon()
