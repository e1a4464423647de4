"""Named crash points, for crash tests: the process kills itself (SIGKILL) at a chosen point.

``SCANSTATION_CRASH_AT=NAME`` (or ``NAME@N`` for the N-th time the point is passed) makes the
process die exactly there, the way a power cut or ``kill -9`` would end it: no clean-up, no
``finally``. Tests use it to stop a command at each rename and commit and then try the next step a
clerk would take. Without the variable a crash point costs one dictionary look-up.
"""

from __future__ import annotations

import os
import signal

_SPEC = os.environ.get("SCANSTATION_CRASH_AT", "")
_NAME, _, _NTH = _SPEC.partition("@")
_PASSED: dict[str, int] = {}


def crash_point(name: str) -> None:
    """Die here if SCANSTATION_CRASH_AT names this point (and this is its N-th passage)."""
    if not _NAME or name != _NAME:
        return
    _PASSED[name] = _PASSED.get(name, 0) + 1
    if _PASSED[name] >= int(_NTH or 1):
        os.kill(os.getpid(), signal.SIGKILL)
