"""OCR text under personal-data protection (R40): encrypted at rest, searched through keyed tokens.

OCR text holds what the page shows: names, full ID numbers, addresses. With protection enabled
(``keys/personal-data-key.json`` exists) nothing of it is stored in plain text:

- ``page_text.text`` holds the text sealed with the home's data key (AES-256-GCM, the same
  ``enc1:`` form as the protected catalog fields, bound to the field name ``page_text``);
- ``page_layout.layout`` (words with their boxes) is sealed the same way (field ``page_layout``);
- the search index (``search_pages``) holds keyed tokens instead of characters: each bigram and
  unigram the tokenizer makes becomes ``k`` + 16 hex digits of keyed BLAKE2b (a MAC; key derived
  from the data key with HKDF, info ``scanstation/search-tokens/v1``). A query is tokenized the same
  way and its tokens are keyed with the same key, so one-, two- and many-character words are still
  found, phrases still by token position. Without the key the index shows which pages share a
  token and how often (frequency analysis is possible for common characters, as with any
  deterministic index), but not the characters themselves;
- the tokens a page was indexed with are kept (keyed) in ``search_page_state`` so the page can be
  taken out of the index without the key (a page deleted while the key is locked).

Search ranks and shows snippets from the decrypted text, so searching needs the unlocked key; a
locked home refuses with the usual "unlock" message rather than return partial results. Catalog
fields (题名, 单位) are indexed as before; the personal ones are encrypted and not indexed at all.

This module is the one place that knows about it: scanstation.search and the OCR layout store call
``for_connection`` and use what it returns.
"""

from __future__ import annotations

import functools
import hashlib
import re
import sqlite3
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from scanstation.custody import protection

TEXT_FIELD = "page_text"
LAYOUT_FIELD = "page_layout"
KEYED_STATE = "keyed:"
_QUOTED = re.compile(r'"([^"]*)"')


class TextProtection:
    """Protection of one home's OCR text; ``key`` is None while the home is locked."""

    def __init__(self, home_path: Path, key: protection.DataKey | None):
        self.home_path = home_path
        self.key = key
        self._token_key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None,
                               info=b"scanstation/search-tokens/v1").derive(key.key) if key else None
        self.token = functools.lru_cache(maxsize=1 << 18)(self._token)

    @property
    def locked(self) -> bool:
        return self.key is None

    def require_key(self) -> protection.DataKey:
        if self.key is None:
            protection.raise_locked()
        return self.key

    # -- stored text ----------------------------------------------------------------------
    def seal(self, text: str, field: str = TEXT_FIELD) -> str:
        if not text:
            return text or ""
        return self.require_key().encrypt_field(field, text)

    def reveal(self, stored: str | None, field: str = TEXT_FIELD) -> str:
        if not protection.is_encrypted(stored):
            return stored or ""
        return self.require_key().decrypt_field(field, stored)

    # -- keyed search tokens -----------------------------------------------------------------
    def _token(self, token: str) -> str:
        key = self._token_key
        if key is None:
            protection.raise_locked()
        return "k" + hashlib.blake2b(token.encode("utf-8"), key=key, digest_size=8).hexdigest()

    def stream(self, tokens: str) -> str:
        return " ".join(self.token(t) for t in tokens.split())

    def streams(self, bi: str, uni: str) -> tuple[str, str]:
        return self.stream(bi), self.stream(uni)

    def match(self, expression: str) -> str:
        """An FTS5 expression of scanstation.search with every quoted token keyed."""
        return _QUOTED.sub(lambda m: '"' + self.stream(m.group(1)) + '"', expression)


def state_of(bi: str, uni: str) -> str:
    """What search_page_state keeps for a keyed page: its tokens, so it can be unindexed without the key."""
    return KEYED_STATE + bi + "\x1f" + uni


def tokens_from_state(state: str) -> tuple[str, str] | None:
    if not state.startswith(KEYED_STATE):
        return None
    bi, _, uni = state[len(KEYED_STATE):].partition("\x1f")
    return bi, uni


def _home_path(conn: sqlite3.Connection) -> Path | None:
    for _seq, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return Path(file).parent if file else None
    return None


def for_connection(db) -> TextProtection | None:
    """The home's text protection, or None when personal-data protection is off (or the catalog is in memory)."""
    conn = getattr(db, "conn", db)
    home = _home_path(conn)
    if home is None or not (home / "keys" / protection.KEY_FILE).exists():
        return None
    resolved = str(home.resolve())
    key = _sealing.get(resolved) or protection.unlocked_key(home_of(resolved))
    return _cached(home, key)


class home_of:   # noqa: N801 - the small stand-in protection.unlocked_key() needs (it reads .path)
    def __init__(self, path: str):
        self.path = path


#: keys given explicitly while stored text is being sealed (protect enable runs before the key is remembered)
_sealing: dict[str, protection.DataKey] = {}


@functools.lru_cache(maxsize=8)
def _cached(home: Path, key: protection.DataKey | None) -> TextProtection:
    return TextProtection(home, key)


# -- sealing what was stored before protection was switched on -------------------------------------
def seal_stored_text(conn: sqlite3.Connection, key: protection.DataKey) -> dict:
    """Encrypt OCR text and layouts still in plain text and re-index those pages with keyed tokens."""
    home = _home_path(conn)
    if home is None:
        return {"sealed_page_texts": 0, "sealed_page_layouts": 0}
    resolved = str(home.resolve())
    _sealing[resolved] = key
    try:
        return _seal_stored(conn, TextProtection(home, key))
    finally:
        _sealing.pop(resolved, None)


def _seal_stored(conn: sqlite3.Connection, tp: TextProtection) -> dict:
    from scanstation import search
    pages = layouts = 0
    conn.execute("PRAGMA secure_delete = ON")      # freed pages that held plain text are overwritten
    rows = conn.execute("SELECT page_id, text FROM page_text WHERE text != '' AND text NOT LIKE 'enc1:%'").fetchall()
    for page_id, text in rows:
        search.unindex_page(conn, page_id)          # the plain tokens go while the plain text is still there
        conn.execute("UPDATE page_text SET text = ? WHERE page_id = ?", (tp.seal(text), page_id))
        search.index_page_text(conn, page_id)
        pages += 1
    has_layout = conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'page_layout'").fetchone()
    if has_layout:
        for page_id, layout in conn.execute("SELECT page_id, layout FROM page_layout WHERE layout NOT LIKE 'enc1:%'"
                                            ).fetchall():
            conn.execute("UPDATE page_layout SET layout = ? WHERE page_id = ?", (tp.seal(layout, LAYOUT_FIELD),
                                                                                page_id))
            layouts += 1
    if pages:
        # a contentless FTS5 'delete' only marks tokens deleted; merging the segments drops the plain ones
        conn.execute("INSERT INTO search_pages(search_pages) VALUES ('optimize')")
    return {"sealed_page_texts": pages, "sealed_page_layouts": layouts}


__all__ = ["TextProtection", "for_connection", "seal_stored_text", "state_of", "tokens_from_state"]
