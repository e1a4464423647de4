"""Protected OCR text (R40) against plain: storing and searching pages when the text is encrypted and
the index holds keyed tokens (scanstation.custody.text_protection), peer = the same pages in a home
without protection, measured in the same run.

Two real homes get the same generated OCR text (bench/search.py's generator) through the OCR
runner's ``store_page_text``; in every round each home stores a slice of pages and answers the same
queries (one, two and three Chinese characters, a name, an ID number), the order of the two homes
alternating round by round. Ratios protected/plain per round and their median. The hit lists of the
two homes must be identical (``same_hits``).

    python bench/search_protected.py [--pages 3000] [--rounds 5]

Prints ONE JSON line.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import scanstation.bootstrap  # noqa: E402,F401 (every domain's catalog migrations)
from scanstation import search  # noqa: E402
from scanstation.custody import protection  # noqa: E402
from scanstation.home import Home, now_iso  # noqa: E402
from scanstation.ocr.queue import enqueue, store_page_text  # noqa: E402
from scanstation.service import Session  # noqa: E402
from scanstation.users import hash_password, row_to_user  # noqa: E402

_spec = importlib.util.spec_from_file_location("bench_search_text", ROOT / "bench" / "search.py")
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)


def make_home(path: Path, protected: bool, n_pages: int) -> Home:
    home = Home.create(path, "X001", "S01")
    with home.catalog.write() as conn:
        conn.execute(
            "INSERT INTO users(name, roles, password_hash, created_at) VALUES ('admin', 'admin', ?, ?)",
            (hash_password("password-123"), now_iso()),
        )
        cur = conn.execute(
            "INSERT INTO dossiers(number, fonds_code, year, retention, title, declared_pages, status,"
            " created_at, updated_at) VALUES ('X001-ZY·DJ·2024·D10-0001-001', 'X001', 2024, 'D10',"
            " '参保人员登记表', ?, 'scanning', ?, ?)",
            (n_pages, now_iso(), now_iso()),
        )
        conn.executemany(
            "INSERT INTO pages(dossier_id, seq, state, file_name, bytes, sha256, sm3, created_at)"
            " VALUES (?, ?, 'active', ?, 0, '', '', ?)",
            [(cur.lastrowid, i, f"p{i}.jpg", now_iso()) for i in range(1, n_pages + 1)],
        )
    if protected:
        admin = Session(home, row_to_user(home.catalog.one("SELECT * FROM users WHERE name = 'admin'")))
        protection.enable(admin, "bench passphrase 123")
    return home


def store(home: Home, texts: list[tuple[int, str]]) -> float:
    started = time.perf_counter()
    for page_id, text in texts:
        with home.catalog.write() as conn:
            enqueue(conn, page_id)
            store_page_text(conn, page_id, text, 90.0)
    return time.perf_counter() - started


def ask(home: Home, queries: list[str]) -> tuple[list[float], list[list[int]]]:
    times, hits = [], []
    for q in queries:
        started = time.perf_counter()
        found = search.search(home.catalog, q, limit=50)
        times.append(time.perf_counter() - started)
        hits.append(sorted(h.page_id for h in found if h.field == "text"))
    return times, hits


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pages", type=int, default=3000)
    parser.add_argument("--rounds", type=int, default=5)
    args = parser.parse_args()
    rng = random.Random(12)
    people = [(gen.person_name(rng), gen.employer(rng), gen.id_number(rng)) for _ in range(200)]
    texts = [(i, gen.page_text(rng, *rng.choice(people))) for i in range(1, args.pages + 1)]
    base = Path(tempfile.mkdtemp(prefix="bench-protected-"))
    try:
        homes = {
            "plain": make_home(base / "plain", False, args.pages),
            "protected": make_home(base / "protected", True, args.pages),
        }
        per_round = len(texts) // args.rounds
        store_ratio, query_ratio, same = [], [], True
        store_ms = {"plain": [], "protected": []}
        query_ms = {"plain": [], "protected": []}
        for r in range(args.rounds):
            chunk = texts[r * per_round : (r + 1) * per_round]
            joined = "".join(t for _, t in chunk)
            han = [c for c in joined if "\u4e00" <= c <= "\u9fff"]
            queries = [
                rng.choice(han),
                *(joined[k : k + 2] for k in rng.sample(range(len(joined) - 3), 3)),
                *(joined[k : k + 3] for k in rng.sample(range(len(joined) - 3), 3)),
                rng.choice(people)[0],
                rng.choice(people)[2],
            ]
            queries = [q for q in queries if q.strip()]
            order = ["plain", "protected"] if r % 2 == 0 else ["protected", "plain"]
            stored, asked, found = {}, {}, {}
            for name in order:
                stored[name] = store(homes[name], chunk)
            for name in order:
                asked[name], found[name] = ask(homes[name], queries)
            same = same and found["plain"] == found["protected"]
            for name in homes:
                store_ms[name].append(1000 * stored[name] / len(chunk))
                query_ms[name].append(1000 * statistics.median(asked[name]))
            store_ratio.append(stored["protected"] / stored["plain"])
            query_ratio.append(statistics.median(asked["protected"]) / statistics.median(asked["plain"]))
        for home in homes.values():
            home.close()
        print(
            json.dumps(
                {
                    "bench": "search_protected",
                    "pages": per_round * args.rounds,
                    "rounds": args.rounds,
                    "store_ms_per_page": {k: round(statistics.median(v), 3) for k, v in store_ms.items()},
                    "store_ratio_per_round": [round(x, 2) for x in store_ratio],
                    "store_ratio_median": round(statistics.median(store_ratio), 2),
                    "query_p50_ms": {k: round(statistics.median(v), 3) for k, v in query_ms.items()},
                    "query_ratio_per_round": [round(x, 2) for x in query_ratio],
                    "query_ratio_median": round(statistics.median(query_ratio), 2),
                    "same_hits": same,
                },
                ensure_ascii=False,
            )
        )
        return 0 if same else 1
    finally:
        shutil.rmtree(base, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
