"""兽药产品批准文号 (veterinary drug product approval number).

Source: 《兽药产品批准文号管理办法》. The number is the type of veterinary drug
(兽药类别简称), the year in brackets and 9 digits, e.g. 兽药字(2019)110012345:

* ``兽药字`` (veterinary drug, ``kind`` ``"drug"``), ``兽药生字`` (biological
  product, ``"biological"``) or ``兽药添字`` (medicated feed additive,
  ``"feed_additive"``)
* the year, in brackets
* digits 1-2: the manufacturer's province number (企业所在地省份序号), digits
  3-5: the manufacturer number (企业序号), digits 6-9: the product number
  (兽药品种编号)

The province number is the two-digit 省份序号 of the 办法's own list, not
necessarily a GB/T 2260 code, so it is not checked. Full- and half-width brackets are accepted;
``compact`` makes them half-width. The year must be 1990 or later and not in
the future.

Exceptions raised by ``validate``:

* ``InvalidFormat``: none of the three prefixes, no 4-digit year in brackets,
  something other than digits after it, or not a string
* ``InvalidLength``: not 9 digits after the year
* ``InvalidComponent``: the year is before 1990 or in the future

>>> validate('兽药字（2019）110012345')
'兽药字(2019)110012345'
>>> kind('兽药生字(2018)150011234')
'biological'
"""

from __future__ import annotations

import re
from typing import Literal

from stdnum.exceptions import InvalidFormat, InvalidLength, ValidationError
from stdnum.util import isdigits

from validators._licence import DIGIT, LBR, RBR, SP, check_year, compact_licence, literal

__all__ = ["SEARCH", "compact", "format", "is_valid", "kind", "validate"]

Kind = Literal["drug", "biological", "feed_additive"]

DIGITS = 9
FIRST_YEAR = 1990
_LABEL = "veterinary drug approval number"
_KINDS: dict[str, Kind] = {"兽药字": "drug", "兽药生字": "biological", "兽药添字": "feed_additive"}
_RE = re.compile(r"^(?P<prefix>兽药字|兽药生字|兽药添字)(?P<rest>.*)$")
_YEAR = re.compile(r"^\((?P<year>[0-9]{4})\)(?P<digits>.*)$")

#: Finds candidates in running text: 兽药(生|添)字 (year) and 7-11 digits. Always ``validate`` a match.
SEARCH = re.compile(
    rf"(?P<number>{literal('兽药')}{SP}[生添]?{SP}字{SP}{LBR}{SP}{DIGIT}{{4}}{SP}{RBR}{SP}{DIGIT}{{7,11}})(?!{DIGIT})"
)


def compact(number: str) -> str:
    """Return the minimal form: half-width digits and brackets, no spaces."""
    return compact_licence(number)


def _parse(number: str) -> tuple[str, Kind]:
    number = compact(number)
    m = _RE.match(number)
    if not m:
        raise InvalidFormat(f"{_LABEL} must start with 兽药字, 兽药生字 or 兽药添字")
    y = _YEAR.match(m["rest"])
    if not y:
        raise InvalidFormat(f"{_LABEL}: {m['prefix']} must be followed by the 4-digit year in brackets")
    digits = y["digits"]
    if not isdigits(digits):
        raise InvalidFormat(f"{_LABEL}: only digits may follow the year, found {digits!r}")
    if len(digits) != DIGITS:
        raise InvalidLength(f"{_LABEL} has {len(digits)} digits after the year, expected {DIGITS}")
    check_year(y["year"], FIRST_YEAR, _LABEL)
    return number, _KINDS[m["prefix"]]


def validate(number: str) -> str:
    """Return the compact form of ``number`` or raise a ``ValidationError`` subclass."""
    return _parse(number)[0]


def is_valid(number: str) -> bool:
    """Return whether ``number`` is a valid veterinary drug approval number. Never raises."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the standard presentation with half-width brackets, e.g. 兽药字(2019)110012345."""
    return compact(number)


def kind(number: str) -> Kind:
    """Return drug (兽药字), biological (兽药生字) or feed_additive (兽药添字)."""
    return _parse(number)[1]
