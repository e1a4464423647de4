import json
import sqlite3

import pytest

from scanstation import audit
from scanstation.custody import corrections, fixity
from scanstation.errors import InvalidInput, Refused
from scanstation.storage.files import file_digests
from tests.test_custody_fixtures import add_dossier, number_for, page_files


def test_r12_wrong_number_after_transfer_renamed_and_old_kept(home, sessions):
    old = number_for(2020, "D30", 1)
    new = number_for(2020, "D30", 7)
    row = add_dossier(home, old, year=2020, retention="D30", status="transferred", pages=3)
    before = {p.name.replace(old, new): file_digests(p) for p in page_files(home, old)}

    result = corrections.correct(sessions["archivist1"], old, "number", new, "档号件号录入错误")
    assert result["after_transfer"] and result["number"] == new

    assert not (home.path / "images" / old).exists()
    after = {p.name: file_digests(p) for p in page_files(home, new)}
    assert after == before  # same bytes under the new names
    names = [
        r["file_name"]
        for r in home.catalog.query("SELECT file_name FROM pages WHERE dossier_id = ? ORDER BY seq", (row["id"],))
    ]
    assert names == [f"{new}-{n:04d}.jpg" for n in (1, 2, 3)]
    assert corrections.resolve(home.catalog, old)["id"] == row["id"]  # old number still finds it
    kept = corrections.history(home.catalog, row["id"])
    assert kept[0]["old_value"] == old and kept[0]["new_value"] == new and kept[0]["after_transfer"] == 1
    entry = home.catalog.one("SELECT * FROM audit_log WHERE action = 'dossier.correct_after_transfer'")
    assert json.loads(entry["before"])["value"] == old and json.loads(entry["after"])["value"] == new
    assert audit.verify(home.catalog.conn).ok
    assert fixity.check(sessions["admin"]).ok  # the catalog points at the renamed files

    with pytest.raises(Refused):  # a former number is never reused
        corrections.correct(sessions["archivist1"], new, "number", old, "改回原档号")
    with pytest.raises(sqlite3.IntegrityError, match="R12"):
        with home.catalog.write() as conn:
            conn.execute("DELETE FROM corrections")


def test_r12_metadata_correction_before_transfer(home, sessions):
    row = add_dossier(home, number_for(2021, "D10", 2), year=2021, status="approved")
    corrections.correct(sessions["admin"], row["number"], "title", "参保单位登记表", "题名错误")
    assert home.catalog.one("SELECT title FROM dossiers WHERE id = ?", (row["id"],))["title"] == "参保单位登记表"
    entry = home.catalog.one("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1")
    assert entry["action"] == "dossier.correct"
    assert json.loads(entry["before"]) == {"field": "title", "value": "参保人员登记表"}


def test_correction_rules(home, sessions):
    row = add_dossier(home, number_for(2021, "D10", 3), year=2021, status="archived")
    other = add_dossier(home, number_for(2021, "D10", 4), year=2021, status="archived")
    with pytest.raises(Refused):  # a clerk may not correct
        corrections.correct(sessions["clerk1"], row["number"], "title", "x", "理由")
    with pytest.raises(Refused):  # 档号 unique (R12)
        corrections.correct(sessions["archivist1"], row["number"], "number", other["number"], "理由")
    with pytest.raises(InvalidInput):
        corrections.correct(sessions["archivist1"], row["number"], "year", "21", "理由")
    with pytest.raises(InvalidInput):
        corrections.correct(sessions["archivist1"], row["number"], "person_id_number", "110105194912310021", "理由")
    with pytest.raises(InvalidInput):
        corrections.correct(sessions["archivist1"], row["number"], "status", "approved", "理由")
    with pytest.raises(InvalidInput):
        corrections.correct(sessions["archivist1"], row["number"], "title", "新题名", "")
    with pytest.raises(InvalidInput):
        corrections.correct(sessions["archivist1"], row["number"], "number", "X001-ZY·DJ·2021", "理由")
    corrections.correct(sessions["archivist1"], row["number"], "retention", "30年", "保管期限错误")
    assert home.catalog.one("SELECT retention FROM dossiers WHERE id = ?", (row["id"],))["retention"] == "D30"
