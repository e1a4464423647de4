"""``scanstation.storage.external``: the one way the station starts a program (real programs: sh, sleep, tesseract)."""

from __future__ import annotations

import logging
import os
import subprocess

import pytest

from scanstation import fonts
from scanstation.errors import ExitCode, ProgramError
from scanstation.storage import external


def test_run_returns_text_output_and_passes_input():
    proc = external.run("sh", ["-c", "cat; echo done >&2"], input="档号\n", timeout=30)
    assert proc.returncode == 0 and proc.stdout == "档号\n" and proc.stderr == "done"


def test_a_missing_program_names_the_debian_package(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("SCANSTATION_TESSERACT", raising=False)
    with pytest.raises(external.ProgramMissing) as caught:
        external.run("tesseract", ["--version"])
    assert caught.value.exit_code == ExitCode.PROGRAM
    assert "apt-get install tesseract-ocr" in caught.value.en and "tesseract" in caught.value.zh
    assert external.which("tesseract") is None


def test_a_time_limit_kills_the_child(tmp_path):
    marker = tmp_path / "still-running"
    with pytest.raises(external.ProgramTimeout) as caught:
        external.run("sh", ["-c", f"sleep 5; touch {marker}"], timeout=0.5)
    assert "0.5" in caught.value.en and isinstance(caught.value, ProgramError)
    subprocess.run(["sleep", "5.5"], check=False)
    assert not marker.exists()  # stopped, not left running behind the station


def test_a_failed_exit_is_a_plain_error_and_its_stderr_is_logged(caplog):
    with caplog.at_level(logging.WARNING, logger="scanstation.storage.external"):
        with pytest.raises(external.ProgramFailed) as caught:
            external.run("sh", ["-c", "echo 'no such page' >&2; exit 3"], timeout=30)
    assert caught.value.returncode == 3 and "no such page" in caught.value.en and "exit 3" in caught.value.en
    assert any("no such page" in r.getMessage() for r in caplog.records)
    # a program whose own exit codes carry meaning (clamscan: 1 = found) says which are answers
    assert external.run("sh", ["-c", "exit 1"], ok_codes=(0, 1), timeout=30).returncode == 1


def test_the_dependency_check_says_found_version_and_fix(monkeypatch, tmp_path):
    dep = external.dependency("tesseract")
    assert dep.found and dep.version.startswith("tesseract ") and dep.path and not dep.fix
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("SCANSTATION_TESSERACT", raising=False)
    gone = external.dependency("tesseract")
    assert not gone.found and gone.fix == "sudo apt-get install tesseract-ocr" and gone.required
    pkg = external.python_package("pytesseract", module="pytesseract")
    assert pkg.found and pkg.version
    missing = external.python_package("no-such-distribution-for-scanstation", required=False)
    assert not missing.found and missing.fix == "pip install no-such-distribution-for-scanstation"


def test_tesseract_override_variable_names_the_program(monkeypatch, tmp_path):
    monkeypatch.setenv("SCANSTATION_TESSERACT", str(tmp_path / "nowhere" / "tesseract"))
    assert external.which("tesseract") is None
    real = subprocess.run(["sh", "-c", "command -v tesseract"], capture_output=True, text=True).stdout.strip()
    monkeypatch.setenv("SCANSTATION_TESSERACT", real)
    assert external.which("tesseract") == real


def test_one_cjk_font_finder_for_pdf_and_images(monkeypatch):
    path = fonts.find_cjk_font()
    assert os.path.isfile(path) and fonts.has_cjk(path)
    assert fonts.register_cjk_font() == fonts.FONT_NAME and fonts.has_cjk(fonts.pdf_font_file())
    from scanstation.custody import pdf
    from scanstation.devices import demo_pages

    # the other rooms use this finder, not their own
    assert pdf.register_cjk_font is fonts.register_cjk_font and demo_pages.find_cjk_font is fonts.find_cjk_font
    found = fonts.report()
    assert any(f["pdf"] and f["cjk"] for f in found)
