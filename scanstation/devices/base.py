"""The one scanner protocol every backend implements and its value types (the backend factory is
``scanstation.devices.factory``).

Like NAPS2's ``IScanDriver``: list devices, tell their capabilities, scan with a per-page callback
and a cancel token. Device ids say which backend serves them:

* ``demo`` — the demo scanner (demo homes and training only, see ``factory.demo_scanner_allowed``),
* ``sane:<sane device name>`` — e.g. ``sane:test:0``, ``sane:fujitsu:fi-7160:12345``; the plain SANE
  name that ``scanimage -L`` prints (``test:0``) is accepted too (``canonical_device_id``),
* ``twain:<source product name>`` — Windows,
* ``folder:<path>`` — a hot folder that network scanners drop files into.

Pages arrive as files: each ``ScannedPage.path`` is a lossless image written by the backend (PNM
from scanners; the original file, or a lossless TIFF per frame, from a hot folder). Once ``on_page``
has returned, the file belongs to the caller (move, convert or delete it).

``scan()`` returns a ``ScanResult`` when the batch ended normally — the feeder ran empty after at
least one page, the page limit was reached, or the station cancelled — and raises a typed
``DeviceError`` (see ``scanstation.devices.errors``) for a fault, *after* delivering every page
received before it. The raised error carries ``.result`` (the pages delivered, ``ended_by="error"``)
and ``.next_page`` (the page number to continue from).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import sys
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from scanstation.errors import InvalidInput
from scanstation.rules import MIN_DPI  # R02 (also imported from here by the backends)

log = logging.getLogger(__name__)

MAX_DPI = 1200
MODES = ("color", "gray", "lineart")
SOURCES = ("flatbed", "adf", "duplex")
ENDED_BY = ("feeder_empty", "page_limit", "cancelled", "error")
SIDES = ("front", "back")

# Common page sizes, width x height in millimetres (portrait).
PAGE_SIZES_MM: dict[str, tuple[float, float]] = {
    "A3": (297.0, 420.0),
    "A4": (210.0, 297.0),
    "A5": (148.0, 210.0),
    "B4": (250.0, 353.0),  # ISO B4
    "B5": (176.0, 250.0),  # ISO B5
    "16K": (195.0, 270.0),  # Chinese 16开, common for older forms
    "Letter": (215.9, 279.4),
    "Legal": (215.9, 355.6),
}


@dataclass(frozen=True)
class DeviceInfo:
    id: str
    backend: str  # "sane", "twain", "folder", "demo"
    maker: str = ""
    model: str = ""
    serial: str = ""
    label: str = ""  # what to show in a device list

    def display_name(self) -> str:
        return self.label or " ".join(p for p in (self.maker, self.model) if p) or self.id

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class Capabilities:
    device_id: str
    resolutions: tuple[int, ...]  # usable values only (>= 200 dpi)
    modes: tuple[str, ...]  # subset of MODES
    sources: tuple[str, ...]  # subset of SOURCES
    max_page_mm: tuple[float, float] | None  # largest width x height over all sources, None if unknown
    max_page_mm_by_source: dict[str, tuple[float, float]] = field(default_factory=dict)
    default_dpi: int = 300

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


def parse_page_size(value: str | tuple[float, float]) -> tuple[float, float]:
    """'A4', 'a4', '210x297' or (210, 297) -> (210.0, 297.0) millimetres."""
    if isinstance(value, (tuple, list)):
        w, h = value
        return float(w), float(h)
    text = str(value).strip()
    for name, size in PAGE_SIZES_MM.items():
        if name.lower() == text.lower():
            return size
    parts = text.lower().replace("mm", "").replace("×", "x").split("x")
    try:
        w, h = (float(p) for p in parts)
    except ValueError:
        raise InvalidInput(
            "Unknown page size {v!r}. Use a name ({names}) or WIDTHxHEIGHT in millimetres.",
            "无法识别的纸张尺寸 {v!r}。请使用名称（{names}）或“宽x高”（毫米）。",
            v=text,
            names=", ".join(PAGE_SIZES_MM),
        ) from None
    return w, h


@dataclass(frozen=True)
class ScanSettings:
    """What to scan. Refuses values the station never allows (dpi below 200, R02).

    ``first_page_number`` is the page number the clerk sees for the first page of this batch (after a
    jam at page 7, the next batch starts at 7); it is used for page numbers and in messages.

    Test-only hooks, honoured only by the SANE ``test`` backend (and ``fault_at_page`` also by the demo
    scanner, so training and GUI tests can show the jam flow); every other device ignores them:
    ``debug_options`` (extra SANE options by name), ``fault_at_page`` ((n, status): the device fails at
    batch page n with a SANE status such as "jammed", "cover_open", "io_error", "device_busy",
    "no_docs"), ``debug_hang_after_page`` (the driver stops answering after page n).
    """

    source: str = "adf"
    mode: str = "color"  # R01: colour unless a profile says otherwise
    dpi: int = 300  # R02: default 300, never below 200
    page_size_mm: tuple[float, float] = PAGE_SIZES_MM["A4"]
    page_limit: int | None = None  # stop after this many pages (None: until the feeder is empty)
    first_page_number: int = 1
    spool_dir: str | None = None  # where page files are written (a per-scan folder is made inside)
    # Demo scanner: the dossier's catalog fields printed on the pages, its page count, a seed.
    dossier_fields: dict | None = None
    demo_pages: int | None = None
    demo_seed: int = 0
    # Demo scanner: feed these image files as the stack instead (training and tests of split runs).
    demo_stack: tuple[str, ...] | None = None
    # Test-only hooks (see above).
    debug_options: dict | None = None
    fault_at_page: tuple[int, str] | None = None
    debug_hang_after_page: int | None = None

    def __post_init__(self):
        try:
            dpi = int(self.dpi)
        except (TypeError, ValueError):
            raise InvalidInput(
                "The resolution {dpi!r} is not a number of dpi.", "分辨率 {dpi!r} 不是有效的 dpi 数值。", dpi=self.dpi
            ) from None
        if dpi != self.dpi:
            raise InvalidInput(
                "The resolution must be a whole number of dpi, not {dpi}.",
                "分辨率必须是整数 dpi，而不是 {dpi}。",
                dpi=self.dpi,
            )
        if dpi < MIN_DPI:
            raise InvalidInput(
                "{dpi} dpi is below the minimum of {min} dpi for archive masters (rule R02). "
                "Choose {min} dpi or more (300 dpi is the standard).",
                "{dpi} dpi 低于档案母版的最低分辨率 {min} dpi（规则 R02）。请选择 {min} dpi 或更高（标准为 300 dpi）。",
                dpi=dpi,
                min=MIN_DPI,
            )
        if dpi > MAX_DPI:
            raise InvalidInput(
                "{dpi} dpi is above the maximum of {max} dpi. Choose 300 or 600 dpi.",
                "{dpi} dpi 超过最高分辨率 {max} dpi。请选择 300 或 600 dpi。",
                dpi=dpi,
                max=MAX_DPI,
            )
        if self.mode not in MODES:
            raise InvalidInput(
                "Unknown colour mode {m!r}. Use color, gray or lineart.",
                "未知的色彩模式 {m!r}。请使用 color（彩色）、gray（灰度）或 lineart（黑白）。",
                m=self.mode,
            )
        if self.source not in SOURCES:
            raise InvalidInput(
                "Unknown paper source {s!r}. Use flatbed, adf or duplex.",
                "未知的进纸方式 {s!r}。请使用 flatbed（平板）、adf（自动进纸）或 duplex（双面）。",
                s=self.source,
            )
        w, h = parse_page_size(self.page_size_mm)
        if not (10 <= w <= 1000 and 10 <= h <= 5000):
            raise InvalidInput(
                "The page size {w:g}x{h:g} mm is not plausible.", "纸张尺寸 {w:g}x{h:g} 毫米不合理。", w=w, h=h
            )
        object.__setattr__(self, "page_size_mm", (w, h))
        if self.page_limit is not None and int(self.page_limit) < 1:
            raise InvalidInput("The page limit must be at least 1.", "页数上限至少为 1。")
        if int(self.first_page_number) < 1:
            raise InvalidInput("Page numbers start at 1.", "页码从 1 开始。")
        if self.fault_at_page is not None:
            n, status = self.fault_at_page
            object.__setattr__(self, "fault_at_page", (int(n), str(status)))

    def replace(self, **changes) -> ScanSettings:
        return dataclasses.replace(self, **changes)

    def to_dict(self) -> dict:
        return dataclasses.asdict(self)


@dataclass(frozen=True)
class ScannedPage:
    index: int  # 0-based position in this batch
    page_number: int  # the page number the clerk sees: first_page_number + index
    path: str  # lossless image file; the caller's once on_page returns
    width: int
    height: int
    dpi: int
    mode: str  # "color", "gray", "lineart"
    device: DeviceInfo
    side: str = "front"  # "back" for the back sides of a duplex batch
    format: str = "pnm"  # file format of path: "pnm", "tiff", "png", "jpeg"
    source_file: str | None = None  # hot folder / import: the original file
    source_frame: int = 0  # frame within a multi-page source file
    truth: Any = None  # demo scanner: what the page really shows (skew, blank, text)


@dataclass
class ScanResult:
    device_id: str
    pages: list[ScannedPage]
    ended_by: str  # one of ENDED_BY
    error: Exception | None = None
    first_page_number: int = 1
    spool_dir: str | None = None  # the per-scan folder the page files were written to

    @property
    def next_page_number(self) -> int:
        """The page number to continue from in the next batch."""
        return self.first_page_number + len(self.pages)


class CancelToken:
    """Set by the station (any thread) to stop a scan; backends check it between and during pages."""

    def __init__(self):
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep up to ``timeout`` seconds, waking early on cancel. True if cancelled."""
        return self._event.wait(timeout)


