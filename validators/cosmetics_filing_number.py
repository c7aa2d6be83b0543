"""化妆品备案编号 / 注册证编号 (cosmetics filing and registration numbers).

Sources: 《化妆品注册备案管理办法》 (2021) and the numbering used by the national
cosmetics filing system since 2014. Structure as observed on issued
certificates:

* domestic filing (国产普通化妆品备案), ``kind`` ``"domestic_filing"``: province
  abbreviation + ``G`` (国产) + ``妆网备字`` + 10 digits (4-digit year + 6-digit
  serial), e.g. 粤G妆网备字2020012345
* import filing (进口普通化妆品备案), ``"import_filing"``: ``国妆网备进字`` + the
  filing province in brackets + 10 digits (year + serial), e.g.
  国妆网备进字(沪)2021001234. The older ``国妆备进字`` + ``J`` + 8 digits (year +
  4-digit serial) is also an import filing.
* special cosmetics registration (特殊化妆品注册), ``"special_registration"``:
  ``国妆特字`` or ``国妆特注字`` + ``G`` + 8 digits (year + serial), e.g.
  国妆特字G20190123
* imported special cosmetics, ``"import_special_registration"``:
  ``国妆特进字`` + ``J`` + 8 digits, e.g. 国妆特进字J20190123

G marks a domestic (国产) product and J an imported (进口) one, so the letter
must match the prefix. Full- and half-width brackets are accepted, and
``compact`` turns （沪） into (沪). The year must not be in the future, nor
before 2014 for an online filing (妆网备字, 国妆网备进字: the online filing system
began then) or 2000 for the 国妆…字 forms.

Other forms (卫妆特字 numbers of the Ministry of Health, 国妆网备字 without 进,
new-ingredient numbers) are not handled. They raise ``InvalidFormat``, so that
a reviewer checks them on the NMPA database.

Exceptions raised by ``validate``:

* ``InvalidFormat``: none of the forms above, or not a string
* ``InvalidLength``: the wrong number of digits for the form
* ``InvalidComponent``: the province is not a province abbreviation, the
  letter does not match the prefix (G for domestic, J for imported), or the
  year is impossible

>>> validate('国妆网备进字（沪）2021001234')
'国妆网备进字(沪)2021001234'
>>> kind('粤G妆网备字2020012345')
'domestic_filing'
"""

from __future__ import annotations

import re
from typing import Literal

from stdnum.exceptions import InvalidComponent, InvalidFormat, InvalidLength, ValidationError
from stdnum.util import isdigits

from validators._licence import (
    ABBR_CLASS,
    DIGIT,
    LBR,
    RBR,
    SP,
    check_year,
    compact_licence,
    literal,
    province_of_abbr,
)

__all__ = ["SEARCH", "compact", "format", "is_valid", "kind", "validate"]

Kind = Literal["domestic_filing", "import_filing", "special_registration", "import_special_registration"]

_LABEL = "cosmetics filing/registration number"
FIRST_FILING_YEAR = 2014
FIRST_REGISTRATION_YEAR = 2000

_DOMESTIC_FILING = re.compile(r"^(?P<prov>.)(?P<letter>[A-Z])妆网备字(?P<digits>.*)$")
_IMPORT_FILING = re.compile(r"^国妆网备进字(?:\((?P<prov>[^()]*)\)|(?P<bare>.))(?P<digits>.*)$")
_NATIONAL = re.compile(r"^国妆(?P<type>特注|特进|特|备进)字(?P<letter>[A-Z]?)(?P<digits>.*)$")

#: 国妆…字 type -> (letter it must carry, kind)
_NATIONAL_TYPES: dict[str, tuple[str, Kind]] = {
    "特": ("G", "special_registration"),
    "特注": ("G", "special_registration"),
    "特进": ("J", "import_special_registration"),
    "备进": ("J", "import_filing"),
}

