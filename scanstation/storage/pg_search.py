"""The search index's statements on PostgreSQL (see scanstation.search for the tokens and ranking).

The tokens are those of the SQLite index, made by the application; here they are stored as tsvector
literals with positions in GIN-indexed columns, and a query word becomes a tsquery phrase of its
bigrams (or one unigram), so results equal the SQLite path's. pg_trgm was not used: it yields no
trigram for a one- or two-character query.

Trigrams (column ``tri``) are made here from the bigrams, for PostgreSQL only: a phrase of bigrams
is answered by GIN with the rows holding all of its bigrams, each of which PostgreSQL then re-checks
against the row's stored tsvector (a large value read from TOAST) for their positions; that re-check
was most of a three-character search at 20 M pages. A word of three CJK characters is one trigram,
which GIN answers exactly; longer words are a phrase of trigrams, fewer rows to re-check. Where two
bigrams follow each other and the second continues the first (档案 案管 -> 档案管) the row gets that
trigram at the first one's position, and a phrase of such bigrams in a query becomes the phrase of
their trigrams: the two match the same rows. (Before token 16,383, PostgreSQL's largest position,
where the bigram phrase itself stops matching.)
"""

from __future__ import annotations

import contextlib

from scanstation.storage.sql_dialect import tsquery_phrase, tsvector_at, tsvector_literal

_KEY = {"search_pages": "page_id", "search_dossiers": "dossier_id"}
# a row re-checked through GIN (a random read) costs about this many rows tested walking the key in
# order (EXPLAIN ANALYZE on 1 M pages: 13,923 re-checks in 168 ms, 2,546 rows walked in 9.8 ms)
RANDOM_ROW_COST = 3


def _continues(first: str, second: str) -> bool:
    return len(first) == 2 and len(second) == 2 and first[1] == second[0]


def trigram_positions(bi: str) -> list[tuple[int, str]]:
    """(position, trigram) wherever a two-character token of the ``bi`` stream is followed by one that
    continues it; positions are the bigrams' own (1, 2, ...). Migration 112 makes the same from stored rows."""
    tokens = bi.split()
    return [(i, a + b[1]) for i, (a, b) in enumerate(zip(tokens, tokens[1:]), start=1) if _continues(a, b)]


def text_row(bi: str, uni: str) -> tuple[str, str, str]:
    """The tsvector literals of a row of search_pages / search_dossiers: bi, uni, tri."""
    return tsvector_literal(bi), tsvector_literal(uni), tsvector_at(trigram_positions(bi))


def _clause(column: str, tokens) -> tuple[str, tuple[str, ...]]:
    """A (column, phrase) clause as asked of this index: a phrase of continuing bigrams as its trigrams."""
    tokens = tuple(tokens)
    if column == "bi" and len(tokens) >= 2 and all(_continues(a, b) for a, b in zip(tokens, tokens[1:])):
        return "tri", tuple(a + b[1] for a, b in zip(tokens, tokens[1:]))
    return column, tokens


def _where(clauses) -> tuple[str, list[str]]:
    clauses = [_clause(column, tokens) for column, tokens in clauses]
    where = " AND ".join(f"{column} @@ CAST(? AS tsquery)" for column, _ in clauses)
    return where, [tsquery_phrase(tokens) for _, tokens in clauses]


