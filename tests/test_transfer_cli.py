"""The transfer commands from the command line: batch, keys, verify, receive, receipt import, bag validate."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanstation.cli.main import main
from scanstation.errors import ExitCode
from scanstation.transfer import outbox
from tests.test_bagit_conformance import CASES, EXPECT_VALID, SUITE
from tests.test_transfer_fixtures import PASSPHRASE, PASSWORD, make_station, make_world


@pytest.fixture(autouse=True)
def env(monkeypatch):
    monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
    monkeypatch.setenv("SCANSTATION_KEY_PASSPHRASE", PASSPHRASE)
    monkeypatch.setenv("SCANSTATION_LANG", "en")
    monkeypatch.delenv("SCANSTATION_HOME", raising=False)
    monkeypatch.delenv("SCANSTATION_USER", raising=False)


def run(capsys, *argv) -> tuple[int, str]:
    code = main([str(a) for a in argv])
    return code, capsys.readouterr().out


def test_cli_station_side_keys_batch_seal_send(tmp_path, capsys):
    station = make_station(tmp_path / "station")
    home = station.home.path
    try:
        code, out = run(
            capsys, "--home", home, "--user", "admin", "keys", "generate", "station", "--alg", "sm2", "--json"
        )
        assert code == 0 and json.loads(out)["algorithm"] == "sm2"
        code, _ = run(
            capsys, "--home", home, "--user", "admin", "keys", "export", "station", "--out", tmp_path / "s.pem"
        )
        assert code == 0 and (tmp_path / "s.pem").read_text().startswith("-----BEGIN PUBLIC KEY-----")
        code, _ = run(capsys, "--home", home, "--user", "clerk1", "keys", "generate", "mine")
        assert code == ExitCode.REFUSED  # keys are for administrators
        code, out = run(capsys, "--home", home, "--user", "clerk1", "batch", "create", "--year", "2024", "--json")
        assert code == 0 and json.loads(out)["batch_id"] == "X001-2024-001"
        code, out = run(
            capsys, "--home", home, "--user", "clerk1", "batch", "seal", "X001-2024-001", "--key", "station", "--json"
        )
        sealed = json.loads(out)
        assert code == 0 and sealed["state"] == "sealed" and Path(sealed["package"]).is_dir()
        dest = tmp_path / "drive"
        dest.mkdir()
        code, out = run(
            capsys, "--home", home, "--user", "clerk1", "batch", "send", "X001-2024-001", "--to", dest, "--zip"
        )
        assert code == 0 and (dest / "X001-2024-001.zip").is_file() and "verified" in out
        code, out = run(capsys, "--home", home, "--user", "clerk1", "--json", "batch", "list")
        assert code == 0 and [b["state"] for b in json.loads(out)] == ["sent"]
        code, out = run(capsys, "--home", home, "--user", "clerk1", "batch", "show", "X001-2024-001")
        assert code == 0 and "X001-ZY·DJ·2024·D100-0001-001" in out
        code, out = run(capsys, "--home", home, "--user", "clerk1", "keys", "list", "--json")
        assert code == 0 and [k["name"] for k in json.loads(out)["signing"]] == ["station"]
    finally:
        station.close()


def test_cli_archive_side_verify_receive_and_receipt(tmp_path, capsys):
    world = make_world(tmp_path)
    try:
        share = tmp_path / "share"
        share.mkdir()
        path = outbox.send(world.station.s["clerk1"], "X001-2024-001", share)["path"]
        archive, station = world.archive.home.path, world.station.home.path
        code, out = run(capsys, "--home", archive, "verify", path, "--report", tmp_path / "rep", "--json")
        data = json.loads(out)
        assert code == 0 and data["passed"] and len(data["report_files"]) == 2
        assert {c["property"] for c in data["checks"]} == {"authenticity", "integrity", "usability", "security"}
        code, out = run(
            capsys,
            "--home",
            tmp_path / "no-home",
            "verify",
            path,
            "--trust",
            world.station_pem,
            "--report",
            tmp_path / "rep",
        )
        assert code == 0 and "PASS" in out and "signature valid and signer trusted" in out
        code, out = run(capsys, "--home", tmp_path / "no-home", "verify", path, "--report", tmp_path / "rep")
        assert code == 1 and "[FAIL]" in out  # no trust list: not authentic
        code, out = run(capsys, "--home", archive, "--user", "archivist1", "receive", path, "--seed", "7")
        assert code == 0 and "No decision taken" in out
        code, out = run(
            capsys,
            "--home",
            archive,
            "--user",
            "archivist1",
            "receive",
            path,
            "--accept",
            "--seed",
            "7",
            "--out",
            tmp_path / "back",
            "--json",
        )
        result = json.loads(out)
        assert code == 0 and result["decision"] == "accepted" and result["sample"]["seed"] == 7
        receipt = next(f for f in result["receipt_files"] if "back" in f and f.endswith(".json"))
        code, out = run(capsys, "--home", station, "--user", "clerk1", "receipt", "import", receipt)
        assert code == 0 and "received" in out
        code, out = run(capsys, "--home", archive, "--user", "archivist1", "receive", path, "--accept")
        assert code == ExitCode.REFUSED  # replay
    finally:
        world.close()


def test_cli_bag_validate_our_package_and_a_broken_one(tmp_path, capsys):
    world = make_world(tmp_path)
    try:
        code, out = run(capsys, "bag", "validate", world.package, "--require-tag-manifest")
        assert code == 0 and "valid BagIt 1.0 bag" in out
        copy = world.copy_package(tmp_path / "copy")
        (copy / "tagmanifest-sm3.txt").unlink()
        (copy / "tagmanifest-sha256.txt").unlink()
        assert run(capsys, "bag", "validate", copy)[0] == 0  # plain RFC 8493: optional
        code, out = run(capsys, "bag", "validate", copy, "--require-tag-manifest", "--json")
        assert code == 1 and "tag-manifest-missing" in {p["code"] for p in json.loads(out)["problems"]}
    finally:
        world.close()


@pytest.mark.skipif(not CASES, reason=f"BagIt conformance suite not found at {SUITE}")
def test_cli_bag_validate_classifies_the_conformance_suite(capsys):
    wrong = []
    for case in CASES:
        code, _ = run(capsys, "bag", "validate", case)
        if code != (0 if EXPECT_VALID[case.parent.name] else 1):
            wrong.append((case.relative_to(SUITE).as_posix(), code))
    assert not wrong
