"""GUI without scanning: translations, the task runner, sign-in and idle lock, first start, the dossier
panel, catalog import, search, settings. Real home, real catalog, real core; Qt offscreen."""

from __future__ import annotations

import gc
import os
import re
import shutil
import subprocess
import sys
import threading
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest
from PySide6.QtCore import QCoreApplication, Qt, QThread, QTimer
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication, QLabel, QWidget

from scanstation.ui import tasks
from scanstation.ui.dossier_panel import NumberRole
from scanstation.ui.errors import presenter
from tests.conftest import PASSWORD
from tests.test_gui_fixtures import (  # noqa: F401
    SAMPLE_NUMBER,
    catalog_home,
    close_window,
    make_window,
    presenter_log,
    wait_tasks,
    zh_ui,
)

UI_DIR = Path(__file__).resolve().parents[1] / "scanstation" / "ui"


# -- translations --------------------------------------------------------------------------
def test_every_ui_string_has_a_chinese_translation(tmp_path):
    """lupdate over the code, merged into a copy of the zh_CN source: nothing may be left unfinished."""
    from scanstation.ui import build_translations as bt

    copy = tmp_path / "check_zh_CN.ts"
    shutil.copy(bt.ts_path("zh_CN"), copy)
    bt.update([copy])
    tree = ET.parse(copy)
    unfinished = [
        m.find("source").text
        for m in tree.iter("message")
        if m.find("translation").get("type") in ("unfinished", "vanished", "obsolete")
        or not (m.find("translation").text or "").strip()
    ]
    assert unfinished == []
    assert len(list(tree.iter("message"))) > 200


def test_no_formatted_strings_inside_tr():
    """tr(f"...") can never be translated: placeholders are filled after tr()."""
    bad = []
    for path in UI_DIR.glob("*.py"):
        text = path.read_text(encoding="utf-8")
        bad += [f"{path.name}: {m.group(0)}" for m in re.finditer(r"\btr\(\s*f[\"']", text)]
        bad += [f"{path.name}: {m.group(0)}" for m in re.finditer(r"translate\([^)]*,\s*f[\"']", text)]
    assert bad == []


def test_build_translations_compiles_with_the_shipped_lrelease(tmp_path):
    from scanstation.ui import build_translations as bt

    tool = bt.qt_tool("lrelease")
    assert Path(tool).exists()
    qm = tmp_path / "zh.qm"
    subprocess.run([tool, "-silent", str(bt.ts_path("zh_CN")), "-qm", str(qm)], check=True)
    from PySide6.QtCore import QTranslator

    translator = QTranslator()
    assert translator.load(str(qm))
    assert translator.translate("MainWindow", "Scan desk") == "扫描台"


def test_chinese_by_default_and_english_on_request(qapp):
    from scanstation.i18n import is_english
    from scanstation.ui import i18n

    assert i18n.install(None) == "zh_CN"
    assert QCoreApplication.translate("ScanDesk", "Complete dossier") == "完成案卷"
    assert QCoreApplication.translate("PageFlags", "skewed") == "歪斜"
    try:
        assert i18n.install("en") == "en"
        assert is_english()  # core messages follow the same language
        assert QCoreApplication.translate("ScanDesk", "Complete dossier") == "Complete dossier"
    finally:
        i18n.install("zh_CN")


# -- task runner ---------------------------------------------------------------------------
def test_run_task_calls_back_on_the_gui_thread(qtbot):
    gui = QThread.currentThread()
    seen = {}

    def work():
        seen["worker"] = threading.get_ident()
        return 41 + 1

    def done(value):
        seen["value"] = value
        seen["callback_on_gui"] = QThread.currentThread() is gui

    tasks.run_task(work, done, pool="images")
    qtbot.waitUntil(lambda: "value" in seen)
    assert seen["value"] == 42 and seen["callback_on_gui"]
    assert seen["worker"] != threading.get_ident()

    errors = []
    tasks.run_task(lambda: 1 / 0, lambda _v: errors.append("no"), errors.append, pool="catalog")
    qtbot.waitUntil(lambda: bool(errors))
    assert isinstance(errors[0], ZeroDivisionError)


def test_run_task_skips_callbacks_of_deleted_widgets(qtbot):
    owner = QWidget()
    called = []
    gate = threading.Event()
    tasks.run_task(lambda: gate.wait(5), called.append, called.append, pool="images", owner=owner)
    owner.deleteLater()
    QCoreApplication.sendPostedEvents(None, 0)
    QApplication.processEvents()
    gate.set()
    wait_tasks(qtbot)
    assert called == []


