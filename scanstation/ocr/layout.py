"""Where the words of a page are: the OCR engine's lines and words with their boxes.

The text in ``page_text`` is what search indexes; the layout kept here is what a double-layer PDF,
an OFD text layer or a reviewer needs to put each word back where it was read. Boxes are pixels of the
stored master image, origin top left, ``(x0, y0, x1, y1)`` with x1/y1 exclusive.

One row per page (``page_layout``), written by the OCR runner in the same transaction as the text;
a page read again replaces its layout. Text of CJK scripts keeps no spaces between characters: a
word may be one character or a run of characters, as the engine reported it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from scanstation.storage.migrations import register as register_migrations

MIGRATION = (
    40,
    "ocr_layout",
    """
CREATE TABLE IF NOT EXISTS page_layout (
    page_id INTEGER PRIMARY KEY REFERENCES pages(id),
    engine TEXT NOT NULL,                -- e.g. 'tesseract 5.3.0 chi_sim', 'rapidocr PP-OCRv4'
    layout TEXT NOT NULL,                -- JSON of PageLayout.to_dict()
    updated_at TEXT NOT NULL
);
""",
)
register_migrations(__name__, MIGRATION)

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class Word:
    text: str
    box: Box
    confidence: float | None = None  # 0..100, None when the engine gives none


@dataclass(frozen=True)
class Line:
    text: str
    box: Box
    words: tuple[Word, ...] = ()
    confidence: float | None = None


@dataclass(frozen=True)
class PageLayout:
    width: int  # pixels of the master image the boxes refer to
    height: int
    engine: str
    lines: tuple[Line, ...] = field(default_factory=tuple)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    def to_dict(self) -> dict:
        return {
            "width": self.width,
            "height": self.height,
            "engine": self.engine,
            "lines": [
                {
                    "text": ln.text,
                    "box": list(ln.box),
                    "confidence": ln.confidence,
                    "words": [{"text": w.text, "box": list(w.box), "confidence": w.confidence} for w in ln.words],
                }
                for ln in self.lines
            ],
        }

    @classmethod
    def from_dict(cls, data: dict) -> PageLayout:
        def box(value) -> Box:
            x0, y0, x1, y1 = (int(v) for v in value)
            return (x0, y0, x1, y1)

        lines = tuple(
            Line(
                text=str(ln["text"]),
                box=box(ln["box"]),
                confidence=ln.get("confidence"),
                words=tuple(
                    Word(text=str(w["text"]), box=box(w["box"]), confidence=w.get("confidence"))
                    for w in ln.get("words", ())
                ),
            )
            for ln in data.get("lines", ())
        )
        return cls(width=int(data["width"]), height=int(data["height"]), engine=str(data["engine"]), lines=lines)

    def to_json(self) -> str:
        return json.dumps(self.to_dict(), ensure_ascii=False, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str) -> PageLayout:
        return cls.from_dict(json.loads(text))


def _conn(db):
    return getattr(db, "conn", db)


def _protected(db):
    """R40: with personal-data protection on, the words are sealed like the page text (text_protection)."""
    import scanstation.custody.text_protection as text_protection

    return text_protection.for_connection(_conn(db))


def save_layout(db, page_id: int, layout: PageLayout, now: str) -> None:
    """Store (or replace) a page's layout; call inside the write transaction that stores its text."""
    protected = _protected(db)
    stored = layout.to_json() if protected is None else protected.seal(layout.to_json(), "page_layout")
    _conn(db).execute(
        "INSERT INTO page_layout(page_id, engine, layout, updated_at) VALUES (?, ?, ?, ?) "
        "ON CONFLICT(page_id) DO UPDATE SET engine = excluded.engine, layout = excluded.layout, "
        "updated_at = excluded.updated_at",
        (page_id, layout.engine, stored, now),
    )


def load_layout(db, page_id: int) -> PageLayout | None:
    """The page's layout, or None when the page has not been read with boxes yet."""
    row = _conn(db).execute("SELECT layout FROM page_layout WHERE page_id = ?", (page_id,)).fetchone()
    if not row:
        return None
    protected = _protected(db)
    return PageLayout.from_json(row[0] if protected is None else protected.reveal(row[0], "page_layout"))


def delete_layout(db, page_id: int) -> None:
    _conn(db).execute("DELETE FROM page_layout WHERE page_id = ?", (page_id,))


__all__ = ["MIGRATION", "Word", "Line", "PageLayout", "save_layout", "load_layout", "delete_layout"]
