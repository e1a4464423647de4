"""Full-text search over OCR text and catalog fields, Chinese words of any length included.

Why not SQLite's own tokenizers: ``unicode61`` treats a whole run of Chinese characters as one
token (a search for "档案" misses "档案管理"), and ``trigram`` (SQLite 3.34+) only matches queries of
three or more characters, so one- and two-character words such as "档案" or a surname find nothing
(the same break as Paperless-ngx #12860). Python cannot register an FTS5 tokenizer, so the text is
tokenized here and handed to FTS5 already split (``unicode61`` then only splits on the spaces):

* ``bi``  -- every run of CJK characters as overlapping bigrams ("档案管理" -> 档案 案管 管理; a
  single-character run stays one token), other words (Latin letters, digits) whole and lowercased,
  all in reading order so that positions are consecutive;
* ``uni`` -- every CJK character on its own.

A query of one CJK character matches the ``uni`` token, two characters the bigram token, three
or more a phrase of consecutive bigrams ("参保人员" -> "参保 保人 人员"), which FTS5 checks with
positions, so there are no false hits from bigrams found apart. Words separated by spaces must
all occur (AND). This is the classic CJK bigram index (Lucene's CJKAnalyzer). A trigram table
plus a second path for one- and two-character words was the alternative; it needs two indexes
and still a phrase of trigrams for longer words, where one bigram/unigram table covers every
length with a single kind of query.

Measured (bench/search.py, 200,000 pages = 79 M characters of OCR text + 1,000,000 dossiers,
2 shared cores): p95 2 ms for one character, 2.5 ms for two, 15 ms for three, under 1 ms for an
ID number, its last 6 digits or a 档号, against 0.7-1.2 s for LIKE '%q%' over the same data;
index 800 MB (the text itself is 263 MB), full rebuild 220-410 s.

Ranking: BM25 (k1 1.2, b 0.75) over all matches when a query matches at most ``RANK_WINDOW``
rows of a table -- any specific word, name or phrase -- computed here from the stored text of the
matched rows. FTS5's own bm25() is not used: it counts the query's matches in the whole table on
every call (its IDF) and re-runs the phrase, which for common characters and long phrases cost
3-10x the search itself (measured 30-130 ms against 1-15 ms); the IDF is the same for every row
that matches all terms anyway. A query that matches more rows than the window is too common to
rank usefully, so its newest matches come first: FTS5 walks rowids in descending order and
stops early.

Tables (contentless FTS5, rowid = page id / dossier id, so the OCR text is stored once, in
``page_text``): ``search_pages(bi, uni)``, ``search_dossiers(bi, uni)`` for 题名, 姓名 and 单位,
and ``search_codes`` for the parts of 档号 and ID numbers. Deleting from a contentless table
needs the exact tokens that were indexed, so ``search_page_state`` keeps a digest of the indexed
page text (it must still match ``page_text.text``) and ``search_dossier_state`` keeps the indexed
catalog values (the dossier row may already be edited when it is re-indexed).

档号 and ID numbers: exact and any leading part through the catalog's own B-tree indexes
(``dossiers.number``, ``dossiers.person_id_number``); trailing parts through ``search_codes``:
the 档号 from each level boundary ("0001-001", "D100-0001-001"), the ID number's last 4..12
characters (尾号, e.g. the last 6 digits) and its birth date. All of these are exact token or
range lookups, so they stay fast however many dossiers share a prefix.

Personal data (R40): a hit in the ID-number field shows the masked number (first 4 and last 4
characters), and ID or bank numbers inside an OCR snippet are masked too, unless the caller may
see them unmasked. Personal fields stored encrypted (``enc1:...``) are not indexed at all.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sqlite3
import unicodedata
from dataclasses import asdict, dataclass

from scanstation import id_number, settings
from scanstation.dossier_number import BUILT_IN, canonical_in_text
from scanstation.errors import InvalidInput
from scanstation.storage.migrations import after_upgrade as migrations_after_upgrade
from scanstation.storage.migrations import register as register_migrations

log = logging.getLogger("scanstation.search")

TOKENIZER_VERSION = 2  # change => rebuild_index() (the delete path re-tokenizes old values); 2: 档号 read by OCR

MIGRATION = (
    2,
    "search",
    f"""
CREATE VIRTUAL TABLE search_pages USING fts5(bi, uni, content='', tokenize='unicode61 remove_diacritics 0');
CREATE VIRTUAL TABLE search_dossiers USING fts5(bi, uni, content='', tokenize='unicode61 remove_diacritics 0');
CREATE VIRTUAL TABLE search_codes USING fts5(codes, content='', detail='none',
    tokenize='unicode61 remove_diacritics 0 tokenchars ''-·''');
CREATE TABLE search_page_state (
    page_id INTEGER PRIMARY KEY,         -- indexed in search_pages
    digest TEXT NOT NULL                 -- of the page_text.text that was indexed
);
CREATE TABLE search_dossier_state (
    dossier_id INTEGER PRIMARY KEY,      -- indexed in search_dossiers and search_codes
    source TEXT NOT NULL                 -- the catalog values that were indexed, unit-separated
);
INSERT INTO settings(key, value) SELECT 'search.index', json_object('tokenizer', {TOKENIZER_VERSION}, 'needs_rebuild',
    json(CASE WHEN EXISTS (SELECT 1 FROM dossiers) THEN 'true' ELSE 'false' END))
    WHERE 1 ON CONFLICT(key) DO NOTHING;
