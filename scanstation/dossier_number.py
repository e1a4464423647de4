"""档号 (dossier numbers): a configurable schema, normalisation, parsing with reasons, file names.

R13: levels are separated by "-", the items of a group inside a level by "·" (U+00B7 MIDDLE DOT).
Look-alike dots and dashes that keyboards, input methods and office programs produce are
normalised to those two characters; everything else that does not fit the schema is refused
with a reason per field, in English and Chinese. R11: page files are named ``{档号}-{NNNN}.{ext}``.

The default schema is the social-insurance one, ``X001-ZY·DJ·2024·D100-0001-001`` =
全宗号-门类·类别·年度·保管期限-案卷号-件号; a DA/T 22 by-item profile is built in as well, and an
administrator may store another one (a JSON-able dict) in the setting ``dossier_number.schema``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from dataclasses import field as dataclass_field
from functools import cached_property
from typing import NoReturn

from scanstation.errors import InvalidInput
from scanstation.i18n import tr
from scanstation.retention import CODE_LIST, CODE_LIST_ZH, CODES

LEVEL_SEP = "-"
GROUP_SEP = "\u00b7"  # · MIDDLE DOT, the only dot a 档号 may carry (R13)
SETTING_KEY = "dossier_number.schema"
KINDS = ("code", "year", "retention", "number")
EXTENSIONS = ("jpg", "tif", "jp2")
MAX_SEQ = 9999

# Characters that look like the middle dot: katakana middle dots, bullets, dot operators,
# the full-width full stop, hyphenation point, Greek ano teleia, word-separator dots.
LOOKALIKE_DOTS = (
    "\u0387\u2027\u2022\u2219\u22c5\u30fb\uff65\uff0e\u2e31\u2e33\u16eb\u1427\u318d\u2024\ua78f\ufe52\u2981"
)
# Dashes and minus signs that stand in for "-": hyphens, figure/en/em dashes, horizontal bar,
# minus sign, small and full-width hyphen-minus, hyphen bullet.
# The ASCII full stop: barcode guns in keyboard mode (and most keyboards) cannot type "·", so
# "X001-ZY.DJ.2024.D100-0001-001" is read as the 档号 it stands for. A "." is never valid
# anywhere else in a 档号, so mapping every "." to "·" cannot turn a valid number into another one.
KEYBOARD_DOTS = "."
LOOKALIKE_DASHES = "\u2010\u2011\u2012\u2013\u2014\u2015\u2212\ufe58\ufe63\uff0d\u2043"
INVISIBLE = "\u200b\u200c\u200d\u2060\ufeff"

_TRANSLATION: dict[int, int | str | None] = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}  # full-width ASCII
_TRANSLATION[0x3000] = " "  # ideographic space
_TRANSLATION.update({ord(c): GROUP_SEP for c in LOOKALIKE_DOTS + KEYBOARD_DOTS})
_TRANSLATION.update({ord(c): LEVEL_SEP for c in LOOKALIKE_DASHES})
_TRANSLATION.update({ord(c): None for c in INVISIBLE})

_WHITESPACE_RE = re.compile(r"\s")
_KEY_RE = re.compile(r"[a-z][a-z0-9_]{0,31}")
_PAGE_FILE_RE = re.compile(r"(?P<number>.+)-(?P<seq>[0-9]{4})\.(?P<ext>[A-Za-z0-9]+)")
_EXT_ALIASES = {"jpg": "jpg", "jpeg": "jpg", "tif": "tif", "tiff": "tif", "jp2": "jp2"}

# Names Windows reserves for devices, with or without an extension.
_WINDOWS_RESERVED = {"CON", "PRN", "AUX", "NUL", "CONIN$", "CONOUT$"} | {
    f"{dev}{n}" for dev in ("COM", "LPT") for n in list("0123456789") + ["\u00b9", "\u00b2", "\u00b3"]
}
_WINDOWS_FORBIDDEN = set('<>:"/\\|?*')


def normalise(text: str) -> str:
    """Canonical spelling: full-width ASCII → half-width, look-alike dots and "." → "·", look-alike
    dashes → "-", invisible characters removed, spaces at the ends trimmed. Idempotent."""
    if not isinstance(text, str):
        text = "" if text is None else str(text)
    return text.translate(_TRANSLATION).strip()


# -- results ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Problem:
    """One reason why a 档号 is not valid. ``field`` is the schema key, or None for the whole number."""

    field: str | None
    en: str
    zh: str

    def __str__(self) -> str:
        return tr(self.en, self.zh)

    def as_dict(self) -> dict:
        return {"field": self.field, "en": self.en, "zh": self.zh}


class InvalidDossierNumber(InvalidInput):
    """A 档号 that does not fit its schema; ``problems`` holds every reason."""

    def __init__(self, text: str, problems: list[Problem]):
        super().__init__(
            "The dossier number '{text}' is not valid: {reasons}. Correct it and try again.",
            "档号“{text}”无效：{reasons_zh}。请更正后重试。",
            text=text,
            reasons="; ".join(p.en for p in problems),
            reasons_zh="；".join(p.zh for p in problems),
        )
        self.text = text
        self.problems = problems
        self.field = problems[0].field if problems else None


# -- schema -------------------------------------------------------------------------------
@dataclass(frozen=True)
class FieldSpec:
    """One field of a 档号.

    kind "code": letters/digits matching ``pattern`` (a regular expression, matched whole);
    "year": four digits from ``minimum`` to ``maximum``; "retention": a code from R14;
    "number": exactly ``width`` digits, not all zero.
    """

    key: str
    zh: str
    en: str
    kind: str
    pattern: str | None = None
    width: int | None = None
    minimum: int = 1949
    maximum: int = 2100
    rule_en: str = ""
    rule_zh: str = ""
    example: str = ""

    def __post_init__(self):
        if not isinstance(self.key, str) or not _KEY_RE.fullmatch(self.key):
            _bad_schema(
                f"field key '{self.key}' must be a lower-case identifier", f"字段键“{self.key}”必须是小写标识符"
            )
        if self.kind not in KINDS:
            _bad_schema(
                f"field '{self.key}' has unknown kind '{self.kind}' (use {', '.join(KINDS)})",
                f"字段“{self.key}”的类型“{self.kind}”未知（应为 {', '.join(KINDS)}）",
            )
        if self.kind == "code":
            if not self.pattern:
                _bad_schema(f"code field '{self.key}' needs a pattern", f"代码字段“{self.key}”缺少匹配规则")
            try:
                compiled = re.compile(self.pattern)
            except re.error as exc:
                _bad_schema(
                    f"the pattern of field '{self.key}' is not a regular expression ({exc})",
                    f"字段“{self.key}”的匹配规则不是有效的正则表达式（{exc}）",
                )
            if compiled.fullmatch(""):
                _bad_schema(
                    f"the pattern of field '{self.key}' accepts an empty value", f"字段“{self.key}”的匹配规则允许空值"
                )
        if self.kind == "number" and not (isinstance(self.width, int) and 1 <= self.width <= 9):
            _bad_schema(
                f"number field '{self.key}' needs a width from 1 to 9", f"序号字段“{self.key}”需要 1 到 9 的位数"
            )
        if self.kind == "year" and not (1000 <= self.minimum <= self.maximum <= 9999):
            _bad_schema(
                f"year field '{self.key}' needs 1000 <= minimum <= maximum <= 9999",
                f"年度字段“{self.key}”的范围应满足 1000 <= 最小值 <= 最大值 <= 9999",
            )
        if self.example and self.check(self.example) is not None:
            _bad_schema(
                f"the example '{self.example}' of field '{self.key}' does not fit the field",
                f"字段“{self.key}”的示例“{self.example}”不符合该字段的规则",
            )

    @cached_property
    def _regex(self) -> re.Pattern:
        if self.kind == "code":
            return re.compile(self.pattern)
        if self.kind == "number":
            return re.compile(f"[0-9]{{{self.width}}}")
        if self.kind == "year":
            return re.compile("[0-9]{4}")
        return re.compile("|".join(CODES))

    def rule(self) -> tuple[str, str]:
        """What a valid value looks like, (en, zh)."""
        if self.kind == "number":
            return (
                f"exactly {self.width} digits, from {1:0{self.width}d}",
                f"{self.width} 位数字，从 {1:0{self.width}d} 起",
            )
        if self.kind == "year":
            return (
                f"a 4-digit year from {self.minimum} to {self.maximum}",
                f"{self.minimum}–{self.maximum} 之间的 4 位年份",
            )
        if self.kind == "retention":
            return f"one of {CODE_LIST}", f"{CODE_LIST_ZH} 之一"
        return (self.rule_en or f"matching {self.pattern}", self.rule_zh or f"符合规则 {self.pattern}")

    def check(self, value: str) -> tuple[str, str] | None:
        """None when ``value`` fits; otherwise (why_en, why_zh)."""
        if value == "":
            return "is empty", "为空"
        if self._regex.fullmatch(value):
            if self.kind == "year" and not self.minimum <= int(value) <= self.maximum:
                return (f"is outside {self.minimum}–{self.maximum}", f"超出 {self.minimum}–{self.maximum} 的范围")
            if self.kind == "number" and int(value) == 0:
                return "must not be zero: numbering starts at 1", "不能为零：编号从 1 开始"
            return None
        rule_en, rule_zh = self.rule()
        if self.kind == "number" and value.isascii() and value.isdigit():
            return (f"has {len(value)} digit(s); it must have {rule_en}", f"有 {len(value)} 位数字；应为 {rule_zh}")
        if self.kind in ("code", "retention") and value != value.upper() and self._regex.fullmatch(value.upper()):
            return (f"must be written in upper case: {value.upper()}", f"应使用大写字母：{value.upper()}")
        return f"must be {rule_en}", f"应为 {rule_zh}"

    def as_dict(self) -> dict:
        data: dict[str, object] = {"key": self.key, "zh": self.zh, "en": self.en, "kind": self.kind}
        if self.kind == "code":
            data["pattern"] = self.pattern
        if self.kind == "number":
            data["width"] = self.width
        if self.kind == "year":
            data["minimum"], data["maximum"] = self.minimum, self.maximum
        for name in ("rule_en", "rule_zh", "example"):
            if getattr(self, name):
                data[name] = getattr(self, name)
        return data

    @classmethod
    def from_dict(cls, data: dict) -> FieldSpec:
        if not isinstance(data, dict):
            _bad_schema("each field must be an object", "每个字段必须是一个对象")
        allowed = {"key", "zh", "en", "kind", "pattern", "width", "minimum", "maximum", "rule_en", "rule_zh", "example"}
        unknown = sorted(set(data) - allowed)
        if unknown:
            _bad_schema(f"unknown field property {', '.join(unknown)}", f"未知的字段属性 {', '.join(unknown)}")
        for name in ("key", "zh", "en", "kind"):
            if not isinstance(data.get(name), str) or not data.get(name):
                _bad_schema(f"a field lacks '{name}'", f"某个字段缺少“{name}”")
        for name in ("width", "minimum", "maximum"):
            types: tuple[type, ...] = (int, type(None)) if name == "width" else (int,)
            if name in data and (isinstance(data[name], bool) or not isinstance(data[name], types)):
                _bad_schema(
                    f"'{name}' of field '{data['key']}' must be a whole number",
                    f"字段“{data['key']}”的“{name}”必须是整数",
                )
        for name in ("pattern", "rule_en", "rule_zh", "example"):
            if name in data and not isinstance(data[name], (str, type(None))):
                _bad_schema(
                    f"'{name}' of field '{data['key']}' must be text", f"字段“{data['key']}”的“{name}”必须是文本"
                )
        return cls(**data)


@dataclass(frozen=True)
class Schema:
    """A 档号 grammar: levels joined by "-", each level a group of fields joined by "·"."""

    name: str
    zh: str
    en: str
    levels: tuple[tuple[FieldSpec, ...], ...]

    def __post_init__(self):
        if not self.levels or any(not level for level in self.levels):
            _bad_schema(
                "a schema needs at least one level and every level at least one field",
                "档号结构至少需要一级，每级至少一个字段",
            )
        keys = [f.key for f in self.fields]
        duplicates = sorted({k for k in keys if keys.count(k) > 1})
        if duplicates:
            _bad_schema(f"field keys appear twice: {', '.join(duplicates)}", f"字段键重复：{', '.join(duplicates)}")
        if "fonds" not in keys:
            _bad_schema("a schema needs a 'fonds' field (全宗号)", "档号结构必须包含“fonds”字段（全宗号）")
        for kind in ("year", "retention"):
            count = sum(f.kind == kind for f in self.fields)
            if count != 1:
                _bad_schema(
                    f"a schema needs exactly one '{kind}' field, it has {count}",
                    f"档号结构必须恰好包含一个“{kind}”字段，现有 {count} 个",
                )

    @property
    def fields(self) -> tuple[FieldSpec, ...]:
        return tuple(f for level in self.levels for f in level)

    def field(self, key: str) -> FieldSpec:
        for f in self.fields:
            if f.key == key:
                return f
        raise KeyError(key)

    @cached_property
    def year_key(self) -> str:
        return next(f.key for f in self.fields if f.kind == "year")

    @cached_property
    def retention_key(self) -> str:
        return next(f.key for f in self.fields if f.kind == "retention")

    @property
    def layout_zh(self) -> str:
        return LEVEL_SEP.join(GROUP_SEP.join(f.zh for f in level) for level in self.levels)

    @property
    def layout_en(self) -> str:
        return LEVEL_SEP.join(GROUP_SEP.join(f.en for f in level) for level in self.levels)

    @property
    def example(self) -> str:
        return LEVEL_SEP.join(GROUP_SEP.join(_example(f) for f in level) for level in self.levels)

    def as_dict(self) -> dict:
        return {
            "format": 1,
            "name": self.name,
            "zh": self.zh,
            "en": self.en,
            "levels": [[f.as_dict() for f in level] for level in self.levels],
        }

    to_dict = as_dict

    @classmethod
    def from_dict(cls, data: dict) -> Schema:
        """A schema from its stored form; ``{"name": "dat22-item"}`` alone names a built-in one."""
        if not isinstance(data, dict):
            _bad_schema("it must be an object", "它必须是一个对象")
        if "levels" not in data and data.get("name") in BUILT_IN:
            return BUILT_IN[data["name"]]
        if data.get("format", 1) != 1:
            _bad_schema(f"format {data.get('format')} is not known", f"格式 {data.get('format')} 未知")
        levels = data.get("levels")
        if not isinstance(levels, list) or not all(isinstance(level, list) for level in levels):
            _bad_schema("'levels' must be a list of lists of fields", "“levels”必须是字段列表的列表")
        for name in ("name", "zh", "en"):
            if not isinstance(data.get(name, ""), str):
                _bad_schema(f"'{name}' must be text", f"“{name}”必须是文本")
        return cls(
            name=data.get("name") or "custom",
            zh=data.get("zh", ""),
            en=data.get("en", ""),
            levels=tuple(tuple(FieldSpec.from_dict(f) for f in level) for level in levels),
        )


def _example(f: FieldSpec) -> str:
    if f.example:
        return f.example
    if f.kind == "number":
        return f"{1:0{f.width}d}"
    if f.kind == "year":
        return str(max(f.minimum, min(2024, f.maximum)))
    if f.kind == "retention":
        return "D30"
    return f.key.upper()


def _bad_schema(en: str, zh: str) -> NoReturn:
    raise InvalidInput(
        "The 档号 schema is not valid: {why}. Correct it in the settings.",
        "档号结构配置无效：{why_zh}。请在设置中更正。",
        why=en,
        why_zh=zh,
    )


_FONDS = FieldSpec(
    "fonds",
    "全宗号",
    "fonds",
    "code",
    pattern="[A-Z0-9]{4,6}",
    example="X001",
    rule_en="4 to 6 upper-case letters or digits, e.g. X001",
    rule_zh="4–6 位大写字母或数字，如 X001",
)
_YEAR = FieldSpec("year", "年度", "year", "year", example="2024")
_RETENTION = FieldSpec("retention", "保管期限", "retention", "retention", example="D100")

SOCIAL_INSURANCE = Schema(
    name="social-insurance",
    zh="社会保险业务档案：全宗号-门类·类别·年度·保管期限-案卷号-件号",
    en="Social-insurance files: fonds-category·class·year·retention-volume-item",
    levels=(
        (_FONDS,),
        (
            FieldSpec(
                "category",
                "门类",
                "category",
                "code",
                pattern="[A-Z]{2}",
                example="ZY",
                rule_en="2 upper-case letters, e.g. ZY",
                rule_zh="2 位大写字母，如 ZY",
            ),
            FieldSpec(
                "klass",
                "类别",
                "class",
                "code",
                pattern="[A-Z]{2,4}",
                example="DJ",
                rule_en="2 to 4 upper-case letters, e.g. DJ",
                rule_zh="2–4 位大写字母，如 DJ",
            ),
            _YEAR,
            _RETENTION,
        ),
        (FieldSpec("volume", "案卷号", "volume", "number", width=4),),
        (FieldSpec("item", "件号", "item", "number", width=3),),
    ),
)

DAT22_ITEM = Schema(
    name="dat22-item",
    zh="DA/T 22 按件整理：全宗号-门类·年度·保管期限-件号",
    en="DA/T 22 by item: fonds-category·year·retention-item",
    levels=(
        (_FONDS,),
        (
            FieldSpec(
                "category",
                "门类",
                "category",
                "code",
                pattern="[A-Z]{2}",
                example="WS",
                rule_en="2 upper-case letters, e.g. WS",
                rule_zh="2 位大写字母，如 WS",
            ),
            _YEAR,
            FieldSpec("retention", "保管期限", "retention", "retention", example="D30"),
        ),
        (FieldSpec("item", "件号", "item", "number", width=4),),
    ),
)

BUILT_IN: dict[str, Schema] = {SOCIAL_INSURANCE.name: SOCIAL_INSURANCE, DAT22_ITEM.name: DAT22_ITEM}


def default_schema() -> Schema:
    return SOCIAL_INSURANCE


def schema_for_home(home) -> Schema:
    """The home's configured schema (setting ``dossier_number.schema``), or the default."""
    stored = home.setting(SETTING_KEY)
    return Schema.from_dict(stored) if stored else default_schema()


