"""Typed scanner errors, and the one place where driver errors are turned into them.

Every class says in plain words what happened and what to do next, in Chinese and English, and
exits the command line with code 3 (``DeviceError``). Page numbers in messages are the numbers the
clerk sees (the batch may start at dossier page 7), so "continue from page N" can be followed as is.

Drivers report faults in their own vocabulary:

* python-sane raises one class, ``_sane.error``, carrying only the ``sane_strstatus()`` text, and
  ``RuntimeError`` for a few conditions ("Scanner returned no data", EOF). ``map_sane_error``
  maps those texts.
* pytwain raises one exception class per TWAIN condition code for the codes it knows, and
  ``UnknownError("ConditionCode = N")`` for the others. ``map_twain_error`` maps both, through
  ``twain_condition_error`` for the numeric codes.

Errors cross the worker-process boundary as plain dicts (``error_to_message`` / ``error_from_message``),
never as pickled exceptions.
"""

from __future__ import annotations

import re

from scanstation import errors as base_errors
from scanstation.errors import DeviceError, ScanStationError


class DeviceFault(DeviceError):
    """A scanner fault reported by a driver. Fields: page (the page number the fault happened at, or None),
    device (a label), detail (the driver's own text, for the log)."""

    def __init__(self, page: int | None = None, *, device: str | None = None, detail: str | None = None, **extra):
        en, zh = self._texts(page is not None, bool(device))
        super().__init__(
            en,
            zh,
            page=page,
            device=device or "",
            detail=detail or "",
            dev_en=f" {device}" if device else "",
            dev_zh=f"（{device}）" if device else "",
            **extra,
        )
        # Filled in by the backend that raises it: what was delivered before the fault.
        self.result = None

    def _texts(self, has_page: bool, has_device: bool) -> tuple[str, str]:
        if has_page:
            return (
                "The scanner reported an error at page {page} ({detail}). Switch the scanner off and on, "
                "then continue scanning from page {page}.",
                "扫描第 {page} 页时扫描仪报告错误（{detail}）。请关闭并重新打开扫描仪，然后从第 {page} 页继续扫描。",
            )
        return (
            "The scanner reported an error ({detail}). Switch the scanner off and on, then try again.",
            "扫描仪报告错误（{detail}）。请关闭并重新打开扫描仪后重试。",
        )

    @property
    def page(self) -> int | None:
        return self.fields.get("page")

    @property
    def next_page(self) -> int | None:
        """The page number to continue from (the page that was not captured)."""
        return self.fields.get("page")


class PaperJam(DeviceFault):
    def _texts(self, has_page, has_device):
        if has_page:
            return (
                "Paper jam at page {page}. Clear the jam, put page {page} and the pages after it back in the "
                "feeder, then continue scanning from page {page}.",
                "第 {page} 页卡纸。请清除卡纸后继续扫描：把第 {page} 页及其后的纸放回进纸器，从第 {page} 页继续。",
            )
        return (
            "Paper jam in the feeder. Clear the jam, put the pages not yet scanned back in the feeder, "
            "then continue scanning.",
            "进纸器卡纸。请清除卡纸后继续扫描：把尚未扫描的纸放回进纸器。",
        )


class DoubleFeed(DeviceFault):
    def _texts(self, has_page, has_device):
        if has_page:
            return (
                "Two or more sheets were fed together at page {page}. Separate them, put page {page} and the "
                "pages after it back in the feeder, then continue scanning from page {page}.",
                "第 {page} 页发生重张进纸。请把纸张分开，将第 {page} 页及其后的纸放回进纸器，从第 {page} 页继续扫描。",
            )
        return (
            "Two or more sheets were fed together. Separate them, put the pages not yet scanned back in the "
            "feeder, then continue scanning.",
            "发生重张进纸。请把纸张分开，将尚未扫描的纸放回进纸器后继续扫描。",
        )


class CoverOpen(DeviceFault):
    def _texts(self, has_page, has_device):
        if has_page:
            return (
                "The scanner cover is open (at page {page}). Close it, then continue scanning from page {page}.",
                "扫描仪盖板未关好（第 {page} 页）。请关好盖板，然后从第 {page} 页继续扫描。",
            )
        return ("The scanner cover is open. Close it, then scan again.", "扫描仪盖板未关好。请关好盖板后重新扫描。")


