"""OCR engines behind one interface: each reads a page and returns its text AND its layout.

Two engines, both fully offline (nothing is downloaded, ever):

* ``tesseract`` -- tesseract 5 through pytesseract (``image_to_data``, TSV) with the station's own
  post-processing of that TSV (``tesseract.text_from_tsv``: lines and paragraphs kept, spaces
  between CJK characters removed). Language data comes from the operating system's packages.
  Pages held only in memory (decrypted pages encrypted at rest, R40) are read through
  ``tesseract.run`` on stdin/stdout instead: pytesseract writes its input and output to temporary
  files, and a decrypted page or its text must never be written out in plain text.
* ``rapidocr`` -- PP-OCRv4 (detection + recognition, ONNX) through rapidocr-onnxruntime, whose
  models ship inside the wheel. ONNX Runtime is limited to one thread per worker process (one
  worker per core, like tesseract) and its memory arena is off. Detection runs on the page scaled
  to at most ``DET_MAX_SIDE`` (1536) pixels, recognition on crops of the page at up to
  ``REC_MAX_SIDE`` pixels, i.e. at full resolution for A4 at 300 dpi, ``REC_BATCH`` crops at a time.

``ocr.engine`` (station setting) is ``tesseract``, ``rapidocr`` or ``auto``; ``resolve_engine``
turns ``auto`` into a real engine by the machine's memory and cores (``auto_engine``).

Every engine returns an ``EngineResult``: text as stored for search, mean confidence 0-100, the
engine's label ("tesseract 5.3.0 chi_sim", "rapidocr 1.4.4 PP-OCRv4") and a ``PageLayout`` with
line and word boxes in pixels of the image it was given (the stored master), CJK text without
inserted spaces. Import-light: the engine libraries are imported when an engine is first used.
"""

from __future__ import annotations

import logging
import os
import re
import time
from dataclasses import dataclass
from pathlib import Path

from scanstation.errors import ScanStationError
from scanstation.i18n import tr
from scanstation.ocr import tesseract
from scanstation.ocr.layout import Line, PageLayout, Word
from scanstation.ocr.tesseract import OcrError, OcrTimeout

log = logging.getLogger("scanstation.ocr")

TESSERACT, RAPIDOCR, AUTO = "tesseract", "rapidocr", "auto"
ENGINES = (TESSERACT, RAPIDOCR)
CHOICES = (*ENGINES, AUTO)
SETTING_KEY = "ocr.engine"

# Measured (bench/ocr_quality.py, docs/performance.md): chi_sim alone reads Chinese forms with fewer
# errors than chi_sim+eng (English words on these forms are few; the eng model adds confusions).
TESSERACT_LANG = "chi_sim"
TESSERACT_PSM = 3  # automatic layout, no OSD: orientation is the capture pipeline's own step
REC_MAX_SIDE = 4000  # PP-OCR: the page itself is scaled down only above this (longest side, px)
# PP-OCR, measured (CPU per page, bench/ocr_stages.py, docs/ocr.md): detecting on the page scaled to
# 1536 px instead of rapidocr's 2000 px takes 40 % less detection time (1280 px lost a 档号);
# recognising the crops (sorted by width) two at a time instead of six takes 40 % less recognition
# time with the same errors (every crop of a batch is padded to the widest one; 1 was a little
# cheaper still but read more "·" as "-").
DET_MAX_SIDE = 1536
REC_BATCH = 2

# What each engine costs (shown in the settings and in docs/ocr.md; figures from the benchmark).
COSTS = {
    TESSERACT: (
        "about 0.25 GB memory per worker; about 2x faster; several % reading errors, misses the '·' of 档号",
        "每个工作进程约 0.25 GB 内存；约快 2 倍；识别错误数个百分点，档号中的“·”常识别错",
    ),
    RAPIDOCR: (
        "about 0.65 GB memory per worker (one worker per core); about 2 s of processor time per page "
        "(about 3,600 pages/hour on 2 free cores); under 1 % reading errors",
        "每个工作进程约 0.65 GB 内存（每个处理器核心一个）；每页约 2 秒处理器时间（2 个空闲核心每小时约 3600 页）；"
        "识别错误低于 1 %",
    ),
}
RAPIDOCR_WORKER_BYTES = 1024**3  # peak RSS of one PP-OCR worker (0.93 GB measured), rounded up
RESERVED_BYTES = 4 * 1024**3  # the window, the capture pipeline and the system


