"""Capture sessions, page operations, completion and QC against the real pipeline and devices."""

from __future__ import annotations

import dataclasses
import errno
import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from PIL import Image

from scanstation import audit, pages, qc
from scanstation.capture import Capture, PagePipeline
from scanstation.catalog_import import import_catalog
from scanstation.errors import InvalidInput, NotFound, Refused, StorageError
from scanstation.home import Home
from scanstation.profiles import ScanProfile
from scanstation.resources import resource
from scanstation.service import Session
from scanstation.storage.files import file_digests
from scanstation.storage.image_store import ImageStore
from scanstation.users import row_to_user
from tests.conftest import PASSWORD
from tests.sane_fixture import sane_test_config  # noqa: F401  (fixture)

THREE = "X001-ZY·DJ·2024·D100-0001-001"  # 3 declared pages
FIVE = "X001-ZY·DJ·2024·D100-0002-001"  # 5
TEN = "X001-ZY·DJ·2024·D100-0001-003"  # 10
GRAY = ScanProfile("测试灰度", mode="gray")


@pytest.fixture(scope="module")
def pipeline():
    p = PagePipeline(workers=2)
    yield p
    p.close()


@pytest.fixture
def station(home, sessions, pipeline):
    import_catalog(sessions["clerk1"], resource("sample-catalog.xlsx"))
    return Capture(sessions["clerk1"], pipeline)


def _scan(capture, number, profile=GRAY, pages_=None, **options):
    return capture.start(number, "demo", profile, pages=pages_, scan_options=options).run()


def _check_store(home, number):
    """Every active page row has its file with the recorded checksums; numbering is contiguous."""
    dossier = home.catalog.one("SELECT id FROM dossiers WHERE number = ?", (number,))
    rows = home.catalog.query(
        "SELECT seq, file_name, bytes, sha256, sm3 FROM pages WHERE dossier_id = ? AND state = 'active' ORDER BY seq",
        (dossier["id"],),
    )
    assert [r["seq"] for r in rows] == list(range(1, len(rows) + 1))
    store = ImageStore(home.path)
    for r in rows:
        assert r["file_name"] == f"{number}-{r['seq']:04d}.jpg"
        assert file_digests(store.path(number, r["file_name"])) == (r["bytes"], r["sha256"], r["sm3"])
    on_disk = sorted(p.name for p in store.dossier_dir(number).iterdir()) if store.dossier_dir(number).exists() else []
    assert on_disk == [r["file_name"] for r in rows]
    return rows


def test_r11_r20_r22_demo_scan_stores_named_checksummed_pages(home, station):
    result = _scan(station, THREE)
    assert result.ok and len(result.pages) == 3
    rows = _check_store(home, THREE)
    assert len(rows) == 3
    full = home.catalog.query("SELECT * FROM pages WHERE state = 'active' ORDER BY seq")
    for row in full:
        assert row["dpi"] == 300 and row["color_mode"] == "gray" and row["operator"] == "clerk1"
        assert row["software"].startswith("ScanStation")
        assert json.loads(row["device"])["backend"] == "demo"
        assert row["capture_time"][10] == "T" and ("+" in row["capture_time"][19:] or "Z" in row["capture_time"])
        steps = [s["step"] for s in json.loads(row["processing_log"])]
        assert "deskew" in steps or "skew" in " ".join(steps)  # R05: processing recorded per image
        with Image.open(ImageStore(home.path).path(THREE, row["file_name"])) as im:
            assert tuple(round(v) for v in im.info["dpi"]) == (300, 300)  # R03
    assert home.catalog.one("SELECT count(*) n FROM page_text WHERE status = 'queued'")["n"] == 3
    assert home.catalog.one("SELECT count(*) n FROM audit_log WHERE action = 'page.capture'")["n"] == 3
    assert home.catalog.one("SELECT status FROM dossiers WHERE number = ?", (THREE,))["status"] == "scanning"
    assert not (home.path / "spool" / "session-1").exists()
    assert audit.verify(home.catalog.conn).ok


