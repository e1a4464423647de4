"""Receiving (R25–R26, R30, R33–R36): accept with ingest, reject, replay, samples, signed receipts and their import."""

from __future__ import annotations

import base64
import hashlib
import json
import subprocess

import pytest

from scanstation import audit
from scanstation.errors import CheckFailed, InvalidInput, Refused
from scanstation.storage.image_store import ImageStore
from scanstation.transfer import batches, outbox, receipts, receive, signing
from tests.archive_pg_fixtures import backend_params, world_on
from tests.test_transfer_fixtures import NUMBERS, PASSPHRASE, add_user, archive_counts, make_world


@pytest.fixture(params=backend_params())
def world(request, tmp_path):
    """A station and an archive room on SQLite, or on PostgreSQL and a page store: the same verdicts."""
    w = world_on(request.param, tmp_path, request)
    yield w
    w.close()


@pytest.fixture
def sqlite_world(tmp_path):
    w = make_world(tmp_path)
    yield w
    w.close()


def _page_bytes(home, page) -> bytes:
    if home.page_store is not None:
        return home.page_store.read(page["sm3"])
    return ImageStore(home.path).path(page["number"], page["file_name"]).read_bytes()


def _send(world, as_zip=False):
    dest = world.tmp / "share"
    dest.mkdir(exist_ok=True)
    return outbox.send(world.station.s["clerk1"], "X001-2024-001", dest, as_zip=as_zip)["path"]


def test_r34_accept_ingests_everything_and_signs_a_receipt(world):
    path = _send(world)
    result = receive.receive(
        world.archive.s["archivist1"], path, decision="accept", passphrase=PASSPHRASE, out_dir=world.tmp / "back"
    )
    home = world.archive.home
    assert result["decision"] == "accepted" and result["checks_passed"]
    assert archive_counts(home) == {"dossiers": 3, "pages": 8, "accepted": 1, "image_files": 7}
    rows = home.catalog.query("SELECT number, status, person_id_number, qc_by FROM dossiers ORDER BY number")
    assert [r["number"] for r in rows] == sorted(NUMBERS) and {r["status"] for r in rows} == {"archived"}
    assert rows[0]["person_id_number"] == "31010419761017344X" and rows[0]["qc_by"] == "qc1"
    for page in home.catalog.query(
        "SELECT p.file_name, p.sha256, p.sm3, d.number FROM pages p JOIN dossiers d"
        " ON d.id = p.dossier_id WHERE p.state = 'active'"
    ):
        data = _page_bytes(home, page)
        assert (
            hashlib.sha256(data).hexdigest() == page["sha256"] and hashlib.new("sm3", data).hexdigest() == page["sm3"]
        )
    assert home.catalog.one("SELECT count(*) n FROM pages WHERE state = 'not_scanned'")["n"] == 1
    envelope = result["receipt"]
    receipt = envelope["receipt"]
    assert receipt["package"]["digest"] == world.sealed["tagmanifest_sm3"]
    assert receipt["package"]["digest_of"] == "tagmanifest-sm3.txt" and receipt["package"]["digest_algorithm"] == "SM3"
    assert receipt["sample"]["seed"] == result["sample"]["seed"]
    # The receipt's SM2 signature verifies with OpenSSL over its canonical JSON.
    signed = world.tmp / "receipt.bin"
    signed.write_bytes(receipts.canonical(receipt))
    sig = world.tmp / "receipt.sig"
    sig.write_bytes(base64.b64decode(envelope["signature"]["value"]))
    out = subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            str(world.archive_pem),
            "-rawin",
            "-in",
            str(signed),
            "-sigfile",
            str(sig),
            "-digest",
            "sm3",
            "-pkeyopt",
            "distid:1234567812345678",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0, out.stderr
    files = result["receipt_files"]
    assert any(f.endswith(".pdf") for f in files) and (world.tmp / "back").is_dir()
    assert audit.verify(home.catalog.conn).ok
    assert home.catalog.one("SELECT count(*) n FROM audit_log WHERE action = 'dossier.archived'")["n"] == 3

    imported = receipts.import_receipt(
        world.station.s["clerk1"], next(f for f in files if "back" in f and f.endswith(".json"))
    )
    assert imported["state"] == "received"
    statuses = {r["status"] for r in world.station.home.catalog.query("SELECT status FROM dossiers")}
    assert statuses == {"transferred"}
    with pytest.raises(Refused):
        receipts.import_receipt(world.station.s["clerk1"], files[0])  # the same receipt twice


def test_r33_replay_of_a_received_package_is_refused(world):
    path = _send(world)
    receive.receive(world.archive.s["archivist1"], path, decision="accept", passphrase=PASSPHRASE)
    before = archive_counts(world.archive.home)
    for decision in ("accept", "reject", None):
        with pytest.raises(Refused) as info:
            receive.receive(
                world.archive.s["archivist2"], path, decision=decision, passphrase=PASSPHRASE, reasons=["again"]
            )
        assert "only once" in info.value.en
    assert archive_counts(world.archive.home) == before
    assert (
        world.archive.home.catalog.one("SELECT count(*) n FROM audit_log WHERE action = 'package.replay_refused'")["n"]
        == 3
    )


