"""The real window under X (xvfb-run): screenshots of the main views into docs/screenshots/, with the
Chinese text rendered by a CJK font (not boxes)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
VIEWS = {"first-start", "login", "scan-desk", "device-fault", "complete-explanation", "catalog-import-errors",
         "search", "qc-desk", "settings-users", "settings-retention"}


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")
def test_screenshots_of_the_main_views_under_x(tmp_path):
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    env["HOME"] = str(tmp_path)   # platformdirs: nothing is written into the real user's folders
    result = subprocess.run(["xvfb-run", "-a", "-s", "-screen 0 1600x1000x24", sys.executable, "-m",
                             "scanstation.ui.screenshots", str(OUT)], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=600)
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((OUT / "screenshots.json").read_text(encoding="utf-8"))
    assert {Path(f).stem for f in manifest["files"]} == VIEWS
    font = manifest["cjk_font"]
    assert font["glyphs_present"], font
    assert any(name in font["family"] for name in ("WenQuanYi", "Noto", "Source Han")), font

    from PySide6.QtGui import QImage
    for name in manifest["files"]:
        image = QImage(str(OUT / name))
        assert not image.isNull() and image.width() >= 250 and image.height() >= 100, name
        # a real view has many colours; a blank or failed grab has one or two
        colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
        assert len(colours) > 8, name
