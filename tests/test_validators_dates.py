"""Tests for validators.dates."""

from __future__ import annotations

import datetime

import pytest
from stdnum.exceptions import InvalidComponent, InvalidFormat, ValidationError

from validators import dates
from validators.dates import LONG_TERM, find_dates, parse_date, parse_period, parse_validity

D = datetime.date
MARCH_15 = D(2018, 3, 15)


@pytest.mark.parametrize(
    "text",
    [
        "2018年03月15日",
        "2018年3月15日",
        "2018年3月15号",
        "2018年3月15",
        "2018-03-15",
        "2018.03.15",
        "2018/3/15",
        "2018/03/15",
        "2018-3-15",
        "20180315",
        "二〇一八年三月十五日",
        "二零一八年三月十五日",
        "二O一八年三月十五日",  # Latin O read for 〇
        "二o一八年三月十五日",
        "二○一八年三月十五日",  # U+25CB white circle
        "二Ｏ一八年三月十五日",  # full-width O
        "2018 年 03 月 15 日",
        "  2018年03月15日  ",
        "2018年03月15日。",
        "２０１８年０３月１５日",
        "２０１８－０３－１５",
        "２０１８．０３．１５",
        "2O18年O3月15日",  # O for 0 with 年月日 markers
        "2018\u3000年\u300003\u3000月\u300015\u3000日",  # ideographic spaces
    ],
)
def test_parse_date_forms(text):
    assert parse_date(text) == MARCH_15


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("二〇二一年九月十六日", D(2021, 9, 16)),
        ("二〇二〇年十二月三十一日", D(2020, 12, 31)),
        ("二〇二〇年二月二十日", D(2020, 2, 20)),
        ("二〇二〇年二月十日", D(2020, 2, 10)),
        ("二〇二〇年十月一日", D(2020, 10, 1)),
        ("二〇二〇年十一月廿一日", D(2020, 11, 21)),
        ("二〇二〇年一月卅一日", D(2020, 1, 31)),
        ("二〇二〇年二月二十九日", D(2020, 2, 29)),  # leap year
        ("1999.12.31", D(1999, 12, 31)),
        ("2049/4/12", D(2049, 4, 12)),
    ],
)
def test_parse_date_values(text, expected):
    assert parse_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "2018-02-30",
        "2018年02月30日",
        "二〇一九年二月二十九日",  # not a leap year
        "2018-13-01",
        "2018-00-10",
        "2018-04-31",
        "2018-01-00",
        "20180230",
        "0218-03-15",  # year outside 1900-2199
        "7018年03月15日",
        "二〇一八年十三月一日",
    ],
)
def test_parse_date_impossible(text):
    with pytest.raises(InvalidComponent):
        parse_date(text)


@pytest.mark.parametrize(
    "text",
    [
        "",
        " ",
        "😀",
        "hello",
        "2018-03",
        "2018-03/15",  # mixed separators
        "2018年03月15日至2038年03月14日",  # a period is not a date
        "2018年03月15日 2038年03月14日",
        "201803150",
        "二〇一八年十十月一日",
        "长期",
        "\x00",
    ],
)
def test_parse_date_junk(text):
    with pytest.raises(InvalidFormat):
        parse_date(text)


@pytest.mark.parametrize("junk", [None, 20180315, b"2018-03-15", 3.5])
def test_date_functions_reject_non_strings(junk):
    for func in (parse_date, parse_validity, parse_period):
        with pytest.raises(ValidationError):
            func(junk)
    assert find_dates(junk) == []


@pytest.mark.parametrize(
    "text",
    [
        "长期", "永久", "长期有效", "永久有效", "不约定期限", "无固定期限",
        " 长 期 ", "******", "＊＊＊＊＊＊", "**", "至长期",
    ],
)
def test_parse_validity_long_term(text):
    assert parse_validity(text) == LONG_TERM == "long_term"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2038年03月14日", D(2038, 3, 14)),
        ("2038-03-14", D(2038, 3, 14)),
        ("至2038年03月14日", D(2038, 3, 14)),
    ],
)
def test_parse_validity_date(text, expected):
    assert parse_validity(text) == expected


