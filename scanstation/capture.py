"""Capture sessions: one dossier at a time, every page stored the moment it arrives.

The path of a page: the device worker writes it into the session's spool folder → the image
pipeline (a process pool) measures, deskews, crops and encodes it → the master is written
atomically as ``{档号}-{NNNN}.{ext}`` → its catalog row (checksums, dpi, mode, device, operator,
capture time, processing log, QC flags), its OCR queue entry and its audit entry commit in one
transaction → only then is the spool file removed. A crash loses nothing that reached the spool:
``recover()`` processes what is left there at the next start, in order, exactly once.
"""

from __future__ import annotations

import base64
import dataclasses
import json
import os
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from scanstation import SOFTWARE_NAME, __version__
from scanstation.dossier_number import page_file_name  # R11
from scanstation.errors import DeviceError, InvalidInput, NotFound, Refused, ScanStationError, StorageError
from scanstation.home import now_iso
from scanstation.ocr.queue import enqueue as enqueue_ocr
from scanstation.ocr.yielding import CAPTURE
from scanstation.profiles import MIN_DPI, ScanProfile
from scanstation.service import Session
from scanstation.storage import file_moves
from scanstation.storage.encryption import image_store
from scanstation.storage.faults import crash_point

# States in which new pages may be captured. qc_rejected: the QC inspector asked for rescans.
CAPTURE_STATES = ("cataloged", "scanning", "qc_rejected")
SPOOL = "spool"
DEVICE_SPOOL = "device"  # spool/session-N/device/: where the device writes a page before it is handed over

# Sessions running in this process, by (home, session id): open in the catalog, but not interrupted.
_LIVE_SESSIONS: set[tuple[str, int]] = set()


def is_live(home, session_id: int) -> bool:
    return (str(home.path), session_id) in _LIVE_SESSIONS


def find_dossier(session: Session, number: str) -> dict:
    """Validate the 档号 against the station's schema and look it up (before any page is taken)."""
    from scanstation import dossier_number
    from scanstation.coversheet.sheet import from_scanned

    text = from_scanned(number)  # a handheld gun reads a cover sheet's Code 128 with "." for "·"
    problems = dossier_number.problems(text, dossier_number.schema_for_home(session.home))
    if problems:
        raise InvalidInput(
            "{n} is not a valid 档号: {why}",
            "{n} 不是有效的档号：{why}",
            n=number,
            why="; ".join(str(p) for p in problems),
        )
    row = session.catalog.one("SELECT * FROM dossiers WHERE number = ?", (text,))
    if row is None:
        raise NotFound(
            "Dossier {n} is not in the catalog. Import the department's 目录 first (scanstation catalog import).",
            "目录中没有档号 {n}。请先导入部门目录（scanstation catalog import）。",
            n=text,
        )
    return row


def pipeline_settings_for(profile: ScanProfile):
    from scanstation.imaging import PipelineSettings

    return PipelineSettings(
        deskew=profile.deskew,
        crop=profile.crop,
        crop_margin_mm=profile.crop_margin_mm,
        orientation=profile.orientation,
        blank_detection=profile.blank_detection,
        format=profile.format,
        jpeg_quality=profile.jpeg_quality,
        mode=profile.mode,
    )


def _process(path: str, settings):
    """Runs in a pool worker: the picklable entry point of the image pipeline."""
    from scanstation.imaging import process_page

    return process_page(path, settings)


class PagePipeline:
    """The station's process pool for page processing, shared by the runs of one station: pages are
    handed over as the spool files the device wrote (``bench/pipeline.py`` measures this pool)."""

    def __init__(self, workers: int | None = None):
        self.workers = workers or max(1, os.cpu_count() or 1)
        self._pool: ProcessPoolExecutor | None = None

    def submit(self, path: Path, settings) -> Future:
        return self.submit_call(_process, str(path), settings)

    def submit_call(self, fn, *args) -> Future:
        """Run a picklable page step in the pool's workers (started with ``spawn`` on first use)."""
        if self._pool is None:
            import multiprocessing

            from scanstation.worker_lifetime import die_with_parent

            self._pool = ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=die_with_parent,
                initargs=(os.getpid(),),
            )
        return self._pool.submit(fn, *args)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=False)
            self._pool = None


