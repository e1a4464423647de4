"""Backups of an archive on PostgreSQL (R39): pg_dump + the store's objects, a verified restore into a
new database and store, and damaged backups refused with a plain message before anything is written."""

from __future__ import annotations

import json
import os
from pathlib import Path

import psycopg
import pytest

from scanstation import audit
from scanstation.cli.main import main
from scanstation.custody import backup as station_backup
from scanstation.custody import backups, pg_backup
from scanstation.errors import CheckFailed, Refused
from scanstation.home import Home
from scanstation.transfer import receive
from tests.archive_pg_fixtures import make_packages, make_pg_archive
from tests.test_transfer_fixtures import PASSPHRASE, PASSWORD

SECRET = "pg-secret-Zq7w"  # a password the environment carries: it must appear nowhere in a backup


def _tables(dsn: str) -> dict[str, list]:
    """Every row of every table, in a stable order."""
    with psycopg.connect(dsn) as conn:
        names = pg_backup._base_tables(conn)
        return {
            t: sorted(map(repr, conn.execute(f'SELECT * FROM "{t}"').fetchall()))  # noqa: S608 (names from the catalog)
            for t in names
        }


def _chain(dsn: str) -> list[tuple]:
    with psycopg.connect(dsn) as conn:
        return conn.execute("SELECT * FROM audit_log ORDER BY id").fetchall()


@pytest.fixture
def filled(tmp_path, pg_dsn, monkeypatch):
    """An archive on PostgreSQL that received two packages."""
    monkeypatch.setenv("PGPASSWORD", SECRET)  # the private cluster trusts its socket; libpq still sees this
    station, pem, paths = make_packages(tmp_path, 2)
    pg = make_pg_archive(tmp_path / "arch", pg_dsn, str(tmp_path / "store"), station_pem=pem)
    for path in paths:
        receive.receive(pg.s["archivist1"], path, decision="accept", passphrase=PASSPHRASE, seed=5)
    station.close()
    yield pg
    pg.close()


def test_r39_pg_backup_restores_into_a_new_database_and_store_equal(filled, tmp_path, pg_cluster, pg_dsn, capsys):
    pg = filled
    dest = tmp_path / "usb"
    created = backups.create(pg.s["admin"], dest)
    gen = dest / created.generation
    manifest = station_backup.load_manifest(gen)
    assert manifest["backend"] == "postgresql" and (gen / pg_backup.DUMP_FILE).is_file()
    objects = [e for e in manifest["files"] if e["path"].startswith("store/")]
    stored = pg.home.catalog.query("SELECT sm3, bytes FROM store_objects")
    assert sorted((e["sm3"], e["bytes"]) for e in objects) == sorted((r["sm3"], r["bytes"]) for r in stored)
    assert all(Path(e["path"]).name == e["sm3"] for e in objects)
    assert manifest["tables"]["pages"] == 8 and manifest["tables"]["dossiers"] == 4
    assert "home/station.json" in {e["path"] for e in manifest["files"]}
    before = _tables(pg_dsn)
    chain_before = _chain(pg_dsn)
    entry = pg.home.catalog.one("SELECT after FROM audit_log WHERE action = 'backup.create'")
    assert json.loads(entry["after"])["manifest_sm3"]
    assert backups.verify(pg.s["admin"], dest).ok
    # no secret anywhere in the generation
    for path in gen.rglob("*"):
        if path.is_file():
            assert SECRET.encode() not in path.read_bytes(), path

    new_db = pg_cluster.create_database("restored_a")
    target = tmp_path / "restored-home"
    monkeypatch_env = {"SCANSTATION_USER": "admin", "SCANSTATION_PASSWORD": PASSWORD, "SCANSTATION_LANG": "en"}
    old = {k: os.environ.get(k) for k in monkeypatch_env}
    os.environ.update(monkeypatch_env)
    try:
        code = main(
            [
                "--json",
                "backup",
                "restore",
                str(dest),
                "--to",
                str(target),
                "--db",
                new_db,
                "--store",
                str(tmp_path / "store2"),
            ]
        )
    finally:
        for k, v in old.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
    out = capsys.readouterr()
    assert code == 0, out
    result = json.loads(out.out.strip().splitlines()[-1])
    assert result["audit_chain_ok"] and result["objects"] == len(objects)
    assert SECRET not in out.out + out.err
    after = _tables(new_db)
    for table, rows in before.items():
        if table in ("audit_log", "backup_runs"):  # the restore adds its own entry; compared below
            continue
        assert after[table] == rows, table
    # the restored chain is the one in the dump (before the backup's own entry) plus the restore's entry
    dumped = manifest["tables"]["audit_log"]
    assert chain_before[-1][4] == "backup.create" and dumped == len(chain_before) - 1
    restored_chain = _chain(new_db)
    assert restored_chain[:dumped] == chain_before[:dumped] and len(restored_chain) == dumped + 1
    with Home.open(target) as restored:
        assert restored.info.backend == "postgresql"
        assert audit.verify(restored.catalog.conn).ok
        assert restored.catalog.one("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1")["action"] == (
            "backup.restore"
        )
        store = restored.page_store
        for p in restored.catalog.query("SELECT sm3, sha256 FROM pages WHERE state = 'active'"):
            assert store.check(p["sm3"], p["sha256"])
    assert json.loads((target / "archive.json").read_text())["catalog"]["dsn"] == new_db
    # a second generation links the unchanged objects instead of copying them
    second = backups.create(pg.s["admin"], dest)
    assert second.linked == len(objects)
    a = dest / created.generation / objects[0]["path"]
    b = dest / second.generation / objects[0]["path"]
    assert os.stat(a).st_ino == os.stat(b).st_ino