@pytest.mark.parametrize("text", ["长", "*", "短期", "2038年02月30日", "", "长期2038"])
def test_parse_validity_rejects(text):
    with pytest.raises(ValidationError):
        parse_validity(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("2018年03月15日至2038年03月14日", (MARCH_15, D(2038, 3, 14))),
        ("2018年03月15日 至 长期", (MARCH_15, LONG_TERM)),
        ("自2018-03-15至2038-03-14", (MARCH_15, D(2038, 3, 14))),
        ("2018年03月15日至******", (MARCH_15, LONG_TERM)),
        ("2018年03月15日至 ****** ", (MARCH_15, LONG_TERM)),
        ("自2018年03月15日起至2038年03月14日止", (MARCH_15, D(2038, 3, 14))),
        ("2018-03-15 ~ 2038-03-14", (MARCH_15, D(2038, 3, 14))),
        ("2018-03-15～2038-03-14", (MARCH_15, D(2038, 3, 14))),
        ("2018-03-15 - 2038-03-14", (MARCH_15, D(2038, 3, 14))),
        ("2018.03.15—2038.03.14", (MARCH_15, D(2038, 3, 14))),
        ("20180315-20380314", (MARCH_15, D(2038, 3, 14))),
        ("二〇一八年三月十五日至二〇三八年三月十四日", (MARCH_15, D(2038, 3, 14))),
        ("2018年03月15日到永久", (MARCH_15, LONG_TERM)),
        ("２０１８年０３月１５日至長期".replace("長", "长"), (MARCH_15, LONG_TERM)),
        ("2018年03月15日起", (MARCH_15, None)),
        ("2018年03月15日至", (MARCH_15, None)),
        ("至2038年03月14日", (None, D(2038, 3, 14))),
        ("长期", (None, LONG_TERM)),
        ("2018年03月15日至2018年03月15日", (MARCH_15, MARCH_15)),
    ],
)
def test_parse_period(text, expected):
    assert parse_period(text) == expected


@pytest.mark.parametrize(
    ("text", "exc"),
    [
        ("2018年03月15日", InvalidFormat),  # bare date: start or end?
        ("", InvalidFormat),
        ("至", InvalidFormat),
        ("hello至world", InvalidFormat),
        ("2018年03月15日至2038年0", InvalidFormat),
        ("2018年02月30日至2038年03月14日", InvalidComponent),
        ("2018年03月15日至2038年02月30日", InvalidComponent),
        ("2038年03月14日至2018年03月15日", InvalidComponent),  # ends before it starts
    ],
)
def test_parse_period_rejects(text, exc):
    with pytest.raises(exc):
        parse_period(text)


def test_find_dates_offsets():
    text = "营业期限：2018年03月15日至2038年03月14日，发证日期 2020.1.2，有效期至 二〇二一年九月十六日。"
    found = find_dates(text)
    assert [d for d, _, _ in found] == [MARCH_15, D(2038, 3, 14), D(2020, 1, 2), D(2021, 9, 16)]
    assert [text[s:e] for _, s, e in found] == [
        "2018年03月15日",
        "2038年03月14日",
        "2020.1.2",
        "二〇二一年九月十六日",
    ]


def test_find_dates_offsets_with_full_width_and_spaces():
    text = "成立日期 ２０１８ 年 ０３ 月 １５ 日 止"
    [(value, start, end)] = find_dates(text)
    assert value == MARCH_15
    assert text[start:end] == "２０１８ 年 ０３ 月 １５ 日"


def test_find_dates_skips_impossible_and_licence_numbers():
    text = "编号 粤妆20160768 日期 2018-02-30 以及 2018-03-15"
    assert [d for d, _, _ in find_dates(text)] == [MARCH_15]
    assert [d for d, _, _ in find_dates("签发 20180315", include_compact=True)] == [MARCH_15]
    assert find_dates("签发 20180315") == []


def test_find_dates_nothing():
    assert find_dates("") == []
    assert find_dates("no dates here 12345") == []


@pytest.mark.parametrize("text", ["年 月 日", "至 年 月 日", "9999年09月09日", "9999-12-31", "不约定期限", "永久",
                                  "******", "长期"])
def test_open_end_wordings_are_long_term(text):
    """Issue 11: every printed way of saying "no end" is long_term."""
    assert dates.parse_validity(text) == dates.LONG_TERM
    assert dates.is_open_end(text)


@pytest.mark.parametrize(("text", "start"), [
    ("2020年11月30日 至 年 月 日", datetime.date(2020, 11, 30)),
    ("2020年11月30日至9999年09月09日", datetime.date(2020, 11, 30)),
])
def test_period_with_open_end(text, start):
    assert dates.parse_period(text) == (start, dates.LONG_TERM)


@pytest.mark.parametrize("text", ["2018年3月15日起", "自2018年3月15日起"])
def test_a_start_alone_is_not_a_term(text):
    start, end = dates.parse_period(text)
    assert start == datetime.date(2018, 3, 15) and end is None


@pytest.mark.parametrize("text", ["2019年", "年", "2019年 月 日", "", None, "2099年12月31日"])
def test_not_open_ends(text):
    assert not dates.is_open_end(text)


@pytest.mark.parametrize(("text", "expected"), [
    ("2015年01月01日 / 长期", (datetime.date(2015, 1, 1), "long_term")),     # issue 20: an e-print's slash
    ("2015年01月01日至（长期）", (datetime.date(2015, 1, 1), "long_term")),    # the end word in brackets
    ("2015/01/01至2035/12/31", (datetime.date(2015, 1, 1), datetime.date(2035, 12, 31))),  # slashes inside dates still split at 至
])
def test_term_wordings_of_real_licences(text, expected):
    assert dates.parse_period(text) == expected
