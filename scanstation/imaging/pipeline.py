"""The page pipeline: the one function capture code calls for every page, in a worker process.

``process_page(image_or_path, settings)`` measures, straightens, crops, checks and encodes a page
and returns a ``ProcessedPage`` with the master's bytes, its processing log (R05) and its QC
flags (R24a). Every step appends one log entry; the geometric steps record exactly what they did
(angle, centre, crop window), so ``geometry.map_points_through_log`` can relate any point of the
scanner's image to the master.

What "cleaning" means here (R08: scanner borders and specks only, never binding holes, stains or
marks of the original): the only pixels ever removed are the scanner background outside the
page, and of that the crop keeps ``crop_margin_mm`` (default 3 mm, never under 2 mm, R07) all
round the page edge. There is deliberately no despeckling, hole filling, background whitening or
edge cleaning of the page itself: a speck filter cannot tell dust from a full stop, a stamp's dot
or a punched hole, and the standard asks us to keep the marks. Specks and holes are measured
(blank detection ignores them) but left in the image.

The geometry is done in one resampling pass: rotation (deskew) and crop are a single affine warp
whose output window is the crop box; a page that needs no rotation is only cropped (no
resampling at all). A 90/180/270° turn from orientation detection is a lossless transpose.

Pixels stay in one numpy array from the spool file to the encoder: a raw PNM spool file is
memory-mapped (no decode, no copy), the analysis reads it through Pillow's box ``reduce``, the
warp writes a new array with OpenCV, and Pillow reads that array in place for the small copy
and the JPEG encoder (``Image.fromarray`` shares the memory).
"""

from __future__ import annotations

import math
import os
import time
from dataclasses import asdict, dataclass
from typing import Literal

import numpy as np
from PIL import Image, UnidentifiedImageError

import scanstation.imaging.analysis as analysis
import scanstation.imaging.encode as encode
import scanstation.imaging.geometry as geometry
import scanstation.imaging.orientation as osd
from scanstation.errors import InvalidInput, ScanStationError
from scanstation.rules import MIN_DPI  # R02

RECOMMENDED_DPI = 300  # below: QC flag "low_dpi" (OCR needs 300)
MIN_CROP_MARGIN_MM = 2.0  # R07
SKEW_QC_LIMIT_DEG = 3.0  # R06: QC fails above 3°
RESIDUAL_TARGET_DEG = 0.5  # R06

FLAGS = ("skew", "blank", "duplicate", "dark", "light", "low_dpi")


@dataclass(frozen=True)
class PipelineSettings:
    """What to do with each page; one per scan profile. Picklable."""

    deskew: bool = True
    crop: bool = True
    crop_margin_mm: float = 3.0  # R07: >= 2 mm, default 3 mm outside the page edge
    orientation: bool = False  # tesseract OSD, about 1-3 s a page
    blank_detection: bool = True
    format: Literal["jpeg", "tiff", "jp2"] = "jpeg"
    jpeg_quality: int = 85
    mode: Literal["color", "gray", "lineart"] | None = None  # None: keep the scanner's mode
    dpi: int | None = None  # used when the image carries no resolution
    # R06 asks for a residual of at most 0.5°: a page already within it needs no warp (the warp is the most
    # expensive step of a page). 0.35° leaves room for the measurement's own error (≤ 0.15° on our test pages).
    deskew_min_deg: float = 0.35
    max_skew_deg: float = 8.0
    verify_residual: bool = True  # measure the skew again after deskew (R06)
    orientation_min_confidence: float = osd.OSD_MIN_CONFIDENCE
    duplicate_threshold: float = analysis.DUPLICATE_THRESHOLD
    engine: str = "auto"  # geometry engine: auto | opencv | pillow

    def validate(self) -> None:
        if self.crop_margin_mm < MIN_CROP_MARGIN_MM:
            raise InvalidInput(
                "The crop margin must be at least {m} mm outside the page edge (now {v} mm).",
                "裁边须在页面边缘外至少保留 {m} 毫米（当前为 {v} 毫米）。",
                m=MIN_CROP_MARGIN_MM,
                v=self.crop_margin_mm,
            )
        if not 1 <= int(self.jpeg_quality) <= 100:
            raise InvalidInput("JPEG quality must be 1-100.", "JPEG 质量须在 1 到 100 之间。")
        if self.mode not in (None, "color", "gray", "lineart"):
            raise InvalidInput("Unknown colour mode {m}.", "未知的色彩模式 {m}。", m=self.mode)
        encode.check_format(self.format, self.mode or "gray")


