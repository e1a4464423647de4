"""R40: with personal-data protection on, OCR text is encrypted at rest and searched through keyed tokens.

The catalog file is read byte by byte: neither the OCR text nor the search index nor the page layout
may hold a name or an ID number read from a page. Search still finds one-, two- and more-character
words and ID numbers, with the key unlocked.
"""

from __future__ import annotations

import sqlite3

import pytest

from scanstation import search
from scanstation.custody import protection, text_protection
from scanstation.errors import Refused
from scanstation.ocr.layout import Line, PageLayout, Word, load_layout, save_layout
from scanstation.ocr.queue import enqueue, store_page_text
from tests.test_custody_fixtures import add_dossier, number_for

PASSPHRASE = "correct horse battery staple"
NAME = "赵钱孙"
ID = "44030119800101123X"
TEXT = f"社会保险参保人员登记表\n姓名 {NAME} 公民身份号码 {ID}\n缴费基数 4500 元"


@pytest.fixture(autouse=True)
def cheap_kdf(monkeypatch):
    monkeypatch.setattr(protection, "KDF_DEFAULTS", {**protection.KDF_DEFAULTS, "time_cost": 1, "memory_cost": 8192})


def _page(home, i=1):
    row = add_dossier(home, number_for(2019, "D30", i), year=2019, retention="D30", pages=1)
    page = home.catalog.one("SELECT id FROM pages WHERE dossier_id = ?", (row["id"],))
    return row, page["id"]


def _store(home, page_id, text=TEXT):
    with home.catalog.write() as conn:
        enqueue(conn, page_id)
        store_page_text(conn, page_id, text, 91.0)


def _catalog_bytes(home) -> bytes:
    home.catalog.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    data = (home.path / "catalog.sqlite").read_bytes()
    wal = home.path / "catalog.sqlite-wal"
    return data + (wal.read_bytes() if wal.exists() else b"")


def _plain_anywhere(home) -> list[str]:
    raw = _catalog_bytes(home)
    return [w for w in (NAME, NAME[:2], ID, ID.lower(), "缴费基数") if w.encode("utf-8") in raw]


def test_r40_ocr_text_and_index_hold_no_plain_text_and_search_still_works(home, sessions):
    protection.enable(sessions["admin"], PASSPHRASE)
    row, page_id = _page(home)
    _store(home, page_id)
    stored = home.catalog.one("SELECT text FROM page_text WHERE page_id = ?", (page_id,))["text"]
    assert stored.startswith("enc1:")
    assert _plain_anywhere(home) == []
    for query in (NAME[0], NAME[:2], NAME, "缴费基数", ID, "参保 缴费"):
        hits = [h for h in search.search(home.catalog, query) if h.field == "text"]
        assert [h.page_id for h in hits] == [page_id], query
    hit = next(h for h in search.search(home.catalog, NAME) if h.field == "text")
    assert "【" + NAME + "】" in hit.snippet and ID not in hit.snippet  # snippet decrypted, ID masked
    assert search.search(home.catalog, "不存在的词") == []
    assert text_protection.read_page_text(home.catalog, page_id) == TEXT  # for viewers and exports


def test_r40_locked_home_refuses_text_search_and_still_unindexes_pages(home, sessions):
    protection.enable(sessions["admin"], PASSPHRASE)
    row, page_id = _page(home)
    _store(home, page_id)
    protection.forget(home)
    with pytest.raises(Refused) as caught:
        search.search(home.catalog, NAME)
    assert "口令" in caught.value.zh
    with home.catalog.write() as conn:  # a page deleted while locked leaves the index
        assert search.unindex_page(conn, page_id)
    protection.remember(home, protection.unlock(home, PASSPHRASE))
    assert [h for h in search.search(home.catalog, NAME) if h.field == "text"] == []
    with home.catalog.write() as conn:
        assert search.index_page_text(conn, page_id)
    assert [h.page_id for h in search.search(home.catalog, NAME) if h.field == "text"] == [page_id]


def test_r40_ocr_result_is_refused_while_locked_rather_than_stored_plain(home, sessions):
    protection.enable(sessions["admin"], PASSPHRASE)
    row, page_id = _page(home)
    protection.forget(home)
    with pytest.raises(Refused):
        _store(home, page_id)
    assert _plain_anywhere(home) == []


