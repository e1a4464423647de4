"""A clerk's and an inspector's day at the desk: the defects a new user met on a 1366×768 screen,
each reproduced with the real window, real home, real catalog and real core (Qt offscreen)."""

from __future__ import annotations

import gc
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QDialog, QMessageBox

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
from tests.test_transfer_fixtures import jpeg_bytes

SECOND_NUMBER = "X001-ZY·DJ·2024·D100-0001-002"


def imported_dossier(
    home,
    tmp_path: Path,
    number: str = SAMPLE_NUMBER,
    pages: int = 3,
    complete: bool = True,
    clerk: str = "clerk1",
    explanations: dict | None = None,
) -> None:
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
@pytest.mark.parametrize(
    "key, dialog_name, decision",
    [(Qt.Key.Key_F8, "qcRejectDialog", "reject"), (Qt.Key.Key_F9, "qcRescanDialog", "rescan")],
)
def test_qc_reason_is_read_before_the_dialog_is_gone(
    qtbot, catalog_home, tmp_path, zh_ui, presenter_log, key, dialog_name, decision
):
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
        QApplication.sendPostedEvents(None, 0)  # DeferredDelete: the C++ dialog is gone now
        gc.collect()
        gate.set()
        qtbot.waitUntil(
            lambda: (
                catalog_home.catalog.one("SELECT count(*) n FROM qc_decisions WHERE decision = ?", (decision,))["n"]
                == 1
            ),
            timeout=10000,
        )
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
    config.write_text(
        json.dumps(
            {
                "screens": [
                    {
                        "name": "desk",
                        "x": 0,
                        "y": 0,
                        "width": width,
                        "height": height,
                        "logicalDpi": 96,
                        "logicalBaseDpi": 96,
                        "dpr": 1,
                    }
                ]
            }
        )
    )
    env = dict(
        os.environ,
        QT_QPA_PLATFORM=f"offscreen:configfile={config}",
        QT_SCALE_FACTOR=scale,
        HOME=str(tmp_path),
        PYTHONPATH=str(Path(__file__).resolve().parents[1]),
    )
    result = subprocess.run(
        [sys.executable, "-m", "tests.gui_fit_probe", str(tmp_path / "home")],
        env=env,
        cwd=Path(__file__).resolve().parents[1],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["checked"] >= 20
    assert report["problems"] == []


# -- 5. the barcode gun: the 档号 field is armed whatever has focus on the desk ----------------------
def gun(qtbot, text: str) -> None:
    """A keyboard-mode barcode gun: fast keystrokes to whatever widget has the keyboard, then Enter."""
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import QKeyEvent

    for ch in text:  # key events with their text, as the window system delivers them (any character)
        key = ord(ch.upper()) if ch.isascii() else 0
        for kind in (QEvent.Type.KeyPress, QEvent.Type.KeyRelease):
            QApplication.sendEvent(QApplication.focusWidget(), QKeyEvent(kind, key, Qt.KeyboardModifier.NoModifier, ch))
    QTest.keyClick(QApplication.focusWidget(), Qt.Key.Key_Return)


def test_barcode_gun_twice_in_a_row_with_focus_elsewhere(qtbot, catalog_home, zh_ui, presenter_log):
    window = make_window(qtbot, catalog_home, "clerk1")
    desk = window.scan_desk
    try:
        window.activateWindow()
        edit = desk.panel.number_edit
        assert not edit.testAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled)  # no IME in the 档号 field
        for number, other in ((SAMPLE_NUMBER, desk.strip), (SECOND_NUMBER, desk.device_combo)):
            other.setFocus()
            qtbot.waitUntil(lambda o=other: QApplication.focusWidget() is o)
            gun(qtbot, number)
            qtbot.waitUntil(lambda n=number: desk.number == n, timeout=5000)
            wait_tasks(qtbot)
            assert edit.text() == number
            assert QApplication.focusWidget() is desk.strip  # the desk is ready for page keys again
        assert not [e for e in presenter_log if e[0] != "notice"], presenter_log
    finally:
        close_window(qtbot, window)


