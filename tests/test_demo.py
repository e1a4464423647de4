"""`scanstation demo`: a whole year-end transfer with the demo scanner, no display, one JSON object."""

from __future__ import annotations

import json
from pathlib import Path

import bagit

from scanstation.cli.main import main
from scanstation.home import Home
from scanstation.transfer import receipts


def test_demo_runs_the_whole_transfer_and_prints_one_json_object(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("SCANSTATION_HOME", raising=False)
    code = main(["demo", "--home", str(tmp_path / "demo"), "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    lines = [line for line in out.splitlines() if line.strip()]
    assert len(lines) == 1
    result = json.loads(lines[0])
    assert result["ok"] and {"station_home", "archive_home", "package", "receipt", "steps"} <= set(result)
    steps = [s["step"] for s in result["steps"]]
    for name in (
        "station",
        "catalog",
        "scan",
        "complete",
        "qc",
        "batch",
        "station_key",
        "archive",
        "keys",
        "seal",
        "send",
        "verify",
        "sample",
        "accept",
        "receipt",
    ):
        assert name in steps, name
    assert steps.count("scan") == 3 and all(s["ok"] for s in result["steps"])
    package = Path(result["package"])
    bagit.CHECKSUM_ALGOS.add("sm3")
    bagit.Bag(str(package)).validate()
    envelope = receipts.read(result["receipt"])
    assert envelope["receipt"]["decision"] == "accepted"
    assert envelope["receipt"]["package"]["digest"] == result["tagmanifest_sm3"]
    with Home.open(Path(result["station_home"])) as station:
        assert {
            r["status"] for r in station.catalog.query("SELECT status FROM dossiers WHERE status != 'cataloged'")
        } == {"transferred"}
        assert station.catalog.one("SELECT state FROM batches")["state"] == "received"
    with Home.open(Path(result["archive_home"])) as archive:
        assert archive.catalog.one("SELECT count(*) n FROM dossiers WHERE status = 'archived'")["n"] == 3
    users = result["users"]
    assert users["station"]["demo-clerk"]["password"] and users["archive"]["demo-archivist"]["role"] == "archivist"