def test_r40_text_stored_before_protection_is_sealed_when_it_is_enabled(home, sessions):
    row, page_id = _page(home)
    _store(home, page_id)
    assert home.catalog.one("SELECT text FROM page_text WHERE page_id = ?", (page_id,))["text"] == TEXT
    layout = PageLayout(100, 100, "tesseract", (Line(NAME, (0, 0, 10, 10), (Word(NAME, (0, 0, 10, 10)),)),))
    with home.catalog.write() as conn:
        save_layout(conn, page_id, layout, "2024-01-01T00:00:00+08:00")
    result = protection.enable(sessions["admin"], PASSPHRASE)
    assert result["sealed_page_texts"] == 1 and result["sealed_page_layouts"] == 1
    assert _plain_anywhere(home) == []
    assert [h.page_id for h in search.search(home.catalog, NAME[:2]) if h.field == "text"] == [page_id]
    assert load_layout(home.catalog, page_id) == layout


def test_r40_page_layout_words_are_sealed_in_save_layout(home, sessions):
    protection.enable(sessions["admin"], PASSPHRASE)
    row, page_id = _page(home)
    layout = PageLayout(
        2480,
        3508,
        "tesseract 5 chi_sim",
        (
            Line(
                f"姓名 {NAME}",
                (10, 10, 400, 60),
                (Word("姓名", (10, 10, 100, 60), 95.0), Word(NAME, (120, 10, 400, 60), 90.0)),
            ),
            Line(ID, (10, 80, 600, 130), (Word(ID, (10, 80, 600, 130)),)),
        ),
    )
    with home.catalog.write() as conn:
        save_layout(conn, page_id, layout, "2024-01-01T00:00:00+08:00")
    raw = home.catalog.one("SELECT layout FROM page_layout WHERE page_id = ?", (page_id,))["layout"]
    assert raw.startswith("enc1:") and _plain_anywhere(home) == []
    assert load_layout(home.catalog, page_id) == layout
    protection.forget(home)
    with pytest.raises(Refused):
        load_layout(home.catalog, page_id)


def test_r40_rebuilding_the_index_keeps_keyed_tokens_and_waits_for_the_key(home, sessions):
    protection.enable(sessions["admin"], PASSPHRASE)
    row, page_id = _page(home)
    _store(home, page_id)
    with home.catalog.write() as conn:
        assert search.rebuild_index(conn)["pages"] == 1
    assert [h.page_id for h in search.search(home.catalog, NAME) if h.field == "text"] == [page_id]
    assert _plain_anywhere(home) == []
    protection.forget(home)
    with home.catalog.write() as conn:
        assert search.rebuild_index(conn)["pages"] == 0
    assert search.index_needs_rebuild(home.catalog)


def test_keyed_tokens_differ_between_homes():
    a = text_protection.TextProtection(None, protection.DataKey(b"a" * 32, "a"))
    b = text_protection.TextProtection(None, protection.DataKey(b"b" * 32, "b"))
    assert a.token("档案") != b.token("档案") and a.token("档案") == a.token("档案")
    assert a.match('bi : "档案 案管" AND uni : "档"').count("k") == 3


def test_r40_pdf_copy_of_a_protected_home_carries_the_plain_ocr_text_and_needs_the_key(home, sessions, tmp_path):
    from pathlib import Path

    from scanstation.export import copies
    from tests.export_fixtures import add_ocr_dossier, nonblank_lines, pdftotext_pages, stored_text

    number = "X001-ZY·DJ·2024·D100-0001-001"
    add_ocr_dossier(home, number, pages=1)
    expected = stored_text(home, number)
    protection.enable(sessions["admin"], PASSPHRASE)
    assert stored_text(home, number)[0].startswith("enc1:")
    result = copies.export_copies(sessions["clerk1"], [number], tmp_path / "out", "pdf")
    got = pdftotext_pages(Path(result["files"][0]["file"]))
    assert nonblank_lines(got[0]) == nonblank_lines(expected[0]) and "enc1:" not in got[0]
    protection.forget(home)
    with pytest.raises(Refused):
        copies.export_copies(sessions["clerk1"], [number], tmp_path / "locked", "pdf")


def test_r40_ocr_text_command_shows_the_decrypted_text_masked(home, sessions):
    from scanstation.ocr.actions import page_texts

    protection.enable(sessions["admin"], PASSPHRASE)
    row, page_id = _page(home)
    _store(home, page_id)
    shown = page_texts(sessions["clerk1"], row["number"])["pages"][0]["text"]
    assert "缴费基数" in shown and NAME in shown and ID not in shown and not shown.startswith("enc1:")
