"""Custody on both archive backends: the SQLite archive home and PostgreSQL with a page store.

The same received batches, the same steps, the same assertions: lending (request, approval, the reading
room's view, export, return and expiry), the retention-due list, the destruction procedure end to end
(the page files removed: image folders on SQLite, store objects on PostgreSQL, an object another dossier
still names kept), fixity sampled and full with a changed page file found (POSIX store and S3), the
command line on a PostgreSQL home and refusals that change nothing.
"""

from __future__ import annotations

import io
import json
import os
import signal
import subprocess
import sys
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from PIL import Image

from scanstation import audit
from scanstation.cli.main import main
from scanstation.custody import (
    audit_export,
    corrections,
    destruction,
    fixity,
    lending,
    personal_data,
    protection,
    reading_room,
    reports,
    retention_due,
)
from scanstation.errors import Refused
from scanstation.home import Home
from scanstation.service import Session
from scanstation.users import row_to_user
from tests.archive_custody_fixtures import DUE_OWN, DUE_SHARED, KEEP, make_custody_archive, make_custody_packages
from tests.test_transfer_fixtures import PASSPHRASE, PASSWORD

ROOT = Path(__file__).resolve().parent.parent
OPINION = "保管期限已满，经鉴定小组鉴定无继续保存价值，建议销毁。"


@pytest.fixture(scope="module")
def packages(tmp_path_factory):
    return make_custody_packages(tmp_path_factory.mktemp("custody-packages"))


@pytest.fixture(params=["sqlite", "postgresql"])
def archive(request, packages, tmp_path):
    paths, pem = packages
    if request.param == "sqlite":
        a = make_custody_archive("sqlite", tmp_path / "archive", paths, pem)
    else:
        dsn = request.getfixturevalue("pg_dsn")
        a = make_custody_archive("postgresql", tmp_path / "archive", paths, pem, dsn=dsn, store=str(tmp_path / "store"))
    yield a
    a.close()


@pytest.fixture
def pg_archive(packages, tmp_path, pg_dsn):
    paths, pem = packages
    a = make_custody_archive("postgresql", tmp_path / "archive", paths, pem, dsn=pg_dsn, store=str(tmp_path / "store"))
    yield a
    a.close()


def _pages(catalog, number: str, state: str = "active") -> list[dict]:
    return catalog.query(
        "SELECT p.id, p.seq, p.file_name, p.bytes, p.sha256, p.sm3, d.number FROM pages p"
        " JOIN dossiers d ON d.id = p.dossier_id WHERE d.number = ? AND p.state = ? ORDER BY p.id",
        (number, state),
    )


def _state(catalog) -> dict:
    """What a refusal must not change."""
    return {
        t: catalog.one(f"SELECT count(*) AS n FROM {t}")["n"]
        for t in ("audit_log", "loans", "destruction_registers", "tombstones", "fixity_runs", "corrections")
    }


