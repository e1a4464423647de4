"""Double-layer PDF and PDF/A-2b copies: real page images read by the real tesseract, checked with
poppler (pdftotext, pdftoppm, pdfinfo) and qpdf (pikepdf) as independent readers."""

from __future__ import annotations

import io
import json
import re
import subprocess
from pathlib import Path

import numpy as np
import pikepdf
import pytest
from PIL import Image

from scanstation.custody import protection
from scanstation.errors import InvalidInput, Refused
from scanstation.export import check, copies, load_pages, resolve_dossier
from scanstation.home import now_iso
from scanstation.ocr.layout import Line, PageLayout, Word
from scanstation.users import PERMISSIONS
from tests.export_fixtures import (
    add_ocr_dossier,
    downscaled,
    nonblank_lines,
    pdftotext_pages,
    render_pdf_pages,
    stored_text,
)

N1 = "X001-ZY·DJ·2024·D100-0001-001"
N2 = "X001-ZY·DJ·2024·D100-0001-002"
CJK_PAIR = re.compile(r"[\u4e00-\u9fff] [\u4e00-\u9fff]")


def _audit(home, action):
    return home.catalog.query("SELECT * FROM audit_log WHERE action = ? ORDER BY id", (action,))


def test_pdf_text_layer_is_the_stored_ocr_text_in_reading_order(home, sessions, tmp_path):
    add_ocr_dossier(home, N1, pages=2)
    result = copies.export_copies(sessions["clerk1"], [N1], tmp_path / "out", "pdf")
    target = Path(result["files"][0]["file"])
    assert target.name == f"{N1}.pdf"
    got = pdftotext_pages(target)
    expected = stored_text(home, N1)
    assert len(got) == len(expected) == 2
    for page_text, stored in zip(got, expected):
        assert any("\u4e00" <= ch <= "\u9fff" for ch in stored)  # the pages really are Chinese
        assert nonblank_lines(page_text) == nonblank_lines(stored)  # same lines, same order, same characters
        assert not CJK_PAIR.search(page_text)  # no space inserted between Chinese characters
    assert result["files"][0]["pages_unpositioned"] == [] and result["files"][0]["pages_without_text"] == []


def test_pdf_words_sit_where_they_were_read(home, sessions, tmp_path):
    """pdftotext -bbox: each Chinese word's box in the PDF lies over the word's box in the layout."""
    row = add_ocr_dossier(home, N1, pages=1)
    target = Path(copies.export_copies(sessions["clerk1"], [N1], tmp_path / "a.pdf", "pdf")["files"][0]["file"])
    html = subprocess.run(["pdftotext", "-bbox", str(target), "-"], capture_output=True, check=True).stdout.decode()
    boxes = [
        (float(a), float(b), float(c), float(d), w)
        for a, b, c, d, w in re.findall(
            r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">([^<]*)<', html
        )
    ]
    source = load_pages(home.catalog, protection.image_store(home), row)
    page = source.pages[0]
    scale = 72.0 / page.dpi
    checked = 0
    for line in page.layout.lines:
        for word in line.words:
            if not re.fullmatch(r"[\u4e00-\u9fff]{2,}", word.text):
                continue
            cx = (word.box[0] + word.box[2]) / 2 * scale
            cy = (word.box[1] + word.box[3]) / 2 * scale
            hits = [b for b in boxes if word.text in b[4] or b[4] in word.text]
            assert any(b[0] - 2 <= cx <= b[2] + 2 and b[1] - 2 <= cy <= b[3] + 2 for b in hits), word
            checked += 1
    assert checked >= 3


