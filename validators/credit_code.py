"""统一社会信用代码 (Unified Social Credit Code, USCC), GB 32100-2015.

The code has 18 characters from the alphabet ``0-9 A-H J-N P-R T U W X Y``.
The letters I, O, Z, S and V are never used, because they are too easy to
confuse with 1, 0, 2, 5 and U. The parts are:

* position 1: registration authority (登记管理部门代码): 1 机构编制, 2 外交,
  3 司法行政, 4 文化, 5 民政, 6 旅游, 7 宗教, 8 工会, 9 工商/市场监管,
  A 中央军委改革和编制办公室, N 农业, Y 其他
* position 2: entity category (机构类别代码), a digit 1-9. For authority 9 it
  is 1 企业, 2 个体工商户 or 3 农民专业合作社.
* positions 3-8: administrative division of the registering authority
  (登记管理机关行政区划码, GB/T 2260), six digits
* positions 9-17: subject identifier (主体标识码, the organisation code of
  GB 11714), nine characters from the alphabet
* position 18: check character (GB/T 17710, MOD 31). The weights are
  3**(i-1) mod 31 and the value is taken in the alphabet above. It is computed
  by ``stdnum.cn.uscc.calc_check_digit``.

``stdnum.cn.uscc.validate`` requires digits in positions 1-8, so it rejects
codes that the standard allows, those of authorities A (military), N
(agricultural collective organisations) and Y. This module checks the
structure itself, allowing those letters in position 1, and uses stdnum for
the check character. For codes that start with a digit the result is the same
as stdnum's.

Exceptions raised by ``validate``:

* ``InvalidLength``: not 18 characters after ``compact``
* ``InvalidFormat``: a character outside the alphabet, for example I, O, Z,
  S or V, or a non-digit in positions 3-8, or input that is not a string
* ``InvalidComponent``: position 1 is not a known registration authority, or
  position 2 is not 1-9
* ``InvalidChecksum``: the check character does not match

``validate`` checks what python-stdnum checks (the alphabet and the final check character) plus
the positions' alphabets. Two further rules of the standard are *structure* checks, reported by
``structure_problems`` rather than raised, because real codes that break them exist (codes
assigned before the rules were enforced) and a reviewer should look, not the pipeline reject:

* positions 9-17 are an organisation code of GB 11714-1997, whose 9th character is its own
  check character: weights 3 7 9 10 5 8 4 2 over the first eight (digits as themselves, letters
  A=10 … Z=35), C = 11 - (sum mod 11), with 10 written X and 11 written 0;
* positions 1-2 are a registration authority and one of *its* entity categories (GB 32100-2015
  table 1 and 2): e.g. authority 9 (市场监管) has only 1 企业, 2 个体工商户, 3 农民专业合作社.

An 18-digit 居民身份证号码 passes the final check character about once in 31 tries (e.g.
``110101199003071238``), so a code that is all digits is also tried as an ID number.

``repair`` undoes common OCR confusions (O/0, I/1, Z/2, S/5, B/8). It accepts a
repair only when exactly one substitution pattern gives a valid code.

>>> validate('91110000600037341L')
'91110000600037341L'
>>> validate('９１１１００００６０００３７３４１Ｌ')
'91110000600037341L'
>>> repair('91110000600O37341L').value
'91110000600037341L'
>>> structure_problems('110101199003071238')
["positions 9-17 900307123: the organisation code's check character does not verify (GB 11714-1997)"]
"""

from __future__ import annotations

import itertools

from pydantic import BaseModel, ConfigDict
from stdnum.cn import uscc
from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)

from validators._util import compact_identifier

__all__ = [
    "ALPHABET",
    "MAX_CONFUSABLE_POSITIONS",
    "Repair",
    "calc_check_digit",
    "compact",
    "format",
    "is_valid",
    "repair",
    "structure_problems",
    "validate",
]

LENGTH = 18
#: The 31 characters a USCC may contain (no I, O, Z, S, V).
ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
#: Registration authorities (登记管理部门代码) allowed in position 1.
AUTHORITY_CODES = "123456789ANY"
_DIGITS = "0123456789"

#: Characters OCR confuses, in both directions.
CONFUSABLE = {
    "O": "0", "0": "O", "I": "1", "1": "I", "Z": "2", "2": "Z", "S": "5", "5": "S", "B": "8", "8": "B",
}
#: ``repair`` gives up when more positions than this could be substituted.
MAX_CONFUSABLE_POSITIONS = 6


def _allowed(position: int) -> str:
    """Characters allowed at ``position`` (0-based)."""
    if position == 0:
        return AUTHORITY_CODES
    if position == 1:
        return _DIGITS[1:]
    if position < 8:
        return _DIGITS
    return ALPHABET


def compact(number: str) -> str:
    """Return the minimal form: half-width, no spaces or hyphens, upper case."""
    return compact_identifier(number)


def calc_check_digit(number: str) -> str:
    """Return the check character for the first 17 characters of ``number``."""
    return uscc.calc_check_digit(compact(number)[:17])