# -- numbers ------------------------------------------------------------------------------
@dataclass(frozen=True, eq=False)
class DossierNumber:
    """A parsed, valid 档号. ``text`` is its canonical spelling; ``fields`` maps schema keys to values."""

    text: str
    fields: dict
    schema: Schema = dataclass_field(repr=False)

    def __str__(self) -> str:
        return self.text

    def __eq__(self, other) -> bool:
        return isinstance(other, DossierNumber) and other.text == self.text

    def __hash__(self) -> int:
        return hash(self.text)

    @property
    def fonds(self) -> str:
        return self.fields["fonds"]

    @property
    def year(self) -> int:
        return int(self.fields[self.schema.year_key])

    @property
    def retention(self) -> str:
        return self.fields[self.schema.retention_key]

    @property
    def volume(self) -> str:
        return self.fields.get("volume", "")

    @property
    def item(self) -> str:
        return self.fields.get("item", "")

    @property
    def category_group(self) -> str:
        """The classification codes of the group that holds the year, e.g. "ZY·DJ" (catalog column ``category``)."""
        for level in self.schema.levels:
            if any(f.key == self.schema.year_key for f in level):
                return GROUP_SEP.join(self.fields[f.key] for f in level if f.kind == "code")
        return ""


def problems(text, schema: Schema | None = None, strict: bool = False) -> list[Problem]:
    """Every reason why ``text`` is not a valid 档号 (empty list when it is).

    The text is normalised first; with ``strict`` a text that is not already in canonical
    spelling is a problem too (for numbers read from packages rather than typed by a person).
    """
    return _analyse(text, schema or default_schema(), strict)[1]


