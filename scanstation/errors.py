"""One error family for the whole station.

Every error carries a message in both languages that says what happened and what to do next,
and the exit code the command line returns (``ExitCode``, documented in README and
docs/command-line.md; scripts rely on the numbers, so a number never changes meaning). The UI
shows them through one error presenter; the CLI prints them.
"""

from __future__ import annotations

from enum import IntEnum

from scanstation.i18n import is_english


class ExitCode(IntEnum):
    """What ``scanstation`` returns. 2 for usage follows argparse; 70 is sysexits' EX_SOFTWARE."""

    OK = 0
    CHECK_FAILED = 1  # a check or verification ran and found problems (or an operation failed, said in words)
    USAGE = 2  # the command line itself is wrong (unknown option, missing argument)
    DEVICE = 3  # a scanner fault (jam, cover open, no paper, device gone)
    REFUSED = 4  # not allowed: role, state of the dossier or batch, a rule
    NOT_FOUND = 5  # a named dossier, page, batch, user, package or file does not exist
    INVALID_INPUT = 6  # a value from the user, a file or a package is not acceptable
    LOCKED = 7  # the home or the catalog is in use by another running station; try again later
    HOME = 8  # the station home cannot be opened (missing, damaged, written by a newer version)
    STORAGE = 9  # writing or reading the disk failed (full disk, permissions, a path too long)
    PROGRAM = 10  # an external program is missing, timed out or failed (tesseract, clamscan, ...)
    INTERNAL = 70  # an unexpected error (a defect); the traceback is in the station's log file
    INTERRUPTED = 130  # stopped by Ctrl+C (128 + SIGINT); everything stored so far is kept


class ScanStationError(Exception):
    exit_code: ExitCode = ExitCode.CHECK_FAILED

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

    exit_code = ExitCode.INVALID_INPUT


class Refused(ScanStationError):
    """The action is not allowed now (role, state, rule)."""

    exit_code = ExitCode.REFUSED


class Busy(Refused):
    """Another desk or process is working on the same thing right now; trying again later will do."""

    exit_code = ExitCode.LOCKED


class NotFound(ScanStationError):
    """A named object does not exist."""

    exit_code = ExitCode.NOT_FOUND


class CheckFailed(ScanStationError):
    """A verification ran and found problems."""

    exit_code = ExitCode.CHECK_FAILED


class HomeError(ScanStationError):
    """The station home cannot be opened (missing, newer, damaged)."""

    exit_code = ExitCode.HOME


class HomeLocked(HomeError):
    """The home or its catalog is in use by another running station."""

    exit_code = ExitCode.LOCKED


class StorageError(ScanStationError):
    """Writing to disk failed (full disk, permissions); nothing stored before is damaged."""

    exit_code = ExitCode.STORAGE


class UsageError(ScanStationError):
    exit_code = ExitCode.USAGE


class DeviceError(ScanStationError):
    """A scanner fault. Subclasses in scanstation.devices.errors."""

    exit_code = ExitCode.DEVICE


class ProgramError(ScanStationError):
    """An external program is missing, timed out or failed (scanstation.storage.external.run)."""

    exit_code = ExitCode.PROGRAM
