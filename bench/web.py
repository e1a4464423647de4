"""Network service benchmark: searchers and uploading stations against ``scanstation archive serve``.

An archive home with 200,000 pages of OCR text (``--quick``: 20,000) and 100,000 dossiers
(``--quick``: 20,000) is generated with bench/search.py's generator and indexed; the service runs
as its own process on 127.0.0.1 (plain http on loopback). For ``--seconds`` (60):

* ``--searchers`` (50) users search through the browser page ``/search`` on their own keep-alive
  connections, each logged in with its own account: one-, two- and three-character words, the last
  6 digits of an ID number, a 档号, a fifth of them with a year filter; between two searches a user
  thinks ``--think`` seconds on average (uniform 0.5x-1.5x; 0 = back to back). The first ``--warmup``
  seconds (15) of searching warm the service up (the catalog's pages come into memory) and are not timed (errors in them still count). Every search is also
  audited by the service, as in production.
* ``--stations`` (2) stations upload packages of ``--package-mb`` through the same chunked, SM3-checked
  API and client as ``scanstation batch send`` (``https_delivery.upload_file``), each round a new
  package (a synthetic zip that is not a signed bag: its four-property check, which runs on the
  archive during the next rounds, fails early; bench/transfer.py times the check of real packages).
  The peer, measured in the same run after every round under the same search load: a local
  disk-to-disk copy of the same file (read, write, fsync). Ratio per round = the two stations'
  aggregate upload throughput / the copy's throughput; the median is reported.

Prints ONE JSON line. The generated home can be kept with ``--cache DIR`` and reused.
"""

from __future__ import annotations

import argparse
import http.client
import importlib.util
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PASSWORD = "bench-password-1"


