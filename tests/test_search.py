"""Full-text search over OCR text and catalog fields (PRODUCT.md point 8: one- and two-character Chinese words)."""

from __future__ import annotations

import json

import pytest

from scanstation import search
from scanstation.cli.main import main as cli_main
from scanstation.errors import ExitCode, InvalidInput
from scanstation.home import Home, now_iso
from scanstation.ocr.queue import enqueue, store_page_text
from scanstation.users import hash_password

N1 = "X001-ZY·DJ·2024·D100-0001-001"
N2 = "X001-ZY·DJ·2024·D100-0001-002"
N3 = "X001-ZY·ZJ·2023·D30-0007-015"
ID1 = "11010519850612341X"
ID2 = "110108199003071234"

PAGE_1 = "社会保险参保人员登记表\n姓名：张伟 单位：北京华信机械有限公司\n本表用于养老保险缴费基数核定，由经办机构存档。"
PAGE_2 = "档案管理办法：业务档案应当及时归档。档案室负责档案的接收、档案保管、档案利用，档案移交时核对无误。"
PAGE_3 = "失业保险金申领表，申请人王秀英，按规定予以办理，档案一份。"
PAGE_4 = "参保单位登记：单位名称、统一社会信用代码、参保时间。保人员变动另行登记。"  # 参保 and 保人 apart, never 参保人


def ensure_search_tables(home: Home) -> None:
    """Apply this area's catalog migration when the catalog does not have it yet."""
    conn = home.catalog.conn
    if not conn.execute("SELECT 1 FROM sqlite_master WHERE name = 'search_pages'").fetchone():
        conn.executescript(search.MIGRATION[2])


def add_dossier(home, number, title="", name="", id_number="", employer="", status="cataloged") -> int:
    now = now_iso()
    with home.catalog.write() as conn:
        dossier_id = conn.execute(
            "INSERT INTO dossiers(number, fonds_code, year, retention, title, person_name, person_id_number, "
            "employer, status, created_at, updated_at) VALUES (?, 'X001', 2024, 'D100', ?, ?, ?, ?, ?, ?, ?)",
            (number, title, name, id_number, employer, status, now, now),
        ).lastrowid
        search.index_dossier(conn, dossier_id)
    return dossier_id


def add_page(home, dossier_id, seq, text) -> int:
    with home.catalog.write() as conn:
        page_id = conn.execute(
            "INSERT INTO pages(dossier_id, seq, state, file_name, created_at) VALUES (?, ?, 'active', ?, ?)",
            (dossier_id, seq, f"p{seq:04d}.jpg", now_iso()),
        ).lastrowid
        enqueue(conn, page_id)
        store_page_text(conn, page_id, text, 91.0)
    return page_id


@pytest.fixture
def home(tmp_path):
    h = Home.create(tmp_path / "h", "X001", "S01")
    ensure_search_tables(h)
    d1 = add_dossier(h, N1, title="参保人员登记", name="张伟", id_number=ID1, employer="北京华信机械有限公司")
    d2 = add_dossier(h, N2, title="档案移交清册", name="李娜", id_number=ID2, employer="朝阳宏源物流有限公司")
    d3 = add_dossier(h, N3, title="失业保险金申领", name="王秀英", id_number="", employer="")
    h.ids = {
        "d1": d1,
        "d2": d2,
        "d3": d3,
        "p1": add_page(h, d1, 1, PAGE_1),
        "p2": add_page(h, d2, 1, PAGE_2),
        "p3": add_page(h, d3, 1, PAGE_3),
        "p4": add_page(h, d3, 2, PAGE_4),
    }
    yield h
    h.close()


def places(hits, field=None):
    return {(h.number, h.page) for h in hits if field is None or h.field == field}


