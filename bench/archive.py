"""The archive room on PostgreSQL at scale: catalog lookups, lists, search, and intake by four desks.

    .venv/bin/python bench/archive.py [--quick] [--seed N]

Full: 2,000,000 dossiers and 20,000,000 pages generated into a private PostgreSQL cluster with COPY
(OCR text on 1,000,000 of the pages, indexed with the search module's own tokens), then 4 desks x 1 GB
packages. ``--quick``: 20,000 dossiers, 200,000 pages (10,000 with text), 4 desks x ~12 MB; under a
minute on a quiet two-core machine.

- lookup: a dossier by its 档号 through ``corrections.resolve`` (what lending and corrections use); p99.
- list: ``dossier_list.list_dossiers`` pages of 50 in 档号 order, keyset-paged (``after``) at random
  depths, for every filter shape; p95.
- search: ``scanstation.search.search`` for 1-, 2- and 3-character Chinese queries; p95 each. The
  result counts are printed beside the SQLite path's for the same queries on a shared subset: the same
  dossiers and text put into a SQLite catalog and a PostgreSQL database, each indexed by
  ``rebuild_index`` (``subset.equal`` must be true).
- intake: four real ``scanstation receive --accept`` processes on four packages at once. Throughput is
  given as a ratio of the machine's SHA-256+SM3 hashing limit, measured in the same run over the same
  files with one hashing process per core; ``peak_rss_mb`` is each desk's maximum resident memory.
  A second peer, ``check_floor``, is the least work R33 asks of a desk: hash every byte and decode
  every image (the four-property check's own probe), one process per core over the same files; its
  hash and decode CPU per MB are printed. Decoding a JPEG costs about three times hashing it here, so
  no desk that decodes every image (R33) can come near the hashing limit alone.

Prints ONE JSON line. Targets (issue): lookup p99 <= 2 ms, list p95 <= 50 ms, search p95 <= 150 ms,
intake >= 0.8 of the hashing limit, <= 300 MB per desk.
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import random
import shutil
import sys
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import scanstation.bootstrap  # noqa: E402,F401 (every domain's catalog migrations)
from scanstation import search as ss  # noqa: E402
from scanstation.storage.pg_search import text_row  # noqa: E402
from scanstation.storage.postgres_cluster import PrivateCluster  # noqa: E402
from scanstation.storage.sql_dialect import tsvector_literal  # noqa: E402


def _load_text_generator():
    """The social-security text generator of bench/search.py (names, employers, ID numbers, vocabulary)."""
    spec = importlib.util.spec_from_file_location("bench_search", Path(__file__).with_name("search.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


gen = _load_text_generator()

FULL = {
    "dossiers": 2_000_000,
    "pages": 20_000_000,
    "text_pages": 1_000_000,
    "subset_dossiers": 5_000,
    "subset_pages": 20_000,
    "desk_dossiers": 10,
    "desk_pages": 15,
    "image": (2480, 3508),
    "rounds": 300,
}
QUICK = {
    "dossiers": 20_000,
    "pages": 200_000,
    "text_pages": 5_000,
    "subset_dossiers": 500,
    "subset_pages": 2_000,
    "desk_dossiers": 3,
    "desk_pages": 4,
    "image": (1000, 1400),
    "rounds": 100,
}
NOW = "2025-01-01T00:00:00+08:00"
FAKE_DIGEST = "0" * 64


def pct(values: list[float], p: float) -> float:
    values = sorted(values)
    return round(values[min(len(values) - 1, int(len(values) * p))] * 1000, 3) if values else 0.0


# -- the catalog ---------------------------------------------------------------------------------
def _dossier(seed: int, i: int) -> tuple[str, str, str, str, str]:
    """Dossier ``i`` (0-based), the same whenever asked: (档号, 题名, 姓名, 单位, ID number)."""
    r = random.Random(seed * 10_000_019 + i)
    name, company, idn = gen.person_name(r), gen.employer(r), gen.id_number(r)
    return gen.dossier_number(i), r.choice(gen.TITLES) + "（" + name + "）", name, company, idn


def generate(dsn: str, cfg: dict, rng: random.Random, seed: int) -> dict:
    """Dossiers, pages, OCR text and the search index, by COPY (what a migration of a big archive would do).
    Rows are made on the fly (nothing held for the whole archive), so the full size fits in memory."""
    import psycopg

    from scanstation.storage.pg_catalog import PgCatalog

    cat = PgCatalog(dsn)
    cat.migrate()
    cat.close()
    started = time.perf_counter()
    n, pages_per = cfg["dossiers"], cfg["pages"] // cfg["dossiers"]
    text_every = max(1, cfg["pages"] // cfg["text_pages"])
    sample = {"numbers": [], "texts": []}
    with psycopg.connect(dsn) as conn, psycopg.connect(dsn) as side:
        conn.execute("INSERT INTO fonds(code, name) VALUES ('X001', '') ON CONFLICT DO NOTHING")
        cur, side_cur = conn.cursor(), side.cursor()
        # one COPY at a time per connection: dossiers on one, their search rows on the other
        with (
            cur.copy(
                "COPY dossiers (id, number, fonds_code, year, title, person_name, person_id_number, employer, "
                "category, retention, status, created_at, updated_at) FROM STDIN"
            ) as dcopy,
            side_cur.copy("COPY search_dossiers (dossier_id, bi, uni, tri) FROM STDIN") as scopy,
        ):
            for i in range(n):
                number, title, name, company, idn = _dossier(seed, i)
                parts = number.split("·")
                dcopy.write_row(
                    (i + 1, number, "X001", int(parts[2]), title, name, idn, company,
                     number.split("-")[1].rsplit("·", 2)[0], parts[3].split("-")[0], "archived", NOW, NOW)
                )  # fmt: skip
                bi, uni, _ = ss._dossier_tokens("\x1f".join(ss._plain(v) for v in (number, title, name, company, idn)))
                scopy.write_row((i + 1, *text_row(bi, uni)))
                if rng.random() < 2000 / n:
                    sample["numbers"].append(number)
        with (
            cur.copy("COPY search_codes (dossier_id, codes) FROM STDIN") as ccopy,
            side_cur.copy("COPY search_dossier_state (dossier_id, source) FROM STDIN") as stcopy,
        ):
            for i in range(n):
                values = _dossier(seed, i)
                source = "\x1f".join(ss._plain(v) for v in values)
                ccopy.write_row((i + 1, tsvector_literal(ss._dossier_tokens(source)[2])))
                stcopy.write_row((i + 1, source))
        page_id, texts = 0, []
        with cur.copy(
            "COPY pages (id, dossier_id, seq, state, file_name, bytes, sha256, sm3, format, created_at) FROM STDIN"
        ) as pcopy:
            for d in range(1, n + 1):
                number = gen.dossier_number(d - 1)
                for seq in range(1, pages_per + 1):
                    page_id += 1
                    pcopy.write_row(
                        (page_id, d, seq, "active", f"{number}-{seq:04d}.jpg", 400_000, FAKE_DIGEST, FAKE_DIGEST,
                         "jpeg", NOW)
                    )  # fmt: skip
                    if page_id % text_every == 0:
                        texts.append(page_id)
        state = []
        with (
            cur.copy("COPY page_text (page_id, status, attempts, text, confidence, updated_at) FROM STDIN") as tcopy,
            side_cur.copy("COPY search_pages (page_id, bi, uni, tri) FROM STDIN") as icopy,
        ):
            for pid in texts:
                _, _, name, company, idn = _dossier(seed, (pid - 1) // pages_per)
                text = gen.page_text(rng, name, company, idn)
                tcopy.write_row((pid, "done", 1, text, 90.0, NOW))
                bi, uni = ss.index_streams(text)
                icopy.write_row((pid, *text_row(bi, uni)))
                state.append((pid, ss._digest(text)))
                if len(sample["texts"]) < 400 and rng.random() < 0.05:
                    sample["texts"].append(text)
        with side_cur.copy("COPY search_page_state (page_id, digest) FROM STDIN") as pscopy:
            for row in state:
                pscopy.write_row(row)
        conn.execute(
            "INSERT INTO settings(key, value) VALUES ('search.index', %s) ON CONFLICT (key) DO UPDATE SET value = "
            "excluded.value",
            (json.dumps({"tokenizer": ss.TOKENIZER_VERSION, "needs_rebuild": False}),),
        )
        for table in ("dossiers", "pages"):
            conn.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        conn.commit()
        side.commit()
        conn.autocommit = True
        conn.execute("VACUUM ANALYZE")
        size = conn.execute("SELECT pg_database_size(current_database())").fetchone()[0]
    return {
        "dossiers": n,
        "pages": page_id,
        "text_pages": len(texts),
        "generate_s": round(time.perf_counter() - started, 1),
        "db_mb": round(size / 1e6),
        "_sample": sample,
    }


def queries(sample: dict, rng: random.Random, n: int) -> dict[str, list[str]]:
    def pieces(k: int) -> list[str]:
        out = []
        while len(out) < n:
            text = rng.choice(sample["texts"])
            i = rng.randrange(0, len(text) - k)
            piece = text[i : i + k]
            if all("\u4e00" <= c <= "\u9fff" for c in piece):
                out.append(piece)
        return out

    return {"1char": pieces(1), "2char": pieces(2), "3char": pieces(3)}


def timings(dsn: str, sample: dict, rng: random.Random, rounds: int) -> dict:
    from scanstation.custody.corrections import resolve
    from scanstation.dossier_list import list_dossiers
    from scanstation.storage.pg_catalog import PgCatalog

    cat = PgCatalog(dsn)
    try:
        numbers = sample["numbers"]
        for number in numbers[:20]:  # warm the connection and the plan cache
            resolve(cat, number)
        lookup = []
        for _ in range(rounds * 3):
            number = rng.choice(numbers)
            t = time.perf_counter()
            row = resolve(cat, number)
            lookup.append(time.perf_counter() - t)
            assert row["number"] == number
        listing = {}
        for shape in ("none", "year", "status", "year+status"):
            times = []
            for _ in range(rounds):
                kwargs = {}
                if "year" in shape:
                    kwargs["year"] = rng.randint(2000, 2024)
                if "status" in shape:
                    kwargs["status"] = "archived"
                after = rng.choice(numbers) if rng.random() < 0.8 else None  # random depths, some at the top
                t = time.perf_counter()
                page = list_dossiers(cat, "X001", after=after, limit=50, **kwargs)
                times.append(time.perf_counter() - t)
                assert len(page.rows) <= 50
            listing[shape] = pct(times, 0.95)
        found = {}
        search_p95 = {}
        for kind, words in queries(sample, rng, max(20, rounds // 3)).items():
            times, counts = [], []
            for word in words:
                t = time.perf_counter()
                hits = ss.search(cat, word, limit=20)
                times.append(time.perf_counter() - t)
                counts.append(len(hits))
            search_p95[kind] = pct(times, 0.95)
            found[kind] = round(sum(counts) / len(counts), 1)
        return {
            "lookup_p99_ms": pct(lookup, 0.99),
            "lookup_p50_ms": pct(lookup, 0.5),
            "list_p95_ms": max(listing.values()),
            "list_p95_ms_by_shape": listing,
            "search_p95_ms": search_p95,
            "search_mean_hits_of_20": found,
        }
    finally:
        cat.close()


# -- the same subset on SQLite and PostgreSQL ------------------------------------------------------
def subset(cluster: PrivateCluster, tmp: Path, cfg: dict, rng: random.Random) -> dict:
    """Counts of the same queries on a SQLite catalog and a PostgreSQL database holding the same rows."""
    import sqlite3

    import psycopg

    from scanstation.storage.pg_catalog import PgCatalog

    (tmp / "subset.sqlite").unlink(missing_ok=True)  # a kept folder from an earlier run
    built = gen.build(tmp / "subset.sqlite", cfg["subset_dossiers"], cfg["subset_pages"], rng)
    lite = built["catalog"]
    dsn = cluster.create_database(f"subset_{os.getpid()}")
    cat = PgCatalog(dsn)
    cat.migrate()
    cat.close()
    src = sqlite3.connect(str(tmp / "subset.sqlite"))
    tables = {
        "dossiers": "id, number, fonds_code, year, title, person_name, person_id_number, employer, category, "
        "retention, created_at, updated_at",
        "pages": "id, dossier_id, seq, state, file_name, created_at",
        "page_text": "page_id, status, attempts, text, confidence, updated_at",
    }
    with psycopg.connect(dsn) as conn:
        conn.execute("INSERT INTO fonds(code, name) VALUES ('X001', '')")
        with conn.cursor() as cur:
            for table, cols in tables.items():
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in src.execute(f"SELECT {cols} FROM {table}"):
                        copy.write_row(row)
    src.close()
    cat = PgCatalog(dsn)
    try:
        with lite.write():
            ss.rebuild_index(lite)
        with cat.write():
            ss.rebuild_index(cat)
        texts = [r["text"] for r in lite.query("SELECT text FROM page_text ORDER BY page_id LIMIT 400")]
        words = queries({"texts": texts}, rng, 8)
        words["name"] = [p[0] for p in list(built["people"].values())[:4]]
        words["id_last6"] = [p[2][-6:] for p in list(built["people"].values())[4:8]]
        rows, equal = [], True
        for kind, items in words.items():
            for word in items:
                a = ss.search(lite, word, limit=1000, unmasked=True)
                b = ss.search(cat, word, limit=1000, unmasked=True)
                same = [(h.number, h.page, h.field) for h in a] == [(h.number, h.page, h.field) for h in b]
                equal &= same
                rows.append([kind, word, len(a), len(b)])
        return {
            "dossiers": cfg["subset_dossiers"],
            "pages_with_text": built["pages"],
            "equal": equal,
            "counts_sqlite_pg": rows,
        }
    finally:
        cat.close()
        lite.close()


# -- intake --------------------------------------------------------------------------------------
def _digest_file(path: str) -> int:
    sha, sm3, size = hashlib.sha256(), hashlib.new("sm3"), 0
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            sha.update(chunk)
            sm3.update(chunk)
            size += len(chunk)
    return size


def hashing_limit(files: list[Path]) -> float:
    """Bytes per second this machine hashes SHA-256 + SM3 with one process per core (files in cache)."""
    for f in files:
        _digest_file(str(f))  # into the page cache, as they are for the desks
    workers = os.cpu_count() or 2
    with ProcessPoolExecutor(workers) as pool:
        t = time.perf_counter()
        total = sum(pool.map(_digest_file, [str(f) for f in files], chunksize=4))
        return total / (time.perf_counter() - t)


def _check_file(path: str) -> tuple[int, float, float]:
    """What R33 obliges a desk to do with one file at the least: SHA-256 + SM3 of every byte, and every
    image decoded (the four-property check's own probe). Returns (bytes, hash CPU s, decode CPU s)."""
    from scanstation.transfer import package_layout, verify

    started = time.process_time()
    size = _digest_file(path)
    hashed = time.process_time()
    fmt = package_layout.FORMAT_BY_EXT.get(path.rsplit(".", 1)[-1].lower())
    if fmt is not None:
        verify._probe_image(Path(path), fmt, verify.MAX_PIXELS)
    return size, hashed - started, time.process_time() - hashed


def check_floor(files: list[Path]) -> dict:
    """The second peer: the least work R33 asks of a receiving desk (hash every byte and decode every
    image), one process per core over the same files, in the same run."""
    workers = os.cpu_count() or 2
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(abs, range(workers * 2)))  # workers started before timing
        t = time.perf_counter()
        done = list(pool.map(_check_file, [str(f) for f in files], chunksize=4))
        seconds = time.perf_counter() - t
    total = sum(d[0] for d in done)
    return {
        "bytes_per_s": total / seconds,
        "hash_cpu_ms_per_mb": round(sum(d[1] for d in done) * 1e3 / (total / 1e6), 2),
        "decode_cpu_ms_per_mb": round(sum(d[2] for d in done) * 1e3 / (total / 1e6), 2),
    }


