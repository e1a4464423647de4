"""A 档号 printed on a page is found by search, however OCR spelled its separators (dossier_number.canonical_in_text
and search.normalize), checked on strings the engines printed and on generated forms read by real tesseract and
PP-OCR (rapidocr)."""

from __future__ import annotations

import re
import unicodedata

import pytest

from scanstation import search
from scanstation.dossier_number import DAT22_ITEM, canonical_in_text
from scanstation.home import Home
from scanstation.ocr import engines
from tests.test_search import add_dossier, add_page, ensure_search_tables


@pytest.fixture
def home(tmp_path):
    h = Home.create(tmp_path / "h", "X001", "S01")
    ensure_search_tables(h)
    yield h
    h.close()


# What tesseract 5.3 (chi_sim) and PP-OCRv4 printed for 档号 on generated forms, and the number it was
@pytest.mark.parametrize(
    "read, number",
    [
        ("档号 X007-ZYZY·2023·D100-6977-250", "X007-ZY·ZY·2023·D100-6977-250"),  # PP-OCR lost one "·"
        ("档号 X008-ZY· DY· 2015· D50-7268-148", "X008-ZY·DY·2015·D50-7268-148"),  # PP-OCR: spaces after "·"
        ("档号 X008-ZY。 DY. 2015。D50-7268-148", "X008-ZY·DY·2015·D50-7268-148"),  # tesseract: "。" and "."
        ("档号 X009-ZY.JF.2024.D10-5978-785", "X009-ZY·JF·2024·D10-5978-785"),
        ("X008.ZYJF.2017.Y.2857.917", "X008-ZY·JF·2017·Y-2857-917"),  # every separator misread or lost
        ("档号 X004-ZY.JF.2020 立 8975-180", "X004-ZY·JF·2020·Y-8975-180"),  # tesseract: "·Y-" as " 立 "
        ("档号 X008.ZYJF.2017 了 2857.917", "X008-ZY·JF·2017·Y-2857-917"),
        ("Xo07 ZY:ZY:2023:Dl00-6977-25O", "X007-ZY·ZY·2023·D100-6977-250"),  # o/0, l/1 in digit runs
        ("X001、ZY、DJ、2024、D100、0001、001", "X001-ZY·DJ·2024·D100-0001-001"),
        ("X001 - ZY • DJ ・ 2024 · D100 - 69 77 - 001", "X001-ZY·DJ·2024·D100-6977-001"),
        ("Ｘ００１－ＺＹ・ＤＪ・２０２４・Ｄ１００－０００１－００１", "X001-ZY·DJ·2024·D100-0001-001"),  # full width
    ],
)
def test_r13_a_misread_dossier_number_is_written_canonically_and_found(read, number):
    assert number in canonical_in_text(unicodedata.normalize("NFKC", read))
    for query in (number, *(number.replace("·", dot) for dot in (".", ":", "・", "•"))):
        assert _found(read, query), (read, query)
    full_width = number.translate({c: c + 0xFEE0 for c in range(0x21, 0x7F)}).replace("\uff0d", "－")
    assert _found(read, full_width)


def test_text_that_is_not_a_dossier_number_is_left_as_it_was():
    for text in (
        "2024年3月5日 缴费基数 3.5 万元，电话 0571-8888-1234，第1.2.3条",
        "330102199001011234 张伟",
        "XO07-ZY·DJ·2024·D100-0001-001",  # upper-case O in a code may be real: not turned into 0
        "X001-ZY·DJ·2024·D100-0000-001",  # fits the shape but is not a valid number (volume 0000)
        "X001-ZY·DJ·1800·D100-0001-001",  # year out of range
        "X004-ZY.立.2020.Y-8975-180",  # a Han character stands only for the one single-letter code (Y)
        "X004-ZY.JF.2020 立 D10-8975-180",
    ):
        assert canonical_in_text(text) == text
    # another built-in grammar (DA/T 22 by item)
    assert canonical_in_text("X001 WS.2024.D30 0012", DAT22_ITEM) == "X001-WS·2024·D30-0012"


