"""The window's last pieces of the eight-hour desk: the 页数 correction on the scan desk, the sampled
dossier's pages at intake (folder and .zip), and the intake report in words (key names, states).
Real window, real home and catalog, real packages; Qt offscreen."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog

from tests.test_gui_fixtures import (SAMPLE_NUMBER, catalog_home, close_window, make_window,  # noqa: F401
                                     presenter_log, session_for, wait_tasks, zh_ui)
from tests.test_gui_workday import imported_dossier, status_of


def declared_of(home, number: str = SAMPLE_NUMBER) -> int:
    return home.catalog.one("SELECT declared_pages FROM dossiers WHERE number = ?", (number,))["declared_pages"]


def open_on_desk(qtbot, window, pages: int):
    desk = window.scan_desk
    desk.open_dossier(SAMPLE_NUMBER)
    qtbot.waitUntil(lambda: desk.panel.dossier is not None and desk.strip.pages.active_count() == pages)
    wait_tasks(qtbot)
    return desk


# -- item 2: a clerk corrects 页数 through the logged correction procedure ---------------------------
def test_r09_clerk_corrects_the_page_count_from_the_desk_and_the_panel_shows_it(qtbot, catalog_home, tmp_path, zh_ui,
                                                                                presenter_log):
    imported_dossier(catalog_home, tmp_path, pages=2, complete=False)   # the catalog says 3
    window = make_window(qtbot, catalog_home, "clerk1")
    try:
        desk = open_on_desk(qtbot, window, 2)
        assert desk.act_correct_pages.isEnabled() and desk.correct_pages_button.isVisible()
        desk.act_correct_pages.trigger()
        dialog = desk.findChild(QDialog, "pageCountDialog")
        assert dialog is not None and dialog.pages.value() == 2          # what the desk holds
        QTest.keyClick(dialog.reason, Qt.Key.Key_Return)                  # no reason: stays open and says so
        assert dialog.isVisible() and "理由" in dialog.message.text()
        assert declared_of(catalog_home) == 3
        dialog.reason.setText("目录登记时把封面算作一页")
        QTest.keyClick(dialog.reason, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: declared_of(catalog_home) == 2, timeout=10000)
        qtbot.waitUntil(lambda: "已更正" in desk.panel.values["declared_pages"].text(), timeout=10000)
        shown = desk.panel.values["declared_pages"]
        assert shown.text().startswith("2") and "3" in shown.text()
        assert "封面" in shown.toolTip() and "clerk1" in shown.toolTip()
        assert presenter_log[-1][0] == "notice" and "由 3 更正为 2" in presenter_log[-1][1]
        row = catalog_home.catalog.one("SELECT * FROM corrections WHERE field = 'declared_pages'")
        assert (row["old_value"], row["new_value"], row["user"], row["status"]) == ("3", "2", "clerk1", "scanning")
        audit = catalog_home.catalog.one("SELECT * FROM audit_log WHERE action = 'dossier.correct'")
        assert audit is not None and audit["user"] == "clerk1"
        # now the pages agree: completion needs no explanation
        desk.complete()
        qtbot.waitUntil(lambda: status_of(catalog_home) == "completed", timeout=10000)
    finally:
        close_window(qtbot, window)


def test_completion_dialog_offers_the_page_count_correction(qtbot, catalog_home, tmp_path, zh_ui, presenter_log):
    imported_dossier(catalog_home, tmp_path, pages=2, complete=False)
    window = make_window(qtbot, catalog_home, "clerk1")
    try:
        desk = open_on_desk(qtbot, window, 2)
        desk.complete()
        qtbot.waitUntil(lambda: desk.findChild(QDialog, "explanationDialog") is not None, timeout=10000)
        explanation = desk.findChild(QDialog, "explanationDialog")
        assert explanation.correct_pages_button.isEnabled()
        explanation.correct_pages_button.click()
        qtbot.waitUntil(lambda: desk.findChild(QDialog, "pageCountDialog") is not None)
        dialog = desk.findChild(QDialog, "pageCountDialog")
        assert dialog.pages.value() == 2 and not explanation.isVisible()
        dialog.reason.setText("原件实有 2 页，目录误登 3 页")
        dialog.ok_button.click()
        qtbot.waitUntil(lambda: declared_of(catalog_home) == 2, timeout=10000)
        assert status_of(catalog_home) == "scanning"     # corrected, not completed behind the clerk's back
    finally:
        close_window(qtbot, window)


def test_r09_page_count_correction_refused_by_state_and_role(qtbot, catalog_home, tmp_path, zh_ui, presenter_log):
    imported_dossier(catalog_home, tmp_path, pages=3)    # completed: waits for QC
    window = make_window(qtbot, catalog_home, "clerk1")
    try:
        desk = open_on_desk(qtbot, window, 3)
        assert not desk.act_correct_pages.isEnabled()
        assert "扫描" in desk.act_correct_pages.toolTip() and "档案管理员" in desk.act_correct_pages.toolTip()
        desk.correct_page_count()                                   # a shortcut or a stale click: nothing opens
        assert desk.findChild(QDialog, "pageCountDialog") is None
        # the core refuses it too (the window is not the guard): a clerk after completion
        from scanstation.errors import Refused
        with pytest.raises(Refused):
            window.api.correct_page_count(SAMPLE_NUMBER, 2, "试图在完成后更正")
        assert declared_of(catalog_home) == 3
    finally:
        close_window(qtbot, window)
    # QC may not correct the catalog at all
    inspector = make_window(qtbot, catalog_home, "qc1")
    try:
        desk = inspector.scan_desk
        desk.panel.show_dossier(inspector.api.dossier(SAMPLE_NUMBER))
        desk._update_enabled()
        assert not desk.act_correct_pages.isEnabled() and "角色" in desk.act_correct_pages.toolTip()
    finally:
        close_window(qtbot, inspector)
    # an archivist corrects a completed dossier
    archivist = make_window(qtbot, catalog_home, "archivist1")
    try:
        desk = archivist.scan_desk
        desk.panel.show_dossier(archivist.api.dossier(SAMPLE_NUMBER))
        desk._update_enabled()
        assert desk.act_correct_pages.isEnabled()
    finally:
        close_window(qtbot, archivist)