def test_coalescer_batches_a_fast_stream_of_pages(qtbot):
    """200 items pushed from a worker thread within milliseconds arrive in a few batches, in order."""
    batches = []
    coalescer = tasks.Coalescer(100)
    coalescer.batch.connect(batches.append)
    coalescer.start()
    worker = threading.Thread(target=lambda: [coalescer.push(i) for i in range(200)])
    worker.start()
    worker.join()
    qtbot.waitUntil(lambda: sum(map(len, batches)) == 200, timeout=3000)
    coalescer.stop()
    assert [i for b in batches for i in b] == list(range(200))
    assert len(batches) <= 3


# -- sign-in, idle lock --------------------------------------------------------------------
def test_login_refuses_a_wrong_password_with_the_core_message(qtbot, home, zh_ui):
    from scanstation.ui.login import LoginDialog

    dialog = LoginDialog(home)
    qtbot.addWidget(dialog)
    dialog.user_edit.setText("clerk1")
    dialog.password_edit.setText("wrong-password")
    dialog.try_sign_in()
    qtbot.waitUntil(lambda: dialog.message.text() == "用户名或密码错误。")
    assert dialog.session is None
    dialog.password_edit.setText(PASSWORD)
    with qtbot.waitSignal(dialog.accepted):
        dialog.try_sign_in()
    assert dialog.session.user.name == "clerk1"


def test_idle_lock_hides_the_desk_and_asks_the_same_users_password(qtbot, catalog_home, zh_ui, presenter_log):
    window = make_window(qtbot, catalog_home, "clerk1", idle_timeout_ms=1000)
    try:
        window.scan_desk.open_dossier(SAMPLE_NUMBER)
        qtbot.waitUntil(lambda: window.scan_desk.number == SAMPLE_NUMBER)
        QTest.keyClick(window.scan_desk.strip, Qt.Key.Key_Right)  # the clerk is still working
        assert not window.is_locked
        qtbot.waitUntil(lambda: window.is_locked, timeout=4000)
        assert window.current_view() == "locked"
        assert not window.scan_desk.isVisible()  # personal data is hidden behind the lock
        dialog = window._lock_dialog
        assert dialog.user_edit.text() == "clerk1" and dialog.user_edit.isReadOnly()
        dialog.reject()  # a locked station cannot be dismissed
        assert window.is_locked
        dialog.password_edit.setText("not-the-password")
        dialog.try_sign_in()
        qtbot.waitUntil(lambda: dialog.message.text() == "用户名或密码错误。")
        assert window.is_locked
        dialog.password_edit.setText(PASSWORD)
        with qtbot.waitSignal(window.unlocked, timeout=5000):
            dialog.try_sign_in()
        assert window.current_view() == "scan" and window.scan_desk.number == SAMPLE_NUMBER
    finally:
        close_window(qtbot, window)


def test_user_input_keeps_the_station_unlocked(qtbot, catalog_home, zh_ui):
    window = make_window(qtbot, catalog_home, "clerk1", idle_timeout_ms=600)
    try:
        for _ in range(8):
            QTest.keyClick(window.scan_desk.panel.number_edit, Qt.Key.Key_A)
            qtbot.wait(120)
        assert not window.is_locked
    finally:
        close_window(qtbot, window)


# -- first start ---------------------------------------------------------------------------
def test_first_start_sets_up_a_station_with_its_administrator(qtbot, tmp_path, zh_ui):
    from scanstation.ui.first_start import FirstStartDialog
    from scanstation.users import authenticate

    dialog = FirstStartDialog(tmp_path / "station")
    qtbot.addWidget(dialog)
    dialog.fonds.setText("X009")
    dialog.station.setText("S07")
    dialog.admin.setText("chief")
    dialog.password.setText("long-password-1")
    dialog.password2.setText("long-password-2")
    dialog.create()
    assert dialog.message.text() == "两次输入的密码不一致。"
    dialog.password2.setText("long-password-1")
    dialog.fonds.setText("X 9")
    dialog.create()
    qtbot.waitUntil(lambda: "全宗号" in dialog.message.text())
    assert not (tmp_path / "station" / "station.json").exists()
    dialog.fonds.setText("X009")
    with qtbot.waitSignal(dialog.accepted, timeout=10000):
        dialog.create()
    home = dialog.home
    try:
        assert (home.fonds, home.station) == ("X009", "S07")
        assert authenticate(home.catalog, "chief", "long-password-1").roles == ("admin",)
        assert home.catalog.one("SELECT action FROM audit_log")["action"] == "home.init"
    finally:
        home.close()


