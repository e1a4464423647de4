"""Capture end to end: from the device to a committed catalog row, 300 dpi gray A4.

Two sources: the demo scanner (generated document pages with skew) and the SANE ``test`` backend.
The whole capture path runs: device worker or generator → spool → image pipeline (deskew, crop,
checks, JPEG) in the process pool → atomic write → catalog row + audit + OCR queue entry.
The floor, measured in the same run on the same machine: acquire + JPEG encode only, on all cores,
the same way for both sources: the device delivers its page files (SANE through its worker, the demo
scanner drawing the very pages it fed in the capture run in its own process) and a process pool
encodes each one as it arrives. For reference the demo line also reports the drawing and encoding
of those pages in memory only, with no device and no spool file (``demo_draw_encode_images_per_min``).
Target: ≥ 600 images/min on 2 cores, ratio to floor ≤ 2.0 (floor rate / capture rate).

``--split``: one stack of many dossiers split at printed cover sheets (the product's PDF rasterised
by pdftoppm at 300 dpi grey, pages drawn by the demo page generator) fed by the demo scanner, against
its peer in the same run, round by round: the same pages captured dossier by dossier with the 档号
given (no sheets, no decoding). Printed: images/min (sheets included) and stored pages/min of the
split run, the peer's images/min, the ratio peer/split per round and its median, and the CPU time
of cover-sheet detection per page (thread CPU time of the device thread; target ≤ 15 ms).

    .venv/bin/python bench/capture.py [--quick] [--split]
"""

from __future__ import annotations

import argparse
import io
import json
import os
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanstation.capture import Capture, PagePipeline  # noqa: E402
from scanstation.home import Home, now_iso  # noqa: E402
from scanstation.profiles import ScanProfile  # noqa: E402
from scanstation.service import Session  # noqa: E402
from scanstation.users import hash_password, row_to_user  # noqa: E402


def make_home(base: Path, dossiers: int, pages: int) -> tuple[Home, Session]:
    home = Home.create(base / "home", "X001", "BENCH")
    with home.catalog.write() as conn:
        conn.execute("INSERT INTO users(name, roles, password_hash, created_at) VALUES ('clerk', 'clerk', ?, ?)",
                     (hash_password("bench-password"), now_iso()))
        for i in range(dossiers):
            conn.execute("INSERT INTO dossiers(number, fonds_code, year, category, retention, title, declared_pages,"
                         " person_name, created_at, updated_at) VALUES (?, 'X001', 2024, 'ZY·DJ', 'D100', ?, ?, ?, ?, ?)",
                         (f"X001-ZY·DJ·2024·D100-0001-{i + 1:03d}", f"参保人员登记表{i}", pages, "张伟", now_iso(), now_iso()))
    user = row_to_user(home.catalog.one("SELECT * FROM users WHERE name = 'clerk'"))
    return home, Session(home, user)


def run_capture(session: Session, pipeline: PagePipeline, device: str, dossiers: list[str], pages: int,
                options: dict) -> tuple[int, float]:
    capture = Capture(session, pipeline)
    profile = ScanProfile("bench", device=device, mode="gray", dpi=300)
    done, t0 = 0, time.perf_counter()
    for number in dossiers:
        result = capture.start(number, device, profile, pages=pages, scan_options=dict(options)).run()
        if result.error is not None:
            raise SystemExit(f"capture failed: {result.error.en}")
        done += len(result.pages)
    return done, time.perf_counter() - t0


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
        list(pool.map(_encode_demo, specs[:workers]))   # warm up the workers (fonts, glyphs, grain)
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
            settings = ScanSettings(source="adf", mode="gray", dpi=300, page_limit=pages, first_page_number=1,
                                    spool_dir=str(spool / f"demo-floor-{r}"), dossier_fields=fields, demo_pages=pages)
            DemoScanner().scan("demo", settings, lambda page: futures.append(pool.submit(_encode_file, page.path)),
                               CancelToken())
            done += sum(1 for f in futures if f.result())
        return done * 60 / (time.perf_counter() - t0)


def floor_sane(runs: int, pages: int, workers: int, spool: Path) -> float:
    import multiprocessing
    from scanstation.devices.base import CancelToken, ScanSettings
    from scanstation.devices.sane_backend import SaneScanner
    done = 0
    with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        list(pool.map(abs, [1, 2]))
        t0 = time.perf_counter()
        for r in range(runs):
            futures = []
            settings = ScanSettings(source="adf", mode="gray", dpi=300, page_limit=pages,
                                    spool_dir=str(spool / f"floor-{r}"))
            SaneScanner().scan("sane:test:0", settings, lambda page: futures.append(pool.submit(_encode_file, page.path)),
                               CancelToken())
            done += sum(1 for f in futures if f.result())
        return done * 60 / (time.perf_counter() - t0)


