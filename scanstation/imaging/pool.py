"""A process pool for page processing, sized to the machine (one worker per core).

Capture code submits pages as they arrive and collects ``ProcessedPage`` results; the device
thread never waits for image processing. Workers are started with ``spawn`` (no fork of a
process that runs Qt or device threads) and warmed up once so the first page does not pay for
imports.

Pages may be passed as file paths or as PIL images. An image is handed over as its raw pixels
in a temporary file on the RAM disk (``/dev/shm`` where there is one): one copy out, one copy in,
which costs a quarter of pickling the image through the pool's pipe (about 3 ms against 11 ms of
CPU in the submitting process for a 300 dpi A4 grey page) and measured 30-70 % more pages per
minute on two busy cores.
"""

from __future__ import annotations

import multiprocessing
import os
import tempfile
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass

from PIL import Image

from scanstation.imaging.analysis import PageSignature
from scanstation.imaging.pipeline import PipelineSettings, ProcessedPage, process_page
from scanstation.storage import temp_files
from scanstation.worker_lifetime import die_with_parent

_RAM_DIR = "/dev/shm" if os.path.isdir("/dev/shm") and os.access("/dev/shm", os.W_OK) else None


@dataclass(frozen=True)
class RawPage:
    """Pixels of a page parked in a temporary file for a worker to pick up (and delete)."""

    path: str
    mode: str
    size: tuple[int, int]
    info: dict

    @classmethod
    def park(cls, image: Image.Image) -> RawPage:
        # the pid in the name lets the next start sweep files of a killed station (storage.temp_files)
        fd, path = tempfile.mkstemp(
            prefix=f"{temp_files.RAW_PAGE_PREFIX}{os.getpid()}-", suffix=".raw", dir=_RAM_DIR or temp_files.temp_dir()
        )
        try:
            with os.fdopen(fd, "wb") as f:
                f.write(image.tobytes())
        except BaseException:
            _remove(path)
            raise
        info = {k: v for k, v in image.info.items() if k == "dpi" or isinstance(v, (int, float, str))}
        return cls(path, image.mode, image.size, info)

    def take(self) -> Image.Image:
        try:
            with open(self.path, "rb") as f:
                data = f.read()
        finally:
            _remove(self.path)
        img = Image.frombytes(self.mode, self.size, data)
        img.info = dict(self.info)
        return img


def _remove(path: str) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def _init_worker(parent_pid: int | None = None) -> None:
    if parent_pid is not None:
        die_with_parent(parent_pid)
    os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    from scanstation.imaging import geometry  # noqa: F401  (imports numpy, Pillow, OpenCV once)


def _warm() -> int:
    return os.getpid()


def _process_raw(raw: RawPage, settings: PipelineSettings, previous_signature: PageSignature | None) -> ProcessedPage:
    return process_page(raw.take(), settings, previous_signature)


def _call_raw(fn, raw: RawPage, *args):
    return fn(raw.take(), *args)


class PagePool:
    """``with PagePool() as pool: fut = pool.submit(path_or_image, settings)``."""

    def __init__(self, workers: int | None = None, warm: bool = True):
        self.workers = max(1, workers or os.cpu_count() or 1)
        self._executor = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker,
            initargs=(os.getpid(),),
        )
        if warm:
            self.warm()

    def warm(self) -> None:
        """Start every worker now (imports included) rather than on the first pages."""
        for f in [self._executor.submit(_warm) for _ in range(self.workers)]:
            f.result()

    def submit(
        self, image_or_path, settings: PipelineSettings | None = None, previous_signature: PageSignature | None = None
    ) -> Future[ProcessedPage]:
        settings = settings or PipelineSettings()
        if isinstance(image_or_path, Image.Image):
            raw = RawPage.park(image_or_path)
            return self._with_cleanup(self._executor.submit(_process_raw, raw, settings, previous_signature), raw)
        return self._executor.submit(process_page, image_or_path, settings, previous_signature)

    def submit_image_call(self, fn, image: Image.Image, *args) -> Future:
        """Run ``fn(image, *args)`` in the pool with the same hand-over as ``submit`` (``fn``
        must be importable, e.g. ``encode.encode_image``)."""
        raw = RawPage.park(image)
        return self._with_cleanup(self._executor.submit(_call_raw, fn, raw, *args), raw)

    def submit_call(self, fn, *args) -> Future:
        """Run any picklable page step in the pool."""
        return self._executor.submit(fn, *args)

    @staticmethod
    def _with_cleanup(future: Future, raw: RawPage) -> Future:
        # a page that never reached a worker (cancelled, pool broken) must not stay on the RAM disk
        future.add_done_callback(lambda _f: _remove(raw.path))
        return future

    def map(self, pages: Iterable, settings: PipelineSettings | None = None) -> Iterator[ProcessedPage]:
        """Process pages in order of submission, yielding results in the same order."""
        settings = settings or PipelineSettings()
        futures = [self.submit(p, settings) for p in pages]
        for f in futures:
            yield f.result()

    def close(self, wait: bool = True) -> None:
        self._executor.shutdown(wait=wait, cancel_futures=not wait)

    def __enter__(self) -> PagePool:
        return self

    def __exit__(self, *exc) -> None:
        self.close()