def test_r34_zip_package_is_received(world):
    path = _send(world, as_zip=True)
    result = receive.receive(world.archive.s["archivist1"], path, decision="accept", passphrase=PASSPHRASE)
    assert result["decision"] == "accepted" and archive_counts(world.archive.home)["image_files"] == 7
    assert not list((world.archive.home.path / "inbox").iterdir())  # the extracted copy is gone


def test_r26_sample_is_reproducible_from_its_seed():
    numbers = [f"N{i:03d}" for i in range(30)]
    first = receive.draw_sample(numbers, 5.0, 1234)
    assert len(first) == 2 and first == receive.draw_sample(list(reversed(numbers)), 5.0, 1234)
    assert len(receive.draw_sample(numbers, 10.0, 1)) == 3
    assert len(receive.draw_sample(numbers[:3], 5.0, 99)) == 1  # at least one dossier (R25)
    seeds = {tuple(receive.draw_sample(numbers, 5.0, s)) for s in range(20)}
    assert len(seeds) > 5


def test_r25_sample_with_a_finding_blocks_acceptance_and_the_rejection_unlocks_dossiers(world):
    path = _send(world)
    archivist = world.archive.s["archivist1"]
    dry = receive.receive(archivist, path, seed=42)
    again = receive.receive(archivist, path, seed=42)
    assert dry["decision"] is None and dry["sample"]["dossiers"] == again["sample"]["dossiers"]  # R26
    sampled = dry["sample"]["dossiers"][0]
    findings = {sampled: ["第 2 页模糊，无法辨认 / page 2 is illegible"]}
    with pytest.raises(Refused):
        receive.receive(archivist, path, decision="accept", passphrase=PASSPHRASE, seed=42, sample_findings=findings)
    assert archive_counts(world.archive.home)["dossiers"] == 0
    with pytest.raises(InvalidInput):  # a rejection needs its reason
        receive.receive(archivist, path, decision="reject", passphrase=PASSPHRASE, seed=42)
    result = receive.receive(
        archivist,
        path,
        decision="reject",
        passphrase=PASSPHRASE,
        seed=42,
        sample_findings=findings,
        reasons=["抽检不合格 / sample failed"],
    )
    receipt = result["receipt"]["receipt"]
    assert receipt["decision"] == "rejected" and receipt["dossiers_returned"] == [sampled]
    assert receipt["sample"]["pass_rate"] < 95 and not receipt["sample"]["passed"]
    assert archive_counts(world.archive.home) == {"dossiers": 0, "pages": 0, "accepted": 0, "image_files": 0}
    assert world.archive.home.catalog.one("SELECT decision FROM received_packages")["decision"] == "rejected"

    station = world.station
    imported = receipts.import_receipt(station.s["clerk1"], result["receipt_files"][0])
    assert imported["state"] == "rejected" and imported["dossiers"]["qc_rejected"] == [sampled]
    status = {r["number"]: r["status"] for r in station.home.catalog.query("SELECT number, status FROM dossiers")}
    assert status[sampled] == "qc_rejected"
    assert all(s == "approved" for n, s in status.items() if n != sampled)
    reason = station.home.catalog.one("SELECT reason FROM qc_decisions WHERE decision = 'reject_dossier'")["reason"]
    assert "illegible" in reason
    again = batches.create(station.s["clerk1"], 2024)  # the rest go into the next batch
    assert again["batch_id"] == "X001-2024-002" and again["dossiers"] == 2


def test_r30_receipt_must_be_signed_by_a_trusted_archive_key(world):
    path = _send(world)
    result = receive.receive(world.archive.s["archivist1"], path, decision="accept", passphrase=PASSPHRASE)
    file = world.tmp / "receipt.json"
    envelope = json.loads(open(result["receipt_files"][0], encoding="utf-8").read())
    envelope["receipt"]["decision"] = "rejected"  # tampered
    file.write_text(json.dumps(envelope, ensure_ascii=False), "utf-8")
    with pytest.raises(CheckFailed):
        receipts.import_receipt(world.station.s["clerk1"], file)
    forger = signing.generate_key("sm2", "forger-passphrase").signer("forger-passphrase")
    file.write_text(json.dumps(receipts.sign(envelope["receipt"], forger), ensure_ascii=False), "utf-8")
    with pytest.raises(Refused):
        receipts.import_receipt(world.station.s["clerk1"], file)
    assert batches.get(world.station.home.catalog, "X001-2024-001")["state"] == "sent"


