"""The custody commands end to end through the real command line (in-process)."""

import csv
import json
from datetime import date

from scanstation.cli.main import main
from scanstation.errors import ExitCode
from scanstation.home import Home
from tests.conftest import add_user
from tests.test_custody_fixtures import ID_NUMBER, add_dossier, assert_pdf_renders, number_for


def run(capsys, monkeypatch, user, *argv):
    monkeypatch.setenv("SCANSTATION_USER", user)
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


def _setup(cli_env, capsys, monkeypatch):
    assert main(["init", "--fonds", "X001", "--station", "S01", "--admin", "admin"]) == 0
    assert run(capsys, monkeypatch, "admin", "user", "add", "archivist1", "--role", "archivist")[0] == 0
    with Home.open(cli_env) as home:
        for name, role in [("admin2", "admin"), ("clerk1", "clerk"), ("auditor1", "auditor")]:
            add_user(home, name, role)  # pre-hashed password: argon2 once per run
        add_dossier(home, number_for(2010, "D10", 1), year=2010, pages=2)
        add_dossier(home, number_for(2023, "D30", 2), year=2023, retention="D30", pages=2)
    capsys.readouterr()


def test_cli_destruction_procedure(cli_env, capsys, monkeypatch, tmp_path):
    _setup(cli_env, capsys, monkeypatch)
    code, out, _ = run(capsys, monkeypatch, "archivist1", "--json", "retention", "due", "--as-of", "2024-06-01")
    assert code == 0 and [d["number"] for d in json.loads(out)] == [number_for(2010, "D10", 1)]
    code, out, _ = run(
        capsys,
        monkeypatch,
        "archivist1",
        "--json",
        "destruction",
        "propose",
        "--as-of",
        "2024-06-01",
        "--opinion",
        "保管期限已满，无继续保存价值",
    )
    assert code == 0
    register = json.loads(out)["register_no"]
    code, _, err = run(capsys, monkeypatch, "admin", "destruction", "approve", register)
    assert code == 0, err
    code, _, err = run(capsys, monkeypatch, "archivist1", "destruction", "approve", register)
    assert code == ExitCode.REFUSED and "无权" in err
    today = date.today().isoformat()
    assert (
        run(capsys, monkeypatch, "archivist1", "destruction", "execute", register, "--method", "删除", "--date", today)[
            0
        ]
        == 0
    )
    code, _, err = run(
        capsys, monkeypatch, "archivist1", "destruction", "execute", register, "--method", "删除", "--date", today
    )
    assert code == ExitCode.REFUSED and "另一位监销人" in err
    code, out, _ = run(
        capsys, monkeypatch, "admin2", "destruction", "execute", register, "--method", "删除", "--date", today
    )
    assert code == 0 and "已执行" in out
    code, out, _ = run(capsys, monkeypatch, "admin", "--json", "destruction", "list")
    assert json.loads(out)[0]["state"] == "executed"
    pdf = tmp_path / "register.pdf"
    assert run(capsys, monkeypatch, "archivist1", "destruction", "register", register, "--out", str(pdf))[0] == 0
    assert_pdf_renders(pdf, tmp_path)
    code, out, _ = run(capsys, monkeypatch, "admin", "--json", "audit", "verify")
    assert code == 0 and json.loads(out)["ok"]