""",
)
# Tokenizer 2 writes 档号 that OCR misread in canonical spelling: an upgraded catalog is indexed again.
MIGRATIONS = [
    MIGRATION,
    (
        62,
        "search tokenizer 2: 档号 read by OCR",
        f"""
UPDATE settings SET value = json_set(value, '$.needs_rebuild', json('true'))
    WHERE key = 'search.index' AND json_extract(value, '$.tokenizer') IS NOT {TOKENIZER_VERSION};
""",
    ),
]
register_migrations(__name__, MIGRATIONS)

RANK_WINDOW = 1000  # at most this many matches are ranked; more: newest first (docstring)
SNIPPET_CHARS = 30
MARK_OPEN, MARK_CLOSE = "【", "】"

# catalog fields that are searched, in the order a hit is attributed to a field
TEXT_FIELDS = ("title", "person_name", "employer")
CODE_FIELDS = ("number", "person_id_number")

_HAN = "\u3007\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0003134f"
_TOKEN = re.compile(rf"[{_HAN}]+|[^\W_{_HAN}]+")
_IS_HAN = re.compile(rf"[{_HAN}]")
_DOT_LOOKALIKES = str.maketrans({"・": "·", "•": "·", "．": "·", "‧": "·", "∙": "·", "⋅": "·", "･": "·"})
_DOT_LOOKALIKE = re.compile("[・•．‧∙⋅･]")
_CODE_QUERY = re.compile(r"[0-9a-z·\-]{3,}")
# A 档号-like token as OCR prints it: letter/digit groups joined by "-", "·" or what OCR reads the
# middle dot as (".", ":", "'", "。", a run of them, spaces around them), at least two joins --
# "X001-ZY.DJ:2024·D100-0001", "X008-ZY。 DY. 2015。D50". Decimals ("3.5"), times ("10:30") and
# file names have one join and are left alone.
_CODE_LIKE = re.compile(r"(?<![0-9a-z])[0-9a-z]+(?:(?:-|[ ]?[·.:'。、]+[ ]?)[0-9a-z]+){2,}(?![0-9a-z])")
_CODE_DOT = re.compile(r"[ ]?[·.:'。、]+[ ]?")
_WS_BETWEEN_HAN = re.compile(rf"(?<=[{_HAN}])\s+(?=[{_HAN}])")
# values of encrypted personal fields (scanstation.custody.protection.FIELD_PREFIX)
ENCRYPTED_PREFIX = "enc1:"


@dataclass(frozen=True)
class Hit:
    number: str  # 档号
    page: int | None  # page sequence number; None for a catalog-field hit
    field: str  # "text" (OCR) or a dossiers column: number, title, person_name, ...
    snippet: str  # ~30 characters around the first match, marked 【】
    score: float  # lower is better (bm25 convention)
    dossier_id: int = 0
    page_id: int | None = None
    engine: str = ""  # OCR engine that read the page ("" for a catalog-field hit)

    def as_dict(self) -> dict:
        return asdict(self)


# -- tokenizing ----------------------------------------------------------------------------
def normalize(text: str) -> str:
    """NFKC (full-width letters and digits), look-alike dots -> "·", a 档号 OCR misread (separators
    missing, changed or spaced, O/0 and l/1 in its digit runs) in canonical spelling, lower case; in
    other 档号-like tokens the dots OCR reads for "·" (".", ":", "'", "。", "、") -> "·" too
    (``fold_code_dots``)."""
    text = text or ""
    if _DOT_LOOKALIKE.search(text):  # translate() and normalize() are slow on CJK text: only when needed
        text = text.translate(_DOT_LOOKALIKES)
    if not unicodedata.is_normalized("NFKC", text):
        text = unicodedata.normalize("NFKC", text)
    for schema in BUILT_IN.values():  # the built-in 档号 grammars (the index does not know a home's own)
        text = canonical_in_text(text, schema)
    return fold_code_dots(text.casefold())


def fold_code_dots(text: str) -> str:
    """In 档号-like tokens (``_CODE_LIKE``, with a digit) of lower-cased NFKC text, ".", ":", "'", "。"
    (or a run of them, spaces around) -> "·": OCR reads the middle dot of "x001-zy·dj·2024" as any of
    them. Other text is returned unchanged."""
    if "." not in text and ":" not in text and "'" not in text and "。" not in text and "、" not in text:
        return text
    return _CODE_LIKE.sub(
        lambda m: _CODE_DOT.sub("·", m.group()) if re.search(r"[0-9]", m.group()) else m.group(), text
    )


def index_streams(text: str) -> tuple[str, str]:
    """The ``bi`` and ``uni`` token strings of ``text`` (see module docstring)."""
    bi: list[str] = []
    uni: list[str] = []
    # spaces between two Chinese characters are layout, not word breaks (OCR puts them everywhere)
    for match in _TOKEN.finditer(_WS_BETWEEN_HAN.sub("", normalize(text))):
        token = match.group()
        if _IS_HAN.match(token):
            if len(token) == 1:
                bi.append(token)
            else:
                bi.extend(a + b for a, b in zip(token, token[1:]))
            uni.extend(token)
        else:
            bi.append(token)
    return " ".join(bi), " ".join(uni)


def code_tokens(number: str, id_number: str) -> str:
    """Trailing parts of a 档号 (from each level boundary) and of an ID number (last 4..12, birth date)."""
    tokens: list[str] = []
    number = normalize(number).strip()
    for i, ch in enumerate(number):
        if ch in "-·" and i + 1 < len(number):
            tokens.append(number[i + 1 :])
    id_number = normalize(id_number).strip()
    if len(id_number) >= 8:
        start = 6 if len(id_number) >= 15 else 1
        tokens.extend(id_number[i:] for i in range(start, len(id_number) - 3))
        if len(id_number) == 18:
            tokens.append(id_number[6:14])  # birth date
    return " ".join(dict.fromkeys(t for t in tokens if t.strip("-·")))


def mask_id_number(value: str, rule: id_number.MaskRule | None = None) -> str:
    """An ID number masked by the station's rule (R40; ``scanstation.id_number.mask``)."""
    return id_number.mask(value or "", rule)


