"""R40: one masking rule for ID numbers (``scanstation.id_number.mask``, first 4 and last 4 kept by default),
the station setting ``privacy.id_mask_keep`` changes it, and every surface that shows an ID number to someone
who may not see it whole goes through it: search snippets and field hits, the search entry in the audit trail,
the command line's catalog show/list and audit log, the window (dossier panel, search view), the reading room
(web), the CSV catalog export, the audit export (CSV and PDF), OCR page texts, the catalog import's problem
list and a correction's refusal."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from scanstation import id_number, search, settings
from scanstation.catalog_import import read_rows, validate
from scanstation.cli.main import main as cli_main
from scanstation.custody import audit_export, corrections, personal_data, reading_room
from scanstation.errors import InvalidInput
from scanstation.home import now_iso
from scanstation.ocr import actions
from scanstation.ocr.queue import enqueue, store_page_text
from tests.conftest import PASSWORD

NUMBER = "X001-ZY·DJ·2024·D100-0001-001"
ID = "11010519491231002X"
DEFAULT = "1101**********002X"  # 4+4, as the lists have always shown it
NARROW = "110*************2X"  # 3+2, the setting changed
BAD_ID = "110105194912310021"  # wrong check character


def _add(home, remarks: str = "") -> int:
    now = now_iso()
    with home.catalog.write() as conn:
        dossier_id = conn.execute(
            "INSERT INTO dossiers(number, fonds_code, year, retention, title, person_name, person_id_number,"
            " remarks, status, created_at, updated_at) VALUES (?, 'X001', 2024, 'D100', '参保人员登记表', '张三', ?, ?,"
            " 'archived', ?, ?)",
            (NUMBER, ID, remarks, now, now),
        ).lastrowid
        search.index_dossier(conn, dossier_id)
        page_id = conn.execute(
            "INSERT INTO pages(dossier_id, seq, state, file_name, created_at) VALUES (?, 1, 'active', 'p0001.jpg', ?)",
            (dossier_id, now),
        ).lastrowid
        enqueue(conn, page_id)
        store_page_text(conn, page_id, f"参保人员登记表 公民身份号码 {ID} 养老保险", 91.0)
    return dossier_id


@pytest.fixture(params=["default", "3+2"])
def rule(request, home, sessions):
    """Each surface is checked twice: with the default rule, and after an administrator set 3+2."""
    if request.param == "default":
        return DEFAULT
    settings.set_value(sessions["admin"], id_number.MASK_SETTING, "3+2")
    return NARROW


# -- the rule and the setting ------------------------------------------------------------------
def test_r40_one_rule_default_four_and_four():
    assert id_number.mask(ID) == DEFAULT
    assert id_number.mask(ID, "3+2") == NARROW == id_number.mask(ID, id_number.MaskRule(3, 2))
    assert id_number.mask(ID, "0+0") == "*" * 18
    assert id_number.mask("12345", "3+2") == "*****"  # no longer than what is kept: nothing shown
    assert id_number.mask_text(f"身份证 {ID}，银行卡 6222020200112233445", "6+4") == (
        "身份证 110105********002X，银行卡 ***************3445"
    )


@pytest.mark.parametrize("value", ["7+4", "4+5", "44", "4-4", "", "a+b", 8, None])
def test_r40_mask_setting_is_validated(home, sessions, value):
    with pytest.raises(InvalidInput):
        settings.set_value(sessions["admin"], id_number.MASK_SETTING, value)
    assert home.setting(id_number.MASK_SETTING) is None
    assert settings.id_mask_rule(home) == id_number.MaskRule(4, 4)


def test_r40_mask_setting_is_audited_and_read_back(home, sessions):
    settings.set_value(sessions["admin"], id_number.MASK_SETTING, "6+4")
    assert settings.id_mask_rule(home) == id_number.MaskRule(6, 4)
    entry = home.catalog.one("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1")
    assert entry["action"] == "settings.set" and entry["object_id"] == id_number.MASK_SETTING
    assert entry["after"] == "6+4"
    home.set_setting(id_number.MASK_SETTING, "9+9")  # written outside the station: the default, never wider
    assert settings.id_mask_rule(home) == id_number.MaskRule(4, 4)


# -- one test per surface ----------------------------------------------------------------------
def test_r40_search_snippet_and_field_hit(home, sessions, rule):
    _add(home)
    hits = search.search(home.catalog, "公民身份号码")
    (page_hit,) = [h for h in hits if h.field == "text"]
    assert rule in page_hit.snippet and ID not in page_hit.snippet
    field_hits = [h for h in search.search(home.catalog, ID) if h.field == "person_id_number"]
    assert [h.snippet for h in field_hits] == [rule]
    assert any(ID in h.snippet for h in search.search(home.catalog, "公民身份号码", unmasked=True))


def test_r40_search_entry_in_the_audit_trail(home, sessions, rule):
    _add(home)
    search.search_as(sessions["clerk1"], ID)
    entry = home.catalog.one("SELECT * FROM audit_log WHERE action = 'search' ORDER BY id DESC LIMIT 1")
    assert entry["object_id"] == rule


def test_r40_cli_catalog_show_list_and_audit_log(home, sessions, rule, monkeypatch, capsys):
    _add(home)
    sessions["admin"].log("dossier.note", "dossier", NUMBER, {"said": f"证件 {ID}"})
    monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
    base = ["--home", str(home.path), "--user", "clerk1", "--json"]
    capsys.readouterr()
    assert cli_main(base + ["catalog", "show", NUMBER]) == 0
    assert json.loads(capsys.readouterr().out)["person_id_number"] == rule
    assert cli_main(base + ["catalog", "list"]) == 0
    assert [r["person_id_number"] for r in json.loads(capsys.readouterr().out)] == [rule]
    assert cli_main(["--home", str(home.path), "--user", "admin", "--json", "audit", "log"]) == 0
    out = capsys.readouterr().out
    assert f"证件 {rule}" in out and ID not in out


def test_r40_reading_room(home, sessions, rule):
    dossier_id = _add(home, remarks=f"原件身份证 {ID}")
    record = reading_room.dossier(sessions["clerk1"], dossier_id)["dossier"]
    assert record["person_id_number"] == rule and record["remarks"] == f"原件身份证 {rule}"


def test_r40_csv_catalog_export(home, sessions, rule, tmp_path):
    _add(home, remarks=f"原件身份证 {ID}")
    personal_data.export_catalog(sessions["admin"], tmp_path / "catalog.csv")
    text = (tmp_path / "catalog.csv").read_text(encoding="utf-8-sig")
    assert ID not in text and text.count(rule) == 2  # the column and the remark


def test_r40_audit_export_csv_and_pdf(home, sessions, rule, tmp_path):
    sessions["admin"].log("dossier.note", "dossier", NUMBER, {"said": f"证件 {ID}"})
    audit_export.export(sessions["admin"], "csv", tmp_path / "audit.csv")
    text = (tmp_path / "audit.csv").read_text(encoding="utf-8-sig")
    assert rule in text and ID not in text
    audit_export.export(sessions["admin"], "pdf", tmp_path / "audit.pdf")
    assert shutil.which("pdftotext"), "poppler-utils is required for this test"
    shown = subprocess.run(
        ["pdftotext", str(tmp_path / "audit.pdf"), "-"], capture_output=True, text=True, timeout=60, check=True
    ).stdout
    assert rule in shown and ID not in shown


def test_r40_ocr_page_texts(home, sessions, rule):
    _add(home)
    (page,) = actions.page_texts(sessions["clerk1"], NUMBER)["pages"]
    assert rule in page["text"] and ID not in page["text"]


def test_r40_catalog_import_problem_list(home, sessions, rule, tmp_path):
    path = tmp_path / "catalog.csv"
    path.write_text(f"档号,题名,身份证号\n{NUMBER},甲,{BAD_ID}\n", encoding="utf-8")
    checked = validate(read_rows(path), home.catalog)
    (problem,) = [p for p in checked.problems if p.key == "id_number"]
    masked = id_number.mask(BAD_ID, settings.id_mask_rule(home))
    assert masked in problem.en and masked in problem.zh and BAD_ID not in problem.en + problem.zh
    assert masked.startswith(rule[:3]) and masked.count("*") == 18 - len(rule.replace("*", ""))


def test_r40_correction_refused_with_the_number_masked(home, sessions, rule):
    _add(home)
    with pytest.raises(InvalidInput) as caught:
        corrections.correct(sessions["archivist1"], NUMBER, "person_id_number", BAD_ID, "typo on the form")
    message = caught.value.en + caught.value.zh
    assert BAD_ID not in message and id_number.mask(BAD_ID, settings.id_mask_rule(home)) in message


def test_r40_window_dossier_panel_and_search_view(home, sessions, rule):
    """The window's data path (``ui.core_api.CoreApi``, no Qt): the dossier panel and the search view."""
    from scanstation.ui.core_api import CoreApi

    _add(home)
    api = CoreApi(sessions["clerk1"])
    assert api.dossier(NUMBER)["person_id_number"] == rule
    snippets = [h.snippet for h in api.search("公民身份号码")]
    assert any(rule in s for s in snippets) and not any(ID in s for s in snippets)