def parse(text, schema: Schema | None = None, strict: bool = False) -> DossierNumber:
    """The 档号 in ``text``; raises InvalidDossierNumber (an InvalidInput) naming each failing field."""
    number, found = _analyse(text, schema or default_schema(), strict)
    if found or number is None:
        raise InvalidDossierNumber(text if isinstance(text, str) else repr(text), found)
    return number


def is_valid(text, schema: Schema | None = None, strict: bool = False) -> bool:
    return not problems(text, schema, strict)


def _analyse(text, schema: Schema, strict: bool) -> tuple[DossierNumber | None, list[Problem]]:
    if not isinstance(text, str):
        return None, [
            Problem(
                None,
                f"A dossier number must be text, not {type(text).__name__}.",
                f"档号必须是文本，而不是 {type(text).__name__}。",
            )
        ]
    normal = normalise(text)
    found: list[Problem] = []
    if not normal:
        return None, [Problem(None, "The dossier number is empty; type or scan it.", "档号为空；请输入或扫描档号。")]
    if strict and normal != text:
        found.append(
            Problem(
                None,
                f"it is not in canonical spelling (look-alike dots or dashes, full-width "
                f"characters or surrounding spaces); the canonical form is {normal}",
                f"不是规范写法（含形似的点或连字符、全角字符或首尾空格）；规范写法为 {normal}",
            )
        )
    if _WHITESPACE_RE.search(normal):
        found.append(Problem(None, "it contains a space; remove it", "含有空格；请删除"))
    bad = sorted({c for c in normal if c in _WINDOWS_FORBIDDEN or ord(c) < 32 or ord(c) == 127})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        found.append(
            Problem(
                None, f"it contains characters not allowed in file names: {shown}", f"含有不能用于文件名的字符：{shown}"
            )
        )

    levels = normal.split(LEVEL_SEP)
    if len(levels) != len(schema.levels):
        found.append(
            Problem(
                None,
                f"it has {len(levels)} part(s) separated by '-'; it needs "
                f"{len(schema.levels)}: {schema.layout_en}, e.g. {schema.example}",
                f"有 {len(levels)} 段（以“-”分隔）；应为 {len(schema.levels)} 段：{schema.layout_zh}，"
                f"如 {schema.example}",
            )
        )
        return None, found

    values: dict[str, str] = {}
    for index, (part, specs) in enumerate(zip(levels, schema.levels), 1):
        items = part.split(GROUP_SEP)
        if len(items) != len(specs):
            layout_en = GROUP_SEP.join(f.en for f in specs)
            layout_zh = GROUP_SEP.join(f.zh for f in specs)
            found.append(
                Problem(
                    specs[0].key if len(specs) == 1 else None,
                    f"part {index} '{part}' has {len(items)} item(s) separated by '·'; "
                    f"it needs {len(specs)}: {layout_en}",
                    f"第 {index} 段“{part}”有 {len(items)} 项（以“·”分隔）；应为 {len(specs)} 项：{layout_zh}",
                )
            )
            continue
        for value, spec in zip(items, specs):
            why = spec.check(value)
            if why is None:
                values[spec.key] = value
            elif value == "":
                found.append(Problem(spec.key, f"{spec.en} ({spec.zh}) is empty", f"{spec.zh}为空"))
            else:
                found.append(
                    Problem(spec.key, f"{spec.en} ({spec.zh}) '{value}' {why[0]}", f"{spec.zh}“{value}”{why[1]}")
                )
    if not found:
        reason = unsafe_name_reason(normal)
        if reason:
            found.append(Problem(None, reason[0], reason[1]))
    if found:
        return None, found
    return DossierNumber(normal, values, schema), []


