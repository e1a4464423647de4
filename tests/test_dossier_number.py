"""档号 rules R11–R13: schema, normalisation, parsing with reasons, file names."""

from __future__ import annotations

import json

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from scanstation import dossier_number as dn
from scanstation.errors import InvalidInput
from scanstation.i18n import set_language

SAMPLE = "X001-ZY·DJ·2024·D100-0001-001"


def field_values(schema: dn.Schema):
    """Valid values for every field of ``schema``, drawn from the field's own rule."""
    parts = {}
    for spec in schema.fields:
        if spec.kind == "code":
            parts[spec.key] = st.from_regex(f"\\A(?:{spec.pattern})\\Z", fullmatch=True)
        elif spec.kind == "year":
            parts[spec.key] = st.integers(spec.minimum, spec.maximum)
        elif spec.kind == "retention":
            parts[spec.key] = st.sampled_from(["Y", "D100", "D50", "D30", "D10"])
        else:
            parts[spec.key] = st.integers(1, 10**spec.width - 1)
    return st.fixed_dictionaries(parts)


# -- R13: grammar and fields --------------------------------------------------------------
def test_r13_default_schema_parses_the_social_insurance_example():
    number = dn.parse(SAMPLE)
    assert number.text == SAMPLE
    assert number.fields == {
        "fonds": "X001",
        "category": "ZY",
        "klass": "DJ",
        "year": "2024",
        "retention": "D100",
        "volume": "0001",
        "item": "001",
    }
    assert (number.fonds, number.year, number.retention, number.volume, number.item) == (
        "X001",
        2024,
        "D100",
        "0001",
        "001",
    )
    assert number.category_group == "ZY·DJ"
    assert dn.default_schema().layout_zh == "全宗号-门类·类别·年度·保管期限-案卷号-件号"
    assert dn.default_schema().example == SAMPLE


def test_r13_dat22_by_item_profile():
    number = dn.parse("X001-WS·2024·D30-0001", dn.DAT22_ITEM)
    assert number.fields == {"fonds": "X001", "category": "WS", "year": "2024", "retention": "D30", "item": "0001"}
    assert number.category_group == "WS"
    assert dn.DAT22_ITEM.layout_zh == "全宗号-门类·年度·保管期限-件号"
    assert not dn.is_valid("X001-WS·2024·D30-0001")  # not the default schema's shape
    assert not dn.is_valid(SAMPLE, dn.DAT22_ITEM)


@pytest.mark.parametrize("dot", ["・", "•", "．", "‧", "∙", "⋅", "･", "\u0387", "\u2e31"])
def test_r13_lookalike_dots_normalise_to_u00b7(dot):
    typed = SAMPLE.replace("·", dot)
    assert dn.normalise(typed) == SAMPLE
    assert dn.parse(typed).text == SAMPLE


@pytest.mark.parametrize("dash", ["－", "–", "—", "‐", "‑", "−", "﹣"])
def test_r13_lookalike_dashes_and_fullwidth_normalise(dash):
    typed = "　Ｘ００１" + dash + "ＺＹ·ＤＪ·２０２４·Ｄ１００" + dash + "0001" + dash + "001\u200b "
    assert dn.normalise(typed) == SAMPLE
    assert dn.parse(typed).text == SAMPLE


def test_r13_strict_mode_refuses_lookalikes_instead_of_normalising():
    typed = SAMPLE.replace("·", "・")
    found = dn.problems(typed, strict=True)
    assert len(found) == 1 and found[0].field is None
    assert SAMPLE in found[0].en and SAMPLE in found[0].zh
    assert dn.problems(SAMPLE, strict=True) == []


