"""Realistic document pages with known truth, for the demo scanner and for tests.

A page is described by a small picklable ``PageSpec``; ``render_page`` draws it the way a
sheet-fed scanner delivers it: a form-like social-insurance page (header, title, a table of
fields, business paragraphs, page footer) in Chinese and English, the paper skewed by a known
angle, optional binding holes near the bound edge, noise specks and paper grain, and a dark
scanner background around the paper. ``PageTruth`` says what was drawn: skew, blank, the text
lines, where the paper lies in the image.

``demo_plan`` turns a dossier's catalog fields into the specs of its pages (fronts, and in duplex
the backs: most blank, some with a few lines).

Speed: the demo scanner runs beside the capture pipeline on the same cores, so every
millisecond it spends is taken from the station (about 35 ms of CPU for a 300 dpi grey A4 page,
most of it the warp). The page is drawn in numpy arrays: glyphs are rendered once per (font
size, character), lines are laid out by copying concatenated cached glyph arrays into a
coverage mask, table rules are array slices; the ink goes on in one OpenCV pass over the mask;
the skew, the placement on the scanner bed and the border are one affine warp; the grain is a
window of a cached random field already mapped to grain values (one saturating subtraction),
and specks and punched holes are discs drawn in place. ``render_pixels`` hands the array to the
demo scanner, which spools it without converting it to an image first.
"""

from __future__ import annotations

import functools
import math
import random
from dataclasses import dataclass, field
from typing import Literal

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from scanstation.fonts import find_cjk_font
from scanstation.imaging import geometry

Mode = Literal["color", "gray", "lineart"]

A4_MM = (210.0, 297.0)
BED_MARGIN_MM = 6.0  # scanner background visible around the (rotated) paper

PAPER_GRAY = 242
PAPER_RGB = (246, 243, 234)
INK_GRAY = 22
INK_RGB = (24, 26, 38)
BORDER_GRAY = 28
BORDER_RGB = (26, 27, 30)
LID_GRAY = 236  # flatbed lid when border=False
SEAL_RGB = (205, 30, 36)


@dataclass(frozen=True)
class PageSpec:
    """One page image to generate. ``lines`` use a tiny markup:
    ``# text`` header, ``## text`` title, ``| a | b | c`` table row, ``> text`` right-aligned,
    ``""`` vertical space, anything else a paragraph (wrapped to the text width)."""

    dossier_number: str
    seq: int
    dpi: int = 300
    mode: Mode = "gray"
    paper: tuple[float, float] = A4_MM
    skew_deg: float = 0.0
    blank: bool = False
    lines: tuple[str, ...] = ()
    seed: int = 0
    noise: float = 0.15
    border: bool = True
    duplicate_of: int | None = None  # this image is a second feed of page ``duplicate_of``
    back: bool = False  # back side of a sheet (binding holes appear near the right edge)
    binding_holes: int = 0  # punched holes near the bound edge (R08: cleaning keeps them)
    seal: bool = False  # red seal (colour pages)
    orientation: int = 0  # 0/90/180/270: the sheet was fed turned counter-clockwise by this
    shift_mm: tuple[float, float] = (0.0, 0.0)  # extra placement offset on the bed
    demo_mark: bool = True  # the "演示" stamp in the top-right margin (pages with text; see MARK_TEXT)

    def __post_init__(self):
        if isinstance(self.lines, list):
            object.__setattr__(self, "lines", tuple(self.lines))


@dataclass
class PageTruth:
    skew_deg: float
    blank: bool
    text_lines: list[str]
    page_box_px: tuple[int, int, int, int]  # (left, top, right, bottom) of the paper in the image
    dpi: int
    page_corners_px: list[tuple[float, float]] = field(default_factory=list)  # paper corners TL, TR, BR, BL
    hole_centres_px: list[tuple[float, float]] = field(default_factory=list)
    hole_radius_px: float = 0.0
    seq: int = 0
    duplicate_of: int | None = None
    orientation: int = 0
    mark_box_px: tuple[int, int, int, int] | None = None  # the "演示" stamp on the paper (unrotated, unskewed)


# --------------------------------------------------------------------------- fonts


