import csv
import hashlib
import json

import pytest

from scanstation import audit
from scanstation.custody import audit_export, corrections
from scanstation.errors import InvalidInput, Refused
from scanstation.id_number import mask as mask_id_number
from tests.test_custody_fixtures import ID_NUMBER, OTHER_ID, add_dossier, assert_pdf_renders, number_for, pdf_text

BANK = "6222020200112233445"


def _history(home, sessions):
    row = add_dossier(home, number_for(2019, "D30", 1), year=2019, retention="D30", status="transferred")
    corrections.correct(sessions["archivist1"], row["number"], "person_id_number", OTHER_ID, "身份证号录入错误")
    sessions["archivist1"].log("personal.view", "dossier", row["number"], {"bank_account": BANK})
    return row


def _read_csv(path):
    with open(path, encoding="utf-8-sig", newline="") as fh:
        return list(csv.DictReader(fh))


def test_r36_audit_export_masks_protected_fields_for_admin(home, sessions, tmp_path):
    _history(home, sessions)
    out = tmp_path / "admin.csv"
    details = audit_export.export(sessions["admin"], "csv", out)
    text = out.read_text(encoding="utf-8-sig")
    assert ID_NUMBER not in text and OTHER_ID not in text and BANK not in text
    assert mask_id_number(ID_NUMBER) in text and mask_id_number(OTHER_ID) in text and "*" * 15 + BANK[-4:] in text
    assert details["protected_fields"] == "masked"
    rows = _read_csv(out)
    assert [r["action"] for r in rows][-2:] == ["dossier.correct_after_transfer", "personal.view"]


def test_r36_auditor_sees_full_values_and_chain_rechecks(home, sessions, tmp_path):
    _history(home, sessions)
    out = tmp_path / "auditor.csv"
    audit_export.export(sessions["auditor1"], "csv", out)
    text = out.read_text(encoding="utf-8-sig")
    assert ID_NUMBER in text and OTHER_ID in text and BANK in text
    # the exported rows carry the hash chain: an inspector can re-verify them independently
    prev = audit.GENESIS
    for row in _read_csv(out):
        row["id"] = int(row["id"])
        assert row["prev_hash"] == prev and audit.entry_hash(prev, row) == row["hash"]
        prev = row["hash"]


def test_r36_every_export_is_logged(home, sessions, tmp_path):
    _history(home, sessions)
    out = tmp_path / "log.pdf"
    details = audit_export.export(sessions["auditor1"], "pdf", out, since="2000-01-01")
    last = home.catalog.one("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1")
    assert last["action"] == "audit.export" and last["user"] == "auditor1"
    logged = json.loads(last["after"])
    assert logged["sha256"] == hashlib.sha256(out.read_bytes()).hexdigest() == details["sha256"]
    assert logged["format"] == "pdf" and logged["rows"] == details["rows"] > 0
    assert_pdf_renders(out, tmp_path)
    text = pdf_text(out)
    assert "审计日志导出" in text and "完整" in text
    assert audit.verify(home.catalog.conn).ok


def test_audit_export_range_and_roles(home, sessions, tmp_path):
    _history(home, sessions)
    out = tmp_path / "none.csv"
    assert audit_export.export(sessions["auditor1"], "csv", out, since="2000-01-01", until="2000-12-31")["rows"] == 0
    assert len(_read_csv(out)) == 0
    with pytest.raises(Refused):
        audit_export.export(sessions["clerk1"], "csv", tmp_path / "x.csv")
    with pytest.raises(InvalidInput):
        audit_export.export(sessions["auditor1"], "csv", tmp_path / "x.csv", since="yesterday")
    with pytest.raises(InvalidInput):
        audit_export.export(sessions["auditor1"], "xml", tmp_path / "x.xml")
