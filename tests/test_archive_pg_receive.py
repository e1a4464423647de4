"""Receiving on the PostgreSQL archive: the same verdicts as the SQLite archive, page files in the
content-addressed store verified before the catalog rows commit, several desks at once."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanstation import audit
from scanstation.errors import Refused
from scanstation.transfer import receive
from tests.archive_pg_fixtures import archive_state, assert_whole, desk, finish, make_packages, make_pg_archive
from tests.test_transfer_fixtures import PASSPHRASE, archive_counts, make_world

ROW_COLUMNS = (
    "number",
    "fonds_code",
    "year",
    "retention",
    "title",
    "declared_pages",
    "person_id_number",
    "status",
    "scanned_by",
    "qc_by",
)
PAGE_COLUMNS = (
    "seq",
    "state",
    "file_name",
    "bytes",
    "sha256",
    "sm3",
    "format",
    "width",
    "height",
    "dpi",
    "original_page_no",
    "note",
)


def _verdict(result: dict) -> dict:
    report = result["report"]
    return {
        "decision": result["decision"],
        "checks_passed": result["checks_passed"],
        "digest": result["digest"],
        "failures": sorted((c["check"], c["object"]) for c in report["checks"] if c["status"] == "fail"),
        "sample": {k: result["sample"][k] for k in ("dossiers", "passed", "pass_rate", "item_rates")},
        "accepted": result.get("dossiers_accepted"),
    }


def _rows(catalog):
    dossiers = catalog.query(f"SELECT {', '.join(ROW_COLUMNS)} FROM dossiers ORDER BY number")
    pages = catalog.query(
        f"SELECT d.number, {', '.join('p.' + c for c in PAGE_COLUMNS)} FROM pages p JOIN dossiers d "
        "ON d.id = p.dossier_id"
    )
    # SQLite sorts NULL first, PostgreSQL last (docs/archive-postgresql.md): order here, the same way for both
    pages.sort(key=lambda r: (r["number"], r["seq"] is not None, r["seq"] or 0, r["original_page_no"] or 0))
    return dossiers, pages


@pytest.fixture
def world(tmp_path):
    w = make_world(tmp_path)
    yield w
    w.close()


def _pg(world, tmp_path, pg_dsn):
    return make_pg_archive(tmp_path / "pg-archive", pg_dsn, str(tmp_path / "store"), station_pem=world.station_pem)


def _send(world):
    from scanstation.transfer import outbox

    dest = world.tmp / "share"
    dest.mkdir(exist_ok=True)
    return Path(outbox.send(world.station.s["clerk1"], "X001-2024-001", dest)["path"])


def test_r34_accept_on_postgresql_equals_the_sqlite_archive(world, tmp_path, pg_dsn):
    path = _send(world)
    pg = _pg(world, tmp_path, pg_dsn)
    try:
        checked = [receive.receive(a.s["archivist1"], path, seed=11) for a in (world.archive, pg)]
        assert _verdict(checked[0]) == _verdict(checked[1])
        done = [
            receive.receive(a.s["archivist1"], path, decision="accept", passphrase=PASSPHRASE, seed=11)
            for a in (world.archive, pg)
        ]
        assert _verdict(done[0]) == _verdict(done[1])
        assert done[1]["decision"] == "accepted" and done[1]["kept"].startswith("store:")
        assert _rows(world.archive.home.catalog) == _rows(pg.home.catalog)
        store = pg.home.page_store
        for p in pg.home.catalog.query("SELECT sm3, sha256 FROM pages WHERE state = 'active'"):
            assert store.check(p["sm3"], p["sha256"])
        assert not (pg.home.path / "images").exists() or not any((pg.home.path / "images").iterdir())
        # the package's own record and the signed receipt are store objects named by the package row
        row = pg.home.catalog.one("SELECT kept_path FROM received_packages")
        record = json.loads(store.read(row["kept_path"].split(":", 1)[1]))
        assert "tagmanifest-sm3.txt" in record["files"]
        assert json.loads(store.read(record["receipt"]))["receipt"]["package"]["digest"] == done[1]["digest"]
        assert audit.verify(pg.home.catalog.conn).ok
        # R33 on both: the same package again is refused with the same words, nothing changes
        before = archive_state(pg.home.catalog)
        for a in (world.archive, pg):
            with pytest.raises(Refused) as info:
                receive.receive(a.s["archivist2"], path, decision="accept", passphrase=PASSPHRASE)
            assert "only once" in info.value.en
        assert archive_state(pg.home.catalog) == before
    finally:
        pg.close()


def test_r34_a_failing_package_gets_the_same_verdict_and_nothing_is_stored(world, tmp_path, pg_dsn):
    path = _send(world)
    victim = next(p for p in sorted(path.rglob("*.jpg")))
    victim.write_bytes(victim.read_bytes()[:-10] + b"0123456789")
    pg = _pg(world, tmp_path, pg_dsn)
    try:
        results = []
        for a in (world.archive, pg):
            with pytest.raises(Refused) as info:
                receive.receive(a.s["archivist1"], path, decision="accept", passphrase=PASSPHRASE, seed=3)
            results.append(info.value.en)
        assert results[0] == results[1]
        checked = [receive.receive(a.s["archivist1"], path, seed=3) for a in (world.archive, pg)]
        assert _verdict(checked[0]) == _verdict(checked[1]) and not checked[1]["checks_passed"]
        assert archive_state(pg.home.catalog) == {"packages": 0, "dossiers": 0, "pages": 0, "linked": 0}
        assert not list((tmp_path / "store" / "objects").rglob("*"))
        rejected = [
            receive.receive(a.s["archivist1"], path, decision="reject", passphrase=PASSPHRASE, seed=3)
            for a in (world.archive, pg)
        ]
        assert _verdict(rejected[0]) == _verdict(rejected[1])
        assert rejected[1]["dossiers_returned"] == rejected[0]["dossiers_returned"]
    finally:
        pg.close()


def test_accept_stores_each_image_from_the_checks_own_read(world, tmp_path, pg_dsn, monkeypatch):
    """One read of each image for checking and storing: no image goes through put_file (which reads it
    twice more), the store holds exactly the bytes checked, and no copy is left behind."""
    from scanstation.storage.page_store import PosixPageStore

    path = _send(world)
    pg = _pg(world, tmp_path, pg_dsn)
    stored_by_put = []
    real_put = PosixPageStore.put_file
    monkeypatch.setattr(
        PosixPageStore,
        "put_file",
        lambda self, src, sha, sm3: stored_by_put.append(src) or real_put(self, src, sha, sm3),
    )
    images = sorted(path.rglob("*.jpg"))
    checked_bytes = {p.name: p.read_bytes() for p in images}
    try:
        done = receive.receive(pg.s["archivist1"], path, decision="accept", passphrase=PASSPHRASE, seed=5)
        assert done["decision"] == "accepted"
        assert not [p for p in stored_by_put if Path(p).suffix == ".jpg"]
        store = pg.home.page_store
        pages = pg.home.catalog.query("SELECT file_name, sm3, sha256 FROM pages WHERE state = 'active'")
        assert len(pages) == len(images)
        for p in pages:
            assert store.check(p["sm3"], p["sha256"])
            assert store.read(p["sm3"]) == checked_bytes[p["file_name"]]
        assert not list((tmp_path / "store" / "tmp").iterdir())
    finally:
        pg.close()
