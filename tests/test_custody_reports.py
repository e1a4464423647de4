from datetime import date

import pytest

from scanstation.custody import destruction, lending, reports
from scanstation.errors import InvalidInput, Refused
from tests.test_custody_fixtures import add_dossier, assert_pdf_renders, number_for, pdf_text


@pytest.fixture
def busy_home(home, sessions):
    add_dossier(
        home,
        number_for(2010, "D10", 1),
        year=2010,
        pages=3,
        scanned_by="clerk1",
        capture_day="2024-03-04",
        qc_flags={2: ["skew"], 3: ["blank", "dark"]},
    )
    add_dossier(
        home,
        number_for(2011, "D10", 2),
        year=2011,
        pages=2,
        scanned_by="clerk2",
        capture_day="2024-03-05",
        qc_flags={1: ["skew"]},
    )
    add_dossier(
        home, number_for(2024, "Y", 3), year=2024, retention="Y", pages=4, scanned_by="clerk1", capture_day="2024-03-05"
    )
    with sessions["clerk1"].change(None, "dossier.complete", "dossier", number_for(2024, "Y", 3)):
        pass
    with sessions["clerk1"].change(None, "page.replace", "page", number_for(2010, "D10", 1) + "#0002"):
        pass
    with sessions["qc1"].change(None, "qc.reject", "dossier", number_for(2010, "D10", 1)) as ch:
        ch.after = {"reason": "skewed"}
    with sessions["qc1"].change(None, "qc.approve", "dossier", number_for(2024, "Y", 3)):
        pass
    proposal = destruction.propose(sessions["archivist1"], date(2024, 6, 1), "保管期限已满，经鉴定无保存价值。")
    destruction.approve(sessions["admin"], proposal["id"])
    loan = lending.request(sessions["clerk2"], number_for(2024, "Y", 3), "核对参保记录", 5)
    lending.approve(sessions["archivist1"], loan["id"])
    return home


@pytest.mark.parametrize(
    "kind, expected",
    [
        ("workload", ["扫描工作量统计", "clerk1", "clerk2", "2024-03-05"]),
        ("qc", ["质检缺陷统计", "skew", "skewed", "qc.reject"]),
        ("retention", ["保管期限到期档案清单", "X001-ZY·DJ·2010·D10"]),
        ("destruction", ["档案销毁登记", "archivist1"]),
        ("lending", ["档案借阅登记", "核对参保记录"]),
    ],
)
def test_reports_render_with_embedded_cjk_font(busy_home, sessions, tmp_path, kind, expected):
    out = tmp_path / f"{kind}.pdf"
    result = reports.make(sessions["admin"], kind, out, as_of="2024-06-01")
    assert result["bytes"] == out.stat().st_size
    assert_pdf_renders(out, tmp_path)
    text = pdf_text(out)
    for needle in expected:
        assert needle in text, needle
    last = busy_home.catalog.one("SELECT action, object_id FROM audit_log ORDER BY id DESC LIMIT 1")
    assert (last["action"], last["object_id"]) == ("report.export", kind)


def test_workload_figures(busy_home, sessions):
    doc = reports.workload(sessions["admin"])
    per_day = {(r[0], r[1]): r[2:] for r in doc.sections[1].rows}
    today = busy_home.catalog.one("SELECT substr(ts, 1, 10) AS d FROM audit_log WHERE action = 'page.replace'")["d"]
    assert per_day[("2024-03-04", "clerk1")] == [3, 1, 0, 0]
    assert per_day[("2024-03-05", "clerk1")] == [4, 1, 0, 0]
    assert per_day[("2024-03-05", "clerk2")] == [2, 1, 0, 0]
    assert per_day[(today, "clerk1")] == [0, 0, 1, 1]  # one completion, one rescan, from the audit trail
    narrow = reports.workload(sessions["admin"], since="2024-03-05", until="2024-03-05")
    assert {(r[0], r[1]) for r in narrow.sections[1].rows} == {("2024-03-05", "clerk1"), ("2024-03-05", "clerk2")}


def test_qc_figures(busy_home, sessions):
    doc = reports.qc(sessions["admin"])
    flags = {r[0]: r[1:3] for r in doc.sections[0].rows}
    assert flags == {"skew": [2, 2], "blank": [1, 1], "dark": [1, 1]}
    assert dict(doc.facts)["有质检标记的页面"] == "3"


def test_report_rules(busy_home, sessions, tmp_path):
    with pytest.raises(Refused):
        reports.make(sessions["clerk1"], "workload", tmp_path / "w.pdf")
    with pytest.raises(InvalidInput):
        reports.make(sessions["admin"], "salary", tmp_path / "w.pdf")
