"""Archive-room intake (R25–R26, R33–R34): check an incoming package, review the sample, accept or reject.

The check is ``scanstation.transfer.receive.receive(..., decision=None)``, the same call as
``scanstation receive PATH``: the four-property check (DA/T 70) plus the acceptance sample drawn
with a recorded seed. Accept or Reject calls ``receive`` again with the decision, the same seed and
the archivist's findings; the core re-checks the package and refuses an acceptance it does not
allow (R34), so nothing here decides what may be archived.
"""

from __future__ import annotations

import re
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QAction, QBrush, QColor, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyle,
    QTableView,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scanstation.i18n import is_english
from scanstation.ui.batch_view import KeyPassphraseDialog
from scanstation.ui.errors import present
from scanstation.ui.row_table import RowTableModel
from scanstation.ui.tasks import run_task
from scanstation.ui.text import human_size

# "(0123456789abcdef…)" in the core's signature messages: the written report keeps it, the table shows the name
_FINGERPRINT_RE = re.compile(r"\s*[（(][0-9a-f]{16}…[）)]")
_COUNT_RE = re.compile(r"([0-9]+) (files|bytes|dossiers|images)")
FAIL_BRUSH = QBrush(QColor("#fde2e2"))
SKIP_BRUSH = QBrush(QColor("#fef3c7"))


def find_packages(folder: Path) -> list[Path]:
    """Packages waiting in a folder: sub-folders that are bags (bagit.txt) and .zip files."""
    found = []
    for item in sorted(folder.iterdir()):
        if item.name.startswith("."):
            continue  # a delivery still being copied has a temporary dot name
        if item.is_dir() and (item / "bagit.txt").is_file():
            found.append(item)
        elif item.is_file() and item.suffix.lower() == ".zip":
            found.append(item)
    return found


class ReportModel(RowTableModel):
    """One row per check line of the four-property report (``VerifyReport.to_dict()["checks"]``)."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headers = [self.tr("Property"), self.tr("Check"), self.tr("Object"), self.tr("Result"), self.tr("Detail")]
        self.signer: dict = {}

    def set_lines(self, lines, signer: dict | None = None) -> None:
        """The check lines, and who signed the package (``report["signer"]``: name in the trust list,
        fingerprint) so the signature line names the key and keeps the fingerprint for the tooltip."""
        self.signer = dict(signer or {})
        self.set_rows(lines)

    @property
    def lines(self) -> list:
        return self.rows

    def status_text(self, status: str) -> str:
        return {
            "pass": self.tr("pass"),
            "fail": self.tr("FAIL"),
            "not_available": self.tr("not available"),
            "skipped": self.tr("not checked"),
            "explained": self.tr("explained"),
        }.get(status, status)

    def object_text(self, obj: str) -> str:
        """The core's counts ("26 files, 420440 bytes", "3 dossiers, 7 images") in words and sizes."""
        parts = [part.strip() for part in (obj or "").split(",")]
        words = []
        for part in parts:
            m = _COUNT_RE.fullmatch(part)
            if m is None:
                return obj
            n, unit = int(m.group(1)), m.group(2)
            if unit == "bytes":
                words.append(human_size(n))
            elif unit == "files":
                words.append(self.tr("{n} file(s)").format(n=n))
            elif unit == "dossiers":
                words.append(self.tr("{n} dossier(s)").format(n=n))
            else:
                words.append(self.tr("{n} image(s)").format(n=n))
        return self.tr(", ").join(words)

    def _signature_text(self, line: dict, column: int) -> str:
        """The signature line with the key's name; a fingerprint only in the tooltip (and the written report)."""
        name = self.signer.get("trusted_name") or ""
        fingerprint = self.signer.get("fingerprint") or ""
        if column == 2:
            if fingerprint and line["object"] and fingerprint.startswith(line["object"]):
                return self.tr("Key “{name}”").format(name=name) if name else self.tr("Key not in the trust list")
            return line["object"]
        if line["status"] == "pass" and name:
            algorithm = {"sm2": "SM2-with-SM3", "ed25519": "Ed25519"}.get(
                self.signer.get("algorithm", ""), self.signer.get("algorithm", "")
            )
            return self.tr("Signed with {alg} by the key “{name}” in the trust list.").format(alg=algorithm, name=name)
        text = line["en"] if is_english() else line["zh"]
        return _FINGERPRINT_RE.sub("", text)

    def _signature_tooltip(self, line: dict, column: int) -> str:
        fingerprint = self.signer.get("fingerprint") or ""
        shown = self._signature_text(line, column)
        if not fingerprint:
            return shown
        return self.tr("{text}\nKey fingerprint: {fp}").format(text=shown, fp=fingerprint)

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        line = self.rows[index.row()]
        english = is_english()
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            column = index.column()
            if column == 0:
                return line["property"] if english else line["property_zh"]
            if column == 1:
                return line["title"] if english else line["title_zh"]
            if column == 3:
                return self.status_text(line["status"])
            if line.get("check") == "signature":
                return (
                    self._signature_text(line, column)
                    if role == Qt.ItemDataRole.DisplayRole
                    else self._signature_tooltip(line, column)
                )
            if column == 2:
                return self.object_text(line["object"])
            return line["en"] if english else line["zh"]
        if role == Qt.ItemDataRole.BackgroundRole:
            if line["status"] == "fail":
                return FAIL_BRUSH
            if line["status"] == "skipped":
                return SKIP_BRUSH
        return None

    def failing_rows(self) -> list[int]:
        return [i for i, line in enumerate(self.lines) if line["status"] in ("fail", "skipped")]