def test_r39_pg_damaged_dump_or_missing_object_is_refused_before_anything_is_written(
    filled, tmp_path, pg_cluster, capsys
):
    pg = filled
    dest = tmp_path / "usb"
    created = backups.create(pg.s["admin"], dest)
    gen = dest / created.generation
    new_db = pg_cluster.create_database("restored_b")

    def attempt():
        return backups.restore(dest, tmp_path / "t", "admin", PASSWORD, db=new_db, store=str(tmp_path / "store2"))

    dump = gen / pg_backup.DUMP_FILE
    good = dump.read_bytes()
    dump.write_bytes(good[:200] + bytes([good[200] ^ 0xFF]) + good[201:])
    with pytest.raises(CheckFailed) as info:
        attempt()
    assert "archive.dump" in info.value.en and "Nothing was restored" in info.value.en
    verified = backups.verify(pg.s["admin"], dest)
    assert not verified.ok and verified.mismatched[0]["path"] == "archive.dump"
    # the command line says it plainly and fails
    env = {"SCANSTATION_USER": "admin", "SCANSTATION_PASSWORD": PASSWORD, "SCANSTATION_LANG": "en"}
    with pytest.MonkeyPatch.context() as mp:
        for k, v in env.items():
            mp.setenv(k, v)
        assert main(["--home", str(pg.home.path), "backup", "verify", str(dest)]) == 1
    captured = capsys.readouterr()
    out = captured.out + captured.err
    assert "Backup verification FAILED: 1 mismatched" in out, out and "archive.dump" in out and "Traceback" not in out
    dump.write_bytes(good)
    # a dump whose bytes match its manifest but that pg_restore cannot read (a broken pg_dump run) is found too
    manifest_path = gen / "manifest.json"
    manifest = json.loads(manifest_path.read_text("utf-8"))
    junk = b"not a custom-format dump"
    dump.write_bytes(junk)
    import hashlib

    entry = next(e for e in manifest["files"] if e["path"] == "archive.dump")
    entry.update(bytes=len(junk), sha256=hashlib.sha256(junk).hexdigest(), sm3=hashlib.new("sm3", junk).hexdigest())
    manifest_path.write_text(json.dumps(manifest), "utf-8")
    with pytest.raises(CheckFailed) as info:
        attempt()
    assert "cannot be read" in info.value.en and "Nothing was restored" in info.value.en
    dump.write_bytes(good)
    entry.update(bytes=len(good), sha256=hashlib.sha256(good).hexdigest(), sm3=hashlib.new("sm3", good).hexdigest())
    manifest_path.write_text(json.dumps(manifest), "utf-8")

    victim = next(p for p in (gen / "store").rglob("*") if p.is_file())
    victim.unlink()
    with pytest.raises(CheckFailed) as info:
        attempt()
    assert victim.name in info.value.en and "missing" in info.value.en
    # nothing was written: the database is still empty, no store, no home
    with psycopg.connect(new_db) as conn:
        assert pg_backup._base_tables(conn) == []
    assert not (tmp_path / "t").exists() and not (tmp_path / "store2").exists()


