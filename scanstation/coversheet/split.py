"""One feeder run, many dossiers: split a stack at its cover sheets.

The device (or the file import, or the hot folder) delivers pages on its own thread; each page is
looked at for a cover sheet there (``detect.find_sheet``, a few ms) and queued. This thread reads the
queue: a cover sheet opens its dossier through ``Capture.start`` — exactly the checks a typed 档号
gets (role, grammar, catalog, state, image store) — plus a check that no other open capture session
holds it; the pages that follow are fed to that dossier's ordinary ``CaptureRun`` (same pipeline,
same commit path, same crash recovery) until the next sheet or the end of the stack. Then the
dossier's page count is reconciled against its 页数 and a difference is recorded (the run goes on).

When the stack is wrong — pages before the first sheet, a sheet the station cannot capture into,
two sheets in a row, a sheet that cannot be read — the run stops there: the device is cancelled and
every page it delivered from that point on is held in the spool (``split_held``) with the reason,
for the clerk to assign to a dossier in one action (``assign``) or to run through the splitter again
once the cause is fixed (``resume``). Nothing already stored is touched.
"""

from __future__ import annotations

import json
import os
import queue
import shutil
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scanstation.capture import Capture, CaptureRun
from scanstation.coversheet import detect
from scanstation.devices.base import CancelToken, DeviceInfo, ScannedPage, ScanResult, ScanSettings
from scanstation.errors import DeviceError, NotFound, Refused, ScanStationError
from scanstation.home import now_iso
from scanstation.profiles import ScanProfile

SPLIT_SPOOL = "spool"

# why a run stopped
BEFORE_FIRST_SHEET = "before_first_sheet"
NOT_CAPTURABLE = "not_capturable"
TWO_SHEETS = "two_sheets"
UNREADABLE = "unreadable"
ERROR = "error"


class SplitStopped(Refused):
    """The stack has a problem at one point; the pages from there on are held for the clerk."""


@dataclass
class DossierPart:
    number: str
    pages: list[dict] = field(default_factory=list)
    declared: int | None = None
    counted: int = 0
    mismatch: bool = False
    opened_by: str = "sheet"  # sheet | label | continued


@dataclass
class SplitResult:
    run_id: int
    parts: list[DossierPart] = field(default_factory=list)
    held: list[dict] = field(default_factory=list)
    sheets: int = 0
    stop_reason: str = ""
    error: ScanStationError | None = None
    decode_ms: list[float] = field(default_factory=list)
    open_number: str = ""  # the dossier still open at the end (hot folder: continues next time)

    @property
    def ok(self) -> bool:
        return self.error is None

    @property
    def stored_pages(self) -> int:
        return sum(len(p.pages) for p in self.parts)

    def as_dict(self) -> dict:
        return {
            "run": self.run_id,
            "sheets": self.sheets,
            "stored_pages": self.stored_pages,
            "dossiers": [
                {
                    "number": p.number,
                    "pages": len(p.pages),
                    "declared": p.declared,
                    "counted": p.counted,
                    "count_differs": p.mismatch,
                    "opened_by": p.opened_by,
                }
                for p in self.parts
            ],
            "held": [{k: h[k] for k in ("id", "position", "kind", "number", "reason")} for h in self.held],
            "stop_reason": self.stop_reason,
            "error": self.error.message if self.error else None,
            "decode_ms_per_page": round(sum(self.decode_ms) / len(self.decode_ms), 2) if self.decode_ms else None,
        }


def _is_number_factory(home):
    from scanstation import dossier_number

    schema = dossier_number.schema_for_home(home)

    def is_number(text: str) -> bool:
        return bool(text) and not dossier_number.problems(dossier_number.normalise(text), schema)

    return is_number


