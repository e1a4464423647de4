"""Master image encoding (R03, R04): JPEG, TIFF (LZW; CCITT Group 4 for bitonal), JPEG 2000.

The resolution is written into the header with X = Y and checked by reading the encoded bytes
back. Pillow writes no resolution box into JPEG 2000 files, so we add the standard capture
resolution box (``res `` / ``resc``, ISO/IEC 15444-1 Annex I) to the JP2 header ourselves.
"""

from __future__ import annotations

import io
import struct

from PIL import Image, features

from scanstation.errors import CheckFailed, InvalidInput

FORMATS = {
    # name: (Pillow format, file extension, MIME type)
    "jpeg": ("JPEG", "jpg", "image/jpeg"),
    "tiff": ("TIFF", "tif", "image/tiff"),
    "jp2": ("JPEG2000", "jp2", "image/jp2"),
}


def available_formats() -> list[str]:
    out = ["jpeg", "tiff"]
    if features.check("jpg_2000"):
        out.append("jp2")
    return out


def extension(fmt: str) -> str:
    return FORMATS[fmt][1]


def mime_type(fmt: str) -> str:
    return FORMATS[fmt][2]


def check_format(fmt: str, mode: str) -> None:
    """Refuse combinations a master cannot have."""
    if fmt not in FORMATS:
        raise InvalidInput(
            "Unknown image format {fmt}. Use jpeg, tiff or jp2.",
            "未知的图像格式 {fmt}。请使用 jpeg、tiff 或 jp2。",
            fmt=fmt,
        )
    if fmt == "jp2" and not features.check("jpg_2000"):
        raise InvalidInput(
            "This installation cannot write JPEG 2000. Choose JPEG or TIFF in the scan profile.",
            "本机无法写入 JPEG 2000。请在扫描配置中选择 JPEG 或 TIFF。",
        )
    if mode == "lineart" and fmt != "tiff":
        raise InvalidInput(
            "Bitonal (line art) pages are saved as TIFF Group 4. Choose TIFF in the scan profile.",
            "黑白二值页面须保存为 TIFF（G4 压缩）。请在扫描配置中选择 TIFF。",
        )


def encode_image(image: Image.Image, fmt: str, dpi: int, jpeg_quality: int = 85) -> tuple[bytes, dict]:
    """Encode a master; returns the bytes and a log entry describing compression and quality."""
    buf = io.BytesIO()
    if fmt == "jpeg":
        if image.mode not in ("L", "RGB"):
            raise InvalidInput("JPEG needs a grey or colour page.", "JPEG 只能保存灰度或彩色页面。")
        image.save(buf, "JPEG", quality=int(jpeg_quality), dpi=(dpi, dpi), optimize=False)
        entry = {"compression": "jpeg", "quality": int(jpeg_quality)}
    elif fmt == "tiff":
        compression = "group4" if image.mode == "1" else "tiff_lzw"
        image.save(buf, "TIFF", compression=compression, dpi=(dpi, dpi))
        entry = {"compression": "ccitt_g4" if image.mode == "1" else "lzw"}
    elif fmt == "jp2":
        if image.mode not in ("L", "RGB"):
            raise InvalidInput("JPEG 2000 needs a grey or colour page.", "JPEG 2000 只能保存灰度或彩色页面。")
        image.save(buf, "JPEG2000", irreversible=False, no_jp2=False)
        buf = io.BytesIO(add_jp2_resolution(buf.getvalue(), dpi))
        entry = {"compression": "jpeg2000_lossless"}
    else:
        check_format(fmt, "gray")
        raise AssertionError("unreachable")
    data = buf.getvalue()
    verify_header(data, fmt, dpi, image.size, image.mode)
    entry.update(step="encode", format=fmt, bytes=len(data), dpi=[dpi, dpi])
    return data, entry


def verify_header(data: bytes, fmt: str, dpi: int, size: tuple[int, int], mode: str) -> None:
    """Read the header back: format, size, mode and resolution X = Y = dpi (R03)."""
    try:
        with Image.open(io.BytesIO(data)) as im:
            found_fmt, found_size, found_mode = im.format, im.size, im.mode
            found_dpi = im.info.get("dpi")
    except Exception as exc:  # noqa: BLE001 - any decoder failure means the file is bad
        raise CheckFailed(
            "The encoded page cannot be read back ({error}). Scan the page again.",
            "编码后的页面无法读取（{error}）。请重新扫描该页。",
            error=str(exc),
        ) from exc
    ok = (
        found_fmt == FORMATS[fmt][0]
        and found_size == size
        and found_mode == mode
        and found_dpi is not None
        and round(float(found_dpi[0])) == dpi
        and round(float(found_dpi[1])) == dpi
    )
    if not ok:
        raise CheckFailed(
            "The encoded page header is wrong (format {f}, size {s}, mode {m}, dpi {d}). Scan the page again.",
            "编码后的页面文件头有误（格式 {f}，尺寸 {s}，模式 {m}，分辨率 {d}）。请重新扫描该页。",
            f=found_fmt,
            s=found_size,
            m=found_mode,
            d=found_dpi,
        )


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def add_jp2_resolution(data: bytes, dpi: int) -> bytes:
    """Insert a capture-resolution box into the JP2 header box. Resolution is in pixels per metre
    as N/D * 10^E: dpi / 0.0254 = dpi * 50 / 127 * 10^2 exactly."""
    num, den, exp = dpi * 50, 127, 2
    if num > 0xFFFF:
        raise InvalidInput(
            "Resolution {dpi} dpi is too high for JPEG 2000.", "分辨率 {dpi} dpi 超出 JPEG 2000 的范围。", dpi=dpi
        )
    resc = _box(b"resc", struct.pack(">HHHHbb", num, den, num, den, exp, exp))
    res = _box(b"res ", resc)
    pos = 0
    out = bytearray()
    while pos + 8 <= len(data):
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if length == 1:
            length = struct.unpack(">Q", data[pos + 8 : pos + 16])[0]
            header = 16
        elif length == 0:
            length = len(data) - pos
        if kind == b"jp2h":
            body = data[pos + header : pos + length] + res
            out += _box(b"jp2h", body)
            out += data[pos + length :]
            return bytes(out)
        out += data[pos : pos + length]
        pos += length
    raise CheckFailed("The JPEG 2000 file has no header box.", "JPEG 2000 文件缺少文件头。")
