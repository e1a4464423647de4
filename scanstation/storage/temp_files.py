"""Temporary files of a station: under the home, owner-only, removed on every path and swept on start.

A temporary file of the station holds what a page shows (an orientation-check PNG, the raw pixels
handed to a worker, a plain copy of a package being sealed or received). In the system temporary
folder such a file is readable by whoever can list it and outlives a crash for ever. So:

- ``temp_dir()`` is ``HOME/tmp`` (0700) once a home is open in the process: ``use_home`` sets
  ``SCANSTATION_TMP``, which worker processes inherit; without a home (a tool used on its own) it is a
  private ``scanstation-UID`` folder in the system temporary folder;
- every user removes its file in a ``finally`` block;
- ``sweep`` runs when a process first opens the home (it then holds the home's lock, so no other
  station process is using these files): it removes what a killed process left — ``HOME/tmp/*``,
  ``outbox/.sealing-*`` (a killed ``batch seal``), ``inbox/.receive-*`` (a killed ``receive`` of a
  zip) — and raw page files in the RAM disk whose process is gone.

The capture spool (``spool/session-N``) is not swept here: its pages are recovered by
``scanstation recover`` (scanstation.capture), which removes each file once its page is committed.
"""

from __future__ import annotations

import os
import re
import shutil
import tempfile
from pathlib import Path

ENV = "SCANSTATION_TMP"
FOLDER = "tmp"
RAW_PAGE_PREFIX = "scanstation-page-"
_RAW_PAGE_RE = re.compile(rf"^{RAW_PAGE_PREFIX}(\d+)-")


def _private_dir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    try:
        os.chmod(path, 0o700)
    except OSError:
        pass
    return path


def use_home(home_path) -> Path:
    """Make ``HOME/tmp`` this process's (and its future workers') temporary folder."""
    folder = _private_dir(Path(home_path) / FOLDER)
    os.environ[ENV] = str(folder)
    return folder


def temp_dir() -> str:
    configured = os.environ.get(ENV)
    if configured:
        return str(_private_dir(Path(configured)))
    uid = os.getuid() if hasattr(os, "getuid") else "user"
    return str(_private_dir(Path(tempfile.gettempdir()) / f"scanstation-{uid}"))


def mkstemp(prefix: str, suffix: str = "") -> tuple[int, str]:
    """``tempfile.mkstemp`` (0600) in the station's temporary folder."""
    return tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=temp_dir())


def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def _remove(path: Path) -> bool:
    try:
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()
        return True
    except FileNotFoundError:
        return False
    except OSError:
        return False


def sweep(home_path, ram_dir: str | None = "/dev/shm") -> list[str]:
    """Remove what killed processes left behind (see the module text); returns what was removed."""
    home = Path(home_path)
    removed: list[str] = []
    candidates = []
    tmp = home / FOLDER
    if tmp.is_dir():
        candidates += list(tmp.iterdir())
    for folder, pattern in (("outbox", ".sealing-*"), ("inbox", ".receive-*")):
        if (home / folder).is_dir():
            candidates += list((home / folder).glob(pattern))
    for path in candidates:
        if _remove(path):
            removed.append(str(path.relative_to(home)))
    if ram_dir and os.path.isdir(ram_dir):
        try:
            entries = list(os.scandir(ram_dir))
        except OSError:
            entries = []
        for entry in entries:
            m = _RAW_PAGE_RE.match(entry.name)
            if m and not _pid_alive(int(m.group(1))):
                try:
                    if entry.stat(follow_symlinks=False).st_uid == os.getuid():
                        os.unlink(entry.path)
                        removed.append(entry.path)
                except OSError:
                    pass
    return removed


__all__ = ["ENV", "FOLDER", "mkstemp", "sweep", "temp_dir", "use_home"]
