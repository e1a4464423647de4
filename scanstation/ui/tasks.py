"""Work off the GUI thread.

``run_task(fn, callback, error_callback, pool)`` runs ``fn`` on a named ``QThreadPool`` and always
calls back on the GUI thread (the pattern of Picard's ``util/thread.py``). Pools have a purpose:

* ``catalog`` — one thread: the single catalog writer, and reads that may take a while;
* ``device``  — scanners (one capture at a time per scanner);
* ``images``  — decoding thumbnails and page images, password hashing.

``LongOperation`` adapts a UI-neutral long operation (a capture run: ``run()``, ``cancel()``,
``on_page``, ``on_state``) to Qt signals. Page arrivals are coalesced by a timer (every 100 ms)
so that a feeder delivering many pages a second causes a few repaints, not hundreds.
"""

from __future__ import annotations

import collections
import os
import sys
import threading
import traceback
from collections.abc import Callable

import shiboken6
from PySide6.QtCore import QCoreApplication, QObject, QRunnable, Qt, QThreadPool, QTimer, Signal, Slot

POOL_SIZES = {
    "catalog": 1,
    "device": 2,
    "images": max(2, min(4, os.cpu_count() or 2)),
    "custody": 1,
}  # long backups and fixity checks, never in the way of thumbnails
BATCH_INTERVAL_MS = 100

_pools: dict[str, QThreadPool] = {}
_pending = 0
_pending_lock = threading.Lock()
_relay: _Relay | None = None
unexpected_error_handler: Callable[[BaseException], None] | None = None


class _Relay(QObject):
    """Lives on the GUI thread; runs the callables that workers send it."""

    deliver = Signal(object)

    def __init__(self):
        super().__init__()
        self.deliver.connect(self._run, Qt.ConnectionType.QueuedConnection)

    @Slot(object)
    def _run(self, call) -> None:
        try:
            call()
        except Exception as exc:  # a bug in a callback must not take the window down
            report_unexpected(exc)


def report_unexpected(exc: BaseException) -> None:
    if unexpected_error_handler is not None:
        unexpected_error_handler(exc)
    else:
        traceback.print_exception(type(exc), exc, exc.__traceback__, file=sys.stderr)


def _get_relay() -> _Relay:
    global _relay
    if _relay is None:
        app = QCoreApplication.instance()
        _relay = _Relay()
        if app is not None:
            _relay.moveToThread(app.thread())
    return _relay


def get_pool(name: str) -> QThreadPool:
    if name not in POOL_SIZES:
        raise ValueError(f"unknown pool {name!r}")
    if name not in _pools:
        p = QThreadPool()
        p.setMaxThreadCount(POOL_SIZES[name])
        p.setExpiryTimeout(30000)
        _pools[name] = p
    return _pools[name]


class _Task(QRunnable):
    def __init__(self, fn, callback, error_callback, owner):
        super().__init__()
        self.setAutoDelete(True)
        self.fn, self.callback, self.error_callback, self.owner = fn, callback, error_callback, owner

    def run(self) -> None:
        try:
            result, error = self.fn(), None
        except BaseException as exc:  # delivered to the GUI thread, shown there
            result, error = None, exc
        relay = _get_relay()
        callback, error_callback, owner = self.callback, self.error_callback, self.owner

        def finish():
            global _pending
            with _pending_lock:
                _pending -= 1
            if owner is not None and not shiboken6.isValid(owner):
                return  # the widget that asked is gone
            if error is None:
                if callback is not None:
                    callback(result)
            elif error_callback is not None:
                error_callback(error)
            else:
                report_unexpected(error)

        relay.deliver.emit(finish)


def run_task(
    fn: Callable[[], object],
    callback: Callable[[object], None] | None = None,
    error_callback: Callable[[BaseException], None] | None = None,
    pool: str = "catalog",
    owner: QObject | None = None,
) -> None:
    """Run ``fn()`` on the named pool; ``callback(result)`` or ``error_callback(exc)`` on the GUI thread.

    With ``owner`` the callbacks are skipped when that widget has been deleted meanwhile.
    """
    global _pending
    _get_relay()  # created on the calling (GUI) thread
    with _pending_lock:
        _pending += 1
    get_pool(pool).start(_Task(fn, callback, error_callback, owner))


