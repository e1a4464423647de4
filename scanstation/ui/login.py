"""Sign-in and the idle lock.

The password is checked by the core (``users.authenticate``: argon2id, one message that never says
whether the name or the password was wrong) on a worker thread, so the window stays responsive
while argon2 works. After ``session.idle_lock_minutes`` without keyboard or mouse input the window
locks and asks the same user's password again; a scan that is running keeps running.
"""

from __future__ import annotations

import time

from PySide6.QtCore import QEvent, QObject, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QApplication,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QVBoxLayout,
    QWidget,
)

from scanstation.errors import ScanStationError
from scanstation.service import Session
from scanstation.ui.sizing import fit_dialog
from scanstation.ui.tasks import run_task
from scanstation.users import authenticate


class LoginDialog(QDialog):
    """Asks for user name and password; ``session`` is set when accepted.

    ``locked_user``: the idle lock — the name is fixed to the user who was signed in.
    """

    switchRequested = Signal()

    def __init__(self, home, locked_user: str | None = None, hint: str = "", parent: QWidget | None = None):
        super().__init__(parent)
        self.home = home
        self.session: Session | None = None
        self.locked_user = locked_user
        self.setObjectName("loginDialog")
        self.setWindowTitle(self.tr("ScanStation — sign in") if not locked_user else self.tr("ScanStation — locked"))
        layout = QVBoxLayout(self)
        heading = QLabel(self)
        heading.setObjectName("loginHeading")
        if locked_user:
            heading.setText(
                self.tr(
                    "The station was locked after a period without use. Enter the password of {user} to continue."
                ).format(user=locked_user)
            )
        else:
            heading.setText(self.tr("Station {station} · fonds {fonds}").format(station=home.station, fonds=home.fonds))
        heading.setWordWrap(True)
        layout.addWidget(heading)
        if hint:
            hint_label = QLabel(hint, self)
            hint_label.setObjectName("loginHint")
            hint_label.setWordWrap(True)
            hint_label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            layout.addWidget(hint_label)
        form = QFormLayout()
        self.user_edit = QLineEdit(self)
        self.user_edit.setObjectName("loginUser")
        self.password_edit = QLineEdit(self)
        self.password_edit.setObjectName("loginPassword")
        self.password_edit.setEchoMode(QLineEdit.EchoMode.Password)
        if locked_user:
            self.user_edit.setText(locked_user)
            self.user_edit.setReadOnly(True)
        form.addRow(self.tr("&User:"), self.user_edit)
        form.addRow(self.tr("&Password:"), self.password_edit)
        self.passphrase_edit: QLineEdit | None = None
        if not locked_user and personal_data_protected(home):
            # R40: personal fields are encrypted in this home; their key is unlocked at sign-in
            self.passphrase_edit = QLineEdit(self)
            self.passphrase_edit.setObjectName("loginPassphrase")
            self.passphrase_edit.setEchoMode(QLineEdit.EchoMode.Password)
            self.passphrase_edit.setPlaceholderText(self.tr("leave empty to keep personal data locked"))
            form.addRow(self.tr("Personal-data pass&phrase:"), self.passphrase_edit)
        layout.addLayout(form)
        self.message = QLabel(self)
        self.message.setObjectName("loginMessage")
        self.message.setStyleSheet("color: #b91c1c")
        self.message.setWordWrap(True)
        layout.addWidget(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok
            | (QDialogButtonBox.StandardButton.Cancel if not locked_user else QDialogButtonBox.StandardButton.NoButton),
            self,
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(
            self.tr("Sign in") if not locked_user else self.tr("Unlock")
        )
        self.buttons.accepted.connect(self.try_sign_in)
        self.buttons.rejected.connect(self.reject)
        self.switch_button = None
        if locked_user:  # another user at the same desk: sign the locked user out instead of quitting
            self.switch_button = self.buttons.addButton(
                self.tr("Sign in as another user"), QDialogButtonBox.ButtonRole.ResetRole
            )
            self.switch_button.setObjectName("switchUserButton")
            self.switch_button.clicked.connect(self.switchRequested.emit)
        layout.addWidget(self.buttons)
        (self.password_edit if locked_user else self.user_edit).setFocus()
        fit_dialog(self, 440)

    def prefill(self, user: str) -> None:
        if not self.locked_user:
            self.user_edit.setText(user)
            self.password_edit.setFocus()

    def try_sign_in(self) -> None:
        name = self.user_edit.text().strip()
        password = self.password_edit.text()
        if not name:
            self.message.setText(self.tr("Enter your user name."))
            self.user_edit.setFocus()
            return
        self.buttons.setEnabled(False)
        self.message.setText(self.tr("Checking…"))
        home = self.home
        passphrase = self.passphrase_edit.text() if self.passphrase_edit is not None else ""

        def sign_in():
            user = authenticate(home.catalog, name, password)
            if passphrase:
                unlock_personal_data(home, passphrase)
            return user

        run_task(sign_in, self._signed_in, self._refused, pool="images", owner=self)

    def _signed_in(self, user) -> None:
        self.buttons.setEnabled(True)
        self.session = Session(self.home, user)
        self.message.setText("")
        self.accept()

    def _refused(self, error: BaseException) -> None:
        self.buttons.setEnabled(True)
        self.message.setText(error.message if isinstance(error, ScanStationError) else str(error))
        self.password_edit.clear()
        self.password_edit.setFocus()

    def reject(self) -> None:
        if self.locked_user:  # a locked station cannot be dismissed, only unlocked
            return
        super().reject()


def personal_data_protected(home) -> bool:
    from scanstation.custody import protection

    return protection.is_enabled(home)


def unlock_personal_data(home, passphrase: str) -> None:
    """The core unwraps the data key (Refused on a wrong passphrase); it is kept for this process only."""
    from scanstation.custody import protection

    if protection.unlocked_key(home) is None:
        protection.remember(home, protection.unlock(home, passphrase))


class IdleLock(QObject):
    """Emits ``idle()`` after ``timeout_ms`` without user input anywhere in the application."""

    idle = Signal()
    INPUT_EVENTS = {
        QEvent.Type.KeyPress,
        QEvent.Type.MouseButtonPress,
        QEvent.Type.MouseMove,
        QEvent.Type.Wheel,
        QEvent.Type.TouchBegin,
        QEvent.Type.TabletPress,
    }

    def __init__(self, timeout_ms: int, parent: QObject | None = None):
        super().__init__(parent)
        self.timeout_ms = timeout_ms
        self.last_input = time.monotonic()
        self.paused = False
        self._timer = QTimer(self)
        self._timer.timeout.connect(self._check)
        if timeout_ms > 0:
            self._timer.start(max(50, min(5000, timeout_ms // 4)))
            QApplication.instance().installEventFilter(self)

    @classmethod
    def from_minutes(cls, minutes, parent=None) -> IdleLock:
        try:
            minutes = float(minutes)
        except (TypeError, ValueError):
            minutes = 15
        return cls(int(minutes * 60000) if minutes > 0 else 0, parent)

    def eventFilter(self, watched, event) -> bool:
        if event.type() in self.INPUT_EVENTS:
            self.last_input = time.monotonic()
        return False

    def _check(self) -> None:
        if self.paused:
            return
        if (time.monotonic() - self.last_input) * 1000 >= self.timeout_ms:
            self.paused = True  # until unlocked
            self.idle.emit()

    def resume(self) -> None:
        self.last_input = time.monotonic()
        self.paused = False

    def stop(self) -> None:
        self._timer.stop()
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)
