"""Benchmark: which SM3 implementation available to Python here is fastest.

    python bench/sm3.py [--mb N]

Measures each importable implementation on the same random data, one thread and one thread per core
(an implementation that holds the GIL does not scale with threads), and checks every digest against
hashlib's. Candidates: hashlib (OpenSSL), the ``cryptography`` package (its own OpenSSL), and the
PyPI bindings gmssl_pyx (GmSSL), gmssl_fast (GmSSL), gmalglib (C) and gmssl (pure Python, on a
small sample only). Those not installed are reported as such. Prints ONE JSON line; the ratio of each
to hashlib is taken within each round and the median printed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import statistics
import time
from concurrent.futures import ThreadPoolExecutor


def candidates() -> dict:
    found = {"hashlib": lambda d: hashlib.new("sm3", d).digest()}
    try:
        from cryptography.hazmat.primitives import hashes

        def crypto(d):
            h = hashes.Hash(hashes.SM3())
            h.update(d)
            return h.finalize()

        found["cryptography"] = crypto
    except Exception:
        pass
    for name, attr in (("gmssl_pyx", "sm3_hash"), ("gmssl_fast", "sm3"), ("gmalglib", "sm3_digest")):
        try:
            found[name] = getattr(__import__(name), attr)
        except Exception:
            pass
    try:
        from gmssl import func, sm3

        found["gmssl (pure Python)"] = lambda d: bytes.fromhex(sm3.sm3_hash(func.bytes_to_list(d)))
    except Exception:
        pass
    return found


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--mb", type=int, default=128)
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    workers = os.cpu_count() or 1
    chunk = 4 << 20
    data = [os.urandom(chunk) for _ in range(max(workers, args.mb * (1 << 20) // chunk))]
    mb = len(data) * chunk / 1e6
    found = candidates()
    reference = [hashlib.new("sm3", d).digest() for d in data]
    result: dict = {
        "bench": "sm3",
        "mb": round(mb, 1),
        "workers": workers,
        "rounds": args.rounds,
        "not_installed": sorted(
            {"cryptography", "gmssl_pyx", "gmssl_fast", "gmalglib", "gmssl (pure Python)"} - set(found)
        ),
    }
    times: dict = {}
    for _ in range(args.rounds):
        for name, fn in found.items():
            sample = data if "pure" not in name else [d[:65536] for d in data[:2]]
            scale = mb / (sum(len(d) for d in sample) / 1e6)
            for threads in (1, workers):
                t = time.perf_counter()
                with ThreadPoolExecutor(threads) as pool:
                    digests = list(pool.map(fn, sample))
                elapsed = (time.perf_counter() - t) * scale
                if "pure" not in name:
                    assert digests == reference, f"{name} gives other digests"
                times.setdefault((name, threads), []).append(elapsed)
    for (name, threads), values in times.items():
        base = times[("hashlib", threads)]
        key = f"{name}@{threads}t"
        result[f"{key}_mb_s"] = round(mb / statistics.median(values), 1)
        result[f"{key}_vs_hashlib"] = round(statistics.median([b / v for b, v in zip(base, values)]), 3)
    best = max(((n, t) for n, t in times if t == workers), key=lambda k: mb / statistics.median(times[k]))
    result["fastest_on_all_cores"] = best[0]
    print(json.dumps(result, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