class DecisionDialog(KeyPassphraseDialog):
    """Accept or reject: the archive room's key and passphrase for the receipt; reasons when rejecting."""

    def __init__(self, decision: str, package: str, key_names: list[str], automatic_reasons: int, parent=None):
        super().__init__("", "", key_names, parent)
        self.decision = decision
        if decision == "accept":
            self.setWindowTitle(self.tr("Accept the package"))
            text = self.tr(
                "Accept {p} into the archive. The images are copied into the archive's store and the "
                "dossiers are archived; a receipt signed with the archive room's key is written."
            ).format(p=package)
        else:
            self.setWindowTitle(self.tr("Reject the package"))
            text = self.tr(
                "Return {p} to the station with the reasons below (one per line). Nothing is archived; "
                "a signed receipt lists the reasons."
            ).format(p=package)
            if automatic_reasons:
                text += " " + self.tr("The {n} failed check(s) are added to the reasons automatically.").format(
                    n=automatic_reasons
                )
        self.intro.setText(text)
        self.reasons = QPlainTextEdit(self)
        self.reasons.setObjectName("rejectReasons")
        self.reasons.setPlaceholderText(self.tr("One reason per line"))
        self.reasons.setTabChangesFocus(True)
        if decision == "reject":
            self.form.addRow(self.tr("&Reasons:"), self.reasons)
        else:
            self.reasons.hide()
        row = QHBoxLayout()
        self.out_dir = QLineEdit(self)
        self.out_dir.setObjectName("receiptOutDir")
        self.out_dir.setPlaceholderText(self.tr("optional: a folder or drive to carry the receipt to the station"))
        browse = QPushButton(self.tr("&Browse…"), self)
        browse.clicked.connect(self._browse)
        row.addWidget(self.out_dir, 1)
        row.addWidget(browse)
        label = QLabel(self.tr("Also save the receipt &to:"), self)
        label.setBuddy(self.out_dir)  # a layout row has no buddy of its own: "&" would show literally
        self.form.addRow(label, row)
        self.finish_layout()

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Folder for a copy of the receipt"), self.out_dir.text())
        if path:
            self.out_dir.setText(path)

    def reason_list(self) -> list[str]:
        return [line.strip() for line in self.reasons.toPlainText().splitlines() if line.strip()]


