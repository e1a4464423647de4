"""Capture end to end: from the device to a committed catalog row, 300 dpi gray A4.

The whole capture path runs: device → spool → image pipeline (deskew, crop, checks, JPEG) in the process
pool → atomic write → catalog row + audit + OCR queue entry. Each capture is compared with its floor,
measured in the same run, round by round (capture of a dossier, then the floor on the same pages), and
the ratio floor/capture is taken per round; the per-round ratios and their median are printed.

Sources:
- ``replay`` (the fair measurement): document pages drawn by the demo page generator beforehand and
  kept as raw PNM files; a replay scanner delivers them by hard-linking them into the spool, so
  acquisition costs no CPU. Floor: the same pages delivered the same way, each read and JPEG-encoded
  on all cores — what any capture must do at least. Target: ratio ≤ 2.0, ≥ 600 images/min.
  ``replay_warped_share`` says how many pages needed a deskew warp (skew beyond 0.35°).
- ``demo``: the demo scanner drawing its pages while it scans (drawing costs CPU on the same cores;
  reported for what a station without a scanner sees, not for the target).
- ``sane``: the SANE ``test`` backend with its ``Grid`` test picture (black lines on white: a page with
  content and a white background; its default picture is solid black, which the pipeline flags blank and
  dark and skips deskew and crop for). Floor: the same backend's pages encoded on all cores as they arrive.

- ``split`` (``--split``, not in the default set): one stack of many dossiers split at printed cover sheets
  (the product's PDF rasterised by pdftoppm at 300 dpi grey) replayed the same way, against its peer in
  the same round: the same kind of pages captured dossier by dossier with the 档号 given (no sheets, no
  decoding). Printed: images/min of the split run (sheets included) and its stored pages/min, the peer's
  images/min, the ratio peer/split per round and its median, and the CPU time of cover-sheet detection
  per page (thread CPU time on the device thread; target ≤ 15 ms).

- ``ocr`` (``--ocr``, not in the default set): capture with the window's background OCR (one worker,
  tesseract) against capture with no OCR, replayed the same way, interleaved round by round (the order
  alternates). Before an OCR capture the runner is started on the backlog the earlier captures left (every
  stored page is queued for OCR) and is reading a page when the capture starts. Printed per round and as
  medians: capture images/min with OCR off, with the yielding OCR (the product: lowest priority, stands
  aside while the device delivers) and with a naive OCR (normal priority, never pauses: what the station
  did before), the ratios on/off (target ≥ 0.95), the OCR backlog at the start and end of each capture
  (its growth) and the OCR pages read during it, and the drain after it: pages read per minute in the
  seconds after the capture and the minutes the backlog needs at that rate.

- ``stages`` (``--stages``): where a page's CPU goes. The replay pages processed in this process, each step's
  thread CPU time (the pipeline's own step timings, read with a CPU clock), against the floor's read +
  encode of the same pages; ``warp_plus_encode_over_floor`` is what the deskew warp and the JPEG encode
  alone cost against the floor, before any measurement or commit. Also the JPEG encoders side by side
  on the masters' pixels (Pillow, OpenCV's imencode: the same libjpeg-turbo; ``encoders_identical_bytes``
  says whether the files are the same bytes once OpenCV's JFIF header carries the 300 dpi).

    .venv/bin/python bench/capture.py [--quick] [--rounds N] [--split] [--ocr] [--stages]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scanstation.bootstrap  # noqa: E402,F401 (every domain's catalog migrations)
from scanstation.capture import Capture, PagePipeline  # noqa: E402
from scanstation.home import Home, now_iso  # noqa: E402
from scanstation.profiles import ScanProfile  # noqa: E402
from scanstation.service import Session  # noqa: E402
from scanstation.users import hash_password, row_to_user  # noqa: E402


def make_home(base: Path, dossiers: int, pages: int) -> tuple[Home, Session]:
    home = Home.create(base / "home", "X001", "BENCH")
    with home.catalog.write() as conn:
        # the demo source and the warm-up use the demo scanner: this home is a training station
        conn.execute("INSERT INTO settings(key, value) VALUES ('capture.demo_scanner', 'true')")
        conn.execute(
            "INSERT INTO users(name, roles, password_hash, created_at) VALUES ('clerk', 'clerk', ?, ?)",
            (hash_password("bench-password"), now_iso()),
        )
        for i in range(dossiers):
            conn.execute(
                "INSERT INTO dossiers(number, fonds_code, year, category, retention, title, declared_pages,"
                " person_name, created_at, updated_at) VALUES (?, 'X001', 2024, 'ZY·DJ', 'D100', ?, ?, ?, ?, ?)",
                (f"X001-ZY·DJ·2024·D100-0001-{i + 1:03d}", f"参保人员登记表{i}", pages, "张伟", now_iso(), now_iso()),
            )
    user = row_to_user(home.catalog.one("SELECT * FROM users WHERE name = 'clerk'"))
    return home, Session(home, user)


def run_capture(
    session: Session, pipeline: PagePipeline, device: str, dossiers: list[str], pages: int, options: dict
) -> tuple[int, float]:
    capture = Capture(session, pipeline)
    profile = ScanProfile("bench", device=device, mode="gray", dpi=300)
    done, t0 = 0, time.perf_counter()
    for number in dossiers:
        result = capture.start(number, device, profile, pages=pages, scan_options=dict(options)).run()
        if result.error is not None:
            raise SystemExit(f"capture failed: {result.error.en}")
        done += len(result.pages)
    return done, time.perf_counter() - t0


class ReplayScanner:
    """Delivers pre-rendered PNM pages by hard-linking them into the spool: acquisition costs no CPU."""

    backend = "replay"

    def __init__(self, files: list[Path], size: tuple[int, int]):
        self.files, self.size = files, size

    def list_devices(self):
        from scanstation.devices.base import DeviceInfo

        return [DeviceInfo(id="replay", backend="replay", label="replay")]

    def capabilities(self, device_id):
        raise NotImplementedError

    def scan(self, device_id, settings, on_page, cancel=None):
        from scanstation.devices.base import ScannedPage, ScanResult, make_spool_dir

        spool = make_spool_dir(settings)
        pages = []
        info = self.list_devices()[0]
        limit = settings.page_limit or len(self.files)
        for i, src in enumerate(self.files[:limit]):
            if cancel is not None and cancel.cancelled:
                break
            target = os.path.join(spool, f"page-{i:04d}.pnm")
            os.link(src, target)
            page = ScannedPage(
                index=i,
                page_number=settings.first_page_number + i,
                path=target,
                width=self.size[0],
                height=self.size[1],
                dpi=300,
                mode="gray",
                device=info,
            )
            pages.append(page)
            on_page(page)
        return ScanResult(
            device_id=device_id,
            pages=pages,
            ended_by="feeder_empty" if len(pages) == len(self.files) else "page_limit",
            first_page_number=settings.first_page_number,
            spool_dir=spool,
        )


def prerender(home: Home, number: str, pages: int, folder: Path) -> tuple[list[Path], tuple[int, int], int]:
    """The demo scanner's pages for this dossier, drawn once and kept as raw PNM (what a scanner delivers)."""
    from scanstation.devices.demo_pages import render_page

    folder.mkdir(parents=True, exist_ok=True)
    files, size, skewed = [], (0, 0), 0
    for i, spec in enumerate(demo_specs(home, [number], pages)):
        image, _ = render_page(spec)
        path = folder / f"{i:04d}.pnm"
        image.save(path)
        files.append(path)
        size = image.size
        skewed += abs(spec.skew_deg) > 0.35
    return files, size, skewed