@dataclass
class PageArrival:
    """A device page waiting in the spool for processing and commit."""

    path: Path
    source_ref: str
    device: dict
    capture_time: str
    dpi: int
    truth: object = None
    source_file: str = ""  # imported pages: "{sha256 of the file}:{name}#{frame}", so a file is never filed twice


@dataclass
class RunResult:
    number: str
    pages: list[dict] = field(default_factory=list)
    ended_by: str = ""
    error: ScanStationError | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


class Capture:
    """Capture for one signed-in clerk on one station."""

    def __init__(self, session: Session, pipeline: PagePipeline | None = None):
        self.session = session
        self.home = session.home
        self.store = image_store(self.home)  # encrypts at rest when the home says so (R40)
        self.pipeline = pipeline or PagePipeline()
        self._own_pipeline = pipeline is None

    def close(self) -> None:
        if self._own_pipeline:
            self.pipeline.close()

    # -- checks --------------------------------------------------------------------------
    def check_dossier(self, number: str) -> dict:
        self.session.require("capture")
        row = find_dossier(self.session, number)
        if row["status"] not in CAPTURE_STATES:
            raise Refused(
                "Dossier {n} is {state}; no pages can be added. "
                "A completed dossier is reopened by QC (rescan request); a transferred one only through a correction.",
                "档号 {n} 当前状态为“{state_zh}”，不能再添加页面。已完成的案卷需由质检退回重扫；已移交的案卷只能走更正程序。",
                n=row["number"],
                state=row["status"],
                state_zh=STATUS_ZH.get(row["status"], row["status"]),
            )
        return row

    def spool_dir(self, session_id: int) -> Path:
        return self.home.path / SPOOL / f"session-{session_id}"

    # -- sessions ------------------------------------------------------------------------
    def open_session(self, dossier: dict, device: str, settings: dict) -> int:
        with self.session.change("capture", "capture.start", "dossier", dossier["number"]) as ch:
            cur = ch.conn.execute(
                "INSERT INTO capture_sessions(dossier_id, operator, device, settings, started_at) VALUES (?, ?, ?, ?, ?)",
                (dossier["id"], self.session.user.name, device, json.dumps(settings, ensure_ascii=False), now_iso()),
            )
            ch.after = {"session": cur.lastrowid, "device": device, "settings": settings}
            session_id = cur.lastrowid
            _LIVE_SESSIONS.add((str(self.home.path), session_id))
        self.spool_dir(session_id).mkdir(parents=True, exist_ok=True)
        return session_id

    def close_session(self, session_id: int, state: str = "closed") -> None:
        _LIVE_SESSIONS.discard((str(self.home.path), session_id))
        with self.home.catalog.write() as conn:
            conn.execute(
                "UPDATE capture_sessions SET state = ?, ended_at = ? WHERE id = ?", (state, now_iso(), session_id)
            )
        spool = self.spool_dir(session_id)
        if spool.exists() and not any(spool.iterdir()):
            spool.rmdir()

    def start(
        self,
        number: str,
        device_id: str,
        profile: ScanProfile,
        *,
        pages: int | None = None,
        scan_options: dict | None = None,
    ) -> CaptureRun:
        from scanstation.devices.base import canonical_device_id
        from scanstation.devices.factory import check_device_allowed

        device_id = canonical_device_id(device_id)  # `test:0` as scanimage -L prints it is `sane:test:0`
        dossier = self.check_dossier(number)
        check_device_allowed(self.home, device_id)  # the demo scanner: demo homes and training only
        profile.validate()
        self.store.check_writable()  # images encrypted at rest and the key locked: say so before the first page
        return CaptureRun(self, dossier, device_id, profile, pages=pages, scan_options=scan_options or {})

    # -- the one commit path -------------------------------------------------------------
    def commit_page(
        self, dossier: dict, processed, arrival: PageArrival, session_id: int | None, previous_signature=None
    ) -> dict:
        """Store one processed page durably and catalog it with its audit entry and OCR job."""
        from scanstation.imaging import duplicate_of_previous

        if processed.dpi < MIN_DPI:
            raise InvalidInput(
                "The page has {dpi} dpi, below the 200 dpi minimum (R02); it was not stored. Scan at 300 dpi.",
                "该页分辨率为 {dpi} dpi，低于 200 dpi 的下限（R02），未保存。请以 300 dpi 扫描。",
                dpi=processed.dpi,
            )
        # a sheet fed twice shows up as the previous page, or in duplex as the page two back (same side)
        earlier = [
            sig
            for sig in (previous_signature if isinstance(previous_signature, list) else [previous_signature])
            if sig is not None
        ]
        if earlier and processed.signature is not None:
            processed.add_duplicate_score(max(duplicate_of_previous(sig, processed.signature) for sig in earlier))
        flags = list(processed.flags)
        number = dossier["number"]
        with self.home.catalog.write() as conn:  # seq and row in one writer transaction
            last = (
                conn.execute(
                    "SELECT max(seq) FROM pages WHERE dossier_id = ? AND state IN ('active')", (dossier["id"],)
                ).fetchone()[0]
                or 0
            )
            seq = last + 1
            name = page_file_name(number, seq, processed.format)
            stored = self.store.write(number, name, processed.data)  # durable before the row commits
            crash_point("capture.page_written")
            with self.session.change("capture", "page.capture", "page", f"{number}#{seq:04d}") as ch:
                cur = ch.conn.execute(
                    "INSERT INTO pages(dossier_id, seq, state, file_name, bytes, sha256, sm3, format, width, height, dpi,"
                    " color_mode, compression, capture_time, device, software, operator, processing_log, qc_flags,"
                    " session_id, source_ref, created_at) VALUES (?, ?, 'active', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
                    " ?, ?, ?, ?, ?)",
                    (
                        dossier["id"],
                        seq,
                        name,
                        stored.bytes,
                        stored.sha256,
                        stored.sm3,
                        processed.format,
                        processed.width,
                        processed.height,
                        processed.dpi,
                        processed.mode,
                        _compression(processed),
                        arrival.capture_time,
                        json.dumps(arrival.device, ensure_ascii=False),
                        f"{SOFTWARE_NAME} {__version__}",
                        self.session.user.name,
                        json.dumps(processed.log, ensure_ascii=False),
                        json.dumps(flags),
                        session_id or None,
                        arrival.source_ref,
                        now_iso(),
                    ),
                )
                page_id = cur.lastrowid
                ch.conn.execute(
                    "UPDATE pages SET signature = ? WHERE id = ?", (signature_to_text(processed.signature), page_id)
                )
                if arrival.source_file:
                    ch.conn.execute("UPDATE pages SET source_file = ? WHERE id = ?", (arrival.source_file, page_id))
                enqueue_ocr(ch.conn, page_id)
                ch.conn.execute(
                    "UPDATE dossiers SET status = 'scanning', scanned_by = ?, updated_at = ?"
                    " WHERE id = ? AND status IN ('cataloged', 'scanning')",
                    (self.session.user.name, now_iso(), dossier["id"]),
                )
                ch.after = {
                    "file": name,
                    "bytes": stored.bytes,
                    "sm3": stored.sm3,
                    "flags": flags,
                    "source": arrival.source_ref,
                }
        crash_point("capture.committed")
        return {
            "id": page_id,
            "seq": seq,
            "file_name": name,
            "bytes": stored.bytes,
            "sha256": stored.sha256,
            "sm3": stored.sm3,
            "dpi": processed.dpi,
            "color_mode": processed.mode,
            "qc_flags": flags,
            "width": processed.width,
            "height": processed.height,
            "format": processed.format,
            "signature": getattr(processed, "signature", None),
            "truth": arrival.truth,
        }

    def last_signature(self, dossier: dict):
        """Signature of the dossier's last page, so a sheet fed again in a later run is caught too."""
        row = self.home.catalog.one(
            "SELECT signature FROM pages WHERE dossier_id = ? AND state = 'active' ORDER BY seq DESC LIMIT 1",
            (dossier["id"],),
        )
        return signature_from_text(row["signature"]) if row else None

    # -- import of image files ---------------------------------------------------------
    def import_files(
        self, number: str, paths: list[Path], profile: ScanProfile, *, once_per_file: bool = False
    ) -> RunResult:
        """`scanstation import 档号 FILE|DIR...`: pages from image files, in name order; the files stay where they are.

        Every file is checked and decoded before anything is written: a refused import leaves no trace.
        ``once_per_file`` (the hot folder): frames of a file already filed in this dossier are not filed
        again, so an intake interrupted after its pages were stored never files them twice."""
        from scanstation.devices.folder_backend import deliver_files, inspect_import
        from scanstation.storage.files import file_digests

        dossier = self.check_dossier(number)
        try:
            inspected = inspect_import(paths)
        except InvalidInput as exc:
            return RunResult(dossier["number"], ended_by="error", error=exc)
        self.settle(dossier)  # the crashed run's pages first
        # a file is known by its bytes and its name: the same file left behind by a crash, not an identical twin
        keys = {str(f.path): f"{file_digests(f.path)[1]}:{f.path.name}" for f in inspected}
        skip: set[tuple[str, int]] = set()
        if once_per_file:
            filed = {
                r["source_file"]
                for r in self.home.catalog.query(
                    "SELECT source_file FROM pages WHERE dossier_id = ? AND state = 'active' AND source_file != ''",
                    (dossier["id"],),
                )
            }
            skip = {
                (str(f.path), frame)
                for f in inspected
                for frame in range(f.page_count)
                if f"{keys[str(f.path)]}#{frame}" in filed
            }
            if len(skip) == sum(f.page_count for f in inspected):
                return RunResult(dossier["number"], ended_by="already_filed")

        def acquire(settings, on_page, cancel):
            return deliver_files(
                inspected,
                on_page,
                spool_dir=settings.spool_dir,
                first_page_number=settings.first_page_number,
                skip=skip,
            )

        # imported files keep their own colour mode and carry their resolution
        run = CaptureRun(
            self,
            dossier,
            "import",
            dataclasses.replace(profile, mode=None),
            pages=None,
            scan_options={},
            acquire=acquire,
        )
        run.source_keys = keys
        return run.run()

    # -- recovery ------------------------------------------------------------------------
    def interrupted_sessions(self, dossier_id: int | None = None) -> list[dict]:
        """Sessions a crash (or a full disk) left open, oldest first; runs still going in this process are not."""
        rows = self.home.catalog.query(
            "SELECT s.*, d.number FROM capture_sessions s JOIN dossiers d ON d.id = s.dossier_id"
            " WHERE s.state IN ('open', 'interrupted') AND (? IS NULL OR s.dossier_id = ?) ORDER BY s.id",
            (dossier_id, dossier_id),
        )
        return [r for r in rows if not is_live(self.home, r["id"])]

    def recover(
        self,
        progress: Callable[[dict], None] | None = None,
        dossier_id: int | None = None,
        failures: list | None = None,
    ) -> list[RunResult]:
        """Finish interrupted sessions: commit every spooled page that has no catalog row yet, in order.

        Pending file moves are replayed first. A session that cannot be finished now (its pages stay
        spooled, the session stays interrupted) does not stop the others: its error goes to ``failures``
        when given, else it is raised after the others are done. Whole-station recovery, with the
        reconcile and the audit entry, is ``scanstation.recovery.recover``."""
        file_moves.apply(self.home.path, self.home.catalog)
        results, failed = [], []
        for sess in self.interrupted_sessions(dossier_id):
            try:
                results.append(self._recover_session(sess, progress))
            except ScanStationError as exc:
                failed.append({"session": sess["id"], "number": sess["number"], "error": exc})
        if failures is not None:
            failures.extend(failed)
        elif failed:
            raise failed[0]["error"]
        return results

    def settle(self, dossier: dict) -> None:
        """The guard of scan, import and hot folder (see scanstation.recovery): pending moves replayed and the
        dossier's interrupted sessions finished before anything new is written to it; refused if they cannot be."""
        failures: list[dict] = []
        self.recover(dossier_id=dossier["id"], failures=failures)
        if failures:
            raise unfinished_refusal(dossier, failures[0]["error"])

    def _spooled_pages(self, session_id: int) -> list[Path]:
        """Pages of a session waiting in its spool, in capture order: those handed over (``page-NNNNN``),
        then complete pages the device had written but not yet handed over (``device/…``)."""
        spool = self.spool_dir(session_id)
        if not spool.exists():
            return []
        handed = [p for p in spool.glob("page-*") if not p.name.endswith((".part", ".tmp", ".json"))]
        device = spool / DEVICE_SPOOL
        undelivered = (
            [p for p in device.rglob("*") if p.is_file() and not p.name.endswith((".part", ".tmp"))]
            if device.is_dir()
            else []
        )
        return sorted(handed, key=_spool_index) + sorted(undelivered, key=_device_order)

    def _recover_session(self, sess: dict, progress: Callable[[dict], None] | None) -> RunResult:
        dossier = self.home.catalog.one("SELECT * FROM dossiers WHERE id = ?", (sess["dossier_id"],))
        result = RunResult(dossier["number"], ended_by="recovered")
        settings_data = json.loads(sess["settings"] or "{}")
        profile = ScanProfile.from_dict(settings_data.get("profile", {"name": "recovery"}))
        spool = self.spool_dir(sess["id"])
        previous = self.last_signature(dossier)
        for path in self._spooled_pages(sess["id"]):
            handed = path.parent == spool
            index = _spool_index(path) if handed else (_device_index(path) if sess["device"] != "import" else None)
            ref = (
                f"session:{sess['id']}:{index}"
                if index is not None
                else f"session:{sess['id']}:{path.relative_to(spool).as_posix()}"
            )
            if self.home.catalog.one("SELECT id FROM pages WHERE source_ref = ?", (ref,)):
                _remove_spool(path)  # committed before the crash; the spool copy is redundant
                continue
            meta = _read_sidecar(path) if handed else {}
            settings = dataclasses.replace(pipeline_settings_for(profile), dpi=meta.get("dpi") or profile.dpi)
            try:
                processed = self.pipeline.submit(path, settings).result()
            except InvalidInput as exc:  # a page cut off by the crash: keep it aside, never delete it
                kept = self.home.path / "quarantine" / f"spool-session-{sess['id']}"
                kept.mkdir(parents=True, exist_ok=True)
                shutil.move(str(path), str(kept / path.name))
                self.session.log(
                    "capture.recover_unreadable",
                    "dossier",
                    dossier["number"],
                    {"file": path.name, "kept": str(kept.relative_to(self.home.path)), "error": exc.en},
                )
                continue
            arrival = PageArrival(
                path,
                ref,
                meta.get("device", {"backend": sess["device"]}),
                meta.get("capture_time", now_iso()),
                processed.dpi,
                source_file=meta.get("source_file") or _split_frame_key(path, settings_data),
            )
            row = self.commit_page(dossier, processed, arrival, sess["id"], previous)
            previous = row["signature"]
            result.pages.append(row)
            _remove_spool(path)
            if progress:
                progress(row)
        shutil.rmtree(spool / DEVICE_SPOOL, ignore_errors=True)  # only unfinished .part files are left there
        self.close_session(sess["id"], "closed")
        return result


