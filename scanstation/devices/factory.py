"""Which backend serves a device id, which scanners this station has, and which one to use.

Kept apart from the protocol (``scanstation.devices.base``) so that the protocol imports no backend and
every backend imports only the protocol. A new scanner backend is a module beside the others that
implements ``base.Scanner``, plus its id prefix in ``base.BACKEND_PREFIXES`` and a branch in
``open_backend`` (and in ``all_devices`` when it can list devices by itself).

``open_backend`` is looked up here at the moment of each scan, so a benchmark or a test can serve a
recorded device by replacing ``scanstation.devices.factory.open_backend``.
"""

from __future__ import annotations

import logging
import sys

from scanstation.devices.base import DeviceInfo, Scanner, canonical_device_id
from scanstation.errors import NotFound, Refused

log = logging.getLogger(__name__)


def open_backend(device_id: str) -> Scanner:
    """The backend that serves ``device_id`` (a plain SANE name is accepted, see ``canonical_device_id``)."""
    device_id = canonical_device_id(device_id)
    kind = device_id.split(":", 1)[0]
    if device_id == "demo":
        from scanstation.devices.demo_backend import DemoScanner

        return DemoScanner()
    if kind == "sane":
        from scanstation.devices.sane_backend import SaneScanner

        return SaneScanner()
    if kind == "twain":
        from scanstation.devices.twain_backend import TwainScanner

        return TwainScanner()
    if kind == "folder":
        from scanstation.devices.folder_backend import FolderScanner

        return FolderScanner()
    raise NotFound(
        "Unknown scanner {d!r}. Run 'scanstation devices' to list the scanners of this station.",
        "未知的扫描仪 {d!r}。请运行 “scanstation devices” 查看本工作站的扫描仪。",
        d=device_id,
    )


DEMO_DEVICE = "demo"


def demo_scanner_allowed(home) -> bool:
    """The demo scanner invents its pages: it serves only a demo home (``station.demo``) or a station where an
    administrator switched training on (``capture.demo_scanner``, audited). Never a default, never a fallback."""
    from scanstation import settings

    return bool(settings.get(home, "station.demo") or settings.get(home, "capture.demo_scanner"))


def check_device_allowed(home, device_id: str) -> None:
    """Refuse the demo scanner on a real station, before anything is written."""
    if canonical_device_id(device_id) == DEMO_DEVICE and not demo_scanner_allowed(home):
        raise Refused(
            "The demo scanner invents its pages (forms for training); it is not used on a real station, so "
            "nothing was scanned. Choose a real scanner (see: scanstation devices). For training, an "
            "administrator switches the demo scanner on with: scanstation training on",
            "演示扫描仪生成的是虚构的表单页面（仅用于培训），真实工作站不使用，未扫描任何页面。请选择真实扫描仪"
            "（见 scanstation devices）。如需培训，请管理员运行 scanstation training on 开启演示扫描仪。",
        )


def default_device(home, profile_device: str | None, timeout_s: float = 20.0) -> str:
    """The scanner to use when none was named: the profile's device, else the only real scanner found, else a
    plain message asking for one. The demo scanner is never chosen on a real station."""
    wanted = canonical_device_id(profile_device or "")
    if wanted and (wanted != DEMO_DEVICE or demo_scanner_allowed(home)):
        return wanted
    found = all_devices(timeout_s)
    if len(found) == 1:
        return found[0].id
    if not found:
        raise Refused(
            "No scanner was found and the scan profile names none; nothing was scanned. Connect and switch "
            "on the scanner, then run 'scanstation devices' and pass --device ID.",
            "未找到扫描仪，扫描方案也未指定扫描仪，未扫描任何页面。请连接并打开扫描仪，然后运行 "
            "scanstation devices 查看，并用 --device 编号 指定。",
        )
    raise Refused(
        "Several scanners were found ({ids}) and the scan profile names none; nothing was scanned. "
        "Choose one with --device ID.",
        "找到多台扫描仪（{ids}），扫描方案未指定使用哪一台，未扫描任何页面。请用 --device 编号 指定一台。",
        ids=", ".join(d.id for d in found),
    )


def all_devices(timeout_s: float = 20.0, *, demo: bool = False) -> list[DeviceInfo]:
    """Every scanner this station can use: SANE (Linux) or TWAIN (Windows) devices, with the demo scanner first
    when ``demo`` is asked for (callers ask only where ``demo_scanner_allowed``). A backend that fails or hangs
    during discovery is skipped and logged, so the list always opens."""
    devices: list[DeviceInfo] = []
    if demo:
        from scanstation.devices.demo_backend import DemoScanner

        devices.extend(DemoScanner().list_devices())
    if sys.platform == "win32":
        from scanstation.devices.twain_backend import TwainScanner

        backends: list[Scanner] = [TwainScanner()]
    else:
        from scanstation.devices.sane_backend import SaneScanner

        backends = [SaneScanner(open_timeout_s=timeout_s)]
    for backend in backends:
        try:
            devices.extend(backend.list_devices())
        except Exception as exc:  # discovery of one backend must not hide the others
            log.warning("scanner discovery failed for %s: %s", backend.backend, exc)
    return devices