def mask_personal_text(text: str, rule: id_number.MaskRule | None = None) -> str:
    """ID and bank numbers written inside free text, masked (R40; ``scanstation.id_number.mask_text``)."""
    return id_number.mask_text(text or "", rule)


def _plain(value: str) -> str:
    """A catalog value as indexed: encrypted personal fields (R40 at rest) are left out of the index."""
    value = value or ""
    return "" if value.startswith(ENCRYPTED_PREFIX) else value


# -- queries -------------------------------------------------------------------------------
@dataclass(frozen=True)
class CompiledQuery:
    text_match: str  # FTS5 expression for search_pages / search_dossiers ("" = none)
    terms: tuple[str, ...]  # normalized words, for snippets and field attribution
    code: str  # normalized code-like query ("" if the query is not one)
    clauses: tuple = ()  # the same match as (column, consecutive tokens) pairs, all required


def _word_clauses(word: str) -> list[tuple[str, tuple[str, ...]]]:
    """``_word_expression`` as (column, phrase tokens) pairs, for an index that is not FTS5."""
    segments = _TOKEN.findall(word)
    if not segments:
        return []
    if len(segments) == 1 and len(segments[0]) == 1 and _IS_HAN.match(segments[0]):
        return [("uni", (segments[0],))]
    if len(segments) > 1 and any(len(s) == 1 and _IS_HAN.match(s) for s in segments):
        return [c for s in segments for c in _word_clauses(s)]
    return [("bi", tuple(index_streams(word)[0].split()))]


def compile_query(query: str) -> CompiledQuery:
    norm = normalize(query).strip()
    words = norm.split()
    parts = []
    for word in words:
        expr = _word_expression(word)
        if expr:
            parts.append(expr)
    code = norm if len(words) == 1 and _CODE_QUERY.fullmatch(norm) and re.search(r"[0-9·\-]", norm) else ""
    clauses = tuple(c for word in words for c in _word_clauses(word))
    return CompiledQuery(text_match=" AND ".join(parts), terms=tuple(words), code=code, clauses=clauses)


def _word_expression(word: str) -> str:
    segments = _TOKEN.findall(word)
    if not segments:
        return ""
    if len(segments) == 1 and len(segments[0]) == 1 and _IS_HAN.match(segments[0]):
        return f'uni : "{segments[0]}"'
    if len(segments) > 1 and any(len(s) == 1 and _IS_HAN.match(s) for s in segments):
        # a lone CJK character next to a Latin word is not a bigram in the text: match the parts
        return "(" + " AND ".join(_word_expression(s) for s in segments) + ")"
    return f'bi : "{index_streams(word)[0]}"'


# -- keeping the index in step -------------------------------------------------------------
def _conn(db) -> sqlite3.Connection:
    return getattr(db, "conn", db)


