"""Chinese social-insurance forms with known text, for measuring and testing OCR.

``render_form(spec)`` draws one A4 form the way a scanner delivers it: a header, a title, a ruled
table (档号, name, ID number, employer, dates and amounts), paragraphs of business text and a page
footer, in a Song (Ming), Hei or Kai typeface at 9-14 pt; optionally a red round seal stamped over
the text, the filled-in numbers in a hand-written look (Kai glyphs one by one, each turned and
shifted a little), speckle noise, a small skew and JPEG compression, at the given dpi.
``FormTruth`` says exactly what was written: the lines in reading order (table cells of a row
separated by one space), the 档号 and the ID number. The seal carries no text (its text would be
read by a good engine and counted against it as an insertion).

The fonts are the system's CJK fonts (fonts-noto-cjk, fonts-arphic-uming/ukai, fonts-wqy-zenhei);
a style whose fonts are all missing falls back to any installed CJK font and says so in
``FormTruth.font``.
"""

from __future__ import annotations

import functools
import io
import math
import os
import random
from dataclasses import dataclass, field

from PIL import Image, ImageChops, ImageDraw, ImageFont

from scanstation.errors import NotFound

# style -> (font file, preferred face name fragment), first found wins
FONT_FILES = {
    "song": (
        ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", "SC"),
        ("/usr/share/fonts/truetype/arphic/uming.ttc", "CN"),
    ),
    "hei": (
        ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "SC"),
        ("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc", "Zen Hei"),
    ),
    "kai": (("/usr/share/fonts/truetype/arphic/ukai.ttc", "CN"),),
}
STYLES = tuple(FONT_FILES)

