"""Measurements on a page: where the paper is, skew, blank, exposure, a duplicate signature.

Everything here measures; nothing alters the page (R05, R08). Measurements run on one
downsampled grey copy of about 75 dpi (``Analysis``), made once per page with Pillow's box
``reduce`` (a few ms for a 300 dpi A4 page), with numpy vectorised over that copy only. 75 dpi
keeps a 3.6 mm line of text about 10 pixels high, plenty for skew (within a few hundredths of
a degree on demo pages), paper edges and 4 mm blank-detection cells, at 56 % of the pixels of
100 dpi. Box sums (blank cells, skew strips) use integral images, and bool masks are
transposed and mirrored with OpenCV, where numpy's strided copies are several times slower.

Skew: projection-profile search. The ink inside the paper is summed into narrow vertical strips
(one pass over the small image); for a candidate angle each strip's row profile is shifted by
``x * tan(angle)`` (with linear interpolation) and added up; text lines line up into sharp
peaks at the true angle, so the sum of squares of the profile is highest there. Coarse-to-fine
(0.5°, 0.1°, 0.02° steps, then a parabola through the best three): each stage scores all its
angles in one ``bincount`` over the non-empty strip cells — a few ms. Pages with too little ink
(blank backs) are measured from the straight paper edges against the scanner background instead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np
from PIL import Image

try:  # optional accelerator for box sums (integral images); numpy does the same without it
    import cv2 as _cv2

    _cv2.setNumThreads(1)  # the page pool already runs one process per core
except ImportError:  # pragma: no cover - depends on the installation
    _cv2 = None

ANALYSIS_DPI = 75.0


@dataclass
class Paper:
    """The paper found against the scanner background, in analysis pixels (continuous coords)."""

    border_level: float  # grey level of the scanner background
    threshold: float
    rows: np.ndarray  # row indices with paper
    left: np.ndarray  # sub-pixel left edge per row in ``rows``
    right: np.ndarray
    cols: np.ndarray
    top: np.ndarray
    bottom: np.ndarray

    def edge_points(self) -> np.ndarray:
        """All boundary points as an (n, 2) array of (x, y)."""
        ry = self.rows + 0.5
        cx = self.cols + 0.5
        xs = np.concatenate([self.left, self.right, cx, cx])
        ys = np.concatenate([ry, ry, self.top, self.bottom])
        return np.stack([xs, ys], axis=1)


@dataclass
class Analysis:
    gray: np.ndarray  # uint8 (h, w), about ANALYSIS_DPI
    factor: int  # full-resolution pixels per analysis pixel
    full_size: tuple[int, int]
    dpi: float  # of the full image
    paper: Paper | None = None
    box: tuple[int, int, int, int] = (0, 0, 0, 0)  # (r0, r1, c0, c1) of interior/ink in ``gray``
    interior: np.ndarray | None = None  # bool mask over ``box``: inside the paper, away from its edges
    paper_level: float = 255.0
    ink_threshold: float = 128.0
    ink: np.ndarray | None = None  # bool mask over ``box``: ink inside the interior
    row_bounds: tuple[np.ndarray, np.ndarray] | None = None  # per interior row: first/last interior column
    metrics: dict = field(default_factory=dict)

    @property
    def analysis_dpi(self) -> float:
        return self.dpi / self.factor

    def mm(self, mm: float) -> float:
        return mm / 25.4 * self.analysis_dpi


def analyse(image: Image.Image | np.ndarray, dpi: float) -> Analysis:
    """Make the small grey copy and find the paper, interior and ink on it. ``image`` is a PIL
    image or the pixels as a uint8 array (h, w) grey or (h, w, 3) RGB."""
    factor = max(1, int(round(dpi / ANALYSIS_DPI)))
    if isinstance(image, np.ndarray):
        img = Image.fromarray(image)  # shares the array's memory
    else:
        img = image
        if img.mode == "1":
            img = img.convert("L")
        if img.mode not in ("L", "RGB"):
            img = img.convert("RGB")
    small = img.reduce(factor) if factor > 1 else img
    if small.mode != "L":
        small = small.convert("L")
    a = Analysis(gray=np.asarray(small), factor=factor, full_size=img.size, dpi=float(dpi))
    a.paper = find_paper(a.gray)
    _interior_and_ink(a)
    return a


def _histogram(gray: np.ndarray) -> np.ndarray:
    """Grey-level histogram (256 bins, int64) of a uint8 array."""
    if _cv2 is not None:
        return _cv2.calcHist([np.ascontiguousarray(gray)], [0], None, [256], [0, 256]).ravel().astype(np.int64)
    return np.bincount(gray.ravel(), minlength=256)


def _transposed(mask: np.ndarray) -> np.ndarray:
    """Contiguous transpose of a bool mask (OpenCV's is several times faster than numpy's copy)."""
    if _cv2 is not None:
        return _cv2.transpose(np.ascontiguousarray(mask).view(np.uint8)).view(bool)
    return np.ascontiguousarray(mask.T)


def _mirrored(mask: np.ndarray) -> np.ndarray:
    """Contiguous left-right mirror of a bool mask."""
    if _cv2 is not None:
        return _cv2.flip(np.ascontiguousarray(mask).view(np.uint8), 1).view(bool)
    return np.ascontiguousarray(mask[:, ::-1])


def _range_mask(lo: np.ndarray, hi: np.ndarray, width: int) -> np.ndarray:
    """Bool (len(lo), width) mask, row r true at columns lo[r]..hi[r] inclusive."""
    # int16 halves the memory traffic of the broadcast compares (analysis images are < 16k px)
    xs = np.arange(width, dtype=np.int16)
    lo16 = np.clip(lo, -1, 1 << 14).astype(np.int16)
    hi16 = np.clip(hi, -1, 1 << 14).astype(np.int16)
    mask = xs[None, :] >= lo16[:, None]
    mask &= xs[None, :] <= hi16[:, None]
    return mask


def _box_sums(mask: np.ndarray, ch: int, cw: int) -> np.ndarray:
    """Sums of a uint8 (h, w) array over (ch x cw) boxes; h, w multiples of ch, cw."""
    h, w = mask.shape
    if _cv2 is not None:  # integral image: one pass instead of numpy's strided reductions
        s = _cv2.integral(mask)[::ch, ::cw]
        return s[1:, 1:] - s[:-1, 1:] - s[1:, :-1] + s[:-1, :-1]
    return mask.reshape(h // ch, ch, w // cw, cw).sum(axis=(1, 3), dtype=np.int32)


def _otsu(hist: np.ndarray) -> float:
    total = hist.sum()
    if total == 0:
        return 128.0
    levels = np.arange(256, dtype=np.float64)
    w0 = np.cumsum(hist)
    w1 = total - w0
    m0 = np.cumsum(hist * levels)
    mt = m0[-1]
    with np.errstate(divide="ignore", invalid="ignore"):
        between = (mt * w0 / total - m0) ** 2 / (w0 * w1)
    between[~np.isfinite(between)] = 0
    return float(np.argmax(between)) + 0.5


def _level(hist: np.ndarray, q: float) -> float:
    cum = np.cumsum(hist)
    if cum[-1] == 0:
        return 0.0
    return float(np.searchsorted(cum, q * cum[-1]))


def find_paper(gray: np.ndarray) -> Paper | None:
    """Find bright paper against a dark scanner background. None when there is no dark
    background around the image (already cropped, white lid/ADF background, photo)."""
    h, w = gray.shape
    if h < 16 or w < 16:
        return None
    hist = _histogram(gray[::2, ::2])
    t = _otsu(hist)
    ti = int(t)
    ring = np.concatenate([gray[0, :], gray[-1, :], gray[:, 0], gray[:, -1]])
    dark_ring = ring <= ti
    if dark_ring.mean() < 0.5:
        return None
    border_level = float(np.median(ring[dark_ring]))
    if hist[ti + 1 :].sum() < 0.15 * hist.sum():
        return None
    paper_level = _level(np.concatenate([np.zeros(ti + 1, hist.dtype), hist[ti + 1 :]]), 0.5)
    if paper_level - border_level < 40:
        return None
    bright = gray > ti
    # rows: first/last run of 3 bright pixels (ignores single bright specks on the background)
    run_r = bright[:, :-2] & bright[:, 1:-1] & bright[:, 2:]
    # columns are searched as rows of the transposed mask: argmax along contiguous memory
    bright_t = _transposed(bright)
    run_c = bright_t[:, :-2] & bright_t[:, 1:-1] & bright_t[:, 2:]
    first = np.argmax(run_r, axis=1)
    keep_r = run_r[np.arange(h), first]
    firstc = np.argmax(run_c, axis=1)
    keep_c = run_c[np.arange(w), firstc]
    if keep_r.sum() < 8 or keep_c.sum() < 8:
        return None
    last = run_r.shape[1] - 1 - np.argmax(_mirrored(run_r), axis=1) + 2
    lastc = run_c.shape[1] - 1 - np.argmax(_mirrored(run_c), axis=1) + 2
    row_idx = np.nonzero(keep_r)[0]
    col_idx = np.nonzero(keep_c)[0]
    left = _subpixel(gray, row_idx, first[keep_r], t, -1, axis=1)
    right = _subpixel(gray, row_idx, last[keep_r], t, +1, axis=1)
    top = _subpixel(gray, col_idx, firstc[keep_c], t, -1, axis=0)
    bottom = _subpixel(gray, col_idx, lastc[keep_c], t, +1, axis=0)
    return Paper(border_level, t, row_idx, left, right, col_idx, top, bottom)


def _subpixel(gray: np.ndarray, lines: np.ndarray, idx: np.ndarray, t: float, direction: int, axis: int) -> np.ndarray:
    """Edge position where the grey level crosses ``t`` between the bright pixel ``idx`` and its
    outer neighbour (continuous coordinates); the pixel boundary where there is no neighbour.
    ``axis=1``: ``lines`` are rows and ``idx`` columns; ``axis=0`` the other way round."""
    n = gray.shape[axis]
    outer = idx + direction
    valid = (outer >= 0) & (outer < n)
    outer_c = np.clip(outer, 0, n - 1)
    if axis == 1:
        g_in = gray[lines, idx].astype(np.float64)
        g_out = gray[lines, outer_c].astype(np.float64)
    else:
        g_in = gray[idx, lines].astype(np.float64)
        g_out = gray[outer_c, lines].astype(np.float64)
    denom = g_in - g_out
    ok = valid & (denom > 1)
    frac = np.clip(np.where(ok, (t - g_out) / np.where(ok, denom, 1.0), 0.5), 0.0, 1.0)
    # centres: inner idx+0.5, outer idx+0.5+direction; crossing measured from the outer centre
    pos = (outer_c + 0.5) - direction * frac
    boundary = idx + (0 if direction < 0 else 1)
    return np.where(valid, pos, boundary).astype(np.float64)


def _interior_and_ink(a: Analysis) -> None:
    """Interior = inside the paper, 3 mm away from its edges (no edge shadow, no background),
    kept as a crop of the analysis image at ``a.box`` to make every later step cheaper."""
    gray = a.gray
    h, w = gray.shape
    m = a.mm(3.0)
    if a.paper is not None:
        p = a.paper
        r0 = max(0, int(math.floor(float(p.top.min()) + m)))
        r1 = min(h, int(math.ceil(float(p.bottom.max()) - m)) + 1)
        c0 = max(0, int(math.floor(float(p.left.min()) + m)))
        c1 = min(w, int(math.ceil(float(p.right.max()) - m)) + 1)
        if r1 - r0 < 4 or c1 - c0 < 4:
            r0, r1, c0, c1 = 0, 0, 0, 0
        bh, bw = r1 - r0, c1 - c0
        lo_r = np.full(bh, 1 << 14, dtype=np.int32)
        hi_r = np.full(bh, -1, dtype=np.int32)
        sel = (p.rows >= r0) & (p.rows < r1)
        lo_r[p.rows[sel] - r0] = np.ceil(p.left[sel] + m - 0.5).astype(np.int32) - c0
        hi_r[p.rows[sel] - r0] = np.floor(p.right[sel] - m - 0.5).astype(np.int32) - c0
        lo_c = np.full(bw, 1 << 14, dtype=np.int32)
        hi_c = np.full(bw, -1, dtype=np.int32)
        sel = (p.cols >= c0) & (p.cols < c1)
        lo_c[p.cols[sel] - c0] = np.ceil(p.top[sel] + m - 0.5).astype(np.int32) - r0
        hi_c[p.cols[sel] - c0] = np.floor(p.bottom[sel] - m - 0.5).astype(np.int32) - r0
        a.row_bounds = (lo_r, hi_r)
        interior = _range_mask(lo_r, hi_r, bw)
        interior &= _transposed(_range_mask(lo_c, hi_c, bh))
    else:
        mi = int(round(m))
        r0, r1, c0, c1 = mi, max(mi, h - mi), mi, max(mi, w - mi)
        interior = np.ones((r1 - r0, c1 - c0), dtype=bool)
    a.box = (r0, r1, c0, c1)
    a.interior = interior
    sub = gray[r0:r1, c0:c1]
    sample = sub[::2, ::2][interior[::2, ::2]]
    if sample.size == 0:
        a.ink = np.zeros_like(interior)
        return
    hist = np.bincount(sample, minlength=256)
    a.paper_level = _level(hist, 0.5)
    ink_level = _level(hist, 0.002)
    # ink = clearly darker than the paper, relative to the darkest marks found: faded text on a
    # light scan still counts as ink, paper grain and sensor noise do not
    a.ink_threshold = a.paper_level - max(20.0, 0.35 * (a.paper_level - ink_level))
    a.ink = interior & (sub < a.ink_threshold)
    a.metrics.update(
        paper_level=a.paper_level,
        ink_level=ink_level,
        contrast=a.paper_level - ink_level,
        ink_fraction=round(float(np.count_nonzero(a.ink)) / max(1, int(np.count_nonzero(interior))), 5),
    )


# --------------------------------------------------------------------------- skew


@dataclass
class SkewMeasurement:
    angle: float  # degrees, counter-clockwise on screen; deskew rotates by -angle
    method: str  # "projection" | "edges" | "none"
    confidence: float
    edge_angle: float | None = None
    text_angle: float | None = None

    def as_log(self) -> dict:
        entry = {
            "step": "measure_skew",
            "angle": round(float(self.angle), 3),
            "method": self.method,
            "confidence": round(float(self.confidence), 3),
        }
        if self.text_angle is not None:
            entry["text_angle"] = round(float(self.text_angle), 3)
        if self.edge_angle is not None:
            entry["edge_angle"] = round(float(self.edge_angle), 3)
        return entry


MIN_INK_PIXELS = 400  # at 100 dpi (scaled with the analysis resolution): a few words
MIN_PROFILE_SHARPNESS = 1.02
SCANT_TEXT_PIXELS = 6000  # at 100 dpi (scaled likewise): about five lines of text


def _pixels_at(dpi: float, pixels_at_100_dpi: int) -> int:
    """An amount of ink given in pixels at 100 dpi, in pixels at ``dpi``."""
    return int(round(pixels_at_100_dpi * (dpi / 100.0) ** 2))


def measure_skew(a: Analysis, max_angle: float = 8.0, blank: bool | None = None) -> SkewMeasurement:
    """Skew of the page content; from the paper edges when the page has no text (``blank``,
    computed when not given)."""
    if blank is None:
        blank = detect_blank(a).blank
    text = None if blank else _projection_skew(a, max_angle)
    edge = _edge_skew(a.paper, max_angle) if a.paper is not None else None
    if text is not None:
        angle, sharp, amount = float(text[0]), float(text[1]), text[2]
        if edge is not None and amount < _pixels_at(a.analysis_dpi, SCANT_TEXT_PIXELS) and abs(angle - edge) <= 1.0:
            # a few short lines resolve the angle to ~0.2° only; the paper edge, hundreds of mm
            # long, to ~0.01°, and printed lines run parallel to it
            return SkewMeasurement(edge, "edges", sharp, edge_angle=edge, text_angle=angle)
        return SkewMeasurement(angle, "projection", sharp, edge_angle=edge, text_angle=angle)
    if edge is not None:
        return SkewMeasurement(float(edge), "edges", 1.0, edge_angle=edge)
    return SkewMeasurement(0.0, "none", 0.0)


class _Profile:
    """Strip sums of the ink, ready for fast shifted projections."""

    def __init__(self, ink: np.ndarray, strip: int):
        rows = np.nonzero(ink.any(axis=1))[0]
        cols = np.nonzero(ink.any(axis=0))[0]
        sub = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
        h, w = sub.shape
        k = max(1, -(-w // strip))
        padded = np.zeros((h, k * strip), dtype=np.uint8)
        padded[:, :w] = sub
        sums = _box_sums(padded, 1, strip)
        ys, ks = np.nonzero(sums)
        self.weights = sums[ys, ks].astype(np.float64)
        xc = (np.arange(k) + 0.5) * strip - w / 2.0
        self.x = xc[ks]
        self.y = ys.astype(np.float64)
        self.pad = int(math.ceil(abs(w) * 0.5 * math.tan(math.radians(15)))) + 2
        self.length = h + 2 * self.pad + 2

    def score(self, angle: float) -> float:
        return float(self.scores([angle])[0])

    def scores(self, angles) -> np.ndarray:
        """Sum of squares of the shifted row profile for each angle (|angle| <= 15°): all angles
        in one pass, each angle's profile in its own block of one ``bincount``."""
        tans = np.tan(np.radians(np.asarray(angles, dtype=np.float64)))
        n = len(tans)
        pos = self.y[None, :] + self.x[None, :] * tans[:, None] + self.pad
        i0 = np.floor(pos)
        f = pos - i0
        i0 = i0.astype(np.int64) + (np.arange(n, dtype=np.int64) * self.length)[:, None]
        wf = self.weights[None, :] * f
        size = n * self.length
        prof = np.bincount(i0.ravel(), (self.weights[None, :] - wf).ravel(), size)
        prof += np.bincount(i0.ravel() + 1, wf.ravel(), size)
        prof = prof.reshape(n, self.length)
        return np.einsum("ij,ij->i", prof, prof)


