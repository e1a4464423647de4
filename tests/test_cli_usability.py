"""The command line as people type it: global options anywhere, help in the user's language with
examples, plain SANE names, verify's report location and --fixity-only, and bad input (invalid
UTF-8, over-long names, unexpected errors) answered with a plain sentence, never a traceback."""

from __future__ import annotations

import argparse
import gettext
import json
import os
import shlex
import subprocess
import sys
from pathlib import Path

import pytest

from scanstation.cli import main as cli_main
from scanstation.cli.main import build_parser, main
from scanstation.cli.parser import in_language, leaves
from scanstation.devices.base import canonical_device_id
from scanstation.errors import ExitCode
from scanstation.i18n import set_language
from scanstation.resources import resource
from tests.conftest import PASSWORD
from tests.sane_fixture import sane_test_config  # noqa: F401  (fixture)

N = "X001-ZY·DJ·2024·D100-0002-001"  # 5 declared pages in the sample catalog
REPO = Path(__file__).resolve().parent.parent


def run(capsys, *argv):
    try:
        code = main([str(a) for a in argv])
    except SystemExit as exc:  # --help
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def station(cli_env, capsys, monkeypatch):
    """A small home: admin, a clerk, the sample catalog."""
    assert run(capsys, "init", "--fonds", "X001", "--station", "S01", "--admin", "admin")[0] == 0
    assert run(capsys, "user", "add", "clerk1", "--role", "clerk", "--user", "admin")[0] == 0
    assert run(capsys, "catalog", "import", resource("sample-catalog.xlsx"), "--user", "clerk1")[0] == 0
    return cli_env


# -- item 19: global options anywhere ---------------------------------------------------------------
def test_global_options_are_accepted_before_or_after_the_command(station, capsys, tmp_path):
    for argv in (["--json", "catalog", "list"], ["catalog", "--json", "list"], ["catalog", "list", "--json"]):
        code, out, err = run(capsys, *argv, "--user", "clerk1", "--limit", "3")
        assert code == 0, (argv, err)
        assert [r["number"] for r in json.loads(out)][:1] == ["X001-ZY·DJ·2023·D100-0001-001"], argv
    code, out, _ = run(capsys, "catalog", "show", N, "--json", "--user", "clerk1")
    assert code == 0 and json.loads(out)["number"] == N
    # --home after the command is the home used (and wins over SCANSTATION_HOME)
    code, _, err = run(capsys, "catalog", "list", "--user", "clerk1", "--home", tmp_path / "elsewhere")
    assert code == ExitCode.HOME and "elsewhere" in err
    # --lang after the command
    code, _, err = run(capsys, "catalog", "show", "X001-ZY·DJ·2024·D100-0099-001", "--user", "clerk1", "--lang", "en")
    assert code == ExitCode.NOT_FOUND and "No dossier" in err
    # every command takes every global option
    with in_language():
        parser = build_parser()
    for path, p in leaves(parser):
        for flag in ("--home", "--user", "--json", "--lang", "--version"):
            assert flag in p._option_string_actions, (path, flag)


# -- item 20: help in the user's language, on every option, with examples ----------------------------
def test_every_option_has_help_and_every_command_examples_that_parse():
    for lang in ("zh_CN", "en"):
        set_language(lang)
        try:
            with in_language():
                parser = build_parser()
                for path, p in leaves(parser):
                    for action in p._actions:
                        assert action.help and action.help != argparse.SUPPRESS or action.dest == "help", (
                            lang,
                            path,
                            action.dest,
                        )
                    assert p.epilog and ("示例：" if lang == "zh_CN" else "Examples:") in p.epilog, path
                    for line in p.epilog.splitlines()[1:]:
                        argv = shlex.split(line)[1:]  # drop "scanstation"
                        args = parser.parse_args(argv)  # a wrong example exits 2 here
                        assert getattr(args, "run", None) is not None, line
                for line in parser.epilog.splitlines()[1:]:  # the top level's examples (the first starts the window)
                    parser.parse_args(shlex.split(line)[1:])
        finally:
            set_language(None)


