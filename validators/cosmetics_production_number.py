"""化妆品生产许可证编号 (cosmetics production licence number).

Source: 《化妆品生产许可工作规范》 (CFDA, 2015), which introduced the
化妆品生产许可证 from 2016. The number is the abbreviation of the issuing
province, ``妆`` and 8 digits:

* the province abbreviation (省、自治区、直辖市简称), e.g. 粤, 浙, 沪
* ``妆`` (cosmetics)
* digits 1-4: year of issue; digits 5-8: serial number (流水号)

Real number checked: 粤妆20160768 (a 2016 licence issued by 广东).

The year must be 2015 or later and not in the future. Licences issued before
2016 (全国工业产品生产许可证 XK16-…, 卫妆准字) have another form and have all
expired; they raise ``InvalidFormat``.

Exceptions raised by ``validate``:

* ``InvalidFormat``: no 妆, more or less than one character before it,
  something other than digits after it, or the input is not a string
* ``InvalidLength``: not 8 digits after 妆
* ``InvalidComponent``: the character before 妆 is not a province
  abbreviation, or the year is before 2015 or in the future

>>> validate('粤妆 20160768')
'粤妆20160768'
>>> get_province('粤妆20160768')
'广东'
"""

from __future__ import annotations

import re

from stdnum.exceptions import InvalidFormat, InvalidLength, ValidationError
from stdnum.util import isdigits

from validators._licence import (
    ABBR_CLASS,
    DIGIT,
    PROVINCES,
    SP,
    check_year,
    compact_licence,
    province_of_abbr,
)

__all__ = ["SEARCH", "compact", "format", "get_province", "is_valid", "validate"]

DIGITS = 8
FIRST_YEAR = 2015
_LABEL = "cosmetics production licence number"

#: Finds candidates in running text: a province abbreviation, 妆 and 6-10 digits.
SEARCH = re.compile(rf"(?P<number>{ABBR_CLASS}{SP}妆{SP}{DIGIT}{{6,10}})(?!{DIGIT})")


def compact(number: str) -> str:
    """Return the minimal form: half-width digits, no spaces."""
    return compact_licence(number)


def validate(number: str) -> str:
    """Return the compact form of ``number`` or raise a ``ValidationError`` subclass."""
    number = compact(number)
    head, sep, body = number.partition("妆")
    if not sep:
        raise InvalidFormat(f"{_LABEL} must be a province abbreviation, 妆 and 8 digits")
    if len(head) != 1:
        raise InvalidFormat(f"{_LABEL} must have exactly one character (the province) before 妆")
    province_of_abbr(head, _LABEL)
    if not isdigits(body):
        raise InvalidFormat(f"{_LABEL} must have only digits after 妆")
    if len(body) != DIGITS:
        raise InvalidLength(f"{_LABEL} has {len(body)} digits after 妆, expected {DIGITS}")
    check_year(body[:4], FIRST_YEAR, _LABEL)
    return number


def is_valid(number: str) -> bool:
    """Return whether ``number`` is a valid cosmetics production licence number. Never raises."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the standard presentation, e.g. 粤妆20160768."""
    return compact(number)


def get_province(number: str) -> str:
    """Return the name of the issuing province."""
    return PROVINCES[province_of_abbr(validate(number)[0], _LABEL)]