class SplitRun:
    """A UI-neutral long operation: ``run()`` blocks; ``cancel()`` from any thread; ``on_event`` reports."""

    def __init__(
        self,
        capture: Capture,
        device_id: str,
        profile: ScanProfile,
        *,
        labels: bool = False,
        into: str | None = None,
        acquire: Callable | None = None,
        scan_options: dict | None = None,
        defer_last: bool = False,
    ):
        self.capture = capture
        self.session = capture.session
        self.home = capture.home
        self.device_id = device_id
        self.profile = profile
        self.labels = labels
        self.into = into
        self.acquire = acquire  # (ScanSettings, on_page, cancel) -> ScanResult; default: the device
        self.scan_options = dict(scan_options or {})
        self.defer_last = defer_last
        self.on_event: Callable[[dict], None] | None = None
        self._cancel = CancelToken()
        self._queue: queue.Queue = queue.Queue()
        self._next = None
        self._is_number = _is_number_factory(self.home)
        self.status = "ready"

    # -- events ---------------------------------------------------------------------------
    def _event(self, kind: str, **data) -> None:
        if self.on_event:
            self.on_event({"event": kind, **data})

    def cancel(self) -> None:
        self._cancel.cancel()

    # -- the device side ------------------------------------------------------------------
    def _produce(self, settings: ScanSettings) -> None:
        def on_page(page: ScannedPage) -> None:
            try:
                finding = detect.find_sheet(page.path, page.dpi, self._is_number, labels=self.labels)
            except Exception as exc:  # an unreadable file: let the pipeline give its own message
                finding = detect.Finding(detect.PAGE, detail=f"not checked for a cover sheet: {exc}")
            self._queue.put(("page", page, finding))

        try:
            if self.acquire is not None:
                result = self.acquire(settings, on_page, self._cancel)
            else:
                from scanstation.devices.factory import open_backend

                result = open_backend(self.device_id).scan(self.device_id, settings, on_page, self._cancel)
            self._queue.put(("end", result, None))
        except ScanStationError as exc:
            self._queue.put(("error", exc, None))
        except Exception as exc:  # a backend bug must not leave the station waiting forever
            self._queue.put(
                ("error", DeviceError("The scanner stopped unexpectedly: {e}", "扫描仪意外停止：{e}", e=str(exc)), None)
            )

    def _peek(self):
        if self._next is None:
            self._next = self._queue.get()
        return self._next

    def _take(self):
        item = self._peek()
        self._next = None
        return item

    # -- the run --------------------------------------------------------------------------
    def run(self) -> SplitResult:
        self.session.require("capture")
        if self.profile.mode is not None:  # None: files keep their own colour mode (import, held pages)
            self.profile.validate()
        self.capture.store.check_writable()
        if self.acquire is None:  # the demo scanner: demo homes and training only
            from scanstation.devices.factory import check_device_allowed

            check_device_allowed(self.home, self.device_id)
        into_run = self._open(self.into) if self.into else None  # refuse at once, before the feeder moves
        run_id = self._start_record()
        result = SplitResult(run_id)
        spool = self.run_spool(run_id)
        (spool / "device").mkdir(parents=True, exist_ok=True)
        settings = ScanSettings(
            source=self.profile.source,
            mode=self.profile.mode or "color",
            dpi=self.profile.dpi,
            page_size_mm=tuple(self.profile.paper),
            spool_dir=str(spool / "device"),
            **self.scan_options,
        )
        producer = threading.Thread(target=self._produce, args=(settings,), name="split-device", daemon=True)
        self.status = "scanning"
        producer.start()
        try:
            try:
                self._loop(result, into_run)
            except _SegmentFailed:
                pass
        except BaseException:
            self._cancel.cancel()
            self._drain_to_held(result, "interrupted", len(result.held))
            self._finish_record(result, "interrupted")
            raise
        finally:
            producer.join(timeout=60)
            if producer.is_alive():  # a hung driver may still write pages: keep them for recover_runs()
                result.stop_reason = result.stop_reason or ERROR
            else:  # every delivered page was taken from here; only partial files of the device remain
                shutil.rmtree(spool / "device", ignore_errors=True)
                try:
                    spool.rmdir()
                except OSError:
                    pass
        if producer.is_alive():
            self._finish_record(result, "interrupted")
            self.status = "stopped"
            return result
        state = (
            "stopped" if result.stop_reason and result.stop_reason != ERROR else ("done" if result.ok else "stopped")
        )
        self._finish_record(result, state)
        self.status = "done" if result.ok else "stopped"
        self._event("end", result=result.as_dict())
        return result

    def _loop(self, result: SplitResult, into_run: CaptureRun | None) -> None:
        run_id = result.run_id
        position = 0
        current: CaptureRun | None = into_run
        current_via = "continued"
        last_was_sheet = False
        while True:
            kind, obj, finding = self._peek()
            if kind in ("end", "error"):
                if current is not None:
                    self._segment(current, result, current_via, last=True)
                    kind, obj, finding = self._peek()
                self._take()
                if kind == "error" and result.error is None:
                    result.error = obj
                    result.stop_reason = ERROR
                return
            if finding.kind == detect.PAGE:
                if current is None:
                    return self._stop(
                        result,
                        BEFORE_FIRST_SHEET,
                        position,
                        "Page {p} of the stack came before any cover sheet: the station cannot tell which dossier it "
                        "belongs to. It and the pages after it are held (run {r}); assign them with "
                        "'scanstation split assign {r} 档号', or put a cover sheet in front and scan them again.",
                        "批量第 {p} 页之前没有分隔页，无法判断所属案卷。该页及其后页面已暂存（批次 {r}）；"
                        "请用“scanstation split assign {r} 档号”指定案卷，或在其前放入分隔页后重新扫描。",
                        p=position + 1,
                        r=run_id,
                    )
                position += len(self._segment(current, result, current_via).pages)
                current, last_was_sheet = None, False
                continue
            result.decode_ms.append(finding.cpu_ms)
            if finding.kind == detect.UNREADABLE:
                return self._stop(
                    result,
                    UNREADABLE,
                    position,
                    "Page {p} of the stack looks like a cover sheet but cannot be read ({d}). The run stopped there; "
                    "that sheet and the pages after it are held (run {r}). Reprint the sheet and scan them again "
                    "('scanstation split resume {r}' after putting the new sheet in), or assign them with "
                    "'scanstation split assign {r} 档号'.",
                    "批量第 {p} 页像是分隔页但无法识别（{d}）。扫描已在此停止；该页及其后页面已暂存（批次 {r}）。"
                    "请重新打印分隔页后再扫描，或用“scanstation split assign {r} 档号”指定案卷。",
                    p=position + 1,
                    d=finding.detail,
                    r=run_id,
                )
            if finding.kind == detect.LABEL and current is not None and finding.number == current.dossier["number"]:
                # the sheet of a dossier whose first page carries its own 档号 label: that page is its first page
                position += len(self._segment(current, result, current_via, first=True).pages)
                current, last_was_sheet = None, False
                continue
            if current is not None and last_was_sheet:
                return self._stop(
                    result,
                    TWO_SHEETS,
                    position,
                    "Two cover sheets in a row at page {p}: {a} then {b}; {a} got no pages. The run stopped at the sheet "
                    "of {b}; it and the pages after it are held (run {r}). Find the pages of {a} (scan them with "
                    "'scanstation scan --split --into {a}'), then continue with 'scanstation split resume {r}'.",
                    "批量第 {p} 页连续出现两张分隔页：{a} 之后紧接 {b}，{a} 没有任何页面。扫描已在 {b} 的分隔页处停止；"
                    "该页及其后页面已暂存（批次 {r}）。请找到 {a} 的页面（用“scanstation scan --split --into {a}”扫描），"
                    "然后用“scanstation split resume {r}”继续。",
                    p=position + 1,
                    a=current.dossier["number"],
                    b=finding.number,
                    r=run_id,
                )
            try:
                next_run = self._open(finding.number)
            except ScanStationError as exc:
                if current is not None:  # cannot happen after a sheet (caught above); a label ends a dossier
                    pass
                return self._stop(
                    result,
                    NOT_CAPTURABLE,
                    position,
                    "Page {p} of the stack is the cover sheet of {n}, which cannot be scanned into: {why} The run "
                    "stopped there; that sheet and the pages after it are held (run {r}). Fix the cause, then "
                    "'scanstation split resume {r}'.",
                    "批量第 {p} 页是 {n} 的分隔页，但不能扫描到该案卷：{why_zh} 扫描已在此停止；该页及其后页面已暂存"
                    "（批次 {r}）。排除原因后请用“scanstation split resume {r}”继续。",
                    p=position + 1,
                    n=finding.number,
                    why=exc.en,
                    why_zh=exc.zh,
                    r=run_id,
                )
            if finding.kind == detect.SHEET:
                self._take()
                self._discard_sheet(obj)
                result.sheets += 1
                position += 1
                last_was_sheet = True
                current, current_via = next_run, "sheet"
                self._event("sheet", number=finding.number, position=position, cpu_ms=finding.cpu_ms)
            else:  # a labelled first page: it opens the dossier and is its first page
                self._event("label", number=finding.number, position=position + 1)
                position += len(self._segment(next_run, result, "label", first=True).pages)
                current, last_was_sheet = None, False

    def run_spool(self, run_id: int) -> Path:
        return self.home.path / SPLIT_SPOOL / f"split-{run_id}"

    # -- dossiers -------------------------------------------------------------------------
    def _open(self, number: str) -> CaptureRun:
        """Open a dossier as a typed 档号 is opened, and make sure nobody else is scanning it."""
        # the checks of Capture.start (role, grammar, catalog, state); profile and store were checked at the start
        run = CaptureRun(
            self.capture, self.capture.check_dossier(number), self.device_id, self.profile, pages=None, scan_options={}
        )
        busy = self.home.catalog.one(
            "SELECT id, operator, started_at FROM capture_sessions WHERE dossier_id = ? AND state = 'open'",
            (run.dossier["id"],),
        )
        if busy is not None:
            raise Refused(
                "Dossier {n} is being scanned elsewhere (session {s} of {u}, since {t}). If that session was "
                "cut off by a crash, run 'scanstation recover' first.",
                "档号 {n} 正在别处扫描（{u} 的会话 {s}，开始于 {t}）。如果该会话因故障中断，请先运行“scanstation recover”。",
                n=run.dossier["number"],
                s=busy["id"],
                u=busy["operator"],
                t=busy["started_at"],
            )
        return run

    def _segment(
        self, run: CaptureRun, result: SplitResult, via: str, first: bool = False, last: bool = False
    ) -> DossierPart:
        """Feed the pages up to the next sheet (or the end) to ``run``; reconcile the count."""
        number = run.dossier["number"]
        part = DossierPart(number, declared=run.dossier["declared_pages"], opened_by=via)
        ended: list = []

        def acquire(settings, on_page, cancel):
            pages: list[ScannedPage] = []
            take_first = first
            while True:
                if cancel.cancelled:  # the capture run failed to store a page: hold the rest
                    return ScanResult(self.device_id, pages, "cancelled")
                kind, obj, finding = self._peek()
                same_label = finding is not None and finding.kind == detect.LABEL and finding.number == number
                if kind == "page" and (take_first or finding.kind == detect.PAGE or same_label):
                    self._take()
                    if not take_first:
                        result.decode_ms.append(finding.cpu_ms)
                    take_first = False
                    pages.append(obj)
                    on_page(obj)
                    continue
                if kind == "error":  # a jam: CaptureRun adds what was kept and where to continue
                    self._take()
                    ended.append(obj)
                    return ScanResult(self.device_id, pages, "error", error=obj)
                if kind == "end":
                    ended.append(None)
                return ScanResult(self.device_id, pages, "cancelled" if self._cancel.cancelled else "feeder_empty")

        run.acquire = acquire
        outcome = run.run()
        part.pages = outcome.pages
        if outcome.error is not None:
            result.parts.append(part)
            err = outcome.error
            err.en += f" Continue this dossier with 'scanstation scan --split --into {number}'."
            err.zh += f" 请用“scanstation scan --split --into {number}”继续扫描该案卷。"
            # stop: the device already failed or a page could not be stored
            self._cancel.cancel()
            result.error = err
            result.stop_reason = ERROR
            if not (ended and ended[0] is not None):  # the device may still deliver: hold what comes
                self._drain_to_held(result, ERROR, sum(len(p.pages) for p in result.parts) + result.sheets)
            raise _SegmentFailed()
        reaches_end = bool(ended) and ended[0] is None
        if last or reaches_end:
            if self.defer_last:
                result.open_number = number
                result.parts.append(part)
                self._event("dossier", number=number, pages=len(part.pages), deferred=True)
                return part
        self._reconcile(run, part, result.run_id)
        result.parts.append(part)
        self._event(
            "dossier",
            number=number,
            pages=len(part.pages),
            counted=part.counted,
            declared=part.declared,
            mismatch=part.mismatch,
        )
        return part

    def _reconcile(self, run: CaptureRun, part: DossierPart, run_id: int) -> None:
        reconcile(self.session, run.dossier["id"], run_id, len(part.pages), part)
        if part.mismatch:
            self._event("count", number=part.number, declared=part.declared, counted=part.counted)

    # -- stopping and holding -------------------------------------------------------------
    def _stop(self, result: SplitResult, reason: str, position: int, en: str, zh: str, **fields) -> None:
        self._cancel.cancel()
        result.stop_reason = reason
        if self.acquire is None:  # a scanner: what it had not taken in is still in its tray
            en += " Paper the scanner had not taken in yet is still in its feeder."
            zh += "扫描仪尚未进纸的页面仍在进纸器中。"
        result.error = SplitStopped(en, zh, **fields)
        self._drain_to_held(result, reason, position)
        self._event("stopped", reason=reason, message=result.error.message, held=len(result.held))

    def _drain_to_held(self, result: SplitResult, reason: str, position: int) -> None:
        """Hold every page the device delivered from the stopping point on, until the device has stopped."""
        while True:
            kind, obj, finding = self._take()
            if kind != "page":
                if kind == "error" and result.error is None:
                    result.error = obj
                return
            position += 1
            result.held.append(self._hold(result.run_id, position, obj, finding, reason))

    def _hold(self, run_id: int, position: int, page: ScannedPage, finding, reason: str) -> dict:
        held_dir = self.run_spool(run_id).parent / f"held-{run_id}"
        held_dir.mkdir(parents=True, exist_ok=True)
        src = Path(page.path)
        target = held_dir / f"{position:05d}{src.suffix or '.pnm'}"
        if page.source_file and Path(page.source_file) == src:
            shutil.copyfile(src, target)  # an imported original stays where the user keeps it
        else:
            os.replace(src, target)
        kind = {detect.SHEET: "sheet", detect.UNREADABLE: "unreadable"}.get(finding.kind, "page")
        device = page.device.to_dict() if hasattr(page.device, "to_dict") else dict(page.device or {})
        with self.session.change("capture", "split.hold", "split_run", str(run_id)) as ch:
            cur = ch.conn.execute(
                "INSERT INTO split_held(run_id, position, file, dpi, mode, device, kind, number, reason, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    run_id,
                    position,
                    str(target.relative_to(self.home.path)),
                    page.dpi,
                    page.mode,
                    json.dumps(device, ensure_ascii=False),
                    kind,
                    finding.number,
                    reason,
                    now_iso(),
                ),
            )
            ch.after = {"position": position, "kind": kind, "number": finding.number, "reason": reason}
            held_id = cur.lastrowid
        return {"id": held_id, "position": position, "kind": kind, "number": finding.number, "reason": reason}

    def _discard_sheet(self, page: ScannedPage) -> None:
        """A cover sheet is not a page of the archive: its scan is not kept (an import's file stays)."""
        if not (page.source_file and Path(page.source_file) == Path(page.path)):
            try:
                os.unlink(page.path)
            except FileNotFoundError:
                pass

    # -- the run record -------------------------------------------------------------------
    def _start_record(self) -> int:
        with self.session.change("capture", "split.start", "split_run", "new") as ch:
            cur = ch.conn.execute(
                "INSERT INTO split_runs(operator, device, started_at) VALUES (?, ?, ?)",
                (self.session.user.name, self.device_id, now_iso()),
            )
            ch.after = {"run": cur.lastrowid, "device": self.device_id, "labels": self.labels, "into": self.into}
            return cur.lastrowid

    def _finish_record(self, result: SplitResult, state: str) -> None:
        summary = result.as_dict()
        with self.session.change("capture", "split.end", "split_run", str(result.run_id)) as ch:
            ch.conn.execute(
                "UPDATE split_runs SET state = ?, stop_reason = ?, message = ?, summary = ?, ended_at = ? WHERE id = ?",
                (
                    state,
                    result.stop_reason,
                    result.error.message if result.error else "",
                    json.dumps(summary, ensure_ascii=False),
                    now_iso(),
                    result.run_id,
                ),
            )
            ch.after = {
                "state": state,
                "stop_reason": result.stop_reason,
                "stored_pages": result.stored_pages,
                "held": len(result.held),
                "dossiers": [p.number for p in result.parts],
            }