# -- 档号 in OCR text --------------------------------------------------------------------------
# What OCR prints for the separators of a 档号: the dots and dashes above, ":" "'" "。" "、" ",", "_", with
# spaces around them; or a space alone; or nothing (a "·" it did not see at all).
_OCR_SEPS = "-·.:'。、,，_;" + LOOKALIKE_DOTS + LOOKALIKE_DASHES + "：；"
_OCR_SEP = "(?:[ \t]*[" + re.escape(_OCR_SEPS) + "]{1,2}[ \t]*|[ \t]{1,2}|)"
# Inside a run of digits OCR confuses O/o with 0 and l/I/| with 1. Only there: "ZY·DJ" keeps its letters.
_DIGIT_LOOKALIKES = {"O": "0", "o": "0", "l": "1", "I": "1", "|": "1"}
_DIGIT = "[0-9" + re.escape("".join(_DIGIT_LOOKALIKES)) + "]"
_DIGIT_TRANSLATION = str.maketrans(_DIGIT_LOOKALIKES)
_HAN_CHAR = "[\u3400-\u4dbf\u4e00-\u9fff]"
_ONE_LETTER_CODES = [code for code in CODES if len(code) == 1]
# in a code field (全宗号 "X001"): a look-alike inside or at the end of a digit run; a lower-case o/l before a
# digit as well (codes are upper case: OCR's "Xo07" is "X007", while "XO07" may be a real code)
_IN_DIGIT_RUN = re.compile("(?<=[0-9])[" + re.escape("".join(_DIGIT_LOOKALIKES)) + "](?=[0-9]|$)|[ol](?=[0-9])")


