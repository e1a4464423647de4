import os
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from scanstation import audit
from scanstation.custody import backup, destruction
from scanstation.errors import InvalidInput, Refused
from scanstation.home import Home
from tests.conftest import PASSWORD
from tests.test_custody_fixtures import add_dossier, number_for


def _rows(db_path: Path, table: str) -> list[tuple]:
    conn = sqlite3.connect(db_path)
    try:
        return conn.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
    finally:
        conn.close()


def _image_bytes(root: Path) -> dict[str, bytes]:
    return {p.relative_to(root).as_posix(): p.read_bytes() for p in sorted((root / "images").rglob("*")) if p.is_file()}


def _fill(home, sessions):
    for i, (year, code) in enumerate([(2010, "D10"), (2020, "D30"), (2023, "Y")], 1):
        add_dossier(home, number_for(year, code, i), year=year, retention=code, pages=i + 1)
    sessions["admin"].log("test.event", "home", "X001", {"note": "before backup"})


def test_r39_restore_reproduces_home_byte_for_byte(home, sessions, tmp_path):
    _fill(home, sessions)
    dest = tmp_path / "usb"
    created = backup.create(sessions["admin"], dest)
    assert created.files > 9 and created.copied == created.files and not created.warnings
    audit_before = home.catalog.query("SELECT * FROM audit_log ORDER BY id")
    verified = backup.verify(sessions["admin"], dest)
    assert verified.ok and verified.generations == [created.generation]
    assert home.setting("backup.last_verified_at") and backup.reminder(home) is None

    target = tmp_path / "restored"
    result = backup.restore(dest, target, "admin", PASSWORD)
    assert result["audit_chain_ok"] and result["generation"] == created.generation

    assert _image_bytes(target) == _image_bytes(Path(home.path))  # every page, byte for byte
    assert len(_image_bytes(target)) == 2 + 3 + 4
    backup_catalog = dest / created.generation / "catalog.sqlite"
    for table in ("dossiers", "pages", "users", "settings"):
        assert _rows(target / "catalog.sqlite", table) == _rows(backup_catalog, table)
    assert _rows(target / "catalog.sqlite", "dossiers") == _rows(Path(home.catalog.path), "dossiers")
    assert _rows(target / "catalog.sqlite", "pages") == _rows(Path(home.catalog.path), "pages")
    with Home.open(target) as restored:
        rows = restored.catalog.query("SELECT * FROM audit_log ORDER BY id")
        assert audit.verify(restored.catalog.conn).ok
    # the backup's own creation entry came after the snapshot; the restore adds one entry
    assert rows[:-1] == audit_before[: len(rows) - 1] and rows[-1]["action"] == "backup.restore"
    assert (target / "station.json").read_bytes() == (Path(home.path) / "station.json").read_bytes()
    assert backup.verify_dest(dest).ok  # restoring did not touch the backup


def test_r39_incremental_generations_link_unchanged_files(home, sessions, tmp_path):
    _fill(home, sessions)
    dest = tmp_path / "usb"
    first = backup.create(sessions["admin"], dest)
    add_dossier(home, number_for(2024, "D10", 8), year=2024, pages=1)
    second = backup.create(sessions["admin"], dest)
    assert second.generation != first.generation
    assert second.copied == 2  # the new page and the catalog snapshot; everything else linked
    assert second.linked == second.files - 2
    old_page = f"images/{number_for(2010, 'D10', 1)}/{number_for(2010, 'D10', 1)}-0001.jpg"
    a, b = dest / first.generation / old_page, dest / second.generation / old_page
    assert os.stat(a).st_ino == os.stat(b).st_ino
    assert backup.verify(sessions["admin"], dest).ok  # each generation complete on its own
    assert len(backup.generations(dest)) == 2


def test_r37_destroyed_files_absent_from_next_generation(home, sessions, tmp_path):
    _fill(home, sessions)
    dest = tmp_path / "usb"
    first = backup.create(sessions["admin"], dest)
    doomed = number_for(2010, "D10", 1)
    proposal = destruction.propose(sessions["archivist1"], date(2024, 6, 1), "保管期限已满，无保存价值。")
    destruction.approve(sessions["admin"], proposal["id"])
    destruction.execute(sessions["archivist1"], proposal["id"], "删除", date.today())
    destruction.execute(sessions["admin"], proposal["id"], "删除", date.today())
    second = backup.create(sessions["admin"], dest)
    paths = {e["path"] for e in backup.load_manifest(dest / second.generation)["files"]}
    assert not any(doomed in p for p in paths)
    assert not (dest / second.generation / "images" / doomed).exists()
    assert (dest / first.generation / "images" / doomed).is_dir()  # older generation untouched
    assert any(p.startswith("reports/destruction/") for p in paths)  # the register is backed up


def test_r39_verify_finds_flipped_byte_and_missing_file(home, sessions, tmp_path):
    _fill(home, sessions)
    dest = tmp_path / "usb"
    gen = dest / backup.create(sessions["admin"], dest).generation
    pages = sorted((gen / "images").rglob("*.jpg"))
    data = bytearray(pages[0].read_bytes())
    data[len(data) // 2] ^= 0x01
    pages[0].write_bytes(bytes(data))
    pages[1].unlink()
    (gen / "images" / "stray.txt").write_text("x")
    result = backup.verify(sessions["admin"], dest)
    assert not result.ok
    assert [m["path"] for m in result.mismatched] == [pages[0].relative_to(gen).as_posix()]
    assert [m["path"] for m in result.missing] == [pages[1].relative_to(gen).as_posix()]
    assert [m["path"] for m in result.unexpected] == ["images/stray.txt"]
    assert home.setting("backup.last_verify")["ok"] is False
    assert home.setting("backup.last_verified_at") is None
    assert backup.reminder(home) is not None
    with pytest.raises(Exception):
        backup.restore(dest, tmp_path / "r", "admin", PASSWORD)  # restore refuses a damaged generation


def test_restore_rules(home, sessions, tmp_path):
    _fill(home, sessions)
    dest = tmp_path / "usb"
    backup.create(sessions["admin"], dest)
    busy = tmp_path / "busy"
    busy.mkdir()
    (busy / "x").write_text("x")
    with pytest.raises(Refused):
        backup.restore(dest, busy, "admin", PASSWORD)
    with pytest.raises(Refused):
        backup.restore(dest, tmp_path / "r1", "admin", "wrong-password")
    with pytest.raises(Refused):
        backup.restore(dest, tmp_path / "r2", "clerk1", PASSWORD)  # not an administrator
    assert not (tmp_path / "r1").exists() and not (tmp_path / "r2").exists()
    with pytest.raises(Refused):
        backup.create(sessions["clerk1"], dest)
    with pytest.raises(InvalidInput):
        backup.create(sessions["admin"], Path(home.path) / "reports" / "bk")
