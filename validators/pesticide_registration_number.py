"""农药登记证号 (pesticide registration number).

The 农药登记证 is issued by the Ministry of Agriculture under the 《农药管理条例》
and 《农药登记管理办法》 (2017). Structure as observed on issued
certificates and in the ICAMA register (中国农药信息网), for numbers issued
since 2008: a type prefix, a 4-digit year and a 4-digit serial, e.g.
PD20080123.

* ``PD``: registration of an agricultural pesticide (农药登记)
* ``WP``: registration of a public-health pesticide (卫生用农药)
* ``LS`` and ``WL``: temporary registrations (临时登记) of the two kinds.
  The 2017 rules ended temporary registration, but old certificates are
  still read.

Registrations from before 2008 are still in force after renewal and have
other forms, e.g. PD84125 or PD85150-43, as do rarer prefixes. They do not
have the year + serial structure and raise ``InvalidFormat``, so that a
reviewer checks them in the register. ``compact`` keeps a hyphen, because it
is part of those old numbers.

The year must be 1990 or later and not in the future.

Exceptions raised by ``validate``:

* ``InvalidFormat``: no known prefix, fewer than 8 digits or other
  characters after it (old and variant forms), or not a string
* ``InvalidLength``: more than 8 digits after the prefix
* ``InvalidComponent``: the year is before 1990 or in the future

>>> validate('pd 2008 0123')
'PD20080123'
>>> get_type('WP20150012')
'WP'
"""

from __future__ import annotations

import re

from stdnum.exceptions import InvalidFormat, InvalidLength, ValidationError
from stdnum.util import isdigits

from validators._licence import DIGIT, SP, check_year, compact_licence, literal

__all__ = ["PREFIXES", "SEARCH", "compact", "format", "get_type", "is_valid", "validate"]

#: Known type prefixes of the year + serial form.
PREFIXES = ("PD", "WP", "LS", "WL")
DIGITS = 8
FIRST_YEAR = 1990
_LABEL = "pesticide registration number"
_RE = re.compile(r"^(?P<prefix>[A-Z]+)(?P<rest>.*)$")

#: Finds candidates in running text: a known prefix and 5-10 digits, with an
#: optional -suffix (old form). Always ``validate`` a match.
SEARCH = re.compile(
    rf"(?<![A-Za-zＡ-Ｚａ-ｚ])(?P<number>(?:{'|'.join(literal(p) for p in PREFIXES)}){SP}{DIGIT}{{5,10}}"
    rf"(?:-{DIGIT}{{1,3}})?)(?![0-9０-９A-Za-z])"
)


def compact(number: str) -> str:
    """Return the minimal form: half-width, no spaces, upper case, hyphens kept."""
    return compact_licence(number, keep_hyphen=True)


def validate(number: str) -> str:
    """Return the compact form of ``number`` or raise a ``ValidationError`` subclass."""
    number = compact(number)
    m = _RE.match(number)
    if not m:
        raise InvalidFormat(f"{_LABEL} must start with a type prefix such as PD, WP or LS")
    prefix, rest = m["prefix"], m["rest"]
    if prefix not in PREFIXES:
        raise InvalidFormat(
            f"{_LABEL}: prefix {prefix} is not one of {', '.join(PREFIXES)}; check the number in the register"
        )
    if not isdigits(rest) or len(rest) < DIGITS:
        raise InvalidFormat(
            f"{_LABEL}: {number} does not have the 8-digit year + serial form used since 2008; "
            "older numbers such as PD84125 or PD85150-43 must be checked in the register"
        )
    if len(rest) > DIGITS:
        raise InvalidLength(f"{_LABEL} has {len(rest)} digits after {prefix}, expected {DIGITS}")
    check_year(rest[:4], FIRST_YEAR, _LABEL)
    return number


def is_valid(number: str) -> bool:
    """Return whether ``number`` is a valid pesticide registration number. Never raises."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the standard presentation, e.g. PD20080123."""
    return compact(number)


def get_type(number: str) -> str:
    """Return the type prefix: PD, WP, LS or WL."""
    number = validate(number)
    return number[:2]