def test_r39_pg_restore_refuses_a_wrong_user_a_full_database_and_no_target(
    filled, tmp_path, pg_dsn, pg_cluster, capsys, monkeypatch
):
    from scanstation.errors import InvalidInput

    pg = filled
    dest = tmp_path / "usb"
    for k, v in {"SCANSTATION_USER": "admin", "SCANSTATION_PASSWORD": PASSWORD, "SCANSTATION_LANG": "en"}.items():
        monkeypatch.setenv(k, v)
    assert main(["--home", str(pg.home.path), "backup", "create", str(dest)]) == 0  # the command line, as staff use it
    assert main(["--home", str(pg.home.path), "--json", "backup", "status"]) == 0
    out = capsys.readouterr().out
    assert "Backup gen-" in out and '"kind": "create"' in out and SECRET not in out
    for k in ("SCANSTATION_USER", "SCANSTATION_PASSWORD"):
        monkeypatch.delenv(k)
    store2 = str(tmp_path / "store2")
    new_db = pg_cluster.create_database("restored_c")
    cases = [
        (Refused, "Wrong user name or password", ("admin", "wrong-password-1", new_db)),
        (Refused, "Only an administrator", ("archivist1", PASSWORD, new_db)),
        (Refused, "is not empty", ("admin", PASSWORD, pg_dsn)),  # the live archive's own database
        (InvalidInput, "--db", ("admin", PASSWORD, None)),
    ]
    for kind, words, (user, password, db) in cases:
        with pytest.raises(kind) as info:
            backups.restore(dest, tmp_path / "t", user, password, db=db, store=store2 if db else None)
        assert words in info.value.en and info.value.zh
    with psycopg.connect(new_db) as conn:
        assert pg_backup._base_tables(conn) == []
    assert not (tmp_path / "t").exists() and not (tmp_path / "store2").exists()


def test_r39_pg_backup_of_an_s3_store_restores_into_a_folder(tmp_path, pg_dsn, pg_cluster, s3_endpoint):
    station, pem, paths = make_packages(tmp_path, 1)
    station.close()
    pg = make_pg_archive(tmp_path / "arch", pg_dsn, "s3://backup-test/archive", endpoint=s3_endpoint, station_pem=pem)
    try:
        receive.receive(pg.s["archivist1"], paths[0], decision="accept", passphrase=PASSPHRASE, seed=5)
        created = backups.create(pg.s["admin"], tmp_path / "usb")
        objects = pg.home.catalog.one("SELECT count(*) AS n FROM store_objects")["n"]
        manifest = station_backup.load_manifest(tmp_path / "usb" / created.generation)
        assert manifest["store"]["kind"] == "s3" and manifest["store"]["objects"] == objects > 4
        assert not created.warnings
    finally:
        pg.close()
    new_db = pg_cluster.create_database("restored_s3")
    result = backups.restore(
        tmp_path / "usb", tmp_path / "t", "admin", PASSWORD, db=new_db, store=str(tmp_path / "store2")
    )
    assert result["objects"] == objects and result["audit_chain_ok"]
    with Home.open(tmp_path / "t") as restored:
        store = restored.page_store
        assert store.url == str(tmp_path / "store2")
        for p in restored.catalog.query("SELECT sm3, sha256 FROM pages WHERE state = 'active'"):
            assert store.check(p["sm3"], p["sha256"])
