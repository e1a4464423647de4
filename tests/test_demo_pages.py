"""Demo pages: what is drawn matches the truth the tests and the demo scanner rely on."""

from __future__ import annotations

import dataclasses
import os
import statistics
import time

import numpy as np

from scanstation.devices.demo_pages import (
    BORDER_GRAY,
    PageSpec,
    demo_plan,
    find_cjk_font,
    render_page,
    render_pixels,
)

FIELDS = {
    "档号": "X001-ZY·DJ·2024·D100-0001-001",
    "题名": "张伟参保登记材料",
    "姓名": "张伟",
    "单位名称": "杭州恒达机械制造有限公司",
    "日期": "2024-06-01",
}


def test_cjk_font_found_and_has_chinese_glyphs():
    path = find_cjk_font()
    assert os.path.isfile(path)
    from PIL import ImageFont

    font = ImageFont.truetype(path, 40)
    assert font.getbbox("档")[2] > 20  # a real glyph, not an empty box


def test_demo_plan_builds_form_pages_from_catalog_fields():
    specs = demo_plan(FIELDS, pages=5, seed=1)
    assert [s.seq for s in specs] == [1, 2, 3, 4, 5]
    text = "\n".join("\n".join(s.lines) for s in specs)
    assert "市社会保险事业管理中心" in text
    assert FIELDS["档号"] in text and "张伟" in text and "杭州恒达机械制造有限公司" in text
    assert "Page 1 of 5" in text  # English too
    skews = [s.skew_deg for s in specs]
    assert all(abs(k) <= 5.0 for k in skews)
    many = [s.skew_deg for s in demo_plan(FIELDS, pages=40, seed=2)]
    assert min(many) < -1 and max(many) > 1  # both signs


def test_demo_plan_duplex_has_mostly_blank_backs_some_with_text():
    specs = demo_plan(FIELDS, pages=40, seed=3, duplex=True)
    assert len(specs) == 80
    backs = [s for s in specs if s.back]
    fronts = [s for s in specs if not s.back]
    assert len(backs) == 40 and all(not s.blank for s in fronts)
    blank_backs = [s for s in backs if s.blank]
    assert len(backs) * 0.5 < len(blank_backs) < len(backs)  # most, not all
    assert all(s.seq % 2 == 0 for s in backs)


def test_demo_plan_double_feed_repeats_the_page_content():
    specs = demo_plan(FIELDS, pages=6, seed=4, duplicate_every=3)
    dups = [s for s in specs if s.duplicate_of is not None]
    assert len(dups) == 2
    for d in dups:
        original = next(s for s in specs if s.seq == d.duplicate_of)
        assert d.lines == original.lines and d.seed != original.seed


def test_render_truth_page_box_is_where_the_paper_is():
    spec = demo_plan(FIELDS, pages=1, seed=5)[0]
    spec = dataclasses.replace(spec, skew_deg=3.0)
    img, truth = render_page(spec)
    assert img.mode == "L" and img.info["dpi"] == (300, 300)
    a = np.asarray(img)
    l, t, r, b = truth.page_box_px
    # the image is larger than the paper: a dark scanner border all round
    assert l > 20 and t > 20 and img.width - r > 20 and img.height - b > 20
    assert a[:10, :].mean() < BORDER_GRAY + 15 and a[:, -10:].mean() < BORDER_GRAY + 15
    # the paper's centre is paper, its box is the rotated A4 sheet (2480 x 3508 at 300 dpi)
    cx, cy = (l + r) // 2, (t + b) // 2
    assert a[cy - 50 : cy + 50, cx - 50 : cx + 50].mean() > 200
    rad = np.radians(3.0)
    assert abs((r - l) - (2480 * np.cos(rad) + 3508 * np.sin(rad))) <= 3
    assert abs((b - t) - (3508 * np.cos(rad) + 2480 * np.sin(rad))) <= 3
    assert truth.skew_deg == 3.0 and not truth.blank
    assert any("市社会保险事业管理中心" in line for line in truth.text_lines)