def test_argparse_speaks_chinese_in_the_chinese_interface(cli_env, capsys):
    code, out, _ = run(capsys, "catalog", "show", "--help")
    assert code == 0
    assert "用法：" in out and "位置参数：" in out and "\n选项：" in out and "示例：" in out and "全局选项" in out
    for english in ("usage:", "positional arguments", "options:", "show this help message"):
        assert english not in out
    code, _, err = run(capsys, "catalog", "show")
    assert code == 2 and "用法：" in err and "缺少以下必需参数" in err and "required" not in err
    code, _, err = run(capsys, "catalog", "lst")
    assert code == 2 and "无效的选择" in err and "invalid choice" not in err
    code, _, err = run(capsys, "catalog", "list", "--limit", "many")
    assert code == 2 and "应为整数" in err
    code, _, err = run(capsys, "catalog", "list", "--bogus")
    assert code == 2 and "无法识别的参数" in err
    code, out, _ = run(capsys, "--lang", "en", "catalog", "show", "--help")
    assert "usage:" in out and "positional arguments" in out and "Examples:" in out
    # argparse is left as it was found (nothing else in the process speaks Chinese by accident)
    assert argparse._ is gettext.gettext


# -- item 21: the plain SANE name ------------------------------------------------------------------------
def test_plain_sane_device_name_is_accepted(station, capsys, sane_test_config):
    assert canonical_device_id("test:0") == "sane:test:0"
    assert canonical_device_id("sane:test:0") == "sane:test:0"
    assert canonical_device_id("fujitsu:fi-7160:12345") == "sane:fujitsu:fi-7160:12345"
    for kept in ("demo", "twain:Fujitsu fi-7160", "folder:/srv/hot", "nosuch"):
        assert canonical_device_id(kept) == kept
    code, out, err = run(
        capsys,
        "scan",
        N,
        "--device",
        "test:0",
        "--pages",
        "1",
        "--mode",
        "gray",
        "--dpi",
        "200",
        "--user",
        "clerk1",
        "--json",
    )
    assert code == 0, err
    from scanstation.home import Home

    home = Home.open(Path(station))
    try:
        sessions = home.catalog.query("SELECT device FROM capture_sessions")
        assert [s["device"] for s in sessions] == ["sane:test:0"]
        assert home.catalog.one("SELECT count(*) n FROM pages WHERE state = 'active'")["n"] == 1
    finally:
        home.close()


# -- item 22 and issue 15: verify's report location, --fixity-only ---------------------------------------
@pytest.fixture
def package(tmp_path):
    from scanstation.transfer import outbox
    from tests.test_transfer_fixtures import make_world

    world = make_world(tmp_path / "w")
    share = tmp_path / "share"
    share.mkdir()
    path = outbox.send(world.station.s["clerk1"], "X001-2024-001", share)["path"]
    yield world, Path(path)
    world.close()


def test_verify_without_report_writes_under_the_home_or_a_temp_folder_and_says_where(
    package, capsys, tmp_path, monkeypatch
):
    world, path = package
    work = tmp_path / "cwd"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.delenv("SCANSTATION_HOME", raising=False)
    import tempfile

    temp = tmp_path / "tmp"
    temp.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(temp))
    code, out, err = run(capsys, "verify", path, "--trust", world.station_pem, "--home", tmp_path / "no-home", "--json")
    data = json.loads(out)
    assert code == 0 and data["passed"]
    assert list(work.iterdir()) == []  # nothing in the current folder
    folder = Path(data["report_dir"])
    assert folder.is_dir() and all(Path(f).parent == folder and Path(f).is_file() for f in data["report_files"])
    assert folder.parent == temp and folder.name.startswith("scanstation-verify-")
    code, out, _ = run(capsys, "verify", path, "--trust", world.station_pem, "--home", tmp_path / "no-home")
    assert code == 0 and "报告已写入" in out and "scanstation-verify-" in out
    code, out, _ = run(capsys, "--home", world.archive.home.path, "verify", path, "--json")
    data = json.loads(out)
    assert Path(data["report_dir"]) == world.archive.home.path / "reports"
    assert list(work.iterdir()) == []