class _Fts5Index:
    """The index's statements on SQLite (contentless FTS5 tables; see the module docstring)."""

    def __init__(self, conn):
        self.conn = conn

    def insert_text(self, table: str, rowid: int, bi: str, uni: str) -> None:
        self.conn.execute(f"INSERT INTO {table}(rowid, bi, uni) VALUES (?, ?, ?)", (rowid, bi, uni))

    def delete_text(self, table: str, rowid: int, bi: str, uni: str) -> None:
        self.conn.execute(f"INSERT INTO {table}({table}, rowid, bi, uni) VALUES ('delete', ?, ?, ?)", (rowid, bi, uni))

    def insert_codes(self, rowid: int, codes: str) -> None:
        self.conn.execute("INSERT INTO search_codes(rowid, codes) VALUES (?, ?)", (rowid, codes))

    def delete_codes(self, rowid: int, codes: str) -> None:
        self.conn.execute(
            "INSERT INTO search_codes(search_codes, rowid, codes) VALUES ('delete', ?, ?)", (rowid, codes)
        )

    def delete_all(self) -> None:
        for table in ("search_pages", "search_dossiers", "search_codes"):
            self.conn.execute(f"INSERT INTO {table}({table}) VALUES ('delete-all')")

    def optimize(self) -> None:
        for table in ("search_pages", "search_dossiers", "search_codes"):
            self.conn.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")

    def match(self, table: str, compiled, limit: int) -> list[int]:
        return [
            r[0]
            for r in self.conn.execute(
                f"SELECT rowid FROM {table} WHERE {table} MATCH ? ORDER BY rowid DESC LIMIT ?",
                (compiled.text_match, limit),
            )
        ]

    def newest_or_all(self, table: str, compiled, window: int, want: int) -> tuple[list[int], bool]:
        """(ids, more): every match, newest first, when there are at most ``window``; else the newest
        ``want`` of them (at most ``window + 1``) and more=True. One index walk in rowid order gives both."""
        ids = self.match(table, compiled, window + 1)
        return (ids[:want], True) if len(ids) > window else (ids, False)

    def match_code(self, code: str, limit: int) -> list[int]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT rowid FROM search_codes WHERE search_codes MATCH ? ORDER BY rowid DESC LIMIT ?",
                ('"' + code + '"', limit),
            ).fetchall()
        ]


def _index(conn):
    """The index of this catalog's backend: FTS5 on SQLite, tsvector + GIN on PostgreSQL."""
    if getattr(conn, "backend", "sqlite") == "postgresql":
        from scanstation.storage.pg_search import PgSearchIndex

        class _Pg(PgSearchIndex):
            def match(self, table, compiled, limit):
                return super().match(table, compiled.clauses, limit)

            def newest_or_all(self, table, compiled, window, want):
                return super().newest_or_all(table, compiled.clauses, window, want)

        return _Pg(conn)
    return _Fts5Index(conn)


def _digest(text: str) -> str:
    return hashlib.blake2b(text.encode("utf-8"), digest_size=12).hexdigest()


def index_page_text(db, page_id: int) -> bool:
    """(Re)index a page's OCR text; pages that are not active or have no text are removed.

    Call inside the transaction that stores the text. Returns True when the page is indexed.
    """
    conn = _conn(db)
    unindex_page(conn, page_id)
    row = conn.execute(
        "SELECT t.text, t.status, p.state FROM page_text t JOIN pages p ON p.id = t.page_id WHERE t.page_id = ?",
        (page_id,),
    ).fetchone()
    if not row or row[1] != "done" or row[2] != "active" or not (row[0] or "").strip():
        return False
    protected = _protected(conn)
    if protected is not None and protected.locked:
        _mark_rebuild_needed(conn)  # R40: keyed tokens need the key; indexed at the next rebuild
        return False
    bi, uni = _page_streams(protected, row[0])
    _index(conn).insert_text("search_pages", page_id, bi, uni)
    conn.execute(
        "INSERT INTO search_page_state(page_id, digest) VALUES (?, ?)",
        (page_id, _page_state(protected, row[0], bi, uni)),
    )
    return True


# -- R40: OCR text under personal-data protection lives in scanstation.custody.text_protection ------
def _protected(conn):
    """The home's text protection (encrypted text, keyed tokens), or None when protection is off."""
    import scanstation.custody.text_protection as text_protection

    return text_protection.for_connection(conn)


def _page_streams(protected, stored: str) -> tuple[str, str]:
    if protected is None:
        return index_streams(stored)
    return protected.streams(*index_streams(protected.reveal(stored)))


def _page_state(protected, stored: str, bi: str, uni: str) -> str:
    if protected is None:
        return _digest(stored)
    import scanstation.custody.text_protection as text_protection

    return text_protection.state_of(bi, uni)


def _page_text(protected, stored: str) -> str:
    return stored if protected is None else protected.reveal(stored)


def unindex_page(db, page_id: int) -> bool:
    """Remove a page from the index (page replaced, deleted, or about to get new text)."""
    conn = _conn(db)
    state = conn.execute("SELECT digest FROM search_page_state WHERE page_id = ?", (page_id,)).fetchone()
    if not state:
        return False
    row = conn.execute("SELECT text FROM page_text WHERE page_id = ?", (page_id,)).fetchone()
    text = row[0] if row else None
    keyed = state[0].startswith("keyed:") and _keyed_state(state[0])
    if keyed:
        _index(conn).delete_text("search_pages", page_id, *keyed)
    elif text is not None and _digest(text) == state[0]:
        bi, uni = index_streams(text)
        _index(conn).delete_text("search_pages", page_id, bi, uni)
    else:
        # The text was changed behind the index's back: its old tokens are unknown, so the only
        # safe repair is a rebuild. Search still hides the page (results are checked against
        # search_page_state) until then.
        log.error("page %s: indexed text changed outside scanstation.search; run rebuild_index()", page_id)
        _mark_rebuild_needed(conn)
    conn.execute("DELETE FROM search_page_state WHERE page_id = ?", (page_id,))
    return True


def _keyed_state(state: str):
    import scanstation.custody.text_protection as text_protection

    return text_protection.tokens_from_state(state)