class FeederEmpty(DeviceFault):
    """The feeder had no paper before the first page. (Running empty after a page is the normal end.)"""

    def _texts(self, has_page, has_device):
        return (
            "The document feeder is empty. Put the pages in the feeder and scan again.",
            "进纸器中没有纸。请放入纸张后重新扫描。",
        )


class DeviceBusy(DeviceFault):
    def _texts(self, has_page, has_device):
        return (
            "The scanner{dev_en} is busy (another program is using it, or it is still working). "
            "Wait a moment, close other scanning programs, then try again.",
            "扫描仪{dev_zh}正忙（被其他程序占用或仍在工作）。请稍等，关闭其他扫描程序后重试。",
        )


class DeviceWarmingUp(DeviceBusy):
    def _texts(self, has_page, has_device):
        return (
            "The scanner lamp is warming up. Wait a minute, then try again.",
            "扫描仪灯管正在预热。请稍等一分钟后重试。",
        )


class DeviceLocked(DeviceFault):
    def _texts(self, has_page, has_device):
        return (
            "The scanner mechanism is locked (transport lock or maintenance). Unlock it as its manual "
            "describes, then try again.",
            "扫描仪机械装置已锁定（运输锁或维护状态）。请按说明书解锁后重试。",
        )


class DeviceOffline(DeviceFault):
    def _texts(self, has_page, has_device):
        return (
            "The scanner{dev_en} cannot be reached. Check that it is switched on and that its cable or "
            "network is connected, then try again.",
            "无法连接扫描仪{dev_zh}。请检查扫描仪电源以及数据线或网络连接，然后重试。",
        )


DeviceGone = DeviceOffline


class DeviceAccessDenied(DeviceFault):
    def _texts(self, has_page, has_device):
        return (
            "Access to the scanner{dev_en} was denied. Ask the administrator to give this user access to "
            "the scanner (on Linux: membership of the 'scanner' group), then try again.",
            "无权访问扫描仪{dev_zh}。请管理员为当前用户开通扫描仪权限（Linux 下加入 scanner 组）后重试。",
        )


class DeviceIOError(DeviceFault):
    def _texts(self, has_page, has_device):
        if has_page:
            return (
                "Communication with the scanner failed at page {page}. Check the cable, switch the scanner "
                "off and on, then continue scanning from page {page}.",
                "扫描第 {page} 页时与扫描仪通信失败。请检查数据线，关闭并重新打开扫描仪，然后从第 {page} 页继续扫描。",
            )
        return (
            "Communication with the scanner failed. Check the cable, switch the scanner off and on, then try again.",
            "与扫描仪通信失败。请检查数据线，关闭并重新打开扫描仪后重试。",
        )


class DeviceOutOfMemory(DeviceFault):
    def _texts(self, has_page, has_device):
        if has_page:
            return (
                "The scanner or its driver ran out of memory at page {page}. Close other programs or choose a "
                "smaller page size, then continue scanning from page {page}.",
                "扫描第 {page} 页时扫描仪或驱动内存不足。请关闭其他程序或选择较小的纸张尺寸，然后从第 {page} 页继续扫描。",
            )
        return (
            "The scanner or its driver ran out of memory. Close other programs or choose a smaller page "
            "size, then try again.",
            "扫描仪或驱动内存不足。请关闭其他程序或选择较小的纸张尺寸后重试。",
        )


class SettingRejected(DeviceFault):
    def _texts(self, has_page, has_device):
        return (
            "The scanner refused the settings ({detail}). Choose another resolution, colour mode, source or "
            "page size, then try again.",
            "扫描仪不接受当前设置（{detail}）。请更换分辨率、色彩模式、进纸方式或纸张尺寸后重试。",
        )


class DeviceCrashed(DeviceFault):
    """The driver process died (segfault, killed)."""

    def _texts(self, has_page, has_device):
        if has_page:
            return (
                "The scanner driver stopped unexpectedly at page {page} ({detail}). The pages received before "
                "are kept. Switch the scanner off and on, then continue scanning from page {page}.",
                "扫描第 {page} 页时扫描仪驱动意外停止（{detail}）。此前收到的页面已保留。请关闭并重新打开扫描仪，"
                "然后从第 {page} 页继续扫描。",
            )
        return (
            "The scanner driver stopped unexpectedly ({detail}). Switch the scanner off and on, then try again.",
            "扫描仪驱动意外停止（{detail}）。请关闭并重新打开扫描仪后重试。",
        )


