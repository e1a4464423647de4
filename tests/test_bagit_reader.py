"""Our BagIt writer and validator, checked against bagit-python as an independent reader.

Bags are made here with the same calls sealing uses (sha256 + sm3 manifests and tag manifests),
then damaged one way at a time; each damage must be found with the right problem code.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from pathlib import Path

import bagit
import pytest

from scanstation.errors import InvalidInput
from scanstation.transfer.bagit import (
    CHUNK,
    decode_path,
    encode_path,
    hash_files,
    payload_oxum,
    unsafe_path_reason,
    validate_bag,
    write_bag_info,
    write_bagit_txt,
    write_manifest,
)

ALGS = ("sha256", "sm3")
POSIX = os.name == "posix"

FILES = {
    "说明文件.txt": "本批次移交 3 卷档案。\n".encode(),
    "电子档案/2024/A/社保·2024·A·0001/0001.jpg": os.urandom(3 * CHUNK + 17),
    "电子档案/2024/A/社保·2024·A·0001/0002.jpg": os.urandom(5000),
    "其他/with space.txt": b"spaces in names\n",
    "empty.txt": b"",
}


@pytest.fixture
def oracle(monkeypatch):
    """bagit-python, taught to read sm3 manifests (it only looks for hashlib's guaranteed names)."""
    monkeypatch.setattr(bagit, "CHECKSUM_ALGOS", set(bagit.CHECKSUM_ALGOS) | {"sm3"})
    return bagit


def seal_tags(bag: Path, algs=ALGS) -> None:
    tags = sorted(p.name for p in bag.iterdir() if p.is_file() and not p.name.startswith("tagmanifest-"))
    hashed = hash_files([bag / t for t in tags], algs)
    for alg in algs:
        write_manifest(bag, alg, {t: hashed.digests[bag / t][alg] for t in tags}, tag=True)


def make_bag(root: Path, files: dict[str, bytes] = FILES, algs=ALGS) -> Path:
    bag = root / "bag"
    for rel, content in files.items():
        target = bag / "data" / rel
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(content)
    payload = sorted(f"data/{rel}" for rel in files)
    hashed = hash_files([bag / p for p in payload], algs, workers=2)
    for alg in algs:
        write_manifest(bag, alg, {p: hashed.digests[bag / p][alg] for p in payload})
    write_bagit_txt(bag)
    write_bag_info(
        bag,
        [
            ("Source-Organization", "某某县社会保险事业管理局"),
            ("Bagging-Date", "2025-01-15"),
            ("Payload-Oxum", payload_oxum({p: hashed.sizes[bag / p] for p in payload})),
            ("External-Identifier", "BATCH-2024-001"),
        ],
    )
    seal_tags(bag, algs)
    return bag


@pytest.fixture
def bag(tmp_path) -> Path:
    return make_bag(tmp_path)


def codes(report) -> set[str]:
    return {p.code for p in report.problems}


def objects(report, code) -> set[str]:
    return {p.object for p in report.problems if p.code == code}


def oracle_valid(oracle, path: Path) -> bool:
    return oracle.Bag(str(path)).is_valid()


# -- good bags, both ways ---------------------------------------------------------------------


def test_r22_our_bag_validates_with_us_and_with_bagit_python(bag, oracle):
    report = validate_bag(bag, require_tag_manifest=True, algorithms=["sha256", "sm3"], strict=True)
    assert report.valid, [(p.code, p.object) for p in report.problems]
    assert report.version == "1.0" and report.encoding == "UTF-8"
    assert set(report.manifests) == {"sha256", "sm3"} and set(report.tag_manifests) == {"sha256", "sm3"}
    assert report.checked_algorithms == ["sha256", "sm3"] and report.hashed
    assert len(report.payload) == len(FILES)
    data = bag / "data" / "电子档案/2024/A/社保·2024·A·0001/0001.jpg"
    rel = "data/电子档案/2024/A/社保·2024·A·0001/0001.jpg"
    assert report.manifests["sm3"][rel] == hashlib.new("sm3", data.read_bytes()).hexdigest()
    assert report.info_values("payload-oxum") == [f"{sum(len(c) for c in FILES.values())}.{len(FILES)}"]
    assert report.uncovered_tag_files == []
    json.dumps(report.to_dict(), ensure_ascii=False)
    bp = oracle.Bag(str(bag))
    assert sorted(bp.algorithms) == ["sha256", "sm3"]
    bp.validate()  # raises BagValidationError if bagit-python disagrees


def test_r22_bagit_python_bag_validates_with_us(tmp_path, oracle):
    folder = tmp_path / "made-by-bagit-python"
    (folder / "档号").mkdir(parents=True)
    (folder / "档号" / "0001.jpg").write_bytes(os.urandom(20000))
    (folder / "readme.txt").write_text("说明\n", encoding="utf-8")
    oracle.make_bag(str(folder), {"Source-Organization": "档案馆"}, checksums=list(ALGS))
    report = validate_bag(folder, require_tag_manifest=True, algorithms=ALGS)
    assert report.valid, [(p.code, p.object) for p in report.problems]
    assert report.info_values("Source-Organization") == ["档案馆"]


def test_r22_sm3_manifest_is_really_checked(bag, oracle):
    """Damage that only the sm3 manifest can see is found by us and by bagit-python with sm3."""
    rel = "data/empty.txt"
    (bag / rel).write_bytes(b"now not empty")
    new_sha = hashlib.sha256(b"now not empty").hexdigest()
    manifest = bag / "manifest-sha256.txt"
    manifest.write_text(manifest.read_text("utf-8").replace(hashlib.sha256(b"").hexdigest(), new_sha), "utf-8")
    info = bag / "bag-info.txt"
    oxum = payload_oxum([p for p in (bag / "data").rglob("*") if p.is_file()])
    lines = [
        line if not line.startswith("Payload-Oxum") else f"Payload-Oxum: {oxum}"
        for line in info.read_text("utf-8").splitlines()
    ]
    info.write_text("\n".join(lines) + "\n", "utf-8")
    seal_tags(bag)
    report = validate_bag(bag)
    assert codes(report) == {"digest-mismatch"}
    assert [(p.object, "sm3" in p.en) for p in report.problems] == [(rel, True)]
    assert validate_bag(bag, algorithms=["sha256"]).valid
    assert not oracle_valid(oracle, bag)


def test_percent_encoding_of_cr_lf_and_percent(tmp_path, oracle):
    assert encode_path("data/a%b\r\nc") == "data/a%25b%0D%0Ac"
    assert decode_path("data/a%25b%0d%0Ac%7E") == "data/a%b\r\nc%7E"
    assert decode_path(encode_path("data/100%25 %0A")) == "data/100%25 %0A"
    if not POSIX:
        pytest.skip("line breaks in file names need a POSIX file system")
    bag = make_bag(
        tmp_path / "ours", {"line\nbreak.txt": b"x", "car\rriage.txt": b"c", "50%.txt": b"y", "a%0Ab.txt": b"z"}
    )
    text = (bag / "manifest-sha256.txt").read_text("utf-8")
    assert "data/line%0Abreak.txt" in text and "data/50%25.txt" in text and "data/a%250Ab.txt" in text
    report = validate_bag(bag, strict=True)
    assert report.valid, [(p.code, p.object) for p in report.problems]
    assert {"data/line\nbreak.txt", "data/car\rriage.txt", "data/a%0Ab.txt"} <= set(report.manifests["sha256"])
    # bagit-python 1.9 decodes only %0D/%0A, not %25 (its issue #157): names with '%' are the one
    # place where RFC 8493 and bagit-python disagree, so it reads our CR/LF names but not '%' ones.
    assert not oracle_valid(oracle, bag)
    crlf = make_bag(tmp_path / "crlf", {"line\nbreak.txt": b"x", "car\rriage.txt": b"c"})
    assert validate_bag(crlf, strict=True).valid and oracle_valid(oracle, crlf)
    # Tools that write '%' unencoded in a 1.0 bag: we read the literal name, with a warning.
    literal = make_bag(tmp_path / "literal", {"50%25 done.txt": b"y"})
    for manifest in literal.glob("manifest-*.txt"):
        manifest.write_text(manifest.read_text("utf-8").replace("%2525", "%25"), "utf-8")
    seal_tags(literal)
    theirs = validate_bag(literal)
    assert theirs.valid and "percent-not-encoded" in theirs.warning_codes()
    assert "data/50%25 done.txt" in theirs.manifests["sm3"]
    assert oracle_valid(oracle, literal)


# -- tampering --------------------------------------------------------------------------------


def test_r33_one_byte_flipped_is_found(bag, oracle):
    rel = "data/电子档案/2024/A/社保·2024·A·0001/0001.jpg"
    data = bytearray((bag / rel).read_bytes())
    data[CHUNK + 5] ^= 0x01
    (bag / rel).write_bytes(bytes(data))
    report = validate_bag(bag)
    assert codes(report) == {"digest-mismatch"} and objects(report, "digest-mismatch") == {rel}
    assert len(report.problems) == 2  # one per algorithm
    assert validate_bag(bag, fast=True).valid  # fast mode does not read payload files
    assert not oracle_valid(oracle, bag)


def test_r33_file_removed_is_found(bag, oracle):
    rel = "data/电子档案/2024/A/社保·2024·A·0001/0002.jpg"
    (bag / rel).unlink()
    report = validate_bag(bag, fast=True)
    assert codes(report) == {"file-missing", "payload-oxum-mismatch"}
    assert objects(report, "file-missing") == {rel}
    assert not oracle_valid(oracle, bag)


def test_r33_file_added_is_found(bag, oracle):
    (bag / "data" / "其他" / "extra.jpg").write_bytes(b"not in the manifest")
    report = validate_bag(bag)
    assert codes(report) == {"file-unlisted", "payload-oxum-mismatch"}
    assert objects(report, "file-unlisted") == {"data/其他/extra.jpg"}
    assert not oracle_valid(oracle, bag)


def test_r33_manifest_line_edited_is_found(bag, oracle):
    manifest = bag / "manifest-sm3.txt"
    lines = manifest.read_text("utf-8").splitlines()
    digest, path = lines[0].split("  ", 1)
    lines[0] = ("0" if digest[0] != "0" else "1") + digest[1:] + "  " + path
    manifest.write_text("\n".join(lines) + "\n", "utf-8")
    report = validate_bag(bag)
    assert codes(report) == {"digest-mismatch", "tag-digest-mismatch"}
    assert objects(report, "digest-mismatch") == {path}
    assert objects(report, "tag-digest-mismatch") == {"manifest-sm3.txt"}
    assert not oracle_valid(oracle, bag)


def test_r33_bag_info_edited_is_found(bag, oracle):
    info = bag / "bag-info.txt"
    info.write_text(info.read_text("utf-8").replace("BATCH-2024-001", "BATCH-2024-002"), "utf-8")
    for fast in (False, True):  # tag files are small: checked even in fast mode
        report = validate_bag(bag, fast=fast)
        assert codes(report) == {"tag-digest-mismatch"}
        assert objects(report, "tag-digest-mismatch") == {"bag-info.txt"}
    assert report.info_values("External-Identifier") == ["BATCH-2024-002"]
    assert not oracle_valid(oracle, bag)


def test_r33_tag_manifest_deleted_is_reported_when_required(bag):
    """Bagger #56: deleting every tag manifest leaves an RFC-valid bag, so the receiver must require one."""
    for tm in bag.glob("tagmanifest-*.txt"):
        tm.unlink()
    assert validate_bag(bag).valid
    report = validate_bag(bag, require_tag_manifest=True)
    assert codes(report) == {"tag-manifest-missing"}
    assert set(report.uncovered_tag_files) == {"bagit.txt", "bag-info.txt", "manifest-sha256.txt", "manifest-sm3.txt"}


def test_r33_tag_manifest_that_skips_bag_info_is_incomplete(bag):
    for tm in bag.glob("tagmanifest-*.txt"):
        kept = [line for line in tm.read_text("utf-8").splitlines() if not line.endswith(" bag-info.txt")]
        tm.write_text("\n".join(kept) + "\n", "utf-8")
    assert validate_bag(bag).valid
    report = validate_bag(bag, require_tag_manifest=True)
    assert codes(report) == {"tag-manifest-incomplete"}
    assert report.uncovered_tag_files == ["bag-info.txt"]


@pytest.mark.parametrize(
    "evil, reason",
    [
        ("data/../../outside.txt", "'..' component"),
        ("../outside.txt", "'..' component"),
        ("/etc/passwd", "absolute path"),
        ("C:\\Windows\\win.ini", "drive letter"),
        ("data\\..\\..\\x", "backslash"),
        ("~/x", "home-folder shortcut"),
    ],
)
def test_r33_paths_outside_the_bag_are_a_security_failure(bag, evil, reason):
    outside = bag.parent / "outside.txt"
    outside.write_bytes(b"secret")
    for alg in ALGS:
        digest = hashlib.new(alg, b"secret").hexdigest()
        with open(bag / f"manifest-{alg}.txt", "a", encoding="utf-8") as fh:
            fh.write(f"{digest}  {evil}\n")
    report = validate_bag(bag)
    assert "path-unsafe" in codes(report)
    assert all(p.security for p in report.problems if p.code == "path-unsafe")
    assert any(reason in p.en for p in report.problems)
    assert unsafe_path_reason(evil) == reason


@pytest.mark.skipif(not hasattr(os, "symlink") or not POSIX, reason="needs POSIX symlinks")
def test_r33_symlink_in_payload_is_refused(bag):
    target = bag.parent / "outside.jpg"
    target.write_bytes(b"outside the bag")
    link = bag / "data" / "link.jpg"
    os.symlink(target, link)
    for alg in ALGS:  # even when the manifests vouch for the link's target
        with open(bag / f"manifest-{alg}.txt", "a", encoding="utf-8") as fh:
            fh.write(f"{hashlib.new(alg, b'outside the bag').hexdigest()}  data/link.jpg\n")
    report = validate_bag(bag)
    assert "symlink" in codes(report) and objects(report, "symlink") == {"data/link.jpg"}
    assert report.security_problems
    assert "data/link.jpg" not in report.payload


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_r33_device_or_special_file_is_refused_without_hanging(bag):
    os.mkfifo(bag / "data" / "pipe")
    report = validate_bag(bag)
    assert objects(report, "special-file") == {"data/pipe"} and report.security_problems


def test_r33_bag_info_with_1mb_line_is_refused(bag):
    with open(bag / "bag-info.txt", "a", encoding="utf-8") as fh:
        fh.write("Internal-Sender-Description: " + "长" * (1 << 20) + "\n")
    seal_tags(bag)  # even correctly sealed, such a line is refused
    report = validate_bag(bag)
    assert codes(report) == {"line-too-long"} and objects(report, "line-too-long") == {"bag-info.txt"}
    assert report.security_problems


def test_oversized_tag_file_is_refused_not_read(bag):
    report = validate_bag(bag, max_tag_file_bytes=200)
    assert "tag-file-too-large" in codes(report)
    assert {"manifest-sha256.txt", "manifest-sm3.txt"} <= objects(report, "tag-file-too-large")


@pytest.mark.skipif(sys.platform != "linux", reason="needs a file system that stores raw name bytes")
def test_r33_non_utf8_file_name_is_refused(bag):
    fd = os.open(os.fsencode(bag / "data") + b"/\xff\xfe-0003.jpg", os.O_CREAT | os.O_WRONLY, 0o644)
    os.write(fd, b"jpeg")
    os.close(fd)
    report = validate_bag(bag)
    assert "name-not-utf8" in codes(report)
    assert any("\\xff\\xfe" in p.object for p in report.problems)


def test_manifest_with_non_utf8_bytes_is_a_problem(bag):
    with open(bag / "manifest-sha256.txt", "ab") as fh:
        fh.write(hashlib.sha256(b"").hexdigest().encode() + b"  data/\xb5\xb5\xb0\xb8.jpg\n")  # GBK, not UTF-8
    report = validate_bag(bag)
    assert "tag-file-encoding" in codes(report) and objects(report, "tag-file-encoding") == {"manifest-sha256.txt"}
    assert any(f"line {len(FILES) + 1}" in p.en and f"第 {len(FILES) + 1} 行" in p.zh for p in report.problems)


def test_paths_are_case_sensitive(bag):
    (bag / "data" / "empty.txt").rename(bag / "data" / "EMPTY.txt")
    report = validate_bag(bag, fast=True)
    assert objects(report, "file-missing") == {"data/empty.txt"}
    assert objects(report, "file-unlisted") == {"data/EMPTY.txt"}


def test_duplicate_manifest_entries(bag):
    manifest = bag / "manifest-sha256.txt"
    first = manifest.read_text("utf-8").splitlines()[0]
    with open(manifest, "a", encoding="utf-8") as fh:
        fh.write(first + "\n")
    assert "manifest-duplicate" in codes(validate_bag(bag))
    digest, path = first.split("  ", 1)
    with open(manifest, "a", encoding="utf-8") as fh:
        fh.write(("f" * 64) + "  " + path + "\n")
    assert "manifest-conflict" in codes(validate_bag(bag))


def test_missing_fetch_item_makes_the_bag_incomplete(bag):
    rel = "data/其他/with space.txt"
    (bag / rel).unlink()
    (bag / "fetch.txt").write_text(f"https://example.org/x - {rel}\n", "utf-8")
    report = validate_bag(bag)
    assert not report.complete and objects(report, "fetch-incomplete") == {rel}
    assert "file-missing" not in codes(report)


def test_required_algorithms_must_be_present(tmp_path):
    bag = make_bag(tmp_path, {"a.txt": b"a"}, algs=("md5",))
    report = validate_bag(bag, algorithms=["sha256", "sm3"])
    assert objects(report, "algorithm-missing") == {"manifest-sha256.txt", "manifest-sm3.txt"}
    assert "weak-algorithm" in {p.code for p in report.warnings}


def test_bagit_txt_rules(bag):
    (bag / "bagit.txt").write_bytes(b"\xef\xbb\xbfBagIt-Version: 1.0\nTag-File-Character-Encoding: UTF-8\n")
    assert "bagit-malformed" in codes(validate_bag(bag, fast=True))
    (bag / "bagit.txt").write_bytes(b"BagIt-Version: 2.0\nTag-File-Character-Encoding: UTF-8\n")
    assert "version-unsupported" in codes(validate_bag(bag, fast=True))
    (bag / "bagit.txt").write_bytes(b"BagIt-Version: 1.0\nTag-File-Character-Encoding: KLINGON-1\n")
    assert "encoding-unsupported" in codes(validate_bag(bag, fast=True))
    (bag / "bagit.txt").unlink()
    assert codes(validate_bag(bag)) == {"bagit-missing"}


def test_bag_info_syntax(bag):
    (bag / "bag-info.txt").write_text("Contact-Name: A\n  continued here\nno colon on this line\n", "utf-8")
    report = validate_bag(bag, fast=True)
    assert report.info_values("contact-name") == ["A continued here"]
    assert "bag-info-syntax" in codes(report)


def test_not_a_folder(tmp_path):
    assert codes(validate_bag(tmp_path / "nothing")) == {"not-a-directory"}


# -- writer and hashing -----------------------------------------------------------------------


def test_hash_files_one_pass_many_algorithms_in_parallel(tmp_path):
    contents = [b"", b"abc", os.urandom(CHUNK * 2 + 3), os.urandom(CHUNK - 1)]
    paths = []
    for i, content in enumerate(contents):
        paths.append(tmp_path / f"f{i}")
        paths[-1].write_bytes(content)
    seen = []
    result = hash_files(paths, ["sha256", "sm3", "md5"], workers=2, progress=seen.append)
    for path, content in zip(paths, contents):
        assert result.digests[path] == {alg: hashlib.new(alg, content).hexdigest() for alg in ("sha256", "sm3", "md5")}
        assert result.sizes[path] == len(content)
    assert sum(seen) == sum(len(c) for c in contents)
    assert hash_files(paths, ["sm3"], workers=1).digests == {p: {"sm3": d["sm3"]} for p, d in result.digests.items()}
    missing = hash_files([tmp_path / "nope"], ["sha256"])
    assert tmp_path / "nope" in missing.errors and not missing.digests
    with pytest.raises(InvalidInput):
        hash_files(paths, ["crc32"])


@pytest.mark.skipif(not POSIX, reason="needs POSIX symlinks and pipes")
def test_hash_files_refuses_links_and_pipes(tmp_path):
    (tmp_path / "real").write_bytes(b"x")
    os.symlink(tmp_path / "real", tmp_path / "link")
    os.mkfifo(tmp_path / "pipe")
    result = hash_files([tmp_path / "link", tmp_path / "pipe"], ["sha256"])
    assert set(result.errors) == {tmp_path / "link", tmp_path / "pipe"}


def test_writers_refuse_bad_input(tmp_path):
    with pytest.raises(InvalidInput):
        write_manifest(tmp_path, "sha256", {"data/../x": "0" * 64})
    with pytest.raises(InvalidInput):
        write_manifest(tmp_path, "sha256", {"bagit.txt": "0" * 64})  # payload manifests list data/ only
    with pytest.raises(InvalidInput):
        write_manifest(tmp_path, "sha256", {"data/x": "0" * 63})
    with pytest.raises(InvalidInput):
        write_bag_info(tmp_path, [("Bad: Label", "x")])
    with pytest.raises(InvalidInput):
        write_bag_info(tmp_path, [("Label", "two\nlines")])
    assert payload_oxum({"data/a": 3, "data/b": 0}) == "3.2"
    assert payload_oxum([]) == "0.0"
    written = write_bag_info(tmp_path, [("Source-Organization", "社保局"), ("Note", "a"), ("Note", "b")])
    assert written.read_text("utf-8") == "Source-Organization: 社保局\nNote: a\nNote: b\n"
