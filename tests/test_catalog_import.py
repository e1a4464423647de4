"""Import of a department's 目录 (.xlsx / .csv): all or nothing, every problem reported (R12, R13, R18)."""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import shutil
from datetime import date, datetime
from pathlib import Path

import openpyxl
import pytest

from scanstation import audit, catalog_import, dossier_number, id_number
from scanstation.catalog_import import CatalogImportRejected, import_catalog, read_rows, validate
from scanstation.errors import InvalidInput, Refused
from scanstation.home import Home, now_iso
from scanstation.service import Session
from scanstation.users import hash_password, load_user

RESOURCES = Path(__file__).resolve().parent.parent / "resources"
SAMPLE_XLSX = RESOURCES / "sample-catalog.xlsx"
SAMPLE_CSV = RESOURCES / "sample-catalog.csv"
BAD_CSV = RESOURCES / "bad-catalog.csv"
GOOD_ID = "11010519491231002X"
COMPARED = (
    "number",
    "fonds_code",
    "year",
    "category",
    "insurance_type",
    "business_stage",
    "retention",
    "title",
    "responsible",
    "date",
    "declared_pages",
    "security_level",
    "volume_no",
    "item_no",
    "box_no",
    "person_name",
    "person_id_number",
    "employer",
    "remarks",
    "status",
)


def open_session(home: Home, name: str, roles: str) -> Session:
    with home.catalog.write() as conn:
        conn.execute(
            "INSERT INTO users (name, roles, password_hash, created_at) VALUES (?, ?, ?, ?)",
            (name, roles, hash_password("correct horse battery"), now_iso()),
        )
    user, _ = load_user(home.catalog, name)
    return Session(home, user)


@pytest.fixture
def home(tmp_path):
    home = Home.create(tmp_path / "home", "X001", "S01")
    yield home
    home.close()


@pytest.fixture
def clerk(home):
    return open_session(home, "wang.clerk", "clerk")


def dossiers(home: Home) -> list[dict]:
    return home.catalog.query(f"SELECT {', '.join(COMPARED)} FROM dossiers ORDER BY number")


def import_entries(home: Home) -> list[dict]:
    return home.catalog.query("SELECT * FROM audit_log WHERE action = 'catalog.import'")


def write_csv(path: Path, rows: list[list], encoding: str = "utf-8-sig") -> Path:
    out = io.StringIO(newline="")
    csv.writer(out).writerows(rows)
    path.write_bytes(out.getvalue().encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list]) -> Path:
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path


def problems_by_cell(rejected: CatalogImportRejected) -> dict[tuple[int, str], list]:
    cells: dict[tuple[int, str], list] = {}
    for p in rejected.problems:
        cells.setdefault((p.row, p.key), []).append(p)
    return cells