def _ocr_field(spec: FieldSpec) -> str:
    """A field as OCR may print it (matched case-insensitively)."""
    if spec.kind in ("number", "year"):
        width = spec.width if spec.kind == "number" and spec.width else 4
        return _DIGIT + f"(?:[ ]?{_DIGIT}){{{width - 1}}}"  # one stray space inside the run is forgiven
    if spec.kind == "retention":
        codes = sorted(CODES, key=len, reverse=True)  # D100 before D10
        alternatives = ["".join(_DIGIT if c.isdigit() else re.escape(c) for c in code) for code in codes]
        if len(_ONE_LETTER_CODES) == 1:
            # tesseract's Chinese model reads a lone capital between spaces as a Chinese character ("立", "了"
            # for "Y"); where one single-letter code is possible, a single Han character in its slot is that code
            alternatives.append(_HAN_CHAR)
        return "|".join(alternatives)
    return spec.pattern or ""  # a code field always has its pattern (checked in __post_init__)


def _ocr_value(spec: FieldSpec, text: str) -> str:
    text = text.replace(" ", "")
    if spec.kind == "retention" and re.fullmatch(_HAN_CHAR, text):
        return _ONE_LETTER_CODES[0]
    if spec.kind in ("number", "year", "retention"):
        head, digits = (text[:1], text[1:]) if spec.kind == "retention" else ("", text)
        return (head + digits.translate(_DIGIT_TRANSLATION)).upper()
    return _IN_DIGIT_RUN.sub(lambda m: _DIGIT_LOOKALIKES[m.group()], text).upper()


