"""兽药经营许可证编号 (veterinary drug business licence number).

The licence is issued under the 《兽药管理条例》 by the county-level or higher
veterinary authority; shops are inspected against the 《兽药经营质量管理规范》.
Neither publishes the number's structure. Structure as observed on issued
certificates: the year in brackets, ``兽药经营证字``, digits and ``号``, e.g.
(2020)兽药经营证字110012345号. The digits are usually 9, a 6-digit division
code of the issuing authority and a serial, but regions differ, so
6 to 12 digits are accepted and the division code is not checked.

``号`` is part of the official number and ``compact`` keeps it as printed. A
number read without it is accepted; ``format`` adds it. Full- and half-width
brackets are accepted; ``compact`` makes them half-width. The year must be
1990 or later and not in the future.

Exceptions raised by ``validate``:

* ``InvalidFormat``: no 4-digit year in brackets at the start, no
  兽药经营证字 after it, something other than digits before 号, or not a
  string
* ``InvalidLength``: fewer than 6 or more than 12 digits
* ``InvalidComponent``: the year is before 1990 or in the future

>>> validate('（2020）兽药经营证字110012345号')
'(2020)兽药经营证字110012345号'
"""

from __future__ import annotations

import re

from stdnum.exceptions import InvalidFormat, InvalidLength, ValidationError
from stdnum.util import isdigits

from validators._licence import DIGIT, LBR, RBR, SP, check_year, compact_licence, literal

__all__ = ["SEARCH", "compact", "format", "is_valid", "validate"]

MIN_DIGITS = 6
MAX_DIGITS = 12
FIRST_YEAR = 1990
_LABEL = "veterinary drug business licence number"
_RE = re.compile(r"^\((?P<year>[0-9]{4})\)(?P<rest>.*)$")
_WORD = "兽药经营证字"

#: Finds candidates in running text: (year) 兽药经营证字 4-14 digits 号. Always ``validate`` a match.
SEARCH = re.compile(
    rf"(?P<number>{LBR}{SP}{DIGIT}{{4}}{SP}{RBR}{SP}{literal(_WORD)}{SP}{DIGIT}{{4,14}}(?!{DIGIT})(?:{SP}号)?)"
)


def compact(number: str) -> str:
    """Return the minimal form: half-width digits and brackets, no spaces; 号 is kept."""
    return compact_licence(number)


def validate(number: str) -> str:
    """Return the compact form of ``number`` (号 kept as read) or raise a ``ValidationError`` subclass."""
    number = compact(number)
    m = _RE.match(number)
    if not m:
        raise InvalidFormat(f"{_LABEL} must start with the 4-digit year in brackets, e.g. (2020)")
    rest = m["rest"]
    if not rest.startswith(_WORD):
        raise InvalidFormat(f"{_LABEL}: the year must be followed by 兽药经营证字")
    digits = rest[len(_WORD):]
    digits = digits.removesuffix("号")
    if not isdigits(digits):
        raise InvalidFormat(f"{_LABEL}: only digits may stand between 兽药经营证字 and 号, found {digits!r}")
    if not MIN_DIGITS <= len(digits) <= MAX_DIGITS:
        raise InvalidLength(
            f"{_LABEL} has {len(digits)} digits after 兽药经营证字, expected {MIN_DIGITS} to {MAX_DIGITS}"
        )
    check_year(m["year"], FIRST_YEAR, _LABEL)
    return number


def is_valid(number: str) -> bool:
    """Return whether ``number`` is a valid veterinary drug business licence number. Never raises."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the official presentation, ending in 号."""
    number = compact(number)
    return number if number.endswith("号") else number + "号"
