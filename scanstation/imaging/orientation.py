"""Page orientation (0/90/180/270) through tesseract's orientation and script detection (OSD).

tesseract is called through ``run_tesseract`` only: one place for the timeout, the single-thread
setting (``OMP_THREAD_LIMIT=1``: one process per core is 4-6x faster than OpenMP threads
fighting over two cores) and the error messages.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass

from PIL import Image

from scanstation.errors import CheckFailed, NotFound

OSD_TIMEOUT_S = 30.0
OSD_MIN_CONFIDENCE = 1.5  # tesseract's orientation confidence below this is a guess


def tesseract_path() -> str:
    path = shutil.which("tesseract")
    if not path:
        raise NotFound(
            "tesseract is not installed. Install tesseract-ocr, tesseract-ocr-osd and tesseract-ocr-chi-sim.",
            "未安装 tesseract。请安装 tesseract-ocr、tesseract-ocr-osd 和 tesseract-ocr-chi-sim。",
        )
    return path


def run_tesseract(args: list[str], timeout: float = OSD_TIMEOUT_S) -> subprocess.CompletedProcess:
    """Run tesseract with ``args`` (without the program name); raises on timeout or failure."""
    env = dict(os.environ, OMP_THREAD_LIMIT="1")
    try:
        proc = subprocess.run(
            [tesseract_path(), *args], capture_output=True, text=True, timeout=timeout, env=env
        )
    except subprocess.TimeoutExpired as exc:
        raise CheckFailed(
            "tesseract did not finish within {s} s. The page is kept; try again later.",
            "tesseract 在 {s} 秒内未完成。页面已保存，请稍后重试。",
            s=int(timeout),
        ) from exc
    if proc.returncode != 0:
        raise CheckFailed(
            "tesseract failed: {error}",
            "tesseract 运行失败：{error}",
            error=(proc.stderr or "").strip()[-300:] or f"exit {proc.returncode}",
        )
    return proc


@dataclass
class Orientation:
    rotate: int  # degrees counter-clockwise to turn the page upright (0, 90, 180, 270)
    confidence: float
    script: str | None = None

    def as_log(self) -> dict:
        return {"step": "orientation", "rotate": self.rotate, "confidence": round(self.confidence, 2),
                "script": self.script}


def detect_orientation(image: Image.Image, dpi: int, timeout: float = OSD_TIMEOUT_S) -> Orientation:
    """Ask tesseract OSD how the page must be turned. The page goes to tesseract as a temporary
    grey PNG at about 150 dpi (enough for OSD, a quarter of the pixels)."""
    img = image.convert("L") if image.mode != "L" else image
    factor = max(1, int(round(dpi / 150)))
    if factor > 1:
        img = img.reduce(factor)
    fd, path = tempfile.mkstemp(suffix=".png", prefix="osd-")
    os.close(fd)
    try:
        img.save(path, "PNG", dpi=(dpi // factor, dpi // factor), compress_level=1)
        proc = run_tesseract([path, "-", "--psm", "0", "-l", "osd", "--dpi", str(dpi // factor)], timeout)
    except CheckFailed as exc:
        if "Too few characters" in exc.en:
            return Orientation(0, 0.0)
        raise
    finally:
        try:
            os.unlink(path)
        except OSError:
            pass
    return parse_osd(proc.stdout + "\n" + proc.stderr)


def parse_osd(text: str) -> Orientation:
    rotate = re.search(r"Rotate:\s*(\d+)", text)
    conf = re.search(r"Orientation confidence:\s*([\d.]+)", text)
    script = re.search(r"Script:\s*(\S+)", text)
    if not rotate:
        return Orientation(0, 0.0)
    # tesseract's "Rotate" is clockwise; we keep angles counter-clockwise throughout
    return Orientation((360 - int(rotate.group(1))) % 360, float(conf.group(1)) if conf else 0.0,
                       script.group(1) if script else None)
