"""Page pipeline benchmark: 300 dpi grey A4 demo pages with skew (0-5°, both signs).

Prints ONE JSON line:
- ms per page for each step (one process, averaged over the pages),
- images/min through the station's page pool (``scanstation.capture.PagePipeline``) end to end:
  the page read from its spool file as the device wrote it (PNM), deskew + crop + checks + JPEG
  encode; rendering and spooling the demo pages is excluded,
- the floor measured in the same run: read the spool file + JPEG encode only, same pages, same pool,
- ratio = pipeline images/min / floor images/min,
- CPU ms per page in one process and what that projects for idle cores (the machine may be
  shared: the 1-minute load average at the start is printed too).

Usage: .venv/bin/python bench/pipeline.py [--quick] [--pages N] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from scanstation.capture import PagePipeline  # noqa: E402
from scanstation.devices.demo_pages import demo_plan, render_page  # noqa: E402
from scanstation.imaging import PipelineSettings, load_page, process_page  # noqa: E402
from scanstation.imaging.encode import encode_image  # noqa: E402
from scanstation.imaging.geometry import default_engine  # noqa: E402


def _encode_only(path: str, settings: PipelineSettings) -> int:
    """The floor, in a pool worker: read the spool file and encode it, no image processing."""
    image, dpi = load_page(path, settings)
    return len(encode_image(image, "jpeg", dpi, settings.jpeg_quality)[0])


def _throughput(paths, submit) -> float:
    t = time.perf_counter()
    futures = [submit(path) for path in paths]
    for f in futures:
        f.result()
    return len(paths) / (time.perf_counter() - t) * 60.0


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="fewer pages, one round")
    ap.add_argument("--pages", type=int, default=None)
    ap.add_argument("--workers", type=int, default=None, help="pool size (default: all cores)")
    args = ap.parse_args()
    n = args.pages or (16 if args.quick else 48)
    rounds = 1 if args.quick else 2

    specs = demo_plan({"档号": "X001-ZY·DJ·2024·D100-0001-001"}, n, seed=11, binding_holes=2, max_skew_deg=5.0)
    images = [render_page(s)[0] for s in specs]
    settings = PipelineSettings(deskew=True, crop=True, format="jpeg", jpeg_quality=85, dpi=300)

    # per-step timings in this process
    process_page(images[0], settings)  # warm caches
    load_before = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    steps: dict[str, list[float]] = {}
    totals = []
    cpu0 = time.process_time()
    for img in images:
        t = time.perf_counter()
        page = process_page(img, settings)
        totals.append((time.perf_counter() - t) * 1000)
        for k, v in page.metrics["timings_ms"].items():
            steps.setdefault(k, []).append(v)
    cpu_ms = (time.process_time() - cpu0) * 1000 / len(images)
    step_ms = {k: round(statistics.mean(v), 1) for k, v in steps.items() if k != "orientation"}
    step_ms["total"] = round(statistics.mean(totals), 1)

    pipeline, floor = [], []
    pool = PagePipeline(args.workers)
    with tempfile.TemporaryDirectory(prefix="bench-spool-") as spool:
        paths = []
        for i, img in enumerate(images):  # the spool files a device leaves (no resolution in a PNM header)
            path = Path(spool) / f"page-{i + 1:04d}.pnm"
            img.save(path)
            paths.append(str(path))
        try:
            workers = pool.workers
            for f in [pool.submit(path, settings) for path in paths[: workers * 2]]:
                f.result()  # start the workers and warm their caches
            for _ in range(rounds):
                floor.append(_throughput(paths, lambda path: pool.submit_call(_encode_only, path, settings)))
                pipeline.append(_throughput(paths, lambda path: pool.submit(path, settings)))
        finally:
            pool.close()
    best_pipeline, best_floor = max(pipeline), max(floor)
    result = {
        "bench": "pipeline",
        "pages": n,
        "dpi": 300,
        "mode": "gray",
        "paper": "A4",
        "workers": workers,
        "cpu_count": os.cpu_count(),
        "geometry_engine": default_engine(),
        "step_ms": step_ms,
        "pipeline_images_per_min": round(best_pipeline),
        "floor_jpeg_only_images_per_min": round(best_floor),
        "ratio_pipeline_to_floor": round(best_pipeline / best_floor, 3),
        "target_images_per_min": 600,
        "meets_target": best_pipeline >= 600,
        "rounds": rounds,
        "cpu_ms_per_page": round(cpu_ms, 1),
        "projected_idle_images_per_min": round(60000 * workers / cpu_ms),
        "load_avg_1min_at_start": round(load_before, 2) if load_before is not None else None,
    }
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