def _dossier_source(row) -> str:
    return "\x1f".join(_plain(row[f]) for f in ("number", "title", "person_name", "employer", "person_id_number"))


def _dossier_tokens(source: str) -> tuple[str, str, str]:
    number, title, name, employer, id_number = (source.split("\x1f") + [""] * 5)[:5]
    bi, uni = index_streams("\n".join((title, name, employer)))
    return bi, uni, code_tokens(number, id_number)


def index_dossier(db, dossier_id: int) -> bool:
    """(Re)index a dossier's catalog fields (档号, 题名, 姓名, 单位, ID number). Call after an import or edit."""
    conn = _conn(db)
    unindex_dossier(conn, dossier_id)
    cur = conn.execute(
        "SELECT number, title, person_name, employer, person_id_number, status FROM dossiers WHERE id = ?",
        (dossier_id,),
    )
    values = cur.fetchone()
    if not values or values[5] == "destroyed":
        return False
    row = dict(zip([d[0] for d in cur.description], values))
    source = _dossier_source(row)
    bi, uni, codes = _dossier_tokens(source)
    index = _index(conn)
    index.insert_text("search_dossiers", dossier_id, bi, uni)
    index.insert_codes(dossier_id, codes)
    conn.execute("INSERT INTO search_dossier_state(dossier_id, source) VALUES (?, ?)", (dossier_id, source))
    return True


def unindex_dossier(db, dossier_id: int) -> bool:
    conn = _conn(db)
    state = conn.execute("SELECT source FROM search_dossier_state WHERE dossier_id = ?", (dossier_id,)).fetchone()
    if not state:
        return False
    bi, uni, codes = _dossier_tokens(state[0])
    index = _index(conn)
    index.delete_text("search_dossiers", dossier_id, bi, uni)
    index.delete_codes(dossier_id, codes)
    conn.execute("DELETE FROM search_dossier_state WHERE dossier_id = ?", (dossier_id,))
    return True


def rebuild_index(db, progress=None) -> dict:
    """Rebuild the whole search index from the catalog (after an upgrade or a repair)."""
    conn = _conn(db)
    index = _index(conn)
    index.delete_all()
    conn.execute("DELETE FROM search_page_state")
    conn.execute("DELETE FROM search_dossier_state")
    dossiers = pages = 0
    cur = conn.execute(
        "SELECT id, number, title, person_name, employer, person_id_number FROM dossiers "
        "WHERE status != 'destroyed' ORDER BY id"
    )
    while True:
        rows = cur.fetchmany(5000)
        if not rows:
            break
        batch = []
        for dossier_id, *values in rows:
            source = "\x1f".join(_plain(v) for v in values)
            batch.append((dossier_id, source, *_dossier_tokens(source)))
        for b in batch:
            index.insert_text("search_dossiers", b[0], b[2], b[3])
            index.insert_codes(b[0], b[4])
        conn.executemany(
            "INSERT INTO search_dossier_state(dossier_id, source) VALUES (?, ?)", [(b[0], b[1]) for b in batch]
        )
        dossiers += len(batch)
        if progress:
            progress("dossiers", dossiers)
    cur = conn.execute(
        "SELECT t.page_id, t.text FROM page_text t JOIN pages p ON p.id = t.page_id "
        "WHERE t.status = 'done' AND p.state = 'active' AND t.text != '' ORDER BY t.page_id"
    )
    protected = _protected(conn)
    locked = protected is not None and protected.locked  # R40: pages wait for the key (still needs_rebuild)
    while not locked:
        rows = cur.fetchmany(2000)
        if not rows:
            break
        page_batch = [(page_id, text, *_page_streams(protected, text)) for page_id, text in rows]
        for p in page_batch:
            index.insert_text("search_pages", p[0], p[2], p[3])
        conn.executemany(
            "INSERT INTO search_page_state(page_id, digest) VALUES (?, ?)",
            [(p[0], _page_state(protected, p[1], p[2], p[3])) for p in page_batch],
        )
        pages += len(page_batch)
        if progress:
            progress("pages", pages)
    index.optimize()
    settings.store(conn, "search.index", {"tokenizer": TOKENIZER_VERSION, "needs_rebuild": bool(locked)})
    return {"dossiers": dossiers, "pages": pages}


def _mark_rebuild_needed(conn) -> None:
    settings.store(conn, "search.index", {"tokenizer": TOKENIZER_VERSION, "needs_rebuild": True})


def index_needs_rebuild(db) -> bool:
    """True when ``rebuild_index`` should run: the index was built by another tokenizer version,
    was marked damaged, or the search tables were added to a catalog that already had dossiers."""
    info = settings.read(_conn(db), "search.index")
    if not info:
        return False  # a new catalog: everything is indexed as it arrives
    return bool(info.get("needs_rebuild")) or info.get("tokenizer") != TOKENIZER_VERSION


@migrations_after_upgrade
def _fill_index_after_upgrade(catalog) -> None:
    """Search tables added to a catalog that already holds rows: index what is there."""
    if index_needs_rebuild(catalog.conn):
        with catalog.write():
            rebuild_index(catalog.conn)


