"""The persistent OCR queue: page_text rows in the catalog, worked off by a process pool.

A page is queued in the same transaction that stores it (``enqueue``), so a crash can never
leave a page that is stored but not queued. ``OcrRunner`` hands pages to worker processes (one
per core; each runs one tesseract at a time with ``OMP_THREAD_LIMIT=1``); the runner's own
process does every catalog write, one page per transaction: text, confidence and the search
index together.

Row life cycle (``page_text.status``)::

    queued --claim--> running --ok--> done
                         |----error/timeout--> failed (attempts + 1, error kept)
    failed with attempts < max_attempts is claimed again after every queued page,
    so a bad page never holds up the others; at max_attempts it stays failed.
    running left behind by a crash or a kill -> queued when a runner starts.
    skipped: the page was replaced or deleted before it was read.

One runner per home: the home lock already makes the station the only process that writes.

OCR yields to capture (``scanstation.ocr.yielding``): the workers run at the lowest priority, and the runner
claims no page while a capture run delivers pages, nor for a few seconds after (pages not yet started go back
to the queue; a page that ran out of time while capture had the processor is queued again, not failed).

Engines (``scanstation.ocr.engines``): the runner reads with the station's ``ocr.engine`` setting
(``auto`` chosen by memory and cores) unless a page was queued for a given engine (``ocr redo
--engine``, kept in ``page_text.redo_engine`` until it is read). Each page keeps the label of the
engine that read it and its confidence (``page_text.engine``/``confidence``) and, in the same
transaction as its text, its layout (``page_layout``, as the engine read it). In the stored text the
page's own 档号 is written back in its canonical spelling where OCR misread only its separators
(``engines.restore_dossier_number``).
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from scanstation import search, settings
from scanstation.errors import InvalidInput
from scanstation.ocr import engines
from scanstation.ocr.layout import PageLayout, delete_layout, save_layout
from scanstation.ocr.tesseract import DEFAULT_TIMEOUT_S, OcrError
from scanstation.ocr.yielding import CAPTURE, RESUME_AFTER_S, lower_thread_priority, ocr_worker_init
from scanstation.storage.migrations import register as register_migrations

log = logging.getLogger("scanstation.ocr")

QUEUED, RUNNING, DONE, FAILED, SKIPPED = "queued", "running", "done", "failed", "skipped"
STATUSES = (QUEUED, RUNNING, DONE, FAILED, SKIPPED)

MIGRATION = (
    41,
    "ocr_engines",
    """
