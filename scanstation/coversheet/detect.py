"""Find a cover sheet on a scanned page, fast enough for a production feeder (zxing-cpp).

Every page of a split run passes through ``find_sheet`` on the way from the device to the store, so
it must cost little: the page is read as a greyscale picture at about 75 dpi (a strided view of the
spooled PNM, or a DCT-scaled JPEG draft), and

1. the cheap pre-check: zxing-cpp looks for QR codes only, on that small picture. A page without any
   QR symbol is an ordinary page (almost every page ends here: about 1 ms of decoding).
2. A QR that decodes to a valid 档号 makes the page a cover sheet.
3. A QR symbol that is there but does not decode (torn, smudged, badly printed) — or a page where the
   pre-check saw nothing but the option for labelled first pages is on — is looked at again at about
   150 dpi for QR and Code 128 (the handheld-gun code, "." for "·"). Still nothing readable after a
   QR symbol was seen: the page *looks like* a cover sheet but cannot be read, and the run stops.

A Code 128 with a 档号 on a page that has no QR is a department's own label on the first page of a
file (optional, ``labels=True``): that page opens the dossier *and* is stored as its first page.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from scanstation.coversheet.sheet import from_scanned

PRECHECK_DPI = 75
SECOND_LOOK_DPI = 150

# kinds of result
PAGE = "page"  # an ordinary page
SHEET = "sheet"  # a cover sheet: opens ``number``, not stored
LABEL = "label"  # a page with a 档号 label (Code 128 only): opens ``number`` and is stored
UNREADABLE = "unreadable"  # looks like a cover sheet, cannot be read


@dataclass(frozen=True)
class Finding:
    kind: str
    number: str = ""
    detail: str = ""
    cpu_ms: float = 0.0

    @property
    def opens_dossier(self) -> bool:
        return self.kind in (SHEET, LABEL)


def _pnm_header(f) -> tuple[bytes, int, int, int, int]:
    """(magic, width, height, maxval, offset of the pixel data) of a binary PNM file."""
    head = f.read(512)
    fields: list[bytes] = []
    pos = 0
    while len(fields) < (3 if head[:2] == b"P4" else 4):
        while pos < len(head) and head[pos : pos + 1].isspace():
            pos += 1
        if head[pos : pos + 1] == b"#":
            pos = head.index(b"\n", pos) + 1
            continue
        start = pos
        while pos < len(head) and not head[pos : pos + 1].isspace():
            pos += 1
        fields.append(head[start:pos])
    pos += 1  # the single whitespace after the last header field
    magic, width, height = fields[0], int(fields[1]), int(fields[2])
    maxval = int(fields[3]) if magic != b"P4" else 1
    return magic, width, height, maxval, pos


def load_grey(path: str | Path, dpi: int, target_dpi: int = PRECHECK_DPI) -> np.ndarray:
    """The page as a greyscale uint8 array at about ``target_dpi``, reading as little as possible."""
    path = Path(path)
    step = max(1, round((dpi or 300) / target_dpi))
    with open(path, "rb") as f:
        magic = f.read(2)
    if magic in (b"P5", b"P6", b"P4"):
        with open(path, "rb") as f:
            magic, width, height, maxval, offset = _pnm_header(f)
        if magic == b"P4":
            row_bytes = (width + 7) // 8
            packed = np.memmap(path, dtype=np.uint8, mode="r", offset=offset, shape=(height, row_bytes))
            bits = np.unpackbits(np.asarray(packed[::step]), axis=1)[:, :width:step]
            return np.ascontiguousarray(((1 - bits) * 255).astype(np.uint8))
        if maxval < 256:
            channels = 3 if magic == b"P6" else 1
            data = np.memmap(path, dtype=np.uint8, mode="r", offset=offset, shape=(height, width, channels))
            return np.ascontiguousarray(data[::step, ::step, 1 if channels == 3 else 0])
    from PIL import Image

    with Image.open(path) as image:
        full_width = image.width
        if image.format == "JPEG":  # let the decoder scale by 1/2, 1/4 or 1/8 while it decodes
            image.draft("L", (max(1, image.width // step), max(1, image.height // step)))
        grey = np.asarray(image.convert("L"))
    extra = max(1, round(step * grey.shape[1] / full_width))  # what the draft did not reduce yet
    return np.ascontiguousarray(grey[::extra, ::extra])


def _read(image: np.ndarray, formats, *, errors: bool, rotate: bool = False):
    import zxingcpp

    return zxingcpp.read_barcodes(
        image, formats=formats, try_rotate=rotate, try_downscale=False, try_invert=False, return_errors=errors
    )


def _dossier_numbers(barcodes, is_number) -> list[str]:
    found = []
    for b in barcodes:
        if not b.valid or not b.text:
            continue
        text = from_scanned(b.text) if b.format.name.startswith("Code128") or "." in b.text else b.text
        if is_number(text) and text not in found:
            found.append(text)
    return found


def find_sheet(path: str | Path, dpi: int, is_number, *, labels: bool = False) -> Finding:
    """What the page at ``path`` is. ``is_number(text)`` says whether a decoded text is a valid 档号."""
    import zxingcpp

    started = time.thread_time()
    qr = zxingcpp.BarcodeFormat.QRCode
    c128 = zxingcpp.BarcodeFormat.Code128

    def done(kind, number="", detail=""):
        return Finding(kind, number, detail, (time.thread_time() - started) * 1000.0)

    small = load_grey(path, dpi, PRECHECK_DPI)
    first = _read(small, qr, errors=True)
    numbers = _dossier_numbers(first, is_number)
    if len(numbers) == 1:
        return done(SHEET, numbers[0])
    if len(numbers) > 1:
        return done(UNREADABLE, detail="different 档号 on one sheet: " + ", ".join(numbers))
    seen_symbol = any(not b.valid for b in first)
    if not seen_symbol and not labels:
        return done(PAGE)
    larger = load_grey(path, dpi, SECOND_LOOK_DPI)
    second = _read(larger, [qr, c128], errors=False, rotate=True)
    qr_numbers = _dossier_numbers([b for b in second if b.format == qr], is_number)
    code_numbers = _dossier_numbers([b for b in second if b.format != qr], is_number)
    both = list(dict.fromkeys(qr_numbers + code_numbers))
    if len(both) > 1:
        return done(UNREADABLE, detail="different 档号 on one sheet: " + ", ".join(both))
    if seen_symbol:
        if both:
            return done(SHEET, both[0])
        return done(UNREADABLE, detail="a QR code was found but could not be decoded")
    if code_numbers and labels:
        return done(LABEL, code_numbers[0])
    return done(PAGE)