def ocr_pattern(schema: Schema | None = None) -> re.Pattern:
    """The schema's grammar as a regular expression over OCR text: every field in order, any OCR
    separator (or none) between them, digit look-alikes inside digit runs."""
    schema = schema or default_schema()
    cached = _OCR_PATTERNS.get(id(schema))
    if cached is not None and cached[0] is schema:
        return cached[1]
    parts = [f"(?P<f{i}>{_ocr_field(spec)})" for i, spec in enumerate(schema.fields)]
    pattern = re.compile("(?<![0-9A-Za-z])" + _OCR_SEP.join(parts) + "(?![0-9A-Za-z])", re.IGNORECASE)
    _OCR_PATTERNS[id(schema)] = (schema, pattern)
    return pattern


_OCR_PATTERNS: dict[int, tuple[Schema, re.Pattern]] = {}
_HAS_DIGITS = re.compile("[0-9]{2}")


def canonical_in_text(text: str, schema: Schema | None = None) -> str:
    """``text`` with every 档号 OCR read with other, missing or extra separators, or with O/0 and l/1
    confused inside a digit run, written in its canonical spelling ("X007-ZYZY·2023·D100-6977-250" and
    "X008-ZY。 DY. 2015。D50-7268-148" become "X007-ZY·ZY·2023·D100-6977-250", "X008-ZY·DY·2015·D50-7268-148").

    Only a run that fits the whole grammar, field by field, and is a valid number then, is rewritten;
    other text (dates, amounts, phone numbers) is returned as it was."""
    if not text or not _HAS_DIGITS.search(text):
        return text
    schema = schema or default_schema()
    fields = schema.fields

    def rewrite(match: re.Match) -> str:
        values = {spec.key: _ocr_value(spec, match.group(f"f{i}")) for i, spec in enumerate(fields)}
        candidate = LEVEL_SEP.join(GROUP_SEP.join(values[f.key] for f in level) for level in schema.levels)
        number, found = _analyse(candidate, schema, False)
        return number.text if number is not None and not found else match.group()

    return ocr_pattern(schema).sub(rewrite, text)


