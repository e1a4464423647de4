"""Sealing (R22, R28–R32): layout, manifests and totals, register, signatures checked by OpenSSL and bagit-python."""

from __future__ import annotations

import hashlib
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import bagit
import pytest

from scanstation.errors import CheckFailed, Refused
from scanstation.storage.image_store import ImageStore
from scanstation.transfer import batches, register, seal
from scanstation.transfer import package_layout as layout
from tests.test_transfer_fixtures import NUMBERS, PASSPHRASE, make_station, make_world, station_key

bagit.CHECKSUM_ALGOS.add("sm3")  # bagit-python reads sm3 manifests once told the name


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = make_world(tmp_path_factory.mktemp("seal"))
    yield w
    w.close()


def _manifest(pkg: Path, name: str) -> dict[str, str]:
    out = {}
    for line in (pkg / name).read_text("utf-8").splitlines():
        digest, path = line.split("  ", 1)
        out[path] = digest
    return out


def test_r28_package_layout_and_metadata(world):
    pkg = world.package
    for rel in (
        layout.DESCRIPTION,
        layout.CATALOG_XML,
        layout.SCHEMA_JSON,
        layout.QC_REPORT,
        layout.REGISTER_XML,
        layout.REGISTER_PDF,
    ):
        assert (pkg / rel).is_file(), rel
    info, entries = layout.read_catalog_xml((pkg / layout.CATALOG_XML).read_bytes())
    assert info["批次"] == "X001-2024-001" and [e.fields["number"] for e in entries] == sorted(NUMBERS)
    first = entries[0].fields
    assert first["seq"] == "1" and first["title"] and first["responsible"] and first["security_level"] == "内部"
    folder = pkg / "data" / first["file_name"]
    assert folder == pkg / layout.dossier_dir(2024, "ZY·DJ", first["number"])
    meta = layout.read_dossier_xml((folder / f"{first['number']}.xml").read_bytes(), "m")
    assert meta.fields["person_id_number"] == "31010419761017344X"  # the official record is not masked
    assert meta.fields["retention"] == "D100" and meta.fields["qc_by"] == "qc1"
    assert [p.file_name for p in meta.pages] == [f"{first['number']}-{i:04d}.jpg" for i in (1, 2, 3)]
    page = meta.pages[0]
    data = (folder / page.file_name).read_bytes()
    assert page.checksums == {"sha256": hashlib.sha256(data).hexdigest(), "sm3": hashlib.new("sm3", data).hexdigest()}
    assert page.values["dpi"] == 300 and page.values["color_mode"] == "color" and page.values["device"]["serial"]
    raw = (folder / f"{first['number']}.xml").read_text("utf-8")
    assert '算法="SM3"' in raw and '算法="SHA-256"' in raw and raw.startswith("<?xml version='1.0' encoding='utf-8'?>")
    notes = layout.read_dossier_xml(
        (pkg / layout.dossier_dir(2024, "ZY·DJ", NUMBERS[1]) / f"{NUMBERS[1]}.xml").read_bytes(), "m"
    ).notes
    assert notes == [{"original_page_no": 3, "note": "空白页，未扫描"}]  # R10 note travels
    ET.fromstring((pkg / layout.QC_REPORT).read_bytes())


def test_r29_manifests_in_sha256_and_sm3_and_totals_match_the_register(world):
    pkg = world.package
    payload = {p.relative_to(pkg).as_posix(): p for p in (pkg / "data").rglob("*") if p.is_file()}
    for alg in ("sha256", "sm3"):
        entries = _manifest(pkg, f"manifest-{alg}.txt")
        assert set(entries) == set(payload)
        for rel, digest in entries.items():
            assert hashlib.new(alg, payload[rel].read_bytes()).hexdigest() == digest
        tags = _manifest(pkg, f"tagmanifest-{alg}.txt")
        assert set(tags) == {
            "bagit.txt",
            "bag-info.txt",
            "manifest-sha256.txt",
            "manifest-sm3.txt",
            "audit-checkpoint.json",
        }
    info = dict(line.split(": ", 1) for line in (pkg / "bag-info.txt").read_text("utf-8").splitlines())
    total = sum(p.stat().st_size for p in payload.values())
    assert info["Payload-Oxum"] == f"{total}.{len(payload)}"
    assert info["External-Identifier"] == "X001-2024-001" and info["Bag-Count"] == "1 of 1"
    for label in (
        "Source-Organization",
        "Bagging-Date",
        "Station-Id",
        "Fonds-Code",
        "Archive-Year",
        "Dossier-Count",
        "Image-File-Count",
    ):
        assert info[label]
    reg = register.read_register_xml((pkg / layout.REGISTER_XML).read_bytes())
    records = {rel: p.stat().st_size for rel, p in payload.items() if rel.startswith(layout.RECORDS_DIR + "/")}
    assert reg["dossiers"] == 3 and reg["images"] == 7 and reg["declared_pages"] == 8
    assert reg["files"] == len(records) and reg["bytes"] == sum(records.values())
    assert reg["volume_gb"] == f"{sum(records.values()) / 1024**3:.3f}"
    assert reg["digest_algorithm"] == "SM3" and reg["digest"] == layout.register_digest(
        _manifest(pkg, "manifest-sm3.txt")
    )


