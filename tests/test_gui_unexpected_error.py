"""The window's catch-all: an exception no code caught (a slot, a timer) is written with its traceback to the
station's log file and shown as one plain sentence naming that file, never as a traceback."""

from __future__ import annotations

import sys

import pytest

from tests.test_gui_fixtures import make_window, presenter_log, wait_tasks, zh_ui  # noqa: F401  (fixtures)


@pytest.fixture
def hooked(home):
    from scanstation.ui.errors import install_excepthook, presenter

    before = sys.excepthook
    install_excepthook(home.path)
    yield presenter()
    sys.excepthook = before
    presenter().home_path = None


@pytest.mark.qt_no_exception_capture  # the station's own hook must receive it, not pytest-qt's
def test_an_exception_in_a_slot_is_logged_and_said_in_one_sentence(qtbot, home, hooked, presenter_log, zh_ui):
    from PySide6.QtWidgets import QPushButton

    window = make_window(qtbot, home, "clerk1")
    button = QPushButton("defect", window)

    def defect():
        raise ZeroDivisionError("a defect in a slot")

    button.clicked.connect(defect)
    button.click()
    qtbot.waitUntil(lambda: any(kind == "unexpected" for kind, _ in presenter_log), timeout=5000)
    text = next(t for kind, t in presenter_log if kind == "unexpected")
    log = home.path / "logs" / "scanstation.log"
    assert str(log) in text and "ZeroDivisionError" in text
    assert "Traceback" not in text and "line " not in text and "\n" not in text
    box = hooked.open_box
    assert box is not None and box.detailedText() == "" and "Traceback" not in box.text()
    logged = log.read_text(encoding="utf-8")
    assert "Traceback" in logged and "ZeroDivisionError: a defect in a slot" in logged and ", in defect" in logged
    assert window.isVisible()  # the window stays open
    wait_tasks(qtbot, timeout=60000)  # the window's own background work (scanner discovery) ends before teardown


@pytest.mark.qt_no_exception_capture
def test_an_exception_in_a_timer_reaches_the_same_log(qtbot, home, hooked, presenter_log, zh_ui):
    from PySide6.QtCore import QTimer

    def defect():
        raise KeyError("timer defect")

    QTimer.singleShot(0, defect)
    qtbot.waitUntil(lambda: any(kind == "unexpected" for kind, _ in presenter_log), timeout=5000)
    log = home.path / "logs" / "scanstation.log"
    assert "KeyError: 'timer defect'" in log.read_text(encoding="utf-8")
    assert str(log) in presenter_log[-1][1]