_LETTER = "[A-Za-zＡ-Ｚａ-ｚ]"
#: Finds candidates in running text (any of the forms, 6-12 digits). Always ``validate`` a match.
SEARCH = re.compile(
    r"(?P<number>"
    rf"{ABBR_CLASS}{SP}{literal('G')}{SP}{literal('妆网备字')}{SP}{DIGIT}{{6,12}}"
    rf"|{literal('国妆网备进字')}{SP}{LBR}?{SP}{ABBR_CLASS}{SP}{RBR}?{SP}{DIGIT}{{6,12}}"
    rf"|{literal('国妆')}{SP}(?:{literal('特注')}|{literal('特进')}|特|{literal('备进')}){SP}字{SP}{_LETTER}{SP}{DIGIT}{{6,12}}"
    rf")(?!{DIGIT})"
)


def compact(number: str) -> str:
    """Return the minimal form: half-width letters, digits and brackets, no spaces."""
    return compact_licence(number)


def _digits(digits: str, expected: int, what: str) -> None:
    if not isdigits(digits):
        raise InvalidFormat(f"{_LABEL}: {what} must end in digits only")
    if len(digits) != expected:
        raise InvalidLength(f"{_LABEL}: {what} has {len(digits)} digits, expected {expected}")


def _parse(number: str) -> tuple[str, Kind]:
    """Return (compact number, kind) or raise."""
    number = compact(number)
    if m := _DOMESTIC_FILING.match(number):
        province_of_abbr(m["prov"], _LABEL)
        if m["letter"] != "G":
            raise InvalidComponent(
                f"{_LABEL}: a domestic filing number has G (国产) after the province, found {m['letter']}"
            )
        _digits(m["digits"], 10, "a domestic filing number (妆网备字)")
        check_year(m["digits"][:4], FIRST_FILING_YEAR, _LABEL)
        return number, "domestic_filing"
    if m := _IMPORT_FILING.match(number):
        prov = m["prov"] if m["prov"] is not None else m["bare"]
        if len(prov) != 1:
            raise InvalidFormat(f"{_LABEL}: 国妆网备进字 must be followed by one province abbreviation in brackets")
        province_of_abbr(prov, _LABEL)
        _digits(m["digits"], 10, "an import filing number (国妆网备进字)")
        check_year(m["digits"][:4], FIRST_FILING_YEAR, _LABEL)
        return number, "import_filing"
    if m := _NATIONAL.match(number):
        prefix = f"国妆{m['type']}字"
        letter, kind_ = _NATIONAL_TYPES[m["type"]]
        if not m["letter"]:
            raise InvalidFormat(f"{_LABEL}: {prefix} must be followed by {letter} and 8 digits")
        if m["letter"] != letter:
            origin = "domestic (国产)" if letter == "G" else "imported (进口)"
            raise InvalidComponent(
                f"{_LABEL}: {prefix} numbers are for {origin} products and carry {letter}, found {m['letter']}"
            )
        _digits(m["digits"], 8, f"a {prefix} number")
        check_year(m["digits"][:4], FIRST_REGISTRATION_YEAR, _LABEL)
        return number, kind_
    raise InvalidFormat(
        f"{_LABEL}: not a known form (粤G妆网备字…, 国妆网备进字(沪)…, 国妆特字G…, 国妆特进字J…, 国妆备进字J…)"
    )


def validate(number: str) -> str:
    """Return the compact form of ``number`` or raise a ``ValidationError`` subclass."""
    return _parse(number)[0]


def is_valid(number: str) -> bool:
    """Return whether ``number`` is a valid cosmetics filing or registration number. Never raises."""
    try:
        return bool(validate(number))
    except ValidationError:
        return False


def format(number: str) -> str:
    """Return the standard presentation (half-width brackets), e.g. 国妆网备进字(沪)2021001234."""
    return compact(number)


def kind(number: str) -> Kind:
    """Return the kind of number: domestic_filing, import_filing, special_registration
    or import_special_registration."""
    return _parse(number)[1]
