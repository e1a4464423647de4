"""The window's 批量扫描 view and the paper-at-desk view (pytest-qt, real core, real demo scanner)."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from scanstation.custody import paper
from tests import coversheet_fixture as F
from tests.test_gui_fixtures import close_window, make_window, presenter_log, session_for, wait_tasks, zh_ui  # noqa: F401

pytestmark = pytest.mark.usefixtures("zh_ui")


def test_stack_scan_view_splits_a_demo_stack_and_files_held_pages_in_one_action(qtbot, home, tmp_path):
    dossiers = F.add_dossiers(home, 3)
    stack = F.build_stack(tmp_path, dossiers)
    window = make_window(qtbot, home, "clerk1")
    try:
        view = window.stack_view
        assert view is not None and "stack" in window.views
        window.show_view("stack")
        qtbot.waitUntil(lambda: view.device.findData("demo") >= 0, timeout=30000)  # a training station
        view.device.setCurrentIndex(view.device.findData("demo"))
        # two pages with no cover sheet in front: the run stops at once and holds what the scanner took in
        files = tuple(str(f) for f in stack.files[3:5])
        with qtbot.waitSignal(view.runFinished, timeout=120000) as done:
            view.start({"demo_stack": files})
        result = done.args[0]
        assert result.stop_reason == "before_first_sheet"
        assert "没有分隔页" in view.message.text() and "进纸器" in view.message.text()
        held = view.held.rowCount()
        assert 1 <= held <= 2 and held == len(result.held)
        # one action files them into the dossier the clerk names
        view.assign_to.setText(dossiers[1]["number"])
        view.assign_button.click()
        qtbot.waitUntil(lambda: view.held.rowCount() == 0, timeout=60000)
        # the whole stack (the pages not taken in go back in the feeder with it)
        with qtbot.waitSignal(view.runFinished, timeout=120000) as again:
            view.into.setText("")
            view.start({"demo_stack": tuple(str(f) for f in stack.files)})
        assert again.args[0].ok and again.args[0].sheets == 3
        texts = [view.log.item(i).text() for i in range(view.log.count())]
        assert any("分隔页" in t for t in texts)
        wait_tasks(qtbot)
        # cover sheets for typed numbers
        view.sheet_numbers.setPlainText(dossiers[1]["number"])
        out = tmp_path / "sheets.pdf"
        view.print_sheets(str(out))
        qtbot.waitUntil(out.exists, timeout=30000)
    finally:
        close_window(qtbot, window)


def test_paper_view_shows_the_desk_and_overdue_paper(qtbot, home, tmp_path):
    dossiers = F.add_dossiers(home, 3)
    paper.check_out(session_for(home, "clerk1"), numbers=[dossiers[2]["number"]], store_person="王芳", due_days=1)
    with home.catalog.write() as conn:  # checked out a week ago: overdue now
        conn.execute(
            "UPDATE paper_state SET due_at = ?", ((datetime.now().astimezone() - timedelta(days=2)).isoformat(),)
        )
    window = make_window(qtbot, home, "clerk1")
    try:
        view = window.paper_view
        window.show_view("paper")
        assert "逾期 1 卷" in view.summary.text()
        view.which.setText("B01")
        view.person.setText("库管员王芳")
        from PySide6.QtWidgets import QPushButton

        view.findChild(QPushButton, "paperOut").click()  # B01 holds dossier 3 already: refused, nothing moved
        wait_tasks(qtbot)
        assert view.table.rowCount() == 1
        view.which.setText(" ".join(d["number"] for d in dossiers[:2]))
        view.findChild(QPushButton, "paperOut").click()
        qtbot.waitUntil(lambda: view.table.rowCount() == 3, timeout=10000)
        assert view.table.item(0, 0).text() == dossiers[2]["number"]  # overdue first
        view.handover(str(tmp_path / "h.pdf"))
        qtbot.waitUntil((tmp_path / "h.pdf").exists, timeout=30000)
    finally:
        close_window(qtbot, window)


def test_buttons_start_a_run_and_print_sheets_through_the_file_dialog(qtbot, home, tmp_path, monkeypatch):
    from PySide6.QtWidgets import QFileDialog

    dossiers = F.add_dossiers(home, 2)
    window = make_window(qtbot, home, "clerk1")
    try:
        view = window.stack_view
        qtbot.waitUntil(lambda: view.device.findData("demo") >= 0, timeout=30000)  # a training station
        view.device.setCurrentIndex(view.device.findData("demo"))
        # the demo scanner feeds a dossier's pages with no sheet: the run stops and says so
        with qtbot.waitSignal(view.runFinished, timeout=120000) as done:
            view.start_button.click()
        assert done.args[0].stop_reason == "before_first_sheet" and view.start_button.isEnabled()
        out = tmp_path / "sheets.pdf"
        monkeypatch.setattr(QFileDialog, "getSaveFileName", staticmethod(lambda *a, **k: (str(out), "PDF (*.pdf)")))
        view.sheet_year.setValue(2024)
        view.sheet_button.click()
        qtbot.waitUntil(out.exists, timeout=30000)
        wait_tasks(qtbot)
        assert (
            home.catalog.one("SELECT after FROM audit_log WHERE action = 'coversheet.print'")["after"].count("X001")
            == 2
        )
        assert dossiers
    finally:
        close_window(qtbot, window)
