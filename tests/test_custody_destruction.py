import json
import sqlite3
from datetime import date
from pathlib import Path

import pytest

from scanstation import audit
from scanstation.custody import corrections, destruction, retention_due
from scanstation.errors import InvalidInput, Refused
from scanstation.service import Session
from tests.conftest import add_user
from tests.test_custody_fixtures import add_dossier, assert_pdf_renders, number_for, page_files, pdf_text

OPINION = "保管期限已满，经鉴定小组鉴定无继续保存价值，建议销毁。"


def _data(home):
    due = add_dossier(home, number_for(2010, "D10", 1), year=2010, retention="D10", pages=3)
    add_dossier(home, number_for(2015, "D30", 2), year=2015, retention="D30")
    add_dossier(home, number_for(2001, "Y", 3), year=2001, retention="Y")
    return due


def test_r16_due_list_boundary(home):
    _data(home)
    assert retention_due.due(home.catalog, date(2020, 12, 31)) == []
    on_day = retention_due.due(home.catalog, date(2021, 1, 1))  # 2010 + 1 + 10 → 2021-01-01
    assert [d.number for d in on_day] == [number_for(2010, "D10", 1)]
    assert on_day[0].expiry == "2021-01-01" and on_day[0].pages == 3
    far = retention_due.due(home.catalog, date(2999, 1, 1))
    assert number_for(2001, "Y", 3) not in {d.number for d in far}  # Y never expires
    assert {d.number for d in far} == {number_for(2010, "D10", 1), number_for(2015, "D30", 2)}


def test_r37_full_procedure(home, sessions, tmp_path):
    due = _data(home)
    files = page_files(home, due["number"])
    digests_before = {
        r["file_name"]: (r["sha256"], r["sm3"])
        for r in home.catalog.query("SELECT file_name, sha256, sm3 FROM pages WHERE dossier_id = ?", (due["id"],))
    }
    assert len(files) == 3

    with pytest.raises(Refused):  # an admin cannot propose (archivist's duty)
        destruction.propose(sessions["admin"], date(2024, 6, 1), OPINION)
    proposal = destruction.propose(sessions["archivist1"], date(2024, 6, 1), OPINION)
    assert proposal["dossiers"] == 1 and proposal["pages"] == 3
    proposed_pdf = Path(home.path) / proposal["pdf"]
    assert proposed_pdf.is_file()

    # R37: while in the register the dossier cannot be changed by any path
    with pytest.raises(Refused):
        corrections.correct(sessions["archivist1"], due["number"], "title", "新题名", "题名录入错误")
    with pytest.raises(sqlite3.IntegrityError):
        with home.catalog.write() as conn:
            conn.execute("UPDATE dossiers SET title = 'x' WHERE id = ?", (due["id"],))
    with pytest.raises(Refused):
        destruction.execute(sessions["archivist1"], proposal["id"], "粉碎", date.today())  # not approved yet

    destruction.approve(sessions["admin"], proposal["register_no"])
    first = destruction.execute(sessions["archivist1"], proposal["id"], "删除并覆写", date.today())
    assert first == {"register_no": proposal["register_no"], "confirmations": 1, "executed": False}
    assert all(f.exists() for f in files)  # nothing removed after one supervisor

    with pytest.raises(Refused):  # the same supervisor twice
        destruction.execute(sessions["archivist1"], proposal["id"], "删除并覆写", date.today())
    with pytest.raises(Refused):  # the second record must agree
        destruction.execute(sessions["admin"], proposal["id"], "粉碎", date.today())
    done = destruction.execute(sessions["admin"], proposal["id"], "删除并覆写", date.today())
    assert done["executed"] and done["dossiers"] == 1 and done["files"] == 3

    assert not any(f.exists() for f in files)
    assert not (Path(home.path) / "images" / due["number"]).exists()
    row = home.catalog.one("SELECT * FROM dossiers WHERE id = ?", (due["id"],))
    assert row["status"] == "destroyed" and row["person_id_number"] == "" and row["person_name"] == ""
    stone = destruction.tombstone(home.catalog, due["number"])
    assert stone["register_no"] == proposal["register_no"] and stone["title"] == due["title"]
    assert json.loads(stone["supervisors"]) == ["archivist1", "admin"]
    recorded = {Path(f["file"]).name: (f["sha256"], f["sm3"]) for f in json.loads(stone["digests"])}
    assert recorded == digests_before
    register = destruction.get_register(home.catalog, proposal["id"])
    assert register["state"] == "executed"
    final_pdf = Path(home.path) / register["pdf_path"]
    assert final_pdf.is_file() and proposed_pdf.is_file()  # every stage kept
    assert_pdf_renders(final_pdf, tmp_path)
    text = pdf_text(final_pdf)
    assert "销毁清册" in text and "删除并覆写" in text and "admin" in text
    assert audit.verify(home.catalog.conn).ok
    actions = [r["action"] for r in home.catalog.query("SELECT action FROM audit_log ORDER BY id")]
    assert actions[-2:] == ["destruction.execute", "dossier.destroy"]
    # the other dossiers are untouched
    assert (
        home.catalog.one("SELECT status FROM dossiers WHERE number = ?", (number_for(2015, "D30", 2),))["status"]
        == "archived"
    )