def test_r13_dossier_checked_before_first_page(home, station):
    with pytest.raises(InvalidInput):
        station.check_dossier("X001-ZY·DJ·24·D100-0001-001")
    with pytest.raises(InvalidInput):
        station.check_dossier("X001-ZY·DJ·2024-0001-001")  # a level missing
    # a keyboard-mode barcode gun types "." for "·": the same dossier
    assert station.check_dossier("X001-ZY.DJ.2024.D100-0001-001")["number"] == "X001-ZY·DJ·2024·D100-0001-001"
    with pytest.raises(NotFound):
        station.check_dossier("X001-ZY·DJ·2024·D100-0099-001")
    with home.catalog.write() as conn:
        conn.execute("UPDATE dossiers SET status = 'transferred' WHERE number = ?", (FIVE,))
    with pytest.raises(Refused) as err:
        _scan(station, FIVE)
    assert "已移交" in err.value.zh
    assert home.catalog.one("SELECT count(*) n FROM pages")["n"] == 0


def test_r09_completion_lists_differences_until_explained(home, station, sessions):
    _scan(station, THREE, pages_=2)
    clerk = sessions["clerk1"]
    report = pages.complete(clerk, THREE)
    assert not report.completed and report.missing == 1 and report.extra == 0
    assert any("缺少 1 页" in p for p in report.problems())
    assert home.catalog.one("SELECT status FROM dossiers WHERE number = ?", (THREE,))["status"] == "scanning"
    report = pages.complete(clerk, THREE, {"missing": "原件第3页缺失，已在备考表注明"})
    assert report.completed
    row = home.catalog.one("SELECT status, completed_by FROM dossiers WHERE number = ?", (THREE,))
    assert row == {"status": "completed", "completed_by": "clerk1"}
    with pytest.raises(Refused):  # completed: no more pages
        _scan(station, THREE)


def test_r09_extra_pages_block_completion(home, station, sessions):
    _scan(station, THREE)
    _scan(station, THREE, pages_=1, first_page_number=2)  # one sheet fed again
    report = pages.complete(sessions["clerk1"], THREE, {"page:4": "重复页，保留待查"})
    assert not report.completed and report.extra == 1
    assert pages.complete(sessions["clerk1"], THREE, {"extra": "附件一页"}).completed


def test_r10_not_scanned_note_counts_towards_page_count(home, station, sessions):
    clerk = sessions["clerk1"]
    _scan(station, THREE, pages_=2)
    with pytest.raises(InvalidInput):
        pages.mark_not_scanned(clerk, THREE, 3, "  ")
    pages.mark_not_scanned(clerk, THREE, 3, "空白背面，按规定不扫描")
    listed = pages.list_pages(clerk, THREE)
    assert [p["state"] for p in listed] == ["active", "active", "not_scanned"]
    assert listed[2]["original_page_no"] == 3
    assert pages.complete(clerk, THREE).completed


def test_page_operations_keep_numbering_and_originals(home, station, sessions):
    clerk = sessions["clerk1"]
    _scan(station, FIVE)
    before = {r["seq"]: r["sm3"] for r in _check_store(home, FIVE)}
    pages.delete(clerk, FIVE, 2)
    rows = _check_store(home, FIVE)
    assert [r["sm3"] for r in rows] == [before[1], before[3], before[4], before[5]]
    pages.move(clerk, FIVE, 4, 1)
    rows = _check_store(home, FIVE)
    assert [r["sm3"] for r in rows] == [before[5], before[1], before[3], before[4]]
    pages.rotate(clerk, FIVE, 1, 90)
    rows = _check_store(home, FIVE)
    with Image.open(ImageStore(home.path).path(FIVE, rows[0]["file_name"])) as im:
        assert im.width > im.height  # a portrait page turned to landscape
    # replace page 3 by a rescan: numbering kept, the original kept in originals/
    _scan(station, FIVE, pages_=1, first_page_number=3)
    new_sm3 = _check_store(home, FIVE)[-1]["sm3"]
    pages.replace_with_last(clerk, FIVE, 3)
    rows = _check_store(home, FIVE)
    assert len(rows) == 4 and rows[2]["sm3"] == new_sm3
    kept = sorted(p.name for p in (home.path / "originals" / FIVE).iterdir())
    assert len(kept) == 3 and any(".deleted-" in k for k in kept) and any(".replaced-" in k for k in kept)
    assert home.catalog.one("SELECT count(*) n FROM pending_moves")["n"] == 0
    actions = [r["action"] for r in home.catalog.query("SELECT action FROM audit_log")]
    for action in ("page.delete", "page.move", "page.rotate", "page.replace", "page.renumber"):
        assert action in actions
    assert audit.verify(home.catalog.conn).ok


