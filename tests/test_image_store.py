import os
import random
import signal
import subprocess
import sys
import time

from scanstation.home import Home, now_iso
from scanstation.storage.files import file_digests
from scanstation.storage.image_store import ImageStore

NUMBER = "X001-ZY·DJ·2024·D100-0001-001"

WRITER = r"""
import os, sys
import scanstation.bootstrap
from scanstation.home import Home, now_iso
from scanstation.storage.image_store import ImageStore
home = Home.open(sys.argv[1])
store = ImageStore(home.path)
did = home.catalog.one("SELECT id FROM dossiers")["id"]
seq = (home.catalog.one("SELECT max(seq) m FROM pages")["m"] or 0)
print("ready", flush=True)
while True:
    seq += 1
    name = f"{sys.argv[2]}-{seq:04d}.jpg"
    data = os.urandom(200_000)
    stored = store.write(sys.argv[2], name, data)        # durable file first
    with home.catalog.write() as conn:                     # then its row
        conn.execute("INSERT INTO pages(dossier_id, seq, file_name, bytes, sha256, sm3, created_at)"
                     " VALUES (?, ?, ?, ?, ?, ?, ?)", (did, seq, name, stored.bytes, stored.sha256, stored.sm3, now_iso()))
"""


def _home_with_dossier(path):
    h = Home.create(path, "X001", "S01")
    with h.catalog.write() as conn:
        conn.execute(
            "INSERT INTO dossiers(number, fonds_code, year, retention, created_at, updated_at)"
            " VALUES (?, 'X001', 2024, 'D100', ?, ?)",
            (NUMBER, now_iso(), now_iso()),
        )
    return h


def test_write_is_atomic_and_checksummed(tmp_path):
    h = _home_with_dossier(tmp_path / "h")
    store = ImageStore(h.path)
    stored = store.write(NUMBER, f"{NUMBER}-0001.jpg", b"abc" * 1000)
    assert stored.path.read_bytes() == b"abc" * 1000
    assert file_digests(stored.path) == (3000, stored.sha256, stored.sm3)
    assert not list(stored.path.parent.glob("*.part"))
    h.close()


def test_reconcile_quarantines_orphans_and_reports_missing(tmp_path):
    h = _home_with_dossier(tmp_path / "h")
    store = ImageStore(h.path)
    did = h.catalog.one("SELECT id FROM dossiers")["id"]
    kept = store.write(NUMBER, f"{NUMBER}-0001.jpg", b"kept")
    store.write(NUMBER, f"{NUMBER}-0002.jpg", b"orphan")
    (store.dossier_dir(NUMBER) / f"{NUMBER}-0003.jpg.part").write_bytes(b"half")
    with h.catalog.write() as conn:
        for seq, name in [(1, kept.path.name), (4, f"{NUMBER}-0004.jpg")]:
            conn.execute(
                "INSERT INTO pages(dossier_id, seq, file_name, created_at) VALUES (?, ?, ?, ?)",
                (did, seq, name, now_iso()),
            )
    report = store.reconcile(h.catalog)
    assert report.orphan_files == [f"{NUMBER}/{NUMBER}-0002.jpg"]
    assert report.partial_files == [f"{NUMBER}/{NUMBER}-0003.jpg.part"]
    assert [m["seq"] for m in report.missing_files] == [4]
    quarantined = sorted(p.name for p in (tmp_path / "h" / "quarantine").rglob("*") if p.is_file())
    assert quarantined == [f"{NUMBER}-0002.jpg", f"{NUMBER}-0003.jpg.part"]  # moved, never deleted
    assert kept.path.exists()
    h.close()


def test_kill9_between_image_write_and_commit_leaves_consistent_home(tmp_path):
    """kill -9 at random moments while pages are written; after reconcile every row has its exact file."""
    h = _home_with_dossier(tmp_path / "h")
    h.close()
    rng = random.Random(7)
    for trial in range(8):
        proc = subprocess.Popen(
            [sys.executable, "-c", WRITER, str(tmp_path / "h"), NUMBER], stdout=subprocess.PIPE, text=True
        )
        assert proc.stdout.readline().strip() == "ready"
        time.sleep(rng.uniform(0.05, 0.4))
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait()
        h = Home.open(tmp_path / "h")
        ImageStore(h.path).reconcile(h.catalog)
        rows = h.catalog.query("SELECT seq, file_name, bytes, sha256, sm3 FROM pages ORDER BY seq")
        assert rows, "the writer stored nothing"
        assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
        for r in rows:
            path = ImageStore(h.path).path(NUMBER, r["file_name"])
            assert file_digests(path) == (r["bytes"], r["sha256"], r["sm3"])
        on_disk = {p.name for p in ImageStore(h.path).dossier_dir(NUMBER).iterdir()}
        assert on_disk == {r["file_name"] for r in rows}
        h.close()