def cpu_seconds(pools) -> float:
    """CPU time (user + system) used so far by this process (all its threads) and the worker processes of
    ``pools`` (ProcessPoolExecutors that stay up between measurements). Linux; 0 elsewhere. Unlike images/min
    it hardly depends on what else runs on the machine, so capture/floor in CPU per page is the steadier ratio
    on a shared machine."""
    if not os.path.isdir("/proc/self"):
        return 0.0
    t = os.times()
    total = t.user + t.system
    tick = os.sysconf("SC_CLK_TCK")
    for pool in pools:
        for pid in list(getattr(pool, "_processes", None) or {}):
            try:
                fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            total += (int(fields[11]) + int(fields[12])) / tick  # utime, stime
    return total


def floor_replay(files: list[Path], pool) -> float:
    """Read + JPEG-encode the same pre-rendered pages on all cores; images/min."""
    t0 = time.perf_counter()
    list(pool.map(_encode_keep, [str(f) for f in files]))
    return len(files) * 60 / (time.perf_counter() - t0)


def _encode_keep(path: str) -> int:
    from PIL import Image

    with Image.open(path) as im:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=85, dpi=(300, 300))
    return len(buf.getvalue())


def _encode_demo(spec) -> int:
    from scanstation.devices.demo_pages import render_page

    image, _ = render_page(spec)
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=85, dpi=(300, 300))
    return len(buf.getvalue())


