"""R36: the audit chain is anchored by signed checkpoints kept outside the catalog.

The attacker here has write access to the catalog file: they edit or delete audit rows and re-chain
every hash after them (so the SM3 chain alone verifies again), or cut off the newest rows, or swap
a page file and write its new checksums into the catalog. Each must be caught by comparing with a
checkpoint (in the home, in a transfer package, in a receipt, in a backup) or, for the page, with
the SM3 the audit trail recorded.
"""

from __future__ import annotations

import json
import shutil
import sqlite3

import pytest

from scanstation import audit, audit_anchor, doctor
from scanstation.cli.main import main
from scanstation.custody import fixity
from scanstation.errors import ExitCode
from scanstation.storage.image_store import ImageStore
from scanstation.transfer import keys
from tests.test_custody_fixtures import add_dossier, jpeg_bytes, number_for

PASSPHRASE = "key-passphrase-123"


@pytest.fixture
def anchored(home, sessions, monkeypatch):
    """A home with a signing key, some history and a checkpoint of it."""
    keys.generate(sessions["admin"], "station", "sm2", PASSPHRASE)
    for i in range(5):
        sessions["clerk1"].log("personal.view", "dossier", f"D{i}", {"i": i})
    audit_anchor.create(sessions["admin"], "station", PASSPHRASE)
    monkeypatch.setenv("SCANSTATION_KEY_PASSPHRASE", PASSPHRASE)
    return home


def _rechain(conn: sqlite3.Connection) -> None:
    """What an attacker does after editing or deleting rows: renumber and recompute every hash."""
    rows = [
        dict(zip([d[0] for d in cur.description], r))
        for cur in [conn.execute("SELECT * FROM audit_log ORDER BY id")]
        for r in cur.fetchall()
    ]
    conn.execute("DELETE FROM audit_log")
    prev = audit.GENESIS
    for i, row in enumerate(rows, 1):
        row["id"], row["prev_hash"] = i, prev
        row["hash"] = prev = audit.entry_hash(prev, row)
        conn.execute(
            "INSERT INTO audit_log (id, ts, user, station, action, object_type, object_id, before, after,"
            " prev_hash, hash) VALUES (:id, :ts, :user, :station, :action, :object_type, :object_id,"
            " :before, :after, :prev_hash, :hash)",
            row,
        )


def _tamper(home, sql: str, *params, rechain: bool = True) -> None:
    conn = sqlite3.connect(str(home.path / "catalog.sqlite"), isolation_level=None)
    try:
        conn.execute("BEGIN")
        conn.execute("DROP TRIGGER IF EXISTS audit_log_no_update")
        conn.execute("DROP TRIGGER IF EXISTS audit_log_no_delete")
        conn.execute(sql, params)
        if rechain:
            _rechain(conn)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _failed(home, extra=None):
    report = audit_anchor.verify(home, extra)
    return {r.status for r in report.failures()}


def test_r36_intact_chain_matches_its_checkpoint(anchored, capsys):
    report = audit_anchor.verify(anchored)
    assert report.ok and report.anchored == 1 and report.latest_seq == audit_anchor.head(anchored.catalog.conn)[0]
    assert main(["--home", str(anchored.path), "audit", "verify"]) == 0
    assert "签名检查点" in capsys.readouterr().out


@pytest.mark.parametrize(
    "sql",
    [
        "UPDATE audit_log SET after = '{\"i\": 99}' WHERE id = 3",  # an edit, re-chained
        "DELETE FROM audit_log WHERE id = 2",  # a deletion, renumbered and re-chained
        "UPDATE audit_log SET user = 'someone-else' WHERE id = 1",
    ],
)
def test_r36_rewritten_and_rechained_audit_trail_is_detected(anchored, capsys, sql):
    _tamper(anchored, sql)
    assert audit.verify(anchored.catalog.conn).ok  # the chain alone is fooled
    assert _failed(anchored) & {"rewritten", "truncated"}
    assert main(["--home", str(anchored.path), "audit", "verify"]) == 1
    out = capsys.readouterr().out
    assert "改写" in out or "删除" in out


