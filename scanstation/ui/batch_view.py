"""Year-end transfer batches on the station (R27–R32, R38): create, seal, send, receipts, cancel.

Every action calls the same core functions as ``scanstation batch ...`` (scanstation.transfer);
the view only asks for the inputs, runs the call off the GUI thread and shows the outcome. The
core decides what is allowed: buttons are enabled by the batch state only to guide the user.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QCoreApplication, QObject, Qt, Signal
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from scanstation.ui.dossier_panel import status_label
from scanstation.ui.errors import present
from scanstation.ui.row_table import RowTableModel
from scanstation.ui.sizing import fit_dialog
from scanstation.ui.tasks import run_task
from scanstation.ui.text import human_size, local_time

# pools: catalog = the single catalog writer (every action that records something); images = CPU work
WRITE_POOL = "catalog"


class ProgressRelay(QObject):
    """Carries progress reports from a worker thread to the GUI thread (queued signal)."""

    progressed = Signal(str, int, int)
    note = Signal(str)


def state_text(state: str) -> str:
    t = QCoreApplication.translate
    names = {
        "draft": t("BatchView", "draft"),
        "sealed": t("BatchView", "sealed"),
        "sent": t("BatchView", "sent"),
        "received": t("BatchView", "received"),
        "rejected": t("BatchView", "rejected"),
        "cancelled": t("BatchView", "cancelled"),
    }
    return names.get(state, state)


def decision_text(decision: str) -> str:
    t = QCoreApplication.translate
    return {"accept": t("BatchView", "accepted"), "reject": t("BatchView", "rejected")}.get(decision, decision)


class BatchModel(RowTableModel):
    COLUMNS = ("batch_id", "fonds", "year", "state", "dossiers", "deadline", "tagmanifest_sm3")

    def __init__(self, parent=None):
        super().__init__(parent)
        self.headers = [
            self.tr("Batch"),
            self.tr("Fonds"),
            self.tr("Year"),
            self.tr("State"),
            self.tr("Dossiers"),
            self.tr("Deadline"),
            self.tr("Package digest (SM3)"),
        ]

    def data(self, index, role=Qt.ItemDataRole.DisplayRole):
        if not index.isValid():
            return None
        row = self.rows[index.row()]
        key = self.COLUMNS[index.column()]
        value = row.get(key)
        if role == Qt.ItemDataRole.DisplayRole:
            if key == "state":
                return state_text(value)
            if key == "tagmanifest_sm3":
                return (value or "")[:16] + ("…" if value else "")
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.ToolTipRole:
            if key == "tagmanifest_sm3":
                return value or self.tr("not sealed yet")
            return "" if value is None else str(value)
        if role == Qt.ItemDataRole.TextAlignmentRole and key in ("year", "dossiers"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None


class CreateBatchDialog(QDialog):
    def __init__(self, categories: list[str], default_year: int, parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Create a transfer batch"))
        self.year = QSpinBox(self)
        self.year.setObjectName("batchYear")
        self.year.setRange(1900, 2999)
        self.year.setValue(default_year)
        self.category = QComboBox(self)
        self.category.setObjectName("batchCategory")
        self.category.setEditable(True)
        self.category.addItem(self.tr("(all categories)"), "")
        for c in categories:
            self.category.addItem(c, c)
        form = QFormLayout(self)
        note = QLabel(
            self.tr(
                "The batch takes every completed, QC-approved dossier of this fonds and year "
                "(optionally of one category) that is not in another batch."
            ),
            self,
        )
        note.setWordWrap(True)
        form.addRow(note)
        form.addRow(self.tr("&Year (年度):"), self.year)
        form.addRow(self.tr("&Category:"), self.category)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        fit_dialog(self, 460)

    def values(self) -> tuple[int, str | None]:
        text = self.category.currentText().strip()
        if self.category.currentIndex() == 0 and text == self.category.itemText(0):
            text = ""
        return self.year.value(), (text or None)


class KeyPassphraseDialog(QDialog):
    """Signing key and its passphrase (used to seal a batch and to sign a receipt)."""

    def __init__(self, title: str, intro: str, key_names: list[str], parent=None):
        super().__init__(parent)
        self.setWindowTitle(title)
        self.key = QComboBox(self)
        self.key.setObjectName("signingKey")
        self.key.setEditable(True)
        self.key.addItems(key_names)
        self.passphrase = QLineEdit(self)
        self.passphrase.setObjectName("keyPassphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.form = QFormLayout(self)
        self.intro = QLabel(intro, self)
        self.intro.setWordWrap(True)
        self.form.addRow(self.intro)
        self.form.addRow(self.tr("Signing &key:"), self.key)
        self.form.addRow(self.tr("&Passphrase:"), self.passphrase)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        self.create_key_button: QPushButton | None = None
        if not key_names:
            note = QLabel(self.tr("This station has no signing key yet."), self)
            note.setObjectName("noKeyNote")
            note.setWordWrap(True)
            self.form.addRow(note)
            self.no_key_note = note

    def offer_key_creation(self, api) -> None:
        """No key yet: create the station key right here (administrators), or say who can."""
        if self.key.count() or getattr(self, "no_key_note", None) is None:
            return
        self.create_key_button = QPushButton(self.tr("&Create the station key…"), self)
        self.create_key_button.setObjectName("createStationKeyButton")
        if api.can("keys.manage"):
            self.create_key_button.clicked.connect(lambda: self._create_key(api))
        else:
            self.create_key_button.setEnabled(False)
            self.no_key_note.setText(
                self.tr(
                    "This station has no signing key yet. Ask an administrator to create it (Settings → Signing keys)."
                )
            )
        self.form.addRow(self.create_key_button)

    def _create_key(self, api) -> None:
        from scanstation.ui.settings_view import GenerateKeyDialog

        dialog = GenerateKeyDialog(self, api, default_name=f"station-{api.home.station}")
        dialog.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)

        def made(result: dict, d=dialog) -> None:
            self.key.addItem(result["name"])
            self.key.setCurrentText(result["name"])
            self.passphrase.setText(d.passphrase.text())  # the passphrase just chosen seals this batch
            self.no_key_note.setText(
                self.tr(
                    "Key {name} created. Give its public key to the archive room (Settings → Signing keys → Export)."
                ).format(name=result["name"])
            )
            self.create_key_button.setEnabled(False)
            self.passphrase.setFocus()

        dialog.generated.connect(made)
        self.create_key_dialog = dialog
        dialog.open()

    def finish_layout(self) -> None:
        self.form.addRow(self.buttons)
        fit_dialog(self, 480)
        (self.passphrase if self.key.currentText() else self.key).setFocus()

    def key_name(self) -> str:
        return self.key.currentText().strip()


class SendDialog(QDialog):
    def __init__(self, start_dir: str, parent=None):
        super().__init__(parent)
        self.setWindowTitle(self.tr("Send the package"))
        self.destination = QLineEdit(start_dir, self)
        self.destination.setObjectName("sendDestination")
        browse = QPushButton(self.tr("&Browse…"), self)
        browse.clicked.connect(self._browse)
        self.as_zip = QCheckBox(self.tr("Write one .&zip file"), self)
        self.as_zip.setObjectName("sendZip")
        self.deflate = QCheckBox(self.tr("&Compress the zip (deflate)"), self)
        self.deflate.setEnabled(False)
        self.as_zip.toggled.connect(self.deflate.setEnabled)
        row = QHBoxLayout()
        row.addWidget(self.destination, 1)
        row.addWidget(browse)
        form = QFormLayout(self)
        note = QLabel(
            self.tr(
                "The package is copied under a temporary name, every byte is verified on the "
                "destination, then it is renamed. An unreachable destination is retried."
            ),
            self,
        )
        note.setWordWrap(True)
        form.addRow(note)
        # a row that is a layout gets no buddy from QFormLayout: without one the "&" shows as "(&D)"
        label = QLabel(self.tr("&Destination folder:"), self)
        label.setBuddy(self.destination)
        form.addRow(label, row)
        form.addRow(self.as_zip)
        form.addRow(self.deflate)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        fit_dialog(self, 560)

    def _browse(self) -> None:
        path = QFileDialog.getExistingDirectory(self, self.tr("Choose the destination folder"), self.destination.text())
        if path:
            self.destination.setText(path)

    def values(self) -> tuple[str, bool, bool]:
        return self.destination.text().strip(), self.as_zip.isChecked(), self.deflate.isChecked()


class BatchView(QWidget):
    """The station's transfer batches. ``changed()`` after an action changed a batch."""

    changed = Signal()

    def __init__(self, api, parent: QWidget | None = None):
        super().__init__(parent)
        self.api = api
        self.busy = False
        self.last_result: dict | None = None
        self._last_destination = ""
        # Dialog and file-chooser hooks (tests replace them; the window uses the real dialogs)
        self.run_dialog = lambda dialog: dialog.exec()
        self.choose_receipt_file = self._choose_receipt_file
        self.confirm = self._confirm

        intro = QLabel(
            self.tr(
                "Year-end transfer: put approved dossiers of one year into a batch, seal and sign it, "
                "send it to the archive room, then import the archive room's receipt."
            ),
            self,
        )
        intro.setWordWrap(True)
        self.model = BatchModel(self)
        self.table = QTableView(self)
        self.table.setObjectName("batchTable")
        self.table.setModel(self.model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(len(BatchModel.COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        self.details = QPlainTextEdit(self)
        self.details.setObjectName("batchDetails")
        self.details.setReadOnly(True)
        self.details.setPlaceholderText(self.tr("Select a batch to see its dossiers, deliveries and receipts."))
        splitter = QSplitter(Qt.Orientation.Vertical, self)
        splitter.addWidget(self.table)
        splitter.addWidget(self.details)
        splitter.setStretchFactor(0, 3)
        splitter.setStretchFactor(1, 2)

        self.create_button = self._button("createBatch", self.tr("&Create…"), "Ctrl+N", self.ask_create)
        self.seal_button = self._button("sealBatch", self.tr("Se&al…"), "Ctrl+E", self.ask_seal)
        self.send_button = self._button("sendBatch", self.tr("Se&nd…"), "Ctrl+Shift+S", self.ask_send)
        self.receipt_button = self._button(
            "importReceipt", self.tr("Import &receipt…"), "Ctrl+I", self.ask_import_receipt
        )
        self.cancel_button = self._button("cancelBatch", self.tr("Cance&l batch…"), "Ctrl+Shift+Del", self.ask_cancel)
        self.refresh_button = self._button("refreshBatches", self.tr("Re&fresh"), "F5", lambda: self.refresh())
        buttons = QHBoxLayout()
        for b in (self.create_button, self.seal_button, self.send_button, self.receipt_button, self.cancel_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.refresh_button)

        self.progress = QProgressBar(self)
        self.progress.setObjectName("batchProgress")
        self.progress.setMaximumWidth(240)
        self.progress.hide()
        self.status = QLabel(self)
        self.status.setObjectName("batchStatus")
        self.status.setWordWrap(True)
        self.status.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        status_row = QHBoxLayout()
        status_row.addWidget(self.status, 1)
        status_row.addWidget(self.progress)

        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(buttons)
        layout.addWidget(splitter, 1)
        layout.addLayout(status_row)

        self.relay = ProgressRelay(self)
        self.relay.progressed.connect(self._progressed)
        self.relay.note.connect(self.status.setText)
        self.table.selectionModel().selectionChanged.connect(lambda *_: self._selection_changed())
        self._update_enabled()
        self.refresh()

    # -- plumbing -------------------------------------------------------------------------------
    @property
    def session(self):
        return self.api.session

    def _button(self, name: str, text: str, shortcut: str, slot) -> QPushButton:
        button = QPushButton(text, self)
        button.setObjectName(name)
        button.clicked.connect(slot)
        action = QAction(self)
        action.setShortcut(QKeySequence(shortcut))
        action.setShortcutContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)
        action.triggered.connect(lambda: button.isEnabled() and slot())
        self.addAction(action)
        native = QKeySequence(shortcut).toString(QKeySequence.SequenceFormat.NativeText)
        button.setToolTip(f"{text.replace('&', '')} ({native})")
        return button

    def selected(self) -> dict | None:
        rows = self.table.selectionModel().selectedRows()
        if not rows:
            return None
        return self.model.rows[rows[0].row()]

    def select_batch(self, batch_id: str) -> None:
        for i, row in enumerate(self.model.rows):
            if row["batch_id"] == batch_id:
                self.table.selectRow(i)
                return

    def _update_enabled(self) -> None:
        may = self.api.can("batch.manage")
        state = (self.selected() or {}).get("state")
        idle = not self.busy
        self.create_button.setEnabled(may and idle)
        self.seal_button.setEnabled(may and idle and state == "draft")
        self.send_button.setEnabled(may and idle and state in ("sealed", "sent"))
        self.cancel_button.setEnabled(may and idle and state in ("draft", "sealed"))
        self.receipt_button.setEnabled(may and idle)
        self.refresh_button.setEnabled(idle)

    def _start(self, text: str, fn, done, determinate: bool = False) -> None:
        """Run ``fn`` off the GUI thread with the busy indicator; ``done(result)`` then a refresh."""
        self.busy = True
        self.status.setStyleSheet("")
        self.status.setText(text)
        self.progress.setRange(0, 0)  # busy until the first progress report
        self.progress.show()
        self._update_enabled()

        def finished(result) -> None:
            self._stop_busy()
            self.last_result = result
            done(result)
            self.changed.emit()
            self.refresh(result.get("batch_id") if isinstance(result, dict) else None)

        run_task(fn, finished, self._failed, pool=WRITE_POOL, owner=self)

    def _stop_busy(self) -> None:
        self.busy = False
        self.progress.hide()
        self._update_enabled()

    def _failed(self, error) -> None:
        self._stop_busy()
        self.status.setStyleSheet("color: #b91c1c")
        self.status.setText(getattr(error, "message", str(error)))
        present(error, self.window())
        self.refresh()

    def _done(self, text: str) -> None:
        self.status.setStyleSheet("color: #15803d")
        self.status.setText(text)

    def _progressed(self, stage: str, done: int, total: int) -> None:
        if total > 0:
            self.progress.setRange(0, total)
            self.progress.setValue(done)
            self.status.setText(
                self.tr("Sealing: {done} of {total} files checked and placed…").format(done=done, total=total)
            )

    # -- reading ----------------------------------------------------------------------------------
    def refresh(self, chosen: str | None = None) -> None:
        """Reload the batches; keep ``chosen`` (default: the selected batch) selected."""
        from scanstation.transfer import batches

        session = self.session
        chosen = chosen or (self.selected() or {}).get("batch_id")
        run_task(
            lambda: batches.list_batches(session),
            lambda rows: self._show(rows, chosen),
            self._list_failed,
            pool=WRITE_POOL,
            owner=self,
        )

    def _list_failed(self, error) -> None:
        self.status.setText(getattr(error, "message", str(error)))
        present(error, self.window())

    def _show(self, rows: list[dict], chosen: str | None) -> None:
        self.model.set_rows(rows)
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(len(BatchModel.COLUMNS) - 1, QHeaderView.ResizeMode.Stretch)
        if chosen:
            self.select_batch(chosen)
        elif rows:
            self.table.selectRow(len(rows) - 1)
        if not rows and not self.busy and not self.status.text():
            self.status.setText(self.tr("No batches yet. Create one with Create… (Ctrl+N)."))
        self._update_enabled()

    def _selection_changed(self) -> None:
        self._update_enabled()
        batch = self.selected()
        if batch is None:
            self.details.clear()
            return
        from scanstation.transfer import batches

        session, batch_id = self.session, batch["batch_id"]
        run_task(
            lambda: batches.show(session, batch_id),
            self._show_details,
            lambda e: self.details.clear(),
            pool=WRITE_POOL,
            owner=self,
        )

    def _show_details(self, info: dict) -> None:
        current = self.selected()
        if current is None or current["batch_id"] != info["batch_id"]:
            return
        lines = [
            self.tr("Batch {id}: {state}, {d} dossier(s), {i} image(s), {b}; deadline {dl}").format(
                id=info["batch_id"],
                state=state_text(info["state"]),
                d=info["dossiers"],
                i=info["images"],
                b=human_size(info["image_bytes"]),
                dl=info["deadline"],
            )
        ]
        if info.get("package"):
            lines.append(self.tr("Package: {p}").format(p=info["package"]))
            lines.append(self.tr("Tag manifest SM3: {d}").format(d=info.get("tagmanifest_sm3") or ""))
        for d in info.get("dossier_list", []):
            lines.append(f"  {d['seq']:>4}  {d['number']}  {status_label(d['status'])}  {d['title']}")
        for delivery in info.get("deliveries", []):
            if delivery["ok"]:
                lines.append(
                    self.tr("Sent to {p} ({n}) at {at}").format(
                        p=delivery["path"], n=human_size(delivery["bytes"]), at=local_time(delivery["finished_at"])
                    )
                )
            else:
                lines.append(
                    self.tr("Delivery attempt {n} to {d} failed: {e}").format(
                        n=delivery["attempt"], d=delivery["destination"], e=delivery["error"]
                    )
                )
        for r in info.get("receipts", []):
            lines.append(
                self.tr("Receipt {id}: {decision}, issued {at} by {by}").format(
                    id=r["receipt_id"],
                    decision=decision_text(r["decision"]),
                    at=local_time(r["issued_at"]),
                    by=r["signer_name"],
                )
            )
        self.details.setPlainText("\n".join(lines))

    # -- actions ----------------------------------------------------------------------------------
    def ask_create(self) -> None:
        """The categories of the approved dossiers are read off the GUI thread, then the dialog opens."""
        from scanstation.transfer import batches

        session = self.session
        run_task(
            lambda: batches.approved_categories(session.catalog),
            self._ask_create_with,
            self._list_failed,
            pool=WRITE_POOL,
            owner=self,
        )

    def _ask_create_with(self, categories: list[str]) -> None:
        from datetime import date

        dialog = CreateBatchDialog(categories, date.today().year - 1, self)
        if self.run_dialog(dialog) != QDialog.DialogCode.Accepted:
            return
        year, category = dialog.values()
        self.create_batch(year, category)

    def create_batch(self, year: int, category: str | None = None) -> None:
        from scanstation.transfer import batches

        session = self.session

        def done(b: dict) -> None:
            self._done(
                self.tr("Batch {id} created: {d} dossier(s), deadline {dl}.").format(
                    id=b["batch_id"], d=b["dossiers"], dl=b["deadline"]
                )
            )

        self._start(
            self.tr("Creating a batch of {y}…").format(y=year), lambda: batches.create(session, year, category), done
        )

    def _key_names(self) -> list[str]:
        from scanstation.transfer import keys

        return [k["name"] for k in keys.list_keys(self.session.home)["signing"] if "error" not in k]

    def ask_seal(self) -> None:
        batch = self.selected()
        if batch is None:
            return
        dialog = KeyPassphraseDialog(
            self.tr("Seal batch {id}").format(id=batch["batch_id"]),
            self.tr(
                "Batch {id} is sealed into a signed BagIt package in the outbox. Every image is read again and "
                "compared with its checksum from capture."
            ).format(id=batch["batch_id"]),
            self._key_names(),
            self,
        )
        dialog.carrier = QLineEdit(dialog)
        dialog.carrier.setObjectName("sealCarrier")
        dialog.carrier.setPlaceholderText(self.tr("optional, e.g. network share or removable drive"))
        dialog.form.addRow(self.tr("Ca&rrier:"), dialog.carrier)
        dialog.offer_key_creation(self.api)
        dialog.finish_layout()
        if self.run_dialog(dialog) != QDialog.DialogCode.Accepted:
            return
        self.seal_batch(
            batch["batch_id"], dialog.key_name(), dialog.passphrase.text(), dialog.carrier.text().strip() or None
        )

    def seal_batch(self, batch_id: str, key_name: str, passphrase: str, carrier: str | None = None) -> None:
        from scanstation.transfer import seal

        session, relay = self.session, self.relay

        def work():
            return seal.seal(
                session,
                batch_id,
                key_name,
                passphrase,
                carrier=carrier,
                progress=lambda stage, done, total: relay.progressed.emit(stage, done, total),
            )

        def done(r: dict) -> None:
            self._done(
                self.tr("Batch {id} sealed and signed ({alg}): {f} file(s), {n}. Package: {p}").format(
                    id=r["batch_id"],
                    alg=r["signature_algorithm"],
                    f=r["payload_files"],
                    n=human_size(r["payload_bytes"]),
                    p=r["package"],
                )
            )

        self._start(self.tr("Sealing batch {id}…").format(id=batch_id), work, done)

    def ask_send(self) -> None:
        batch = self.selected()
        if batch is None:
            return
        dialog = SendDialog(self._last_destination, self)
        dialog.setWindowTitle(self.tr("Send batch {id}").format(id=batch["batch_id"]))
        if self.run_dialog(dialog) != QDialog.DialogCode.Accepted:
            return
        destination, as_zip, deflate = dialog.values()
        if not destination:
            return
        self.send_batch(batch["batch_id"], destination, as_zip, deflate)

    def send_batch(self, batch_id: str, destination: str, as_zip: bool = False, deflate: bool = False) -> None:
        from scanstation.transfer import outbox

        session, relay = self.session, self.relay
        self._last_destination = destination

        def on_retry(attempt: int, error: str, wait: float) -> None:
            relay.note.emit(
                self.tr("Attempt {n} failed ({e}); trying again in {w} s.").format(n=attempt, e=error, w=round(wait))
            )

        def done(r: dict) -> None:
            self._done(
                self.tr("Batch {id} sent to {p} ({n}, verified on the destination).").format(
                    id=r["batch_id"], p=r["path"], n=human_size(r["bytes"])
                )
            )

        self._start(
            self.tr("Sending batch {id} to {d}…").format(id=batch_id, d=destination),
            lambda: outbox.send(session, batch_id, destination, as_zip=as_zip, deflate=deflate, on_retry=on_retry),
            done,
        )

    def _choose_receipt_file(self) -> str:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Choose the archive room's receipt"), "", self.tr("Receipts (*.json);;All files (*)")
        )
        return path

    def ask_import_receipt(self) -> None:
        path = self.choose_receipt_file()
        if path:
            self.import_receipt(path)

    def import_receipt(self, path: str) -> None:
        from scanstation.transfer import receipts

        session = self.session

        def done(r: dict) -> None:
            self._done(
                self.tr("Receipt {r} imported: batch {id} is now {state} (signed by {by}).").format(
                    r=r["receipt_id"], id=r["batch_id"], state=state_text(r["state"]), by=r["signer"]
                )
            )

        self._start(
            self.tr("Importing the receipt {f}…").format(f=Path(path).name),
            lambda: receipts.import_receipt(session, path),
            done,
        )

    def _confirm(self, title: str, text: str) -> bool:
        answer = QMessageBox.question(
            self,
            title,
            text,
            QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No,
            QMessageBox.StandardButton.No,
        )
        return answer == QMessageBox.StandardButton.Yes

    def ask_cancel(self) -> None:
        batch = self.selected()
        if batch is None:
            return
        if not self.confirm(
            self.tr("Cancel batch {id}").format(id=batch["batch_id"]),
            self.tr(
                "Cancel batch {id}? Its dossiers become approved again; a sealed package is "
                "moved aside in the outbox, not deleted."
            ).format(id=batch["batch_id"]),
        ):
            return
        self.cancel_batch(batch["batch_id"])

    def cancel_batch(self, batch_id: str) -> None:
        from scanstation.transfer import batches

        session = self.session

        def done(r: dict) -> None:
            self._done(self.tr("Batch {id} cancelled; its dossiers are approved again.").format(id=r["batch_id"]))

        self._start(
            self.tr("Cancelling batch {id}…").format(id=batch_id), lambda: batches.cancel(session, batch_id), done
        )
