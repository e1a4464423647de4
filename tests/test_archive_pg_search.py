"""Search on the PostgreSQL archive: application-made unigram/bigram tokens in GIN-indexed tsvectors give
the same hits, order, fields and masked snippets as the SQLite (FTS5) path on the same data."""

from __future__ import annotations

import random

import pytest

from scanstation import search
from scanstation.storage.catalog import Catalog
from scanstation.storage.pg_catalog import PgCatalog

WORDS = [
    "养老保险",
    "参保人员",
    "登记表",
    "工伤",
    "失业",
    "医疗",
    "缴费",
    "基数",
    "单位",
    "职工",
    "退休",
    "审批",
    "档案",
    "社会保险",
    "事业管理中心",
    "王芳",
    "李",
    "城市建设",
    "投资集团",
    "有限公司",
    "ABC123",
    "2024",
    "年",
    "月",
    "身份证号 31010419761017344X",
    "档",
    "案",
]
QUERIES = [
    "档",
    "档案",
    "参保人员",
    "养老 缴费",
    "王芳",
    "王",
    "abc123",
    "2024",
    "17344x",
    "19761017",
    "0001-001",
    "D100-0003",
    "X001-ZY·DJ·2024·D100-0002-001",
    "x001-zy",
    "鲲鹏",
    "A档",
    "社会保险事业管理中心",
    "保险 职工 退休",
    "31010419761017344X",
    "审批表",
]


def _fill(catalog, rng_seed: int = 16) -> list[int]:
    rng = random.Random(rng_seed)
    page_ids = []
    with catalog.write() as conn:
        conn.execute("INSERT INTO fonds(code, name) VALUES ('X001', '')")
        for d in range(1, 13):
            number = f"X001-ZY·DJ·2024·D100-{d:04d}-001"
            id_number = "31010419761017344X" if d % 3 == 0 else f"1101051980{d:02d}0101{d % 10}"
            cur = conn.execute(
                "INSERT INTO dossiers(number, fonds_code, year, retention, title, person_name, person_id_number, employer,"
                " status, created_at, updated_at) VALUES (?, 'X001', 2024, 'D100', ?, ?, ?, ?, 'archived', 't', 't')",
                (
                    number,
                    "".join(rng.choice(WORDS[:14]) for _ in range(3)),
                    rng.choice(["王芳", "李明", "张伟"]),
                    id_number,
                    rng.choice(["城市建设投资集团有限公司", "社会保险事业管理中心", "ABC123 公司"]),
                ),
            )
            dossier_id = cur.lastrowid
            for seq in range(1, 4):
                cur = conn.execute(
                    "INSERT INTO pages(dossier_id, seq, state, file_name, created_at) VALUES (?, ?, 'active', ?, 't')",
                    (dossier_id, seq, f"{number}-{seq:04d}.jpg"),
                )
                text = " ".join(rng.choice(WORDS) for _ in range(rng.randint(8, 40)))
                conn.execute(
                    "INSERT INTO page_text(page_id, status, text, updated_at) VALUES (?, 'done', ?, 't')",
                    (cur.lastrowid, text),
                )
                page_ids.append(cur.lastrowid)
            search.index_dossier(conn, dossier_id)
        for page_id in page_ids:
            search.index_page_text(conn, page_id)
    return page_ids


def _hits(catalog, query: str, unmasked=False):
    return [
        (h.number, h.page, h.field, h.snippet, round(h.score, 9), h.dossier_id, h.page_id)
        for h in search.search(catalog, query, limit=50, unmasked=unmasked)
    ]


@pytest.fixture
def both(tmp_path, pg_dsn):
    """A SQLite catalog and a PostgreSQL catalog holding the same dossiers and text."""
    lite = Catalog(tmp_path / "catalog.sqlite")
    lite.migrate()
    pg = PgCatalog(pg_dsn)
    pg.migrate()
    try:
        assert _fill(lite) == _fill(pg)
        yield lite, pg
    finally:
        lite.close()
        pg.close()


def test_search_on_postgresql_equals_the_sqlite_path(both):
    lite, pg = both
    counts = {}
    for query in QUERIES:
        expected = _hits(lite, query)
        assert _hits(pg, query) == expected, query
        counts[query] = len(expected)
    assert _hits(pg, "31010419761017344X", unmasked=True) == _hits(lite, "31010419761017344X", unmasked=True)
    # one-, two- and longer queries, ID numbers and 档号 all find something; a word not in the data nothing
    assert all(counts[q] for q in ("档", "档案", "参保人员", "王芳", "17344x", "0001-001", "x001-zy")), counts
    assert counts["鲲鹏"] == 0
    print("search hits per query:", counts)
    masked = " ".join(h[3] for h in _hits(pg, "31010419761017344X"))
    assert "31010419761017344X" not in masked  # R40: masked unless allowed
    # a page's text changes: both indexes follow
    for catalog in (lite, pg):
        with catalog.write() as conn:
            search.unindex_page(conn, 5)
            conn.execute("UPDATE page_text SET text = '鲲鹏 展翅 档案' WHERE page_id = 5")
            search.index_page_text(conn, 5)
    for query in ("鲲鹏", "档案", "展翅"):
        assert _hits(pg, query) == _hits(lite, query), query
    assert _hits(pg, "鲲鹏")[0][6] == 5
    # a rebuild gives the same index
    with pg.write():
        assert search.rebuild_index(pg)["pages"] == 36
    for query in QUERIES[:6]:
        assert _hits(pg, query) == _hits(lite, query), query