# -- the sample catalog -------------------------------------------------------------------
def test_r18_import_sample_xlsx(home, clerk):
    result = import_catalog(clerk, SAMPLE_XLSX)
    assert result.count == 30
    assert result.header_row == 2 and result.sheet == "目录"  # a title row sits above the header
    assert result.ignored_columns == ["序号"]
    assert result.years == {2024: 26, 2023: 4}
    rows = dossiers(home)
    assert len(rows) == 30
    assert {r["status"] for r in rows} == {"cataloged"}
    assert {r["fonds_code"] for r in rows} == {"X001"}
    for row in rows:
        number = dossier_number.parse(row["number"])
        assert row["year"] == number.year == int(row["date"][:4])
        assert row["retention"] == number.retention
        assert row["category"] == number.category_group
        assert (row["volume_no"], row["item_no"]) == (number.volume, number.item)
        assert 2 <= row["declared_pages"] <= 12
        assert date.fromisoformat(row["date"])
        if row["person_id_number"]:
            assert id_number.is_valid(row["person_id_number"]) and row["person_name"]
    first = home.catalog.one("SELECT * FROM dossiers WHERE number = 'X001-ZY·DJ·2024·D100-0001-001'")
    assert first["title"] == "张伟参保人员登记表" and first["person_name"] == "张伟"
    assert first["business_stage"] == "参保人员登记" and first["responsible"] == "XX市社会保险事业管理中心"
    # dates typed as text (2024/7/28, 2024年3月5日, 20240305) arrive as ISO dates
    workbook = openpyxl.load_workbook(SAMPLE_XLSX, read_only=True)
    typed = {r[1]: r[4] for r in workbook.active.iter_rows(min_row=3, values_only=True) if isinstance(r[4], str)}
    workbook.close()
    assert len(typed) == 3
    stored = {r["number"]: r["date"] for r in rows}
    for number, text in typed.items():
        y, m, d = (
            int(x) for x in (re.findall(r"\d+", text) if not text.isdigit() else (text[:4], text[4:6], text[6:]))
        )
        assert stored[number] == date(y, m, d).isoformat(), text
    created = {r["created_at"] for r in home.catalog.query("SELECT created_at, updated_at FROM dossiers")}
    assert len(created) == 1 and datetime.fromisoformat(created.pop()).tzinfo is not None

    entries = import_entries(home)
    assert len(entries) == 1
    entry = entries[0]
    assert (entry["user"], entry["object_type"], entry["object_id"]) == ("wang.clerk", "catalog", "sample-catalog.xlsx")
    after = json.loads(entry["after"])
    data = SAMPLE_XLSX.read_bytes()
    assert after["sha256"] == hashlib.sha256(data).hexdigest() == result.sha256
    assert after["sm3"] == hashlib.new("sm3", data).hexdigest()
    assert after["dossiers"] == 30 and after["years"] == {"2023": 4, "2024": 26}
    assert audit.verify(home.catalog.conn).ok


def test_r15_sample_retention_follows_the_table(home, clerk):
    from scanstation.retention import default_table

    import_catalog(clerk, SAMPLE_XLSX)
    table = default_table()
    for row in dossiers(home):
        assert table.retention_for(row["business_stage"]) == row["retention"]


def test_sample_csv_holds_the_same_dossiers_as_the_xlsx(home, clerk, tmp_path):
    assert SAMPLE_CSV.read_bytes().startswith(b"\xef\xbb\xbf")
    import_catalog(clerk, SAMPLE_XLSX)
    other = Home.create(tmp_path / "other", "X001", "S02")
    try:
        import_catalog(open_session(other, "li.clerk", "clerk"), SAMPLE_CSV)
        assert dossiers(other) == dossiers(home)
    finally:
        other.close()


@pytest.mark.parametrize("encoding", ["gb18030", "utf-8", "utf-16"])
def test_csv_encodings_are_detected(home, clerk, tmp_path, encoding):
    text = SAMPLE_CSV.read_bytes().decode("utf-8-sig")
    path = tmp_path / f"sample-{encoding}.csv"
    path.write_bytes(text.encode(encoding))
    reader = read_rows(path)
    assert reader.encoding in (encoding, "utf-8-sig" if encoding == "utf-8" else encoding)
    reader.close()
    assert import_catalog(clerk, path).count == 30
    assert (
        home.catalog.one("SELECT title FROM dossiers WHERE number = 'X001-ZY·DJ·2024·D100-0001-001'")["title"]
        == "张伟参保人员登记表"
    )


def test_sample_generator_is_reproducible(tmp_path):
    copy = tmp_path / "resources"
    copy.mkdir()
    shutil.copy(RESOURCES / "make_sample_catalog.py", copy)
    import runpy

    runpy.run_path(str(copy / "make_sample_catalog.py"), run_name="__main__")
    for name in ("sample-catalog.csv", "bad-catalog.csv"):
        assert (copy / name).read_bytes() == (RESOURCES / name).read_bytes(), f"{name} differs from its generator"
    # the workbook: same cells (its XML bytes depend on whether openpyxl finds lxml, not on the generator)
    import openpyxl

    def cells(path):
        book = openpyxl.load_workbook(path, read_only=True)
        try:
            return [
                (sheet.title, [tuple(row) for row in sheet.iter_rows(values_only=True)]) for sheet in book.worksheets
            ]
        finally:
            book.close()

    assert cells(copy / "sample-catalog.xlsx") == cells(RESOURCES / "sample-catalog.xlsx"), (
        "sample-catalog.xlsx differs from its generator"
    )


