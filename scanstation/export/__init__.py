"""Derived copies and exports for archive systems: double-layer PDF (and PDF/A-2b), OFD, the
数据挂接 catalog export and DA/T 48 (EEP) packages.

Masters stay what they are (R04: PDF/OFD are derived copies only). Every export reads the page
images through the home's image store (decrypted when they are encrypted at rest) and the OCR
layout of each page (``scanstation.ocr.layout``). The service functions check the role
(``export``) and write one audit entry per export with what was written and its digests (R22, R36).

This module holds what the writers share: the dossier and its pages as the writers see them.
"""

from __future__ import annotations

import io
from dataclasses import dataclass, field
from pathlib import Path

from scanstation.errors import InvalidInput, Refused

#: Dossier statuses that have no pages to export.
NOT_EXPORTABLE = ("destroyed",)


@dataclass
class SourcePage:
    """One active page of a dossier, ready for a writer."""

    seq: int
    page_id: int
    file_name: str
    data: bytes  # the plain master image bytes
    format: str  # jpeg | tiff | jp2 | png (as detected from the bytes)
    width: int
    height: int
    dpi: float
    layout: object = None  # scanstation.ocr.layout.PageLayout or None
    text: str = ""  # the stored OCR text (page_text), '' when none

    @property
    def width_pt(self) -> float:
        return self.width * 72.0 / self.dpi

    @property
    def height_pt(self) -> float:
        return self.height * 72.0 / self.dpi

    @property
    def text_source(self) -> str:
        """'layout' (words placed where read), 'text' (plain text, not positioned) or 'none'."""
        if self.layout is not None and self.layout.lines:
            return "layout"
        return "text" if self.text.strip() else "none"


@dataclass
class SourceDossier:
    row: dict
    pages: list[SourcePage] = field(default_factory=list)

    @property
    def number(self) -> str:
        return self.row["number"]

    @property
    def metadata(self) -> dict:
        """The catalog fields the copies carry (档号, 题名, 年度, ...)."""
        r = self.row
        return {
            "档号": r["number"],
            "全宗号": r["fonds_code"],
            "年度": str(r["year"]),
            "保管期限": r["retention"],
            "题名": r["title"] or "",
            "责任者": r["responsible"] or "",
            "日期": r["date"] or "",
            "页数": "" if r["declared_pages"] is None else str(r["declared_pages"]),
            "密级": r["security_level"] or "",
            "备注": r["remarks"] or "",
        }


@dataclass(frozen=True)
class TextRun:
    """A piece of the invisible text layer, in points from the page's top left corner."""

    text: str
    x: float
    top: float
    size: float  # font size; the run's glyphs sit between top and top + size
    width: float  # the run is stretched to this width

    @property
    def baseline(self) -> float:
        return self.top + 0.8 * self.size


def _is_cjk(ch: str) -> bool:
    import unicodedata

    return bool(ch) and unicodedata.east_asian_width(ch) in ("W", "F")


def separators(line) -> list[str]:
    """For each word of a layout line, what follows it in the line's text: ' ' or ''.

    The line text is the truth (CJK without spaces, Latin words with them); when a word cannot be
    found in it, two words are separated by a space only when neither side is CJK.
    """
    words = [w for w in line.words if w.text.strip()]
    text = line.text or ""
    starts, ends, pos, found = [], [], 0, True
    for w in words:
        idx = text.find(w.text.strip(), pos)
        if idx < 0:
            found = False
            break
        starts.append(idx)
        pos = idx + len(w.text.strip())
        ends.append(pos)
    seps = []
    for i, w in enumerate(words):
        if i == len(words) - 1:
            seps.append("")
        elif found:
            seps.append(" " if any(c.isspace() for c in text[ends[i] : starts[i + 1]]) else "")
        else:
            a, b = w.text.strip()[-1:], words[i + 1].text.strip()[:1]
            seps.append("" if (_is_cjk(a) or _is_cjk(b)) else " ")
    return seps


def text_runs(page: SourcePage) -> list[TextRun]:
    """The page's invisible text layer in reading order.

    With a layout: one run per word, starting where the engine found it, in the line's height,
    stretched to reach the next word of its line (or its own right edge), with a real space after
    it when the line text has one. Without a layout but with plain text: one run per text line,
    stacked from the top of the page over 90 % of its width. Otherwise no runs.
    """
    from scanstation.ocr.layout import Word

    runs: list[TextRun] = []
    if page.text_source == "layout":
        layout = page.layout
        sx = page.width_pt / max(1, layout.width)
        sy = page.height_pt / max(1, layout.height)
        for line in layout.lines:
            words = [w for w in line.words if w.text.strip()]
            if words:
                seps = separators(line)
            elif line.text.strip():  # an engine that gives lines only
                words, seps = [Word(text=line.text.strip(), box=line.box)], [""]
            else:
                continue
            top, bottom = line.box[1] * sy, line.box[3] * sy
            size = max(1.0, bottom - top)
            for i, w in enumerate(words):
                x0, right = w.box[0], w.box[2]
                if i + 1 < len(words) and words[i + 1].box[0] > x0:
                    right = words[i + 1].box[0]  # reach the next word: no gap, no guessed space
                runs.append(TextRun(w.text.strip() + seps[i], x0 * sx, top, size, max(0.5, (right - x0) * sx)))
    elif page.text_source == "text":
        lines = [ln.strip() for ln in page.text.splitlines() if ln.strip()]
        step = min(page.height_pt / (len(lines) + 1), 14.0)
        for i, text in enumerate(lines):
            runs.append(TextRun(text, page.width_pt * 0.05, step * (i + 0.5), step * 0.8, page.width_pt * 0.9))
    return runs


