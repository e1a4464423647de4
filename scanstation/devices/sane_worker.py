"""The SANE side of the driver boundary: runs inside a worker process, never in the station.

A SANE driver that segfaults or hangs takes this process with it, not the station (pattern 3).
The parent (``sane_backend``) starts ``main(request, events, commands)`` in a spawned process:

* ``request`` says what to do: ``{"op": "list"}``, ``{"op": "capabilities", "device": NAME}`` or
  ``{"op": "scan", "device": NAME, "settings": {...}, "spool_dir": PATH}``;
* ``events`` carries plain dicts to the parent: ``devices``, ``capabilities``, ``started``,
  ``progress`` (heartbeat for the watchdog, sent while lines arrive), ``page`` (one per page file,
  sent after the file is complete), ``end`` and ``error`` (a typed error as class name + texts);
* ``commands`` carries ``{"type": "cancel"}`` from the parent; when the parent goes away the pipe
  closes, which also cancels.

Page files are written as ``.part`` and renamed, so a page file that exists is complete.
"""

from __future__ import annotations

import os
import sys
import threading
import time
import traceback

from scanstation.devices import errors as dev_errors
from scanstation.devices.base import MIN_DPI, side_for, write_page_file
from scanstation.errors import InvalidInput, ScanStationError

HEARTBEAT_S = 0.5
GEOMETRY_TOLERANCE_MM = 1.0  # devices often report 215.9 x 296.9 for "A4 and letter"

_COLOR_WORDS = ("color", "colour", "rgb")
_GRAY_WORDS = ("gray", "grey")
_LINEART_WORDS = ("lineart", "line art", "binary", "black & white", "black and white", "bw", "mono")


class _CancelRequested(Exception):
    pass


# --- matching device vocabularies (pure functions) ---------------------------------------------


def match_mode(wanted: str, available: list[str]) -> str | None:
    words = {"color": _COLOR_WORDS, "gray": _GRAY_WORDS, "lineart": _LINEART_WORDS}[wanted]
    for value in available:
        low = value.lower()
        if wanted == "gray" and "color" in low:
            continue
        if any(w == low or w in low.split() or (len(w) > 3 and w in low) for w in words):
            return value
    return None


def _is_feeder(low: str) -> bool:
    return "adf" in low or "feeder" in low or "automatic document" in low or "sheet" in low


def match_source(wanted: str, available: list[str]) -> str | None:
    """Pick the device's name for flatbed / adf / duplex among names that vary by driver
    ("Flatbed", "Automatic Document Feeder", "ADF", "ADF Front", "ADF Duplex", "Duplex", ...)."""
    lows = [(v, v.lower()) for v in available]
    if wanted == "duplex":
        return next((v for v, low in lows if "duplex" in low), None)
    if wanted == "adf":
        feeders = [(v, low) for v, low in lows if _is_feeder(low) and "duplex" not in low and "back" not in low]
        front = [v for v, low in feeders if "front" in low]
        return front[0] if front else (feeders[0][0] if feeders else None)
    for v, low in lows:
        if "flatbed" in low or "platen" in low or "document table" in low or low == "normal":
            return v
    return None


def usable_resolutions(constraint) -> tuple[int, ...]:
    """Resolutions >= MIN_DPI a SANE resolution option allows (word list or (min, max, quant) range)."""
    common = (200, 240, 300, 400, 600, 1200)
    if isinstance(constraint, tuple):  # python-sane: ranges are tuples, word lists are lists
        lo, hi, quant = constraint
        quant = quant or 1
        found = [r for r in common if lo <= r <= hi and abs(((r - lo) / quant) - round((r - lo) / quant)) < 1e-6]
        return tuple(found)
    if isinstance(constraint, list):
        return tuple(sorted({int(round(v)) for v in constraint if v >= MIN_DPI}))
    return common


# --- option access that tolerates devices lacking an option ------------------------------------


def _option(dev, name: str):
    opt = dev.opt.get(name.replace("-", "_"))
    if opt is None or not opt.is_active():
        return None
    return opt


def _set(dev, name: str, value, *, device: str) -> bool:
    import _sane

    opt = _option(dev, name)
    if opt is None or not opt.is_settable():
        return False
    if opt.type == _sane.TYPE_FIXED:
        value = float(value)
    elif opt.type in (_sane.TYPE_INT, _sane.TYPE_BOOL):
        value = int(round(value)) if not isinstance(value, bool) else int(value)
    else:
        value = str(value)
    try:
        setattr(dev, opt.py_name, value)
    except _sane.error as exc:
        raise dev_errors.SettingRejected(None, device=device, detail=f"{name}={value}: {exc}") from None
    return True