def test_tokens_bigram_and_unigram_streams():
    bi, uni = search.index_streams("档案管理 ID 110101 社")
    assert bi == "档案 案管 管理 id 110101 社"
    assert uni == "档 案 管 理 社"
    assert search.compile_query("档").text_match == 'uni : "档"'
    assert search.compile_query("档案").text_match == 'bi : "档案"'
    assert search.compile_query("参保人员").text_match == 'bi : "参保 保人 人员"'


def test_one_character_query_finds_pages_and_fields(home):
    hits = search.search(home.catalog, "娜")  # only in a catalog field
    assert places(hits) == {(N2, None)} and hits[0].field == "person_name" and "【娜】" in hits[0].snippet
    hits = search.search(home.catalog, "柜")  # nowhere
    assert hits == []
    assert (N3, 1) in places(search.search(home.catalog, "申"), "text")


def test_two_character_word_danan_is_found(home):
    # the two-character word that SQLite's trigram tokenizer cannot find
    hits = search.search(home.catalog, "档案", limit=50)
    assert places(hits, "text") == {(N2, 1), (N3, 1)}
    assert (N2, None) in places(hits)  # 题名 档案移交清册
    assert (N1, 1) not in places(hits)
    for hit in hits:
        assert "【档案】" in hit.snippet


def test_three_character_phrase_needs_the_characters_in_order(home):
    hits = search.search(home.catalog, "参保人")
    assert places(hits, "text") == {(N1, 1)}  # page 4 has 参保 and 保人 but never 参保人
    assert (N1, None) in places(hits)  # 题名 参保人员登记
    hits = search.search(home.catalog, "养老保险缴费基数")
    assert places(hits) == {(N1, 1)}
    assert "【养老保险缴费基数】" in hits[0].snippet


def test_words_separated_by_spaces_must_all_occur(home):
    assert places(search.search(home.catalog, "档案 失业")) == {(N3, 1)}
    assert places(search.search(home.catalog, "档案 张伟")) == set()


def test_ranking_puts_the_page_with_more_matches_first(home):
    hits = [h for h in search.search(home.catalog, "档案") if h.field == "text"]
    assert [(h.number, h.page) for h in hits] == [(N2, 1), (N3, 1)]  # 7x "档案" beats once
    assert hits[0].score < hits[1].score


def test_id_number_full_and_last_six_digits_masked_unless_allowed(home):
    hits = search.search(home.catalog, ID1)
    assert hits[0].number == N1 and hits[0].field == "person_id_number"
    assert hits[0].snippet == "1101**********341X" and ID1 not in hits[0].snippet
    hits = search.search(home.catalog, ID1[-6:].lower())  # 尾号, lower-case x
    assert [(h.number, h.field) for h in hits] == [(N1, "person_id_number")]
    assert search.search(home.catalog, ID1[-6:], unmasked=True)[0].snippet == "110105198506【12341X】"
    assert places(search.search(home.catalog, "110108")) == {(N2, None)}  # leading part
    assert places(search.search(home.catalog, "19900307")) == {(N2, None)}  # birth date


def test_dossier_number_exact_prefix_and_tail(home):
    hits = search.search(home.catalog, N1)
    assert hits[0].number == N1 and hits[0].field == "number" and hits[0].snippet == f"【{N1}】"
    assert hits[0].score < min(h.score for h in hits[1:]) if len(hits) > 1 else True
    assert places(search.search(home.catalog, "X001-ZY·DJ·2024")) == {(N1, None), (N2, None)}
    # look-alike dots (R13) are read as "·"
    assert search.search(home.catalog, "X001-ZY・DJ・2024・D100-0001-002")[0].number == N2
    assert places(search.search(home.catalog, "0007-015")) == {(N3, None)}
    assert places(search.search(home.catalog, "D30-0007-015")) == {(N3, None)}


def test_catalog_fields_employer_and_name(home):
    hits = search.search(home.catalog, "宏源物流")
    assert places(hits) == {(N2, None)} and hits[0].field == "employer"
    hits = search.search(home.catalog, "王秀英")
    assert (N3, None) in places(hits) and (N3, 1) in places(hits)


