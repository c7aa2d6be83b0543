"""Merchant text made safe to print: what a terminal shows is what the text holds.

Ids, file names and values come from merchants. Printed raw, a newline forges a second line (a fake
verdict under it), a bidi override (U+202E) turns `gpj.exe` into `exe.jpg`, a NUL or an escape
sequence hides text or drives the terminal. `visible` shows each such character as an escape.
"""

from __future__ import annotations

import re

# Explicit direction marks, embeddings, overrides and isolates (Unicode bidi controls), and the line
# and paragraph separators some terminals break on.
_BIDI = "\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u2028\u2029"
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x00": "\\0"}
_UNSAFE = re.compile(f"[\x00-\x1f\x7f-\x9f{_BIDI}\ud800-\udfff\ufeff]")


def _escape(m: re.Match) -> str:
    ch = m.group(0)
    if ch in _NAMED:
        return _NAMED[ch]
    code = ord(ch)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def visible(text: object) -> str:
    """`text` as one printable line: control characters (C0, C1, DEL; newline as `\\n`, NUL as `\\0`),
    bidi marks and overrides, line separators, BOMs and lone surrogates become backslash escapes."""
    return _UNSAFE.sub(_escape, "" if text is None else str(text))


def unsafe_characters(text: str) -> list[str]:
    """The characters `visible` would escape, as `U+XXXX` names (empty: the text is plain)."""
    return [f"U+{ord(ch):04X}" for ch in dict.fromkeys(_UNSAFE.findall(text))]


def is_plain_text(text: str) -> bool:
    """No control character, bidi mark, separator or lone surrogate: fit for an id or a name."""
    return _UNSAFE.search(text) is None
