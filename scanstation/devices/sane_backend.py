"""SANE scanners (Linux) through python-sane, run out of process with a watchdog.

Every operation — listing, capabilities, a scan — runs ``sane_worker.main`` in a fresh process
(multiprocessing "spawn", so it also works in a frozen build that calls
``multiprocessing.freeze_support()``). The station only ever reads dicts from a pipe:

* pages are delivered in order, each after its file is complete;
* if nothing arrives for ``timeout_s`` (no page and no progress heartbeat) the worker is killed and
  ``DeviceTimeout`` is raised; if the worker dies, ``DeviceCrashed`` is raised — in both cases
  after every page received before has been delivered;
* cancel: the token is passed on to the worker, which cancels the SANE scan and exits; if it does
  not exit within ``cancel_grace_s`` it is killed. Pages that arrive after the cancel are not
  delivered (their files are removed), so "cancelled after page 3" means exactly 3 pages.
"""

from __future__ import annotations

import multiprocessing
import multiprocessing.connection
import signal
import time
from pathlib import Path

from scanstation.devices import errors as dev_errors
from scanstation.devices import sane_worker
from scanstation.devices.base import (
    CancelToken,
    Capabilities,
    DeviceInfo,
    PageCallback,
    ScannedPage,
    ScanResult,
    ScanSettings,
    make_spool_dir,
)
from scanstation.errors import NotFound, ScanStationError

POLL_S = 0.05


class _WorkerDied(Exception):
    pass


class _Worker:
    """One worker process and its two one-way pipes."""

    def __init__(self, request: dict):
        ctx = multiprocessing.get_context("spawn")
        self.events, events_child = ctx.Pipe(duplex=False)
        commands_child, self.commands = ctx.Pipe(duplex=False)
        self.process = ctx.Process(
            target=sane_worker.main,
            args=(request, events_child, commands_child),
            name="scanstation-sane-worker",
            daemon=True,
        )
        self.process.start()
        # Close our copies of the child's ends, so a dead child shows as EOF on our end.
        events_child.close()
        commands_child.close()

    @property
    def pid(self) -> int | None:
        return self.process.pid

    def next_event(self, timeout: float) -> dict | None:
        """The next message, None after ``timeout`` seconds of silence; raises _WorkerDied when the
        worker is gone and every message it sent has been read."""
        ready = multiprocessing.connection.wait([self.events, self.process.sentinel], timeout)
        if not ready:
            return None
        if self.events in ready or self.events.poll():
            try:
                return self.events.recv()
            except (EOFError, OSError):
                raise _WorkerDied() from None
        raise _WorkerDied()

    def send_cancel(self) -> None:
        try:
            self.commands.send({"type": "cancel"})
        except (OSError, EOFError):
            pass

    def how_it_ended(self) -> str:
        self.process.join(1.0)
        code = self.process.exitcode
        if code is None:
            return "no answer"
        if code < 0:
            try:
                return f"signal {signal.Signals(-code).name}"
            except ValueError:
                return f"signal {-code}"
        return f"exit code {code}"

    def stop(self, grace_s: float) -> None:
        if self.process.is_alive():
            self.process.join(grace_s)
        if self.process.is_alive():
            self.process.kill()
            self.process.join(5.0)
        for conn in (self.events, self.commands):
            conn.close()


def _device_name(device_id: str) -> str:
    if not device_id.startswith("sane:") or len(device_id) <= 5:
        raise NotFound(
            "{d!r} is not a SANE scanner id (expected sane:NAME, e.g. sane:test:0).",
            "{d!r} 不是 SANE 扫描仪编号（应为 sane:名称，例如 sane:test:0）。",
            d=device_id,
        )
    return device_id[5:]


