"""商标注册号 (trademark registration number).

The 商标注册证 is issued by the Trademark Office (商标局, now part of CNIPA)
under the 商标法. Neither the 商标法 nor its implementing regulations publish
the number's structure. Structure as observed on issued certificates: a
sequence number of up to 8 digits, printed as ``第12345678号``. The numbers
are assigned in order, so older marks have fewer digits (1-6), and marks
registered in the last two decades have 7 or 8. There is no check digit.

``compact`` removes the ``第`` in front and the ``号`` at the end, so
``第12345678号`` becomes ``12345678``. That is the number searched for in the
CNIPA register, and what ``validate`` returns.

Other forms raise ``InvalidFormat`` so that a reviewer checks them in the
register: international (Madrid) registrations extended to China carry the
WIPO registration number, which the Chinese register may show with a G
prefix, and a mark split off by a divisional application may carry a letter
suffix.

Exceptions raised by ``validate``:

* ``InvalidFormat``: not all digits after removing 第 and 号, starts with
  0, or not a string
* ``InvalidLength``: more than 8 digits

>>> validate('第 12345678 号')
'12345678'
"""

from __future__ import annotations

import re

from stdnum.exceptions import InvalidFormat, InvalidLength, ValidationError
from stdnum.util import isdigits

from validators._licence import DIGIT, SP, after_label, compact_licence

__all__ = ["SEARCH", "compact", "format", "is_valid", "validate"]

MAX_LENGTH = 8

#: Finds candidates in running text: ``第12345678号``, or up to 9 digits just
#: after the label 注册号 / 注册证号 (the label is not part of the match). A
#: divisional letter suffix (``第80672269A号``) is found with its number, so that
#: ``validate`` can say what it is instead of the search cutting it off.
SEARCH = re.compile(
    rf"(?P<number>{after_label('注册号', '注册证号')}(?:第{SP})?{DIGIT}{{1,9}}[A-Z]?(?!{DIGIT})(?:{SP}号)?"
    rf"|第{SP}{DIGIT}{{1,9}}[A-Z]?{SP}号"
    rf"|(?<!{DIGIT}){DIGIT}{{7,9}}[A-Z]?{SP}号)"  # 第 lost (faint, cut): 7+ digits then 号 is no address
)


def compact(number: str) -> str:
    """Return the minimal form: half-width digits, no spaces, 第 and 号 removed."""
    number = compact_licence(number)
    number = number.removeprefix("第")
    number = number.removesuffix("号")
    return number


def validate(number: str) -> str:
    """Return the compact form of ``number`` or raise a ``ValidationError`` subclass."""
    number = compact(number)
    if not isdigits(number):
        raise InvalidFormat("trademark registration number must be digits only (第 and 号 aside)")
    if len(number) > MAX_LENGTH:
        raise InvalidLength(f"trademark registration number has {len(number)} digits, expected at most {MAX_LENGTH}")
    if number[0] == "0":
        raise InvalidFormat("trademark registration number does not start with 0")
    return number


def is_valid(number: str) -> bool:
    """Return whether ``number`` is a valid trademark registration number. Never raises."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the presentation used for searching the register: the digits alone."""
    return compact(number)
