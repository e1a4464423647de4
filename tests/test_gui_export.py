"""The Export menu and the loans view of the window, end to end on a small home with OCR'd demo pages:
double-layer PDF/A, OFD and signed EEP copies of the open dossier, the 数据挂接 catalog export, a loan's
watermarked PDF copy; a role without the export permission sees the actions disabled; a locked encrypted
store or a folder that cannot be written shows one sentence and writes nothing."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
import zipfile
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog

from scanstation.custody import lending, protection
from scanstation.transfer import keys
from tests.export_fixtures import add_ocr_dossier, nonblank_lines, pdftotext_pages, stored_text
from tests.test_gui_fixtures import close_window, make_window, presenter_log, wait_tasks, zh_ui  # noqa: F401

N1 = "X001-ZY·DJ·2024·D100-0001-001"
N2 = "X001-ZY·DJ·2024·D100-0002-001"
TIMEOUT = 60000
PROTECT = "a long protection passphrase"


def _accept_with(setter):
    """A run_dialog hook: fill the real dialog as a user would, then accept it."""
    seen = []

    def run(dialog):
        seen.append(dialog)
        setter(dialog)
        return QDialog.DialogCode.Accepted

    run.seen = seen
    return run


def _choose(combo, data):
    combo.setCurrentIndex(combo.findData(data))


def _open(qtbot, window, number):
    window.open_dossier(number)
    qtbot.waitUntil(lambda: window.scan_desk.number == number, timeout=TIMEOUT)
    wait_tasks(qtbot, TIMEOUT)


def _export_audits(home) -> int:
    return home.catalog.one("SELECT COUNT(*) AS c FROM audit_log WHERE action LIKE 'export.%'")["c"]


def test_export_pdfa_of_the_open_dossier_from_the_menu(qtbot, home, tmp_path, zh_ui, presenter_log):  # noqa: F811
    add_ocr_dossier(home, N1, pages=2)
    window = make_window(qtbot, home, "clerk1")
    try:
        _open(qtbot, window, N1)
        assert window.selected_numbers() == [N1]
        assert window.exports.act_export.isEnabled()
        assert window.exports.act_export in window.export_menu.actions()
        assert window.export_menu.title() == "导出(&E)"  # Chinese by default, Alt+E
        out = tmp_path / "copies"

        def fill(d):
            assert d.numbers.text() == N1  # the open dossier, read off the window
            _choose(d.format, "pdf")
            d.pdfa.setChecked(True)
            d.watermark.setText("仅供查阅")
            d.folder.setText(str(out))

        window.exports.run_dialog = _accept_with(fill)
        window.exports.act_export.trigger()
        qtbot.waitUntil(lambda: not window.exports.busy, timeout=TIMEOUT)
        wait_tasks(qtbot, TIMEOUT)
        assert presenter_log == []
        target = out / f"{N1}.pdf"
        assert target.is_file()
        assert f"{N1}.pdf" in window.statusBar().currentMessage()  # the status bar names the file
        text = pdftotext_pages(target)
        assert len(text) == 2
        for page, stored in zip(text, stored_text(home, N1)):
            assert nonblank_lines(page) == nonblank_lines(stored)  # the text layer reads back as stored
        entry = window.exports.last_result["files"][0]
        assert entry["format"] == "pdf/a-2b" and entry["watermark"].startswith("仅供查阅 clerk1 ")
        assert b"pdfaid" in target.read_bytes()
        from scanstation.export.check import check_file

        checked = check_file(target, catalog=home.catalog)  # text layer on every page, 页数 as catalogued
        assert checked["ok"], checked["problems"]
    finally:
        close_window(qtbot, window)


def test_export_ofd_with_watermark_and_signed_eep(qtbot, home, sessions, tmp_path, zh_ui, presenter_log):  # noqa: F811
    add_ocr_dossier(home, N1, pages=1)
    add_ocr_dossier(home, N2, pages=1)
    keys.generate(sessions["admin"], "station", "sm2", "station key passphrase")
    window = make_window(qtbot, home, "clerk1")
    try:
        out = tmp_path / "ofd"

        def fill_ofd(d):
            d.numbers.setText(f"{N1} {N2}")
            _choose(d.format, "ofd")
            assert not d.pdfa.isEnabled() and not d.passphrase.isEnabled()
            d.watermark.setText("仅供核对")
            d.folder.setText(str(out))

        window.exports.run_dialog = _accept_with(fill_ofd)
        window.exports.act_export.trigger()
        qtbot.waitUntil(lambda: not window.exports.busy, timeout=TIMEOUT)
        wait_tasks(qtbot, TIMEOUT)
        assert presenter_log == []
        for number in (N1, N2):
            with zipfile.ZipFile(out / f"{number}.ofd") as z:
                assert z.testzip() is None
                root = ET.fromstring(z.read("OFD.xml"))
                assert root.tag.endswith("OFD")
                ET.fromstring(z.read("Doc_0/Document.xml"))
        message = window.statusBar().currentMessage()
        assert f"{N1}.ofd" in message and f"{N2}.ofd" in message
        assert "仅供核对" in window.exports.last_result["files"][0]["watermark"]

        eep_out = tmp_path / "eep"

        def fill_eep(d):
            d.numbers.setText(N1)
            _choose(d.format, "eep")
            assert d.key.currentText() == "station"
            d.passphrase.setText("station key passphrase")
            d.folder.setText(str(eep_out))

        window.exports.run_dialog = _accept_with(fill_eep)
        window.exports.act_export.trigger()
        qtbot.waitUntil(lambda: not window.exports.busy, timeout=TIMEOUT)
        wait_tasks(qtbot, TIMEOUT)
        assert presenter_log == []
        target = eep_out / f"{N1}.eep"
        from scanstation.export.check import check_file

        trust = keys.trust_list(home)
        trust.add("own:station", keys.load_key(home, "station").public_pem)
        result = check_file(target, trust=trust, catalog=home.catalog)
        assert result["ok"], result["problems"]
        assert f"{N1}.eep" in window.statusBar().currentMessage()
    finally:
        close_window(qtbot, window)


def test_wrong_key_passphrase_shows_one_sentence_and_writes_nothing(
    qtbot, home, sessions, tmp_path, zh_ui, presenter_log
):  # noqa: F811
    add_ocr_dossier(home, N1, pages=1)
    keys.generate(sessions["admin"], "station", "sm2", "station key passphrase")
    window = make_window(qtbot, home, "clerk1")
    try:
        out = tmp_path / "eep"

        def fill(d):
            d.numbers.setText(N1)
            _choose(d.format, "eep")
            d.passphrase.setText("not the passphrase")
            d.folder.setText(str(out))

        window.exports.run_dialog = _accept_with(fill)
        window.exports.act_export.trigger()
        qtbot.waitUntil(lambda: bool(presenter_log), timeout=TIMEOUT)
        wait_tasks(qtbot, TIMEOUT)
        assert len(presenter_log) == 1 and "\n" not in presenter_log[0][1]
        assert not out.exists() and _export_audits(home) == 0
        assert window.exports.act_export.isEnabled()  # usable again after the error
    finally:
        close_window(qtbot, window)


def test_catalog_export_of_a_year_from_the_menu(qtbot, home, tmp_path, zh_ui, presenter_log):  # noqa: F811
    from openpyxl import load_workbook

    add_ocr_dossier(home, N1, pages=2)
    add_ocr_dossier(home, "X001-ZY·DJ·2023·D100-0001-001", pages=1, year=2023)
    window = make_window(qtbot, home, "clerk1")
    try:
        assert window.exports.act_catalog.text() == "导出目录（数据挂接）(&C)…"

        def fill(d):
            _choose(d.scope, "year")
            d.year.setValue(2024)
            d.format.setCurrentText("xlsx")
            d.out.setText(str(tmp_path / "目录"))  # the suffix follows the format
            d.images.setText(str(tmp_path / "images"))

        window.exports.run_dialog = _accept_with(fill)
        window.exports.act_catalog.trigger()
        qtbot.waitUntil(lambda: not window.exports.busy, timeout=TIMEOUT)
        wait_tasks(qtbot, TIMEOUT)
        assert presenter_log == []
        book = tmp_path / "目录.xlsx"
        rows = list(load_workbook(book).active.iter_rows(values_only=True))
        assert rows[0][0] == "档号" and [r[0] for r in rows[1:]] == [N1]  # only 2024
        assert sorted(p.name for p in (tmp_path / "images" / N1).iterdir()) == [f"{N1}-0001.jpg", f"{N1}-0002.jpg"]
        assert "目录.xlsx" in window.statusBar().currentMessage()
    finally:
        close_window(qtbot, window)


def test_loans_view_hands_out_the_watermarked_pdf_copy(qtbot, home, sessions, tmp_path, zh_ui, presenter_log):  # noqa: F811
    add_ocr_dossier(home, N1, pages=2)
    loan = lending.request(sessions["clerk1"], N1, "核对待遇领取资格", 7)
    window = make_window(qtbot, home, "clerk1")
    try:
        view = window.loan_view
        window.show_view("loans")
        qtbot.waitUntil(lambda: len(view.model.rows) == 1, timeout=TIMEOUT)
        view.select_loan(loan["id"])
        assert not view.export_button.isEnabled()  # requested, not approved yet
        lending.approve(sessions["archivist1"], loan["id"])
        view.refresh()
        qtbot.waitUntil(lambda: view.model.rows[0]["state"] == "approved", timeout=TIMEOUT)
        view.select_loan(loan["id"])
        assert view.export_button.isEnabled()
        view.choose_folder = lambda: str(tmp_path / "loan")
        qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: view.last_result is not None, timeout=TIMEOUT)
        wait_tasks(qtbot, TIMEOUT)
        assert presenter_log == []
        target = tmp_path / "loan" / N1 / f"{N1}.pdf"
        assert target.is_file() and f"{N1}.pdf" in view.status.text()
        for page, stored in zip(pdftotext_pages(target), stored_text(home, N1)):
            assert nonblank_lines(page) == nonblank_lines(stored)
        entry = home.catalog.one("SELECT * FROM audit_log WHERE action = 'lend.export'")
        after = json.loads(entry["after"])
        assert after["format"] == "pdf" and "clerk1" in after["watermark"]
    finally:
        close_window(qtbot, window)


@pytest.mark.parametrize("user", ["qc1", "auditor1"])
def test_role_without_export_permission_sees_the_actions_disabled(qtbot, home, user, zh_ui):  # noqa: F811
    window = make_window(qtbot, home, user)
    try:
        assert not window.api.can("export")
        for action in window.exports.actions():
            assert not action.isEnabled()
            assert "导出" in action.toolTip() and "管理员" in action.toolTip()
        window.exports.run_dialog = lambda d: pytest.fail("no dialog for a role without the permission")
        window.exports.ask_export()
    finally:
        close_window(qtbot, window)


def test_locked_encrypted_images_show_one_sentence_and_write_nothing(
    qtbot, home, sessions, tmp_path, zh_ui, presenter_log
):  # noqa: F811
    add_ocr_dossier(home, N1, pages=1)
    protection.enable(sessions["admin"], PROTECT)
    protection.enable_images(sessions["admin"])
    protection.forget(home)
    window = make_window(qtbot, home, "clerk1")
    try:
        out = tmp_path / "pdf"

        def fill(d):
            d.numbers.setText(N1)
            _choose(d.format, "pdf")
            d.folder.setText(str(out))

        window.exports.run_dialog = _accept_with(fill)
        window.exports.act_export.trigger()
        qtbot.waitUntil(lambda: bool(presenter_log), timeout=TIMEOUT)
        wait_tasks(qtbot, TIMEOUT)
        assert len(presenter_log) == 1
        kind, text = presenter_log[0]
        assert kind == "Refused" and "\n" not in text and "保护口令" in text
        assert text in window.statusBar().currentMessage()
        assert not out.exists() or not any(out.iterdir())
        assert _export_audits(home) == 0
    finally:
        close_window(qtbot, window)
        protection.forget(home)


def test_folder_that_cannot_be_written_shows_one_sentence_and_writes_nothing(
    qtbot, home, tmp_path, zh_ui, presenter_log
):  # noqa: F811
    add_ocr_dossier(home, N1, pages=1)
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"a file where the folder should be")
    window = make_window(qtbot, home, "clerk1")
    try:

        def fill(d):
            d.numbers.setText(N1)
            _choose(d.format, "pdf")
            d.folder.setText(str(blocker / "copies"))

        window.exports.run_dialog = _accept_with(fill)
        window.exports.act_export.trigger()
        qtbot.waitUntil(lambda: bool(presenter_log), timeout=TIMEOUT)
        wait_tasks(qtbot, TIMEOUT)
        assert len(presenter_log) == 1
        kind, text = presenter_log[0]
        assert kind == "StorageError" and "\n" not in text and "无法写入" in text
        assert blocker.read_bytes() == b"a file where the folder should be"
        assert _export_audits(home) == 0
    finally:
        close_window(qtbot, window)


def test_export_takes_the_dossier_selected_in_search_and_never_overwrites(qtbot, home, tmp_path, zh_ui, presenter_log):  # noqa: F811
    add_ocr_dossier(home, N1, pages=1)
    add_ocr_dossier(home, N2, pages=1)
    out = tmp_path / "copies"
    out.mkdir()
    (out / f"{N2}.pdf").write_bytes(b"an earlier copy")
    from scanstation.search import rebuild_index

    rebuild_index(home.catalog.conn)  # the fixture writes rows directly; import and OCR index them
    window = make_window(qtbot, home, "clerk1")
    try:
        window.show_view("search")
        window.search_view.query_edit.setText(N2)  # a 档号: found through the catalog index
        window.search_view.search()
        qtbot.waitUntil(lambda: bool(window.search_view.model.hits), timeout=TIMEOUT)
        assert window.selected_numbers() == [N2]  # the selected result, not the scan desk's

        def fill(d):
            assert d.numbers.text() == N2
            d.numbers.setText(f"{N1} {N2}")
            _choose(d.format, "pdf")
            d.folder.setText(str(out))

        window.exports.run_dialog = _accept_with(fill)
        window.exports.act_export.trigger()
        qtbot.waitUntil(lambda: bool(presenter_log), timeout=TIMEOUT)
        wait_tasks(qtbot, TIMEOUT)
        assert len(presenter_log) == 1 and "已存在" in presenter_log[0][1] and "\n" not in presenter_log[0][1]
        assert (out / f"{N2}.pdf").read_bytes() == b"an earlier copy"
        assert not (out / f"{N1}.pdf").exists()  # every target checked before the first write
        assert _export_audits(home) == 0
    finally:
        close_window(qtbot, window)


def test_catalog_export_into_a_folder_with_files_is_refused_in_one_sentence(
    qtbot, home, tmp_path, zh_ui, presenter_log
):  # noqa: F811
    add_ocr_dossier(home, N1, pages=1)
    images = tmp_path / "images"
    images.mkdir()
    (images / "other.txt").write_text("someone else's file")
    window = make_window(qtbot, home, "clerk1")
    try:

        def fill(d):
            _choose(d.scope, "all")
            d.format.setCurrentText("csv")
            d.out.setText(str(tmp_path / "目录.csv"))
            d.images.setText(str(images))

        window.exports.run_dialog = _accept_with(fill)
        window.exports.act_catalog.trigger()
        qtbot.waitUntil(lambda: bool(presenter_log), timeout=TIMEOUT)
        wait_tasks(qtbot, TIMEOUT)
        assert len(presenter_log) == 1 and "\n" not in presenter_log[0][1] and "已有文件" in presenter_log[0][1]
        assert not (tmp_path / "目录.csv").exists() and [p.name for p in images.iterdir()] == ["other.txt"]
        presenter_log.clear()

        def no_folder(d):
            _choose(d.scope, "all")
            d.out.setText("")

        window.exports.run_dialog = _accept_with(no_folder)
        window.exports.act_catalog.trigger()
        assert len(presenter_log) == 1 and "请选择目录文件和图像目录" in presenter_log[0][1]
    finally:
        close_window(qtbot, window)


def test_loan_copy_refused_into_a_folder_that_holds_files(qtbot, home, sessions, tmp_path, zh_ui, presenter_log):  # noqa: F811
    add_ocr_dossier(home, N1, pages=1)
    loan = lending.request(sessions["clerk1"], N1, "核对待遇领取资格", 7)
    lending.approve(sessions["archivist1"], loan["id"])
    taken = tmp_path / "loan" / N1
    taken.mkdir(parents=True)
    (taken / "old.pdf").write_bytes(b"old")
    window = make_window(qtbot, home, "clerk1")
    try:
        view = window.loan_view
        qtbot.waitUntil(lambda: len(view.model.rows) == 1, timeout=TIMEOUT)
        view.select_loan(loan["id"])
        view.choose_folder = lambda: str(tmp_path / "loan")
        qtbot.mouseClick(view.export_button, Qt.MouseButton.LeftButton)
        qtbot.waitUntil(lambda: bool(presenter_log), timeout=TIMEOUT)
        wait_tasks(qtbot, TIMEOUT)
        assert len(presenter_log) == 1 and "\n" not in presenter_log[0][1]
        assert presenter_log[0][1] in view.status.text()
        assert [p.name for p in taken.iterdir()] == ["old.pdf"]
        assert home.catalog.one("SELECT exports FROM loans WHERE id = ?", (loan["id"],))["exports"] == 0
        assert view.export_button.isEnabled()
    finally:
        close_window(qtbot, window)


def test_no_export_dialog_behind_the_lock(qtbot, home, zh_ui):  # noqa: F811
    window = make_window(qtbot, home, "clerk1")
    try:
        window.lock()
        assert window.is_locked
        window.exports.run_dialog = lambda d: pytest.fail("no export dialog over a locked station")
        QTest.keyClick(window, Qt.Key.Key_E, Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier)
        window.exports.act_export.trigger()
        window.exports.act_catalog.trigger()
    finally:
        window._lock_dialog.locked_user = None
        window._lock_dialog.done(QDialog.DialogCode.Rejected)
        window._lock_dialog = None
        close_window(qtbot, window)
