"""Dates and validity periods as printed on Chinese licences.

Accepted date forms (full-width digits and spaces between the parts are
accepted too, for example ``2018 年 03 月 15 日``):

* ``2018年03月15日``, ``2018年3月15日``, ``2018年3月15号``, or with no 日
* Chinese numerals: ``二〇一八年三月十五日``. The zero may be written 〇, ○ or
  零, or O when OCR misreads it. The day may be 十, 十五, 二十, 廿一 or 三十一.
* ``2018-03-15``, ``2018.03.15``, ``2018/3/15``. The two separators must match.
* ``20180315``, eight digits. ``parse_date`` accepts it, but ``find_dates``
  only looks for it when asked, because licence numbers contain such runs.

A year outside 1900-2199 raises ``InvalidComponent``. Such a year comes from a
misread, and a far-future year would let an expired licence pass. So does an
impossible date such as 2018-02-30. Text that is not a date raises
``InvalidFormat``. Both are stdnum ``ValidationError`` subclasses (and
``ValueError``).

A validity with no end is the string ``"long_term"`` (SPEC §2). It is written
长期, 长期有效, 永久, 永久有效, 不约定期限, 无固定期限 or 无期限, or as a run of
asterisks (``******``, which business licences print when the term is open), or
as a blank end (``年 月 日`` with no digits: the form's placeholders left
empty), or as a sentinel date in the year 9999 (``9999年09月09日``, which some
registries print for "no end").

>>> parse_date('二〇一八年三月十五日')
datetime.date(2018, 3, 15)
>>> parse_period('2018年03月15日 至 长期')
(datetime.date(2018, 3, 15), 'long_term')
"""

from __future__ import annotations

import datetime
import re
import unicodedata
from typing import Literal

from stdnum.exceptions import InvalidComponent, InvalidFormat, ValidationError

__all__ = [
    "LONG_TERM",
    "LONG_TERM_WORDS",
    "Validity",
    "find_dates",
    "is_open_end",
    "parse_date",
    "parse_period",
    "parse_validity",
]

LongTerm = Literal["long_term"]
LONG_TERM: LongTerm = "long_term"
Validity = datetime.date | LongTerm

#: Words that mean a validity without end (compared after removing whitespace).
LONG_TERM_WORDS = frozenset(
    ["长期", "长期有效", "永久", "永久有效", "不约定期限", "无固定期限", "无期限", LONG_TERM]
)
MIN_YEAR = 1900
MAX_YEAR = 2199

_NUMERAL = {
    **{str(i): i for i in range(10)},
    "O": 0, "o": 0, "〇": 0, "○": 0, "零": 0,
    "一": 1, "二": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8, "九": 9,
}
_TENS = {"十": 1, "廿": 2, "卅": 3}
_D = "0-9Oo〇○零一二三四五六七八九"  # one digit, Arabic or Chinese (inside a [...] class)

_CN_RE = re.compile(
    rf"(?<![{_D}])(?P<y>[{_D}]{{4}})\s*年\s*(?P<m>[{_D}十]{{1,3}})\s*月\s*(?P<d>[{_D}十廿卅]{{1,3}})(?:\s*[日号])?"
)
_SEP_RE = re.compile(
    r"(?<![0-9])(?P<y>[0-9]{4})\s*(?P<sep>[-./])\s*(?P<m>[0-9]{1,2})\s*(?P=sep)\s*(?P<d>[0-9]{1,2})(?![0-9])"
)
_COMPACT_RE = re.compile(r"(?<![0-9])(?P<y>[0-9]{4})(?P<m>[0-9]{2})(?P<d>[0-9]{2})(?![0-9])")
_TRAILING_PUNCT = "。，,;；:：、"


def _normalize(text: str) -> str:
    """NFKC character by character, so offsets stay the same as in ``text``."""
    out = []
    for c in text:
        n = unicodedata.normalize("NFKC", c)
        out.append(n if len(n) == 1 else c)
    return "".join(out)


# OCR reads the numeral 一 as a dash (—, –, -) in dates written in Chinese numerals
# (二〇——年 for 二〇一一年). Replaced one for one, so offsets are kept.
_DASH_FOR_YI = re.compile(r"(?<=[〇○零一二三四五六七八九十廿年月—–\-－])[—–\-－](?=[—–\-－]*[〇○零一二三四五六七八九十廿卅年月日])")


def _require_str(text: object) -> str:
    if not isinstance(text, str):
        raise InvalidFormat(f"expected a string, got {type(text).__name__}")
    return _DASH_FOR_YI.sub("一", _normalize(text))


def _number(s: str) -> int:
    """Read a number written in Arabic digits, Chinese digits or 十/廿/卅 form."""
    tens_char = next((c for c in s if c in _TENS), None)
    if tens_char is None:
        if not s or any(c not in _NUMERAL for c in s):
            raise InvalidFormat(f"not a number: {s!r}")
        return int("".join(str(_NUMERAL[c]) for c in s))
    left, _, right = s.partition(tens_char)
    if tens_char == "十":
        if len(left) > 1 or any(c not in _NUMERAL for c in left):
            raise InvalidFormat(f"not a number: {s!r}")
        tens = _NUMERAL[left] if left else 1
    else:
        if left:
            raise InvalidFormat(f"not a number: {s!r}")
        tens = _TENS[tens_char]
    if len(right) > 1 or any(c not in _NUMERAL for c in right):
        raise InvalidFormat(f"not a number: {s!r}")
    return tens * 10 + (_NUMERAL[right] if right else 0)


