"""数据挂接 export: the catalog as xlsx/csv/xml in the import column order, images by 档号, checksums."""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import subprocess
from pathlib import Path
from xml.etree import ElementTree as ET

import pytest
from openpyxl import load_workbook

from scanstation.custody import protection
from scanstation.errors import CheckFailed, InvalidInput, NotFound, Refused
from scanstation.export.catalog_export import COLUMNS, csv_safe, export_catalog
from scanstation.home import now_iso
from tests.test_custody_fixtures import add_dossier, number_for

NUMBERS = [number_for(2019, "D30", 1), number_for(2019, "D30", 2), number_for(2020, "D10", 1)]


@pytest.fixture
def filled(home):
    rows = [
        add_dossier(home, NUMBERS[0], year=2019, retention="D30", pages=2, title='=HYPERLINK("http://x")'),
        add_dossier(home, NUMBERS[1], year=2019, retention="D30", pages=3, title="-缴费基数核定表"),
        add_dossier(home, NUMBERS[2], year=2020, retention="D10", pages=1, title="参保人员登记表"),
    ]
    with home.catalog.write() as conn:
        conn.execute(
            "UPDATE dossiers SET responsible = '某市社保中心', security_level = '内部', remarks = '@备注'"
            " WHERE number = ?",
            (NUMBERS[0],),
        )
    return rows


def _expected(home, numbers):
    out = []
    for n in numbers:
        d = home.catalog.one("SELECT * FROM dossiers WHERE number = ?", (n,))
        images = home.catalog.one(
            "SELECT COUNT(*) AS c FROM pages WHERE dossier_id = ? AND state = 'active'", (d["id"],)
        )["c"]
        out.append(
            [
                d["number"],
                d["fonds_code"],
                d["year"],
                d["retention"],
                d["title"],
                d["responsible"],
                d["date"],
                d["declared_pages"],
                d["security_level"],
                d["remarks"],
                d["number"],
                images,
            ]
        )
    return out


def test_xlsx_reads_back_as_the_catalog(home, sessions, filled, tmp_path):
    result = export_catalog(sessions["archivist1"], tmp_path / "目录.xlsx", "xlsx", tmp_path / "images")
    assert result["rows"] == 3 and result["images"] == 6
    wb = load_workbook(tmp_path / "目录.xlsx")
    ws = wb.active
    values = [list(r) for r in ws.iter_rows(values_only=True)]
    assert (
        tuple(values[0])
        == COLUMNS
        == (
            "档号",
            "全宗号",
            "年度",
            "保管期限",
            "题名",
            "责任者",
            "日期",
            "页数",
            "密级",
            "备注",
            "图像文件夹",
            "图像数量",
        )
    )
    assert values[1:] == [[v if v != "" else None for v in row] for row in _expected(home, NUMBERS)]
    for row in ws.iter_rows(min_row=2):
        for cell in row:
            assert cell.data_type != "f"  # formula injection: stored as text, never a formula
    assert ws.cell(row=2, column=5).value == '=HYPERLINK("http://x")' and ws.cell(row=2, column=5).data_type == "s"


def test_r22_images_one_folder_per_number_with_checksums(home, sessions, filled, tmp_path):
    export_catalog(sessions["archivist1"], tmp_path / "c.csv", "csv", tmp_path / "images")
    folders = sorted(p.name for p in (tmp_path / "images").iterdir() if p.is_dir())
    assert folders == sorted(NUMBERS)
    store = protection.image_store(home)
    lines = list(csv.reader(io.StringIO((tmp_path / "images" / "checksums.csv").read_text("utf-8-sig"))))
    assert lines[0] == ["文件", "字节数", "SM3", "SHA-256"] and len(lines) == 7
    for rel, size, sm3, sha256 in lines[1:]:
        path = tmp_path / "images" / rel
        data = path.read_bytes()
        number, name = rel.split("/")
        assert data == store.read_bytes(number, name) and int(size) == len(data)
        assert hashlib.sha256(data).hexdigest() == sha256
        out = subprocess.run(["openssl", "dgst", "-sm3", str(path)], capture_output=True, check=True).stdout.decode()
        assert out.strip().endswith(sm3)  # OpenSSL agrees with the SM3 (R22)
        row = home.catalog.one("SELECT sha256, sm3 FROM pages WHERE file_name = ?", (name,))
        assert (row["sha256"], row["sm3"]) == (sha256, sm3)


