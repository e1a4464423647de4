"""The demo scanner invents its pages: never the default, never a fallback on a real station.

It serves a demo home (``station.demo``) or a station where an administrator switched training on
(``scanstation training on``: the setting ``capture.demo_scanner``, audited); everywhere else the core refuses
it before anything is written, and its pages carry a visible "演示" stamp.
"""

from __future__ import annotations

import numpy as np
import pytest

from scanstation import settings
from scanstation.capture import Capture
from scanstation.catalog_import import import_catalog
from scanstation.cli.main import main
from scanstation.coversheet.split import SplitRun
from scanstation.devices import base, factory
from scanstation.devices.demo_pages import PageSpec, mark_box, render_pixels
from scanstation.errors import ExitCode, Refused
from scanstation.profiles import ScanProfile
from scanstation.resources import resource
from tests.conftest import PASSWORD

THREE = "X001-ZY·DJ·2024·D100-0001-001"  # 3 declared pages
GRAY = ScanProfile("测试灰度", mode="gray")
FORM = (
    "# 市社会保险事业管理中心",
    "## 社会保险参保人员登记表",
    "| 姓名 | 张三 | 性别 | 男 |",
    "参保登记材料齐全，予以办理。",
)


def _state(home) -> dict:
    """Everything a refused scan must leave alone."""
    return {
        "sessions": home.catalog.one("SELECT count(*) AS n FROM capture_sessions")["n"],
        "splits": home.catalog.one("SELECT count(*) AS n FROM split_runs")["n"],
        "pages": home.catalog.one("SELECT count(*) AS n FROM pages")["n"],
        "audit": home.catalog.one("SELECT count(*) AS n FROM audit_log")["n"],
        "starts": home.catalog.one("SELECT count(*) AS n FROM audit_log WHERE action = 'capture.start'")["n"],
        "spool": sorted(p.name for p in (home.path / "spool").rglob("*")) if (home.path / "spool").exists() else [],
    }


@pytest.fixture
def cli_home(home, sessions, monkeypatch):
    import_catalog(sessions["clerk1"], resource("sample-catalog.xlsx"))
    monkeypatch.setenv("SCANSTATION_HOME", str(home.path))
    monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
    return home


@pytest.mark.real_station
def test_real_station_refuses_the_demo_scanner_in_the_core_and_writes_nothing(cli_home, sessions):
    home = cli_home
    assert not factory.demo_scanner_allowed(home)
    before = _state(home)
    capture = Capture(sessions["clerk1"])
    try:
        with pytest.raises(Refused) as refused:
            capture.start(THREE, "demo", GRAY, pages=1)
        assert "演示扫描仪" in refused.value.message and "scanstation training on" in refused.value.message
        with pytest.raises(Refused):  # a stack split into dossiers by cover sheets: the same guard
            SplitRun(capture, "demo", GRAY).run()
    finally:
        capture.close()
    assert _state(home) == before


@pytest.mark.real_station
def test_real_station_cli_scan_with_the_demo_device_is_refused_and_writes_nothing(cli_home, capsys):
    home = cli_home
    before = _state(home)
    code = main(["--user", "clerk1", "scan", THREE, "--device", "demo", "--pages", "1"])
    err = capsys.readouterr().err
    assert (
        code == ExitCode.REFUSED and "演示扫描仪" in err and "scanstation training on" in err and "Traceback" not in err
    )
    assert main(["--user", "clerk1", "scan", "--split", "--device", "demo"]) == ExitCode.REFUSED
    assert "演示扫描仪" in capsys.readouterr().err
    assert _state(home) == before


@pytest.mark.real_station
def test_real_station_cli_scan_without_a_device_asks_which_one(cli_home, capsys):
    home = cli_home
    before = _state(home)
    code = main(["--user", "clerk1", "scan", THREE, "--pages", "1"])  # the default profile names the demo scanner
    err = capsys.readouterr().err
    assert code == ExitCode.REFUSED and "--device" in err and "Traceback" not in err
    found = [d.id for d in factory.all_devices()]
    assert ("找到多台扫描仪" in err and all(d in err for d in found)) if found else "未找到扫描仪" in err
    assert _state(home) == before


@pytest.mark.real_station
def test_default_device_is_the_profiles_else_the_only_real_scanner(cli_home, monkeypatch):
    home = cli_home
    assert factory.default_device(home, "sane:fujitsu:fi-7160:1") == "sane:fujitsu:fi-7160:1"
    one = base.DeviceInfo(id="sane:test:0", backend="sane", maker="Noname", model="frontend-tester")
    monkeypatch.setattr(factory, "all_devices", lambda timeout_s=20.0, demo=False: [one])
    assert factory.default_device(home, "demo") == "sane:test:0"  # the demo scanner is no default here
    assert factory.default_device(home, None) == "sane:test:0"
    monkeypatch.setattr(factory, "all_devices", lambda timeout_s=20.0, demo=False: [])
    with pytest.raises(Refused) as refused:
        factory.default_device(home, "demo")
    assert "--device" in refused.value.message


