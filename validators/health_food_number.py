"""保健食品注册号 / 备案号 (health food registration and filing numbers).

Source: 《保健食品注册与备案管理办法》 (2016), which sets these forms:

* registration (``kind`` ``"registration"``): ``国食健注`` + ``G`` (国产,
  domestic) or ``J`` (进口, imported) + 4-digit year + 4-digit serial, e.g.
  国食健注G20160123
* filing (``"filing"``): ``食健备`` + ``G`` or ``J`` + 4-digit year + 2-digit
  province code + 6-digit serial. A domestic filing carries the province
  code (GB/T 2260) of the filing authority, and an imported one carries
  ``00``. E.g. 食健备G201733000123.

Older approvals are still printed on products and accepted here:

* ``"legacy_registration"``: ``国食健字`` + G/J + year + serial (8 digits), the
  form used by the State Food and Drug Administration from 2003 until the 2016
  办法, e.g. 国食健字G20100123
* ``"moh_approval"``: ``卫食健字`` (or ``卫食健进字``) + (year) + 第 + serial + 号,
  the Ministry of Health's approvals of 1996-2003, e.g. 卫食健字(1996)第0123号.
  Brackets may be full- or half-width; ``compact`` makes them half-width.

Whether an old approval is still in force is not decided here; the caller
should send old forms to a reviewer.

Years must not be in the future, nor earlier than the form's first year
(2016 for 国食健注 and 食健备, 2003 for 国食健字, 1996 for 卫食健字).

Exceptions raised by ``validate``:

* ``InvalidFormat``: none of the forms above, or not a string
* ``InvalidLength``: not 8 digits (注/字), 12 digits (备) or a 3-4 digit
  serial (卫食健字)
* ``InvalidComponent``: the letter is not G or J, the province code of a
  domestic filing is not a mainland province, an imported filing does not
  carry 00, or the year is impossible

>>> validate('国食健注 G2016 0123')
'国食健注G20160123'
>>> kind('食健备G201733000123')
'filing'
>>> kind('卫食健字（1996）第0123号')
'moh_approval'
"""

from __future__ import annotations

import re
from typing import Literal

from stdnum.exceptions import InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.util import isdigits

from validators._licence import DIGIT, LBR, PROVINCES, RBR, SP, check_year, compact_licence, literal

__all__ = ["SEARCH", "compact", "format", "is_import", "is_valid", "kind", "validate"]

Kind = Literal["registration", "filing", "legacy_registration", "moh_approval"]

_LABEL = "health food number"
_LETTERED = re.compile(r"^(?P<prefix>国食健注|国食健字|食健备)(?P<letter>[A-Z]?)(?P<digits>.*)$")
_MOH = re.compile(r"^卫食健(?P<imp>进?)字\((?P<year>[0-9]{4})\)第(?P<serial>[0-9]+)号$")

#: prefix -> (kind, digits, first year)
_FORMS: dict[str, tuple[Kind, int, int]] = {
    "国食健注": ("registration", 8, 2016),
    "食健备": ("filing", 12, 2016),
    "国食健字": ("legacy_registration", 8, 2003),
}
MOH_FIRST_YEAR = 1996

_LETTER = "[GJgjＧＪｇｊ]"
#: Finds candidates in running text (any of the forms). Always ``validate`` a match.
SEARCH = re.compile(
    r"(?P<number>"
    rf"(?:{literal('国食健注')}|{literal('国食健字')}|{literal('食健备')}){SP}{_LETTER}{SP}{DIGIT}{{6,14}}(?!{DIGIT})"
    rf"|{literal('卫食健')}{SP}进?{SP}字{SP}{LBR}{SP}{DIGIT}{{4}}{SP}{RBR}{SP}第{SP}{DIGIT}{{1,6}}{SP}号"
    r")"
)


def compact(number: str) -> str:
    """Return the minimal form: half-width letters, digits and brackets, no spaces."""
    return compact_licence(number)


def _parse(number: str) -> tuple[str, Kind]:
    number = compact(number)
    if m := _MOH.match(number):
        if not 3 <= len(m["serial"]) <= 4:
            raise InvalidLength(f"{_LABEL}: the serial of a 卫食健字 approval has {len(m['serial'])} digits, expected 4")
        check_year(m["year"], MOH_FIRST_YEAR, _LABEL)
        return number, "moh_approval"
    m = _LETTERED.match(number)
    if not m:
        raise InvalidFormat(
            f"{_LABEL}: not a known form (国食健注G/J…, 食健备G/J…, 国食健字G/J…, 卫食健字(year)第…号)"
        )
    prefix, letter, digits = m["prefix"], m["letter"], m["digits"]
    kind_, length, first_year = _FORMS[prefix]
    if not letter:
        raise InvalidFormat(f"{_LABEL}: {prefix} must be followed by G (domestic) or J (imported)")
    if letter not in "GJ":
        raise InvalidComponent(f"{_LABEL}: the letter after {prefix} is {letter}, expected G (国产) or J (进口)")
    if not isdigits(digits):
        raise InvalidFormat(f"{_LABEL}: only digits may follow {prefix}{letter}, found {digits!r}")
    if len(digits) != length:
        raise InvalidLength(f"{_LABEL}: {prefix}{letter} is followed by {len(digits)} digits, expected {length}")
    check_year(digits[:4], first_year, _LABEL)
    if kind_ == "filing":
        region = digits[4:6]
        if letter == "G" and region not in PROVINCES:
            raise InvalidComponent(
                f"{_LABEL}: {region} (digits 5-6 of a domestic filing) is not a mainland province code"
            )
        if letter == "J" and region != "00":
            raise InvalidComponent(f"{_LABEL}: an imported filing (食健备J) has 00 in digits 5-6, found {region}")
    return number, kind_


def validate(number: str) -> str:
    """Return the compact form of ``number`` or raise a ``ValidationError`` subclass."""
    return _parse(number)[0]


def is_valid(number: str) -> bool:
    """Return whether ``number`` is a valid health food registration or filing number. Never raises."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the standard presentation: the number without spaces, half-width brackets."""
    return compact(number)


def kind(number: str) -> Kind:
    """Return registration, filing, legacy_registration or moh_approval."""
    return _parse(number)[1]


def is_import(number: str) -> bool:
    """Return whether the product is imported (J, or 卫食健进字)."""
    number, kind_ = _parse(number)
    if kind_ == "moh_approval":
        return number.startswith("卫食健进字")
    return "J" in number
