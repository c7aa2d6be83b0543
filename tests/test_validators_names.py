"""Tests for validators.names."""

from __future__ import annotations

import pytest

from validators.names import NameMatch, compare_names, normalize_name

COMPANY = "杭州鲜果时光食品有限公司"


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("杭州某某（上海）有限公司", "杭州某某(上海)有限公司"),
        ("杭州某某【上海】有限公司", "杭州某某(上海)有限公司"),
        ("杭州某某[上海]有限公司", "杭州某某(上海)有限公司"),
        ("杭州某某〔上海〕有限公司", "杭州某某(上海)有限公司"),
        (" 杭州某某 (上海) 有限公司 ", "杭州某某(上海)有限公司"),
        ("杭州某某\u3000有限公司\u200b", "杭州某某有限公司"),
        ("ＡＢＣ科技有限公司", "ABC科技有限公司"),
        ("杭州某某有限公司。", "杭州某某有限公司"),
        ("杭州某某有限公司.,;", "杭州某某有限公司"),
        ("某某便利店（个体工商户）", "某某便利店(个体工商户)"),  # closing bracket is kept
        ("迪丽热巴・迪力木拉提", "迪丽热巴·迪力木拉提"),
        (None, ""),
    ],
)
def test_normalize_name(raw, expected):
    assert normalize_name(raw) == expected


def test_normalize_keeps_case():
    assert normalize_name("abc科技有限公司") != normalize_name("ABC科技有限公司")


@pytest.mark.parametrize(
    "found",
    [
        "杭州某某(上海)有限公司",
        "杭州某某（上海）有限公司",
        "杭州某某【上海】有限公司",
        "杭州某某 ( 上海 ) 有限公司",
    ],
)
def test_bracket_variants_are_same(found):
    m = compare_names("杭州某某（上海）有限公司", found)
    assert m.status == "same"
    assert m.score == 100.0
    assert m.differences == []
    assert m.expected_normalized == m.found_normalized == "杭州某某(上海)有限公司"


def test_one_character_changed_is_near_not_same():
    m = compare_names(COMPANY, "杭州鲜果时代食品有限公司")
    assert m.status == "near"
    assert m.status != "same"
    assert 90 <= m.score < 100
    assert m.differences == ["position 6: expected 光, found 代"]


def test_one_character_inserted_and_deleted():
    m = compare_names(COMPANY, "杭州鲜果时代光食品有限公司")
    assert m.status == "near"
    assert m.differences == ["position 5: expected 时, found 时代"]
    m = compare_names(COMPANY, "杭州鲜果时食品有限公司")
    assert m.status == "near"
    assert m.differences == ["position 5: expected 时光, found 时"]


def test_full_width_vs_half_width_letters_same():
    assert compare_names("ＡＢＣ（中国）科技有限公司", "ABC(中国)科技有限公司").status == "same"


def test_unrelated_company_is_different():
    m = compare_names(COMPANY, "上海某某科技有限公司")
    assert m.status == "different"
    assert m.score < 60
    assert m.differences


def test_threshold_is_respected():
    found = "杭州鲜果时代食品有限公司"
    score = compare_names(COMPANY, found).score
    assert compare_names(COMPANY, found, near_threshold=score, near_edits=0).status == "near"
    assert compare_names(COMPANY, found, near_threshold=score + 0.01, near_edits=0).status == "different"


def test_short_names_one_char_off_are_near_by_edit_count():
    # fuzz.ratio on 4 characters with one substitution is 75, below the score band,
    # but one edit is still a near miss (a misread, or a look-alike company)
    m = compare_names("某某公司", "某甲公司")
    assert m.score == pytest.approx(75.0)
    assert m.status == "near"
    assert compare_names("某某公司", "某甲公司", near_edits=0).status == "different"
    assert compare_names("某某公司", "甲乙丙司").status == "different"


@pytest.mark.parametrize(
    ("expected", "found"), [("", ""), (None, None), (COMPANY, ""), ("", COMPANY), ("。", "。")]
)
def test_empty_names_never_same(expected, found):
    m = compare_names(expected, found)
    assert m.status == "different"
    assert m.score == 0.0


def test_name_match_model():
    m = compare_names(COMPANY, COMPANY)
    assert isinstance(m, NameMatch)
    assert m.model_dump() == {
        "score": 100.0,
        "status": "same",
        "expected_normalized": COMPANY,
        "found_normalized": COMPANY,
        "differences": [],
    }
    with pytest.raises(Exception):  # noqa: B017 - frozen pydantic model
        m.status = "near"


@pytest.mark.parametrize(("expected", "found", "status"), [
    ("舒云阁", "云舒", "different"),    # two edits on three characters: another brand (issue 11, 6a)
    ("云舒", "云纾", "near"),           # one character off on two: a misread or a look-alike
    ("鲜果时光", "鲜果时兴", "near"),
    ("鲜果时光", "果时光鲜", "different"),
    ("杭州鲜果时光食品有限公司", "杭州鲜果时兴食品有限公", "near"),  # two edits on twelve
])
def test_near_band_scales_with_length(expected, found, status):
    assert compare_names(expected, found, near_threshold=85.0).status == status
