"""食品生产许可证编号 (food production licence number).

Source: 《食品生产许可管理办法》 (2015, revised 2020). The number is ``SC``
(生产, "production") and 14 digits:

* digits 1-3: food category code (食品类别编码). The first digit is 1 for a
  food and 2 for a food additive (食品添加剂); the next two give the category
  of the 食品生产许可分类目录.
* digits 4-5: province (GB/T 2260), e.g. 33 浙江, 44 广东
* digits 6-7: city (地市), digits 8-9: county (县区)
* digits 10-13: serial number (顺序码)
* digit 14: check digit (校验码)

The check-digit algorithm is not published, so it is not verified here. Only
the structure, the first digit of the category code and the province are
checked. The category list changes with the 分类目录, so digits 2-3 are not
checked.

The older QS numbers (全国工业产品生产许可证, QS + 12 digits) were replaced by SC
numbers from 2015 to 2018. They raise ``InvalidFormat``.

Exceptions raised by ``validate``:

* ``InvalidFormat``: does not start with SC, or has something other than
  digits after SC, or the input is not a string
* ``InvalidLength``: not 14 digits after SC
* ``InvalidComponent``: the first digit is not 1 (food) or 2 (food
  additive), or digits 4-5 are not a mainland province code

>>> validate('SC 106 33 01 06 0012 3')
'SC10633010600123'
>>> is_additive('SC20144030700012')
True
"""

from __future__ import annotations

import re

from stdnum.exceptions import InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.util import isdigits

from validators._licence import DIGIT, PROVINCES, SP, compact_licence, literal

__all__ = ["SEARCH", "compact", "format", "get_province", "is_additive", "is_valid", "validate"]

PREFIX = "SC"
DIGITS = 14

#: Finds candidates in running text: SC and 8-20 digits. Always ``validate`` a match.
SEARCH = re.compile(rf"(?<![A-Za-zＡ-Ｚａ-ｚ])(?P<number>{literal(PREFIX)}{SP}{DIGIT}{{8,20}})(?!{DIGIT})")


def compact(number: str) -> str:
    """Return the minimal form: half-width, no spaces or hyphens, upper case."""
    return compact_licence(number)


def validate(number: str) -> str:
    """Return the compact form of ``number`` or raise a ``ValidationError`` subclass."""
    number = compact(number)
    if not number.startswith(PREFIX):
        raise InvalidFormat("food production licence number must start with SC")
    body = number[len(PREFIX):]
    if not isdigits(body):
        raise InvalidFormat("food production licence number must be SC followed by digits only")
    if len(body) != DIGITS:
        raise InvalidLength(f"SC number has {len(body)} digits after SC, expected {DIGITS}")
    if body[0] not in "12":
        raise InvalidComponent(
            f"SC number: the food category code starts with {body[0]}, expected 1 (food) or 2 (food additive)"
        )
    if body[3:5] not in PROVINCES:
        raise InvalidComponent(f"SC number: {body[3:5]} (digits 4-5 after SC) is not a mainland province code")
    return number


def is_valid(number: str) -> bool:
    """Return whether ``number`` is a valid food production licence number. Never raises."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the standard presentation: SC and 14 digits, no separators."""
    return compact(number)


def is_additive(number: str) -> bool:
    """Return whether the licence is for food additives (category code 2xx)."""
    return validate(number)[2] == "2"


def get_province(number: str) -> str:
    """Return the name of the issuing province, e.g. '浙江'."""
    return PROVINCES[validate(number)[5:7]]