# -- all or nothing -----------------------------------------------------------------------
EXPECTED_BAD = {  # (row as the spreadsheet shows it, column key) -> a word of the reason
    (4, "number"): "year",
    (5, "number"): "row 3",
    (7, "retention"): "D20",
    (8, "retention"): "D30",
    (9, "pages"): "positive",
    (10, "id_number"): "check character",
    (11, "date"): "2024-13-45",
    (12, "date"): "2023",
    (13, "title"): "empty",
    (14, "number"): "empty",
    (15, "number"): "X002",
}


def test_r12_bad_catalog_rejected_with_every_reason_and_nothing_written(home, clerk):
    with pytest.raises(CatalogImportRejected) as caught:
        import_catalog(clerk, BAD_CSV)
    rejected = caught.value
    cells = problems_by_cell(rejected)
    assert set(cells) == set(EXPECTED_BAD)
    for cell, word in EXPECTED_BAD.items():
        (problem,) = cells[cell]
        assert word in problem.en, (cell, problem.en)
        assert problem.zh and problem.column == catalog_import.COLUMN_BY_KEY[cell[1]].zh
    assert "年度" in cells[(4, "number")][0].zh  # the parser's own reason is passed on
    assert "第 3 行" in cells[(5, "number")][0].zh
    assert rejected.problems == sorted(rejected.problems, key=lambda p: p.row)
    assert "11" in rejected.en and "bad-catalog.csv" in rejected.zh
    assert dossiers(home) == []
    assert import_entries(home) == []
    assert home.catalog.one("SELECT count(*) AS n FROM audit_log")["n"] == 0


def test_r12_already_in_catalog_is_a_reason_too(home, clerk):
    import_catalog(clerk, SAMPLE_XLSX)
    before = dossiers(home)
    with pytest.raises(CatalogImportRejected) as caught:
        import_catalog(clerk, BAD_CSV)
    cells = problems_by_cell(caught.value)
    assert set(cells) == set(EXPECTED_BAD) | {(6, "number")}
    assert "already in the catalog" in cells[(6, "number")][0].en
    assert dossiers(home) == before
    assert len(import_entries(home)) == 1


def test_r12_importing_the_same_catalog_twice_is_refused(home, clerk):
    import_catalog(clerk, SAMPLE_CSV)
    with pytest.raises(CatalogImportRejected) as caught:
        import_catalog(clerk, SAMPLE_XLSX)
    assert len(caught.value.problems) == 30
    assert {p.key for p in caught.value.problems} == {"number"}
    assert len(dossiers(home)) == 30 and len(import_entries(home)) == 1


def test_r12_duplicate_in_file_names_the_other_row(home, clerk, tmp_path):
    path = write_csv(
        tmp_path / "dup.csv",
        [
            ["档号", "题名"],
            ["X001-ZY·DJ·2024·D100-0001-001", "甲"],
            ["X001-ZY·DJ·2024·D100-0001-002", "乙"],
            ["X001-ZY·DJ·2024·D100-0001-001", "丙"],
            ["X001-ZY・DJ・2024・D100－0001－001", "丁"],  # the same number spelled with look-alikes
        ],
    )
    with pytest.raises(CatalogImportRejected) as caught:
        import_catalog(clerk, path)
    assert [(p.row, p.key) for p in caught.value.problems] == [(4, "number"), (5, "number")]
    assert all("row 2" in p.en and "第 2 行" in p.zh for p in caught.value.problems)


