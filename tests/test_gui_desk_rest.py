"""The window's last pieces of the eight-hour desk: the 页数 correction on the scan desk, the sampled
dossier's pages at intake (folder and .zip), and the intake report in words (key names, states).
Real window, real home and catalog, real packages; Qt offscreen."""

from __future__ import annotations

import re
import zipfile
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QDialog

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
def test_r09_clerk_corrects_the_page_count_from_the_desk_and_the_panel_shows_it(
    qtbot, catalog_home, tmp_path, zh_ui, presenter_log
):
    imported_dossier(catalog_home, tmp_path, pages=2, complete=False)  # the catalog says 3
    window = make_window(qtbot, catalog_home, "clerk1")
    try:
        desk = open_on_desk(qtbot, window, 2)
        assert desk.act_correct_pages.isEnabled() and desk.correct_pages_button.isVisible()
        desk.act_correct_pages.trigger()
        dialog = desk.findChild(QDialog, "pageCountDialog")
        assert dialog is not None and dialog.pages.value() == 2  # what the desk holds
        QTest.keyClick(dialog.reason, Qt.Key.Key_Return)  # no reason: stays open and says so
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
        assert status_of(catalog_home) == "scanning"  # corrected, not completed behind the clerk's back
    finally:
        close_window(qtbot, window)


def test_r09_page_count_correction_refused_by_state_and_role(qtbot, catalog_home, tmp_path, zh_ui, presenter_log):
    imported_dossier(catalog_home, tmp_path, pages=3)  # completed: waits for QC
    window = make_window(qtbot, catalog_home, "clerk1")
    try:
        desk = open_on_desk(qtbot, window, 3)
        assert not desk.act_correct_pages.isEnabled()
        assert "扫描" in desk.act_correct_pages.toolTip() and "档案管理员" in desk.act_correct_pages.toolTip()
        desk.correct_page_count()  # a shortcut or a stale click: nothing opens
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


# -- item 18: the sampled dossier's pages at intake ---------------------------------------------------
TIMEOUT = 30000


@pytest.fixture
def world(tmp_path):
    from tests.test_transfer_fixtures import make_world

    w = make_world(tmp_path)
    yield w
    w.close()


def intake_for(qtbot, session):
    from scanstation.ui.core_api import CoreApi
    from scanstation.ui.intake_view import IntakeView

    view = IntakeView(CoreApi(session))
    qtbot.addWidget(view)
    view.resize(1280, 720)
    view.show()
    return view


def checked(qtbot, view, package) -> dict:
    view.check(str(package))
    qtbot.waitUntil(lambda: view.result is not None, timeout=TIMEOUT)
    wait_tasks(qtbot)
    return view.result


def manifest_pages(package: Path, number: str) -> list[str]:
    from scanstation.transfer.package_pages import _page_of, parse_manifest

    entries = parse_manifest((package / "manifest-sha256.txt").read_bytes())
    return sorted(rel for rel in entries if _page_of(rel, number) is not None)


def viewer_of(qtbot, view):
    qtbot.waitUntil(lambda: view.findChild(QDialog, "samplePagesDialog") is not None, timeout=TIMEOUT)
    dialog = view.findChild(QDialog, "samplePagesDialog")
    qtbot.waitUntil(dialog.viewer.has_image, timeout=TIMEOUT)
    return dialog


def test_r33_archivist_opens_a_sampled_dossier_with_enter(qtbot, world, zh_ui, presenter_log):
    view = intake_for(qtbot, world.archive.s["archivist1"])
    result = checked(qtbot, view, world.package)
    assert result["checks_passed"]
    number = result["sample"]["dossiers"][0]
    view.sample_table.setFocus()
    view.sample_table.setCurrentCell(0, 0)
    assert view.view_sample_button.isEnabled()
    QTest.keyClick(view.sample_table, Qt.Key.Key_Return)
    dialog = viewer_of(qtbot, view)
    expected = manifest_pages(world.package, number)
    assert [p.name for p in dialog.dossier.pages] == expected and len(expected) >= 2
    assert dialog.page_list.count() == len(expected) and dialog.page_list.item(0).text() == "第 1 页"
    assert not dialog.notice.isVisible()
    QTest.keyClick(dialog.page_list, Qt.Key.Key_PageDown)
    assert dialog.page_list.currentRow() == 1
    qtbot.waitUntil(lambda: dialog.viewer.current_key == expected[1])
    dialog.close()
    assert view.result["sample"]["dossiers"][0] == number and not presenter_log  # nothing decided, no error


