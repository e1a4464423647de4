"""The dossier panel: type or barcode-scan a 档号 (the reader types it and presses Enter), or pick
it from the catalog while typing; shows the catalog fields the clerk checks the paper against."""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, Qt, QTimer, Signal
from PySide6.QtGui import QStandardItem, QStandardItemModel
from PySide6.QtWidgets import (
    QCompleter,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from scanstation.ui.errors import present
from scanstation.ui.tasks import run_task
from scanstation.ui.text import local_time

SUGGEST_DELAY_MS = 200
NumberRole = Qt.ItemDataRole.UserRole + 1  # QStandardItem keeps Edit and Display in one slot


def status_label(status: str) -> str:
    """The words for a dossier's life-cycle state (the states themselves are the core's)."""
    names = {
        "cataloged": QCoreApplication.translate("DossierStatus", "cataloged, not scanned"),
        "scanning": QCoreApplication.translate("DossierStatus", "scanning started, not completed"),
        "completed": QCoreApplication.translate("DossierStatus", "completed, waiting for QC"),
        "qc_rejected": QCoreApplication.translate("DossierStatus", "returned by QC"),
        "approved": QCoreApplication.translate("DossierStatus", "approved by QC"),
        "batched": QCoreApplication.translate("DossierStatus", "in a transfer batch"),
        "sent": QCoreApplication.translate("DossierStatus", "sent, waiting for receipt"),
        "transferred": QCoreApplication.translate("DossierStatus", "transferred"),
        "archived": QCoreApplication.translate("DossierStatus", "archived"),
        "destroyed": QCoreApplication.translate("DossierStatus", "destroyed"),
    }
    return names.get(status, status)


def retention_label(code: str) -> str:
    try:
        from scanstation import retention
        from scanstation.i18n import is_english

        info = retention.code_info(code)
        return f"{code} ({info.en if is_english() else info.zh})"
    except Exception:
        return code or ""


class DossierPanel(QGroupBox):
    """``dossierOpened(dict)`` when a dossier was found; ``dossierCleared()`` when the field is emptied."""

    dossierOpened = Signal(dict)
    dossierCleared = Signal()

    def __init__(self, api, parent: QWidget | None = None):
        super().__init__(parent)
        self.api = api
        self.dossier: dict | None = None
        self._revealed = False
        self.setTitle(self.tr("Dossier"))
        self.number_edit = QLineEdit(self)
        self.number_edit.setObjectName("dossierNumber")
        self.number_edit.setPlaceholderText(self.tr("Type or scan the 档号, then Enter"))
        self.number_edit.setClearButtonEnabled(True)
        self.number_edit.setAccessibleName(self.tr("Dossier number"))
        self.number_edit.setMinimumWidth(320)
        self.open_button = QPushButton(self.tr("&Open"), self)
        self.open_button.setToolTip(self.tr("Open the dossier (Enter)"))

        self._suggest_model = QStandardItemModel(self)
        self.completer = QCompleter(self._suggest_model, self)
        self.completer.setCompletionMode(QCompleter.CompletionMode.UnfilteredPopupCompletion)
        self.completer.setCompletionRole(NumberRole)
        self.completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        self.completer.setMaxVisibleItems(12)
        self.number_edit.setCompleter(self.completer)
        self.completer.activated[str].connect(self._completion_chosen)

        self._suggest_timer = QTimer(self)
        self._suggest_timer.setSingleShot(True)
        self._suggest_timer.setInterval(SUGGEST_DELAY_MS)
        self._suggest_timer.timeout.connect(self._suggest)
        self._suggest_generation = 0
        self.number_edit.textEdited.connect(self._text_edited)
        self.number_edit.returnPressed.connect(self.open_typed)
        self.open_button.clicked.connect(self.open_typed)

        self.values: dict[str, QLabel] = {}
        grid = QGridLayout(self)
        label = QLabel(self.tr("&Dossier number:"), self)
        label.setBuddy(self.number_edit)
        top = QHBoxLayout()
        top.addWidget(label)
        top.addWidget(self.number_edit, 1)
        top.addWidget(self.open_button)
        self.top_row = top
        grid.addLayout(top, 0, 0, 1, 8)
        fields = [
            ("title", self.tr("Title (题名)")),
            ("year", self.tr("Year")),
            ("retention", self.tr("Retention")),
            ("declared_pages", self.tr("Declared pages")),
            ("scanned_pages", self.tr("Scanned")),
            ("person_name", self.tr("Insured person")),
            ("person_id_number", self.tr("ID number")),
            ("status", self.tr("Status")),
        ]
        for i, (key, text) in enumerate(fields):
            r, c = 1 + i // 4, (i % 4) * 2
            caption = QLabel(text + self.tr(":"), self)
            caption.setAlignment(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
            value = QLabel("—", self)
            value.setObjectName(f"dossier_{key}")
            value.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
            value.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Preferred)
            if key == "title":
                value.setWordWrap(True)
            grid.addWidget(caption, r, c)
            if key == "person_id_number":
                box = QHBoxLayout()
                box.addWidget(value, 1)
                self.reveal_button = QPushButton(self.tr("Show"), self)
                self.reveal_button.setToolTip(self.tr("Show the full ID number (the view is logged)"))
                self.reveal_button.setEnabled(False)
                self.reveal_button.clicked.connect(self.reveal_id)
                box.addWidget(self.reveal_button)
                grid.addLayout(box, r, c + 1)
            else:
                grid.addWidget(value, r, c + 1)
            self.values[key] = value
        grid.setColumnStretch(1, 3)
        grid.setColumnStretch(3, 1)
        grid.setColumnStretch(5, 1)
        grid.setColumnStretch(7, 1)

    # -- search as you type ------------------------------------------------------------------
    def _text_edited(self, text: str) -> None:
        if not text.strip():
            self._suggest_timer.stop()
            return
        self._suggest_timer.start()

    def _suggest(self) -> None:
        text = self.number_edit.text().strip()
        if not text:
            return
        self._suggest_generation += 1
        generation = self._suggest_generation
        run_task(
            lambda: self.api.suggestions(text),
            lambda rows: self._show_suggestions(generation, rows),
            lambda _e: None,
            pool="catalog",
            owner=self,
        )

    def _show_suggestions(self, generation: int, rows: list[dict]) -> None:
        if generation != self._suggest_generation or not self.number_edit.hasFocus():
            return
        self._suggest_model.clear()
        for row in rows:
            item = QStandardItem(f"{row['number']}    {row.get('title', '')}")
            item.setData(row["number"], NumberRole)
            self._suggest_model.appendRow(item)
        if rows:
            self.completer.complete()

    def suggestion_count(self) -> int:
        return self._suggest_model.rowCount()

    def _completion_chosen(self, number: str) -> None:
        self.number_edit.setText(number)
        self.open_number(number)

    # -- opening ---------------------------------------------------------------------------
    def open_typed(self) -> None:
        self._suggest_timer.stop()
        self._suggest_generation += 1  # a late suggestion list must not pop up over the opened dossier
        self.completer.popup().hide()
        text = self.number_edit.text().strip()
        if text:
            self.open_number(text)

    def open_number(self, number: str) -> None:
        run_task(lambda: self.api.dossier(number), self._opened, self._failed, pool="catalog", owner=self)

    def refresh(self) -> None:
        if self.dossier:
            self.open_number(self.dossier["number"])

    def _failed(self, error: BaseException) -> None:
        # a failed lookup clears the desk: nothing may be scanned into the dossier shown before
        had = self.dossier is not None
        self.show_dossier(None)
        if had:
            self.dossierCleared.emit()
        present(error, self.window())
        self.number_edit.selectAll()
        self.number_edit.setFocus()

    def _opened(self, dossier: dict) -> None:
        self.show_dossier(dossier)
        self.dossierOpened.emit(dossier)

    def show_dossier(self, dossier: dict | None) -> None:
        self.dossier = dossier
        self._revealed = False
        self.reveal_button.setText(self.tr("Show"))
        if dossier is None:
            for value in self.values.values():
                value.setText("—")
            self.reveal_button.setEnabled(False)
            return
        if self.number_edit.text() != dossier["number"]:
            self.number_edit.setText(dossier["number"])
        shown = {
            "title": dossier.get("title") or "—",
            "year": str(dossier.get("year") or "—"),
            "retention": retention_label(dossier.get("retention", "")),
            "declared_pages": str(dossier["declared_pages"]) if dossier.get("declared_pages") is not None else "—",
            "scanned_pages": str(dossier.get("scanned_pages", 0)),
            "person_name": dossier.get("person_name") or "—",
            "person_id_number": dossier.get("person_id_number") or "—",
            "status": status_label(dossier.get("status", "")),
        }
        for key, text in shown.items():
            self.values[key].setText(text)
            self.values[key].setToolTip("")
        corrected = dossier.get("page_count_correction")
        if corrected:  # the logged correction of 页数 (custody.corrections): the old value and why
            self.values["declared_pages"].setText(
                self.tr("{new} (corrected, was {old})").format(new=shown["declared_pages"], old=corrected["old_value"])
            )
            self.values["declared_pages"].setToolTip(
                self.tr("Corrected by {user} on {when}: {reason}").format(
                    user=corrected["user"], when=local_time(corrected["ts"]), reason=corrected["reason"]
                )
            )
        self.reveal_button.setEnabled(bool(dossier.get("has_person_id")) and self.api.can("personal.unmasked"))

    def set_scanned(self, count: int) -> None:
        if self.dossier is not None:
            self.dossier["scanned_pages"] = count
            self.values["scanned_pages"].setText(str(count))

    def reveal_id(self) -> None:
        if not self.dossier:
            return
        number = self.dossier["number"]
        if self._revealed:  # 隐藏: back to the masked number
            self._revealed = False
            self.values["person_id_number"].setText(self.dossier.get("person_id_number") or "—")
            self.reveal_button.setText(self.tr("Show"))
            return

        def shown(full: str) -> None:
            self.values["person_id_number"].setText(full)
            self._revealed = True
            self.reveal_button.setText(self.tr("Hide"))

        run_task(
            lambda: self.api.reveal_person_id(number),
            shown,
            lambda e: present(e, self.window()),
            pool="catalog",
            owner=self,
        )

    def focus_number(self) -> None:
        self.number_edit.setFocus(Qt.FocusReason.ShortcutFocusReason)
        self.number_edit.selectAll()
