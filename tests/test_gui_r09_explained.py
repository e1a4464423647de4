"""R09/R10 through the window: a dossier completed with the explanation dialog (按以上说明完成) is
approved and then sealed from the batch view — the batch is no longer refused for it."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog

from scanstation import page_count, qc
from scanstation.transfer import keys
from tests.test_gui_fixtures import (  # noqa: F401
    SAMPLE_NUMBER,
    catalog_home,
    close_window,
    make_window,
    presenter_log,
    session_for,
    wait_tasks,
    zh_ui,
)
from tests.test_gui_scanning import choose_profile, open_number, wait_scan_done
from tests.test_gui_transfer import batch_view, filler, state_of

PASSPHRASE = "key-passphrase-123"
WHY = "原件第3页已遗失，经业务科室核实"


def test_r09_r10_window_completion_with_explanation_is_approved_and_sealed(qtbot, catalog_home, zh_ui, presenter_log):
    home = catalog_home
    window = make_window(qtbot, home, "clerk1")
    desk = window.scan_desk
    try:
        open_number(qtbot, desk, SAMPLE_NUMBER)  # 3 declared pages
        choose_profile(qtbot, desk)
        desk.scan(pages=2, scan_options={"demo_pages": 2})
        qtbot.waitUntil(lambda: desk.scanning, timeout=10000)
        wait_scan_done(qtbot, desk)
        desk.strip.setFocus()
        QTest.keyClick(desk.strip, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: desk.findChild(QDialog, "explanationDialog") is not None, timeout=10000)
        dialog = desk.findChild(QDialog, "explanationDialog")
        assert "missing" in dialog.fields
        for edit in dialog.fields.values():
            edit.setText(WHY)
        dialog.accept()
        qtbot.waitUntil(
            lambda: (
                home.catalog.one("SELECT status FROM dossiers WHERE number = ?", (SAMPLE_NUMBER,))["status"]
                == "completed"
            ),
            timeout=20000,
        )
        wait_tasks(qtbot)
    finally:
        close_window(qtbot, window)
    row = home.catalog.one("SELECT * FROM dossiers WHERE number = ?", (SAMPLE_NUMBER,))
    e = page_count.of_dossier(row)
    assert (e.declared, e.images, e.not_scanned, e.missing, e.by) == (3, 2, 0, 1, "clerk1") and WHY in e.text

    qc.approve(session_for(home, "qc1"), SAMPLE_NUMBER)
    keys.generate(session_for(home, "admin"), "station", "sm2", PASSPHRASE)

    view = batch_view(qtbot, session_for(home, "clerk1"))
    view.run_dialog = filler(year=2024)
    qtbot.mouseClick(view.create_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: state_of(view) == "draft", timeout=30000)
    wait_tasks(qtbot)
    assert view.model.rows[0]["dossiers"] == 1
    view.run_dialog = filler(key="station", passphrase=PASSPHRASE)
    qtbot.mouseClick(view.seal_button, Qt.MouseButton.LeftButton)
    qtbot.waitUntil(
        lambda: state_of(view) == "sealed" or (presenter_log and presenter_log[-1][0] == "Refused"), timeout=60000
    )
    wait_tasks(qtbot)
    assert state_of(view) == "sealed", presenter_log[-1:] if presenter_log else ""