@functools.lru_cache(maxsize=32)
def _font(size_px: int) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(find_cjk_font(), size_px, index=0, layout_engine=ImageFont.Layout.BASIC)


class _GlyphCache:
    """Glyph bitmaps of one font size, all of the same height (ascent + descent), so a line is
    one ``np.concatenate`` of cached arrays."""

    def __init__(self, size_px: int):
        self.font = _font(size_px)
        ascent, descent = self.font.getmetrics()
        self.height = ascent + descent
        self.glyphs: dict[str, np.ndarray] = {}

    def glyph(self, ch: str) -> np.ndarray:
        g = self.glyphs.get(ch)
        if g is None:
            adv = max(1, int(round(self.font.getlength(ch))))
            img = Image.new("L", (adv, self.height), 0)
            if not ch.isspace():
                ImageDraw.Draw(img).text((0, 0), ch, font=self.font, fill=255)
            g = self.glyphs[ch] = np.asarray(img)
        return g

    def width(self, text: str) -> int:
        return sum(self.glyph(ch).shape[1] for ch in text)

    def line(self, text: str) -> np.ndarray:
        return np.concatenate([self.glyph(ch) for ch in text], axis=1)


@functools.lru_cache(maxsize=32)
def _glyphs(size_px: int) -> _GlyphCache:
    return _GlyphCache(size_px)


def _mm(mm: float, dpi: int) -> int:
    return int(round(mm / 25.4 * dpi))


# --------------------------------------------------------------------------- layout

HEADER_MM = 6.0
TITLE_MM = 5.0
BODY_MM = 3.6
SMALL_MM = 3.0

# Invented pages say so: a "演示" (demo) stamp burned into every page with text, in the top-right margin where
# no form text goes (the header starts 18 mm down, the text 20 mm in from the right edge). Lighter than the
# ink (coverage MARK_LEVEL of 255: mid grey, which tesseract leaves out, so the OCR text and PageTruth's lines
# are those of the form; line art thresholds at half, so there it is darker), a box round two characters.
# Blank backs stay blank: a stamp there would be ink, and blank-page detection (which the demo shows) would keep them.
MARK_TEXT = "演示"
MARK_MM = 7.0  # character size
MARK_BOX_MM = (4.0, 5.0, 24.0, 15.0)  # from the top-right corner: right inset, top, width, height
MARK_LEVEL = 100
MARK_LEVEL_LINEART = 170


def mark_box(w_px: int, dpi: int) -> tuple[int, int, int, int]:
    """(left, top, right, bottom) of the "演示" stamp on paper ``w_px`` wide, before any turn or skew."""
    inset, top, width, height = MARK_BOX_MM
    right = w_px - _mm(inset, dpi)
    return right - _mm(width, dpi), _mm(top, dpi), right, _mm(top, dpi) + _mm(height, dpi)