# -- searching -----------------------------------------------------------------------------
# Filters over catalog fields: name -> dossiers column. "department" is 责任者, the unit that formed the file.
FILTER_FIELDS = {
    "year": "year",
    "insurance_type": "insurance_type",
    "business_stage": "business_stage",
    "department": "responsible",
}


def clean_filters(filters: dict | None) -> dict:
    """Only known filters with a value; the year must be a number."""
    cleaned: dict[str, str | int] = {}
    for name, value in (filters or {}).items():
        if name not in FILTER_FIELDS or value is None or str(value).strip() == "":
            continue
        value = str(value).strip()
        if name == "year":
            if not value.isdigit() or len(value) != 4:
                raise InvalidInput("The year filter must be a year such as 2024.", "年度筛选须为年份，如 2024。")
            cleaned[name] = int(value)
        else:
            cleaned[name] = value[:200]
    return cleaned


def _filter_sql(filters: dict, alias: str = "d") -> tuple[str, list]:
    if not filters:
        return "", []
    return ("".join(f" AND {alias}.{FILTER_FIELDS[name]} = ?" for name in filters), [filters[name] for name in filters])


def filter_choices(db) -> dict[str, list]:
    """The values the catalog holds for each filter, for the search form."""
    conn = _conn(db)
    choices = {}
    for name, column in FILTER_FIELDS.items():
        rows = conn.execute(
            f"SELECT DISTINCT {column} FROM dossiers WHERE {column} != '' AND {column} IS NOT NULL "
            f"AND status != 'destroyed' ORDER BY {column} LIMIT 500"
        ).fetchall()
        choices[name] = [r[0] for r in rows]
    return choices


def _filtered_dossiers(conn, filters: dict, limit: int) -> list[Hit]:
    """No words, only filters: the newest dossiers that match them."""
    where, params = _filter_sql(filters)
    cur = conn.execute(
        f"SELECT d.id, d.number, d.title FROM dossiers d WHERE d.status != 'destroyed'{where} "
        f"ORDER BY d.id DESC LIMIT ?",
        params + [limit],
    )
    return [
        Hit(
            number=number,
            page=None,
            field="title",
            snippet=make_snippet(title or "", ()),
            score=0.0,
            dossier_id=dossier_id,
        )
        for dossier_id, number, title in cur.fetchall()
    ]


def search(db, query: str, limit: int = 20, unmasked: bool = False, filters: dict | None = None) -> list[Hit]:
    """Ranked hits for ``query`` in OCR text and catalog fields (best first), within ``filters``
    (see FILTER_FIELDS). With filters, the filter applies to the best ``RANK_WINDOW`` matches of
    each kind; with filters and no words, the newest matching dossiers are listed."""
    conn = _conn(db)
    filters = clean_filters(filters)
    compiled = compile_query(query)
    limit = max(1, min(int(limit), 1000))
    if not compiled.text_match and not compiled.code:
        if filters:
            return _filtered_dossiers(conn, filters, limit)
        raise InvalidInput(
            "Type at least one character or digit to search for.", "请输入至少一个汉字、字母或数字进行检索。"
        )
    rule = None if unmasked else settings.id_mask_rule(conn)  # the station's masking rule (R40)
    # a few spare rows: some candidates may be stale (replaced pages); with filters, many may be filtered out
    want = max(limit + 10, RANK_WINDOW) if filters else limit + 10
    candidates: list[tuple[float, str, int]] = []  # (score, kind, id)
    if compiled.code:
        candidates += [(score, "code", dossier_id) for score, dossier_id in _code_candidates(conn, compiled, want)]
    protected = _protected(conn)
    if protected is not None and compiled.text_match:
        protected.require_key()  # R40: protected OCR text is searched with the unlocked key only
    if compiled.text_match:
        for kind, table in (("dossier", "search_dossiers"), ("page", "search_pages")):
            candidates += [(score, kind, rowid) for score, rowid in _ranked(conn, table, compiled, want, protected)]
    candidates.sort(key=lambda c: c[0])
    seen_dossier_fields: set[int] = set()
    hits: list[Hit] = []
    dossier_ids = [c[2] for c in candidates if c[1] != "page"]
    page_ids = [c[2] for c in candidates if c[1] == "page"]
    dossiers = _fetch_dossiers(conn, dossier_ids, filters)
    pages = _fetch_pages(conn, page_ids, protected, filters)
    for score, kind, object_id in candidates:
        if kind == "page":
            page = pages.get(object_id)
            if not page:
                continue
            hits.append(
                Hit(
                    number=page["number"],
                    page=page["seq"],
                    field="text",
                    snippet=make_snippet(page["text"], compiled.terms, masked=not unmasked, rule=rule),
                    score=score,
                    dossier_id=page["dossier_id"],
                    page_id=object_id,
                    engine=page["engine"] or "",
                )
            )
        else:
            if object_id in seen_dossier_fields:
                continue
            dossier = dossiers.get(object_id)
            if not dossier:
                continue
            seen_dossier_fields.add(object_id)
            field, snippet = _field_hit(dossier, compiled, unmasked, rule)
            hits.append(
                Hit(
                    number=dossier["number"], page=None, field=field, snippet=snippet, score=score, dossier_id=object_id
                )
            )
        if len(hits) >= limit:
            break
    return hits