# -- 7. a failed lookup clears the desk; F5 scans only into the dossier shown and named ----------------
def test_failed_lookup_clears_the_desk_and_f5_scans_nothing(qtbot, catalog_home, tmp_path, zh_ui, presenter_log):
    imported_dossier(catalog_home, tmp_path, complete=False, pages=2)
    window = make_window(qtbot, catalog_home, "clerk1")
    desk = window.scan_desk
    try:
        desk.open_dossier(SAMPLE_NUMBER)
        qtbot.waitUntil(lambda: desk.strip.pages.active_count() == 2)
        desk.panel.number_edit.setText("X001-ZY·DJ·2024·D100-0999-001")
        desk.panel.open_typed()
        qtbot.waitUntil(lambda: any(k == "NotFound" for k, _t in presenter_log))
        wait_tasks(qtbot)
        assert desk.number is None and desk.strip.pages.rowCount() == 0
        assert desk.panel.values["title"].text() == "—"
        assert not desk.scan_button.isEnabled()
        presenter().close_open_box()
        desk.scan_or_continue()  # F5
        wait_tasks(qtbot)
        assert desk.operation is None
        assert "没有打开的案卷" in presenter_log[-1][1]
        pages = catalog_home.catalog.query("SELECT count(*) n FROM pages WHERE state = 'active'")[0]["n"]
        assert pages == 2
        # a number typed but not opened: F5 refuses to scan into the dossier still on the desk
        desk.open_dossier(SAMPLE_NUMBER)
        qtbot.waitUntil(lambda: desk.number == SAMPLE_NUMBER)
        wait_tasks(qtbot)
        desk.panel.number_edit.setText(SECOND_NUMBER)
        desk.scan_or_continue()
        wait_tasks(qtbot)
        assert desk.operation is None and SECOND_NUMBER in presenter_log[-1][1]
    finally:
        close_window(qtbot, window)


def presenter():
    from scanstation.ui.errors import presenter as p

    return p()


