"""GUI entry point (PySide6). The full clerk and QC desk lives in this package."""

from __future__ import annotations

import os
import sys


def run_gui(ctx) -> int:
    from PySide6.QtWidgets import QApplication, QLabel

    if not os.environ.get("DISPLAY") and not os.environ.get("WAYLAND_DISPLAY") and sys.platform.startswith("linux") \
            and not os.environ.get("QT_QPA_PLATFORM"):
        from scanstation.errors import Refused
        raise Refused("No display: the window needs a desktop session. Use the sub-commands (scanstation --help).",
                      "没有图形显示：窗口需要桌面环境。请使用子命令（scanstation --help）。")
    app = QApplication.instance() or QApplication(sys.argv)
    label = QLabel("ScanStation 社保档案扫描工作站")
    label.resize(480, 120)
    label.show()
    return app.exec()
