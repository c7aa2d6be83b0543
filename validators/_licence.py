"""Helpers shared by the licence-number modules (internal).

Nothing here is part of the public API. Each licence-number module exposes its
own ``compact``/``validate``/``is_valid``/``format`` and a ``SEARCH`` regex.

* ``PROVINCES``: the 31 mainland province-level codes of GB/T 2260 (first two
  digits of an administrative division code) and their names. Hong Kong (81),
  Macao (82) and Taiwan (71) do not issue these mainland licences.
* ``ABBREVIATIONS``: province abbreviations (简称) to province codes. Both
  official abbreviations are listed where a province has two (川/蜀, 贵/黔,
  云/滇, 陕/秦, 甘/陇), because regulators use either (黔械注准, 滇械注准).
* ``compact_licence``: the minimal form of a licence number as read.
* ``check_year``: the year inside a number is neither before its scheme began
  nor in the future.
* building blocks for ``SEARCH`` patterns that accept full-width forms and
  spaces between the parts of a number.
"""

from __future__ import annotations

import datetime
import unicodedata

from stdnum.exceptions import InvalidComponent, InvalidFormat
from stdnum.util import clean

from validators._util import to_halfwidth

__all__ = [
    "ABBREVIATIONS",
    "ABBR_CLASS",
    "DIGIT",
    "LBR",
    "PROVINCES",
    "RBR",
    "SP",
    "after_label",
    "check_year",
    "compact_licence",
    "is_cjk",
    "literal",
    "province_of_abbr",
]

#: Mainland province-level codes (GB/T 2260, first two digits) and names.
PROVINCES: dict[str, str] = {
    "11": "北京", "12": "天津", "13": "河北", "14": "山西", "15": "内蒙古",
    "21": "辽宁", "22": "吉林", "23": "黑龙江",
    "31": "上海", "32": "江苏", "33": "浙江", "34": "安徽", "35": "福建", "36": "江西", "37": "山东",
    "41": "河南", "42": "湖北", "43": "湖南", "44": "广东", "45": "广西", "46": "海南",
    "50": "重庆", "51": "四川", "52": "贵州", "53": "云南", "54": "西藏",
    "61": "陕西", "62": "甘肃", "63": "青海", "64": "宁夏", "65": "新疆",
}

#: Province abbreviation (简称) -> province code.
ABBREVIATIONS: dict[str, str] = {
    "京": "11", "津": "12", "冀": "13", "晋": "14", "蒙": "15",
    "辽": "21", "吉": "22", "黑": "23",
    "沪": "31", "苏": "32", "浙": "33", "皖": "34", "闽": "35", "赣": "36", "鲁": "37",
    "豫": "41", "鄂": "42", "湘": "43", "粤": "44", "桂": "45", "琼": "46",
    "渝": "50", "川": "51", "蜀": "51", "贵": "52", "黔": "52", "云": "53", "滇": "53", "藏": "54",
    "陕": "61", "秦": "61", "甘": "62", "陇": "62", "青": "63", "宁": "64", "新": "65",
}

# ------------------------------------------------------------------ compaction

_BRACKETS = str.maketrans({"【": "(", "】": ")", "[": "(", "]": ")", "〔": "(", "〕": ")",
                           "〖": "(", "〗": ")", "{": "(", "}": ")"})


def compact_licence(number: object, *, keep_hyphen: bool = False) -> str:
    """The minimal form of a licence number as read off a document.

    Full-width forms become half-width (（沪） -> (沪), ＪＹ -> JY), every other
    bracket (【】〔〕[]) becomes ( or ), whitespace and invisible format
    characters are removed and letters are upper-cased. Hyphens and dashes are
    removed too, unless ``keep_hyphen`` is set (for numbers where a hyphen is
    printed as part of the number); then every dash becomes ``-``. Anything that
    is not a ``str`` raises ``InvalidFormat``.
    """
    if not isinstance(number, str):
        raise InvalidFormat(f"expected a string, got {type(number).__name__}")
    number = clean(to_halfwidth(number)).translate(_BRACKETS)  # clean() maps every dash to '-'
    if not keep_hyphen:
        number = number.replace("-", "")
    return "".join(c for c in number if not c.isspace() and unicodedata.category(c) != "Cf").upper()


def is_cjk(c: str) -> bool:
    """True for a CJK unified ideograph (a Chinese character)."""
    return len(c) == 1 and ("\u4e00" <= c <= "\u9fff" or "\u3400" <= c <= "\u4dbf")


def province_of_abbr(abbr: str, label: str) -> str:
    """Return the province code for ``abbr`` or raise.

    A Chinese character that is not a province abbreviation raises
    ``InvalidComponent``; anything else (a letter, a digit, nothing) raises
    ``InvalidFormat``, because the number does not have the expected shape.
    """
    if abbr in ABBREVIATIONS:
        return ABBREVIATIONS[abbr]
    if is_cjk(abbr):
        raise InvalidComponent(f"{label}: {abbr!r} is not a mainland province abbreviation")
    raise InvalidFormat(f"{label}: expected a province abbreviation such as 粤 or 浙, found {abbr!r}")


def check_year(year: str, low: int, label: str) -> int:
    """Return ``year`` as an int; ``InvalidComponent`` if it is before ``low``
    (the first year numbers of this kind were issued) or after next year."""
    y = int(year)
    if y < low:
        raise InvalidComponent(f"{label}: year {y} is before {low}; numbers of this kind were not issued earlier")
    if y > datetime.date.today().year + 1:
        raise InvalidComponent(f"{label}: year {y} is in the future")
    return y


# ------------------------------------------------------------------ SEARCH building blocks

#: One digit, half- or full-width.
DIGIT = "[0-9０-９]"
#: Optional spaces between the parts of a number (not line breaks).
SP = "[ \\t\\u3000]*"
#: An opening / closing bracket in any of the forms OCR produces.
LBR = "[(（〔【\\[]"
RBR = "[)）〕】\\]]"
#: One province abbreviation.
ABBR_CLASS = "[" + "".join(ABBREVIATIONS) + "]"


def literal(text: str) -> str:
    """A regex for ``text`` that allows spaces between its characters and
    accepts ASCII letters in either case and in full-width form."""
    parts = []
    for c in text:
        if c.isascii() and c.isalpha():
            up, low = c.upper(), c.lower()
            parts.append(f"[{up}{low}{chr(ord(up) + 0xFEE0)}{chr(ord(low) + 0xFEE0)}]")
        else:
            parts.append(c)
    return SP.join(parts)


#: What may stand between a label and its value: nothing, a colon, a space or both.
_LABEL_SEPARATORS = ("", ":", "：", " ", ": ", "： ", "\u3000", "：\u3000")


def after_label(*labels: str) -> str:
    """A zero-width regex that holds just after one of ``labels`` and an optional
    colon and space. Python's look-behind must have a fixed width, so every
    label/separator pair gets its own; the label itself is not part of the match."""
    return "(?:" + "|".join(f"(?<={label}{sep})" for label in labels for sep in _LABEL_SEPARATORS) + ")"