def test_r30_sm2_signature_verifies_with_openssl_and_bag_with_bagit_python(world):
    pkg = world.package
    out = subprocess.run(
        [
            "openssl",
            "pkeyutl",
            "-verify",
            "-pubin",
            "-inkey",
            str(pkg / "signer.pem"),
            "-rawin",
            "-in",
            str(pkg / "tagmanifest-sm3.txt"),
            "-sigfile",
            str(pkg / "tagmanifest-sm3.txt.sig"),
            "-digest",
            "sm3",
            "-pkeyopt",
            "distid:1234567812345678",
        ],
        capture_output=True,
        text=True,
    )
    assert out.returncode == 0 and "Verified Successfully" in out.stdout
    assert (pkg / "signer.pem").read_text() == world.station_pem.read_text()
    bag = bagit.Bag(str(pkg))
    bag.validate()  # raises BagValidationError if not valid
    assert set(bag.algorithms) == {"sha256", "sm3"}
    assert bag.info["External-Identifier"] == "X001-2024-001"


def test_r30_ed25519_signature_verifies_with_openssl(tmp_path):
    station = make_station(tmp_path / "station", numbers=NUMBERS[:1], pages=(1,), notes=(0,))
    try:
        station_key(station, tmp_path, "ed25519")
        b = batches.create(station.s["clerk1"], 2024)
        sealed = seal.seal(station.s["clerk1"], b["batch_id"], "station", PASSPHRASE)
        pkg = Path(sealed["package"])
        assert sealed["signature_algorithm"] == "ed25519"
        out = subprocess.run(
            [
                "openssl",
                "pkeyutl",
                "-verify",
                "-pubin",
                "-inkey",
                str(pkg / "signer.pem"),
                "-rawin",
                "-in",
                str(pkg / "tagmanifest-sm3.txt"),
                "-sigfile",
                str(pkg / "tagmanifest-sm3.txt.sig"),
            ],
            capture_output=True,
            text=True,
        )
        assert out.returncode == 0 and "Verified Successfully" in out.stdout
        # bagit-python's own command-line validator agrees
        cli = subprocess.run(
            [sys.executable, str(Path(sys.executable).parent / "bagit.py"), "--validate", str(pkg)],
            capture_output=True,
            text=True,
        )
        assert cli.returncode == 0, cli.stderr
    finally:
        station.close()


def test_r32_register_pdf_embeds_its_cjk_font(world):
    pdf = world.package / layout.REGISTER_PDF
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True).stdout.splitlines()[2:]
    assert fonts and all(line.split()[-5] == "yes" for line in fonts)  # every font embedded
    text = subprocess.run(["pdftotext", "-layout", str(pdf), "-"], capture_output=True, text=True).stdout
    reg = register.read_register_xml((world.package / layout.REGISTER_XML).read_bytes())
    assert "电子档案移交与接收登记表" in text and reg["digest"] in text and f"{reg['volume_gb']} GB" in text
    assert "移交方" in text and "接收方" in text and "审核人" in text


def test_r22_seal_stops_on_a_checksum_mismatch_and_names_the_file(tmp_path):
    station = make_station(tmp_path / "station")
    try:
        station_key(station, tmp_path)
        b = batches.create(station.s["clerk1"], 2024)
        victim = ImageStore(station.home.path).path(NUMBERS[2], f"{NUMBERS[2]}-0002.jpg")
        data = bytearray(victim.read_bytes())
        data[len(data) // 2] ^= 0x01
        victim.write_bytes(bytes(data))
        with pytest.raises(CheckFailed) as info:
            seal.seal(station.s["clerk1"], b["batch_id"], "station", PASSPHRASE)
        assert victim.name in info.value.en and victim.name in info.value.zh
        assert batches.get(station.home.catalog, b["batch_id"])["state"] == "draft"
        assert [p.name for p in (station.home.path / "outbox").iterdir()] == []  # nothing left behind
        with pytest.raises(Refused):  # wrong passphrase: no work
            seal.seal(station.s["clerk1"], b["batch_id"], "station", "wrong-passphrase")
    finally:
        station.close()


def test_a_wrong_passphrase_is_said_before_any_image_is_read(tmp_path, monkeypatch):
    station = make_station(tmp_path / "station")
    try:
        station_key(station, tmp_path)
        b = batches.create(station.s["clerk1"], 2024)
        read = []
        real = seal.place_and_hash
        monkeypatch.setattr(seal, "place_and_hash", lambda *a, **k: read.append(a[0]) or real(*a, **k))
        with pytest.raises(Refused):
            seal.seal(station.s["clerk1"], b["batch_id"], "station", "wrong-passphrase")
        assert read == []  # the key is unlocked before the pool starts
        assert [p.name for p in (station.home.path / "outbox").iterdir()] == []  # the metadata written is gone
        assert batches.get(station.home.catalog, b["batch_id"])["state"] == "draft"
        sealed = seal.seal(station.s["clerk1"], b["batch_id"], "station", PASSPHRASE)
        assert len(read) == sealed["images"] > 0
    finally:
        station.close()


def test_r19_seal_refuses_dossiers_whose_pages_do_not_add_up(tmp_path):
    station = make_station(tmp_path / "station")
    try:
        station_key(station, tmp_path)
        b = batches.create(station.s["clerk1"], 2024)
        with station.home.catalog.write() as conn:
            conn.execute("UPDATE dossiers SET declared_pages = 9 WHERE number = ?", (NUMBERS[0],))
        with pytest.raises(Refused) as info:
            seal.seal(station.s["clerk1"], b["batch_id"], "station", PASSPHRASE)
        assert NUMBERS[0] in info.value.en
    finally:
        station.close()
