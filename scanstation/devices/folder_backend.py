"""Hot folder and file import: pages from image files that network scanners drop into a folder.

A file is taken only when it is complete:

* its name does not follow a "still being written" convention (``*.part``, ``*.tmp``, ``~*``,
  ``.*``, ``*.crdownload``, ``*.filepart`` ...);
* its size and modification time are the same at two checks at least ``settle_s`` apart;
* it opens and every frame decodes fully (a truncated JPEG or TIFF is not complete).

Taken files are never deleted. They are moved into ``taken/`` only after the caller confirms that
their pages are safely stored — ``on_file`` returned normally (or returned anything but False), or
``HotFolder.acknowledge(path)`` was called. A file that is refused (a PDF, below 200 dpi, no dpi
recorded, not an image) stays where it is and is reported once.

Pages: a single-frame file is delivered as itself (its bytes untouched — a JPEG is not re-encoded);
each frame of a multi-page TIFF is written to the spool folder as a lossless single-page TIFF.
"""

from __future__ import annotations

import fnmatch
import logging
import os
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scanstation.devices import errors as dev_errors
from scanstation.devices.base import (
    MIN_DPI,
    SOURCES,
    CancelToken,
    Capabilities,
    DeviceInfo,
    PageCallback,
    ScannedPage,
    ScanResult,
    ScanSettings,
    make_spool_dir,
)
from scanstation.errors import InvalidInput, NotFound, ScanStationError, StorageError

log = logging.getLogger(__name__)

TAKEN_DIR = "taken"
TEMP_PATTERNS = ("*.part", "*.partial", "*.tmp", "*.temp", "*.crdownload", "*.download", "*.filepart", "~*", ".*")
IMAGE_SUFFIXES = {".tif": "tiff", ".tiff": "tiff", ".jpg": "jpeg", ".jpeg": "jpeg", ".png": "png"}
PDF_SUFFIXES = {".pdf"}


def is_temporary_name(name: str) -> bool:
    return any(fnmatch.fnmatch(name.lower(), pattern) for pattern in TEMP_PATTERNS)


def _natural_key(path: Path):
    return [int(t) if t.isdigit() else t.lower() for t in re.split(r"(\d+)", path.name)]


def _mode_of(image) -> str:
    if image.mode == "1":
        return "lineart"
    if image.mode in ("L", "LA", "I;16", "I;16B", "I;16L", "I", "F"):
        return "gray"
    return "color"


def _dpi_of(image) -> float | None:
    dpi = image.info.get("dpi")
    if dpi:
        try:
            x, y = (float(v) for v in dpi)
        except (TypeError, ValueError):
            return None
        value = min(x, y)
        return value if value > 1 else None  # JFIF 1x1 "aspect ratio only" means unknown
    return None


def _refuse_pdf(path: Path) -> InvalidInput:
    return InvalidInput(
        "{name} is a PDF. Only image files (TIFF, JPEG, PNG) can be imported as pages; "
        "set the scanner to save TIFF or JPEG.",
        "{name} 是 PDF 文件。只能导入图像文件（TIFF、JPEG、PNG）作为页面；请把扫描仪设置为保存 TIFF 或 JPEG。",
        name=path.name,
    )


@dataclass
class ImageFile:
    """A complete, decoded image file and the facts about its frames."""

    path: Path
    format: str  # "tiff", "jpeg", "png"
    frames: list[dict] = field(default_factory=list)  # per frame: width, height, dpi, mode

    @property
    def page_count(self) -> int:
        return len(self.frames)


