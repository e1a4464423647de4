"""The 档号 field stays armed for a barcode gun whatever has focus on a desk.

A keyboard-mode barcode gun types the number fast and ends with Enter. Whatever widget of the desk
has the keyboard (the page strip after opening or completing a dossier, a scanner box, a button),
a printable key without Ctrl/Alt starts a new number in the desk's 档号 field: the field is cleared,
takes the focus and receives the key; the rest of the burst and the Enter follow it there. Text
inputs keep their keys. The input method is switched off in the field, so an active Chinese input
method cannot swallow the gun's keystrokes.
"""

from __future__ import annotations

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtWidgets import QAbstractSpinBox, QApplication, QComboBox, QLineEdit, QPlainTextEdit, QTextEdit, QWidget

_TEXT_INPUTS = (QLineEdit, QAbstractSpinBox, QTextEdit, QPlainTextEdit)


def plain_number_field(edit: QLineEdit) -> None:
    """No input method (a barcode gun types Latin characters, digits and separators)."""
    edit.setAttribute(Qt.WidgetAttribute.WA_InputMethodEnabled, False)
    edit.setInputMethodHints(
        Qt.InputMethodHint.ImhPreferLatin
        | Qt.InputMethodHint.ImhNoPredictiveText
        | Qt.InputMethodHint.ImhNoAutoUppercase
    )


class BarcodeField(QObject):
    """Routes printable keys typed anywhere in ``area`` (not in a text input) to ``edit``."""

    def __init__(self, edit: QLineEdit, area: QWidget):
        super().__init__(area)
        self.edit = edit
        self.area = area
        plain_number_field(edit)
        QApplication.instance().installEventFilter(self)
        area.destroyed.connect(self._detach)

    def _detach(self, *_args) -> None:
        app = QApplication.instance()
        if app is not None:
            app.removeEventFilter(self)

    def eventFilter(self, watched, event) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(watched, QWidget):
            return False
        edit, area = self.edit, self.area
        if watched is edit or not area.isVisible() or not (watched is area or area.isAncestorOf(watched)):
            return False
        if not edit.isEnabled() or edit.isReadOnly() or not edit.isVisible():
            return False
        if isinstance(watched, _TEXT_INPUTS) or (isinstance(watched, QComboBox) and watched.isEditable()):
            return False
        modifiers = event.modifiers() & ~(Qt.KeyboardModifier.ShiftModifier | Qt.KeyboardModifier.KeypadModifier)
        text = event.text()
        if modifiers or len(text) != 1 or not text.isprintable() or text.isspace():
            return False
        edit.clear()
        edit.setFocus(Qt.FocusReason.OtherFocusReason)
        edit.insert(text)
        return True
