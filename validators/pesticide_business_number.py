"""农药经营许可证编号 (pesticide business licence number).

Source: 《农药经营许可管理办法》 (2017). The number is ``农药经许``, the
abbreviation of the issuing province in brackets and 14 digits:

* digits 1-6: administrative division code (GB/T 2260) of the issuing
  authority (县级以上农业部门)
* digits 7-10: year of issue
* digits 11-14: serial number

e.g. 农药经许（浙）33010120180012. Full- and half-width brackets are accepted,
and a number read without the brackets too; ``compact`` turns （浙） into (浙).
The province of the division code must be the bracketed province. The year
must be 2017 or later (the 办法 took effect in 2017) and not in the future.

Exceptions raised by ``validate``:

* ``InvalidFormat``: does not start with 农药经许, no province after it,
  something other than digits after the province, or not a string
* ``InvalidLength``: not 14 digits
* ``InvalidComponent``: the bracketed character is not a province
  abbreviation, the division code is not in a mainland province, the two
  provinces differ, or the year is impossible

>>> validate('农药经许（浙）33010120180012')
'农药经许(浙)33010120180012'
"""

from __future__ import annotations

import re

from stdnum.exceptions import InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.util import isdigits

from validators._licence import (
    ABBR_CLASS,
    DIGIT,
    LBR,
    PROVINCES,
    RBR,
    SP,
    check_year,
    compact_licence,
    literal,
    province_of_abbr,
)

__all__ = ["SEARCH", "compact", "format", "get_province", "is_valid", "validate"]

PREFIX = "农药经许"
DIGITS = 14
FIRST_YEAR = 2017
_LABEL = "pesticide business licence number"
_RE = re.compile(r"^农药经许(?:\((?P<prov>[^()]*)\)|(?P<bare>[^()0-9]))(?P<digits>.*)$")

#: Finds candidates in running text: 农药经许 (省) and 10-18 digits. Always ``validate`` a match.
SEARCH = re.compile(
    rf"(?P<number>{literal(PREFIX)}{SP}{LBR}?{SP}{ABBR_CLASS}{SP}{RBR}?{SP}{DIGIT}{{10,18}})(?!{DIGIT})"
)


def compact(number: str) -> str:
    """Return the minimal form: half-width digits and brackets, no spaces."""
    return compact_licence(number)


def validate(number: str) -> str:
    """Return the compact form of ``number`` or raise a ``ValidationError`` subclass."""
    number = compact(number)
    if not number.startswith(PREFIX):
        raise InvalidFormat(f"{_LABEL} must start with 农药经许")
    m = _RE.match(number)
    if not m:
        raise InvalidFormat(f"{_LABEL}: 农药经许 must be followed by the province in brackets, e.g. (浙)")
    abbr = m["prov"] if m["prov"] is not None else m["bare"]
    if len(abbr) != 1:
        raise InvalidFormat(f"{_LABEL}: expected one province abbreviation in the brackets, found {abbr!r}")
    province = province_of_abbr(abbr, _LABEL)
    digits = m["digits"]
    if not isdigits(digits):
        raise InvalidFormat(f"{_LABEL}: only digits may follow the province, found {digits!r}")
    if len(digits) != DIGITS:
        raise InvalidLength(
            f"{_LABEL} has {len(digits)} digits after the province, expected {DIGITS} "
            "(division code 6, year 4, serial 4)"
        )
    if digits[:2] not in PROVINCES:
        raise InvalidComponent(f"{_LABEL}: division code {digits[:6]} is not in a mainland province")
    if digits[:2] != province:
        raise InvalidComponent(
            f"{_LABEL}: division code {digits[:6]} is in {PROVINCES[digits[:2]]}, "
            f"but the bracketed province is {abbr} ({PROVINCES[province]})"
        )
    check_year(digits[6:10], FIRST_YEAR, _LABEL)
    return number


def is_valid(number: str) -> bool:
    """Return whether ``number`` is a valid pesticide business licence number. Never raises."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the standard presentation with half-width brackets, e.g. 农药经许(浙)33010120180012."""
    return compact(number)


def get_province(number: str) -> str:
    """Return the name of the issuing province."""
    return PROVINCES[validate(number)[-14:-12]]