def test_verify_fixity_only_passes_when_every_fixity_check_passes(package, capsys, tmp_path):
    world, path = package
    code, out, _ = run(capsys, "--home", world.archive.home.path, "verify", path, "--fixity-only")
    assert code == 0, out
    assert "结论：通过（仅固定性检测" in out and "不通过" not in out.splitlines()[-2]
    code, out, _ = run(capsys, "--home", world.archive.home.path, "verify", path, "--fixity-only", "--json")
    data = json.loads(out)
    assert data["passed"] and {c["status"] for c in data["checks"]} <= {"pass", "skipped", "not_available"}
    # a changed image still fails a fixity-only run
    image = next((path / "data").rglob("*.jpg"))
    image.write_bytes(image.read_bytes()[:-1] + b"\x00")
    code, out, _ = run(capsys, "--home", world.archive.home.path, "verify", path, "--fixity-only")
    assert code == 1 and "不通过" in out


# -- issue 12 item 18, command-line half: bad input says so in words --------------------------------------
@pytest.mark.parametrize(
    "argv",
    [
        ["catalog", "show", "\udcff\udcfe"],
        ["page", "note", N, "1", "\udcff说明"],
        ["batch", "send", "X001-2024-001", "--to", "/tmp/\udcc0\udcaf"],
        ["audit", "log", "--filter-user", "\udcff"],
        ["--user", "clerk\udcff", "catalog", "list"],
    ],
)
def test_invalid_utf8_arguments_are_refused_in_words(station, capsys, argv):
    code, out, err = run(capsys, *argv, "--user", "clerk1") if "--user" not in argv else run(capsys, *argv)
    assert code == ExitCode.INVALID_INPUT and "UTF-8" in err and "Traceback" not in err and "\\x" in err
    assert "convmv" in err


def test_invalid_utf8_in_the_station_environment_is_refused_in_words(station, capsys, monkeypatch):
    monkeypatch.setenv("SCANSTATION_USER", "clerk\udcff")
    code, out, err = run(capsys, "catalog", "list")
    assert code == ExitCode.INVALID_INPUT and "SCANSTATION_USER" in err and "UTF-8" in err and "Traceback" not in err


def test_invalid_utf8_from_a_real_shell_gives_no_traceback(station):
    env = dict(os.environ, PYTHONPATH=str(REPO), SCANSTATION_USER="clerk1", SCANSTATION_PASSWORD=PASSWORD)
    for argv in ([b"catalog", b"show", b"\xff\xfe"], [b"audit", b"log", b"--since", b"\xff"]):
        proc = subprocess.run(
            [sys.executable, "-m", "scanstation.cli.main", *argv], env=env, capture_output=True, timeout=60
        )
        err = proc.stderr.decode("utf-8", "replace")
        assert proc.returncode == ExitCode.INVALID_INPUT and "Traceback" not in err and "UTF-8" in err, err


@pytest.mark.parametrize(
    ("argv", "expected"),
    [
        (["verify", "x" * 300], ExitCode.STORAGE),
        (["verify", "/tmp/" + "目" * 200 + ".zip"], ExitCode.STORAGE),
        (["import", N, "y" * 300 + ".tif", "--user", "clerk1"], ExitCode.INVALID_INPUT),
        (["bag", "validate", "z" * 5000], ExitCode.CHECK_FAILED),
        (["catalog", "import", "w" * 300 + ".xlsx", "--user", "clerk1"], ExitCode.INVALID_INPUT),
    ],
)
def test_over_long_file_names_get_a_plain_message(station, capsys, argv, expected):
    code, out, err = run(capsys, *argv)
    text = out + err
    assert code == expected and "Traceback" not in text
    assert any(word in text for word in ("过长", "找不到", "不存在", "无法", "不是文件夹")), text[-300:]