def _to_date(match: re.Match[str]) -> datetime.date:
    year, month, day = (_number(match.group(g)) for g in ("y", "m", "d"))
    if not MIN_YEAR <= year <= MAX_YEAR:
        raise InvalidComponent(f"year {year} outside {MIN_YEAR}-{MAX_YEAR}")
    try:
        return datetime.date(year, month, day)
    except ValueError:
        raise InvalidComponent(f"impossible date {year:04d}-{month:02d}-{day:02d}") from None


def parse_date(text: str) -> datetime.date:
    """Parse ``text``, which must be a single date, into a ``datetime.date``.

    Raises ``InvalidFormat`` when the text is not a date, and ``InvalidComponent``
    when it is an impossible date or the year is outside 1900-2199.
    """
    t = _require_str(text).strip().rstrip(_TRAILING_PUNCT).strip()
    for pattern in (_CN_RE, _SEP_RE, _COMPACT_RE):
        match = pattern.fullmatch(t)
        if match:
            return _to_date(match)
    raise InvalidFormat(f"not a date: {text!r}")


def parse_validity(text: str) -> Validity:
    """Parse an end of validity: a date, or ``"long_term"`` for 长期/永久/``******``.

    A leading 至/到 is ignored, so ``至长期`` and ``至2038年03月14日`` work too.
    """
    t = re.sub(r"\s+", "", _require_str(text)).rstrip(_TRAILING_PUNCT)
    if t[:1] in ("至", "到"):
        t = t[1:]
    if is_open_end(t):
        return LONG_TERM
    return parse_date(t)


_BLANK_END_RE = re.compile(r"年月日?|年月|月日")
_SENTINEL_RE = re.compile(r"9999\s*[年\-./]")


def is_open_end(text: str) -> bool:
    """Whether ``text`` is an end of validity that means no end: a long-term word, asterisks,
    a blank ``年 月 日``, a year-9999 sentinel. Whitespace is ignored."""
    if not isinstance(text, str):
        return False
    t = re.sub(r"\s+", "", _normalize(text)).rstrip(_TRAILING_PUNCT)
    if t[:1] in ("至", "到"):
        t = t[1:]
    t = t.strip("（）()")  # 至（长期）
    return (t in LONG_TERM_WORDS or bool(re.fullmatch(r"\*{2,}", t)) or bool(_BLANK_END_RE.fullmatch(t))
            or bool(_SENTINEL_RE.match(t)))


# (a slash too: some prints give 2015年01月01日 / 长期; a date written with slashes still parses, since
# each connector position is tried and a side that is not a date is no split)
_CONNECTOR_RE = re.compile(r"起至|至|到|~|—+|–|-+|/")


def parse_period(text: str) -> tuple[datetime.date | None, Validity | None]:
    """Parse a validity period such as ``2018年03月15日至2038年03月14日``.

    Returns ``(start, end)``. ``end`` may be ``"long_term"``. Accepted
    connectors are 至, 到, 起至, ``~`` and dashes. A leading 自/从/由 and a
    trailing 止 are ignored. An open side is None: ``2018年03月15日起`` gives
    ``(date, None)``, and ``至2038年03月14日`` or a bare ``长期`` gives
    ``(None, end)``. A bare date with no connector is ambiguous and raises
    ``InvalidFormat``. A side that is present but unreadable raises, and so
    does an end before the start (``InvalidComponent``).
    """
    s = re.sub(r"\s+", "", _require_str(text)).rstrip(_TRAILING_PUNCT)
    s = s.removesuffix("止")
    if s[:1] in ("自", "从", "由"):
        s = s[1:]
    errors: list[ValidationError] = []
    for conn in _CONNECTOR_RE.finditer(s):
        left, right = s[: conn.start()].removesuffix("起"), s[conn.end():]
        if not left and not right:
            continue
        try:
            start = parse_date(left) if left else None
            end = parse_validity(right) if right else None
        except ValidationError as exc:
            errors.append(exc)
            continue
        if isinstance(start, datetime.date) and isinstance(end, datetime.date) and end < start:
            raise InvalidComponent(f"period ends ({end}) before it starts ({start})")
        return start, end
    if s.endswith("起"):
        try:
            return parse_date(s[:-1]), None
        except ValidationError as exc:
            errors.append(exc)
    elif is_open_end(s):
        return None, LONG_TERM
    for exc in errors:
        if isinstance(exc, InvalidComponent):
            raise exc
    raise InvalidFormat(f"not a validity period: {text!r}")


def find_dates(text: str, *, include_compact: bool = False) -> list[tuple[datetime.date, int, int]]:
    """Find every date in free text, as ``(date, start, end)`` with ``text[start:end]``
    being the date as printed. Impossible dates are skipped. Bare ``YYYYMMDD``
    runs are found only with ``include_compact=True``, because licence numbers
    such as 粤妆20160768 contain them. Non-string input gives an empty list.
    """
    if not isinstance(text, str):
        return []
    t = _normalize(text)
    patterns = [_CN_RE, _SEP_RE] + ([_COMPACT_RE] if include_compact else [])
    found: list[tuple[datetime.date, int, int]] = []
    for pattern in patterns:
        for match in pattern.finditer(t):
            try:
                found.append((_to_date(match), match.start(), match.end()))
            except ValidationError:
                continue
    found.sort(key=lambda f: (f[1], -f[2]))
    result: list[tuple[datetime.date, int, int]] = []
    for item in found:
        if not result or item[1] >= result[-1][2]:
            result.append(item)
    return result