def test_replaced_page_is_no_longer_found_and_its_replacement_is(home):
    p2 = home.ids["p2"]
    with home.catalog.write() as conn:
        conn.execute("UPDATE pages SET state = 'replaced', seq = NULL WHERE id = ?", (p2,))
        search.unindex_page(conn, p2)
    new = add_page(home, home.ids["d2"], 1, "移交清册一份，接收人签字。")
    assert (N2, 1) not in places(search.search(home.catalog, "档案"), "text")
    assert [(h.page_id, h.page) for h in search.search(home.catalog, "接收人")] == [(new, 1)]


def test_new_text_replaces_old_text_in_the_index(home):
    p1 = home.ids["p1"]
    with home.catalog.write() as conn:
        store_page_text(conn, p1, "工伤认定申请书", 88.0)
    assert (N1, 1) not in places(search.search(home.catalog, "缴费基数"))
    assert places(search.search(home.catalog, "工伤认定")) == {(N1, 1)}
    assert search.index_needs_rebuild(home.catalog) is False


def test_text_changed_behind_the_index_is_hidden_and_asks_for_a_rebuild(home):
    p1 = home.ids["p1"]
    with home.catalog.write() as conn:
        conn.execute("UPDATE page_text SET text = '别的内容' WHERE page_id = ?", (p1,))
        search.unindex_page(conn, p1)
    assert search.index_needs_rebuild(home.catalog)
    assert (N1, 1) not in places(search.search(home.catalog, "缴费基数"))
    with home.catalog.write() as conn:
        assert search.rebuild_index(conn) == {"dossiers": 3, "pages": 4}
    assert not search.index_needs_rebuild(home.catalog)
    assert places(search.search(home.catalog, "别的内容")) == {(N1, 1)}


def test_edited_and_destroyed_dossiers_follow_the_catalog(home):
    d1 = home.ids["d1"]
    with home.catalog.write() as conn:
        conn.execute("UPDATE dossiers SET person_name = '赵敏' WHERE id = ?", (d1,))
        search.index_dossier(conn, d1)
    assert (N1, None) not in places(search.search(home.catalog, "张伟"), "person_name")
    assert places(search.search(home.catalog, "赵敏")) == {(N1, None)}
    with home.catalog.write() as conn:
        conn.execute("UPDATE dossiers SET status = 'destroyed' WHERE id = ?", (d1,))
        search.index_dossier(conn, d1)
    assert search.search(home.catalog, "赵敏") == []


def test_rebuild_gives_the_same_answers(home):
    before = [(h.number, h.page, h.field) for h in search.search(home.catalog, "档案", limit=50)]
    with home.catalog.write() as conn:
        search.rebuild_index(conn)
    assert [(h.number, h.page, h.field) for h in search.search(home.catalog, "档案", limit=50)] == before


def test_empty_query_is_refused(home):
    with pytest.raises(InvalidInput):
        search.search(home.catalog, " ，。 ")


def test_mask_id_number():
    assert search.mask_id_number(ID2) == "1101**********1234"
    assert search.mask_id_number("1234") == "****"


