"""Run in a subprocess by test_gui_workday: build the main window for each role and every dialog on a
screen of the given size and scale (offscreen platform with a screen configuration), and print one JSON
line with what does not fit. Usage: python -m tests.gui_fit_probe HOME_DIR"""

from __future__ import annotations

import json
import sys
from pathlib import Path


def main(home_dir: str) -> int:
    from PySide6.QtCore import QRect
    from PySide6.QtWidgets import QApplication, QDialog, QWidget

    import scanstation.bootstrap  # noqa: F401 (every domain's catalog migrations)
    from scanstation.catalog_import import import_catalog
    from scanstation.home import Home
    from scanstation.ui import i18n
    from scanstation.ui.app import application
    from scanstation.ui.core_api import CoreApi
    from scanstation.ui.errors import presenter
    from scanstation.ui.resources import resource
    from tests.conftest import add_user
    from tests.test_gui_fixtures import session_for

    app = application()
    i18n.install("zh_CN")
    home = Home.create(Path(home_dir), "X001", "S01")
    for name, roles in [("admin", "admin"), ("clerk1", "clerk"), ("qc1", "qc"), ("archivist1", "archivist")]:
        add_user(home, name, roles)
    import_catalog(session_for(home, "clerk1"), resource("sample-catalog.xlsx"))
    area = app.primaryScreen().availableGeometry()
    problems: list[str] = []
    checked: list[str] = []

    def inside(what: str, rect: QRect) -> None:
        checked.append(what)
        if not area.contains(rect):
            problems.append(f"{what}: {rect.getRect()} outside {area.getRect()}")

    def settle():
        for _ in range(5):
            app.processEvents()

    from scanstation.ui import tasks
    from scanstation.ui.main_window import MainWindow

    windows = []
    for user in ("clerk1", "qc1", "archivist1", "admin"):
        window = MainWindow(CoreApi(session_for(home, user)), idle_timeout_ms=0)
        window.show()
        settle()
        inside(f"window[{user}]", window.frameGeometry())
        for key in window.views:
            window.show_view(key)
            settle()
            view = window.views[key]
            need = view.minimumSizeHint()
            have = window.stack.size()
            if need.width() > have.width() or need.height() > have.height():
                problems.append(f"view {key}[{user}] needs {need.toTuple()} but has {have.toTuple()}")
        window.show_view("scan")
        settle()
        for name in ("scanButton", "stopButton"):
            w = window.findChild(QWidget, name)
            top_left = w.mapTo(window, w.rect().topLeft())
            inside(f"{name}[{user}]", QRect(window.mapToGlobal(top_left), w.size()))
        bar = window.statusBar()
        inside(f"statusbar[{user}]", QRect(bar.mapToGlobal(bar.rect().topLeft()), bar.size()))
        windows.append(window)
    tasks.wait_for_pools(20000)
    settle()
    parent = windows[-1]

    dialogs: list[QDialog] = []
    from scanstation.ui.batch_view import CreateBatchDialog, KeyPassphraseDialog, SendDialog
    from scanstation.ui.first_start import FirstStartDialog
    from scanstation.ui.login import LoginDialog
    from scanstation.ui.main_window import ShortcutsDialog
    from scanstation.ui.qc_desk import ReasonDialog
    from scanstation.ui.scan_desk import NotScannedDialog

    dialogs += [
        FirstStartDialog(Path(home_dir) / "elsewhere"),
        LoginDialog(home, hint="demo-clerk demo1234"),
        ShortcutsDialog(parent.all_actions(), parent),
        ReasonDialog("退回案卷 X001-ZY·DJ·2024·D100-0001-001", [("a", "缺页")], parent),
        NotScannedDialog(3, parent),
        CreateBatchDialog(["DJ"], 2024, parent),
        SendDialog("/tmp", parent),
    ]
    from scanstation.ui.export_view import CatalogExportDialog, ExportDialog

    dialogs += [
        ExportDialog(["X001-ZY·DJ·2024·D100-0001-001"] * 3, ["station-S01"], "/tmp", parent),
        CatalogExportDialog(2024, ["X001-2024-001"], parent),
    ]
    key_dialog = KeyPassphraseDialog("封装", "说明" * 40, [], parent)
    key_dialog.finish_layout()
    dialogs.append(key_dialog)
    for module, name in (
        ("scanstation.ui.settings_view", "GenerateKeyDialog"),
        ("scanstation.ui.settings_view", "TrustKeyDialog"),
    ):
        import importlib

        cls = getattr(importlib.import_module(module), name, None)
        if cls is not None:
            dialogs.append(cls(parent))
    from scanstation.capture import find_dossier
    from scanstation.pages import reconcile_count
    from scanstation.ui.scan_desk import ExplanationDialog

    session = session_for(home, "clerk1")
    report = reconcile_count(session, find_dossier(session, "X001-ZY·DJ·2024·D100-0001-001"))
    dialogs.append(ExplanationDialog(report, parent))
    from scanstation.ui.coversheet_dialog import CoverSheetDialog

    dialogs.append(CoverSheetDialog(parent.api, 2024, "X001-ZY·DJ·2024·D100-0001-001", parent))
    for dialog in dialogs:
        dialog.show()
        settle()
        inside(f"dialog {type(dialog).__name__}", dialog.frameGeometry())
        if dialog.width() < min(400, area.width() * 0.5):
            problems.append(f"dialog {type(dialog).__name__} is only {dialog.width()} px wide")
        dialog.close()
    # an error with a 5,800-character text
    from scanstation.errors import Refused

    presenter().present(Refused("x" * 5800, "长" * 5800), parent)
    settle()
    box = presenter().open_box
    inside("error box", box.frameGeometry())
    box.close()
    for window in windows:
        window.close()
        window.api.close()
    home.close()
    print(json.dumps({"screen": area.getRect(), "problems": problems, "checked": len(checked)}, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1]))