class DeviceTimeout(DeviceFault):
    """The watchdog ended a driver that stopped answering. Extra field: seconds."""

    def __init__(
        self, page: int | None = None, *, seconds: float = 0, device: str | None = None, detail: str | None = None
    ):
        super().__init__(page, device=device, detail=detail, seconds=f"{seconds:g}")

    def _texts(self, has_page, has_device):
        if has_page:
            return (
                "The scanner did not respond for {seconds} seconds at page {page}. The pages received before "
                "are kept. Check the scanner (paper, cover, cable), switch it off and on, then continue "
                "scanning from page {page}.",
                "扫描第 {page} 页时扫描仪 {seconds} 秒无响应。此前收到的页面已保留。请检查扫描仪（纸张、盖板、数据线），"
                "关闭并重新打开后从第 {page} 页继续扫描。",
            )
        return (
            "The scanner did not respond for {seconds} seconds. Check that it is switched on and connected, "
            "then try again.",
            "扫描仪 {seconds} 秒无响应。请检查扫描仪电源和连接后重试。",
        )


class Cancelled(DeviceFault):
    """The scan was cancelled at the scanner (its own cancel button), not by the station."""

    def _texts(self, has_page, has_device):
        if has_page:
            return (
                "Scanning was cancelled at page {page}. The pages received before are kept; continue scanning "
                "from page {page} when ready.",
                "扫描在第 {page} 页被取消。此前收到的页面已保留；准备好后从第 {page} 页继续扫描。",
            )
        return ("Scanning was cancelled. The pages received before are kept.", "扫描已取消。此前收到的页面已保留。")


class BackendMissing(DeviceFault):
    """Support for a kind of scanner is not installed on this station. Extra field: what."""

    def __init__(self, what: str, *, device: str | None = None, detail: str | None = None):
        super().__init__(None, device=device, detail=detail, what=what)

    def _texts(self, has_page, has_device):
        return (
            "Support for {what} is not installed on this station ({detail}). Install it, or use another scanner.",
            "本工作站未安装 {what} 支持（{detail}）。请安装后使用，或改用其他扫描仪。",
        )


# --- SANE --------------------------------------------------------------------------------------

# sane_strstatus() texts (sanei/sane_strstatus.c), lower-cased -> class. Backends return these
# untranslated; we match on a stable prefix.
_SANE_TEXTS: list[tuple[str, type[DeviceFault]]] = [
    ("document feeder jammed", PaperJam),
    ("document feeder out of documents", FeederEmpty),
    ("scanner cover is open", CoverOpen),
    ("device busy", DeviceBusy),
    ("error during device i/o", DeviceIOError),
    ("operation was cancelled", Cancelled),
    ("access to resource has been denied", DeviceAccessDenied),
    ("out of memory", DeviceOutOfMemory),
    ("lamp not ready", DeviceWarmingUp),
    ("scanner mechanism locked", DeviceLocked),
    ("operation not supported", SettingRejected),
    ("end of file reached", DeviceIOError),
    ("scanner returned no data", DeviceIOError),
    ("sanedev object is closed", DeviceOffline),
    ("no such scan device", DeviceOffline),
]

# SANE status names (as the test backend's read-return-value option spells them) -> strstatus text.
SANE_STATUS_TEXTS = {
    "SANE_STATUS_UNSUPPORTED": "Operation not supported",
    "SANE_STATUS_CANCELLED": "Operation was cancelled",
    "SANE_STATUS_DEVICE_BUSY": "Device busy",
    "SANE_STATUS_INVAL": "Invalid argument",
    "SANE_STATUS_EOF": "End of file reached",
    "SANE_STATUS_JAMMED": "Document feeder jammed",
    "SANE_STATUS_NO_DOCS": "Document feeder out of documents",
    "SANE_STATUS_COVER_OPEN": "Scanner cover is open",
    "SANE_STATUS_IO_ERROR": "Error during device I/O",
    "SANE_STATUS_NO_MEM": "Out of memory",
    "SANE_STATUS_ACCESS_DENIED": "Access to resource has been denied",
}