def _projection_skew(a: Analysis, max_angle: float) -> tuple[float, float, int] | None:
    ink = a.ink
    if ink is None:
        return None
    if a.row_bounds is not None:
        # leave out 17 mm more along the left and right paper edges: binding holes and their
        # shadows sit there and have no line structure
        band = int(round(a.mm(17.0)))
        lo, hi = a.row_bounds
        core = ink & _range_mask(lo + band, hi - band, ink.shape[1])
        if np.count_nonzero(core) >= _pixels_at(a.analysis_dpi, MIN_INK_PIXELS):
            ink = core
    amount = int(np.count_nonzero(ink))
    if amount < _pixels_at(a.analysis_dpi, MIN_INK_PIXELS):
        return None
    prof = _Profile(ink, strip=max(4, int(round(a.mm(4.0)))))
    coarse = np.arange(-max_angle, max_angle + 1e-9, 0.5)
    scores = prof.scores(coarse)
    best = float(coarse[int(np.argmax(scores))])
    sharpness = float(scores.max() / max(np.median(scores), 1e-9))
    if sharpness < MIN_PROFILE_SHARPNESS:
        return None
    for step in (0.1, 0.02):
        grid = best + np.arange(-5, 6) * step
        s = prof.scores(grid)
        i = int(np.argmax(s))
        best = float(grid[i])
        if step == 0.02 and 0 < i < len(grid) - 1:
            denom = s[i - 1] - 2 * s[i] + s[i + 1]
            if denom < 0:
                best += step * 0.5 * (s[i - 1] - s[i + 1]) / denom
    return best, sharpness, amount