class _SegmentFailed(Exception):
    pass


def reconcile(session, dossier_id: int, run_id: int, added: int, part: DossierPart | None = None) -> dict:
    """Compare the dossier's active pages with its 页数 and record the outcome; a difference is audited
    as a flag on the dossier (R09 still blocks completion until it is resolved or explained)."""
    dossier = session.catalog.one("SELECT number, declared_pages FROM dossiers WHERE id = ?", (dossier_id,))
    counted = session.catalog.one(
        "SELECT count(*) n FROM pages WHERE dossier_id = ? AND state = 'active'", (dossier_id,)
    )["n"]
    declared = dossier["declared_pages"]
    state = "ok" if declared is None or declared == counted else "mismatch"
    with session.change(
        "capture", "split.count_mismatch" if state == "mismatch" else "split.count_ok", "dossier", dossier["number"]
    ) as ch:
        ch.conn.execute(
            "INSERT INTO split_counts(run_id, dossier_id, declared, counted, added, state, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (run_id, dossier_id, declared, counted, added, state, now_iso()),
        )
        ch.after = {"run": run_id, "declared": declared, "counted": counted, "added": added}
    if part is not None:
        part.counted, part.mismatch = counted, state == "mismatch"
    return {"number": dossier["number"], "declared": declared, "counted": counted, "state": state}


