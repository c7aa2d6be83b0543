"""医疗器械注册证编号 / 第一类医疗器械备案编号 (medical device registration and
class I filing numbers).

Source: 《医疗器械注册管理办法》 (2014) and 《医疗器械注册与备案管理办法》 (2021),
which keep the same numbering. A registration number (``kind``
``"registration"``) is ``×1械注×2 ××××3 ×4 ××5 ××××6``:

* ×1: the registering authority: ``国`` (NMPA: domestic class III, imported
  class II and III) or a province abbreviation (domestic class II)
* ×2: ``准`` (domestic), ``进`` (imported) or ``许`` (Hong Kong, Macao,
  Taiwan). A province only registers domestic devices, so only ``准``.
* ××××3: year of first registration (4 digits)
* ×4: management class (管理类别), 1 digit
* ××5: product category code (产品分类编码), 2 digits
* ××××6: serial number of the first registration (4 digits)

So there are 11 digits after the prefix, e.g. 国械注准20193140123 = 2019, class
3, category 14, serial 0123. SPEC.md writes the digits as 4 + 3 + 1 + 3, but
they are the same 11 digits. A renewal (延续注册) keeps the number.

The class must fit the authority: 国械注准 is class 3, 国械注进 and 国械注许 are
class 2 or 3, and a province's 械注准 is class 2. Class 1 devices are filed,
not registered. A different class is ``InvalidComponent``.

A class I filing number (``"filing"``) is ``×1械备××××2××××3号``: the province
abbreviation and the city abbreviation (only the province where there is no
city level), ``械备``, the year (4 digits) and a serial (4 digits), then ``号``,
e.g. 粤穗械备20150001号. Imported class I devices are filed with NMPA as
``国械备`` + year + serial + ``号``. ``号`` is kept by ``compact`` as printed
and added by ``format``.

Years must be 2014 or later (the numbering began with the 2014 办法) and not
in the future. The older form (国食药监械(准)字2012第3401234号, 粤食药监械(准)字…)
was replaced by 2019 and raises ``InvalidFormat``.

Exceptions raised by ``validate``:

* ``InvalidFormat``: none of the forms above, or not a string
* ``InvalidLength``: not 11 digits (registration) or 8 digits (filing)
* ``InvalidComponent``: the first character is not 国 or a province
  abbreviation, the class does not fit the authority, or the year is
  impossible

>>> validate('国械注准 2019 3 14 0123')
'国械注准20193140123'
>>> kind('粤穗械备20150001号')
'filing'
>>> get_management_class('粤械注准20192140123')
2
"""

from __future__ import annotations

import re
from typing import Literal

from stdnum.exceptions import InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.util import isdigits

from validators._licence import ABBR_CLASS, DIGIT, SP, check_year, compact_licence, literal, province_of_abbr

__all__ = ["SEARCH", "compact", "format", "get_management_class", "is_valid", "kind", "validate"]

Kind = Literal["registration", "filing"]

FIRST_YEAR = 2014
REGISTRATION_DIGITS = 11
FILING_DIGITS = 8
_LABEL = "medical device registration number"
_FILING_LABEL = "medical device filing number"

_REGISTRATION = re.compile(r"^(?P<head>.*?)械注(?P<form>[准进许])(?P<digits>.*)$")
_FILING = re.compile(r"^(?P<head>.*?)械备(?P<digits>.*?)(?P<hao>号?)$")

#: Allowed management classes by (authority, form).
_CLASSES = {("国", "准"): "3", ("国", "进"): "23", ("国", "许"): "23", ("省", "准"): "2"}

#: Finds candidates in running text (registrations and filings; 6-13 digits). Always ``validate`` a match.
SEARCH = re.compile(
    r"(?P<number>"
    rf"(?:国|{ABBR_CLASS}){SP}{literal('械注')}{SP}[准进许]{SP}{DIGIT}{{6,13}}(?!{DIGIT})"
    rf"|(?:国|{ABBR_CLASS}{SP}(?:[\u4e00-\u9fff]{SP})??){literal('械备')}{SP}{DIGIT}{{6,10}}(?!{DIGIT})(?:{SP}号)?"
    r")"
)


def compact(number: str) -> str:
    """Return the minimal form: half-width digits, no spaces; 号 is kept."""
    return compact_licence(number)


def _registration(number: str, m: re.Match[str]) -> None:
    head, form, digits = m["head"], m["form"], m["digits"]
    if head == "国":
        authority = "国"
    elif len(head) == 1:
        province_of_abbr(head, _LABEL)
        authority = "省"
        if form != "准":
            raise InvalidFormat(f"{_LABEL}: a province registers only domestic devices (械注准), found 械注{form}")
    else:
        raise InvalidFormat(f"{_LABEL}: expected 国 or one province abbreviation before 械注, found {head!r}")
    if not isdigits(digits):
        raise InvalidFormat(f"{_LABEL}: only digits may follow 械注{form}, found {digits!r}")
    if len(digits) != REGISTRATION_DIGITS:
        raise InvalidLength(
            f"{_LABEL} has {len(digits)} digits after {head}械注{form}, expected {REGISTRATION_DIGITS} "
            "(year 4, class 1, category 2, serial 4)"
        )
    check_year(digits[:4], FIRST_YEAR, _LABEL)
    allowed = _CLASSES[(authority, form)]
    if digits[4] not in allowed:
        who = f"{head}械注{form}"
        raise InvalidComponent(
            f"{_LABEL}: management class {digits[4]} (5th digit) does not fit {who}, "
            f"which is issued for class {' or '.join(allowed)}"
        )


def _filing(number: str, m: re.Match[str]) -> None:
    head, digits = m["head"], m["digits"]
    if head != "国":
        if not 1 <= len(head) <= 2:
            raise InvalidFormat(
                f"{_FILING_LABEL}: expected 国, or a province and a city abbreviation, before 械备, found {head!r}"
            )
        province_of_abbr(head[0], _FILING_LABEL)
    if not isdigits(digits):
        raise InvalidFormat(f"{_FILING_LABEL}: only digits may follow 械备, found {digits!r}")
    if len(digits) != FILING_DIGITS:
        raise InvalidLength(
            f"{_FILING_LABEL} has {len(digits)} digits after 械备, expected {FILING_DIGITS} (year 4, serial 4)"
        )
    check_year(digits[:4], FIRST_YEAR, _FILING_LABEL)


def _parse(number: str) -> tuple[str, Kind]:
    number = compact(number)
    if m := _REGISTRATION.match(number):
        _registration(number, m)
        return number, "registration"
    if m := _FILING.match(number):
        _filing(number, m)
        return number, "filing"
    raise InvalidFormat(
        f"{_LABEL}: not a known form (国械注准/进/许…, 粤械注准…, 粤穗械备…号, 国械备…号)"
    )


def validate(number: str) -> str:
    """Return the compact form of ``number`` (号 kept as read) or raise a ``ValidationError`` subclass."""
    return _parse(number)[0]


def is_valid(number: str) -> bool:
    """Return whether ``number`` is a valid registration or filing number. Never raises."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the official presentation: a filing number ends in 号, a registration number does not."""
    number = compact(number)
    if "械备" in number and not number.endswith("号"):
        return number + "号"
    return number


def kind(number: str) -> Kind:
    """Return ``"registration"`` (械注) or ``"filing"`` (械备)."""
    return _parse(number)[1]


def get_management_class(number: str) -> int:
    """Return the management class (1, 2 or 3). A filing is always class 1."""
    number, kind_ = _parse(number)
    if kind_ == "filing":
        return 1
    return int(number[number.index("械注") + 3 + 4])
