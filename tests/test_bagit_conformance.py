"""Every bag of the Library of Congress BagIt conformance suite is classified as the suite says.

valid/ must validate; invalid/, linux-only/ and windows-only/ must fail (paths that escape the
bag are refused on every platform); warning/ validate with a warning and fail under strict=True.
The suite is found through SCANSTATION_BAGIT_CONFORMANCE, else in tests/data/bagit-conformance (the
Library of Congress bags, public domain, copied with their licence).
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from scanstation.transfer.bagit import validate_bag

SUITE = Path(
    os.environ.get("SCANSTATION_BAGIT_CONFORMANCE") or Path(__file__).resolve().parent / "data" / "bagit-conformance"
)

EXPECT_VALID = {"valid": True, "warning": True, "invalid": False, "linux-only": False, "windows-only": False}

#: The finding that must explain each known case (cases added to the suite later are still
#: classified by their folder).
REASONS = {
    "v0.97/invalid/baginfo-missing-encoding": "bagit-malformed",
    "v0.97/invalid/bom-in-bagit.txt": "bagit-malformed",
    "v0.97/invalid/corrupt-data-file": "digest-mismatch",
    "v0.97/invalid/corrupt-tag-file": "tag-digest-mismatch",
    "v0.97/invalid/extra-file-in-bag": "file-unlisted",
    "v0.97/invalid/invalid-version-number": "bagit-malformed",
    "v0.97/invalid/missing-baginfo": "tag-file-missing",
    "v0.97/invalid/missing-bagit.txt": "bagit-missing",
    "v0.97/invalid/out-of-scope-file-paths-using-dot-notation": "path-unsafe",
    "v0.97/invalid/out-of-scope-file-paths-using-dot-notation-for-fetch": "path-unsafe",
    "v0.97/invalid/same-filename-listed-twice-with-different-hashes": "manifest-conflict",
    "v0.97/linux-only/out-of-scope-file-paths-using-absolute-path": "path-unsafe",
    "v0.97/linux-only/out-of-scope-file-paths-using-absolute-path-for-fetch": "path-unsafe",
    "v0.97/linux-only/out-of-scope-file-paths-using-shortcut": "path-unsafe",
    "v0.97/linux-only/out-of-scope-file-paths-using-shortcut-for-fetch": "path-unsafe",
    "v0.97/linux-only/out-of-scope-file-paths-using-shortcut-username": "path-unsafe",
    "v0.97/linux-only/out-of-scope-file-paths-using-shortcut-username-for-fetch": "path-unsafe",
    "v0.97/windows-only/out-of-scope-file-paths-using-absolute-path": "path-unsafe",
    "v0.97/windows-only/out-of-scope-file-paths-using-absolute-path-for-fetch": "path-unsafe",
    "v0.97/windows-only/out-of-scope-file-paths-using-shortcut": "path-unsafe",
    "v0.97/windows-only/out-of-scope-file-paths-using-shortcut-for-fetch": "path-unsafe",
    "v0.97/windows-only/out-of-scope-file-paths-using-unc": "path-unsafe",
    "v0.97/windows-only/out-of-scope-file-paths-using-unc-for-fetch": "path-unsafe",
    "v0.97/warning/duplicate-file-with-different-case": "case-alias",
    "v0.97/warning/made-with-md5sum-tools": "md5sum-marker",
    "v0.97/warning/relative-path": "path-dot-slash",
    "v0.97/warning/same-filename-listed-twice-with-different-normalization": "normalization-alias",
    "v0.97/warning/same-filename-listed-twice-with-the-same-hash": "manifest-duplicate",
    "v0.97/warning/special-system-files": "system-file",
    "v0.97/valid/holey-bag": "fetch-present",
    "v1.0/invalid/bagit-with-invalid-whitespace": "bagit-malformed",
    "v1.0/invalid/notAllManifestsListAllFiles": "file-unlisted",
    "v1.0/invalid/same-filename-listed-twice-with-different-hashes": "manifest-conflict",
    "v1.0/invalid/same-filename-listed-twice-with-the-same-hash": "manifest-duplicate",
}


def _cases() -> list[Path]:
    if not SUITE.is_dir():
        return []
    return sorted(p for p in SUITE.glob("v*/*/*") if p.is_dir() and p.parent.name in EXPECT_VALID)


CASES = _cases()
needs_suite = pytest.mark.skipif(
    not CASES, reason=f"BagIt conformance suite not found at {SUITE} (set SCANSTATION_BAGIT_CONFORMANCE)"
)


@needs_suite
def test_suite_is_complete_enough():
    names = {c.relative_to(SUITE).as_posix() for c in CASES}
    assert len(CASES) >= 40
    assert set(REASONS) <= names  # every case this file explains is really there


@needs_suite
@pytest.mark.parametrize("bag", CASES, ids=lambda p: p.relative_to(SUITE).as_posix())
def test_conformance_case_is_classified(bag: Path):
    name = bag.relative_to(SUITE).as_posix()
    category = bag.parent.name
    report = validate_bag(bag)
    explained = report.problems + report.warnings
    assert report.valid is EXPECT_VALID[category], [(p.code, p.object) for p in explained]
    if category == "warning":
        assert report.warnings, "a warning bag must produce a warning"
        strict = validate_bag(bag, strict=True)
        assert not strict.valid and {p.code for p in strict.problems} >= {p.code for p in report.warnings}
    if category in ("linux-only", "windows-only"):
        assert report.security_problems, "escaping paths are a security finding"
    if name in REASONS:
        assert REASONS[name] in {p.code for p in explained}
    for p in explained:  # every finding speaks both languages
        assert p.en and p.zh and p.en != p.zh


@needs_suite
def test_holey_bag_lists_its_fetch_items_and_is_complete():
    report = validate_bag(SUITE / "v0.97" / "valid" / "holey-bag")
    assert report.valid and report.complete
    assert len(report.fetch) == 5 and all(item.path.startswith("data/") for item in report.fetch)
    assert "fetch-present" in report.warning_codes()
    assert not validate_bag(SUITE / "v0.97" / "valid" / "holey-bag", strict=True).valid


@needs_suite
def test_tag_files_in_other_encodings_are_parsed():
    utf16 = validate_bag(SUITE / "v0.97" / "valid" / "UTF-16-encoded-tag-files")
    assert utf16.encoding == "UTF-16"
    assert utf16.info_values("Payload-Oxum") == ["58.2"]
    assert utf16.manifests["md5"]["data/bare-filename"] == "751e32179ec8acd71081654527f2e771"
    latin1 = validate_bag(SUITE / "v0.97" / "valid" / "ISO-8859-1-encoded-tag-files")
    assert latin1.encoding == "ISO-8859-1" and latin1.valid


@needs_suite
def test_bag_info_repeated_labels_continuations_and_separators():
    dup = validate_bag(SUITE / "v0.97" / "valid" / "duplicate-metadata-entries")
    assert dup.info_values("bagging-date") == ["2016-02-26", "2016-03-10"]
    assert dup.info_values("Case-Insensitivity-Test") == ["1", "2", "3"]
    seps = validate_bag(SUITE / "v0.97" / "valid" / "uncommon-metadata-separators")
    assert seps.info_values("Test-Tag") == ["1", "2", "3", "4", "5"]
    folded = validate_bag(SUITE / "v0.97" / "valid" / "bag-in-a-bag")
    assert folded.info_values("External-Description") == [
        "Uncompressed greyscale TIFF images from the Yoshimuri papers collection."
    ]