def demo_specs(home: Home, numbers: list[str], pages: int) -> list:
    """The pages the demo scanner feeds for these dossiers in the capture run: the same plan from
    the same catalog fields, seed, resolution and mode (see CaptureRun.run and DemoScanner.scan)."""
    from scanstation.devices.demo_pages import demo_plan

    specs = []
    for number in numbers:
        row = home.catalog.one("SELECT * FROM dossiers WHERE number = ?", (number,))
        fields = {"档号": row["number"], "题名": row["title"], "姓名": row["person_name"]}
        specs += demo_plan(fields, pages, 0, False, dpi=300, mode="gray")
    return specs


def _encode_file(path: str) -> int:
    from PIL import Image

    with Image.open(path) as im:
        buf = io.BytesIO()
        im.save(buf, "JPEG", quality=85, dpi=(300, 300))
    os.unlink(path)
    return len(buf.getvalue())


def floor_demo(specs: list, workers: int) -> float:
    """Draw + JPEG-encode the captured pages on all cores."""
    import multiprocessing

    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(_encode_demo, specs[:workers]))  # warm up the workers (fonts, glyphs, grain)
        t0 = time.perf_counter()
        list(pool.map(_encode_demo, specs))
        return len(specs) * 60 / (time.perf_counter() - t0)


def floor_demo_device(home: Home, numbers: list[str], pages: int, workers: int, spool: Path) -> float:
    """The demo scanner delivering the capture run's pages (same fields, seed, dpi, mode) + encode on all cores."""
    import multiprocessing

    from scanstation.devices.base import CancelToken, ScanSettings
    from scanstation.devices.demo_backend import DemoScanner

    done = 0
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(abs, [1, 2]))
        t0 = time.perf_counter()
        for r, number in enumerate(numbers):
            row = home.catalog.one("SELECT * FROM dossiers WHERE number = ?", (number,))
            fields = {"档号": row["number"], "题名": row["title"], "姓名": row["person_name"]}
            futures = []
            settings = ScanSettings(
                source="adf",
                mode="gray",
                dpi=300,
                page_limit=pages,
                first_page_number=1,
                spool_dir=str(spool / f"demo-floor-{r}"),
                dossier_fields=fields,
                demo_pages=pages,
            )
            DemoScanner().scan(
                "demo", settings, lambda page: futures.append(pool.submit(_encode_file, page.path)), CancelToken()
            )
            done += sum(1 for f in futures if f.result())
        return done * 60 / (time.perf_counter() - t0)


def floor_sane(runs: int, pages: int, workers: int, spool: Path, options: dict | None = None) -> float:
    import multiprocessing

    from scanstation.devices.base import CancelToken, ScanSettings
    from scanstation.devices.sane_backend import SaneScanner

    done = 0
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(abs, [1, 2]))
        t0 = time.perf_counter()
        for r in range(runs):
            futures = []
            settings = ScanSettings(
                source="adf",
                mode="gray",
                dpi=300,
                page_limit=pages,
                spool_dir=str(spool / f"floor-{r}"),
                **(options or {}),
            )
            SaneScanner().scan(
                "sane:test:0",
                settings,
                lambda page: futures.append(pool.submit(_encode_file, page.path)),
                CancelToken(),
            )
            done += sum(1 for f in futures if f.result())
        return done * 60 / (time.perf_counter() - t0)