@dataclass
class ProcessedPage:
    data: bytes
    format: str
    width: int
    height: int
    dpi: int
    mode: str  # color | gray | lineart
    log: list[dict]
    flags: list[str]
    metrics: dict
    signature: analysis.PageSignature | None = None
    extension: str = "jpg"
    mime_type: str = "image/jpeg"

    def add_duplicate_score(self, score: float, threshold: float = analysis.DUPLICATE_THRESHOLD) -> bool:
        """Record the similarity to the previous page; flags "duplicate" at ``threshold``."""
        duplicate = analysis.is_duplicate(score, threshold)
        self.metrics["duplicate_score"] = round(float(score), 4)
        self.log.append({"step": "duplicate", "score": round(float(score), 4), "duplicate": duplicate})
        if duplicate and "duplicate" not in self.flags:
            self.flags.append("duplicate")
        return duplicate


MODE_NAMES = {"RGB": "color", "L": "gray", "1": "lineart"}


def load_page(image_or_path, settings: PipelineSettings) -> tuple[Image.Image, int]:
    """The page image and its resolution; refuses pages under 200 dpi (R02) and X != Y."""
    img = image_or_path if isinstance(image_or_path, Image.Image) else _open(image_or_path)
    dpi = _page_dpi(img.info, settings)
    if img.mode not in ("L", "RGB", "1"):
        info = dict(img.info)
        img = img.convert("L" if img.mode in ("LA", "I", "I;16", "F") else "RGB")
        img.info = info
    return img, dpi


def _unreadable(path, error) -> InvalidInput:
    return InvalidInput(
        "The page file {path} cannot be read as an image ({error}). Check the file or scan again.",
        "页面文件 {path} 无法作为图像读取（{error}）。请检查文件或重新扫描。",
        path=str(path),
        error=str(error),
    )


def _open(path) -> Image.Image:
    try:
        img = Image.open(path)
        img.load()
    except (OSError, UnidentifiedImageError) as exc:
        raise _unreadable(path, exc) from exc
    return img


def _page_dpi(info: dict, settings: PipelineSettings) -> int:
    dpi_info = info.get("dpi")
    if dpi_info:
        x, y = (float(dpi_info[0]), float(dpi_info[1]))
        if abs(x - y) > 0.5:
            raise InvalidInput(
                "The page has different horizontal and vertical resolutions ({x} x {y} dpi). Scan it again with one resolution.",
                "页面的水平与垂直分辨率不同（{x} x {y} dpi）。请以统一分辨率重新扫描。",
                x=round(x),
                y=round(y),
            )
        dpi = int(round(x))
    elif settings.dpi:
        dpi = int(settings.dpi)
    else:
        raise InvalidInput(
            "The page does not say its resolution. Set the resolution in the scan profile or import settings.",
            "页面没有分辨率信息。请在扫描配置或导入设置中指定分辨率。",
        )
    if dpi < MIN_DPI:
        raise InvalidInput(
            "The page is {dpi} dpi; masters must be at least {min} dpi. Scan it again at 300 dpi.",
            "页面分辨率为 {dpi} dpi，存档图像不得低于 {min} dpi。请以 300 dpi 重新扫描。",
            dpi=dpi,
            min=MIN_DPI,
        )
    return dpi


def _raw_pnm_pixels(path) -> np.ndarray | None:
    """The pixels of a raw 8-bit PGM/PPM file (the scanners' spool format), memory-mapped: Pillow
    parses the header and the pixel bytes are already in numpy's layout, so nothing is decoded or
    copied (read-only; the mapping goes when the array does). None for any other file."""
    try:
        with Image.open(path) as im:
            if im.format != "PPM" or im.mode not in ("L", "RGB") or len(im.tile) != 1:
                return None
            codec, _extents, offset, args = im.tile[0]
            args = (args,) if isinstance(args, str) else tuple(args)
            if codec != "raw" or args[0] != im.mode or args[1:] not in ((), (0, 1)):
                return None  # 16-bit, scaled maxval, bottom-up...: let Pillow decode it
            width, height = im.size
            bands = len(im.mode)
    except (OSError, UnidentifiedImageError):
        return None  # the generic path reports it
    shape = (height, width, bands) if bands > 1 else (height, width)
    try:
        size = os.path.getsize(path)
        if size < offset + width * height * bands:
            raise OSError(f"image file is truncated ({size - offset} of {width * height * bands} bytes)")
        return np.memmap(path, dtype=np.uint8, mode="r", offset=offset, shape=shape)
    except (OSError, ValueError) as exc:
        raise _unreadable(path, exc) from exc