def test_interrupted_renumbering_is_finished_at_start(home, station, sessions):
    """Crash after the transaction, before the files moved: the journal replays the moves."""
    from scanstation.storage import file_moves

    clerk = sessions["clerk1"]
    _scan(station, FIVE)
    before = {r["seq"]: r["sm3"] for r in _check_store(home, FIVE)}
    real_apply = file_moves.apply
    file_moves.apply = lambda *a, **k: 0  # the process "dies" before moving files
    try:
        pages.move(clerk, FIVE, 5, 1)
    finally:
        file_moves.apply = real_apply
    assert home.catalog.one("SELECT count(*) n FROM pending_moves")["n"] > 0
    station.recover()  # what the station runs at start-up
    rows = _check_store(home, FIVE)
    assert [r["sm3"] for r in rows] == [before[5], before[1], before[2], before[3], before[4]]


def test_r02_import_below_200_dpi_refused(home, station, tmp_path):
    low = tmp_path / "low.jpg"
    Image.new("L", (1240, 1754), 255).save(low, dpi=(150, 150))
    result = station.import_files(THREE, [low], GRAY)
    assert isinstance(result.error, InvalidInput) and "R02" in result.error.en
    assert home.catalog.one("SELECT count(*) n FROM pages")["n"] == 0
    assert low.exists()


def test_import_files_keeps_originals_in_place(home, station, tmp_path):
    files = []
    for i in range(2):
        f = tmp_path / f"p{i}.png"
        Image.new("L", (2480, 3508), 250).save(f, dpi=(300, 300))
        files.append(f)
    result = station.import_files(THREE, files, GRAY)
    assert result.ok and len(result.pages) == 2
    assert all(f.exists() for f in files)
    _check_store(home, THREE)


def test_disk_full_keeps_stored_pages_and_continues_after_space_is_freed(home, station, sessions, monkeypatch):
    real_write = ImageStore.write
    calls = {"n": 0}

    def full_after_two(self, number, name, data):
        calls["n"] += 1
        if calls["n"] > 2:
            from scanstation.storage.files import storage_error

            raise storage_error(self.path(number, name), OSError(errno.ENOSPC, "No space left on device"))
        return real_write(self, number, name, data)

    monkeypatch.setattr(ImageStore, "write", full_after_two)
    result = _scan(station, FIVE)
    assert isinstance(result.error, StorageError) and "磁盘已满" in result.error.zh
    assert len(_check_store(home, FIVE)) == 2
    assert station.interrupted_sessions(), "the session waits for recovery"
    monkeypatch.setattr(ImageStore, "write", real_write)  # space freed
    recovered = station.recover()
    rows = _check_store(home, FIVE)
    assert sum(len(r.pages) for r in recovered) >= 1
    assert len(rows) == len({r["sm3"] for r in rows})  # no page twice
    assert not station.interrupted_sessions()