def validate(number: str) -> str:
    """Return the compact form of ``number`` or raise a ``ValidationError`` subclass."""
    number = compact(number)
    if len(number) != LENGTH:
        raise InvalidLength(f"credit code must have {LENGTH} characters, found {len(number)}")
    for i, c in enumerate(number):
        if c not in ALPHABET:
            raise InvalidFormat(
                f"credit code: {c!r} at position {i + 1} is not allowed "
                "(digits and capital letters except I, O, Z, S, V)"
            )
    for i in range(2, 8):
        if number[i] not in _DIGITS:
            raise InvalidFormat(f"credit code: position {i + 1} must be a digit (administrative division)")
    if number[0] not in AUTHORITY_CODES:
        raise InvalidComponent(f"credit code: {number[0]!r} is not a registration authority code")
    if number[1] not in _allowed(1):
        raise InvalidComponent(f"credit code: {number[1]!r} is not an entity category code")
    if number[-1] != uscc.calc_check_digit(number):
        raise InvalidChecksum("credit code: check character does not match")
    return number


def is_valid(number: str) -> bool:
    """Return whether ``number`` is a valid credit code. Never raises."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the standard presentation: the 18 characters without separators."""
    return compact(number)


#: GB 32100-2015: the entity categories (position 2) each registration authority (position 1) uses.
CATEGORIES_OF_AUTHORITY = {
    "1": "1239", "2": "19", "3": "1234569", "4": "19", "5": "1239", "6": "129", "7": "129", "8": "19",
    "9": "123", "A": "19", "N": "1239", "Y": "1",
}
_ORG_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)


def organisation_check_char(body: str) -> str:
    """GB 11714-1997 check character of an organisation code's first eight characters."""
    total = sum((int(c) if c.isdigit() else ord(c) - 55) * w for c, w in zip(body, _ORG_WEIGHTS, strict=True))
    check = 11 - total % 11
    return "X" if check == 10 else "0" if check == 11 else str(check)


def structure_problems(number: str) -> list[str]:
    """Rules of GB 32100 / GB 11714 beyond the final check character that ``number`` breaks.

    Empty for a well-formed code. Expects a code that ``validate`` accepts; for anything else
    it returns the ``validate`` error as its one problem. Never raises.
    """
    try:
        number = validate(number)
    except ValidationError as e:
        return [str(e)]
    problems = []
    if number[1] not in CATEGORIES_OF_AUTHORITY.get(number[0], ""):
        problems.append(f"positions 1-2 {number[:2]}: authority {number[0]} has no entity category {number[1]} "
                        "(GB 32100-2015)")
    if organisation_check_char(number[8:16]) != number[16]:
        problems.append(f"positions 9-17 {number[8:17]}: the organisation code's check character does not "
                        "verify (GB 11714-1997)")
    return problems


class Repair(BaseModel):
    """Result of ``repair``.

    ``original`` is the compact form of the read (empty when the input was not
    a string). ``changes`` holds ``(position, read_char, repaired_char)``
    tuples with 0-based positions into ``original``. ``candidates`` lists every
    substitution pattern that validates. ``value`` is set only when there is
    exactly one candidate.
    """

    model_config = ConfigDict(frozen=True)

    value: str | None
    original: str
    changes: list[tuple[int, str, str]] = []
    candidates: list[str] = []

    @property
    def repaired(self) -> bool:
        """True when ``value`` differs from ``original``."""
        return self.value is not None and bool(self.changes)


def repair(number: str) -> Repair:
    """Try to undo OCR confusions (O/0, I/1, Z/2, S/5, B/8) in a credit code.

    A number that already validates comes back unchanged with no changes. If
    not, every combination of the confusable substitutions that the structure
    allows at each position is tried. Because I, O, Z and S are never valid,
    a read I, O, Z or S has to be replaced, and 0, 1, 2 and 5 are never turned
    into letters. B and 8 can go either way in positions 9-18. The repair is
    accepted only when exactly one combination validates. With zero or several,
    ``value`` is None and the passing candidates are listed. When more than
    ``MAX_CONFUSABLE_POSITIONS`` positions could be changed, or a character
    fits neither as read nor after substitution, there is no search and no
    candidates. Never raises.
    """
    try:
        read = compact(number)
    except ValidationError:
        return Repair(value=None, original="")
    if is_valid(read):
        return Repair(value=read, original=read, changes=[], candidates=[read])
    if len(read) != LENGTH:
        return Repair(value=None, original=read)

    options: list[list[str]] = []
    for i, c in enumerate(read):
        allowed = _allowed(i)
        opts = [x for x in (c, CONFUSABLE.get(c)) if x is not None and x in allowed]
        if not opts:
            return Repair(value=None, original=read)
        options.append(opts)
    if sum(1 for i, o in enumerate(options) if o != [read[i]]) > MAX_CONFUSABLE_POSITIONS:
        return Repair(value=None, original=read)

    candidates = sorted(
        {"".join(combo) for combo in itertools.product(*options) if is_valid("".join(combo))},
        key=lambda cand: (sum(a != b for a, b in zip(cand, read, strict=True)), cand),
    )
    if len(candidates) != 1:
        return Repair(value=None, original=read, candidates=candidates)
    value = candidates[0]
    changes = [(i, a, b) for i, (a, b) in enumerate(zip(read, value, strict=True)) if a != b]
    return Repair(value=value, original=read, changes=changes, candidates=candidates)