def test_r37_approval_by_proposer_refused(home, sessions):
    _data(home)
    boss = Session(home, add_user(home, "boss", "archivist admin"))
    proposal = destruction.propose(boss, date(2024, 6, 1), OPINION)
    with pytest.raises(Refused) as refused:
        destruction.approve(boss, proposal["id"])
    assert "boss" in refused.value.en
    with pytest.raises(Refused):  # not an admin at all
        destruction.approve(sessions["archivist1"], proposal["id"])
    assert destruction.get_register(home.catalog, proposal["id"])["state"] == "proposed"
    destruction.approve(sessions["admin"], proposal["id"])
    assert destruction.get_register(home.catalog, proposal["id"])["state"] == "approved"


def test_r37_rejected_register_releases_dossiers(home, sessions):
    due = _data(home)
    proposal = destruction.propose(sessions["archivist1"], date(2024, 6, 1), OPINION)
    with pytest.raises(InvalidInput):
        destruction.reject(sessions["admin"], proposal["id"], " ")
    destruction.reject(sessions["admin"], proposal["id"], "需补充鉴定材料")
    corrections.correct(sessions["archivist1"], due["number"], "title", "参保人员登记表（更正）", "题名录入错误")
    with pytest.raises(Refused):
        destruction.execute(sessions["archivist1"], proposal["id"], "粉碎", date.today())
    again = destruction.propose(sessions["archivist1"], date(2024, 6, 1), OPINION)  # may be proposed anew
    assert again["register_no"] != proposal["register_no"]


def test_r37_no_ordinary_deletion_after_qc(home, sessions):
    due = _data(home)
    with pytest.raises(sqlite3.IntegrityError, match="R37"):
        with home.catalog.write() as conn:
            conn.execute("DELETE FROM pages WHERE dossier_id = ?", (due["id"],))
    with pytest.raises(sqlite3.IntegrityError, match="R37"):
        with home.catalog.write() as conn:
            conn.execute("DELETE FROM dossiers WHERE id = ?", (due["id"],))
    draft = add_dossier(home, number_for(2024, "D10", 9), year=2024, status="scanning", pages=1)
    with home.catalog.write() as conn:  # before QC, capture may still delete its own rows
        conn.execute("DELETE FROM pages WHERE dossier_id = ?", (draft["id"],))


def test_r37_tombstone_and_register_are_permanent(home, sessions):
    due = _data(home)
    proposal = destruction.propose(sessions["archivist1"], date(2024, 6, 1), OPINION)
    destruction.approve(sessions["admin"], proposal["id"])
    destruction.execute(sessions["archivist1"], proposal["id"], "粉碎", date.today())
    destruction.execute(sessions["admin"], proposal["id"], "粉碎", date.today())
    for sql in (
        "UPDATE tombstones SET title = 'x'",
        "DELETE FROM tombstones",
        "UPDATE destruction_registers SET opinion = 'x'",
        "DELETE FROM destruction_items",
        f"UPDATE dossiers SET status = 'archived' WHERE id = {due['id']}",
    ):
        with pytest.raises(sqlite3.IntegrityError, match="R37"):
            with home.catalog.write() as conn:
                conn.execute(sql)


def test_propose_needs_opinion_and_due_dossiers(home, sessions):
    _data(home)
    with pytest.raises(InvalidInput):
        destruction.propose(sessions["archivist1"], date(2024, 6, 1), "")
    with pytest.raises(Refused):
        destruction.propose(sessions["archivist1"], date(2019, 6, 1), OPINION)
    with pytest.raises(Refused):  # named dossier not yet due
        destruction.propose(sessions["archivist1"], date(2024, 6, 1), OPINION, [number_for(2015, "D30", 2)])


def test_register_export_renders(home, sessions, tmp_path):
    _data(home)
    proposal = destruction.propose(sessions["archivist1"], date(2024, 6, 1), OPINION)
    out = tmp_path / "register.pdf"
    destruction.export_register_pdf(sessions["archivist1"], proposal["register_no"], out)
    assert_pdf_renders(out, tmp_path)
    assert number_for(2010, "D10", 1).split("-")[0] in pdf_text(out)
    last = home.catalog.one("SELECT action FROM audit_log ORDER BY id DESC LIMIT 1")
    assert last["action"] == "destruction.register_export"