def unfinished_refusal(dossier: dict, cause: ScanStationError | None) -> Refused:
    why_en = f" ({cause.en})" if cause else ""
    why_zh = f"（{cause.zh}）" if cause else ""
    return Refused(
        "An earlier scan of {n} was interrupted and its pages are not all stored yet{why_en}. Nothing new "
        "was written. Run scanstation recover (or restart the station), then try again.",
        "档号 {n} 有中断的扫描，其页面尚未全部保存{why_zh}。未写入任何新内容。请先运行 scanstation recover"
        "（或重新启动工作站），然后再试。",
        n=dossier["number"],
        why_en=why_en,
        why_zh=why_zh,
    )


def signature_to_text(signature) -> str:
    if signature is None:
        return ""
    return json.dumps(
        {
            "w": signature.width,
            "h": signature.height,
            "energy": signature.energy,
            "blank": signature.blank,
            "data": base64.b64encode(signature.data).decode("ascii"),
        }
    )


def signature_from_text(text: str):
    if not text:
        return None
    from scanstation.imaging.analysis import PageSignature

    try:
        d = json.loads(text)
        return PageSignature(d["w"], d["h"], base64.b64decode(d["data"]), d["energy"], d["blank"])
    except (ValueError, KeyError, TypeError):
        return None


