"""Retention codes (R14), expiry arithmetic (R16) and the table by business category (R15)."""

from __future__ import annotations

import json
from datetime import date, datetime

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scanstation import retention
from scanstation.errors import InvalidInput, NotFound

R15 = {  # the field's rule, as PRODUCT.md states it
    "参保单位登记": "Y",
    "参保人员登记/关系变动": "D100",
    "个人账户": "D100",
    "登记证": "D10",
    "社保卡/证/手册": "D50",
    "统计年报": "Y",
    "统计月/季报": "D10",
    "稽核/监察": "D30",
    "生育待遇核定": "D10",
    "生育支付明细": "D30",
}


# -- R14 ----------------------------------------------------------------------------------
def test_r14_the_five_codes_with_their_names():
    assert list(retention.CODES) == ["Y", "D100", "D50", "D30", "D10"]
    assert retention.CODES["Y"].zh == "永久" and retention.CODES["Y"].years is None
    assert {c: i.years for c, i in retention.CODES.items() if i.years} == {"D100": 100, "D50": 50, "D30": 30, "D10": 10}
    assert all(info.zh and info.en for info in retention.CODES.values())


@pytest.mark.parametrize(
    "written, code",
    [
        ("Y", "Y"),
        ("永久", "Y"),
        ("D100", "D100"),
        ("d30", "D30"),
        ("30年", "D30"),
        ("定期30年", "D30"),
        (" 10 ", "D10"),
        ("Ｄ５０", "D50"),
        ("50 years", "D50"),
        (100, "D100"),
    ],
)
def test_r14_codes_as_departments_write_them(written, code):
    assert retention.parse_code(written) == code


@pytest.mark.parametrize("written", ["D20", "长期", "短期", "", None, "Y1", "20年", "D-30"])
def test_r14_unknown_codes_are_refused_with_the_allowed_list(written):
    with pytest.raises(InvalidInput) as caught:
        retention.parse_code(written)
    assert "D100" in caught.value.en and "永久" in caught.value.zh


# -- R16 ----------------------------------------------------------------------------------
def test_r16_expiry_formed_2024_06_01_d10_is_2035_01_01():
    assert retention.expiry_date(date(2024, 6, 1), "D10") == date(2035, 1, 1)
    assert retention.expiry_date("2024-06-01", "D10") == date(2035, 1, 1)
    assert retention.expiry_date(datetime(2024, 6, 1, 15, 30), "D10") == date(2035, 1, 1)
    assert retention.expiry_date(2024, "D10") == date(2035, 1, 1)


def test_r16_expiry_boundary_days():
    assert not retention.is_expired(date(2024, 6, 1), "D10", as_of=date(2034, 12, 31))
    assert retention.is_expired(date(2024, 6, 1), "D10", as_of=date(2035, 1, 1))
    assert (
        retention.expiry_date(date(2024, 1, 1), "D30")
        == retention.expiry_date(date(2024, 12, 31), "D30")
        == date(2055, 1, 1)
    )


def test_r16_permanent_never_expires():
    assert retention.expiry_date(date(1950, 1, 1), "Y") is None
    assert not retention.is_expired(date(1950, 1, 1), "Y", as_of=date(9999, 12, 31))


def test_r16_bad_input_is_refused():
    with pytest.raises(InvalidInput):
        retention.expiry_date(date(2024, 6, 1), "D20")
    with pytest.raises(InvalidInput):
        retention.expiry_date("sometime", "D10")


@settings(max_examples=200, deadline=None)
@given(
    st.dates(min_value=date(1949, 1, 1), max_value=date(2100, 12, 31)), st.sampled_from(["D100", "D50", "D30", "D10"])
)
def test_r16_expiry_is_first_january_after_n_full_years(formed, code):
    expiry = retention.expiry_date(formed, code)
    years = retention.CODES[code].years
    assert (expiry.month, expiry.day) == (1, 1)
    assert expiry.year == formed.year + 1 + years
    assert not retention.is_expired(formed, code, as_of=date(expiry.year - 1, 12, 31))
    assert retention.is_expired(formed, code, as_of=expiry)


# -- R15 ----------------------------------------------------------------------------------
def test_r15_seed_is_exactly_the_field_rule_and_verified():
    table = retention.default_table()
    verified = {rule.category: rule.retention for rule in table if rule.verified}
    assert verified == R15


def test_r15_other_categories_are_marked_unverified():
    table = retention.default_table()
    unverified = {rule.category for rule in table if not rule.verified}
    assert {"基金征缴", "待遇支付", "关系转移"} <= unverified
    assert not unverified & set(R15)
    assert all(rule.note for rule in table)


@pytest.mark.parametrize(
    "name, code",
    [
        ("参保人员登记", "D100"),
        ("参保人员关系变动", "D100"),
        ("关系变动", "D100"),
        ("社会保障卡", "D50"),
        ("社保手册", "D50"),
        ("统计月报", "D10"),
        ("季报", "D10"),
        ("稽核", "D30"),
        ("监察", "D30"),
        (" 参保单位登记 ", "Y"),
        ("生育支付明细", "D30"),
    ],
)
def test_r15_lookup_by_category_or_alias(name, code):
    assert retention.default_table().retention_for(name) == code


def test_r15_unknown_category_says_who_adds_it():
    with pytest.raises(NotFound) as caught:
        retention.default_table().retention_for("失业金申领")
    assert "administrator" in caught.value.en and "管理员" in caught.value.zh
    assert retention.default_table().lookup("失业金申领") is None


def test_r15_table_is_editable_through_json():
    stored = json.loads(json.dumps(retention.default_table().to_list(), ensure_ascii=False))
    again = retention.RetentionTable.from_list(stored)
    assert again.rules == retention.default_table().rules
    for item in stored:
        if item["category"] == "基金征缴":
            item["retention"], item["verified"] = "D10", True
    stored.append({"category": "失业金申领", "retention": "D30", "aliases": ["失业保险金申领"]})
    edited = retention.RetentionTable.from_list(stored)
    assert edited.retention_for("基金征缴") == "D10" and edited.lookup("基金征缴").verified
    assert edited.retention_for("失业保险金申领") == "D30"
    assert not edited.lookup("失业金申领").verified


@pytest.mark.parametrize(
    "items",
    [
        [{"category": "基金征缴", "retention": "D20"}],
        [{"category": "", "retention": "D30"}],
        [{"retention": "D30"}],
        [{"category": "A", "retention": "D30"}, {"category": "B", "retention": "D10", "aliases": ["a"]}],
        [{"category": "A", "retention": "D30", "aliases": "B"}],
        {"category": "A"},
    ],
)
def test_r15_broken_tables_are_refused(items):
    with pytest.raises(InvalidInput):
        retention.RetentionTable.from_list(items)


def test_r15_table_for_home_reads_the_setting(tmp_path):
    from scanstation.home import Home

    home = Home.create(tmp_path / "home", "X001", "S01")
    try:
        assert retention.table_for_home(home).rules == retention.SEED
        home.set_setting(retention.SETTING_KEY, [{"category": "个人账户", "retention": "Y", "verified": True}])
        assert retention.table_for_home(home).retention_for("个人账户") == "Y"
    finally:
        home.close()
