"""tesseract: the station's post-processing of its TSV output, the start-up check, and ``run()``.

Pages are read by ``scanstation.ocr.engines`` through pytesseract (files) or, for pages held only
in memory, through ``run()`` on stdin/stdout. ``run()`` is also the one wrapper for the other uses of
the program (orientation detection): a timeout that kills the child, ``OMP_THREAD_LIMIT=1`` in its
environment (OpenMP threads fight each other when one process runs per core: 4-6x slower on
2 cores), stderr logged.

One process per page: the TSV output gives the words with their confidences and boxes; the
text is rebuilt from the TSV (lines and paragraphs kept), and the mean word confidence comes
from the same output. Tesseract puts spaces between Chinese characters; they are removed when
both neighbours are CJK so that stored text reads as written and searches across them work.

Nothing is ever downloaded: the language data comes from the operating system's packages and
``check_tesseract()`` tells at start-up how to install what is missing. The program is started
through ``scanstation.storage.external.run`` like every other external program.
"""

from __future__ import annotations

import logging
import re
import subprocess
from pathlib import Path

from scanstation.errors import ProgramError
from scanstation.i18n import tr
from scanstation.storage import external

log = logging.getLogger("scanstation.ocr")

DEFAULT_LANG = "chi_sim+eng"
# 3 = automatic page segmentation without orientation detection: right for whole document pages
# (forms, letters, tables); orientation is a separate, optional pipeline step.
DEFAULT_PSM = 3
DEFAULT_TIMEOUT_S = 120.0
INSTALL_HINT = "apt-get install tesseract-ocr tesseract-ocr-chi-sim tesseract-ocr-osd"
# Debian package that carries each language's traineddata.
LANG_PACKAGES = {
    "chi_sim": "tesseract-ocr-chi-sim",
    "eng": "tesseract-ocr-eng",
    "osd": "tesseract-ocr-osd",
    "chi_tra": "tesseract-ocr-chi-tra",
}


class OcrError(ProgramError):
    """Tesseract could not read a page (missing program, bad image, crash)."""


class OcrTimeout(OcrError):
    """Tesseract took longer than its time limit and was stopped."""


def tesseract_program() -> str | None:
    """Path of the tesseract executable: ``SCANSTATION_TESSERACT`` or the one on PATH."""
    return external.which("tesseract")


def _missing_program() -> OcrError:
    return OcrError(
        "The OCR program tesseract is not installed. Install it with: {hint}",
        "未安装文字识别程序 tesseract。请安装：{hint}",
        hint=INSTALL_HINT,
    )


def run(
    args: list[str], timeout_s: float = DEFAULT_TIMEOUT_S, input: bytes | None = None
) -> subprocess.CompletedProcess:
    """Run tesseract with ``args`` (through ``scanstation.storage.external.run``); return the finished process.

    Raises OcrTimeout when the time limit passes (the child is killed) and OcrError when the
    program is missing or exits with an error; stderr is logged in every case.
    """
    if not tesseract_program():
        raise _missing_program()
    try:
        return external.run("tesseract", args, timeout=timeout_s, input=input, env={"OMP_THREAD_LIMIT": "1"})
    except external.ProgramTimeout as exc:
        raise OcrTimeout(
            "OCR stopped after {s} s (time limit). The page will be retried; "
            "if it keeps failing, check the image or raise the OCR time limit.",
            "文字识别超过时限 {s} 秒，已停止。该页稍后会重试；如仍失败，请检查图像或调高识别时限。",
            s=f"{timeout_s:g}",
        ) from exc
    except external.ProgramMissing as exc:
        raise _missing_program() from exc
    except external.ProgramFailed as exc:
        if exc.returncode < 0:  # it could not start
            raise OcrError(exc.en, exc.zh) from exc
        raise OcrError(
            "tesseract failed (exit {code}): {detail}",
            "tesseract 识别失败（退出码 {code}）：{detail}",
            code=exc.returncode,
            detail=_last_lines(exc.stderr) or "-",
        ) from exc


# Leading bytes of the image formats a page may have (R04 masters, plus PNG/BMP/PNM imports).
# tesseract reads any other file as a LIST of image paths, so a damaged page must not reach it.
_IMAGE_MAGIC = (
    b"\xff\xd8\xff",
    b"II*\x00",
    b"MM\x00*",
    b"\x89PNG\r\n\x1a\n",
    b"\x00\x00\x00\x0cjP  ",
    b"\xffO\xffQ",
    b"BM",
    b"P4",
    b"P5",
    b"P6",
    b"GIF8",
    b"RIFF",
)