def test_render_blank_back_and_binding_holes():
    spec = PageSpec("X1", 2, blank=True, back=True, binding_holes=2, skew_deg=-1.5, seed=9)
    img, truth = render_page(spec)
    assert truth.blank and truth.text_lines == []
    a = np.asarray(img)
    assert len(truth.hole_centres_px) == 2
    for x, y in truth.hole_centres_px:
        # holes show the dark scanner background through the paper; on a back they are on the right
        assert a[int(y) - 5 : int(y) + 5, int(x) - 5 : int(x) + 5].mean() < 80
        assert x > (truth.page_box_px[0] + truth.page_box_px[2]) / 2


def test_render_is_deterministic_and_noise_follows_the_seed():
    spec = demo_plan(FIELDS, pages=1, seed=6)[0]
    a1 = np.asarray(render_page(spec)[0])
    a2 = np.asarray(render_page(spec)[0])
    assert np.array_equal(a1, a2)
    a3 = np.asarray(render_page(dataclasses.replace(spec, seed=spec.seed + 1))[0])
    assert a1.shape != a3.shape or not np.array_equal(a1, a3)


def test_render_colour_and_lineart_modes():
    spec = dataclasses.replace(demo_plan(FIELDS, pages=1, seed=7, mode="color")[0])
    img, _ = render_page(spec)
    assert img.mode == "RGB"
    a = np.asarray(img).astype(int)
    red = (a[..., 0] > 150) & (a[..., 1] < 90) & (a[..., 2] < 90)
    assert red.sum() > 1000  # the seal of a colour first page
    img, _ = render_page(dataclasses.replace(spec, mode="lineart"))
    assert img.mode == "1" and img.info["dpi"] == (300, 300)


def test_render_upside_down_sheet():
    spec = dataclasses.replace(demo_plan(FIELDS, pages=1, seed=8)[0], orientation=180, skew_deg=0.0)
    img, truth = render_page(spec)
    a = np.asarray(img)
    l, t, r, b = truth.page_box_px
    h = b - t
    # the header is near the top of an upright page; upside down the ink sits low
    top_ink = (a[t + h // 20 : t + h // 6, l:r] < 128).mean()
    bottom_ink = (a[b - h // 6 : b - h // 20, l:r] < 128).mean()
    assert bottom_ink > top_ink


def test_render_pixels_are_the_page_and_the_form_is_drawn():
    spec = dataclasses.replace(demo_plan(FIELDS, pages=1, seed=10)[0], skew_deg=0.0, noise=0.0, shift_mm=(0.0, 0.0))
    pixels, truth = render_pixels(spec)
    img, truth2 = render_page(spec)
    assert truth == truth2 and pixels.dtype == np.uint8 and np.array_equal(pixels, np.asarray(img))
    l, t, r, b = truth.page_box_px
    page = pixels[t:b, l:r]
    # the form's table: long straight rules in ink across most of the text width
    dark_rows = (page < 80).mean(axis=1)
    assert (dark_rows > 0.6).sum() >= 4
    # ink is ink, paper is paper (no noise asked for)
    values = set(np.unique(page[page.shape[0] // 2 - 300 : page.shape[0] // 2 + 300, 400:1200]).tolist())
    assert min(values) <= 30 and max(values) >= 240


def test_render_is_fast_enough_for_the_demo_scanner():
    """The demo scanner draws beside the capture pipeline on the same two cores: well under 100 ms
    of CPU for a 300 dpi grey A4 page (about 35 ms on an idle machine)."""
    specs = demo_plan(FIELDS, pages=6, seed=9)
    render_page(specs[0])  # fonts and glyph caches
    cpu = []
    for s in specs:
        t = time.process_time()
        render_page(s)
        cpu.append(time.process_time() - t)
    assert statistics.median(cpu) < 0.1, cpu
