"""Catalog at scale: 1,000,000 dossiers and 10,000,000 page rows in a real station catalog.

Reports 档号 lookup p99 (every key a different dossier), a dossier's pages lookup p99, and the list p95
of every filter shape (none, 年度, status, 年度 + status) at four depths (top, 10,000 down, middle, end),
paged by key through the product's list_dossiers(). Each has its peer measured in the same run on the
same file (SQLite's floor: a rowid lookup; a rowid range of the same size, interleaved round by round,
ratio per round, median printed). Targets: lookup p99 ≤ 1 ms, list p95 ≤ 20 ms for every shape and depth.

    .venv/bin/python bench/catalog.py [--quick] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scanstation.bootstrap  # noqa: E402,F401 (every domain's catalog migrations)
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
        batch.append(
            (
                number(i),
                "X001",
                2015 + i % 10,
                STAGES[i % 5],
                RETENTION[i % 5],
                f"参保人员登记表 {i}",
                pages_per,
                STATUSES[i % len(STATUSES)],
                f"姓名{i % 5000}",
                "2024-01-01",
                "2024-01-01",
            )
        )
        if len(batch) == 50_000:
            conn.executemany(
                "INSERT INTO dossiers(number, fonds_code, year, category, retention, title, declared_pages,"
                " status, person_name, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
                batch,
            )
            batch = []
    if batch:
        conn.executemany(
            "INSERT INTO dossiers(number, fonds_code, year, category, retention, title, declared_pages,"
            " status, person_name, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)",
            batch,
        )
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
            conn.executemany(
                "INSERT INTO pages(dossier_id, seq, file_name, bytes, sha256, sm3, format, dpi, color_mode,"
                " created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
                rows,
            )
            rows = []
    if rows:
        conn.executemany(
            "INSERT INTO pages(dossier_id, seq, file_name, bytes, sha256, sm3, format, dpi, color_mode,"
            " created_at) VALUES (?,?,?,?,?,?,?,?,?,?)",
            rows,
        )
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


SHAPES = ("none", "year", "status", "year+status")
DEPTHS = ("top", "10k", "middle", "end")


def listing_figures(cat, dossiers: int, rng: random.Random, rounds: int) -> dict:
    """Every list shape the window and the command line offer, at the top, 10,000 rows down, the middle and
    the end of its match set, paged by key through the product's own list_dossiers(); each round also times
    the SQLite floor (a rowid range of the same size) right after, and the ratio is taken per round."""
    from scanstation.dossier_list import list_dossiers

    def filters(shape: str) -> dict:
        year = 2015 + rng.randrange(10) if "year" in shape else None
        status = STATUSES[rng.randrange(len(STATUSES))] if "status" in shape else None
        return {"year": year, "status": status}

    def after_at(f: dict, depth: str) -> str | None:
        if depth == "top":
            return None
        where, params = ["fonds_code = 'X001'"], []
        for column in ("year", "status"):
            if f[column] is not None:
                where.append(f"{column} = ?")
                params.append(f[column])
        total = cat.conn.execute(f"SELECT count(*) FROM dossiers WHERE {' AND '.join(where)}", params).fetchone()[0]
        at = {"10k": 10_000, "middle": total // 2, "end": max(0, total - 50)}[depth]
        row = cat.conn.execute(
            f"SELECT number FROM dossiers WHERE {' AND '.join(where)} ORDER BY number LIMIT 1 OFFSET ?",
            params + [max(0, min(at, total - 1))],
        ).fetchone()
        return row[0] if row else None

    out: dict = {"list_rounds": rounds}
    worst = 0.0
    ratios_all = []
    for shape in SHAPES:
        for depth in DEPTHS:
            cases = []
            for _ in range(40):
                f = filters(shape)
                cases.append((f, after_at(f, depth)))
            per_round, ratios = [], []
            for _ in range(rounds):
                product, peer = [], []
                for f, after in cases:
                    t = time.perf_counter()
                    page = list_dossiers(cat, "X001", after=after, limit=50, **f)
                    product.append((time.perf_counter() - t) * 1000)
                    start = rng.randrange(max(1, dossiers - 60))
                    t = time.perf_counter()
                    cat.conn.execute(
                        "SELECT number, title, year, retention, declared_pages, status, person_name,"
                        " person_id_number FROM dossiers WHERE id > ? ORDER BY id LIMIT 51",
                        (start,),
                    ).fetchall()
                    peer.append((time.perf_counter() - t) * 1000)
                    assert len(page.rows) <= 50
                product.sort()
                peer.sort()
                per_round.append(pct(product, 0.95))
                ratios.append(pct(product, 0.95) / max(pct(peer, 0.95), 1e-6))
            p95 = statistics.median(per_round)
            worst = max(worst, p95)
            ratios_all.extend(ratios)
            out[f"list_p95_ms[{shape}@{depth}]"] = round(p95, 3)
            out[f"list_ratio_to_rowid[{shape}@{depth}]"] = round(statistics.median(ratios), 2)
    out["list_p95_ms_worst"] = round(worst, 3)
    out["list_ratio_to_rowid_median"] = round(statistics.median(ratios_all), 2)
    return out


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="100,000 dossiers / 1,000,000 pages")
    ap.add_argument("--keep", help="build the catalog in this folder and keep it")
    ap.add_argument("--rounds", type=int, default=5, help="interleaved rounds of product list vs rowid floor")
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
        # every lookup a different 档号 (no key repeated: nothing is served from a warm repeat)
        keys = rng.sample(range(dossiers), min(dossiers, 20_000))
        lookup_keys, floor_keys, page_keys = keys[:5000], keys[5000:10000], keys[10000:12000]
        lk, fk, pk = iter(lookup_keys), iter(floor_keys), iter(page_keys)
        lookup = timed(
            lambda: cat.conn.execute("SELECT * FROM dossiers WHERE number = ?", (number(next(lk)),)).fetchone(), 5000
        )
        floor = timed(lambda: cat.conn.execute("SELECT * FROM dossiers WHERE id = ?", (next(fk) + 1,)).fetchone(), 5000)
        pages = timed(
            lambda: cat.conn.execute(
                "SELECT * FROM pages WHERE dossier_id = ? AND state = 'active' ORDER BY seq", (next(pk) + 1,)
            ).fetchall(),
            2000,
        )
        figures.update(listing_figures(cat, dossiers, rng, rounds=args.rounds))
        size_mb = sum(p.stat().st_size for p in home_path.glob("catalog.sqlite*")) / 1e6
        figures.update(
            {
                "dossiers": dossiers,
                "pages": dossiers * pages_per,
                "catalog_mb": round(size_mb),
                "lookup_p99_ms": pct(lookup, 0.99),
                "lookup_p50_ms": pct(lookup, 0.5),
                "rowid_lookup_p99_ms": pct(floor, 0.99),
                "lookup_ratio_to_rowid": round(pct(lookup, 0.99) / max(pct(floor, 0.99), 1e-6), 2),
                "pages_of_dossier_p99_ms": pct(pages, 0.99),
                "targets": {"lookup_p99_ms": 1.0, "list_p95_ms_every_shape_and_depth": 20.0},
            }
        )
        print(json.dumps(figures))
    finally:
        home.close()
        if not args.keep:
            shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    main()
