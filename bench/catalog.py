"""Catalog at scale: 1,000,000 dossiers and 10,000,000 page rows in a real station catalog.

Reports 档号 lookup p99, a dossier's pages lookup p99 and a filtered list query p95, each with the
ratio to its peer measured in the same run on the same file (SQLite's floor: a rowid lookup, and
an unfiltered page of the same list). Targets: lookup p99 ≤ 1 ms, list p95 ≤ 50 ms.

    .venv/bin/python bench/catalog.py [--quick] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scanstation.home import Home  # noqa: E402

STATUSES = ["cataloged", "scanning", "completed", "approved", "transferred", "archived"]
STAGES = ["DJ", "ZJ", "ZY", "DY", "JH"]
RETENTION = ["Y", "D100", "D50", "D30", "D10"]


def number(i: int) -> str:
    year = 2015 + i % 10
    return f"X001-ZY·{STAGES[i % 5]}·{year}·{RETENTION[i % 5]}-{(i // 1000) % 10000:04d}-{i % 1000:03d}"


def fill(home: Home, dossiers: int, pages_per: int) -> dict:
    conn = home.catalog.conn
    t0 = time.perf_counter()
    conn.execute("PRAGMA synchronous=OFF")
    conn.execute("BEGIN")
    batch = []
    for i in range(dossiers):
        batch.append((number(i), "X001", 2015 + i % 10, STAGES[i % 5], RETENTION[i % 5], f"参保人员登记表 {i}",
                      pages_per, STATUSES[i % len(STATUSES)], f"姓名{i % 5000}", "2024-01-01", "2024-01-01"))
        if len(batch) == 50_000:
            conn.executemany("INSERT INTO dossiers(number, fonds_code, year, category, retention, title, declared_pages,"
                             " status, person_name, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)", batch)
            batch = []
    if batch:
        conn.executemany("INSERT INTO dossiers(number, fonds_code, year, category, retention, title, declared_pages,"
                         " status, person_name, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)", batch)
    conn.execute("COMMIT")
    t_dossiers = time.perf_counter() - t0
    sha = "a" * 64
    conn.execute("BEGIN")
    rows = []
    for d in range(1, dossiers + 1):
        name = number(d - 1)
        for s in range(1, pages_per + 1):
            rows.append((d, s, f"{name}-{s:04d}.jpg", 812345, sha, sha, "jpeg", 300, "gray", "2024-01-01"))
        if len(rows) >= 200_000:
            conn.executemany("INSERT INTO pages(dossier_id, seq, file_name, bytes, sha256, sm3, format, dpi, color_mode,"
                             " created_at) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
            rows = []
    if rows:
        conn.executemany("INSERT INTO pages(dossier_id, seq, file_name, bytes, sha256, sm3, format, dpi, color_mode,"
                         " created_at) VALUES (?,?,?,?,?,?,?,?,?,?)", rows)
    conn.execute("COMMIT")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("ANALYZE")
    return {"fill_dossiers_s": round(t_dossiers, 1), "fill_total_s": round(time.perf_counter() - t0, 1)}


def timed(fn, n: int) -> list[float]:
    out = []
    for _ in range(n):
        t = time.perf_counter()
        fn()
        out.append((time.perf_counter() - t) * 1000)
    return sorted(out)


def pct(values: list[float], p: float) -> float:
    return round(values[min(len(values) - 1, int(len(values) * p))], 3)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="100,000 dossiers / 1,000,000 pages")
    ap.add_argument("--keep", help="build the catalog in this folder and keep it")
    args = ap.parse_args()
    dossiers = 100_000 if args.quick else 1_000_000
    pages_per = 10
    base = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench-catalog-"))
    home_path = base / "home"
    if home_path.exists():
        shutil.rmtree(home_path)
    home = Home.create(home_path, "X001", "BENCH")
    try:
        figures = fill(home, dossiers, pages_per)
        cat = home.catalog
        rng = random.Random(1)
        ids = [rng.randrange(dossiers) for _ in range(5000)]
        it = iter(ids * 3)

        lookup = timed(lambda: cat.conn.execute("SELECT * FROM dossiers WHERE number = ?", (number(next(it)),)).fetchone(), 5000)
        floor = timed(lambda: cat.conn.execute("SELECT * FROM dossiers WHERE id = ?", (next(it) + 1,)).fetchone(), 5000)
        pages = timed(lambda: cat.conn.execute(
            "SELECT * FROM pages WHERE dossier_id = ? AND state = 'active' ORDER BY seq", (next(it) + 1,)).fetchall(), 2000)
        filters = [(2015 + rng.randrange(10), STATUSES[rng.randrange(len(STATUSES))], rng.randrange(200) * 50)
                   for _ in range(500)]
        fit = iter(filters * 2)

        def list_query():
            year, status, offset = next(fit)
            cat.conn.execute("SELECT number, title, year, retention, declared_pages, status FROM dossiers"
                             " WHERE fonds_code = 'X001' AND year = ? AND status = ? ORDER BY number LIMIT 50 OFFSET ?",
                             (year, status, offset)).fetchall()

        def list_peer():
            year, status, offset = next(fit)
            cat.conn.execute("SELECT number, title, year, retention, declared_pages, status FROM dossiers"
                             " ORDER BY id LIMIT 50 OFFSET ?", (offset,)).fetchall()

        listing = timed(list_query, 500)
        listing_peer = timed(list_peer, 500)
        size_mb = sum(p.stat().st_size for p in home_path.glob("catalog.sqlite*")) / 1e6
        figures.update({
            "dossiers": dossiers, "pages": dossiers * pages_per, "catalog_mb": round(size_mb),
            "lookup_p99_ms": pct(lookup, 0.99), "lookup_p50_ms": pct(lookup, 0.5),
            "rowid_lookup_p99_ms": pct(floor, 0.99),
            "lookup_ratio_to_rowid": round(pct(lookup, 0.99) / max(pct(floor, 0.99), 1e-6), 2),
            "pages_of_dossier_p99_ms": pct(pages, 0.99),
            "list_p95_ms": pct(listing, 0.95), "unfiltered_list_p95_ms": pct(listing_peer, 0.95),
            "list_ratio_to_unfiltered": round(pct(listing, 0.95) / max(pct(listing_peer, 0.95), 1e-6), 2),
            "targets": {"lookup_p99_ms": 1.0, "list_p95_ms": 50.0},
        })
        print(json.dumps(figures))
    finally:
        home.close()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
