"""商标注册类别 (trademark class of the Nice Classification).

China applies the Nice Classification (尼斯分类, 《商标注册用商品和服务国际分类》)
through its 类似商品和服务区分表. It has 45 classes: 1-34 for goods and 35-45
for services. A 商标注册证 prints the class as ``第35类`` (核定使用商品/服务项目
第35类).

``compact`` removes ``第`` and ``类`` and a leading zero, so ``第35类`` becomes
``35`` and ``03`` becomes ``3``.

Exceptions raised by ``validate``:

* ``InvalidFormat``: not digits after removing 第 and 类, or not a string
* ``InvalidLength``: more than 2 digits
* ``InvalidComponent``: not a class from 1 to 45

>>> validate('第35类')
'35'
>>> is_goods('第3类')
True
"""

from __future__ import annotations

import re

from stdnum.exceptions import InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.util import isdigits

from validators._licence import DIGIT, SP, after_label, compact_licence

__all__ = ["SEARCH", "compact", "format", "is_goods", "is_valid", "validate"]

CLASSES = range(1, 46)
LAST_GOODS_CLASS = 34

#: Finds candidates in running text: ``第35类``, or a number just after the label
#: 类别 / 国际分类 / 分类号 (the label is not part of the match).
SEARCH = re.compile(
    rf"(?P<number>{after_label('类别', '国际分类', '分类号')}(?:第{SP})?{DIGIT}{{1,3}}(?!{DIGIT})(?:{SP}类)?"
    rf"|第{SP}{DIGIT}{{1,3}}{SP}类)"
)


def compact(number: str) -> str:
    """Return the minimal form: the class number without 第, 类 or a leading zero."""
    number = compact_licence(number)
    number = number.removeprefix("第")
    number = number.removesuffix("类")
    if len(number) == 2 and number[0] == "0":
        number = number[1:]
    return number


def validate(number: str) -> str:
    """Return the compact form of ``number`` or raise a ``ValidationError`` subclass."""
    number = compact(number)
    if not isdigits(number):
        raise InvalidFormat("trademark class must be a number such as 35 or 第35类")
    if len(number) > 2:
        raise InvalidLength(f"trademark class has {len(number)} digits; classes run from 1 to 45")
    if int(number) not in CLASSES:
        raise InvalidComponent(f"trademark class {int(number)} does not exist; Nice classes run from 1 to 45")
    return number


def is_valid(number: str) -> bool:
    """Return whether ``number`` is a Nice class from 1 to 45. Never raises."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the class number, e.g. '35'."""
    return compact(number)


def is_goods(number: str) -> bool:
    """Return whether the class is for goods (1-34) rather than services (35-45)."""
    return int(validate(number)) <= LAST_GOODS_CLASS