def test_sane_jam_at_page_4_keeps_pages_and_continues(home, station, sane_test_config):
    profile = dataclasses.replace(GRAY, device="sane:test:0", dpi=200, crop=False, deskew=False)
    run = station.start(TEN, "sane:test:0", profile, scan_options={"fault_at_page": (4, "jammed")})
    result = run.run()
    assert run.status == "fault"
    assert len(result.pages) == 3 and len(_check_store(home, TEN)) == 3
    assert "清除卡纸后继续扫描" in result.error.zh and "第 4 页" in result.error.zh
    again = station.start(TEN, "sane:test:0", profile, pages=7).run()
    assert again.ok
    rows = _check_store(home, TEN)
    assert len(rows) == 10 and rows[3]["seq"] == 4


def test_cli_device_fault_exits_3_with_plain_message(home, station, capsys, monkeypatch):
    from scanstation.cli.main import main

    monkeypatch.setenv("SCANSTATION_HOME", str(home.path))
    monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
    code = main(["--user", "clerk1", "scan", THREE, "--device", "demo", "--fault-at", "2:jammed"])
    err = capsys.readouterr().err
    assert code == 3 and "卡纸" in err and "第 2 页" in err
    assert len(_check_store(home, THREE)) == 1


# -- QC ------------------------------------------------------------------------------------
def test_r36_clerk_cannot_qc_own_dossier(home, station, sessions):
    _scan(station, THREE)
    assert pages.complete(sessions["clerk1"], THREE).completed
    with home.catalog.write() as conn:  # a clerk who also holds the qc role
        conn.execute("UPDATE users SET roles = 'clerk qc' WHERE name = 'clerk1'")
    both = Session(home, row_to_user(home.catalog.one("SELECT * FROM users WHERE name = 'clerk1'")))
    with pytest.raises(Refused) as err:
        qc.approve(both, THREE)
    assert "R36" in err.value.en
    assert THREE not in [r["number"] for r in qc.queue(both)]


def test_r24_qc_rescan_replace_and_approve(home, station, sessions):
    clerk, inspector = sessions["clerk1"], sessions["qc1"]
    _scan(station, THREE)
    assert pages.complete(clerk, THREE).completed
    assert [r["number"] for r in qc.queue(inspector)] == [THREE]
    qc.page_decision(inspector, THREE, 1, True)
    qc.request_rescan(inspector, THREE, 2, "poorly_scanned")
    with pytest.raises(Refused):
        qc.approve(inspector, THREE)  # sent back, not completed
    _scan(station, THREE, pages_=1, first_page_number=2)
    pages.replace_with_last(clerk, THREE, 2)
    assert pages.complete(clerk, THREE).completed
    qc.approve(inspector, THREE)
    row = home.catalog.one("SELECT status, qc_by FROM dossiers WHERE number = ?", (THREE,))
    assert row == {"status": "approved", "qc_by": "qc1"}
    report = qc.report(inspector, THREE)
    assert len(report["pages"]) == 3


def test_qc_report_flags_skew_blank_duplicate(home, station, sessions):
    _scan(station, THREE, pages_=1)
    # the same sheet fed twice: the second copy is flagged as a duplicate of the first
    _scan(station, THREE, pages_=1, first_page_number=1)
    rows = pages.list_pages(sessions["clerk1"], THREE)
    report = qc.report(sessions["clerk1"], THREE)
    assert report["pages"][1]["flags"] == rows[1]["qc_flags"]
    assert "duplicate" in rows[1]["qc_flags"], rows[1]["processing_log"]
    completion = pages.complete(sessions["clerk1"], THREE, {"missing": "x"})
    assert not completion.completed and completion.unresolved_flags[0]["seq"] == 2