def _require_image(path: Path) -> None:
    try:
        with open(path, "rb") as fh:
            head = fh.read(16)
    except OSError as exc:
        raise OcrError(
            "Cannot read the page image {path}: {error}.",
            "无法读取页面图像 {path}：{error}。",
            path=str(path),
            error=exc.strerror or str(exc),
        ) from exc
    if not head.startswith(_IMAGE_MAGIC):
        raise OcrError(
            "{path} is not an image file (damaged or wrong format). Rescan the page.",
            "{path} 不是图像文件（已损坏或格式错误）。请重新扫描该页。",
            path=str(path),
        )


# -- TSV -> text ---------------------------------------------------------------------------
_CJK = r"\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef"
_CJK_SPACE = re.compile(rf"(?<=[{_CJK}])[ \t]+(?=[{_CJK}])")


def tidy_cjk_spaces(text: str) -> str:
    """Remove the spaces tesseract puts between two CJK characters (and CJK punctuation)."""
    return _CJK_SPACE.sub("", text)


def text_from_tsv(tsv: str) -> tuple[str, float | None, int]:
    """Rebuild page text from tesseract's TSV: words -> lines -> paragraphs; mean word confidence."""
    paragraphs: list[list[str]] = []
    lines: dict[tuple, list[str]] = {}
    order: list[tuple] = []
    confidences: list[float] = []
    for row in tsv.splitlines()[1:]:
        cols = row.split("\t")
        if len(cols) < 12 or cols[0] != "5":
            continue
        word = cols[11].strip()
        if not word:
            continue
        key = (cols[1], cols[2], cols[3], cols[4])  # page, block, paragraph, line
        if key not in lines:
            lines[key] = []
            order.append(key)
        lines[key].append(word)
        try:
            conf = float(cols[10])
        except ValueError:
            continue
        if conf >= 0:
            confidences.append(conf)
    current_par = None
    for key in order:
        par = key[:3]
        if par != current_par:
            paragraphs.append([])
            current_par = par
        paragraphs[-1].append(tidy_cjk_spaces(" ".join(lines[key])))
    text = "\n\n".join("\n".join(p) for p in paragraphs)
    confidence = round(sum(confidences) / len(confidences), 2) if confidences else None
    return text, confidence, sum(len(v) for v in lines.values())


# -- start-up check ------------------------------------------------------------------------
def check_tesseract(lang: str = DEFAULT_LANG, timeout_s: float = 20.0) -> list[str]:
    """Problems that stop OCR, each saying how to fix it; an empty list means ready."""
    if not tesseract_program():
        return [
            tr(
                "The OCR program tesseract is not installed. Install it with: {hint}",
                "未安装文字识别程序 tesseract。请安装：{hint}",
                hint=INSTALL_HINT,
            )
        ]
    try:
        proc = run(["--list-langs"], timeout_s=timeout_s)
    except OcrError as exc:
        return [exc.message]
    # tesseract 4 prints the list on stderr, 5 on stdout
    listed = proc.stdout + "\n" + _decode(proc.stderr)
    available = {line.strip() for line in listed.splitlines()[1:] if line.strip() and " " not in line.strip()}
    problems = []
    for code in [c for c in lang.split("+") if c]:
        if code not in available:
            package = LANG_PACKAGES.get(code, "tesseract-ocr-" + code.replace("_", "-"))
            problems.append(
                tr(
                    "OCR language '{lang}' is not installed. Install it with: apt-get install {package} "
                    "(full set: {hint})",
                    "未安装文字识别语言“{lang}”。请安装：apt-get install {package}（完整组件：{hint}）",
                    lang=code,
                    package=package,
                    hint=INSTALL_HINT,
                )
            )
    return problems


def _decode(data) -> str:
    if data is None:
        return ""
    if isinstance(data, str):
        return data
    return data.decode("utf-8", errors="replace")


def _last_lines(text: str, n: int = 3) -> str:
    return " / ".join(line.strip() for line in text.splitlines()[-n:] if line.strip())[:500]
