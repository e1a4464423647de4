"""GUI benchmark: start-up time, event-loop stalls while the feeder runs, memory with a big dossier.

    .venv/bin/python bench/gui.py [--quick]

Prints ONE JSON line:
* ``startup_to_login_s``: from launching the process to the sign-in window on screen (the steps of
  ``run_gui``: QApplication, translators, home, login dialog), against ``startup_floor_s``, a bare
  PySide6 process showing one label (the floor no Qt program can beat); ``startup_ratio``.
* ``max_stall_ms_scanning``: the longest event-loop stall measured with a 10 ms QTimer heartbeat
  while a batch of ``scan_pages`` pages (200; 50 with --quick) comes from the demo scanner into the
  real scan desk (live thumbnails, status line), against ``max_stall_ms_idle`` measured the same way
  with the window idle; target ≤ 100 ms.
* ``rss_mb_1000_pages``: resident memory with a 1,000-page dossier open in the scan desk after
  scrolling its thumbnails from the first page to the last (``peak_rss_mb`` the high-water mark;
  target < 500 MB), and ``max_stall_ms_scrolling`` during that scroll.

* ``ocr_backlog_at_scan_start`` / ``ocr_backlog_at_scan_end`` / ``ocr_pages_read_during_scan``: the window
  runs with its background OCR on, as the station does (one worker at the lowest priority that stands aside
  while the device delivers pages, ``scanstation.ocr.yielding``), so the figures above include it; then
  ``ocr_drain_seconds`` (``--quick``: only ``ocr_pages_read_in_drain_s`` within ``drain_s``) says how soon it
  caught up after the batch. Capture speed with OCR on vs off, measured side by side, is
  ``bench/capture.py --ocr``.

Runs offscreen (QT_QPA_PLATFORM=offscreen).
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password"


def rss_mb() -> tuple[float, float]:
    """(current, peak) resident set size in MB, from /proc (Linux)."""
    values = {}
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(("VmRSS:", "VmHWM:")):
                key, value = line.split(":", 1)
                values[key] = int(value.split()[0]) / 1024
    except OSError:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        return peak, peak
    return round(values.get("VmRSS", 0), 1), round(values.get("VmHWM", 0), 1)


# -- start-up (child processes) -------------------------------------------------------------------
STARTUP_CHILD = r"""
import sys, time
from scanstation.ui.app import application
app = application()
from scanstation.ui import i18n
i18n.install("zh_CN")
import scanstation.bootstrap  # noqa: F401 (every domain's catalog migrations)
from scanstation.home import Home
home = Home.open(sys.argv[1])
from scanstation.ui.login import LoginDialog
dialog = LoginDialog(home)
dialog.show()
from PySide6.QtTest import QTest
QTest.qWaitForWindowExposed(dialog)
app.processEvents()
print("ready", flush=True)
"""

FLOOR_CHILD = r"""
from PySide6.QtWidgets import QApplication, QLabel
from PySide6.QtTest import QTest
app = QApplication([])
label = QLabel("ScanStation")
label.show()
QTest.qWaitForWindowExposed(label)
app.processEvents()
print("ready", flush=True)
"""


def time_child(code: str, *args: str, runs: int = 3) -> float:
    best = None
    for _ in range(runs):
        started = time.perf_counter()
        proc = subprocess.Popen(
            [sys.executable, "-c", code, *args],
            stdout=subprocess.PIPE,
            text=True,
            cwd=ROOT,
            env=dict(os.environ, PYTHONPATH=str(ROOT)),
        )
        line = proc.stdout.readline()
        elapsed = time.perf_counter() - started
        proc.kill()
        proc.wait()
        if line.strip() != "ready":
            raise SystemExit("start-up probe failed")
        best = elapsed if best is None else min(best, elapsed)
    return best


# -- in-process measurements ----------------------------------------------------------------------
class Heartbeat:
    """A 10 ms timer; the longest gap between two ticks beyond the interval is the worst stall."""

    def __init__(self, interval_ms: int = 10):
        from PySide6.QtCore import QTimer

        self.interval = interval_ms / 1000
        self.timer = QTimer()
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(self._tick)
        self.max_gap = 0.0
        self.last = None

    def _tick(self) -> None:
        now = time.perf_counter()
        if self.last is not None:
            self.max_gap = max(self.max_gap, now - self.last - self.interval)
        self.last = now

    def start(self) -> None:
        self.max_gap, self.last = 0.0, None
        self.timer.start()

    def stop_ms(self) -> float:
        self.timer.stop()
        return round(self.max_gap * 1000, 1)


def spin_until(condition, timeout_s: float) -> bool:
    from PySide6.QtCore import QEventLoop, QTimer

    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return True
        loop = QEventLoop()
        QTimer.singleShot(20, loop.quit)
        loop.exec()
    return False


def make_home(base: Path):
    from scanstation.catalog_import import import_catalog
    from scanstation.service import Session, add_user
    from scanstation.ui.first_start import create_station
    from scanstation.ui.resources import resource
    from scanstation.users import row_to_user

    home = create_station(base / "home", "X001", "BENCH", "admin", PASSWORD)
    admin = Session(home, row_to_user(home.catalog.one("SELECT * FROM users WHERE name = 'admin'")))
    from scanstation import settings

    settings.set_value(admin, "capture.demo_scanner", True)  # training: the batch comes from the demo scanner
    add_user(admin, "clerk", ("clerk",), PASSWORD)
    clerk = Session(home, row_to_user(home.catalog.one("SELECT * FROM users WHERE name = 'clerk'")))
    import_catalog(clerk, resource("sample-catalog.xlsx"))
    return home, clerk


def ocr_counts(home) -> tuple[int, int]:
    """(backlog: queued or being read, pages read)."""
    rows = {r["status"]: r["n"] for r in home.catalog.query("SELECT status, count(*) n FROM page_text GROUP BY status")}
    return rows.get("queued", 0) + rows.get("running", 0), rows.get("done", 0)


def scan_batch(window, number: str, pages: int) -> dict:
    desk = window.scan_desk
    home = window.api.home
    desk.open_dossier(number)
    spin_until(lambda: desk.number == number, 30)
    spin_until(lambda: desk.profile_combo.findData("灰度") >= 0, 30)
    desk.profile_combo.setCurrentIndex(desk.profile_combo.findData("灰度"))
    backlog0, read0 = ocr_counts(home)
    heartbeat = Heartbeat()
    heartbeat.start()
    started = time.perf_counter()
    desk.scan(pages=pages, scan_options={"demo_pages": pages})
    spin_until(lambda: desk.operation is not None, 30)
    finished = spin_until(lambda: desk.operation is None and desk.fault is None, 3600)
    seconds = time.perf_counter() - started
    stall = heartbeat.stop_ms()
    backlog1, read1 = ocr_counts(home)
    if not finished:
        raise SystemExit("the batch did not finish")
    spin_until(lambda: desk.strip.pages.rowCount() >= pages, 60)
    return {
        "scan_pages": desk.strip.pages.rowCount(),
        "scan_seconds": round(seconds, 1),
        "images_per_min": round(desk.strip.pages.rowCount() * 60 / seconds, 1),
        "max_stall_ms_scanning": stall,
        "ocr_backlog_at_scan_start": backlog0,
        "ocr_backlog_at_scan_end": backlog1,
        "ocr_pages_read_during_scan": read1 - read0,
    }


def ocr_drain(window, limit_s: float) -> dict:
    """How soon the background OCR catches up after the batch (within ``limit_s``)."""
    home = window.api.home
    backlog0, read0 = ocr_counts(home)
    started = time.perf_counter()
    drained = spin_until(lambda: ocr_counts(home)[0] == 0, limit_s)
    seconds = time.perf_counter() - started
    backlog1, read1 = ocr_counts(home)
    out = {"ocr_pages_read_in_drain_s": read1 - read0, "drain_s": round(seconds, 1), "ocr_backlog_left": backlog1}
    out["ocr_drain_seconds"] = round(seconds, 1) if drained else None
    if read1 > read0:
        out["ocr_pages_per_min_after_scan"] = round((read1 - read0) * 60 / seconds, 1)
    return out


def big_dossier(home, clerk, number: str, source_number: str, count: int = 1000) -> None:
    """A 1,000-page dossier from real scanned pages: each file a distinct copy of a demo page (bytes
    appended after the JPEG end marker make each checksum different, as every real page's is)."""
    from scanstation.home import now_iso
    from scanstation.storage.files import digests
    from scanstation.storage.image_store import ImageStore

    store = ImageStore(home.path)
    sources = home.catalog.query(
        "SELECT p.* FROM pages p JOIN dossiers d ON d.id = p.dossier_id WHERE d.number = ?"
        " AND p.state = 'active' ORDER BY p.seq",
        (source_number,),
    )
    dossier = home.catalog.one("SELECT * FROM dossiers WHERE number = ?", (number,))
    folder = store.dossier_dir(number)
    folder.mkdir(parents=True, exist_ok=True)
    rows = []
    for seq in range(1, count + 1):
        src = sources[(seq - 1) % len(sources)]
        data = store.path(source_number, src["file_name"]).read_bytes() + f"#{seq}".encode()
        name = f"{number}-{seq:04d}.jpg"
        (folder / name).write_bytes(data)
        sha256, sm3 = digests(data)
        rows.append(
            (
                dossier["id"],
                seq,
                name,
                len(data),
                sha256,
                sm3,
                "jpeg",
                src["width"],
                src["height"],
                src["dpi"],
                src["color_mode"],
                src["qc_flags"],
                "clerk",
                now_iso(),
            )
        )
    with home.catalog.write() as conn:
        conn.executemany(
            "INSERT INTO pages(dossier_id, seq, state, file_name, bytes, sha256, sm3, format, width, height,"
            " dpi, color_mode, qc_flags, operator, created_at) VALUES (?, ?, 'active', ?, ?, ?, ?, ?, ?, ?,"
            " ?, ?, ?, ?, ?)",
            rows,
        )
        conn.execute("UPDATE dossiers SET status = 'scanning' WHERE id = ?", (dossier["id"],))


def scroll_big_dossier(window, number: str) -> dict:
    desk = window.scan_desk
    desk.open_dossier(number)
    spin_until(lambda: desk.number == number and desk.strip.pages.rowCount() >= 1000, 60)
    strip = desk.strip
    bar = strip.verticalScrollBar()
    heartbeat = Heartbeat()
    heartbeat.start()
    started = time.perf_counter()
    step = max(1, strip.viewport().height() // 2)
    value = 0
    while value < bar.maximum():  # half a screen at a time, as fast as a clerk drags the scroll bar
        value = min(bar.maximum(), value + step)
        bar.setValue(value)
        spin_until(lambda: False, 0.02)
    strip.scrollToBottom()
    last = strip.pages.index(strip.pages.rowCount() - 1)
    from PySide6.QtCore import Qt
    from PySide6.QtGui import QPixmap

    spin_until(lambda: isinstance(last.data(Qt.ItemDataRole.DecorationRole), QPixmap), 60)
    seconds = time.perf_counter() - started
    stall = heartbeat.stop_ms()
    current, peak = rss_mb()
    return {
        "dossier_pages": strip.pages.rowCount(),
        "scroll_seconds": round(seconds, 1),
        "max_stall_ms_scrolling": stall,
        "thumbnails_decoded": strip.loader.decoded,
        "thumbnail_cache_mb": round(strip.loader.cache_bytes() / 2**20, 1),
        "rss_mb_1000_pages": current,
        "peak_rss_mb": peak,
    }


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    quick = "--quick" in argv
    pages = 50 if quick else 200
    base = Path(tempfile.mkdtemp(prefix="scanstation-bench-gui-"))
    figures: dict = {"quick": quick}
    try:
        from scanstation.ui.app import application

        app = application()  # noqa: F841 - the QApplication must stay alive for the run
        from scanstation.ui import i18n

        i18n.install("zh_CN")
        home, clerk = make_home(base)
        home_path = str(home.path)
        home.close()  # the start-up probe opens it in its own process

        floor = time_child(FLOOR_CHILD, runs=2 if quick else 3)
        startup = time_child(STARTUP_CHILD, home_path, runs=2 if quick else 3)
        figures.update(
            startup_to_login_s=round(startup, 2),
            startup_floor_s=round(floor, 2),
            startup_ratio=round(startup / floor, 2),
        )

        from scanstation.home import Home
        from scanstation.service import Session
        from scanstation.ui.core_api import CoreApi
        from scanstation.ui.main_window import MainWindow

        home = Home.open(home_path)
        clerk = Session(home, clerk.user)
        window = MainWindow(CoreApi(clerk), idle_timeout_ms=0, background_ocr=True)  # as the station runs
        window.resize(1500, 920)
        window.show()
        from scanstation.ui.app import freeze_long_lived_objects

        freeze_long_lived_objects()  # as run_gui does
        spin_until(lambda: window.scan_desk.profile_combo.count() > 0, 30)
        heartbeat = Heartbeat()
        heartbeat.start()
        spin_until(lambda: False, 3.0)
        figures["max_stall_ms_idle"] = heartbeat.stop_ms()

        number = "X001-ZY·DJ·2024·D100-0001-001"
        figures.update(scan_batch(window, number, pages))
        figures["stall_ratio_scanning_vs_idle"] = round(
            figures["max_stall_ms_scanning"] / max(figures["max_stall_ms_idle"], 1.0), 2
        )
        figures.update(ocr_drain(window, 20.0 if quick else 1800.0))
        big = "X001-ZY·DJ·2024·D100-0001-002"
        big_dossier(home, clerk, big, number)
        figures.update(scroll_big_dossier(window, big))
        window.close()
        window.api.close()
        from scanstation.ui import tasks

        tasks.wait_for_pools(10000)
        home.close()
    finally:
        shutil.rmtree(base, ignore_errors=True)
    print(json.dumps(figures, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
