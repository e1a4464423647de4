"""What a durable page commit costs: the station's catalog with synchronous=FULL (every commit fsynced, so
a power cut never takes back a page whose spool file is already gone) against synchronous=NORMAL (the
earlier setting), on the same catalog file, interleaved round by round.

Each commit is what a captured page commits: a page row, its OCR queue entry and its audit entry, through
the real Session.change(). Prints one JSON line: milliseconds per commit for both, the ratio per round and
its median. Also the cost of one page's master write (write_atomic of a 1 MB file: two fsyncs) in the
same run, as the scale the commit's fsync adds to.

    .venv/bin/python bench/commit_sync.py [--rounds 5] [--commits 100]
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

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scanstation.bootstrap  # noqa: E402,F401 (every domain's catalog migrations)
from scanstation.home import Home, now_iso  # noqa: E402
from scanstation.service import Session  # noqa: E402
from scanstation.storage.files import write_atomic  # noqa: E402
from scanstation.users import User  # noqa: E402


def commits(session: Session, dossier_id: int, n: int, start: int) -> float:
    t0 = time.perf_counter()
    for i in range(start, start + n):
        with session.change(None, "page.capture", "page", f"bench#{i}") as ch:
            cur = ch.conn.execute(
                "INSERT INTO pages(dossier_id, seq, state, file_name, sha256, sm3, created_at)"
                " VALUES (?, ?, 'active', ?, ?, ?, ?)",
                (dossier_id, i, f"bench-{i:04d}.jpg", "0" * 64, "1" * 64, now_iso()),
            )
            ch.conn.execute(
                "INSERT INTO page_text(page_id, status, updated_at) VALUES (?, 'queued', ?)", (cur.lastrowid, now_iso())
            )
            ch.after = {"file": f"bench-{i:04d}.jpg", "sm3": "1" * 64}
    return (time.perf_counter() - t0) * 1000 / n


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--commits", type=int, default=100)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(dir=os.environ.get("BENCH_DIR")) as tmp:
        home = Home.create(Path(tmp) / "home", "X001", "S01")
        try:
            conn = home.catalog.conn
            conn.execute("INSERT OR IGNORE INTO fonds(code) VALUES ('X001')")
            did = conn.execute(
                "INSERT INTO dossiers(number, fonds_code, year, retention, created_at, updated_at)"
                " VALUES ('X001-BENCH', 'X001', 2024, 'Y', ?, ?)",
                (now_iso(), now_iso()),
            ).lastrowid
            session = Session(home, User(id=0, name="bench", roles=("admin",)))
            full, normal, ratios, master = [], [], [], []
            blob = os.urandom(1 << 20)
            seq = 1
            for r in range(args.rounds):
                for mode in ("FULL", "NORMAL") if r % 2 == 0 else ("NORMAL", "FULL"):
                    conn.execute(f"PRAGMA synchronous={mode}")
                    ms = commits(session, did, args.commits, seq)
                    seq += args.commits
                    (full if mode == "FULL" else normal).append(ms)
                ratios.append(full[-1] / normal[-1])
                t0 = time.perf_counter()
                for i in range(5):
                    write_atomic(Path(tmp) / "masters" / f"m{i}.jpg", blob)
                master.append((time.perf_counter() - t0) * 1000 / 5)
        finally:
            home.close()
    print(
        json.dumps(
            {
                "bench": "commit_sync",
                "commits_per_round": args.commits,
                "rounds": args.rounds,
                "full_ms_per_commit": round(statistics.median(full), 3),
                "normal_ms_per_commit": round(statistics.median(normal), 3),
                "ratio_full_to_normal_per_round": [round(x, 2) for x in ratios],
                "ratio_median": round(statistics.median(ratios), 2),
                "master_write_1mb_ms": round(statistics.median(master), 3),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