def format_number(fields: dict, schema: Schema | None = None) -> str:
    """The 档号 built from field values (numbers may be ints: they are zero-padded)."""
    schema = schema or default_schema()
    if not isinstance(fields, dict):
        raise InvalidInput("Dossier number fields must be given by name.", "档号字段必须按名称给出。")
    unknown = sorted(set(fields) - {f.key for f in schema.fields})
    if unknown:
        raise InvalidInput(
            "Unknown dossier number field(s) {keys}; the schema has {known}.",
            "未知的档号字段 {keys}；该档号结构包含 {known}。",
            keys=", ".join(map(str, unknown)),
            known=", ".join(f.key for f in schema.fields),
        )
    parts = []
    for level in schema.levels:
        items = []
        for spec in level:
            if spec.key not in fields or fields[spec.key] is None:
                raise InvalidInput(
                    "The dossier number field {name} ({key}) is missing.",
                    "缺少档号字段 {name}（{key}）。",
                    name=spec.zh,
                    key=spec.key,
                )
            value = fields[spec.key]
            if isinstance(value, bool):
                value = str(value)
            elif isinstance(value, int):
                value = f"{value:0{spec.width}d}" if spec.kind == "number" and value >= 0 else str(value)
            items.append(str(value))
        parts.append(GROUP_SEP.join(items))
    text = LEVEL_SEP.join(parts)
    parse(text, schema, strict=True)
    return text


# -- file names (R11) ---------------------------------------------------------------------
@dataclass(frozen=True)
class PageFileName:
    number: DossierNumber
    seq: int
    ext: str