def test_open_demo_gives_a_catalog_and_users_in_a_minute(qtbot, tmp_path, zh_ui):
    from scanstation.ui.first_start import DEMO_PASSWORD, FirstStartDialog
    from scanstation.users import authenticate

    dialog = FirstStartDialog(tmp_path / "unused", demo_path=tmp_path / "demo")
    qtbot.addWidget(dialog)
    with qtbot.waitSignal(dialog.accepted, timeout=30000):
        dialog.demo()
    home = dialog.home
    try:
        assert dialog.is_demo
        assert home.catalog.one("SELECT count(*) n FROM dossiers")["n"] == 30
        assert authenticate(home.catalog, "demo-clerk", DEMO_PASSWORD).roles == ("clerk",)
        assert authenticate(home.catalog, "demo-qc", DEMO_PASSWORD).roles == ("qc",)
    finally:
        home.close()
    from scanstation.ui.first_start import is_demo_home, open_demo

    again = open_demo(tmp_path / "demo")  # opening it twice continues with the same station
    try:
        assert again.catalog.one("SELECT count(*) n FROM dossiers")["n"] == 30
        assert is_demo_home(again)  # its login shows the demo users and their password
    finally:
        again.close()


def test_login_shows_the_demo_password_only_where_it_is_the_password(tmp_path):
    """`scanstation demo` marks its homes as demos (the demo scanner serves them) but gives every user
    a password of its own: their login must not offer demo-clerk and a password that is not theirs."""
    from scanstation import settings
    from scanstation.service import add_user, init_home, session_for
    from scanstation.ui.first_start import DEMO_PASSWORD, is_demo_home

    for name, password, shown in (("window", DEMO_PASSWORD, True), ("cli", "a-password-of-its-own", False)):
        home = init_home(tmp_path / name, "X001", "S01", "demo-admin", "admin-password-1")
        try:
            admin = session_for(home, "demo-admin")
            assert not is_demo_home(home)
            settings.set_value(admin, "station.demo", True)
            assert not is_demo_home(home)  # no demo-clerk at all (the demo's archive room)
            add_user(admin, "demo-clerk", ("clerk",), password)
            assert is_demo_home(home) is shown, name
        finally:
            home.close()


# -- main window and dossier panel -----------------------------------------------------------
def test_views_follow_the_users_roles(qtbot, catalog_home, zh_ui):
    expected = {
        "clerk1": {"scan", "search", "import", "batches", "stack", "paper", "loans"},
        "qc1": {"scan", "qc", "search", "loans"},
        "archivist1": {"scan", "search", "import", "intake", "paper", "loans"},
        "admin": {"scan", "search", "import", "batches", "settings", "paper", "loans"},
    }
    for user, views in expected.items():
        window = make_window(qtbot, catalog_home, user)
        try:
            assert set(window.views) == views
            assert window.view_actions["search"].text() == "检索"
        finally:
            close_window(qtbot, window)


def test_barcode_reader_opens_the_dossier_with_masked_id(qtbot, catalog_home, zh_ui, presenter_log):
    window = make_window(qtbot, catalog_home, "clerk1")
    panel = window.scan_desk.panel
    try:
        panel.focus_number()
        QTest.keyClicks(panel.number_edit, SAMPLE_NUMBER)  # a USB barcode reader types ...
        QTest.keyClick(panel.number_edit, Qt.Key.Key_Return)  # ... and presses Enter
        qtbot.waitUntil(lambda: panel.dossier is not None)
        assert panel.values["title"].text() == "张伟参保人员登记表"
        assert panel.values["declared_pages"].text() == "3"
        assert panel.values["retention"].text().startswith("D100")
        assert panel.values["status"].text() == "已编目，未扫描"
        raw = catalog_home.catalog.one("SELECT person_id_number FROM dossiers WHERE number = ?", (SAMPLE_NUMBER,))[
            "person_id_number"
        ]
        shown = panel.values["person_id_number"].text()
        assert "*" in shown and shown != raw and shown[-4:] == raw[-4:]
        assert panel.reveal_button.isEnabled()
        panel.reveal_button.click()
        qtbot.waitUntil(lambda: panel.values["person_id_number"].text() == raw)
        logged = catalog_home.catalog.one("SELECT user, action FROM audit_log WHERE action = 'personal.view'")
        assert logged == {"user": "clerk1", "action": "personal.view"}
        assert "已扫描 0 页 / 登记 3 页" in window.scan_desk.status_label.text()
    finally:
        close_window(qtbot, window)