def generator():
    spec = importlib.util.spec_from_file_location("bench_search", ROOT / "bench" / "search.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def build_home(path: Path, n_dossiers: int, n_pages: int, searchers: int, stations: int, seed: int = 7) -> dict:
    import scanstation.bootstrap  # noqa: F401 (every domain's catalog migrations)
    from scanstation import search
    from scanstation.home import Home
    from scanstation.service import init_home
    from scanstation.users import hash_password

    gen = generator()
    rng = random.Random(seed)
    init_home(path, "X001", "A01", "admin", PASSWORD, kind="archive").close()
    home = Home.open(path)
    conn = home.catalog.conn
    now = "2025-01-01T00:00:00+08:00"
    hashed = hash_password(PASSWORD)
    started = time.perf_counter()
    with home.catalog.write():
        conn.executemany(
            "INSERT INTO users(name, roles, password_hash, created_at) VALUES (?, 'clerk', ?, ?)",
            [(f"reader{i:02d}", hashed, now) for i in range(searchers)]
            + [(f"station{i}", hashed, now) for i in range(stations)],
        )
    people = {}
    stages = ["参保人员登记", "基金征缴", "待遇支付", "关系转移"]
    kinds = ["企业职工基本养老保险", "失业保险", "工伤保险", "城镇职工基本医疗保险"]
    units = ["社会保险事业管理中心", "就业服务中心", "医疗保障中心"]
    with home.catalog.write():
        batch = []
        for i in range(n_dossiers):
            name, company, idn = gen.person_name(rng), gen.employer(rng), gen.id_number(rng)
            people[i + 1] = (name, company, idn)
            number = gen.dossier_number(i)
            batch.append(
                (
                    i + 1,
                    number,
                    "X001",
                    int(number.split("·")[2]),
                    rng.choice(gen.TITLES) + "（" + name + "）",
                    name,
                    idn,
                    company,
                    number.split("-")[1].rsplit("·", 2)[0],
                    number.split("·")[3].split("-")[0],
                    rng.choice(kinds),
                    rng.choice(stages),
                    "XX市" + rng.choice(units),
                    now,
                    now,
                )
            )
            if len(batch) == 10000 or i == n_dossiers - 1:
                conn.executemany(
                    "INSERT INTO dossiers(id, number, fonds_code, year, title, person_name, person_id_number,"
                    " employer, category, retention, insurance_type, business_stage, responsible, status,"
                    " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,'archived',?,?)",
                    batch,
                )
                batch = []
    page_id = 0
    with home.catalog.write():
        pages, texts = [], []
        for d in range(1, n_pages // 20 + 1):
            name, company, idn = people[d]
            number = gen.dossier_number(d - 1)
            for seq in range(1, 21):
                page_id += 1
                pages.append((page_id, d, seq, f"{number}-{seq:04d}.jpg", now))
                texts.append((page_id, gen.page_text(rng, name, company, idn), now))
                if len(pages) == 5000:
                    gen._flush_pages(conn, pages, texts)
                    pages, texts = [], []
        if pages:
            gen._flush_pages(conn, pages, texts)
    with home.catalog.write():
        search.rebuild_index(conn)
    conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    home.close()
    return {
        "people": people,
        "pages": page_id,
        "dossiers": n_dossiers,
        "build_s": round(time.perf_counter() - started, 1),
    }


def queries(rng: random.Random, people: dict, n_scanned: int, gen) -> list[tuple[str, dict]]:
    out = []
    keys = list(people)
    for _ in range(400):
        kind = rng.randrange(6)
        if kind == 0:
            q = rng.choice(gen.SURNAMES)
        elif kind == 1:
            q = rng.choice(["档案", "缴费", "稽核", "待遇", "王伟", "养老", "转移", "基数"])
        elif kind == 2:
            q = rng.choice(["养老金", "社保卡", "失业金", "滞纳金", "参保人", "经办人"])
        elif kind == 3:
            q = people[rng.randint(1, max(1, n_scanned))][2][-6:]
        elif kind == 4:
            q = gen.dossier_number(rng.choice(keys) - 1)
        else:
            q = people[rng.choice(keys)][0]
        filters = {"year": str(rng.randint(2000, 2024))} if rng.random() < 0.2 else {}
        out.append((q, filters))
    return out


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def login_cookie(port: int, user: str) -> str:
    import httpx

    with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=60) as c:
        c.get("/login")
        r = c.post("/login", data={"user": user, "password": PASSWORD, "login_token": c.cookies.get("ss_login")})
        if r.status_code != 303:
            raise RuntimeError(f"login of {user} failed: {r.status_code}")
        return c.cookies.get("ss_session")


def percentile(values: list[float], p: float) -> float:
    if not values:
        return 0.0
    values = sorted(values)
    k = max(0, min(len(values) - 1, int(round(p / 100 * (len(values) - 1)))))
    return values[k]


class Searcher(threading.Thread):
    def __init__(self, port: int, user: str, mix, think: float, stop: threading.Event, seed: int):
        super().__init__(daemon=True)
        self.port, self.user, self.mix, self.think, self.stop = port, user, mix, think, stop
        self.rng = random.Random(seed)
        self.latencies: list[tuple[float, float, str]] = []  # (started, seconds, query)
        self.errors: list[str] = []
        self.ready = threading.Event()
        self.go = threading.Event()

    def run(self):
        cookie = login_cookie(self.port, self.user)
        self.ready.set()
        self.go.wait()
        if self.think > 0:  # users arrive spread over one think time, not all in the same millisecond
            self.stop.wait(self.rng.uniform(0, self.think))
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
        while not self.stop.is_set():
            q, filters = self.rng.choice(self.mix)
            path = "/search?" + urlencode({"q": q, **filters})
            started = time.perf_counter()
            try:
                conn.request("GET", path, headers={"Cookie": f"ss_session={cookie}"})
                response = conn.getresponse()
                body = response.read()
                elapsed = time.perf_counter() - started
                if response.status != 200 or b'id="count"' not in body:
                    self.errors.append(f"{response.status} {q}")
                else:
                    self.latencies.append((started, elapsed, q))
            except (OSError, http.client.HTTPException) as exc:
                self.errors.append(f"{type(exc).__name__} {q}")
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=60)
            if self.think > 0:
                self.stop.wait(self.think * self.rng.uniform(0.5, 1.5))
        conn.close()


