"""Pruning the outbox (R38): a sent package is kept until its receipt is confirmed and
``sent_batches.keep_years`` after sending; only then, and only with --apply, is it removed."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
from datetime import date, datetime, timedelta

import pytest

from scanstation import audit, settings
from scanstation.cli.main import main
from scanstation.errors import ExitCode
from scanstation.transfer import batches, outbox, receipts, receive
from tests.test_transfer_fixtures import PASSPHRASE, PASSWORD, add_dossier, make_world, sealed_batch

RECEIVED, SENT, SEALED = "X001-2024-001", "X001-2024-002", "X001-2024-003"


@pytest.fixture
def world(tmp_path):
    """Batch 001 sent and received (accepted receipt imported), 002 sent without receipt, 003 only sealed."""
    w = make_world(tmp_path / "world")
    station = w.station
    share = tmp_path / "share"
    share.mkdir()
    clerk = station.s["clerk1"]
    outbox.send(clerk, RECEIVED, share)
    result = receive.receive(
        w.archive.s["archivist1"], share / RECEIVED, decision="accept", passphrase=PASSPHRASE, out_dir=tmp_path / "back"
    )
    receipts.import_receipt(clerk, next(f for f in result["receipt_files"] if f.endswith(".json") and "back" in f))
    more = ["X001-ZY·DJ·2024·D100-0003-001", "X001-ZY·DJ·2024·D100-0004-001"]
    for i, number in enumerate(more):
        add_dossier(station.home, number, 2, seed=10 + i)
    sealed_batch(station, numbers=[more[0]])
    outbox.send(clerk, SENT, share)
    sealed_batch(station, numbers=[more[1]])
    yield w
    w.close()


def _backdate_sending(world, batch_id: str, years: int) -> str:
    """Make the batch's sending ``years`` years and a day old (as if sent then)."""
    catalog = world.station.home.catalog
    batch = batches.get(catalog, batch_id)
    then = (datetime.now().astimezone() - timedelta(days=365 * years + years // 4 + 2)).isoformat(timespec="seconds")
    details = dict(batch["details"], sent=dict(batch["details"]["sent"], at=then))
    with catalog.write() as conn:
        conn.execute(
            "UPDATE transfer_deliveries SET started_at = ?, finished_at = ? WHERE batch_id = ?",
            (then, then, batch["id"]),
        )
        conn.execute(
            "UPDATE batches SET details = ? WHERE id = ?", (json.dumps(details, ensure_ascii=False), batch["id"])
        )
    return then


def _package(world, batch_id):
    return world.station.home.path / batches.get(world.station.home.catalog, batch_id)["package_path"]


def _snapshot(world) -> dict:
    home = world.station.home
    files = sorted(str(p.relative_to(home.path)) for p in (home.path / "outbox").rglob("*"))
    rows = home.catalog.query("SELECT batch_id, state, package_path, details, updated_at FROM batches ORDER BY id")
    entries = home.catalog.one("SELECT count(*) n FROM audit_log")["n"]
    return {"files": files, "rows": rows, "audit": entries}


def test_r38_received_old_batch_is_pruned_and_the_row_keeps_a_note(world):
    _backdate_sending(world, RECEIVED, 6)
    package = _package(world, RECEIVED)
    digest = hashlib.new("sm3", (package / "tagmanifest-sm3.txt").read_bytes()).hexdigest()
    images = sorted(p for p in (world.station.home.path / "images").rglob("*.jpg"))
    before = {p: p.read_bytes() for p in images}
    result = outbox.prune(world.station.s["clerk1"], apply=True)
    assert [b["batch_id"] for b in result["prunable"]] == [RECEIVED]
    assert [b["batch_id"] for b in result["pruned"]] == [RECEIVED] and not result["failed"]
    assert not package.exists()
    assert not [p for p in package.parent.iterdir() if p.name.startswith(".pruning-")]
    # the page images the package was hard-linked from are untouched
    assert {p: p.read_bytes() for p in images} == before
    batch = batches.get(world.station.home.catalog, RECEIVED)
    assert batch["state"] == "received" and batch["tagmanifest_sm3"] == digest
    note = batch["details"]["pruned"]
    assert note["removed"] == [str(package.relative_to(world.station.home.path))] and note["remaining"] == []
    assert note["tagmanifest_sm3"] == digest and note["by"] == "clerk1" and note["at"][:10] == date.today().isoformat()
    # the other packages stay; a second run finds nothing more to do
    assert _package(world, SENT).is_dir() and _package(world, SEALED).is_dir()
    again = outbox.prune(world.station.s["clerk1"], apply=True)
    assert again["prunable"] == [] and again["pruned"] == []


def test_r38_sent_but_not_received_rejected_and_sealed_are_kept_even_when_old(world):
    station, clerk = world.station, world.station.s["clerk1"]
    number = "X001-ZY·DJ·2024·D100-0005-001"
    add_dossier(station.home, number, 2, seed=20)
    rejected = sealed_batch(station, numbers=[number])["batch_id"]
    outbox.send(clerk, rejected, world.tmp.parent / "share")
    answer = receive.receive(
        world.archive.s["archivist1"],
        world.tmp.parent / "share" / rejected,
        decision="reject",
        passphrase=PASSPHRASE,
        reasons=["题名有误 / wrong title"],
    )
    receipts.import_receipt(clerk, next(f for f in answer["receipt_files"] if f.endswith(".json")))
    for batch_id in (SENT, rejected):
        _backdate_sending(world, batch_id, 30)
    result = outbox.prune(clerk, apply=True)
    assert result["prunable"] == [] and result["pruned"] == []
    reasons = {b["batch_id"]: b["reason"] for b in result["kept"]}
    assert reasons == {RECEIVED: "young", SENT: "not_received", SEALED: "not_sent", rejected: "rejected"}
    for batch_id in (RECEIVED, SENT, SEALED, rejected):
        assert (_package(world, batch_id) / "tagmanifest-sm3.txt").is_file()
        assert "pruned" not in batches.get(station.home.catalog, batch_id)["details"]
    assert not station.home.catalog.query("SELECT id FROM audit_log WHERE action = 'batch.prune'")


def test_r38_young_received_batch_is_kept_until_keep_years_after_sending(world):
    then = _backdate_sending(world, RECEIVED, 4)
    result = outbox.prune(world.station.s["clerk1"], apply=True)
    young = next(b for b in result["kept"] if b["batch_id"] == RECEIVED)
    sent_day = datetime.fromisoformat(then).date()
    assert young["reason"] == "young" and young["keep_until"] == sent_day.replace(year=sent_day.year + 5).isoformat()
    assert _package(world, RECEIVED).is_dir() and result["pruned"] == []
    # the keep period is a setting: with 3 years the same batch is due
    settings.set_value(world.station.s["admin"], "sent_batches.keep_years", 3)
    assert [b["batch_id"] for b in outbox.prune(world.station.s["clerk1"])["prunable"]] == [RECEIVED]


def test_r38_dry_run_changes_nothing(world):
    _backdate_sending(world, RECEIVED, 6)
    before = _snapshot(world)
    result = outbox.prune(world.station.s["clerk1"])
    assert result["apply"] is False and [b["batch_id"] for b in result["prunable"]] == [RECEIVED]
    assert result["prunable"][0]["bytes"] > 0 and result["pruned"] == []
    assert _snapshot(world) == before


def test_r38_each_removal_is_audited_with_the_tag_manifest_digest(world):
    _backdate_sending(world, RECEIVED, 6)
    # a .zip of the package in the outbox goes with it
    from scanstation.transfer import zip_package

    package = _package(world, RECEIVED)
    zipped = package.with_name(package.name + ".zip")
    zip_package.write_zip(package, zipped)
    digest = hashlib.new("sm3", (package / "tagmanifest-sm3.txt").read_bytes()).hexdigest()
    outbox.prune(world.station.s["clerk1"], apply=True)
    assert not package.exists() and not zipped.exists()
    conn = world.station.home.catalog.conn
    rows = world.station.home.catalog.query(
        "SELECT user, object_type, object_id, before, after FROM audit_log WHERE action = 'batch.prune'"
    )
    assert len(rows) == 1 and rows[0]["user"] == "clerk1" and rows[0]["object_id"] == RECEIVED
    after = json.loads(rows[0]["after"])
    assert after["tagmanifest_sm3"] == digest and json.loads(rows[0]["before"])["tagmanifest_sm3"] == digest
    home = world.station.home.path
    assert sorted(after["removed"]) == sorted([str(package.relative_to(home)), str(zipped.relative_to(home))])
    assert audit.verify(conn).ok


def _lock(path, on: bool) -> bool:
    """Make ``path`` (a page file) impossible to remove, really: a read-only folder for a normal user,
    the immutable attribute for root (whom permissions do not bind)."""
    if os.geteuid() != 0:
        path.parent.chmod(0o500 if on else 0o700)
        return True
    done = subprocess.run(["chattr", "+i" if on else "-i", str(path)], capture_output=True)
    return done.returncode == 0


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permissions")
def test_r38_a_package_that_cannot_be_removed_is_reported_and_noted(world):
    _backdate_sending(world, RECEIVED, 6)
    package = _package(world, RECEIVED)
    victim = next(package.rglob("*.jpg"))
    if not _lock(victim, True):
        pytest.skip("cannot make a file unremovable here (no chattr)")
    try:
        result = outbox.prune(world.station.s["clerk1"], apply=True)
    finally:
        for moved in package.parent.rglob(victim.name):
            _lock(moved, False)
    assert [f["batch_id"] for f in result["failed"]] == [RECEIVED]
    failure = result["failed"][0]
    assert (
        RECEIVED in failure["en"] and RECEIVED in failure["zh"] and "still" in failure["en"] and "仍在" in failure["zh"]
    )
    home = world.station.home.path
    note = batches.get(world.station.home.catalog, RECEIVED)["details"]["pruned"]
    assert note["remaining"] and all((home / p).exists() for p in note["remaining"])
    assert any(victim.name in str(p) for p in (home / note["remaining"][0]).rglob("*"))
    assert not package.exists()  # never half-removed under the package's own name
    again = outbox.prune(world.station.s["clerk1"], apply=True)  # the cause fixed: the rest goes
    assert not again["failed"] and not any((home / p).exists() for p in note["remaining"])
    assert batches.get(world.station.home.catalog, RECEIVED)["details"]["pruned"]["remaining"] == []


def test_r38_only_the_confirmed_package_is_removed(world):
    _backdate_sending(world, RECEIVED, 6)
    package = _package(world, RECEIVED)
    (package / "tagmanifest-sm3.txt").write_text("not the signed manifest\n")
    result = outbox.prune(world.station.s["clerk1"], apply=True)
    assert package.is_dir() and [f["batch_id"] for f in result["failed"]] == [RECEIVED]
    assert batches.get(world.station.home.catalog, RECEIVED)["details"]["pruned"]["remaining"] == [
        str(package.relative_to(world.station.home.path))
    ]


def test_r38_future_as_of_is_only_for_a_dry_run(world):
    later = (date.today() + timedelta(days=366 * 6)).isoformat()
    assert [b["batch_id"] for b in outbox.prune(world.station.s["clerk1"], as_of=later)["prunable"]] == [RECEIVED]
    from scanstation.errors import Refused

    with pytest.raises(Refused):
        outbox.prune(world.station.s["clerk1"], as_of=later, apply=True)
    assert _package(world, RECEIVED).is_dir()
    with pytest.raises(Refused):  # a QC user may not manage batches
        outbox.prune(world.station.s["qc1"])


def test_r38_cli_prune_dry_run_apply_and_bad_as_of(world, monkeypatch, capsys):
    monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
    monkeypatch.setenv("SCANSTATION_LANG", "en")
    monkeypatch.delenv("SCANSTATION_HOME", raising=False)
    home = str(world.station.home.path)
    world.station.home.close()  # the command opens the home itself
    base = ["--home", home, "--user", "clerk1", "outbox", "prune"]
    code = main(base + ["--as-of", "2024-02-30"])
    err = capsys.readouterr().err
    assert code == ExitCode.INVALID_INPUT and "2024-02-30" in err and "YYYY-MM-DD" in err and "Traceback" not in err
    code = main(base + ["--as-of", "2999-01-01", "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0 and [b["batch_id"] for b in out["prunable"]] == [RECEIVED] and out["apply"] is False
    code = main(base + ["--as-of", "2999-01-01", "--apply"])
    assert code == ExitCode.REFUSED and "2999-01-01" in capsys.readouterr().err
    code = main(base + ["--apply"])
    out = capsys.readouterr().out
    assert code == 0 and "keeps X001-2024-001" in out and "kept until" in out
    world.station.home = type(world.station.home).open(home)