def test_r36_deleting_the_newest_rows_is_detected(anchored):
    last = audit_anchor.head(anchored.catalog.conn)[0]
    _tamper(anchored, "DELETE FROM audit_log WHERE id >= ?", last - 1, rechain=False)
    assert audit.verify(anchored.catalog.conn).ok
    assert _failed(anchored) == {"truncated"}


def test_r36_entries_after_the_newest_checkpoint_are_not_anchored(anchored, sessions):
    """The documented limit: rows written after the newest checkpoint can be removed unseen."""
    sessions["clerk1"].log("personal.view", "dossier", "LATER", {})
    last = audit_anchor.head(anchored.catalog.conn)[0]
    _tamper(anchored, "DELETE FROM audit_log WHERE id = ?", last, rechain=False)
    assert audit_anchor.verify(anchored).ok


def test_r36_a_forged_or_foreign_checkpoint_does_not_count(anchored, tmp_path):
    path = next((anchored.path / audit_anchor.FOLDER).glob("*.json"))
    envelope = json.loads(path.read_text("utf-8"))
    envelope["checkpoint"]["seq"] = 1  # moved back to hide later rows: signature breaks
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(envelope), "utf-8")
    assert _failed(anchored, [forged]) == {"bad_signature"}
    from scanstation.transfer import signing

    intruder = signing.generate_key("sm2", "x-passphrase-123").signer("x-passphrase-123")
    own = audit_anchor.make(anchored, intruder, "intruder", save=False)
    (tmp_path / "own.json").write_bytes(audit_anchor.to_bytes(own))
    report = audit_anchor.verify(anchored, [tmp_path / "own.json"])
    assert report.ok and "unknown_key" in {r.status for r in report.results}  # never anchors anything


def test_r39_checkpoints_in_a_backup_catch_a_rewrite_after_the_home_copies_were_removed(anchored, sessions, tmp_path):
    from scanstation.custody import backup

    backup.create(sessions["admin"], tmp_path / "backup")
    _tamper(anchored, "UPDATE audit_log SET after = '{}' WHERE id = 2")
    shutil.rmtree(anchored.path / audit_anchor.FOLDER)  # the attacker removes the home's copies too
    assert audit_anchor.verify(anchored).ok  # nothing left at home to compare with ...
    assert "rewritten" in _failed(anchored, [tmp_path / "backup"])  # ... the offline backup still shows it


def test_r36_doctor_reports_a_rewritten_trail(anchored):
    assert doctor.run(anchored, ["audit_anchor"])["ok"]
    _tamper(anchored, "UPDATE audit_log SET after = '{}' WHERE id = 2")
    result = doctor.run(anchored, ["audit_anchor"])
    assert not result["ok"] and "audit verify --checkpoint" in result["findings"][0].fix_en


def test_doctor_warns_without_any_checkpoint(home):
    result = doctor.run(home, ["audit_anchor"])
    assert result["ok"] and result["findings"][0].status == doctor.WARN


# -- fixity against the audit trail ----------------------------------------------------------------
def test_r22_page_swapped_with_catalog_checksums_updated_fails_fixity(home, sessions, capsys, monkeypatch):
    from tests.conftest import PASSWORD

    monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
    row = add_dossier(home, number_for(2019, "D30", 1), year=2019, retention="D30", pages=3)
    assert fixity.check(sessions["admin"]).ok
    page = home.catalog.one("SELECT * FROM pages WHERE dossier_id = ? AND seq = 2", (row["id"],))
    store = ImageStore(home.path)
    stored = store.write(row["number"], page["file_name"], jpeg_bytes(4242))  # the swapped page
    conn = sqlite3.connect(str(home.path / "catalog.sqlite"), isolation_level=None)
    conn.execute(
        "UPDATE pages SET bytes = ?, sha256 = ?, sm3 = ? WHERE id = ?",
        (stored.bytes, stored.sha256, stored.sm3, page["id"]),
    )
    conn.close()
    result = fixity.check(sessions["admin"])
    assert not result.ok and not result.mismatched and not result.missing  # the re-hash alone is fooled
    assert [(u["number"], u["seq"]) for u in result.unrecorded] == [(row["number"], 2)]
    code = main(["--home", str(home.path), "--user", "admin", "fixity", "check"])
    assert code == 1 and "审计日志无记录" in capsys.readouterr().out


