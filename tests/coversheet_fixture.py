"""Stacks for split tests: cover sheets printed by the product and rasterised with pdftoppm (200/300 dpi,
colour, grey, black-and-white), turned ±3° or 180°, with noise or JPEG compression, interleaved with
document pages drawn by the demo page generator."""

from __future__ import annotations

import io
import os
import random
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image

from scanstation.coversheet.sheet import SheetData, write_sheets
from scanstation.home import now_iso

YEAR = 2024


def number(i: int) -> str:
    return f"X001-ZY·DJ·{YEAR}·D100-{i // 1000 + 1:04d}-{i % 1000 + 1:03d}"


def add_dossiers(
    home, count: int, pages_of=lambda i: 1 + i % 3, start: int = 0, status: str = "cataloged"
) -> list[dict]:
    """``count`` catalogued dossiers (real rows, as the catalog import writes them)."""
    rows = []
    with home.catalog.write() as conn:
        for i in range(start, start + count):
            conn.execute(
                "INSERT INTO dossiers(number, fonds_code, year, category, retention, title, declared_pages, box_no,"
                " status, created_at, updated_at) VALUES (?, 'X001', ?, 'ZY·DJ', 'D100', ?, ?, ?, ?, ?, ?)",
                (
                    number(i),
                    YEAR,
                    f"参保登记表 第{i + 1}号",
                    pages_of(i),
                    f"B{i // 10 + 1:02d}",
                    status,
                    now_iso(),
                    now_iso(),
                ),
            )
    for i in range(start, start + count):
        rows.append(home.catalog.one("SELECT * FROM dossiers WHERE number = ?", (number(i),)))
    return rows


# variants a sheet goes through, cycled over the stack
VARIANTS = [
    # dpi, pdftoppm colour option, transform
    (300, "color", "rot+3"),
    (200, "gray", "rot-3"),
    (300, "mono", "rot180"),
    (200, "color", "noise"),
    (300, "gray", "jpeg"),
    (200, "mono", "rot+3"),
    (300, "color", "rot180"),
    (200, "gray", "noise"),
    (300, "mono", "jpeg"),
    (200, "color", "rot-3"),
    (300, "gray", "rot180"),
    (200, "color", "jpeg"),
]


def rasterise_sheet(pdf: Path, out_dir: Path, page: int, dpi: int, colour: str) -> Path:
    """One page of the PDF through pdftoppm, as a print-and-scan would give it."""
    out_dir.mkdir(parents=True, exist_ok=True)
    option = {"color": [], "gray": ["-gray"], "mono": ["-mono"]}[colour]
    prefix = out_dir / f"sheet-{page:04d}-{dpi}-{colour}"
    subprocess.run(
        ["pdftoppm", "-r", str(dpi), *option, "-f", str(page), "-l", str(page), "-singlefile", str(pdf), str(prefix)],
        check=True,
        timeout=300,
    )
    return next(out_dir.glob(f"sheet-{page:04d}-{dpi}-{colour}.*"))


def transform(image: Image.Image, how: str, rng: random.Random) -> Image.Image:
    fill = 1 if image.mode == "1" else (255 if image.mode == "L" else (255, 255, 255))
    if how == "rot+3":
        return image.rotate(
            3,
            expand=True,
            fillcolor=fill,
            resample=Image.Resampling.NEAREST if image.mode == "1" else Image.Resampling.BILINEAR,
        )
    if how == "rot-3":
        return image.rotate(
            -3,
            expand=True,
            fillcolor=fill,
            resample=Image.Resampling.NEAREST if image.mode == "1" else Image.Resampling.BILINEAR,
        )
    if how == "rot180":
        return image.rotate(180)
    if how == "noise":
        if image.mode == "1":
            arr = np.array(image, dtype=bool)
            flips = np.random.default_rng(rng.randrange(1 << 30)).random(arr.shape) < 0.01
            return Image.fromarray(arr ^ flips)
        arr = np.asarray(image).astype(np.int16)
        noise = np.random.default_rng(rng.randrange(1 << 30)).normal(0, 18, arr.shape)
        return Image.fromarray(np.clip(arr + noise, 0, 255).astype(np.uint8), image.mode)
    if how == "jpeg":
        buffer = io.BytesIO()
        image.convert("L" if image.mode in ("1", "L") else "RGB").save(buffer, "JPEG", quality=35)
        buffer.seek(0)
        return Image.open(buffer).copy()
    return image


def document_page(i: int, j: int, dpi: int) -> Image.Image:
    from scanstation.devices import demo_pages

    spec = demo_pages.demo_plan(
        {"档号": number(i), "题名": f"参保登记表 第{i + 1}号"}, 3, i, False, dpi=dpi, mode="gray", paper=(210, 297)
    )[j % 3]
    image, _truth = demo_pages.render_page(spec)
    return image


@dataclass
class Stack:
    files: list[Path] = field(default_factory=list)
    # position in the stack -> (档号, page number within the dossier) for pages; None for sheets
    truth: list[tuple[str, int] | None] = field(default_factory=list)

    def expected(self) -> dict[str, list[int]]:
        """档号 -> stack positions of its pages, in order."""
        out: dict[str, list[int]] = {}
        for pos, t in enumerate(self.truth):
            if t is not None:
                out.setdefault(t[0], []).append(pos)
        return out


def build_stack(tmp: Path, dossiers: list[dict], *, pages_of=None, suffix: str = ".tif", seed: int = 7) -> Stack:
    """Sheet + pages for every dossier, each sheet through one of VARIANTS, pages drawn at the sheet's dpi."""
    rng = random.Random(seed)
    pdf = write_sheets(
        [SheetData(d["number"], d["title"], d["declared_pages"], d["year"], d["box_no"]) for d in dossiers],
        tmp / "sheets.pdf",
    )
    stack = Stack()
    page_cache: dict[tuple[int, int], Path] = {}
    out = tmp / "stack"
    out.mkdir(parents=True, exist_ok=True)
    for k, d in enumerate(dossiers):
        dpi, colour, how = VARIANTS[k % len(VARIANTS)]
        with Image.open(rasterise_sheet(pdf, tmp / "raster", k + 1, dpi, colour)) as raw:
            sheet = transform(raw.copy(), how, rng)
        path = out / f"{len(stack.files):04d}-sheet{suffix}"
        sheet.save(path, dpi=(dpi, dpi))
        stack.files.append(path)
        stack.truth.append(None)
        count = d["declared_pages"] if pages_of is None else pages_of(k)
        for j in range(count):
            key = (dpi, j % 3)
            path = out / f"{len(stack.files):04d}-page{suffix}"
            if key not in page_cache:  # drawn once per dpi and page kind, then linked (the same sheet of paper)
                document_page(k, j, dpi).save(path, dpi=(dpi, dpi))
                page_cache[key] = path
            else:
                os.link(page_cache[key], path)
            stack.files.append(path)
            stack.truth.append((d["number"], j + 1))
    return stack


def stored_positions(home, number_: str) -> list[int]:
    """Stack positions of a dossier's active pages, in page order (from each page's source reference)."""
    rows = home.catalog.query(
        "SELECT p.seq, p.source_ref FROM pages p JOIN dossiers d ON d.id = p.dossier_id"
        " WHERE d.number = ? AND p.state = 'active' ORDER BY p.seq",
        (number_,),
    )
    return [int(r["source_ref"].rsplit(":", 1)[1]) for r in rows]