def test_pdf_pages_render_and_look_like_the_masters(home, sessions, tmp_path):
    add_ocr_dossier(home, N1, pages=2)
    target = Path(copies.export_copies(sessions["clerk1"], [N1], tmp_path / "out", "pdf")["files"][0]["file"])
    rendered = render_pdf_pages(target, tmp_path / "png", dpi=30)
    store = protection.image_store(home)
    rows = home.catalog.query("SELECT file_name FROM pages ORDER BY seq")
    assert len(rendered) == len(rows) == 2
    for pixels, row in zip(rendered, rows):
        master = downscaled(store.read_bytes(N1, row["file_name"]), (pixels.shape[1], pixels.shape[0]))
        assert np.abs(pixels - master).mean() < 6  # the same page (the text layer adds nothing visible)
    other = downscaled(store.read_bytes(N1, rows[1]["file_name"]), (rendered[0].shape[1], rendered[0].shape[0]))
    assert (
        np.abs(rendered[0] - other).mean()
        > np.abs(
            rendered[0]
            - downscaled(store.read_bytes(N1, rows[0]["file_name"]), (rendered[0].shape[1], rendered[0].shape[0]))
        ).mean()
    )


def test_pdf_embeds_jpeg_masters_without_re_encoding(home, sessions, tmp_path):
    add_ocr_dossier(home, N1, pages=2)
    target = Path(copies.export_copies(sessions["clerk1"], [N1], tmp_path / "out", "pdf")["files"][0]["file"])
    store = protection.image_store(home)
    masters = [
        store.read_bytes(N1, r["file_name"]) for r in home.catalog.query("SELECT file_name FROM pages ORDER BY seq")
    ]
    with pikepdf.open(target) as pdf:
        for page, master in zip(pdf.pages, masters):
            images = [x for x in page.Resources.XObject.values() if x.Subtype == pikepdf.Name.Image]
            assert len(images) == 1
            assert list(images[0].Filter) == [pikepdf.Name.DCTDecode]
            assert images[0].read_raw_bytes() == master  # byte for byte the master
    size = target.stat().st_size
    assert size < sum(len(m) for m in masters) * 1.3 + 300_000  # font subset and text: small overhead


def test_pdf_metadata_page_labels_and_size(home, sessions, tmp_path):
    add_ocr_dossier(home, N1, pages=2, title="参保人员社会保险登记表", year=2024)
    target = Path(copies.export_copies(sessions["clerk1"], [N1], tmp_path / "out", "pdf")["files"][0]["file"])
    info = subprocess.run(["pdfinfo", str(target)], capture_output=True, check=True).stdout.decode()
    assert "Title:           参保人员社会保险登记表" in info
    assert f"Subject:         {N1}" in info and "年度:2024" in info
    with pikepdf.open(target) as pdf:
        assert str(pdf.docinfo["/ArchivalCode"]) == N1 and str(pdf.docinfo["/Year"]) == "2024"
        assert str(pdf.docinfo["/DeclaredPages"]) == "2"
        labels = pdf.Root.PageLabels.Nums
        assert int(labels[0]) == 0 and labels[1].S == pikepdf.Name.D and int(labels[1].St) == 1
        meta = pdf.open_metadata()
        assert meta["dc:identifier"] == N1 and meta["dc:title"] == "参保人员社会保险登记表"
        page = pdf.pages[0]
        width = float(page.MediaBox[2])
    img = Image.open(io.BytesIO(protection.image_store(home).read_bytes(N1, f"{N1}-0001.jpg")))
    assert abs(width - img.width * 72 / 200) < 0.5  # the page is the scanned paper's size (200 dpi)


