"""Cover sheets from the scan desk: pick dossiers in the list (or a year/status filter), get one PDF page each
(pytest-qt, real core, real reportlab PDF read back with pikepdf, pdftoppm and zxing-cpp)."""

from __future__ import annotations

import subprocess

import numpy as np
import pikepdf
import pytest
import zxingcpp
from PIL import Image
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication

from tests import coversheet_fixture as F
from tests.test_gui_fixtures import close_window, make_window, presenter_log, wait_tasks, zh_ui  # noqa: F401

pytestmark = pytest.mark.usefixtures("zh_ui")


def _qr_numbers(pdf, tmp_path) -> list[str]:
    """The 档号 each page's QR code decodes to, in page order (150 dpi grey, as a scanner would see it)."""
    subprocess.run(["pdftoppm", "-r", "150", "-gray", str(pdf), str(tmp_path / "page")], check=True)
    numbers = []
    for image in sorted(tmp_path.glob("page-*.pgm")):
        codes = zxingcpp.read_barcodes(np.asarray(Image.open(image)), formats=zxingcpp.BarcodeFormat.QRCode)
        assert codes, image.name
        assert len({c.text for c in codes}) == 1  # both edges carry the same 档号
        numbers.append(codes[0].text)
    return numbers


def _dialog(qtbot, window):
    desk = window.scan_desk
    desk.act_cover_sheets.trigger()
    dialog = desk.cover_dialog
    qtbot.waitUntil(lambda: dialog.model.rowCount() > 0, timeout=10000)
    assert dialog.year.value() == F.YEAR  # the open dossier's year, or the newest with dossiers still to scan
    return dialog


def test_selected_dossiers_print_one_sheet_each_with_the_qr_of_their_number(qtbot, home, tmp_path):
    dossiers = F.add_dossiers(home, 6)
    window = make_window(qtbot, home, "clerk1")
    try:
        desk = window.scan_desk
        assert desk.cover_sheets_button.text().startswith("打印分隔页（封面）")
        desk.open_dossier(dossiers[1]["number"])
        qtbot.waitUntil(lambda: desk.number == dossiers[1]["number"], timeout=10000)
        dialog = _dialog(qtbot, window)
        assert dialog.year.value() == F.YEAR and dialog.model.rowCount() == 6
        assert dialog.selected_numbers() == [dossiers[1]["number"]]  # the open dossier is selected
        # the keyboard extends from the open dossier (Shift+Down), Ctrl+click adds one more row
        qtbot.keyClick(dialog.table, Qt.Key.Key_Down, Qt.KeyboardModifier.ShiftModifier)
        rect = dialog.table.visualRect(dialog.model.index(4, 0))
        qtbot.mouseClick(
            dialog.table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ControlModifier, rect.center()
        )
        wanted = [dossiers[i]["number"] for i in (1, 2, 4)]
        assert dialog.selected_numbers() == wanted
        assert "打印所选案卷（3）" in dialog.selected_button.text()
        out = tmp_path / "sheets.pdf"
        with qtbot.waitSignal(dialog.printed, timeout=60000) as printed:
            dialog.print_selected(str(out))
        assert printed.args[0]["sheets"] == 3 and dialog.open_button.isEnabled()
        assert "3 张分隔页" in dialog.result.text()
        with pikepdf.open(out) as pdf:
            assert len(pdf.pages) == 3
        assert _qr_numbers(out, tmp_path) == wanted
        audit = home.catalog.query("SELECT user, after FROM audit_log WHERE action = 'coversheet.print'")
        assert len(audit) == 1 and audit[0]["user"] == "clerk1" and all(n in audit[0]["after"] for n in wanted)
        dialog.close()
    finally:
        close_window(qtbot, window)


def test_year_and_status_filter_prints_every_matching_dossier(qtbot, home, tmp_path):
    F.add_dossiers(home, 4)
    F.add_dossiers(home, 2, start=4, status="scanning")
    F.add_dossiers(home, 1, start=6, status="completed")  # completed: no sheet is printed for it
    window = make_window(qtbot, home, "clerk1")
    try:
        dialog = _dialog(qtbot, window)
        assert dialog.model.rowCount() == 6  # every dossier that can still be scanned
        dialog.status.setCurrentIndex(dialog.status.findData("scanning"))
        dialog.load()
        qtbot.waitUntil(lambda: dialog.model.rowCount() == 2, timeout=10000)
        out = tmp_path / "scanning.pdf"
        with qtbot.waitSignal(dialog.printed, timeout=60000):
            dialog.print_filter(str(out))
        assert _qr_numbers(out, tmp_path) == [F.number(4), F.number(5)]
        dialog.close()
    finally:
        close_window(qtbot, window)


def test_a_folder_that_cannot_be_written_is_a_plain_message_and_no_audit_entry(qtbot, home, tmp_path, presenter_log):
    F.add_dossiers(home, 2)
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("x")
    window = make_window(qtbot, home, "clerk1")
    try:
        dialog = _dialog(qtbot, window)
        dialog.table.selectAll()
        dialog.print_selected(str(blocker / "sheets.pdf"))
        qtbot.waitUntil(lambda: bool(presenter_log), timeout=30000)
        kind, text = presenter_log[0]
        assert kind == "StorageError" and "无法写入" in text and "not-a-folder" in text and "Traceback" not in text
        assert dialog.selected_button.isEnabled()  # ready for another try
        assert not home.catalog.query("SELECT * FROM audit_log WHERE action = 'coversheet.print'")
        dialog.close()
        QApplication.processEvents()
        wait_tasks(qtbot)
    finally:
        close_window(qtbot, window)