def sane_status_name(status: str) -> str:
    """'jammed', 'JAMMED' or 'SANE_STATUS_JAMMED' -> 'SANE_STATUS_JAMMED' (for fault injection)."""
    name = status.strip().upper().replace("-", "_")
    if not name.startswith("SANE_STATUS_"):
        name = "SANE_STATUS_" + name
    if name not in SANE_STATUS_TEXTS:
        raise base_errors.InvalidInput(
            "Unknown scanner status {s!r}. Use one of: {names}.",
            "未知的扫描仪状态 {s!r}。可用：{names}。",
            s=status,
            names=", ".join(n[12:].lower() for n in SANE_STATUS_TEXTS),
        )
    return name


def map_sane_error(
    exc: BaseException | str, *, page: int | None = None, device: str | None = None, stage: str = "scan"
) -> DeviceFault:
    """Map a python-sane error (``_sane.error`` or ``RuntimeError``, or just its text) to a typed error.

    ``stage`` is "open" while opening the device: there "Invalid argument" means the device name is
    unknown or the device went away; elsewhere it means a setting was refused.
    ``page`` is the page number being scanned (None outside a scan).
    """
    text = str(exc).strip()
    low = text.lower()
    if low.startswith("invalid argument"):
        if stage == "open":
            return DeviceOffline(None, device=device, detail=text)
        return SettingRejected(page, device=device, detail=text)
    for prefix, cls in _SANE_TEXTS:
        if low.startswith(prefix):
            if cls is FeederEmpty or cls in (
                DeviceBusy,
                DeviceOffline,
                DeviceAccessDenied,
                DeviceWarmingUp,
                DeviceLocked,
                SettingRejected,
            ):
                return cls(None, device=device, detail=text)
            return cls(page, device=device, detail=text)
    if isinstance(exc, RuntimeError) and ("eof" in low or "no data" in low):
        return DeviceIOError(page, device=device, detail=text)
    return DeviceFault(page, device=device, detail=text or type(exc).__name__)


def fault_for_status(status: str, *, page: int | None = None, device: str | None = None) -> DeviceFault:
    """The error a SANE status would produce (used by simulated devices so they fail exactly like SANE)."""
    return map_sane_error(SANE_STATUS_TEXTS[sane_status_name(status)], page=page, device=device)


# --- TWAIN -------------------------------------------------------------------------------------

# TWAIN 2.x condition codes (TWCC_*), as in pytwain's twain.lowlevel.constants.
TWCC = {
    "TWCC_SUCCESS": 0,
    "TWCC_BUMMER": 1,
    "TWCC_LOWMEMORY": 2,
    "TWCC_NODS": 3,
    "TWCC_MAXCONNECTIONS": 4,
    "TWCC_OPERATIONERROR": 5,
    "TWCC_BADCAP": 6,
    "TWCC_BADPROTOCOL": 9,
    "TWCC_BADVALUE": 10,
    "TWCC_SEQERROR": 11,
    "TWCC_BADDEST": 12,
    "TWCC_CAPUNSUPPORTED": 13,
    "TWCC_CAPBADOPERATION": 14,
    "TWCC_CAPSEQERROR": 15,
    "TWCC_DENIED": 16,
    "TWCC_FILEEXISTS": 17,
    "TWCC_FILENOTFOUND": 18,
    "TWCC_NOTEMPTY": 19,
    "TWCC_PAPERJAM": 20,
    "TWCC_PAPERDOUBLEFEED": 21,
    "TWCC_FILEWRITEERROR": 22,
    "TWCC_CHECKDEVICEONLINE": 23,
    "TWCC_INTERLOCK": 24,
    "TWCC_DAMAGEDCORNER": 25,
    "TWCC_FOCUSERROR": 26,
    "TWCC_DOCTOOLIGHT": 27,
    "TWCC_DOCTOODARK": 28,
    "TWCC_NOMEDIA": 29,
}
_TWCC_NAMES = {v: k for k, v in TWCC.items()}

_TWCC_CLASSES: dict[int, type[DeviceFault]] = {
    2: DeviceOutOfMemory,
    3: DeviceOffline,  # no data source: the scanner is not there
    4: DeviceBusy,  # maximum connections: another program holds it
    6: SettingRejected,
    10: SettingRejected,
    13: SettingRejected,
    14: SettingRejected,
    15: SettingRejected,
    20: PaperJam,
    21: DoubleFeed,
    23: DeviceOffline,
    24: CoverOpen,  # interlock: a cover or door is open
    25: PaperJam,  # damaged corner: the sheet stopped in the feeder
    29: FeederEmpty,
}

