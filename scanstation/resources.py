"""Where the station's resources (sample catalog, translations, icons) are.

A source checkout keeps them in ``resources/`` beside the package; a frozen bundle (PyInstaller)
unpacks them under ``sys._MEIPASS``; an installed package may point elsewhere with
``SCANSTATION_RESOURCES``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

from scanstation.errors import NotFound


def resources_dir() -> Path:
    candidates = []
    if os.environ.get("SCANSTATION_RESOURCES"):
        candidates.append(Path(os.environ["SCANSTATION_RESOURCES"]))
    if getattr(sys, "_MEIPASS", None):
        candidates.append(Path(sys._MEIPASS) / "resources")
    candidates.append(Path(__file__).resolve().parents[1] / "resources")
    for c in candidates:
        if c.is_dir():
            return c
    raise NotFound(
        "The station's resources folder is missing ({p}). Reinstall ScanStation.",
        "找不到扫描站的资源目录（{p}）。请重新安装 ScanStation。",
        p=", ".join(map(str, candidates)),
    )


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
