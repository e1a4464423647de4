"""Administration: users and roles, station settings, scan profiles, scanners, the 档号 schema
(read only) and the retention table. Every change goes through the core (role check + audit)."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from scanstation.i18n import is_english
from scanstation.ui.errors import present, presenter
from scanstation.ui.sizing import fit_dialog
from scanstation.ui.tasks import run_task
from scanstation.ui.text import local_time, plain_message
from scanstation.users import ROLE_NAMES_ZH, ROLES


def _table(parent, headers: list[str], name: str) -> QTableWidget:
    table = QTableWidget(0, len(headers), parent)
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(headers)
    table.verticalHeader().hide()
    table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
    table.horizontalHeader().setStretchLastSection(True)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    return table


def _item(text, editable: bool = False) -> QTableWidgetItem:
    item = QTableWidgetItem("" if text is None else str(text))
    if not editable:
        item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
    return item


class UsersTab(QWidget):
    def __init__(self, api, parent=None):
        super().__init__(parent)
        self.api = api
        self.table = _table(
            self, [self.tr("User"), self.tr("Roles"), self.tr("Disabled"), self.tr("Created")], "usersTable"
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        form = QFormLayout()
        self.name = QLineEdit(self)
        self.name.setObjectName("newUserName")
        self.password = QLineEdit(self)
        self.password.setObjectName("newUserPassword")
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        roles_row = QHBoxLayout()
        self.role_boxes: dict[str, QCheckBox] = {}
        for role in ROLES:
            box = QCheckBox(role if is_english() else f"{ROLE_NAMES_ZH.get(role, role)}", self)
            box.setObjectName(f"role_{role}")
            self.role_boxes[role] = box
            roles_row.addWidget(box)
        self.add_button = QPushButton(self.tr("&Add user"), self)
        self.add_button.setObjectName("addUserButton")
        form.addRow(self.tr("User na&me:"), self.name)  # Alt+N is the Scanners tab
        form.addRow(self.tr("Roles:"), roles_row)
        form.addRow(self.tr("Initial pass&word:"), self.password)
        form.addRow("", self.add_button)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addLayout(form)
        self.add_button.clicked.connect(self.add_user)

    def refresh(self) -> None:
        run_task(self.api.users, self._show, lambda e: present(e, self.window()), pool="catalog", owner=self)

    def _show(self, rows) -> None:
        self.table.setRowCount(len(rows))
        for i, r in enumerate(rows):
            roles = r["roles"].split()
            shown = ", ".join(roles) if is_english() else "、".join(ROLE_NAMES_ZH.get(x, x) for x in roles)
            for j, value in enumerate((r["name"], shown, self.tr("yes") if r["disabled"] else "", r["created_at"])):
                self.table.setItem(i, j, _item(value))

    def add_user(self) -> None:
        roles = tuple(role for role, box in self.role_boxes.items() if box.isChecked())
        name, password = self.name.text().strip(), self.password.text()

        def done(_r):
            self.name.clear()
            self.password.clear()
            for box in self.role_boxes.values():
                box.setChecked(False)
            self.refresh()

        if not roles:
            from scanstation.errors import InvalidInput

            present(InvalidInput("Choose at least one role.", "请至少选择一个角色。"), self.window())
            return
        run_task(
            lambda: self.api.add_user(name, roles, password),
            done,
            lambda e: present(e, self.window()),
            pool="catalog",
            owner=self,
        )


class StationSettingsTab(QWidget):
    """The declared settings with a number or text value (e.g. the idle lock minutes), and the switches
    an administrator may flip here (the demo scanner for training)."""

    SWITCHES = ("capture.demo_scanner",)

    def __init__(self, api, parent=None):
        super().__init__(parent)
        self.api = api
        self.editors: dict[str, QWidget] = {}
        form = QFormLayout(self)
        for setting in api.declared_settings():
            if setting.key in self.SWITCHES:
                editor = QCheckBox(self)
            elif isinstance(setting.default, bool) or not isinstance(setting.default, (int, float, str)):
                continue
            elif isinstance(setting.default, int):
                editor = QSpinBox(self)
                editor.setRange(0, 100000)
            elif isinstance(setting.default, float):
                editor = QDoubleSpinBox(self)
                editor.setRange(0, 100)
                editor.setDecimals(1)
            else:
                editor = QLineEdit(self)
            editor.setObjectName(f"setting_{setting.key}")
            self.editors[setting.key] = editor
            form.addRow(plain_message(setting.en if is_english() else setting.zh) + self.tr(":"), editor)
        self.save_button = QPushButton(self.tr("Save settin&gs"), self)
        self.save_button.setObjectName("saveSettingsButton")
        form.addRow("", self.save_button)
        self.save_button.clicked.connect(self.save)

    def refresh(self) -> None:
        keys = list(self.editors)
        run_task(
            lambda: {k: self.api.setting(k) for k in keys},
            self._show,
            lambda e: present(e, self.window()),
            pool="catalog",
            owner=self,
        )

    def _show(self, values: dict) -> None:
        for key, value in values.items():
            editor = self.editors[key]
            if isinstance(editor, QCheckBox):
                editor.setChecked(bool(value))
            elif isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                editor.setValue(value if value is not None else 0)
            else:
                editor.setText("" if value is None else str(value))
        self._loaded = dict(values)

    def save(self) -> None:
        changed = {}
        for key, editor in self.editors.items():
            value = (
                editor.isChecked()
                if isinstance(editor, QCheckBox)
                else editor.value()
                if isinstance(editor, (QSpinBox, QDoubleSpinBox))
                else editor.text()
            )
            if getattr(self, "_loaded", {}).get(key) != value:
                changed[key] = value

        def write():
            for key, value in changed.items():
                self.api.set_setting(key, value)
            return len(changed)

        run_task(
            write,
            lambda n: (presenter().notify(self.tr("{n} setting(s) saved.").format(n=n), self), self.refresh()),
            lambda e: present(e, self.window()),
            pool="catalog",
            owner=self,
        )


class ProfilesTab(QWidget):
    def __init__(self, api, parent=None):
        super().__init__(parent)
        self.api = api
        self.table = _table(
            self,
            [
                self.tr("Profile"),
                self.tr("Scanner"),
                self.tr("Source"),
                self.tr("Colour"),
                self.tr("dpi"),
                self.tr("Format"),
                self.tr("Deskew"),
                self.tr("Crop"),
                self.tr("Locked"),
            ],
            "profilesTable",
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("Scan profiles (change them with: scanstation profile ...)."), self))
        layout.addWidget(self.table)

    def refresh(self) -> None:
        run_task(self.api.profiles, self._show, lambda e: present(e, self.window()), pool="catalog", owner=self)

    def _show(self, profiles) -> None:
        self.table.setRowCount(len(profiles))
        yes = self.tr("yes")
        for i, p in enumerate(profiles):
            values = (
                p.name,
                p.device,
                p.source,
                p.mode,
                p.dpi,
                p.format,
                yes if p.deskew else "",
                yes if p.crop else "",
                yes if p.locked else "",
            )
            for j, v in enumerate(values):
                self.table.setItem(i, j, _item(v))


class DevicesTab(QWidget):
    def __init__(self, api, parent=None):
        super().__init__(parent)
        self.api = api
        self.table = _table(
            self,
            [self.tr("Scanner id"), self.tr("Kind"), self.tr("Maker"), self.tr("Model"), self.tr("Serial")],
            "devicesTable",
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rescan_button = QPushButton(self.tr("&Look for scanners"), self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.rescan_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.rescan_button.clicked.connect(self.refresh)

    def refresh(self) -> None:
        self.rescan_button.setEnabled(False)
        refresh = getattr(self, "_shown_once", False)  # the first time, what the scan desk found
        self._shown_once = True
        run_task(lambda: self.api.devices(refresh), self._show, self._failed, pool="device", owner=self)

    def _failed(self, error) -> None:
        self.rescan_button.setEnabled(True)
        present(error, self.window())

    def _show(self, devices) -> None:
        self.rescan_button.setEnabled(True)
        self.table.setRowCount(len(devices))
        for i, d in enumerate(devices):
            for j, v in enumerate((d.id, d.backend, d.maker, d.model, d.serial)):
                self.table.setItem(i, j, _item(v))


class SchemaTab(QWidget):
    def __init__(self, api, parent=None):
        super().__init__(parent)
        self.api = api
        self.summary = QLabel(self)
        self.summary.setObjectName("schemaSummary")
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.table = _table(
            self,
            [self.tr("Field"), self.tr("Key"), self.tr("Kind"), self.tr("Rule"), self.tr("Example")],
            "schemaTable",
        )
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)

    def refresh(self) -> None:
        run_task(self.api.schema, self._show, lambda e: present(e, self.window()), pool="catalog", owner=self)

    def _show(self, schema) -> None:
        en = is_english()
        self.summary.setText(
            self.tr("Schema {name}: {layout}\nExample: {example}").format(
                name=schema.en if en else (schema.zh or schema.name),
                layout=schema.layout_en if en else schema.layout_zh,
                example=schema.example,
            )
        )
        fields = schema.fields
        self.table.setRowCount(len(fields))
        for i, f in enumerate(fields):
            rule = (f.rule_en if en else f.rule_zh) or (f.pattern or (f"{f.width}" if f.width else ""))
            for j, v in enumerate((f.en if en else f.zh, f.key, f.kind, rule, f.example)):
                self.table.setItem(i, j, _item(v))


class RetentionTab(QWidget):
    """The retention table by business category (R15); edited here, validated and saved by the core."""

    COLUMNS = ("category", "retention", "aliases", "verified", "note")

    def __init__(self, api, parent=None):
        super().__init__(parent)
        self.api = api
        self.table = _table(
            self,
            [
                self.tr("Business category"),
                self.tr("Retention code"),
                self.tr("Other names (comma separated)"),
                self.tr("Verified"),
                self.tr("Note"),
            ],
            "retentionTable",
        )
        self.add_button = QPushButton(self.tr("&Add row"), self)
        self.remove_button = QPushButton(self.tr("Remove ro&w"), self)
        self.save_button = QPushButton(self.tr("Save retention tab&le"), self)
        self.save_button.setObjectName("saveRetentionButton")
        buttons = QHBoxLayout()
        for b in (self.add_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(
            QLabel(
                self.tr(
                    "Codes: Y (permanent), D100, D50, D30, D10. Rows not marked verified are "
                    "proposals to be checked against the agency's own schedule."
                ),
                self,
            )
        )
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self.add_button.clicked.connect(lambda: self.table.insertRow(self.table.rowCount()))
        self.remove_button.clicked.connect(lambda: self.table.removeRow(self.table.currentRow()))
        self.save_button.clicked.connect(self.save)
        self._rules: list[dict] = []

    def refresh(self) -> None:
        run_task(self.api.retention_rules, self._show, lambda e: present(e, self.window()), pool="catalog", owner=self)

    def _show(self, rules: list[dict]) -> None:
        self._rules = rules
        self.table.setRowCount(len(rules))
        for i, rule in enumerate(rules):
            self.table.setItem(i, 0, _item(rule["category"], True))
            self.table.setItem(i, 1, _item(rule["retention"], True))
            self.table.setItem(i, 2, _item(", ".join(rule.get("aliases", [])), True))
            verified = _item("")
            verified.setFlags(verified.flags() | Qt.ItemFlag.ItemIsUserCheckable)
            verified.setCheckState(Qt.CheckState.Checked if rule.get("verified") else Qt.CheckState.Unchecked)
            self.table.setItem(i, 3, verified)
            self.table.setItem(i, 4, _item(rule.get("note", ""), True))

    def rules_from_table(self) -> list[dict]:
        rules = []
        for i in range(self.table.rowCount()):

            def text(j):
                item = self.table.item(i, j)
                return item.text().strip() if item else ""

            if not text(0) and not text(1):
                continue
            old = self._rules[i] if i < len(self._rules) else {}
            verified_item = self.table.item(i, 3)
            rules.append(
                {
                    "category": text(0),
                    "retention": text(1),
                    "en": old.get("en", ""),
                    "aliases": [a.strip() for a in text(2).replace("，", ",").split(",") if a.strip()],
                    "verified": bool(verified_item and verified_item.checkState() == Qt.CheckState.Checked),
                    "note": text(4),
                }
            )
        return rules

    def save(self) -> None:
        rules = self.rules_from_table()
        run_task(
            lambda: self.api.save_retention_rules(rules),
            lambda _r: (presenter().notify(self.tr("The retention table is saved."), self), self.refresh()),
            lambda e: present(e, self.window()),
            pool="catalog",
            owner=self,
        )


class GenerateKeyDialog(QDialog):
    """A new signing key for this station (admin): its name and the passphrase that seals it.

    ``generated(dict)`` after the core made it (the dialog runs the core call itself, so the seal
    dialog can offer it too)."""

    generated = Signal(dict)

    def __init__(self, parent=None, api=None, default_name: str = ""):
        super().__init__(parent)
        self.api = api
        self.setObjectName("generateKeyDialog")
        self.setWindowTitle(self.tr("Create a signing key"))
        form = QFormLayout(self)
        intro = QLabel(
            self.tr(
                "The station signs its transfer packages with this key. Keep the passphrase safe: "
                "it is asked for every time a batch is sealed. Give the archive room the public key "
                "(Export)."
            ),
            self,
        )
        intro.setWordWrap(True)
        form.addRow(intro)
        self.name = QLineEdit(default_name, self)
        self.name.setObjectName("keyName")
        self.passphrase = QLineEdit(self)
        self.passphrase.setObjectName("newKeyPassphrase")
        self.passphrase.setEchoMode(QLineEdit.EchoMode.Password)
        self.passphrase2 = QLineEdit(self)
        self.passphrase2.setObjectName("newKeyPassphrase2")
        self.passphrase2.setEchoMode(QLineEdit.EchoMode.Password)
        form.addRow(self.tr("Key &name:"), self.name)
        form.addRow(self.tr("&Passphrase:"), self.passphrase)
        form.addRow(self.tr("&Repeat passphrase:"), self.passphrase2)
        self.message = QLabel(self)
        self.message.setObjectName("keyMessage")
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #b91c1c")
        form.addRow(self.message)
        self.buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        self.buttons.button(QDialogButtonBox.StandardButton.Ok).setText(self.tr("Create key"))
        self.buttons.accepted.connect(self.create)
        self.buttons.rejected.connect(self.reject)
        form.addRow(self.buttons)
        (self.passphrase if default_name else self.name).setFocus()
        fit_dialog(self, 520)

    def create(self) -> None:
        name, passphrase = self.name.text().strip(), self.passphrase.text()
        if passphrase != self.passphrase2.text():
            self.message.setText(self.tr("The two passphrases differ."))
            return
        if len(passphrase) < 8:
            self.message.setText(self.tr("Use a passphrase of at least 8 characters."))
            return
        self.buttons.setEnabled(False)
        self.message.setStyleSheet("")
        self.message.setText(self.tr("Creating the key…"))

        def failed(error) -> None:
            self.buttons.setEnabled(True)
            self.message.setStyleSheet("color: #b91c1c")
            self.message.setText(getattr(error, "message", str(error)))

        run_task(lambda: self.api.generate_key(name, passphrase), self._created, failed, pool="catalog", owner=self)

    def _created(self, result: dict) -> None:
        self.result_info = result
        self.generated.emit(result)
        self.accept()


class TrustKeyDialog(QDialog):
    """Trust the other side's public key (a .pem file it gave us), under a name."""

    def __init__(self, parent=None):
        super().__init__(parent)
        self.setObjectName("trustKeyDialog")
        self.setWindowTitle(self.tr("Trust a public key"))
        form = QFormLayout(self)
        intro = QLabel(
            self.tr(
                "Receipts (or packages) signed with this key will be accepted. Check with the other "
                "side that the file is theirs."
            ),
            self,
        )
        intro.setWordWrap(True)
        form.addRow(intro)
        self.name = QLineEdit(self)
        self.name.setObjectName("trustName")
        self.file = QLineEdit(self)
        self.file.setObjectName("trustFile")
        browse = QPushButton(self.tr("&Browse…"), self)
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.file, 1)
        row.addWidget(browse)
        form.addRow(self.tr("Key &name:"), self.name)
        file_label = QLabel(self.tr("Public key &file:"), self)
        file_label.setBuddy(self.file)  # a layout row has no buddy of its own: "&" would show literally
        form.addRow(file_label, row)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        form.addRow(buttons)
        fit_dialog(self, 520)

    def _browse(self) -> None:
        path, _ = QFileDialog.getOpenFileName(
            self, self.tr("Choose the public key"), self.file.text(), self.tr("Public keys (*.pem);;All files (*)")
        )
        if path:
            self.file.setText(path)
            if not self.name.text().strip():
                from pathlib import Path

                self.name.setText(Path(path).stem)