def test_unknown_or_malformed_number_says_what_to_do(qtbot, catalog_home, zh_ui, presenter_log):
    window = make_window(qtbot, catalog_home, "clerk1")
    panel = window.scan_desk.panel
    try:
        panel.number_edit.setText("X001-ZY·DJ·2024·D100-0999-001")
        panel.open_typed()
        qtbot.waitUntil(lambda: bool(presenter_log))
        assert "目录中没有档号" in presenter_log[-1][1] and presenter_log[-1][0] == "NotFound"
        assert presenter().last_title == "未找到"
        panel.number_edit.setText("X001-ZY.DJ.2024")
        panel.open_typed()
        qtbot.waitUntil(lambda: len(presenter_log) == 2)
        assert "不是有效的档号" in presenter_log[-1][1]
        assert panel.dossier is None
    finally:
        close_window(qtbot, window)


def test_search_as_you_type_offers_catalog_dossiers(qtbot, catalog_home, zh_ui, presenter_log):
    window = make_window(qtbot, catalog_home, "clerk1")
    panel = window.scan_desk.panel
    try:
        panel.focus_number()
        QTest.keyClicks(panel.number_edit, "X001-ZY·DJ·2024·D10-")
        qtbot.waitUntil(lambda: panel.suggestion_count() > 0, timeout=5000)
        numbers = [panel._suggest_model.item(i).data(NumberRole) for i in range(panel.suggestion_count())]
        assert numbers and all(n.startswith("X001-ZY·DJ·2024·D10-") for n in numbers)
        panel._completion_chosen(numbers[0])
        qtbot.waitUntil(lambda: panel.dossier is not None and panel.dossier["number"] == numbers[0])
    finally:
        close_window(qtbot, window)


def test_qc_queue_refuses_nothing_but_the_core_decides(qtbot, catalog_home, zh_ui, presenter_log):
    """A QC inspector sees the empty queue; approving a dossier that is not completed shows the core's refusal."""
    window = make_window(qtbot, catalog_home, "qc1")
    try:
        window.show_view("qc")
        wait_tasks(qtbot)
        assert window.qc_desk.queue_model.rowCount() == 0
        window.qc_desk.number_edit.setText(SAMPLE_NUMBER)
        QTest.keyClick(window.qc_desk.number_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: window.qc_desk.dossier_number == SAMPLE_NUMBER)
        window.qc_desk.approve()
        qtbot.waitUntil(lambda: bool(presenter_log))
        assert "只有已完成的案卷才能质检" in presenter_log[-1][1]
    finally:
        close_window(qtbot, window)


# -- catalog import ------------------------------------------------------------------------
def test_catalog_import_lists_every_bad_row_in_a_table(qtbot, home, zh_ui):
    from scanstation.ui.resources import resource

    window = make_window(qtbot, home, "clerk1")
    view = window.import_view
    try:
        window.show_view("import")
        view.path_edit.setText(str(resource("bad-catalog.csv")))
        view.import_button.click()
        qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=10000)
        assert "未导入任何内容" in view.result_label.text()
        rows = {int(view.model.data(view.model.index(r, 0))) for r in range(view.model.rowCount())}
        reasons = [view.model.data(view.model.index(r, 2)) for r in range(view.model.rowCount())]
        assert len(rows) >= 3 and all(reasons)
        assert home.catalog.one("SELECT count(*) n FROM dossiers")["n"] == 0
        view.path_edit.setText(str(resource("sample-catalog.xlsx")))
        view.import_button.click()
        qtbot.waitUntil(lambda: "导入 30 个案卷" in view.result_label.text(), timeout=10000)
        assert view.model.rowCount() == 0
    finally:
        close_window(qtbot, window)