def make_package(path: Path, mb: int, rng: random.Random) -> None:
    import zipfile

    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_STORED) as zf:
        with zf.open("package/data/payload.bin", "w", force_zip64=True) as out:
            block = rng.randbytes(1 << 20)
            for _ in range(mb):
                out.write(block)


def stamp_nonce(path: Path, nonce: int) -> None:
    """A new package for each round: 8 bytes of the payload changed in place (a new SM3)."""
    with open(path, "r+b") as fh:
        fh.seek(200)
        fh.write(nonce.to_bytes(8, "little"))
        fh.flush()
        os.fsync(fh.fileno())


def upload(client, path: Path, chunk: int) -> tuple[int, float, str]:
    from scanstation.transfer import https_delivery

    started = time.perf_counter()
    upload_id = os.urandom(32).hex()  # a real station names it by its tag manifest's SM3, known from sealing
    info, _ = https_delivery.upload_file(
        client, path, upload_id, f"BENCH-{client.user}", chunk_size=chunk, check_wait=0
    )
    return path.stat().st_size, time.perf_counter() - started, info["state"]


def disk_copy(src: Path, dst: Path) -> float:
    started = time.perf_counter()
    with open(src, "rb") as fi, open(dst, "wb") as fo:
        shutil.copyfileobj(fi, fo, 8 << 20)
        fo.flush()
        os.fsync(fo.fileno())
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="20,000 pages / 20,000 dossiers, 20 s")
    parser.add_argument("--seconds", type=float)
    parser.add_argument("--searchers", type=int, default=50)
    parser.add_argument("--stations", type=int, default=2)
    parser.add_argument("--think", type=float, default=1.0, help="mean think time between a user's searches (s)")
    parser.add_argument("--package-mb", type=int)
    parser.add_argument("--chunk-mb", type=int, default=16)
    parser.add_argument("--warmup", type=float, default=15.0, help="seconds of searching before the clock starts")
    parser.add_argument("--cache", help="keep the generated archive home here and reuse it")
    args = parser.parse_args()
    pages = 20_000 if args.quick else 200_000
    dossiers = 20_000 if args.quick else 100_000
    seconds = args.seconds or (20.0 if args.quick else 60.0)
    package_mb = args.package_mb or (16 if args.quick else 64)
    work = Path(tempfile.mkdtemp(prefix="bench-web-"))
    gen = generator()
    try:
        template = (
            Path(args.cache) / f"archive-{pages}-{dossiers}-{args.searchers}-{args.stations}" if args.cache else None
        )
        home = work / "archive"
        if template and (template / "station.json").exists():
            shutil.copytree(template, home)
            info = json.loads((template / "bench.json").read_text())
            people = {int(k): v for k, v in info.pop("people").items()}
        else:
            info = build_home(home, dossiers, pages, args.searchers, args.stations)
            people = info.pop("people")
            if template:
                shutil.copytree(home, template, ignore=shutil.ignore_patterns(".lock"))
                (template / "bench.json").write_text(json.dumps({**info, "people": people}, ensure_ascii=False))
        port = free_port()
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        server = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scanstation.cli.main",
                "--home",
                str(home),
                "archive",
                "serve",
                "--bind",
                f"127.0.0.1:{port}",
                "--workers",
                "32",
            ],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=open(work / "serve.log", "wb"),
        )
        for _ in range(300):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                time.sleep(0.1)
        rng = random.Random(11)
        mix = queries(rng, people, pages // 20, gen)
        packages = []
        for s in range(args.stations):
            path = work / f"station{s}.zip"
            make_package(path, package_mb, rng)
            packages.append(path)
        stop = threading.Event()
        searchers = [
            Searcher(port, f"reader{i:02d}", mix, args.think, stop, seed=100 + i) for i in range(args.searchers)
        ]
        for t in searchers:
            t.start()
        for t in searchers:  # every user logged in (argon2) before the clock starts
            t.ready.wait(timeout=600)
        from scanstation.transfer import https_delivery

        clients = [
            https_delivery.Client(f"http://127.0.0.1:{port}", f"station{i}", PASSWORD) for i in range(args.stations)
        ]
        for c in clients:
            c.login()
        for t in searchers:
            t.go.set()
        time.sleep(args.warmup)  # the service's first searches on a cold catalog (page cache, per-thread connections)
        rounds = []
        nonce = 0
        began = time.perf_counter()
        while time.perf_counter() - began < seconds:
            results = [None] * args.stations

            def run(i):
                results[i] = upload(clients[i], packages[i], args.chunk_mb << 20)

            for p in packages:
                nonce += 1
                stamp_nonce(p, nonce)
            started = time.perf_counter()
            threads = [threading.Thread(target=run, args=(i,)) for i in range(args.stations)]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            wall = time.perf_counter() - started
            total = sum(r[0] for r in results)
            copy_s = disk_copy(packages[0], work / "copy.bin")
            (work / "copy.bin").unlink()
            upload_mbs = total / wall / 1e6
            copy_mbs = packages[0].stat().st_size / copy_s / 1e6
            rounds.append(
                {
                    "upload_MBps": round(upload_mbs, 1),
                    "copy_MBps": round(copy_mbs, 1),
                    "ratio": round(upload_mbs / copy_mbs, 3),
                    "states": [r[2] for r in results],
                }
            )
            for f in (home / "inbox" / "uploads").glob("*.zip"):  # keep the disk from filling (outside timing)
                f.unlink()
        elapsed = time.perf_counter() - began
        stop.set()
        for t in searchers:
            t.join(timeout=30)
        server.terminate()
        server.wait(timeout=30)
        timed = [(e, at, q) for t in searchers for at, e, q in t.latencies if at >= began]  # started on the clock
        latencies = [e for e, _, _ in timed]
        errors = [e for t in searchers for e in t.errors]  # errors count from the first request
        slowest = sorted(timed, reverse=True)[:8]
        ratios = sorted(r["ratio"] for r in rounds)
        result = {
            "bench": "web",
            "quick": args.quick,
            "pages": info["pages"],
            "dossiers": info["dossiers"],
            "seconds": round(elapsed, 1),
            "searchers": args.searchers,
            "think_s": args.think,
            "warmup_s": args.warmup,
            "searches": len(latencies),
            "search_errors": len(errors),
            "errors_sample": errors[:5],
            "searches_per_s": round(len(latencies) / elapsed, 1),
            "search_ms": {
                "p50": round(percentile(latencies, 50) * 1000, 1),
                "p95": round(percentile(latencies, 95) * 1000, 1),
                "p99": round(percentile(latencies, 99) * 1000, 1),
                "max": round(max(latencies, default=0) * 1000, 1),
            },
            "slowest": [{"ms": round(ms * 1000), "at_s": round(at - began, 1), "q": q} for ms, at, q in slowest],
            "stations": args.stations,
            "package_MB": package_mb,
            "chunk_MB": args.chunk_mb,
            "upload_rounds": len(rounds),
            "upload_MBps_median": sorted(r["upload_MBps"] for r in rounds)[len(rounds) // 2] if rounds else 0,
            "copy_MBps_median": sorted(r["copy_MBps"] for r in rounds)[len(rounds) // 2] if rounds else 0,
            "ratio_per_round": [r["ratio"] for r in rounds],
            "ratio_median": ratios[len(ratios) // 2] if ratios else 0,
            "pass": {
                "search_p95_le_300ms": percentile(latencies, 95) <= 0.3,
                "no_errors": not errors,
                "upload_ge_50pct_copy": bool(ratios) and ratios[len(ratios) // 2] >= 0.5,
            },
            "cores": os.cpu_count(),
            "load_before": os.getloadavg()[0],
            "build_s": info.get("build_s"),
            # said only when it was so: a load above the core count means other work shared the cores
            "machine_busy": os.getloadavg()[0] > (os.cpu_count() or 1),
        }
        print(json.dumps(result, ensure_ascii=False))
        return 0
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