def intake(cluster: PrivateCluster, tmp: Path, cfg: dict) -> dict:
    import tests.test_transfer_fixtures as tf
    from scanstation.transfer import batches, outbox, seal
    from tests import archive_pg_fixtures as fx

    original = tf.jpeg_bytes
    width, height = cfg["image"]
    tf.jpeg_bytes = lambda seed, size=None, dpi=(300, 300): original(seed, (width, height), dpi)  # page-sized scans
    made = time.perf_counter()
    try:  # as tests.archive_pg_fixtures.make_packages, with pages of a scanned sheet's size
        station = tf.make_station(tmp / "intake" / "station", numbers=[], pages=(), notes=())
        pem = tf.station_key(station, tmp / "intake")
        share = tmp / "intake" / "share"
        share.mkdir()
        packages = []
        for k in range(1, 5):
            numbers = fx.numbers_for(k + 10, cfg["desk_dossiers"])
            for i, number in enumerate(numbers):
                tf.add_dossier(station.home, number, cfg["desk_pages"], seed=k * 10 + i, notes=0)
            with station.home.catalog.write() as conn:  # the fixture records 240 x 320
                conn.execute("UPDATE pages SET width = ?, height = ?", (width, height))
            batch = batches.create(station.s["clerk1"], 2024, numbers=numbers)
            seal.seal(station.s["clerk1"], batch["batch_id"], "station", tf.PASSPHRASE)
            packages.append(Path(outbox.send(station.s["clerk1"], batch["batch_id"], share)["path"]))
    finally:
        tf.jpeg_bytes = original
    made = time.perf_counter() - made
    station.close()
    files = [p for pkg in packages for p in pkg.rglob("*") if p.is_file()]
    total = sum(p.stat().st_size for p in files)
    limit = hashing_limit(files)
    floor = check_floor(files)
    dsn = cluster.create_database(f"intake_{os.getpid()}")
    archive = fx.make_pg_archive(tmp / "intake-archive", dsn, str(tmp / "intake-store"), station_pem=pem)
    home = archive.home.path
    archive.close()
    started = time.perf_counter()
    desks = [fx.desk(home, pkg, seed=i + 1) for i, pkg in enumerate(packages)]
    rss, codes, errors = [], [], []
    for proc in desks:
        _, status, usage = os.wait4(proc.pid, 0)
        rss.append(round(usage.ru_maxrss / 1024))  # KiB on Linux
        codes.append(os.waitstatus_to_exitcode(status))
        proc.stdout.read()
        err = proc.stderr.read().strip()
        if codes[-1] != 0:
            errors.append(err[-300:])
    seconds = time.perf_counter() - started
    rate = total / seconds
    return {
        "desks": 4,
        "package_mb": round(total / 4 / 1e6, 1),
        "all_accepted": codes == [0, 0, 0, 0],
        "seconds": round(seconds, 2),
        "mb_per_s": round(rate / 1e6, 1),
        "hash_limit_mb_per_s": round(limit / 1e6, 1),
        "ratio_of_hash_limit": round(rate / limit, 3),
        "check_floor_mb_per_s": round(floor["bytes_per_s"] / 1e6, 1),
        "ratio_of_check_floor": round(rate / floor["bytes_per_s"], 3),
        "hash_cpu_ms_per_mb": floor["hash_cpu_ms_per_mb"],
        "decode_cpu_ms_per_mb": floor["decode_cpu_ms_per_mb"],
        "peak_rss_mb": rss,
        "packages_made_s": round(made, 1),
        **({"errors": errors} if errors else {}),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="20 k dossiers / 200 k pages, small packages")
    parser.add_argument("--seed", type=int, default=16)
    parser.add_argument("--only", choices=["catalog", "intake"], help="run one part")
    parser.add_argument(
        "--keep",
        metavar="DIR",
        help="work in DIR and keep it; a later run with the same DIR reuses the generated catalog (the full "
        "one takes half an hour to generate) and times it again",
    )
    args = parser.parse_args()
    cfg = QUICK if args.quick else FULL
    rng = random.Random(args.seed)
    tmp = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="ss-bench-archive-"))
    tmp.mkdir(parents=True, exist_ok=True)
    kept = tmp / "catalog.json"
    cluster = PrivateCluster(tmp / "pg").start()
    started = time.perf_counter()
    try:
        out = {"bench": "archive", "mode": "quick" if args.quick else "full", "seed": args.seed, "cpus": os.cpu_count()}
        targets = {}
        if args.only in (None, "catalog"):
            if args.keep and kept.exists():  # generated by an earlier run with --keep
                catalog = json.loads(kept.read_text("utf-8"))
                dsn = cluster.dsn_for("bench")
                from scanstation.storage.pg_catalog import PgCatalog

                upgraded = PgCatalog(dsn)  # to the current schema, as an archive is on its first start
                t = time.perf_counter()
                catalog["migrated_on_reuse"] = upgraded.migrate()
                catalog["migrate_s"] = round(time.perf_counter() - t, 1)
                upgraded.close()
                rng = random.Random(args.seed + 1)
            else:
                dsn = cluster.create_database("bench")
                catalog = generate(dsn, cfg, rng, args.seed)
                if args.keep:
                    kept.write_text(json.dumps(catalog, ensure_ascii=False), "utf-8")
            sample = catalog.pop("_sample")
            out["catalog"] = catalog
            out.update(timings(dsn, sample, rng, cfg["rounds"]))
            out["subset"] = subset(cluster, tmp, cfg, rng)
            targets["lookup_p99_ms<=2"] = out["lookup_p99_ms"] <= 2
            targets["list_p95_ms<=50"] = out["list_p95_ms"] <= 50
            targets["search_p95_ms<=150"] = all(v <= 150 for v in out["search_p95_ms"].values())
            targets["search_equal_to_sqlite"] = out["subset"]["equal"]
        if args.only in (None, "intake"):
            for old in ("intake", "intake-archive", "intake-store"):  # a kept folder from an earlier run
                shutil.rmtree(tmp / old, ignore_errors=True)
            out["intake"] = intake(cluster, tmp, cfg)
            targets["intake_ratio>=0.8"] = out["intake"]["ratio_of_hash_limit"] >= 0.8
            targets["rss_mb<=300"] = all(v <= 300 for v in out["intake"]["peak_rss_mb"])
        out["targets"] = targets
        out["seconds"] = round(time.perf_counter() - started, 1)
    finally:
        cluster.stop()
        if not args.keep:
            shutil.rmtree(tmp, ignore_errors=True)
    print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
