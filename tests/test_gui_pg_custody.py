"""The archive window on a PostgreSQL archive home: it opens with its intake, search, loans and custody
views, a borrower hands out the watermarked copy of an approved loan (page files read from the page
store), and the scheduled fixity check finds a page file changed in the store."""

from __future__ import annotations

import hashlib
import json

import pytest
from PySide6.QtCore import Qt

from scanstation.custody import fixity, lending
from scanstation.ui.page_model import THUMB_SIZE, decode_thumbnail
from tests.archive_custody_fixtures import DUE_OWN, KEEP, make_custody_archive, make_custody_packages
from tests.test_gui_fixtures import close_window, make_window, presenter_log, wait_tasks, zh_ui  # noqa: F401
from tests.test_transfer_fixtures import PASSPHRASE

pytestmark = pytest.mark.usefixtures("zh_ui")
TIMEOUT = 60000


@pytest.fixture
def pg_world(tmp_path, pg_dsn):
    """A PostgreSQL archive that has received the first of two packages; the second waits in the share."""
    paths, pem = make_custody_packages(tmp_path / "packages")
    a = make_custody_archive(
        "postgresql", tmp_path / "archive", paths[:1], pem, dsn=pg_dsn, store=str(tmp_path / "store")
    )
    yield a, paths
    a.close()


def test_archive_window_on_postgresql_receives_searches_and_lends(qtbot, pg_world, tmp_path, presenter_log):
    archive, paths = pg_world
    s, home = archive.s, archive.home
    window = make_window(qtbot, home, "archivist1")
    try:
        # intake: check the second package, then accept it; its page files go into the store
        window.show_view("intake")
        intake = window.intake_view
        intake.check(str(paths[1]))
        qtbot.waitUntil(lambda: intake.result is not None, timeout=TIMEOUT)
        wait_tasks(qtbot, TIMEOUT)
        assert intake.result["checks_passed"] is True and intake.accept_button.isEnabled()
        intake.decide("accept", "archive", PASSPHRASE)
        qtbot.waitUntil(lambda: intake.decision is not None, timeout=TIMEOUT)
        wait_tasks(qtbot, TIMEOUT)
        assert presenter_log == [] and intake.decision["decision"] == "accepted"
        pages = home.catalog.query(
            "SELECT p.sm3, p.sha256 FROM pages p JOIN dossiers d ON d.id = p.dossier_id WHERE d.number = ?", (KEEP,)
        )
        assert len(pages) == 2 and all(home.page_store.check(p["sm3"], p["sha256"]) for p in pages)
        # search across the archive finds the dossier just received
        window.show_view("search")
        window.search_view.query_edit.setText(KEEP)
        window.search_view.search()
        qtbot.waitUntil(lambda: bool(window.search_view.model.hits), timeout=TIMEOUT)
        assert window.search_view.model.hits[0].number == KEEP
        # the hit opens the dossier; its page strip shows the pages, read from the store
        window.open_dossier(KEEP)
        strip = window.scan_desk.strip
        qtbot.waitUntil(lambda: strip.pages.rowCount() == 2, timeout=TIMEOUT)
        wait_tasks(qtbot, TIMEOUT)
        for p in home.catalog.query(
            "SELECT p.file_name, p.sm3 FROM pages p JOIN dossiers d ON d.id = p.dossier_id WHERE d.number = ?", (KEEP,)
        ):
            path = window.api.page_path(KEEP, p["file_name"])
            assert path.name.startswith(p["sm3"]) and hashlib.new("sm3", path.read_bytes()).hexdigest() == p["sm3"]
            assert not decode_thumbnail(str(path), THUMB_SIZE).isNull()
        assert presenter_log == []
        # loans: a clerk's request shows in the archivist's loans view
        loan = lending.request(s["clerk1"], KEEP, "核对待遇领取资格", 7)
        window.show_view("loans")
        window.loan_view.refresh()
        qtbot.waitUntil(lambda: len(window.loan_view.model.rows) == 1, timeout=TIMEOUT)
        assert window.loan_view.model.rows[0]["state"] == "requested"
    finally:
        close_window(qtbot, window)
    lending.approve(s["archivist1"], loan["id"])
    window = make_window(qtbot, home, "clerk1")
    try:
        view = window.loan_view
        window.show_view("loans")
        qtbot.waitUntil(lambda: len(view.model.rows) == 1, timeout=TIMEOUT)
        qtbot.waitUntil(lambda: view.model.rows[0]["state"] == "approved", timeout=TIMEOUT)
        view.select_loan(loan["id"])
        assert view.export_button.isEnabled()
        view.choose_folder = lambda: str(tmp_path / "loan")
        qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: view.last_result is not None, timeout=TIMEOUT)
        wait_tasks(qtbot, TIMEOUT)
        assert presenter_log == []
        target = tmp_path / "loan" / KEEP / f"{KEEP}.pdf"
        assert target.read_bytes().startswith(b"%PDF") and f"{KEEP}.pdf" in view.status.text()
        entry = home.catalog.one("SELECT * FROM audit_log WHERE action = 'lend.export'")
        assert json.loads(entry["after"])["format"] == "pdf" and entry["user"] == "clerk1"
    finally:
        close_window(qtbot, window)