def test_pdfa_2b_requirements_each_checked(home, sessions, tmp_path):
    """No PDF/A validator installs here (veraPDF is Java and not packaged); each requirement we
    produce is checked with qpdf (pikepdf) and poppler."""
    add_ocr_dossier(home, N1, pages=2)
    target = Path(
        copies.export_copies(sessions["clerk1"], [N1], tmp_path / "out", "pdf", pdfa=True)["files"][0]["file"]
    )
    raw = target.read_bytes()
    assert raw.startswith(b"%PDF-1.7") and re.match(rb"%PDF-1\.7\r?\n%[\x80-\xff]{4}", raw)  # header + binary comment
    with pikepdf.open(target) as pdf:
        assert not pdf.is_encrypted and "/Encrypt" not in pdf.trailer  # no encryption
        assert "/ID" in pdf.trailer  # file identifier
        meta = pdf.open_metadata()
        assert meta["pdfaid:part"] == "2" and meta["pdfaid:conformance"] == "B"  # identification
        assert meta.pdfa_status == "2B"
        assert meta["dc:title"] == str(pdf.docinfo.Title)  # info = XMP
        assert meta["pdf:Producer"] == str(pdf.docinfo.Producer)
        assert "/Trapped" not in pdf.docinfo
        metadata_stream = pdf.Root.Metadata
        assert metadata_stream.Type == pikepdf.Name.Metadata and metadata_stream.Subtype == pikepdf.Name.XML
        intents = pdf.Root.OutputIntents
        assert len(intents) == 1 and intents[0].S == pikepdf.Name.GTS_PDFA1  # output intent
        profile = intents[0].DestOutputProfile
        assert int(profile.N) == 3
        from PIL import ImageCms

        icc = ImageCms.ImageCmsProfile(io.BytesIO(profile.read_bytes()))
        assert "sRGB" in ImageCms.getProfileDescription(icc)
        fonts = 0
        for page in pdf.pages:
            assert "/Group" not in page  # no transparency group
            for image in page.Resources.XObject.values():
                assert "/SMask" not in image and "/Mask" not in image  # no soft masks
            for gs in (page.Resources.get("/ExtGState") or {}).values():
                assert float(gs.get("/CA", 1)) == 1 and float(gs.get("/ca", 1)) == 1
            for font in page.Resources.Font.values():  # fonts embedded
                fonts += 1
                desc = font.get("/FontDescriptor") or font.DescendantFonts[0].FontDescriptor
                assert any(k in desc for k in ("/FontFile", "/FontFile2", "/FontFile3"))
        assert fonts >= 1
        for obj in pdf.objects:
            if isinstance(obj, pikepdf.Dictionary):
                assert obj.get("/S") != pikepdf.Name.JavaScript
    fonts_out = subprocess.run(["pdffonts", str(target)], capture_output=True, check=True).stdout.decode()
    assert all(line.split()[-5] == "yes" for line in fonts_out.splitlines()[2:])  # poppler agrees: emb yes
    assert nonblank_lines(pdftotext_pages(target)[0]) == nonblank_lines(stored_text(home, N1)[0])  # text kept
    assert check.check_file(target)["pdfa"] == "2b"


def test_page_without_layout_gets_plain_text_and_is_reported(home, sessions, tmp_path):
    row = add_ocr_dossier(home, N1, pages=2)
    with home.catalog.write() as conn:
        first = conn.execute("SELECT id FROM pages WHERE dossier_id = ? AND seq = 1", (row["id"],)).fetchone()[0]
        second = conn.execute("SELECT id FROM pages WHERE dossier_id = ? AND seq = 2", (row["id"],)).fetchone()[0]
        conn.execute("DELETE FROM page_layout WHERE page_id = ?", (first,))
        conn.execute("DELETE FROM page_layout WHERE page_id = ?", (second,))
        conn.execute("DELETE FROM page_text WHERE page_id = ?", (second,))
    result = copies.export_copies(sessions["clerk1"], [N1], tmp_path / "out", "pdf")
    entry = result["files"][0]
    assert entry["pages_unpositioned"] == [1] and entry["pages_without_text"] == [2]
    text = pdftotext_pages(Path(entry["file"]))
    assert nonblank_lines(text[0]) == nonblank_lines(stored_text(home, N1)[0])  # still searchable and copyable
    assert text[1].strip() == ""
    audit = _audit(home, "export.pdf")[-1]
    assert json.loads(audit["after"])["pages_without_text"] == [2]
    report = check.check_file(Path(entry["file"]))
    assert not report["ok"] and report["pages_without_text"] == [2]  # QC sees the page