# -- held pages: list, assign, run again ---------------------------------------------------
def recover_runs(session) -> int:
    """Runs cut off by a crash: every page file left in their device spool becomes a held page."""
    home = session.home
    held = 0
    for run in session.catalog.query("SELECT id FROM split_runs WHERE state IN ('running', 'interrupted')"):
        device_dir = home.path / SPLIT_SPOOL / f"split-{run['id']}" / "device"
        if not device_dir.exists() and run_state(session, run["id"]) == "interrupted":
            continue
        files = (
            sorted(p for p in device_dir.rglob("*") if p.is_file() and not p.name.endswith((".part", ".tmp")))
            if device_dir.exists()
            else []
        )
        last = session.catalog.one("SELECT max(position) m FROM split_held WHERE run_id = ?", (run["id"],))["m"] or 0
        held_dir = home.path / SPLIT_SPOOL / f"held-{run['id']}"
        held_dir.mkdir(parents=True, exist_ok=True)
        for offset, path in enumerate(files, 1):
            target = held_dir / f"r{last + offset:05d}{path.suffix}"
            os.replace(path, target)
            with session.change("capture", "split.hold", "split_run", str(run["id"])) as ch:
                ch.conn.execute(
                    "INSERT INTO split_held(run_id, position, file, kind, reason, created_at)"
                    " VALUES (?, ?, ?, 'page', 'interrupted', ?)",
                    (run["id"], last + offset, str(target.relative_to(home.path)), now_iso()),
                )
                ch.after = {"file": target.name, "reason": "interrupted"}
            held += 1
        with session.change("capture", "split.end", "split_run", str(run["id"])) as ch:
            ch.conn.execute(
                "UPDATE split_runs SET state = 'interrupted', stop_reason = 'interrupted', ended_at = ? WHERE id = ?",
                (now_iso(), run["id"]),
            )
            ch.after = {"state": "interrupted", "held": len(files)}
        shutil.rmtree(home.path / SPLIT_SPOOL / f"split-{run['id']}", ignore_errors=True)
    return held


