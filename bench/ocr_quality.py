"""OCR quality and speed per engine on generated Chinese social-insurance forms with known text.

    .venv/bin/python bench/ocr_quality.py            # quick: 6 forms, one round
    .venv/bin/python bench/ocr_quality.py --full     # 48 forms, two rounds (minutes per engine)

Forms (``scanstation.devices.ocr_forms``): Song/Hei/Kai typefaces at 9-14 pt, a ruled table,
red seals over the text, hand-written-looking numbers, speckle noise, skew up to 0.8°, JPEG 75-92,
at 200 and 300 dpi. Engines: ``tesseract`` as the station runs it (chi_sim), ``tesseract+eng``
(chi_sim+eng, what the station ran before), ``tesseract+osd`` (--psm 1: layout with orientation and
script detection; --full only), ``rapidocr`` (PP-OCRv4).

Per engine:
* ``cer_pct`` -- character error rate: edit distance / characters of the truth, over all forms,
  whitespace removed and NFKC applied to both sides (full-width "，" = ","), the engine's lines
  taken in reading order (rows of the page, ``engines.text_from_layout``) so that a table read
  column-wise is not counted as errors;
* ``id_exact`` -- the 18-character ID number found exactly; ``dh_exact`` -- the 档号 found exactly
  (with its "·"); ``dh_found`` -- a search for the 档号 finds the page (the station's tokens and
  query over the stored text: what search forgives); ``dh_stored`` -- the 档号 exact in the text as the
  queue stores it (the page's own 档号 written back where only its separators were misread);
* ``s_per_page`` -- one worker process reading the forms one after another (one thread; model
  loading excluded); ``cpu_s_per_page`` -- the CPU time that worker (and its tesseract processes) used
  per page, which moves far less with the machine's load than wall time; ``pages_per_hour_by_cpu`` -- cores x 3600 /
  ``cpu_s_per_page`` (one worker per core, nothing else running); ``pages_per_hour`` -- as many worker processes as the queue would run here
  (``engines.workers_for``), all forms, wall clock; ``peak_rss_mb`` -- of one worker process
  (for tesseract the worker plus its tesseract child).

Engines are measured round by round in turn (order rotated each round); ``ratio_rapidocr_to_tesseract``
is the s/page ratio per round and its median. ``loadavg`` shows how busy the shared machine was.
Prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import concurrent.futures as cf
import json
import multiprocessing
import os
import resource
import sqlite3
import statistics
import sys
import tempfile
import time
import unicodedata
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from scanstation import search  # noqa: E402
from scanstation.devices.ocr_forms import form_set, render_form  # noqa: E402
from scanstation.ocr import engines  # noqa: E402

VARIANTS = {
    "tesseract": ("tesseract", None),
    "tesseract+eng": ("tesseract", "chi_sim+eng"),
    "tesseract+osd": ("tesseract", "psm1"),
    "rapidocr": ("rapidocr", None),
}
QUICK = ("tesseract", "tesseract+eng", "rapidocr")


def _options(lang: str | None) -> dict:
    """A variant's tesseract options: a language list, or "psm1" (page segmentation with OSD)."""
    if lang == "psm1":
        return {"psm": 1}
    return {"lang": lang} if lang else {}


# -- worker side -----------------------------------------------------------------------------
def _warm(engine: str, lang: str | None, path: str) -> None:
    engines.read_page(path, engine, timeout_s=600, **_options(lang))


