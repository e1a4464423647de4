"""The one CJK font finder: PDF documents (reportlab), watermarks and demo pages (Pillow) use it.

Order: ``SCANSTATION_CJK_FONT``, the places the font packages of Debian / UOS / Kylin / Fedora and
Windows install to, then fontconfig (``fc-match``, through ``scanstation.storage.external.run``). PDF
documents need TrueType outlines: reportlab embeds WenQuanYi Zen Hei (``subfontIndex=0``) but
refuses the CFF-based Noto CJK fonts, and the built-in ``STSong-Light`` is not embedded and renders
badly on other machines; Pillow draws either kind.
"""

from __future__ import annotations

import functools
import os
from collections.abc import Iterator
from pathlib import Path

from scanstation.errors import CheckFailed, NotFound, ProgramError
from scanstation.storage import external

FONT_NAME = "ScanStationCJK"  # the name the font is registered under in reportlab
KNOWN_FONT_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",  # Debian / UOS / Kylin fonts-wqy-zenhei
    "/usr/share/fonts/wqy-zenhei/wqy-zenhei.ttc",  # Fedora / openEuler
    "/usr/share/fonts/truetype/wqy-zenhei/wqy-zenhei.ttc",
    "/usr/share/fonts/wenquanyi/wqy-zenhei/wqy-zenhei.ttc",  # Arch
    "/usr/share/fonts/truetype/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",  # fonts-noto-cjk (CFF: Pillow only)
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/google-noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "C:/Windows/Fonts/simhei.ttf",  # Windows: SimHei (TrueType outlines)
    "C:/Windows/Fonts/msyh.ttc",
    "C:/Windows/Fonts/simsun.ttc",
)
FONTCONFIG_NAMES = (
    "WenQuanYi Zen Hei",
    "SimHei",
    "SimSun",
    "AR PL UMing CN",
    "Noto Sans CJK SC",
    "Source Han Sans SC",
    ":lang=zh-cn",
)
INSTALL_HINT = "sudo apt-get install fonts-wqy-zenhei"
_registered: tuple[str, str] | None = None


def _fontconfig(name: str) -> str:
    try:
        return external.run("fc-match", ["-f", "%{file}", name], timeout=10).stdout.strip()
    except ProgramError:
        return ""


def candidates() -> Iterator[str]:
    """Font files that may hold Chinese glyphs, best first (existing files only, each once)."""
    seen = set()
    env = os.environ.get("SCANSTATION_CJK_FONT")
    fixed = ([env] if env else []) + list(KNOWN_FONT_PATHS)
    for path in fixed:
        if path not in seen and os.path.isfile(path):
            seen.add(path)
            yield path
    if external.which("fc-match"):
        for name in FONTCONFIG_NAMES:
            path = _fontconfig(name)
            if path and path not in seen and path.lower().endswith((".ttf", ".ttc", ".otf", ".otc")):
                if os.path.isfile(path):
                    seen.add(path)
                    yield path


def has_cjk(path: str) -> bool:
    """Does the font draw 档 (and not the box of a missing glyph)?"""
    from PIL import ImageFont

    try:
        font = ImageFont.truetype(path, 20, index=0)
        return font.getbbox("档") != font.getbbox("\uffff")
    except OSError:
        return False


@functools.lru_cache(maxsize=1)
def find_cjk_font() -> str:
    """Path of a font with Chinese glyphs that Pillow can draw with (any outline format)."""
    for path in candidates():
        if has_cjk(path):
            return path
    raise NotFound(
        "No Chinese font found. Install fonts-wqy-zenhei or fonts-noto-cjk, "
        "or set SCANSTATION_CJK_FONT to a font file.",
        "未找到中文字体。请安装 fonts-wqy-zenhei 或 fonts-noto-cjk，或用 SCANSTATION_CJK_FONT 指定字体文件。",
    )


def register_cjk_font() -> str:
    """Register the embedded CJK font in reportlab once; returns its reportlab name. CheckFailed if none exists."""
    global _registered
    if _registered:
        return _registered[0]
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.ttfonts import TTFError, TTFont

    tried = []
    for path in candidates():
        tried.append(path)
        try:
            pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=0))
        except (TTFError, OSError, ValueError):
            continue  # e.g. CFF outlines (Noto CJK): reportlab cannot embed them
        _registered = (FONT_NAME, path)
        return FONT_NAME
    raise CheckFailed(
        "No TrueType Chinese font found for PDF reports (tried: {tried}). Install fonts-wqy-zenhei "
        "(Debian/UOS/Kylin: apt install fonts-wqy-zenhei) or set SCANSTATION_CJK_FONT to a .ttf/.ttc file.",
        "未找到可嵌入 PDF 报表的 TrueType 中文字体（已尝试：{tried}）。请安装 fonts-wqy-zenhei"
        "（Debian/统信/麒麟：apt install fonts-wqy-zenhei），或将 SCANSTATION_CJK_FONT 设为 .ttf/.ttc 字体文件。",
        tried=", ".join(tried) or "-",
    )


def pdf_font_file() -> str:
    """Path of the font embedded in PDF documents (also used by Pillow for watermarks)."""
    register_cjk_font()
    assert _registered is not None
    return _registered[1]


def report() -> list[dict]:
    """Every candidate font with whether it draws Chinese and whether PDF documents can embed it (doctor)."""
    from reportlab.pdfbase.ttfonts import TTFError, TTFontFile

    out = []
    for path in candidates():
        try:
            TTFontFile(path, subfontIndex=0)
            embeddable = True
        except (TTFError, OSError, ValueError):
            embeddable = False
        out.append({"path": path, "name": Path(path).name, "cjk": has_cjk(path), "pdf": embeddable})
    return out


__all__ = ["FONT_NAME", "candidates", "find_cjk_font", "has_cjk", "pdf_font_file", "register_cjk_font", "report"]
