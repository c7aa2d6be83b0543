"""烟草专卖零售许可证号 (tobacco monopoly retail licence number).

The licence is issued under 《烟草专卖许可证管理办法》 by the county-level
tobacco monopoly bureau. The 办法 does not publish the number's structure.
Structure as observed on issued certificates: 12 digits,

* digits 1-6: administrative division code (GB/T 2260) of the issuing
  bureau, so the first two digits are a mainland province code
* digits 7-12: serial number

There is no check digit. Only the length, the digits and the province are
checked. A number that does not fit (letters, another length) may be a
regional variant: ``InvalidFormat`` and ``InvalidLength`` send it to a
reviewer, who checks it with the issuing bureau.

Online sales of e-cigarettes have been banned since 2022 (SPEC §4): a valid
number here does not make the category sellable.

Exceptions raised by ``validate``:

* ``InvalidFormat``: not all digits, or not a string
* ``InvalidLength``: not 12 digits
* ``InvalidComponent``: the first two digits are not a mainland province code

>>> validate('4403 0510 0123')
'440305100123'
"""

from __future__ import annotations

import re

from stdnum.exceptions import InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.util import isdigits

from validators._licence import DIGIT, PROVINCES, compact_licence

__all__ = ["SEARCH", "compact", "format", "get_province", "is_valid", "validate"]

LENGTH = 12

#: Finds candidates in running text: a run of exactly 12 digits, not part of a
#: longer run (an ID number, a 15-digit 注册号). Such runs are common, so pick
#: the one next to the 许可证号 label; always ``validate`` a match.
SEARCH = re.compile(rf"(?<![0-9０-９])(?P<number>{DIGIT}{{12}})(?![0-9０-９])")


def compact(number: str) -> str:
    """Return the minimal form: half-width digits, no spaces or hyphens."""
    return compact_licence(number)


def validate(number: str) -> str:
    """Return the compact form of ``number`` or raise a ``ValidationError`` subclass."""
    number = compact(number)
    if not isdigits(number):
        raise InvalidFormat("tobacco retail licence number must be digits only")
    if len(number) != LENGTH:
        raise InvalidLength(f"tobacco retail licence number has {len(number)} digits, expected {LENGTH}")
    if number[:2] not in PROVINCES:
        raise InvalidComponent(
            f"tobacco retail licence number: {number[:2]} (first two digits) is not a mainland province code"
        )
    return number


def is_valid(number: str) -> bool:
    """Return whether ``number`` is a valid tobacco retail licence number. Never raises."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the standard presentation: 12 digits, no separators."""
    return compact(number)


def get_province(number: str) -> str:
    """Return the name of the province of the issuing bureau."""
    return PROVINCES[validate(number)[:2]]