def test_cli_search_needs_catalog_read_and_prints_json(home, monkeypatch, capsys):
    with home.catalog.write() as conn:
        conn.execute(
            "INSERT INTO users(name, roles, password_hash, created_at) VALUES ('ann', 'clerk', ?, ?)",
            (hash_password("secret-pass"), now_iso()),
        )
    path = home.path  # the command opens the same home (the home lock is re-entrant within a process)
    monkeypatch.setenv("SCANSTATION_PASSWORD", "secret-pass")
    assert cli_main(["--home", str(path), "--user", "ann", "--json", "search", "档案", "--limit", "3"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == 3 and set(rows[0]) >= {"number", "page", "field", "snippet", "score"}
    assert rows[0]["number"] == N2
    assert cli_main(["--home", str(path), "--user", "ann", "search", ID1]) == 0
    out = capsys.readouterr().out
    assert N1 in out and ID1 not in out  # masked in lists (R40) ... unless asked for and allowed
    assert cli_main(["--home", str(path), "--user", "ann", "search", ID1, "--unmasked"]) == 0
    assert ID1 in capsys.readouterr().out
    assert cli_main(["--home", str(path), "--user", "nobody", "search", "档案"]) == ExitCode.REFUSED
    assert cli_main(["--home", str(path), "--user", "ann", "--json", "ocr"]) == 0
    status = json.loads(capsys.readouterr().out)
    assert status["done"] == 4 and status["queued"] == 0


def test_search_tables_added_to_an_existing_catalog_are_filled_at_migration(tmp_path, monkeypatch):
    from scanstation.storage import catalog as catalog_module

    real = catalog_module.all_migrations
    monkeypatch.setattr(catalog_module, "all_migrations", lambda: [m for m in real() if m[0] != search.MIGRATION[0]])
    cat = catalog_module.Catalog(tmp_path / "c.sqlite")
    cat.migrate()  # a catalog from before the search tables, with a dossier in it
    with cat.write() as conn:
        conn.execute("INSERT INTO fonds(code) VALUES ('X001')")
        conn.execute(
            "INSERT INTO dossiers(number, fonds_code, year, retention, title, created_at, updated_at) "
            "VALUES (?, 'X001', 2024, 'D100', '档案移交清册', '', '')",
            (N1,),
        )
    monkeypatch.setattr(catalog_module, "all_migrations", real)
    assert search.MIGRATION[0] in cat.migrate()  # the upgrade indexes what the catalog already holds
    assert not search.index_needs_rebuild(cat)
    assert places(search.search(cat, "档案")) == {(N1, None)}
    cat.close()


def test_id_numbers_inside_page_text_are_masked_in_snippets(home):
    d = home.ids["d2"]
    add_page(home, d, 2, f"申请人身份证号码{ID2}，缴费记录核对无误。")
    hit = search.search(home.catalog, "缴费记录")[0]
    assert ID2 not in hit.snippet and "1101**********1234" in hit.snippet and "【缴费记录】" in hit.snippet
    hit = search.search(home.catalog, "缴费记录", unmasked=True)[0]
    assert ID2 in hit.snippet
    hit = search.search(home.catalog, ID2)  # the number itself is the match: shown masked, no mark on it
    text_hits = [h for h in hit if h.field == "text"]
    assert text_hits and all(ID2 not in h.snippet for h in text_hits)


def test_encrypted_personal_fields_stay_out_of_the_index(home):
    d = add_dossier(
        home,
        "X001-ZY·DJ·2024·D100-0002-001",
        title="工伤认定申请",
        name="enc1:QUJDREVGR0hJSktMTU5PUA",
        id_number="enc1:MTIzNDU2Nzg5MDEyMzQ1Njc4",
    )
    assert places(search.search(home.catalog, "工伤认定")) == {("X001-ZY·DJ·2024·D100-0002-001", None)}
    assert search.search(home.catalog, "enc1") == []
    source = home.catalog.one("SELECT source FROM search_dossier_state WHERE dossier_id = ?", (d,))["source"]
    assert "enc1:" not in source


@pytest.mark.parametrize(
    "query",
    [
        '"',
        '档案"',
        "*",
        "档*",
        "NOT 档案",
        "档案 OR",
        "(",
        "a:b",
        "---",
        "·",
        "x" * 300,
        "ＡＢＣ１２３",
        "110105",
        "NEAR(档案)",
        "^档",
        "档案 AND",
    ],
)
def test_odd_queries_never_break_the_query_syntax(home, query):
    try:
        hits = search.search(home.catalog, query)
    except InvalidInput:
        return
    assert isinstance(hits, list)
