"""The layering holds: no new upward import and no new import cycle (tools/import_check.py).

KNOWN lists what the code still does wrong today; it may only shrink. A change that adds to it fails here:
move the shared code down a layer instead.
"""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import import_check  # noqa: E402

#: Shell-to-shell imports allowed: the command line starts the window and the network service.
ALLOWED = {"scanstation.cli.main -> scanstation.ui.app", "scanstation.cli.cmd_web -> scanstation.web.app"}

KNOWN_VIOLATIONS = {
    "scanstation.capture -> scanstation.cli.cmd_foundation",
    "scanstation.demo -> scanstation.cli.cmd_foundation",
    "scanstation.storage.catalog -> scanstation.search",
    "scanstation.storage.file_moves -> scanstation.home",
    "scanstation.ui.core_api -> scanstation.cli.cmd_foundation",
    "scanstation.ui.first_start -> scanstation.cli.cmd_foundation",
}

#: Modules inside today's import cycles; a cycle through any other module is new.
KNOWN_CYCLE_MODULES = {
    "scanstation.devices",
    "scanstation.devices.base",
    "scanstation.devices.demo_backend",
    "scanstation.devices.folder_backend",
    "scanstation.devices.sane_backend",
    "scanstation.devices.sane_worker",
    "scanstation.devices.twain_backend",
    "scanstation.imaging",
    "scanstation.imaging.pipeline",
}


def test_no_new_upward_import():
    violations = set(import_check.layer_violations(import_check.graph())) - ALLOWED
    assert violations - KNOWN_VIOLATIONS == set()


def test_no_new_import_cycle():
    in_cycles = {m for component in import_check.cycles(import_check.graph()) for m in component}
    assert in_cycles - KNOWN_CYCLE_MODULES == set()


def test_checker_finds_a_cycle_and_an_upward_import():
    g = {
        "scanstation.a": {"scanstation.b"},
        "scanstation.b": {"scanstation.a"},
        "scanstation.storage.x": {"scanstation.capture"},
        "scanstation.capture": set(),
        "scanstation.pages": {"PySide6", "scanstation.cli.main"},
        "scanstation.cli.main": set(),
    }
    assert import_check.cycles(g) == [["scanstation.a", "scanstation.b"]]
    assert set(import_check.layer_violations(g)) == {
        "scanstation.storage.x -> scanstation.capture",
        "scanstation.pages -> PySide6",
        "scanstation.pages -> scanstation.cli.main",
    }
