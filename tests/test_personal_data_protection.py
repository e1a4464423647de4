"""R40 across the station: with protection on, personal fields are stored encrypted everywhere they
are written, shown (masked) only when the key is unlocked at login."""

import sqlite3

from scanstation.catalog_import import import_catalog
from scanstation.cli.main import main
from scanstation.custody import protection
from scanstation.resources import resource
from tests.conftest import PASSWORD

PASSPHRASE = "protect-passphrase-1"
NUMBER = "X001-ZY·DJ·2024·D100-0001-001"


def test_r40_import_stores_personal_fields_encrypted_and_show_reveals_masked(home, sessions, capsys, monkeypatch):
    protection.enable(sessions["admin"], PASSPHRASE)
    protection.remember(home, protection.unlock(home, PASSPHRASE))
    import_catalog(sessions["clerk1"], resource("sample-catalog.xlsx"))
    raw = (
        sqlite3.connect(home.catalog.path)
        .execute("SELECT person_name, person_id_number FROM dossiers WHERE number = ?", (NUMBER,))
        .fetchone()
    )
    assert all(v.startswith("enc1:") for v in raw), raw
    protection.forget(home)
    home_path = home.path
    home.close()

    monkeypatch.setenv("SCANSTATION_HOME", str(home_path))
    monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
    monkeypatch.delenv("SCANSTATION_PROTECT_PASSPHRASE", raising=False)
    assert main(["--user", "clerk1", "--json", "catalog", "show", NUMBER]) == 0
    locked = capsys.readouterr().out
    assert "🔒" in locked and "enc1:" not in locked

    monkeypatch.setenv("SCANSTATION_PROTECT_PASSPHRASE", PASSPHRASE)
    assert main(["--user", "clerk1", "--json", "catalog", "show", NUMBER]) == 0
    shown = capsys.readouterr().out
    assert "enc1:" not in shown and "**********" in shown  # decrypted, then masked in lists (R40)
