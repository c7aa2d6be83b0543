"""食品经营许可证编号 (food business licence number).

Source: 《食品经营许可管理办法》 (2015). The same structure is kept in
《食品经营许可和备案管理办法》 (2023). The number is ``JY`` (经营, "business") and
14 digits:

* digit 1: 主体业态 (kind of operator): 1 食品销售经营者 (food sales),
  2 餐饮服务经营者 (catering), 3 单位食堂 (canteen)
* digits 2-3: province (GB/T 2260), e.g. 33 浙江, 44 广东
* digits 4-5: city (地市), digits 6-7: county (县区)
* digits 8-13: serial number (顺序码)
* digit 14: check digit (校验码)

The check-digit algorithm is not published, so it is not verified here. Only
the structure, the 主体业态 code and the province are checked.

Real numbers checked: JY14409020234560 (a 食杂店 in 茂名市茂南区, 44 09 02)
and JY24419120907527 (a catering company in 东莞, 44 19).

Numbers of the older 食品流通许可证 and 餐饮服务许可证 do not have this form. Those
licences were replaced by the 食品经营许可证 by 2020, and they raise ``InvalidFormat``.

Exceptions raised by ``validate``:

* ``InvalidFormat``: does not start with JY, or has something other than
  digits after JY, or the input is not a string
* ``InvalidLength``: not 14 digits after JY
* ``InvalidComponent``: the 主体业态 digit is not 1, 2 or 3, or digits 2-3
  are not a mainland province code

>>> validate('ＪＹ１４４０９０２０２３４５６０')
'JY14409020234560'
>>> get_business_type('JY24419120907527')
'catering'
"""

from __future__ import annotations

import re
from typing import Literal

from stdnum.exceptions import InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.util import isdigits

from validators._licence import DIGIT, PROVINCES, SP, compact_licence, literal

__all__ = ["SEARCH", "compact", "format", "get_business_type", "get_province", "is_valid", "validate"]

PREFIX = "JY"
DIGITS = 14
#: 主体业态 code -> kind of operator.
BUSINESS_TYPES: dict[str, str] = {"1": "food_sales", "2": "catering", "3": "canteen"}

#: Finds candidates in running text: JY and 8-20 digits. Always ``validate`` a match.
SEARCH = re.compile(rf"(?<![A-Za-zＡ-Ｚａ-ｚ])(?P<number>{literal(PREFIX)}{SP}{DIGIT}{{8,20}})(?!{DIGIT})")

BusinessType = Literal["food_sales", "catering", "canteen"]


def compact(number: str) -> str:
    """Return the minimal form: half-width, no spaces or hyphens, upper case."""
    return compact_licence(number)


def validate(number: str) -> str:
    """Return the compact form of ``number`` or raise a ``ValidationError`` subclass."""
    number = compact(number)
    if not number.startswith(PREFIX):
        raise InvalidFormat("food business licence number must start with JY")
    body = number[len(PREFIX):]
    if not isdigits(body):
        raise InvalidFormat("food business licence number must be JY followed by digits only")
    if len(body) != DIGITS:
        raise InvalidLength(f"JY number has {len(body)} digits after JY, expected {DIGITS}")
    if body[0] not in BUSINESS_TYPES:
        raise InvalidComponent(
            f"JY number: the first digit after JY (主体业态) is {body[0]}, expected 1 食品销售, 2 餐饮服务 or 3 单位食堂"
        )
    if body[1:3] not in PROVINCES:
        raise InvalidComponent(f"JY number: {body[1:3]} (digits 2-3 after JY) is not a mainland province code")
    return number


def is_valid(number: str) -> bool:
    """Return whether ``number`` is a valid food business licence number. Never raises."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the standard presentation: JY and 14 digits, no separators."""
    return compact(number)


def get_business_type(number: str) -> BusinessType:
    """Return the kind of operator (主体业态): food_sales, catering or canteen."""
    return BUSINESS_TYPES[validate(number)[2]]  # type: ignore[return-value]


def get_province(number: str) -> str:
    """Return the name of the issuing province, e.g. '广东'."""
    return PROVINCES[validate(number)[3:5]]
