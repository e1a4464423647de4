"""R09/R10: a dossier completed "with explanation" (按以上说明完成) is transferable.

Completion, sealing and the archive's four-property check agree on one rule (scanstation.page_count):
an explained page-count difference counts as resolved, for exactly the counts it was given for. The
explanation travels in the package (dossier metadata, 文件目录.xml, register) and verify reports it
as explained. A clerk corrects a wrong 页数 through the logged correction procedure.
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET

import pytest

from scanstation import page_count, pages, qc
from scanstation.cli.main import main
from scanstation.custody import corrections
from scanstation.errors import ExitCode, Refused
from scanstation.home import Home
from scanstation.transfer import batches, keys, outbox, receive, seal, verify
from scanstation.transfer import package_layout as layout
from tests.test_transfer_fixtures import PASSPHRASE, PASSWORD, add_dossier, make_archive, make_station, station_key

SHORT = "X001-ZY·DJ·2024·D100-0003-001"  # 3 images, 4 declared: one page of the original is missing
WHY = "原件第4页缺失，已与业务科室核实"


@pytest.fixture
def station(tmp_path):
    st = make_station(tmp_path / "station", numbers=["X001-ZY·DJ·2024·D100-0001-001"], pages=(2,), notes=(0,))
    add_dossier(st.home, SHORT, 3, status="scanning", declared=4, seed=7)
    yield st
    st.close()


def _complete_explained(station):
    clerk = station.s["clerk1"]
    first = pages.complete(clerk, SHORT)
    assert not first.completed and first.missing == 1
    done = pages.complete(clerk, SHORT, {"missing": WHY})
    assert done.completed and done.explained
    qc.approve(station.s["qc1"], SHORT)


def test_r09_r10_explained_difference_is_sealed_verified_as_explained_and_received(
    station, tmp_path, capsys, monkeypatch
):
    _complete_explained(station)
    row = station.home.catalog.one("SELECT * FROM dossiers WHERE number = ?", (SHORT,))
    e = page_count.of_dossier(row)
    assert (e.declared, e.images, e.not_scanned, e.missing, e.text, e.by) == (4, 3, 0, 1, WHY, "clerk1")

    # sealing accepts it (it refused the whole batch before)
    pem = station_key(station, tmp_path)
    batch = batches.create(station.s["clerk1"], 2024)
    sealed = seal.seal(station.s["clerk1"], batch["batch_id"], "station", PASSPHRASE)
    pkg = tmp_path / "share"
    pkg.mkdir()
    sent = outbox.send(station.s["clerk1"], batch["batch_id"], pkg)["path"]
    root = pkg / batch["batch_id"]
    assert sealed["dossiers"] == 2

    # the explanation travels: dossier metadata (with its counts), 文件目录.xml, the register
    folder = root / layout.dossier_dir(2024, "ZY·DJ", SHORT)
    meta = layout.read_dossier_xml((folder / layout.metadata_name(SHORT)).read_bytes(), SHORT)
    assert meta.count_explanation == {
        "text": WHY,
        "declared": 4,
        "images": 3,
        "not_scanned": 0,
        "by": "clerk1",
        "at": e.at,
    }
    _, entries = layout.read_catalog_xml((root / layout.CATALOG_XML).read_bytes())
    assert {x.fields["number"]: x.fields["count_explanation"] for x in entries} == {
        "X001-ZY·DJ·2024·D100-0001-001": "",
        SHORT: WHY,
    }
    reg = ET.fromstring((root / layout.REGISTER_XML).read_bytes())
    item = reg.find("页数说明/案卷")
    assert item.get("档号") == SHORT and item.get("登记页数") == "4" and item.get("图像数") == "3" and item.text == WHY
    assert "差异已说明" in reg.find("检测/完整性").text

    # the archive's check reports it as explained, not as missing, and passes
    trust = keys.trust_from_files([pem])
    report = verify.verify_package(root, trust=trust)
    assert report.passed, [x.to_dict() for x in report.failures]
    explained = [x for x in report.lines if x.status == "explained"]
    assert [(x.check, x.dossier) for x in explained] == [("declared_pages", SHORT)]
    assert WHY in explained[0].zh and "少 1 页" in explained[0].zh
    assert report.to_dict()["properties"]["integrity"] == "pass"
    text = "\n".join(report.text_lines())
    assert "[已说明]" in text and "缺" not in explained[0].zh.split("：")[0]

    # the command line says so too
    monkeypatch.delenv("SCANSTATION_HOME", raising=False)
    code = main(["verify", str(sent), "--trust", str(pem), "--home", str(tmp_path / "none")])
    out = capsys.readouterr().out
    assert code == 0 and "已说明" in out and WHY in out

    # the archive keeps it with the dossier
    archive = make_archive(tmp_path / "archive")
    try:
        keys.trust(archive.s["admin"], "S01", pem)
        station_key(archive, tmp_path, name="archive")
        result = receive.receive(archive.s["archivist1"], sent, decision="accept", passphrase=PASSPHRASE)
        assert result["decision"] == "accepted" and result["checks_passed"]
        kept = page_count.of_dossier(archive.home.catalog.one("SELECT * FROM dossiers WHERE number = ?", (SHORT,)))
        assert (kept.declared, kept.images, kept.text) == (4, 3, WHY)
    finally:
        archive.close()


def test_r09_an_explanation_stands_only_for_the_counts_it_was_given_for(station, tmp_path):
    _complete_explained(station)
    assert (
        page_count.status(
            4,
            3,
            0,
            page_count.of_dossier(station.home.catalog.one("SELECT * FROM dossiers WHERE number = ?", (SHORT,))),
        )
        == page_count.EXPLAINED
    )
    # the 页数 is changed afterwards (an archivist's correction): the old explanation no longer covers it
    corrections.correct(station.s["admin"], SHORT, "declared_pages", "5", "登记有误")
    station_key(station, tmp_path)
    batch = batches.create(station.s["clerk1"], 2024)
    with pytest.raises(Refused) as err:
        seal.seal(station.s["clerk1"], batch["batch_id"], "station", PASSPHRASE)
    assert SHORT in err.value.zh and "差异未说明" in err.value.zh and "R09/R10" in err.value.zh
    assert batches.get(station.home.catalog, batch["batch_id"])["state"] == "draft"
    # the rule itself
    e = page_count.Explanation(4, 3, 0, WHY)
    assert page_count.status(4, 3, 0, e) == page_count.EXPLAINED
    assert page_count.status(4, 2, 0, e) == page_count.UNRESOLVED
    assert page_count.status(4, 3, 1, e) == page_count.MATCHES
    assert page_count.status(4, 3, 0, page_count.Explanation(4, 3, 0, "  ".strip())) == page_count.UNRESOLVED
    assert page_count.status(None, 3, 0, e) == page_count.UNDECLARED


def test_r09_refused_completion_writes_nothing_not_even_page_explanations(station):
    clerk = station.s["clerk1"]
    before = station.home.catalog.one("SELECT count(*) n FROM audit_log")["n"]
    report = pages.complete(clerk, SHORT, {"page:1": "保留"})  # the missing page is not explained
    assert not report.completed
    assert station.home.catalog.one("SELECT count(*) n FROM audit_log")["n"] == before
    assert station.home.catalog.one("SELECT note FROM pages WHERE file_name = ?", (f"{SHORT}-0001.jpg",))["note"] in (
        "",
        None,
    )
    with pytest.raises(Exception):
        pages.complete(clerk, SHORT, {"page:9": "no such page", "missing": WHY})
    with pytest.raises(Exception):
        pages.complete(clerk, SHORT, {"mising": WHY})  # a misspelt key is refused, not ignored
    assert station.home.catalog.one("SELECT count(*) n FROM audit_log")["n"] == before
    assert station.home.catalog.one("SELECT status FROM dossiers WHERE number = ?", (SHORT,))["status"] == "scanning"


def test_r09_clerk_corrects_the_page_count_through_the_logged_correction(station, capsys, monkeypatch):
    monkeypatch.setenv("SCANSTATION_HOME", str(station.home.path))
    monkeypatch.setenv("SCANSTATION_PASSWORD", PASSWORD)
    station.home.close()
    code = main(
        [
            "correct",
            SHORT,
            "--field",
            "declared_pages",
            "--value",
            "3",
            "--reason",
            "原件实为3页，目录登记有误",
            "--user",
            "clerk1",
        ]
    )
    out, err = capsys.readouterr()
    assert code == 0, err
    home = Home.open(station.home.path)
    station.home = home
    try:
        row = home.catalog.one("SELECT * FROM dossiers WHERE number = ?", (SHORT,))
        assert row["declared_pages"] == 3
        fix = home.catalog.one("SELECT * FROM corrections WHERE dossier_id = ?", (row["id"],))
        assert (fix["field"], fix["old_value"], fix["new_value"], fix["user"]) == ("declared_pages", "4", "3", "clerk1")
        entry = home.catalog.one("SELECT * FROM audit_log WHERE action = 'dossier.correct' ORDER BY id DESC")
        assert entry["user"] == "clerk1" and json.loads(entry["before"])["value"] == 4
    finally:
        home.close()
    # now the dossier completes without any explanation
    code = main(["dossier", "complete", SHORT, "--user", "clerk1", "--json"])
    out, err = capsys.readouterr()
    assert code == 0 and json.loads(out)["completed"] and not json.loads(out)["explained"]
    # a clerk may not correct other fields, nor the 页数 once the dossier is completed
    code = main(["correct", SHORT, "--field", "title", "--value", "新题名", "--reason", "错字", "--user", "clerk1"])
    assert code == ExitCode.REFUSED and "无权" in capsys.readouterr().err
    code = main(["correct", SHORT, "--field", "declared_pages", "--value", "4", "--reason", "再改", "--user", "clerk1"])
    err = capsys.readouterr().err
    assert code == ExitCode.REFUSED and "扫描阶段" in err


def test_r09_migration_recovers_explanations_of_dossiers_completed_before_it(station):
    _complete_explained(station)
    path = station.home.path
    with station.home.catalog.write() as conn:  # the catalog as it was before migration 90
        conn.execute("ALTER TABLE dossiers DROP COLUMN count_explanation")
        conn.execute("DELETE FROM migrations WHERE number = 90")
    station.home.close()
    home = Home.open(path)
    station.home = home
    row = home.catalog.one("SELECT * FROM dossiers WHERE number = ?", (SHORT,))
    e = page_count.of_dossier(row)
    assert e is not None and (e.declared, e.images, e.not_scanned, e.text, e.by) == (4, 3, 0, WHY, "clerk1")
    other = home.catalog.one("SELECT count_explanation FROM dossiers WHERE number = 'X001-ZY·DJ·2024·D100-0001-001'")
    assert other["count_explanation"] == ""


def test_r09_r10_the_archive_check_applies_the_same_rule_to_what_the_package_says():
    from types import SimpleNamespace

    said = {"text": WHY, "declared": 4, "images": 3, "not_scanned": 0, "by": "clerk1", "at": ""}

    def check(meta_said, listed, images=3, notes=0):
        lines = verify._Lines()
        meta = SimpleNamespace(count_explanation=meta_said, notes=[{}] * notes)
        verify._declared_pages(lines, "data/x", SHORT, 4, images, meta, {"count_explanation": listed})
        return (
            [(x.check, x.status) for x in lines.explained.get("declared_pages", [])],
            [(c, x.zh) for c, found in lines.failures.items() for x in found],
        )

    assert check(said, WHY) == ([("declared_pages", "explained")], [])
    assert check(None, "", images=4) == ([], [])  # matches: nothing to say
    assert check(None, "", images=4 - 1, notes=1) == ([], [])  # a not-scanned note (R10) counts
    explained, failed = check(None, "")
    assert not explained and failed[0][0] == "declared_pages" and "差异未说明" in failed[0][1]
    explained, failed = check(dict(said, images=2), WHY)  # given for other counts
    assert not explained and failed[0][0] == "declared_pages"
    explained, failed = check(dict(said, text=""), "")  # says nothing
    assert not explained and failed[0][0] == "declared_pages"
    explained, failed = check(said, "另一说明")  # 文件目录.xml disagrees
    assert ("metadata" in dict(failed)) and "页数说明" in dict(failed)["metadata"]


def test_r32_register_lists_the_explained_differences_in_xml_and_pdf(tmp_path):
    from scanstation.transfer import register
    from tests.test_custody_fixtures import pdf_text

    reg = {
        "batch_id": "X001-2024-001",
        "dossiers": 2,
        "images": 5,
        "declared_pages": 6,
        "files": 7,
        "bytes": 1234,
        "digest": "0" * 64,
        "explained": [{"number": SHORT, "declared": 4, "images": 3, "not_scanned": 0, "text": WHY, "by": "clerk1"}],
    }
    xml = ET.fromstring(register.register_xml(reg))
    assert xml.find("页数说明").get("案卷数") == "1" and xml.find("页数说明/案卷").text == WHY
    assert register.read_register_xml(register.register_xml(reg))["explained"] == [SHORT]
    pdf = tmp_path / "reg.pdf"
    pdf.write_bytes(register.register_pdf(reg))
    text = pdf_text(pdf)
    assert "页数差异说明" in text and "clerk1" in text and "原件第4页缺失" in text.replace("\n", "")
