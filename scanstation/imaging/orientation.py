"""Page orientation (0/90/180/270) through tesseract's orientation and script detection (OSD).

tesseract is called through ``scanstation.ocr.tesseract.run`` only: one place for the timeout, the single-thread
setting (``OMP_THREAD_LIMIT=1``: one process per core is 4-6x faster than OpenMP threads
fighting over two cores) and the error messages.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass

from PIL import Image

from scanstation.errors import CheckFailed
from scanstation.storage import temp_files

OSD_TIMEOUT_S = 30.0
OSD_MIN_CONFIDENCE = 1.5  # tesseract's orientation confidence below this is a guess


def run_tesseract(args: list[str], timeout: float = OSD_TIMEOUT_S) -> subprocess.CompletedProcess:
    """OSD goes through the station's one tesseract wrapper (timeout, OMP_THREAD_LIMIT=1, logged stderr)."""
    from scanstation.ocr import tesseract

    try:
        return tesseract.run(args, timeout_s=timeout)
    except tesseract.OcrError as exc:
        raise CheckFailed(exc.en, exc.zh) from exc


@dataclass
class Orientation:
    rotate: int  # degrees counter-clockwise to turn the page upright (0, 90, 180, 270)
    confidence: float
    script: str | None = None

    def as_log(self) -> dict:
        return {
            "step": "orientation",
            "rotate": self.rotate,
            "confidence": round(self.confidence, 2),
            "script": self.script,
        }


def detect_orientation(image: Image.Image, dpi: int, timeout: float = OSD_TIMEOUT_S) -> Orientation:
    """Ask tesseract OSD how the page must be turned. The page goes to tesseract as a temporary
    grey PNG at about 150 dpi (enough for OSD, a quarter of the pixels)."""
    img = image.convert("L") if image.mode != "L" else image
    factor = max(1, int(round(dpi / 150)))
    if factor > 1:
        img = img.reduce(factor)
    fd, path = temp_files.mkstemp(prefix="osd-", suffix=".png")  # under the home, swept after a crash
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
    return Orientation(
        (360 - int(rotate.group(1))) % 360, float(conf.group(1)) if conf else 0.0, script.group(1) if script else None
    )
