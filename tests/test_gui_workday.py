"""A clerk's and an inspector's day at the desk: the defects a new user met on a 1366×768 screen,
each reproduced with the real window, real home, real catalog and real core (Qt offscreen)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

from tests.test_gui_fixtures import (SAMPLE_NUMBER, catalog_home, close_window, make_window,  # noqa: F401
                                     presenter_log, session_for, wait_tasks, zh_ui)
from tests.test_transfer_fixtures import jpeg_bytes

SECOND_NUMBER = "X001-ZY·DJ·2024·D100-0001-002"


def imported_dossier(home, tmp_path: Path, number: str = SAMPLE_NUMBER, pages: int = 3, complete: bool = True,
                     clerk: str = "clerk1", explanations: dict | None = None) -> None:
    """``pages`` real JPEG pages filed by the core's import (as `scanstation import` does), then completed."""
    from scanstation.capture import Capture
    from scanstation.pages import complete as complete_dossier
    from scanstation.profiles import get_profile
    folder = tmp_path / f"pages-{abs(hash(number))}"
    folder.mkdir(exist_ok=True)
    files = []
    for i in range(pages):
        f = folder / f"p{i + 1:03d}.jpg"
        f.write_bytes(jpeg_bytes(seed=i + 7, size=(600, 800)))
        files.append(f)
    session = session_for(home, clerk)
    capture = Capture(session)
    try:
        capture.import_files(number, files, get_profile(home, None))
    finally:
        capture.close()
    if complete:
        report = complete_dossier(session, number, explanations or {})
        assert report.completed, report.problems()


def open_in_qc(qtbot, window, number: str = SAMPLE_NUMBER):
    qc = window.qc_desk
    window.show_view("qc")
    qtbot.waitUntil(lambda: number in [r["number"] for r in qc.queue_model.rows])
    qc.open_dossier(number)
    qtbot.waitUntil(lambda: qc.dossier_number == number and qc.strip.pages.active_count() > 0)
    wait_tasks(qtbot)
    return qc


def status_of(home, number: str = SAMPLE_NUMBER) -> str:
    return home.catalog.one("SELECT status FROM dossiers WHERE number = ?", (number,))["status"]


# -- 1. QC decisions were lost: the dialog's values were read on a worker after it was deleted -------
@pytest.mark.parametrize("key, dialog_name, decision", [(Qt.Key.Key_F8, "qcRejectDialog", "reject"),
                                                         (Qt.Key.Key_F9, "qcRescanDialog", "rescan")])
def test_qc_reason_is_read_before_the_dialog_is_gone(qtbot, catalog_home, tmp_path, zh_ui, presenter_log, key,
                                                     dialog_name, decision):
    imported_dossier(catalog_home, tmp_path)
    window = make_window(qtbot, catalog_home, "qc1")
    try:
        qc = open_in_qc(qtbot, window)
        QTest.keyClick(qc.strip, key)
        dialog = qc.findChild(QDialog, dialog_name)
        assert dialog is not None
        dialog.reason.setCurrentIndex(dialog.reason.findData("skewed"))
        dialog.note.setText("右上角折起")
        # the core's work waits until the dialog is really deleted (as it is when the catalog is busy)
        from scanstation.ui import tasks
        gate = __import__("threading").Event()
        tasks.run_task(lambda: gate.wait(10), pool="catalog")
        QTest.keyClick(dialog.note, Qt.Key.Key_Return)
        QApplication.sendPostedEvents(None, 0)   # DeferredDelete: the C++ dialog is gone now
        gc.collect()
        gate.set()
        qtbot.waitUntil(lambda: catalog_home.catalog.one(
            "SELECT count(*) n FROM qc_decisions WHERE decision = ?", (decision,))["n"] == 1, timeout=10000)
        wait_tasks(qtbot)
        row = catalog_home.catalog.one("SELECT reason FROM qc_decisions WHERE decision = ?", (decision,))
        assert row["reason"] == "skewed: 右上角折起"
        assert not [e for e in presenter_log if e[0] == "unexpected"], presenter_log
    finally:
        close_window(qtbot, window)


def test_qc_return_of_a_dossier_keeps_its_reason(qtbot, catalog_home, tmp_path, zh_ui, presenter_log):
    imported_dossier(catalog_home, tmp_path)
    window = make_window(qtbot, catalog_home, "qc1")
    try:
        qc = open_in_qc(qtbot, window)
        QTest.keyClick(qc.strip, Qt.Key.Key_F8, Qt.KeyboardModifier.ShiftModifier)
        dialog = qc.findChild(QDialog, "qcReturnDialog")
        dialog.reason.setCurrentIndex(dialog.reason.findData("missing_page"))
        dialog.note.setText("缺第 2 页")
        from scanstation.ui import tasks
        gate = __import__("threading").Event()
        tasks.run_task(lambda: gate.wait(10), pool="catalog")
        QTest.keyClick(dialog.note, Qt.Key.Key_Return)
        QApplication.sendPostedEvents(None, 0)
        gate.set()
        qtbot.waitUntil(lambda: status_of(catalog_home) == "qc_rejected", timeout=10000)
        wait_tasks(qtbot)
        row = catalog_home.catalog.one("SELECT reason FROM qc_decisions WHERE decision = 'reject_dossier'")
        assert row["reason"] == "missing_page: 缺第 2 页"
        assert not [e for e in presenter_log if e[0] == "unexpected"], presenter_log
    finally:
        close_window(qtbot, window)


# -- 4. the window and every dialog fit the screen ------------------------------------------------
@pytest.mark.parametrize("width, height, scale", [(1366, 768, "1"), (1920, 1080, "1.5")])
def test_window_and_dialogs_fit_the_screen(tmp_path, width, height, scale):
    """A 1366×768 desktop at 100 % and a 1920×1080 one at 150 % (offscreen platform with a screen
    configuration; QT_SCALE_FACTOR): every view, button, status bar and dialog inside the screen."""
    import json
    import os
    import subprocess
    import sys
    config = tmp_path / "screen.json"
    config.write_text(json.dumps({"screens": [{"name": "desk", "x": 0, "y": 0, "width": width, "height": height,
                                               "logicalDpi": 96, "logicalBaseDpi": 96, "dpr": 1}]}))
    env = dict(os.environ, QT_QPA_PLATFORM=f"offscreen:configfile={config}", QT_SCALE_FACTOR=scale,
               HOME=str(tmp_path), PYTHONPATH=str(Path(__file__).resolve().parents[1]))
    result = subprocess.run([sys.executable, "-m", "tests.gui_fit_probe", str(tmp_path / "home")], env=env,
                            cwd=Path(__file__).resolve().parents[1], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["checked"] >= 20
    assert report["problems"] == []