def _ranked(conn, table: str, compiled: CompiledQuery, want: int, protected=None) -> list[tuple[float, int]]:
    """(score, rowid), best first: BM25 over all matches when there are at most RANK_WINDOW,
    else the newest matches (score 0). See the module docstring."""
    pages = table == "search_pages" and protected is not None
    if pages:
        # protected OCR text (keyed tokens): an FTS5 expression of its own; on SQLite only so far
        newest = [
            r[0]
            for r in conn.execute(
                f"SELECT rowid FROM {table} WHERE {table} MATCH ? ORDER BY rowid DESC LIMIT ?",
                (protected.match(compiled.text_match), RANK_WINDOW + 1),
            )
        ]
    else:
        newest, more = _index(conn).newest_or_all(table, compiled, RANK_WINDOW, want)
        if more:
            return [(0.0, rowid) for rowid in newest]
    if len(newest) > RANK_WINDOW:
        return [(0.0, rowid) for rowid in newest[:want]]
    if not newest:
        return []
    if table == "search_pages":
        sql = "SELECT page_id, text FROM page_text WHERE page_id IN ({})"
    else:
        sql = "SELECT dossier_id, source FROM search_dossier_state WHERE dossier_id IN ({})"
    texts = dict(conn.execute(sql.format(",".join("?" * len(newest))), newest).fetchall())
    if pages:
        texts = {rowid: _page_text(protected, text) for rowid, text in texts.items()}
    scored = _bm25(texts, compiled.terms)
    return sorted(scored, key=lambda x: (x[0], -x[1]))[:want]


def _bm25(texts: dict[int, str], terms, k1: float = 1.2, b: float = 0.75) -> list[tuple[float, int]]:
    """BM25 term-frequency and length part, negated like FTS5's bm25() (lower is better).

    Every row here matches every term, so IDF is the same for all of them and left out.
    """
    # lower case, all whitespace out (OCR layout): cheap enough for thousands of pages per query
    prepared = {rowid: "".join((text or "").lower().split()) for rowid, text in texts.items()}
    wanted = [t for t in terms if t]
    average = (sum(len(t) for t in prepared.values()) / len(prepared)) if prepared else 1.0
    scores = []
    for rowid, text in prepared.items():
        norm = k1 * (1 - b + b * len(text) / max(average, 1.0))
        score = 0.0
        for term in wanted:
            tf = max(1, text.count(term))  # a match may span a layout break that count() misses
            score += tf * (k1 + 1) / (tf + norm)
        scores.append((-score, rowid))
    return scores


def _code_candidates(conn, compiled: CompiledQuery, want: int) -> list[tuple[float, int]]:
    """档号 / ID-number hits: exact beats leading part beats trailing part."""
    code = compiled.code
    upper = code.upper()
    found: dict[int, float] = {}
    for column in CODE_FIELDS:
        rows = conn.execute(
            f"SELECT id, {column} FROM dossiers WHERE {column} >= ? AND {column} < ? AND status != 'destroyed' LIMIT ?",
            (upper, upper + "\U0010ffff", want),
        ).fetchall()
        for dossier_id, value in rows:
            score = -1000.0 if value == upper else -500.0
            found[dossier_id] = min(found.get(dossier_id, 0.0), score)
    for dossier_id in _index(conn).match_code(code, want):
        found.setdefault(dossier_id, -100.0)
    return sorted(((s, i) for i, s in found.items()), key=lambda x: (x[0], -x[1]))[:want]


def _fetch_dossiers(conn, ids: list[int], filters: dict | None = None) -> dict[int, dict]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    where, params = _filter_sql(filters or {})
    cur = conn.execute(
        f"SELECT d.id, d.number, d.title, d.person_name, d.employer, d.person_id_number "
        f"FROM dossiers d JOIN search_dossier_state s ON s.dossier_id = d.id "
        f"WHERE d.id IN ({marks}) AND d.status != 'destroyed'{where}",
        list(ids) + params,
    )
    names = [c[0] for c in cur.description]
    return {row[0]: dict(zip(names, row)) for row in cur.fetchall()}


def _fetch_pages(conn, ids: list[int], protected=None, filters: dict | None = None) -> dict[int, dict]:
    if not ids:
        return {}
    marks = ",".join("?" * len(ids))
    where, params = _filter_sql(filters or {})
    cur = conn.execute(
        f"SELECT p.id, p.seq, p.dossier_id, d.number, t.text, t.engine FROM pages p "
        f"JOIN dossiers d ON d.id = p.dossier_id JOIN page_text t ON t.page_id = p.id "
        f"JOIN search_page_state s ON s.page_id = p.id "
        f"WHERE p.id IN ({marks}) AND p.state = 'active' AND d.status != 'destroyed'{where}",
        list(ids) + params,
    )
    names = [c[0] for c in cur.description]
    found = {row[0]: dict(zip(names, row)) for row in cur.fetchall()}
    for page in found.values():
        page["text"] = _page_text(protected, page["text"])
    return found


