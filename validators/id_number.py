"""居民身份证号码 (citizen identity number), GB 11643-1999.

The number has 18 characters:

* digits 1-6: address code (地址码), the GB/T 2260 code of the county where
  the holder's household was registered when the number was assigned
* digits 7-14: date of birth, YYYYMMDD
* digits 15-17: sequence code. The 17th digit is odd for men and even for women.
* character 18: check character, ISO 7064 MOD 11-2: ``0``-``9`` or ``X``
  for 10. It is computed with ``stdnum.cn.ric.calc_check_digit``.

The old 15-digit numbers stopped being valid in 2013 and raise ``InvalidLength``.

This module differs from ``stdnum.cn.ric.validate`` in one place. stdnum
also rejects a number whose county code was created after the holder's birth
year. 440307 龙岗区, for example, dates from 1992, so stdnum rejects a holder
born in 1990. The address code records the household registration when the
number was assigned, not at birth, so such numbers are real and common, and
that test would reject genuine ID cards. Here only the province (first two
digits) has to be a known code. ``get_birth_place`` still gives stdnum's
county lookup for display.

Exceptions raised by ``validate``:

* ``InvalidLength``: not 18 characters after ``compact``
* ``InvalidFormat``: the first 17 are not all digits, the last is not a digit
  or X, or the input is not a string
* ``InvalidChecksum``: the MOD 11-2 check character does not match
* ``InvalidComponent``: the date of birth is impossible or in the future, or
  the province code is unknown

>>> validate('11010519491231002x')
'11010519491231002X'
>>> get_gender('11010519491231002X')
'female'
"""

from __future__ import annotations

import datetime
from typing import Literal

from stdnum import numdb
from stdnum.cn import ric
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.util import isdigits

from validators._util import compact_identifier

__all__ = [
    "calc_check_digit",
    "compact",
    "format",
    "get_birth_date",
    "get_birth_place",
    "get_gender",
    "is_valid",
    "validate",
]

LENGTH = 18


def compact(number: str) -> str:
    """Return the minimal form: half-width, no spaces or hyphens, upper-case X."""
    return compact_identifier(number)


def calc_check_digit(number: str) -> str:
    """Return the check character for the first 17 digits of ``number``."""
    # stdnum's function expects the full 18-character number and ignores the last one.
    return ric.calc_check_digit(compact(number)[:17] + "0")


def _province_known(number: str) -> bool:
    return any("province" in props for _part, props in numdb.get("cn/loc").info(number[:2]))


def validate(number: str) -> str:
    """Return the compact form of ``number`` or raise a ``ValidationError`` subclass."""
    number = compact(number)
    if len(number) != LENGTH:
        raise InvalidLength(f"ID number must have {LENGTH} characters, found {len(number)}")
    if not isdigits(number[:17]) or number[17] not in "0123456789X":
        raise InvalidFormat("ID number must be 17 digits followed by a digit or X")
    if number[17] != ric.calc_check_digit(number):
        raise InvalidChecksum("ID number: MOD 11-2 check character does not match")
    birth = ric.get_birth_date(number)  # InvalidComponent for an impossible date
    if birth > datetime.date.today():
        raise InvalidComponent("ID number: date of birth is in the future")
    if not _province_known(number):
        raise InvalidComponent(f"ID number: {number[:2]!r} is not a known province code")
    return number


def is_valid(number: str) -> bool:
    """Return whether ``number`` is a valid ID number. Never raises."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the standard presentation: 18 characters without separators."""
    return compact(number)


def get_birth_date(number: str) -> datetime.date:
    """Return the date of birth encoded in a valid ID number."""
    return ric.get_birth_date(validate(number))


def get_gender(number: str) -> Literal["male", "female"]:
    """Return the gender encoded in the 17th digit: odd for male, even for female."""
    return "male" if int(validate(number)[16]) % 2 else "female"


def get_birth_place(number: str) -> dict[str, str]:
    """Return stdnum's province/county lookup for the address code.

    Raises ``InvalidComponent`` when stdnum's table has no county for the code
    in the birth year. That happens for real numbers too (see the module
    docstring), so use it for display, not for rejection.
    """
    return ric.get_birth_place(validate(number))
