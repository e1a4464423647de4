"""Retention periods (保管期限): the codes (R14), expiry arithmetic (R16) and the table by
business category (R15).

A dossier's retention is written into its 档号 and never guessed at scan time; the table tells
a clerk or an import which code a business category takes. The table is data an administrator
may edit (stored as a JSON list in the catalog settings); the seed below is the field's rule.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime

from scanstation.errors import InvalidInput, NotFound

SETTING_KEY = "retention.table"


@dataclass(frozen=True)
class RetentionCode:
    code: str
    years: int | None  # None: permanent, never expires
    zh: str
    en: str


# R14: the only codes a 档号 may carry, longest period first.
CODES: dict[str, RetentionCode] = {
    c.code: c
    for c in (
        RetentionCode("Y", None, "永久", "permanent"),
        RetentionCode("D100", 100, "定期100年", "100 years"),
        RetentionCode("D50", 50, "定期50年", "50 years"),
        RetentionCode("D30", 30, "定期30年", "30 years"),
        RetentionCode("D10", 10, "定期10年", "10 years"),
    )
}
CODE_LIST = "Y, D100, D50, D30, D10"
CODE_LIST_ZH = "Y（永久）、D100、D50、D30、D10"

# Ways departments write the period in their 目录 besides the code itself.
_SPOKEN = {"永久": "Y", "permanent": "Y"}
_YEARS_RE = re.compile(r"(?:定期)?\s*([0-9]{2,3})\s*(?:年|years?)?", re.IGNORECASE)
_FULLWIDTH = {c: c - 0xFEE0 for c in range(0xFF01, 0xFF5F)}


def is_code(text: str) -> bool:
    return text in CODES


def code_info(code: str) -> RetentionCode:
    """The code's description; InvalidInput naming the allowed codes when it is not one."""
    try:
        return CODES[code]
    except (KeyError, TypeError):
        raise InvalidInput(
            "'{code}' is not a retention code; use {codes}.",
            "“{code}”不是保管期限代码；应为 {codes_zh}。",
            code=code,
            codes=CODE_LIST,
            codes_zh=CODE_LIST_ZH,
        ) from None


def parse_code(text) -> str:
    """A retention period as written in a 目录 ("D30", "d30", "30年", "定期30年", "永久") → its code."""
    raw = "" if text is None else str(text)
    value = raw.translate(_FULLWIDTH).strip()
    upper = value.upper()
    if upper in CODES:
        return upper
    if value.lower() in _SPOKEN:
        return _SPOKEN[value.lower()]
    match = _YEARS_RE.fullmatch(value)
    if match and f"D{int(match.group(1))}" in CODES:
        return f"D{int(match.group(1))}"
    return code_info(raw).code  # raises with the allowed codes


def _formation_year(formed) -> int:
    if isinstance(formed, datetime):
        return formed.year
    if isinstance(formed, date):
        return formed.year
    if isinstance(formed, int) and not isinstance(formed, bool):
        return formed
    if isinstance(formed, str):
        match = re.match(r"\s*([0-9]{4})", formed)
        if match:
            return int(match.group(1))
    raise InvalidInput(
        "The formation date '{value}' has no year; give a date such as 2024-06-01.",
        "形成日期“{value}”中没有年份；请填写如 2024-06-01 的日期。",
        value=formed,
    )


def expiry_date(formed, code: str) -> date | None:
    """R16: 1 January of (formation year + 1 + N); None for Y (permanent).

    ``formed`` is a date, a datetime, a year or an ISO date string.
    """
    info = code_info(code)
    if info.years is None:
        return None
    return date(_formation_year(formed) + 1 + info.years, 1, 1)


def is_expired(formed, code: str, as_of: date | None = None) -> bool:
    """Whether the retention period has run out on ``as_of`` (today by default)."""
    expiry = expiry_date(formed, code)
    return expiry is not None and (as_of or date.today()) >= expiry


# -- the table by business category (R15) ---------------------------------------------------
@dataclass(frozen=True)
class RetentionRule:
    category: str  # business category as the field names it
    retention: str  # a code from CODES
    en: str = ""
    aliases: tuple[str, ...] = ()
    verified: bool = False  # True only for values taken from the standard (R15)
    note: str = ""

    def names(self) -> tuple[str, ...]:
        return (self.category,) + self.aliases

    def as_dict(self) -> dict:
        return {
            "category": self.category,
            "retention": self.retention,
            "en": self.en,
            "aliases": list(self.aliases),
            "verified": self.verified,
            "note": self.note,
        }


_R15_NOTE = "R15 (社会保险业务档案管理规定)"
_UNVERIFIED_NOTE = "Not in R15: check against the agency's own retention schedule."