def test_r36_receiving_is_for_archivists_in_an_archive_home_and_not_of_their_own_work(world):
    path = _send(world)
    with pytest.raises(Refused):
        receive.receive(world.archive.s["admin"], path)  # not an archivist
    clerk_archivist = add_user(world.station.home, "arch", "archivist")
    with pytest.raises(Refused):
        receive.receive(clerk_archivist, path)  # a station home
    own = add_user(world.archive.home, "qc1", "archivist")  # QC'd these dossiers
    with pytest.raises(Refused) as info:
        receive.receive(own, path, decision="accept", passphrase=PASSPHRASE)
    assert "qc1" in info.value.en
    assert archive_counts(world.archive.home)["dossiers"] == 0


def test_r34_an_ingest_that_fails_half_way_leaves_nothing(world, monkeypatch):
    path = _send(world)
    calls = []
    home = world.archive.home
    page_store = home.page_store
    # where the image copies happen: the home's image folder (SQLite) or the page store (PostgreSQL)
    owner, name = (receive, "_copy_verified") if page_store is None else (page_store, "put_file")
    real = getattr(owner, name)

    def flaky(src, *args):
        calls.append(src)
        if len(calls) == 5:  # the package changed under us half-way: the bytes are not the checked ones
            i = 2 if page_store is None else 1
            args = args[:i] + ("0" * 64,) + args[i + 1 :]
        return real(src, *args)

    monkeypatch.setattr(owner, name, flaky)
    with pytest.raises(CheckFailed):
        receive.receive(world.archive.s["archivist1"], path, decision="accept", passphrase=PASSPHRASE)
    assert len(calls) == 5
    assert archive_counts(home) == {"dossiers": 0, "pages": 0, "accepted": 0, "image_files": 0}
    assert home.catalog.one("SELECT count(*) n FROM received_packages")["n"] == 0
    receipts_dir = home.path / "outbox" / "receipts"
    assert not receipts_dir.exists() or not any(receipts_dir.iterdir())
    assert not list((home.path / "archive").rglob("*.jpg"))
    monkeypatch.setattr(owner, name, real)
    assert (
        receive.receive(world.archive.s["archivist1"], path, decision="accept", passphrase=PASSPHRASE)["decision"]
        == "accepted"
    )  # a clean retry works


def test_r36_package_and_receipts_carry_signed_audit_checkpoints(world):
    import shutil
    import sqlite3
    from pathlib import Path

    from scanstation import audit_anchor

    path = Path(_send(world))
    in_package = json.loads((path / audit_anchor.PACKAGE_FILE).read_text("utf-8"))
    assert in_package["checkpoint"]["station"] == "S01" and in_package["checkpoint"]["seq"] > 0
    result = receive.receive(world.archive.s["archivist1"], path, decision="accept", passphrase=PASSPHRASE)
    receipt = result["receipt"]["receipt"]
    assert receipt["package"]["sender_audit_checkpoint"] == in_package
    assert receipt["receiver"]["audit_checkpoint"]["checkpoint"]["station"] == "A01"
    assert audit_anchor.verify(world.archive.home).ok and audit_anchor.verify(world.archive.home).anchored >= 1
    receipt_file = result["receipt_files"][0]
    station = world.station.home
    report = audit_anchor.verify(station, [receipt_file, path])
    assert report.ok and report.anchored >= 1
    # the station's catalog is rewritten and its own checkpoint files removed: the receipt still shows it
    conn = sqlite3.connect(str(station.path / "catalog.sqlite"), isolation_level=None)
    conn.execute("DELETE FROM audit_log WHERE id > 3")
    conn.close()
    shutil.rmtree(station.path / audit_anchor.FOLDER)
    assert audit_anchor.verify(station).ok
    assert {r.status for r in audit_anchor.verify(station, [receipt_file]).failures()} == {"truncated"}


def test_r22_received_pages_pass_fixity_against_the_audit_trail_and_a_swap_is_caught(sqlite_world):
    world = sqlite_world  # fixity on the page store is checked in the PostgreSQL archive's own tests
    import sqlite3

    from scanstation.custody import fixity
    from tests.test_transfer_fixtures import add_user, jpeg_bytes

    path = _send(world)
    receive.receive(world.archive.s["archivist1"], path, decision="accept", passphrase=PASSPHRASE)
    home = world.archive.home
    auditor = add_user(home, "auditor9", "auditor")
    assert fixity.check(auditor).ok
    page = home.catalog.one(
        "SELECT p.id, p.file_name, d.number FROM pages p JOIN dossiers d ON d.id = p.dossier_id"
        " WHERE p.state = 'active' ORDER BY p.id LIMIT 1"
    )
    stored = ImageStore(home.path).write(page["number"], page["file_name"], jpeg_bytes(777))
    conn = sqlite3.connect(str(home.path / "catalog.sqlite"), isolation_level=None)
    conn.execute(
        "UPDATE pages SET bytes = ?, sha256 = ?, sm3 = ? WHERE id = ?",
        (stored.bytes, stored.sha256, stored.sm3, page["id"]),
    )
    conn.close()
    result = fixity.check(auditor)
    assert not result.ok and [u["page_id"] for u in result.unrecorded] == [page["id"]]
