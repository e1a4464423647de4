"""OCR yields to capture: the background OCR worker runs at the lowest priority and stands aside while a
capture run delivers pages, then catches up. Real capture (demo scanner, real pipeline), real OCR runner and
worker processes, real tesseract."""

from __future__ import annotations

import os
import sys
import threading
import time

import pytest

from scanstation.capture import Capture, PagePipeline
from scanstation.catalog_import import import_catalog
from scanstation.ocr import yielding
from scanstation.ocr.queue import OcrRunner
from scanstation.profiles import ScanProfile
from scanstation.resources import resource

THREE = "X001-ZY·DJ·2024·D100-0001-001"  # 3 declared pages
FIVE = "X001-ZY·DJ·2024·D100-0002-001"  # 5
GRAY = ScanProfile("测试灰度", mode="gray")


@pytest.fixture
def station(home, sessions):
    import_catalog(sessions["clerk1"], resource("sample-catalog.xlsx"))
    pipeline = PagePipeline(workers=2)
    yield Capture(sessions["clerk1"], pipeline)
    pipeline.close()


def _statuses(home) -> dict[str, int]:
    return {r["status"]: r["n"] for r in home.catalog.query("SELECT status, count(*) n FROM page_text GROUP BY status")}


def _done(home) -> int:
    return home.catalog.one("SELECT count(*) n FROM page_text WHERE status = 'done'")["n"]


def _wait_all_done(home, total: int, seconds: float = 240.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and _done(home) < total:
        time.sleep(0.2)


@pytest.mark.skipif(os.name != "posix", reason="niceness is a POSIX notion (Windows: the idle priority class)")
def test_ocr_worker_processes_run_at_the_lowest_priority(home):
    pool = OcrRunner(home, workers=1)._new_pool()
    try:
        worker_nice = pool.submit(os.nice, 0).result(timeout=60)
    finally:
        pool.shutdown()
    assert worker_nice == yielding.OCR_NICE and worker_nice > os.nice(0)


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="per-thread niceness is Linux's")
def test_background_runner_thread_is_low_priority_and_the_station_is_not(home):
    before = os.getpriority(os.PRIO_PROCESS, 0)
    runner = OcrRunner(home, workers=1)
    runner.start(poll_s=0.1)
    try:
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and os.getpriority(os.PRIO_PROCESS, runner._thread.native_id) != 19:
            time.sleep(0.05)
        assert os.getpriority(os.PRIO_PROCESS, runner._thread.native_id) == yielding.OCR_NICE
    finally:
        runner.stop()
    assert os.getpriority(os.PRIO_PROCESS, 0) == before  # the station's own thread keeps its priority


def test_capture_run_marks_the_station_busy_only_while_it_runs(home, station):
    seen = []
    run = station.start(THREE, "demo", GRAY, pages=None, scan_options={})
    run.on_page = lambda row: seen.append(yielding.CAPTURE.active)
    assert not yielding.CAPTURE.active
    result = run.run()
    assert result.ok and len(result.pages) == 3
    assert seen == [True, True, True]
    assert not yielding.CAPTURE.active and yielding.CAPTURE.busy(60.0) and not yielding.CAPTURE.busy(0.0)


def test_background_ocr_stands_aside_during_capture_and_catches_up_after(home, station):
    states = []
    # the pause after a run is long enough for the lowest-priority runner thread to be scheduled on a busy machine
    runner = OcrRunner(home, workers=1, timeout_s=120, engine="tesseract", resume_after_s=3.0)
    runner.start(poll_s=0.1, progress=states.append)
    try:
        # dossier 1: OCR reads nothing while its pages arrive (every page is queued the moment it is stored)
        done_during = []
        run = station.start(THREE, "demo", GRAY, pages=None, scan_options={})
        run.on_page = lambda row: done_during.append(_done(home))
        assert run.run().ok
        assert done_during == [0, 0, 0]
        deadline = time.monotonic() + 3.0
        while not any(s.paused for s in states) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert any(s.paused for s in states)  # the runner saw the queued pages and stood aside
        # between dossiers it catches up
        _wait_all_done(home, 3)
        assert _done(home) == 3
        # dossier 2 starts while OCR is idle again; its pages wait until the run is over
        during = []
        run = station.start(FIVE, "demo", GRAY, pages=None, scan_options={})
        run.on_page = lambda row: during.append(_done(home))
        assert run.run().ok
        assert during == [3, 3, 3, 3, 3]
        _wait_all_done(home, 8)
    finally:
        runner.stop()
    assert _statuses(home) == {"done": 8}
    assert runner.last_error is None


def test_a_page_being_read_when_capture_starts_is_finished_and_no_new_one_is_claimed(home, station):
    assert station.start(FIVE, "demo", GRAY, pages=None, scan_options={}).run().ok  # 5 pages queued
    time.sleep(0.6)  # past the pause after that run
    runner = OcrRunner(home, workers=1, timeout_s=120, engine="tesseract", resume_after_s=0.5)
    stop = threading.Event()
    stats = []
    thread = threading.Thread(target=lambda: stats.append(runner.run_until_empty(cancel=stop)))
    thread.start()
    try:
        deadline = time.monotonic() + 120
        while (
            time.monotonic() < deadline
            and not home.catalog.one("SELECT count(*) n FROM page_text WHERE status = 'running'")["n"]
        ):
            time.sleep(0.05)
        with yielding.CAPTURE.capturing():  # a device starts delivering
            time.sleep(0.5)  # the runner notices and gives back what no worker has started
            deadline = time.monotonic() + 120
            while (
                time.monotonic() < deadline
                and home.catalog.one("SELECT count(*) n FROM page_text WHERE status = 'running'")["n"]
            ):
                time.sleep(0.1)
            settled = _done(home)
            assert settled <= 2  # at most the pages a worker had already started
            time.sleep(1.5)
            assert _done(home) == settled  # nothing new while the device delivers
        _wait_all_done(home, 5)
    finally:
        stop.set()
        thread.join(60)
    assert _done(home) == 5
    assert stats and stats[0].pauses >= 1 and stats[0].paused_seconds >= 1.5 and stats[0].failed == 0


def test_a_page_out_of_time_while_capture_ran_is_queued_again_without_counting_an_attempt(home, station):
    assert station.start(THREE, "demo", GRAY, pages=1, scan_options={}).run().ok  # 1 page queued
    time.sleep(0.6)
    # a limit no page can meet: every read runs out of time; one attempt allowed
    runner = OcrRunner(home, workers=1, timeout_s=0.01, max_attempts=1, engine="tesseract", resume_after_s=0.3)
    stats = []
    thread = threading.Thread(target=lambda: stats.append(runner.run_until_empty()))
    thread.start()
    try:
        deadline = time.monotonic() + 60
        while (
            time.monotonic() < deadline
            and not home.catalog.one("SELECT count(*) n FROM page_text WHERE status = 'running'")["n"]
        ):
            time.sleep(0.005)
        with yielding.CAPTURE.capturing():  # the device starts while the worker (still starting) has the page
            time.sleep(0.3)
    finally:
        thread.join(120)
    row = home.catalog.one("SELECT * FROM page_text")
    # the read that overlapped the capture did not count; the next one (no capture) did
    assert stats[0].deferred == 1 and stats[0].failed == 1
    assert row["status"] == "failed" and row["attempts"] == 1 and "time limit" in row["error"]
