"""The application icon for installers, rendered from its one source, resources/icons/app.svg.

PNG sizes are drawn by the project's own SVG renderer (``scanstation.ui.build_icons``, QtSvg), the
Windows .ico is assembled from them with Pillow. Nothing here is edited by hand.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
APP_SVG = ROOT / "resources" / "icons" / "app.svg"


def render_pngs(out_dir: Path, source: Path = APP_SVG) -> dict[int, Path]:
    """Render ``source`` into ``out_dir``; returns {size: png path} for every size build_icons makes."""
    from scanstation.ui import build_icons

    out_dir.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        shutil.copyfile(source, work / "app.svg")
        build_icons.build(work)
        sizes = {}
        for png in sorted((work / "png").glob("app-*.png")):
            size = int(png.stem.rsplit("-", 1)[1])
            sizes[size] = Path(shutil.copyfile(png, out_dir / png.name))
    if not sizes:
        raise SystemExit(f"no PNG rendered from {source}")
    return sizes


def write_ico(target: Path, pngs: dict[int, Path]) -> Path:
    """A multi-size .ico (16-256 px) made from the rendered PNGs."""
    from PIL import Image

    sizes = sorted(s for s in pngs if s <= 256)
    images = [Image.open(pngs[s]).convert("RGBA") for s in sizes]
    target.parent.mkdir(parents=True, exist_ok=True)
    # The small sizes are rendered, not scaled down, so they stay sharp.
    images[-1].save(target, format="ICO", sizes=[(s, s) for s in sizes], append_images=images[:-1])
    return target
