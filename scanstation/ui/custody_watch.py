"""Custody reminders in the main window (R39, fixity): an old backup and a fixity check that is due.

An administrator sees a warning in the status bar when the last verified backup is older than the
``backup.max_age_days`` setting, with a button that makes and verifies a backup at once. For users
who may check fixity, a sampled fixity check (``fixity.sample_percent``) runs by itself in the
background whenever the last one is older than ``fixity.interval_days``; a failed check is shown
as an error with the pages concerned. The reminder is looked at after login and every hour; a due
fixity check starts a few minutes after login, so it never slows the start of a shift.

On an archive on PostgreSQL the administrator also has "Clean up the page store…": it lists the store
objects nothing in the catalog names (left by an interrupted intake, older than three days), asks,
and removes them (scanstation.custody.store_sweep).
"""

from __future__ import annotations

from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QFileDialog, QMainWindow, QMessageBox, QPushButton

from scanstation.errors import CheckFailed
from scanstation.ui.errors import presenter
from scanstation.ui.tasks import run_task
from scanstation.ui.text import human_size

HOUR_MS = 60 * 60 * 1000
FIXITY_DELAY_MS = 3 * 60 * 1000


class CustodyWatch(QObject):
    fixityFinished = Signal(object)  # the FixityResult
    backupFinished = Signal(dict)
    sweepFinished = Signal(dict)
    remindersShown = Signal(dict)

    def __init__(self, api, window: QMainWindow, interval_ms: int = HOUR_MS, fixity_delay_ms: int = FIXITY_DELAY_MS):
        super().__init__(window)
        self.api = api
        self.fixity_delay_ms = fixity_delay_ms
        self.window = window
        self.fixity_running = False
        self.backup_running = False
        self.backup_button = QPushButton(window)
        self.backup_button.setObjectName("backupReminder")
        self.backup_button.setFlat(True)
        self.backup_button.setStyleSheet("color: #a15c00; font-weight: bold;")
        self.backup_button.hide()
        self.backup_button.clicked.connect(lambda: self.back_up_now())
        window.statusBar().addWidget(self.backup_button)
        self.act_backup = self.act_fixity = None
        if api.can("backup"):
            self.act_backup = QAction(self.tr("&Back up now…"), window)
            self.act_backup.setObjectName("actBackupNow")
            self.act_backup.triggered.connect(lambda: self.back_up_now())
        if api.can("fixity.check"):
            self.act_fixity = QAction(self.tr("Check &fixity now"), window)
            self.act_fixity.setObjectName("actFixityNow")
            self.act_fixity.triggered.connect(self.check_fixity)
        self.act_sweep = None
        self.sweep_running = False
        if api.can("store.sweep") and api.home.info.backend != "sqlite":
            self.act_sweep = QAction(self.tr("&Clean up the page store…"), window)
            self.act_sweep.setObjectName("actStoreSweep")
            self.act_sweep.triggered.connect(lambda: self.sweep_store())
        self.timer = QTimer(self)
        self.timer.setInterval(interval_ms)
        self.timer.timeout.connect(lambda: self.refresh(auto_fixity=True))

    def actions(self) -> list[QAction]:
        return [a for a in (self.act_backup, self.act_fixity, self.act_sweep) if a is not None]

    def start(self) -> None:
        if self.api.can("backup") or self.api.can("fixity.check"):
            self.refresh()
            if self.api.can("fixity.check"):
                QTimer.singleShot(self.fixity_delay_ms, self, lambda: self.refresh(auto_fixity=True))
            self.timer.start()

    def stop(self) -> None:
        self.timer.stop()

    # -- reminders -------------------------------------------------------------------------
    def refresh(self, auto_fixity: bool = False) -> None:
        run_task(
            self.api.custody_reminders,
            lambda r: self._show(r, auto_fixity),
            lambda e: presenter().present(e, self.window),
            pool="catalog",
            owner=self.window,
        )

    def _show(self, reminders: dict, auto_fixity: bool = False) -> None:
        backup = reminders.get("backup")
        if backup:
            if backup.get("last_verified_at"):
                text = self.tr("⚠ The last verified backup is older than {days} days — back up now").format(
                    days=backup["max_age_days"]
                )
            else:
                text = self.tr("⚠ No backup has been verified yet — back up now")
            self.backup_button.setText(text)
            self.backup_button.setToolTip(self.tr("Make a backup to another disk and verify it (R39)."))
            self.backup_button.show()
        else:
            self.backup_button.hide()
        if auto_fixity and reminders.get("fixity_due") and not self.fixity_running:
            self.check_fixity()
        self.remindersShown.emit(reminders)

    # -- fixity ----------------------------------------------------------------------------
    def check_fixity(self) -> None:
        if self.fixity_running:
            return
        self.fixity_running = True
        self.window.statusBar().showMessage(self.tr("Fixity check running in the background…"))
        run_task(
            self.api.scheduled_fixity_check, self._fixity_done, self._fixity_failed, pool="custody", owner=self.window
        )

    def _fixity_done(self, result) -> None:
        self.fixity_running = False
        if result.ok:
            self.window.statusBar().showMessage(
                self.tr("Fixity check passed: {n} pages re-hashed, no change found.").format(n=result.checked), 15000
            )
        else:
            self.window.statusBar().clearMessage()
            pages = [f"{m['number']} #{m['seq']}" for m in (result.mismatched + result.missing)][:20]
            presenter().present(
                CheckFailed(
                    "The fixity check found {c} changed and {m} missing page files: {pages}. Restore them from the "
                    "last verified backup (scanstation backup restore) and tell the administrator.",
                    "固定性校验发现 {c} 个页面文件被改动、{m} 个缺失：{pages}。请从最近一次已校验的备份恢复"
                    "（scanstation backup restore），并报告管理员。",
                    c=len(result.mismatched),
                    m=len(result.missing),
                    pages="，".join(pages),
                ),
                self.window,
            )
        self.fixityFinished.emit(result)

    def _fixity_failed(self, error: BaseException) -> None:
        self.fixity_running = False
        self.window.statusBar().clearMessage()
        presenter().present(error, self.window)

    # -- the page store -------------------------------------------------------------------------
    def sweep_store(self, confirm=None) -> None:
        """List what a sweep would remove (in the background), ask, then remove it. ``confirm``
        (tests) answers the question instead of a dialog."""
        if self.sweep_running or self.act_sweep is None:
            return
        self.sweep_running = True
        self.window.statusBar().showMessage(self.tr("Looking for page files nothing names…"))
        run_task(
            lambda: self.api.sweep_store(dry_run=True),
            lambda listed: self._sweep_listed(listed, confirm),
            self._sweep_failed,
            pool="custody",
            owner=self.window,
        )

    def _sweep_listed(self, listed: dict, confirm) -> None:
        self.window.statusBar().clearMessage()
        if not listed["unnamed"]:
            self.sweep_running = False
            presenter().notify(
                self.tr("The page store holds nothing unnamed older than {h} hours ({n} objects looked at).").format(
                    h=f"{listed['older_than_hours']:g}", n=listed["objects_checked"]
                ),
                self.window,
            )
            self.sweepFinished.emit(listed)
            return
        text = self.tr(
            "{n} page files ({size}) older than {h} hours are named by no dossier, page or package: an intake "
            "that was interrupted and not retried left them. Remove them from the page store?"
        ).format(n=listed["unnamed"], size=human_size(listed["bytes"]), h=f"{listed['older_than_hours']:g}")
        if confirm is None:
            answer = QMessageBox.question(
                self.window,
                self.tr("Clean up the page store"),
                text,
                QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
                QMessageBox.StandardButton.No,
            )
            confirm = answer == QMessageBox.StandardButton.Yes
        elif callable(confirm):
            confirm = confirm(text)
        if not confirm:
            self.sweep_running = False
            self.sweepFinished.emit(listed)
            return
        self.window.statusBar().showMessage(self.tr("Removing page files nothing names…"))
        run_task(
            lambda: self.api.sweep_store(dry_run=False),
            self._swept,
            self._sweep_failed,
            pool="custody",
            owner=self.window,
        )

    def _swept(self, done: dict) -> None:
        self.sweep_running = False
        self.window.statusBar().clearMessage()
        presenter().notify(
            self.tr("Removed {n} page files ({size}) that nothing named; {k} kept.").format(
                n=len(done["removed"]), size=human_size(done["bytes"]), k=len(done["kept"])
            ),
            self.window,
        )
        self.sweepFinished.emit(done)

    def _sweep_failed(self, error: BaseException) -> None:
        self.sweep_running = False
        self.window.statusBar().clearMessage()
        presenter().present(error, self.window)

    # -- backup ----------------------------------------------------------------------------
    def back_up_now(self, dest: str | None = None) -> None:
        if self.backup_running or not self.api.can("backup"):
            return
        if dest is None:
            dest = QFileDialog.getExistingDirectory(self.window, self.tr("Back up to (another disk)"))
            if not dest:
                return
        self.backup_running = True
        self.backup_button.setEnabled(False)
        self.window.statusBar().showMessage(self.tr("Backing up to {dest}…").format(dest=dest))
        run_task(
            lambda: self.api.backup_now(dest), self._backup_done, self._backup_failed, pool="custody", owner=self.window
        )

    def _backup_done(self, result: dict) -> None:
        self.backup_running = False
        self.backup_button.setEnabled(True)
        self.window.statusBar().clearMessage()
        if result["verified"]:
            text = self.tr(
                "Backup {gen} made and verified: {files} files ({copied} copied, {linked} unchanged and linked)."
            ).format(gen=result["generation"], files=result["files"], copied=result["copied"], linked=result["linked"])
            if result["warnings"]:
                text += "\n" + self.tr("Warnings: {w}").format(w="; ".join(result["warnings"][:5]))
            presenter().inform(self.tr("Backup"), text, self.window)
        else:
            presenter().present(
                CheckFailed(
                    "The backup {gen} was written but its verification found {n} problems; it is not counted as verified. "
                    "Check the backup disk and run: scanstation backup verify",
                    "备份 {gen} 已写入，但校验发现 {n} 处问题，不计为已校验备份。请检查备份磁盘并执行：scanstation backup verify",
                    gen=result["generation"],
                    n=result["problems"],
                ),
                self.window,
            )
        self.backupFinished.emit(result)
        self.refresh()

    def _backup_failed(self, error: BaseException) -> None:
        self.backup_running = False
        self.backup_button.setEnabled(True)
        self.window.statusBar().clearMessage()
        presenter().present(error, self.window)