def residual_skew(
    image: Image.Image, dpi: float, page_box: tuple[float, float, float, float], ink_threshold: float
) -> float | None:
    """Skew left in a processed page, measured on the output image itself (a fresh box-reduced
    copy, the ink inside ``page_box`` away from its edges and the binding-hole bands), with a
    fine search within ±1.5°. None when there is too little text to measure."""
    factor = max(1, int(round(dpi / ANALYSIS_DPI)))
    img = image.convert("L") if image.mode != "L" else image
    small = np.asarray(img.reduce(factor) if factor > 1 else img)
    per_mm = dpi / factor / 25.4
    l, t, r, b = page_box
    x0, x1 = int(l / factor + 20 * per_mm), int(r / factor - 20 * per_mm)
    y0, y1 = int(t / factor + 5 * per_mm), int(b / factor - 5 * per_mm)
    x0, y0 = max(0, x0), max(0, y0)
    x1, y1 = min(small.shape[1], x1), min(small.shape[0], y1)
    if x1 - x0 < 16 or y1 - y0 < 16:
        return None
    ink = small[y0:y1, x0:x1] < ink_threshold
    if np.count_nonzero(ink) < _pixels_at(dpi / factor, MIN_INK_PIXELS):
        return None
    prof = _Profile(ink, strip=max(4, int(round(4.0 * per_mm))))
    best = 0.0
    for step, n in ((0.25, 6), (0.05, 5), (0.01, 5)):
        grid = best + np.arange(-n, n + 1) * step
        s = prof.scores(grid)
        best = float(grid[int(np.argmax(s))])
    return best


