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

This module is the one place that knows about it: scanstation.search, the OCR text store and the
layout store call ``for_connection`` and use what it returns; scanstation.custody.search_sync seals
what was stored before protection was switched on. It imports only the key registry, so the
search index can use it without an import cycle.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import re
import sqlite3
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from scanstation.storage import key_registry

TEXT_FIELD = "page_text"
LAYOUT_FIELD = "page_layout"
KEYED_STATE = "keyed:"
_QUOTED = re.compile(r'"([^"]*)"')


class TextProtection:
    """Protection of one home's OCR text; ``key`` (a protection.DataKey) is None while the home is locked."""

    def __init__(self, home_path: Path | None, key):
        self.home_path = home_path
        self.key = key
        self._token_key = (
            HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=b"scanstation/search-tokens/v1").derive(key.key)
            if key
            else None
        )
        self.token = functools.lru_cache(maxsize=1 << 18)(self._token)

    @property
    def locked(self) -> bool:
        return self.key is None

    def require_key(self):
        if self.key is None:
            key_registry.raise_locked()
        return self.key

    # -- stored text ----------------------------------------------------------------------
    def seal(self, text: str, field: str = TEXT_FIELD) -> str:
        if not text:
            return text or ""
        return self.require_key().encrypt_field(field, text)

    def reveal(self, stored: str | None, field: str = TEXT_FIELD) -> str:
        if not key_registry.is_encrypted(stored):
            return stored or ""
        return self.require_key().decrypt_field(field, stored)

    # -- keyed search tokens -----------------------------------------------------------------
    def _token(self, token: str) -> str:
        if self._token_key is None:
            key_registry.raise_locked()
        return "k" + hashlib.blake2b(token.encode("utf-8"), key=self._token_key, digest_size=8).hexdigest()

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
    bi, _, uni = state[len(KEYED_STATE) :].partition("\x1f")
    return bi, uni


def home_path_of(conn: sqlite3.Connection) -> Path | None:
    if getattr(conn, "backend", "sqlite") != "sqlite":
        return None  # a catalog on a database server: OCR-text protection is not available there yet
    for _seq, name, file in conn.execute("PRAGMA database_list"):
        if name == "main":
            return Path(file).parent if file else None
    return None


#: keys given explicitly while stored text is being sealed (protect enable runs before the key is remembered)
_sealing: dict[str, object] = {}


def for_connection(db) -> TextProtection | None:
    """The home's text protection, or None when personal-data protection is off (or the catalog is in memory)."""
    conn = getattr(db, "conn", db)
    home = home_path_of(conn)
    if home is None or not key_registry.is_protected(home):
        return None
    resolved = str(home.resolve())
    return _cached(home, _sealing.get(resolved) or key_registry.key_for_home_path(home))


@functools.lru_cache(maxsize=8)
def _cached(home: Path, key) -> TextProtection:
    return TextProtection(home, key)


key_registry.on_forget.append(_cached.cache_clear)  # a locked home keeps no derived key in memory


@contextlib.contextmanager
def sealing_with(conn: sqlite3.Connection, key):
    """Use ``key`` for this home's text while sealing (before it is remembered for the process)."""
    home = home_path_of(conn)
    resolved = str(home.resolve()) if home else ""
    _sealing[resolved] = key
    try:
        yield TextProtection(home, key)
    finally:
        _sealing.pop(resolved, None)


def read_page_text(db, page_id: int) -> str:
    """A page's OCR text in plain form for code that shows or exports it (decrypted when protected)."""
    conn = getattr(db, "conn", db)
    row = conn.execute("SELECT text FROM page_text WHERE page_id = ?", (page_id,)).fetchone()
    stored = row[0] if row else ""
    protected = for_connection(conn)
    return stored or "" if protected is None else protected.reveal(stored)


__all__ = [
    "KEYED_STATE",
    "read_page_text",
    "LAYOUT_FIELD",
    "TEXT_FIELD",
    "TextProtection",
    "for_connection",
    "home_path_of",
    "sealing_with",
    "state_of",
    "tokens_from_state",
]