def test_scheduled_fixity_check_on_postgresql_finds_a_changed_store_object(qtbot, pg_world, presenter_log):
    home = pg_world[0].home
    victim = home.catalog.one(
        "SELECT p.sm3 FROM pages p JOIN dossiers d ON d.id = p.dossier_id WHERE d.number = ? AND p.seq = 1", (DUE_OWN,)
    )["sm3"]
    path = home.page_store.path(victim)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    home.set_setting("fixity.sample_percent", 100.0)
    assert fixity.due(home)
    window = make_window(qtbot, home, "auditor1")
    try:
        watch = window.custody
        with qtbot.waitSignal(watch.fixityFinished, timeout=TIMEOUT) as done:
            watch.refresh(auto_fixity=True)
        result = done.args[0]
        assert not result.ok and [(m["number"], m["seq"]) for m in result.mismatched] == [(DUE_OWN, 1)]
        assert presenter_log and "固定性校验" in presenter_log[-1][1]
        run = fixity.last_run(home.catalog)
        assert run["user"] == "auditor1" and run["ok"] == 0
    finally:
        close_window(qtbot, window)


def test_the_administrator_cleans_up_the_page_store_from_the_window(qtbot, pg_world, presenter_log):
    """File ▸ Clean up the page store…: lists the objects nothing names, asks, removes them; only the
    administrator has it, and only on an archive with a page store."""
    import io
    import os
    import time

    from PIL import Image

    home = pg_world[0].home
    store = home.page_store
    out = io.BytesIO()
    Image.new("L", (32, 32), 90).save(out, "JPEG")
    orphan = store.put_bytes(out.getvalue())[1]  # left by an intake that was interrupted
    old = time.time() - 4 * 24 * 3600
    os.utime(store.path(orphan), (old, old))
    archivist = make_window(qtbot, home, "archivist1")
    try:
        assert archivist.custody.act_sweep is None
    finally:
        close_window(qtbot, archivist)
    window = make_window(qtbot, home, "admin")
    try:
        watch = window.custody
        assert watch.act_sweep is not None and watch.act_sweep in window.file_menu.actions()
        asked = []
        with qtbot.waitSignal(watch.sweepFinished, timeout=TIMEOUT):
            watch.sweep_store(confirm=lambda text: asked.append(text) or False)  # the question, answered No
        assert store.has(orphan) and asked and "1 个页面文件" in asked[0]
        with qtbot.waitSignal(watch.sweepFinished, timeout=TIMEOUT) as done:
            watch.sweep_store(confirm=lambda text: True)
        assert done.args[0]["removed"] == [orphan] and not store.has(orphan)
        assert presenter_log and "已删除 1 个" in presenter_log[-1][1]
        with qtbot.waitSignal(watch.sweepFinished, timeout=TIMEOUT) as done:  # nothing left: said, nothing asked
            watch.sweep_store(confirm=lambda text: pytest.fail("asked with nothing to remove"))
        assert done.args[0]["unnamed"] == 0 and "没有" in presenter_log[-1][1]
    finally:
        close_window(qtbot, window)


def test_the_window_on_postgresql_starts_without_background_ocr(qtbot, pg_world, presenter_log):
    """The window starts background OCR for a station; on an archive on PostgreSQL there is none to run
    (its pages come with the stations' text) and signing in must not end in an unexpected error."""
    from scanstation.ui.core_api import CoreApi
    from scanstation.ui.main_window import MainWindow

    home = pg_world[0].home
    api = CoreApi(pg_world[0].s["admin"])
    window = MainWindow(api, background_ocr=True)
    qtbot.addWidget(window)
    try:
        wait_tasks(qtbot, TIMEOUT)
        assert presenter_log == [] and api._ocr is None and home.info.backend == "postgresql"
    finally:
        close_window(qtbot, window)


def test_the_window_says_it_waits_while_another_desk_upgrades_the_database(qtbot, tmp_path, pg_dsn, monkeypatch):
    import threading

    import psycopg
    from PySide6.QtWidgets import QMessageBox

    from scanstation.storage.sql_dialect import MIGRATION_LOCK
    from scanstation.ui import app
    from tests.archive_pg_fixtures import make_pg_archive

    make_pg_archive(tmp_path / "arch", pg_dsn, str(tmp_path / "store")).close()
    upgrading = psycopg.connect(pg_dsn, autocommit=True)
    upgrading.execute("DELETE FROM migrations WHERE number = 111")  # pending again; its SQL may run twice
    upgrading.execute("SELECT pg_advisory_lock(%s)", (MIGRATION_LOCK,))
    shown = []
    real_show = QMessageBox.show

    def show(box):
        shown.append(box)
        real_show(box)
        # the other desk finishes once the waiting desk has said so
        threading.Timer(0.5, upgrading.execute, ("SELECT pg_advisory_unlock(%s)", (MIGRATION_LOCK,))).start()

    monkeypatch.setattr(QMessageBox, "show", show)
    try:
        home = app._open_home(tmp_path / "arch")
        try:
            assert len(shown) == 1 and "另一台工作站正在将档案数据库升级" in shown[0].text()
            assert not shown[0].isVisible()  # gone once the home is open
            assert 111 in home.catalog.applied_migrations()
        finally:
            home.close()
    finally:
        upgrading.close()