def test_an_empty_query_is_a_plain_message(pg_dsn):
    from scanstation.errors import InvalidInput

    pg = PgCatalog(pg_dsn)
    pg.migrate()
    try:
        with pytest.raises(InvalidInput):
            search.search(pg, "  ·  ")
    finally:
        pg.close()


def test_words_with_more_matches_than_are_ranked_give_the_same_newest_hits(both, monkeypatch):
    """Past RANK_WINDOW matches a word lists its newest matches. PostgreSQL gets them without ordering
    every match (PgSearchIndex.newest_or_all): the hits must still equal the SQLite path's, on both sides
    of the window."""
    lite, pg = both
    for window in (3, 7):
        monkeypatch.setattr(search, "RANK_WINDOW", window)
        over = 0
        for query in QUERIES:
            expected = _hits(lite, query)
            assert _hits(pg, query) == expected, (window, query)
            over += len(expected) > window
        assert over  # some queries went past the window, some did not


# Words whose bigrams a page holds apart or across a break, beside pages where the word is whole: a
# phrase of trigrams (PostgreSQL) must find exactly the rows the phrase of bigrams (SQLite) finds.
TRIGRAM_TEXTS = [
    "档案管理办法",
    "档案 的 管理",  # spaces between CJK characters are layout: 档案的管理
    "案管 档案",
    "档，案管理",  # a one-character run before a break: no bigram 档案 there
    "档案，案管理",  # two runs whose bigrams are neighbours in the stream: the bigram phrase matches
    "管理员 ab bc abc 理员管",
    "社会保险事业管理中心 养老保险待遇核定",
    "保险事 险事业 事业管",
]
TRIGRAM_QUERIES = [
    "档案管",
    "档案管理",
    "案管理",
    "管理员",
    "理员管",
    "abc",
    "保险事业",
    "险事业管理",
    "事业管理中心",
    "养老保险待遇核定表",
]


def test_words_of_three_or_more_characters_find_the_same_rows_through_trigrams(both):
    lite, pg = both
    for catalog in (lite, pg):
        with catalog.write() as conn:
            for n, text in enumerate(TRIGRAM_TEXTS):
                page_id = 101 + n
                conn.execute(
                    "INSERT INTO pages(id, dossier_id, seq, state, file_name, created_at) "
                    "VALUES (?, 1, ?, 'active', ?, 't')",
                    (page_id, 10 + n, f"extra-{n}.jpg"),
                )
                conn.execute(
                    "INSERT INTO page_text(page_id, status, text, updated_at) VALUES (?, 'done', ?, 't')",
                    (page_id, text),
                )
                search.index_page_text(conn, page_id)
    found = {}
    for query in TRIGRAM_QUERIES:
        expected = _hits(lite, query)
        assert _hits(pg, query) == expected, query
        found[query] = sorted(h[6] for h in expected if h[6] and h[6] > 100)
    assert found["档案管"] == [101, 105] and found["案管理"] == [101, 104, 105], found
    assert found["理员管"] == [106] and found["事业管理中心"] == [107], found
    # words of three or more characters are asked of the trigram column; one or two, of the bigrams
    from scanstation.storage import pg_search

    assert pg_search._where(search.compile_query("档案管").clauses) == ("tri @@ CAST(? AS tsquery)", ["'档案管'"])
    assert pg_search._where(search.compile_query("档案管理").clauses)[1] == ["'档案管' <-> '案管理'"]
    assert pg_search._where(search.compile_query("档案").clauses)[0] == "bi @@ CAST(? AS tsquery)"


def test_migration_112_gives_indexed_rows_the_trigrams_new_rows_get(both):
    """A catalog indexed before the trigram column existed gets, from its stored bigrams, the same
    trigrams the application makes for a new row."""
    from scanstation.storage import pg_search

    _lite, pg = both
    made = {}
    for table, key in (("search_pages", "page_id"), ("search_dossiers", "dossier_id")):
        rows = pg.conn.execute(f"SELECT {key}, bi::text, tri::text FROM {table} ORDER BY {key}").fetchall()
        assert rows and any(tri for _, _, tri in rows)
        made[table] = rows
    with pg.write() as conn:  # as the catalog was before migration 112
        for table in made:
            conn.execute(f"ALTER TABLE {table} DROP COLUMN tri")
        conn.execute("DELETE FROM migrations WHERE number = 112")
    assert pg.migrate() == [112]
    for table, key in (("search_pages", "page_id"), ("search_dossiers", "dossier_id")):
        migrated = pg.conn.execute(f"SELECT {key}, bi::text, tri::text FROM {table} ORDER BY {key}").fetchall()
        assert migrated == made[table], table
    # and the application's own rule, read back through PostgreSQL, is what the rows hold
    bi_stream = "档案 案管 管理 a ab bc 理员"
    literal = pg_search.text_row(bi_stream, "")[2]
    assert pg.conn.execute("SELECT CAST(? AS tsvector)::text", (literal,)).fetchone()[0] == (
        "'abc':5 '案管理':2 '档案管':1"
    )