class EngineUnavailable(OcrError):
    """The chosen OCR engine is not installed on this machine."""


@dataclass(frozen=True)
class EngineResult:
    text: str
    confidence: float | None  # mean 0-100 (tesseract: word confidence; PP-OCR: line score x 100)
    words: int
    seconds: float
    engine: str  # label, e.g. "tesseract 5.3.0 chi_sim"
    layout: PageLayout

    def as_job(self) -> dict:
        return {
            "ok": True,
            "text": self.text,
            "confidence": self.confidence,
            "words": self.words,
            "seconds": self.seconds,
            "engine": self.engine,
            "layout": self.layout.to_dict(),
        }


# -- choosing ------------------------------------------------------------------------------
def machine() -> tuple[int, int]:
    """(total memory in bytes, cores) of this machine."""
    cores = os.cpu_count() or 1
    try:
        memory = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError, AttributeError):
        memory = 0
    return int(memory), int(cores)


_RAPIDOCR_MISSING = (
    "The PP-OCR engine (rapidocr-onnxruntime) is not installed ({error}). Install it with: "
    "pip install --no-deps rapidocr-onnxruntime onnxruntime pyclipper shapely PyYAML six tqdm",
    "未安装 PP-OCR 识别引擎 rapidocr-onnxruntime（{error}）。请安装：pip install --no-deps "
    "rapidocr-onnxruntime onnxruntime pyclipper shapely PyYAML six tqdm",
)


def _rapidocr_import_error() -> str | None:
    try:
        import onnxruntime  # noqa: F401
        import rapidocr_onnxruntime  # noqa: F401
    except Exception as exc:  # ImportError, or a broken native library
        return str(exc)[:200]
    return None


def rapidocr_problem() -> str | None:
    """Why PP-OCR cannot run here (with the install command), or None when it can."""
    error = _rapidocr_import_error()
    return None if error is None else tr(*_RAPIDOCR_MISSING, error=error)


def auto_engine(memory: int | None = None, cores: int | None = None, rapidocr_ok: bool | None = None) -> str:
    """``auto``: PP-OCR when it is installed, the machine has 2+ cores and at least one PP-OCR worker
    fits in the memory left beside the window (``RESERVED_BYTES``); tesseract otherwise."""
    if memory is None or cores is None:
        m, c = machine()
        memory = m if memory is None else memory
        cores = c if cores is None else cores
    if rapidocr_ok is None:
        rapidocr_ok = rapidocr_problem() is None
    if not rapidocr_ok or cores < 2:
        return TESSERACT
    return RAPIDOCR if memory - RESERVED_BYTES >= RAPIDOCR_WORKER_BYTES else TESSERACT


def resolve_engine(choice: str | None) -> str:
    """A real engine name for a setting value or a command-line choice (``auto`` chosen here)."""
    choice = (choice or AUTO).strip().lower()
    if choice not in CHOICES:
        raise OcrError(
            "Unknown OCR engine '{name}'. Choose one of: {choices}.",
            "未知的识别引擎“{name}”。可选：{choices}。",
            name=choice,
            choices=", ".join(CHOICES),
        )
    return auto_engine() if choice == AUTO else choice