def _compression(processed) -> str:
    return {"jpeg": f"JPEG q{getattr(processed, 'quality', '') or ''}".strip(), "tiff": "LZW", "jp2": "JPEG 2000"}.get(
        processed.format, processed.format
    )


def _spool_index(path: Path) -> int:
    stem = path.name.split(".")[0]
    try:
        return int(stem.split("-")[1])
    except (IndexError, ValueError):
        return 0


def _device_index(path: Path) -> int | None:
    """The device writes page N of a run as ``page-NNNN.pnm`` (index N-1); other names have no index."""
    stem = path.name.split(".")[0]
    if stem.startswith("page-") and stem[5:].isdigit():
        return int(stem[5:]) - 1
    return None


def _split_frame_key(path: Path, settings: dict) -> str:
    """``{sha256}:{name}#{frame}`` of a frame of a multi-page file, split into ``{stem}-{NNNN}.tif`` by an import."""
    stem, _, frame = path.stem.rpartition("-")
    for source in settings.get("sources", []):
        if source.get("stem") == stem and frame.isdigit():
            return f"{source['key']}#{int(frame) - 1}"
    return ""


def _device_order(path: Path):
    index = _device_index(path)
    return (0, index, "") if index is not None else (1, 0, path.as_posix())


def _sidecar(path: Path) -> Path:
    return path.with_name(path.name.split(".")[0] + ".json")