def test_cli_exports_backup_fixity_lend_report(cli_env, capsys, monkeypatch, tmp_path):
    _setup(cli_env, capsys, monkeypatch)
    out_csv = tmp_path / "catalog.csv"
    code, _, err = run(capsys, monkeypatch, "admin", "catalog", "export", "--out", str(out_csv))
    assert code == 0, err
    assert ID_NUMBER not in out_csv.read_text(encoding="utf-8-sig")
    code, _, err = run(capsys, monkeypatch, "admin", "catalog", "export", "--out", str(out_csv), "--unmasked")
    assert code == ExitCode.REFUSED and "personal.unmasked" in err
    code, _, _ = run(capsys, monkeypatch, "archivist1", "catalog", "export", "--out", str(out_csv), "--unmasked")
    with open(out_csv, encoding="utf-8-sig") as fh:
        assert ID_NUMBER in [r["身份证号"] for r in csv.DictReader(fh)]

    audit_csv = tmp_path / "audit.csv"
    assert run(capsys, monkeypatch, "auditor1", "audit", "export", "--format", "csv", "--out", str(audit_csv))[0] == 0
    assert (
        run(capsys, monkeypatch, "clerk1", "audit", "export", "--format", "csv", "--out", str(audit_csv))[0]
        == ExitCode.REFUSED
    )

    code, out, _ = run(capsys, monkeypatch, "admin", "--json", "fixity", "check")
    assert code == 0 and json.loads(out)["checked"] == 4
    victim = next((cli_env / "images" / number_for(2010, "D10", 1)).glob("*.jpg"))
    victim.unlink()
    code, out, _ = run(capsys, monkeypatch, "admin", "fixity", "check")
    assert code == 1 and "缺失" in out

    dest = tmp_path / "usb"
    assert run(capsys, monkeypatch, "admin", "backup", "create", str(dest))[0] == 0
    code, out, _ = run(capsys, monkeypatch, "admin", "backup", "verify", str(dest))
    assert code == 0 and "通过" in out
    code, out, _ = run(capsys, monkeypatch, "admin", "--json", "backup", "status")
    assert json.loads(out)["last_verified_at"] and json.loads(out)["reminder"] is None
    code, out, err = run(capsys, monkeypatch, "admin", "backup", "restore", str(dest), "--to", str(tmp_path / "new"))
    assert code == 0, err
    assert (tmp_path / "new" / "catalog.sqlite").is_file()

    code, out, _ = run(
        capsys,
        monkeypatch,
        "clerk1",
        "--json",
        "lend",
        "request",
        number_for(2023, "D30", 2),
        "--reason",
        "核对",
        "--days",
        "3",
    )
    loan = str(json.loads(out)["id"])
    assert run(capsys, monkeypatch, "clerk1", "lend", "approve", loan)[0] == ExitCode.REFUSED
    assert run(capsys, monkeypatch, "archivist1", "lend", "approve", loan)[0] == 0
    assert run(capsys, monkeypatch, "clerk1", "lend", "export", loan, "--out", str(tmp_path / "lent"))[0] == 0
    assert len(list((tmp_path / "lent").rglob("*.jpg"))) == 2
    assert run(capsys, monkeypatch, "clerk1", "lend", "return", loan)[0] == 0

    code, _, err = run(
        capsys,
        monkeypatch,
        "archivist1",
        "correct",
        number_for(2023, "D30", 2),
        "--field",
        "title",
        "--value",
        "参保单位登记表",
        "--reason",
        "题名错误",
    )
    assert code == 0, err
    report = tmp_path / "lending.pdf"
    assert run(capsys, monkeypatch, "archivist1", "report", "lending", "--out", str(report))[0] == 0
    assert_pdf_renders(report, tmp_path)


def test_cli_protect(cli_env, capsys, monkeypatch, tmp_path):
    _setup(cli_env, capsys, monkeypatch)
    monkeypatch.setenv("SCANSTATION_PROTECT_PASSPHRASE", "a long protection passphrase")
    code, out, err = run(capsys, monkeypatch, "admin", "protect", "enable")
    assert code == 0, err
    code, out, _ = run(capsys, monkeypatch, "admin", "--json", "protect", "status")
    status = json.loads(out)
    assert status["enabled"] and status["encrypted_rows"] == 2 and status["plaintext_rows"] == 0
    out_csv = tmp_path / "c.csv"
    assert run(capsys, monkeypatch, "archivist1", "catalog", "export", "--out", str(out_csv), "--unmasked")[0] == 0
    assert ID_NUMBER in out_csv.read_text(encoding="utf-8-sig")
    monkeypatch.setenv("SCANSTATION_PROTECT_PASSPHRASE", "wrong passphrase here")
    from scanstation.custody import protection

    with Home.open(cli_env) as home:
        protection.forget(home)  # a new command-line process starts locked
    code, _, err = run(capsys, monkeypatch, "archivist1", "catalog", "export", "--out", str(out_csv))
    assert code == ExitCode.REFUSED and "口令错误" in err