def test_r13_ascii_full_stop_from_a_keyboard_mode_barcode_gun_is_read_as_the_middle_dot():
    typed = SAMPLE.replace("·", ".")  # keyboard-mode barcode guns cannot type "·"
    assert dn.normalise(typed) == SAMPLE
    assert dn.problems(typed) == []
    assert dn.parse(typed).text == SAMPLE
    mixed = SAMPLE.replace("·", ".", 1).replace("·", "・", 1)
    assert dn.normalise(mixed) == SAMPLE
    assert dn.problems(typed, strict=True), "a package must carry the canonical spelling"
    # a "." where the schema has no group separator still fails, naming the part
    wrong = SAMPLE.replace("-0001-", ".0001-")
    found = dn.problems(wrong)
    assert found and any("·" in p.zh for p in found)


@pytest.mark.parametrize(
    "text, field, value",
    [
        ("X1-ZY·DJ·2024·D100-0001-001", "fonds", "X1"),
        ("X001-Z·DJ·2024·D100-0001-001", "category", "Z"),
        ("X001-ZY·D1·2024·D100-0001-001", "klass", "D1"),
        ("X001-ZY·DJ·24·D100-0001-001", "year", "24"),
        ("X001-ZY·DJ·1948·D100-0001-001", "year", "1948"),
        ("X001-ZY·DJ·2101·D100-0001-001", "year", "2101"),
        ("X001-ZY·DJ·2024·D20-0001-001", "retention", "D20"),
        ("X001-ZY·DJ·2024·永久-0001-001", "retention", "永久"),
        ("X001-ZY·DJ·2024·D100-001-001", "volume", "001"),
        ("X001-ZY·DJ·2024·D100-0000-001", "volume", "0000"),
        ("X001-ZY·DJ·2024·D100-0001-1", "item", "1"),
        ("X001-ZY·DJ·2024·D100-0001-00A", "item", "00A"),
    ],
)
def test_r13_each_failing_field_is_named_with_a_reason_in_both_languages(text, field, value):
    found = dn.problems(text)
    assert [p.field for p in found] == [field]
    problem = found[0]
    assert value in problem.en and value in problem.zh
    with pytest.raises(dn.InvalidDossierNumber) as caught:
        dn.parse(text)
    assert isinstance(caught.value, InvalidInput)
    assert caught.value.field == field
    assert problem.en in caught.value.en and problem.zh in caught.value.zh


def test_r13_every_reason_is_reported_not_only_the_first():
    found = dn.problems("x001-zy·dj·24·D20-1-0000")
    assert [p.field for p in found] == ["fonds", "category", "klass", "year", "retention", "volume", "item"]
    assert "X001" in found[0].en  # lower case: says how to write it


def test_r13_structure_errors():
    assert [p.field for p in dn.problems("X001-ZY·DJ·2024·D100-0001")] == [None]
    assert "4" in dn.problems("X001-ZY·DJ·2024·D100-0001")[0].en
    group = dn.problems("X001-ZY·DJ·2024-0001-001-001")
    assert group and "·" in group[0].en
    assert dn.problems("")[0].field is None
    assert dn.problems("   ")[0].field is None
    assert dn.problems(None)[0].field is None
    assert any("space" in p.en for p in dn.problems("X001-ZY·DJ·2024·D100-0001 -001"))
    assert any("file names" in p.en for p in dn.problems("X001-ZY·DJ·2024·D100-0001-0/1"))


def test_r13_problem_text_follows_the_language():
    problem = dn.problems("X001-ZY·DJ·24·D100-0001-001")[0]
    try:
        set_language("en")
        assert str(problem) == problem.en
        set_language("zh_CN")
        assert str(problem) == problem.zh
    finally:
        set_language(None)


def test_r13_format_number_pads_and_validates():
    fields = {
        "fonds": "X001",
        "category": "ZY",
        "klass": "DJ",
        "year": 2024,
        "retention": "D100",
        "volume": 1,
        "item": 1,
    }
    assert dn.format_number(fields) == SAMPLE
    with pytest.raises(InvalidInput):
        dn.format_number({**fields, "item": 1000})
    with pytest.raises(InvalidInput):
        dn.format_number({k: v for k, v in fields.items() if k != "year"})
    with pytest.raises(InvalidInput):
        dn.format_number({**fields, "colour": "red"})
    with pytest.raises(InvalidInput):
        dn.format_number({**fields, "klass": "D·J"})  # a value must not smuggle a separator in