# -- search --------------------------------------------------------------------------------
def test_search_finds_catalog_fields_and_opens_the_dossier(qtbot, catalog_home, zh_ui):
    window = make_window(qtbot, catalog_home, "clerk1")
    view = window.search_view
    try:
        window.show_view("search")
        view.query_edit.setText("张伟")
        QTest.keyClick(view.query_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=5000)
        numbers = [h.number for h in view.model.hits]
        assert SAMPLE_NUMBER in numbers and "↓" in view.summary.text()
        view.query_edit.setText("鲲鹏展翅")  # nothing: said, with what helps, not "0 results, press ↓"
        QTest.keyClick(view.query_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: "未找到" in view.summary.text(), timeout=5000)
        assert view.model.rowCount() == 0 and "↓" not in view.summary.text()
        view.query_edit.setText("张伟")
        QTest.keyClick(view.query_edit, Qt.Key.Key_Return)
        qtbot.waitUntil(lambda: view.model.rowCount() > 0, timeout=5000)
        row = numbers.index(SAMPLE_NUMBER)
        view.table.doubleClicked.emit(view.model.index(row, 0))
        qtbot.waitUntil(lambda: window.scan_desk.number == SAMPLE_NUMBER)
        assert window.current_view() == "scan"
    finally:
        close_window(qtbot, window)


# -- settings (admin) ------------------------------------------------------------------------
def test_admin_adds_a_user_and_changes_the_idle_lock(qtbot, home, zh_ui, presenter_log):
    from scanstation.settings import get
    from scanstation.users import authenticate

    window = make_window(qtbot, home, "admin")
    settings = window.settings_view
    try:
        window.show_view("settings")
        wait_tasks(qtbot)
        users = settings.users
        assert users.table.rowCount() == 6
        users.name.setText("clerk9")
        users.password.setText("short")
        users.role_boxes["clerk"].setChecked(True)
        users.add_button.click()
        qtbot.waitUntil(lambda: bool(presenter_log))
        assert "密码至少需要 8 个字符" in presenter_log[-1][1]
        users.password.setText("a-good-password")
        users.add_button.click()
        qtbot.waitUntil(lambda: users.table.rowCount() == 7)
        assert authenticate(home.catalog, "clerk9", "a-good-password").roles == ("clerk",)

        editor = settings.station.editors["session.idle_lock_minutes"]
        assert editor.value() == 15
        editor.setValue(5)
        settings.station.save_button.click()
        wait_tasks(qtbot)
        assert get(home, "session.idle_lock_minutes") == 5
        assert home.catalog.one("SELECT count(*) n FROM audit_log WHERE action = 'settings.set'")["n"] == 1
    finally:
        close_window(qtbot, window)


def test_retention_table_is_edited_through_the_core(qtbot, home, zh_ui, presenter_log):
    window = make_window(qtbot, home, "admin")
    tab = window.settings_view.retention
    try:
        window.show_view("settings")
        wait_tasks(qtbot)
        assert tab.table.rowCount() >= 10
        tab.table.item(0, 1).setText("D7")  # not a retention code (R14)
        tab.save()
        qtbot.waitUntil(lambda: bool(presenter_log))
        assert "不是保管期限代码" in presenter_log[-1][1]
        assert home.setting("retention.table") is None
        tab.table.item(0, 1).setText("D30")
        tab.save()
        qtbot.waitUntil(lambda: home.setting("retention.table") is not None)
        assert home.setting("retention.table")[0]["retention"] == "D30"
    finally:
        close_window(qtbot, window)


def test_window_layout_is_remembered_in_the_home(qtbot, catalog_home, zh_ui):
    window = make_window(qtbot, catalog_home, "clerk1")
    narrow = max(window.minimumSizeHint().width(), 800)  # the offscreen screen is 800 x 800
    window.resize(narrow, 640)
    qtbot.waitUntil(lambda: window.height() == 640 and window.width() == narrow)
    window.scan_desk.splitter.setSizes([200, 400])
    sizes = window.scan_desk.splitter.sizes()
    size = window.size()
    close_window(qtbot, window)
    assert (catalog_home.path / "ui.ini").exists()
    again = make_window(qtbot, catalog_home, "clerk1")
    try:
        assert again.size() == size
        assert again.scan_desk.splitter.sizes() == sizes
    finally:
        close_window(qtbot, again)


def test_every_desk_action_has_a_shortcut(qtbot, catalog_home, zh_ui):
    window = make_window(qtbot, catalog_home, "clerk1")
    try:
        desk_actions = [a for a in window.scan_desk.actions() if a.objectName().startswith("act")]
        assert len(desk_actions) >= 15
        assert [a.objectName() for a in desk_actions if not a.shortcuts()] == []
        assert {a.shortcut().toString() for a in desk_actions} >= {"F5", "Esc", "F6", "Del", "Ctrl+Z", "Ctrl+Return"}
    finally:
        close_window(qtbot, window)