class PgSearchIndex:
    def __init__(self, conn):
        self.conn = conn

    def insert_text(self, table: str, rowid: int, bi: str, uni: str) -> None:
        self.conn.execute(
            f"INSERT INTO {table}({_KEY[table]}, bi, uni, tri) "
            "VALUES (?, CAST(? AS tsvector), CAST(? AS tsvector), CAST(? AS tsvector))",
            (rowid, *text_row(bi, uni)),
        )

    def delete_text(self, table: str, rowid: int, bi: str, uni: str) -> None:
        self.conn.execute(f"DELETE FROM {table} WHERE {_KEY[table]} = ?", (rowid,))

    def insert_codes(self, rowid: int, codes: str) -> None:
        # codes are whole tokens without positions' meaning (FTS5 detail='none')
        self.conn.execute(
            "INSERT INTO search_codes(dossier_id, codes) VALUES (?, CAST(? AS tsvector))",
            (rowid, tsvector_literal(codes)),
        )

    def delete_codes(self, rowid: int, codes: str) -> None:
        self.conn.execute("DELETE FROM search_codes WHERE dossier_id = ?", (rowid,))

    def delete_all(self) -> None:
        for table in ("search_pages", "search_dossiers", "search_codes"):
            self.conn.execute(f"DELETE FROM {table}")

    def optimize(self) -> None:
        pass  # GIN indexes need no merge step here (autovacuum cleans their pending list)

    def match(self, table: str, clauses, limit: int) -> list[int]:
        """Row ids matching every (column, tokens) clause, newest first."""
        where, params = _where(clauses)
        key = _KEY[table]
        return [
            r[0]
            for r in self.conn.execute(
                f"SELECT {key} FROM {table} WHERE {where} ORDER BY {key} DESC LIMIT ?", (*params, limit)
            ).fetchall()
        ]

    def newest_or_all(self, table: str, clauses, window: int, want: int) -> tuple[list[int], bool]:
        """(ids, more): every match, newest first, when there are at most ``window``; else the newest
        ``want`` (at most ``window + 1``) and more=True -- what ``match(table, clauses, window + 1)[:want]``
        gives, without ordering every match of a common word (one ORDER BY ... LIMIT window + 1 took
        0.45 s for one common character over a million pages).

        First up to ``window + 1`` matches in no order (the scan stops there): all of them when that is
        all there are. Else their spread of keys tells how dense the matches are, and the newest ``want``
        are read the cheaper way: walking the key backwards and testing each row (a dense word), or
        through GIN, re-checking every match and keeping the newest (a sparse one). PostgreSQL's own
        estimate for a phrase of bigrams can be 40x too low (346 rows for 13,923), so the choice is not left to it."""
        where, params = _where(clauses)
        key = _KEY[table]
        ids = [
            r[0]
            for r in self.conn.execute(
                f"SELECT {key} FROM {table} WHERE {where} LIMIT ?", (*params, window + 1)
            ).fetchall()
        ]
        if len(ids) <= window:
            return sorted(ids, reverse=True), False
        take = min(want, window + 1)
        density = len(ids) / (max(ids) - min(ids) + 1)  # matches per key, where the scan found them
        low, high = self.conn.execute(f"SELECT min({key}), max({key}) FROM {table}").fetchone()
        walked = take / density  # rows tested walking backwards
        rechecked = density * (high - low + 1)  # matches re-checked through GIN (random reads)
        newest = f"SELECT {key} FROM {table} WHERE {where} ORDER BY {key} DESC LIMIT ?"
        if walked > RANDOM_ROW_COST * rechecked:
            rows = self.conn.execute(newest, (*params, take)).fetchall()
        else:
            self.conn.execute("SET enable_bitmapscan = off")  # leaves the backward walk on the key
            try:
                rows = self.conn.execute(newest, (*params, take)).fetchall()
            finally:
                with contextlib.suppress(Exception):  # an aborted transaction undoes the SET itself
                    self.conn.execute("RESET enable_bitmapscan")
        return [r[0] for r in rows], True

    def match_code(self, code: str, limit: int) -> list[int]:
        return [
            r[0]
            for r in self.conn.execute(
                "SELECT dossier_id FROM search_codes WHERE codes @@ CAST(? AS tsquery) "
                "ORDER BY dossier_id DESC LIMIT ?",
                (tsquery_phrase([code]), limit),
            ).fetchall()
        ]


__all__ = ["PgSearchIndex", "text_row", "trigram_positions"]
