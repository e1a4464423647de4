"""Scanners: one protocol (``base.Scanner``), backends chosen by device id (``factory``), typed device errors.

    from scanstation.devices import ScanSettings, CancelToken
    from scanstation.devices.factory import open_backend, all_devices
    scanner = open_backend("sane:fujitsu:fi-7160:1234")
    result = scanner.scan(device_id, ScanSettings(source="adf", mode="color", dpi=300), on_page, token)

Backends: ``sane_backend`` (Linux, driver in a worker process), ``twain_backend`` (Windows),
``folder_backend`` (hot folder and file import), ``demo_backend`` (generated pages, always present).
Errors: ``scanstation.devices.errors``.
"""

from scanstation.devices.base import (
    PAGE_SIZES_MM,
    CancelToken,
    Capabilities,
    DeviceInfo,
    ScannedPage,
    Scanner,
    ScanResult,
    ScanSettings,
    parse_page_size,
)

__all__ = [
    "PAGE_SIZES_MM",
    "Capabilities",
    "CancelToken",
    "DeviceInfo",
    "Scanner",
    "ScannedPage",
    "ScanResult",
    "ScanSettings",
    "parse_page_size",
]