def test_long_painting_does_not_abort_the_station(tmp_path):
    """Millions of void Qt calls (hours of painting) must not exhaust None's reference count: some
    PySide6 builds lose one reference per call on Python 3.11 (see scanstation.ui.binding_guard)."""
    script = (
        "import sys\n"
        "from scanstation.ui.app import application\n"
        "app = application()\n"
        "from PySide6.QtGui import QFont\n"
        "from scanstation.ui import binding_guard\n"
        "font = QFont()\n"
        "start = sys.getrefcount(None)\n"
        "for i in range(3_000_000):\n"
        "    font.setPointSizeF(9.0)\n"
        "    if i % 200_000 == 0:\n"
        "        app.processEvents()\n"
        "        binding_guard._guard.check()\n"
        "print('alive', binding_guard._guard.active, start, sys.getrefcount(None))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "QT_QPA_PLATFORM": "offscreen"},
        cwd=UI_DIR.parents[1],
    )
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("alive")


def test_scanstation_without_arguments_starts_the_desk(qtbot, tmp_path, monkeypatch, zh_ui):
    """The real entry point: `scanstation --home EMPTY` → first start → demo → sign-in → main window.

    The demo is made where --home points (issue: it went to the user's data folder and the next start
    showed first-start again); the next start signs in directly, still showing the demo users; "sign
    out / switch user" brings the sign-in back for the next user."""
    from scanstation.cli.main import main
    from scanstation.ui.first_start import DEMO_PASSWORD, FirstStartDialog
    from scanstation.ui.login import LoginDialog
    from scanstation.ui.main_window import MainWindow

    home_dir = tmp_path / "empty-home"
    seen = []

    def drive(plan):
        modal = QApplication.activeModalWidget()
        step = plan[len(seen)] if len(seen) < len(plan) else None
        if isinstance(modal, FirstStartDialog) and step == "first":
            seen.append("first")
            modal.demo()
        elif isinstance(modal, LoginDialog) and modal.isVisible() and step in ("login", "login-qc", "cancel"):
            seen.append(step)
            assert DEMO_PASSWORD in modal.findChild(QLabel, "loginHint").text()  # at every sign-in of a demo home
            if step == "cancel":
                modal.reject()
                return
            if step == "login-qc":
                modal.user_edit.setText("demo-qc")
            assert modal.user_edit.text() in ("demo-clerk", "demo-qc")
            modal.password_edit.setText(DEMO_PASSWORD)
            modal.try_sign_in()
        elif step in ("main", "sign-out"):
            windows = [w for w in QApplication.topLevelWidgets() if isinstance(w, MainWindow) and w.isVisible()]
            if windows:
                seen.append(step)
                if step == "sign-out":
                    windows[0].act_sign_out.trigger()
                else:
                    windows[0].close()
                    return
        QTimer.singleShot(100, lambda: drive(plan))

    try:
        QTimer.singleShot(100, lambda: drive(["first", "login", "main"]))
        assert main(["--home", str(home_dir)]) == 0
        assert seen == ["first", "login", "main"]
        assert (home_dir / "station.json").exists() and (home_dir / "ui.ini").exists()
        seen.clear()
        QTimer.singleShot(100, lambda: drive(["login", "sign-out", "login-qc", "main"]))
        assert main(["--home", str(home_dir)]) == 0
        assert seen == ["login", "sign-out", "login-qc", "main"]
    finally:
        gc.unfreeze()  # run_gui froze the objects of this process for its GC; give them back to the collector


def _mnemonic(text: str) -> str:
    import re

    m = re.search(r"&([^&\s])", (text or "").replace("&&", ""))
    return m.group(1).lower() if m else ""


def test_no_alt_key_of_a_view_takes_a_menus_alt_key(qtbot, catalog_home, zh_ui):
    """Alt+S must open the Station menu from every view: a button or label of the main window with the
    same Alt key makes both ambiguous, and then neither works (the search view's 检索(&S) did that)."""
    from PySide6.QtWidgets import QAbstractButton, QLabel

    for user in ("clerk1", "qc1", "archivist1", "admin"):
        window = make_window(qtbot, catalog_home, user)
        try:
            menus = {_mnemonic(a.text()) for a in window.menuBar().actions()} - {""}
            assert {"s", "v", "e", "h"} <= menus, menus
            clashes = []
            for name in window.views:
                view = window.views[name]
                for widget in view.findChildren(QAbstractButton) + view.findChildren(QLabel):
                    if widget.window() is window and _mnemonic(widget.text()) in menus:
                        clashes.append((user, name, widget.text()))
            assert clashes == []
        finally:
            close_window(qtbot, window)
