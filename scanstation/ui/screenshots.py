"""Screenshots of the main views, for the README and to check that Chinese text renders.

    xvfb-run -a -s "-screen 0 1366x768x24" python -m scanstation.ui.screenshots OUTDIR

The window sizes itself to the screen as it does on a clerk's desk (1366×768 is the common
government desktop), so the pictures show what a clerk sees there.

Builds a demo station in a temporary folder, drives the real window through a short day (scan with
the demo scanner, a paper jam, completion, QC, search, a rejected catalog import, settings) and
saves one PNG per view into OUTDIR, plus ``screenshots.json`` naming the files and the font used
for Chinese text.
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from pathlib import Path


def _spin(ms: int) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def _wait(condition, timeout_s: float = 120.0, step_ms: int = 50) -> bool:
    end = time.monotonic() + timeout_s
    while time.monotonic() < end:
        if condition():
            return True
        _spin(step_ms)
    return False


def _idle() -> None:
    from scanstation.ui import tasks

    _wait(lambda: tasks.pending() == 0, 60)
    _spin(150)


def _save(widget, out: Path, name: str, shots: list) -> None:
    _spin(250)
    path = out / f"{name}.png"
    widget.grab().save(str(path))
    shots.append(path.name)


def cjk_font_check() -> dict:
    """Which font Qt really uses for Chinese here, and whether it has the glyphs (no boxes)."""
    from PySide6.QtGui import QFontDatabase, QGuiApplication, QRawFont

    raw = QRawFont.fromFont(QGuiApplication.font(), QFontDatabase.WritingSystem.SimplifiedChinese)
    text = "档号题名质检扫描台全宗号保管期限"
    return {
        "family": raw.familyName(),
        "glyphs_present": raw.isValid() and all(raw.supportsCharacter(ord(c)) for c in text),
    }


def take(out: Path) -> list[str]:
    from PySide6.QtWidgets import QDialog

    import scanstation.bootstrap  # noqa: F401 (every domain's catalog migrations, before a home is opened)
    from scanstation import dossier_list
    from scanstation.service import Session
    from scanstation.ui import i18n
    from scanstation.ui.app import application
    from scanstation.ui.core_api import CoreApi
    from scanstation.ui.errors import presenter
    from scanstation.ui.first_start import DEMO_PASSWORD, FirstStartDialog, demo_hint, open_demo
    from scanstation.ui.login import LoginDialog
    from scanstation.ui.main_window import MainWindow
    from scanstation.ui.resources import resource
    from scanstation.users import authenticate

    app = application()  # noqa: F841 - kept alive while the views are shown
    i18n.install("zh_CN")
    out.mkdir(parents=True, exist_ok=True)
    shots: list[str] = []
    base = Path(tempfile.mkdtemp(prefix="scanstation-shots-"))

    first = FirstStartDialog(base / "new-station")
    first.show()
    _save(first, out, "first-start", shots)
    first.close()

    home = open_demo(base / "demo")
    login = LoginDialog(home, hint=demo_hint())
    login.prefill("demo-clerk")
    login.show()
    _save(login, out, "login", shots)
    login.close()

    def window_for(user: str) -> MainWindow:
        api = CoreApi(Session(home, authenticate(home.catalog, user, DEMO_PASSWORD)))
        window = MainWindow(api, idle_timeout_ms=0)
        window.show()  # placed and sized for the screen by the window itself
        _spin(300)
        return window

    number = "X001-ZY·DJ·2024·D100-0001-001"
    clerk = window_for("demo-clerk")
    desk = clerk.scan_desk
    desk.open_dossier(number)
    _wait(lambda: desk.number == number)
    _wait(lambda: desk.profile_combo.count() > 0 and desk.device_combo.count() > 0)
    desk.scan(scan_options={"demo_pages": 4})
    _wait(lambda: desk.operation is None and desk.fault is None, 300)
    _idle()
    desk.strip.select_seq(2)
    _wait(lambda: desk.viewer.has_image(), 30)
    _idle()
    _save(clerk, out, "scan-desk", shots)

    # a paper jam in the middle of the next batch: the banner with Continue
    other = "X001-ZY·DJ·2024·D100-0001-002"
    desk.open_dossier(other)
    _wait(lambda: desk.number == other)
    _idle()
    desk.scan(scan_options={"demo_pages": 3, "fault_at_page": (3, "jammed")})
    _wait(lambda: desk.fault is not None, 300)
    _idle()
    desk.strip.select_seq(2)
    _wait(lambda: desk.viewer.has_image(), 30)
    _save(clerk, out, "device-fault", shots)
    desk.end_after_fault()
    _idle()

    # complete the first dossier: 4 pages for 3 declared asks for an explanation
    desk.open_dossier(number)
    _wait(lambda: desk.number == number)
    _idle()
    desk.complete()
    _wait(lambda: desk.findChild(QDialog, "explanationDialog") is not None, 30)
    dialog = desk.findChild(QDialog, "explanationDialog")
    for edit in dialog.fields.values():
        edit.setText("登记页数有误，原件实有 4 页")
    _save(dialog, out, "complete-explanation", shots)
    dialog.accept()
    _wait(lambda: dossier_list.brief(home.catalog, number)["status"] == "completed")
    _idle()
    presenter().close_open_box()

    clerk.show_view("import")
    bad = base / "目录-有误.csv"  # a department's file as a clerk would pick it, not the program's copy
    bad.write_bytes(resource("bad-catalog.csv").read_bytes())
    clerk.import_view.path_edit.setText(str(bad))
    clerk.import_view.start_import()
    _wait(lambda: clerk.import_view.model.rowCount() > 0, 60)
    _idle()
    _save(clerk, out, "catalog-import-errors", shots)

    clerk.show_view("search")
    clerk.search_view.query_edit.setText("张伟")
    clerk.search_view.search()
    _idle()
    _save(clerk, out, "search", shots)
    presenter().close_open_box()
    clerk.close()
    clerk.api.close()

    inspector = window_for("demo-qc")
    inspector.show_view("qc")
    qc = inspector.qc_desk
    _wait(lambda: qc.queue_model.rowCount() > 0, 30)
    qc.open_dossier(number)
    _wait(lambda: qc.dossier_number == number)
    _idle()
    qc.pass_page()
    _idle()
    _wait(lambda: qc.viewer.has_image(), 30)
    _save(inspector, out, "qc-desk", shots)
    inspector.close()
    inspector.api.close()

    admin = window_for("demo-admin")
    admin.show_view("settings")
    _idle()
    _save(admin, out, "settings-users", shots)
    admin.settings_view.setCurrentWidget(admin.settings_view.retention)
    _idle()
    _save(admin, out, "settings-retention", shots)
    admin.settings_view.setCurrentWidget(admin.settings_view.keys)
    _idle()
    _save(admin, out, "settings-keys", shots)
    admin.close()
    admin.api.close()
    home.close()

    (out / "screenshots.json").write_text(
        json.dumps({"files": shots, "cjk_font": cjk_font_check()}, ensure_ascii=False, indent=1), encoding="utf-8"
    )
    return shots


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if len(argv) != 1:
        print("usage: python -m scanstation.ui.screenshots OUTDIR", file=sys.stderr)
        return 2
    shots = take(Path(argv[0]))
    print(f"{len(shots)} screenshots written to {argv[0]}")
    from scanstation.ui import tasks

    tasks.wait_for_pools(10000)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
