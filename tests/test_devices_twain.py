"""The TWAIN backend, run on Linux against a fake ``twain`` module.

Only the ``twain`` module is fake: it reproduces pytwain's API and behaviour (SourceManager,
Source.get_capability answer shapes, acquire_file with before/after callbacks and CancelAll, and
errors raised as pytwain's exception classes or ``UnknownError("ConditionCode = N")``) for a
source with an automatic document feeder. The backend code under test is the code that runs on
Windows.
"""

from __future__ import annotations

import sys
import types

import pytest
from PIL import Image

from scanstation.devices import errors as dev_errors
from scanstation.devices.base import CancelToken, ScanSettings
from scanstation.devices.factory import open_backend
from scanstation.devices.twain_backend import TwainScanner
from scanstation.errors import InvalidInput

SOURCE = "Fake ADF Scanner"
DEVICE = f"twain:{SOURCE}"

# pytwain constant values (twain.lowlevel.constants)
CONSTANTS = dict(
    CAP_XFERCOUNT=1,
    ICAP_PIXELTYPE=257,
    ICAP_UNITS=258,
    ICAP_XFERMECH=259,
    CAP_FEEDERENABLED=4098,
    CAP_FEEDERLOADED=4099,
    CAP_DUPLEX=4114,
    CAP_DUPLEXENABLED=4115,
    CAP_SERIALNUMBER=4132,
    ICAP_PHYSICALWIDTH=4369,
    ICAP_PHYSICALHEIGHT=4370,
    ICAP_XRESOLUTION=4376,
    ICAP_YRESOLUTION=4377,
    ICAP_BITDEPTH=4395,
    ICAP_IMAGEFILEFORMAT=4364,
    TWTY_INT16=1,
    TWTY_UINT16=4,
    TWTY_BOOL=6,
    TWTY_FIX32=7,
    TWTY_STR255=12,
    TWPT_BW=0,
    TWPT_GRAY=1,
    TWPT_RGB=2,
    TWSX_NATIVE=0,
    TWSX_FILE=1,
    TWSX_MEMORY=2,
    TWFF_BMP=2,
    TWDX_NONE=0,
    TWDX_1PASSDUPLEX=1,
)


def make_fake_twain(*, sheets=5, jam_at=None, fault_at=None, duplex=True, loaded=True, offline=False, image_dpi=None):
    """A module object that behaves like pytwain for one ADF source."""
    tw = types.ModuleType("twain")
    tw.__dict__.update(CONSTANTS)
    exc = types.ModuleType("twain.exceptions")

    class TwainError(Exception):
        pass

    for name in (
        "PaperJam",
        "PaperDoubleFeedError",
        "CheckDeviceOnlineError",
        "NoDataSourceError",
        "CapUnsupported",
        "DSTransferCancelled",
        "UnknownError",
        "SequenceError",
    ):
        setattr(exc, name, type(name, (TwainError,), {}))
    exc.TwainError = TwainError
    exc.CancelAll = type("CancelAll", (Exception,), {})
    exc.CheckStatus = type("CheckStatus", (Exception,), {})
    tw.exceptions = exc
    log = {"set": {}, "layout": None, "cancel_all": 0, "closed": 0}
    tw.log = log

    class Source:
        def __init__(self, name):
            self.name = name
            self.caps = {
                tw.ICAP_XRESOLUTION: (tw.TWTY_FIX32, (3, 3, [100.0, 150.0, 200.0, 300.0, 600.0])),
                tw.ICAP_PIXELTYPE: (tw.TWTY_UINT16, (0, 0, [0, 1, 2])),
                tw.CAP_FEEDERENABLED: (tw.TWTY_BOOL, True),
                tw.CAP_FEEDERLOADED: (tw.TWTY_BOOL, loaded),
                tw.CAP_DUPLEX: (tw.TWTY_UINT16, tw.TWDX_1PASSDUPLEX if duplex else tw.TWDX_NONE),
                tw.ICAP_PHYSICALWIDTH: (tw.TWTY_FIX32, 8.5),
                tw.ICAP_PHYSICALHEIGHT: (tw.TWTY_FIX32, 14.0),
                tw.ICAP_XFERMECH: (tw.TWTY_UINT16, (0, 0, [0, 1, 2])),
                tw.CAP_SERIALNUMBER: (tw.TWTY_STR255, "SN-4711"),
            }
            self.current = {
                tw.ICAP_XRESOLUTION: 300.0,
                tw.ICAP_PIXELTYPE: 2,
                tw.CAP_DUPLEXENABLED: False,
                tw.CAP_XFERCOUNT: -1,
            }
            self.layout = (0.0, 0.0, 8.5, 11.0)

        @property
        def identity(self):
            return {"Manufacturer": "Fake Corp", "ProductName": self.name, "ProductFamily": "Fake"}

        def get_capability(self, cap):
            if cap not in self.caps:
                raise exc.CapUnsupported()
            return self.caps[cap]

        def get_capability_current(self, cap):
            if cap in self.current:
                return (tw.TWTY_FIX32, self.current[cap])
            return self.get_capability(cap)

        def set_capability(self, cap, type_id, value):
            if (
                cap not in self.caps
                and cap not in self.current
                and cap
                not in (tw.ICAP_UNITS, tw.ICAP_YRESOLUTION, tw.CAP_DUPLEXENABLED, tw.ICAP_BITDEPTH, tw.CAP_XFERCOUNT)
            ):
                raise exc.CapUnsupported()
            log["set"][cap] = value
            self.current[cap] = value

        def set_image_layout(self, frame, document_number=1, page_number=1, frame_number=1):
            log["layout"] = frame
            self.layout = frame

        @property
        def image_info(self):
            dpi = image_dpi or self.current[tw.ICAP_XRESOLUTION]
            _, _, w, h = self.layout
            return {
                "XResolution": dpi,
                "YResolution": dpi,
                "ImageWidth": int(w * dpi),
                "ImageLength": int(h * dpi),
                "SamplesPerPixel": 1,
                "BitsPerSample": [8],
                "BitsPerPixel": 8,
                "Planar": False,
                "PixelType": self.current[tw.ICAP_PIXELTYPE],
                "Compression": 0,
            }

        def acquire_file(self, before, after=lambda more: None, show_ui=True, modal=False):
            _, (_, _, mechs) = self.get_capability(tw.ICAP_XFERMECH)
            if tw.TWSX_FILE not in mechs:
                raise Exception("File transfer is not supported")
            self.set_capability(tw.ICAP_XFERMECH, tw.TWTY_UINT16, tw.TWSX_FILE)
            images = sheets * (2 if self.current.get(tw.CAP_DUPLEXENABLED) else 1)
            count = self.current.get(tw.CAP_XFERCOUNT, -1)
            if count and count > 0:
                images = min(images, count)
            for n in range(1, images + 1):
                if jam_at == n:
                    raise exc.PaperJam  # pytwain raises the mapped class
                if fault_at and fault_at[0] == n:
                    raise getattr(exc, fault_at[1])(*fault_at[2:])
                try:
                    info = self.image_info
                    path = before(info)
                    mode = {0: "1", 1: "L", 2: "RGB"}[self.current[tw.ICAP_PIXELTYPE]]
                    Image.new(
                        mode, (info["ImageWidth"], info["ImageLength"]), 255 if mode != "RGB" else (n, n, n)
                    ).save(path, format="BMP")
                    after(images - n)
                except exc.CancelAll:
                    log["cancel_all"] += 1
                    break

        def close(self):
            log["closed"] += 1

    class SourceManager:
        def __init__(self, parent_window=None, **kw):
            self.open = True

        @property
        def source_list(self):
            return [SOURCE, "Other Source"]

        def open_source(self, product_name=None):
            if offline:
                raise exc.CheckDeviceOnlineError
            if product_name not in self.source_list:
                raise exc.NoDataSourceError
            return Source(product_name)

        def close(self):
            self.open = False

    tw.SourceManager = SourceManager
    return tw