# -- crash safety ----------------------------------------------------------------------------
def test_kill9_during_scans_then_recovery_keeps_every_page(home, sessions, tmp_path):
    """kill -9 of the whole station at random moments of a batch (20 trials), then recovery."""
    import_catalog(sessions["clerk1"], resource("sample-catalog.xlsx"))
    numbers = [
        r["number"] for r in home.catalog.query("SELECT number FROM dossiers WHERE declared_pages >= 8 ORDER BY number")
    ]
    home_path = home.path
    home.close()
    rng = random.Random(20)
    env = dict(os.environ, SCANSTATION_HOME=str(home_path), SCANSTATION_PASSWORD=PASSWORD, SCANSTATION_USER="clerk1")
    for trial in range(20):
        number = numbers[trial % len(numbers)]
        proc = subprocess.Popen(
            [sys.executable, "-m", "scanstation.cli.main", "scan", number, "--device", "demo", "--mode", "gray"],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
        )
        time.sleep(rng.uniform(1.0, 4.0))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        time.sleep(0.2)  # let orphaned pool workers notice their parent is gone
        h = Home.open(home_path)
        try:
            capture = Capture(
                Session(h, row_to_user(h.catalog.one("SELECT * FROM users WHERE name='clerk1'"))),
                PagePipeline(workers=1),
            )
            try:
                capture.recover()
            finally:
                capture.close()
            ImageStore(h.path).reconcile(h.catalog)
            for n in numbers:
                _check_store(h, n)
            refs = [r["source_ref"] for r in h.catalog.query("SELECT source_ref FROM pages WHERE state = 'active'")]
            assert len(refs) == len(set(refs)), "a spooled page was committed twice"
        finally:
            h.close()
    h = Home.open(home_path)
    total = h.catalog.one("SELECT count(*) n FROM pages WHERE state = 'active'")["n"]
    assert audit.verify(h.catalog.conn).ok
    h.close()
    assert total > 0


def test_delete_replace_and_note_are_undoable_until_completion(home, station, sessions):
    clerk = sessions["clerk1"]

    def ids():
        _check_store(home, FIVE)
        return [
            r["id"]
            for r in home.catalog.query(
                "SELECT p.id FROM pages p JOIN dossiers d ON d.id = p.dossier_id WHERE d.number = ?"
                " AND p.state = 'active' ORDER BY p.seq",
                (FIVE,),
            )
        ]

    _scan(station, FIVE)
    before = ids()
    pages.delete(clerk, FIVE, 2)
    assert ids() == before[:1] + before[2:]
    pages.restore_deleted(clerk, FIVE, 2)
    assert ids() == before
    _scan(station, FIVE, pages_=1, first_page_number=3)
    pages.replace_with_last(clerk, FIVE, 3)
    replaced = ids()
    assert replaced[2] not in before and len(replaced) == 5
    pages.undo_replace(clerk, FIVE, 3)
    assert ids() == before
    pages.mark_not_scanned(clerk, FIVE, 6, "附页未扫描")
    pages.remove_not_scanned(clerk, FIVE, 6)
    assert [p["state"] for p in pages.list_pages(clerk, FIVE)] == ["active"] * 5
    assert pages.complete(clerk, FIVE).completed
    assert audit.verify(home.catalog.conn).ok


def test_r37_dossier_in_open_destruction_register_is_refused_in_plain_words(home, station, sessions):
    from datetime import date

    from scanstation.custody import destruction
    from scanstation.home import now_iso

    old = "X001-ZY·DJ·2014·D10-0001-001"  # formed 2014, kept 10 years: expired on 2025-01-01
    with home.catalog.write() as conn:
        conn.execute(
            "INSERT INTO dossiers(number, fonds_code, year, category, retention, title, declared_pages,"
            " created_at, updated_at) VALUES (?, 'X001', 2014, 'ZY·DJ', 'D10', '月报', 2, ?, ?)",
            (old, now_iso(), now_iso()),
        )
    destruction.propose(sessions["archivist1"], date.today(), "保管期限已满，经鉴定无继续保存价值", [old])
    with pytest.raises(Refused) as err:
        pages.mark_not_scanned(sessions["clerk1"], old, 1, "试图修改")
    assert "R37" in err.value.zh and "未做任何修改" in err.value.zh
    assert home.catalog.one("SELECT count(*) n FROM pages")["n"] == 0
