"""docs/rules.md is generated from the rule table and the tests; it must not drift from them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))

import rules_doc  # noqa: E402


def test_rules_doc_is_up_to_date():
    result = subprocess.run(
        [sys.executable, str(ROOT / "tools" / "rules_doc.py"), "--check"], capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr


def test_tests_name_only_rules_that_exist():
    assert rules_doc.unknown_rules() == {}


def test_rule_names_are_read_from_test_names_and_docstrings():
    assert rules_doc.rules_named("test_r16_expiry_first_january", "") == {"R16"}
    assert rules_doc.rules_named("test_receipt", "Checks R25–R26 and R33.") == {"R25", "R26", "R33"}
    assert rules_doc.rules_named("test_rotation_r05", "") == {"R05"}
    assert rules_doc.rules_named("test_error_120", "no rule here") == set()