def sane_config(base: Path) -> Path:
    conf = base / "sane"
    conf.mkdir()
    (conf / "dll.conf").write_text("test\n")
    text = Path("/etc/sane.d/test.conf").read_text() if Path("/etc/sane.d/test.conf").exists() else ""
    (conf / "test.conf").write_text(text + "\ngeometry_max 300.0\nbr_x 210.0\nbr_y 297.0\n")
    return conf


def split_stack(base: Path, home: Home, numbers: list[str], pages: int) -> tuple[list[str], dict[str, list[str]]]:
    """PGM files: per dossier its cover sheet (product PDF → pdftoppm 300 dpi grey) and ``pages`` document pages."""
    import subprocess
    from scanstation.coversheet.sheet import SheetData, write_sheets
    from scanstation.devices.demo_backend import _write_pnm
    from scanstation.devices.demo_pages import render_pixels
    folder = base / "stack"
    folder.mkdir()
    rows = [home.catalog.one("SELECT * FROM dossiers WHERE number = ?", (n,)) for n in numbers]
    pdf = write_sheets([SheetData(r["number"], r["title"], r["declared_pages"]) for r in rows], base / "sheets.pdf")
    subprocess.run(["pdftoppm", "-r", "300", "-gray", str(pdf), str(folder / "sheet")], check=True, timeout=600)
    sheets = sorted(folder.glob("sheet-*.pgm"))
    stack: list[str] = []
    by_dossier: dict[str, list[str]] = {}
    for k, number in enumerate(numbers):
        stack.append(str(sheets[k]))
        for spec in demo_specs(home, [number], pages):
            pixels, _ = render_pixels(spec)
            path, _, _ = _write_pnm(pixels, str(folder), len(stack))
            target = folder / f"p{len(stack):05d}.pgm"
            os.replace(path, target)
            stack.append(str(target))
            by_dossier.setdefault(number, []).append(str(target))
    return stack, by_dossier


