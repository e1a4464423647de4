"""Custody of the paper at the scanning desk: 调档 check-out/check-in, 拆装订, hand-over list PDF."""

from __future__ import annotations

import json
import subprocess
from datetime import datetime, timedelta

import pytest

from scanstation.cli.main import main
from scanstation.custody import paper
from scanstation.errors import ExitCode, InvalidInput, NotFound, Refused
from tests import coversheet_fixture as F


def test_r36_box_checked_out_unbound_rebound_and_checked_in_all_audited(home, sessions):
    dossiers = F.add_dossiers(home, 12)  # boxes B01 (10 dossiers) and B02 (2)
    clerk = sessions["clerk1"]
    move = paper.check_out(clerk, box="B01", store_person="库管员王芳", due_days=3)
    assert len(move.numbers) == 10
    desk = paper.at_desk(clerk)
    assert {r["number"] for r in desk} == {d["number"] for d in dossiers[:10]}
    assert all(r["binding"] == "bound" and not r["overdue"] for r in desk)
    with pytest.raises(Refused, match="已在扫描台"):
        paper.check_out(clerk, numbers=[dossiers[0]["number"]], store_person="库管员王芳")
    paper.set_binding(clerk, "unbound", box="B01")
    with pytest.raises(Refused, match="尚未还原装订"):
        paper.check_in(clerk, box="B01", store_person="库管员王芳")
    paper.set_binding(clerk, "rebound", box="B01")
    back = paper.check_in(clerk, box="B01", store_person="库管员王芳")
    assert back.kind == "checkin" and not paper.at_desk(clerk)
    actions = [
        r["action"] for r in home.catalog.query("SELECT action FROM audit_log WHERE action LIKE 'paper.%' ORDER BY id")
    ]
    assert actions == ["paper.check_out", "paper.unbound", "paper.rebound", "paper.check_in"]


def test_overdue_paper_is_shown(home, sessions):
    dossiers = F.add_dossiers(home, 2)
    paper.check_out(sessions["clerk1"], numbers=[dossiers[0]["number"]], store_person="王芳", due_days=2)
    later = datetime.now().astimezone() + timedelta(days=3)
    rows = paper.at_desk(sessions["clerk1"], as_of=later)
    assert [(r["number"], r["overdue"]) for r in rows] == [(dossiers[0]["number"], True)]


def test_refusals_roles_and_bad_input(home, sessions):
    dossiers = F.add_dossiers(home, 2)
    with pytest.raises(Refused):
        paper.check_out(sessions["qc1"], numbers=[dossiers[0]["number"]], store_person="王芳")
    with pytest.raises(Refused):
        paper.check_out(sessions["auditor1"], numbers=[dossiers[0]["number"]], store_person="王芳")
    with pytest.raises(NotFound):
        paper.check_out(sessions["clerk1"], numbers=["X001-ZY·DJ·2024·D100-0009-009"], store_person="王芳")
    with pytest.raises(InvalidInput):
        paper.check_out(sessions["clerk1"], numbers=[dossiers[0]["number"]], store_person=" ")
    with pytest.raises(InvalidInput):
        paper.check_out(sessions["clerk1"], numbers=[dossiers[0]["number"]], box="B01", store_person="王芳")
    with pytest.raises(Refused, match="未调至扫描台"):
        paper.set_binding(sessions["clerk1"], "unbound", numbers=[dossiers[0]["number"]])
    with pytest.raises(Refused, match="不在扫描台"):
        paper.check_in(sessions["clerk1"], numbers=[dossiers[0]["number"]], store_person="王芳")
    assert not home.catalog.query("SELECT * FROM paper_moves")
    assert not home.catalog.query("SELECT * FROM audit_log WHERE action LIKE 'paper.%'")


def test_handover_list_pdf_has_both_signatures_and_an_embedded_cjk_font(home, sessions, tmp_path):
    F.add_dossiers(home, 3)
    move = paper.check_out(sessions["clerk1"], box="B01", store_person="库管员王芳")
    out = paper.write_handover(sessions["clerk1"], move.id, tmp_path / "handover.pdf")
    fonts = subprocess.run(["pdffonts", str(out)], capture_output=True, text=True, check=True).stdout.splitlines()[2:]
    assert fonts and all(row.split()[-5] == "yes" for row in fonts)
    text = subprocess.run(["pdftotext", "-layout", str(out), "-"], capture_output=True, text=True, check=True).stdout
    assert "档案调出交接清单" in text and "库管员王芳" in text and "clerk1" in text
    assert "移交人" in text and "接收人" in text and "签字" in text
    assert F.number(0) in text and F.number(2) in text
    subprocess.run(["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(out), str(tmp_path / "look")], check=True)
    assert home.catalog.one("SELECT * FROM audit_log WHERE action = 'paper.handover_print'")


def test_cli_paper_commands(cli_env, tmp_path, capsys):
    assert main(["init", "--fonds", "X001", "--station", "S01", "--admin", "admin"]) == 0
    assert main(["--user", "admin", "user", "add", "clerk1", "--role", "clerk"]) == 0
    from scanstation.home import Home

    home = Home.open(cli_env)
    try:
        F.add_dossiers(home, 2)
    finally:
        home.close()
    capsys.readouterr()
    assert (
        main(["--user", "clerk1", "--json", "paper", "out", "--box", "B01", "--from", "王芳", "--due-days", "2"]) == 0
    )
    move = json.loads(capsys.readouterr().out)
    assert len(move["dossiers"]) == 2
    assert main(["--user", "clerk1", "paper", "handover", str(move["move"]), "--out", str(tmp_path / "h.pdf")]) == 0
    assert (tmp_path / "h.pdf").stat().st_size > 1000
    assert main(["--user", "clerk1", "paper", "unbind", "--box", "B01"]) == 0
    capsys.readouterr()
    assert main(["--user", "clerk1", "paper", "in", "--box", "B01", "--to", "王芳"]) == ExitCode.REFUSED
    assert "尚未还原装订" in capsys.readouterr().err
    assert main(["--user", "clerk1", "paper", "rebind", "--box", "B01"]) == 0
    assert main(["--user", "clerk1", "--json", "paper", "desk"]) == 0
    assert len(json.loads(capsys.readouterr().out.splitlines()[-1])) == 2
    assert main(["--user", "clerk1", "paper", "in", "--box", "B01", "--to", "王芳"]) == 0
