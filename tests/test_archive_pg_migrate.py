"""``scanstation archive migrate``: a SQLite archive home into PostgreSQL and the page store."""

from __future__ import annotations

import json

import pytest

from scanstation import audit, search
from scanstation.cli.main import main
from scanstation.home import Home
from scanstation.storage.page_store import PosixPageStore
from scanstation.transfer import outbox, receive
from tests.archive_pg_fixtures import make_pg_archive
from tests.test_transfer_fixtures import PASSPHRASE, PASSWORD, make_world


@pytest.fixture
def sqlite_archive(tmp_path):
    world = make_world(tmp_path)
    dest = tmp_path / "share"
    dest.mkdir()
    path = outbox.send(world.station.s["clerk1"], "X001-2024-001", dest)["path"]
    receive.receive(world.archive.s["archivist1"], path, decision="accept", passphrase=PASSPHRASE, seed=4)
    source = world.archive.home.path
    counts = {
        t: world.archive.home.catalog.one(f"SELECT count(*) AS n FROM {t}")["n"]
        for t in ("dossiers", "pages", "received_packages", "audit_log")
    }
    world.close()
    return source, counts


def _migrate(target, source, env, capsys):
    env.setenv("SCANSTATION_USER", "admin")
    env.setenv("SCANSTATION_PASSWORD", PASSWORD)
    code = main(["--home", str(target), "--json", "archive", "migrate", "--from", str(source)])
    captured = capsys.readouterr()
    return code, (json.loads(captured.out) if code == 0 else None), captured.err


def test_migrate_moves_rows_files_and_the_audit_chain_and_refuses_a_second_time(
    tmp_path, pg_dsn, sqlite_archive, monkeypatch, capsys
):
    source, counts = sqlite_archive
    target = make_pg_archive(tmp_path / "arch", pg_dsn, str(tmp_path / "store"))
    target.close()
    code, result, err = _migrate(tmp_path / "arch", source, monkeypatch, capsys)
    assert code == 0, err
    assert result["files"] == 7 and result["rows"]["dossiers"] == counts["dossiers"]
    with Home.open(tmp_path / "arch") as home, Home.open(source) as src:
        for table in ("dossiers", "pages", "received_packages"):
            assert home.catalog.one(f"SELECT count(*) AS n FROM {table}")["n"] == counts[table]
        for p in home.catalog.query("SELECT sm3, sha256 FROM pages WHERE state = 'active'"):
            assert home.page_store.check(p["sm3"], p["sha256"])
        chain = audit.verify(home.catalog.conn)
        assert chain.ok and chain.entries == counts["audit_log"] + 1
        last = home.catalog.one("SELECT action, after FROM audit_log ORDER BY id DESC LIMIT 1")
        assert last["action"] == "archive.migrated" and "home.init" in last["after"]
        kept = home.catalog.one("SELECT kept_path FROM received_packages")["kept_path"]
        assert kept.startswith("store:") and "tagmanifest-sm3.txt" in home.page_store.read(kept[6:]).decode()
        hits = [(h.number, h.field) for h in search.search(home.catalog, "参保人员")]
        assert hits and hits == [(h.number, h.field) for h in search.search(src.catalog, "参保人员")]
        # new rows after the migration get new ids
        assert (
            home.catalog.one("SELECT nextval(pg_get_serial_sequence('dossiers', 'id')) AS n")["n"] > counts["dossiers"]
        )
    code, _, err = _migrate(tmp_path / "arch", source, monkeypatch, capsys)
    assert code != 0 and "已迁入" in err


def test_an_interrupted_migration_commits_nothing_and_runs_again(tmp_path, pg_dsn, sqlite_archive, monkeypatch, capsys):
    from scanstation.service import Session
    from scanstation.transfer.migrate_archive import migrate
    from scanstation.users import authenticate

    source, counts = sqlite_archive
    target = make_pg_archive(tmp_path / "arch", pg_dsn, str(tmp_path / "store"))
    real = PosixPageStore.put_file
    calls = []

    def failing(self, src, sha256, sm3):
        calls.append(sm3)
        if len(calls) == 4:
            raise OSError(28, "No space left on device")
        return real(self, src, sha256, sm3)

    monkeypatch.setattr(PosixPageStore, "put_file", failing)
    session = Session(target.home, authenticate(target.home.catalog, "admin", PASSWORD))
    from scanstation.errors import StorageError

    with pytest.raises(StorageError) as exc:
        migrate(session, source)
    assert "full" in exc.value.en
    assert target.home.catalog.one("SELECT count(*) AS n FROM dossiers")["n"] == 0
    assert [r["action"] for r in target.home.catalog.query("SELECT action FROM audit_log")] == [
        "home.init",
        "keys.generate",
    ]
    monkeypatch.setattr(PosixPageStore, "put_file", real)
    result = migrate(session, source)
    assert result["rows"]["pages"] == counts["pages"]
    assert audit.verify(target.home.catalog.conn).ok
    target.close()


def test_a_damaged_source_file_stops_the_migration_with_its_name(tmp_path, pg_dsn, sqlite_archive, monkeypatch, capsys):
    source, _ = sqlite_archive
    victim = sorted((source / "images").rglob("*.jpg"))[0]
    victim.write_bytes(b"not the page")
    target = make_pg_archive(tmp_path / "arch", pg_dsn, str(tmp_path / "store"))
    target.close()
    code, _, err = _migrate(tmp_path / "arch", source, monkeypatch, capsys)
    assert code != 0 and victim.name in err and "Traceback" not in err
    with Home.open(tmp_path / "arch") as home:
        assert home.catalog.one("SELECT count(*) AS n FROM dossiers")["n"] == 0


def test_migrate_refuses_a_station_home_and_a_sqlite_target(tmp_path, pg_dsn, sqlite_archive, monkeypatch, capsys):
    source, _ = sqlite_archive
    code, _, err = _migrate(source, source, monkeypatch, capsys)  # target is not on PostgreSQL
    assert code != 0 and "PostgreSQL" in err and "Traceback" not in err