def workers_for(engine: str, memory: int | None = None, cores: int | None = None) -> int:
    """Worker processes the queue may run for ``engine``: one per core, and for PP-OCR only as many
    as fit in the memory left beside the window (at least one)."""
    m, c = machine()
    memory = m if memory is None else memory
    cores = c if cores is None else cores
    if engine != RAPIDOCR:
        return max(1, cores)
    return max(1, min(cores, (memory - RESERVED_BYTES) // RAPIDOCR_WORKER_BYTES))


def check_engine(engine: str) -> list[str]:
    """Problems that stop ``engine``, each saying how to fix it; empty when it is ready."""
    if engine == TESSERACT:
        return tesseract.check_tesseract(TESSERACT_LANG)
    if engine == RAPIDOCR:
        problem = rapidocr_problem()
        return [problem] if problem else []
    return [tr("Unknown OCR engine '{name}'.", "未知的识别引擎“{name}”。", name=engine)]


# -- reading -------------------------------------------------------------------------------
_cache: dict[str, object] = {}


def read_page(
    source: Path | str | bytes,
    engine: str,
    timeout_s: float = tesseract.DEFAULT_TIMEOUT_S,
    dpi: int | None = None,
    lang: str | None = None,
    psm: int | None = None,
) -> EngineResult:
    """OCR one page image (a file path, or the image's bytes) with ``engine``; ``lang`` and ``psm``
    (tesseract only) replace the station's languages and page segmentation, for measurements."""
    if engine == TESSERACT:
        return _read_tesseract(source, timeout_s, dpi, lang or TESSERACT_LANG, psm or TESSERACT_PSM)
    if engine == RAPIDOCR:
        return _read_rapidocr(source)
    raise OcrError(
        "Unknown OCR engine '{name}'. Choose one of: {choices}.",
        "未知的识别引擎“{name}”。可选：{choices}。",
        name=engine,
        choices=", ".join(ENGINES),
    )


def ocr_page_job(source: str | bytes, engine: str, timeout_s: float, dpi: int | None) -> dict:
    """Worker-process entry point (picklable): OCR one page, errors returned as data."""
    try:
        return read_page(source, engine, timeout_s=timeout_s, dpi=dpi).as_job()
    except ScanStationError as exc:
        return {"ok": False, "timeout": isinstance(exc, OcrTimeout), "error_en": exc.en, "error_zh": exc.zh}
    except Exception as exc:  # a worker must report, never die silently
        log.exception("OCR worker: %s failed", engine)
        return {"ok": False, "timeout": False, "error_en": f"OCR failed: {exc!r}", "error_zh": f"文字识别失败：{exc!r}"}


def _check_source(source) -> None:
    if isinstance(source, (bytes, bytearray)):
        if not bytes(source[:16]).startswith(tesseract._IMAGE_MAGIC):
            raise OcrError(
                "The page is not an image (damaged or wrong format). Rescan the page.",
                "该页不是图像（已损坏或格式错误）。请重新扫描该页。",
            )
        return
    path = Path(source)
    if not path.is_file():
        raise OcrError(
            "The page image {path} is missing. Restore it from a backup or rescan the page.",
            "页面图像 {path} 不存在。请从备份恢复或重新扫描该页。",
            path=str(path),
        )
    tesseract._require_image(path)


# tesseract ---------------------------------------------------------------------------------
def tesseract_label(lang: str = TESSERACT_LANG) -> str:
    if "tesseract_version" not in _cache:
        try:
            import pytesseract

            program = tesseract.tesseract_program()
            if program:
                pytesseract.pytesseract.tesseract_cmd = program
            _cache["tesseract_version"] = str(pytesseract.get_tesseract_version())
        except Exception:  # the version is a label only; a missing program is reported by the read
            _cache["tesseract_version"] = "?"
    return f"tesseract {_cache['tesseract_version']} {lang}"


def _read_tesseract(source, timeout_s: float, dpi: int | None, lang: str, psm: int) -> EngineResult:
    _check_source(source)
    started = time.monotonic()
    config = f"--psm {int(psm)}" + (f" --dpi {int(dpi)}" if dpi else "")
    width, height, red = _without_red_ink(source)
    if isinstance(source, (bytes, bytearray)):
        # in memory only (R40): stdin -> stdout, nothing written to disk
        args = ["stdin", "stdout", "-l", lang, *config.split(), "tsv"]
        tsv = tesseract.run(args, timeout_s=timeout_s, input=red if red is not None else bytes(source)).stdout
    else:
        tsv = _pytesseract_tsv(red if red is not None else str(source), config, timeout_s, lang)
    text, confidence, words = tesseract.text_from_tsv(tsv)
    layout = layout_from_tsv(tsv, width, height, tesseract_label(lang))
    return EngineResult(
        text=text,
        confidence=confidence,
        words=words,
        seconds=time.monotonic() - started,
        engine=layout.engine,
        layout=layout,
    )


def _without_red_ink(source) -> tuple[int, int, bytes | None]:
    """(width, height, PNG of the red channel) of a colour page, (width, height, None) of a grey one.

    Measured (bench/ocr_quality.py): tesseract drops whole lines under a red seal; in the red channel
    the seal is nearly as light as the paper while black and blue ink stay dark. PP-OCR reads through
    seals as they are and gets the page unchanged."""
    import io

    from PIL import Image

    try:
        with Image.open(io.BytesIO(bytes(source)) if isinstance(source, (bytes, bytearray)) else source) as img:
            if img.mode in ("1", "L", "LA", "I", "I;16", "F"):
                return img.size[0], img.size[1], None
            red = img.convert("RGB").getchannel("R")
            buf = io.BytesIO()
            red.save(buf, "PNG", compress_level=1, dpi=img.info.get("dpi", (300, 300)))
            return img.size[0], img.size[1], buf.getvalue()
    except OcrError:
        raise
    except Exception as exc:
        raise OcrError(
            "The page image cannot be read ({error}). Rescan the page.",
            "无法读取页面图像（{error}）。请重新扫描该页。",
            error=str(exc)[:200],
        ) from exc


def _pytesseract_tsv(image: str | bytes, config: str, timeout_s: float, lang: str) -> str:
    """TSV through pytesseract: a page file by its path; a prepared page (PNG bytes) as a picture,
    which pytesseract hands over in a temporary file of its own."""
    import pytesseract

    program = tesseract.tesseract_program()
    if not program:
        raise tesseract._missing_program()
    pytesseract.pytesseract.tesseract_cmd = program
    os.environ["OMP_THREAD_LIMIT"] = "1"  # one process per core; OpenMP threads fight (tesseract module)
    path = image if isinstance(image, str) else "page"
    try:
        if isinstance(image, bytes):
            import io

            from PIL import Image

            with Image.open(io.BytesIO(image)) as picture:
                return pytesseract.image_to_data(
                    picture, lang=lang, config=config, timeout=max(0.001, float(timeout_s))
                )
        return pytesseract.image_to_data(image, lang=lang, config=config, timeout=max(0.001, float(timeout_s)))
    except pytesseract.TesseractNotFoundError as exc:
        raise tesseract._missing_program() from exc
    except RuntimeError as exc:
        if "timeout" not in str(exc).lower():
            raise OcrError("tesseract failed: {detail}", "tesseract 识别失败：{detail}", detail=str(exc)[:300]) from exc
        raise OcrTimeout(
            "OCR stopped after {s} s (time limit). The page will be retried; if it keeps failing, "
            "check the image or raise the OCR time limit.",
            "文字识别超过时限 {s} 秒，已停止。该页稍后会重试；如仍失败，请检查图像或调高识别时限。",
            s=f"{timeout_s:g}",
        ) from exc
    except pytesseract.TesseractError as exc:
        log.warning("tesseract exited %s on %s: %s", exc.status, path, exc.message)
        raise OcrError(
            "tesseract failed (exit {code}): {detail}",
            "tesseract 识别失败（退出码 {code}）：{detail}",
            code=exc.status,
            detail=str(exc.message)[:300] or "-",
        ) from exc


def layout_from_tsv(tsv: str, width: int, height: int, engine: str) -> PageLayout:
    """Lines and words with their boxes from tesseract's TSV (level 4 = line, 5 = word)."""
    lines: dict[tuple, dict] = {}
    order: list[tuple] = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] not in ("4", "5"):
            continue
        try:
            left, top, w, h = (int(c) for c in cols[6:10])
            conf = float(cols[10])
        except ValueError:
            continue
        key = (cols[1], cols[2], cols[3], cols[4])
        if key not in lines:
            lines[key] = {"box": (left, top, left + w, top + h), "words": []}
            order.append(key)
        if cols[0] == "5":
            text = cols[11].strip()
            if text:
                lines[key]["words"].append(
                    Word(
                        text=text, box=(left, top, left + w, top + h), confidence=round(conf, 2) if conf >= 0 else None
                    )
                )
    out = []
    for key in order:
        words = tuple(lines[key]["words"])
        if not words:
            continue
        confs = [w.confidence for w in words if w.confidence is not None]
        boxes = [lines[key]["box"], *(w.box for w in words)]  # a word may reach past tesseract's line box
        box = (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))
        out.append(
            Line(
                text=tesseract.tidy_cjk_spaces(" ".join(w.text for w in words)),
                box=box,
                words=words,
                confidence=round(sum(confs) / len(confs), 2) if confs else None,
            )
        )
    return PageLayout(width=width, height=height, engine=engine, lines=tuple(out))


