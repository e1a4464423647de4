"""Collecting page-store objects nothing in the catalog names (scanstation.custody.store_sweep).

An interrupted intake that is never retried leaves objects in the store that no page and no record
names. ``archive sweep`` removes those older than an age, never one a page or package names, and never
leaves a desk that commits at the same moment naming a missing object."""

from __future__ import annotations

import io
import os
import time
from pathlib import Path

import pytest
from PIL import Image

from scanstation import audit
from scanstation.cli.main import main
from scanstation.custody import destruction, fixity, store_sweep
from scanstation.errors import InvalidInput, Refused
from tests.archive_custody_fixtures import DUE_OWN, LATE, make_custody_archive, make_custody_packages
from tests.test_archive_pg_custody import _destroy, _pages
from tests.test_transfer_fixtures import PASSPHRASE, PASSWORD

DAY = 24 * 3600


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    return make_custody_packages(tmp_path_factory.mktemp("sweep-packages"), late=True)


def _jpeg(seed: int) -> bytes:
    out = io.BytesIO()
    Image.new("L", (64, 64), seed % 256).save(out, "JPEG")
    return out.getvalue()


def _age(path: Path, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(path, (then, then))


def _named(catalog) -> set[str]:
    return {r["sm3"] for r in catalog.query("SELECT sm3 FROM store_objects")}


@pytest.mark.parametrize("where", ["posix", "s3"])
def test_sweep_removes_only_old_objects_nothing_names(where, packages, tmp_path, pg_dsn, request, monkeypatch):
    paths, pem = packages
    if where == "s3":
        kw = {"endpoint": request.getfixturevalue("s3_endpoint")}
        store_url = f"s3://sweep-{tmp_path.name[-12:].lower().replace('_', '-')}/arch"
    else:
        kw, store_url = {}, str(tmp_path / "store")
    a = make_custody_archive("postgresql", tmp_path / "archive", paths[:2], pem, dsn=pg_dsn, store=store_url, **kw)
    try:
        s, catalog, store = a.s, a.home.catalog, a.home.page_store
        named = _named(catalog)
        orphans = [store.put_bytes(_jpeg(n))[1] for n in range(3)]  # what an interrupted intake left
        assert not named & set(orphans) and all(store.has(o) for o in orphans)
        if where == "s3":  # objects cannot be aged in S3: the sweep runs "four days later"
            later = time.time() + 4 * DAY
            monkeypatch.setattr(store_sweep.time, "time", lambda: later)
        else:
            for sm3 in named | set(orphans[:2]):  # every object old but one orphan written just now
                _age(store.path(sm3), 4 * DAY)
            stale, fresh = store.root / "tmp" / "x.123.ab.part", store.root / "tmp" / "y.456.cd.part"
            stale.write_bytes(b"half"), fresh.write_bytes(b"half")
            _age(stale, 4 * DAY)
        audit_rows = catalog.one("SELECT count(*) AS n FROM audit_log")["n"]
        listed = store_sweep.sweep(s["admin"], dry_run=True)
        expected = sorted(orphans if where == "s3" else orphans[:2])
        assert listed["objects"] == expected and listed["unnamed"] == len(expected)
        assert listed["objects_checked"] == len(named) + len(expected)
        assert all(store.has(o) for o in orphans)  # a dry run changes nothing
        assert catalog.one("SELECT count(*) AS n FROM audit_log")["n"] == audit_rows
        done = store_sweep.sweep(s["admin"])
        assert sorted(done["removed"]) == expected and done["kept"] == []
        assert done["bytes"] == sum(len(_jpeg(n)) for n in range(3) if (orphans[n] in expected))
        assert not any(store.has(o) for o in expected)
        assert all(store.has(sm3) for sm3 in named)  # every page and record kept
        if where == "posix":
            assert store.has(orphans[2]) and done["tmp_removed"] == 1 and not stale.exists() and fresh.exists()
        assert fixity.check(s["auditor1"]).ok and audit.verify(catalog.conn).ok
        entry = catalog.one("SELECT * FROM audit_log WHERE action = 'store.remove'")
        assert entry["user"] == "admin" and entry["object_id"] == store.url
        assert store_sweep.sweep(s["admin"])["removed"] == []  # nothing left to do
    finally:
        a.close()


def test_an_object_swept_while_a_desk_receives_it_is_stored_again(packages, tmp_path, pg_dsn, monkeypatch):
    """A desk retrying an interrupted intake finds its objects already in the store and skips writing them;
    a sweep then removes them (nothing names them yet). Under the store-removal lock the desk sees that
    when it commits, and stores them again: no page names a missing object."""
    from scanstation.storage.page_store import PosixPageStore
    from scanstation.transfer import receive

    paths, pem = packages
    a = make_custody_archive("postgresql", tmp_path / "archive", paths[:2], pem, dsn=pg_dsn, store=str(tmp_path / "s"))
    try:
        s, catalog, store = a.s, a.home.catalog, a.home.page_store
        own = _pages(catalog, DUE_OWN)
        images = [store.read(p["sm3"]) for p in own]  # LATE's pages are these bytes
        _destroy(s, [DUE_OWN])
        assert not any(store.has(p["sm3"]) for p in own)
        for data in images:  # the interrupted intake of LATE stored its images, then died
            _age(store.path(store.put_bytes(data)[1]), 4 * DAY)
        real_put = PosixPageStore.put_staged
        seen = []

        def put_then_sweep(self, tmp, size, sha256, sm3):
            size = real_put(self, tmp, size, sha256, sm3)  # the object is there: nothing written
            seen.append(sm3)
            if len(seen) == 2:  # both found in the store, not yet named: the sweep takes them
                assert sorted(store_sweep.sweep(s["admin"])["removed"]) == sorted(p["sm3"] for p in own)
                assert not any(store.has(p["sm3"]) for p in own)
            return size

        monkeypatch.setattr(PosixPageStore, "put_staged", put_then_sweep)
        done = receive.receive(s["archivist1"], paths[2], decision="accept", passphrase=PASSPHRASE, seed=1)
        monkeypatch.setattr(PosixPageStore, "put_staged", real_put)
        assert done["decision"] == "accepted" and set(seen[:2]) == {p["sm3"] for p in own}
        for p in _pages(catalog, LATE):
            assert store.check(p["sm3"], p["sha256"])
        assert fixity.check(s["auditor1"]).ok and audit.verify(catalog.conn).ok
        assert store_sweep.sweep(s["admin"])["removed"] == []
    finally:
        a.close()


def test_a_sweep_killed_between_its_two_steps_is_finished_by_the_next(packages, tmp_path, pg_dsn, monkeypatch):
    paths, pem = packages
    a = make_custody_archive("postgresql", tmp_path / "archive", paths[:1], pem, dsn=pg_dsn, store=str(tmp_path / "s"))
    try:
        s, catalog, store = a.s, a.home.catalog, a.home.page_store
        orphan = store.put_bytes(_jpeg(7))[1]
        _age(store.path(orphan), 4 * DAY)

        class Killed(Exception):
            pass

        def killed(*args, **kw):
            raise Killed

        files_type = type(a.home.page_files())
        real_finish = files_type.finish_removals
        monkeypatch.setattr(files_type, "finish_removals", killed)
        with pytest.raises(Killed):
            store_sweep.sweep(s["admin"])
        monkeypatch.setattr(files_type, "finish_removals", real_finish)
        assert store.has(orphan)
        assert catalog.one("SELECT state, register_no FROM store_removals WHERE sm3 = ?", (orphan,)) == {
            "state": "pending",
            "register_no": "store-sweep",
        }
        assert store_sweep.sweep(s["admin"])["removed"] == [orphan]
        assert not store.has(orphan) and audit.verify(catalog.conn).ok
        # a destruction's own queue-finishing leaves nothing a page or record names
        assert destruction.finish_removals(s["archivist1"]) == {"removed": [], "kept": []}
    finally:
        a.close()


def test_sweep_refusals_are_plain_and_change_nothing(packages, tmp_path, pg_dsn, capsys, monkeypatch):
    paths, pem = packages
    a = make_custody_archive("postgresql", tmp_path / "archive", paths[:1], pem, dsn=pg_dsn, store=str(tmp_path / "s"))
    lite = make_custody_archive("sqlite", tmp_path / "lite", [], pem)
    try:
        s, catalog, store = a.s, a.home.catalog, a.home.page_store
        orphan = store.put_bytes(_jpeg(9))[1]
        _age(store.path(orphan), 4 * DAY)
        with pytest.raises(Refused):
            store_sweep.sweep(s["archivist1"])  # the administrator's
        for bad in ("0.5", "abc", "-3", "nan"):
            with pytest.raises(InvalidInput):
                store_sweep.sweep(s["admin"], bad)
        with pytest.raises(InvalidInput):
            store_sweep.sweep(lite.s["admin"])
        assert store.has(orphan) and catalog.one("SELECT count(*) AS n FROM store_removals")["n"] == 0
        # the command line: the same, with plain messages and distinct exit codes
        monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
        home = str(a.home.path)
        assert main(["--home", home, "--user", "archivist1", "--lang", "en", "archive", "sweep"]) != 0
        assert main(["--home", home, "--user", "admin", "--lang", "en", "archive", "sweep", "--older-than", "x"]) != 0
        err = capsys.readouterr().err
        assert "Traceback" not in err and "--older-than" in err
        assert main(["--home", home, "--user", "admin", "--lang", "en", "archive", "sweep", "--dry-run"]) == 0
        out = capsys.readouterr().out
        assert "1 of" in out and orphan in out and store.has(orphan)
        assert main(["--home", home, "--user", "admin", "--lang", "en", "archive", "sweep"]) == 0
        assert "Removed 1 objects" in capsys.readouterr().out and not store.has(orphan)
    finally:
        a.close()
        lite.close()
