"""Benchmark: the station's one copy-while-hashing loop (``storage.files.copy_hashed``, SHA-256 + SM3)
against the two loops it replaced: ``readinto`` into one buffer (seal) and ``read()`` per chunk (receive,
page store, backup). Hash only and copy, the same file, rounds interleaved.

    .venv/bin/python bench/copy_hash.py [--quick] [--mb N] [--rounds N]

Prints ONE JSON line: MB per CPU second (process time, so that a machine shared with other work counts
less than in wall time; the file is in the page cache after the first round) and the wall-time MB/s,
best and median of the rounds, plus the 1-minute load average at the start.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

from scanstation.storage.files import copy_hashed  # noqa: E402

CHUNK = 1 << 20


def readinto_loop(src: str, dst: str | None = None) -> tuple[int, str, str]:
    """The loop seal had."""
    sha, sm3 = hashlib.sha256(), hashlib.new("sm3")
    buf = bytearray(CHUNK)
    view = memoryview(buf)
    size = 0
    with open(src, "rb", buffering=0) as fh, open(dst, "wb") if dst else open(os.devnull, "wb") as out:
        while True:
            n = fh.readinto(buf)
            if not n:
                break
            chunk = view[:n]
            sha.update(chunk)
            sm3.update(chunk)
            if dst:
                out.write(chunk)
            size += n
    return size, sha.hexdigest(), sm3.hexdigest()


def read_loop(src: str, dst: str | None = None) -> tuple[int, str, str]:
    """The loop receive, the page stores and the backup had."""
    sha, sm3 = hashlib.sha256(), hashlib.new("sm3")
    size = 0
    with open(src, "rb") as fh, open(dst, "wb") if dst else open(os.devnull, "wb") as out:
        for chunk in iter(lambda: fh.read(CHUNK), b""):
            sha.update(chunk)
            sm3.update(chunk)
            if dst:
                out.write(chunk)
            size += len(chunk)
    return size, sha.hexdigest(), sm3.hexdigest()


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="32 MB, 5 rounds")
    ap.add_argument("--mb", type=int, default=None)
    ap.add_argument("--rounds", type=int, default=None)
    args = ap.parse_args()
    mb = args.mb or (32 if args.quick else 256)
    rounds = args.rounds or (5 if args.quick else 9)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    cases = {
        "copy_hashed_hash": lambda s, d: copy_hashed(s),
        "readinto_loop_hash": lambda s, d: readinto_loop(s),
        "read_loop_hash": lambda s, d: read_loop(s),
        "copy_hashed_copy": lambda s, d: copy_hashed(s, d),
        "readinto_loop_copy": lambda s, d: readinto_loop(s, d),
        "read_loop_copy": lambda s, d: read_loop(s, d),
    }
    cpu: dict[str, list[float]] = {k: [] for k in cases}
    wall: dict[str, list[float]] = {k: [] for k in cases}
    with tempfile.TemporaryDirectory(prefix="bench-copy-hash-") as folder:
        src, dst = os.path.join(folder, "page.bin"), os.path.join(folder, "copy.bin")
        with open(src, "wb") as fh:
            fh.write(os.urandom(mb << 20))
        expected = copy_hashed(src)
        for _ in range(rounds):
            for name, run in cases.items():
                w, c = time.perf_counter(), time.process_time()
                got = run(src, dst)
                cpu[name].append(time.process_time() - c)
                wall[name].append(time.perf_counter() - w)
                assert got == expected, name
    result = {
        "bench": "copy_hash",
        "mb": mb,
        "rounds": rounds,
        "cpu_mb_per_s": {
            k: {"best": round(mb / min(v), 1), "median": round(mb / statistics.median(v), 1)} for k, v in cpu.items()
        },
        "wall_mb_per_s": {
            k: {"best": round(mb / min(v), 1), "median": round(mb / statistics.median(v), 1)} for k, v in wall.items()
        },
        "load_avg_1min_at_start": round(load, 2) if load is not None else None,
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