def test_role_without_import_permission_is_refused(home):
    auditor = open_session(home, "zhao.audit", "auditor")
    with pytest.raises(Refused):
        import_catalog(auditor, SAMPLE_XLSX)
    assert dossiers(home) == [] and import_entries(home) == []


# -- reading ------------------------------------------------------------------------------
def test_english_headers_any_case_and_row_numbers_with_gaps(home, clerk, tmp_path):
    path = tmp_path / "english.xlsx"
    workbook = openpyxl.Workbook()
    sheet = workbook.active
    sheet["A1"] = "Catalog of 2024"
    sheet.append([])
    sheet.append([" Number ", "TITLE", "Pages", "date", "ID_Number", "Retention", "Box No", "Something else"])
    sheet.append(["X001-ZY·DJ·2024·D100-0001-001", "甲", 3, datetime(2024, 6, 1), GOOD_ID, "100年", "B1", "x"])
    sheet.append([None] * 8)
    sheet.append(["X001-ZY·DJ·2024·D100-0001-002", "乙", 4.0, 20240602, GOOD_ID.lower(), "D100", None, None])
    sheet.append(["X001-ZY·DJ·2024·D100-0001-003", "丙", "5", 45445, None, None, None, None])
    sheet.cell(row=8, column=1, value="X001-ZY·DJ·2024·D100-0001-004")
    sheet.cell(row=8, column=2, value="丁")
    sheet.cell(row=8, column=3, value="0")
    workbook.save(path)
    with pytest.raises(CatalogImportRejected) as caught:
        import_catalog(clerk, path)
    assert [(p.row, p.column) for p in caught.value.problems] == [(8, "Pages")]  # row 5 was blank, still counted

    sheet.cell(row=8, column=3, value=2)
    workbook.save(path)
    result = import_catalog(clerk, path)
    assert result.count == 4 and result.header_row == 3 and result.ignored_columns == ["Something else"]
    rows = {r["number"][-3:]: r for r in dossiers(home)}
    assert [rows[k]["date"] for k in ("001", "002", "003")] == ["2024-06-01", "2024-06-02", "2024-06-02"]
    assert [rows[k]["declared_pages"] for k in ("001", "002", "003", "004")] == [3, 4, 5, 2]
    assert rows["002"]["person_id_number"] == GOOD_ID and rows["001"]["box_no"] == "B1"


def test_id_number_stored_as_an_excel_number_is_explained(clerk, tmp_path):
    path = write_xlsx(
        tmp_path / "numeric-id.xlsx",
        [
            ["档号", "题名", "身份证号"],
            ["X001-ZY·DJ·2024·D100-0001-001", "甲", 110105194912310020],
        ],
    )
    with pytest.raises(CatalogImportRejected) as caught:
        import_catalog(clerk, path)
    (problem,) = caught.value.problems
    assert problem.key == "id_number" and "text" in problem.en and "文本" in problem.zh


def test_consistency_of_fonds_year_volume_item_columns(home, clerk, tmp_path):
    header = ["全宗号", "年度", "案卷号", "件号", "档号", "题名"]
    ok = ["X001", "2024年", "1", 1, "X001-ZY·DJ·2024·D100-0001-001", "甲"]
    bad = ["X009", 2023, "0002", "003", "X001-ZY·DJ·2024·D100-0001-002", "乙"]
    path = write_csv(tmp_path / "columns.csv", [header, ok, bad])
    with pytest.raises(CatalogImportRejected) as caught:
        import_catalog(clerk, path)
    assert [(p.row, p.key) for p in caught.value.problems] == [(3, "volume"), (3, "item"), (3, "fonds"), (3, "year")]
    assert "0001" in caught.value.problems[0].en and "2024" in caught.value.problems[3].zh
    write_csv(path, [header, ok])
    import_catalog(clerk, path)
    assert dossiers(home)[0]["volume_no"] == "0001"