@pytest.fixture
def fake_twain(monkeypatch):
    def install(**kw):
        tw = make_fake_twain(**kw)
        monkeypatch.setitem(sys.modules, "twain", tw)
        monkeypatch.setitem(sys.modules, "twain.exceptions", tw.exceptions)
        return tw

    return install


def settings(tmp_path, **kw):
    kw.setdefault("mode", "gray")
    kw.setdefault("dpi", 300)
    return ScanSettings(spool_dir=str(tmp_path), **kw)


def test_devices_and_capabilities(fake_twain):
    fake_twain()
    scanner = TwainScanner()
    assert [d.id for d in scanner.list_devices()] == [DEVICE, "twain:Other Source"]
    caps = scanner.capabilities(DEVICE)
    assert caps.resolutions == (200, 300, 600)  # 100 and 150 dpi are never offered (R02)
    assert caps.modes == ("color", "gray", "lineart")
    assert caps.sources == ("adf", "duplex")
    assert caps.max_page_mm == (215.9, 355.6)
    assert isinstance(open_backend(DEVICE), TwainScanner)


def test_adf_batch_sets_the_source_up_and_delivers_bmp_pages(fake_twain, tmp_path):
    tw = fake_twain(sheets=5)
    got = []
    result = TwainScanner().scan(DEVICE, settings(tmp_path, source="adf", page_size_mm=(210.0, 297.0)), got.append)
    assert result.ended_by == "feeder_empty" and len(got) == 5
    assert tw.log["set"][tw.ICAP_PIXELTYPE] == tw.TWPT_GRAY
    assert tw.log["set"][tw.ICAP_XRESOLUTION] == 300.0 and tw.log["set"][tw.ICAP_YRESOLUTION] == 300.0
    assert tw.log["set"][tw.CAP_FEEDERENABLED] is True and tw.log["set"][tw.CAP_XFERCOUNT] == -1
    assert tw.log["layout"] == pytest.approx((0.0, 0.0, 210 / 25.4, 297 / 25.4))
    for page in got:
        assert (page.width, page.height, page.dpi, page.format, page.side) == (2480, 3507, 300, "bmp", "front")
        assert page.device.maker == "Fake Corp" and page.device.serial == "SN-4711"
        with Image.open(page.path) as im:
            assert im.size == (2480, 3507) and im.mode == "L"
    assert tw.log["closed"] == 1


