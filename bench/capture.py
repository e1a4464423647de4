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

    .venv/bin/python bench/capture.py [--quick] [--rounds N] [--split]
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


def main() -> None:
    import multiprocessing

    from scanstation.devices import factory as device_factory

    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--rounds", type=int, help="interleaved rounds (default 3 quick, 5 full)")
    ap.add_argument("--only", choices=("replay", "demo", "sane"), action="append", help="run only these sources")
    ap.add_argument("--split", action="store_true", help="a stack of many dossiers split at cover sheets vs by hand")
    args = ap.parse_args()
    workers = os.cpu_count() or 1
    if args.split:
        return bench_split(args, workers)
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
            for r in range(rounds):
                number = next(free)
                files, size, skewed = prerender(home, number, pages, base / f"replay-{r}")
                warped += skewed
                total += len(files)
                replay = ReplayScanner(files, size)
                device_factory.open_backend = lambda device_id, _r=replay: (
                    _r if device_id == "replay" else original_open(device_id)
                )
                done, secs = run_capture(session, pipeline, "replay", [number], pages, {})
                device_factory.open_backend = original_open
                captures.append(done * 60 / secs)
                floors.append(floor_replay(files, pool))
            per_round_summary(figures, "replay", captures, floors)
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
