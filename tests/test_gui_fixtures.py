"""Shared set-up for the GUI tests (fixtures only): a real home with the sample catalog, signed-in windows."""

from __future__ import annotations

import pytest

from scanstation.service import Session
from scanstation.users import row_to_user

SAMPLE_NUMBER = "X001-ZY·DJ·2024·D100-0001-001"  # 张伟参保人员登记表, 3 declared pages


def session_for(home, name: str) -> Session:
    return Session(home, row_to_user(home.catalog.one("SELECT * FROM users WHERE name = ?", (name,))))


def wait_tasks(qtbot, timeout: int = 10000) -> None:
    from scanstation.ui import tasks

    qtbot.waitUntil(lambda: tasks.pending() == 0, timeout=timeout)


@pytest.fixture
def zh_ui(qapp):
    from scanstation.ui import i18n

    i18n.install("zh_CN")
    yield
    i18n.install("zh_CN")


@pytest.fixture
def catalog_home(home):
    """The conftest home with resources/sample-catalog.xlsx imported by clerk1."""
    from scanstation.catalog_import import import_catalog
    from scanstation.ui.resources import resource

    import_catalog(session_for(home, "clerk1"), resource("sample-catalog.xlsx"))
    from scanstation import settings

    settings.set_value(session_for(home, "admin"), "capture.demo_scanner", True)  # training: the demo scanner
    return home


@pytest.fixture
def presenter_log(qapp):
    """Every error/notice the presenter shows during the test, as (kind, text); boxes closed after."""
    from scanstation.ui.errors import presenter

    shown: list[tuple[str, str]] = []
    p = presenter()
    p.shown.connect(lambda kind, text: shown.append((kind, text)))
    yield shown
    p.shown.disconnect()
    p.close_open_box()
    p.device_fault_handler = None


def make_window(qtbot, home, user: str, idle_timeout_ms: int = 0):
    from scanstation.ui.core_api import CoreApi
    from scanstation.ui.main_window import MainWindow

    api = CoreApi(session_for(home, user))
    window = MainWindow(api, idle_timeout_ms=idle_timeout_ms)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


def close_window(qtbot, window) -> None:
    wait_tasks(qtbot)
    window.close()
    window.api.close()
