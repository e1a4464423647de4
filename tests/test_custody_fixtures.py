"""Shared data for the custody tests: the custody migration, dossiers with real page images.

Imported by the other tests/test_custody_*.py files (``from tests.test_custody_fixtures import *``).
"""

from __future__ import annotations

import io
import json
import random
import shutil
import subprocess
import zlib
from pathlib import Path

import pytest
from PIL import Image, ImageDraw

from scanstation import audit
from scanstation.custody import MIGRATION
from scanstation.home import now_iso
from scanstation.storage import catalog as catalog_module
from scanstation.storage.image_store import ImageStore

ID_NUMBER = "11010519491231002X"  # a valid 18-character ID number (check character X)
OTHER_ID = "44030519900101123X"


def jpeg_bytes(seed: int, size=(160, 220)) -> bytes:
    """A small page-like JPEG: white paper, dark text lines, a little noise (distinct per seed)."""
    rng = random.Random(seed)
    img = Image.new("RGB", size, (250, 250, 246))
    draw = ImageDraw.Draw(img)
    for y in range(20, size[1] - 20, 14):
        draw.line((15, y, rng.randint(60, size[0] - 15), y), fill=(30, 30, 30), width=3)
    for _ in range(40):
        x, y = rng.randrange(size[0]), rng.randrange(size[1])
        draw.point((x, y), fill=(rng.randrange(256),) * 3)
    buffer = io.BytesIO()
    img.save(buffer, "JPEG", quality=90, dpi=(300, 300))
    return buffer.getvalue()


def number_for(year: int, retention: str, item: int, volume: int = 1) -> str:
    return f"X001-ZY·DJ·{year}·{retention}-{volume:04d}-{item:03d}"


def add_dossier(
    home,
    number: str,
    *,
    year: int = 2010,
    retention: str = "D10",
    status: str = "archived",
    pages: int = 2,
    person_id: str = ID_NUMBER,
    person_name: str = "张三",
    title: str = "参保人员登记表",
    scanned_by: str = "clerk1",
    completed_by: str = "clerk1",
    qc_by: str = "qc1",
    operator: str | None = None,
    capture_day: str = "2024-03-05",
    qc_flags=None,
) -> dict:
    """A dossier row plus ``pages`` real JPEG page files written through the image store."""
    store = ImageStore(home.path)
    now = now_iso()
    with home.catalog.write() as conn:
        cur = conn.execute(
            "INSERT INTO dossiers(number, fonds_code, year, retention, title, date, declared_pages, person_name,"
            " person_id_number, status, scanned_by, completed_by, qc_by, created_at, updated_at)"
            " VALUES (?, 'X001', ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                number,
                year,
                retention,
                title,
                f"{year}-06-01",
                pages,
                person_name,
                person_id,
                status,
                scanned_by,
                completed_by,
                qc_by,
                now,
                now,
            ),
        )
        dossier_id = cur.lastrowid
    for seq in range(1, pages + 1):
        name = f"{number}-{seq:04d}.jpg"
        stored = store.write(number, name, jpeg_bytes(zlib.crc32(f"{number}#{seq}".encode())))
        flags = (qc_flags or {}).get(seq, [])
        with home.catalog.write() as conn:
            conn.execute(
                "INSERT INTO pages(dossier_id, seq, file_name, bytes, sha256, sm3, format, width, height, dpi,"
                " color_mode, capture_time, operator, qc_flags, created_at)"
                " VALUES (?, ?, ?, ?, ?, ?, 'jpeg', 160, 220, 300, 'color', ?, ?, ?, ?)",
                (
                    dossier_id,
                    seq,
                    name,
                    stored.bytes,
                    stored.sha256,
                    stored.sm3,
                    f"{capture_day}T09:{seq % 60:02d}:00+08:00",
                    operator or scanned_by,
                    json.dumps(flags),
                    now,
                ),
            )
            audit.append(
                conn,
                ts=now,
                user=operator or scanned_by,
                station=home.station,
                action="page.capture",
                object_type="page",
                object_id=f"{number}#{seq:04d}",
                after={"file": name, "sm3": stored.sm3},
            )
    return home.catalog.one("SELECT * FROM dossiers WHERE id = ?", (dossier_id,))


def page_files(home, number: str) -> list[Path]:
    return sorted((Path(home.path) / "images" / number).glob("*"))


def assert_pdf_renders(pdf: Path, tmp_path: Path) -> Path:
    """Render page 1 with pdftoppm; the PNG must exist and show ink; every font must be embedded."""
    assert shutil.which("pdftoppm") and shutil.which("pdffonts"), "poppler-utils is required for these tests"
    prefix = tmp_path / (pdf.stem + "-render")
    subprocess.run(
        ["pdftoppm", "-r", "50", "-png", "-f", "1", "-l", "1", str(pdf), str(prefix)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    pngs = sorted(tmp_path.glob(prefix.name + "*.png"))
    assert pngs, "pdftoppm produced no image"
    with Image.open(pngs[0]) as img:
        grey = img.convert("L")
        dark = sum(grey.histogram()[:128])
        assert dark > 200, "the rendered page is blank"
    fonts = subprocess.run(["pdffonts", str(pdf)], check=True, capture_output=True, text=True, timeout=60).stdout
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert rows, "no font in the PDF"
    for row in rows:
        # columns: name type [type2] encoding emb sub uni id gen -> 'emb' is the 5th field from the end
        assert row[-5] == "yes", f"font not embedded: {row}"
    return pngs[0]


def pdf_text(pdf: Path) -> str:
    return subprocess.run(
        ["pdftotext", "-layout", str(pdf), "-"], check=True, capture_output=True, text=True, timeout=60
    ).stdout


__all__ = [
    "ID_NUMBER",
    "OTHER_ID",
    "add_dossier",
    "assert_pdf_renders",
    "jpeg_bytes",
    "number_for",
    "page_files",
    "pdf_text",
]
