"""The personal-data key as this process holds it: unlocked at login, never written anywhere unwrapped.

Kept apart from scanstation.storage.encryption (the key file, encryption of fields and images) so
that code far below it — the search index, the OCR text store — can ask "is this home protected,
and is its key unlocked?" without importing the whole of it.
"""

from __future__ import annotations

from pathlib import Path
from typing import NoReturn

from scanstation.errors import Refused

KEY_FILE = "personal-data-key.json"
FIELD_PREFIX = "enc1:"

_unlocked: dict[str, object] = {}  # resolved home path -> protection.DataKey


def is_encrypted(value) -> bool:
    return isinstance(value, str) and value.startswith(FIELD_PREFIX)


def is_protected(home_path) -> bool:
    """Personal-data protection is on in this home (its key file exists)."""
    return (Path(home_path) / "keys" / KEY_FILE).exists()


def remember(home, key) -> None:
    """Keep the key for this process (a GUI login); never stored on disk."""
    _unlocked[str(Path(home.path).resolve())] = key


#: called after a key is forgotten, so nothing derived from it stays cached (text_protection registers)
on_forget: list = []


def forget(home) -> None:
    _unlocked.pop(str(Path(home.path).resolve()), None)
    for clear in on_forget:
        clear()


def unlocked_key(home):
    return _unlocked.get(str(Path(home.path).resolve()))


def key_for_home_path(home_path):
    return _unlocked.get(str(Path(home_path).resolve()))


def unlocked_key_for_path(path):
    """The unlocked key of the home a file belongs to, if any."""
    resolved = Path(path).resolve()
    for root, key in list(_unlocked.items()):
        if resolved.is_relative_to(root):
            return key
    return None


def raise_locked() -> NoReturn:
    raise Refused(
        "Personal data is encrypted and not unlocked. Give the protection passphrase "
        "(prompt or SCANSTATION_PROTECT_PASSPHRASE).",
        "个人信息已加密且尚未解锁。请输入保护口令（提示输入或设置 SCANSTATION_PROTECT_PASSPHRASE）。",
    )


__all__ = [
    "FIELD_PREFIX",
    "KEY_FILE",
    "forget",
    "is_encrypted",
    "is_protected",
    "key_for_home_path",
    "raise_locked",
    "remember",
    "unlocked_key",
    "unlocked_key_for_path",
]