def run_state(session, run_id: int) -> str:
    row = session.catalog.one("SELECT state FROM split_runs WHERE id = ?", (run_id,))
    return row["state"] if row else ""


def held_pages(session, run_id: int | None = None) -> list[dict]:
    session.require("capture")
    sql = "SELECT * FROM split_held WHERE state = 'held'" + (" AND run_id = ?" if run_id is not None else "")
    return session.catalog.query(sql + " ORDER BY run_id, position", (run_id,) if run_id is not None else ())


def _held_or_fail(session, run_id: int) -> list[dict]:
    rows = held_pages(session, run_id)
    if not rows:
        raise NotFound("Run {r} has no held pages.", "批次 {r} 没有暂存的页面。", r=run_id)
    return rows


def _held_page(home, row: dict, index: int) -> ScannedPage:
    path = home.path / row["file"]
    if not path.is_file():
        raise NotFound(
            "The held page file {f} is missing; run 'scanstation recover'.",
            "暂存页面文件 {f} 不存在；请运行“scanstation recover”。",
            f=row["file"],
        )
    device = json.loads(row["device"] or "{}")
    info = DeviceInfo(
        id=device.get("id", "held"),
        backend=device.get("backend", "held"),
        maker=device.get("maker", ""),
        model=device.get("model", ""),
        serial=device.get("serial", ""),
    )
    return ScannedPage(
        index=index,
        page_number=index + 1,
        path=str(path),
        width=0,
        height=0,
        dpi=row["dpi"] or 300,
        mode=row["mode"] or "color",
        device=info,
    )