def test_r40_pdf_from_images_encrypted_at_rest(home, sessions, tmp_path):
    add_ocr_dossier(home, N1, pages=1)
    protection.enable(sessions["admin"], "a long protection passphrase")
    protection.enable_images(sessions["admin"])
    blob = (Path(home.path) / "images" / N1 / f"{N1}-0001.jpg").read_bytes()
    assert blob.startswith(b"SSENC1")
    try:
        target = Path(copies.export_copies(sessions["clerk1"], [N1], tmp_path / "out", "pdf")["files"][0]["file"])
        with pikepdf.open(target) as pdf:
            image = list(pdf.pages[0].Resources.XObject.values())[0]
            assert image.read_raw_bytes() == protection.image_store(home).read_bytes(N1, f"{N1}-0001.jpg")
    finally:
        protection.forget(home)


def test_pdf_from_tiff_masters_converted(home, sessions, tmp_path):
    add_ocr_dossier(home, N1, pages=1, fmt="tiff")
    add_ocr_dossier(home, N2, pages=1, fmt="tiff1")
    result = copies.export_copies(sessions["clerk1"], [N1, N2], tmp_path / "out", "pdf")
    assert result["files"][0]["images"] == {"jpeg-converted": 1}
    assert result["files"][1]["images"] == {"bitonal-flate": 1}
    for entry, number in zip(result["files"], (N1, N2)):
        pages = render_pdf_pages(Path(entry["file"]), tmp_path / number, dpi=30)
        master = downscaled(
            protection.image_store(home).read_bytes(number, f"{number}-0001.tif"),
            (pages[0].shape[1], pages[0].shape[0]),
        )
        assert np.abs(pages[0] - master).mean() < 8
        assert nonblank_lines(pdftotext_pages(Path(entry["file"]))[0]) == nonblank_lines(stored_text(home, number)[0])


def test_pdf_watermark_is_visible_and_audited(home, sessions, tmp_path):
    add_ocr_dossier(home, N1, pages=1)
    plain = Path(copies.export_copies(sessions["clerk1"], [N1], tmp_path / "plain", "pdf")["files"][0]["file"])
    marked = Path(
        copies.export_copies(sessions["clerk1"], [N1], tmp_path / "marked", "pdf", watermark="仅供查阅")["files"][0][
            "file"
        ]
    )
    a = render_pdf_pages(plain, tmp_path / "a", dpi=40)[0]
    b = render_pdf_pages(marked, tmp_path / "b", dpi=40)[0]
    assert (np.abs(a - b) > 25).mean() > 0.01  # the watermark shows
    assert nonblank_lines(pdftotext_pages(marked)[0]) == nonblank_lines(stored_text(home, N1)[0])
    entry = _audit(home, "export.pdf")[-1]
    assert "仅供查阅" in entry["after"] and "clerk1" in entry["after"]
    with pytest.raises(InvalidInput):
        copies.export_copies(sessions["clerk1"], [N1], tmp_path / "empty", "pdf", watermark="  ")


def test_r36_export_roles_and_audit(home, sessions, tmp_path):
    add_ocr_dossier(home, N1, pages=1)
    assert set(PERMISSIONS["export"]) == {"clerk", "archivist", "admin"}
    for name in ("qc1", "auditor1"):
        with pytest.raises(Refused):
            copies.export_copies(sessions[name], [N1], tmp_path / name, "pdf")
        assert not (tmp_path / name).exists()
    result = copies.export_copies(sessions["archivist1"], [N1], tmp_path / "ok", "pdf", pdfa=True)
    entry = _audit(home, "export.pdf")
    assert len(entry) == 1 and entry[0]["user"] == "archivist1" and entry[0]["object_id"] == N1
    assert result["files"][0]["sm3"] in entry[0]["after"] and "pdf/a-2b" in entry[0]["after"]


