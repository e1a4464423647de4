"""Chinese citizen ID numbers (公民身份号码, GB 11643-1999) and their masking in lists (R40).

18 characters: a 6-digit administrative region code, the birth date YYYYMMDD, a 3-digit
sequence (odd for men, even for women) and an ISO 7064 MOD 11-2 check character (0-9 or X).
The region is checked at province level only: county codes change over the years and an
old number stays valid for life. The 2023 permanent-residence card for foreigners
(9 + province code) follows the same rules and is accepted.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

from scanstation.errors import InvalidInput

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"  # index: weighted sum mod 11
PROVINCES = frozenset(
    {
        11,
        12,
        13,
        14,
        15,
        21,
        22,
        23,
        31,
        32,
        33,
        34,
        35,
        36,
        37,
        41,
        42,
        43,
        44,
        45,
        46,
        50,
        51,
        52,
        53,
        54,
        61,
        62,
        63,
        64,
        65,
        71,
        81,
        82,
        83,
    }
)
EARLIEST_BIRTH_YEAR = 1890

_SHAPE_RE = re.compile(r"[0-9]{17}[0-9X]")
_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}


def normalise(text) -> str:
    """Trimmed, half-width, with a lower-case x check character made upper-case."""
    value = "" if text is None else str(text)
    return re.sub(r"\s+", "", value.translate(_FULLWIDTH)).upper()


def check_char(first17: str) -> str:
    """The MOD 11-2 check character for the first 17 digits."""
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise InvalidInput(
            "A check character needs exactly 17 digits, got '{v}'.",
            "计算校验码需要 17 位数字，实际为“{v}”。",
            v=first17,
        )
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS)) % 11]


def problem(text, today: date | None = None) -> tuple[str, str] | None:
    """None when ``text`` is a valid ID number; otherwise why not, as (en, zh)."""
    value = normalise(text)
    if not value:
        return "the ID number is empty", "身份证号为空"
    if len(value) == 15 and value.isdigit():
        return (
            "it is an old 15-digit number; use the 18-digit number on the current ID card",
            "这是旧的 15 位号码；请使用现行身份证上的 18 位号码",
        )
    if len(value) != 18:
        return f"it has {len(value)} characters instead of 18", f"长度为 {len(value)} 位，应为 18 位"
    if not _SHAPE_RE.fullmatch(value):
        return ("it must be 17 digits followed by a digit or X", "应为 17 位数字加 1 位数字或 X")
    province = int(value[1:3]) if value[0] == "9" else int(value[:2])
    if province not in PROVINCES:
        return f"the region code {value[:6]} does not exist", f"地区码 {value[:6]} 不存在"
    try:
        born = date(int(value[6:10]), int(value[10:12]), int(value[12:14]))
    except ValueError:
        return f"the birth date {value[6:14]} is not a date", f"出生日期 {value[6:14]} 不是有效日期"
    if born.year < EARLIEST_BIRTH_YEAR or born > (today or date.today()):
        return f"the birth date {born.isoformat()} is not plausible", f"出生日期 {born.isoformat()} 不合理"
    expected = check_char(value[:17])
    if value[17] != expected:
        return (
            f"the check character is {value[17]} but should be {expected}; the number was mistyped",
            f"校验码为 {value[17]}，应为 {expected}；号码有误",
        )
    return None


def is_valid(text, today: date | None = None) -> bool:
    return problem(text, today) is None


def validate(text, today: date | None = None, rule: MaskRule | str | None = None) -> str:
    """The normalised ID number; InvalidInput with the reason (the number masked by ``rule``) when it is not valid."""
    why = problem(text, today)
    if why:
        raise InvalidInput(
            "The ID number '{v}' is not valid: {why}. Check it against the ID card.",
            "身份证号“{v}”无效：{why_zh}。请对照身份证核对。",
            v=mask(text, rule),
            why=why[0],
            why_zh=why[1],
        )
    return normalise(text)


def birth_date(text) -> date:
    value = validate(text)
    return date(int(value[6:10]), int(value[10:12]), int(value[12:14]))


def sex(text) -> str:
    """ "male" or "female" from the sequence digit."""
    return "male" if int(validate(text)[16]) % 2 else "female"


# -- masking (R40): the station's one rule, used by every list, snippet, export and report ----
MASK_SETTING = "privacy.id_mask_keep"
DEFAULT_MASK_KEEP = "4+4"
# at most the 6-digit region code and the check part: the birth date (characters 7-14) stays hidden
MAX_HEAD, MAX_TAIL = 6, 4
_KEEP_RE = re.compile(r"\s*([0-9])\s*\+\s*([0-9])\s*")


@dataclass(frozen=True)
class MaskRule:
    """How many characters of an ID number stay visible at the start and at the end."""

    head: int = 4
    tail: int = 4

    def __str__(self) -> str:
        return f"{self.head}+{self.tail}"


DEFAULT_MASK_RULE = MaskRule(4, 4)


def mask_keep_problem(value) -> tuple[str, str] | None:
    """None when ``value`` is a valid ``privacy.id_mask_keep`` ("4+4": first 4 and last 4 kept); else why not."""
    match = _KEEP_RE.fullmatch(value) if isinstance(value, str) else None
    if match is None:
        return (
            "write it as <first>+<last>, e.g. 4+4",
            "应写作 <前几位>+<后几位>，例如 4+4",
        )
    head, tail = int(match.group(1)), int(match.group(2))
    if head > MAX_HEAD or tail > MAX_TAIL:
        return (
            f"at most the first {MAX_HEAD} and the last {MAX_TAIL} characters may stay visible (the birth date stays hidden)",
            f"最多保留前 {MAX_HEAD} 位和后 {MAX_TAIL} 位（出生日期必须隐藏）",
        )
    return None


def parse_mask_keep(value) -> MaskRule:
    """The rule written as "4+4"; InvalidInput when it is not a valid one."""
    why = mask_keep_problem(value)
    if why:
        raise InvalidInput(
            "'{v}' is not a valid {key}: {why}.",
            "“{v}”不是有效的 {key}：{why_zh}。",
            v=value,
            key=MASK_SETTING,
            why=why[0],
            why_zh=why[1],
        )
    match = _KEEP_RE.fullmatch(value)
    assert match is not None
    return MaskRule(int(match.group(1)), int(match.group(2)))


def mask(text, rule: MaskRule | str | None = None) -> str:
    """For lists (R40): by default the first 4 and last 4 characters kept, the rest starred:
    1101**********123X. ``rule`` is the station's (``settings.id_mask_rule(home)``) or "H+T".

    Never raises on the value: a malformed value is masked as well, short values entirely.
    """
    if rule is None:
        rule = DEFAULT_MASK_RULE
    elif isinstance(rule, str):
        rule = parse_mask_keep(rule)
    value = normalise(text)
    if len(value) <= rule.head + rule.tail:
        return "*" * len(value)
    return value[: rule.head] + "*" * (len(value) - rule.head - rule.tail) + value[len(value) - rule.tail :]


# 18-digit ID (last may be X), 15-digit old ID; bank card numbers 16-19 digits, maybe grouped by 4.
_ID18 = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{16}[0-9Xx](?![0-9A-Za-z])")
_ID15 = re.compile(r"(?<![0-9A-Za-z])[1-9][0-9]{14}(?![0-9A-Za-z])")
_BANK = re.compile(r"(?<![0-9A-Za-z])(?:[0-9]{16,19}|[0-9]{4}(?:[ -][0-9]{4}){3}(?:[ -][0-9]{1,4})?)(?![0-9A-Za-z])")


def mask_bank_number(value: str) -> str:
    """A bank card or account number: only the last 4 digits stay visible."""
    digits = re.sub(r"[\s-]", "", value or "")
    if not digits:
        return ""
    return "*" * max(len(digits) - 4, 0) + digits[-4:]


def mask_text(text: str, rule: MaskRule | str | None = None) -> str:
    """Every ID number (masked by ``rule``) and bank number written anywhere in free text (OCR text,
    remarks, audit values, a search query), masked."""
    if not text:
        return text or ""
    text = _ID18.sub(lambda m: mask(m.group(0), rule), text)
    text = _ID15.sub(lambda m: mask(m.group(0), rule), text)
    return _BANK.sub(lambda m: mask_bank_number(m.group(0)), text)


__all__ = [
    "DEFAULT_MASK_RULE",
    "MASK_SETTING",
    "MaskRule",
    "birth_date",
    "check_char",
    "is_valid",
    "mask",
    "mask_bank_number",
    "mask_keep_problem",
    "mask_text",
    "normalise",
    "parse_mask_keep",
    "problem",
    "sex",
    "validate",
]