@pytest.mark.real_station
def test_devices_lists_the_demo_scanner_only_where_allowed(cli_home, capsys):
    import json

    assert main(["--json", "devices"]) == 0
    assert "demo" not in [d["id"] for d in json.loads(capsys.readouterr().out)]
    assert main(["--user", "admin", "training", "on"]) == 0
    capsys.readouterr()
    assert main(["--json", "devices"]) == 0
    assert [d["id"] for d in json.loads(capsys.readouterr().out)][0] == "demo"


@pytest.mark.real_station
def test_admin_switches_training_on_audited_then_the_demo_scanner_serves(cli_home, capsys):
    home = cli_home
    before = _state(home)
    assert main(["--user", "clerk1", "training", "on"]) != 0  # a clerk may not
    assert _state(home) == before and not factory.demo_scanner_allowed(home)
    assert main(["--user", "admin", "training", "on"]) == 0
    entry = home.catalog.one(
        "SELECT user, after FROM audit_log WHERE action = 'settings.set'"
        " AND object_id = 'capture.demo_scanner' ORDER BY id DESC LIMIT 1"
    )
    assert entry["user"] == "admin" and entry["after"] == "true"
    capsys.readouterr()
    assert main(["--user", "clerk1", "--json", "scan", THREE, "--pages", "1"]) == 0  # the profile's: demo
    assert home.catalog.one("SELECT device FROM capture_sessions ORDER BY id DESC LIMIT 1")["device"] == "demo"
    assert main(["--user", "admin", "training", "off"]) == 0
    assert (
        home.catalog.one(
            "SELECT count(*) AS n FROM audit_log WHERE action = 'settings.set' AND object_id = 'capture.demo_scanner'"
        )["n"]
        == 2
    )
    capsys.readouterr()
    assert main(["--user", "clerk1", "scan", THREE, "--device", "demo", "--pages", "1"]) == ExitCode.REFUSED
    assert "演示扫描仪" in capsys.readouterr().err


@pytest.mark.real_station
def test_a_demo_home_is_served_by_the_demo_scanner(home, sessions):
    settings.set_value(sessions["admin"], "station.demo", True)
    assert factory.demo_scanner_allowed(home)
    factory.check_device_allowed(home, "demo")  # no refusal
    assert [d.id for d in factory.all_devices(demo=True)][0] == "demo"


def test_demo_page_carries_a_visible_mark_where_no_form_text_goes():
    spec = PageSpec("X001-WS-2024-0007", 1, lines=FORM, noise=0.0, border=False)
    marked, truth = render_pixels(spec)
    plain, plain_truth = render_pixels(
        PageSpec("X001-WS-2024-0007", 1, lines=FORM, noise=0.0, border=False, demo_mark=False)
    )
    assert truth.text_lines == plain_truth.text_lines  # the form's text is untouched
    left, top, right, bottom = truth.mark_box_px
    ox, oy = truth.page_box_px[:2]
    area = (slice(oy + top, oy + bottom), slice(ox + left, ox + right))
    dark = marked[area] < 200
    assert dark.mean() > 0.05  # visible: strokes of the box and of 演示
    assert not (plain[area] < 200).any()  # nothing of the form is drawn there
    differs = np.argwhere(marked != plain)  # and the stamp is drawn nowhere else
    assert differs.size and differs[:, 0].min() >= oy + top and differs[:, 0].max() < oy + bottom
    assert differs[:, 1].min() >= ox + left and differs[:, 1].max() < ox + right
    assert truth.mark_box_px == mark_box(truth.page_box_px[2] - truth.page_box_px[0], spec.dpi)
    blank, blank_truth = render_pixels(PageSpec("X001-WS-2024-0007", 2, blank=True, noise=0.0, border=False))
    assert blank_truth.blank and blank_truth.mark_box_px is None  # a blank back stays blank


def test_pages_from_the_demo_scanner_are_marked(tmp_path):
    from scanstation.devices.base import CancelToken, ScanSettings
    from scanstation.devices.demo_backend import DemoScanner

    pages = []
    DemoScanner().scan(
        "demo",
        ScanSettings(source="adf", mode="gray", dpi=200, spool_dir=str(tmp_path), demo_pages=2),
        pages.append,
        CancelToken(),
    )
    assert pages and all(p.truth.mark_box_px is not None for p in pages if not p.truth.blank)


@pytest.mark.parametrize("mode", ["gray", "lineart"])
def test_the_mark_leaves_the_ocr_text_of_the_form_unchanged(tmp_path, mode):
    """The stamp is lighter than the ink: tesseract reads the same text with and without it, so the page's
    OCR text (and PageTruth's lines) are the form's."""
    from scanstation.devices.demo_pages import render_page
    from scanstation.ocr import engines

    texts = []
    for mark in (True, False):
        image, truth = render_page(PageSpec("X001-WS-2024-0007", 1, mode=mode, lines=FORM, noise=0.1, demo_mark=mark))
        assert (truth.mark_box_px is not None) == mark
        image.save(tmp_path / f"{mark}.png")
        texts.append(engines.read_page(tmp_path / f"{mark}.png", "tesseract").text)
    assert texts[0] == texts[1] and "市社会保险事业管理中心" in texts[0]
