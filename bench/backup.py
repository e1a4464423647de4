"""Backups: a full generation, an incremental one with nothing changed, and a verify, against a
plain copy of the same home (``cp -a``, no checksums) measured in the same run.

    .venv/bin/python bench/backup.py [--quick]

Prints one JSON line: files, MB, seconds and MB/s of each step, and the ratios
full / cp (price of hashing SHA-256 + SM3 and the manifest) and incremental / full.
Files are read once before timing so every step reads from the page cache.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import scanstation.bootstrap  # noqa: E402,F401 (every domain's catalog migrations)
from scanstation.custody import backup  # noqa: E402
from scanstation.home import Home, now_iso  # noqa: E402
from scanstation.service import Session  # noqa: E402
from scanstation.storage.image_store import ImageStore  # noqa: E402
from scanstation.users import hash_password, row_to_user  # noqa: E402


def build_home(root: Path, dossiers: int, pages: int, page_bytes: int) -> Home:
    home = Home.create(root / "home", "X001", "S01")
    with home.catalog.write() as conn:
        conn.execute(
            "INSERT INTO users(name, roles, password_hash, created_at) VALUES ('admin', 'admin', ?, ?)",
            (hash_password("benchmark-pw"), now_iso()),
        )
    store = ImageStore(home.path)
    for d in range(1, dossiers + 1):
        number = f"X001-ZY·DJ·2020·D30-0001-{d:03d}"
        with home.catalog.write() as conn:
            did = conn.execute(
                "INSERT INTO dossiers(number, fonds_code, year, retention, status, created_at, updated_at)"
                " VALUES (?, 'X001', 2020, 'D30', 'approved', ?, ?)",
                (number, now_iso(), now_iso()),
            ).lastrowid
            for seq in range(1, pages + 1):
                name = f"{number}-{seq:04d}.jpg"
                stored = store.write(number, name, os.urandom(page_bytes))
                conn.execute(
                    "INSERT INTO pages(dossier_id, seq, file_name, bytes, sha256, sm3, created_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (did, seq, name, stored.bytes, stored.sha256, stored.sm3, now_iso()),
                )
    return home


def warm(path: Path) -> None:
    for p in path.rglob("*"):
        if p.is_file():
            p.read_bytes()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    dossiers, pages, page_bytes = (10, 20, 200_000) if args.quick else (40, 50, 250_000)
    root = Path(tempfile.mkdtemp(prefix="bench-backup-"))
    try:
        home = build_home(root, dossiers, pages, page_bytes)
        session = Session(home, row_to_user(home.catalog.one("SELECT * FROM users WHERE name = 'admin'")))
        warm(Path(home.path))
        total_mb = sum(p.stat().st_size for p in Path(home.path).rglob("*") if p.is_file()) / 1e6

        t = time.perf_counter()
        subprocess.run(["cp", "-a", str(home.path), str(root / "cp-copy")], check=True)
        cp_s = time.perf_counter() - t

        dest = root / "dest"
        t = time.perf_counter()
        full = backup.create(session, dest)
        full_s = time.perf_counter() - t

        t = time.perf_counter()
        incremental = backup.create(session, dest)
        inc_s = time.perf_counter() - t

        t = time.perf_counter()
        verified = backup.verify(session, dest)
        verify_s = time.perf_counter() - t
        home.close()
        print(
            json.dumps(
                {
                    "bench": "backup",
                    "quick": args.quick,
                    "files": full.files,
                    "mb": round(total_mb, 1),
                    "cp_a_s": round(cp_s, 2),
                    "full_s": round(full_s, 2),
                    "full_mb_s": round(total_mb / full_s, 1),
                    "incremental_s": round(inc_s, 2),
                    "incremental_linked": incremental.linked,
                    "incremental_copied": incremental.copied,
                    "verify_s": round(verify_s, 2),
                    "verify_ok": verified.ok,
                    "verify_files": verified.files,
                    "ratio_full_to_cp": round(full_s / cp_s, 2),
                    "ratio_incremental_to_full": round(inc_s / full_s, 3),
                }
            )
        )
    finally:
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
