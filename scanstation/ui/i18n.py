"""The GUI's language: Qt translators for zh_CN (default) or en.

Source strings in the code are English (``self.tr("...")``); ``resources/i18n/scanstation_zh_CN.ts``
holds the Chinese. Core messages (errors raised below ui/) follow ``scanstation.i18n``, which is
switched together with the Qt translators so that one window never mixes two languages.
"""

from __future__ import annotations

from PySide6.QtCore import QCoreApplication, QLibraryInfo, QLocale, QTranslator

from scanstation import i18n as core_i18n
from scanstation.ui.resources import resource

LANGUAGES = ("zh_CN", "en")
_installed: list[QTranslator] = []


def qm_path(language: str):
    return resource("i18n", f"scanstation_{language}.qm")


def install(language: str | None = None) -> str:
    """Install the translators for ``language`` (default: the core's choice, zh_CN unless English is asked)."""
    app = QCoreApplication.instance()
    language = core_i18n.normalise(language) if language else core_i18n.language()
    core_i18n.set_language(language)
    for old in _installed:
        app.removeTranslator(old)
    _installed.clear()
    ours = QTranslator(app)
    if ours.load(str(qm_path(language))):
        app.installTranslator(ours)
        _installed.append(ours)
    if language != "en":  # Qt's own dialogs and buttons (OK, Cancel, file dialogs)
        qt = QTranslator(app)
        if qt.load(f"qtbase_{language}", QLibraryInfo.path(QLibraryInfo.LibraryPath.TranslationsPath)):
            app.installTranslator(qt)
            _installed.append(qt)
    QLocale.setDefault(QLocale("en_US" if language == "en" else "zh_CN"))
    return language
