"""Validate one bag of random files (sha256 + sm3) with our validator and with bagit-python.

    .venv/bin/python bench/bagit_validate.py [--quick] [--mb N]

Prints one JSON line: MB/s of each and the ratio ours / bagit-python (its default, one process;
its two-process figure is printed too). Files are read once before timing so both read from the
page cache, and each validator runs twice, the better run counting.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import bagit  # noqa: E402  (test oracle and peer, not used by the product)

from scanstation.transfer.bagit import (  # noqa: E402
    hash_files,
    payload_oxum,
    validate_bag,
    write_bag_info,
    write_bagit_txt,
    write_manifest,
)

ALGS = ["sha256", "sm3"]


def build(root: Path, total_mb: int, file_mb: float) -> Path:
    bag = root / "bag"
    data = bag / "data"
    data.mkdir(parents=True)
    count = max(1, int(total_mb / file_mb))
    size = int(file_mb * (1 << 20))
    payload = []
    for i in range(count):
        rel = f"data/dossier-{i // 20:03d}/{i % 20 + 1:04d}.jpg"
        (bag / rel).parent.mkdir(parents=True, exist_ok=True)
        (bag / rel).write_bytes(os.urandom(size + i))  # sizes differ a little, like scans
        payload.append(rel)
    hashed = hash_files([bag / p for p in payload], ALGS)
    for alg in ALGS:
        write_manifest(bag, alg, {p: hashed.digests[bag / p][alg] for p in payload})
    write_bagit_txt(bag)
    write_bag_info(bag, [("Payload-Oxum", payload_oxum({p: hashed.sizes[bag / p] for p in payload}))])
    tags = ["bagit.txt", "bag-info.txt"] + [f"manifest-{a}.txt" for a in ALGS]
    tag_hashes = hash_files([bag / t for t in tags], ALGS)
    for alg in ALGS:
        write_manifest(bag, alg, {t: tag_hashes.digests[bag / t][alg] for t in tags}, tag=True)
    return bag


def best_of(runs: int, fn) -> float:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true", help="60 MB instead of 500 MB")
    parser.add_argument("--mb", type=int, default=None)
    parser.add_argument("--file-mb", type=float, default=4.0)
    args = parser.parse_args()
    total_mb = args.mb or (60 if args.quick else 500)
    bagit.CHECKSUM_ALGOS = set(bagit.CHECKSUM_ALGOS) | {"sm3"}  # let bagit-python read sm3 manifests

    root = Path(tempfile.mkdtemp(prefix="bagit-bench-"))
    try:
        bag = build(root, total_mb, args.file_mb)
        size_mb = sum(p.stat().st_size for p in (bag / "data").rglob("*") if p.is_file()) / (1 << 20)
        hash_files([p for p in (bag / "data").rglob("*") if p.is_file()], ["md5"])  # warm the page cache

        def ours():
            report = validate_bag(bag, algorithms=ALGS, require_tag_manifest=True)
            assert report.valid, [p.en for p in report.problems]

        def theirs(processes=1):
            bagit.Bag(str(bag)).validate(processes=processes)

        t_ours = best_of(2, ours)
        t_theirs = best_of(2, theirs)
        t_theirs2 = best_of(2, lambda: theirs(2))
    finally:
        shutil.rmtree(root, ignore_errors=True)
    print(
        json.dumps(
            {
                "bench": "bagit_validate",
                "algorithms": ALGS,
                "payload_mb": round(size_mb, 1),
                "cores": os.cpu_count(),
                "ours_mb_s": round(size_mb / t_ours, 1),
                "bagit_python_mb_s": round(size_mb / t_theirs, 1),
                "bagit_python_2proc_mb_s": round(size_mb / t_theirs2, 1),
                "ratio_vs_bagit_python": round(t_theirs / t_ours, 2),
                "ratio_vs_bagit_python_2proc": round(t_theirs2 / t_ours, 2),
            }
        )
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