def add_member(zip_path: Path, name: str, data: bytes) -> None:
    """Append a plain file entry (as a zip tool would) to a package zip."""
    import stat

    info = zipfile.ZipInfo(name, date_time=(2024, 12, 1, 0, 0, 0))
    info.external_attr = (stat.S_IFREG | 0o644) << 16
    info.create_system = 3
    with zipfile.ZipFile(zip_path, "a") as zf:
        zf.writestr(info, data)


def test_r33_zip_sample_shows_only_manifest_pages_and_names_the_unlisted_member(
    qtbot, world, tmp_path, zh_ui, presenter_log
):
    from scanstation.transfer import zip_package
    from tests.test_transfer_fixtures import jpeg_bytes

    package = tmp_path / f"{world.package.name}.zip"
    zip_package.write_zip(world.package, package)
    view = intake_for(qtbot, world.archive.s["archivist1"])
    result = checked(qtbot, view, package)
    assert result["checks_passed"] and result["package"] == str(package)
    number = result["sample"]["dossiers"][0]
    expected = manifest_pages(world.package, number)
    folder = expected[0].rsplit("/", 1)[0]
    # the zip changes on the share after the check: a file in the dossier's folder that the manifest does not list
    smuggled = f"{folder}/{number}-0099.jpg"
    add_member(package, f"{world.package.name}/{smuggled}", jpeg_bytes(seed=99))
    table = view.sample_table
    cell = table.visualRect(table.model().index(0, 0)).center()
    assert table.isVisible() and table.viewport().rect().contains(cell), (table.viewport().rect(), cell)
    QTest.mouseClick(table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, cell)
    QTest.mouseDClick(table.viewport(), Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, cell)
    dialog = viewer_of(qtbot, view)
    assert [p.name for p in dialog.dossier.pages] == expected and smuggled not in [p.name for p in dialog.dossier.pages]
    assert dialog.notice.isVisible() and smuggled in dialog.notice.text() and "清单" in dialog.notice.text()
    assert dialog.dossier.unlisted == [smuggled]
    dialog.close()


