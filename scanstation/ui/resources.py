"""Where the GUI finds its resources (translations, icons, sample catalog).

In a source checkout they are in ``resources/`` next to the package; a frozen build
(PyInstaller) unpacks them under ``sys._MEIPASS``; an installed wheel carries them as package data.
"""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path


@lru_cache(maxsize=1)
def resources_dir() -> Path:
    here = Path(__file__).resolve()
    candidates = [here.parents[2] / "resources", here.parents[1] / "resources"]
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        candidates.insert(0, Path(frozen) / "resources")
    for folder in candidates:
        if folder.is_dir():
            return folder
    return candidates[0]


def resource(*parts: str) -> Path:
    return resources_dir().joinpath(*parts)
