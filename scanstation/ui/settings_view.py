"""Administration: users and roles, station settings, scan profiles, scanners, the 档号 schema
(read only) and the retention table. Every change goes through the core (role check + audit)."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (QAbstractItemView, QCheckBox, QDoubleSpinBox, QFormLayout, QHBoxLayout, QHeaderView,
                               QLabel, QLineEdit, QPushButton, QSpinBox, QTableWidget, QTableWidgetItem, QTabWidget,
                               QVBoxLayout, QWidget)

from scanstation.i18n import is_english
from scanstation.ui.errors import present, presenter
from scanstation.ui.tasks import run_task
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
        self.table = _table(self, [self.tr("User"), self.tr("Roles"), self.tr("Disabled"), self.tr("Created")],
                            "usersTable")
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
        form.addRow(self.tr("&Name:"), self.name)
        form.addRow(self.tr("Roles:"), roles_row)
        form.addRow(self.tr("Initial &password:"), self.password)
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
        run_task(lambda: self.api.add_user(name, roles, password), done, lambda e: present(e, self.window()),
                 pool="catalog", owner=self)


class StationSettingsTab(QWidget):
    """The declared settings with a number or text value (e.g. the idle lock minutes)."""

    def __init__(self, api, parent=None):
        super().__init__(parent)
        self.api = api
        self.editors: dict[str, QWidget] = {}
        form = QFormLayout(self)
        for setting in api.declared_settings():
            if isinstance(setting.default, bool) or not isinstance(setting.default, (int, float, str)):
                continue
            if isinstance(setting.default, int):
                editor = QSpinBox(self)
                editor.setRange(0, 100000)
            elif isinstance(setting.default, float):
                editor = QDoubleSpinBox(self)
                editor.setRange(0, 100)
                editor.setDecimals(1)
            else:
                editor = QLineEdit(self)
            editor.setObjectName(f"setting_{setting.key}")
            editor.setToolTip(setting.key)
            self.editors[setting.key] = editor
            form.addRow((setting.en if is_english() else setting.zh) + self.tr(":"), editor)
        self.save_button = QPushButton(self.tr("&Save settings"), self)
        self.save_button.setObjectName("saveSettingsButton")
        form.addRow("", self.save_button)
        self.save_button.clicked.connect(self.save)

    def refresh(self) -> None:
        keys = list(self.editors)
        run_task(lambda: {k: self.api.setting(k) for k in keys}, self._show, lambda e: present(e, self.window()),
                 pool="catalog", owner=self)

    def _show(self, values: dict) -> None:
        for key, value in values.items():
            editor = self.editors[key]
            if isinstance(editor, (QSpinBox, QDoubleSpinBox)):
                editor.setValue(value if value is not None else 0)
            else:
                editor.setText("" if value is None else str(value))
        self._loaded = dict(values)

    def save(self) -> None:
        changed = {}
        for key, editor in self.editors.items():
            value = editor.value() if isinstance(editor, (QSpinBox, QDoubleSpinBox)) else editor.text()
            if getattr(self, "_loaded", {}).get(key) != value:
                changed[key] = value

        def write():
            for key, value in changed.items():
                self.api.set_setting(key, value)
            return len(changed)
        run_task(write, lambda n: (presenter().notify(self.tr("{n} setting(s) saved.").format(n=n), self),
                                   self.refresh()),
                 lambda e: present(e, self.window()), pool="catalog", owner=self)


class ProfilesTab(QWidget):
    def __init__(self, api, parent=None):
        super().__init__(parent)
        self.api = api
        self.table = _table(self, [self.tr("Profile"), self.tr("Scanner"), self.tr("Source"), self.tr("Colour"),
                                   self.tr("dpi"), self.tr("Format"), self.tr("Deskew"), self.tr("Crop"),
                                   self.tr("Locked")], "profilesTable")
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
            values = (p.name, p.device, p.source, p.mode, p.dpi, p.format, yes if p.deskew else "",
                      yes if p.crop else "", yes if p.locked else "")
            for j, v in enumerate(values):
                self.table.setItem(i, j, _item(v))


class DevicesTab(QWidget):
    def __init__(self, api, parent=None):
        super().__init__(parent)
        self.api = api
        self.table = _table(self, [self.tr("Scanner id"), self.tr("Kind"), self.tr("Maker"), self.tr("Model"),
                                   self.tr("Serial")], "devicesTable")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.rescan_button = QPushButton(self.tr("&Look for scanners"), self)
        layout = QVBoxLayout(self)
        layout.addWidget(self.table, 1)
        layout.addWidget(self.rescan_button, 0, Qt.AlignmentFlag.AlignLeft)
        self.rescan_button.clicked.connect(self.refresh)

    def refresh(self) -> None:
        self.rescan_button.setEnabled(False)
        refresh = getattr(self, "_shown_once", False)   # the first time, what the scan desk found
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
        self.table = _table(self, [self.tr("Field"), self.tr("Key"), self.tr("Kind"), self.tr("Rule"),
                                   self.tr("Example")], "schemaTable")
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)

    def refresh(self) -> None:
        run_task(self.api.schema, self._show, lambda e: present(e, self.window()), pool="catalog", owner=self)

    def _show(self, schema) -> None:
        en = is_english()
        self.summary.setText(self.tr("Schema {name}: {layout}\nExample: {example}").format(
            name=schema.en if en else (schema.zh or schema.name), layout=schema.layout_en if en else schema.layout_zh,
            example=schema.example))
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
        self.table = _table(self, [self.tr("Business category"), self.tr("Retention code"),
                                   self.tr("Other names (comma separated)"), self.tr("Verified"), self.tr("Note")],
                            "retentionTable")
        self.add_button = QPushButton(self.tr("Add &row"), self)
        self.remove_button = QPushButton(self.tr("&Remove row"), self)
        self.save_button = QPushButton(self.tr("&Save retention table"), self)
        self.save_button.setObjectName("saveRetentionButton")
        buttons = QHBoxLayout()
        for b in (self.add_button, self.remove_button):
            buttons.addWidget(b)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(self.tr("Codes: Y (permanent), D100, D50, D30, D10. Rows not marked verified are "
                                        "proposals to be checked against the agency's own schedule."), self))
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
            rules.append({"category": text(0), "retention": text(1), "en": old.get("en", ""),
                          "aliases": [a.strip() for a in text(2).replace("，", ",").split(",") if a.strip()],
                          "verified": bool(verified_item and verified_item.checkState() == Qt.CheckState.Checked),
                          "note": text(4)})
        return rules

    def save(self) -> None:
        rules = self.rules_from_table()
        run_task(lambda: self.api.save_retention_rules(rules),
                 lambda _r: (presenter().notify(self.tr("The retention table is saved."), self), self.refresh()),
                 lambda e: present(e, self.window()), pool="catalog", owner=self)


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
        self.addTab(self.users, self.tr("&Users and roles"))
        self.addTab(self.station, self.tr("S&tation"))
        self.addTab(self.profiles, self.tr("&Profiles"))
        self.addTab(self.devices, self.tr("Sca&nners"))
        self.addTab(self.schema, self.tr("Dossier number &schema"))
        self.addTab(self.retention, self.tr("&Retention table"))
        self._loaded = False

    def showEvent(self, event) -> None:
        super().showEvent(event)
        if not self._loaded:
            self._loaded = True
            for tab in (self.users, self.station, self.profiles, self.devices, self.schema, self.retention):
                tab.refresh()