def _load_pixels(image_or_path, settings: PipelineSettings) -> tuple[np.ndarray, int, str]:
    """Pixels as a uint8 array ((h, w) grey or (h, w, 3) colour) in the target mode, the dpi and
    the input's mode name."""
    pixels = None
    if not isinstance(image_or_path, Image.Image):
        pixels = _raw_pnm_pixels(image_or_path)
    if pixels is not None:
        dpi = _page_dpi({}, settings)
        in_mode = "L" if pixels.ndim == 2 else "RGB"
        target = settings.mode or MODE_NAMES[in_mode]
        if target == "color" and pixels.ndim == 2:
            pixels = np.repeat(pixels[:, :, None], 3, axis=2)
        elif target != "color" and pixels.ndim == 3:
            pixels = np.asarray(Image.fromarray(pixels).convert("L"))
        return pixels, dpi, in_mode
    img, dpi = load_page(image_or_path, settings)
    in_mode = img.mode
    target = _target_mode(img, settings)
    if target == "color" and img.mode != "RGB":
        img = img.convert("RGB")
    elif target in ("gray", "lineart") and img.mode != "L":
        img = img.convert("L")  # bitonal input too: geometry is done in grey, thresholded at the end
    return np.asarray(img), dpi, in_mode


def _target_mode(img: Image.Image, settings: PipelineSettings) -> str:
    if settings.mode:
        return settings.mode
    return MODE_NAMES.get(img.mode, "gray")


def _crop_box(
    a: analysis.Analysis, angle: float, centre: tuple[float, float]
) -> tuple[float, float, float, float] | None:
    """Page box in the deskewed frame (full-resolution pixels), or None without a paper edge."""
    if a.paper is None:
        return None
    pts = a.paper.edge_points() * a.factor
    rad = math.radians(angle)  # same convention as geometry.rotate_vector
    c, s = math.cos(rad), math.sin(rad)
    dx = pts[:, 0] - centre[0]
    dy = pts[:, 1] - centre[1]
    xs = centre[0] + dx * c + dy * s
    ys = centre[1] - dx * s + dy * c
    return float(xs.min()), float(ys.min()), float(xs.max()), float(ys.max())