CITIES = ("合肥", "南京", "杭州", "济南", "郑州", "武汉", "长沙", "成都", "西安", "太原", "福州", "南昌")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何林罗高"
GIVEN = ("伟", "芳", "娜", "秀英", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超")
EMPLOYERS = (
    "恒达机械制造有限公司",
    "新华书店有限公司",
    "第一人民医院",
    "城市建设投资集团有限公司",
    "电子科技股份有限公司",
    "物流运输有限公司",
    "食品工业有限责任公司",
    "纺织印染有限公司",
)
TITLES = (
    "社会保险参保人员登记表",
    "基本养老保险关系转移接续申请表",
    "社会保险费缴费明细表",
    "职工基本医疗保险待遇申请表",
    "失业保险金申领登记表",
    "工伤认定申请表",
)
SENTENCES = (
    "参保人员应按月足额缴纳社会保险费，单位代扣代缴的部分由单位统一申报。",
    "因工作调动，参保人员的基本养老保险关系由原参保地转入本市，个人账户储存额一并转移。",
    "本人承诺所提供的材料真实、有效，如有虚假，愿承担相应的法律责任。",
    "以上信息已录入社会保险信息系统，业务经办人员与复核人员分别签字确认。",
    "材料按年度、险种和业务环节整理归档，保管期限按照社会保险业务档案管理规定执行。",
    "缴费基数按照上年度职工月平均工资核定，低于下限的按下限执行，高于上限的按上限执行。",
    "经审核，申请人提交的身份证明、劳动合同和工资发放记录齐全，符合办理条件。",
    "请于收到本通知之日起十五个工作日内，携带有效证件到经办窗口办理相关手续。",
    "医疗费用经基本医疗保险统筹基金支付后，个人负担部分可按规定申请大病保险报销。",
    "失业保险金的领取期限根据失业人员失业前累计缴费时间确定，最长不超过二十四个月。",
)
RETENTIONS = ("Y", "D100", "D50", "D30", "D10")
A4_MM = (210.0, 297.0)
PAPER = 246
INK = 24


@dataclass(frozen=True)
class FormSpec:
    seed: int
    dpi: int = 300
    style: str = "song"  # song | hei | kai
    size_pt: float = 11.0  # body text; the header and title are larger
    skew_deg: float = 0.0
    noise: float = 0.3  # 0..1: speckles and grain
    jpeg_quality: int = 85
    stamp: bool = False  # red round seal over the text (the page is then in colour)
    handwritten: bool = False  # ID number and dates filled in by hand
    pages: int = 3  # "第 k 页 共 n 页"


@dataclass
class FormTruth:
    lines: list[str]
    number: str  # 档号 on the form
    id_number: str
    font: str
    size_px: int
    extra: dict = field(default_factory=dict)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


def form_set(n: int, seed: int = 1, dpis=(200, 300)) -> list[FormSpec]:
    """``n`` varied specs: fonts, sizes 9-14 pt, stamps, handwriting, noise, skew up to 0.8°, JPEG
    75-92, cycling through ``dpis``."""
    rng = random.Random(seed)
    specs = []
    for i in range(n):
        specs.append(
            FormSpec(
                seed=rng.randrange(1 << 30),
                dpi=dpis[i % len(dpis)],
                style=STYLES[i % len(STYLES)],
                size_pt=(9, 10, 10.5, 11, 12, 14)[(i // len(STYLES)) % 6],
                skew_deg=round(rng.uniform(-0.8, 0.8), 2),
                noise=round(rng.uniform(0.1, 0.6), 2),
                jpeg_quality=rng.choice((75, 80, 85, 92)),
                stamp=i % 3 == 1,
                handwritten=i % 2 == 0,
            )
        )
    return specs


@functools.lru_cache(maxsize=16)
def font_file(style: str) -> tuple[str, int, str]:
    """(path, face index, face name) of an installed font of ``style``."""
    candidates = list(FONT_FILES.get(style, ())) + [c for s in STYLES for c in FONT_FILES[s]]
    for path, prefer in candidates:
        if not os.path.isfile(path):
            continue
        best = (0, "")
        for index in range(12):
            try:
                face = ImageFont.truetype(path, 20, index=index)
            except OSError:
                break
            name = " ".join(face.getname())
            if not best[1]:
                best = (index, name)
            if prefer in name:
                best = (index, name)
                break
        return path, best[0], best[1]
    raise NotFound(
        "No Chinese font found for the OCR forms. Install fonts-noto-cjk.",
        "未找到用于生成识别样张的中文字体。请安装 fonts-noto-cjk。",
    )


@functools.lru_cache(maxsize=64)
def _font(style: str, size_px: int) -> ImageFont.FreeTypeFont:
    path, index, _ = font_file(style)
    return ImageFont.truetype(path, size_px, index=index)


def _px(pt: float, dpi: int) -> int:
    return max(8, int(round(pt / 72.0 * dpi)))


def _mm(mm: float, dpi: int) -> int:
    return int(round(mm / 25.4 * dpi))


def _id_number(rng: random.Random) -> str:
    body = (
        f"{rng.choice((110101, 310104, 340104, 420106, 510107, 610113, 320102, 370102))}"
        f"{rng.randint(1955, 2002)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 999):03d}"
    )
    weights = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
    check = "10X98765432"[sum(int(c) * w for c, w in zip(body, weights)) % 11]
    return body + check


def _number(rng: random.Random) -> str:
    return (
        f"X{rng.randint(1, 9):03d}-ZY·{rng.choice(('DJ', 'JF', 'ZY', 'DY'))}·{rng.randint(2015, 2025)}·"
        f"{rng.choice(RETENTIONS)}-{rng.randint(1, 9999):04d}-{rng.randint(1, 999):03d}"
    )


def _wrap(text: str, font, width: int) -> list[str]:
    lines, current = [], ""
    for ch in text:
        if font.getlength(current + ch) > width and current:
            lines.append(current)
            current = ch
        else:
            current += ch
    if current:
        lines.append(current)
    return lines


def _handwritten(img: Image.Image, xy: tuple[int, int], text: str, size_px: int, rng: random.Random) -> int:
    """Draw ``text`` glyph by glyph in Kai, each turned, shifted and sized a little; returns the x reached."""
    x, y = xy
    for ch in text:
        size = int(size_px * rng.uniform(1.0, 1.18))
        font = _font("kai", size)
        w = int(font.getlength(ch)) + 4
        glyph = Image.new("L", (w + size, size * 2), 0)
        ImageDraw.Draw(glyph).text((size // 2, size // 2), ch, font=font, fill=255)
        glyph = glyph.rotate(rng.uniform(-6, 6), resample=Image.BICUBIC)
        ink = Image.new("L", glyph.size, rng.randint(15, 60))
        img.paste(ink, (x - size // 2, y - size // 2 + int(rng.uniform(-0.08, 0.08) * size_px)), glyph)
        x += int(w * rng.uniform(0.9, 1.05))
    return x


def render_form(spec: FormSpec) -> tuple[Image.Image, FormTruth]:
    """The form image (grey, or RGB with a seal) and what is written on it."""
    rng = random.Random(spec.seed)
    dpi = spec.dpi
    w, h = _mm(A4_MM[0], dpi), _mm(A4_MM[1], dpi)
    img = Image.new("L", (w, h), PAPER)
    draw = ImageDraw.Draw(img)
    body_px = _px(spec.size_pt, dpi)
    body = _font(spec.style, body_px)
    left, right = _mm(22, dpi), w - _mm(22, dpi)
    y = _mm(20, dpi)
    lines: list[str] = []
    city = rng.choice(CITIES)
    name = rng.choice(SURNAMES) + rng.choice(GIVEN)
    number, id_number = _number(rng), _id_number(rng)
    date = f"{rng.randint(2015, 2025)}-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}"
    base = f"{rng.randint(35, 160) * 100:,}.00"

    def centred(text: str, font) -> None:
        nonlocal y
        tw = font.getlength(text)
        draw.text(((w - tw) / 2, y), text, font=font, fill=INK)
        lines.append(text)
        y += int(font.size * 1.8)

    centred(f"{city}市社会保险事业管理中心", _font(spec.style, _px(spec.size_pt + 3, dpi)))
    centred(rng.choice(TITLES), _font("hei" if spec.style != "hei" else "song", _px(spec.size_pt + 6, dpi)))

    # table: label | value (| label | value)
    rows = [
        (("档号", number),),
        (("姓名", name), ("性别", rng.choice("男女"))),
        (("公民身份号码", id_number),),
        (("单位名称", city + rng.choice(EMPLOYERS)),),
        (("参保日期", date), ("缴费基数", base)),
    ]
    row_h = int(body_px * 2.4)
    label_w = int(body.getlength("公民身份号码")) + body_px * 2
    half = left + (right - left) // 2
    top = y
    for cells in rows:
        parts = []
        for i, (label, value) in enumerate(cells):
            x0 = left if i == 0 else half
            draw.text((x0 + body_px // 2, y + (row_h - body_px) // 2), label, font=body, fill=INK)
            vx = x0 + label_w
            if spec.handwritten and label in ("公民身份号码", "参保日期"):
                _handwritten(img, (vx + body_px // 2, y + (row_h - body_px) // 2), value, body_px, rng)
            else:
                draw.text((vx + body_px // 2, y + (row_h - body_px) // 2), value, font=body, fill=INK)
            draw.line([(vx, y), (vx, y + row_h)], fill=INK, width=max(1, dpi // 150))
            if i == 1:
                draw.line([(half, y), (half, y + row_h)], fill=INK, width=max(1, dpi // 150))
            parts += [label, value]
        lines.append(" ".join(parts))
        y += row_h
        draw.line([(left, y), (right, y)], fill=INK, width=max(1, dpi // 150))
    for yy in (top,):
        draw.line([(left, yy), (right, yy)], fill=INK, width=max(1, dpi // 150))
    draw.rectangle([left, top, right, y], outline=INK, width=max(2, dpi // 100))
    y += int(body_px * 1.5)

    # paragraphs
    line_h = int(body_px * 1.7)
    for sentence in rng.sample(SENTENCES, rng.randint(6, 9)):
        for i, part in enumerate(_wrap(sentence, body, right - left - 2 * body_px)):
            draw.text((left + (2 * body_px if i == 0 else 0), y), part, font=body, fill=INK)
            lines.append(part)
            y += line_h
        y += body_px // 2
        if y > h - _mm(40, dpi):
            break
    sheet = rng.randint(1, spec.pages)
    footer = f"第 {sheet} 页 共 {spec.pages} 页"
    small = _font(spec.style, _px(max(9.0, spec.size_pt - 1), dpi))
    draw.text(((w - small.getlength(footer)) / 2, h - _mm(18, dpi)), footer, font=small, fill=INK)
    lines.append(footer)

    if spec.noise > 0:
        _noise(img, spec.noise, rng)
    if spec.stamp:
        img = _stamp(img, dpi, rng, (left, top, right, y))
    if spec.skew_deg:
        fill = PAPER if img.mode == "L" else (PAPER, PAPER, PAPER - 4)
        img = img.rotate(spec.skew_deg, resample=Image.BICUBIC, expand=False, fillcolor=fill)
    buf = io.BytesIO()
    img.save(buf, "JPEG", quality=spec.jpeg_quality, dpi=(dpi, dpi))
    img = Image.open(io.BytesIO(buf.getvalue()))
    img.load()
    _, _, face = font_file(spec.style)
    return img, FormTruth(lines=lines, number=number, id_number=id_number, font=face, size_px=body_px)


def _noise(img: Image.Image, amount: float, rng: random.Random) -> None:
    """Speckles (dust, toner) and a light grain."""
    draw = ImageDraw.Draw(img)
    w, h = img.size
    for _ in range(int(400 * amount)):
        x, y = rng.randrange(w), rng.randrange(h)
        r = rng.choice((1, 1, 1, 2, 2, 3))
        draw.ellipse([x - r, y - r, x + r, y + r], fill=rng.randint(40, 160))
    grain = Image.effect_noise((w, h), 12 * amount).point(lambda v: 128 + (v - 128) // 2)
    img.paste(Image.blend(img, grain, 0.08 * amount))


def _stamp(img: Image.Image, dpi: int, rng: random.Random, area) -> Image.Image:
    """A red round seal (ring, inner ring, star) stamped over the text, partly transparent like ink."""
    rgb = img.convert("RGB")
    r = _mm(rng.uniform(19, 22), dpi)
    left, top, right, bottom = area
    cx = rng.randint(left + r, max(left + r + 1, right - r))
    cy = rng.randint(top + r // 2, max(top + r // 2 + 1, bottom - r // 2))
    mask = Image.new("L", rgb.size, 0)
    d = ImageDraw.Draw(mask)
    d.ellipse([cx - r, cy - r, cx + r, cy + r], outline=255, width=max(3, r // 12))
    d.ellipse(
        [cx - int(r * 0.86), cy - int(r * 0.86), cx + int(r * 0.86), cy + int(r * 0.86)],
        outline=255,
        width=max(1, r // 40),
    )
    star = [
        (
            cx + r * 0.3 * math.cos(math.radians(-90 + i * 36)) * (1 if i % 2 == 0 else 0.4),
            cy + r * 0.3 * math.sin(math.radians(-90 + i * 36)) * (1 if i % 2 == 0 else 0.4),
        )
        for i in range(10)
    ]
    d.polygon(star, fill=255)
    mask = mask.point(lambda v: int(v * rng.uniform(0.55, 0.8)))
    red = Image.new("RGB", rgb.size, (200, 36, 40))
    return _multiply(rgb, red, mask)


def _multiply(base: Image.Image, ink: Image.Image, mask: Image.Image) -> Image.Image:
    stamped = ImageChops.multiply(base, ink)
    return Image.composite(stamped, base, mask)


__all__ = ["FormSpec", "FormTruth", "form_set", "render_form", "font_file", "STYLES"]
