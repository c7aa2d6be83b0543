"""Helpers shared by the identifier modules (internal).

Nothing here is part of the public API; each identifier module exposes its own
``compact``/``validate``/``is_valid``/``format``.
"""

from __future__ import annotations

import unicodedata

from stdnum.exceptions import InvalidFormat
from stdnum.util import clean

__all__ = ["compact_identifier", "to_halfwidth"]


def to_halfwidth(text: str) -> str:
    """NFKC-normalise ``text``: full-width ASCII forms (``ＡＢＣ１２３``) become
    half-width (``ABC123``), the ideographic space becomes a plain space."""
    return unicodedata.normalize("NFKC", text)


def compact_identifier(number: object) -> str:
    """The minimal form of an identifier as read off a document.

    Full-width forms become half-width, every kind of whitespace, hyphen or dash
    and invisible format character (zero-width space, BOM) is removed, and letters
    are upper-cased. Anything that is not a ``str`` raises ``InvalidFormat``, so
    that callers never see a ``TypeError``/``AttributeError`` for junk input.
    """
    if not isinstance(number, str):
        raise InvalidFormat(f"expected a string, got {type(number).__name__}")
    number = clean(to_halfwidth(number), "-")  # clean() maps every Unicode dash to '-'
    return "".join(
        c for c in number if not c.isspace() and unicodedata.category(c) != "Cf"
    ).upper()