def pending() -> int:
    """Tasks started and not yet called back (tests wait for 0)."""
    return _pending


def wait_for_pools(msecs: int = 5000) -> None:
    for p in _pools.values():
        p.waitForDone(msecs)


class Coalescer(QObject):
    """Collects items from any thread; emits them in order as one list per tick on the GUI thread."""

    batch = Signal(list)

    def __init__(self, interval_ms: int = BATCH_INTERVAL_MS, parent: QObject | None = None):
        super().__init__(parent)
        self._items: collections.deque = collections.deque()
        self._timer = QTimer(self)
        self._timer.setInterval(interval_ms)
        self._timer.timeout.connect(self.flush)

    def push(self, item) -> None:  # any thread: deque.append is atomic
        self._items.append(item)

    def start(self) -> None:
        self._timer.start()

    def stop(self) -> None:
        self._timer.stop()
        self.flush()

    @Slot()
    def flush(self) -> None:
        if not self._items:
            return
        items = []
        while self._items:
            items.append(self._items.popleft())
        self.batch.emit(items)


class LongOperation(QObject):
    """Qt face of a UI-neutral long operation (``run``/``resume``/``cancel``, ``on_page``, ``on_state``).

    Signals (GUI thread): ``pagesArrived(list[dict])`` at most every 100 ms, ``stateChanged(str)``,
    ``faulted(error)`` when the operation stopped on a device fault it can resume from,
    ``finished(error_or_None)`` when it ended.
    """

    pagesArrived = Signal(list)
    stateChanged = Signal(str)
    faulted = Signal(object)
    finished = Signal(object)

    def __init__(
        self, operation, pool_name: str = "device", interval_ms: int = BATCH_INTERVAL_MS, parent: QObject | None = None
    ):
        super().__init__(parent)
        self.operation = operation
        self.pool_name = pool_name
        self.running = False
        self._events = Coalescer(interval_ms, self)
        self._events.batch.connect(self._deliver)
        self._adopt(operation)

    def start(self) -> None:
        self._launch(self.operation.run)

    def resume(self) -> None:
        """Continue after a fault. ``resume()`` may hand back a new operation (the next batch); run that."""

        def resume_and_run():
            follow = self.operation.resume()
            if follow is not None and follow is not self.operation and hasattr(follow, "run"):
                self._adopt(follow)
                return follow.run()
            return follow

        self._launch(resume_and_run)

    def _adopt(self, operation) -> None:
        operation.on_page = lambda row: self._events.push(("page", row))
        operation.on_state = lambda status: self._events.push(("state", status))
        self.operation = operation

    def cancel(self) -> None:
        self.operation.cancel()

    def _launch(self, method) -> None:
        self.running = True
        self._events.start()
        run_task(method, self._ended, self._ended_with_error, self.pool_name, owner=self)

    def _deliver(self, items: list) -> None:
        pages: list = []
        for kind, value in items:
            if kind == "page":
                pages.append(value)
                continue
            if pages:
                self.pagesArrived.emit(pages)
                pages = []
            self.stateChanged.emit(str(value))
        if pages:
            self.pagesArrived.emit(pages)

    def _ended(self, _result) -> None:
        self._stop()
        error = getattr(self.operation, "error", None)
        if error is not None and _resumable(error):
            self.faulted.emit(error)
        else:
            self.finished.emit(error)

    def _ended_with_error(self, error: BaseException) -> None:
        self._stop()
        if _resumable(error):
            self.faulted.emit(error)
        else:
            self.finished.emit(error)

    def _stop(self) -> None:
        self.running = False
        self._events.stop()  # flushes the pages that arrived last


def _resumable(error: BaseException) -> bool:
    from scanstation.errors import DeviceError

    return isinstance(error, DeviceError)