def test_r22_rotation_and_档号_correction_keep_fixity_green(home, sessions):
    from scanstation import pages
    from scanstation.custody import corrections

    row = add_dossier(home, number_for(2019, "D30", 1), year=2019, retention="D30", pages=2, status="scanning")
    pages.rotate(sessions["clerk1"], row["number"], 1, 90)
    assert fixity.check(sessions["admin"]).ok
    home.catalog.conn.execute("UPDATE dossiers SET status = 'transferred' WHERE id = ?", (row["id"],))
    corrections.correct(sessions["archivist1"], row["number"], "number", number_for(2019, "D30", 9), "档号录入错误")
    assert fixity.check(sessions["admin"]).ok


def test_r36_audit_commands_refuse_bad_input_with_a_plain_message(anchored, capsys, monkeypatch, tmp_path):
    from tests.conftest import PASSWORD

    monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
    assert (
        main(["--home", str(anchored.path), "audit", "verify", "--checkpoint", str(tmp_path / "nosuch")])
        == ExitCode.NOT_FOUND
    )
    err = capsys.readouterr().err
    assert "nosuch" in err and "Traceback" not in err
    assert (
        main(["--home", str(anchored.path), "--user", "admin", "audit", "checkpoint", "--key", "nosuch"])
        == ExitCode.NOT_FOUND
    )
    assert "nosuch" in capsys.readouterr().err
    assert (
        main(["--home", str(anchored.path), "--user", "clerk1", "audit", "checkpoint", "--key", "station"])
        == ExitCode.REFUSED
    )
    assert "keys.manage" in capsys.readouterr().err
    monkeypatch.setenv("SCANSTATION_KEY_PASSPHRASE", "wrong-passphrase-1")
    before = audit_anchor.head(anchored.catalog.conn)
    assert (
        main(["--home", str(anchored.path), "--user", "admin", "audit", "checkpoint", "--key", "station"])
        == ExitCode.REFUSED
    )
    assert audit_anchor.head(anchored.catalog.conn) == before  # a refusal writes nothing
    monkeypatch.setenv("SCANSTATION_KEY_PASSPHRASE", PASSPHRASE)
    assert (
        main(["--home", str(anchored.path), "--user", "admin", "--json", "audit", "checkpoint", "--key", "station"])
        == 0
    )
    made = json.loads(capsys.readouterr().out)
    assert made["seq"] == audit_anchor.head(anchored.catalog.conn)[0]
    assert main(["--home", str(anchored.path), "--json", "audit", "verify"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ok"] and out["checkpoints"] == 2 and out["anchored_up_to"] == made["seq"]


def test_r36_garbage_files_given_as_checkpoints_are_ignored_or_refused(anchored, tmp_path):
    tmp_path = tmp_path / "given"
    tmp_path.mkdir()
    (tmp_path / "a.json").write_text("{not json", "utf-8")
    (tmp_path / "b.json").write_text(
        json.dumps({"format": audit_anchor.FORMAT, "checkpoint": {"seq": "x"}, "signature": {}}), "utf-8"
    )
    (tmp_path / "c.json").write_bytes(b"\xff\xfe")
    report = audit_anchor.verify(anchored, [tmp_path])
    assert [r.status for r in report.results if r.source.startswith(str(tmp_path))] == ["bad_signature"]