def sane_config(base: Path) -> Path:
    conf = base / "sane"
    conf.mkdir()
    (conf / "dll.conf").write_text("test\n")
    text = Path("/etc/sane.d/test.conf").read_text() if Path("/etc/sane.d/test.conf").exists() else ""
    (conf / "test.conf").write_text(text + "\ngeometry_max 300.0\nbr_x 210.0\nbr_y 297.0\n")
    return conf


def per_round_summary(figures: dict, prefix: str, captures: list[float], floors: list[float]) -> None:
    ratios = [round(f / c, 2) for f, c in zip(floors, captures)]
    figures[f"{prefix}_images_per_min_per_round"] = [round(c) for c in captures]
    figures[f"{prefix}_floor_images_per_min_per_round"] = [round(f) for f in floors]
    figures[f"{prefix}_ratio_per_round"] = ratios
    figures[f"{prefix}_images_per_min"] = round(statistics.median(captures))
    figures[f"{prefix}_floor_images_per_min"] = round(statistics.median(floors))
    figures[f"{prefix}_ratio_floor_to_capture"] = round(statistics.median(ratios), 2)


def split_stack(base: Path, home: Home, numbers: list[str], pages: int):
    """Per dossier: its cover sheet (product PDF → pdftoppm 300 dpi grey PGM) and ``pages`` pre-rendered pages."""
    import subprocess

    from scanstation.coversheet.sheet import SheetData, write_sheets

    base.mkdir(parents=True, exist_ok=True)
    rows = [home.catalog.one("SELECT * FROM dossiers WHERE number = ?", (n,)) for n in numbers]
    pdf = write_sheets([SheetData(r["number"], r["title"], r["declared_pages"]) for r in rows], base / "sheets.pdf")
    subprocess.run(["pdftoppm", "-r", "300", "-gray", str(pdf), str(base / "sheet")], check=True, timeout=600)
    sheets = sorted(base.glob("sheet-*.pgm"))
    stack, size = [], (0, 0)
    for k, number in enumerate(numbers):
        files, size, _ = prerender(home, number, pages, base / f"d{k}")
        stack += [sheets[k]] + files
    return stack, size