# -- R13: configurable schema ------------------------------------------------------------
@pytest.mark.parametrize("schema", [dn.SOCIAL_INSURANCE, dn.DAT22_ITEM])
def test_r13_schema_survives_json_round_trip(schema):
    stored = json.loads(json.dumps(schema.as_dict(), ensure_ascii=False))
    again = dn.Schema.from_dict(stored)
    assert again == schema
    assert dn.parse(schema.example, again).text == schema.example


def test_r13_custom_schema_from_settings_dict():
    custom = dn.SOCIAL_INSURANCE.as_dict()
    custom["name"] = "city-five-digit-volume"
    custom["levels"][2][0]["width"] = 5
    schema = dn.Schema.from_dict(custom)
    assert dn.is_valid("X001-ZY·DJ·2024·D100-00001-001", schema)
    assert [p.field for p in dn.problems(SAMPLE, schema)] == ["volume"]
    assert dn.Schema.from_dict({"name": "dat22-item"}) is dn.DAT22_ITEM


@pytest.mark.parametrize(
    "breakage",
    [
        lambda d: d["levels"][0][0].update(kind="colour"),
        lambda d: d["levels"][0][0].update(pattern="[A-Z"),
        lambda d: d["levels"][0][0].update(pattern="[A-Z]*"),
        lambda d: d["levels"][2][0].update(width=0),
        lambda d: d["levels"][1].pop(2),  # no year field
        lambda d: d["levels"][0][0].update(key="year2"),  # no fonds field
        lambda d: d["levels"][3][0].update(key="volume"),  # duplicate key
        lambda d: d["levels"].append([]),
        lambda d: d["levels"][0][0].update(colour="red"),
        lambda d: d["levels"][1][2].update(minimum="1949"),
        lambda d: d["levels"][2][0].update(width="4"),
        lambda d: d["levels"][0][0].update(pattern=5),
        lambda d: d.update(levels="fonds-year"),
        lambda d: d["levels"][0].append("fonds"),
    ],
)
def test_r13_broken_schema_is_refused_with_a_reason(breakage):
    data = dn.SOCIAL_INSURANCE.as_dict()
    breakage(data)
    with pytest.raises(InvalidInput) as caught:
        dn.Schema.from_dict(data)
    assert "schema" in caught.value.en and "档号结构" in caught.value.zh


def test_r13_schema_for_home_reads_the_setting(tmp_path):
    from scanstation.home import Home

    home = Home.create(tmp_path / "home", "X001", "S01")
    try:
        assert dn.schema_for_home(home) is dn.SOCIAL_INSURANCE
        home.set_setting(dn.SETTING_KEY, dn.DAT22_ITEM.as_dict())
        assert dn.schema_for_home(home) == dn.DAT22_ITEM
    finally:
        home.close()


# -- R11: file names ----------------------------------------------------------------------
def test_r11_page_file_names():
    number = dn.parse(SAMPLE)
    assert dn.file_name(number, 1, "jpg") == SAMPLE + "-0001.jpg"
    assert dn.file_name(SAMPLE, 9999, ".TIFF") == SAMPLE + "-9999.tif"
    assert dn.file_name(number, 12, "jp2") == SAMPLE + "-0012.jp2"
    for seq in (0, 10000, -1, True, 1.0):
        with pytest.raises(InvalidInput):
            dn.file_name(number, seq, "jpg")
    with pytest.raises(InvalidInput):
        dn.file_name(number, 1, "png")
    with pytest.raises(InvalidInput):
        dn.file_name("X001-ZY·DJ·24·D100-0001-001", 1, "jpg")