def test_another_number_on_the_page_is_found_as_well_and_stored_text_is_searched(home):
    own = add_dossier(home, "X001-ZY·DJ·2024·D100-0001-001", title="参保登记表")
    add_dossier(home, "X001-ZY·DJ·2023·D30-0042-007", title="另一卷")
    add_page(home, own, 1, "附件：见档号 X001-ZYDJ.2023:D30-0042 007 所载材料；本卷档号 X001-ZY·DJ·2024·Dl00-0001-001")
    for query in ("X001-ZY·DJ·2023·D30-0042-007", "X001-ZY.DJ.2024.D100-0001-001"):
        hits = [h for h in search.search(home.catalog, query) if h.page is not None]
        assert hits and hits[0].number == "X001-ZY·DJ·2024·D100-0001-001", query


def test_an_upgraded_catalog_is_indexed_again_by_migration_62(tmp_path, monkeypatch):
    from scanstation.storage import catalog as catalog_module

    real = catalog_module.all_migrations
    monkeypatch.setattr(catalog_module, "all_migrations", lambda: [m for m in real() if m[0] != 62])
    h = Home.create(tmp_path / "old", "X001", "S01")
    dossier = add_dossier(h, "X001-ZY·ZY·2023·D100-6977-250")
    add_page(h, dossier, 1, "档号 X001-ZYZY·2023·D100-6977-250")
    with h.catalog.write() as conn:  # as tokenizer 1 left it
        conn.execute("UPDATE settings SET value = json_set(value, '$.tokenizer', 1) WHERE key = 'search.index'")
    monkeypatch.setattr(catalog_module, "all_migrations", real)
    assert 62 in h.catalog.migrate()
    assert not search.index_needs_rebuild(h.catalog)
    assert [x.page for x in search.search(h.catalog, "X001-ZY·ZY·2023·D100-6977-250") if x.page] == [1]
    h.close()


def _found(text: str, query: str) -> bool:
    """A search for ``query`` finds ``text``: the station's own tokens and query in an FTS5 table like search_pages."""
    import sqlite3

    conn = sqlite3.connect(":memory:")
    conn.execute("CREATE VIRTUAL TABLE p USING fts5(bi, uni, content='', tokenize='unicode61 remove_diacritics 0')")
    bi, uni = search.index_streams(text)
    conn.execute("INSERT INTO p(rowid, bi, uni) VALUES (1, ?, ?)", (bi, uni))
    match = search.compile_query(query).text_match
    return conn.execute("SELECT rowid FROM p WHERE p MATCH ?", (match,)).fetchone() is not None


def _read_right(text: str, number: str) -> bool:
    """OCR read every letter and digit of the 档号 in order, with nothing else between them but separators
    (what is left to a separator-tolerant search; a letter read as a Chinese character is not)."""
    groups = re.findall(r"[0-9A-Z]+", number)
    gap = r"[^0-9A-Za-z\u3400-\u9fff]{0,3}"
    digits = "[0-9OolI|]"
    parts = ["".join(digits if c.isdigit() else c for c in g) for g in groups]
    return re.search(gap.join(parts), text, re.IGNORECASE) is not None


@pytest.mark.parametrize("engine", ["tesseract", "rapidocr"])
def test_every_dossier_number_read_on_generated_forms_is_found_by_search(engine, home, tmp_path):
    """Generated forms (Song/Hei/Kai, 200 and 300 dpi, noise, skew, JPEG) read by the real engine: wherever it read
    the 档号's letters and digits, whatever it made of the separators, the page is found by the number."""
    from scanstation.devices.ocr_forms import form_set, render_form

    if engine == "rapidocr" and engines.rapidocr_problem():
        pytest.skip(engines.rapidocr_problem())
    read_right = 0
    specs = form_set(3, seed=20261206)
    assert {s.dpi for s in specs} == {200, 300}
    for i, spec in enumerate(specs):
        image, truth = render_form(spec)
        path = tmp_path / f"form-{i}.jpg"
        image.save(path, "JPEG", quality=spec.jpeg_quality, dpi=(spec.dpi, spec.dpi))
        text = engines.read_page(str(path), engine, timeout_s=600, dpi=spec.dpi).text
        dossier = add_dossier(home, truth.number)
        add_page(home, dossier, 1, text)
        hits = [h for h in search.search(home.catalog, truth.number.replace("·", ".")) if h.page == 1]
        ok = any(h.number == truth.number for h in hits)
        if _read_right(text, truth.number):
            read_right += 1
            assert ok, (engine, truth.number, text)
    # not vacuous: the engines read most of these numbers' characters right (PP-OCR all of them here)
    assert read_right >= (3 if engine == "rapidocr" else 1)