def bench_split(args, workers: int) -> None:
    from scanstation.coversheet.split import SplitRun
    from scanstation.devices import factory as device_factory

    rounds = args.rounds or (2 if args.quick else 3)
    n_dossiers, pages = (4, 5) if args.quick else (8, 5)
    base = Path(tempfile.mkdtemp(prefix="bench-split-"))
    figures: dict = {
        "bench": "capture-split",
        "dpi": 300,
        "mode": "gray",
        "paper": "A4",
        "cores": workers,
        "rounds": rounds,
        "dossiers_per_round": n_dossiers,
        "pages_per_dossier": pages,
        "load_avg_start": round(os.getloadavg()[0], 2),
    }
    original_open = device_factory.open_backend
    try:
        home, session = make_home(base, 2 * n_dossiers * rounds + 1, pages)
        numbers = [r["number"] for r in home.catalog.query("SELECT number FROM dossiers ORDER BY number")]
        pipeline = PagePipeline(workers)
        profile = ScanProfile("bench", device="replay", mode="gray", dpi=300)
        run_capture(session, pipeline, "demo", numbers[:1], 2, {})  # warm the pipeline pool
        free = iter(numbers[1:])
        split_rates, stored_rates, peer_rates, ratios, decode = [], [], [], [], []
        for r in range(rounds):
            split_numbers = [next(free) for _ in range(n_dossiers)]
            peer_numbers = [next(free) for _ in range(n_dossiers)]
            stack, size = split_stack(base / f"split-{r}", home, split_numbers, pages)
            peer = {n: prerender(home, n, pages, base / f"peer-{r}-{k}")[0] for k, n in enumerate(peer_numbers)}

            def run_split():
                replay = ReplayScanner(stack, size)
                device_factory.open_backend = lambda d, _r=replay: _r if d == "replay" else original_open(d)
                try:
                    t0 = time.perf_counter()
                    result = SplitRun(Capture(session, pipeline), "replay", profile).run()
                    secs = time.perf_counter() - t0
                finally:
                    device_factory.open_backend = original_open
                if not result.ok or result.stored_pages != n_dossiers * pages or result.sheets != n_dossiers:
                    raise SystemExit(f"split run failed: {result.as_dict()}")
                decode.extend(result.decode_ms)
                return len(stack) * 60 / secs, result.stored_pages * 60 / secs

            def run_peer():
                done, secs = 0, 0.0
                for number in peer_numbers:
                    replay = ReplayScanner(peer[number], size)
                    device_factory.open_backend = lambda d, _r=replay: _r if d == "replay" else original_open(d)
                    try:
                        n, s = run_capture(session, pipeline, "replay", [number], pages, {})
                    finally:
                        device_factory.open_backend = original_open
                    done, secs = done + n, secs + s
                return done * 60 / secs

            if r % 2 == 0:  # interleaved: which one goes first alternates by round
                (images, stored), peer_rate = run_split(), run_peer()
            else:
                peer_rate = run_peer()
                images, stored = run_split()
            split_rates.append(images)
            stored_rates.append(stored)
            peer_rates.append(peer_rate)
            ratios.append(round(peer_rate / images, 2))
        figures["split_images_per_min_per_round"] = [round(x) for x in split_rates]
        figures["split_stored_pages_per_min_per_round"] = [round(x) for x in stored_rates]
        figures["peer_images_per_min_per_round"] = [round(x) for x in peer_rates]
        figures["ratio_peer_to_split_per_round"] = ratios
        figures["split_images_per_min"] = round(statistics.median(split_rates))
        figures["peer_images_per_min"] = round(statistics.median(peer_rates))
        figures["ratio_peer_to_split"] = statistics.median(ratios)
        figures["decode_pages"] = len(decode)
        figures["decode_cpu_ms_per_page_mean"] = round(statistics.mean(decode), 2)
        figures["decode_cpu_ms_per_page_p95"] = round(sorted(decode)[max(0, int(len(decode) * 0.95) - 1)], 2)
        figures["decode_cpu_ms_per_page_max"] = round(max(decode), 2)
        figures["target_images_per_min"] = 600
        figures["target_decode_cpu_ms"] = 15
        figures["load_avg_end"] = round(os.getloadavg()[0], 2)
        pipeline.close()
        home.close()
        print(json.dumps(figures))
    finally:
        device_factory.open_backend = original_open
        shutil.rmtree(base, ignore_errors=True)