def bench_split(args, workers: int) -> None:
    import statistics
    from scanstation.coversheet.split import SplitRun
    rounds = 2 if args.quick else 3
    n_dossiers, pages = (4, 6) if args.quick else (6, 8)
    base = Path(tempfile.mkdtemp(prefix="bench-split-"))
    figures: dict = {"bench": "capture-split", "dpi": 300, "mode": "gray", "paper": "A4", "cores": workers,
                     "dossiers_per_round": n_dossiers, "pages_per_dossier": pages, "rounds": rounds}
    try:
        home, session = make_home(base, n_dossiers * rounds * 2 + 1, pages)
        numbers = [r["number"] for r in home.catalog.query("SELECT number FROM dossiers ORDER BY number")]
        pipeline = PagePipeline(workers)
        profile = ScanProfile("bench", device="demo", mode="gray", dpi=300)
        run_capture(session, pipeline, "demo", numbers[:1], 2, {})   # warm the pool
        split_rates, page_rates, peer_rates, ratios, decode = [], [], [], [], []
        for r in range(rounds):
            split_numbers = numbers[1 + 2 * r * n_dossiers: 1 + (2 * r + 1) * n_dossiers]
            peer_numbers = numbers[1 + (2 * r + 1) * n_dossiers: 1 + (2 * r + 2) * n_dossiers]
            for name in (f"s{r}", f"p{r}"):
                (base / name).mkdir()
            stack, _ = split_stack(base / f"s{r}", home, split_numbers, pages)
            _, peer_pages = split_stack(base / f"p{r}", home, peer_numbers, pages)

            def run_split():
                t0 = time.perf_counter()
                result = SplitRun(Capture(session, pipeline), "demo", profile,
                                  scan_options={"demo_stack": tuple(stack)}).run()
                secs = time.perf_counter() - t0
                if not result.ok or result.stored_pages != n_dossiers * pages or result.sheets != n_dossiers:
                    raise SystemExit(f"split run failed: {result.as_dict()}")
                decode.extend(result.decode_ms)
                return len(stack) * 60 / secs, result.stored_pages * 60 / secs

            def run_peer():
                capture = Capture(session, pipeline)
                t0, done = time.perf_counter(), 0
                for number in peer_numbers:
                    result = capture.start(number, "demo", profile,
                                           scan_options={"demo_stack": tuple(peer_pages[number])}).run()
                    if result.error is not None:
                        raise SystemExit(f"capture failed: {result.error.en}")
                    done += len(result.pages)
                return done * 60 / (time.perf_counter() - t0)

            if r % 2 == 0:   # interleaved: which one goes first alternates by round
                (images, stored), peer = run_split(), run_peer()
            else:
                peer = run_peer()
                images, stored = run_split()
            split_rates.append(images)
            page_rates.append(stored)
            peer_rates.append(peer)
            ratios.append(round(peer / images, 3))
        figures["split_images_per_min"] = [round(x) for x in split_rates]
        figures["split_stored_pages_per_min"] = [round(x) for x in page_rates]
        figures["peer_images_per_min"] = [round(x) for x in peer_rates]
        figures["ratio_peer_to_split"] = ratios
        figures["ratio_median"] = statistics.median(ratios)
        figures["split_images_per_min_median"] = round(statistics.median(split_rates))
        figures["decode_cpu_ms_per_page_mean"] = round(statistics.mean(decode), 2)
        figures["decode_cpu_ms_per_page_p95"] = round(sorted(decode)[int(len(decode) * 0.95) - 1], 2)
        figures["decode_cpu_ms_per_page_max"] = round(max(decode), 2)
        figures["target_images_per_min"] = 600
        figures["target_decode_ms"] = 15
        figures["load_avg_1min"] = round(os.getloadavg()[0], 2)
        pipeline.close()
        home.close()
        print(json.dumps(figures))
    finally:
        shutil.rmtree(base, ignore_errors=True)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--split", action="store_true", help="stack of many dossiers split at cover sheets vs by hand")
    args = ap.parse_args()
    workers = os.cpu_count() or 1
    if args.split:
        return bench_split(args, workers)
    n_dossiers, pages = (2, 20) if args.quick else (4, 40)
    base = Path(tempfile.mkdtemp(prefix="bench-capture-"))
    os.environ["SANE_CONFIG_DIR"] = str(sane_config(base))
    figures: dict = {"bench": "capture", "dpi": 300, "mode": "gray", "paper": "A4", "cores": workers}
    try:
        home, session = make_home(base, n_dossiers * 2, pages)
        numbers = [r["number"] for r in home.catalog.query("SELECT number FROM dossiers ORDER BY number")]
        pipeline = PagePipeline(workers)
        # warm the pool so process start-up is not counted
        run_capture(session, pipeline, "demo", numbers[:1], 2, {})
        done, secs = run_capture(session, pipeline, "demo", numbers[1:n_dossiers + 1], pages, {})
        figures["demo_images"] = done
        figures["demo_images_per_min"] = round(done * 60 / secs)
        figures["demo_floor_images_per_min"] = round(floor_demo_device(home, numbers[1:n_dossiers + 1], pages, workers, base))
        figures["demo_draw_encode_images_per_min"] = round(floor_demo(demo_specs(home, numbers[1:n_dossiers + 1], pages),
                                                                      workers))
        figures["demo_ratio_floor_to_capture"] = round(figures["demo_floor_images_per_min"] / figures["demo_images_per_min"], 2)
        # SANE test backend: 10 pages per ADF run
        sane_numbers = numbers[n_dossiers + 1:]
        sane_runs = 4 if args.quick else 8
        t0, done = time.perf_counter(), 0
        capture = Capture(session, pipeline)
        profile = ScanProfile("bench-sane", device="sane:test:0", mode="gray", dpi=300)
        for r in range(sane_runs):
            number = sane_numbers[r % len(sane_numbers)]
            result = capture.start(number, "sane:test:0", profile, pages=10).run()
            if result.error is not None:
                raise SystemExit(f"SANE capture failed: {result.error.en}")
            done += len(result.pages)
        secs = time.perf_counter() - t0
        figures["sane_images"] = done
        figures["sane_images_per_min"] = round(done * 60 / secs)
        figures["sane_floor_images_per_min"] = round(floor_sane(sane_runs, 10, workers, base))
        figures["sane_ratio_floor_to_capture"] = round(figures["sane_floor_images_per_min"] / figures["sane_images_per_min"], 2)
        figures["target_images_per_min"] = 600
        figures["target_ratio"] = 2.0
        figures["load_avg_1min"] = round(os.getloadavg()[0], 2)
        pipeline.close()
        home.close()
        print(json.dumps(figures))
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