class KeysTab(QWidget):
    """The station's signing keys and the trusted keys of the other side (R30), for administrators."""

    def __init__(self, api, parent=None):
        super().__init__(parent)
        self.api = api
        # dialog hooks (tests answer them; the window uses the real dialogs)
        self.run_dialog = lambda dialog: dialog.exec()
        self.choose_export_file = self._choose_export_file
        self.own = _table(self, [self.tr("Key"), self.tr("Algorithm"), self.tr("Created")], "ownKeysTable")
        self.own.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.trusted = _table(
            self, [self.tr("Trusted key"), self.tr("Algorithm"), self.tr("Added")], "trustedKeysTable"
        )
        self.trusted.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.generate_button = QPushButton(self.tr("&Create key…"), self)
        self.generate_button.setObjectName("generateKeyButton")
        self.export_button = QPushButton(self.tr("E&xport public key…"), self)
        self.export_button.setObjectName("exportKeyButton")
        self.trust_button = QPushButton(self.tr("Trust a publ&ic key…"), self)
        self.trust_button.setObjectName("trustKeyButton")
        self.generate_button.clicked.connect(self.ask_generate)
        self.export_button.clicked.connect(self.ask_export)
        self.trust_button.clicked.connect(self.ask_trust)
        may = api.can("keys.manage")
        for b in (self.generate_button, self.export_button, self.trust_button):
            b.setEnabled(may)
            if not may:
                b.setToolTip(self.tr("Only an administrator manages keys."))
        buttons = QHBoxLayout()
        for b in (self.generate_button, self.export_button, self.trust_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("This station's signing keys:"), self))
        layout.addWidget(self.own, 1)
        layout.addWidget(QLabel(self.tr("Trusted keys of the archive room:"), self))
        layout.addWidget(self.trusted, 1)
        layout.addLayout(buttons)

    def refresh(self) -> None:
        run_task(self.api.signing_keys, self._show, lambda e: present(e, self.window()), pool="catalog", owner=self)

    def _show(self, keys: dict) -> None:
        own = [k for k in keys["signing"] if "error" not in k]
        self.own.setRowCount(len(own))
        for i, k in enumerate(own):
            for j, v in enumerate((k["name"], k["algorithm"], local_time(k.get("created")))):
                item = _item(v)
                item.setToolTip(self.tr("Fingerprint: {f}").format(f=k["fingerprint"]))
                self.own.setItem(i, j, item)
        self.trusted.setRowCount(len(keys["trusted"]))
        for i, k in enumerate(keys["trusted"]):
            for j, v in enumerate((k["name"], k["algorithm"], local_time(k.get("added")))):
                item = _item(v)
                item.setToolTip(self.tr("Fingerprint: {f}").format(f=k["fingerprint"]))
                self.trusted.setItem(i, j, item)
        self.export_button.setEnabled(self.api.can("keys.manage") and bool(own))

    def ask_generate(self) -> None:
        dialog = GenerateKeyDialog(self, self.api, default_name=f"station-{self.api.home.station}")
        dialog.generated.connect(
            lambda r: (
                presenter().notify(
                    self.tr("Key {name} created. Export its public key for the archive room.").format(name=r["name"]),
                    self,
                ),
                self.refresh(),
            )
        )
        self.run_dialog(dialog)

    def _choose_export_file(self, name: str) -> str:
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Export the public key"), f"{name}.pem", self.tr("Public keys (*.pem)")
        )
        return path

    def ask_export(self) -> None:
        row = self.own.currentRow() if self.own.currentRow() >= 0 else 0
        item = self.own.item(row, 0)
        if item is None:
            return
        name = item.text()
        out = self.choose_export_file(name)
        if not out:
            return
        run_task(
            lambda: self.api.export_key(name, out),
            lambda r: presenter().notify(
                self.tr("Public key {name} written to {file}.").format(name=r["name"], file=r["file"]), self
            ),
            lambda e: present(e, self.window()),
            pool="catalog",
            owner=self,
        )

    def ask_trust(self) -> None:
        dialog = TrustKeyDialog(self)
        if self.run_dialog(dialog) != QDialog.DialogCode.Accepted:
            return
        name, path = dialog.name.text().strip(), dialog.file.text().strip()
        run_task(
            lambda: self.api.trust_key(name, path),
            lambda r: (
                presenter().notify(self.tr("Key {name} is trusted now.").format(name=r["name"]), self),
                self.refresh(),
            ),
            lambda e: present(e, self.window()),
            pool="catalog",
            owner=self,
        )


class SettingsView(QTabWidget):
    def __init__(self, api, parent=None):
        super().__init__(parent)
        self.api = api
        self.users = UsersTab(api, self)
        self.station = StationSettingsTab(api, self)
        self.profiles = ProfilesTab(api, self)
        self.devices = DevicesTab(api, self)
        self.schema = SchemaTab(api, self)
        self.retention = RetentionTab(api, self)
        self.keys = KeysTab(api, self)
        self.addTab(self.users, self.tr("&Users and roles"))
        self.addTab(self.station, self.tr("S&tation"))
        self.addTab(self.profiles, self.tr("&Profiles"))
        self.addTab(self.devices, self.tr("Sca&nners"))
        self.addTab(self.schema, self.tr("Dossier num&ber schema"))
        self.addTab(self.retention, self.tr("&Retention table"))
        self.addTab(self.keys, self.tr("Signing &keys"))
        self._loaded = False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._loaded:
            self._loaded = True
            for tab in (self.users, self.station, self.profiles, self.devices, self.schema, self.retention, self.keys):
                tab.refresh()