def _draw_mark(mask: np.ndarray, dpi: int, level: int = MARK_LEVEL) -> tuple[int, int, int, int]:
    left, top, right, bottom = box = mark_box(mask.shape[1], dpi)
    lw = max(2, _mm(0.5, dpi))
    for y0, y1, x0, x1 in (
        (top, top + lw, left, right),
        (bottom - lw, bottom, left, right),
        (top, bottom, left, left + lw),
        (top, bottom, right - lw, right),
    ):
        mask[y0:y1, x0:x1] = np.maximum(mask[y0:y1, x0:x1], level)
    glyphs = _glyphs(_mm(MARK_MM, dpi))
    line = (glyphs.line(MARK_TEXT).astype(np.uint16) * level // 255).astype(np.uint8)
    x = left + max(0, (right - left - line.shape[1]) // 2)
    y = top + max(0, (bottom - top - line.shape[0]) // 2)
    region = np.zeros_like(mask)
    _blit(region, line, x, y)
    np.maximum(mask, region, out=mask)
    return box


def _wrap(text: str, glyphs: _GlyphCache, width_px: int, indent_px: int = 0) -> list[str]:
    """Greedy wrap; Chinese breaks anywhere, runs of Latin letters/digits stay whole if they fit."""
    lines: list[str] = []
    current, current_w = "", indent_px
    i = 0
    while i < len(text):
        j = i + 1
        if text[i].isascii() and text[i].isalnum():
            while j < len(text) and text[j].isascii() and (text[j].isalnum() or text[j] in ".-·/"):
                j += 1
        token = text[i:j]
        w = glyphs.width(token)
        if current_w + w > width_px and current.strip():
            lines.append(current)
            current, current_w = "", 0
            token = token.lstrip(" ")
            w = glyphs.width(token)
        if w > width_px:  # a token longer than the line: break it by characters
            for ch in token:
                cw = glyphs.width(ch)
                if current_w + cw > width_px and current:
                    lines.append(current)
                    current, current_w = "", 0
                current += ch
                current_w += cw
        else:
            current += token
            current_w += w
        i = j
    if current.strip():
        lines.append(current)
    return lines


def _layout(spec: PageSpec, w_px: int, h_px: int) -> tuple[np.ndarray, list[str]]:
    """Draw the page's ink (text and rules) as a uint8 coverage mask (h, w) of the paper's size."""
    dpi = spec.dpi
    mask = np.zeros((h_px, w_px), dtype=np.uint8)
    truth: list[str] = []
    if spec.blank or not spec.lines:
        return mask, truth
    left, right = _mm(25, dpi), w_px - _mm(20, dpi)
    text_w = right - left
    y = _mm(18, dpi)
    bottom_limit = h_px - _mm(22, dpi)
    body = _glyphs(_mm(BODY_MM, dpi))
    line_pitch = int(body.height * 1.55)

    def put(text: str, glyphs: _GlyphCache, x: int, y0: int) -> None:
        if text:
            _blit(mask, glyphs.line(text), x, y0)

    lw = max(1, _mm(0.25, dpi))  # table rules, centred on their coordinate
    lo = (lw - 1) // 2

    def hrule(x0: int, x1: int, y0: int) -> None:
        mask[max(0, y0 - lo) : max(0, y0 - lo + lw), max(0, x0) : max(0, x1 + 1)] = 255

    def vrule(x0: int, y0: int, y1: int) -> None:
        mask[max(0, y0) : max(0, y1 + 1), max(0, x0 - lo) : max(0, x0 - lo + lw)] = 255

    table: list[list[str]] = []

    def flush_table() -> None:
        nonlocal y, table
        if not table:
            return
        small = _glyphs(_mm(BODY_MM, dpi))
        ncols = max(len(r) for r in table)
        row_h = int(small.height * 2.0)
        col_w = text_w // ncols
        pad = _mm(1.5, dpi)
        for row in table:
            if y + row_h > bottom_limit:
                break
            hrule(left, left + ncols * col_w, y)
            for c, cell in enumerate(row):
                span = ncols - c if c == len(row) - 1 else 1  # the last cell spans the rest of the row
                cell_text = cell
                while cell_text and small.width(cell_text) > span * col_w - 2 * pad:
                    cell_text = cell_text[:-1]
                put(cell_text, small, left + c * col_w + pad, y + (row_h - small.height) // 2)
                vrule(left + c * col_w, y, y + row_h)
            vrule(left + ncols * col_w, y, y + row_h)
            truth.append(" ".join(cell for cell in row if cell))
            y += row_h
        hrule(left, left + ncols * col_w, y)
        y += _mm(4, dpi)
        table = []

    for raw in spec.lines:
        if y > bottom_limit:
            break
        if raw.startswith("|"):
            table.append([cell.strip() for cell in raw.strip("|").split("|")])
            continue
        flush_table()
        if raw.startswith("## "):
            g = _glyphs(_mm(TITLE_MM, dpi))
            text = raw[3:]
            put(text, g, left + max(0, (text_w - g.width(text)) // 2), y)
            truth.append(text)
            y += int(g.height * 1.8)
        elif raw.startswith("# "):
            g = _glyphs(_mm(HEADER_MM, dpi))
            text = raw[2:]
            put(text, g, left + max(0, (text_w - g.width(text)) // 2), y)
            truth.append(text)
            y += int(g.height * 1.7)
        elif raw.startswith("> "):
            text = raw[2:]
            put(text, body, right - body.width(text), y)
            truth.append(text)
            y += line_pitch
        elif raw.startswith("~ "):  # footer, at the bottom of the page
            g = _glyphs(_mm(SMALL_MM, dpi))
            text = raw[2:]
            put(text, g, left + max(0, (text_w - g.width(text)) // 2), h_px - _mm(14, dpi))
            truth.append(text)
        elif not raw.strip():
            y += line_pitch // 2
        else:
            indent = body.width("\u3000\u3000") if not raw.isascii() else 0
            for k, text in enumerate(_wrap(raw, body, text_w, indent)):
                if y > bottom_limit:
                    break
                put(text, body, left + (indent if k == 0 else 0), y)
                truth.append(text)
                y += line_pitch
    flush_table()
    return mask, truth


def _blit(dest: np.ndarray, src: np.ndarray, x: int, y: int) -> None:
    """Copy ``src`` into ``dest`` with its top-left corner at (x, y), clipped to ``dest``."""
    h, w = dest.shape[:2]
    sh, sw = src.shape[:2]
    x0, y0 = max(0, x), max(0, y)
    x1, y1 = min(w, x + sw), min(h, y + sh)
    if x1 > x0 and y1 > y0:
        dest[y0:y1, x0:x1] = src[y0 - y : y1 - y, x0 - x : x1 - x]


# --------------------------------------------------------------------------- noise


@functools.lru_cache(maxsize=4)
def _grain(w: int, h: int, amplitude: int) -> np.ndarray:
    """A random grain field (0..amplitude) bigger than any page of this size; pages take a window
    at a random offset, so every page gets different grain at the cost of a subtraction."""
    rng = np.random.default_rng(20240601)
    field_values = rng.integers(0, 256, size=(h + 256, w + 256), dtype=np.uint8)
    return cv2.LUT(field_values, _grain_lut(amplitude))


@functools.lru_cache(maxsize=16)
def _grain_lut(amplitude: int) -> np.ndarray:
    # mostly small values with a tail, like paper texture and sensor noise
    return np.array([int(amplitude * (v / 255.0) ** 2.5) for v in range(256)], dtype=np.uint8)


def _add_noise(bed: np.ndarray, spec: PageSpec, rng: random.Random, paper_box: tuple[int, int, int, int]) -> None:
    """Grain over the whole image and dust specks on the paper, in place."""
    amp = int(round(spec.noise * 40))
    h, w = bed.shape[:2]
    if amp > 0:
        ox, oy = rng.randrange(0, 256), rng.randrange(0, 256)
        grain = _grain(*_bucket((w, h)), amp)[oy : oy + h, ox : ox + w]
        if bed.ndim == 3:
            grain = cv2.merge([grain, grain, grain])
        cv2.subtract(bed, grain, dst=bed)  # saturating, like a darker sensor reading
    n = int(round(spec.noise * 400 * (spec.paper[0] * spec.paper[1]) / (A4_MM[0] * A4_MM[1])))
    l, t, r, b = paper_box
    for _ in range(n):
        x, y = rng.uniform(l, r), rng.uniform(t, b)
        rad = max(0.5, spec.dpi * rng.uniform(0.03, 0.25) / 25.4)
        v = rng.randrange(20, 140)
        _disc(bed, x, y, rad, (v, v, v) if bed.ndim == 3 else v)


def _disc(img: np.ndarray, x: float, y: float, radius: float, colour) -> None:
    """Filled disc centred at continuous coordinates (x, y) (pixel centres at i + 0.5)."""
    s = 1 << _SUBPIXEL
    cv2.circle(
        img,
        (int(round((x - 0.5) * s)), int(round((y - 0.5) * s))),
        int(round(radius * s)),
        colour,
        thickness=-1,
        lineType=cv2.LINE_8,
        shift=_SUBPIXEL,
    )


_SUBPIXEL = 4  # cv2 drawing in 1/16 pixel


def _bucket(size: tuple[int, int]) -> tuple[int, int]:
    # few distinct grain fields: round sizes up to 256 px
    return ((size[0] + 255) // 256 * 256, (size[1] + 255) // 256 * 256)


def _ink_on_paper(mask: np.ndarray, paper, ink) -> np.ndarray:
    """The paper with the ink laid on through the coverage mask: paper - (paper - ink) * mask / 255,
    one channel at a time (one SIMD pass each)."""
    if isinstance(paper, tuple):
        return cv2.merge([_ink_on_paper(mask, p, i) for p, i in zip(paper, ink)])
    return cv2.convertScaleAbs(mask, alpha=-(paper - ink) / 255.0, beta=float(paper))


# --------------------------------------------------------------------------- rendering


def render_page(spec: PageSpec) -> tuple[Image.Image, PageTruth]:
    """Draw one page image as the scanner would deliver it, and say what was drawn."""
    pixels, truth = render_pixels(spec)
    if spec.mode == "lineart":
        image = Image.fromarray(pixels >= 128)  # mode "1"
    else:
        image = Image.fromarray(pixels)  # shares the array's memory
    image.info["dpi"] = (spec.dpi, spec.dpi)
    return image, truth


def render_pixels(spec: PageSpec) -> tuple[np.ndarray, PageTruth]:
    """``render_page`` as a uint8 array: (h, w) grey (also for line art, before thresholding at 128)
    or (h, w, 3) RGB."""
    if spec.mode not in ("color", "gray", "lineart"):
        raise ValueError(f"unknown mode {spec.mode!r}")
    rng = random.Random(f"{spec.dossier_number}|{spec.seq}|{spec.seed}")
    dpi = spec.dpi
    w_px, h_px = _mm(spec.paper[0], dpi), _mm(spec.paper[1], dpi)
    colour = spec.mode == "color"
    paper_c = PAPER_RGB if colour else PAPER_GRAY
    ink_c = INK_RGB if colour else INK_GRAY
    border_c = (BORDER_RGB if colour else BORDER_GRAY) if spec.border else ((LID_GRAY,) * 3 if colour else LID_GRAY)
    hole_c = BORDER_RGB if colour else BORDER_GRAY

    mask, text_lines = _layout(spec, w_px, h_px)
    level = MARK_LEVEL_LINEART if spec.mode == "lineart" else MARK_LEVEL
    mark = _draw_mark(mask, dpi, level) if text_lines and spec.demo_mark else None
    if text_lines:
        paper = _ink_on_paper(mask, paper_c, ink_c)
    else:
        paper = np.empty((h_px, w_px, 3) if colour else (h_px, w_px), dtype=np.uint8)
        paper[...] = paper_c
    if spec.seal and colour:
        seal = Image.fromarray(paper)
        _draw_seal(ImageDraw.Draw(seal), w_px, h_px, dpi)
        paper = np.array(seal)

    holes: list[tuple[float, float]] = []
    hole_r = _mm(3.0, dpi)  # 6 mm punch
    if spec.binding_holes:
        n = spec.binding_holes
        x = _mm(12, dpi) if not spec.back else w_px - _mm(12, dpi)
        spacing = _mm(80, dpi) if n > 1 else 0
        y0 = h_px / 2 - spacing * (n - 1) / 2
        for k in range(n):
            cy = y0 + k * spacing
            holes.append((x + 0.5, cy + 0.5))
            _disc(paper, x + 0.5, cy + 0.5, hole_r, hole_c)

    corners = [(0.0, 0.0), (float(w_px), 0.0), (float(w_px), float(h_px)), (0.0, float(h_px))]
    if spec.orientation % 360:
        turn = spec.orientation % 360
        paper = np.ascontiguousarray(np.rot90(paper, turn // 90))  # counter-clockwise, like Image.ROTATE_90
        holes = geometry.map_points_through_log(
            [{"step": "orientation", "applied": True, "rotate": turn, "size_before": (w_px, h_px)}], holes
        )
        h_px, w_px = paper.shape[:2]
        corners = [(0.0, 0.0), (float(w_px), 0.0), (float(w_px), float(h_px)), (0.0, float(h_px))]

    # the scanner bed: rotated paper plus a margin of background, paper placed with a little jitter
    left, top, right, bottom = geometry.expanded_size((w_px, h_px), spec.skew_deg)
    margin = _mm(BED_MARGIN_MM, dpi)
    jitter = _mm(2.0, dpi)
    bed_w = int(math.ceil(right - left)) + 2 * margin + jitter
    bed_h = int(math.ceil(bottom - top)) + 2 * margin + jitter
    off_x = margin + rng.randint(0, jitter) + _mm(spec.shift_mm[0], dpi) - left
    off_y = margin + rng.randint(0, jitter) + _mm(spec.shift_mm[1], dpi) - top
    centre = (w_px / 2, h_px / 2)
    matrix = geometry.rotation_inverse_matrix(spec.skew_deg, centre, (-off_x, -off_y))
    if spec.skew_deg == 0 and float(off_x).is_integer() and float(off_y).is_integer():
        bed = np.empty((bed_h, bed_w) + paper.shape[2:], dtype=np.uint8)
        bed[...] = border_c
        _blit(bed, paper, int(off_x), int(off_y))
    else:
        bed = geometry.warp_array(paper, matrix, (bed_w, bed_h), border_c)

    def place(p):
        q = geometry.rotate_point(p, spec.skew_deg, centre)
        return (q[0] + off_x, q[1] + off_y)

    page_corners = [place(p) for p in corners]
    xs = [p[0] for p in page_corners]
    ys = [p[1] for p in page_corners]
    page_box = (
        max(0, int(math.floor(min(xs)))),
        max(0, int(math.floor(min(ys)))),
        min(bed_w, int(math.ceil(max(xs)))),
        min(bed_h, int(math.ceil(max(ys)))),
    )
    _add_noise(bed, spec, rng, page_box)
    truth = PageTruth(
        skew_deg=spec.skew_deg,
        blank=not text_lines,
        text_lines=text_lines,
        page_box_px=page_box,
        dpi=dpi,
        page_corners_px=page_corners,
        hole_centres_px=[place(p) for p in holes],
        hole_radius_px=float(hole_r),
        seq=spec.seq,
        duplicate_of=spec.duplicate_of,
        orientation=spec.orientation % 360,
        mark_box_px=mark,
    )
    return bed, truth


def _draw_seal(draw: ImageDraw.ImageDraw, w_px: int, h_px: int, dpi: int) -> None:
    r = _mm(20, dpi)
    cx, cy = w_px - _mm(55, dpi), h_px - _mm(70, dpi)
    width = max(2, _mm(1.0, dpi))
    draw.ellipse([cx - r, cy - r, cx + r, cy + r], outline=SEAL_RGB, width=width)
    star = []
    for k in range(10):
        rr = r * (0.35 if k % 2 == 0 else 0.14)
        a = math.pi / 2 + k * math.pi / 5
        star.append((cx + rr * math.cos(a), cy - rr * math.sin(a)))
    draw.polygon(star, fill=SEAL_RGB)


# --------------------------------------------------------------------------- dossier plans

CITIES = ("杭州", "南京", "成都", "武汉", "西安", "济南", "福州", "长沙", "合肥", "昆明")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗"
GIVEN = (
    "伟",
    "芳",
    "娜",
    "秀英",
    "敏",
    "静",
    "丽",
    "强",
    "磊",
    "军",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "秀兰",
    "霞",
)
EMPLOYERS = (
    "市第一建筑工程有限公司",
    "华东纺织集团有限公司",
    "市人民医院",
    "新城物业管理有限公司",
    "恒达机械制造有限公司",
)

PARAGRAPHS = (
    "根据《中华人民共和国社会保险法》及有关规定，{单位名称}为{姓名}（公民身份号码：{身份证号}）办理参保登记手续，"
    "参保险种包括基本养老保险、基本医疗保险、失业保险、工伤保险和生育保险，自{年}年{月}月起按月缴纳社会保险费。",
    "经审核，该参保人员提交的《社会保险参保人员登记表》、居民身份证复印件及劳动合同等材料齐全，符合参保登记条件，予以办理。",
    "{年}年度缴费基数按照本人上年度月平均工资核定为{基数}元，单位缴费比例为16%，个人缴费比例为8%，由单位按月代扣代缴。",
    "参保单位应当于每月15日前向社会保险经办机构申报应缴纳的社会保险费数额，经核定后在规定期限内足额缴纳；逾期未缴纳的，按日加收万分之五的滞纳金。",
    "因工作调动，{姓名}的基本养老保险关系由原参保地转入本市，转移资金{金额}元已于{日期}到账，个人账户储存额及缴费年限予以确认。",
    "个人权益记录中的缴费年限、缴费基数和个人账户记录与原始凭证核对一致，未发现重复缴费或中断缴费情形。",
    "以上信息已录入社会保险信息系统，业务经办人员与复核人员分别签字确认，材料按年度、险种和业务环节整理归档。",
    "参保人员达到法定退休年龄且累计缴费满十五年的，按月领取基本养老金；待遇核定材料随本业务档案一并保存。",
    "本人承诺所提供的材料真实、有效，如有虚假，愿承担相应的法律责任。",
    "The enrolment record of {姓名} was checked against the original documents; all mandatory fields are complete.",
    "Contribution base for {年}: {基数} CNY per month; employer rate 16%, employee rate 8%.",
)
BACK_NOTES = (
    "备注：本页为补充说明，原件已核对。",
    "经办人已核对缴费记录，与系统数据一致，无异议。",
    "复印件与原件一致。Copy checked against the original.",
    "附：劳动合同首页及签字页复印件各一份，已核验。",
)
FORMS = ("参保登记", "缴费明细", "关系转移", "情况说明", "审核意见")


def _id_number(rng: random.Random, year: int) -> str:
    body = (
        f"{rng.choice(('330102', '320106', '510104', '420106', '610113'))}{year - rng.randint(22, 58)}"
        f"{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    )
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(d) * w for d, w in zip(body, weights)) % 11]
    return body + check


def _field(fields: dict, *names: str, default=None):
    for n in names:
        value = fields.get(n)
        if value not in (None, ""):
            return str(value)
    return default


def demo_plan(
    dossier_fields: dict,
    pages: int,
    seed: int,
    duplex: bool = False,
    *,
    dpi: int = 300,
    mode: Mode = "gray",
    max_skew_deg: float = 5.0,
    binding_holes: int = 0,
    duplicate_every: int = 0,
    noise: float = 0.15,
    paper: tuple[float, float] = A4_MM,
) -> list[PageSpec]:
    """Page specs for a dossier of ``pages`` sheets (duplex: two images per sheet, front then back;
    most backs are blank, about one in four carries a short note).

    ``dossier_fields`` are catalog fields: 档号 (required), 题名, 姓名, 单位名称, 日期, 身份证号 —
    English keys dossier_number, title, name, employer, date, id_number are accepted too.
    ``duplicate_every`` > 0 feeds every n-th sheet twice (a double feed), for duplicate detection."""
    number = _field(dossier_fields, "档号", "dossier_number")
    if not number:
        raise ValueError("dossier_fields needs 档号")
    rng = random.Random(f"{number}|{seed}")
    date = _field(dossier_fields, "日期", "date", default=f"2024-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}")
    year = int(date[:4]) if date[:4].isdigit() else 2024
    values = {
        "档号": number,
        "题名": _field(dossier_fields, "题名", "title", default="参保人员社会保险登记材料"),
        "姓名": _field(dossier_fields, "姓名", "name", default=rng.choice(SURNAMES) + rng.choice(GIVEN)),
        "单位名称": _field(dossier_fields, "单位名称", "employer", default=rng.choice(CITIES) + rng.choice(EMPLOYERS)),
        "日期": date,
        "身份证号": _field(dossier_fields, "身份证号", "id_number", default=_id_number(rng, year)),
        "年": str(year),
        "月": str(int(date[5:7])) if date[5:7].isdigit() else "1",
        "基数": f"{rng.randint(35, 160) * 100:,}",
        "金额": f"{rng.randint(8000, 260000):,}.{rng.randint(0, 99):02d}",
    }
    city = _field(dossier_fields, "城市", "city", default=rng.choice(CITIES))
    specs: list[PageSpec] = []
    seq = 0
    for sheet in range(1, pages + 1):
        form = FORMS[(sheet - 1) % len(FORMS)] if sheet > 1 else "参保登记"
        front = _front_lines(form, values, city, sheet, pages, rng)
        feeds = 2 if duplicate_every and sheet % duplicate_every == 0 else 1
        back_lines: tuple[str, ...] = ()
        if duplex and rng.random() < 0.25:
            back_lines = tuple(rng.sample(BACK_NOTES, 2)) + ("", f"> {values['日期']}")
        for feed in range(feeds):
            seq += 1
            original = seq if feed == 0 else seq - (2 if duplex else 1)
            specs.append(
                PageSpec(
                    dossier_number=number,
                    seq=seq,
                    dpi=dpi,
                    mode=mode,
                    paper=paper,
                    skew_deg=round(rng.uniform(-max_skew_deg, max_skew_deg), 2),
                    lines=tuple(front),
                    seed=rng.randrange(1 << 30),
                    noise=noise,
                    binding_holes=binding_holes,
                    seal=(sheet == 1 and mode == "color"),
                    duplicate_of=None if feed == 0 else original,
                    shift_mm=(rng.uniform(-1.5, 1.5), rng.uniform(-1.5, 1.5)),
                )
            )
            if duplex:
                seq += 1
                specs.append(
                    PageSpec(
                        dossier_number=number,
                        seq=seq,
                        dpi=dpi,
                        mode=mode,
                        paper=paper,
                        skew_deg=round(-specs[-1].skew_deg + rng.uniform(-0.3, 0.3), 2),
                        blank=not back_lines,
                        lines=back_lines,
                        seed=rng.randrange(1 << 30),
                        noise=noise,
                        back=True,
                        binding_holes=binding_holes,
                        duplicate_of=None if feed == 0 else original + 1,
                    )
                )
    return specs


def _front_lines(form: str, v: dict, city: str, sheet: int, pages: int, rng: random.Random) -> list[str]:
    header = f"# {city}市社会保险事业管理中心"
    paragraphs = [p.format(**v) for p in rng.sample(PARAGRAPHS, 5)]
    footer = f"~ 第 {sheet} 页 共 {pages} 页    Page {sheet} of {pages}    档号 {v['档号']}"
    if form == "参保登记":
        body = [
            "## 社会保险参保人员登记表",
            "> Social Insurance Enrolment Form",
            f"| 档号 | {v['档号']}",
            f"| 姓名 | {v['姓名']} | 性别 | {rng.choice('男女')}",
            f"| 公民身份号码 | {v['身份证号']}",
            f"| 单位名称 | {v['单位名称']}",
            "| 参保险种 | 养老 医疗 失业 工伤 生育",
            f"| 参保日期 | {v['日期']} | 题名 | {v['题名'][:10]}",
            "",
            *paragraphs,
        ]
    elif form == "缴费明细":
        base = int(v["基数"].replace(",", ""))
        body = ["## 社会保险费缴费明细表", "> Contribution Details", "| 月份 | 缴费基数 | 单位缴费 | 个人缴费"]
        for month in range(1, rng.randint(6, 12) + 1):
            b = base + rng.randint(-5, 5) * 100
            body.append(f"| {v['年']}-{month:02d} | {b:,}.00 | {b * 0.16:,.2f} | {b * 0.08:,.2f}")
        body += ["", paragraphs[0]]
    elif form == "关系转移":
        body = [
            "## 基本养老保险关系转移接续申请表",
            f"| 姓名 | {v['姓名']} | 身份证号 | {v['身份证号']}",
            f"| 转出地 | {rng.choice(CITIES)}市 | 转入地 | {city}市",
            f"| 转移金额 | {v['金额']} 元 | 办理日期 | {v['日期']}",
            "",
            PARAGRAPHS[4].format(**v),
            *paragraphs[:2],
        ]
    elif form == "情况说明":
        body = [
            "## 情况说明",
            "",
            *[p.format(**v) for p in rng.sample(PARAGRAPHS, 5)],
            "",
            f"> 经办人：{rng.choice(SURNAMES)}{rng.choice(GIVEN)}",
            f"> {v['日期']}",
        ]
    else:
        body = [
            "## 业务审核意见",
            f"| 业务类型 | {rng.choice(('参保登记', '基金征缴', '关系转移', '待遇支付'))}",
            f"| 审核结论 | 材料齐全，同意办理 | 审核日期 | {v['日期']}",
            "",
            *paragraphs,
            f"> 审核人：{rng.choice(SURNAMES)}{rng.choice(GIVEN)}",
        ]
    return [header, *body, footer]