def inspect_image_file(path: str | os.PathLike, *, default_dpi: int | None = None) -> ImageFile:
    """Open and fully decode every frame. Raises InvalidInput for a PDF, a non-image, a file below
    200 dpi or without a recorded dpi (unless ``default_dpi`` is given); raises OSError/SyntaxError
    style errors from Pillow as ``IncompleteFile`` when the data is cut short."""
    from PIL import Image, UnidentifiedImageError

    path = Path(path)
    if path.suffix.lower() in PDF_SUFFIXES:
        raise _refuse_pdf(path)
    try:
        with Image.open(path) as image:
            fmt = (image.format or "").lower()
            if fmt == "pdf":
                raise _refuse_pdf(path)
            if fmt not in ("tiff", "jpeg", "png", "mpo"):
                raise InvalidInput(
                    "{name} is a {fmt} image; only TIFF, JPEG and PNG files can be imported.",
                    "{name} 是 {fmt} 格式图像；只能导入 TIFF、JPEG 和 PNG 文件。",
                    name=path.name,
                    fmt=image.format,
                )
            frames = []
            for index in range(getattr(image, "n_frames", 1)):
                image.seek(index)
                image.load()  # full decode: a truncated file fails here
                dpi = _dpi_of(image)
                if dpi is None:
                    if default_dpi is None:
                        raise InvalidInput(
                            "{name} does not record its resolution (dpi). Set the scanner to write it, "
                            "or import with an explicit dpi.",
                            "{name} 未记录分辨率（dpi）。请设置扫描仪写入分辨率，或导入时明确指定 dpi。",
                            name=path.name,
                        )
                    dpi = float(default_dpi)
                if round(dpi) < MIN_DPI:
                    raise InvalidInput(
                        "{name} is {dpi:g} dpi, below the minimum of {min} dpi for archive masters "
                        "(rule R02). Rescan it at 300 dpi.",
                        "{name} 的分辨率为 {dpi:g} dpi，低于档案母版最低要求 {min} dpi（规则 R02）。请以 300 dpi 重新扫描。",
                        name=path.name,
                        dpi=round(dpi),
                        min=MIN_DPI,
                    )
                frames.append(
                    {"width": image.width, "height": image.height, "dpi": int(round(dpi)), "mode": _mode_of(image)}
                )
    except Image.DecompressionBombError:
        raise InvalidInput(
            "{name} is far too large to be a scanned page (more than {limit} million pixels); "
            "it was not opened. Import the page as scanned (300 dpi).",
            "{name} 像素过多（超过 {limit} 百万像素），不可能是扫描页面，未予打开。请导入按 300 dpi 扫描的页面。",
            name=path.name,
            limit=2 * (Image.MAX_IMAGE_PIXELS or 0) // 1_000_000,
        ) from None
    except UnidentifiedImageError:
        if path.suffix.lower() in IMAGE_SUFFIXES:  # an image name whose header is not there yet
            raise IncompleteFile(path, "no image header") from None
        raise InvalidInput(
            "{name} is not an image file that can be read.", "{name} 不是可读取的图像文件。", name=path.name
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise IncompleteFile(path, str(exc)) from None
    return ImageFile(path=path, format="jpeg" if fmt == "mpo" else fmt, frames=frames)


class IncompleteFile(InvalidInput):
    """The file cannot be decoded completely — usually because it is still being written."""

    def __init__(self, path: Path, detail: str):
        super().__init__(
            "{name} cannot be read completely ({detail}). If the scanner is still writing it, wait; "
            "otherwise the file is damaged: scan the page again.",
            "{name} 无法完整读取（{detail}）。如果扫描仪仍在写入，请稍候；否则文件已损坏，请重新扫描该页。",
            name=path.name,
            detail=detail,
        )
        self.path = path


def pages_of(
    image_file: ImageFile,
    device: DeviceInfo,
    spool_dir: str,
    *,
    first_page_number: int = 1,
    first_index: int = 0,
    frames: set[int] | None = None,
) -> list[ScannedPage]:
    """The pages of a file (only ``frames`` when given). A single frame is the file itself; frames of a
    multi-page file are written as lossless single-page TIFFs into ``spool_dir``."""
    from PIL import Image

    pages = []
    if frames is not None and not frames:
        return pages
    if image_file.page_count == 1:
        f = image_file.frames[0]
        return [
            ScannedPage(
                index=first_index,
                page_number=first_page_number,
                path=str(image_file.path),
                width=f["width"],
                height=f["height"],
                dpi=f["dpi"],
                mode=f["mode"],
                device=device,
                format=image_file.format,
                source_file=str(image_file.path),
                source_frame=0,
            )
        ]
    with Image.open(image_file.path) as image:
        for frame, f in enumerate(image_file.frames):
            if frames is not None and frame not in frames:
                continue
            image.seek(frame)
            target = os.path.join(spool_dir, f"{image_file.path.stem}-{frame + 1:04d}.tif")
            part = target + ".part"
            compression = "group4" if image.mode == "1" else "tiff_lzw"
            try:
                image.save(part, format="TIFF", compression=compression, dpi=(f["dpi"], f["dpi"]))
                os.replace(part, target)
            except OSError as exc:  # full disk: a plain message; the frames written so far are delivered
                Path(part).unlink(missing_ok=True)
                from scanstation.storage.files import storage_error

                raise storage_error(Path(target), exc) from None
            n = len(pages)
            pages.append(
                ScannedPage(
                    index=first_index + n,
                    page_number=first_page_number + n,
                    path=target,
                    width=f["width"],
                    height=f["height"],
                    dpi=f["dpi"],
                    mode=f["mode"],
                    device=device,
                    format="tiff",
                    source_file=str(image_file.path),
                    source_frame=frame,
                )
            )
    return pages


def move_to_taken(path: str | os.PathLike) -> Path:
    """Move a stored file into the ``taken/`` folder beside it, never overwriting a file there."""
    path = Path(path)
    taken = path.parent / TAKEN_DIR
    try:
        taken.mkdir(exist_ok=True)
        target = taken / path.name
        n = 1
        while target.exists():
            target = taken / f"{path.stem}-{n}{path.suffix}"
            n += 1
        os.rename(path, target)
    except OSError as exc:
        raise StorageError(
            "{name} was stored but could not be moved to {taken} ({err}). Move it there by hand so "
            "it is not imported twice.",
            "{name} 已保存，但无法移动到 {taken}（{err}）。请手动移动，以免重复导入。",
            name=path.name,
            taken=str(taken),
            err=exc.strerror or str(exc),
        ) from None
    return target


@dataclass
class _Seen:
    signature: tuple[int, int]
    since: float
    reported: bool = False


class HotFolder:
    """Polls a folder for complete image files. ``poll()`` returns files that became complete since
    the last call; ``acknowledge(path)`` moves a file to ``taken/`` once its pages are stored."""

    def __init__(
        self,
        folder: str | os.PathLike,
        *,
        settle_s: float = 2.0,
        default_dpi: int | None = None,
        on_refused: Callable[[Path, ScanStationError], None] | None = None,
    ):
        self.folder = Path(folder)
        if not self.folder.is_dir():
            raise NotFound("The folder {f} does not exist.", "文件夹 {f} 不存在。", f=str(self.folder))
        self.settle_s = settle_s
        self.default_dpi = default_dpi
        self.on_refused = on_refused
        # A file that keeps the same size but cannot be decoded for this long is reported as damaged.
        self.damaged_after_s = max(30.0, 10 * settle_s)
        self._seen: dict[Path, _Seen] = {}
        self._handed_out: set[Path] = set()
        self.refused: dict[Path, ScanStationError] = {}

    def _candidates(self) -> list[Path]:
        found = []
        try:
            entries = list(os.scandir(self.folder))
        except OSError as exc:
            raise StorageError(
                "The folder {f} cannot be read ({err}).",
                "无法读取文件夹 {f}（{err}）。",
                f=str(self.folder),
                err=exc.strerror or str(exc),
            ) from None
        for entry in entries:
            if entry.is_file(follow_symlinks=False) and not is_temporary_name(entry.name):
                found.append(Path(entry.path))
        return sorted(found, key=_natural_key)

    def poll(self) -> list[ImageFile]:
        """Check the folder once; return the files that are complete now and not yet handed out."""
        now = time.monotonic()
        ready = []
        present = set()
        for path in self._candidates():
            present.add(path)
            try:
                st = path.stat()
            except OSError:
                continue  # renamed or removed between listing and stat
            signature = (st.st_size, st.st_mtime_ns)
            seen = self._seen.get(path)
            if seen is None or seen.signature != signature:
                self._seen[path] = _Seen(signature, now)  # new or still changing: start settling again
                self.refused.pop(path, None)
                self._handed_out.discard(path)
                continue
            if path in self._handed_out or path in self.refused or now - seen.since < self.settle_s:
                continue
            try:
                image_file = inspect_image_file(path, default_dpi=self.default_dpi)
            except IncompleteFile as exc:
                if now - seen.since < self.damaged_after_s:
                    continue  # unchanged but not decodable yet: the writer may only be pausing
                self._refuse(path, exc)  # unchanged and undecodable for long: damaged
                continue
            except InvalidInput as exc:
                self._refuse(path, exc)
                continue
            self._handed_out.add(path)
            ready.append(image_file)
        for gone in set(self._seen) - present:
            self._seen.pop(gone, None)
            self._handed_out.discard(gone)
        return ready

    def _refuse(self, path: Path, exc: ScanStationError) -> None:
        self.refused[path] = exc
        log.warning("hot folder: refused %s: %s", path, exc.en)
        if self.on_refused:
            self.on_refused(path, exc)

    def acknowledge(self, path: str | os.PathLike) -> Path:
        """The pages of ``path`` are safely stored: move it to ``taken/``. Returns its new path."""
        path = Path(path)
        target = move_to_taken(path)
        self._seen.pop(path, None)
        self._handed_out.discard(path)
        return target

    def watch(self, on_file: Callable[[ImageFile], object], cancel: CancelToken, *, poll_s: float = 1.0) -> None:
        """Poll until cancelled. ``on_file(image_file)`` stores the file's pages; when it returns (anything but
        False) the file is moved to ``taken/``. If it returns False the file stays and is offered again
        only when it changes or the watch restarts; if it raises, the file stays and the error propagates."""
        while not cancel.cancelled:
            for image_file in self.poll():
                if cancel.cancelled:
                    return
                if on_file(image_file) is not False:
                    self.acknowledge(image_file.path)
            cancel.wait(poll_s)


def watch(
    folder: str | os.PathLike,
    on_file: Callable[[ImageFile], object],
    cancel: CancelToken,
    *,
    settle_s: float = 2.0,
    poll_s: float = 1.0,
    default_dpi: int | None = None,
    on_refused: Callable[[Path, ScanStationError], None] | None = None,
) -> None:
    """Watch a hot folder (polling; no inotify needed, works on network shares). See HotFolder.watch."""
    HotFolder(folder, settle_s=settle_s, default_dpi=default_dpi, on_refused=on_refused).watch(
        on_file, cancel, poll_s=poll_s
    )


def folder_device(folder: str | os.PathLike) -> DeviceInfo:
    folder = Path(folder)
    return DeviceInfo(
        id=f"folder:{folder}", backend="folder", maker="", model="Hot folder", label=f"Hot folder {folder}"
    )


class FolderScanner:
    """A hot folder behind the Scanner protocol: ``scan`` takes the complete files present now (waiting
    one settle interval to be sure they are not growing), delivers their pages in name order and moves
    each file to ``taken/`` after its last page was delivered. Files are never split by ``page_limit``:
    a file that does not fit waits for the next batch."""

    backend = "folder"

    def __init__(self, *, settle_s: float = 2.0, default_dpi: int | None = None):
        self.settle_s = settle_s
        self.default_dpi = default_dpi

    def list_devices(self) -> list[DeviceInfo]:
        return []  # hot folders are configured, not discovered

    @staticmethod
    def _folder(device_id: str) -> Path:
        if not device_id.startswith("folder:") or len(device_id) <= 7:
            raise NotFound(
                "{d!r} is not a hot folder id (expected folder:PATH).",
                "{d!r} 不是热文件夹编号（应为 folder:路径）。",
                d=device_id,
            )
        return Path(device_id[7:])

    def capabilities(self, device_id: str) -> Capabilities:
        self._folder(device_id)
        return Capabilities(
            device_id=device_id,
            resolutions=(),
            modes=("color", "gray", "lineart"),
            sources=SOURCES[1:2],
            max_page_mm=None,
        )

    def scan(
        self, device_id: str, settings: ScanSettings, on_page: PageCallback, cancel: CancelToken | None = None
    ) -> ScanResult:
        folder = self._folder(device_id)
        hot = HotFolder(folder, settle_s=self.settle_s, default_dpi=self.default_dpi)
        hot.poll()
        if cancel is not None:
            cancel.wait(self.settle_s)
        else:
            time.sleep(self.settle_s)
        files = hot.poll()
        spool = make_spool_dir(settings)
        device = folder_device(folder)
        result = ScanResult(
            device_id=device_id,
            pages=[],
            ended_by="feeder_empty",
            first_page_number=settings.first_page_number,
            spool_dir=spool,
        )
        limit = settings.page_limit
        for image_file in files:
            if cancel is not None and cancel.cancelled:
                result.ended_by = "cancelled"
                return result
            if limit is not None and len(result.pages) + image_file.page_count > limit:
                if not result.pages:
                    raise InvalidInput(
                        "{name} has {n} pages, more than the page limit of {limit}.",
                        "{name} 共 {n} 页，超过页数上限 {limit}。",
                        name=image_file.path.name,
                        n=image_file.page_count,
                        limit=limit,
                    )
                result.ended_by = "page_limit"
                return result
            for page in pages_of(
                image_file, device, spool, first_page_number=result.next_page_number, first_index=len(result.pages)
            ):
                result.pages.append(page)
                on_page(page)
            hot.acknowledge(image_file.path)
        if not result.pages:
            err = dev_errors.FeederEmpty(None, device=str(folder), detail="no complete image files in the folder")
            refused = "; ".join(f"{p.name}: {e.en}" for p, e in hot.refused.items())
            if refused:
                raise InvalidInput(
                    "No page could be taken from {f}: {why}", "无法从 {f} 取得页面：{why}", f=str(folder), why=refused
                )
            result.ended_by, result.error, err.result = "error", err, result
            raise err
        return result


def import_files(
    paths: list[str | os.PathLike],
    on_page: PageCallback,
    *,
    spool_dir: str | None = None,
    first_page_number: int = 1,
    default_dpi: int | None = None,
) -> ScanResult:
    """Pages from files named by the user (``scanstation import``): folders are expanded (image files in
    name order, temporary names skipped), every file is checked and decoded before the first page is
    delivered, and the files are left where they are."""
    return deliver_files(
        inspect_import(paths, default_dpi=default_dpi),
        on_page,
        spool_dir=spool_dir,
        first_page_number=first_page_number,
    )


def _unreadable(path: Path, exc: OSError) -> InvalidInput:
    return InvalidInput(
        "{f} cannot be read ({err}).", "无法读取 {f}（{err}）。", f=str(path), err=exc.strerror or str(exc)
    )


def inspect_import(paths: list[str | os.PathLike], *, default_dpi: int | None = None) -> list[ImageFile]:
    """Expand folders and check and decode every file; raises before anything is delivered."""
    files: list[Path] = []
    for p in map(Path, paths):
        try:
            if p.is_dir():
                files.extend(
                    sorted(
                        (
                            c
                            for c in p.iterdir()
                            if c.is_file()
                            and not is_temporary_name(c.name)
                            and c.suffix.lower() in {**IMAGE_SUFFIXES, ".pdf": "pdf"}
                        ),
                        key=_natural_key,
                    )
                )
            elif p.is_file():
                files.append(p)
            else:
                raise NotFound("{f} does not exist.", "{f} 不存在。", f=str(p))
        except OSError as exc:  # a name too long for the file system, no permission
            raise _unreadable(p, exc) from None
    inspected = [inspect_image_file(f, default_dpi=default_dpi) for f in files]
    if not inspected:
        raise InvalidInput("No image files were given.", "没有可导入的图像文件。")
    return inspected


def deliver_files(
    inspected: list[ImageFile],
    on_page: PageCallback,
    *,
    spool_dir: str | None = None,
    first_page_number: int = 1,
    skip: set[tuple[str, int]] = frozenset(),
) -> ScanResult:
    """Deliver the pages of checked files in order; ``skip`` holds (file, frame) pairs already filed."""
    settings = ScanSettings(spool_dir=spool_dir, first_page_number=first_page_number)
    spool = make_spool_dir(settings)
    device = DeviceInfo(id="import", backend="folder", model="File import", label="File import")
    result = ScanResult(
        device_id="import", pages=[], ended_by="feeder_empty", first_page_number=first_page_number, spool_dir=spool
    )
    for image_file in inspected:
        for page in pages_of(
            image_file,
            device,
            spool,
            first_page_number=result.next_page_number,
            first_index=len(result.pages),
            frames={f for f in range(image_file.page_count) if (str(image_file.path), f) not in skip},
        ):
            result.pages.append(page)
            on_page(page)
    return result
