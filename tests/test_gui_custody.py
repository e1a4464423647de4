"""The main window's custody reminders (R39, fixity): backup reminder with 'back up now', the
scheduled fixity check and what it shows when a page file was changed."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from scanstation.custody import fixity
from tests.test_custody_fixtures import add_dossier, number_for, page_files
from tests.test_gui_fixtures import close_window, make_window, presenter_log, wait_tasks, zh_ui  # noqa: F401

pytestmark = pytest.mark.usefixtures("zh_ui")


def _fill(home):
    for i in range(1, 3):
        add_dossier(home, number_for(2022, "D30", i), year=2022, retention="D30", pages=3)


def test_r39_backup_reminder_and_back_up_now(qtbot, home, tmp_path, presenter_log):
    _fill(home)
    window = make_window(qtbot, home, "admin")
    try:
        watch = window.custody
        wait_tasks(qtbot)
        assert watch.backup_button.isVisible() and "备份" in watch.backup_button.text()
        assert "actBackupNow" in [a.objectName() for a in window.file_menu.actions()]
        with qtbot.waitSignal(watch.backupFinished, timeout=60000) as done:
            watch.back_up_now(str(tmp_path / "backup"))
        assert done.args[0]["verified"] is True and done.args[0]["files"] > 6
        wait_tasks(qtbot)
        assert not watch.backup_button.isVisible()  # verified just now: no reminder
        assert home.setting("backup.last_verified_at")
        assert presenter_log and presenter_log[-1][0] == "info"
    finally:
        close_window(qtbot, window)


def test_scheduled_fixity_check_runs_when_due_and_reports_a_changed_file(qtbot, home, presenter_log):
    _fill(home)
    victim = page_files(home, number_for(2022, "D30", 2))[0]
    data = bytearray(victim.read_bytes())
    data[len(data) // 2] ^= 0x01
    victim.write_bytes(bytes(data))
    home.set_setting("fixity.sample_percent", 100.0)
    assert fixity.due(home)
    window = make_window(qtbot, home, "auditor1")
    try:
        watch = window.custody
        assert not watch.backup_button.isVisible()  # auditors do not make backups
        with qtbot.waitSignal(watch.fixityFinished, timeout=60000) as done:
            watch.refresh(auto_fixity=True)
        result = done.args[0]
        assert not result.ok and [(m["number"], m["seq"]) for m in result.mismatched] == [
            (number_for(2022, "D30", 2), 1)
        ]
        assert presenter_log and "固定性校验" in presenter_log[-1][1]
        assert not fixity.due(home)  # the run is recorded: not due again until the interval
        run = fixity.last_run(home.catalog)
        assert run["user"] == "auditor1" and run["ok"] == 0
    finally:
        close_window(qtbot, window)


def test_fixity_due_follows_the_interval_setting(home):
    _fill(home)
    assert fixity.due(home)
    home.set_setting("fixity.interval_days", 0)
    assert not fixity.due(home)  # 0 = never scheduled
    home.set_setting("fixity.interval_days", 7)
    now = datetime.now().astimezone()
    home.catalog.conn.execute(
        "INSERT INTO fixity_runs(user, started_at, finished_at, sample_percent, checked,"
        " mismatched, missing, ok, details) VALUES ('x', ?, ?, 100, 0, 0, 0, 1, '{}')",
        ((now - timedelta(days=3)).isoformat(), (now - timedelta(days=3)).isoformat()),
    )
    assert not fixity.due(home, now)
    assert fixity.due(home, now + timedelta(days=5))


def test_r40_viewing_an_insured_persons_pages_is_audited_once_per_opening(home):
    from scanstation.ui import core_api
    from tests.test_gui_fixtures import session_for

    _fill(home)
    number = number_for(2022, "D30", 1)
    api = core_api.CoreApi(session_for(home, "auditor1"))
    views = "SELECT * FROM audit_log WHERE action = 'pages.view' ORDER BY id"
    assert len(api.list_pages(number)) == 3
    api.list_pages(number)  # a reload: not a new view
    rows = home.catalog.query(views)
    assert [(r["user"], r["object_id"]) for r in rows] == [("auditor1", number)]
    api._viewed[number] -= core_api.VIEW_LOG_WINDOW_S + 1  # opened again later
    api.list_pages(number)
    assert len(home.catalog.query(views)) == 2
