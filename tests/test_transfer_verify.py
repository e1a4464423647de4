"""The four-property check (R33) against bad packages; a refused package writes nothing to the archive (R34).

Each test copies the sealed package, damages it one way, and checks that the expected check fails,
that the package cannot be accepted, and that the archive is unchanged. Where a test needs a package
that is bad yet correctly signed (a faulty station, not a transport error), it re-seals the
manifests and re-signs with the trusted station key.
"""

from __future__ import annotations

import hashlib
import io
import os
import struct
import zipfile
from pathlib import Path

import pytest
from PIL import Image

from scanstation.errors import CheckFailed, Refused
from scanstation.transfer import bagit, keys, receive, signing, verify, zip_package
from scanstation.transfer import package_layout as layout
from tests.archive_pg_fixtures import backend_params, world_on
from tests.test_transfer_fixtures import NUMBERS, PASSPHRASE, archive_counts, make_world


@pytest.fixture(scope="module", params=backend_params())
def world(request, tmp_path_factory):
    """The same packages checked and refused by an archive on SQLite and one on PostgreSQL."""
    w = world_on(request.param, tmp_path_factory.mktemp("verify"), request)
    yield w
    w.close()


@pytest.fixture
def pkg(world, tmp_path):
    return world.copy_package(tmp_path)


def _folder(pkg: Path, number: str = NUMBERS[0]) -> Path:
    return pkg / layout.dossier_dir(2024, "ZY·DJ", number)


def _check(world, path) -> verify.VerifyReport:
    return verify.verify_package(path, trust=keys.trust_list(world.archive.home), catalog=world.archive.home.catalog)


def _failed(report) -> set[str]:
    return {line.check for line in report.lines if line.status == "fail"}


def _refused(world, path, *expected_checks) -> verify.VerifyReport:
    """The package fails ``expected_checks``, cannot be accepted, and the archive stays as it was."""
    before = archive_counts(world.archive.home)
    report = _check(world, path)
    assert not report.passed
    assert set(expected_checks) <= _failed(report), (expected_checks, _failed(report))
    with pytest.raises(Refused):
        receive.receive(world.archive.s["archivist1"], path, decision="accept", passphrase=PASSPHRASE)
    assert archive_counts(world.archive.home) == before == {"dossiers": 0, "pages": 0, "accepted": 0, "image_files": 0}
    return report


def _resign(world, pkg: Path, oxum: bool = True) -> None:
    """Re-make manifests, Payload-Oxum, tag manifests and signature as a (faulty) trusted station would."""
    payload = [p for p in (pkg / "data").rglob("*") if p.is_file() and not p.is_symlink()]
    for alg in ("sha256", "sm3"):
        bagit.write_manifest(
            pkg, alg, {p.relative_to(pkg).as_posix(): hashlib.new(alg, p.read_bytes()).hexdigest() for p in payload}
        )
    if oxum:
        lines = (pkg / "bag-info.txt").read_text("utf-8").splitlines()
        total = sum(p.stat().st_size for p in payload)
        lines = [
            f"Payload-Oxum: {total}.{len(payload)}" if line.startswith("Payload-Oxum:") else line for line in lines
        ]
        (pkg / "bag-info.txt").write_text("\n".join(lines) + "\n", "utf-8")
    tags = ["bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest-sm3.txt"]
    tags += [t for t in ("audit-checkpoint.json",) if (pkg / t).exists()]
    for alg in ("sha256", "sm3"):
        bagit.write_manifest(
            pkg, alg, {t: hashlib.new(alg, (pkg / t).read_bytes()).hexdigest() for t in tags}, tag=True
        )
    signer = keys.signer(world.station.home, "station", PASSPHRASE)
    (pkg / layout.SIGNATURE).write_bytes(signer.sign((pkg / layout.SIGNED_TAG_MANIFEST).read_bytes()))


def test_r33_intact_package_passes_every_check(world, pkg):
    report = _check(world, pkg)
    assert report.passed, [line.to_dict() for line in report.failures]
    assert {line.property for line in report.lines} == set(verify.PROPERTIES)
    assert all(report.property_result(p) == "pass" for p in verify.PROPERTIES)
    malware = next(line for line in report.lines if line.check == "malware")
    assert malware.status in ("pass", "not_available")  # recorded either way
    assert report.signer["trusted_name"] == "S01" and report.tagmanifest_sm3 == world.sealed["tagmanifest_sm3"]
    json_path, pdf_path = verify.write_report(report, world.tmp / "reports")
    assert json_path.stat().st_size > 0 and pdf_path.read_bytes().startswith(b"%PDF")


