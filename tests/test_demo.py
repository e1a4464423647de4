"""`scanstation demo`: a whole year-end transfer with the demo scanner, no display, one JSON object."""

from __future__ import annotations

import json
from pathlib import Path

import bagit
import pytest

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
        "search",
        "lend",
        "receipt",
    ):
        assert name in steps, name
    assert steps.count("scan") == 3 and all(s["ok"] for s in result["steps"])
    assert result["search"]["hits"][0] >= 1 and result["loan"]["id"]
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


@pytest.mark.slow
def test_demo_runs_with_the_archive_room_on_postgresql(tmp_path, capsys, monkeypatch):
    """``demo --postgresql``: the same loop with the archive room on a private cluster and a page store."""
    from scanstation.storage import postgres_cluster

    if not postgres_cluster.available():
        pytest.skip("PostgreSQL is not installed (" + postgres_cluster.INSTALL_HINT + ")")
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("SCANSTATION_HOME", raising=False)
    code = main(["demo", "--postgresql", "--home", str(tmp_path / "demo"), "--json"])
    out = capsys.readouterr().out
    assert code == 0, out
    result = json.loads(out.strip().splitlines()[-1])
    steps = {s["step"]: s for s in result["steps"]}
    assert result["ok"] and all(s["ok"] for s in result["steps"])
    for name in ("postgresql", "scan", "seal", "verify", "accept", "search", "lend", "receipt"):
        assert name in steps, name
    assert result["search"]["hits"][0] >= 1 and result["search"]["hits"][1] >= 1
    assert result["loan"]["id"] and result["loan"]["number"] == result["search"]["number"]
    assert receipts.read(result["receipt"])["receipt"]["decision"] == "accepted"
    with Home.open(Path(result["station_home"])) as station:
        assert station.catalog.one("SELECT state FROM batches")["state"] == "received"
    # the cluster was stopped; start it again to look at what the archive room holds
    cluster = postgres_cluster.PrivateCluster(result["postgresql"]["cluster"]).start()
    try:
        with Home.open(Path(result["archive_home"])) as archive:
            assert archive.info.backend == "postgresql"
            assert archive.catalog.one("SELECT count(*) AS n FROM dossiers WHERE status = 'archived'")["n"] == 3
            store = archive.page_store
            pages = archive.catalog.query("SELECT sm3, sha256 FROM pages WHERE state = 'active'")
            assert pages and all(store.check(p["sm3"], p["sha256"]) for p in pages)
            from scanstation import audit

            assert audit.verify(archive.catalog.conn).ok
    finally:
        cluster.stop()
