"""OCR yields to capture: its workers run at the lowest priority, and the queue pauses while a device delivers.

Capture must never wait for OCR. Two measures, both needed:

- Priority. Every OCR worker process lowers its own priority when it starts (``lower_priority``: nice 19 on
  Linux and macOS, the idle priority class on Windows); the tesseract it starts inherits it. The page pool of
  capture keeps normal priority, so on two busy cores the scheduler gives OCR only what capture leaves.
- Pausing. A capture run marks the station busy (``CAPTURE.capturing()`` around the device's delivery) and
  the OCR queue claims no new page while it is, nor for ``RESUME_AFTER_S`` after the last run ended (the clerk
  changing dossiers: OCR catches up between them). Pages already handed to a worker finish at low priority;
  those not yet started go back to the queue.

The signal is in-process: the station runs capture and the background OCR runner in one process (the home
lock lets no second process write the catalog).
"""

from __future__ import annotations

import os
import sys
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager

RESUME_AFTER_S = 3.0  # quiet time after a capture run before OCR claims pages again
OCR_NICE = 19  # the lowest priority: OCR runs on what capture leaves


class CaptureActivity:
    """Whether a device of this station is delivering pages now (or did within the last seconds)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._active = 0
        self._runs = 0  # capture runs started so far: tells whether one ran during an OCR page
        self._last_end = -float("inf")

    def begin(self) -> None:
        with self._lock:
            self._active += 1
            self._runs += 1

    def end(self) -> None:
        with self._lock:
            self._active = max(0, self._active - 1)
            self._last_end = time.monotonic()

    @contextmanager
    def capturing(self) -> Iterator[None]:
        self.begin()
        try:
            yield
        finally:
            self.end()

    @property
    def active(self) -> bool:
        return self._active > 0

    def busy(self, resume_after_s: float = RESUME_AFTER_S) -> bool:
        """A capture runs, or ended less than ``resume_after_s`` ago."""
        with self._lock:
            return self._active > 0 or time.monotonic() - self._last_end < resume_after_s

    def mark(self) -> tuple[int, bool]:
        """A point in time to ask ``ran_since`` about."""
        with self._lock:
            return self._runs, self._active > 0

    def ran_since(self, mark: tuple[int, bool]) -> bool:
        """Whether a capture was running at any time since ``mark``."""
        runs, was_active = mark
        with self._lock:
            return was_active or self._active > 0 or self._runs != runs


CAPTURE = CaptureActivity()  # the station's one signal


def lower_priority() -> None:
    """Lower this process's priority to the lowest (OCR worker initializer); never fails the worker."""
    try:
        if os.name == "nt":
            import ctypes

            idle_priority_class = 0x40
            kernel32 = ctypes.windll.kernel32  # type: ignore[attr-defined]
            kernel32.SetPriorityClass(kernel32.GetCurrentProcess(), idle_priority_class)
        else:
            os.nice(max(0, OCR_NICE - os.nice(0)))  # on Linux it applies to this thread and the ones it starts
    except (OSError, AttributeError):
        pass  # a priority we may not change is no reason to stop reading pages


def lower_thread_priority() -> None:
    """Linux: lower the calling thread to the lowest priority (niceness is per thread there), so that the OCR
    worker processes it starts run at it from their first instruction (interpreter start and imports
    included), not only once their initializer ran. For the background runner's own thread only: a
    process's main thread could not get its priority back."""
    if not sys.platform.startswith("linux"):
        return
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), OCR_NICE)
    except OSError:
        pass


def ocr_worker_init(parent_pid: int) -> None:
    """Initializer of an OCR worker process: end with the station, run at the lowest priority."""
    from scanstation.worker_lifetime import die_with_parent

    lower_priority()  # before die_with_parent starts its thread: threads inherit the niceness of their creator
    die_with_parent(parent_pid)