def _get(dev, name: str, default=None):
    opt = _option(dev, name)
    if opt is None:
        return default
    try:
        return getattr(dev, opt.py_name)
    except Exception:
        return default


def _range_max(dev, name: str) -> float | None:
    opt = _option(dev, name)
    if opt is None or opt.constraint is None:
        return None
    c = opt.constraint
    if isinstance(c, tuple):
        return float(c[1])
    if isinstance(c, list) and c:
        return float(max(c))
    return None


def _geometry_to_mm(value: float, unit: int, dpi: float) -> float:
    import _sane

    return value / dpi * 25.4 if unit == _sane.UNIT_PIXEL else value


def _mm_to_geometry(mm: float, unit: int, dpi: float) -> float:
    import _sane

    return mm / 25.4 * dpi if unit == _sane.UNIT_PIXEL else mm


# --- operations --------------------------------------------------------------------------------


def _list(events) -> None:
    import sane

    sane.init()
    devices = [{"name": d[0], "vendor": d[1], "model": d[2], "type": d[3]} for d in sane.get_devices()]
    events.send({"type": "devices", "devices": devices})


def _open(name: str):
    import sane

    sane.init()
    try:
        return sane.open(name)
    except Exception as exc:
        raise dev_errors.map_sane_error(exc, device=name, stage="open") from None


def _sources(dev) -> dict[str, str | None]:
    src = _option(dev, "source")
    names = list(src.constraint) if src is not None and isinstance(src.constraint, list) else []
    found = {s: match_source(s, names) for s in ("flatbed", "adf", "duplex")}
    if not names:
        found["flatbed"] = ""  # no source option: one fixed source, treated as a flatbed
    if found["duplex"] is None and found["adf"] is not None and _duplex_switch(dev) is not None:
        found["duplex"] = found["adf"]
    return found


def _duplex_switch(dev):
    """Some drivers select duplex with a separate option instead of a source name."""
    opt = _option(dev, "duplex")
    if opt is not None and opt.is_settable():
        return ("duplex", True)
    opt = _option(dev, "adf-mode")
    if opt is not None and isinstance(opt.constraint, list):
        value = next((v for v in opt.constraint if "duplex" in v.lower()), None)
        if value:
            return ("adf-mode", value)
    return None


def _modes(dev) -> dict[str, tuple[str | None, int | None]]:
    """our mode -> (device mode name, depth to set)."""
    opt = _option(dev, "mode")
    names = list(opt.constraint) if opt is not None and isinstance(opt.constraint, list) else []
    depth = _option(dev, "depth")
    depths = list(depth.constraint) if depth is not None and isinstance(depth.constraint, list) else []
    found: dict[str, tuple[str | None, int | None]] = {}
    color, gray, lineart = (match_mode(m, names) for m in ("color", "gray", "lineart"))
    if color:
        found["color"] = (color, 8 if 8 in depths else None)
    if gray:
        found["gray"] = (gray, 8 if 8 in depths else None)
    if lineart:
        found["lineart"] = (lineart, 1 if 1 in depths else None)
    elif gray and 1 in depths:
        found["lineart"] = (gray, 1)  # e.g. the test backend: Gray at 1 bit per pixel
    if not names:
        found["gray"] = (None, None)
    return found


def _capabilities(name: str, events) -> None:
    dev = _open(name)
    try:
        res = _option(dev, "resolution") or _option(dev, "x-resolution")
        resolutions = usable_resolutions(res.constraint) if res is not None else ()
        sources = _sources(dev)
        by_source: dict[str, list[float]] = {}
        for ours, theirs in sources.items():
            if theirs is None:
                continue
            if theirs:
                _set(dev, "source", theirs, device=name)
            w = _range_max(dev, "page-width") or _range_max(dev, "br-x")
            h = _range_max(dev, "page-height") or _range_max(dev, "br-y")
            if w and h:
                unit = _option(dev, "br-x").unit if _option(dev, "br-x") is not None else 3
                dpi = float(_get(dev, "resolution", 300) or 300)
                by_source[ours] = [round(_geometry_to_mm(w, unit, dpi), 1), round(_geometry_to_mm(h, unit, dpi), 1)]
        biggest = max(by_source.values(), key=lambda s: s[0] * s[1]) if by_source else None
        events.send(
            {
                "type": "capabilities",
                "capabilities": {
                    "resolutions": list(resolutions),
                    "modes": [m for m in ("color", "gray", "lineart") if m in _modes(dev)],
                    "sources": [s for s in ("flatbed", "adf", "duplex") if sources.get(s) is not None],
                    "max_page_mm": biggest,
                    "max_page_mm_by_source": by_source,
                },
            }
        )
    finally:
        dev.close()