def process_page(
    image_or_path, settings: PipelineSettings | None = None, previous_signature: analysis.PageSignature | None = None
) -> ProcessedPage:
    """Measure, straighten, crop, check and encode one page (see the module docstring)."""
    settings = settings or PipelineSettings()
    settings.validate()
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    pixels, dpi, in_mode = _load_pixels(image_or_path, settings)
    height, width = pixels.shape[:2]
    log: list[dict] = [
        {"step": "input", "width": width, "height": height, "dpi": dpi, "mode": MODE_NAMES.get(in_mode, in_mode)}
    ]
    flags: list[str] = []
    metrics: dict = {}
    target = settings.mode or MODE_NAMES.get(in_mode, "gray")
    pil_mode = "RGB" if pixels.ndim == 3 else "L"
    t1 = time.perf_counter()
    timings["load"] = t1 - t0

    a = analysis.analyse(pixels, dpi)
    blank = analysis.detect_blank(a)
    t2 = time.perf_counter()
    timings["analyse"] = t2 - t1

    skew = analysis.measure_skew(a, settings.max_skew_deg, blank=blank.blank)
    log.append(skew.as_log())
    metrics["skew_deg"] = round(float(skew.angle), 3)
    t3 = time.perf_counter()
    timings["measure_skew"] = t3 - t2

    # one warp: rotate by -skew about the image centre, output window = crop box
    centre = (width / 2.0, height / 2.0)
    rotate = settings.deskew and abs(skew.angle) >= settings.deskew_min_deg and skew.method != "none"
    angle = -float(skew.angle) if rotate else 0.0
    margin_px = settings.crop_margin_mm / 25.4 * dpi
    page_box = _crop_box(a, angle, centre)
    bounds = geometry.expanded_size((width, height), angle)  # the whole rotated input, shared frame
    if settings.crop and page_box is not None:
        # one analysis pixel of safety on top of the margin: the edge is found to within that
        safety = a.factor
        l, t, r, b = page_box
        window = (
            math.floor(max(bounds[0], l - margin_px - safety)),
            math.floor(max(bounds[1], t - margin_px - safety)),
            math.ceil(min(bounds[2], r + margin_px + safety)),
            math.ceil(min(bounds[3], b + margin_px + safety)),
        )
        crop_entry = {
            "step": "crop",
            "applied": True,
            "margin_mm": settings.crop_margin_mm,
            "box": [int(v) for v in window],
            "page_box": [round(float(v), 1) for v in page_box],
        }
    else:
        window = (math.floor(bounds[0]), math.floor(bounds[1]), math.ceil(bounds[2]), math.ceil(bounds[3]))
        if not rotate:
            window = (0, 0, width, height)
        reason = "disabled" if not settings.crop else "no scanner background around the page"
        crop_entry = {"step": "crop", "applied": False, "reason": reason}
    out_size = (window[2] - window[0], window[3] - window[1])
    fill = _fill_colour(a, pil_mode)
    if rotate:
        matrix = geometry.rotation_inverse_matrix(angle, centre, window[:2])
        engine = geometry.resolve_engine(settings.engine)
        out = geometry.warp_array(pixels, matrix, out_size, fill, engine)
        log.append(
            {
                "step": "deskew",
                "applied": True,
                "angle": round(skew.angle, 3),
                "rotation": round(angle, 3),
                "engine": engine,
            }
        )
    else:
        out = pixels if window == (0, 0, width, height) else _crop_with_fill(pixels, window, fill)
        log.append(
            {
                "step": "deskew",
                "applied": False,
                "reason": "disabled"
                if not settings.deskew
                else "below threshold"
                if skew.method != "none"
                else "not measurable",
                "angle": round(skew.angle, 3),
            }
        )
    del pixels  # the scanner's image is not needed any more
    log.append(crop_entry)
    log.append(
        {
            "step": "geometry",
            "applied": True,
            "rotation": round(angle, 6),
            "centre": [centre[0], centre[1]],
            "origin": [window[0], window[1]],
            "size": list(out_size),
        }
    )
    t4 = time.perf_counter()
    timings["deskew_crop"] = t4 - t3

    # the page box in the output frame (for the signature and QC)
    page_out = None
    if page_box is not None:
        page_out = (page_box[0] - window[0], page_box[1] - window[1], page_box[2] - window[0], page_box[3] - window[1])
        metrics["page_box"] = [round(float(v), 1) for v in page_out]

    out_img = Image.fromarray(np.ascontiguousarray(out))  # shares the pixels, no copy
    if settings.orientation:
        out_img, page_out = _orient(out_img, dpi, settings, log, page_out)
    t5 = time.perf_counter()
    timings["orientation"] = t5 - t4

    if settings.blank_detection:
        log.append(blank.as_log())
        if blank.blank:
            flags.append("blank")
    exposure = analysis.detect_exposure(a, blank.blank)
    log.append(exposure.as_log())
    if exposure.dark:
        flags.append("dark")
    if exposure.light:
        flags.append("light")
    if dpi < RECOMMENDED_DPI:
        flags.append("low_dpi")

    # one small grey copy of the output serves the residual check and the signature
    f = a.factor
    out_small = out_img.reduce(f) if f > 1 else out_img
    if out_small.mode != "L":
        out_small = out_small.convert("L")
    small_box = tuple(v / f for v in page_out) if page_out is not None else None
    residual = None
    if rotate and settings.verify_residual and not blank.blank and small_box is not None:
        residual = analysis.residual_skew(out_small, dpi / f, small_box, a.ink_threshold)
        if residual is not None:
            log.append({"step": "verify_skew", "residual": round(residual, 3)})
            metrics["residual_skew_deg"] = round(residual, 3)
    # R06: QC fails when the page leaves the pipeline more than 3° skewed (deskew off or not
    # possible) or when a deskew left more than the 0.5° target
    if (not rotate and abs(skew.angle) > SKEW_QC_LIMIT_DEG) or (
        residual is not None and abs(residual) > RESIDUAL_TARGET_DEG
    ):
        flags.append("skew")
    t6 = time.perf_counter()
    timings["checks"] = t6 - t5

    signature = analysis.page_signature(out_small, small_box, dpi / f, blank.blank)
    if previous_signature is not None:
        score = analysis.duplicate_of_previous(previous_signature, signature)
    t7 = time.perf_counter()
    timings["signature"] = t7 - t6

    if target == "lineart":
        out_img = _to_bitonal(out_img, a)
    data, enc_entry = encode.encode_image(out_img, settings.format, dpi, settings.jpeg_quality)
    log.append(enc_entry)
    t8 = time.perf_counter()
    timings["encode"] = t8 - t7
    metrics.update(
        {k: v for k, v in a.metrics.items() if k in ("paper_level", "ink_level", "contrast", "ink_fraction")}
    )
    metrics["text_cells"] = blank.text_cells
    metrics["timings_ms"] = {k: round(v * 1000, 1) for k, v in timings.items()}
    page = ProcessedPage(
        data=data,
        format=settings.format,
        width=out_img.width,
        height=out_img.height,
        dpi=dpi,
        mode=target,
        log=log,
        flags=flags,
        metrics=metrics,
        signature=signature,
        extension=encode.extension(settings.format),
        mime_type=encode.mime_type(settings.format),
    )
    if previous_signature is not None:
        page.add_duplicate_score(score, settings.duplicate_threshold)
    return page