def page_extension(ext: str) -> str:
    """ "jpg", "tif" or "jp2" from an extension as typed (".JPG", "tiff", "jpeg")."""
    key = str(ext or "").strip().lstrip(".").lower()
    if key not in _EXT_ALIASES:
        raise InvalidInput(
            "Page files are stored as {allowed}, not '{ext}'.",
            "页面文件格式只能是 {allowed}，不能是“{ext}”。",
            allowed=", ".join(EXTENSIONS),
            ext=ext,
        )
    return _EXT_ALIASES[key]


def file_name(number, seq: int, ext: str, schema: Schema | None = None) -> str:
    """R11: ``{档号}-{NNNN}.{ext}`` for page ``seq`` (1..9999) of ``number``, the 档号 checked against ``schema``."""
    if not isinstance(number, DossierNumber):
        number = parse(number, schema)
    return page_file_name(number.text, seq, ext)


def page_file_name(number: str, seq: int, ext: str) -> str:
    """R11: ``{档号}-{NNNN}.{ext}`` for page ``seq`` (1..9999) of the catalog's 档号 ``number`` (already
    checked when it entered the catalog); ``ext`` as typed or a stored format ("jpeg", "tiff", "jp2").
    The one place a page file name is built."""
    if isinstance(seq, bool) or not isinstance(seq, int) or not 1 <= seq <= MAX_SEQ:
        raise InvalidInput(
            "Page number {seq} is out of range; pages are numbered 1 to {max}.",
            "页号 {seq} 超出范围；页号应为 1 到 {max}。",
            seq=seq,
            max=MAX_SEQ,
        )
    return f"{number}-{seq:04d}.{page_extension(ext)}"


def parse_file_name(name: str, schema: Schema | None = None) -> PageFileName:
    """The 档号, page number and format in a page file name; InvalidInput when it does not follow R11."""
    match = _PAGE_FILE_RE.fullmatch(name or "")
    ext = _EXT_ALIASES.get(match.group("ext")) if match else None
    if not match or ext is None or ext != match.group("ext"):
        raise InvalidInput(
            "'{name}' is not a page file name {{档号}}-{{NNNN}}.jpg|tif|jp2.",
            "“{name}”不是规范的页面文件名 {{档号}}-{{NNNN}}.jpg|tif|jp2。",
            name=name,
        )
    seq = int(match.group("seq"))
    if seq == 0:
        raise InvalidInput("'{name}': page numbers start at 0001.", "“{name}”：页号从 0001 开始。", name=name)
    return PageFileName(parse(match.group("number"), schema, strict=True), seq, ext)


def unsafe_name_reason(name: str) -> tuple[str, str] | None:
    """Why ``name`` cannot be a file or folder name on both Linux and Windows, or None when it can."""
    if not isinstance(name, str) or name == "":
        return "the name is empty", "名称为空"
    if name in (".", ".."):
        return f"'{name}' is not a name", f"“{name}”不是有效名称"
    bad = sorted({c for c in name if c in _WINDOWS_FORBIDDEN or ord(c) < 32 or ord(c) == 127})
    if bad:
        shown = " ".join(repr(c) for c in bad)
        return f"it contains characters not allowed in file names: {shown}", f"含有不能用于文件名的字符：{shown}"
    if name[-1] in ". ":
        return "it ends with a dot or a space, which Windows drops", "以点或空格结尾，Windows 会将其去掉"
    stem = name.split(".", 1)[0].rstrip(" ").upper()
    if stem in _WINDOWS_RESERVED:
        return f"'{stem}' is a device name reserved by Windows", f"“{stem}”是 Windows 保留的设备名"
    if len(name.encode("utf-8")) > 255 or len(name.encode("utf-16-le")) // 2 > 255:
        return "it is longer than 255 characters/bytes", "长度超过 255 个字符/字节"
    return None


def is_safe_file_name(name: str) -> bool:
    """True when ``name`` is usable as a file or folder name on Linux and on Windows."""
    return unsafe_name_reason(name) is None


__all__ = [
    "BUILT_IN",
    "DAT22_ITEM",
    "DossierNumber",
    "EXTENSIONS",
    "FieldSpec",
    "GROUP_SEP",
    "InvalidDossierNumber",
    "LEVEL_SEP",
    "PageFileName",
    "Problem",
    "SETTING_KEY",
    "SOCIAL_INSURANCE",
    "Schema",
    "default_schema",
    "canonical_in_text",
    "file_name",
    "format_number",
    "is_safe_file_name",
    "is_valid",
    "normalise",
    "ocr_pattern",
    "page_extension",
    "parse",
    "parse_file_name",
    "problems",
    "schema_for_home",
    "unsafe_name_reason",
]