def bench_ocr(args, workers: int) -> None:
    """Capture with background OCR (yielding, naive) vs without, interleaved round by round."""
    import multiprocessing

    from scanstation.devices import factory as device_factory
    from scanstation.ocr.queue import OcrRunner
    from scanstation.worker_lifetime import die_with_parent

    class NaiveRunner(OcrRunner):
        """The background OCR before it yielded: workers at normal priority, never standing aside."""

        def _new_pool(self):
            return ProcessPoolExecutor(
                self.workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=die_with_parent,
                initargs=(os.getpid(),),
            )

    rounds = args.rounds or (2 if args.quick else 4)
    pages = 12 if args.quick else 40
    drain_s = 6.0 if args.quick else 30.0
    base = Path(tempfile.mkdtemp(prefix="bench-capture-ocr-"))
    figures: dict = {
        "bench": "capture-ocr",
        "dpi": 300,
        "mode": "gray",
        "paper": "A4",
        "cores": workers,
        "rounds": rounds,
        "pages_per_capture": pages,
        "ocr_workers": 1,
        "ocr_engine": "tesseract",
        "load_avg_start": round(os.getloadavg()[0], 2),
    }
    original_open = device_factory.open_backend
    runner = None
    try:
        home, session = make_home(base, 3 * rounds + 2, pages)
        numbers = [r["number"] for r in home.catalog.query("SELECT number FROM dossiers ORDER BY number")]
        pipeline = PagePipeline(workers)
        run_capture(session, pipeline, "demo", numbers[:1], 2, {})  # warm the pipeline pool
        files, size, _ = prerender(home, numbers[1], pages, base / "pages")  # the same pages for every capture
        replay = ReplayScanner(files, size)
        device_factory.open_backend = lambda d: replay if d == "replay" else original_open(d)
        free = iter(numbers[1:])

        def pending() -> int:
            return home.catalog.one("SELECT count(*) n FROM page_text WHERE status IN ('queued', 'running')")["n"]

        def ocr_done() -> int:
            return home.catalog.one("SELECT count(*) n FROM page_text WHERE status = 'done'")["n"]

        def capture_with(kind: str) -> dict:
            nonlocal runner
            out: dict = {}
            if kind != "off":
                runner = (OcrRunner if kind == "yield" else NaiveRunner)(
                    home, workers=1, timeout_s=300, engine="tesseract", yield_to_capture=kind == "yield"
                )
                runner.start(poll_s=0.2)
                deadline = time.monotonic() + 60  # the OCR is reading a page when the device starts
                while (
                    time.monotonic() < deadline
                    and not home.catalog.one("SELECT count(*) n FROM page_text WHERE status = 'running'")["n"]
                ):
                    time.sleep(0.05)
            backlog0, done0 = pending(), ocr_done()
            done, secs = run_capture(session, pipeline, "replay", [next(free)], pages, {})
            out["rate"] = done * 60 / secs
            out["backlog_start"], out["backlog_end"] = backlog0, pending()
            out["ocr_pages_during"] = ocr_done() - done0
            if kind != "off":
                done1, t1 = ocr_done(), time.perf_counter()
                time.sleep(drain_s)
                rate = (ocr_done() - done1) * 60 / (time.perf_counter() - t1)
                runner.stop(wait=True)
                runner = None
                out["drain_pages_per_min"] = rate
                out["drain_minutes"] = round(out["backlog_end"] / rate, 1) if rate else None
            return out

        # a backlog to start with: one dossier captured with OCR off
        capture_with("off")
        per: dict[str, list[dict]] = {"off": [], "yield": [], "naive": []}
        for r in range(rounds):
            order = ["off", "yield", "naive"] if r % 2 == 0 else ["naive", "yield", "off"]
            for kind in order:
                per[kind].append(capture_with(kind))
        off = [x["rate"] for x in per["off"]]
        figures["off_images_per_min_per_round"] = [round(x) for x in off]
        for kind in ("yield", "naive"):
            rates = [x["rate"] for x in per[kind]]
            ratios = [round(x / o, 2) for x, o in zip(rates, off)]
            figures[f"{kind}_images_per_min_per_round"] = [round(x) for x in rates]
            figures[f"{kind}_ratio_on_to_off_per_round"] = ratios
            figures[f"{kind}_ratio_on_to_off"] = round(statistics.median(ratios), 2)
            figures[f"{kind}_backlog_start_end_per_round"] = [[x["backlog_start"], x["backlog_end"]] for x in per[kind]]
            figures[f"{kind}_ocr_pages_during_capture_per_round"] = [x["ocr_pages_during"] for x in per[kind]]
            figures[f"{kind}_drain_pages_per_min_per_round"] = [round(x["drain_pages_per_min"], 1) for x in per[kind]]
            figures[f"{kind}_drain_minutes_per_round"] = [x["drain_minutes"] for x in per[kind]]
        figures["off_images_per_min"] = round(statistics.median(off))
        figures["drain_window_s"] = drain_s
        figures["target_ratio_on_to_off"] = 0.95
        figures["load_avg_end"] = round(os.getloadavg()[0], 2)
        pipeline.close()
        home.close()
        print(json.dumps(figures))
    finally:
        if runner is not None:
            runner.stop(wait=True)
        device_factory.open_backend = original_open
        shutil.rmtree(base, ignore_errors=True)