def test_jam_at_page_3_keeps_two_pages_and_names_the_page(fake_twain, tmp_path):
    fake_twain(sheets=5, jam_at=3)
    got = []
    with pytest.raises(dev_errors.PaperJam) as info:
        TwainScanner().scan(DEVICE, settings(tmp_path, first_page_number=11, page_size_mm=(100.0, 100.0)), got.append)
    assert [p.page_number for p in got] == [11, 12]
    assert info.value.page == 13 and "第 13 页" in info.value.zh and "清除卡纸后继续扫描" in info.value.zh
    assert info.value.result.pages == got and info.value.exit_code == 3


@pytest.mark.parametrize(
    "fault, cls",
    [
        (("PaperDoubleFeedError",), dev_errors.DoubleFeed),
        (("UnknownError", "ConditionCode = 24"), dev_errors.CoverOpen),  # TWCC_INTERLOCK
        (("UnknownError", "ConditionCode = 25"), dev_errors.PaperJam),  # TWCC_DAMAGEDCORNER
        (("CheckDeviceOnlineError",), dev_errors.DeviceOffline),
        (("SequenceError",), dev_errors.DeviceFault),
    ],
)
def test_twain_faults_mid_batch_are_typed(fake_twain, tmp_path, fault, cls):
    fake_twain(fault_at=(2, *fault))
    got = []
    with pytest.raises(cls) as info:
        TwainScanner().scan(DEVICE, settings(tmp_path, page_size_mm=(100.0, 100.0)), got.append)
    assert len(got) == 1 and type(info.value) is cls and info.value.result.pages == got


def test_feeder_that_runs_empty_mid_batch_ends_normally_and_empty_at_start_is_an_error(fake_twain, tmp_path):
    fake_twain(fault_at=(4, "UnknownError", "ConditionCode = 29"))  # TWCC_NOMEDIA
    result = TwainScanner().scan(DEVICE, settings(tmp_path, page_size_mm=(100.0, 100.0)), lambda p: None)
    assert result.ended_by == "feeder_empty" and len(result.pages) == 3
    fake_twain(loaded=False)
    with pytest.raises(dev_errors.FeederEmpty):
        TwainScanner().scan(DEVICE, settings(tmp_path, page_size_mm=(100.0, 100.0)), lambda p: None)


def test_cancel_after_two_pages(fake_twain, tmp_path):
    tw = fake_twain(sheets=8)
    token = CancelToken()
    got = []

    def on_page(page):
        got.append(page)
        if len(got) == 2:
            token.cancel()

    result = TwainScanner().scan(DEVICE, settings(tmp_path, page_size_mm=(100.0, 100.0)), on_page, token)
    assert result.ended_by == "cancelled" and len(got) == 2 and tw.log["cancel_all"] == 1


def test_duplex_pages_alternate_front_and_back_and_page_limit(fake_twain, tmp_path):
    tw = fake_twain(sheets=3)
    result = TwainScanner().scan(
        DEVICE, settings(tmp_path, source="duplex", page_size_mm=(100.0, 100.0)), lambda p: None
    )
    assert tw.log["set"][tw.CAP_DUPLEXENABLED] is True
    assert [p.side for p in result.pages] == ["front", "back"] * 3
    result = TwainScanner().scan(
        DEVICE, settings(tmp_path, source="adf", page_limit=2, page_size_mm=(100.0, 100.0)), lambda p: None
    )
    assert result.ended_by == "page_limit" and len(result.pages) == 2


def test_source_without_duplex_refuses_duplex(fake_twain, tmp_path):
    fake_twain(duplex=False)
    with pytest.raises(InvalidInput):
        TwainScanner().scan(DEVICE, settings(tmp_path, source="duplex"), lambda p: None)


def test_r02_a_source_that_delivers_less_than_200_dpi_is_refused(fake_twain, tmp_path):
    fake_twain(image_dpi=150.0)
    with pytest.raises(InvalidInput) as info:
        TwainScanner().scan(DEVICE, settings(tmp_path, page_size_mm=(100.0, 100.0)), lambda p: None)
    assert "150" in info.value.en and "R02" in info.value.en


def test_offline_source_and_missing_pytwain(fake_twain, monkeypatch, tmp_path):
    fake_twain(offline=True)
    with pytest.raises(dev_errors.DeviceOffline):
        TwainScanner().scan(DEVICE, settings(tmp_path), lambda p: None)
    monkeypatch.setitem(sys.modules, "twain", None)  # import twain -> ImportError
    with pytest.raises(dev_errors.BackendMissing) as info:
        TwainScanner().list_devices()
    assert "pytwain" in info.value.en


def test_a_storage_error_in_on_page_propagates_unchanged(fake_twain, tmp_path):
    fake_twain()

    def full_disk(page):
        raise OSError(28, "No space left on device")

    with pytest.raises(OSError):
        TwainScanner().scan(DEVICE, settings(tmp_path, page_size_mm=(100.0, 100.0)), full_disk)