SEED: tuple[RetentionRule, ...] = (
    RetentionRule("参保单位登记", "Y", "employer enrolment registration", ("单位参保登记",), True, _R15_NOTE),
    RetentionRule(
        "参保人员登记/关系变动",
        "D100",
        "insured person registration / relationship change",
        ("参保人员登记", "参保人员关系变动", "关系变动", "个人参保登记"),
        True,
        _R15_NOTE,
    ),
    RetentionRule("个人账户", "D100", "individual account", ("个人权益记录",), True, _R15_NOTE),
    RetentionRule("登记证", "D10", "registration certificate", ("社会保险登记证",), True, _R15_NOTE),
    RetentionRule(
        "社保卡/证/手册",
        "D50",
        "social security card / certificate / booklet",
        ("社保卡", "社会保障卡", "社保证", "社保手册"),
        True,
        _R15_NOTE,
    ),
    RetentionRule("统计年报", "Y", "annual statistical report", ("年报",), True, _R15_NOTE),
    RetentionRule(
        "统计月/季报",
        "D10",
        "monthly / quarterly statistical report",
        ("月/季报", "统计月报", "统计季报", "月报", "季报"),
        True,
        _R15_NOTE,
    ),
    RetentionRule("稽核/监察", "D30", "audit / inspection", ("稽核", "监察", "稽核监察"), True, _R15_NOTE),
    RetentionRule("生育待遇核定", "D10", "maternity benefit assessment", (), True, _R15_NOTE),
    RetentionRule("生育支付明细", "D30", "maternity payment details", ("生育待遇支付明细",), True, _R15_NOTE),
    # Common categories that R15 does not settle: proposals an administrator must confirm.
    RetentionRule(
        "基金征缴", "D30", "contribution collection", ("缴费申报", "社会保险费征缴"), False, _UNVERIFIED_NOTE
    ),
    RetentionRule("待遇核定", "D100", "benefit assessment", ("待遇审核",), False, _UNVERIFIED_NOTE),
    RetentionRule("待遇支付", "D30", "benefit payment", ("待遇发放",), False, _UNVERIFIED_NOTE),
    RetentionRule("关系转移", "D100", "relationship transfer", ("关系转移接续", "转移接续"), False, _UNVERIFIED_NOTE),
)


def _key(name: str) -> str:
    return re.sub(r"\s+", "", str(name).translate(_FULLWIDTH)).lower()


class RetentionTable:
    """Business category → retention code. Looks up by category name or any alias."""

    def __init__(self, rules):
        self.rules: tuple[RetentionRule, ...] = tuple(rules)
        self._by_name: dict[str, RetentionRule] = {}
        for rule in self.rules:
            if not rule.category.strip():
                raise InvalidInput("A retention rule has no business category.", "保管期限表中有一条规则缺少业务类别。")
            code_info(rule.retention)
            for name in rule.names():
                key = _key(name)
                other = self._by_name.get(key)
                if other is not None and other is not rule:
                    raise InvalidInput(
                        "The retention table names '{name}' twice ({a} and {b}); each category may appear once.",
                        "保管期限表中“{name}”出现了两次（{a} 与 {b}）；每个业务类别只能出现一次。",
                        name=name,
                        a=other.category,
                        b=rule.category,
                    )
                self._by_name[key] = rule

    def lookup(self, category: str) -> RetentionRule | None:
        return self._by_name.get(_key(category or ""))

    def retention_for(self, category: str) -> str:
        rule = self.lookup(category)
        if rule is None:
            raise NotFound(
                "The retention table has no business category '{c}'. Ask an administrator to add it.",
                "保管期限表中没有业务类别“{c}”。请管理员补充。",
                c=category,
            )
        return rule.retention

    def to_list(self) -> list[dict]:
        return [rule.as_dict() for rule in self.rules]

    @classmethod
    def from_list(cls, items) -> RetentionTable:
        if not isinstance(items, list):
            raise InvalidInput("The retention table must be a list of rules.", "保管期限表必须是规则列表。")
        rules = []
        for index, item in enumerate(items, 1):
            if not isinstance(item, dict) or not isinstance(item.get("category"), str):
                raise InvalidInput(
                    "Retention rule {n} has no business category.", "保管期限表第 {n} 条缺少业务类别。", n=index
                )
            aliases = item.get("aliases") or []
            if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
                raise InvalidInput(
                    "Retention rule {n}: aliases must be a list of names.",
                    "保管期限表第 {n} 条：别名必须是名称列表。",
                    n=index,
                )
            rules.append(
                RetentionRule(
                    category=item["category"].strip(),
                    retention=str(item.get("retention", "")).strip(),
                    en=str(item.get("en", "")),
                    aliases=tuple(a.strip() for a in aliases if a.strip()),
                    verified=bool(item.get("verified", False)),
                    note=str(item.get("note", "")),
                )
            )
        return cls(rules)

    def __iter__(self):
        return iter(self.rules)

    def __len__(self) -> int:
        return len(self.rules)


def default_table() -> RetentionTable:
    return RetentionTable(SEED)


def table_for_home(home) -> RetentionTable:
    """The home's configured table (setting ``retention.table``), or the seed."""
    stored = home.setting(SETTING_KEY)
    return RetentionTable.from_list(stored) if stored else default_table()


__all__ = [
    "CODES",
    "RetentionCode",
    "RetentionRule",
    "RetentionTable",
    "SEED",
    "SETTING_KEY",
    "code_info",
    "default_table",
    "expiry_date",
    "is_code",
    "is_expired",
    "parse_code",
    "table_for_home",
]