def resolve_dossier(catalog, number: str) -> dict:
    from scanstation.custody.corrections import resolve

    row = resolve(catalog, number)
    if row["status"] in NOT_EXPORTABLE:
        raise Refused(
            "Dossier {n} was destroyed; there is nothing to export.",
            "案卷 {n} 已销毁，没有可导出的内容。",
            n=row["number"],
        )
    return row


def _detect(data: bytes) -> str:
    if data[:3] == b"\xff\xd8\xff":
        return "jpeg"
    if data[:4] in (b"II*\x00", b"MM\x00*"):
        return "tiff"
    if data[:12] == b"\x00\x00\x00\x0cjP  \r\n\x87\n" or data[:4] == b"\xff\x4f\xff\x51":
        return "jp2"
    if data[:8] == b"\x89PNG\r\n\x1a\n":
        return "png"
    return "unknown"


def load_pages(catalog, store, dossier: dict, with_text: bool = True) -> SourceDossier:
    """The dossier's active pages in order, each with its plain image bytes and OCR layout.

    A page missing from the store or that does not decode stops the export with a message naming
    it: a copy with a page left out would be a wrong copy.
    """
    from PIL import Image, UnidentifiedImageError

    from scanstation.custody.text_protection import read_page_text
    from scanstation.ocr.layout import load_layout

    rows = catalog.query(
        "SELECT id, seq, file_name, dpi FROM pages WHERE dossier_id = ? AND state = 'active'"
        " AND file_name != '' ORDER BY seq",
        (dossier["id"],),
    )
    if not rows:
        raise Refused(
            "Dossier {n} has no scanned pages to export.", "案卷 {n} 没有可导出的扫描页面。", n=dossier["number"]
        )
    has_layout = catalog.one("SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = 'page_layout'")
    result = SourceDossier(dict(dossier))
    for row in rows:
        try:
            data = store.read_bytes(dossier["number"], row["file_name"])
        except FileNotFoundError:
            raise Refused(
                "Page {seq} of {n} is missing from the store; nothing was exported. Run: scanstation fixity check",
                "{n} 第 {seq} 页在存储中缺失；未导出任何内容。请执行：scanstation fixity check",
                seq=row["seq"],
                n=dossier["number"],
            ) from None
        try:
            with Image.open(io.BytesIO(data)) as img:  # reads the header only
                width, height = img.size
                info_dpi = img.info.get("dpi")
        except (UnidentifiedImageError, OSError) as exc:
            raise Refused(
                "Page {seq} of {n} cannot be decoded ({error}); nothing was exported. Run: scanstation fixity check",
                "{n} 第 {seq} 页无法解码（{error}）；未导出任何内容。请执行：scanstation fixity check",
                seq=row["seq"],
                n=dossier["number"],
                error=str(exc),
            ) from exc
        dpi = float(row["dpi"] or 0) or (float(info_dpi[0]) if info_dpi and info_dpi[0] else 0.0) or 300.0
        layout = load_layout(catalog, row["id"]) if (with_text and has_layout) else None
        text = ""
        if with_text:
            t = catalog.one("SELECT 1 AS done FROM page_text WHERE page_id = ? AND status = 'done'", (row["id"],))
            text = read_page_text(catalog, row["id"]) if t else ""  # decrypted when protected (R40)
        result.pages.append(
            SourcePage(
                seq=row["seq"],
                page_id=row["id"],
                file_name=row["file_name"],
                data=data,
                format=_detect(data),
                width=width,
                height=height,
                dpi=dpi,
                layout=layout,
                text=text,
            )
        )
    return result


def check_out_path(out: Path, suffix: str, count: int, number: str) -> Path:
    """Where one dossier's copy goes: ``out`` itself when it names a file (one dossier only),
    else ``out/档号.suffix``. An existing file is never overwritten."""
    out = Path(out)
    if out.suffix.lower() == suffix:
        if count != 1:
            raise InvalidInput(
                "--out names one file ({f}) but {c} dossiers were given; give a folder.",
                "--out 指定的是单个文件（{f}），但给出了 {c} 个案卷；请指定目录。",
                f=str(out),
                c=count,
            )
        target = out
    else:
        target = out / f"{number}{suffix}"
    if target.exists():
        raise Refused(
            "{f} already exists; nothing was overwritten. Choose another --out.",
            "{f} 已存在；未覆盖任何文件。请另选 --out。",
            f=str(target),
        )
    return target


def require_numbers(numbers) -> list[str]:
    cleaned = [n.strip() for n in numbers or [] if n and n.strip()]
    if not cleaned:
        raise InvalidInput("Give at least one 档号.", "请至少给出一个档号。")
    return list(dict.fromkeys(cleaned))


__all__ = [
    "NOT_EXPORTABLE",
    "SourceDossier",
    "SourcePage",
    "TextRun",
    "separators",
    "text_runs",
    "check_out_path",
    "load_pages",
    "require_numbers",
    "resolve_dossier",
]