def _field_hit(
    dossier: dict, compiled: CompiledQuery, unmasked: bool, rule: id_number.MaskRule | None = None
) -> tuple[str, str]:
    if compiled.code:
        for field in CODE_FIELDS:
            value = dossier[field] or ""
            if compiled.code in normalize(value):
                return field, _code_snippet(field, value, compiled.code, unmasked, rule)
    for field in TEXT_FIELDS:
        value = dossier[field] or ""
        snippet = make_snippet(value, compiled.terms, require_match=True)
        if snippet:
            return field, snippet
    for field in CODE_FIELDS:  # e.g. a full ID number typed with spaces
        value = dossier[field] or ""
        if any(t and t in normalize(value) for t in compiled.terms):
            return field, _code_snippet(field, value, compiled.terms[0], unmasked, rule)
    return "title", make_snippet(dossier["title"] or "", compiled.terms)


def _code_snippet(field: str, value: str, code: str, unmasked: bool, rule: id_number.MaskRule | None = None) -> str:
    if field == "person_id_number" and not unmasked:
        return mask_id_number(value, rule)
    start = normalize(value).find(code)
    if start < 0:
        return value
    end = start + len(code)
    return value[:start] + MARK_OPEN + value[start:end] + MARK_CLOSE + value[end:]


def make_snippet(
    text: str,
    terms,
    width: int = SNIPPET_CHARS,
    require_match: bool = False,
    masked: bool = False,
    rule: id_number.MaskRule | None = None,
) -> str:
    """About ``width`` characters of ``text`` around the first match of a term, marked 【】.

    Matching ignores case, full/half width and the spaces OCR leaves between characters. The
    window never cuts through a run of letters and digits, so with ``masked`` an ID or bank number
    near its edge is masked whole rather than shown in part (ID numbers by ``rule``, the station's).
    """
    text = text or ""
    for term in terms:
        pattern = _term_pattern(term)
        if pattern is None:
            continue
        match = pattern.search(text)
        if match:
            start, end = match.span()
            room = max(4, (width - (end - start)) // 2)
            left = _snap_left(text, max(0, start - room))
            right = _snap_right(text, min(len(text), end + room))
            before, hit, after = text[left:start], text[start:end], text[end:right]
            if masked:
                plain = before + hit + after
                hidden = mask_personal_text(plain, rule)
                if hidden != plain:
                    at = hidden.find(hit) if hit.strip() else -1
                    if at < 0:  # the match itself is personal data: no mark that would point at it
                        before, hit, after = hidden, "", ""
                    else:
                        before, hit, after = hidden[:at], hit, hidden[at + len(hit) :]
            snippet = before + (MARK_OPEN + hit + MARK_CLOSE if hit else "") + after
            snippet = re.sub(r"\s+", " ", snippet)
            return ("…" if left > 0 else "") + snippet + ("…" if right < len(text) else "")
    if require_match:
        return ""
    right = _snap_right(text, min(len(text), width))
    head = text[:right]
    head = re.sub(r"\s+", " ", mask_personal_text(head, rule) if masked else head).strip()
    return head + ("…" if len(text) > right else "")


_ALNUM = re.compile(r"[0-9A-Za-z０-９Ａ-Ｚａ-ｚ]")


def _snap_left(text: str, i: int, limit: int = 24) -> int:
    stop = max(0, i - limit)
    while i > stop and _ALNUM.match(text[i - 1]) and _ALNUM.match(text[i]):
        i -= 1
    return i


def _snap_right(text: str, i: int, limit: int = 24) -> int:
    stop = min(len(text), i + limit)
    while 0 < i < stop and _ALNUM.match(text[i - 1]) and _ALNUM.match(text[i]):
        i += 1
    return i


def _term_pattern(term: str):
    chars = [c for c in term if not c.isspace()]
    if not chars:
        return None
    parts = []
    for c in chars:
        variants = {c, c.upper(), unicodedata.normalize("NFKC", c)}
        if c.isascii() and c.isalnum():
            variants.add(chr(ord(c.upper()) + 0xFEE0))  # full-width form
            variants.add(chr(ord(c) + 0xFEE0))
        if c == "·":
            variants |= set("・•．‧∙⋅･.:：'。")
        parts.append("[" + "".join(re.escape(v) for v in sorted(variants)) + "]")
    return re.compile(r"\s*".join(parts), re.IGNORECASE)


# -- the service call every shell uses -------------------------------------------------------
def search_as(
    session, query: str, *, limit: int = 20, unmasked: bool = False, filters: dict | None = None, conn=None
) -> list[Hit]:
    """A user's search: role checked, personal data masked unless the user may and asks to see it,
    and the search itself in the audit trail (the query with ID numbers masked, the filters, the
    number of hits). ``conn`` may be a read connection of the same catalog (the network service
    searches on one per thread)."""
    session.require("catalog.read")
    if unmasked:
        session.require("personal.unmasked")
    filters = clean_filters(filters)
    hits = search(conn if conn is not None else session.catalog, query, limit=limit, unmasked=unmasked, filters=filters)
    session.log(
        "personal.view" if unmasked and hits else "search",
        "search",
        mask_personal_text(query or "", settings.id_mask_rule(session.home))[:100],
        {"filters": filters, "hits": len(hits), "unmasked": bool(unmasked)},
    )
    return hits
