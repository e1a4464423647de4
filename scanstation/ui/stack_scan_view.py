"""批量扫描: one feeder run of many dossiers, split at printed cover sheets.

The view holds no rule of its own: the run is the core's ``SplitRun`` (the same one ``scan --split``
uses), started on the device pool; its events come back to the GUI thread as a signal. When a run
stops, the message says what was found and the held pages are listed: one button files them into
a dossier, another runs them through the splitter again. Cover sheets for the dossiers typed in the
box (or a year) are printed from here as well.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from scanstation.ui.errors import presenter
from scanstation.ui.tasks import run_task


class _Relay(QObject):
    event = Signal(dict)


class StackScanView(QWidget):
    runFinished = Signal(object)  # the SplitResult

    def __init__(self, api, parent=None):
        super().__init__(parent)
        self.api = api
        self.run = None
        self.relay = _Relay(self)
        self.relay.event.connect(self._on_event)
        layout = QVBoxLayout(self)
        title = QLabel(self.tr("Stack scanning: put the cover sheet of each dossier in front of its pages"), self)
        title.setObjectName("stackTitle")
        layout.addWidget(title)
        form = QFormLayout()
        self.device = QComboBox(self)
        self.device.setObjectName(
            "stackDevice"
        )  # filled by discovery: real scanners first, the demo one only where offered
        self.profile = QComboBox(self)
        self.profile.setObjectName("stackProfile")
        self.into = QLineEdit(self)
        self.into.setObjectName("stackInto")
        self.into.setPlaceholderText(self.tr("optional: the dossier the first pages continue"))
        self.labels = QCheckBox(self.tr("A 档号 barcode on a first page also opens its dossier"), self)
        form.addRow(self.tr("Scanner"), self.device)
        form.addRow(self.tr("Profile"), self.profile)
        form.addRow(self.tr("Continue dossier"), self.into)
        form.addRow("", self.labels)
        layout.addLayout(form)
        buttons = QHBoxLayout()
        self.start_button = QPushButton(self.tr("Start stack scan"), self)
        self.start_button.setObjectName("stackStart")
        self.start_button.clicked.connect(lambda: self.start())
        self.stop_button = QPushButton(self.tr("Stop"), self)
        self.stop_button.setEnabled(False)
        self.stop_button.clicked.connect(self.stop)
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.stop_button)
        buttons.addStretch(1)
        layout.addLayout(buttons)
        self.log = QListWidget(self)
        self.log.setObjectName("stackLog")
        layout.addWidget(self.log, 2)
        self.message = QLabel(self)
        self.message.setObjectName("stackMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #a10000;")
        layout.addWidget(self.message)
        # held pages: one action files them
        layout.addWidget(QLabel(self.tr("Held pages (from stopped runs)"), self))
        self.held = QTableWidget(0, 4, self)
        self.held.setObjectName("stackHeld")
        self.held.setHorizontalHeaderLabels([self.tr("Run"), self.tr("Position"), self.tr("Kind"), self.tr("Reason")])
        layout.addWidget(self.held, 1)
        held_row = QHBoxLayout()
        self.assign_to = QLineEdit(self)
        self.assign_to.setObjectName("stackAssignTo")
        self.assign_to.setPlaceholderText(self.tr("档号 for the held pages"))
        self.assign_button = QPushButton(self.tr("File held pages into this dossier"), self)
        self.assign_button.setObjectName("stackAssign")
        self.assign_button.clicked.connect(self.assign)
        self.resume_button = QPushButton(self.tr("Run held pages again"), self)
        self.resume_button.setObjectName("stackResume")
        self.resume_button.clicked.connect(self.resume)
        held_row.addWidget(self.assign_to, 1)
        held_row.addWidget(self.assign_button)
        held_row.addWidget(self.resume_button)
        layout.addLayout(held_row)
        # cover sheets
        sheets = QHBoxLayout()
        self.sheet_numbers = QPlainTextEdit(self)
        self.sheet_numbers.setObjectName("sheetNumbers")
        self.sheet_numbers.setPlaceholderText(self.tr("档号, one per line (or give a year)"))
        self.sheet_numbers.setMaximumHeight(70)
        self.sheet_year = QSpinBox(self)
        self.sheet_year.setRange(0, 2100)
        self.sheet_year.setSpecialValueText(self.tr("year"))
        self.sheet_button = QPushButton(self.tr("Print cover sheets…"), self)
        self.sheet_button.setObjectName("sheetPrint")
        self.sheet_button.clicked.connect(lambda: self.print_sheets())
        sheets.addWidget(self.sheet_numbers, 1)
        sheets.addWidget(self.sheet_year)
        sheets.addWidget(self.sheet_button)
        layout.addLayout(sheets)
        for p in api.profiles():
            self.profile.addItem(p.name, p.name)
        self.refresh_held()
        run_task(api.devices, self._fill_devices, lambda e: None, pool="device", owner=self)

    def _fill_devices(self, devices) -> None:
        # the core offers the demo scanner only on a demo home or in training; it is never the default
        for d in sorted(devices, key=lambda d: d.backend == "demo"):
            self.device.addItem(d.display_name(), d.id)

    # -- core calls -----------------------------------------------------------------------
    def _profile(self):
        return self.api.profile(self.profile.currentData())

    def start(self, scan_options: dict | None = None) -> None:
        from scanstation.coversheet.split import SplitRun

        device = self.device.currentData()
        if not device:
            from scanstation.errors import Refused

            presenter().present(
                Refused(
                    "No scanner was found; connect and switch on the scanner, then open this view again.",
                    "未找到扫描仪；请连接并打开扫描仪后重新打开此页面。",
                ),
                self,
            )
            return
        profile = self._profile()
        self.run = SplitRun(
            self.api.capture(),
            device,
            profile,
            labels=self.labels.isChecked(),
            into=self.into.text().strip() or None,
            scan_options=scan_options or {},
        )
        self.run.on_event = self.relay.event.emit  # from the device thread: queued to the GUI thread
        self.log.clear()
        self.message.clear()
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        run_task(self.run.run, self._finished, self._failed, pool="device", owner=self)

    def stop(self) -> None:
        if self.run is not None:
            self.run.cancel()

    def _on_event(self, event: dict) -> None:
        kind = event["event"]
        if kind == "sheet":
            self.log.addItem(self.tr("Cover sheet {n}").format(n=event["number"]))
        elif kind == "label":
            self.log.addItem(self.tr("First page labelled {n}").format(n=event["number"]))
        elif kind == "dossier" and not event.get("deferred"):
            self.log.addItem(
                self.tr("  {n}: {p} page(s) stored, {c} of {d}").format(
                    n=event["number"], p=event["pages"], c=event["counted"], d=event["declared"] or "—"
                )
            )
        elif kind == "count":
            self.log.addItem(
                self.tr("  ! {n}: {c} page(s), 页数 says {d} (flagged)").format(
                    n=event["number"], c=event["counted"], d=event["declared"]
                )
            )
        elif kind == "stopped":
            self.message.setText(event["message"])
        self.log.scrollToBottom()

    def _finished(self, result) -> None:
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        if result.error is not None:
            self.message.setText(result.error.message)
        self.refresh_held()
        self.runFinished.emit(result)

    def _failed(self, error) -> None:
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        presenter().present(error, self)

    def refresh_held(self) -> None:
        from scanstation.coversheet.split import held_pages, recover_runs

        if not self.api.can("capture"):
            return
        if self.run is None:  # no run of this window in progress: a run cut off by a crash leaves held pages
            recover_runs(self.api.session)
        rows = held_pages(self.api.session)
        kinds = {"page": self.tr("page"), "sheet": self.tr("cover sheet"), "unreadable": self.tr("unreadable sheet")}
        self.held.setRowCount(len(rows))
        for i, r in enumerate(rows):
            for j, value in enumerate(
                (
                    r["run_id"],
                    r["position"],
                    kinds.get(r["kind"], r["kind"]) + (f" {r['number']}" if r["number"] else ""),
                    r["reason"],
                )
            ):
                item = QTableWidgetItem(str(value))
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.held.setItem(i, j, item)
        self.assign_button.setEnabled(bool(rows))
        self.resume_button.setEnabled(bool(rows))

    def _held_run(self) -> int | None:
        row = self.held.currentRow() if self.held.currentRow() >= 0 else 0
        item = self.held.item(row, 0)
        return int(item.text()) if item else None

    def assign(self) -> None:
        from scanstation.coversheet.split import assign

        run_id, number = self._held_run(), self.assign_to.text().strip()
        if run_id is None:
            return
        run_task(
            lambda: assign(self.api.capture(), run_id, number, self._profile()),
            lambda result: self._done_assign(result),
            lambda e: presenter().present(e, self),
            pool="device",
            owner=self,
        )

    def _done_assign(self, result) -> None:
        if result.error is not None:
            presenter().present(result.error, self)
        else:
            self.log.addItem(self.tr("{p} held page(s) filed into {n}").format(p=len(result.pages), n=result.number))
        self.refresh_held()

    def resume(self) -> None:
        from scanstation.coversheet.split import resume

        run_id = self._held_run()
        if run_id is None:
            return
        run_task(
            lambda: resume(self.api.capture(), run_id, self._profile(), into=self.into.text().strip() or None),
            self._finished,
            self._failed,
            pool="device",
            owner=self,
        )

    def print_sheets(self, out: str | None = None) -> None:
        from scanstation.coversheet.sheet import print_cover_sheets

        numbers = [n.strip() for n in self.sheet_numbers.toPlainText().splitlines() if n.strip()]
        year = self.sheet_year.value() or None
        if out is None:
            out, _ = QFileDialog.getSaveFileName(self, self.tr("Save cover sheets"), "分隔页.pdf", "PDF (*.pdf)")
            if not out:
                return
        session = self.api.session
        run_task(
            lambda: print_cover_sheets(session, Path(out), numbers, year, None if numbers else "capturable"),
            lambda done: self.log.addItem(self.tr("Cover sheets written to {f}").format(f=done["file"])),
            lambda e: presenter().present(e, self),
            pool="custody",  # a year's sheets take a while: not on the catalog thread
            owner=self,
        )