def test_r33_unsafe_zip_and_tampered_pages_are_refused(world, tmp_path):
    from scanstation.errors import NotFound, Refused
    from scanstation.transfer import package_pages, zip_package

    archivist = world.archive.s["archivist1"]
    number = next(iter(manifest_pages_numbers(world.package)))
    # a zip with a member that leaves the package: nothing in it is read
    package = tmp_path / "unsafe.zip"
    zip_package.write_zip(world.package, package)
    add_member(package, f"{world.package.name}/../../escaped.jpg", b"x")
    with pytest.raises(Refused) as refused:
        package_pages.dossier_pages(archivist, package, number)
    assert "不安全" in refused.value.zh and not (tmp_path / "escaped.jpg").exists()
    # a folder package: a page replaced by a link to a file outside, another page changed
    copy = world.copy_package(tmp_path / "copy")
    pages = manifest_pages(copy, number)
    outside = tmp_path / "outside.jpg"
    outside.write_bytes((copy / pages[0]).read_bytes())
    (copy / pages[0]).unlink()
    (copy / pages[0]).symlink_to(outside)
    data = bytearray((copy / pages[1]).read_bytes())
    data[len(data) // 2] ^= 0xFF
    (copy / pages[1]).write_bytes(bytes(data))
    shown = package_pages.dossier_pages(archivist, copy, number)
    assert pages[0] not in [p.name for p in shown.pages] and pages[1] not in [p.name for p in shown.pages]
    zh = " ".join(z for _e, z in shown.problems)
    assert "不是移交包内的普通文件" in zh and "与移交包清单不符" in zh
    # a number that is a path, a dossier the package does not hold, a role without "receive"
    with pytest.raises(Exception) as bad:
        package_pages.dossier_pages(archivist, copy, "../" + number)
    assert "档号" in bad.value.zh
    with pytest.raises(NotFound):
        package_pages.dossier_pages(archivist, world.package, "X001-ZY·DJ·2024·D100-0009-009")
    with pytest.raises(Refused):
        package_pages.dossier_pages(world.station.s["clerk1"], world.package, number)


def manifest_pages_numbers(package: Path) -> list[str]:
    from tests.test_transfer_fixtures import NUMBERS

    return [n for n in NUMBERS if manifest_pages(package, n)]


# -- item 15: the intake report names the key, and every state is a word ------------------------------
def test_intake_report_names_the_signing_key_with_the_fingerprint_in_the_tooltip(
    qtbot, world, tmp_path, zh_ui, presenter_log
):
    import re

    from scanstation.transfer import signing

    fingerprint = signing.fingerprint(world.station_pem.read_text())
    view = intake_for(qtbot, world.archive.s["archivist1"])
    checked(qtbot, view, world.package)
    model = view.report_model
    row = next(i for i, line in enumerate(model.lines) if line["check"] == "signature")
    detail = model.data(model.index(row, 4))
    assert "S01" in detail and not re.search(r"[0-9a-f]{16}", detail)
    assert fingerprint in model.data(model.index(row, 4), Qt.ItemDataRole.ToolTipRole)
    # the written report keeps the fingerprint (the detailed report)
    assert fingerprint[:16] in model.lines[row]["zh"]
    # an archive room that does not trust the key: "not in the trust list", the fingerprint in the tooltip
    from tests.test_transfer_fixtures import make_archive

    stranger = make_archive(tmp_path / "stranger")
    try:
        other = intake_for(qtbot, stranger.s["archivist1"])
        checked(qtbot, other, world.package)
        m = other.report_model
        row = next(i for i, line in enumerate(m.lines) if line["check"] == "signature")
        assert m.data(m.index(row, 2)) == "未列入信任列表的密钥"
        assert not re.search(r"[0-9a-f]{16}", m.data(m.index(row, 4)))
        assert fingerprint in m.data(m.index(row, 2), Qt.ItemDataRole.ToolTipRole)
    finally:
        stranger.close()


def test_intake_states_are_words(qapp, zh_ui):
    from scanstation.ui.intake_view import ReportModel

    model = ReportModel()
    words = {s: model.status_text(s) for s in ("pass", "fail", "not_available", "skipped", "explained")}
    assert words["explained"] == "已说明"
    assert all(not re.fullmatch(r"[a-z_]+", w) for w in words.values()), words


def test_intake_report_counts_are_words_and_sizes(qtbot, world, zh_ui, presenter_log):
    view = intake_for(qtbot, world.archive.s["archivist1"])
    checked(qtbot, view, world.package)
    model = view.report_model
    objects = [model.data(model.index(r, 2)) for r in range(model.rowCount())]
    assert not any(re.search(r"[0-9]+ (files|bytes|dossiers|images)\b", o or "") for o in objects), objects
    checksums = next(
        model.data(model.index(r, 2)) for r, line in enumerate(model.lines) if line["check"] == "checksums"
    )
    assert re.fullmatch(r"[0-9]+ 个文件，[0-9.]+ (KB|MB)", checksums), checksums
    # the first sampled dossier is current: Enter opens it at once
    assert view.sample_table.currentRow() == 0 and view.view_sample_button.isEnabled()


def test_r09_page_count_correction_refused_by_the_core_after_a_state_change_says_why(
    qtbot, catalog_home, tmp_path, zh_ui, presenter_log
):
    imported_dossier(catalog_home, tmp_path, pages=2, complete=False)
    window = make_window(qtbot, catalog_home, "clerk1")
    try:
        desk = open_on_desk(qtbot, window, 2)
        assert desk.act_correct_pages.isEnabled()
        desk.act_correct_pages.trigger()
        dialog = desk.findChild(QDialog, "pageCountDialog")
        dialog.reason.setText("原件实有 2 页")
        # meanwhile the dossier is completed at another desk (with an explanation): the window is not the guard
        from scanstation.pages import complete

        assert complete(session_for(catalog_home, "clerk2"), SAMPLE_NUMBER, {"missing": "第 3 页原件缺失"}).completed
        dialog.ok_button.click()
        qtbot.waitUntil(lambda: any(kind != "notice" for kind, _t in presenter_log), timeout=10000)
        kind, text = next((k, t) for k, t in presenter_log if k != "notice")
        assert "扫描阶段" in text and "档案管理员" in text
        assert declared_of(catalog_home) == 3 and status_of(catalog_home) == "completed"
        assert catalog_home.catalog.one("SELECT count(*) AS n FROM corrections")["n"] == 0
    finally:
        close_window(qtbot, window)
