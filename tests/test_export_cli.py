"""The export commands through the real command line (main()), with their exit codes and messages."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from scanstation.cli.main import main
from scanstation.errors import ExitCode
from tests.conftest import PASSWORD
from tests.export_fixtures import add_ocr_dossier, nonblank_lines, pdftotext_pages, stored_text

N1 = "X001-ZY·DJ·2024·D100-0001-001"


@pytest.fixture
def cli_home(home, monkeypatch):
    add_ocr_dossier(home, N1, pages=2)
    texts = stored_text(home, N1)
    path = str(home.path)
    home.close()
    monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
    monkeypatch.setenv("SCANSTATION_LANG", "zh_CN")
    return path, texts


def test_cli_export_pdf_ofd_and_verify(cli_home, tmp_path, capsys):
    path, texts = cli_home
    assert (
        main(
            ["--home", path, "--user", "clerk1", "--json", "export", "pdf", N1, "--pdfa", "--out", str(tmp_path / "c")]
        )
        == 0
    )
    result = json.loads(capsys.readouterr().out)
    pdf = Path(result["files"][0]["file"])
    assert result["pdfa"] and nonblank_lines(pdftotext_pages(pdf)[1]) == nonblank_lines(texts[1])
    assert main(["--home", path, "--user", "clerk1", "export", "ofd", N1, "--out", str(tmp_path / "c")]) == 0
    assert "2 页" in capsys.readouterr().out
    ofd = tmp_path / "c" / f"{N1}.ofd"
    assert main(["--home", path, "export", "verify", str(pdf), str(ofd)]) == 0
    assert capsys.readouterr().out.count("通过") == 2
    assert main(["--home", path, "--lang", "en", "export", "verify", str(pdf), "--pages", "5"]) == 1
    assert "the copy has 2 pages but 页数 is 5" in capsys.readouterr().out
    # the catalog's 页数 is the truth when the home holds the 档号 the copy names
    from scanstation.home import Home

    with Home.open(Path(path)) as home:
        with home.catalog.write() as conn:
            conn.execute("UPDATE dossiers SET declared_pages = 3 WHERE number = ?", (N1,))
    assert main(["--home", path, "--lang", "en", "export", "verify", str(pdf), str(ofd)]) == 1
    out = capsys.readouterr().out
    assert out.count("the copy has 2 pages but 页数 is 3") == 2


def test_cli_export_catalog(cli_home, tmp_path, capsys):
    path, _ = cli_home
    assert (
        main(
            [
                "--home",
                path,
                "--user",
                "archivist1",
                "export",
                "catalog",
                "--year",
                "2024",
                "--format",
                "csv",
                "--out",
                str(tmp_path / "目录.csv"),
                "--images",
                str(tmp_path / "图像"),
            ]
        )
        == 0
    )
    assert "1 个案卷" in capsys.readouterr().out
    assert (tmp_path / "图像" / N1 / f"{N1}-0002.jpg").is_file()
    assert (tmp_path / "目录.csv").read_text("utf-8-sig").splitlines()[0].startswith("档号,全宗号,年度,保管期限,题名")


def test_cli_export_refusals_are_messages_not_tracebacks(cli_home, tmp_path, capsys):
    path, _ = cli_home
    assert (
        main(["--home", path, "--user", "qc1", "export", "pdf", N1, "--out", str(tmp_path / "q")]) == ExitCode.REFUSED
    )
    err = capsys.readouterr().err
    assert "无权" in err and "Traceback" not in err
    assert (
        main(
            [
                "--home",
                path,
                "--user",
                "clerk1",
                "export",
                "pdf",
                "X001-ZY·DJ·2024·D100-0009-009",
                "--out",
                str(tmp_path / "q"),
            ]
        )
        == ExitCode.NOT_FOUND
    )
    assert "目录中没有档号" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exc:
        main(["--home", path, "--user", "clerk1", "export", "pdf", N1])
    assert exc.value.code == 2
    capsys.readouterr()
    (tmp_path / "x.txt").write_text("x")
    assert main(["--home", path, "export", "verify", str(tmp_path / "x.txt")]) == ExitCode.INVALID_INPUT
    assert ".pdf、.ofd 或 .eep" in capsys.readouterr().err
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 nothing")
    assert main(["--home", path, "export", "verify", str(tmp_path / "bad.pdf")]) == ExitCode.INVALID_INPUT
    assert "不是可读取的 PDF" in capsys.readouterr().err
