"""The four-property check accepts derived copies ({档号}.pdf / .ofd) beside the masters of a transfer
package, and reports a copy without its text layer or whose page count differs from 页数."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scanstation.export import copies
from scanstation.home import now_iso
from scanstation.ocr.layout import Line, PageLayout, Word, save_layout
from scanstation.transfer import keys, verify
from scanstation.transfer import package_layout as layout
from tests.test_transfer_fixtures import NUMBERS, make_world
from tests.test_transfer_verify import _resign


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    w = make_world(tmp_path_factory.mktemp("copies"))
    yield w
    w.close()


def _layout_all(home, number: str) -> None:
    rows = home.catalog.query(
        "SELECT p.id, p.width, p.height FROM pages p JOIN dossiers d ON d.id = p.dossier_id"
        " WHERE d.number = ? AND p.state = 'active'",
        (number,),
    )
    with home.catalog.write() as conn:
        for r in rows:
            save_layout(
                conn,
                r["id"],
                PageLayout(
                    r["width"],
                    r["height"],
                    "test",
                    (
                        Line(
                            "参保人员登记表",
                            (20, 20, 200, 40),
                            (Word("参保人员", (20, 20, 110, 40)), Word("登记表", (110, 20, 200, 40))),
                        ),
                    ),
                ),
                now_iso(),
            )


def _copy(world, tmp_path, number, fmt, with_text=True) -> Path:
    home = world.station.home
    if with_text:
        _layout_all(home, number)
    else:
        home.catalog.conn.execute("DELETE FROM page_layout")
    out = tmp_path / f"{fmt}-{with_text}"
    return Path(copies.export_copies(world.station.s["clerk1"], [number], out, fmt)["files"][0]["file"])


def _check(world, pkg):
    return verify.verify_package(pkg, trust=keys.trust_list(world.archive.home), catalog=world.archive.home.catalog)


def _folder(pkg: Path, number: str) -> Path:
    return pkg / layout.dossier_dir(2024, "ZY·DJ", number)


def test_r33_package_sealed_with_copies_passes(tmp_path):
    """batch seal --copy pdf --copy ofd: the copies are in the package, the register and the manifest;
    the four-property check passes with its copies line."""
    from scanstation.transfer import batches, seal
    from tests.test_transfer_fixtures import PASSPHRASE, make_archive, make_station, station_key

    station, archive = make_station(tmp_path / "station"), make_archive(tmp_path / "archive")
    try:
        keys.trust(archive.s["admin"], "S01", station_key(station, tmp_path))
        for number in NUMBERS:
            _layout_all(station.home, number)
        batch = batches.create(station.s["clerk1"], 2024)
        with pytest.raises(Exception):
            seal.seal(station.s["clerk1"], batch["batch_id"], "station", PASSPHRASE, copies=("docx",))
        sealed = seal.seal(station.s["clerk1"], batch["batch_id"], "station", PASSPHRASE, copies=("pdf", "ofd"))
        pkg = Path(sealed["package"])
        for number in NUMBERS:
            assert (_folder(pkg, number) / f"{number}.pdf").is_file() and (
                _folder(pkg, number) / f"{number}.ofd"
            ).is_file()
        report = verify.verify_package(pkg, trust=keys.trust_list(archive.home), catalog=archive.home.catalog)
        # NUMBERS[1] has a not-scanned page: its copies have 2 pages for 页数 3, which is reported
        failed = {(line.check, line.dossier) for line in report.failures}
        assert failed == {("copies", NUMBERS[1])}, [line.to_dict() for line in report.failures]
        assert report.counts["images"] == 7 and report.counts["files"] == 7 + 3 + 6  # images, metadata, copies
    finally:
        station.close()
        archive.close()


def test_r33_copy_without_text_layer_or_with_wrong_page_count_is_reported(world, tmp_path):
    pkg = world.copy_package(tmp_path)
    shutil.copy(
        _copy(world, tmp_path, NUMBERS[0], "pdf", with_text=False), _folder(pkg, NUMBERS[0]) / f"{NUMBERS[0]}.pdf"
    )
    # NUMBERS[1]: 2 images and a not-scanned note, 页数 3: the copy has 2 pages
    shutil.copy(_copy(world, tmp_path, NUMBERS[1], "ofd"), _folder(pkg, NUMBERS[1]) / f"{NUMBERS[1]}.ofd")
    _resign(world, pkg)
    report = _check(world, pkg)
    assert not report.passed
    failed = [line for line in report.failures if line.check == "copies"]
    assert {line.dossier for line in failed} == {NUMBERS[0], NUMBERS[1]}
    assert any("without a text layer" in line.en for line in failed if line.dossier == NUMBERS[0])
    assert any("2 pages but 页数 is 3" in line.en for line in failed if line.dossier == NUMBERS[1])
    assert all(line.property == "usability" for line in failed)
    # added after sealing, so the register's counts and digest no longer agree either; nothing else is disturbed
    assert {line.check for line in report.failures} == {"copies", "register_counts", "register_digest"}


def test_damaged_copy_is_reported_not_a_traceback(world, tmp_path):
    pkg = world.copy_package(tmp_path)
    (_folder(pkg, NUMBERS[2]) / f"{NUMBERS[2]}.pdf").write_bytes(b"%PDF-1.4 broken")
    _resign(world, pkg)
    report = _check(world, pkg)
    copies_failed = [line for line in report.failures if line.check == "copies"]
    assert {line.check for line in report.failures} == {"copies", "register_counts", "register_digest"}
    assert len(copies_failed) == 1 and "not a readable PDF" in copies_failed[0].en