def _apply_settings(dev, name: str, settings: dict) -> int:
    """Set source, mode, resolution and page geometry; returns the dpi the device will really use."""
    source = settings["source"]
    sources = _sources(dev)
    theirs = sources.get(source)
    if theirs is None:
        offered = [s for s, v in sources.items() if v is not None]
        raise InvalidInput(
            "This scanner has no {source} source. It offers: {offered}.",
            "此扫描仪没有“{source}”进纸方式。可用：{offered}。",
            source=source,
            offered=", ".join(offered),
        )
    if theirs:
        _set(dev, "source", theirs, device=name)
    if source == "duplex" and "duplex" not in theirs.lower():
        switch = _duplex_switch(dev)
        if switch:
            _set(dev, switch[0], switch[1], device=name)

    modes = _modes(dev)
    mode = settings["mode"]
    if mode not in modes:
        raise InvalidInput(
            "This scanner cannot scan in {mode} mode. It offers: {offered}.",
            "此扫描仪不支持“{mode}”色彩模式。可用：{offered}。",
            mode=mode,
            offered=", ".join(modes),
        )
    mode_name, depth = modes[mode]
    if mode_name:
        _set(dev, "mode", mode_name, device=name)
    if depth:
        _set(dev, "depth", depth, device=name)

    dpi = int(settings["dpi"])
    res_name = "resolution" if _option(dev, "resolution") is not None else None
    if res_name:
        allowed = usable_resolutions(_option(dev, res_name).constraint)
        opt = _option(dev, res_name)
        in_range = isinstance(opt.constraint, tuple) and opt.constraint[0] <= dpi <= opt.constraint[1]
        if dpi not in allowed and not in_range:
            raise InvalidInput(
                "This scanner cannot scan at {dpi} dpi. It offers: {offered} dpi.",
                "此扫描仪不支持 {dpi} dpi。可用：{offered} dpi。",
                dpi=dpi,
                offered=", ".join(str(r) for r in allowed),
            )
        _set(dev, res_name, dpi, device=name)
    else:
        for axis in ("x-resolution", "y-resolution"):
            _set(dev, axis, dpi, device=name)
    actual = _get(dev, "resolution", None) or _get(dev, "y-resolution", None) or dpi
    actual = int(round(float(actual)))
    if actual < MIN_DPI:
        raise InvalidInput(
            "The scanner set {actual} dpi instead of {dpi} dpi; below {min} dpi is never stored "
            "(rule R02). Choose another resolution.",
            "扫描仪实际分辨率为 {actual} dpi 而非 {dpi} dpi；低于 {min} dpi 的图像不予保存（规则 R02）。请选择其他分辨率。",
            actual=actual,
            dpi=dpi,
            min=MIN_DPI,
        )

    width_mm, height_mm = settings["page_size_mm"]
    for opt_name, mm in (("page-width", width_mm), ("page-height", height_mm)):
        if _option(dev, opt_name) is not None:
            limit = _range_max(dev, opt_name)
            _set(dev, opt_name, min(mm, limit) if limit else mm, device=name)
    for axis, mm in (("x", width_mm), ("y", height_mm)):
        br = _option(dev, f"br-{axis}")
        if br is None:
            continue
        unit = br.unit
        limit = _range_max(dev, f"br-{axis}")
        limit_mm = _geometry_to_mm(limit, unit, actual) if limit is not None else None
        if limit_mm is not None and mm > limit_mm + GEOMETRY_TOLERANCE_MM:
            raise InvalidInput(
                "The page size {w:g}x{h:g} mm is larger than this scanner can scan from this source "
                "({axis}: at most {limit:g} mm). Choose a smaller page size or another scanner.",
                "纸张尺寸 {w:g}x{h:g} 毫米超出此扫描仪当前进纸方式的范围（{axis} 方向最大 {limit:g} 毫米）。"
                "请选择较小的纸张尺寸或其他扫描仪。",
                w=width_mm,
                h=height_mm,
                axis="width" if axis == "x" else "height",
                limit=round(limit_mm, 1),
            )
        _set(dev, f"tl-{axis}", 0.0, device=name)
        target = _mm_to_geometry(mm, unit, actual)
        _set(dev, f"br-{axis}", min(target, limit) if limit is not None else target, device=name)
    return actual