def bench_stages(args) -> None:
    """CPU per page of each pipeline step and of the floor, in this process (see the module docstring)."""
    import types

    import numpy as np

    from scanstation.imaging import pipeline as page_pipeline

    pages = 12 if args.quick else 40
    repeats = args.rounds or 2
    base = Path(tempfile.mkdtemp(prefix="bench-capture-stages-"))
    figures: dict = {"bench": "capture-stages", "dpi": 300, "mode": "gray", "paper": "A4", "pages": pages}
    figures["load_avg_start"] = round(os.getloadavg()[0], 2)
    try:
        home, _session = make_home(base, 1, pages)
        number = home.catalog.one("SELECT number FROM dossiers")["number"]
        files, _size, skewed = prerender(home, number, pages, base / "pages")
        home.close()
        settings = page_pipeline.PipelineSettings(dpi=300, mode="gray")
        page_pipeline.process_page(str(files[0]), settings)  # imports, caches
        real_time = page_pipeline.time
        page_pipeline.time = types.SimpleNamespace(perf_counter=time.thread_time)  # its step timings in CPU time
        steps: dict[str, list[float]] = {}
        totals, floors, pil_enc, cv_enc, identical = [], [], [], [], True
        try:
            for _ in range(repeats):
                for f in files:
                    c = time.thread_time()
                    page = page_pipeline.process_page(str(f), settings)
                    totals.append((time.thread_time() - c) * 1000)
                    for k, v in page.metrics["timings_ms"].items():
                        steps.setdefault(k, []).append(v)
                    c = time.thread_time()
                    _encode_keep(str(f))
                    floors.append((time.thread_time() - c) * 1000)
                    pil, cv, same = _encoders(np.asarray(_decode(page.data)))
                    pil_enc.append(pil)
                    cv_enc.append(cv)
                    identical = identical and same
        finally:
            page_pipeline.time = real_time
        med = statistics.median
        figures["step_cpu_ms"] = {k: round(med(v), 1) for k, v in steps.items() if k != "orientation"}
        figures["page_cpu_ms"] = round(med(totals), 1)
        figures["floor_cpu_ms"] = round(med(floors), 1)
        figures["ratio_page_to_floor"] = round(med(totals) / med(floors), 2)
        warp_encode = med(steps["deskew_crop"]) + med(steps["encode"])
        figures["warp_plus_encode_over_floor"] = round(warp_encode / med(floors), 2)
        figures["encode_cpu_ms_pillow"] = round(med(pil_enc), 2)
        figures["encode_cpu_ms_opencv"] = round(med(cv_enc), 2)
        figures["encoders_identical_bytes"] = identical
        figures["skewed_share"] = round(skewed / len(files), 2)
        figures["load_avg_end"] = round(os.getloadavg()[0], 2)
        print(json.dumps(figures))
    finally:
        shutil.rmtree(base, ignore_errors=True)


def _decode(data: bytes):
    from PIL import Image

    return Image.open(io.BytesIO(data))


def _encoders(pixels) -> tuple[float, float, bool]:
    """CPU ms of Pillow's and OpenCV's JPEG encoder (quality 85) on one grey page, and whether the files are
    the same bytes once OpenCV's JFIF header says 300 dpi."""
    import struct

    import cv2
    from PIL import Image

    c = time.thread_time()
    buf = io.BytesIO()
    Image.fromarray(pixels).save(buf, "JPEG", quality=85, dpi=(300, 300), optimize=False)
    pil = (time.thread_time() - c) * 1000
    c = time.thread_time()
    data = bytearray(cv2.imencode(".jpg", pixels, [cv2.IMWRITE_JPEG_QUALITY, 85])[1])
    cv = (time.thread_time() - c) * 1000
    data[13:18] = b"\x01" + struct.pack(">HH", 300, 300)  # JFIF units: dots per inch, X, Y
    return pil, cv, bytes(data) == buf.getvalue()