ALTER TABLE page_text ADD COLUMN engine TEXT NOT NULL DEFAULT '';       -- label of the engine that read the text
ALTER TABLE page_text ADD COLUMN redo_engine TEXT NOT NULL DEFAULT '';  -- engine asked for by 'ocr redo' ('' = setting)
CREATE INDEX IF NOT EXISTS page_text_confidence ON page_text(status, confidence);
""",
)
register_migrations(__name__, MIGRATION)


def _now() -> str:
    from scanstation.home import now_iso

    return now_iso()


def _conn(db):
    return getattr(db, "conn", db)


def enqueue(conn, page_id: int, engine: str = "") -> None:
    """Queue a page for OCR (call inside the transaction that inserts the page); ``engine`` ('' = the
    station's setting) is the engine to read it with.

    A page queued again keeps its old text (still searchable) until the new result arrives.
    """
    _conn(conn).execute(
        "INSERT INTO page_text(page_id, status, attempts, text, error, updated_at, redo_engine) "
        "VALUES (?, 'queued', 0, '', '', ?, ?) "
        "ON CONFLICT(page_id) DO UPDATE SET status = 'queued', attempts = 0, error = '', "
        "updated_at = excluded.updated_at, redo_engine = excluded.redo_engine",
        (page_id, _now(), engine),
    )


def select_pages(conn, number: str | None = None, year: int | None = None, all_pages: bool = False) -> list[int]:
    """Ids of the active pages of one dossier (档号), of one year's dossiers, or of all dossiers."""
    conn = _conn(conn)
    if sum(x is not None and x is not False for x in (number, year, all_pages or None)) != 1:
        raise InvalidInput("Choose the pages: one 档号, --year, or --all.", "请选择页面：一个档号、--year 或 --all。")
    sql = (
        "SELECT p.id FROM pages p JOIN dossiers d ON d.id = p.dossier_id "
        "WHERE p.state = 'active' AND d.status != 'destroyed' {where} ORDER BY d.number, p.seq"
    )
    if number is not None:
        from scanstation.dossier_number import normalise

        rows = conn.execute(sql.format(where="AND d.number = ?"), (normalise(number),)).fetchall()
        if not rows and not conn.execute("SELECT 1 FROM dossiers WHERE number = ?", (normalise(number),)).fetchone():
            from scanstation.errors import NotFound

            raise NotFound("No dossier {number}.", "没有档号为 {number} 的案卷。", number=number)
    elif year is not None:
        rows = conn.execute(sql.format(where="AND d.year = ?"), (int(year),)).fetchall()
    else:
        rows = conn.execute(sql.format(where="")).fetchall()
    return [r[0] for r in rows]


def queue_redo(conn, page_ids: list[int], engine: str) -> int:
    """Queue pages to be read again with ``engine`` (their current text stays searchable meanwhile)."""
    if engine not in engines.ENGINES:
        raise InvalidInput(
            "Unknown OCR engine '{name}'. Choose one of: {choices}.",
            "未知的识别引擎“{name}”。可选：{choices}。",
            name=engine,
            choices=", ".join(engines.ENGINES),
        )
    for page_id in page_ids:
        enqueue(conn, page_id, engine)
    return len(page_ids)


def requeue_failed(conn) -> int:
    """Give every failed page a fresh set of attempts (after fixing the cause, e.g. a restored image)."""
    return (
        _conn(conn)
        .execute(
            "UPDATE page_text SET status = 'queued', attempts = 0, updated_at = ? WHERE status = 'failed'", (_now(),)
        )
        .rowcount
    )


def store_page_text(
    conn,
    page_id: int,
    text: str,
    confidence: float | None = None,
    count_attempt: bool = False,
    engine: str = "",
    layout: PageLayout | None = None,
) -> None:
    """Store a page's text as done, with the engine that read it and its layout, and keep the search
    index in step -- all inside the caller's transaction. Text stored without a layout drops the old one
    (its boxes would no longer match the text)."""
    conn = _conn(conn)
    now = _now()
    search.unindex_page(conn, page_id)  # needs the text that was indexed: before the update
    text = _stored_text(conn, text)  # R40: sealed when personal-data protection is on
    conn.execute(
        "INSERT INTO page_text(page_id, status, attempts, text, confidence, error, updated_at, engine, "
        "redo_engine) VALUES (?, 'done', ?, ?, ?, '', ?, ?, '') ON CONFLICT(page_id) DO UPDATE SET "
        "status = 'done', attempts = attempts + ?, text = excluded.text, confidence = excluded.confidence, "
        "error = '', updated_at = excluded.updated_at, engine = excluded.engine, redo_engine = ''",
        (page_id, int(count_attempt), text, confidence, now, engine, int(count_attempt)),
    )
    if layout is not None:
        save_layout(conn, page_id, layout, now)
    else:
        delete_layout(conn, page_id)
    search.index_page_text(conn, page_id)


def _stored_text(conn, text: str) -> str:
    import scanstation.custody.text_protection as text_protection

    protected = text_protection.for_connection(conn)
    return text if protected is None else protected.seal(text)


def queue_counts(db, max_attempts: int = 3) -> dict[str, int]:
    """Number of pages per status, plus ``retry`` (failed pages that will be tried again)."""
    conn = _conn(db)
    counts = {s: 0 for s in STATUSES}
    for status, n in conn.execute("SELECT status, count(*) FROM page_text GROUP BY status"):
        counts[status] = n
    counts["retry"] = conn.execute(
        "SELECT count(*) FROM page_text WHERE status = 'failed' AND attempts < ?", (max_attempts,)
    ).fetchone()[0]
    return counts


def page_image_path(home_path: Path | str, number: str, file_name: str) -> Path:
    """Where a page image lives: ``<home>/images/<档号>/<file_name>``."""
    for part in (number, file_name):
        if not part or "/" in part or "\\" in part or part in (".", "..") or "\x00" in part:
            raise InvalidInput(
                "The page file name '{name}' is not valid; the catalog entry is damaged.",
                "页面文件名“{name}”无效；目录记录已损坏。",
                name=part,
            )
    return Path(home_path) / "images" / number / file_name


@dataclass
class OcrProgress:
    done: int = 0
    failed: int = 0
    skipped: int = 0
    in_flight: int = 0
    waiting: int = 0  # queued + failed-to-retry, not yet handed to a worker
    last_page_id: int | None = None
    paused: bool = False  # waiting for capture to end


@dataclass
class OcrRunStats:
    done: int = 0
    failed: int = 0
    skipped: int = 0
    requeued: int = 0  # rows found 'running' (crash) and put back in the queue
    cancelled: bool = False
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)
    pauses: int = 0  # times the runner stood aside for capture
    paused_seconds: float = 0.0
    deferred: int = 0  # pages out of time while capture ran: queued again, no attempt counted

    def as_dict(self) -> dict:
        return {
            "done": self.done,
            "failed": self.failed,
            "skipped": self.skipped,
            "requeued": self.requeued,
            "cancelled": self.cancelled,
            "seconds": round(self.seconds, 2),
        }