def test_r11_parse_file_name():
    parsed = dn.parse_file_name(SAMPLE + "-0012.tif")
    assert (parsed.number.text, parsed.seq, parsed.ext) == (SAMPLE, 12, "tif")
    for bad in (
        SAMPLE + "-0000.jpg",
        SAMPLE + "-12.jpg",
        SAMPLE + "-0001.png",
        SAMPLE + ".jpg",
        SAMPLE.replace("·", "・") + "-0001.jpg",
        SAMPLE + "-0001.JPG",
    ):
        with pytest.raises(InvalidInput):
            dn.parse_file_name(bad)


@pytest.mark.parametrize(
    "name, safe",
    [
        (SAMPLE, True),
        ("档号 2024", True),
        ("CON", False),
        ("con.txt", False),
        ("LPT1", False),
        ("COM¹", False),
        ("a:b", False),
        ("a/b", False),
        ("a\\b", False),
        ("a?", False),
        ("a\x00b", False),
        ("name.", False),
        ("name ", False),
        (".", False),
        ("..", False),
        ("", False),
        ("a" * 255, True),
        ("a" * 256, False),
        ("档" * 85, True),
        ("档" * 86, False),
        ("CONSOLE", True),
    ],
)
def test_safe_file_names_on_linux_and_windows(name, safe):
    assert dn.is_safe_file_name(name) is safe
    assert (dn.unsafe_name_reason(name) is None) is safe


# -- properties ----------------------------------------------------------------------------
@pytest.mark.parametrize("schema", [dn.SOCIAL_INSURANCE, dn.DAT22_ITEM])
@settings(max_examples=150, deadline=None)
@given(data=st.data())
def test_r13_format_then_parse_round_trips(schema, data):
    fields = data.draw(field_values(schema))
    text = dn.format_number(fields, schema)
    number = dn.parse(text, schema, strict=True)
    assert number.text == text
    for spec in schema.fields:
        value = fields[spec.key]
        expected = f"{value:0{spec.width}d}" if spec.kind == "number" else str(value)
        assert number.fields[spec.key] == expected
    assert number.year == fields["year"]
    assert dn.is_safe_file_name(text)
    assert dn.parse_file_name(dn.file_name(number, 1, "jpg"), schema).number == number


NUMBERISH = st.text(alphabet="X0123456789ZYDJWS-·.・•．－— \u3000Ｘ０", max_size=40)


@settings(max_examples=300, deadline=None)
@given(st.one_of(st.text(), NUMBERISH))
@example("")
@example(SAMPLE.replace("·", "．"))
def test_normalise_is_idempotent(text):
    once = dn.normalise(text)
    assert dn.normalise(once) == once
    assert not any(c in once for c in dn.LOOKALIKE_DOTS + dn.LOOKALIKE_DASHES + dn.INVISIBLE)


@settings(max_examples=200, deadline=None)
@given(
    st.sampled_from(list(dn.LOOKALIKE_DOTS)),
    st.text(alphabet="AB12-", max_size=6),
    st.text(alphabet="AB12-", max_size=6),
)
def test_any_lookalike_dot_normalises_to_middle_dot(dot, left, right):
    assert dn.normalise(left + dot + right) == left + "·" + right
    assert dn.normalise(dot) == "·"


@settings(max_examples=400, deadline=None)
@given(
    st.one_of(
        st.text(),
        NUMBERISH,
        st.builds(lambda i, c: SAMPLE[:i] + c + SAMPLE[i + 1 :], st.integers(0, len(SAMPLE)), st.characters()),
    )
)
def test_random_strings_raise_only_invalid_input(text):
    try:
        number = dn.parse(text)
    except InvalidInput as error:
        assert error.en and error.zh
        assert error.problems and all(p.en and p.zh for p in error.problems)
    else:
        assert number.text == dn.normalise(text)
        assert dn.is_safe_file_name(number.text)