def main() -> None:
    import multiprocessing

    from scanstation.devices import factory as device_factory

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, help="interleaved rounds (default 3 quick, 5 full)")
    ap.add_argument("--only", choices=("replay", "demo", "sane"), action="append", help="run only these sources")
    ap.add_argument("--split", action="store_true", help="a stack of many dossiers split at cover sheets vs by hand")
    ap.add_argument("--ocr", action="store_true", help="capture with the background OCR on (yielding, naive) vs off")
    ap.add_argument("--stages", action="store_true", help="CPU per page of each pipeline step against the floor")
    args = ap.parse_args()
    if args.stages:
        return bench_stages(args)
    workers = os.cpu_count() or 1
    if args.split:
        return bench_split(args, workers)
    if args.ocr:
        return bench_ocr(args, workers)
    rounds = args.rounds or (3 if args.quick else 5)
    pages = 20 if args.quick else 40
    sources = args.only or ["replay", "demo", "sane"]
    base = Path(tempfile.mkdtemp(prefix="bench-capture-"))
    os.environ["SANE_CONFIG_DIR"] = str(sane_config(base))
    figures: dict = {
        "bench": "capture",
        "dpi": 300,
        "mode": "gray",
        "paper": "A4",
        "cores": workers,
        "rounds": rounds,
        "pages_per_round": pages,
        "load_avg_start": round(os.getloadavg()[0], 2),
    }
    original_open = device_factory.open_backend
    try:
        home, session = make_home(base, 3 * rounds + 2, pages)
        numbers = [r["number"] for r in home.catalog.query("SELECT number FROM dossiers ORDER BY number")]
        pipeline = PagePipeline(workers)
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        list(pool.map(abs, range(workers * 2)))
        # warm the pipeline pool so process start-up is not counted
        run_capture(session, pipeline, "demo", numbers[:1], 2, {})
        free = iter(numbers[1:])
        if "replay" in sources:
            captures, floors, warped, total = [], [], 0, 0
            cpu_capture, cpu_floor = [], []
            for r in range(rounds):
                number = next(free)
                files, size, skewed = prerender(home, number, pages, base / f"replay-{r}")
                warped += skewed
                total += len(files)
                replay = ReplayScanner(files, size)
                device_factory.open_backend = lambda device_id, _r=replay: (
                    _r if device_id == "replay" else original_open(device_id)
                )
                c0 = cpu_seconds([pipeline._pool, pool])
                done, secs = run_capture(session, pipeline, "replay", [number], pages, {})
                c1 = cpu_seconds([pipeline._pool, pool])
                device_factory.open_backend = original_open
                captures.append(done * 60 / secs)
                floors.append(floor_replay(files, pool))
                c2 = cpu_seconds([pipeline._pool, pool])
                cpu_capture.append((c1 - c0) * 1000 / done)
                cpu_floor.append((c2 - c1) * 1000 / len(files))
            per_round_summary(figures, "replay", captures, floors)
            if any(cpu_floor):
                figures["replay_cpu_ms_per_page_per_round"] = [round(x, 1) for x in cpu_capture]
                figures["replay_floor_cpu_ms_per_page_per_round"] = [round(x, 1) for x in cpu_floor]
                cpu_ratios = [round(c / f, 2) for c, f in zip(cpu_capture, cpu_floor)]
                figures["replay_cpu_ratio_per_round"] = cpu_ratios
                figures["replay_cpu_ratio_capture_to_floor"] = round(statistics.median(cpu_ratios), 2)
            figures["replay_warped_share"] = round(warped / max(1, total), 2)
        if "demo" in sources:
            captures, floors = [], []
            for r in range(rounds):
                number = next(free)
                done, secs = run_capture(session, pipeline, "demo", [number], pages, {})
                captures.append(done * 60 / secs)
                floors.append(floor_demo_device(home, [number], pages, workers, base / f"demo-floor-{r}"))
            per_round_summary(figures, "demo", captures, floors)
        if "sane" in sources:
            captures, floors = [], []
            profile = ScanProfile("bench-sane", device="sane:test:0", mode="gray", dpi=300)
            capture = Capture(session, pipeline)
            for r in range(rounds):
                number = next(free)
                t0 = time.perf_counter()
                result = capture.start(
                    number, "sane:test:0", profile, pages=10, scan_options={"debug_options": {"test_picture": "Grid"}}
                ).run()
                if result.error is not None:
                    raise SystemExit(f"SANE capture failed: {result.error.en}")
                captures.append(len(result.pages) * 60 / (time.perf_counter() - t0))
                floors.append(
                    floor_sane(1, 10, workers, base / f"sane-floor-{r}", {"debug_options": {"test_picture": "Grid"}})
                )
            per_round_summary(figures, "sane", captures, floors)
            figures["sane_test_picture"] = "Grid"
        figures["target_images_per_min"] = 600
        figures["target_ratio"] = 2.0
        figures["load_avg_end"] = round(os.getloadavg()[0], 2)
        pool.shutdown()
        pipeline.close()
        home.close()
        print(json.dumps(figures))
    finally:
        device_factory.open_backend = original_open
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
