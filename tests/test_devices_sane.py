"""SANE scanning through the worker process, against the real SANE ``test`` backend."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from PIL import Image

from scanstation.devices import errors as dev_errors
from scanstation.devices.base import CancelToken, ScanSettings
from scanstation.devices.factory import all_devices, open_backend
from scanstation.devices.sane_backend import SaneScanner
from scanstation.devices.sane_worker import match_mode, match_source, usable_resolutions
from scanstation.errors import InvalidInput
from scanstation.i18n import set_language
from tests.sane_fixture import sane_test_config  # noqa: F401  (fixture)

pytestmark = pytest.mark.usefixtures("sane_test_config")

DEVICE = "sane:test:0"
# Small pages where resolution and size are not the point: fast, still a real scan.
SMALL = dict(mode="gray", dpi=200, page_size_mm=(40.0, 30.0))


@pytest.fixture
def scanner():
    return SaneScanner(timeout_s=20.0, open_timeout_s=20.0, cancel_grace_s=3.0)


def scan(scanner, tmp_path, cancel=None, on_page=None, **settings):
    pages = []

    def take(page):
        pages.append(page)
        if on_page:
            on_page(page)

    result = scanner.scan(DEVICE, ScanSettings(spool_dir=str(tmp_path), **settings), take, cancel)
    return result, pages


def test_listing_includes_test_device_and_demo_only_when_asked():
    assert "demo" not in {d.id for d in all_devices()}  # never offered unless the home allows it
    devices = {d.id: d for d in all_devices(demo=True)}
    assert "demo" in devices
    assert "sane:test:0" in devices
    test0 = devices["sane:test:0"]
    assert (test0.backend, test0.maker, test0.model) == ("sane", "Noname", "frontend-tester")


def test_capabilities_of_the_test_backend(scanner):
    caps = scanner.capabilities(DEVICE)
    assert caps.sources == ("flatbed", "adf")  # the test backend has no duplex source
    assert caps.modes == ("color", "gray", "lineart")  # lineart = Gray at depth 1 on this backend
    assert {200, 300, 600}.issubset(caps.resolutions) and min(caps.resolutions) >= 200
    assert caps.max_page_mm == (300.0, 300.0)  # geometry_max of the private test.conf


def test_r02_adf_batch_a4_300dpi_gray_gives_ten_full_pages(scanner, tmp_path):
    result, pages = scan(scanner, tmp_path, source="adf", mode="gray", dpi=300, page_size_mm=(210.0, 297.0))
    assert result.ended_by == "feeder_empty" and result.error is None
    assert len(pages) == 10 and result.pages == pages
    assert [p.page_number for p in pages] == list(range(1, 11))
    for page in pages:
        assert (page.width, page.height, page.dpi, page.mode, page.side) == (2480, 3507, 300, "gray", "front")
        assert page.device.maker == "Noname" and page.device.model == "frontend-tester"
        with Image.open(page.path) as im:
            assert im.size == (2480, 3507) and im.mode == "L"
    assert len({p.path for p in pages}) == 10
    assert result.next_page_number == 11


def test_r02_settings_refuse_less_than_200_dpi():
    with pytest.raises(InvalidInput) as info:
        ScanSettings(dpi=150)
    assert "R02" in info.value.en and "200" in info.value.zh


def test_colour_and_lineart_pages(scanner, tmp_path):
    _, color = scan(scanner, tmp_path, source="flatbed", mode="color", dpi=200, page_size_mm=(40.0, 30.0))
    _, lineart = scan(scanner, tmp_path, source="flatbed", mode="lineart", dpi=300, page_size_mm=(40.0, 30.0))
    assert len(color) == 1 and len(lineart) == 1  # a flatbed gives one page
    with Image.open(color[0].path) as im:
        assert im.mode == "RGB" and im.size == (color[0].width, color[0].height) == (
            314,
            236,
        )  # the backend truncates 314.96 px
    with Image.open(lineart[0].path) as im:
        assert im.mode == "1" and im.size == (472, 354)


def test_page_limit_stops_the_feeder(scanner, tmp_path):
    result, pages = scan(scanner, tmp_path, source="adf", page_limit=4, **SMALL)
    assert result.ended_by == "page_limit" and len(pages) == 4


def test_jam_at_page_4_keeps_pages_1_to_3_then_continues_from_4(scanner, tmp_path):
    set_language("zh_CN")
    kept = []
    with pytest.raises(dev_errors.PaperJam) as info:
        scan(scanner, tmp_path, source="adf", fault_at_page=(4, "jammed"), on_page=kept.append, **SMALL)
    jam = info.value
    assert [p.page_number for p in kept] == [1, 2, 3]
    assert jam.page == 4 and jam.next_page == 4
    assert "清除卡纸后继续扫描" in jam.message and "第 4 页" in jam.message
    assert "page 4" in jam.en
    assert jam.exit_code == 3
    assert jam.result.ended_by == "error" and jam.result.error is jam and jam.result.pages == kept
    assert all(Path(p.path).exists() for p in kept)
    # The clerk clears the jam and continues the same dossier from page 4.
    result, more = scan(scanner, tmp_path, source="adf", first_page_number=jam.next_page, page_limit=7, **SMALL)
    assert result.ended_by == "page_limit"
    assert [p.page_number for p in more] == [4, 5, 6, 7, 8, 9, 10]


def test_jam_in_a_batch_that_starts_at_dossier_page_7_names_the_dossier_page(scanner, tmp_path):
    with pytest.raises(dev_errors.PaperJam) as info:
        scan(scanner, tmp_path, source="adf", first_page_number=7, fault_at_page=(2, "jammed"), **SMALL)
    assert info.value.page == 8 and [p.page_number for p in info.value.result.pages] == [7]


@pytest.mark.parametrize(
    "status, cls, at, kept",
    [
        ("cover_open", dev_errors.CoverOpen, 2, 1),
        ("device_busy", dev_errors.DeviceBusy, 1, 0),
        ("io_error", dev_errors.DeviceIOError, 3, 2),
        ("no_mem", dev_errors.DeviceOutOfMemory, 2, 1),
        ("access_denied", dev_errors.DeviceAccessDenied, 1, 0),
    ],
)
def test_device_faults_are_typed_and_keep_earlier_pages(scanner, tmp_path, status, cls, at, kept):
    got = []
    with pytest.raises(cls) as info:
        scan(scanner, tmp_path, source="adf", fault_at_page=(at, status), on_page=got.append, **SMALL)
    assert len(got) == kept and info.value.result.pages == got
    assert info.value.en and info.value.zh and info.value.zh != info.value.en


def test_empty_feeder_before_the_first_page_is_an_error_after_pages_it_is_the_end(scanner, tmp_path):
    with pytest.raises(dev_errors.FeederEmpty):
        scan(scanner, tmp_path, source="adf", fault_at_page=(1, "no_docs"), **SMALL)
    result, pages = scan(scanner, tmp_path, source="adf", fault_at_page=(6, "no_docs"), **SMALL)
    assert result.ended_by == "feeder_empty" and len(pages) == 5


def test_cancel_after_three_pages_keeps_exactly_three(scanner, tmp_path):
    token = CancelToken()

    def after(page):
        if page.index == 2:
            token.cancel()

    result, pages = scan(scanner, tmp_path, cancel=token, on_page=after, source="adf", **SMALL)
    assert result.ended_by == "cancelled" and result.error is None
    assert len(pages) == 3
    # Pages the worker scanned after the cancel were not delivered and their files are gone.
    assert sorted(Path(result.spool_dir).iterdir()) == sorted(Path(p.path) for p in pages)


def test_worker_killed_mid_batch_raises_crashed_and_keeps_received_pages(scanner, tmp_path):
    pids = []

    def kill_after_third(page):
        if page.index == 2:
            pids.append(scanner.current_worker_pid)
            os.kill(scanner.current_worker_pid, signal.SIGKILL)

    got = []
    with pytest.raises(dev_errors.DeviceCrashed) as info:
        # read-delay slows the test backend down like a real feeder, so the kill lands mid-batch.
        scan(
            scanner,
            tmp_path,
            source="adf",
            on_page=lambda p: (got.append(p), kill_after_third(p)),
            debug_options={"read_delay": True, "read_delay_duration": 1000},
            **SMALL,
        )
    crash = info.value
    assert 3 <= len(got) < 10
    assert crash.result.pages == got and crash.page == len(got) + 1
    assert "SIGKILL" in crash.fields["detail"]
    for page in got:
        with Image.open(page.path) as im:
            im.load()
    assert scanner.current_worker_pid is None


def test_hanging_driver_is_ended_by_the_watchdog(tmp_path):
    scanner = SaneScanner(timeout_s=1.5, cancel_grace_s=0.5)
    pids = []
    got = []
    with pytest.raises(dev_errors.DeviceTimeout) as info:
        scan(
            scanner,
            tmp_path,
            source="adf",
            debug_hang_after_page=2,
            on_page=lambda p: (got.append(p), pids.append(scanner.current_worker_pid)),
            **SMALL,
        )
    assert [p.page_number for p in got] == [1, 2]
    assert info.value.page == 3 and info.value.fields["seconds"] == "1.5"
    with pytest.raises(ProcessLookupError):  # the hung worker was killed and reaped
        os.kill(pids[0], 0)


def test_settings_the_device_cannot_do_are_refused_before_scanning(scanner, tmp_path):
    with pytest.raises(InvalidInput) as too_big:
        scan(scanner, tmp_path, source="adf", mode="gray", dpi=200, page_size_mm=(297.0, 420.0))
    assert "300" in too_big.value.en
    with pytest.raises(InvalidInput) as no_duplex:
        scan(scanner, tmp_path, source="duplex", **SMALL)
    assert "duplex" in no_duplex.value.en


def test_unknown_device_is_offline(scanner, tmp_path):
    with pytest.raises(dev_errors.DeviceOffline):
        scanner.scan("sane:nosuch:0", ScanSettings(spool_dir=str(tmp_path), **SMALL), lambda p: None)


def test_factory_opens_the_sane_backend():
    assert isinstance(open_backend(DEVICE), SaneScanner)


def test_source_and_mode_names_of_real_drivers_are_matched():
    fujitsu = ["ADF Front", "ADF Back", "ADF Duplex"]
    assert (match_source("adf", fujitsu), match_source("duplex", fujitsu), match_source("flatbed", fujitsu)) == (
        "ADF Front",
        "ADF Duplex",
        None,
    )
    epson = ["Flatbed", "ADF", "ADF Duplex"]
    assert [match_source(s, epson) for s in ("flatbed", "adf", "duplex")] == ["Flatbed", "ADF", "ADF Duplex"]
    assert match_source("adf", ["Flatbed", "Automatic Document Feeder"]) == "Automatic Document Feeder"
    assert match_mode("lineart", ["Lineart", "Gray", "Color"]) == "Lineart"
    assert match_mode("lineart", ["Binary", "Gray", "Color"]) == "Binary"
    assert match_mode("color", ["Black & White", "Grayscale", "24bit Color"]) == "24bit Color"
    assert match_mode("gray", ["Black & White", "Grayscale", "24bit Color"]) == "Grayscale"
    assert usable_resolutions([75, 150, 300, 600]) == (300, 600)
    assert usable_resolutions((50.0, 600.0, 1.0)) == (200, 240, 300, 400, 600)