def test_missing_title_column_and_duplicate_columns(clerk, tmp_path):
    path = write_csv(
        tmp_path / "no-title.csv", [["说明"], ["档号", "档号", "页数"], ["X001-ZY·DJ·2024·D100-0001-001", "", 3]]
    )
    with pytest.raises(CatalogImportRejected) as caught:
        import_catalog(clerk, path)
    header_problems = [p for p in caught.value.problems if p.row == 2]
    assert {p.key for p in header_problems} == {"number", "title"}
    assert any("twice" in p.en for p in header_problems) and any("题名" in p.zh for p in header_problems)


@pytest.mark.parametrize(
    "name, content, word",
    [
        ("old.xls", b"\xd0\xcf\x11\xe0 not really", ".xlsx"),
        ("notes.pdf", b"%PDF-1.7", ".csv"),
        ("broken.xlsx", b"PK\x03\x04 broken", "Excel"),
        ("no-header.csv", "题名,页数\n甲,3\n".encode(), "档号"),
        ("binary.csv", bytes(range(128, 256)) * 4, "UTF-8"),
    ],
)
def test_unreadable_files_are_refused_with_a_reason(home, clerk, tmp_path, name, content, word):
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(InvalidInput) as caught:
        import_catalog(clerk, path)
    assert word in caught.value.en and caught.value.zh
    assert dossiers(home) == []


def test_header_only_file_imports_nothing(home, clerk, tmp_path):
    path = write_csv(tmp_path / "empty.csv", [["档号", "题名"], ["", ""]])
    with pytest.raises(InvalidInput):
        import_catalog(clerk, path)
    assert import_entries(home) == []


def test_home_schema_setting_is_used(home, clerk, tmp_path):
    home.set_setting(dossier_number.SETTING_KEY, {"name": "dat22-item"})
    path = write_csv(
        tmp_path / "dat22.csv",
        [["档号", "题名", "日期"], ["X001-WS·2024·D30-0001", "关于2024年度征缴工作的通知", "2024年3月5日"]],
    )
    assert import_catalog(clerk, path).count == 1
    row = dossiers(home)[0]
    assert (row["category"], row["item_no"], row["volume_no"], row["retention"]) == ("WS", "0001", "", "D30")


# -- units ---------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "value, expected",
    [
        ("2024-06-01", date(2024, 6, 1)),
        ("2024/6/1", date(2024, 6, 1)),
        ("20240601", date(2024, 6, 1)),
        ("2024年6月1日", date(2024, 6, 1)),
        ("2024 年 6 月 1 日", date(2024, 6, 1)),
        ("２０２４-０６-０１", date(2024, 6, 1)),
        ("2024-06-01 00:00:00", date(2024, 6, 1)),
        (datetime(2024, 6, 1, 9, 30), date(2024, 6, 1)),
        (date(2024, 6, 1), date(2024, 6, 1)),
        (20240601, date(2024, 6, 1)),
        (45444, date(2024, 6, 1)),
    ],
)
def test_accepted_date_spellings(value, expected):
    assert catalog_import.parse_date(value) == expected


@pytest.mark.parametrize("value", ["2024-13-45", "2024-02-30", "明天", "6/1/2024", "2024", "202461", -5, 10**9])
def test_unreadable_dates(value):
    with pytest.raises((ValueError, OverflowError)):
        catalog_import.parse_date(value)


def test_validate_without_a_catalog_reports_page_counts(tmp_path):
    path = write_csv(
        tmp_path / "pages.csv",
        [["档号", "题名", "页数"]]
        + [
            [f"X001-ZY·DJ·2024·D100-0001-{i:03d}", "甲", pages]
            for i, pages in enumerate(["3", "3页", "０", "-2", "2.5", "三", "10000", "4.0"], 1)
        ],
    )
    with read_rows(path) as rows:
        checked = validate(rows)
    assert [p.row for p in checked.problems] == [4, 5, 6, 7, 8]
    assert [r[10] for r in checked.records] == [3, 3, 4]
