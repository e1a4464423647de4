import json

from scanstation.cli.main import main
from scanstation.errors import ExitCode
from tests.conftest import PASSWORD


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _init(capsys):
    code, out, _ = run(capsys, "init", "--fonds", "X001", "--station", "S01", "--admin", "admin")
    assert code == 0, out


def test_version(capsys):
    try:
        main(["--version"])
    except SystemExit as exc:
        assert exc.code == 0
    assert "ScanStation" in capsys.readouterr().out


def test_init_user_and_role_refused(cli_env, capsys, monkeypatch):
    _init(capsys)
    monkeypatch.setenv("SCANSTATION_USER", "admin")
    code, out, err = run(capsys, "user", "add", "alice", "--role", "clerk")
    assert code == 0
    monkeypatch.setenv("SCANSTATION_USER", "alice")
    code, out, err = run(capsys, "user", "add", "bob", "--role", "qc")
    assert code == ExitCode.REFUSED and "无权" in err
    code, out, err = run(capsys, "--lang", "en", "user", "add", "bob", "--role", "qc")
    assert code == ExitCode.REFUSED and "may not" in err


def test_wrong_password_refused(cli_env, capsys, monkeypatch):
    _init(capsys)
    monkeypatch.setenv("SCANSTATION_USER", "admin")
    monkeypatch.setenv("SCANSTATION_PASSWORD", "not-the-password")
    code, _, err = run(capsys, "user", "list")
    assert code == ExitCode.REFUSED and "密码错误" in err


def test_usage_error_exit_2(cli_env, capsys):
    try:
        code = main(["user", "add"])
    except SystemExit as exc:
        code = exc.code
    assert code == ExitCode.USAGE


def test_init_twice_refused(cli_env, capsys):
    _init(capsys)
    code, _, err = run(capsys, "init", "--fonds", "X001", "--station", "S01", "--admin", "admin")
    assert code == ExitCode.HOME and "已经是" in err


def test_bad_fonds_code(cli_env, capsys):
    code, _, err = run(capsys, "init", "--fonds", "X 001/..", "--station", "S01", "--admin", "admin")
    assert code == ExitCode.INVALID_INPUT and "全宗号" in err


def test_audit_verify_json(cli_env, capsys, monkeypatch):
    _init(capsys)
    monkeypatch.setenv("SCANSTATION_USER", "admin")
    run(capsys, "user", "add", "qc1", "--role", "qc")
    code, out, _ = run(capsys, "--json", "audit", "verify")
    assert code == 0 and json.loads(out)["entries"] == 2