def _fill_colour(a: analysis.Analysis, mode: str):
    """What the area outside the scanned image gets: the scanner background when there is one,
    else the paper tone."""
    level = int(round(a.paper.border_level)) if a.paper is not None else int(round(a.paper_level))
    return (level, level, level) if mode == "RGB" else level


def _crop_with_fill(pixels: np.ndarray, window, fill) -> np.ndarray:
    """The window (l, t, r, b) of the pixels; parts outside the image get ``fill``."""
    l, t, r, b = window
    h, w = pixels.shape[:2]
    out = np.empty((b - t, r - l) + pixels.shape[2:], dtype=pixels.dtype)
    out[...] = fill
    sl, st, sr, sb = max(l, 0), max(t, 0), min(r, w), min(b, h)
    if sr > sl and sb > st:
        out[st - t : sb - t, sl - l : sr - l] = pixels[st:sb, sl:sr]
    return out


def _orient(out: Image.Image, dpi: int, settings: PipelineSettings, log: list, page_out):
    try:
        found = osd.detect_orientation(out, dpi)
    except ScanStationError as exc:
        log.append({"step": "orientation", "applied": False, "error": exc.en})
        return out, page_out
    entry = found.as_log()
    apply = found.rotate != 0 and found.confidence >= settings.orientation_min_confidence
    entry.update(applied=apply, size_before=[out.width, out.height])
    log.append(entry)
    if not apply:
        return out, page_out
    turn = {90: Image.Transpose.ROTATE_90, 180: Image.Transpose.ROTATE_180, 270: Image.Transpose.ROTATE_270}[
        found.rotate
    ]
    if page_out is not None:
        pts = geometry.map_points_through_log([entry], [(page_out[0], page_out[1]), (page_out[2], page_out[3])])
        xs, ys = [p[0] for p in pts], [p[1] for p in pts]
        page_out = (min(xs), min(ys), max(xs), max(ys))
    info = dict(out.info)
    out = out.transpose(turn)
    out.info = info
    return out, page_out


def _to_bitonal(img: Image.Image, a: analysis.Analysis) -> Image.Image:
    """Threshold halfway between paper and ink (measured), not at a fixed 128."""
    paper = a.metrics.get("paper_level", 230.0)
    ink = a.metrics.get("ink_level", 30.0)
    t = int(round((paper + ink) / 2)) if paper - ink > 40 else 128
    gray = img if img.mode == "L" else img.convert("L")
    info = dict(img.info)
    out = gray.point([255 if v > t else 0 for v in range(256)], "1")
    out.info = info
    return out


def processed_page_summary(page: ProcessedPage) -> dict:
    """Everything but the bytes and signature, for logs and the catalog (R20 processing log)."""
    d = asdict(page)
    d.pop("data")
    d.pop("signature")
    d["bytes"] = len(page.data)
    return d
