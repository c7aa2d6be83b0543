"""工商注册号 (15-digit business registration number), GS15-2006.

This is the number on business licences issued before the 三证合一 reform
(2015-2017). The 18-character credit code replaced it; see ``credit_code``.
The structure, from the industry standard GS15-2006 工商行政管理市场主体注册号编制规则,
is 14 body digits plus 1 check digit:

* digits 1-6: first registering authority (首次登记机关代码). 100000 stands for
  the State Administration for Industry and Commerce (SAIC); otherwise it is
  the authority's GB/T 2260 administrative division code, or a code its
  superior assigned (development zones, branch bureaus). So only the
  province part is checked: the first two digits must be 10 (SAIC) or a
  mainland province code (11-15, 21-23, 31-37, 41-46, 50-54, 61-65).
* digits 7-14: serial number (顺序码). Its first digit gives the kind of
  entity: 0-3 内资企业 (domestic enterprise), 4-5 外资企业 (foreign-invested
  enterprise), 6-9 个体工商户 (individual business).
* digit 15: check digit, ISO 7064 MOD 11,10 (GB/T 17710) over the 14 body
  digits, computed with ``stdnum.iso7064.mod_11_10``.

Real numbers checked: 440307814431916 (a 个体工商户, serial starting with
8), 440400000213043 and 440306105795294 (domestic enterprises) all pass the
MOD 11,10 check as read, and the rule above classifies each one as the
licence shows it.

Before 2007 numbers had other lengths (13 digits, or prefixes such as
企合粤深总字). These are not handled and raise ``InvalidLength`` or
``InvalidFormat``. For enterprises, a licence that shows only a registration
number and no credit code is an old licence that should have been replaced
by the end of the 三证合一 transition. Send it to review; do not treat a
passing check here as proof that the licence is still in force.

Exceptions raised by ``validate``:

* ``InvalidLength``: not 15 characters after ``compact``
* ``InvalidFormat``: not all digits, or not a string
* ``InvalidComponent``: the first two digits are neither SAIC (10) nor a
  mainland province code
* ``InvalidChecksum``: the MOD 11,10 check digit does not match

>>> validate('440307814431916')
'440307814431916'
>>> get_entity_kind('440307814431916')
'individual'
"""

from __future__ import annotations

from typing import Literal

from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)
from stdnum.iso7064 import mod_11_10
from stdnum.util import isdigits

from validators._util import compact_identifier

__all__ = ["calc_check_digit", "compact", "format", "get_entity_kind", "is_valid", "validate"]

LENGTH = 15
#: First two digits: 10 = SAIC itself, then the mainland provinces (GB/T 2260).
PROVINCE_PREFIXES = frozenset(
    ["10"]
    + [f"{p}" for p in range(11, 16)]
    + [f"{p}" for p in range(21, 24)]
    + [f"{p}" for p in range(31, 38)]
    + [f"{p}" for p in range(41, 47)]
    + [f"{p}" for p in range(50, 55)]
    + [f"{p}" for p in range(61, 66)]
)

EntityKind = Literal["domestic_enterprise", "foreign_enterprise", "individual"]


def compact(number: str) -> str:
    """Return the minimal form: half-width, no spaces or hyphens."""
    return compact_identifier(number)


def calc_check_digit(number: str) -> str:
    """Return the check digit for the 14 body digits of ``number``."""
    return mod_11_10.calc_check_digit(compact(number)[:14])


def validate(number: str) -> str:
    """Return the compact form of ``number`` or raise a ``ValidationError`` subclass."""
    number = compact(number)
    if len(number) != LENGTH:
        raise InvalidLength(f"registration number must have {LENGTH} digits, found {len(number)}")
    if not isdigits(number):
        raise InvalidFormat("registration number must be all digits")
    if number[:2] not in PROVINCE_PREFIXES:
        raise InvalidComponent(f"registration number: {number[:2]!r} is not a mainland province code")
    try:
        mod_11_10.validate(number)
    except InvalidChecksum:
        raise InvalidChecksum("registration number: MOD 11,10 check digit does not match") from None
    return number


def is_valid(number: str) -> bool:
    """Return whether ``number`` is a valid registration number. Never raises."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the standard presentation: 15 digits without separators."""
    return compact(number)


def get_entity_kind(number: str) -> EntityKind:
    """Return the kind of entity encoded in the serial's first digit (digit 7)."""
    number = validate(number)
    first = int(number[6])
    if first <= 3:
        return "domestic_enterprise"
    if first <= 5:
        return "foreign_enterprise"
    return "individual"
