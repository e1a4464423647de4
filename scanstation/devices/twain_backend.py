"""TWAIN scanners (Windows) through pytwain, behind the same Scanner protocol.

pytwain (``import twain``) is imported only when a TWAIN device is used, so this module loads on
every platform. A TWAIN source runs inside the calling process and needs a window handle for its
message loop (``parent_window``); call ``scan`` from the thread that owns that window.

Pages are transferred as files (``ICAP_XFERMECH = TWSX_FILE``, BMP: lossless) straight into the
scan's spool folder; a source that cannot transfer files is used through native transfers, saved
as BMP the same way. Errors are pytwain exceptions (one class per TWAIN condition code, or
``UnknownError("ConditionCode = N")``), mapped by ``errors.map_twain_error``.
"""

from __future__ import annotations

import importlib
import os

from scanstation.devices import errors as dev_errors
from scanstation.devices.base import (
    MIN_DPI,
    MODES,
    CancelToken,
    Capabilities,
    DeviceInfo,
    PageCallback,
    ScannedPage,
    ScanResult,
    ScanSettings,
    make_spool_dir,
    side_for,
)
from scanstation.errors import InvalidInput, NotFound, ScanStationError

MM_PER_INCH = 25.4
_PIXEL_TYPES = {"lineart": "TWPT_BW", "gray": "TWPT_GRAY", "color": "TWPT_RGB"}
_TWPT = {"TWPT_BW": 0, "TWPT_GRAY": 1, "TWPT_RGB": 2}
_TWSX_FILE = 1  # pytwain's acquire_file sets the transfer mechanism and BMP itself
_TWUN_INCHES = 0
_TWDX_NONE = 0
_TWTY_INT16, _TWTY_UINT16, _TWTY_BOOL, _TWTY_FIX32 = 1, 4, 6, 7


def _twain():
    try:
        return importlib.import_module("twain")
    except ImportError as exc:
        raise dev_errors.BackendMissing("TWAIN (pytwain)", detail=str(exc)) from None


def _source_name(device_id: str) -> str:
    if not device_id.startswith("twain:") or len(device_id) <= 6:
        raise NotFound(
            "{d!r} is not a TWAIN scanner id (expected twain:NAME).",
            "{d!r} 不是 TWAIN 扫描仪编号（应为 twain:名称）。",
            d=device_id,
        )
    return device_id[6:]


def _values(cap_value) -> list:
    """The list of values a pytwain get_capability() answer allows: enumeration (type, (cur, default,
    values)), array (type, values), range dict, or one value (type, value)."""
    if isinstance(cap_value, dict):
        lo, hi, step = cap_value["MinValue"], cap_value["MaxValue"], cap_value.get("StepSize") or 1
        common = [200, 240, 300, 400, 600, 1200]
        return [v for v in common if lo <= v <= hi and abs((v - lo) / step - round((v - lo) / step)) < 1e-6]
    if isinstance(cap_value, tuple) and len(cap_value) == 2:
        value = cap_value[1]
        if isinstance(value, tuple) and len(value) == 3 and isinstance(value[2], list):
            return list(value[2])
        if isinstance(value, list):
            return value
        return [value]
    return []


def _current(cap_value):
    if isinstance(cap_value, dict):
        return cap_value.get("CurrentValue")
    if isinstance(cap_value, tuple) and len(cap_value) == 2:
        value = cap_value[1]
        if isinstance(value, tuple) and len(value) == 3 and isinstance(value[2], list):
            return value[2][value[0]]
        return value
    return None