class SaneScanner:
    """The Scanner protocol for SANE devices. ``timeout_s``: watchdog during a scan (no page and no
    progress for that long); ``open_timeout_s``: for listing, capabilities, and opening and setting up
    the device before a scan (network discovery and USB opening can be slow).
    ``current_worker_pid`` is the pid of the running worker (None between operations)."""

    backend = "sane"
    _known: dict[str, DeviceInfo] = {}  # shared by all instances: device id -> info from the last listing

    def __init__(self, *, timeout_s: float = 60.0, open_timeout_s: float = 30.0, cancel_grace_s: float = 5.0):
        self.timeout_s = timeout_s
        self.open_timeout_s = open_timeout_s
        self.cancel_grace_s = cancel_grace_s
        self.current_worker_pid: int | None = None

    # -- one-answer operations -------------------------------------------------------------------

    def _ask(self, request: dict, answer: str, device: str | None = None) -> dict:
        worker = _Worker(request)
        self.current_worker_pid = worker.pid
        deadline = time.monotonic() + self.open_timeout_s
        try:
            while True:
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    worker.process.kill()
                    raise dev_errors.DeviceTimeout(None, seconds=self.open_timeout_s, device=device)
                try:
                    event = worker.next_event(remaining)
                except _WorkerDied:
                    raise dev_errors.DeviceCrashed(None, device=device, detail=worker.how_it_ended()) from None
                if event is None:
                    continue
                if event["type"] == "error":
                    raise dev_errors.error_from_message(event["error"])
                if event["type"] == answer:
                    return event
        finally:
            worker.stop(0.5)
            self.current_worker_pid = None

    def list_devices(self) -> list[DeviceInfo]:
        event = self._ask({"op": "list"}, "devices")
        found = []
        for d in event["devices"]:
            info = DeviceInfo(
                id=f"sane:{d['name']}",
                backend="sane",
                maker=d["vendor"],
                model=d["model"],
                label=f"{d['vendor']} {d['model']} ({d['name']})".strip(),
            )
            SaneScanner._known[info.id] = info
            found.append(info)
        return found

    def capabilities(self, device_id: str) -> Capabilities:
        name = _device_name(device_id)
        caps = self._ask({"op": "capabilities", "device": name}, "capabilities", device=name)["capabilities"]
        return Capabilities(
            device_id=device_id,
            resolutions=tuple(caps["resolutions"]),
            modes=tuple(caps["modes"]),
            sources=tuple(caps["sources"]),
            max_page_mm=tuple(caps["max_page_mm"]) if caps["max_page_mm"] else None,
            max_page_mm_by_source={k: tuple(v) for k, v in caps["max_page_mm_by_source"].items()},
        )

    def device_info(self, device_id: str) -> DeviceInfo:
        """Maker and model for the page records (R20), from the last listing; lists once if unknown."""
        if device_id not in SaneScanner._known:
            try:
                self.list_devices()
            except ScanStationError:
                pass
        name = _device_name(device_id)
        return SaneScanner._known.get(device_id) or DeviceInfo(id=device_id, backend="sane", model=name, label=name)

    # -- scanning --------------------------------------------------------------------------------

    def scan(
        self, device_id: str, settings: ScanSettings, on_page: PageCallback, cancel: CancelToken | None = None
    ) -> ScanResult:
        name = _device_name(device_id)
        info = self.device_info(device_id)
        spool = make_spool_dir(settings)
        result = ScanResult(
            device_id=device_id,
            pages=[],
            ended_by="error",
            first_page_number=settings.first_page_number,
            spool_dir=spool,
        )
        worker = _Worker({"op": "scan", "device": name, "settings": settings.to_dict(), "spool_dir": spool})
        self.current_worker_pid = worker.pid
        cancelled_at: float | None = None
        started = False  # until the device is open and set up, allow as long as for listing
        last_heard = time.monotonic()
        try:
            while True:
                if cancel is not None and cancel.cancelled and cancelled_at is None:
                    cancelled_at = time.monotonic()
                    worker.send_cancel()
                try:
                    event = worker.next_event(POLL_S)
                except _WorkerDied:
                    if cancelled_at is not None:
                        result.ended_by = "cancelled"
                        return result
                    raise self._fault(
                        result,
                        dev_errors.DeviceCrashed(result.next_page_number, device=name, detail=worker.how_it_ended()),
                    )
                now = time.monotonic()
                if event is None:
                    if cancelled_at is not None and now - cancelled_at > self.cancel_grace_s:
                        worker.process.kill()
                        result.ended_by = "cancelled"
                        return result
                    limit = self.timeout_s if started else max(self.timeout_s, self.open_timeout_s)
                    if cancelled_at is None and now - last_heard > limit:
                        worker.process.kill()
                        raise self._fault(
                            result, dev_errors.DeviceTimeout(result.next_page_number, seconds=limit, device=name)
                        )
                    continue
                last_heard = now
                kind = event["type"]
                if kind == "started":
                    started = True
                elif kind == "page":
                    if cancelled_at is not None:
                        continue  # scanned after the cancel: not delivered, its file is removed below
                    page = ScannedPage(
                        index=event["index"],
                        page_number=event["page_number"],
                        path=event["path"],
                        width=event["width"],
                        height=event["height"],
                        dpi=event["dpi"],
                        mode=event["mode"],
                        side=event["side"],
                        device=info,
                        format="pnm",
                    )
                    result.pages.append(page)
                    try:
                        on_page(page)
                    except BaseException:
                        worker.send_cancel()
                        raise
                    last_heard = time.monotonic()  # time spent storing the page is not the driver's
                elif kind == "end":
                    result.ended_by = "cancelled" if cancelled_at is not None else event["ended_by"]
                    return result
                elif kind == "error":
                    err = dev_errors.error_from_message(event["error"])
                    if cancelled_at is not None:
                        result.ended_by = "cancelled"
                        return result
                    if isinstance(err, dev_errors.DeviceFault):
                        raise self._fault(result, err)
                    raise err
        finally:
            worker.stop(self.cancel_grace_s if cancelled_at is not None else 2.0)
            self.current_worker_pid = None
            _remove_undelivered(spool, {p.path for p in result.pages})

    @staticmethod
    def _fault(result: ScanResult, err: dev_errors.DeviceFault) -> dev_errors.DeviceFault:
        result.ended_by = "error"
        result.error = err
        err.result = result
        return err


def _remove_undelivered(spool: str, delivered: set[str]) -> None:
    """Remove page files the caller never received (after a cancel, and unfinished .part files)."""
    for entry in Path(spool).glob("page-*"):
        if str(entry) not in delivered:
            try:
                entry.unlink()
            except OSError:
                pass