def _resolve(session, row: dict, state: str, number: str = "") -> None:
    with session.change("capture", f"split.{state}", "split_run", str(row["run_id"])) as ch:
        ch.conn.execute(
            "UPDATE split_held SET state = ?, assigned_to = ?, resolved_at = ?, resolved_by = ? WHERE id = ?",
            (state, number, now_iso(), session.user.name, row["id"]),
        )
        ch.after = {"held": row["id"], "position": row["position"], "kind": row["kind"], "to": number}


def assign(capture: Capture, run_id: int, number: str, profile: ScanProfile):
    """One action for the clerk: the held pages of run ``run_id`` — from the first one up to the next
    held cover sheet — go to dossier ``number`` in their order; held sheets before them are discarded
    (they are not pages). The dossier is opened with the checks a typed 档号 gets."""
    import dataclasses

    session = capture.session
    rows = _held_or_fail(session, run_id)
    capture.store.check_writable()
    run = CaptureRun(
        capture,
        capture.check_dossier(number),
        "held",
        dataclasses.replace(profile, mode=None),
        pages=None,
        scan_options={},
    )
    leading = []
    while rows and rows[0]["kind"] != "page":
        leading.append(rows.pop(0))
    group = []
    for row in rows:
        if row["kind"] != "page":
            break
        group.append(row)
    if not group:
        raise NotFound(
            "Run {r} has no held pages to assign (only cover sheets are left).",
            "批次 {r} 没有可指定的暂存页面（只剩分隔页）。",
            r=run_id,
        )

    def acquire(settings, on_page, cancel):
        delivered = []
        for i, row in enumerate(group):
            if cancel.cancelled:
                break
            page = _held_page(capture.home, row, i)
            on_page(page)  # the file moves into the capture session's spool
            _resolve(session, row, "assigned", run.dossier["number"])
            delivered.append(page)
        return ScanResult("held", delivered, "feeder_empty")

    run.acquire = acquire
    for row in leading:
        _resolve(session, row, "discarded")
        try:
            (capture.home.path / row["file"]).unlink()
        except FileNotFoundError:
            pass
    outcome = run.run()
    if outcome.error is None:
        reconcile(session, run.dossier["id"], run_id, len(outcome.pages))
    return outcome


