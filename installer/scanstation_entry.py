"""Entry point of the frozen program (PyInstaller); the same as the ``scanstation`` console script.

Two things only a frozen build needs happen here, before anything else is imported:

* ``multiprocessing.freeze_support()``: the image pool, the OCR queue and the SANE worker start
  child processes with "spawn"; in a frozen build each child is this executable again, and
  freeze_support() turns it into the worker instead of a second station.
* a tesseract shipped next to the program (the Windows installer puts it in ``tesseract\\`` beside
  ``scanstation.exe``) is used unless the user chose another one with ``SCANSTATION_TESSERACT``.
  On Linux nothing is shipped: the system's tesseract-ocr package is found on PATH.
"""

from __future__ import annotations

import multiprocessing
import os
import sys
from pathlib import Path


def use_bundled_tesseract(program_dir: Path) -> None:
    folder = program_dir / "tesseract"
    exe = folder / ("tesseract.exe" if os.name == "nt" else "tesseract")
    if not exe.is_file():
        return
    os.environ.setdefault("SCANSTATION_TESSERACT", str(exe))
    # Some steps look tesseract up on PATH (orientation detection), so put the bundled one first.
    os.environ["PATH"] = str(folder) + os.pathsep + os.environ.get("PATH", "")
    tessdata = folder / "tessdata"
    if tessdata.is_dir():
        os.environ.setdefault("TESSDATA_PREFIX", str(tessdata))


def main() -> int:
    multiprocessing.freeze_support()
    if getattr(sys, "frozen", False):
        use_bundled_tesseract(Path(sys.executable).resolve().parent)
    from scanstation.cli.main import main as cli_main
    return cli_main()


if __name__ == "__main__":
    raise SystemExit(main())