def test_r33_one_byte_flipped_in_an_image(world, pkg):
    victim = _folder(pkg) / f"{NUMBERS[0]}-0002.jpg"
    data = bytearray(victim.read_bytes())
    data[-100] ^= 0x20
    victim.write_bytes(bytes(data))
    report = _refused(world, pkg, "checksums")
    assert any(victim.name in line.object for line in report.failures if line.check == "checksums")


def test_r33_a_file_removed(world, pkg):
    (_folder(pkg) / f"{NUMBERS[0]}-0003.jpg").unlink()
    _refused(world, pkg, "files", "oxum")


def test_r33_a_file_added(world, pkg):
    (_folder(pkg) / "extra.jpg").write_bytes(b"\xff\xd8\xff" + os.urandom(100))
    report = _refused(world, pkg, "unlisted", "files")
    assert any(line.object.endswith("extra.jpg") and line.property == "security" for line in report.failures)


def test_r33_manifest_edited(world, pkg):
    manifest = pkg / "manifest-sm3.txt"
    text = manifest.read_text("utf-8")
    manifest.write_text(text.replace(text[:8], "00000000", 1), "utf-8")
    _refused(world, pkg, "checksums")


def test_r33_bag_info_edited(world, pkg):
    info = pkg / "bag-info.txt"
    info.write_text(
        info.read_text("utf-8").replace("Source-Organization: 全宗 X001", "Source-Organization: 他人"), "utf-8"
    )
    report = _refused(world, pkg, "checksums")
    assert any(line.object == "bag-info.txt" for line in report.failures)


def test_r33_tag_manifest_deleted_is_noticed(world, pkg):
    (pkg / "tagmanifest-sha256.txt").unlink()
    (pkg / "tagmanifest-sm3.txt").unlink()
    _refused(world, pkg, "tag_manifest", "signature")  # Bagger #56


def test_r30_signature_from_an_untrusted_key(world, pkg):
    intruder = signing.generate_key("sm2", "intruder-passphrase").signer("intruder-passphrase")
    (pkg / layout.SIGNATURE).write_bytes(intruder.sign((pkg / layout.SIGNED_TAG_MANIFEST).read_bytes()))
    (pkg / layout.SIGNER_PEM).write_text(intruder.public_pem, "ascii")
    report = _refused(world, pkg, "signature")
    line = next(line for line in report.failures if line.check == "signature")
    assert "not trusted" in line.en and "信任" in line.zh
    assert "checksums" not in _failed(report)  # the content itself is intact


def test_r30_signature_missing(world, pkg):
    (pkg / layout.SIGNATURE).unlink()
    _refused(world, pkg, "signature")


def test_r30_signature_does_not_match(world, pkg):
    sig = bytearray((pkg / layout.SIGNATURE).read_bytes())
    sig[-1] ^= 0x01
    (pkg / layout.SIGNATURE).write_bytes(bytes(sig))
    _refused(world, pkg, "signature")


@pytest.mark.parametrize("bad_path", ["../outside.jpg", "/etc/passwd", "data/../../escape.txt"])
def test_r33_paths_outside_the_bag_in_a_manifest(world, pkg, bad_path):
    with open(pkg / "manifest-sha256.txt", "a", encoding="utf-8") as fh:
        fh.write(f"{'0' * 64}  {bad_path}\n")
    report = _refused(world, pkg, "paths")
    assert any(line.property == "security" and bad_path[:6] in line.en for line in report.failures)


def test_r33_symlink_in_the_payload_is_refused_unopened(world, pkg):
    link = _folder(pkg) / f"{NUMBERS[0]}-0004.jpg"
    os.symlink("/etc/passwd", link)
    report = _refused(world, pkg, "paths")
    assert any(line.status == "skipped" and line.check == "decode" for line in report.lines)  # nothing opened


