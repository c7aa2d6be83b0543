"""Validators for the identifiers, dates and names read off qualification documents.

Each identifier module follows python-stdnum's interface:
``compact(number) -> str``, ``validate(number) -> str`` (compact form, or a
``stdnum.exceptions.ValidationError`` subclass: InvalidFormat, InvalidLength,
InvalidChecksum, InvalidComponent), ``is_valid(number) -> bool`` (never
raises) and ``format(number) -> str``.

* ``credit_code``: 统一社会信用代码 (GB 32100-2015), with OCR ``repair``
* ``registration_number``: 15-digit 工商注册号 (GS15-2006)
* ``id_number``: 居民身份证号码 (GB 11643-1999)
* ``dates``: dates, validity ends (``"long_term"``) and periods
* ``names``: name normalisation and comparison

This package imports nothing from ``pipeline`` or ``extractors``.
"""

from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)

from validators import credit_code, dates, id_number, names, registration_number

#: Modules with the stdnum-style compact/validate/is_valid/format interface.
IDENTIFIER_MODULES = (credit_code, registration_number, id_number)

__all__ = [
    "IDENTIFIER_MODULES",
    "InvalidChecksum",
    "InvalidComponent",
    "InvalidFormat",
    "InvalidLength",
    "ValidationError",
    "credit_code",
    "dates",
    "id_number",
    "names",
    "registration_number",
]
