"""Citizen ID numbers (GB 11643-1999, ISO 7064 MOD 11-2) and masking in lists (R40)."""

from __future__ import annotations

from datetime import date

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from scanstation import id_number
from scanstation.errors import InvalidInput

# The example printed in GB 11643-1999 itself.
STANDARD_EXAMPLE = "11010519491231002X"


def iso7064_check(first17: str) -> str:
    """ISO 7064 MOD 11-2 in its recursive form (a different route from the weight table)."""
    p = 0
    for digit in first17:
        p = ((p + int(digit)) * 2) % 11
    value = (12 - p) % 11
    return "X" if value == 10 else str(value)


valid_ids = st.builds(
    lambda region, born, seq: f"{region}{born:%Y%m%d}{seq:03d}",
    st.sampled_from(["110105", "310104", "440106", "510107", "650102", "820000", "911010"]),
    st.dates(min_value=date(1900, 1, 1), max_value=date(2020, 12, 31)),
    st.integers(0, 999),
).map(lambda first17: first17 + iso7064_check(first17))


def test_the_standards_own_example_is_valid():
    assert id_number.is_valid(STANDARD_EXAMPLE)
    assert id_number.check_char(STANDARD_EXAMPLE[:17]) == "X"
    assert id_number.birth_date(STANDARD_EXAMPLE) == date(1949, 12, 31)
    assert id_number.sex(STANDARD_EXAMPLE) == "female"


def test_spelling_variants_are_accepted():
    assert id_number.validate(" 11010519491231002x ") == STANDARD_EXAMPLE
    assert id_number.validate("１１０１０５１９４９１２３１００２Ｘ") == STANDARD_EXAMPLE


@pytest.mark.parametrize(
    "text, word",
    [
        ("110105194912310", "15"),
        ("1101051949123100", "16"),
        ("11010519491231002Y", "X"),
        ("00010519491231002X", "region"),
        ("990105194912310021", "region"),
        ("110105194902300021", "birth date"),
        ("110105180001010021", "plausible"),
        ("110105209901010021", "plausible"),
        ("110105194912310021", "check character"),
        ("", "empty"),
    ],
)
def test_invalid_numbers_say_why(text, word):
    why = id_number.problem(text, today=date(2025, 1, 1))
    assert why is not None and word in why[0] and why[1]
    with pytest.raises(InvalidInput) as caught:
        id_number.validate(text, today=date(2025, 1, 1))
    assert caught.value.zh.startswith("身份证号")
    if len(text) == 18:
        assert text not in caught.value.en  # the message itself does not leak the full number (R40)


@settings(max_examples=300, deadline=None)
@given(valid_ids)
def test_generated_numbers_agree_with_the_recursive_form(value):
    assert id_number.check_char(value[:17]) == value[17]
    assert id_number.is_valid(value, today=date(2025, 1, 1))


@settings(max_examples=300, deadline=None)
@given(valid_ids, st.integers(0, 16), st.integers(0, 9))
def test_every_single_digit_error_is_caught(value, position, digit):
    assume(value[position] != str(digit))
    wrong = value[:position] + str(digit) + value[position + 1 :]
    assert not id_number.is_valid(wrong, today=date(2025, 1, 1))


@settings(max_examples=300, deadline=None)
@given(valid_ids, st.integers(0, 15))
def test_every_adjacent_transposition_is_caught(value, position):
    a, b = value[position], value[position + 1]
    assume(a != b)
    wrong = value[:position] + b + a + value[position + 2 :]
    assert not id_number.is_valid(wrong, today=date(2025, 1, 1))


# -- R40: masking ---------------------------------------------------------------------------
def test_r40_mask_keeps_first_four_and_last_four():
    assert id_number.mask(STANDARD_EXAMPLE) == "1101**********002X"
    assert id_number.mask("11010519491231002x") == "1101**********002X"
    assert id_number.mask("1234567") == "*******"
    assert id_number.mask("") == "" and id_number.mask(None) == ""


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_r40_mask_never_raises_and_never_shows_the_middle(text):
    masked = id_number.mask(text)
    normal = id_number.normalise(text)
    assert len(masked) == len(normal)
    if len(normal) > 8:
        assert masked[4:-4] == "*" * (len(normal) - 8)
    else:
        assert set(masked) <= {"*"}