def test_export_failure_paths_write_nothing(home, sessions, tmp_path):
    add_ocr_dossier(home, N1, pages=2)
    with pytest.raises(Exception) as exc:
        copies.export_copies(sessions["clerk1"], ["X001-ZY·DJ·2024·D100-0009-009"], tmp_path / "out", "pdf")
    assert "X001-ZY·DJ·2024·D100-0009-009" in str(exc.value)
    with pytest.raises(InvalidInput):
        copies.export_copies(sessions["clerk1"], [], tmp_path / "out", "pdf")
    out = tmp_path / "out"
    out.mkdir()
    (out / f"{N1}.pdf").write_bytes(b"keep me")
    with pytest.raises(Refused):  # never overwrites
        copies.export_copies(sessions["clerk1"], [N1], out, "pdf")
    assert (out / f"{N1}.pdf").read_bytes() == b"keep me"
    (Path(home.path) / "images" / N1 / f"{N1}-0002.jpg").unlink()
    with pytest.raises(Refused) as missing:
        copies.export_copies(sessions["clerk1"], [N1], tmp_path / "other", "pdf")
    assert missing.value.en.startswith(f"Page 2 of {N1} is missing") and "fixity check" in missing.value.en
    assert not list((tmp_path).glob("other/*"))
    add_ocr_dossier(home, N2, pages=1)
    with pytest.raises(InvalidInput):  # one file name, two dossiers
        copies.export_copies(sessions["clerk1"], [N1, N2], tmp_path / "one.pdf", "pdf")
    with pytest.raises(InvalidInput):
        copies.export_copies(sessions["clerk1"], [N1], tmp_path / "x", "ofd", pdfa=True)
    assert _audit(home, "export.pdf") == []


def test_destroyed_dossier_is_not_exported(home, sessions, tmp_path):
    row = add_ocr_dossier(home, N1, pages=1)
    home.catalog.conn.execute("UPDATE dossiers SET status = 'destroyed' WHERE id = ?", (row["id"],))
    with pytest.raises(Refused):
        resolve_dossier(home.catalog, N1)


def test_separators_follow_the_line_text():
    from scanstation.export import separators

    line = Line(
        text="社会保险 Social Insurance 登记表",
        box=(0, 0, 100, 10),
        words=(
            Word("社会", (0, 0, 10, 10)),
            Word("保险", (10, 0, 20, 10)),
            Word("Social", (25, 0, 40, 10)),
            Word("Insurance", (45, 0, 60, 10)),
            Word("登记表", (65, 0, 80, 10)),
        ),
    )
    assert separators(line) == ["", " ", " ", " ", ""]
    odd = Line(
        text="???",
        box=(0, 0, 1, 1),
        words=(Word("ab", (0, 0, 1, 1)), Word("cd", (1, 0, 2, 1)), Word("中", (2, 0, 3, 1)), Word("文", (3, 0, 4, 1))),
    )
    assert separators(odd) == [" ", "", "", ""]


def test_layout_boxes_scale_to_the_image(home, sessions, tmp_path):
    """A layout made on a half-size image still lands on the page (boxes scale by width/height)."""
    row = add_ocr_dossier(home, N1, pages=1, layout=False, text=False)
    page_id = home.catalog.one("SELECT id FROM pages WHERE dossier_id = ?", (row["id"],))["id"]
    from scanstation.ocr.layout import save_layout

    with home.catalog.write() as conn:
        save_layout(
            conn,
            page_id,
            PageLayout(
                width=100,
                height=100,
                engine="test",
                lines=(Line("档案", (10, 10, 50, 20), (Word("档案", (10, 10, 50, 20)),)),),
            ),
            now_iso(),
        )
    target = Path(copies.export_copies(sessions["clerk1"], [N1], tmp_path / "o", "pdf")["files"][0]["file"])
    html = subprocess.run(["pdftotext", "-bbox", str(target), "-"], capture_output=True, check=True).stdout.decode()
    m = re.search(r'xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">档案<', html)
    with pikepdf.open(target) as pdf:
        w, h = float(pdf.pages[0].MediaBox[2]), float(pdf.pages[0].MediaBox[3])
    assert m and abs(float(m.group(1)) - 0.1 * w) < 1 and abs(float(m.group(3)) - 0.5 * w) < 2
    assert 0.08 * h < float(m.group(2)) < 0.2 * h