# PP-OCR ------------------------------------------------------------------------------------
def rapidocr_label() -> str:
    try:
        from importlib.metadata import version

        return f"rapidocr {version('rapidocr-onnxruntime')} PP-OCRv4"
    except Exception:
        return "rapidocr PP-OCRv4"


def _rapidocr():
    engine = _cache.get("rapidocr")
    if engine is None:
        error = _rapidocr_import_error()
        if error is not None:
            raise EngineUnavailable(*_RAPIDOCR_MISSING, error=error)
        engine = make_rapidocr()
        _cache["rapidocr"] = engine
    return engine


def make_rapidocr(det_side: int = DET_MAX_SIDE, rec_batch: int = REC_BATCH, threads: int = 1, use_cls: bool = False):
    """A PP-OCR reader as the station runs it (the arguments differ only for measurements, bench/ocr_stages.py).

    One thread per worker (one worker per core; two threads in one worker cost twice the CPU per page);
    rapidocr turns ONNX Runtime's memory arena off. No 0°/180° line classifier: pages are upright before
    OCR, and on upright forms it turned lines the wrong way (CER 0.4 % -> 3.5 %)."""
    from rapidocr_onnxruntime import RapidOCR

    engine = RapidOCR(
        intra_op_num_threads=threads,
        inter_op_num_threads=1,
        max_side_len=REC_MAX_SIDE,
        det_limit_type="max",
        det_limit_side_len=det_side,
        rec_batch_num=rec_batch,
        use_cls=use_cls,
    )
    _detect_at_most(engine, det_side)
    return engine


