"""医疗器械经营许可证编号 / 第二类医疗器械经营备案编号 (medical device business
licence and class II business filing numbers).

Source: 《医疗器械经营监督管理办法》 (2014). It sets the form
``××食药监械经营许XXXXXXXX号`` for a 经营许可证 (class III devices) and
``××食药监械经营备XXXXXXXX号`` for a 第二类医疗器械经营备案凭证:

* the province abbreviation (省、自治区、直辖市简称), e.g. 浙
* the abbreviation of the city (设区的市级行政区域简称), e.g. 杭. It is
  missing where there is no city level, and some places print two characters,
  so 0-2 characters are accepted.
* the authority: ``食药监`` (food and drug administration). The 2022
  revision of the 办法 writes ``药监``, and some market-regulation bureaus
  print ``市监`` since the 2018 reorganisation; all three are accepted.
* ``械经营`` and ``许`` (licence, ``kind`` ``"licence"``) or ``备`` (filing,
  ``"filing"``)
* 8 digits: year of issue (4) and serial number (4)
* ``号``

``号`` is part of the official number and ``compact`` keeps it as printed.
A number read without it is accepted (OCR often drops it); ``format`` adds it.
The year must be 2014 or later (the numbering began with the 2014 办法) and
not in the future.

Exceptions raised by ``validate``:

* ``InvalidFormat``: no ``食药监/药监/市监`` + ``械经营许/备``, more than two
  characters between the province and the authority, something other than
  digits before 号, or not a string
* ``InvalidLength``: not 8 digits
* ``InvalidComponent``: the first character is not a province abbreviation,
  or the year is before 2014 or in the future

>>> validate('浙杭食药监械经营许 20150012 号')
'浙杭食药监械经营许20150012号'
>>> kind('浙杭食药监械经营备20150031号')
'filing'
"""

from __future__ import annotations

import re
from typing import Literal

from stdnum.exceptions import InvalidFormat, InvalidLength, ValidationError
from stdnum.util import isdigits

from validators._licence import ABBR_CLASS, DIGIT, SP, check_year, compact_licence, literal, province_of_abbr

__all__ = ["SEARCH", "compact", "format", "is_valid", "kind", "validate"]

Kind = Literal["licence", "filing"]

DIGITS = 8
FIRST_YEAR = 2014
_LABEL = "medical device business licence number"
_RE = re.compile(r"^(?P<head>.*?)(?P<auth>食药监|药监|市监)械经营(?P<kind>[许备])(?P<digits>.*?)(?P<hao>号?)$")
_KINDS: dict[str, Kind] = {"许": "licence", "备": "filing"}

#: Finds candidates in running text: province (+ city) + 食药监/药监/市监 + 械经营许/备 + 6-10 digits + 号.
SEARCH = re.compile(
    rf"(?P<number>{ABBR_CLASS}{SP}(?:[\u4e00-\u9fff]{SP}){{0,2}}?(?:{literal('食药监')}|{literal('药监')}|{literal('市监')})"
    rf"{SP}{literal('械经营')}{SP}[许备]{SP}{DIGIT}{{6,10}}(?!{DIGIT})(?:{SP}号)?)"
)


def compact(number: str) -> str:
    """Return the minimal form: half-width digits, no spaces; 号 is kept."""
    return compact_licence(number)


def _parse(number: str) -> tuple[str, Kind]:
    number = compact(number)
    m = _RE.match(number)
    if not m:
        raise InvalidFormat(f"{_LABEL} must read like 浙杭食药监械经营许20150012号 (…械经营许 or …械经营备)")
    head = m["head"]
    if not 1 <= len(head) <= 3:
        raise InvalidFormat(
            f"{_LABEL}: expected a province abbreviation and at most two characters for the city "
            f"before {m['auth']}, found {head!r}"
        )
    province_of_abbr(head[0], _LABEL)
    digits = m["digits"]
    if not isdigits(digits):
        raise InvalidFormat(f"{_LABEL}: only digits may follow 械经营{m['kind']}, found {digits!r}")
    if len(digits) != DIGITS:
        raise InvalidLength(f"{_LABEL} has {len(digits)} digits, expected {DIGITS} (4-digit year and 4-digit serial)")
    check_year(digits[:4], FIRST_YEAR, _LABEL)
    return number, _KINDS[m["kind"]]


def validate(number: str) -> str:
    """Return the compact form of ``number`` (号 kept as read) or raise a ``ValidationError`` subclass."""
    return _parse(number)[0]


def is_valid(number: str) -> bool:
    """Return whether ``number`` is a valid medical device business licence or filing number. Never raises."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the official presentation, ending in 号."""
    number = compact(number)
    return number if number.endswith("号") else number + "号"


def kind(number: str) -> Kind:
    """Return ``"licence"`` (经营许可证, 许) or ``"filing"`` (经营备案, 备)."""
    return _parse(number)[1]
