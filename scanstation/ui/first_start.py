"""First start on an empty home: a short set-up, or a demo station to try everything in a minute."""

from __future__ import annotations

from pathlib import Path

import platformdirs
from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from scanstation.errors import InvalidInput, ScanStationError
from scanstation.home import Home
from scanstation.ui.icons import icon
from scanstation.ui.resources import resource
from scanstation.ui.sizing import fit_dialog
from scanstation.ui.tasks import run_task

DEMO_PASSWORD = "demo1234"
DEMO_USERS = (
    ("demo-admin", ("admin",)),
    ("demo-clerk", ("clerk",)),
    ("demo-qc", ("qc",)),
    ("demo-archivist", ("archivist",)),
)
DEMO_FONDS = "X001"  # the fonds of resources/sample-catalog.xlsx


def default_demo_home() -> Path:
    return Path(platformdirs.user_data_dir("ScanStation", appauthor=False)) / "demo-home"


def is_demo_home(home) -> bool:
    """A demo station made by "Open the demo station": its login shows the demo users and password.
    ``scanstation demo`` marks its homes as demos too (for the demo scanner), but gives every user a
    password of its own, which it prints: those logins show no hint and no user."""
    from scanstation import settings, users

    if not settings.get(home, "station.demo"):
        return False
    try:
        _user, stored = users.load_user(home.catalog, DEMO_USERS[1][0])
    except ScanStationError:
        return False
    return users.check_password(stored, DEMO_PASSWORD)


def create_station(path: Path, fonds: str, station: str, admin: str, password: str) -> Home:
    """What ``scanstation init`` does: the home and its first administrator, audited."""
    from scanstation.service import init_home

    return init_home(path, fonds, station, admin, password)


def open_demo(path: Path | None = None) -> Home:
    """The demo station: sample catalog imported, a clerk, a QC inspector and the demo scanner.

    Opened again if it exists already, so trying the demo twice continues where one left off.
    """
    from scanstation import settings
    from scanstation.catalog_import import import_catalog
    from scanstation.service import add_user, session_for

    path = Path(path) if path else default_demo_home()
    if (path / "station.json").exists():
        return Home.open(path)
    home = create_station(path, DEMO_FONDS, "DEMO", DEMO_USERS[0][0], DEMO_PASSWORD)
    try:
        session = session_for(home, DEMO_USERS[0][0])
        settings.set_value(session, "station.demo", True)  # audited: this home is a demo (demo scanner offered)
        for name, roles in DEMO_USERS[1:]:
            add_user(session, name, roles, DEMO_PASSWORD)
        import_catalog(session_for(home, "demo-clerk"), resource("sample-catalog.xlsx"))
    except BaseException:
        home.close()
        raise
    return home


def demo_hint() -> str:
    from PySide6.QtCore import QCoreApplication

    return QCoreApplication.translate(
        "FirstStart", "Demo station: users demo-clerk (scanning), demo-qc (QC) and demo-admin, password {password}."
    ).format(password=DEMO_PASSWORD)


class FirstStartDialog(QDialog):
    """``home`` is set when accepted (a new station or the demo)."""

    def __init__(self, home_path: Path, demo_path: Path | None = None, parent: QWidget | None = None):
        super().__init__(parent)
        self.setObjectName("firstStartDialog")
        self.home_path = Path(home_path)
        self.demo_path = demo_path or self.home_path  # the demo goes where --home points, found there next time
        self.home: Home | None = None
        self.is_demo = False
        self.setWindowTitle(self.tr("ScanStation — first start"))
        layout = QVBoxLayout(self)
        intro = QLabel(
            self.tr(
                "There is no station in {path} yet. Set one up, or open the demo station to try "
                "ScanStation with a sample catalog and the demo scanner."
            ).format(path=self.home_path),
            self,
        )
        intro.setWordWrap(True)
        layout.addWidget(intro)

        box = QGroupBox(self.tr("Set up this station"), self)
        form = QFormLayout(box)
        self.fonds = QLineEdit(box)
        self.fonds.setObjectName("setupFonds")
        self.fonds.setPlaceholderText("X001")
        self.station = QLineEdit(box)
        self.station.setObjectName("setupStation")
        self.station.setPlaceholderText("S01")
        self.admin = QLineEdit(box)
        self.admin.setObjectName("setupAdmin")
        self.password = QLineEdit(box)
        self.password.setObjectName("setupPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password2 = QLineEdit(box)
        self.password2.setObjectName("setupPassword2")
        self.password2.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(self.tr("&Fonds code (全宗号):"), self.fonds)
        form.addRow(self.tr("&Station id:"), self.station)
        form.addRow(self.tr("&Administrator:"), self.admin)
        form.addRow(self.tr("Pass&word:"), self.password)
        form.addRow(self.tr("&Repeat password:"), self.password2)
        layout.addWidget(box)

        self.message = QLabel(self)
        self.message.setObjectName("setupMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b91c1c")
        layout.addWidget(self.message)

        buttons = QHBoxLayout()
        self.demo_button = QPushButton(icon("demo"), self.tr("Open the &demo station"), self)
        self.demo_button.setObjectName("openDemoButton")
        self.create_button = QPushButton(self.tr("&Create station"), self)
        self.create_button.setObjectName("createStationButton")
        self.create_button.setDefault(True)
        cancel = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel, self)
        cancel.rejected.connect(self.reject)
        buttons.addWidget(self.demo_button)
        buttons.addStretch(1)
        buttons.addWidget(self.create_button)
        buttons.addWidget(cancel)
        layout.addLayout(buttons)
        self.create_button.clicked.connect(self.create)
        self.demo_button.clicked.connect(self.demo)
        self.fonds.setFocus(Qt.FocusReason.OtherFocusReason)
        fit_dialog(self, 560)

    def _busy(self, busy: bool) -> None:
        self.create_button.setEnabled(not busy)
        self.demo_button.setEnabled(not busy)
        if busy:
            self.message.setStyleSheet("")
            self.message.setText(self.tr("Working…"))

    def create(self) -> None:
        if self.password.text() != self.password2.text():
            self._failed(InvalidInput("The two passwords differ.", "两次输入的密码不一致。"))
            return
        args = (self.home_path, self.fonds.text(), self.station.text(), self.admin.text(), self.password.text())
        self._busy(True)
        run_task(lambda: create_station(*args), self._done, self._failed, pool="catalog", owner=self)

    def demo(self) -> None:
        self._busy(True)
        self.is_demo = True
        path = self.demo_path
        run_task(lambda: open_demo(path), self._done, self._failed, pool="catalog", owner=self)

    def _done(self, home: Home) -> None:
        self.home = home
        self.accept()

    def _failed(self, error: BaseException) -> None:
        self._busy(False)
        self.is_demo = False
        self.message.setStyleSheet("color: #b91c1c")
        self.message.setText(error.message if isinstance(error, ScanStationError) else str(error))


__all__ = ["FirstStartDialog", "create_station", "open_demo", "DEMO_PASSWORD"]