def _fit_line(t: np.ndarray, v: np.ndarray) -> tuple[float, float, int] | None:
    """Robust least-squares v = a + b*t; returns (b, residual std, points used)."""
    if len(t) < 20:
        return None
    keep = np.ones(len(t), dtype=bool)
    for _ in range(3):
        if keep.sum() < 20:
            return None
        b, a0 = np.polyfit(t[keep], v[keep], 1)
        res = v - (a0 + b * t)
        mad = np.median(np.abs(res[keep])) + 1e-6
        new_keep = np.abs(res) < max(4 * 1.4826 * mad, 0.75)
        if (new_keep == keep).all():
            break
        keep = new_keep
    return float(b), float(np.std(res[keep])), int(keep.sum())


def _edge_skew(p: Paper, max_angle: float) -> float | None:
    """Skew from the paper edges: left/right edges x(y), top/bottom edges y(x)."""
    fits = []
    for t, v, sign in (
        (p.rows + 0.5, p.left, 1),
        (p.rows + 0.5, p.right, 1),
        (p.cols + 0.5, p.top, -1),
        (p.cols + 0.5, p.bottom, -1),
    ):
        n = len(t)
        lo, hi = int(n * 0.15), int(n * 0.85)  # away from the corners
        # drop points where the edge touches the image border (no background there)
        fit = _fit_line(t[lo:hi], v[lo:hi])
        if fit is None:
            continue
        b, std, used = fit
        if std > 2.0:
            continue
        fits.append((sign * math.degrees(math.atan(b)), used))
    if not fits:
        return None
    total = sum(u for _, u in fits)
    angle = sum(ang * u for ang, u in fits) / total
    return angle if abs(angle) <= max_angle else None


