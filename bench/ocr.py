"""OCR benchmark: pages/min through the OCR queue's process pool vs one tesseract at a time.

Generates Chinese document pages (300 dpi, A4 width, wqy-zenhei) in a temporary station home,
queues them and runs ``OcrRunner.run_until_empty`` with 2 workers (the real path: claim, worker
processes, catalog writes, search index). The peer reads the same pages with one tesseract process
at a time (``engines.read_page(..., "tesseract")`` in a loop). ``cores_used_*`` is the CPU time of the tesseract
processes over the wall time: on a machine shared with other work it shows whether the pool got
two cores at all. Memory: peak RSS of a worker process and of the tesseract processes (getrusage
of terminated children).

The OCR workers run at the lowest priority (``scanstation.ocr.yielding``: capture comes first); this bench
runs its own process at that priority too, so that both ways compete equally with whatever else runs on the
machine. How capture fares while OCR runs (capture with the background OCR on vs off, the OCR backlog's
growth during capture and its drain after) is measured by ``bench/capture.py --ocr``.

Prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from PIL import Image, ImageDraw, ImageFont  # noqa: E402

import scanstation.bootstrap  # noqa: E402,F401 (every domain's catalog migrations)
from scanstation import search  # noqa: E402
from scanstation.home import Home, now_iso  # noqa: E402
from scanstation.ocr import engines  # noqa: E402
from scanstation.ocr.queue import OcrRunner, enqueue, page_image_path  # noqa: E402
from scanstation.ocr.yielding import OCR_NICE, lower_priority  # noqa: E402

FONT = "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"
NUMBER = "X001-ZY·DJ·2024·D100-0001-001"
WORDS = (
    "社会保险 养老保险 医疗保险 失业保险 参保登记 缴费基数 个人账户 待遇支付 关系转移 档案管理 经办机构 "
    "基金征缴 用人单位 劳动合同 工资总额 身份证号码 联系电话 审核意见 证明材料 按规定 予以办理 核对无误"
).split()


def render(path: Path, rng: random.Random, lines: int) -> None:
    font = ImageFont.truetype(FONT, 50, index=0)  # ≈ 12 pt at 300 dpi
    title = ImageFont.truetype(FONT, 72, index=0)
    img = Image.new("L", (2480, 300 + lines * 110), 255)
    draw = ImageDraw.Draw(img)
    draw.text((500, 120), "社会保险参保人员登记表", font=title, fill=0)
    for i in range(lines):
        text = "，".join(rng.choice(WORDS) + rng.choice(WORDS) for _ in range(4)) + "。"
        draw.text((200, 300 + i * 110), text, font=font, fill=0)
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "JPEG", quality=85, dpi=(300, 300))


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def worker_memory() -> dict:
    """Runs in a pool worker: its own peak RSS and its largest tesseract child's (KiB on Linux)."""
    time.sleep(0.5)  # let each worker take one of these jobs
    return {
        "pid": os.getpid(),
        "self_kib": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        "children_kib": resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    }


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="fewer and shorter pages")
    parser.add_argument("--pages", type=int, default=None)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--repeats", type=int, default=2, help="alternating runs of each way; best kept")
    args = parser.parse_args()
    lower_priority()  # the peer's tesseract at the pool workers' priority
    n_pages = args.pages or (4 if args.quick else 12)
    lines = 8 if args.quick else 16
    rng = random.Random(7)
    tmp = Path(tempfile.mkdtemp(prefix="ocr-bench-"))
    try:
        home = Home.create(tmp / "home", "X001", "S01")
        conn = home.catalog.conn
        if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_pages'").fetchone():
            conn.executescript(search.MIGRATION[2])
        now = now_iso()
        paths = []
        with home.catalog.write() as c:  # rows as the capture code writes them, pages queued with them
            dossier = c.execute(
                "INSERT INTO dossiers(number, fonds_code, year, retention, created_at, updated_at) "
                "VALUES (?, 'X001', 2024, 'D100', ?, ?)",
                (NUMBER, now, now),
            ).lastrowid
            for seq in range(1, n_pages + 1):
                name = f"{NUMBER}-{seq:04d}.jpg"
                path = page_image_path(home.path, NUMBER, name)
                render(path, rng, lines)
                paths.append(path)
                page = c.execute(
                    "INSERT INTO pages(dossier_id, seq, file_name, dpi, created_at) VALUES (?, ?, ?, 300, ?)",
                    (dossier, seq, name, now),
                ).lastrowid
                enqueue(c, page)

        # The machine is shared: alternate the two ways and keep each one's best run.
        runner = OcrRunner(home, workers=args.workers, timeout_s=300, engine="tesseract")
        seq_runs, pool_runs, chars_seq, failed = [], [], 0, 0
        seq_cores, pool_cores = [], []
        for _ in range(args.repeats):
            t0, c0 = time.perf_counter(), children_cpu()  # peer: one tesseract process at a time
            chars_seq = sum(len(engines.read_page(path, "tesseract", dpi=300).text) for path in paths)
            seq_runs.append(time.perf_counter() - t0)
            seq_cores.append((children_cpu() - c0) / seq_runs[-1])
            with home.catalog.write() as c:
                for (page_id,) in c.execute("SELECT id FROM pages").fetchall():
                    enqueue(c, page_id)
            t0, c0 = time.perf_counter(), children_cpu()
            stats = runner.run_until_empty()  # its workers have exited: their tesseract CPU is counted
            pool_runs.append(time.perf_counter() - t0)
            pool_cores.append((children_cpu() - c0) / pool_runs[-1])
            failed += stats.failed
            assert stats.done == n_pages, stats
        tesseract_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
        seq_s, pool_s = min(seq_runs), min(pool_runs)
        chars_pool = sum(len(r[0]) for r in conn.execute("SELECT text FROM page_text WHERE status = 'done'"))

        # memory of a worker process (python + the page it holds) and of its tesseract children
        pool = runner._new_pool()
        try:
            mems = [f.result() for f in [pool.submit(worker_memory) for _ in range(args.workers)]]
        finally:
            pool.shutdown()
        found = len(search.search(home.catalog, "参保人员登记表", limit=100))
        home.close()
        seq_ppm = n_pages / seq_s * 60
        pool_ppm = n_pages / pool_s * 60
        result = {
            "bench": "ocr",
            "quick": args.quick,
            "pages": n_pages,
            "page_px": [2480, 300 + lines * 110],
            "workers": args.workers,
            "cores": os.cpu_count(),
            "lang": engines.TESSERACT_LANG,
            "pool_pages_per_min": round(pool_ppm, 1),
            "single_pages_per_min": round(seq_ppm, 1),
            "ratio_pool_over_single": round(pool_ppm / seq_ppm, 2),
            "cores_used_pool": [round(x, 2) for x in pool_cores],
            "cores_used_single": [round(x, 2) for x in seq_cores],
            "pool_s": [round(x, 1) for x in pool_runs],
            "single_s": [round(x, 1) for x in seq_runs],
            "failed": failed,
            "chars_pool": chars_pool,
            "chars_single": chars_seq,
            "pages_found_by_search": found,
            "tesseract_peak_rss_mb": round(tesseract_kib / 1024, 1),
            "worker_python_rss_mb": round(max(m["self_kib"] for m in mems) / 1024, 1),
            "memory_per_worker_mb": round((max(m["self_kib"] for m in mems) + tesseract_kib) / 1024, 1),
            "load_avg_1m": round(os.getloadavg()[0], 1),
            "priority_nice": OCR_NICE,
            "capture_with_ocr": "bench/capture.py --ocr",
        }
        print(json.dumps(result, ensure_ascii=False))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
