"""One error family for the whole station.

Every error carries a message in both languages that says what happened and what to do next,
and the exit code the command line returns (CLI contract: 1 refused/invalid/failed check,
2 usage, 3 device). The UI shows them through one error presenter; the CLI prints them.
"""

from __future__ import annotations

from scanstation.i18n import is_english


class ScanStationError(Exception):
    exit_code = 1

    def __init__(self, en: str, zh: str | None = None, /, **fields):
        self.en = en.format(**fields) if fields else en
        zh = zh if zh is not None else en
        self.zh = zh.format(**fields) if fields else zh
        self.fields = fields
        super().__init__(self.en)

    @property
    def message(self) -> str:
        return self.en if is_english() else self.zh

    def __str__(self) -> str:  # str() follows the user's language
        return self.message


class InvalidInput(ScanStationError):
    """A value from a user, a file or a package is not acceptable."""


class Refused(ScanStationError):
    """The action is not allowed now (role, state, rule)."""


class NotFound(ScanStationError):
    """A named object does not exist."""


class CheckFailed(ScanStationError):
    """A verification ran and found problems."""


class HomeError(ScanStationError):
    """The station home cannot be opened (missing, newer, locked, damaged)."""


class StorageError(ScanStationError):
    """Writing to disk failed (full disk, permissions); nothing stored before is damaged."""


class UsageError(ScanStationError):
    exit_code = 2


class DeviceError(ScanStationError):
    """A scanner fault. Subclasses in scanstation.devices.errors."""

    exit_code = 3