def _is_cancelled(cancel) -> bool:
    if cancel is None:
        return False
    if hasattr(cancel, "is_set"):
        return bool(cancel.is_set())
    return bool(cancel())


class OcrRunner:
    """Works off the OCR queue of one home.

    ``image_path_for(page_row) -> Path`` maps a row (page_id, dossier_id, seq, state, file_name, dpi,
    number) to its image; by default ``page_image_path(home, number, file_name)``.
    """

    def __init__(
        self,
        home_or_catalog,
        image_path_for: Callable[[dict], Path] | None = None,
        workers: int | None = None,
        timeout_s: float = DEFAULT_TIMEOUT_S,
        max_attempts: int = 3,
        engine: str | None = None,
        yield_to_capture: bool = True,
        resume_after_s: float = RESUME_AFTER_S,
    ):
        if isinstance(home_or_catalog, (str, os.PathLike)):  # a home folder: a connection of our own
            from scanstation.home import CATALOG_FILE
            from scanstation.storage.catalog import Catalog

            home_or_catalog = Catalog(Path(home_or_catalog) / CATALOG_FILE)
        self.catalog = getattr(home_or_catalog, "catalog", home_or_catalog)
        home_path = Path(self.catalog.path).parent
        self.image_path_for = image_path_for or (
            lambda row: page_image_path(home_path, row["number"], row["file_name"])
        )
        if engine is None:  # the station's setting (ocr.engine), auto by default
            engine = settings.read(self.catalog, engines.SETTING_KEY, engines.AUTO)
        self.engine = engines.resolve_engine(engine)
        self.workers = max(1, int(workers or engines.workers_for(self.engine)))
        self.timeout_s = float(timeout_s)
        self.max_attempts = max(1, int(max_attempts))
        self.yield_to_capture = yield_to_capture
        self.resume_after_s = float(resume_after_s)
        self._recovered = False
        self._checked: set[str] = set()
        self._thread: threading.Thread | None = None
        self._stop = threading.Event()
        self._wake = threading.Event()
        self.last_error: str | None = None  # background mode: why the last round stopped

    # -- foreground ------------------------------------------------------------------------
    def recover(self, catalog=None) -> int:
        """Put rows left 'running' by a crash back in the queue (attempts unchanged)."""
        catalog = catalog or self.catalog
        with catalog.write() as conn:
            n = conn.execute(
                "UPDATE page_text SET status = 'queued', updated_at = ? WHERE status = 'running'", (_now(),)
            ).rowcount
        if n:
            log.info("OCR queue: %d page(s) left running by an earlier stop were queued again", n)
        return n

    def check(self, engine: str | None = None) -> None:
        """Raise OcrError (with the install command) when the engine (or a tesseract language) is missing."""
        engine = engine or self.engine
        if engine in self._checked:
            return
        problems = engines.check_engine(engine)
        if problems:
            raise OcrError("OCR cannot run: {problems}", "无法进行文字识别：{problems}", problems=" ".join(problems))
        self._checked.add(engine)

    def pending(self, catalog=None) -> int:
        conn = _conn(catalog or self.catalog)
        return conn.execute(
            "SELECT count(*) FROM page_text WHERE status = 'queued' OR (status = 'failed' AND attempts < ?)",
            (self.max_attempts,),
        ).fetchone()[0]

    def run_until_empty(
        self, progress: Callable[[OcrProgress], None] | None = None, cancel=None, catalog=None
    ) -> OcrRunStats:
        """OCR queued pages (and failed ones still to retry) until none is left or ``cancel`` is set.

        ``cancel`` is a threading.Event or a callable returning True to stop; pages not yet
        started go back to the queue, pages being read are finished and stored.
        """
        catalog = catalog or self.catalog
        started = time.monotonic()
        stats = OcrRunStats()
        if not self._recovered:
            stats.requeued = self.recover(catalog)
            self._recovered = True
        if not self.pending(catalog):
            return stats
        self.check()
        state = OcrProgress()
        inflight: dict[cf.Future, dict] = {}
        marks: dict[cf.Future, tuple[int, bool]] = {}  # capture activity when the page was handed over
        window = self.workers * 2  # the next page is always ready when a worker finishes
        pool = self._new_pool()
        try:
            while True:
                if _is_cancelled(cancel):
                    stats.cancelled = True
                    self._requeue_not_started(catalog, inflight)
                    if not inflight:
                        break
                elif self.yield_to_capture and CAPTURE.busy(self.resume_after_s):
                    self._requeue_not_started(catalog, inflight)  # those already reading finish, at low priority
                    if not inflight:
                        self._stand_aside(cancel, stats, state, progress)
                        continue
                elif len(inflight) < window:
                    claimed = self._claim(catalog, window - len(inflight))
                    for i, row in enumerate(claimed):
                        try:
                            future = self._submit(pool, catalog, row, stats, state)
                        except BaseException:  # e.g. encrypted pages and no key: nothing stays 'running'
                            self._requeue_rows(catalog, [r["page_id"] for r in claimed[i:]])
                            raise
                        if future is not None:
                            inflight[future] = row
                            marks[future] = CAPTURE.mark()
                if not inflight:
                    break
                finished, _ = cf.wait(list(inflight), timeout=0.5, return_when=cf.FIRST_COMPLETED)
                pool_broken = False
                for future in finished:
                    row = inflight.pop(future)
                    mark = marks.pop(future, None)
                    if future.cancelled():
                        continue
                    try:
                        result = future.result()
                    except Exception as exc:  # a worker died (killed, out of memory): the page is failed
                        pool_broken = pool_broken or isinstance(exc, cf.process.BrokenProcessPool)
                        result = {
                            "ok": False,
                            "error_en": f"The OCR worker process stopped unexpectedly ({exc!r}).",
                            "error_zh": f"文字识别工作进程意外退出（{exc!r}）。",
                        }
                    if result.get("timeout") and mark is not None and CAPTURE.ran_since(mark):
                        # out of time because capture had the processor: not the page's fault
                        self._requeue_rows(catalog, [row["page_id"]])
                        stats.deferred += 1
                        continue
                    self._record(catalog, row, result, stats)
                    state.last_page_id = row["page_id"]
                if pool_broken:  # a broken pool takes no more work: settle all it held, then a new pool
                    cf.wait(list(inflight), timeout=10)
                    for future, row in list(inflight.items()):
                        inflight.pop(future)
                        if future.done() and not future.cancelled():
                            try:
                                result = future.result()
                            except Exception as exc:
                                result = {
                                    "ok": False,
                                    "error_en": f"The OCR worker process stopped unexpectedly ({exc!r}).",
                                    "error_zh": f"文字识别工作进程意外退出（{exc!r}）。",
                                }
                            self._record(catalog, row, result, stats)
                        else:
                            self._requeue_rows(catalog, [row["page_id"]])
                    pool.shutdown(wait=False, cancel_futures=True)
                    pool = self._new_pool()
                if progress:
                    state.done, state.failed, state.skipped = stats.done, stats.failed, stats.skipped
                    state.in_flight = len(inflight)
                    state.waiting = self.pending(catalog)
                    progress(state)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
            if inflight:  # an exception in this loop: nothing may stay 'running'
                self._requeue_rows(catalog, [row["page_id"] for row in inflight.values()])
        stats.seconds = time.monotonic() - started
        return stats

    def _stand_aside(self, cancel, stats: OcrRunStats, state: OcrProgress, progress) -> None:
        """Wait, with no page claimed, until capture has been quiet for ``resume_after_s`` (or ``cancel``)."""
        stats.pauses += 1
        started = time.monotonic()
        state.paused, state.in_flight = True, 0
        if progress:
            progress(state)
        while CAPTURE.busy(self.resume_after_s) and not _is_cancelled(cancel):
            time.sleep(0.1)
        state.paused = False
        stats.paused_seconds += time.monotonic() - started

    def _new_pool(self) -> cf.ProcessPoolExecutor:
        # spawn, not fork: the station process holds SQLite connections, threads and (in the GUI) Qt;
        # the workers end with the station and run at the lowest priority (capture first)
        return cf.ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=ocr_worker_init,
            initargs=(os.getpid(),),
        )

    def _claim(self, catalog, n: int) -> list[dict]:
        sql = (
            "SELECT t.page_id, t.attempts, t.redo_engine, p.dossier_id, p.seq, p.state, p.file_name, p.dpi, d.number "
            "FROM page_text t JOIN pages p ON p.id = t.page_id JOIN dossiers d ON d.id = p.dossier_id "
            "WHERE {where} ORDER BY {order} LIMIT ?"
        )
        with catalog.write() as conn:
            rows = catalog.query(sql.format(where="t.status = 'queued'", order="t.page_id"), (n,))
            if len(rows) < n:
                rows += catalog.query(
                    sql.format(where="t.status = 'failed' AND t.attempts < ?", order="t.attempts, t.page_id"),
                    (self.max_attempts, n - len(rows)),
                )
            if rows:
                marks = ",".join("?" * len(rows))
                conn.execute(
                    f"UPDATE page_text SET status = 'running', updated_at = ? WHERE page_id IN ({marks})",
                    [_now(), *[r["page_id"] for r in rows]],
                )
        return rows

    def _submit(self, pool, catalog, row: dict, stats: OcrRunStats, state: OcrProgress):
        if row["state"] != "active":
            with catalog.write() as conn:
                conn.execute(
                    "UPDATE page_text SET status = 'skipped', error = '', updated_at = ? WHERE page_id = ?",
                    (_now(), row["page_id"]),
                )
                search.unindex_page(conn, row["page_id"])
            stats.skipped += 1
            return None
        try:
            path = Path(self.image_path_for(row))
        except Exception as exc:  # a bad catalog row must not stop the queue
            en = getattr(exc, "en", str(exc))
            zh = getattr(exc, "zh", str(exc))
            self._record(catalog, row, {"ok": False, "error_en": en, "error_zh": zh}, stats)
            return None
        source = str(path)
        from scanstation.storage.image_store import is_encrypted_at_rest

        if is_encrypted_at_rest(path):  # R40: decrypted here with the login's key, sent to the worker in memory
            from scanstation.storage.encryption import open_page_file, unlocked_key_for_path

            if unlocked_key_for_path(path) is None:
                from scanstation.storage.encryption import raise_locked

                raise_locked()  # the queue waits (nothing counted as a failure) until someone unlocks
            try:
                source = open_page_file(path)
            except Exception as exc:  # changed or foreign file: this page fails, the queue goes on
                self._record(
                    catalog,
                    row,
                    {"ok": False, "error_en": getattr(exc, "en", str(exc)), "error_zh": getattr(exc, "zh", str(exc))},
                    stats,
                )
                return None
        engine = row.get("redo_engine") or self.engine
        self.check(engine)  # a missing engine stops the round (pages go back to the queue), not a page failure
        return pool.submit(engines.ocr_page_job, source, engine, self.timeout_s, row.get("dpi"))

    def _record(self, catalog, row: dict, result: dict, stats: OcrRunStats) -> None:
        page_id = row["page_id"]
        with catalog.write() as conn:
            if result.get("ok"):
                layout = PageLayout.from_dict(result["layout"]) if result.get("layout") else None
                text = engines.restore_dossier_number(result["text"], row.get("number") or "")
                store_page_text(
                    conn,
                    page_id,
                    text,
                    result["confidence"],
                    count_attempt=True,
                    engine=result.get("engine", ""),
                    layout=layout,
                )
            else:
                error = result.get("error_en", "") + "\n" + result.get("error_zh", "")
                conn.execute(
                    "UPDATE page_text SET status = 'failed', attempts = attempts + 1, error = ?, "
                    "updated_at = ? WHERE page_id = ?",
                    (error.strip(), _now(), page_id),
                )
        if result.get("ok"):
            stats.done += 1
        else:
            stats.failed += 1
            stats.errors.append(f"{row.get('number')} p{row.get('seq')}: {result.get('error_en')}")
            log.warning(
                "OCR of page %s (%s p%s) failed: %s", page_id, row.get("number"), row.get("seq"), result.get("error_en")
            )

    def _requeue_not_started(self, catalog, inflight: dict) -> None:
        ids = []
        for future, row in list(inflight.items()):
            if future.cancel():
                inflight.pop(future)
                ids.append(row["page_id"])
        self._requeue_rows(catalog, ids)

    def _requeue_rows(self, catalog, page_ids: list[int]) -> None:
        if not page_ids:
            return
        marks = ",".join("?" * len(page_ids))
        with catalog.write() as conn:
            conn.execute(
                f"UPDATE page_text SET status = 'queued', updated_at = ? "
                f"WHERE status = 'running' AND page_id IN ({marks})",
                [_now(), *page_ids],
            )

    # -- background ------------------------------------------------------------------------
    def start(self, poll_s: float = 2.0, progress: Callable[[OcrProgress], None] | None = None) -> None:
        """Work off the queue in a background thread until ``stop()``; ``wake()`` after enqueueing."""
        if self._thread and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._background, args=(poll_s, progress), daemon=True, name="ocr-queue")
        self._thread.start()

    def wake(self) -> None:
        self._wake.set()

    def stop(self, wait: bool = True, timeout: float | None = None) -> None:
        self._stop.set()
        self._wake.set()
        if wait and self._thread:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        return bool(self._thread and self._thread.is_alive())

    def _background(self, poll_s: float, progress) -> None:
        from scanstation.storage.catalog import Catalog

        catalog = Catalog(self.catalog.path)  # its own connection: its transactions never mix with the caller's
        lower_thread_priority()  # the workers this thread starts are low priority from their very start
        try:
            while not self._stop.is_set():
                self._wake.clear()
                try:
                    self.run_until_empty(progress=progress, cancel=self._stop, catalog=catalog)
                    self.last_error = None
                except Exception as exc:  # keep the station running; the reason is shown on request
                    self.last_error = str(exc)
                    log.error("OCR queue stopped this round: %s", exc)
                self._wake.wait(poll_s)
        finally:
            catalog.close()
