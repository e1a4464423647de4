"""Kill -9 trials of a receiving desk on the PostgreSQL archive, longer than the default test run.

    .venv/bin/python bench/archive_kill.py [--trials 30] [--seed N]

Runs tests/test_archive_pg_desks.py::test_kill_9_at_random_moments_leaves_no_half_received_batch with
that many trials against a private PostgreSQL cluster: each trial starts the real ``scanstation receive``
in a process of its own, kills it with SIGKILL at a random moment of its intake, and checks that every
package in the archive is whole (dossiers, pages, store objects re-hashed, one audit chain); the same
package is taken up again until it is in. Prints one JSON line: trials, kills before the commit, desks
that finished before the kill, the seed and the seconds. (A stress run, not a speed benchmark: it has no
peer to compare with.)
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--trials", type=int, default=30)
    parser.add_argument("--seed", type=int)
    args = parser.parse_args()
    env = dict(
        os.environ, PYTHONPATH=str(ROOT), QT_QPA_PLATFORM="offscreen", SCANSTATION_PG_KILL_TRIALS=str(args.trials)
    )
    if args.seed is not None:
        env["SCANSTATION_PG_KILL_SEED"] = str(args.seed)
    started = time.monotonic()
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-s",
            "-p",
            "no:cacheprovider",
            "tests/test_archive_pg_desks.py::test_kill_9_at_random_moments_leaves_no_half_received_batch",
        ],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    seconds = round(time.monotonic() - started, 1)
    m = re.search(r"kill -9 trials: seed (\d+), (\d+) trials, \(delay, killed, committed\): (\[.*\])", proc.stdout)
    outcomes = ast.literal_eval(m.group(3)) if m else []
    print(
        json.dumps(
            {
                "bench": "archive_kill",
                "passed": proc.returncode == 0,
                "trials": len(outcomes),
                "killed_before_commit": sum(1 for _, k, c in outcomes if k and not c),
                "finished_before_kill": sum(1 for _, k, _c in outcomes if not k),
                "seed": int(m.group(1)) if m else None,
                "seconds": seconds,
            }
        )
    )
    if proc.returncode != 0:
        sys.stderr.write(proc.stdout[-4000:] + proc.stderr[-2000:])
    return proc.returncode


if __name__ == "__main__":
    raise SystemExit(main())