def test_r33_zero_byte_and_truncated_jpeg(world, pkg):
    zero = _folder(pkg) / f"{NUMBERS[0]}-0001.jpg"
    zero.write_bytes(b"")
    cut = _folder(pkg, NUMBERS[1]) / f"{NUMBERS[1]}-0002.jpg"
    cut.write_bytes(cut.read_bytes()[: cut.stat().st_size // 2])
    _resign(world, pkg)
    report = _refused(world, pkg, "decode")
    objects = {line.object for line in report.failures if line.check == "decode"}
    assert any(o.endswith(zero.name) for o in objects) and any(o.endswith(cut.name) for o in objects)
    assert "signature" not in _failed(report) and "checksums" not in _failed(report)


def _huge_tiff(width: int, height: int) -> bytes:
    """A tiny TIFF whose header claims width × height pixels (8-bit grey, one strip)."""
    entries = [
        (256, 4, 1, width),
        (257, 4, 1, height),
        (258, 3, 1, 8),
        (259, 3, 1, 1),
        (262, 3, 1, 1),
        (273, 4, 1, 8 + 2 + 12 * 10 + 4),
        (277, 3, 1, 1),
        (278, 4, 1, height),
        (279, 4, 1, 16),
        (282, 5, 1, 0),
    ]
    ifd = struct.pack("<H", len(entries))
    res_offset = 8 + 2 + 12 * len(entries) + 4 + 16
    for tag, typ, count, value in entries:
        if tag == 282:
            value = res_offset
        ifd += (
            struct.pack("<HHII", tag, typ, count, value)
            if typ != 3
            else struct.pack("<HHIHH", tag, typ, count, value, 0)
        )
    return b"II*\x00" + struct.pack("<I", 8) + ifd + struct.pack("<I", 0) + b"\x00" * 16 + struct.pack("<II", 300, 1)


def test_r33_image_claiming_100000_by_100000_pixels_is_not_decoded(world, pkg):
    folder = _folder(pkg)
    (folder / f"{NUMBERS[0]}-0002.jpg").unlink()
    (folder / f"{NUMBERS[0]}-0002.tif").write_bytes(_huge_tiff(100_000, 100_000))
    _resign(world, pkg)
    report = _refused(world, pkg, "limits")
    line = next(line for line in report.failures if line.check == "limits")
    assert line.property == "security" and line.object.endswith("-0002.tif")


def test_r13_dossier_number_breaking_the_grammar(world, pkg):
    catalog = pkg / layout.CATALOG_XML
    bad = NUMBERS[2].replace("·", "・", 1)  # katakana middle dot, a look-alike (R13)
    catalog.write_text(catalog.read_text("utf-8").replace(f"<档号>{NUMBERS[2]}</档号>", f"<档号>{bad}</档号>"), "utf-8")
    _resign(world, pkg)
    report = _refused(world, pkg, "dossier_numbers")
    assert any(line.object == bad for line in report.failures if line.check == "dossier_numbers")


def test_r11_page_number_gap(world, pkg):
    folder = _folder(pkg)
    (folder / f"{NUMBERS[0]}-0003.jpg").rename(folder / f"{NUMBERS[0]}-0004.jpg")
    _resign(world, pkg)
    report = _refused(world, pkg, "sequence")
    assert any("0003" in line.en for line in report.failures if line.check == "sequence")


def test_r33_bag_info_with_a_1_mb_line(world, pkg):
    with open(pkg / "bag-info.txt", "a", encoding="utf-8") as fh:
        fh.write("External-Description: " + "x" * (1 << 20) + "\n")
    _resign(world, pkg, oxum=False)
    _refused(world, pkg, "limits")


def test_r23_non_utf8_file_name_in_the_payload(world, pkg):
    folder = os.fsencode(_folder(pkg))
    with open(os.path.join(folder, b"\xc9\xa8\xc3\xe8\xff.jpg"), "wb") as fh:  # GBK bytes, not UTF-8
        fh.write(b"\xff\xd8\xff\xe0")
    _refused(world, pkg, "paths")


def test_r23_zip_with_legacy_encoded_names_is_refused_unopened(world, tmp_path):
    class GbkName(zipfile.ZipInfo):
        def _encodeFilenameFlags(self):  # what many Windows zip tools write: GBK, no UTF-8 flag
            return self.filename.encode("gbk"), self.flag_bits

    target = tmp_path / "legacy.zip"
    with zipfile.ZipFile(target, "w") as zf:
        for path in sorted(world.package.rglob("*")):
            if path.is_file():
                zf.writestr(
                    GbkName(f"{world.package.name}/{path.relative_to(world.package).as_posix()}"), path.read_bytes()
                )
    report = _refused(world, target, "paths")
    assert any(line.status == "skipped" for line in report.lines)


def test_r33_zip_with_traversal_and_link_entries(world, tmp_path):
    target = tmp_path / "evil.zip"
    zip_package.write_zip(world.package, target)
    with zipfile.ZipFile(target, "a") as zf:
        zf.writestr(f"{world.package.name}/../../evil.txt", b"x")
        link = zipfile.ZipInfo(f"{world.package.name}/data/link.jpg")
        link.create_system = 3
        link.external_attr = 0o120777 << 16
        zf.writestr(link, "/etc/passwd")
    report = _refused(world, target, "paths")
    assert not (tmp_path / "evil.txt").exists() and not (tmp_path.parent / "evil.txt").exists()
    assert {line.en.split(" (")[0] for line in report.failures if line.check == "paths"} >= {
        "path outside the package",
        "a symbolic link",
    }


def test_r31_encrypted_image_is_refused(world, pkg):
    victim = _folder(pkg) / f"{NUMBERS[0]}-0001.jpg"
    victim.write_bytes(b"SSENC1\x00\x01" + os.urandom(64))
    _resign(world, pkg)
    _refused(world, pkg, "encryption")


def test_r33_low_resolution_image(world, pkg):
    victim = _folder(pkg) / f"{NUMBERS[0]}-0001.jpg"
    buf = io.BytesIO()
    with Image.open(victim) as im:
        im.save(buf, "JPEG", dpi=(150, 150))
    victim.write_bytes(buf.getvalue())
    _resign(world, pkg)
    _refused(world, pkg, "resolution")


def test_verify_without_a_home_uses_the_given_key(world, pkg):
    trusted = keys.trust_from_files([world.station_pem])
    assert verify.verify_package(pkg, trust=trusted).passed
    report = verify.verify_package(pkg, trust=None)
    assert _failed(report) == {"signature"}


# -- item: nothing outside data/ that no tag manifest lists -----------------------------------------
@pytest.mark.parametrize("rel", ["evil.sh", "extras/payload.exe", "tagmanifest-md5.txt.bak", "说明.txt"])
def test_r33_file_outside_data_not_in_a_tag_manifest_fails(world, pkg, rel):
    target = pkg / rel
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_bytes(b"#!/bin/sh\nrm -rf ~\n")
    report = _refused(world, pkg, "unlisted")
    assert any(line.object == rel and line.property == "security" for line in report.failures)


def test_r33_sparse_200_mb_tag_file_fails_and_is_not_copied(world, pkg):
    with open(pkg / "huge.bin", "wb") as fh:
        fh.truncate(200 * 1024 * 1024)  # sparse: costs no disk
    report = _refused(world, pkg, "unlisted")
    assert any(line.object == "huge.bin" for line in report.failures)
    assert not list((world.archive.home.path / "archive").rglob("huge.bin"))


def test_r30_signer_pem_and_signature_are_the_only_unlisted_tag_files_allowed(world, pkg):
    report = _check(world, pkg)
    assert report.passed, [line.to_dict() for line in report.failures]
    (pkg / "signer.pem.orig").write_bytes((pkg / layout.SIGNER_PEM).read_bytes())
    _refused(world, pkg, "unlisted")


# -- item: names that collide on Windows/macOS stores ---------------------------------------------
def test_r33_payload_names_differing_only_by_unicode_normalisation_are_refused(world, pkg):
    import unicodedata

    other = pkg / layout.OTHER_DIR
    nfc, nfd = unicodedata.normalize("NFC", "café.txt"), unicodedata.normalize("NFD", "café.txt")
    assert nfc != nfd
    (other / nfc).write_bytes(b"one")
    (other / nfd).write_bytes(b"two")
    _resign(world, pkg)  # correctly signed by the trusted station
    report = _refused(world, pkg, "paths")
    assert any("café" in unicodedata.normalize("NFC", line.object) for line in report.failures)


def test_r33_payload_names_differing_only_by_case_are_refused(world, pkg):
    other = pkg / layout.OTHER_DIR
    (other / "Readme.txt").write_bytes(b"one")
    (other / "README.txt").write_bytes(b"two")
    _resign(world, pkg)
    report = _refused(world, pkg, "paths")
    assert any(line.object.lower().endswith("readme.txt") for line in report.failures)


# -- item: a file changed or added between the check and the copy -----------------------------------
def _tamper_after_check(monkeypatch, change):
    """Run ``change(package root)`` after the check passed and before anything is copied."""
    original = receive._accept

    def accept_after_change(session, report, path, *args, **kwargs):
        change(report.root)
        return original(session, report, path, *args, **kwargs)

    monkeypatch.setattr(receive, "_accept", accept_after_change)


@pytest.mark.parametrize(
    "rel, how",
    [
        (layout.SIGNER_PEM, "edit"),
        (layout.CATALOG_XML, "edit"),
        (layout.DESCRIPTION, "edit"),
        (layout.SIGNATURE, "edit"),
        ("bag-info.txt", "edit"),
        ("tagmanifest-sha256.txt", "edit"),
        (f"{layout.dossier_dir(2024, 'ZY·DJ', NUMBERS[0])}/{NUMBERS[0]}-0001.jpg", "edit"),
        ("evil.sh", "add"),
        ("data/其他/payload.exe", "add"),
        (layout.REGISTER_PDF, "remove"),
    ],
)
def test_r33_file_changed_between_check_and_copy_is_not_received(world, pkg, monkeypatch, rel, how):
    def change(root):
        target = root / rel
        if how == "add":
            target.write_bytes(b"MZ\x90\x00 payload")
        elif how == "remove":
            target.unlink()
        else:
            target.write_bytes(target.read_bytes() + b"\n")

    _tamper_after_check(monkeypatch, change)
    assert _check(world, pkg).passed
    before = archive_counts(world.archive.home)
    with pytest.raises(CheckFailed) as caught:
        receive.receive(world.archive.s["archivist1"], pkg, decision="accept", passphrase=PASSPHRASE)
    assert rel.rsplit("/", 1)[-1] in caught.value.en and "nothing was received" in caught.value.en
    assert archive_counts(world.archive.home) == before
    home = world.archive.home
    assert not list((home.path / "archive").rglob("*.*")) if (home.path / "archive").exists() else True
    assert home.catalog.one("SELECT count(*) n FROM received_packages")["n"] == 0


# -- item: a receipt applies only to the package digest it names -----------------------------------
@pytest.mark.parametrize("damage", ["no_tag_manifest", "other_signed_package"])
def test_r30_rejected_look_alike_does_not_flip_the_real_batch(tmp_path, damage):
    import shutil

    from scanstation.errors import NotFound
    from scanstation.transfer import batches, outbox, receipts

    w = make_world(tmp_path)
    try:
        share = tmp_path / "share"
        share.mkdir()
        genuine = Path(outbox.send(w.station.s["clerk1"], "X001-2024-001", share)["path"])
        look_alike = tmp_path / "look-alike" / genuine.name
        shutil.copytree(genuine, look_alike)
        if damage == "no_tag_manifest":
            for name in ("tagmanifest-sha256.txt", "tagmanifest-sm3.txt"):
                (look_alike / name).unlink()
        else:  # a correctly signed package with the same batch id but other content
            (look_alike / layout.DESCRIPTION).write_text("另一个包\n", "utf-8")
            _resign(w, look_alike)
        archivist = w.archive.s["archivist1"]
        rejected = receive.receive(archivist, look_alike, decision="reject", reasons=["不完整"], passphrase=PASSPHRASE)
        assert rejected["decision"] == "rejected" and rejected["digest"] != w.sealed["tagmanifest_sm3"]
        with pytest.raises(NotFound) as caught:
            receipts.import_receipt(w.station.s["clerk1"], rejected["receipt_files"][0])
        assert "nothing was changed" in caught.value.en
        assert batches.get(w.station.home.catalog, "X001-2024-001")["state"] == "sent"
        accepted = receive.receive(archivist, genuine, decision="accept", passphrase=PASSPHRASE)
        imported = receipts.import_receipt(w.station.s["clerk1"], accepted["receipt_files"][0])
        assert imported["state"] == "received"
        assert batches.get(w.station.home.catalog, "X001-2024-001")["state"] == "received"
    finally:
        w.close()


def test_r33_zip_with_an_unlisted_file_outside_data_fails_and_nothing_is_kept(world, tmp_path):
    target = tmp_path / "extra.zip"
    zip_package.write_zip(world.package, target)
    with zipfile.ZipFile(target, "a") as zf:
        entry = zipfile.ZipInfo(f"{world.package.name}/extras/payload.exe")
        entry.create_system, entry.external_attr = 3, 0o100644 << 16  # a regular file
        zf.writestr(entry, b"MZ\x90\x00")
    report = _refused(world, target, "unlisted")
    assert any(line.object == "extras/payload.exe" for line in report.failures)
    assert not list((world.archive.home.path / "inbox").glob(".receive-*"))  # the extracted copy is gone


@pytest.mark.parametrize(
    "names",
    [
        ("data/其他/Ä.txt", "data/其他/ä.txt"),  # case, non-ASCII
        ("data/其他/ﬁle.txt", "data/其他/FILE.txt"),
    ],
)  # case-folded ligature
def test_r33_other_case_folding_collisions_are_refused(world, pkg, names):
    for i, name in enumerate(names):
        (pkg / name).write_bytes(b"x" * (i + 1))
    _resign(world, pkg)
    _refused(world, pkg, "paths")