def _cpu() -> float:
    """CPU seconds of this worker and of the children it waited for (tesseract's processes)."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _read(path: str, engine: str, lang: str | None, dpi: int) -> dict:
    cpu = _cpu()
    result = engines.read_page(path, engine, timeout_s=600, dpi=dpi, **_options(lang))
    return {
        "cpu_seconds": _cpu() - cpu,
        "ordered": engines.text_from_layout(result.layout),
        "text": result.text,
        "seconds": result.seconds,
        "label": result.engine,
        "confidence": result.confidence,
        "layout_lines": len(result.layout.lines),
    }


def _read_all(paths: list[str], dpis: list[int], engine: str, lang: str | None, warm_path: str) -> dict:
    _warm(engine, lang, warm_path)  # model loading is not a page's cost
    pages = [_read(p, engine, lang, d) for p, d in zip(paths, dpis)]
    status = Path("/proc/self/status").read_text() if Path("/proc/self/status").exists() else ""
    hwm = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
    child = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return {"pages": pages, "self_kib": hwm, "child_kib": child}


def _sleep(seconds: float) -> int:
    time.sleep(seconds)
    return os.getpid()


# -- scoring -----------------------------------------------------------------------------------
def _plain(text: str) -> str:
    return "".join(unicodedata.normalize("NFKC", text or "").split())


def edit_distance(a: str, b: str) -> int:
    if len(a) < len(b):
        a, b = b, a
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def found_by_search(text: str, number: str) -> bool:
    """Does a search for the 档号 find this page? The search's own tokens and query, in an FTS5 table
    made like search_pages."""
    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE p USING fts5(bi, uni, content='', tokenize='unicode61 remove_diacritics 0')")
    bi, uni = search.index_streams(text)
    conn.execute("INSERT INTO p(rowid, bi, uni) VALUES (1, ?, ?)", (bi, uni))
    match = search.compile_query(number).text_match
    return conn.execute("SELECT rowid FROM p WHERE p MATCH ?", (match,)).fetchone() is not None


def score(truths: list[dict], pages: list[dict]) -> dict:
    errors = chars = ids = dh = dh_found = dh_stored = 0
    for truth, page in zip(truths, pages):
        want, got = _plain(truth["text"]), _plain(page["ordered"])
        errors += edit_distance(want, got)
        chars += len(want)
        ids += truth["id_number"] in got
        dh += _plain(truth["number"]) in got
        dh_found += found_by_search(page["text"], truth["number"])
        dh_stored += truth["number"] in _plain(engines.restore_dossier_number(page["text"], truth["number"]))
    n = len(truths)
    return {
        "cer_pct": round(100.0 * errors / max(chars, 1), 2),
        "chars": chars,
        "id_exact": f"{ids}/{n}",
        "id_exact_pct": round(100.0 * ids / n, 1),
        "dh_exact": f"{dh}/{n}",
        "dh_exact_pct": round(100.0 * dh / n, 1),
        "dh_found": f"{dh_found}/{n}",
        "dh_found_pct": round(100.0 * dh_found / n, 1),
        "dh_stored": f"{dh_stored}/{n}",
        "dh_stored_pct": round(100.0 * dh_stored / n, 1),
    }


# -- driver ------------------------------------------------------------------------------------
def _pool(workers: int) -> cf.ProcessPoolExecutor:
    return cf.ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn"))


def sequential(paths, dpis, engine, lang, warm_path) -> dict:
    with _pool(1) as pool:
        return pool.submit(_read_all, paths, dpis, engine, lang, warm_path).result()


def throughput(paths, dpis, engine, lang, warm_path, workers: int) -> float:
    with _pool(workers) as pool:
        list(pool.map(_sleep, [0.3] * workers))  # all workers started
        list(pool.map(_warm, [engine] * workers, [lang] * workers, [warm_path] * workers))
        started = time.perf_counter()
        list(pool.map(_read, paths, [engine] * len(paths), [lang] * len(paths), dpis))
        return len(paths) / (time.perf_counter() - started) * 3600.0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--full", action="store_true", help="48 forms, 2 rounds (for a quiet machine)")
    ap.add_argument("--pages", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=None)
    ap.add_argument(
        "--engines",
        default=None,
        help="comma-separated, of: " + ", ".join(VARIANTS) + f" (default: {', '.join(QUICK)}; --full: all)",
    )
    ap.add_argument("--no-throughput", action="store_true", help="skip the all-cores pages/hour runs")
    args = ap.parse_args()
    n_pages = args.pages or (48 if args.full else 6)
    rounds = args.rounds or (2 if args.full else 1)
    names = [v for v in (args.engines or ",".join(VARIANTS if args.full else QUICK)).split(",") if v]
    for name in names:
        if name not in VARIANTS:
            raise SystemExit(f"unknown engine {name}; choose from {', '.join(VARIANTS)}")
    load_start = os.getloadavg()
    with tempfile.TemporaryDirectory(prefix="ocrq-") as tmp:
        specs = form_set(n_pages, seed=20261206)
        paths, dpis, truths = [], [], []
        for i, spec in enumerate(specs):
            img, truth = render_form(spec)
            path = Path(tmp) / f"form-{i:03d}.jpg"
            img.save(path, "JPEG", quality=spec.jpeg_quality, dpi=(spec.dpi, spec.dpi))
            paths.append(str(path))
            dpis.append(spec.dpi)
            truths.append({"text": truth.text, "number": truth.number, "id_number": truth.id_number})
        warm_img, _ = render_form(form_set(1, seed=7)[0])
        warm_path = str(Path(tmp) / "warm.jpg")
        warm_img.save(warm_path, "JPEG", quality=85)

        results: dict[str, dict] = {
            name: {"s_per_page": [], "cpu_s_per_page": [], "pages_per_hour": []} for name in names
        }
        for r in range(rounds):
            order = names[r % len(names) :] + names[: r % len(names)]
            for name in order:
                engine, lang = VARIANTS[name]
                run = sequential(paths, dpis, engine, lang, warm_path)
                res = results[name]
                res["s_per_page"].append(sum(p["seconds"] for p in run["pages"]) / len(paths))
                res["cpu_s_per_page"].append(sum(p["cpu_seconds"] for p in run["pages"]) / len(paths))
                if r == 0:
                    res.update(score(truths, run["pages"]))
                    res["label"] = run["pages"][0]["label"]
                    res["mean_confidence"] = round(
                        statistics.fmean(p["confidence"] for p in run["pages"] if p["confidence"] is not None), 1
                    )
                res["peak_rss_mb"] = max(
                    res.get("peak_rss_mb", 0),
                    round((run["self_kib"] + (run["child_kib"] if engine == "tesseract" else 0)) / 1024),
                )
                if not args.no_throughput:
                    workers = engines.workers_for(engine)
                    res["workers"] = workers
                    res["pages_per_hour"].append(throughput(paths, dpis, engine, lang, warm_path, workers))
    out = {
        "bench": "ocr_quality",
        "mode": "full" if args.full else "quick",
        "forms": n_pages,
        "rounds": rounds,
        "dpi": sorted(set(dpis)),
        "cores": os.cpu_count(),
        "auto_engine": engines.auto_engine(),
        "loadavg_start": [round(x, 2) for x in load_start],
        "loadavg_end": [round(x, 2) for x in os.getloadavg()],
        "engines": {},
    }
    for name in names:
        res = results[name]
        entry = {k: v for k, v in res.items() if k not in ("s_per_page", "cpu_s_per_page", "pages_per_hour")}
        entry["s_per_page"] = round(statistics.median(res["s_per_page"]), 2)
        entry["s_per_page_rounds"] = [round(x, 2) for x in res["s_per_page"]]
        entry["pages_per_hour_one_worker"] = round(3600.0 / statistics.median(res["s_per_page"]))
        entry["cpu_s_per_page"] = round(statistics.median(res["cpu_s_per_page"]), 2)
        entry["pages_per_hour_by_cpu"] = round((os.cpu_count() or 1) * 3600.0 / entry["cpu_s_per_page"])
        if res["pages_per_hour"]:
            entry["pages_per_hour"] = round(statistics.median(res["pages_per_hour"]))
        out["engines"][name] = entry
    if "rapidocr" in results and "tesseract" in results:
        ratios = [a / b for a, b in zip(results["rapidocr"]["s_per_page"], results["tesseract"]["s_per_page"])]
        out["ratio_rapidocr_to_tesseract"] = {
            "rounds": [round(x, 2) for x in ratios],
            "median": round(statistics.median(ratios), 2),
        }
    scored = out["engines"]
    best = min(scored, key=lambda k: scored[k]["cer_pct"])
    default = "rapidocr" if out["auto_engine"] == "rapidocr" else "tesseract"
    out["targets"] = {
        "best_engine": best,
        "best_cer_le_1pct": scored[best]["cer_pct"] <= 1.0,
        "best_dh_exact_ge_95pct": scored[best]["dh_exact_pct"] >= 95.0,
        "default_engine": default,
        "default_cer_le_2pct": scored[default]["cer_pct"] <= 2.0 if default in scored else None,
        "default_ge_600_pages_per_hour": (
            scored[default].get("pages_per_hour", 0) >= 600
            if default in scored and "pages_per_hour" in scored[default]
            else None
        ),
    }
    print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