class SamplePagesDialog(QDialog):
    """A sampled dossier's pages as the package holds them (read-only): page list and the page."""

    def __init__(self, number: str, dossier, parent=None):
        super().__init__(parent)
        from scanstation.ui.page_viewer import PageViewer

        self.setWindowTitle(self.tr("Sampled dossier {n}").format(n=number))
        self.dossier = dossier
        layout = QVBoxLayout(self)
        summary = QLabel(
            self.tr("{n}: {k} page(s) from the package, each checked against its manifest. Read-only.").format(
                n=number, k=len(dossier.pages)
            ),
            self,
        )
        summary.setWordWrap(True)
        layout.addWidget(summary)
        notes = [(zh if not is_english() else en) for en, zh in dossier.problems]
        if dossier.unlisted:
            notes.append(
                self.tr(
                    "{n} file(s) in the dossier's folder are not listed in the package's manifest and "
                    "were not opened: {names}"
                ).format(n=len(dossier.unlisted), names=", ".join(dossier.unlisted[:5]))
            )
        self.notice = QLabel("\n".join(notes), self)
        self.notice.setObjectName("samplePagesNotice")
        self.notice.setWordWrap(True)
        self.notice.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.notice.setStyleSheet(
            "#samplePagesNotice { background: #fffbeb; border: 1px solid #d97706; padding: 4px; }"
        )
        self.notice.setVisible(bool(notes))
        layout.addWidget(self.notice)
        splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.page_list = QListWidget(splitter)
        self.page_list.setObjectName("samplePageList")
        for page in dossier.pages:
            item = QListWidgetItem(self.tr("Page {seq}").format(seq=page.seq), self.page_list)
            item.setToolTip(page.name)
        self.viewer = PageViewer(splitter)
        self.viewer.setObjectName("samplePageViewer")
        splitter.addWidget(self.page_list)
        splitter.addWidget(self.viewer)
        splitter.setStretchFactor(1, 1)
        splitter.setSizes([160, 700])
        layout.addWidget(splitter, 1)
        close = QPushButton(self.tr("Close"), self)
        close.clicked.connect(self.accept)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(close)
        layout.addLayout(row)
        self.page_list.currentRowChanged.connect(self._show)
        for key, step in ((Qt.Key.Key_PageDown, 1), (Qt.Key.Key_PageUp, -1)):
            action = QAction(self)
            action.setShortcut(QKeySequence(key))
            action.triggered.connect(lambda _c=False, s=step: self._step(s))
            self.addAction(action)
        from scanstation.ui.sizing import fit_dialog

        fit_dialog(self, 900, 620)  # within the screen's cap (1366×768 included)
        if dossier.pages:
            self.page_list.setCurrentRow(0)
        self.page_list.setFocus()

    def _show(self, row: int) -> None:
        if 0 <= row < len(self.dossier.pages):
            page = self.dossier.pages[row]
            self.viewer.show_data(page.data, page.name)

    def _step(self, step: int) -> None:
        row = self.page_list.currentRow() + step
        if 0 <= row < self.page_list.count():
            self.page_list.setCurrentRow(row)