def _tamper(archive, sm3: str) -> None:
    """Change one byte of a stored page file, where that backend keeps it."""
    home = archive.home
    store = home.page_store
    if store is None:
        row = home.catalog.one(
            "SELECT d.number, p.file_name FROM pages p JOIN dossiers d ON d.id = p.dossier_id WHERE p.sm3 = ?"
            " AND p.state = 'active'",
            (sm3,),
        )
        path = home.path / "images" / row["number"] / row["file_name"]
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))
    elif hasattr(store, "client"):
        data = bytearray(store.read(sm3))
        data[len(data) // 2] ^= 0x01
        store.client.put_object(Bucket=store.bucket, Key=store.key(sm3), Body=bytes(data))
    else:
        path = store.path(sm3)
        data = bytearray(path.read_bytes())
        data[len(data) // 2] ^= 0x01
        path.write_bytes(bytes(data))


# -- lending and the reading room -----------------------------------------------------------------
def test_lending_request_approve_view_export_return_on_both_backends(archive, tmp_path):
    s, catalog = archive.s, archive.home.catalog
    loan = lending.request(s["clerk1"], KEEP, "核对待遇领取资格", 7)
    page_id = _pages(catalog, KEEP)[0]["id"]
    with pytest.raises(Refused):  # no approved loan yet: a clerk sees no page
        reading_room.page_image(s["clerk1"], page_id)
    before = _state(catalog)
    with pytest.raises(Refused):  # a clerk does not approve loans
        lending.approve(s["clerk1"], loan["id"])
    assert _state(catalog) == before
    assert lending.approve(s["archivist1"], loan["id"])["state"] == "approved"
    # the reading room: the page, watermarked with the borrower and the loan, audited
    jpeg = reading_room.page_image(s["clerk1"], page_id)
    with Image.open(io.BytesIO(jpeg)) as img:
        assert img.format == "JPEG" and img.width > 0
    view = catalog.one("SELECT * FROM audit_log WHERE action = 'pages.view' ORDER BY id DESC LIMIT 1")
    assert view["user"] == "clerk1" and f"借阅单 {loan['id']}" in json.loads(view["after"])["watermark"]
    # export: the same pixels as the stored page, plus the watermark
    out = lending.export(s["clerk1"], loan["id"], tmp_path / "out")
    assert out["pages"] == 2
    stored = protection.page_files(archive.home).read_page(_pages(catalog, KEEP)[0])
    with Image.open(io.BytesIO(stored)) as a, Image.open(tmp_path / "out" / KEEP / out["files"][0]) as b:
        assert a.size == b.size
    pdf = lending.export(s["clerk1"], loan["id"], tmp_path / "pdf", fmt="pdf")
    assert (tmp_path / "pdf" / KEEP / pdf["files"][0]).read_bytes().startswith(b"%PDF")
    assert catalog.one("SELECT exports FROM loans WHERE id = ?", (loan["id"],))["exports"] == 2
    lending.return_loan(s["archivist1"], loan["id"])
    assert lending.get_loan(catalog, loan["id"])["state"] == "returned"
    with pytest.raises(Refused):
        reading_room.page_image(s["clerk1"], page_id)
    assert audit.verify(catalog.conn).ok


def test_lending_expiry_and_overdue_on_both_backends(archive, tmp_path):
    s, catalog = archive.s, archive.home.catalog
    loan = lending.request(s["clerk1"], DUE_OWN, "查阅", 2)
    lending.approve(s["archivist1"], loan["id"], now=datetime.now().astimezone() - timedelta(days=3))
    with pytest.raises(Refused):
        lending.export(s["clerk1"], loan["id"], tmp_path / "late")
    assert not (tmp_path / "late").exists()
    assert lending.get_loan(catalog, loan["id"])["state"] == "expired"
    assert [row["id"] for row in lending.list_loans(s["archivist1"], overdue=True)] == [loan["id"]]
    assert lending.list_loans(s["auditor1"]) == []  # only the borrower's own loans, or archive staff
    lending.return_loan(s["archivist1"], loan["id"])
    assert lending.list_loans(s["archivist1"], overdue=True) == []


# -- retention due ------------------------------------------------------------------------------
def test_r16_retention_due_lists_on_both_backends(archive):
    catalog = archive.home.catalog
    assert retention_due.due(catalog, date(2020, 12, 31)) == []
    due = retention_due.due(catalog, date(2021, 1, 1))  # 2010 + 1 + 10
    assert [(d.number, d.expiry, d.pages) for d in due] == [(DUE_SHARED, "2021-01-01", 2), (DUE_OWN, "2021-01-01", 2)]
    assert {d.number for d in retention_due.due(catalog, date(2041, 1, 1))} == {DUE_SHARED, DUE_OWN, KEEP}


# -- destruction ----------------------------------------------------------------------------------
def _destroy(s, numbers=None) -> dict:
    proposal = destruction.propose(s["archivist1"], date.today(), OPINION, numbers)
    destruction.approve(s["admin"], proposal["register_no"])
    first = destruction.execute(s["archivist1"], proposal["id"], "删除并覆写", date.today())
    assert first["executed"] is False
    return destruction.execute(s["archivist2"], proposal["id"], "删除并覆写", date.today())


def test_r37_destruction_end_to_end_on_both_backends(archive, tmp_path):
    s, home, catalog = archive.s, archive.home, archive.home.catalog
    files = protection.page_files(home)
    doomed = {n: _pages(catalog, n) for n in (DUE_SHARED, DUE_OWN)}
    kept = _pages(catalog, KEEP)
    assert {p["sm3"] for p in kept} == {p["sm3"] for p in doomed[DUE_SHARED]}  # the same images
    before = _state(catalog)
    with pytest.raises(Refused):  # an administrator does not propose (an archivist's duty)
        destruction.propose(s["admin"], date.today(), OPINION)
    with pytest.raises(Refused):  # a clerk does not execute
        destruction.execute(s["clerk1"], 1, "粉碎", date.today())
    assert _state(catalog) == before
    done = _destroy(s)
    assert done["executed"] and done["dossiers"] == 2 and done["files"] == 4
    for number, pages in doomed.items():
        row = catalog.one("SELECT * FROM dossiers WHERE number = ?", (number,))
        assert row["status"] == "destroyed" and row["person_id_number"] == "" and row["person_name"] == ""
        stone = destruction.tombstone(catalog, number)
        recorded = sorted((Path(f["file"]).name, f["sha256"], f["sm3"]) for f in json.loads(stone["digests"]))
        assert recorded == sorted((p["file_name"], p["sha256"], p["sm3"]) for p in pages)
    # DUE_OWN's page files are gone on both backends
    for p in doomed[DUE_OWN]:
        with pytest.raises(FileNotFoundError):
            files.digests(p)
    # KEEP is intact: readable, and fixity over everything passes
    for p in kept:
        assert files.digests(p)[1:] == (p["sha256"], p["sm3"])
    result = fixity.check(s["auditor1"])
    assert result.ok and result.pages_total == 2
    if home.page_store is not None:
        store = home.page_store
        # the objects DUE_SHARED shared with KEEP stay; DUE_OWN's are removed, and the removal is audited
        assert all(store.check(p["sm3"], p["sha256"]) for p in doomed[DUE_SHARED])
        assert not any(store.has(p["sm3"]) for p in doomed[DUE_OWN])
        removals = {r["sm3"]: r["state"] for r in catalog.query("SELECT sm3, state FROM store_removals")}
        assert removals == {p["sm3"]: "removed" for p in doomed[DUE_OWN]}
        entry = catalog.one("SELECT * FROM audit_log WHERE action = 'store.remove'")
        assert sorted(json.loads(entry["after"])["removed"]) == sorted(p["sm3"] for p in doomed[DUE_OWN])
        execute = json.loads(catalog.one("SELECT after FROM audit_log WHERE action = 'destruction.execute'")["after"])
        assert execute["objects_queued"] == 2 and sorted(execute["objects_shared"]) == sorted(p["sm3"] for p in kept)
    else:
        assert not (home.path / "images" / DUE_OWN).exists() and not (home.path / "images" / DUE_SHARED).exists()
    # R37 on both: tombstones and the executed register are permanent
    import sqlite3

    for sql in ("UPDATE tombstones SET title = 'x'", "DELETE FROM destruction_items", "DELETE FROM tombstones"):
        with pytest.raises(sqlite3.IntegrityError, match="R37"):
            with catalog.write() as conn:
                conn.execute(sql)
    assert audit.verify(catalog.conn).ok


def test_r37_dossier_in_an_open_register_cannot_change_on_both_backends(archive):
    import sqlite3

    s, catalog = archive.s, archive.home.catalog
    proposal = destruction.propose(s["archivist1"], date.today(), OPINION, [DUE_OWN])
    with pytest.raises(Refused):
        corrections.correct(s["archivist1"], DUE_OWN, "title", "新题名", "题名录入错误")
    with pytest.raises(sqlite3.IntegrityError, match="R37"):
        with catalog.write() as conn:
            conn.execute("UPDATE dossiers SET title = 'x' WHERE number = ?", (DUE_OWN,))
    with pytest.raises(sqlite3.IntegrityError, match="R37"):
        with catalog.write() as conn:
            conn.execute("DELETE FROM pages WHERE dossier_id = (SELECT id FROM dossiers WHERE number = ?)", (KEEP,))
    with pytest.raises(Refused):
        destruction.approve(s["archivist1"], proposal["id"])  # not an administrator
    destruction.reject(s["admin"], proposal["id"], "需补充鉴定材料")
    corrections.correct(s["archivist1"], DUE_OWN, "title", "参保人员登记表（更正）", "题名录入错误")
    assert corrections.history(catalog, corrections.resolve(catalog, DUE_OWN)["id"])[0]["field"] == "title"


def test_r37_destruction_killed_after_its_commit_is_finished_by_the_next_run(pg_archive, tmp_path):
    """The store objects are removed after the commit: a desk killed between two removals leaves the rest
    queued, and the next destruction command finishes them (no object is left behind, none is lost)."""
    s, home, catalog = pg_archive.s, pg_archive.home, pg_archive.home.catalog
    proposal = destruction.propose(s["archivist1"], date.today(), OPINION)
    destruction.approve(s["admin"], proposal["register_no"])
    destruction.execute(s["archivist1"], proposal["id"], "粉碎", date.today())
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        SCANSTATION_USER="archivist2",
        SCANSTATION_PASSWORD=PASSWORD,
        SCANSTATION_LANG="en",
        SCANSTATION_CRASH_AT="destroy.object_removed",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "scanstation.cli.main", "--home", str(home.path), "destruction", "execute"]
        + [proposal["register_no"], "--method", "粉碎", "--date", date.today().isoformat()],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    # committed: the dossiers are tombstones; the removals are still pending (the kill came before their commit)
    assert catalog.one("SELECT state FROM destruction_registers WHERE id = ?", (proposal["id"],))["state"] == "executed"
    assert {r["state"] for r in catalog.query("SELECT state FROM store_removals")} == {"pending"}
    own = _pages(catalog, DUE_OWN, "destroyed")
    assert sum(home.page_store.has(p["sm3"]) for p in own) == 1  # one was removed before the kill
    with pytest.raises(Refused):  # the next destruction command finishes the queue first (this register is closed)
        destruction.execute(s["archivist1"], proposal["id"], "粉碎", date.today())
    entry = catalog.one("SELECT * FROM audit_log WHERE action = 'store.remove'")
    assert entry["user"] == "archivist1" and sorted(json.loads(entry["after"])["removed"]) == sorted(
        p["sm3"] for p in own
    )
    assert {r["state"] for r in catalog.query("SELECT state FROM store_removals")} == {"removed"}
    assert not any(home.page_store.has(p["sm3"]) for p in own)
    assert all(home.page_store.has(p["sm3"]) for p in _pages(catalog, KEEP))
    assert destruction.finish_removals(s["archivist1"]) == {"removed": [], "kept": []}
    assert fixity.check(s["auditor1"]).ok and audit.verify(catalog.conn).ok


def test_a_queued_object_named_again_by_a_received_page_is_kept(pg_archive):
    """An object queued for removal that a page names again before the removal runs stays in the store."""
    s, home, catalog = pg_archive.s, pg_archive.home, pg_archive.home.catalog
    own = _pages(catalog, DUE_OWN)
    keep_id = catalog.one("SELECT id FROM dossiers WHERE number = ?", (KEEP,))["id"]
    with catalog.write() as conn:  # a removal queued by a destruction, then a page naming the object again
        conn.execute(
            "INSERT INTO store_removals(sm3, register_no, state, queued_at) VALUES (?, 'XH-TEST', 'pending', '2026')",
            (own[1]["sm3"],),
        )
        conn.execute("UPDATE pages SET state = 'destroyed', seq = NULL WHERE id = ?", (own[1]["id"],))
        conn.execute(
            "INSERT INTO pages(dossier_id, seq, file_name, bytes, sha256, sm3, created_at)"
            " VALUES (?, 9, 'again.jpg', ?, ?, ?, '2026-01-01')",
            (keep_id, own[1]["bytes"], own[1]["sha256"], own[1]["sm3"]),
        )
    done = destruction.finish_removals(s["archivist1"])
    assert done == {"removed": [], "kept": [own[1]["sm3"]]}
    assert home.page_store.check(own[1]["sm3"], own[1]["sha256"])
    assert catalog.one("SELECT state FROM store_removals")["state"] == "kept"


# -- fixity against the store ---------------------------------------------------------------------
@pytest.mark.parametrize("where", ["sqlite", "posix", "s3"])
def test_r22_fixity_sampled_and_full_find_a_changed_page_file(where, packages, tmp_path, request):
    paths, pem = packages
    if where == "sqlite":
        a = make_custody_archive("sqlite", tmp_path / "archive", paths, pem)
    else:
        dsn = request.getfixturevalue("pg_dsn")
        if where == "s3":
            endpoint = request.getfixturevalue("s3_endpoint")
            store, kw = f"s3://custody-{tmp_path.name[-12:].lower().replace('_', '-')}/arch", {"endpoint": endpoint}
        else:
            store, kw = str(tmp_path / "store"), {}
        a = make_custody_archive("postgresql", tmp_path / "archive", paths, pem, dsn=dsn, store=store, **kw)
    try:
        s, catalog = a.s, a.home.catalog
        assert fixity.check(s["auditor1"]).ok
        sampled = fixity.check(s["auditor1"], sample_percent=50, seed=7)
        assert sampled.ok and sampled.checked == 3 and sampled.pages_total == 6
        victim = _pages(catalog, DUE_OWN)[1]
        _tamper(a, victim["sm3"])
        full = fixity.check(s["auditor1"])
        assert not full.ok and full.missing == []
        assert [(m["number"], m["seq"]) for m in full.mismatched] == [(DUE_OWN, 2)]
        assert full.mismatched[0]["found_sm3"] != victim["sm3"] == full.mismatched[0]["expected_sm3"]
        # the same seed samples the same pages: find the sample that holds the victim, and see it found
        rows = catalog.query("SELECT p.id FROM pages p WHERE p.state = 'active' AND p.file_name != '' ORDER BY p.id")
        import random

        seed = next(k for k in range(100) if victim["id"] in {r["id"] for r in random.Random(k).sample(rows, 3)})
        again = fixity.check(s["auditor1"], sample_percent=50, seed=seed)
        assert [(m["number"], m["seq"]) for m in again.mismatched] == [(DUE_OWN, 2)]
        entry = json.loads(catalog.one("SELECT after FROM audit_log ORDER BY id DESC LIMIT 1")["after"])
        assert entry["ok"] is False and entry["mismatched"] == [f"{DUE_OWN}#2"]
        assert fixity.last_run(catalog)["mismatched"] == 1
        if a.home.page_store is not None:
            # the store's other objects (the package records, receipts) are re-hashed by a full run
            record = catalog.one("SELECT kept_path FROM received_packages ORDER BY id LIMIT 1")["kept_path"]
            _tamper(a, record.split(":", 1)[1])
            full = fixity.check(s["auditor1"])
            assert sorted(m["file"] for m in full.mismatched) == sorted(
                [victim["file_name"], "store:" + record.split(":", 1)[1]]
            )
        before = _state(catalog)
        with pytest.raises(Refused):
            fixity.check(s["clerk1"])
        assert _state(catalog) == before
    finally:
        a.close()


# -- reading room, corrections, reports, audit export on PostgreSQL ----------------------------------
def test_corrections_reports_and_audit_export_on_postgresql(pg_archive, tmp_path):
    s, catalog = pg_archive.s, pg_archive.home.catalog
    new_number = KEEP.replace("0002-001", "0002-009")
    done = corrections.correct(s["archivist1"], KEEP, "number", new_number, "档号录入错误")
    assert done["number"] == new_number
    assert corrections.resolve(catalog, KEEP)["number"] == new_number  # the former 档号 still finds it
    loan = lending.request(s["clerk1"], new_number, "核对", 3)
    lending.approve(s["archivist1"], loan["id"])
    assert lending.export(s["clerk1"], loan["id"], tmp_path / "out")["pages"] == 2  # pages found under the new 档号
    for kind in ("workload", "qc", "retention", "destruction", "lending"):
        out = tmp_path / f"{kind}.pdf"
        reports.make(s["admin"], kind, out)
        assert out.read_bytes().startswith(b"%PDF")
    # personal data: the catalog export masks ID numbers; the reading room shows the dossier masked
    personal_data.export_catalog(s["admin"], tmp_path / "catalog.csv")
    text = (tmp_path / "catalog.csv").read_text(encoding="utf-8-sig")
    assert new_number in text and "31010419761017344X" not in text and "3101**********344X" in text
    shown = reading_room.dossier(s["archivist1"], corrections.resolve(catalog, new_number)["id"])
    assert "31010419761017344X" not in json.dumps(shown, ensure_ascii=False, default=str)
    total = catalog.one("SELECT count(*) AS n FROM audit_log")["n"]
    exported = audit_export.export(s["auditor1"], "csv", tmp_path / "audit.csv")
    assert exported["rows"] == total and exported["chain_ok"] and exported["last_id"] == total
    assert "dossier.correct_after_transfer" in (tmp_path / "audit.csv").read_text(encoding="utf-8-sig")
    assert audit.verify(catalog.conn).ok


# -- the command line on a PostgreSQL home --------------------------------------------------------
def _cli(home: Path, user: str, *args: str) -> int:
    return main(["--home", str(home), "--user", user, "--lang", "en", *args])


def test_custody_commands_on_a_postgresql_home(pg_archive, tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
    monkeypatch.setenv("SCANSTATION_KEY_PASSPHRASE", PASSPHRASE)
    home, catalog = pg_archive.home.path, pg_archive.home.catalog
    assert _cli(home, "archivist1", "retention", "due") == 0
    assert DUE_OWN in capsys.readouterr().out
    assert _cli(home, "clerk1", "lend", "request", KEEP, "--reason", "待遇审核", "--days", "7") == 0
    loan_id = catalog.one("SELECT max(id) AS id FROM loans")["id"]
    # refusals: plain messages, nothing changed
    before = _state(catalog)
    assert _cli(home, "clerk1", "lend", "approve", str(loan_id)) != 0
    assert _cli(home, "clerk1", "fixity", "check") != 0
    assert _cli(home, "admin", "destruction", "propose", "--as-of", date.today().isoformat(), "--opinion", "x") != 0
    err = capsys.readouterr().err
    assert "Traceback" not in err and err.strip()
    assert _state(catalog) == before
    assert _cli(home, "archivist1", "lend", "approve", str(loan_id)) == 0
    assert _cli(home, "clerk1", "lend", "export", str(loan_id), "--out", str(tmp_path / "copies")) == 0
    assert len(list((tmp_path / "copies" / KEEP).glob("*.jpg"))) == 2
    assert _cli(home, "archivist1", "lend", "return", str(loan_id)) == 0
    assert _cli(home, "auditor1", "fixity", "check", "--sample", "50", "--seed", "3") == 0
    opinion = "经鉴定已无保存价值"
    assert (
        _cli(home, "archivist1", "destruction", "propose", "--as-of", date.today().isoformat(), "--opinion", opinion)
        == 0
    )
    register = catalog.one("SELECT register_no FROM destruction_registers")["register_no"]
    assert _cli(home, "admin", "destruction", "approve", register) == 0
    today = date.today().isoformat()
    for user in ("archivist1", "archivist2"):
        assert _cli(home, user, "destruction", "execute", register, "--method", "粉碎", "--date", today) == 0
    assert catalog.one("SELECT count(*) AS n FROM tombstones")["n"] == 2
    assert _cli(home, "auditor1", "fixity", "check") == 0
    capsys.readouterr()
    _tamper(pg_archive, _pages(catalog, KEEP)[0]["sm3"])
    record = catalog.one("SELECT kept_path FROM received_packages ORDER BY id LIMIT 1")["kept_path"].split(":", 1)[1]
    _tamper(pg_archive, record)
    assert _cli(home, "auditor1", "fixity", "check") != 0
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    assert f"MISMATCH {KEEP} page 1" in shown and f"MISMATCH store object store:{record}" in shown
    assert "Traceback" not in captured.err


# -- a rejection's signed receipt is on disk before the rejection commits --------------------------------
def _reject_killed_at(home: Path, package: Path, point: str) -> None:
    env = dict(
        os.environ,
        PYTHONPATH=str(ROOT),
        SCANSTATION_USER="archivist1",
        SCANSTATION_PASSWORD=PASSWORD,
        SCANSTATION_KEY_PASSPHRASE=PASSPHRASE,
        SCANSTATION_LANG="en",
        SCANSTATION_CRASH_AT=point,
    )
    proc = subprocess.run(
        [sys.executable, "-m", "scanstation.cli.main", "--home", str(home), "receive", str(package), "--reject"]
        + ["--reason", "案卷目录与实物不符", "--key", "archive", "--seed", "4"],
        env=env,
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr


@pytest.mark.parametrize("backend", ["sqlite", "postgresql"])
def test_r34_rejection_receipt_is_written_before_the_commit(backend, packages, tmp_path, request):
    from scanstation.transfer import receipts, receive

    paths, pem = packages
    kw = {}
    if backend == "postgresql":
        kw = {"dsn": request.getfixturevalue("pg_dsn"), "store": str(tmp_path / "store")}
    make_custody_archive(backend, tmp_path / "archive", [], pem, **kw).close()  # a SQLite home is one process's
    home = tmp_path / "archive"
    # killed after the receipt was written, before the commit: nothing decided, the next attempt decides
    _reject_killed_at(home, paths[0], "receive.reject.written")
    with Home.open(home) as opened:
        assert opened.catalog.one("SELECT count(*) AS n FROM received_packages")["n"] == 0
    assert [p.suffix for p in sorted((home / "outbox" / "receipts").iterdir())] == [".json", ".pdf"]
    # killed right after the commit: the committed rejection has its signed receipt on disk
    _reject_killed_at(home, paths[0], "receive.rejected")
    opened = Home.open(home)
    try:
        catalog = opened.catalog
        row = catalog.one("SELECT * FROM received_packages")
        assert catalog.one("SELECT count(*) AS n FROM received_packages")["n"] == 1 and row["decision"] == "rejected"
        envelope = receipts.read(home / row["receipt_path"])
        assert envelope["receipt"]["receipt_id"] == row["receipt_id"] and envelope["signature"]
        assert envelope["receipt"]["decision"] == "rejected"
        assert (home / row["receipt_path"]).with_suffix(".pdf").read_bytes().startswith(b"%PDF")
        if backend == "postgresql":  # also kept in the store, named by the package's record
            store = opened.page_store
            record = json.loads(store.read(row["kept_path"].split(":", 1)[1]))
            assert json.loads(store.read(record["receipt"]))["receipt"]["receipt_id"] == row["receipt_id"]
            assert catalog.one("SELECT count(*) AS n FROM store_objects")["n"] == 2
        assert audit.verify(catalog.conn).ok
        session = Session(opened, row_to_user(catalog.one("SELECT * FROM users WHERE name = 'archivist2'")))
        with pytest.raises(Refused) as info:  # decided once
            receive.receive(session, paths[0], decision="reject", reasons=["x"], passphrase=PASSPHRASE)
        assert "only once" in info.value.en
    finally:
        opened.close()


# -- the PostgreSQL schema mirrors the station's custody tables and rules ----------------------------------
MIRRORED = (
    "destruction_registers",
    "destruction_items",
    "destruction_confirmations",
    "tombstones",
    "corrections",
    "dossier_former_numbers",
    "loans",
    "fixity_runs",
    "personal_index",
    "paper_moves",
    "paper_state",
    "batches",
    "batch_dossiers",
    "transfer_deliveries",
    "transfer_receipts",
    "pending_moves",
    "split_runs",
    "split_counts",
    "split_held",
    "capture_sessions",
    "qc_decisions",
    "page_layout",
)


def test_r37_custody_tables_and_rules_on_postgresql_mirror_the_sqlite_catalog(tmp_path, pg_dsn):
    from scanstation.custody import AFTER_QC
    from scanstation.storage import sql_dialect
    from scanstation.storage.catalog import Catalog
    from scanstation.storage.pg_catalog import PgCatalog

    assert sql_dialect._AFTER_QC == ", ".join(f"'{s}'" for s in AFTER_QC)
    lite = Catalog(tmp_path / "c.sqlite")
    lite.migrate()
    pg = PgCatalog(pg_dsn)
    pg.migrate()
    try:
        for table in MIRRORED:
            sqlite_cols = [r[1] for r in lite.conn.execute(f"PRAGMA table_info({table})")]
            pg_cols = [
                r["column_name"]
                for r in pg.query(
                    "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
                    (table,),
                )
            ]
            assert sqlite_cols == pg_cols, table
        sqlite_triggers = {
            (r[0], r[1]) for r in lite.conn.execute("SELECT name, tbl_name FROM sqlite_master WHERE type = 'trigger'")
        }
        pg_triggers = {
            (r["trigger_name"], r["event_object_table"])
            for r in pg.query("SELECT trigger_name, event_object_table FROM information_schema.triggers")
        }
        assert sqlite_triggers == pg_triggers
    finally:
        lite.close()
        pg.close()


def test_dialect_translates_what_custody_writes():
    from scanstation.storage.sql_dialect import PostgresDialect

    d = PostgresDialect()
    assert "string_agg(supervisor, ' ')" in d.translate("SELECT group_concat(supervisor, ' ') FROM x").sql
    assert "string_agg(number, ',')" in d.translate("SELECT group_concat(number) FROM x").sql
    assert (
        d.translate("SELECT 1 WHERE (? IS NULL OR id = ?)").sql
        == "SELECT 1 WHERE (CAST(%s AS TEXT) IS NULL OR id = %s)"
    )
    assert d.translate("SELECT 1 WHERE note IS NULL AND a = '? IS NULL'").sql.endswith("a = '? IS NULL'")
    assert d.translate("INSERT INTO loans(number) VALUES (?)").returns_id


def test_r37_archive_migrate_carries_the_custody_records_into_postgresql(packages, tmp_path, pg_dsn):
    """A SQLite archive with a loan, a correction and an executed destruction moves into PostgreSQL with its
    registers, tombstones, corrections and loans; the destroyed dossiers' files are not asked for."""
    from scanstation.transfer.migrate_archive import migrate
    from tests.archive_pg_fixtures import make_pg_archive

    paths, pem = packages
    lite = make_custody_archive("sqlite", tmp_path / "old", paths, pem)
    s = lite.s
    loan = lending.request(s["clerk1"], KEEP, "核对", 3)
    lending.approve(s["archivist1"], loan["id"])
    corrections.correct(s["archivist1"], KEEP, "title", "参保人员登记表（更正）", "题名错字")
    _destroy(s, [DUE_OWN])
    fixity.check(s["auditor1"])
    tables = ("destruction_registers", "destruction_items", "tombstones", "corrections", "loans", "fixity_runs")
    before = {t: lite.home.catalog.query(f"SELECT * FROM {t} ORDER BY 1") for t in tables}
    lite.close()
    target = make_pg_archive(tmp_path / "new", pg_dsn, str(tmp_path / "store"))
    try:
        result = migrate(target.s["admin"], tmp_path / "old")
        assert result["rows"]["tombstones"] == 1 and result["rows"]["loans"] == 1
        catalog = target.home.catalog
        for t in tables:
            assert catalog.query(f"SELECT * FROM {t} ORDER BY 1") == before[t], t
        assert destruction.tombstone(catalog, DUE_OWN)["register_no"] == before["tombstones"][0]["register_no"]
        assert fixity.check(target.s["admin"]).ok
        new_loan = lending.request(target.s["archivist2"], KEEP, "查阅", 2)  # ids continue after the copied rows
        assert new_loan["id"] == loan["id"] + 1
        import sqlite3

        with pytest.raises(sqlite3.IntegrityError, match="R37"):
            with catalog.write() as conn:
                conn.execute("DELETE FROM tombstones")
    finally:
        target.close()


def test_an_object_removed_while_a_desk_receives_it_is_stored_again(tmp_path, pg_dsn, monkeypatch):
    """A desk finds an object already in the store and skips writing it; a destruction then removes it before
    the desk commits. Under the store-removal lock the desk sees that, and stores the object again."""
    from scanstation.storage.page_store import PosixPageStore
    from scanstation.transfer import receive
    from tests.archive_custody_fixtures import LATE

    paths, pem = make_custody_packages(tmp_path / "packages", late=True)
    a = make_custody_archive("postgresql", tmp_path / "archive", paths[:2], pem, dsn=pg_dsn, store=str(tmp_path / "s"))
    try:
        s, catalog, store = a.s, a.home.catalog, a.home.page_store
        own = _pages(catalog, DUE_OWN)
        real_finish = destruction.finish_removals
        monkeypatch.setattr(destruction, "finish_removals", lambda session: {"removed": [], "kept": []})
        _destroy(s, [DUE_OWN])  # committed; its two objects queued, not removed yet
        monkeypatch.setattr(destruction, "finish_removals", real_finish)
        assert all(store.has(p["sm3"]) for p in own)
        real_put = PosixPageStore.put_staged  # the desk stores the copies its check made
        seen = []

        def put_then_destroy(self, tmp, size, sha256, sm3):
            size = real_put(self, tmp, size, sha256, sm3)  # the object is there: nothing written
            seen.append(sm3)
            if len(seen) == 2:  # both of LATE's images were found in the store; now the removal runs
                assert real_finish(s["archivist2"])["removed"]
            return size

        monkeypatch.setattr(PosixPageStore, "put_staged", put_then_destroy)
        done = receive.receive(s["archivist1"], paths[2], decision="accept", passphrase=PASSPHRASE, seed=1)
        monkeypatch.setattr(PosixPageStore, "put_staged", real_put)
        assert done["decision"] == "accepted" and set(seen[:2]) == {p["sm3"] for p in own}
        for p in _pages(catalog, LATE):
            assert store.check(p["sm3"], p["sha256"])
        assert fixity.check(s["auditor1"]).ok and audit.verify(catalog.conn).ok
    finally:
        a.close()
