"""Lending hands out the double-layer PDF, watermarked (the borrower's name, time and loan number)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from scanstation.custody import lending
from scanstation.errors import InvalidInput, Refused
from scanstation.export import copies
from tests.export_fixtures import add_ocr_dossier, nonblank_lines, pdftotext_pages, render_pdf_pages, stored_text

N1 = "X001-ZY·DJ·2024·D100-0001-001"


def test_loan_export_as_watermarked_double_layer_pdf(home, sessions, tmp_path):
    add_ocr_dossier(home, N1, pages=2)
    loan = lending.request(sessions["clerk1"], N1, "核对待遇领取资格", 7)
    with pytest.raises(Refused):  # not approved yet
        lending.export(sessions["clerk1"], loan["id"], tmp_path / "out", fmt="pdf")
    lending.approve(sessions["archivist1"], loan["id"])
    with pytest.raises(InvalidInput):
        lending.export(sessions["clerk1"], loan["id"], tmp_path / "out", fmt="docx")
    result = lending.export(sessions["clerk1"], loan["id"], tmp_path / "out", fmt="pdf")
    assert result["files"] == [f"{N1}.pdf"] and result["pages"] == 2
    target = Path(result["folder"]) / f"{N1}.pdf"
    text = pdftotext_pages(target)
    for page, stored in zip(text, stored_text(home, N1)):
        assert nonblank_lines(page) == nonblank_lines(stored)  # the text layer survives the watermark
    plain = Path(copies.export_copies(sessions["admin"], [N1], tmp_path / "plain", "pdf")["files"][0]["file"])
    a = render_pdf_pages(plain, tmp_path / "a", dpi=40)
    b = render_pdf_pages(target, tmp_path / "b", dpi=40)
    for x, y in zip(a, b):
        assert (np.abs(x - y) > 25).mean() > 0.01  # every page carries the watermark
    entry = home.catalog.one("SELECT * FROM audit_log WHERE action = 'lend.export'")
    after = json.loads(entry["after"])
    assert after["format"] == "pdf" and "clerk1" in after["watermark"] and f"借阅单 {loan['id']}" in after["watermark"]
