"""The outbox (R38) and the zip form (R23, R31): verified delivery, retries, a clear give-up."""

from __future__ import annotations

import zipfile

import pytest

from scanstation.errors import Refused, StorageError
from scanstation.transfer import batches, keys, outbox, verify
from tests.test_transfer_fixtures import NUMBERS, make_world


@pytest.fixture
def world(tmp_path):
    w = make_world(tmp_path / "world")
    yield w
    w.close()


def _state(world):
    return batches.get(world.station.home.catalog, "X001-2024-001")["state"]


def _deliveries(world):
    return world.station.home.catalog.query("SELECT attempt, ok, error FROM transfer_deliveries ORDER BY id")


def test_r38_send_to_a_folder_copies_verifies_and_keeps_the_outbox_copy(world, tmp_path):
    dest = tmp_path / "share"
    dest.mkdir()
    result = outbox.send(world.station.s["clerk1"], "X001-2024-001", dest)
    sent = dest / "X001-2024-001"
    assert result["path"] == str(sent) and sent.is_dir() and world.package.is_dir()  # kept in the outbox
    assert [p.name for p in dest.iterdir()] == ["X001-2024-001"]  # no temporary left
    for original in world.package.rglob("*"):
        if original.is_file():
            assert (sent / original.relative_to(world.package)).read_bytes() == original.read_bytes()
    assert _state(world) == "sent"
    status = {r["status"] for r in world.station.home.catalog.query("SELECT status FROM dossiers")}
    assert status == {"sent"}
    assert _deliveries(world) == [{"attempt": 1, "ok": 1, "error": ""}]
    with pytest.raises(Refused):  # a sent dossier is locked
        from scanstation.capture import Capture

        Capture(world.station.s["clerk2"]).check_dossier(NUMBERS[0])
    with pytest.raises(StorageError):  # the same package is never overwritten there
        outbox.send(world.station.s["clerk1"], "X001-2024-001", dest, attempts=3, sleep=lambda s: None)
    assert len(_deliveries(world)) == 2  # no retry: waiting cannot help


def test_r23_r31_zip_names_are_flagged_utf8_stored_and_never_encrypted(world, tmp_path):
    dest = tmp_path / "drive"
    dest.mkdir()
    path = outbox.send(world.station.s["clerk1"], "X001-2024-001", dest, as_zip=True)["path"]
    with zipfile.ZipFile(path) as zf:
        infos = zf.infolist()
        assert len(infos) == sum(1 for p in world.package.rglob("*") if p.is_file())
        non_ascii = [i for i in infos if not i.filename.isascii()]
        assert non_ascii and all(i.flag_bits & 0x800 for i in non_ascii)
        assert all(i.compress_type == zipfile.ZIP_STORED and not i.flag_bits & 0x1 for i in infos)
        assert any("X001-ZY·DJ·2024·D100-0001-001-0001.jpg" in i.filename for i in infos)
        assert zf.testzip() is None
    report = verify.verify_package(path, trust=keys.trust_list(world.archive.home))
    assert report.passed and report.is_zip


def test_r31_deflate_is_the_only_compression_option(world, tmp_path):
    dest = tmp_path / "drive"
    dest.mkdir()
    path = outbox.send(world.station.s["clerk1"], "X001-2024-001", dest, as_zip=True, deflate=True)["path"]
    with zipfile.ZipFile(path) as zf:
        assert {i.compress_type for i in zf.infolist()} == {zipfile.ZIP_DEFLATED}


def test_r38_retries_with_back_off_until_the_destination_is_reachable(world, tmp_path):
    dest = tmp_path / "share-not-mounted-yet"
    waits = []

    def sleep(seconds):
        waits.append(seconds)
        if len(waits) == 2:
            dest.mkdir()  # the share comes back

    result = outbox.send(world.station.s["clerk1"], "X001-2024-001", dest, attempts=5, first_wait=1.5, sleep=sleep)
    assert result["attempts"] == 3 and waits == [1.5, 3.0]
    rows = _deliveries(world)
    assert [r["ok"] for r in rows] == [0, 0, 1] and "not reachable" in rows[0]["error"]


def test_r38_gives_up_clearly_and_the_package_stays_sealed(world, tmp_path):
    waits = []
    with pytest.raises(StorageError) as info:
        outbox.send(world.station.s["clerk1"], "X001-2024-001", tmp_path / "gone", attempts=3, sleep=waits.append)
    assert len(waits) == 2 and "stays sealed in the outbox" in info.value.en and "仍封存在发件箱" in info.value.zh
    assert _state(world) == "sealed" and world.package.is_dir()
    assert not (tmp_path / "gone").exists()  # never created on the local disk
    assert (
        world.station.home.catalog.one("SELECT count(*) n FROM audit_log WHERE action = 'batch.send_failed'")["n"] == 1
    )


def test_send_needs_a_sealed_batch(world, tmp_path):
    from tests.test_transfer_fixtures import add_dossier

    add_dossier(world.station.home, "X001-ZY·DJ·2024·D100-0009-001", 1, seed=99)
    draft = batches.create(world.station.s["clerk1"], 2024)
    (tmp_path / "d").mkdir()
    with pytest.raises(Refused):
        outbox.send(world.station.s["clerk1"], draft["batch_id"], tmp_path / "d")