# --------------------------------------------------------------------------- blank / exposure


@dataclass
class BlankResult:
    blank: bool
    text_cells: int
    solid_cells: int
    inked_cells: int

    def as_log(self) -> dict:
        return {
            "step": "blank",
            "blank": self.blank,
            "text_cells": self.text_cells,
            "solid_cells": self.solid_cells,
            "inked_cells": self.inked_cells,
        }


def detect_blank(a: Analysis, min_text_cells: int = 6, max_solid_cells: int = 10) -> BlankResult:
    """Blank = no text-like ink inside the paper. The paper is cut into 4 mm cells; a cell is
    inked when 2-60 % of it is ink, solid above 60 %; text shows as runs of >= 4 inked cells
    along a row (16 mm). Specks stay below a cell's threshold or stand alone, a 6 mm binding hole
    spans at most 3 cells, so a blank back with specks, border and holes is blank, while one line
    of half a dozen characters is not."""
    ink, interior = a.ink, a.interior
    if ink is None or interior is None or not interior.any():
        return BlankResult(True, 0, 0, 0)
    rows = np.nonzero(interior.any(axis=1))[0]
    cols = np.nonzero(interior.any(axis=0))[0]
    ink = ink[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    inside = interior[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
    c = max(4, int(round(a.mm(4.0))))
    h, w = ink.shape
    hh, ww = -(-h // c) * c, -(-w // c) * c
    ink_p = np.zeros((hh, ww), dtype=np.uint8)
    ink_p[:h, :w] = ink
    in_p = np.zeros((hh, ww), dtype=np.uint8)
    in_p[:h, :w] = inside
    ink_cells = _box_sums(ink_p, c, c)
    in_cells = _box_sums(in_p, c, c)
    valid = in_cells >= (c * c) // 2
    coverage = np.where(valid, ink_cells / np.maximum(in_cells, 1), 0.0)
    inked = valid & (coverage >= 0.02) & (coverage <= 0.6)
    solid = valid & (coverage > 0.6)
    run = 4
    text = np.zeros_like(inked)
    if inked.shape[1] >= run:
        win = inked[:, : inked.shape[1] - run + 1].copy()
        for j in range(1, run):
            win &= inked[:, j : inked.shape[1] - run + 1 + j]
        for j in range(run):
            text[:, j : j + win.shape[1]] |= win
    text_cells = int(text.sum())
    solid_cells = int(solid.sum())
    blank = text_cells < min_text_cells and solid_cells <= max_solid_cells
    return BlankResult(blank, text_cells, solid_cells, int(inked.sum()))


@dataclass
class ExposureResult:
    dark: bool
    light: bool
    paper_level: float
    ink_level: float
    contrast: float

    def as_log(self) -> dict:
        return {
            "step": "exposure",
            "dark": bool(self.dark),
            "light": bool(self.light),
            "paper_level": round(float(self.paper_level), 1),
            "ink_level": round(float(self.ink_level), 1),
            "contrast": round(float(self.contrast), 1),
        }


def detect_exposure(
    a: Analysis, blank: bool, dark_paper_level: float = 110.0, light_min_contrast: float = 70.0
) -> ExposureResult:
    """Too dark: the paper itself comes out dark grey (under-exposed, dark paper). Too light: a
    page with content whose darkest ink is barely darker than the paper (over-exposed, faded)."""
    pl = a.metrics.get("paper_level", a.paper_level)
    il = a.metrics.get("ink_level", pl)
    contrast = pl - il
    dark = pl < dark_paper_level
    light = (not blank) and contrast < light_min_contrast
    return ExposureResult(dark, light, pl, il, contrast)


# --------------------------------------------------------------------------- duplicates

SIGNATURE_WIDTH = 128
DUPLICATE_THRESHOLD = 0.95
BLOCK = 8  # signature pixels per block side (~12 mm on A4)
BLOCK_MATCH = 0.8  # a block whose correlation reaches this is the same content


@dataclass(frozen=True)
class PageSignature:
    """A small normalised thumbnail of the paper (high-passed, int8): cheap to keep in memory,
    compared with ``duplicate_of_previous``."""

    width: int
    height: int
    data: bytes  # int8, row-major
    energy: float  # std of the thumbnail before normalising: ~0 for a blank page
    blank: bool = False  # blank pages are never called duplicates (they are flagged blank)

    def array(self) -> np.ndarray:
        return np.frombuffer(self.data, dtype=np.int8).reshape(self.height, self.width).astype(np.float32)


def page_signature(
    image: Image.Image, box: tuple[float, float, float, float] | None = None, dpi: float = 300.0, blank: bool = False
) -> PageSignature:
    """Signature of the paper inside ``box`` (default: the whole image), 5 mm in from its edges
    so the paper edge and the scanner background do not dominate it."""
    img = image
    if img.mode not in ("L",):
        img = img.convert("L")
    if box is None:
        box = (0, 0, img.width, img.height)
    inset = 5.0 / 25.4 * dpi
    l, t, r, b = box[0] + inset, box[1] + inset, box[2] - inset, box[3] - inset
    l, t = max(0.0, l), max(0.0, t)
    r, b = min(float(img.width), r), min(float(img.height), b)
    if r - l < 8 or b - t < 8:
        l, t, r, b = 0, 0, img.width, img.height
    width = SIGNATURE_WIDTH
    height = max(8, int(round(width * (b - t) / (r - l))))
    factor = max(1, int((r - l) // (width * 2)))
    if factor > 1:  # fast box reduce first, then an area resize of the small image
        img = img.reduce(factor)
        l, t, r, b = l / factor, t / factor, r / factor, b / factor
    thumb = np.asarray(img.resize((width, height), Image.Resampling.BOX, box=(l, t, r, b)), dtype=np.float32)
    # remove slow shading (illumination, paper tone) so the signature is about the marks
    k = 9
    cs = np.cumsum(np.cumsum(np.pad(thumb, k // 2 + 1, mode="edge"), axis=0), axis=1)
    blur = (cs[k:, k:] - cs[:-k, k:] - cs[k:, :-k] + cs[:-k, :-k])[:height, :width] / (k * k)
    hp = thumb - blur
    energy = float(hp.std())
    scale = 127.0 / max(1e-6, float(np.abs(hp).max()))
    data = np.clip(np.round(hp * scale), -127, 127).astype(np.int8).tobytes()
    return PageSignature(width, height, data, energy, blank)


def duplicate_of_previous(
    prev_signature: PageSignature | None, signature: PageSignature | None, max_shift: int = 2
) -> float:
    """How surely ``signature`` shows the same sheet as ``prev_signature`` (0..1).

    The two thumbnails are aligned (best normalised correlation over shifts of up to
    ``max_shift`` pixels, ~3 mm), then compared block by block (~12 mm blocks): the score is the
    share of the marks' energy that lies in blocks which match (correlation >= 0.8). A page fed
    twice scores ~0.99 despite new noise, a slight shift and a different skew; two pages of the
    same form with different names or figures lose the blocks where they differ (< 0.9), and
    different pages score far lower. Blank pages score 0 (they are flagged blank instead)."""
    if prev_signature is None or signature is None:
        return 0.0
    if prev_signature.blank or signature.blank or min(prev_signature.energy, signature.energy) < 1.0:
        return 0.0
    a = prev_signature.array()
    b = signature.array()
    if a.shape[1] != b.shape[1] or abs(a.shape[0] - b.shape[0]) > max(4, a.shape[0] // 20):
        return 0.0
    h, w = min(a.shape[0], b.shape[0]), a.shape[1]
    s = max_shift
    core = b[s : h - s, s : w - s]
    corr = _shift_correlations(a[:h], core)  # (2s+1, 2s+1), index [s + dy, s + dx]
    k = int(np.argmax(corr))
    best, shift = float(corr.flat[k]), (k // corr.shape[1] - s, k % corr.shape[1] - s)
    if best < 0.5:
        return max(0.0, best)
    dy, dx = shift
    win = a[s + dy : h - s + dy, s + dx : w - s + dx]
    bs = BLOCK
    hh, ww = (core.shape[0] // bs) * bs, (core.shape[1] // bs) * bs
    x = win[:hh, :ww].reshape(hh // bs, bs, ww // bs, bs).transpose(0, 2, 1, 3).reshape(-1, bs * bs)
    y = core[:hh, :ww].reshape(hh // bs, bs, ww // bs, bs).transpose(0, 2, 1, 3).reshape(-1, bs * bs)
    x = x - x.mean(axis=1, keepdims=True)
    y = y - y.mean(axis=1, keepdims=True)
    ex, ey = (x * x).sum(axis=1), (y * y).sum(axis=1)
    cc = (x * y).sum(axis=1) / np.sqrt(np.maximum(ex * ey, 1e-6))
    energy = ex + ey
    total = float(energy.sum())
    if total <= 0:
        return 0.0
    return float(energy[cc >= BLOCK_MATCH].sum()) / total


def _shift_correlations(a: np.ndarray, core: np.ndarray) -> np.ndarray:
    """Normalised correlation (Pearson) of ``core`` with every window of ``a`` of its size."""
    if _cv2 is not None:
        return _cv2.matchTemplate(
            np.ascontiguousarray(a, np.float32), np.ascontiguousarray(core, np.float32), _cv2.TM_CCOEFF_NORMED
        )
    hh, ww = core.shape
    rows, cols = a.shape[0] - hh + 1, a.shape[1] - ww + 1
    cn = core - core.mean()
    cnorm = float(np.sqrt((cn * cn).sum())) or 1.0
    out = np.empty((rows, cols), dtype=np.float64)
    for i in range(rows):
        for j in range(cols):
            wn = a[i : i + hh, j : j + ww]
            wn = wn - wn.mean()
            out[i, j] = float((wn * cn).sum()) / ((float(np.sqrt((wn * wn).sum())) or 1.0) * cnorm)
    return out


def is_duplicate(score: float, threshold: float = DUPLICATE_THRESHOLD) -> bool:
    return score >= threshold
