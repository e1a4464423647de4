"""The real window under X (xvfb-run, a 1366×768 screen): screenshots of the main views, with the
Chinese text rendered by a CJK font (not boxes). They go to a temporary folder; with
SCANSTATION_UPDATE_SCREENSHOTS=1 they replace docs/screenshots/."""

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
VIEWS = {
    "first-start",
    "login",
    "scan-desk",
    "device-fault",
    "complete-explanation",
    "catalog-import-errors",
    "search",
    "qc-desk",
    "settings-users",
    "settings-retention",
    "settings-keys",
}


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="xvfb-run is not installed")
def test_screenshots_of_the_main_views_under_x(tmp_path):
    out = OUT if os.environ.get("SCANSTATION_UPDATE_SCREENSHOTS") == "1" else tmp_path / "screenshots"
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "WAYLAND_DISPLAY")}
    env["HOME"] = str(tmp_path)  # platformdirs: nothing is written into the real user's folders
    result = subprocess.run(
        ["xvfb-run", "-a", "-s", "-screen 0 1366x768x24", sys.executable, "-m", "scanstation.ui.screenshots", str(out)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    manifest = json.loads((out / "screenshots.json").read_text(encoding="utf-8"))
    assert {Path(f).stem for f in manifest["files"]} == VIEWS
    font = manifest["cjk_font"]
    assert font["glyphs_present"], font
    assert any(name in font["family"] for name in ("WenQuanYi", "Noto", "Source Han")), font

    from PySide6.QtGui import QImage

    for name in manifest["files"]:
        image = QImage(str(out / name))
        assert not image.isNull() and image.width() >= 250 and image.height() >= 100, name
        assert image.width() <= 1366 and image.height() <= 768, name  # nothing larger than the screen
        # a real view has many colours; a blank or failed grab has one or two
        colours = {image.pixel(x, y) for x in range(0, image.width(), 7) for y in range(0, image.height(), 7)}
        assert len(colours) > 8, name
