"""The real SANE ``test`` backend in a private configuration, for tests that scan.

Use it explicitly: ``from tests.sane_fixture import sane_test_config`` (the fixture then applies to
that module's tests). It writes ``dll.conf`` (only ``test``) and a ``test.conf`` copied from the
system's, with the geometry opened up so that A4 (210 x 297 mm) is not clamped to the default 200 mm,
and points ``SANE_CONFIG_DIR`` at it (no trailing colon: nothing else is searched) for the whole test
session. Scanner workers are started after this and inherit the variable. Every scan runs in a fresh
worker process, so option state (``read-return-value`` ...) never leaks from one test to the next.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

SYSTEM_TEST_CONF = Path("/etc/sane.d/test.conf")

# Values we set in test.conf; everything else is the system's default.
TEST_CONF_OVERRIDES = {
    "geometry_max": "300.0",
    "br_x": "210.0",
    "br_y": "297.0",
}


def write_sane_test_config(folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "dll.conf").write_text("test\n", encoding="utf-8")
    if SYSTEM_TEST_CONF.exists():
        text = SYSTEM_TEST_CONF.read_text(encoding="utf-8")
    else:  # the backend's defaults are fine for everything we do not override
        text = "number_of_devices 2\n"
    for key, value in TEST_CONF_OVERRIDES.items():
        line = f"{key} {value}"
        text, n = re.subn(rf"(?m)^\s*{re.escape(key)}\s+\S+.*$", line, text)
        if n == 0:
            text += f"\n{line}\n"
    (folder / "test.conf").write_text(text, encoding="utf-8")
    return folder


def sane_available() -> bool:
    try:
        import sane  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="session")
def sane_test_config(tmp_path_factory):
    """Folder of the private SANE configuration; SANE_CONFIG_DIR points at it during the session."""
    if not sane_available():
        pytest.skip("python-sane is not installed (pip install python-sane; needs libsane-dev)")
    folder = write_sane_test_config(tmp_path_factory.mktemp("sane-config"))
    previous = os.environ.get("SANE_CONFIG_DIR")
    os.environ["SANE_CONFIG_DIR"] = str(folder)
    yield folder
    if previous is None:
        os.environ.pop("SANE_CONFIG_DIR", None)
    else:
        os.environ["SANE_CONFIG_DIR"] = previous