def _read_sidecar(path: Path) -> dict:
    try:
        return json.loads(_sidecar(path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}


def _remove_spool(path: Path) -> None:
    for p in (path, _sidecar(path)):
        try:
            p.unlink()
        except FileNotFoundError:
            pass


STATUS_ZH = {
    "cataloged": "已编目",
    "scanning": "扫描中",
    "completed": "已完成待质检",
    "qc_rejected": "质检退回",
    "approved": "质检通过",
    "batched": "已组批",
    "sent": "已移交待回执",
    "transferred": "已移交",
    "archived": "已归档",
    "destroyed": "已销毁",
}


class CaptureRun:
    """One feeder run for one dossier: a UI-neutral long operation (status, progress, cancel).

    ``run()`` blocks (the GUI calls it on its device thread, the CLI directly). Pages are processed
    in the pool while the device keeps scanning, and committed in arrival order.
    """

    def __init__(
        self,
        capture: Capture,
        dossier: dict,
        device_id: str,
        profile: ScanProfile,
        *,
        pages: int | None,
        scan_options: dict,
        acquire: Callable | None = None,
    ):
        self.capture = capture
        self.acquire = acquire  # (ScanSettings, on_page, cancel) -> ScanResult; default: the device
        self.dossier = dossier
        self.device_id = device_id
        self.profile = profile
        self.pages_limit = pages
        self.scan_options = scan_options
        self.status = "ready"
        self.error: ScanStationError | None = None
        self.pages_done = 0
        self.started = 0.0
        self.on_page: Callable[[dict], None] | None = None
        self.on_state: Callable[[str], None] | None = None
        self._cancel = None
        self._lock = threading.Lock()
        self.source_keys: dict[str, str] = {}  # imported file -> sha256 of its bytes

    @property
    def rate_per_min(self) -> float:
        elapsed = time.monotonic() - self.started if self.started else 0
        return self.pages_done * 60.0 / elapsed if elapsed > 0 else 0.0

    def _set(self, status: str) -> None:
        self.status = status
        if self.on_state:
            self.on_state(status)

    def cancel(self) -> None:
        if self._cancel is not None:
            self._cancel.cancel()

    def resume(self) -> CaptureRun:
        """After a device fault: a new run on the same dossier, continuing the numbering."""
        again = self.capture.start(
            self.dossier["number"],
            self.device_id,
            self.profile,
            pages=(self.pages_limit - self.pages_done) if self.pages_limit else None,
            scan_options=self.scan_options,
        )
        again.on_page, again.on_state = self.on_page, self.on_state
        return again

    def run(self) -> RunResult:
        from scanstation.devices.base import CancelToken, ScanSettings
        from scanstation.devices.factory import open_backend
        from scanstation.storage.files import storage_error

        capture = self.capture
        settings = pipeline_settings_for(self.profile)
        backend = open_backend(self.device_id) if self.acquire is None else None  # unknown device: nothing written
        capture.settle(self.dossier)  # the crashed run's pages come first
        record = {"profile": self.profile.as_dict(), "pages": self.pages_limit}
        if self.source_keys:
            record["sources"] = [{"stem": Path(p).stem, "key": k} for p, k in self.source_keys.items()]
        session_id = capture.open_session(self.dossier, self.device_id, record)
        spool = capture.spool_dir(session_id)
        self._cancel = CancelToken()
        result = RunResult(self.dossier["number"])
        pending: deque[tuple[PageArrival, Future]] = deque()
        previous = [capture.last_signature(self.dossier)]
        failure: list[ScanStationError] = []

        def commit_ready(block: bool) -> None:
            while pending and (block or pending[0][1].done()):
                arrival, future = pending.popleft()
                processed = future.result()
                earlier = previous[-2:] if self.profile.source == "duplex" else previous[-1:]
                row = capture.commit_page(self.dossier, processed, arrival, session_id, earlier)
                previous.append(row["signature"])
                del previous[:-2]
                _remove_spool(arrival.path)
                result.pages.append(row)
                self.pages_done += 1
                if self.on_page:
                    self.on_page(row)

        def on_page(page) -> None:
            crash_point("capture.arrived")  # the device's file is complete, not yet handed over
            device = page.device.to_dict() if hasattr(page.device, "to_dict") else dict(page.device or {})
            device["side"] = page.side
            # the delivered file is ours now: give it the spool name recovery relies on, with a sidecar
            src = Path(page.path)
            path = spool / f"page-{page.index:05d}{src.suffix or '.pnm'}"
            source = getattr(page, "source_file", None)
            key = self.source_keys.get(str(source)) if source else None
            arrival = PageArrival(
                path,
                f"session:{session_id}:{page.index}",
                device,
                now_iso(),
                page.dpi,
                getattr(page, "truth", None),
                f"{key}#{page.source_frame or 0}" if key else "",
            )
            try:
                if source and Path(source) == src:  # an imported original stays where the user keeps it
                    part = path.with_name(path.name + ".part")
                    try:
                        shutil.copyfile(src, part)
                        os.replace(part, path)
                    finally:
                        part.unlink(missing_ok=True)
                else:
                    os.replace(src, path)
                _sidecar(path).write_text(
                    json.dumps(
                        {
                            "device": device,
                            "capture_time": arrival.capture_time,
                            "dpi": page.dpi,
                            "source_file": arrival.source_file,
                        },
                        ensure_ascii=False,
                    ),
                    encoding="utf-8",
                )
            except OSError as exc:  # full disk: the page stays where the device put it, for recovery
                if not failure:
                    failure.append(storage_error(path, exc))
                self._cancel.cancel()
                return
            crash_point("capture.spooled")
            if failure:  # after a failure pages are only kept in the spool; the next run or recover stores them
                return
            # the device knows the resolution; spool files (PNM) do not carry it
            pending.append(
                (arrival, capture.pipeline.submit(arrival.path, dataclasses.replace(settings, dpi=page.dpi)))
            )
            try:
                commit_ready(block=len(pending) > 2 * capture.pipeline.workers)
            except ScanStationError as exc:  # full disk, bad page: stop the device, keep the rest spooled
                failure.append(exc)
                self._cancel.cancel()

        options = dict(self.scan_options)
        demo_pages = options.pop("demo_pages", None) or self.dossier["declared_pages"]
        first_page = options.pop("first_page_number", None) or self._next_seq()  # a rescan of page N says N
        # what the demo scanner prints on its pages, by the 目录's Chinese field names
        d = dict(self.dossier)
        from scanstation.storage.encryption import is_encrypted, reveal

        for key in ("person_name", "person_id_number"):
            if is_encrypted(d[key]):
                try:
                    d[key] = reveal(self.capture.home, key, d[key])
                except ScanStationError:
                    d[key] = ""
        fields = {
            "档号": d["number"],
            "题名": d["title"],
            "姓名": d["person_name"],
            "单位名称": d["employer"],
            "身份证号": d["person_id_number"],
            "日期": d["date"],
            "险种": d["insurance_type"],
            "业务环节": d["business_stage"],
            "责任者": d["responsible"],
        }
        fields = {k: v for k, v in fields.items() if v}
        scan_settings = ScanSettings(
            source=self.profile.source,
            mode=self.profile.mode or "color",
            dpi=self.profile.dpi,
            page_size_mm=tuple(self.profile.paper),
            page_limit=self.pages_limit,
            first_page_number=first_page,
            spool_dir=str(spool / "device"),
            dossier_fields=fields,
            demo_pages=demo_pages,
            **options,
        )
        self.started = time.monotonic()
        self._set("scanning")
        CAPTURE.begin()  # background OCR stands aside until this run's pages are stored (ocr.yielding)
        try:
            try:
                if self.acquire is not None:
                    scan = self.acquire(scan_settings, on_page, self._cancel)
                else:
                    scan = backend.scan(self.device_id, scan_settings, on_page, self._cancel)
            except OSError as exc:  # the device's spool write (full disk): one plain message, pages kept
                raise storage_error(spool / DEVICE_SPOOL, exc) from None
            result.ended_by = scan.ended_by
            if not failure:
                try:
                    commit_ready(block=True)
                except ScanStationError as exc:
                    failure.append(exc)
            if failure:
                result.error = failure[0]
            elif scan.error is not None:
                result.error = _with_resume_hint(scan.error, self.dossier["number"], self._next_seq())
        except (DeviceError, InvalidInput, StorageError) as exc:
            result.ended_by = "error"
            if not failure:
                try:
                    commit_ready(block=True)
                except ScanStationError as inner:
                    failure.append(inner)
            if failure:
                result.error = failure[0]
            else:
                result.error = (
                    _with_resume_hint(exc, self.dossier["number"], self._next_seq())
                    if isinstance(exc, DeviceError)
                    else exc
                )
        finally:
            CAPTURE.end()
            _drop_unfinished(spool / DEVICE_SPOOL)  # partial files; complete pages stay for recovery
            left = bool(capture._spooled_pages(session_id))
            capture.close_session(session_id, "interrupted" if left else "closed")
        if result.error is not None:
            self.error = result.error
            self._set("fault" if isinstance(result.error, DeviceError) else "failed")
        else:
            self._set("cancelled" if result.ended_by == "cancelled" else "done")
        return result

    def _next_seq(self) -> int:
        row = self.capture.home.catalog.one(
            "SELECT max(seq) m FROM pages WHERE dossier_id = ? AND state = 'active'", (self.dossier["id"],)
        )
        return (row["m"] or 0) + 1


def _drop_unfinished(folder: Path) -> None:
    """Remove unfinished (``.part``) device files and empty folders; complete page files are kept."""
    if not folder.is_dir():
        return
    for p in sorted(folder.rglob("*"), reverse=True):
        try:
            if p.is_dir():
                p.rmdir()
            elif p.name.endswith((".part", ".tmp")):
                p.unlink()
        except OSError:
            pass
    try:
        folder.rmdir()
    except OSError:
        pass


def _with_resume_hint(error: ScanStationError, number: str, next_seq: int) -> ScanStationError:
    """Add to a device fault what was kept and where scanning continues."""
    kept = next_seq - 1
    if kept < 1:
        error.en = f"{error.en} No page of {number} is saved yet; scanning starts at page 1."
        error.zh = f"{error.zh} 档号 {number} 尚无已保存的页面；扫描将从第 1 页开始。"
        error.fields.update(kept=0, next_seq=1)
        return error
    error.en = f"{error.en} Pages 1-{kept} of {number} are saved; scanning continues at page {next_seq}."
    error.zh = f"{error.zh} 档号 {number} 的第 1-{kept} 页已保存；继续扫描将从第 {next_seq} 页开始。"
    error.fields.update(kept=kept, next_seq=next_seq)
    return error