def _detect_at_most(engine, side: int) -> None:
    """Detection on the page scaled to at most ``side`` pixels (longest side). rapidocr 1.4.4 ignores
    ``det_limit_side_len`` with ``det_limit_type="max"`` and picks 960/1500/2000 px by the page's size;
    its detector's own pre-processing step is set here. Boxes still come back in pixels of the page, and
    recognition still reads crops of the page itself."""
    from rapidocr_onnxruntime.ch_ppocr_det.utils import DetPreProcess

    detector = engine.text_det
    step = DetPreProcess(side, "max", detector.mean, detector.std)
    detector.get_preprocess = lambda longest: step


def _decode(source):
    import cv2
    import numpy as np

    if isinstance(source, (bytes, bytearray)):
        data = np.frombuffer(bytes(source), dtype=np.uint8)
    else:
        data = np.fromfile(str(source), dtype=np.uint8)  # np.fromfile: non-ASCII paths on Windows too
    img = cv2.imdecode(data, cv2.IMREAD_COLOR)
    if img is None:
        import io

        from PIL import Image

        try:
            with Image.open(io.BytesIO(data.tobytes())) as pil:
                img = cv2.cvtColor(np.asarray(pil.convert("RGB")), cv2.COLOR_RGB2BGR)
        except Exception as exc:
            raise OcrError(
                "The page image cannot be read ({error}). Rescan the page.",
                "无法读取页面图像（{error}）。请重新扫描该页。",
                error=str(exc)[:200],
            ) from exc
    return img


def _read_rapidocr(source) -> EngineResult:
    _check_source(source)
    engine = _rapidocr()
    started = time.monotonic()
    img = _decode(source)
    height, width = img.shape[:2]
    result, _ = engine(img, return_word_box=True)
    layout = layout_from_rapidocr(result or [], width, height, rapidocr_label())
    text = text_from_layout(layout)
    confs = [(ln.confidence, len(ln.text)) for ln in layout.lines if ln.confidence is not None]
    total = sum(n for _, n in confs)
    confidence = round(sum(c * n for c, n in confs) / total, 2) if total else None
    return EngineResult(
        text=text,
        confidence=confidence,
        words=sum(len(ln.words) for ln in layout.lines),
        seconds=time.monotonic() - started,
        engine=layout.engine,
        layout=layout,
    )


def _bbox(points) -> tuple[int, int, int, int]:
    xs = [int(round(p[0])) for p in points]
    ys = [int(round(p[1])) for p in points]
    return (min(xs), min(ys), max(xs) + 1, max(ys) + 1)


