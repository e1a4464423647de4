"""``scanstation archive init``: an archive home naming a PostgreSQL catalog and a page store."""

from __future__ import annotations

import json
import os

import pytest

from scanstation import audit
from scanstation.cli.main import main
from scanstation.home import Home
from tests.conftest import PASSWORD


def _init(tmp_path, home, dsn, store, *extra):
    return main(
        [
            "--home",
            str(home),
            "--json",
            "archive",
            "init",
            "--station",
            "A01",
            "--admin",
            "arch_admin",
            "--db",
            dsn,
            "--store",
            str(store),
            *extra,
        ]
    )


def test_archive_init_creates_schema_store_and_home_and_a_second_desk_joins(tmp_path, pg_dsn, cli_env, capsys):
    assert _init(tmp_path, tmp_path / "desk1", pg_dsn, tmp_path / "store") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["backend"] == "postgresql"
    config = json.loads((tmp_path / "desk1" / "archive.json").read_text())
    assert config["catalog"]["dsn"] == pg_dsn and config["store"]["url"] == str(tmp_path / "store")
    assert (tmp_path / "store" / "objects").is_dir()
    assert not (tmp_path / "desk1" / "catalog.sqlite").exists()
    # a second desk's home joins the same archive; both homes are open at once
    assert (
        main(
            [
                "--home",
                str(tmp_path / "desk2"),
                "archive",
                "init",
                "--station",
                "A02",
                "--fonds",
                "A01",
                "--admin",
                "arch_admin",
                "--db",
                pg_dsn,
                "--store",
                str(tmp_path / "store"),
            ]
        )
        == 0
    )
    h1, h2 = Home.open(tmp_path / "desk1"), Home.open(tmp_path / "desk2")
    try:
        assert h1.info.backend == h2.info.backend == "postgresql"
        assert [r["action"] for r in h1.catalog.query("SELECT action FROM audit_log ORDER BY id")] == [
            "home.init",
            "home.join",
        ]
        assert audit.verify(h2.catalog.conn).ok
        entries = " ".join(r["after"] for r in h1.catalog.query("SELECT after FROM audit_log"))
        assert "postgresql://" not in entries  # the connection string stays out of the audit
        assert h1.page_store.url == str(tmp_path / "store")
    finally:
        h1.close()
        h2.close()


def test_a_password_in_the_connection_string_is_refused_and_nothing_written(tmp_path, pg_dsn, cli_env, capsys):
    dsn = pg_dsn.replace("scanstation@", "scanstation:hunter2@")
    assert _init(tmp_path, tmp_path / "arch", dsn, tmp_path / "store") != 0
    err = capsys.readouterr().err
    assert "hunter2" not in err and ("PGPASSWORD" in err)
    assert not (tmp_path / "arch").exists() and not (tmp_path / "store").exists()


def test_credentials_file_must_be_0600(tmp_path, pg_dsn, cli_env, capsys):
    cred = tmp_path / "cred.env"
    cred.write_text("PGPASSWORD=unused\n")
    os.chmod(cred, 0o644)
    assert _init(tmp_path, tmp_path / "arch", pg_dsn, tmp_path / "store", "--credentials", str(cred)) != 0
    assert "0600" in capsys.readouterr().err
    os.chmod(cred, 0o600)
    assert _init(tmp_path, tmp_path / "arch", pg_dsn, tmp_path / "store", "--credentials", str(cred)) == 0
    assert "unused" not in (tmp_path / "arch" / "archive.json").read_text()


def test_bad_input_is_a_plain_message(tmp_path, pg_dsn, cli_env, capsys):
    assert _init(tmp_path, tmp_path / "a", "mysql://x", tmp_path / "store") != 0
    assert _init(tmp_path, tmp_path / "b", pg_dsn, "relative/store") != 0
    unreachable = f"postgresql://u@/db?host={tmp_path}&port=5999&connect_timeout=2"
    assert _init(tmp_path, tmp_path / "c", unreachable, tmp_path / "store") != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists() and not (tmp_path / "c").exists()


def test_a_wrong_administrator_cannot_join(tmp_path, pg_dsn, cli_env, capsys, monkeypatch):
    assert _init(tmp_path, tmp_path / "desk1", pg_dsn, tmp_path / "store") == 0
    monkeypatch.setenv("SCANSTATION_NEW_PASSWORD", PASSWORD + "x")
    assert _init(tmp_path, tmp_path / "desk2", pg_dsn, tmp_path / "store") != 0
    assert not (tmp_path / "desk2").exists()
