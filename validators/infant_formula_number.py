"""婴幼儿配方乳粉产品配方注册号 (infant formula milk powder recipe registration number).

Source: 《婴幼儿配方乳粉产品配方注册管理办法》 (2016, revised 2023). The number is
``国食注字YP`` (YP: 婴幼儿配方乳粉 recipe) + 4-digit year + 4-digit serial, e.g.
国食注字YP20180001. Registrations began under the 2016 办法, so the year
must be 2016 or later, and not in the future.

Other 国食注字 numbers (TY for 特殊医学用途配方食品, foods for special medical
purposes) are a different registration and raise ``InvalidFormat``.

Exceptions raised by ``validate``:

* ``InvalidFormat``: does not start with 国食注字YP, has something other than
  digits after it, or is not a string
* ``InvalidLength``: not 8 digits after 国食注字YP
* ``InvalidComponent``: the year is before 2016 or in the future

>>> validate('国食注字 ＹＰ2018 0001')
'国食注字YP20180001'
"""

from __future__ import annotations

import re

from stdnum.exceptions import InvalidFormat, InvalidLength, ValidationError
from stdnum.util import isdigits

from validators._licence import DIGIT, SP, check_year, compact_licence, literal

__all__ = ["SEARCH", "compact", "format", "is_valid", "validate"]

PREFIX = "国食注字YP"
DIGITS = 8
FIRST_YEAR = 2016
_LABEL = "infant formula registration number"

#: Finds candidates in running text: 国食注字YP and 6-10 digits. Always ``validate`` a match.
SEARCH = re.compile(rf"(?P<number>{literal(PREFIX)}{SP}{DIGIT}{{6,10}})(?!{DIGIT})")


def compact(number: str) -> str:
    """Return the minimal form: half-width, no spaces, upper case."""
    return compact_licence(number)


def validate(number: str) -> str:
    """Return the compact form of ``number`` or raise a ``ValidationError`` subclass."""
    number = compact(number)
    if not number.startswith(PREFIX):
        raise InvalidFormat(f"{_LABEL} must start with 国食注字YP")
    body = number[len(PREFIX):]
    if not isdigits(body):
        raise InvalidFormat(f"{_LABEL}: only digits may follow 国食注字YP")
    if len(body) != DIGITS:
        raise InvalidLength(f"{_LABEL} has {len(body)} digits after 国食注字YP, expected {DIGITS}")
    check_year(body[:4], FIRST_YEAR, _LABEL)
    return number


def is_valid(number: str) -> bool:
    """Return whether ``number`` is a valid infant formula registration number. Never raises."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the standard presentation, e.g. 国食注字YP20180001."""
    return compact(number)