class TwainScanner:
    backend = "twain"

    def __init__(self, *, parent_window=None, show_ui: bool = False):
        self.parent_window = parent_window
        self.show_ui = show_ui

    # -- helpers ---------------------------------------------------------------------------------

    def _open(self, name: str | None = None):
        tw = _twain()
        try:
            manager = tw.SourceManager(self.parent_window)
        except ScanStationError:
            raise
        except Exception as exc:
            raise dev_errors.map_twain_error(exc, device=name) from None
        if name is None:
            return tw, manager, None
        try:
            source = manager.open_source(name)
        except Exception as exc:
            manager.close()
            raise dev_errors.map_twain_error(exc, device=name) from None
        if source is None:
            manager.close()
            raise dev_errors.DeviceOffline(None, device=name, detail="source not opened")
        return tw, manager, source

    @staticmethod
    def _get(source, cap, current=False):
        try:
            return source.get_capability_current(cap) if current else source.get_capability(cap)
        except Exception:
            return None  # the source lacks the capability: tolerate

    @staticmethod
    def _set(tw, source, cap, type_id, value, *, required: bool, what: str, name: str) -> None:
        try:
            source.set_capability(cap, type_id, value)
        except tw.exceptions.CheckStatus:
            pass  # accepted with a changed value: read back where it matters
        except Exception as exc:
            if required:
                err = dev_errors.map_twain_error(exc, device=name)
                if isinstance(err, dev_errors.SettingRejected):
                    raise dev_errors.SettingRejected(None, device=name, detail=f"{what}={value}") from None
                raise err from None

    def _info(self, tw, source, device_id: str, name: str) -> DeviceInfo:
        identity = {}
        try:
            identity = dict(source.identity)
        except Exception:
            pass
        serial = _current(self._get(source, tw.CAP_SERIALNUMBER, current=True)) or ""
        return DeviceInfo(
            id=device_id,
            backend="twain",
            maker=str(identity.get("Manufacturer", "")),
            model=str(identity.get("ProductName", name)),
            serial=str(serial),
            label=name,
        )

    # -- protocol --------------------------------------------------------------------------------

    def list_devices(self) -> list[DeviceInfo]:
        _, manager, _ = self._open()
        try:
            names = list(manager.source_list)
        except Exception as exc:
            raise dev_errors.map_twain_error(exc) from None
        finally:
            manager.close()
        return [DeviceInfo(id=f"twain:{n}", backend="twain", model=n, label=n) for n in names]

    def capabilities(self, device_id: str) -> Capabilities:
        name = _source_name(device_id)
        tw, manager, source = self._open(name)
        try:
            resolutions = tuple(
                sorted({int(round(v)) for v in _values(self._get(source, tw.ICAP_XRESOLUTION)) if v >= MIN_DPI})
            )
            pixel_types = set(_values(self._get(source, tw.ICAP_PIXELTYPE)))
            modes = tuple(m for m in MODES if _TWPT[_PIXEL_TYPES[m]] in pixel_types)
            feeder = self._get(source, tw.CAP_FEEDERENABLED)
            duplex = _current(self._get(source, tw.CAP_DUPLEX))
            sources = []
            if feeder is None or False in _values(feeder) or 0 in _values(feeder):
                sources.append("flatbed")
            if feeder is not None:
                sources.append("adf")
                if duplex not in (None, _TWDX_NONE):
                    sources.append("duplex")
            w = _current(self._get(source, tw.ICAP_PHYSICALWIDTH))
            h = _current(self._get(source, tw.ICAP_PHYSICALHEIGHT))
            size = (round(w * MM_PER_INCH, 1), round(h * MM_PER_INCH, 1)) if w and h else None
            ordered = tuple(s for s in ("flatbed", "adf", "duplex") if s in sources)
            return Capabilities(
                device_id=device_id,
                resolutions=resolutions,
                modes=modes,
                sources=ordered,
                max_page_mm=size,
                max_page_mm_by_source={s: size for s in ordered} if size else {},
            )
        finally:
            source.close()
            manager.close()

    def scan(
        self, device_id: str, settings: ScanSettings, on_page: PageCallback, cancel: CancelToken | None = None
    ) -> ScanResult:
        name = _source_name(device_id)
        tw, manager, source = self._open(name)
        spool = make_spool_dir(settings)
        result = ScanResult(
            device_id=device_id,
            pages=[],
            ended_by="error",
            first_page_number=settings.first_page_number,
            spool_dir=spool,
        )
        try:
            info = self._info(tw, source, device_id, name)
            self._configure(tw, source, settings, name)
            limit = 1 if settings.source == "flatbed" else settings.page_limit
            state = {"image_info": {}, "stopped_by": None}

            def page_path() -> str:
                return os.path.join(spool, f"page-{len(result.pages) + 1:04d}.bmp")

            def before(image_info) -> str:
                state["image_info"] = dict(image_info or {})
                dpi = int(round(float(state["image_info"].get("XResolution") or settings.dpi)))
                if dpi < MIN_DPI:
                    state["stopped_by"] = InvalidInput(
                        "The scanner delivered {dpi} dpi; below {min} dpi is never stored (rule R02).",
                        "扫描仪输出 {dpi} dpi；低于 {min} dpi 的图像不予保存（规则 R02）。",
                        dpi=dpi,
                        min=MIN_DPI,
                    )
                    raise tw.exceptions.CancelAll()
                return page_path()

            def deliver(path: str) -> None:
                ii = state["image_info"]
                index = len(result.pages)
                width, height = ii.get("ImageWidth"), ii.get("ImageLength")
                if not width or not height or width < 0 or height < 0:
                    from PIL import Image

                    with Image.open(path) as im:
                        width, height = im.size
                page = ScannedPage(
                    index=index,
                    page_number=settings.first_page_number + index,
                    path=path,
                    width=int(width),
                    height=int(height),
                    dpi=int(round(float(ii.get("XResolution") or settings.dpi))),
                    mode=settings.mode,
                    side=side_for(index, settings.source),
                    device=info,
                    format="bmp",
                )
                result.pages.append(page)
                try:
                    on_page(page)
                except BaseException as exc:  # the station's own error (disk full...): stop, re-raise as is
                    state["stopped_by"] = exc
                    raise tw.exceptions.CancelAll() from None
                if cancel is not None and cancel.cancelled:
                    state["stopped_by"] = "cancelled"
                    raise tw.exceptions.CancelAll()
                if limit is not None and len(result.pages) >= limit:
                    state["stopped_by"] = "page_limit"
                    raise tw.exceptions.CancelAll()

            if cancel is not None and cancel.cancelled:
                result.ended_by = "cancelled"
                return result
            try:
                if self._file_transfer(tw, source):

                    def before_file(image_info) -> str:
                        state["path"] = before(image_info)
                        return state["path"]

                    source.acquire_file(
                        before=before_file, after=lambda more: deliver(state["path"]), show_ui=self.show_ui, modal=False
                    )
                else:

                    def native(image, more) -> None:
                        path = page_path()
                        try:
                            image.save(path)
                        finally:
                            image.close()
                        deliver(path)

                    def before_native(image_info) -> None:
                        before(image_info)

                    source.acquire_natively(after=native, before=before_native, show_ui=self.show_ui, modal=False)
            except ScanStationError:
                raise
            except Exception as exc:
                if isinstance(state["stopped_by"], BaseException):
                    raise state["stopped_by"] from None
                err = dev_errors.map_twain_error(exc, page=result.next_page_number, device=name)
                if isinstance(err, dev_errors.FeederEmpty) and result.pages:
                    result.ended_by = "feeder_empty"
                    return result
                if isinstance(err, dev_errors.Cancelled) and cancel is not None and cancel.cancelled:
                    result.ended_by = "cancelled"
                    return result
                if isinstance(err, dev_errors.DeviceFault):
                    result.error, err.result = err, result
                raise err from None
            stopped = state["stopped_by"]
            if isinstance(stopped, BaseException):
                raise stopped
            if stopped:
                result.ended_by = stopped
            elif cancel is not None and cancel.cancelled:
                result.ended_by = "cancelled"
            elif result.pages:
                result.ended_by = "feeder_empty"
            else:
                err = dev_errors.FeederEmpty(None, device=name, detail="no page transferred")
                result.error, err.result = err, result
                raise err
            return result
        finally:
            source.close()
            manager.close()

    def _file_transfer(self, tw, source) -> bool:
        mechs = _values(self._get(source, tw.ICAP_XFERMECH))
        return _TWSX_FILE in mechs

    def _configure(self, tw, source, settings: ScanSettings, name: str) -> None:
        feeder = settings.source in ("adf", "duplex")
        self._set(tw, source, tw.CAP_FEEDERENABLED, _TWTY_BOOL, feeder, required=feeder, what="feeder", name=name)
        if settings.source == "duplex":
            duplex = _current(self._get(source, tw.CAP_DUPLEX))
            if duplex in (None, _TWDX_NONE):
                raise InvalidInput("This scanner has no duplex source.", "此扫描仪不支持双面扫描。")
            self._set(tw, source, tw.CAP_DUPLEXENABLED, _TWTY_BOOL, True, required=True, what="duplex", name=name)
        elif feeder:
            self._set(tw, source, tw.CAP_DUPLEXENABLED, _TWTY_BOOL, False, required=False, what="duplex", name=name)
        if feeder:
            loaded = _current(self._get(source, tw.CAP_FEEDERLOADED, current=True))
            if loaded is False or loaded == 0:
                raise dev_errors.FeederEmpty(None, device=name, detail="CAP_FEEDERLOADED is false")
        self._set(tw, source, tw.ICAP_UNITS, _TWTY_UINT16, _TWUN_INCHES, required=False, what="units", name=name)
        pixel_type = _TWPT[_PIXEL_TYPES[settings.mode]]
        self._set(tw, source, tw.ICAP_PIXELTYPE, _TWTY_UINT16, pixel_type, required=True, what="mode", name=name)
        if settings.mode == "lineart":
            self._set(tw, source, tw.ICAP_BITDEPTH, _TWTY_UINT16, 1, required=False, what="bit depth", name=name)
        for cap in (tw.ICAP_XRESOLUTION, tw.ICAP_YRESOLUTION):
            self._set(tw, source, cap, _TWTY_FIX32, float(settings.dpi), required=True, what="dpi", name=name)
        actual = _current(self._get(source, tw.ICAP_XRESOLUTION, current=True))
        if actual is not None and int(round(float(actual))) != settings.dpi:
            raise InvalidInput(
                "This scanner cannot scan at {dpi} dpi (it offers {actual} dpi). Choose another resolution.",
                "此扫描仪不支持 {dpi} dpi（实际为 {actual} dpi）。请选择其他分辨率。",
                dpi=settings.dpi,
                actual=int(round(float(actual))),
            )
        count = (
            -1
            if settings.source != "flatbed" and not settings.page_limit
            else (1 if settings.source == "flatbed" else int(settings.page_limit))
        )
        self._set(tw, source, tw.CAP_XFERCOUNT, _TWTY_INT16, count, required=False, what="count", name=name)
        w_in, h_in = (v / MM_PER_INCH for v in settings.page_size_mm)
        try:
            source.set_image_layout((0.0, 0.0, w_in, h_in))
        except tw.exceptions.CheckStatus:
            pass  # the source adjusted the frame to what it can do
        except Exception as exc:
            err = dev_errors.map_twain_error(exc, device=name)
            if not isinstance(err, dev_errors.SettingRejected):
                raise err from None
