"""The one mapping from driver error texts and codes to typed scanner errors."""

from __future__ import annotations

import pytest

from scanstation.devices import errors as dev_errors
from scanstation.errors import DeviceError, InvalidInput, StorageError
from scanstation.i18n import set_language

# The exact sane_strstatus() texts of libsane, as python-sane raises them.
SANE_TEXTS = [
    ("Document feeder jammed", dev_errors.PaperJam),
    ("Document feeder out of documents", dev_errors.FeederEmpty),
    ("Scanner cover is open", dev_errors.CoverOpen),
    ("Device busy", dev_errors.DeviceBusy),
    ("Error during device I/O", dev_errors.DeviceIOError),
    ("Invalid argument", dev_errors.SettingRejected),
    ("Operation was cancelled", dev_errors.Cancelled),
    ("Access to resource has been denied", dev_errors.DeviceAccessDenied),
    ("Out of memory", dev_errors.DeviceOutOfMemory),
    ("Operation not supported", dev_errors.SettingRejected),
    ("Lamp not ready, please retry", dev_errors.DeviceWarmingUp),
    ("Scanner mechanism locked for maintenance", dev_errors.DeviceLocked),
]


@pytest.mark.parametrize("text, cls", SANE_TEXTS)
def test_sane_status_texts_map_to_typed_errors(text, cls):
    err = dev_errors.map_sane_error(Exception(text), page=5, device="test:0")
    assert type(err) is cls
    assert isinstance(err, DeviceError) and err.exit_code == 3
    assert err.fields["detail"] == text
    assert err.en != err.zh and err.en and err.zh


def test_sane_status_names_and_texts_agree():
    # Every status the test backend can inject maps to the class its text maps to.
    for name, text in dev_errors.SANE_STATUS_TEXTS.items():
        assert type(dev_errors.fault_for_status(name)) is type(dev_errors.map_sane_error(text))
    assert dev_errors.sane_status_name("jammed") == "SANE_STATUS_JAMMED"
    with pytest.raises(InvalidInput):
        dev_errors.sane_status_name("on_fire")


def test_invalid_argument_while_opening_means_the_device_is_not_there():
    assert type(dev_errors.map_sane_error("Invalid argument", device="x:1", stage="open")) is dev_errors.DeviceOffline


def test_runtime_errors_of_python_sane():
    assert type(dev_errors.map_sane_error(RuntimeError("Scanner returned no data"), page=2)) is dev_errors.DeviceIOError
    assert type(dev_errors.map_sane_error(RuntimeError("unexpected EOF while reading"))) is dev_errors.DeviceIOError
    assert type(dev_errors.map_sane_error(RuntimeError("No such scan device 'x'"))) is dev_errors.DeviceOffline
    other = dev_errors.map_sane_error(Exception("Something new"), page=3)
    assert type(other) is dev_errors.DeviceFault and "Something new" in other.en and other.page == 3


def test_paper_jam_says_what_to_do_in_both_languages():
    jam = dev_errors.PaperJam(7, device="fujitsu:fi-7160")
    set_language("zh_CN")
    assert "清除卡纸后继续扫描" in str(jam) and "第 7 页" in str(jam)
    set_language("en")
    assert "Clear the jam" in str(jam) and "page 7" in str(jam)
    set_language(None)
    assert jam.next_page == 7


def test_device_names_appear_without_stray_spaces():
    assert "The scanner is busy" in dev_errors.DeviceBusy().en
    assert "扫描仪正忙" in dev_errors.DeviceBusy().zh
    assert "The scanner epson:libusb:001 is busy" in dev_errors.DeviceBusy(device="epson:libusb:001").en


@pytest.mark.parametrize(
    "code, cls",
    [
        (20, dev_errors.PaperJam),
        (21, dev_errors.DoubleFeed),
        (23, dev_errors.DeviceOffline),
        (24, dev_errors.CoverOpen),
        (29, dev_errors.FeederEmpty),
        (4, dev_errors.DeviceBusy),
        (2, dev_errors.DeviceOutOfMemory),
        (13, dev_errors.SettingRejected),
        (22, StorageError),
        (27, dev_errors.DeviceFault),
    ],
)
def test_twain_condition_codes(code, cls):
    err = dev_errors.twain_condition_error(code, page=4)
    assert type(err) is cls


def test_pytwain_exception_classes_by_name():
    PaperJam = type("PaperJam", (Exception,), {})
    UnknownError = type("UnknownError", (Exception,), {})
    DSTransferCancelled = type("DSTransferCancelled", (Exception,), {})
    assert type(dev_errors.map_twain_error(PaperJam(), page=2)) is dev_errors.PaperJam
    assert type(dev_errors.map_twain_error(UnknownError("ConditionCode = 29"))) is dev_errors.FeederEmpty
    assert type(dev_errors.map_twain_error(MemoryError())) is dev_errors.DeviceOutOfMemory
    assert type(dev_errors.map_twain_error(DSTransferCancelled())) is dev_errors.Cancelled


def test_errors_cross_the_process_boundary_as_messages():
    jam = dev_errors.PaperJam(4, device="test:0", detail="Document feeder jammed")
    back = dev_errors.error_from_message(dev_errors.error_to_message(jam))
    assert type(back) is dev_errors.PaperJam
    assert (back.en, back.zh, back.page) == (jam.en, jam.zh, 4)
    timeout = dev_errors.error_from_message(dev_errors.error_to_message(dev_errors.DeviceTimeout(2, seconds=60)))
    assert type(timeout) is dev_errors.DeviceTimeout and "60" in timeout.en
    invalid = dev_errors.error_from_message(dev_errors.error_to_message(InvalidInput("Bad {x}", "坏 {x}", x="{y}")))
    assert type(invalid) is InvalidInput and invalid.en == "Bad {y}"