def layout_from_rapidocr(result, width: int, height: int, engine: str) -> PageLayout:
    """One Line per detected text segment (a table cell is its own line), in reading order; words are
    PP-OCR's word boxes (one per CJK character, one per Latin word)."""
    lines = []
    for item in result:
        quad, text, score = item[0], str(item[1]), float(item[2])
        if not text.strip():
            continue
        box = _clip(_bbox(quad), width, height)
        words: list[Word] = []
        if len(item) >= 5 and item[3] and len(item[3]) == len(item[4]):
            # return_word_box: [quad, text, score, word_quads, word_texts, word_scores]
            word_quads, word_texts = item[3], item[4]
            word_scores = item[5] if len(item) > 5 else [None] * len(word_texts)
            for wq, wt, ws in zip(word_quads, word_texts, word_scores):
                if str(wt).strip():
                    words.append(
                        Word(
                            text=str(wt),
                            box=_clip(_bbox(wq), width, height),
                            confidence=round(float(ws) * 100, 2) if ws is not None else None,
                        )
                    )
        if not words:
            words = [Word(text=text, box=box, confidence=round(score * 100, 2))]
        lines.append(Line(text=tidy_text(text), box=box, words=tuple(words), confidence=round(score * 100, 2)))
    return PageLayout(width=width, height=height, engine=engine, lines=tuple(reading_order(lines)))


def _clip(box, width: int, height: int) -> tuple[int, int, int, int]:
    x0, y0, x1, y1 = box
    x0, x1 = max(0, min(x0, width - 1)), max(1, min(x1, width))
    y0, y1 = max(0, min(y0, height - 1)), max(1, min(y1, height))
    return (x0, y0, max(x1, x0 + 1), max(y1, y0 + 1))


_CJK_SPACE = re.compile(
    r"(?<=[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef])[ \t]+"
    r"(?=[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uff00-\uffef])"
)


def tidy_text(text: str) -> str:
    return _CJK_SPACE.sub("", text.strip())


def visual_rows(lines) -> list[list[Line]]:
    """Lines grouped into rows of the page (cells of one table row, a label and its value): a line
    joins the row when it overlaps the row's last line vertically by at least 40 % of the lower one."""
    rows: list[list[Line]] = []
    for line in sorted(lines, key=lambda ln: ((ln.box[1] + ln.box[3]) / 2, ln.box[0])):
        if rows:
            last = rows[-1][-1]
            overlap = min(last.box[3], line.box[3]) - max(last.box[1], line.box[1])
            if overlap >= 0.4 * min(last.box[3] - last.box[1], line.box[3] - line.box[1]):
                rows[-1].append(line)
                continue
        rows.append([line])
    return [sorted(row, key=lambda ln: ln.box[0]) for row in rows]


def reading_order(lines) -> list[Line]:
    return [line for row in visual_rows(lines) for line in row]


def text_from_layout(layout: PageLayout) -> str:
    """Page text: one text row per visual row of the page, its segments separated by a space."""
    return "\n".join(" ".join(ln.text for ln in row) for row in visual_rows(layout.lines))


_NUMBER_GAP = r"[\s\-·.:'。・．‧•:：,，_]{0,3}"


def restore_dossier_number(text: str, number: str) -> str:
    """The page's own 档号 written back in its canonical spelling wherever OCR read it with other or
    missing separators ("X007-ZYZY·2023·D100-6977-250" for "X007-ZY·ZY·2023·D100-6977-250").

    Only a run with exactly the 档号's letters and digits, in order and nothing else but separators
    between them, is replaced, so another dossier's number on the page is never touched. Every page
    is filed under its 档号 before it is read (capture is 档号-first), so the number is known."""
    groups = re.findall(r"[0-9A-Za-z]+", number or "")
    if len(groups) < 2 or not text:
        return text
    pattern = re.compile(
        r"(?<![0-9A-Za-z])" + _NUMBER_GAP.join(re.escape(g) for g in groups) + r"(?![0-9A-Za-z])", re.IGNORECASE
    )
    return pattern.sub(lambda m: number, text)


def settings_help() -> str:
    """What each engine costs, for the settings dialog and ``scanstation settings``."""
    return "\n".join(f"{name}: {tr(*COSTS[name])}" for name in ENGINES)


__all__ = [
    "TESSERACT",
    "RAPIDOCR",
    "AUTO",
    "ENGINES",
    "CHOICES",
    "SETTING_KEY",
    "COSTS",
    "EngineResult",
    "EngineUnavailable",
    "auto_engine",
    "resolve_engine",
    "workers_for",
    "check_engine",
    "read_page",
    "ocr_page_job",
    "layout_from_tsv",
    "layout_from_rapidocr",
    "text_from_layout",
    "settings_help",
]
