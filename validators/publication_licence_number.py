"""出版物经营许可证编号 (publication business licence number).

The licence is issued under 《出版物市场管理规定》 (2016) by the provincial or
local press and publication authority. The 规定 does not publish the
number's structure, and each region numbers its own. Structure as observed
on issued certificates:

* ``新出发`` (新闻出版 发行, "press and publication, distribution")
* the region: a province abbreviation, optionally followed by a city or
  district abbreviation or by 零 (retail), 批 (wholesale) or 总 (head
  distributor), e.g. 京零, 沪批, 苏宁
* ``字第``
* the serial: digits, sometimes with a district character, letters or a
  hyphen, e.g. 东110123, 1234
* ``号``

Only the stable parts are checked: 新出发 at the start, a region of one to
six characters that starts with a province abbreviation, 字第, a serial with
at least 3 digits and 号 at the end. A number that does not fit raises
``InvalidFormat``, so that a reviewer checks it (SPEC §3: the pattern may be
wrong, not the licence). ``compact`` keeps hyphens, because some regions
print them inside the serial.

Exceptions raised by ``validate``:

* ``InvalidFormat``: any of the parts above is missing or malformed, or the
  input is not a string

>>> validate('新出发京零字第东110123号')
'新出发京零字第东110123号'
>>> validate('新出发 沪批字 第 1234 号')
'新出发沪批字第1234号'
"""

from __future__ import annotations

import re

from stdnum.exceptions import InvalidFormat, ValidationError

from validators._licence import ABBR_CLASS, ABBREVIATIONS, SP, compact_licence, is_cjk, literal

__all__ = ["SEARCH", "compact", "format", "get_region", "is_valid", "validate"]

PREFIX = "新出发"
MIN_DIGITS = 3
MAX_REGION = 6
MAX_SERIAL = 20
_LABEL = "publication business licence number"
_SERIAL_CHARS = re.compile(r"^[0-9A-Z\-()\u4e00-\u9fff]+$")

#: Finds candidates in running text: 新出发 … 字第 … 号. Always ``validate`` a match.
SEARCH = re.compile(
    rf"(?P<number>{literal(PREFIX)}{SP}{ABBR_CLASS}[^\s字]{{0,{MAX_REGION}}}?{SP}{literal('字第')}"
    rf"{SP}[^\s号]{{1,{MAX_SERIAL}}}?{SP}号)"
)


def compact(number: str) -> str:
    """Return the minimal form: half-width, no spaces, hyphens kept."""
    return compact_licence(number, keep_hyphen=True)


def _parts(number: str) -> tuple[str, str, str]:
    number = compact(number)
    if not number.startswith(PREFIX):
        raise InvalidFormat(f"{_LABEL} must start with 新出发")
    if not number.endswith("号"):
        raise InvalidFormat(f"{_LABEL} must end with 号")
    region, sep, serial = number[len(PREFIX):-1].partition("字第")
    if not sep:
        raise InvalidFormat(f"{_LABEL} must contain 字第 between the region and the serial")
    if not 1 <= len(region) <= MAX_REGION or not all(is_cjk(c) for c in region):
        raise InvalidFormat(f"{_LABEL}: the region between 新出发 and 字第 should be 1-{MAX_REGION} Chinese characters")
    if region[0] not in ABBREVIATIONS:
        raise InvalidFormat(f"{_LABEL}: the region should start with a province abbreviation, found {region[0]!r}")
    if len(serial) > MAX_SERIAL or not _SERIAL_CHARS.match(serial):
        raise InvalidFormat(f"{_LABEL}: the serial between 字第 and 号 is not a plain serial number: {serial!r}")
    if sum(c.isdigit() for c in serial) < MIN_DIGITS:
        raise InvalidFormat(f"{_LABEL}: the serial between 字第 and 号 has fewer than {MIN_DIGITS} digits")
    return number, region, serial


def validate(number: str) -> str:
    """Return the compact form of ``number`` or raise ``InvalidFormat``."""
    return _parts(number)[0]


def is_valid(number: str) -> bool:
    """Return whether ``number`` has the structure of a publication business licence number. Never raises."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the standard presentation: the number without spaces."""
    return compact(number)


def get_region(number: str) -> str:
    """Return the region part between 新出发 and 字第, e.g. '京零'."""
    return _parts(number)[1]