def test_an_unexpected_error_is_logged_with_its_traceback_and_said_in_one_sentence(station, capsys, monkeypatch):
    import scanstation.cli.cmd_foundation as foundation

    def broken(args, ctx):
        raise ZeroDivisionError("a defect")

    monkeypatch.setattr(foundation, "cmd_catalog_list", broken)
    code, out, err = run(capsys, "catalog", "list", "--user", "clerk1")
    log = Path(station) / "logs" / "scanstation.log"
    assert (
        code == ExitCode.INTERNAL and "Traceback" not in err and str(log) in err and len(err.strip().splitlines()) == 1
    )
    text = log.read_text(encoding="utf-8")
    assert "Traceback" in text and "ZeroDivisionError: a defect" in text and "catalog list" in text
    # without a home the log goes to the user's log folder, still named
    monkeypatch.setenv("XDG_STATE_HOME", str(Path(station).parent / "state"))
    monkeypatch.setattr(cli_main, "_check_text", lambda argv: (_ for _ in ()).throw(RuntimeError("early")))
    code, _, err = run(capsys, "--home", Path(station).parent / "none", "catalog", "list")
    assert code == ExitCode.INTERNAL and "scanstation.log" in err and "Traceback" not in err


# -- item 6: "." typed for "·" (keyboard-mode barcode guns) ---------------------------------------------
def test_r13_ascii_full_stops_in_a_dossier_number_are_read_as_middle_dots(station, capsys):
    dotted = N.replace("·", ".")
    code, out, _ = run(capsys, "number", "check", dotted, "--json")
    assert code == 0 and json.loads(out)[0]["normalised"] == N and json.loads(out)[0]["valid"]
    code, out, _ = run(capsys, "catalog", "show", dotted, "--json", "--user", "clerk1")
    assert code == 0 and json.loads(out)["number"] == N
    code, out, err = run(capsys, "import", dotted, resource("sample-catalog.xlsx"), "--user", "clerk1")
    assert (
        code == ExitCode.INVALID_INPUT and N in out and "不是可读取的图像文件" in err
    )  # the dossier was found; the file is refused
    code, out, err = run(capsys, "number", "check", "X001-ZY.DJ.2024.D100.0002-001")
    assert code == 1 and "无效" in out


def test_operating_system_errors_are_said_in_words_and_only_the_unexpected_ones_logged(tmp_path, monkeypatch):
    import errno

    from scanstation import error_log

    set_language("zh_CN")
    try:
        cases = {
            errno.ENAMETOOLONG: "过长",
            errno.ENOENT: "找不到",
            errno.EACCES: "没有权限",
            errno.ENOSPC: "磁盘已满",
            errno.EROFS: "无法使用",
            errno.EIO: "文件操作失败",
        }
        for code, word in cases.items():
            message, unexpected = error_log.describe_os_error(
                OSError(code, os.strerror(code), "/srv/扫描/" + "长" * 300)
            )
            assert word in message and "…" in message and len(message) < 300, message
            assert unexpected == (code == errno.EIO)
        message, _ = error_log.describe_os_error(OSError(errno.ENOENT, "x", b"/srv/\xff\xfe"))
        assert "\\xff\\xfe" in message  # bytes names shown, never a crash
    finally:
        set_language(None)
    # the log goes to the home's logs/; when that cannot be written, to the user's log folder
    home = tmp_path / "home"
    (home).mkdir()
    (home / "station.json").write_text("{}", encoding="utf-8")
    (home / "logs").write_text("not a folder", encoding="utf-8")
    monkeypatch.setenv("XDG_STATE_HOME", str(tmp_path / "state"))
    try:
        raise RuntimeError("boom")
    except RuntimeError as exc:
        path = error_log.write(home, ["catalog", "show", "\udcff"], exc)
    assert path is not None and path.is_relative_to(tmp_path / "state")
    text = path.read_text(encoding="utf-8")
    assert "RuntimeError: boom" in text and "catalog show \\xff" in text
    assert oct(path.stat().st_mode & 0o777) == oct(0o600)


def test_an_integer_past_the_catalogs_range_is_a_usage_error_not_a_crash(station, capsys):
    for argv in (
        ["paper", "handover", "99999999999999999999", "--out", "x.pdf"],
        ["catalog", "list", "--limit", "-99999999999999999999"],
    ):
        code, _, err = run(capsys, *argv, "--user", "admin")
        assert code == 2 and "超出范围" in err and "意外错误" not in err, err
