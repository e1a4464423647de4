"""R40: page images encrypted at rest, end to end — capture, page operations, fixity, OCR, backups,
the GUI's thumbnails, sealing (packages stay plain) and the archive room's store."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

import pytest
from PIL import Image, UnidentifiedImageError

from scanstation import pages
from scanstation.capture import Capture
from scanstation.catalog_import import import_catalog
from scanstation.custody import backup, fixity, protection
from scanstation.errors import ExitCode, Refused
from scanstation.ocr.queue import OcrRunner
from scanstation.profiles import ScanProfile
from scanstation.resources import resource
from scanstation.storage.files import digests
from scanstation.storage.image_store import ImageStore, is_encrypted_file
from tests.conftest import PASSWORD
from tests.test_capture import pipeline  # noqa: F401  (fixture)

PASSPHRASE = "a long protection passphrase"
THREE = "X001-ZY·DJ·2024·D100-0001-001"
GRAY = ScanProfile("测试灰度", mode="gray")


@pytest.fixture(autouse=True)
def _forget_keys(home):
    yield
    protection.forget(home)


def _page_rows(home, number=THREE):
    return home.catalog.query(
        "SELECT p.seq, p.file_name, p.bytes, p.sha256, p.sm3 FROM pages p JOIN dossiers d"
        " ON d.id = p.dossier_id WHERE d.number = ? AND p.state = 'active' ORDER BY p.seq",
        (number,),
    )


def _scan(home, sessions, pipeline, n):
    capture = Capture(sessions["clerk1"], pipeline)
    return capture.start(THREE, "demo", GRAY, pages=n).run()


def _protect_images(home, sessions):
    protection.enable(sessions["admin"], PASSPHRASE)
    return protection.enable_images(sessions["admin"])


def test_r40_images_encrypted_at_rest_through_capture_rotation_and_fixity(home, sessions, pipeline):
    import_catalog(sessions["clerk1"], resource("sample-catalog.xlsx"))
    _scan(home, sessions, pipeline, 2)
    plain_before = {
        r["file_name"]: ImageStore(home.path).path(THREE, r["file_name"]).read_bytes() for r in _page_rows(home)
    }
    result = _protect_images(home, sessions)
    assert result["files_encrypted"] == 2 and result["files_already_encrypted"] == 0
    assert protection.status(home)["images_encrypted"] is True

    _scan(home, sessions, pipeline, 1)  # written encrypted from the start
    rows = _page_rows(home)
    assert [r["seq"] for r in rows] == [1, 2, 3]
    store = protection.image_store(home)
    for r in rows:
        blob = store.path(THREE, r["file_name"]).read_bytes()
        assert is_encrypted_file(blob) and not blob.startswith(b"\xff\xd8")
        with pytest.raises(UnidentifiedImageError):
            Image.open(io.BytesIO(blob))
        plain = store.read_bytes(THREE, r["file_name"])
        assert plain.startswith(b"\xff\xd8")  # the catalog's checksums are those of the plain image (R22)
        assert (len(plain), *digests(plain)) == (r["bytes"], r["sha256"], r["sm3"])
        if r["file_name"] in plain_before:
            assert plain == plain_before[r["file_name"]]

    pages.rotate(sessions["clerk1"], THREE, 1, 90)
    rotated = _page_rows(home)[0]
    blob = store.path(THREE, rotated["file_name"]).read_bytes()
    assert is_encrypted_file(blob)
    with Image.open(io.BytesIO(store.read_bytes(THREE, rotated["file_name"]))) as im:
        assert im.width > im.height  # portrait A4 turned to landscape
    kept = [p for p in (home.path / "originals").rglob("*") if p.is_file()]
    assert kept and all(is_encrypted_file(k.read_bytes()) for k in kept)

    assert fixity.check(sessions["auditor1"]).ok
    victim = store.path(THREE, _page_rows(home)[1]["file_name"])
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    found = fixity.check(sessions["auditor1"])
    assert not found.ok and [m["seq"] for m in found.mismatched] == [2]

    protection.forget(home)
    with pytest.raises(Refused) as locked:
        fixity.check(sessions["auditor1"])
    assert "保护口令" in locked.value.zh and "passphrase" in locked.value.en


def test_r40_conversion_is_resumable_and_locked_store_refuses_writes(home, sessions, pipeline):
    import_catalog(sessions["clerk1"], resource("sample-catalog.xlsx"))
    _scan(home, sessions, pipeline, 2)
    protection.enable(sessions["admin"], PASSPHRASE)
    key = protection.unlocked_key(home)
    first = ImageStore(home.path).path(THREE, _page_rows(home)[0]["file_name"])
    first.write_bytes(key.encrypt_file_bytes(first.read_bytes()))  # as if a conversion stopped after one file
    result = protection.enable_images(sessions["admin"])
    assert (result["files_encrypted"], result["files_already_encrypted"]) == (1, 1)
    assert protection.enable_images(sessions["admin"])["files_encrypted"] == 0
    assert fixity.check(sessions["auditor1"]).ok

    protection.forget(home)
    with pytest.raises(Refused):
        _scan(home, sessions, pipeline, 1)  # said before the first page
    assert [r["seq"] for r in _page_rows(home)] == [1, 2]

    # the key is forgotten while pages arrive (an idle lock): they stay spooled, nothing half-written,
    # and recovery after unlocking stores them encrypted
    protection.remember(home, key)
    capture = Capture(sessions["clerk1"], pipeline)
    run = capture.start(THREE, "demo", GRAY, pages=2)
    protection.forget(home)
    result = run.run()
    assert isinstance(result.error, Refused)
    assert [r["seq"] for r in _page_rows(home)] == [1, 2]
    assert not list((home.path / "images").rglob("*.part"))
    spooled = [f for f in (home.path / "spool").rglob("page-*") if f.suffix != ".json"]
    assert spooled  # the page that could not be stored is kept; the device was stopped after it
    protection.remember(home, key)
    capture.recover()
    rows = _page_rows(home)
    assert [r["seq"] for r in rows] == list(range(1, 3 + len(spooled)))
    assert all(is_encrypted_file(ImageStore(home.path).path(THREE, r["file_name"]).read_bytes()) for r in rows)
    assert fixity.check(sessions["auditor1"]).ok


def test_r40_ocr_reads_encrypted_pages_without_writing_them_out(home, sessions, pipeline):
    import_catalog(sessions["clerk1"], resource("sample-catalog.xlsx"))
    _protect_images(home, sessions)
    _scan(home, sessions, pipeline, 1)
    before = {p for p in home.path.rglob("*") if p.is_file()}
    stats = OcrRunner(home, workers=1).run_until_empty()
    assert stats.done == 1 and stats.failed == 0, stats.errors
    row = home.catalog.one("SELECT status, text FROM page_text")
    assert row["status"] == "done" and len(row["text"]) > 20
    new_files = {p for p in home.path.rglob("*") if p.is_file()} - before
    assert not [p for p in new_files if p.suffix.lower() in (".jpg", ".png", ".tif", ".tiff")]

    # locked: the queue waits, no attempt is counted
    home.catalog.conn.execute("UPDATE page_text SET status = 'queued', attempts = 0")
    protection.forget(home)
    with pytest.raises(Refused):
        OcrRunner(home, workers=1).run_until_empty()
    row = home.catalog.one("SELECT status, attempts FROM page_text")
    assert (row["status"], row["attempts"]) == ("queued", 0)


def test_r39_r40_backup_of_encrypted_home_restores_byte_for_byte(home, sessions, pipeline, tmp_path):
    import_catalog(sessions["clerk1"], resource("sample-catalog.xlsx"))
    _protect_images(home, sessions)
    _scan(home, sessions, pipeline, 2)
    made = backup.create(sessions["admin"], tmp_path / "backup")
    assert made.warnings == []
    assert backup.verify(sessions["admin"], tmp_path / "backup").ok
    target = tmp_path / "restored"
    backup.restore(tmp_path / "backup", target, "admin", PASSWORD)
    for r in _page_rows(home):
        original = ImageStore(home.path).path(THREE, r["file_name"])
        copy = ImageStore(target).path(THREE, r["file_name"])
        assert copy.read_bytes() == original.read_bytes() and is_encrypted_file(copy.read_bytes())

    from scanstation.home import Home

    restored = Home.open(target)
    try:
        protection.remember(restored, protection.unlock(restored, PASSPHRASE))
        plain = protection.image_store(restored).read_bytes(THREE, _page_rows(home)[0]["file_name"])
        assert digests(plain) == (_page_rows(home)[0]["sha256"], _page_rows(home)[0]["sm3"])
    finally:
        protection.forget(restored)
        restored.close()


def test_r40_gui_thumbnail_decodes_encrypted_page(home, sessions, pipeline, qapp):
    from PySide6.QtCore import QSize

    from scanstation.ui.page_model import decode_thumbnail

    import_catalog(sessions["clerk1"], resource("sample-catalog.xlsx"))
    _protect_images(home, sessions)
    _scan(home, sessions, pipeline, 1)
    path = str(ImageStore(home.path).path(THREE, _page_rows(home)[0]["file_name"]))
    image = decode_thumbnail(path, QSize(120, 170))
    assert not image.isNull() and image.height() <= 170 and image.width() <= 120
    protection.forget(home)
    assert decode_thumbnail(path, QSize(120, 170)).isNull()  # locked: no picture, no crash


def _cli(home, *args, env_extra=None):
    env = dict(os.environ, SCANSTATION_HOME=str(home.path), SCANSTATION_PASSWORD=PASSWORD, **(env_extra or {}))
    env.pop("SCANSTATION_PROTECT_PASSPHRASE", None)
    env.update(env_extra or {})
    return subprocess.run(
        [sys.executable, "-m", "scanstation.cli.main", "--home", str(home.path), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_r40_cli_protect_images_and_locked_message(home, sessions, pipeline):
    import_catalog(sessions["clerk1"], resource("sample-catalog.xlsx"))
    _scan(home, sessions, pipeline, 1)
    protection.enable(sessions["admin"], PASSPHRASE)
    protection.forget(home)
    home.close()
    unlock = {"SCANSTATION_PROTECT_PASSPHRASE": PASSPHRASE}
    out = _cli(home, "--user", "admin", "--json", "protect", "images", env_extra=unlock)
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["files_encrypted"] == 1
    out = _cli(home, "--user", "admin", "protect", "status")
    assert out.returncode == 0 and "页面图像：已加密存储" in out.stdout
    locked = _cli(home, "--user", "auditor1", "fixity", "check")
    assert locked.returncode == ExitCode.REFUSED and "Traceback" not in locked.stderr
    assert "保护口令" in locked.stderr + locked.stdout
    ok = _cli(home, "--user", "auditor1", "--json", "fixity", "check", env_extra=unlock)
    assert ok.returncode == 0, ok.stderr
    assert json.loads(ok.stdout)["ok"] is True


def test_r40_archive_room_stores_received_images_encrypted(tmp_path):
    from scanstation.transfer import outbox, receive
    from tests.test_transfer_fixtures import PASSPHRASE as KEY_PASSPHRASE
    from tests.test_transfer_fixtures import make_world

    world = make_world(tmp_path)
    archive = world.archive.home
    try:
        protection.enable(world.archive.s["admin"], PASSPHRASE)
        protection.enable_images(world.archive.s["admin"])
        (tmp_path / "share").mkdir()
        sent = outbox.send(world.station.s["clerk1"], "X001-2024-001", tmp_path / "share")["path"]
        result = receive.receive(
            world.archive.s["archivist1"], sent, decision="accept", passphrase=KEY_PASSPHRASE, out_dir=tmp_path / "back"
        )
        assert result["decision"] == "accepted"
        files = [p for p in (archive.path / "images").rglob("*") if p.is_file()]
        assert len(files) == 7 and all(is_encrypted_file(p.read_bytes()) for p in files)
        checked = fixity.check(world.archive.s["admin"])
        assert checked.ok and checked.checked == 7
    finally:
        protection.forget(archive)
        world.close()


def test_r31_r40_sealed_package_of_an_encrypted_station_is_plain_and_valid(tmp_path):
    from pathlib import Path

    import bagit as bagit_python

    from scanstation.transfer import batches, seal
    from tests.test_transfer_fixtures import PASSPHRASE as KEY_PASSPHRASE
    from tests.test_transfer_fixtures import make_station, station_key

    station = make_station(tmp_path / "station")
    home = station.home
    try:
        station_key(station, tmp_path)
        protection.enable(station.s["admin"], PASSPHRASE)
        assert protection.enable_images(station.s["admin"])["files_encrypted"] == 7
        batch = batches.create(station.s["clerk1"], 2024)

        # a changed encrypted page stops the seal and names the file; nothing is left in the outbox
        victim = sorted((home.path / "images").rglob("*.jpg"))[3]
        good = victim.read_bytes()
        bad = bytearray(good)
        bad[-20] ^= 0x01
        victim.write_bytes(bytes(bad))
        with pytest.raises(Refused) as refused:
            seal.seal(station.s["clerk1"], batch["batch_id"], "station", KEY_PASSPHRASE)
        assert victim.name in refused.value.en
        assert not [p for p in (home.path / "outbox").rglob("*") if p.is_file()]
        victim.write_bytes(good)

        sealed = seal.seal(station.s["clerk1"], batch["batch_id"], "station", KEY_PASSPHRASE)
        assert "decrypt" in batches.get(home.catalog, batch["batch_id"])["details"]["placement"]
        images = list(Path(sealed["package"]).rglob("*.jpg"))
        assert len(images) == 7 and all(p.read_bytes().startswith(b"\xff\xd8") for p in images)
        bagit_python.Bag(str(sealed["package"])).validate()  # an independent checker of every digest
    finally:
        protection.forget(home)
        station.close()
