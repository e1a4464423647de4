"""Every exit code of ``scanstation`` produced by a real command (scanstation.errors.ExitCode), and the catch-all."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from scanstation.cli.main import main
from scanstation.errors import ExitCode
from scanstation.resources import resource
from tests.conftest import PASSWORD

ROOT = Path(__file__).resolve().parents[1]
BAG = ROOT / "tests" / "data" / "bagit-conformance" / "v1.0" / "valid" / "basicBag"
N = "X001-ZY·DJ·2024·D100-0001-001"


def run(capsys, *argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # argparse's own exit (usage)
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def station(cli_env, capsys):
    assert run(capsys, "init", "--fonds", "X001", "--station", "S01", "--admin", "admin")[0] == 0
    assert run(capsys, "user", "add", "clerk1", "--role", "clerk", "--user", "admin")[0] == 0
    assert run(capsys, "catalog", "import", resource("sample-catalog.xlsx"), "--user", "clerk1")[0] == 0
    return cli_env


def test_the_codes_are_distinct_and_keep_their_numbers():
    codes = [int(c) for c in ExitCode]
    assert len(codes) == len(set(codes))
    # scripts rely on these numbers (README, docs/command-line.md): a number never changes meaning
    assert (ExitCode.OK, ExitCode.CHECK_FAILED, ExitCode.USAGE, ExitCode.DEVICE) == (0, 1, 2, 3)
    assert (ExitCode.REFUSED, ExitCode.NOT_FOUND, ExitCode.INVALID_INPUT, ExitCode.LOCKED) == (4, 5, 6, 7)
    assert (ExitCode.HOME, ExitCode.STORAGE, ExitCode.PROGRAM, ExitCode.INTERNAL) == (8, 9, 10, 70)
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    guide = (ROOT / "docs" / "command-line.md").read_text(encoding="utf-8")
    for code in ExitCode:
        row = f"| {int(code)} | `{code.name}` |"
        assert row in readme and row in guide, row


def test_ok_refused_not_found_and_invalid_input(station, capsys, tmp_path):
    code, out, _ = run(capsys, "catalog", "show", N, "--user", "clerk1")
    assert code == ExitCode.OK and N in out
    code, _, err = run(capsys, "user", "add", "bob", "--role", "qc", "--user", "clerk1")  # a clerk adds no users
    assert code == ExitCode.REFUSED and "无权" in err and "Traceback" not in err
    code, _, err = run(capsys, "catalog", "show", "X001-ZY·DJ·2024·D100-0099-001", "--user", "clerk1", "--lang", "en")
    assert code == ExitCode.NOT_FOUND and "No dossier" in err
    code, _, err = run(
        capsys, "init", "--fonds", "X 001/..", "--station", "S02", "--admin", "admin", "--home", tmp_path / "other"
    )
    assert code == ExitCode.INVALID_INPUT and "全宗号" in err


def test_usage_and_home(cli_env, capsys, tmp_path):
    code, _, err = run(capsys, "catalog", "list", "--no-such-option")
    assert code == ExitCode.USAGE and "无法识别的参数" in err
    code, _, err = run(capsys, "catalog", "list", "--user", "clerk1", "--home", tmp_path / "elsewhere")
    assert code == ExitCode.HOME and "elsewhere" in err


def test_check_failed_a_tampered_bag(tmp_path, capsys):
    bag = tmp_path / "bag"
    shutil.copytree(BAG, bag)
    assert run(capsys, "bag", "validate", bag)[0] == ExitCode.OK
    payload = next(p for p in sorted((bag / "data").rglob("*")) if p.is_file())
    payload.write_bytes(payload.read_bytes() + b"tampered")
    code, out, err = run(capsys, "bag", "validate", bag)
    assert code == ExitCode.CHECK_FAILED and "Traceback" not in out + err


def test_device_fault_of_the_demo_scanner(station, capsys):
    code, _, err = run(capsys, "--user", "clerk1", "scan", N, "--device", "demo", "--fault-at", "2:jammed")
    assert code == ExitCode.DEVICE and "卡纸" in err


def test_locked_home_held_by_another_process(station, capsys):
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, scanstation.bootstrap; from scanstation.home import Home; h = Home.open(sys.argv[1]); print('held', flush=True); "
            "sys.stdin.read()",
            str(station),
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    try:
        assert holder.stdout.readline().strip() == "held"
        code, _, err = run(capsys, "catalog", "list", "--user", "clerk1")
        assert code == ExitCode.LOCKED and "正被另一个运行中的扫描站使用" in err
    finally:
        holder.stdin.close()
        holder.wait(timeout=30)
    assert run(capsys, "catalog", "list", "--user", "clerk1")[0] == ExitCode.OK  # free again


def test_storage_a_path_the_disk_refuses(station, capsys, tmp_path):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder", encoding="utf-8")
    code, _, err = run(
        capsys, "--user", "clerk1", "coversheet", N, "--out", blocker / "sub" / "sheets.pdf", "--lang", "en"
    )
    assert code == ExitCode.STORAGE and "Traceback" not in err and "a-file" in err, err


def test_program_missing_tesseract_says_which_package(station, capsys, monkeypatch, tmp_path):
    from PIL import Image, ImageDraw

    page = tmp_path / "page.png"
    image = Image.new("L", (2480, 3508), 250)
    ImageDraw.Draw(image).rectangle((300, 300, 2000, 400), fill=20)
    image.save(page, dpi=(300, 300))
    code, _, err = run(capsys, "--user", "clerk1", "import", N, page)
    assert code == ExitCode.OK, err  # the page waits for OCR
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))  # no tesseract on PATH
    monkeypatch.delenv("SCANSTATION_TESSERACT", raising=False)
    code, _, err = run(capsys, "--user", "clerk1", "ocr", "--wait", "--engine", "tesseract")
    assert code == ExitCode.PROGRAM and "tesseract" in err and "apt-get install" in err and "Traceback" not in err


def test_internal_an_unexpected_error_is_logged_and_said_in_one_sentence(station, capsys, monkeypatch):
    import scanstation.cli.cmd_foundation as foundation

    def broken(args, ctx):
        raise ZeroDivisionError("a defect")

    monkeypatch.setattr(foundation, "cmd_catalog_list", broken)
    code, _, err = run(capsys, "catalog", "list", "--user", "clerk1")
    log = Path(station) / "logs" / "scanstation.log"
    assert code == ExitCode.INTERNAL and str(log) in err and len(err.strip().splitlines()) == 1
    assert "Traceback" not in err and "ZeroDivisionError: a defect" in log.read_text(encoding="utf-8")

    def interrupted(args, ctx):
        raise KeyboardInterrupt

    monkeypatch.setattr(foundation, "cmd_catalog_list", interrupted)
    code, _, err = run(capsys, "catalog", "list", "--user", "clerk1")
    assert code == ExitCode.INTERRUPTED and "已中断" in err


def test_a_busy_catalog_is_locked_not_a_defect(station, capsys, monkeypatch):
    import sqlite3

    import scanstation.cli.cmd_foundation as foundation

    def busy(args, ctx):
        raise sqlite3.OperationalError("database is locked")

    monkeypatch.setattr(foundation, "cmd_catalog_list", busy)
    code, _, err = run(capsys, "catalog", "list", "--user", "clerk1")
    assert code == ExitCode.LOCKED and "正忙" in err and not (Path(station) / "logs" / "scanstation.log").exists()


def test_the_exit_code_reaches_the_shell(station, tmp_path):
    """The console entry point returns the same number to the shell (no traceback on stderr)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT), "SCANSTATION_PASSWORD": PASSWORD, "SCANSTATION_HOME": str(station)}
    proc = subprocess.run(
        [sys.executable, "-c", "import sys; from scanstation.cli.main import entry; sys.exit(entry())"]
        + ["catalog", "show", "X001-ZY·DJ·2024·D100-0099-001", "--user", "clerk1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == ExitCode.NOT_FOUND and "Traceback" not in proc.stderr