PageCallback = Callable[[ScannedPage], None]


@runtime_checkable
class Scanner(Protocol):
    backend: str

    def list_devices(self) -> list[DeviceInfo]: ...

    def capabilities(self, device_id: str) -> Capabilities: ...

    def scan(
        self, device_id: str, settings: ScanSettings, on_page: PageCallback, cancel: CancelToken | None = None
    ) -> ScanResult: ...


def side_for(index: int, source: str) -> str:
    """Duplex batches alternate front and back; everything else is a front side."""
    return "back" if source == "duplex" and index % 2 == 1 else "front"


def write_page_file(image, mode: str, folder: str, index: int) -> tuple[str, int, int]:
    """Write a scanned page as raw PNM (P4/P5/P6: lossless and the fastest format to write) under a
    temporary name, then rename, so a page file that exists is complete. Returns (path, width, height)."""
    from PIL import Image

    if mode == "lineart" and image.mode != "1":
        image = image.convert("1", dither=Image.Dither.NONE)
    elif mode == "gray" and image.mode != "L":
        image = image.convert("L")
    elif mode == "color" and image.mode != "RGB":
        image = image.convert("RGB")
    final = os.path.join(folder, f"page-{index + 1:04d}.pnm")
    part = final + ".part"
    try:
        image.save(part, format="PPM")
        os.replace(part, final)
    except OSError as exc:  # full disk: a plain message, not a device fault
        _discard(part)
        from scanstation.storage.files import storage_error

        raise storage_error(Path(final), exc) from None
    return final, image.width, image.height


def _discard(path: str) -> None:
    try:
        os.unlink(path)
    except OSError:
        pass


def make_spool_dir(settings: ScanSettings) -> str:
    """A fresh folder for one scan's page files, inside ``settings.spool_dir`` (or the temp folder)."""
    from scanstation.storage import temp_files

    root = settings.spool_dir or temp_files.temp_dir()  # never the shared system temp folder (R40)
    os.makedirs(root, exist_ok=True)
    return tempfile.mkdtemp(prefix="scan-", dir=root)


BACKEND_PREFIXES = ("sane", "twain", "folder")


def canonical_device_id(device_id: str) -> str:
    """The station's id for a scanner typed by a person: ``demo``, ``sane:…``, ``twain:…`` and
    ``folder:…`` are kept; a plain SANE name as ``scanimage -L`` prints it (``test:0``,
    ``fujitsu:fi-7160:12345`` — SANE names are always ``backend:device``) becomes ``sane:test:0``."""
    text = (device_id or "").strip()
    kind, sep, rest = text.partition(":")
    if text == "demo" or not sep or kind in BACKEND_PREFIXES:
        return text
    if sys.platform == "win32" or not kind or not rest:
        return text
    return f"sane:{text}"
