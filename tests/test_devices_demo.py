"""The demo scanner: generated dossier pages with their truth, and the same fault flow as a real device."""

from __future__ import annotations

import pytest
from PIL import Image

pytest.importorskip("scanstation.devices.demo_pages", reason="the demo page generator is not there yet")

from scanstation.devices import errors as dev_errors  # noqa: E402
from scanstation.devices.base import CancelToken, ScanSettings  # noqa: E402
from scanstation.devices.demo_backend import DemoScanner  # noqa: E402
from scanstation.devices.factory import open_backend  # noqa: E402

FIELDS = {"档号": "X001-WS-2024-0007", "题名": "参保人员社会保险登记材料", "姓名": "张伟"}
SMALL = dict(mode="gray", dpi=200, page_size_mm=(105.0, 148.0), dossier_fields=FIELDS, demo_seed=3)


def run(tmp_path, cancel=None, on_page=None, **kw):
    got = []

    def take(page):
        got.append(page)
        if on_page:
            on_page(page)

    result = DemoScanner().scan("demo", ScanSettings(spool_dir=str(tmp_path), **{**SMALL, **kw}), take, cancel)
    return result, got


def test_demo_is_always_listed_and_offers_everything():
    assert [d.id for d in DemoScanner().list_devices()] == ["demo"]  # all_devices(): see test_devices_sane
    assert isinstance(open_backend("demo"), DemoScanner)
    caps = DemoScanner().capabilities("demo")
    assert caps.sources == ("flatbed", "adf", "duplex") and 300 in caps.resolutions and min(caps.resolutions) == 200


def test_demo_feeder_gives_the_dossier_pages_with_their_truth(tmp_path):
    result, pages = run(tmp_path, demo_pages=4)
    assert result.ended_by == "feeder_empty" and len(pages) == 4
    for n, page in enumerate(pages, start=1):
        assert page.page_number == n and page.truth.seq == n and page.dpi == 200
        assert page.device.model == "Demo scanner"
        assert -5.0 <= page.truth.skew_deg <= 5.0 and not page.truth.blank
        with Image.open(page.path) as im:
            assert im.size == (page.width, page.height) and im.mode == "L"
    assert any("X001-WS-2024-0007" in line for line in pages[0].truth.text_lines)


def test_demo_spool_file_holds_the_drawn_page(tmp_path):
    import dataclasses

    import numpy as np

    from scanstation.devices.demo_pages import demo_plan, render_page

    for mode in ("gray", "color", "lineart"):
        _, pages = run(tmp_path / mode, demo_pages=1, mode=mode)
        spec = dataclasses.replace(demo_plan(FIELDS, 1, 3, False, dpi=200, mode=mode, paper=(105.0, 148.0))[0])
        expected, truth = render_page(spec)
        with Image.open(pages[0].path) as im:
            assert im.format == "PPM" and im.mode == expected.mode and im.size == expected.size
            assert np.array_equal(np.asarray(im), np.asarray(expected))
        assert pages[0].truth == truth


def test_demo_duplex_alternates_sides_and_has_blank_backs(tmp_path):
    _, pages = run(tmp_path, source="duplex", demo_pages=4, demo_seed=1)
    assert [p.side for p in pages] == ["front", "back"] * 4
    assert all(not p.truth.blank for p in pages[0::2])
    assert any(p.truth.blank for p in pages[1::2])


def test_demo_jam_at_page_3_then_continue_gives_the_same_dossier(tmp_path):
    _, uninterrupted = run(tmp_path / "a", demo_pages=5)
    kept = []
    with pytest.raises(dev_errors.PaperJam) as info:
        run(tmp_path / "b", demo_pages=5, fault_at_page=(3, "jammed"), on_page=kept.append)
    assert [p.page_number for p in kept] == [1, 2] and info.value.next_page == 3
    assert "清除卡纸后继续扫描" in info.value.zh
    result, rest = run(tmp_path / "c", demo_pages=5, first_page_number=info.value.next_page)
    assert [p.page_number for p in rest] == [3, 4, 5] and result.ended_by == "feeder_empty"
    assert [p.truth.text_lines for p in kept + rest] == [p.truth.text_lines for p in uninterrupted]


def test_demo_cancel_page_limit_and_flatbed(tmp_path):
    token = CancelToken()
    result, pages = run(
        tmp_path, cancel=token, demo_pages=6, on_page=lambda p: token.cancel() if p.index == 1 else None
    )
    assert result.ended_by == "cancelled" and len(pages) == 2
    result, pages = run(tmp_path, demo_pages=6, page_limit=3)
    assert result.ended_by == "page_limit" and len(pages) == 3
    result, pages = run(tmp_path, source="flatbed", demo_pages=6)
    assert len(pages) == 1


def test_demo_feeder_empty_and_other_faults(tmp_path):
    with pytest.raises(dev_errors.FeederEmpty):
        run(tmp_path, demo_pages=3, first_page_number=4)
    with pytest.raises(dev_errors.CoverOpen) as info:
        run(tmp_path, demo_pages=3, fault_at_page=(2, "cover_open"))
    assert info.value.page == 2 and len(info.value.result.pages) == 1