def _scan(request: dict, events, cancel: threading.Event) -> None:
    name = request["device"]
    settings = request["settings"]
    spool_dir = request["spool_dir"]
    first = int(settings["first_page_number"])
    source = settings["source"]
    is_test = name.split(":", 1)[0] == "test"  # test-only hooks are honoured by the SANE test backend only
    fault = tuple(settings["fault_at_page"]) if (is_test and settings.get("fault_at_page")) else None
    hang_after = settings.get("debug_hang_after_page") if is_test else None
    limit = settings.get("page_limit")
    if source == "flatbed":
        limit = 1

    dev = _open(name)
    try:
        dpi = _apply_settings(dev, name, settings)
        if is_test and settings.get("debug_options"):
            for key, value in settings["debug_options"].items():
                _set(dev, key.replace("_", "-"), value, device=name)
        events.send({"type": "started", "dpi": dpi})

        last_beat = [time.monotonic()]

        def progress(line, total):
            if cancel.is_set():
                raise _CancelRequested()
            now = time.monotonic()
            if now - last_beat[0] >= HEARTBEAT_S:
                last_beat[0] = now
                events.send({"type": "progress", "line": line, "lines": total})

        index = 0
        while True:
            if limit is not None and index >= limit:
                ended = "page_limit"
                break
            if cancel.is_set():
                ended = "cancelled"
                break
            page_no = first + index
            if fault and fault[0] == index + 1:
                _set(dev, "read-return-value", dev_errors.sane_status_name(fault[1]), device=name)
            try:
                dev.start()
                image = dev.snap(True, progress)
            except _CancelRequested:
                ended = "cancelled"
                break
            except Exception as exc:
                err = dev_errors.map_sane_error(exc, page=page_no, device=name)
                if isinstance(err, dev_errors.FeederEmpty) and index > 0:
                    ended = "feeder_empty"  # the normal end of an ADF batch
                    break
                if isinstance(err, dev_errors.Cancelled) and cancel.is_set():
                    ended = "cancelled"
                    break
                raise err from None
            path, width, height = write_page_file(image, settings["mode"], spool_dir, index)
            events.send(
                {
                    "type": "page",
                    "index": index,
                    "page_number": page_no,
                    "path": path,
                    "width": width,
                    "height": height,
                    "dpi": dpi,
                    "mode": settings["mode"],
                    "side": side_for(index, source),
                }
            )
            index += 1
            if hang_after is not None and index == int(hang_after):
                while True:  # test-only: behave like a driver stuck inside sane_read
                    time.sleep(3600)
        events.send({"type": "end", "ended_by": ended, "pages": index})
    finally:
        try:
            dev.cancel()
        except Exception:
            pass
        try:
            dev.close()
        except Exception:
            pass


def _listen(commands, cancel: threading.Event) -> None:
    try:
        while True:
            message = commands.recv()
            if message.get("type") == "cancel":
                cancel.set()
    except (EOFError, OSError):
        cancel.set()  # the station went away: stop scanning


def main(request: dict, events, commands) -> None:
    """Worker entry point (runs in the child process)."""
    cancel = threading.Event()
    threading.Thread(target=_listen, args=(commands, cancel), daemon=True, name="cancel-listener").start()
    try:
        try:
            import sane  # noqa: F401
        except ImportError as exc:
            raise dev_errors.BackendMissing("SANE (python-sane)", detail=str(exc)) from None
        op = request.get("op")
        if op == "list":
            _list(events)
        elif op == "capabilities":
            _capabilities(request["device"], events)
        elif op == "scan":
            _scan(request, events, cancel)
        else:
            raise ValueError(f"unknown operation {op!r}")
    except ScanStationError as err:
        _send_error(events, err)
    except BaseException as exc:  # never an exception across the process boundary: a typed message
        traceback.print_exc(file=sys.stderr)
        _send_error(
            events, dev_errors.DeviceFault(None, device=request.get("device"), detail=f"{type(exc).__name__}: {exc}")
        )
    # Leave without the C library's exit handlers: SANE backends that cancel their reader thread
    # (the test backend does) can leave the dynamic loader's lock taken, and exit() then waits forever
    # in _dl_fini. Everything worth keeping has been sent; page files are already renamed.
    try:
        events.close()
    finally:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def _send_error(events, err: ScanStationError) -> None:
    try:
        events.send({"type": "error", "error": dev_errors.error_to_message(err)})
    except (OSError, EOFError):
        pass
