"""Language of the station's messages outside Qt (command line, reports, errors).

Core messages are written bilingually where they are raised: ``tr(en, zh, **fields)``.
That keeps each message next to the code that says it, with no catalogue to keep in step.
Chinese is the default; English when ``--lang en``, ``SCANSTATION_LANG=en`` or ``LANG=en_*``.
The Qt user interface uses Qt's own translations (resources/i18n/*.ts).
"""

from __future__ import annotations

import os

SUPPORTED = ("zh_CN", "en")
_current: str | None = None


def _from_environment() -> str:
    explicit = os.environ.get("SCANSTATION_LANG", "")
    if explicit:
        return normalise(explicit)
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "en" if value.lower().startswith("en") else "zh_CN"
    return "zh_CN"


def normalise(code: str) -> str:
    return "en" if code.lower().startswith("en") else "zh_CN"


def set_language(code: str | None) -> None:
    global _current
    _current = normalise(code) if code else None


def language() -> str:
    return _current or _from_environment()


def is_english() -> bool:
    return language() == "en"


def tr(en: str, zh: str, **fields) -> str:
    """Pick the message in the current language and fill ``{placeholders}``."""
    text = en if is_english() else zh
    return text.format(**fields) if fields else text