def test_csv_escapes_formula_cells(home, sessions, filled, tmp_path):
    export_catalog(sessions["archivist1"], tmp_path / "c.csv", "csv", tmp_path / "images")
    raw = (tmp_path / "c.csv").read_bytes()
    assert raw.startswith(b"\xef\xbb\xbf")
    rows = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert rows[0] == list(COLUMNS)
    by_number = {r[0]: r for r in rows[1:]}
    assert by_number[NUMBERS[0]][4] == '\'=HYPERLINK("http://x")' and by_number[NUMBERS[0]][9] == "'@备注"
    assert by_number[NUMBERS[1]][4] == "'-缴费基数核定表"
    assert by_number[NUMBERS[2]][4] == "参保人员登记表"
    expected = [[csv_safe(v) for v in row] for row in _expected(home, NUMBERS)]
    assert rows[1:] == expected
    assert [csv_safe(v) for v in ("+1", "\tx", "a=b", "")] == ["'+1", "'\tx", "a=b", ""]


def test_xml_catalog_and_year_filter(home, sessions, filled, tmp_path):
    result = export_catalog(sessions["admin"], tmp_path / "c.xml", "xml", tmp_path / "images", year=2019)
    assert result["rows"] == 2 and result["images"] == 5
    root = ET.parse(tmp_path / "c.xml").getroot()
    assert root.tag == "目录" and root.get("全宗号") == "X001" and root.get("条目数") == "2"
    items = root.findall("条目")
    assert [[c.tag for c in item] for item in items] == [list(COLUMNS)] * 2
    assert [[c.text or "" for c in item] for item in items] == [
        [str(v) for v in r] for r in _expected(home, NUMBERS[:2])
    ]
    assert sorted(p.name for p in (tmp_path / "images").iterdir() if p.is_dir()) == NUMBERS[:2]


def test_batch_filter(home, sessions, filled, tmp_path):
    with home.catalog.write() as conn:
        batch = conn.execute(
            "INSERT INTO batches(batch_id, fonds_code, year, seq, state, created_at, updated_at)"
            " VALUES ('X001-2019-001', 'X001', 2019, 1, 'draft', ?, ?)",
            (now_iso(), now_iso()),
        ).lastrowid
        conn.execute("UPDATE dossiers SET batch_id = ? WHERE number = ?", (batch, NUMBERS[1]))
    result = export_catalog(sessions["admin"], tmp_path / "c.csv", "csv", tmp_path / "images", batch="X001-2019-001")
    assert result["rows"] == 1
    with pytest.raises(NotFound):
        export_catalog(sessions["admin"], tmp_path / "d.csv", "csv", tmp_path / "images2", batch="X001-2019-999")


def test_r36_catalog_export_audited_and_role_checked(home, sessions, filled, tmp_path):
    for name in ("qc1", "auditor1"):
        with pytest.raises(Refused):
            export_catalog(sessions[name], tmp_path / f"{name}.csv", "csv", tmp_path / name)
    result = export_catalog(sessions["clerk1"], tmp_path / "c.csv", "csv", tmp_path / "images")
    entries = home.catalog.query("SELECT * FROM audit_log WHERE action = 'export.catalog'")
    assert len(entries) == 1 and entries[0]["user"] == "clerk1" and result["sm3"] in entries[0]["after"]


def test_catalog_export_failure_paths(home, sessions, filled, tmp_path):
    s = sessions["archivist1"]
    with pytest.raises(InvalidInput):
        export_catalog(s, tmp_path / "c.doc", "doc", tmp_path / "images")
    (tmp_path / "exists.csv").write_text("keep")
    with pytest.raises(Refused):
        export_catalog(s, tmp_path / "exists.csv", "csv", tmp_path / "images")
    assert (tmp_path / "exists.csv").read_text() == "keep"
    (tmp_path / "full").mkdir()
    (tmp_path / "full" / "x.txt").write_text("keep")
    with pytest.raises(Refused):
        export_catalog(s, tmp_path / "c.csv", "csv", tmp_path / "full")
    with pytest.raises(NotFound):
        export_catalog(s, tmp_path / "c.csv", "csv", tmp_path / "images", year=1990)
    # a page whose bytes no longer match the catalog stops the export; nothing is left behind
    victim = Path(home.path) / "images" / NUMBERS[1] / f"{NUMBERS[1]}-0002.jpg"
    original = victim.read_bytes()
    victim.write_bytes(original[:-10] + b"0123456789")
    with pytest.raises(CheckFailed) as exc:
        export_catalog(s, tmp_path / "c.csv", "csv", tmp_path / "images")
    assert "Page 2 of" in exc.value.en and "fixity check" in exc.value.en
    assert not (tmp_path / "c.csv").exists() and not (tmp_path / "images").exists()
    assert not (tmp_path / "images.part").exists()
    victim.unlink()
    with pytest.raises(Refused):
        export_catalog(s, tmp_path / "c.csv", "csv", tmp_path / "images")
    assert not (tmp_path / "images").exists()
    victim.write_bytes(original)
    (tmp_path / "images").mkdir()  # an empty folder is fine
    assert export_catalog(s, tmp_path / "c.csv", "csv", tmp_path / "images")["images"] == 6
    shutil.rmtree(tmp_path / "images")