# -- 8. QC warns about pages nobody looked at ----------------------------------------------------
def test_qc_warns_about_unviewed_pages_before_approving(qtbot, catalog_home, tmp_path, zh_ui, presenter_log):
    imported_dossier(catalog_home, tmp_path, pages=3)
    window = make_window(qtbot, catalog_home, "qc1")
    try:
        qc = open_in_qc(qtbot, window)
        QTest.keyClick(qc.strip, Qt.Key.Key_F7)  # page 1 passed, page 2 shown, page 3 never
        wait_tasks(qtbot)
        assert qc.unviewed_pages() == [3]
        QTest.keyClick(qc.strip, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        box = qc.findChild(QMessageBox, "qcUnviewedBox")
        assert box is not None and "3" in box.text()
        box.defaultButton().click()  # the default shows the first page nobody looked at
        wait_tasks(qtbot)
        assert status_of(catalog_home) == "completed" and qc.strip.current_seq() == 3
        QTest.keyClick(qc.strip, Qt.Key.Key_Return, Qt.KeyboardModifier.ControlModifier)
        qtbot.waitUntil(lambda: status_of(catalog_home) == "approved", timeout=10000)
        wait_tasks(qtbot)
        # 10. no modal success box: the notice is in the status bar
        assert presenter_log[-1][0] == "notice" and "质检通过" in window.statusBar().currentMessage()
        assert presenter().open_box is None
    finally:
        close_window(qtbot, window)


# -- 9. each role sees the other's words -----------------------------------------------------------
def test_qc_sees_the_clerks_explanation_and_the_clerk_the_reasons(qtbot, catalog_home, tmp_path, zh_ui, presenter_log):
    imported_dossier(catalog_home, tmp_path, pages=2, explanations={"missing": "第 3 页为空白背面，未扫描"})
    window = make_window(qtbot, catalog_home, "qc1")
    try:
        qc = open_in_qc(qtbot, window)
        assert qc.explanation_label.isVisibleTo(qc)
        assert "第 3 页为空白背面" in qc.explanation_label.text() and "clerk1" in qc.explanation_label.text()
        qc.strip.select_seq(2)
        QTest.keyClick(qc.strip, Qt.Key.Key_F9)
        dialog = qc.findChild(QDialog, "qcRescanDialog")
        QTest.keyClick(dialog.note, Qt.Key.Key_Return)  # 17/18: no reason chosen -> the dialog says so
        assert dialog.isVisible() and dialog.message.text()
        dialog.reason.setCurrentIndex(dialog.reason.findData("wrong_orientation"))
        dialog.note.setText("倒置")
        QTest.keyClick(dialog.note, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: status_of(catalog_home) == "qc_rejected", timeout=10000)
    finally:
        close_window(qtbot, window)
    clerk = make_window(qtbot, catalog_home, "clerk1")
    desk = clerk.scan_desk
    try:
        qtbot.waitUntil(lambda: len(desk.returned_rows) == 1, timeout=5000)
        assert desk.returned_button.isEnabled() and "（1）" in desk.returned_button.text()
        desk.returned_menu.actions()[0].trigger()
        qtbot.waitUntil(lambda: desk.number == SAMPLE_NUMBER and desk.return_notice.isVisibleTo(desk), timeout=5000)
        text = desk.return_notice.text()
        assert "第 2 页" in text and "方向错误：倒置" in text and "qc1" in text
        qtbot.waitUntil(lambda: desk.strip.current_seq() == 2)  # the page QC named, ready for F6
        assert desk.scan_button.isEnabled()  # returned dossiers are the clerk's again
    finally:
        close_window(qtbot, clerk)


# -- 11. controls the state forbids are disabled, and say why --------------------------------------
def test_completed_dossier_has_scanning_and_page_edits_disabled_with_the_reason(
    qtbot, catalog_home, tmp_path, zh_ui, presenter_log
):
    imported_dossier(catalog_home, tmp_path, pages=3)
    window = make_window(qtbot, catalog_home, "clerk1")
    desk = window.scan_desk
    try:
        desk.open_dossier(SAMPLE_NUMBER)
        qtbot.waitUntil(lambda: desk.strip.pages.active_count() == 3)
        wait_tasks(qtbot)
        assert not desk.scan_button.isEnabled() and "等待质检" in desk.scan_button.toolTip()
        for action in (desk.act_delete, desk.act_replace, desk.act_complete, desk.act_not_scanned):
            assert not action.isEnabled() and "等待质检" in action.toolTip()
        desk.scan()
        wait_tasks(qtbot)
        assert desk.operation is None and presenter().open_box is None  # no modal "not allowed"
    finally:
        close_window(qtbot, window)
    inspector = make_window(qtbot, catalog_home, "qc1")
    try:
        from scanstation.qc import approve

        approve(session_for(catalog_home, "qc1"), SAMPLE_NUMBER)
        qc = inspector.qc_desk
        inspector.show_view("qc")
        qc.open_dossier(SAMPLE_NUMBER)
        qtbot.waitUntil(lambda: qc.dossier_number == SAMPLE_NUMBER)
        wait_tasks(qtbot)
        for action in (qc.act_pass, qc.act_reject, qc.act_rescan, qc.act_approve, qc.act_return):
            assert not action.isEnabled() and "只有已完成的案卷才能质检" in action.toolTip()
    finally:
        close_window(qtbot, inspector)


# -- 17. an empty explanation keeps the completion dialog open with a message -----------------------
def test_empty_explanation_says_what_is_missing(qtbot, catalog_home, tmp_path, zh_ui, presenter_log):
    imported_dossier(catalog_home, tmp_path, pages=2, complete=False)
    window = make_window(qtbot, catalog_home, "clerk1")
    desk = window.scan_desk
    try:
        desk.open_dossier(SAMPLE_NUMBER)
        qtbot.waitUntil(lambda: desk.strip.pages.active_count() == 2)
        wait_tasks(qtbot)
        desk.complete()
        qtbot.waitUntil(lambda: desk.findChild(QDialog, "explanationDialog") is not None, timeout=10000)
        dialog = desk.findChild(QDialog, "explanationDialog")
        QTest.keyClick(list(dialog.fields.values())[0], Qt.Key.Key_Return)
        assert dialog.isVisible() and "说明" in dialog.message.text()
        assert len(desk.findChildren(QDialog, "explanationDialog")) == 1
        list(dialog.fields.values())[0].setText("原件第 3 页缺失，已登记")
        QTest.keyClick(list(dialog.fields.values())[0], Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: status_of(catalog_home) == "completed", timeout=10000)
        wait_tasks(qtbot)
        assert presenter_log[-1][0] == "notice" and presenter().open_box is None
        assert QApplication.focusWidget() is desk.panel.number_edit  # ready for the next barcode
    finally:
        close_window(qtbot, window)


# -- 3. keys in the window: settings (admin) and the seal dialog when there is none -----------------
def test_admin_creates_exports_and_trusts_keys_in_settings(qtbot, tmp_path, zh_ui, presenter_log):
    from tests.test_transfer_fixtures import make_archive, make_station, station_key

    station = make_station(tmp_path / "station")
    archive = make_archive(tmp_path / "archive")
    archive_pem = station_key(archive, tmp_path, name="archive")
    try:
        window = make_window(qtbot, station.home, "admin")
        try:
            window.show_view("settings")
            tab = window.settings_view.keys
            window.settings_view.setCurrentWidget(tab)
            wait_tasks(qtbot)
            assert tab.own.rowCount() == 0 and not tab.export_button.isEnabled()

            def fill_generate(dialog):
                dialog.passphrase.setText("station-passphrase-1")
                dialog.passphrase2.setText("station-passphrase-2")
                dialog.create()
                assert dialog.isVisible() is False and "不一致" in dialog.message.text()
                dialog.passphrase2.setText("station-passphrase-1")
                dialog.create()
                qtbot.waitUntil(lambda: dialog.result() == QDialog.DialogCode.Accepted, timeout=30000)
                return dialog.result()

            tab.run_dialog = fill_generate
            tab.generate_button.click()
            qtbot.waitUntil(lambda: tab.own.rowCount() == 1, timeout=30000)
            assert tab.own.item(0, 0).text() == "station-S01"
            assert "指纹" in tab.own.item(0, 0).toolTip()  # the fingerprint only in the tooltip
            out = tmp_path / "station-S01.pem"
            tab.choose_export_file = lambda _name: str(out)
            tab.export_button.click()
            qtbot.waitUntil(out.exists, timeout=10000)
            assert out.read_text().startswith("-----BEGIN PUBLIC KEY-----")

            def fill_trust(dialog):
                dialog.name.setText("archive")
                dialog.file.setText(str(archive_pem))
                return QDialog.DialogCode.Accepted

            tab.run_dialog = fill_trust
            tab.trust_button.click()
            qtbot.waitUntil(lambda: tab.trusted.rowCount() == 1, timeout=10000)
            actions = [
                r["action"]
                for r in station.home.catalog.query(
                    "SELECT action FROM audit_log WHERE action LIKE 'keys.%' ORDER BY id"
                )
            ]
            assert actions == ["keys.generate", "keys.export", "keys.trust"]
            assert not [e for e in presenter_log if e[0] not in ("notice",)], presenter_log
        finally:
            close_window(qtbot, window)
    finally:
        station.close()
        archive.close()


def test_seal_dialog_offers_to_create_the_station_key(qtbot, tmp_path, zh_ui, presenter_log):
    from scanstation.ui.batch_view import KeyPassphraseDialog
    from scanstation.ui.core_api import CoreApi
    from tests.test_transfer_fixtures import make_station

    station = make_station(tmp_path / "station")
    try:
        for user, may in (("clerk1", False), ("admin", True)):
            api = CoreApi(station.s[user])
            dialog = KeyPassphraseDialog("封装批次", "说明", [], None)
            qtbot.addWidget(dialog)
            dialog.offer_key_creation(api)
            dialog.finish_layout()
            assert dialog.create_key_button is not None and dialog.create_key_button.isEnabled() is may
            if not may:
                assert "管理员" in dialog.no_key_note.text()
                continue
            dialog.create_key_button.click()
            created = dialog.create_key_dialog
            created.passphrase.setText("station-passphrase-1")
            created.passphrase2.setText("station-passphrase-1")
            created.create()
            qtbot.waitUntil(lambda: dialog.key.currentText() == "station-S01", timeout=30000)
            assert dialog.passphrase.text() == "station-passphrase-1"
            assert (station.home.path / "keys" / "signing" / "station-S01.json").exists()
    finally:
        station.close()


# -- issue 12 item 21: the demo scanner is never the default nor a fallback on a real station ----------
@pytest.mark.real_station
def test_demo_scanner_is_not_offered_on_a_real_station(qtbot, home, zh_ui, presenter_log, monkeypatch):
    from scanstation import settings
    from scanstation.ui.core_api import CoreApi

    monkeypatch.setattr(CoreApi, "_devices", None)
    window = make_window(qtbot, home, "clerk1")
    desk = window.scan_desk
    try:
        qtbot.waitUntil(lambda: not desk._discovering, timeout=30000)
        wait_tasks(qtbot)
        ids = [desk.device_combo.itemData(i) for i in range(desk.device_combo.count())]
        assert "demo" not in ids
        if not ids:  # no real scanner on this machine: said so, and nothing to scan with
            assert desk.device_combo.currentIndex() == -1 and desk.device_combo.placeholderText() == "未找到扫描仪"
            desk.load_devices(refresh=True)  # "Look for scanners" finds nothing: no switch to the demo scanner
            qtbot.waitUntil(lambda: not desk._discovering, timeout=30000)
            wait_tasks(qtbot)
            assert desk.device_combo.count() == 0 and "未找到扫描仪" in presenter_log[-1][1]
        assert not desk.demo_mark.isVisibleTo(desk)
    finally:
        close_window(qtbot, window)
    # an administrator switches it on for training: audited, offered, marked 演示
    from tests.test_gui_fixtures import session_for as s

    settings.set_value(s(home, "admin"), "capture.demo_scanner", True)
    audit = home.catalog.one(
        "SELECT user, after FROM audit_log WHERE action = 'settings.set' AND object_id = 'capture.demo_scanner'"
    )
    assert audit["user"] == "admin" and audit["after"] == "true"
    window = make_window(qtbot, home, "clerk1")
    desk = window.scan_desk
    try:
        qtbot.waitUntil(lambda: desk.device_combo.findData("demo") >= 0, timeout=30000)
        real = [
            desk.device_combo.itemData(i)
            for i in range(desk.device_combo.count())
            if desk.device_combo.itemData(i) != "demo"
        ]
        if real:
            assert desk.device_combo.currentData() != "demo"  # a real scanner stays the default
        desk.device_combo.setCurrentIndex(desk.device_combo.findData("demo"))
        assert desk.demo_mark.isVisibleTo(desk) and desk.demo_mark.text() == "演示"
    finally:
        close_window(qtbot, window)


def test_demo_pages_carry_the_demo_mark():
    from scanstation.ui.page_model import is_demo_page

    assert is_demo_page({"device": '{"backend": "demo", "model": "Demo scanner"}'})
    assert not is_demo_page({"device": '{"backend": "sane", "id": "sane:test:0"}'})
    assert not is_demo_page({"device": None}) and not is_demo_page({"device": "not json"})


def test_lock_screen_lets_another_user_sign_in(qtbot, catalog_home, zh_ui, presenter_log):
    window = make_window(qtbot, catalog_home, "clerk1")
    try:
        window.lock()
        dialog = window._lock_dialog
        assert dialog.switch_button is not None
        closed = []
        window.destroyed.connect(lambda *_: closed.append(True))
        dialog.switch_button.click()
        assert window.signed_out and not window.isVisible() and window._lock_dialog is None
        assert (
            catalog_home.catalog.one("SELECT user FROM audit_log WHERE action = 'session.sign_out'")["user"] == "clerk1"
        )
    finally:
        close_window(qtbot, window)


# -- 15. no debug text in the Chinese window --------------------------------------------------------
def test_messages_keep_rule_numbers_code_points_and_pids_out_of_the_window():
    from scanstation.ui.text import human_size, local_time, plain_message

    assert plain_message("登记 10 页，现有图像 9 页（R09/R10）。") == "登记 10 页，现有图像 9 页。"
    assert plain_message("含有“.”（U+00B7）") == "含有“.”"
    assert "pid" not in plain_message("工作目录正被另一个程序使用（pid 19018, scanstation gui）。")
    assert (
        plain_message("目录中没有档号 X。请先导入部门目录（scanstation catalog import）。")
        == "目录中没有档号 X。请先导入部门目录。"
    )
    assert human_size(512) == "512 B" and human_size(1536) == "1.5 KB" and human_size(3 * 1024**3) == "3.0 GB"
    assert local_time("2026-12-06T03:04:05Z") != "2026-12-06T03:04:05Z" and "T" not in local_time(
        "2026-12-06T03:04:05Z"
    )
    assert local_time("2026-12-06") == "2026-12-06"


def test_default_profiles_are_named_in_the_windows_language(qapp):
    from scanstation.ui import i18n
    from scanstation.ui.scan_desk import profile_label

    try:
        i18n.install("en")
        assert profile_label("标准彩色") == "Standard colour" and profile_label("my profile") == "my profile"
    finally:
        i18n.install("zh_CN")
    assert profile_label("标准彩色") == "标准彩色"


# -- 17. no two Alt shortcuts on one screen ------------------------------------------------------
def _mnemonic(text: str) -> str | None:
    import re

    found = re.search(r"&([^&\s])", (text or "").replace("&&", ""))
    return found.group(1).upper() if found else None


@pytest.mark.parametrize("user, view", [("clerk1", "scan"), ("qc1", "qc"), ("admin", "settings")])
def test_alt_shortcuts_are_unique_on_each_screen(qtbot, catalog_home, zh_ui, user, view):
    from PySide6.QtWidgets import QAbstractButton, QLabel, QTabBar

    window = make_window(qtbot, catalog_home, user)
    try:
        window.show_view(view)
        wait_tasks(qtbot)
        texts = [a.text() for a in window.menuBar().actions()]
        area = window.views[view]
        for bar in area.findChildren(QTabBar):
            texts += [bar.tabText(i) for i in range(bar.count())]
        if view != "settings":
            texts += [w.text() for w in area.findChildren(QLabel) if w.buddy() is not None and w.isVisibleTo(window)]
            texts += [w.text() for w in area.findChildren(QAbstractButton) if w.isVisibleTo(window)]
        tabs = (
            [window.views[view].widget(i) for i in range(window.views[view].count())] if view == "settings" else [None]
        )
        for tab in tabs:
            if tab is not None:  # each settings tab is a screen of its own
                window.views[view].setCurrentWidget(tab)
                wait_tasks(qtbot)
                shown = [w.text() for w in tab.findChildren(QLabel) if w.buddy() is not None and w.isVisibleTo(window)]
                shown += [w.text() for w in tab.findChildren(QAbstractButton) if w.isVisibleTo(window)]
                duplicates = _duplicates(texts + shown)
                assert duplicates == {}, tab.objectName() or type(tab).__name__
        duplicates = _duplicates(texts)
        assert duplicates == {}
    finally:
        close_window(qtbot, window)


def _duplicates(texts: list[str]) -> dict:
    seen: dict[str, list[str]] = {}
    if True:
        for text in texts:
            key = _mnemonic(text)
            if key:
                seen.setdefault(key, []).append(text)
    return {k: v for k, v in seen.items() if len(v) > 1}


@pytest.mark.real_station
def test_admin_switches_the_demo_scanner_on_for_training_in_settings(qtbot, home, zh_ui, presenter_log):
    window = make_window(qtbot, home, "admin")
    try:
        window.show_view("settings")
        station = window.settings_view.station
        window.settings_view.setCurrentWidget(station)
        wait_tasks(qtbot)
        box = station.editors["capture.demo_scanner"]
        assert not box.isChecked()
        box.setChecked(True)
        station.save_button.click()
        qtbot.waitUntil(
            lambda: (
                home.catalog.one(
                    "SELECT count(*) n FROM audit_log WHERE action = 'settings.set'"
                    " AND object_id = 'capture.demo_scanner'"
                )["n"]
                == 1
            ),
            timeout=10000,
        )
        wait_tasks(qtbot)
        from scanstation import settings

        assert settings.get(home, "capture.demo_scanner") is True
        assert presenter_log[-1][0] == "notice"
        labels = [w.text() for w in station.findChildren(__import__("PySide6.QtWidgets", fromlist=["QLabel"]).QLabel)]
        assert not [t for t in labels if "（R" in t or "(R" in t]  # rule numbers stay out of the window
    finally:
        close_window(qtbot, window)


# -- 14. no stale status texts -------------------------------------------------------------------
def test_status_texts_follow_what_is_true_now(qtbot, catalog_home, tmp_path, zh_ui, presenter_log):
    imported_dossier(catalog_home, tmp_path, pages=3)
    window = make_window(qtbot, catalog_home, "qc1")
    try:
        qc = open_in_qc(qtbot, window)
        from scanstation.qc import approve

        approve(session_for(catalog_home, "qc1"), SAMPLE_NUMBER)
        qc._close_dossier()
        wait_tasks(qtbot)
        assert qc.queue_model.rowCount() == 0 and qc.status_label.text() == "0 个案卷待质检。"
    finally:
        close_window(qtbot, window)
    window = make_window(qtbot, catalog_home, "clerk1")
    desk = window.scan_desk
    try:
        desk.open_dossier(SECOND_NUMBER)
        qtbot.waitUntil(lambda: desk.number == SECOND_NUMBER)
        wait_tasks(qtbot)
        desk._ocr_queue_loaded(8)
        assert "OCR 队列：8" in desk.status_label.text()
        desk._ocr_queue_loaded(0)  # OCR finished: no "OCR queue: 8" left behind
        assert "OCR" not in desk.status_label.text() and not desk._status_timer.isActive()
        assert desk.panel.values["status"].text() == "已编目，未扫描"
    finally:
        close_window(qtbot, window)


# -- 18. search results grouped by dossier; Enter in the query does not open the first hit -----------
def test_search_groups_hits_by_dossier_and_keeps_the_keyboard_in_the_query(qtbot, catalog_home, zh_ui):
    window = make_window(qtbot, catalog_home, "clerk1")
    view = window.search_view
    try:
        window.show_view("search")
        opened = []
        view.openRequested.connect(lambda n, p: opened.append(n))
        view.query_edit.setText("张伟")
        QTest.keyClick(view.query_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=5000)
        numbers = [h.number for h in view.model.hits]
        firsts = [n for i, n in enumerate(numbers) if i == 0 or numbers[i - 1] != n]
        assert len(firsts) == len(set(numbers))  # each dossier's hits together
        shown = [view.model.data(view.model.index(i, 0)) for i in range(len(numbers))]
        assert [s for s in shown if s] == firsts
        assert QApplication.focusWidget() is view.query_edit
        QTest.keyClick(view.query_edit, Qt.Key.Key_Return)  # a second Enter searches again, opens nothing
        wait_tasks(qtbot)
        assert opened == [] and window.current_view() == "search"
    finally:
        close_window(qtbot, window)


def test_key_creation_refused_by_the_core_keeps_the_dialog_with_its_message(qtbot, tmp_path, zh_ui, presenter_log):
    from scanstation.ui.core_api import CoreApi
    from scanstation.ui.settings_view import GenerateKeyDialog
    from tests.test_transfer_fixtures import make_station, station_key

    station = make_station(tmp_path / "station")
    try:
        station_key(station, tmp_path, name="station-S01")  # the name is taken already
        before = (station.home.path / "keys" / "signing" / "station-S01.json").read_bytes()
        dialog = GenerateKeyDialog(None, CoreApi(station.s["admin"]), default_name="station-S01")
        qtbot.addWidget(dialog)
        dialog.show()
        for text, expected in (
            ("short", "至少需要 8 个字符"),
            ("long-enough-passphrase", "已存在名为 station-S01 的密钥"),
        ):
            dialog.passphrase.setText(text)
            dialog.passphrase2.setText(text)
            dialog.create()
            qtbot.waitUntil(lambda e=expected: e in dialog.message.text(), timeout=30000)
            assert dialog.isVisible() and dialog.buttons.isEnabled()
        assert (station.home.path / "keys" / "signing" / "station-S01.json").read_bytes() == before  # never overwritten
        dialog.name.setText("bad name/..")
        dialog.create()
        qtbot.waitUntil(lambda: "密钥名称" in dialog.message.text(), timeout=10000)
        assert not list((station.home.path / "keys" / "signing").glob("bad*"))
    finally:
        station.close()