class IntakeView(QWidget):
    """Incoming packages in the archive room. ``decided(result)`` after an accept or reject."""

    decided = Signal(dict)

    FINDING_COLUMN = 2

    def __init__(self, api, parent: QWidget | None = None):
        super().__init__(parent)
        self.api = api
        self.result: dict | None = None  # what receive(decision=None) reported for the package shown
        self.decision: dict | None = None  # what the decision returned
        self.busy = False
        self._generation = 0
        # Dialog and file-chooser hooks (tests replace them; the window uses the real dialogs)
        self.run_dialog = lambda dialog: dialog.exec()

        intro = QLabel(
            self.tr(
                "Check an incoming transfer package (a folder or a .zip): the four-property check "
                "(authenticity, integrity, usability, security) and the acceptance sample. Then accept "
                "it into the archive or return it with the reasons."
            ),
            self,
        )
        intro.setWordWrap(True)

        # incoming folder and the packages waiting in it
        self.incoming_edit = QLineEdit(self)
        self.incoming_edit.setObjectName("incomingFolder")
        self.incoming_edit.setPlaceholderText(self.tr("Folder where packages arrive (share or drive)"))
        incoming_browse = QPushButton(self.tr("Browse…"), self)
        incoming_browse.clicked.connect(self.choose_incoming)
        self.incoming_edit.returnPressed.connect(self.list_incoming)
        self.incoming_list = QListWidget(self)
        self.incoming_list.setObjectName("incomingPackages")
        self.incoming_list.setMaximumHeight(110)
        self.incoming_list.itemActivated.connect(self._incoming_activated)
        self.incoming_list.currentItemChanged.connect(self._incoming_current)
        incoming_label = QLabel(self.tr("&Incoming:"), self)
        incoming_label.setBuddy(self.incoming_edit)

        # one package
        self.path_edit = QLineEdit(self)
        self.path_edit.setObjectName("packagePath")
        self.path_edit.setPlaceholderText(self.tr("Package folder or .zip file"))
        self.path_edit.returnPressed.connect(self.check)
        package_label = QLabel(self.tr("&Package:"), self)
        package_label.setBuddy(self.path_edit)
        folder_button = QPushButton(self.tr("&Folder…"), self)
        folder_button.clicked.connect(self.choose_folder)
        zip_button = QPushButton(self.tr("&Zip…"), self)
        zip_button.clicked.connect(self.choose_zip)
        self.check_button = QPushButton(self.tr("&Check"), self)
        self.check_button.setObjectName("checkPackage")
        self.check_button.clicked.connect(self.check)

        top = QVBoxLayout()
        row = QHBoxLayout()
        row.addWidget(incoming_label)
        row.addWidget(self.incoming_edit, 1)
        row.addWidget(incoming_browse)
        top.addLayout(row)
        top.addWidget(self.incoming_list)
        row = QHBoxLayout()
        row.addWidget(package_label)
        row.addWidget(self.path_edit, 1)
        row.addWidget(folder_button)
        row.addWidget(zip_button)
        row.addWidget(self.check_button)
        top.addLayout(row)

        # the result
        self.verdict = QLabel(self)
        self.verdict.setObjectName("checkVerdict")
        self.verdict.setWordWrap(True)
        self.verdict.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.failures_only = QCheckBox(self.tr("Show &failures only"), self)
        self.failures_only.toggled.connect(self._filter_rows)
        self.report_model = ReportModel(self)
        self.report_table = QTableView(self)
        self.report_table.setObjectName("checkReport")
        self.report_table.setModel(self.report_model)
        self.report_table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.report_table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.report_table.verticalHeader().hide()
        self.report_table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        report_box = QWidget(self)
        report_layout = QVBoxLayout(report_box)
        report_layout.setContentsMargins(0, 0, 0, 0)
        header = QHBoxLayout()
        header.addWidget(self.verdict, 1)
        header.addWidget(self.failures_only)
        report_layout.addLayout(header)
        report_layout.addWidget(self.report_table, 1)

        # the acceptance sample
        self.sample_box = QGroupBox(self.tr("Acceptance sample"), self)
        self.sample_label = QLabel(self.sample_box)
        self.sample_label.setObjectName("sampleSummary")
        self.sample_label.setWordWrap(True)
        self.sample_table = QTableWidget(0, 3, self.sample_box)
        self.sample_table.setObjectName("sampleTable")
        self.sample_table.setHorizontalHeaderLabels(
            [
                self.tr("Dossier number (档号)"),
                self.tr("Automatic review"),
                self.tr("Your finding (empty = no problem)"),
            ]
        )
        self.sample_table.verticalHeader().hide()
        self.sample_table.horizontalHeader().setSectionResizeMode(self.FINDING_COLUMN, QHeaderView.ResizeMode.Stretch)
        self.sample_table.itemChanged.connect(lambda _item: self._update_enabled())
        # Enter or a double-click on the 档号 opens the dossier's pages (the finding column edits on double-click)
        self.sample_table.itemActivated.connect(
            lambda item: self.open_sample(self.sample_table.item(item.row(), 0).text())
        )
        self.sample_table.currentCellChanged.connect(lambda *_a: self._update_enabled())
        self.view_sample_button = QPushButton(self.tr("View pages…"), self.sample_box)
        self.view_sample_button.setObjectName("viewSamplePages")
        self.view_sample_button.setToolTip(
            self.tr("Look at the sampled dossier's pages as the package holds them (Enter or double-click on its 档号)")
        )
        self.view_sample_button.clicked.connect(self._view_current_sample)
        sample_layout = QVBoxLayout(self.sample_box)
        sample_header = QHBoxLayout()
        sample_header.addWidget(self.sample_label, 1)
        sample_header.addWidget(self.view_sample_button)
        sample_layout.addLayout(sample_header)
        sample_layout.addWidget(self.sample_table, 1)

        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(report_box)
        splitter.addWidget(self.sample_box)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        # the decision
        self.accept_button = QPushButton(self.tr("&Accept…"), self)
        self.accept_button.setObjectName("acceptPackage")
        self.accept_button.clicked.connect(lambda: self.ask_decision("accept"))
        self.reject_button = QPushButton(self.tr("&Reject…"), self)
        self.reject_button.setObjectName("rejectPackage")
        self.reject_button.clicked.connect(lambda: self.ask_decision("reject"))
        self.progress = QProgressBar(self)
        self.progress.setRange(0, 0)
        self.progress.setMaximumWidth(200)
        self.progress.hide()
        self.status = QLabel(self)
        self.status.setObjectName("intakeStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        bottom = QHBoxLayout()
        bottom.addWidget(self.status, 1)
        bottom.addWidget(self.progress)
        bottom.addWidget(self.reject_button)
        bottom.addWidget(self.accept_button)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(top)
        layout.addWidget(splitter, 1)
        layout.addLayout(bottom)

        for shortcut, slot in (("F5", self.check), ("Ctrl+O", self.choose_folder)):
            action = QAction(self)
            action.setShortcut(QKeySequence(shortcut))
            action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
            action.triggered.connect(slot)
            self.addAction(action)
        self.check_button.setToolTip(self.tr("Run the four-property check (F5)"))
        self._update_enabled()

    @property
    def session(self):
        return self.api.session

    # -- choosing a package -------------------------------------------------------------------------
    def choose_incoming(self) -> None:
        path = QFileDialog.getExistingDirectory(
            self, self.tr("Folder where packages arrive"), self.incoming_edit.text()
        )
        if path:
            self.incoming_edit.setText(path)
            self.list_incoming()

    def list_incoming(self) -> None:
        folder = Path(self.incoming_edit.text().strip())
        if not self.incoming_edit.text().strip():
            return

        def done(found: list[Path]) -> None:
            self.incoming_list.clear()
            for p in found:
                # the style's own icons: emoji have no glyph in many desktop fonts (a tofu box)
                kind = (
                    QStyle.StandardPixmap.SP_FileIcon
                    if p.suffix.lower() == ".zip"
                    else QStyle.StandardPixmap.SP_DirIcon
                )
                item = QListWidgetItem(self.style().standardIcon(kind), p.name, self.incoming_list)
                item.setData(Qt.ItemDataRole.UserRole, str(p))
                item.setToolTip(str(p))
            if not found:
                self.status.setText(self.tr("No packages in {f}.").format(f=folder))

        def failed(error) -> None:
            self.incoming_list.clear()
            if isinstance(error, FileNotFoundError):
                text = self.tr("There is no folder {f}. Type or choose the shared folder where packages arrive.")
            elif isinstance(error, NotADirectoryError):
                text = self.tr("{f} is not a folder. Type or choose the shared folder where packages arrive.")
            elif isinstance(error, PermissionError):
                text = self.tr("This account may not read the folder {f}. Ask the administrator for access.")
            elif isinstance(error, OSError):  # a share that went away, an I/O error: the system's own words
                text = self.tr("Cannot read the folder {f} ({e}). Check the share, then try again.")
            else:
                present(error, self)  # unexpected: logged, one sentence
                return
            reason = getattr(error, "strerror", None) or type(error).__name__
            self.status.setText(text.format(f=folder, e=reason))

        run_task(lambda: find_packages(folder), done, failed, pool="images", owner=self)

    def _incoming_current(self, item, _previous=None) -> None:
        if item is not None:
            self.path_edit.setText(item.data(Qt.ItemDataRole.UserRole))

    def _incoming_activated(self, item) -> None:
        self._incoming_current(item)
        self.check()

    def choose_folder(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Choose the package folder"), self.path_edit.text())
        if path:
            self.path_edit.setText(path)
            self.check()

    def choose_zip(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self,
            self.tr("Choose the package (.zip)"),
            self.path_edit.text(),
            self.tr("Packages (*.zip);;All files (*)"),
        )
        if path:
            self.path_edit.setText(path)
            self.check()

    # -- the check ------------------------------------------------------------------------------------
    def check(self, path: str | None = None) -> None:
        if isinstance(path, bool) or not path:
            path = self.path_edit.text().strip()
        if not path or self.busy:
            return
        self.path_edit.setText(path)
        from scanstation.transfer import receive

        session = self.session
        self._generation += 1
        generation = self._generation
        self.result = self.decision = None
        self.report_model.set_lines([])
        self.sample_table.setRowCount(0)
        self.sample_label.clear()
        self.verdict.setStyleSheet("")
        self.verdict.setText(
            self.tr("Checking {p}: every checksum, the signature, every image…").format(p=Path(path).name)
        )
        self._set_busy(True)
        run_task(
            lambda: receive.receive(session, path),
            lambda r: self._checked(generation, r),
            lambda e: self._check_failed(generation, e),
            pool="images",
            owner=self,
        )

    def _set_busy(self, busy: bool) -> None:
        self.busy = busy
        self.progress.setVisible(busy)
        self._update_enabled()

    def _check_failed(self, generation: int, error) -> None:
        if generation != self._generation:
            return
        self._set_busy(False)
        self.verdict.setStyleSheet("color: #b91c1c")
        self.verdict.setText(getattr(error, "message", str(error)))
        present(error, self.window())

    def _checked(self, generation: int, result: dict) -> None:
        if generation != self._generation:
            return
        self._set_busy(False)
        self.result = result
        report = result["report"]
        self.report_model.set_lines(report["checks"], report.get("signer"))
        self.report_table.resizeColumnsToContents()
        self.report_table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self._filter_rows()
        props = report["properties"]
        word = self.report_model.status_text  # every state in words, never a raw state name
        summary = self.tr("authenticity {a}, integrity {i}, usability {u}, security {s}").format(
            a=word(props["authenticity"]),
            i=word(props["integrity"]),
            u=word(props["usability"]),
            s=word(props["security"]),
        )
        batch = result.get("batch_id") or report.get("name", "")
        if result["checks_passed"]:
            self.verdict.setStyleSheet("color: #15803d; font-weight: bold")
            self.verdict.setText(self.tr("Batch {b}: four-property check PASSED ({s}).").format(b=batch, s=summary))
        else:
            failed = len(self.report_model.failing_rows())
            self.verdict.setStyleSheet("color: #b91c1c; font-weight: bold")
            self.verdict.setText(
                self.tr(
                    "Batch {b}: four-property check FAILED — {n} problem(s) ({s}). The package "
                    "cannot be accepted; return it with the reasons."
                ).format(b=batch, n=failed, s=summary)
            )
            rows = self.report_model.failing_rows()
            if rows:
                self.report_table.selectRow(rows[0])
                self.report_table.scrollTo(self.report_model.index(rows[0], 0))
        self._show_sample(result["sample"])
        self.status.setText(self.tr("Report written: {f}").format(f=", ".join(result.get("report_files", []))))
        self._update_enabled()

    def _filter_rows(self) -> None:
        only = self.failures_only.isChecked()
        failing = set(self.report_model.failing_rows())
        for row in range(self.report_model.rowCount()):
            self.report_table.setRowHidden(row, only and row not in failing)

    def _show_sample(self, sample: dict) -> None:
        self.sample_label.setText(
            self.tr(
                "Seed {seed} (recorded; the same seed draws the same sample), {p} % of {n} dossier(s): {k} sampled, "
                "pass rate {r} % — {v}."
            ).format(
                seed=sample["seed"],
                p=sample["percent"],
                n=sample["population"],
                k=sample["size"],
                r=sample["pass_rate"],
                v=self.tr("passed") if sample["passed"] else self.tr("FAILED"),
            )
        )
        names = {
            "number": self.tr("dossier number"),
            "missing_pages": self.tr("missing pages"),
            "completeness": self.tr("completeness"),
            "image_quality": self.tr("image quality"),
        }
        self.sample_table.blockSignals(True)
        self.sample_table.setRowCount(len(sample["results"]))
        for i, row in enumerate(sample["results"]):
            number = QTableWidgetItem(row["number"])
            number.setFlags(number.flags() & ~Qt.ItemFlag.ItemIsEditable)
            bad = [names.get(k, k) for k, ok in row["items"].items() if not ok and k != "archivist"]
            auto = QTableWidgetItem(
                self.tr("pass") if not bad else self.tr("FAIL: {items}").format(items=", ".join(bad))
            )
            auto.setFlags(auto.flags() & ~Qt.ItemFlag.ItemIsEditable)
            if bad:
                auto.setBackground(FAIL_BRUSH)
            finding = QTableWidgetItem("; ".join(row.get("findings") or []))
            self.sample_table.setItem(i, 0, number)
            self.sample_table.setItem(i, 1, auto)
            self.sample_table.setItem(i, self.FINDING_COLUMN, finding)
        self.sample_table.blockSignals(False)
        if self.sample_table.rowCount():
            self.sample_table.setCurrentCell(0, 0)  # Enter and 查看页面 work on the first sampled dossier at once
        self.sample_table.resizeColumnsToContents()
        self.sample_table.horizontalHeader().setSectionResizeMode(self.FINDING_COLUMN, QHeaderView.ResizeMode.Stretch)

    # -- looking at a sampled dossier --------------------------------------------------------------------
    def _view_current_sample(self) -> None:
        row = self.sample_table.currentRow()
        if row >= 0 and self.sample_table.item(row, 0) is not None:
            self.open_sample(self.sample_table.item(row, 0).text())

    def open_sample(self, number: str) -> None:
        """The pages of a sampled dossier, read from the package (manifest-listed files only), in a viewer."""
        if self.result is None or not number:
            return
        from scanstation.transfer import package_pages

        session, path = self.session, self.result["package"]
        self.status.setStyleSheet("")
        self.status.setText(self.tr("Reading the pages of {n} from the package…").format(n=number))
        run_task(
            lambda: package_pages.dossier_pages(session, path, number),
            lambda dossier: self._sample_read(number, dossier),
            self._sample_failed,
            pool="images",
            owner=self,
        )

    def _sample_failed(self, error) -> None:
        self.status.setStyleSheet("color: #b91c1c")
        self.status.setText(getattr(error, "message", str(error)))
        present(error, self.window())

    def _sample_read(self, number: str, dossier) -> None:
        self.status.setText("")
        dialog = SamplePagesDialog(number, dossier, self)
        dialog.setObjectName("samplePagesDialog")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        dialog.open()

    # -- findings and decision ------------------------------------------------------------------------
    def set_finding(self, number: str, text: str) -> None:
        for row in range(self.sample_table.rowCount()):
            if self.sample_table.item(row, 0).text() == number:
                self.sample_table.item(row, self.FINDING_COLUMN).setText(text)
                return
        raise KeyError(number)

    def findings(self) -> dict[str, list[str]]:
        out: dict[str, list[str]] = {}
        for row in range(self.sample_table.rowCount()):
            text = self.sample_table.item(row, self.FINDING_COLUMN).text().strip()
            if text:
                out[self.sample_table.item(row, 0).text()] = [text]
        return out

    def _update_enabled(self) -> None:
        may = self.api.can("receive")
        idle = not self.busy
        self.check_button.setEnabled(may and idle)
        open_case = self.result is not None and self.decision is None
        self.reject_button.setEnabled(may and idle and open_case)
        # Accept is offered only when the core's own check and sample passed and no finding was written;
        # the core refuses it anyway otherwise (R34).
        acceptable = (
            open_case and self.result["checks_passed"] and self.result["sample"]["passed"] and not self.findings()
        )
        self.accept_button.setEnabled(may and idle and bool(acceptable))
        self.view_sample_button.setEnabled(may and self.result is not None and self.sample_table.currentRow() >= 0)
        if open_case and not acceptable:
            self.accept_button.setToolTip(
                self.tr("Only a package whose checks and sample passed, with no findings, can be accepted.")
            )
        else:
            self.accept_button.setToolTip("")

    def _key_names(self) -> list[str]:
        from scanstation.transfer import keys

        return [k["name"] for k in keys.list_keys(self.session.home)["signing"] if "error" not in k]

    def ask_decision(self, decision: str) -> None:
        if self.result is None:
            return
        automatic = len(self.report_model.failing_rows())
        dialog = DecisionDialog(
            decision,
            self.result.get("batch_id") or Path(self.result["package"]).name,
            self._key_names(),
            automatic,
            self,
        )
        if self.run_dialog(dialog) != QDialog.DialogCode.Accepted:
            return
        self.decide(
            decision,
            dialog.key_name(),
            dialog.passphrase.text(),
            dialog.reason_list(),
            dialog.out_dir.text().strip() or None,
        )

    def decide(
        self,
        decision: str,
        key_name: str | None,
        passphrase: str,
        reasons: list[str] | None = None,
        out_dir: str | None = None,
    ) -> None:
        """Accept or reject the package shown, with the sample's seed and the findings entered."""
        if self.result is None or self.busy:
            return
        from scanstation.transfer import receive

        session = self.session
        path, seed, findings = self.result["package"], self.result["sample"]["seed"], self.findings()
        self.status.setStyleSheet("")
        self.status.setText(
            self.tr("Accepting: checking the package again and copying it into the archive…")
            if decision == "accept"
            else self.tr("Rejecting: writing the signed receipt…")
        )
        self._set_busy(True)
        run_task(
            lambda: receive.receive(
                session,
                path,
                decision=decision,
                reasons=reasons or [],
                key_name=key_name,
                passphrase=passphrase,
                seed=seed,
                sample_findings=findings,
                out_dir=out_dir,
            ),
            self._decided,
            self._decision_failed,
            pool="catalog",
            owner=self,
        )

    def _decision_failed(self, error) -> None:
        self._set_busy(False)
        self.status.setStyleSheet("color: #b91c1c")
        self.status.setText(getattr(error, "message", str(error)))
        present(error, self.window())

    def _decided(self, result: dict) -> None:
        self.decision = result
        self._set_busy(False)
        files = ", ".join(result.get("receipt_files", []))
        self.status.setStyleSheet("color: #15803d")
        if result["decision"] == "accepted":
            self.status.setText(
                self.tr("Accepted: {n} dossier(s) archived. Signed receipt written to {f}").format(
                    n=len(result.get("dossiers_accepted", [])), f=files
                )
            )
        else:
            self.status.setText(
                self.tr(
                    "Rejected: the package was returned ({n} dossier(s) named). Signed receipt written to {f}"
                ).format(n=len(result.get("dossiers_returned", [])), f=files)
            )
        self.decided.emit(result)
