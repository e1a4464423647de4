"""Shared data for the export tests: dossiers with realistic page images read by the real tesseract.

The OCR layout of each page is made here from tesseract's TSV output (words with boxes), the way the
OCR runner stores it: CJK text without spaces between characters. The product only reads layouts.
"""

from __future__ import annotations

import functools
import hashlib
import io
import json
import subprocess
import unicodedata
from pathlib import Path

import numpy as np
import pytesseract
from PIL import Image

from scanstation.custody import protection
from scanstation.devices.demo_pages import demo_plan, render_page
from scanstation.home import now_iso
from scanstation.ocr.layout import Line, PageLayout, Word, save_layout

OCR_LANG = "chi_sim+eng"
DPI = 200


def _cjk(ch: str) -> bool:
    return bool(ch) and (unicodedata.east_asian_width(ch) in ("W", "F"))


def join_words(texts: list[str]) -> str:
    out = ""
    for t in texts:
        if out and not (_cjk(out[-1]) or _cjk(t[0])):
            out += " "
        out += t
    return out


@functools.lru_cache(maxsize=64)
def _tsv_layout(digest: str, data: bytes) -> PageLayout:
    img = Image.open(io.BytesIO(data))
    d = pytesseract.image_to_data(img, lang=OCR_LANG, output_type=pytesseract.Output.DICT)
    groups: dict[tuple, list[Word]] = {}
    for i, text in enumerate(d["text"]):
        text = (text or "").strip()
        if not text or float(d["conf"][i]) < 0:
            continue
        key = (d["block_num"][i], d["par_num"][i], d["line_num"][i])
        x, y, w, h = d["left"][i], d["top"][i], d["width"][i], d["height"][i]
        groups.setdefault(key, []).append(Word(text=text, box=(x, y, x + w, y + h), confidence=float(d["conf"][i])))
    lines = []
    for key in sorted(groups):
        words = tuple(groups[key])
        box = (
            min(w.box[0] for w in words),
            min(w.box[1] for w in words),
            max(w.box[2] for w in words),
            max(w.box[3] for w in words),
        )
        lines.append(Line(text=join_words([w.text for w in words]), box=box, words=words))
    return PageLayout(width=img.width, height=img.height, engine=f"tesseract {OCR_LANG} (test)", lines=tuple(lines))


def layout_from_tesseract(data: bytes) -> PageLayout:
    return _tsv_layout(hashlib.sha256(data).hexdigest(), data)


@functools.lru_cache(maxsize=64)
def page_image(number: str, seq: int, fmt: str = "jpeg", mode: str = "gray") -> bytes:
    spec = demo_plan(
        {"档号": number, "题名": "参保人员社会保险登记表", "姓名": "张三"},
        seq,
        seed=7,
        dpi=DPI,
        mode=mode,
        max_skew_deg=0.0,
        noise=0.05,
        paper=(148.0, 150.0),
    )[seq - 1]
    img, _ = render_page(spec)
    out = io.BytesIO()
    if fmt == "jpeg":
        img.save(out, "JPEG", quality=88, dpi=(DPI, DPI))
    elif fmt == "tiff":
        img.save(out, "TIFF", compression="tiff_lzw", dpi=(DPI, DPI))
    elif fmt == "tiff1":
        img.convert("1").save(out, "TIFF", compression="group4", dpi=(DPI, DPI))
    else:
        raise ValueError(fmt)
    return out.getvalue()


def add_ocr_dossier(
    home,
    number: str,
    *,
    pages: int = 2,
    year: int = 2024,
    title: str = "参保人员社会保险登记表",
    status: str = "approved",
    declared: int | None = None,
    fmt: str = "jpeg",
    layout: bool = True,
    text: bool = True,
    responsible: str = "某市社会保险事业管理中心",
    mode: str = "gray",
    remarks: str = "",
) -> dict:
    """A dossier with real page images in the home's store, each read by tesseract (layout + text)."""
    store = protection.image_store(home)
    now = now_iso()
    ext = {"jpeg": "jpg", "tiff": "tif", "tiff1": "tif"}[fmt]
    with home.catalog.write() as conn:
        dossier_id = conn.execute(
            "INSERT INTO dossiers(number, fonds_code, year, retention, title, responsible, date, declared_pages,"
            " security_level, remarks, status, created_at, updated_at)"
            " VALUES (?, 'X001', ?, 'D100', ?, ?, ?, ?, '', ?, ?, ?, ?)",
            (
                number,
                year,
                title,
                responsible,
                f"{year}-06-01",
                pages if declared is None else declared,
                remarks,
                status,
                now,
                now,
            ),
        ).lastrowid
    for seq in range(1, pages + 1):
        data = page_image(number, seq, fmt, mode)
        name = f"{number}-{seq:04d}.{ext}"
        stored = store.write(number, name, data)
        with Image.open(io.BytesIO(data)) as img:
            w, h = img.size
        with home.catalog.write() as conn:
            page_id = conn.execute(
                "INSERT INTO pages(dossier_id, seq, file_name, bytes, sha256, sm3, format, width, height, dpi,"
                " color_mode, capture_time, operator, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 'gray', ?,"
                " 'clerk1', ?)",
                (
                    dossier_id,
                    seq,
                    name,
                    stored.bytes,
                    stored.sha256,
                    stored.sm3,
                    "tiff" if fmt.startswith("tiff") else "jpeg",
                    w,
                    h,
                    DPI,
                    now,
                    now,
                ),
            ).lastrowid
            lay = layout_from_tesseract(data) if (layout or text) else None
            if text:
                conn.execute(
                    "INSERT INTO page_text(page_id, status, attempts, text, error, updated_at)"
                    " VALUES (?, 'done', 1, ?, '', ?)",
                    (page_id, lay.text, now),
                )
            if layout:
                save_layout(conn, page_id, lay, now)
    return home.catalog.one("SELECT * FROM dossiers WHERE id = ?", (dossier_id,))


def stored_text(home, number: str) -> list[str]:
    """The stored OCR text of a dossier's pages, one string per page."""
    rows = home.catalog.query(
        "SELECT t.text FROM pages p JOIN dossiers d ON d.id = p.dossier_id"
        " JOIN page_text t ON t.page_id = p.id WHERE d.number = ? AND p.state = 'active'"
        " ORDER BY p.seq",
        (number,),
    )
    return [r["text"] for r in rows]


def pdftotext_pages(pdf: Path) -> list[str]:
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", str(pdf), "-"], capture_output=True, check=True, timeout=60
    ).stdout.decode("utf-8")
    pages = out.split("\f")
    return pages[:-1] if pages and not pages[-1].strip() else pages


def nonblank_lines(text: str) -> list[str]:
    return [ln.strip() for ln in text.splitlines() if ln.strip()]


def render_pdf_pages(pdf: Path, out_dir: Path, dpi: int = 30) -> list[np.ndarray]:
    out_dir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), "-gray", "-png", str(pdf), str(out_dir / "p")],
        check=True,
        timeout=120,
        capture_output=True,
    )
    return [np.asarray(Image.open(p).convert("L"), dtype=np.float32) for p in sorted(out_dir.glob("p-*.png"))]


def downscaled(data: bytes, size: tuple[int, int]) -> np.ndarray:
    with Image.open(io.BytesIO(data)) as img:
        return np.asarray(img.convert("L").resize(size, Image.BILINEAR), dtype=np.float32)


__all__ = [
    "add_ocr_dossier",
    "downscaled",
    "join_words",
    "layout_from_tesseract",
    "nonblank_lines",
    "page_image",
    "pdftotext_pages",
    "render_pdf_pages",
    "stored_text",
    "json",
]