# pytwain's exception classes (twain.exceptions) -> condition code; MemoryError/ValueError are what
# pytwain raises for TWCC_LOWMEMORY/TWCC_BADVALUE.
_PYTWAIN_CLASSES = {
    "GeneralFailure": 1,
    "MemoryError": 2,
    "NoDataSourceError": 3,
    "MaxConnectionsError": 4,
    "OperationError": 5,
    "BadCapability": 6,
    "BadProtocol": 9,
    "ValueError": 10,
    "SequenceError": 11,
    "BadDestination": 12,
    "CapUnsupported": 13,
    "CapBadOperation": 14,
    "CapSeqError": 15,
    "DeniedError": 16,
    "FileExistsError": 17,
    "FileNotFoundError": 18,
    "NotEmptyError": 19,
    "PaperJam": 20,
    "PaperDoubleFeedError": 21,
    "FileWriteError": 22,
    "CheckDeviceOnlineError": 23,
}


def twain_condition_error(
    code: int, *, page: int | None = None, device: str | None = None, detail: str | None = None
) -> ScanStationError:
    """Map a TWAIN condition code (TWCC_*) to a typed error."""
    name = _TWCC_NAMES.get(code, f"TWCC {code}")
    detail = detail or name
    if code == 22:  # the source could not write the transferred file: our disk, not the scanner
        return base_errors.StorageError(
            "The scanned image could not be written to disk ({detail}). Free disk space, then continue scanning.",
            "扫描图像无法写入磁盘（{detail}）。请清理磁盘空间后继续扫描。",
            detail=detail,
        )
    cls = _TWCC_CLASSES.get(code, DeviceFault)
    if cls in (DeviceBusy, DeviceOffline, SettingRejected, FeederEmpty):
        return cls(None, device=device, detail=detail)
    return cls(page, device=device, detail=detail)


def map_twain_error(exc: BaseException, *, page: int | None = None, device: str | None = None) -> ScanStationError:
    """Map an exception raised by pytwain to a typed error."""
    cls_name = type(exc).__name__
    if cls_name == "DSTransferCancelled":
        return Cancelled(page, device=device, detail="DSTransferCancelled")
    if cls_name in ("SMLoadFileFailed", "SMGetProcAddressFailed", "SMOpenFailed"):
        return BackendMissing("TWAIN", device=device, detail=f"{cls_name}: {exc}".rstrip(": "))
    if cls_name in _PYTWAIN_CLASSES:
        code = _PYTWAIN_CLASSES[cls_name]
        return twain_condition_error(code, page=page, device=device, detail=f"{_TWCC_NAMES[code]}")
    found = re.search(r"ConditionCode\s*=\s*(\d+)", str(exc))
    if found:
        return twain_condition_error(int(found.group(1)), page=page, device=device)
    return DeviceFault(page, device=device, detail=f"{cls_name}: {exc}".rstrip(": "))


# --- across the worker boundary ----------------------------------------------------------------


def _error_classes() -> dict[str, type[ScanStationError]]:
    found: dict[str, type[ScanStationError]] = {}
    for module in (base_errors, globals()):
        items = vars(module).items() if not isinstance(module, dict) else module.items()
        for name, value in items:
            if isinstance(value, type) and issubclass(value, ScanStationError):
                found[value.__name__] = value
    return found


def error_to_message(err: ScanStationError) -> dict:
    return {
        "class": type(err).__name__,
        "en": err.en,
        "zh": err.zh,
        "fields": {k: v for k, v in err.fields.items() if isinstance(v, (str, int, float, type(None)))},
    }


def error_from_message(message: dict) -> ScanStationError:
    """Rebuild an error sent by a worker: same class, same texts, same fields."""
    cls = _error_classes().get(message.get("class", ""), DeviceFault)
    err = cls.__new__(cls)
    ScanStationError.__init__(err, message.get("en", ""), message.get("zh"))
    err.fields = dict(message.get("fields") or {})
    if isinstance(err, DeviceFault):
        err.result = None
    return err
