"""The visible watermark of lent and watermarked copies: diagonal repeated text plus a banner along
the bottom edge, drawn into the page image (no transparency left in the result)."""

from __future__ import annotations


def watermark(image, lines: list[str]):
    """The page with a visible watermark: diagonal repeated text plus a banner along the bottom edge."""
    from PIL import Image, ImageDraw, ImageFont

    from scanstation.fonts import pdf_font_file as cjk_font_file

    base = image.convert("RGB")
    width, height = base.size
    size = max(12, min(width, height) // 28)
    font = ImageFont.truetype(cjk_font_file(), size, index=0)
    text = "   ".join(lines)
    # Diagonal tiles, drawn on a square canvas that covers the page after rotation.
    side = int((width**2 + height**2) ** 0.5) + size * 2
    tiles = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(tiles)
    step_y = size * 5
    text_w = max(1, int(draw.textlength(text, font=font)) + size * 3)
    for row, y in enumerate(range(0, side, step_y)):
        for x in range(-(row % 2) * text_w // 2, side, text_w):
            draw.text((x, y), text, font=font, fill=(200, 30, 30, 70))
    tiles = tiles.rotate(30, resample=Image.BICUBIC)
    left, top = (side - width) // 2, (side - height) // 2
    overlay = tiles.crop((left, top, left + width, top + height))
    # Bottom banner: readable even where the page is dark.
    banner_h = int(size * 1.8)
    band = ImageDraw.Draw(overlay)
    band.rectangle((0, height - banner_h, width, height), fill=(255, 255, 255, 190))
    band.text((size // 2, height - banner_h + size * 0.35), text, font=font, fill=(180, 0, 0, 255))
    return Image.alpha_composite(base.convert("RGBA"), overlay).convert("RGB")


__all__ = ["watermark"]
