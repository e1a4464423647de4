"""Benchmark: inserting catalog rows the way the catalog import does (one prepared ``executemany`` inside
a ``BEGIN IMMEDIATE`` transaction) against sqlite-utils' ``Table.insert_all`` in the same transaction.
Dossier-shaped rows, an in-memory database with a UNIQUE 档号 column (docs/storage.md).

    .venv/bin/python bench/bulk_insert.py [--quick] [--rows N] [--rounds N]

Prints ONE JSON line: milliseconds per round for each (best and median) and the ratio of the medians.
"""

from __future__ import annotations

import argparse
import json
import os
import sqlite3
import statistics
import time

COLUMNS = ["number", "year", "retention", "title", "person_name", "person_id_number", "declared_pages"]


def _fresh() -> sqlite3.Connection:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.execute(
        "CREATE TABLE dossiers(id INTEGER PRIMARY KEY, number TEXT UNIQUE NOT NULL, year INTEGER, retention TEXT,"
        " title TEXT, person_name TEXT, person_id_number TEXT, declared_pages INTEGER)"
    )
    return conn


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="5,000 rows, 3 rounds")
    ap.add_argument("--rows", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=None)
    args = ap.parse_args()
    n = args.rows or (5000 if args.quick else 20000)
    rounds = args.rounds or (3 if args.quick else 5)
    import sqlite_utils  # imported before timing: its import cost is another matter (docs/storage.md)

    rows = [
        (
            f"X001-ZY·DJ·2024·D100-{i // 100:04d}-{i % 100:03d}",
            2024,
            "D100",
            f"题名{i}",
            "张三",
            "11010519491231002X",
            3,
        )
        for i in range(n)
    ]
    records = [dict(zip(COLUMNS, r)) for r in rows]
    sql = f"INSERT INTO dossiers({', '.join(COLUMNS)}) VALUES ({', '.join('?' * len(COLUMNS))})"
    times: dict[str, list[float]] = {"executemany": [], "insert_all": []}
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    for _ in range(rounds):
        conn = _fresh()
        t = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(sql, rows)
        conn.execute("COMMIT")
        times["executemany"].append(time.perf_counter() - t)
        assert conn.execute("SELECT count(*) FROM dossiers").fetchone()[0] == n
        conn = _fresh()
        db = sqlite_utils.Database(conn)
        t = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        db["dossiers"].insert_all(records)
        conn.execute("COMMIT")
        times["insert_all"].append(time.perf_counter() - t)
        assert conn.execute("SELECT count(*) FROM dossiers").fetchone()[0] == n
    result = {
        "bench": "bulk_insert",
        "rows": n,
        "rounds": rounds,
        "ms": {
            k: {"best": round(min(v) * 1000), "median": round(statistics.median(v) * 1000)} for k, v in times.items()
        },
        "insert_all_to_executemany": round(
            statistics.median(times["insert_all"]) / statistics.median(times["executemany"]), 2
        ),
        "load_avg_1min_at_start": round(load, 2) if load is not None else None,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