def resume(
    capture: Capture, run_id: int, profile: ScanProfile, *, into: str | None = None, labels: bool = False
) -> SplitResult:
    """Run the held pages of ``run_id`` through the splitter again, once the cause is fixed."""
    import dataclasses

    session = capture.session
    rows = _held_or_fail(session, run_id)

    def acquire(settings, on_page, cancel):
        delivered = []
        for i, row in enumerate(rows):
            if cancel.cancelled:
                break
            page = _held_page(capture.home, row, i)
            _resolve(session, row, "resumed")
            delivered.append(page)
            on_page(page)
        return ScanResult("held", delivered, "feeder_empty")

    split = SplitRun(
        capture, "held", dataclasses.replace(profile, mode=None), labels=labels, into=into, acquire=acquire
    )
    return split.run()


def import_split(
    capture: Capture,
    paths: list[Path],
    profile: ScanProfile,
    *,
    labels: bool = False,
    into: str | None = None,
    defer_last: bool = False,
    on_event=None,
) -> SplitResult:
    """`scanstation import --split FILE|DIR...`: a stack from image files, in name order; files stay."""
    import dataclasses

    from scanstation.devices.folder_backend import import_files

    def acquire(settings, on_page, cancel):
        return import_files([str(p) for p in paths], on_page, spool_dir=settings.spool_dir)

    split = SplitRun(
        capture,
        "import",
        dataclasses.replace(profile, mode=None),
        labels=labels,
        into=into,
        acquire=acquire,
        defer_last=defer_last,
    )
    split.on_event = on_event
    return split.run()
