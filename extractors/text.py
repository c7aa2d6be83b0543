"""Text clean-up shared by extractors."""

from __future__ import annotations

import re

# Certificates print Chinese (full-width) punctuation; OCR returns either form. Convert the
# half-width forms, except where they sit between digits (1-2层, 5000.0000万元, 10:30).
_FULL = {"(": "（", ")": "）", ",": "，", ";": "；", ":": "："}
_HALF_PUNCT = re.compile(r"[(),;:]")


def chinese_punctuation(text: str) -> str:
    out = []
    for i, ch in enumerate(text):
        if ch in _FULL:
            before = text[i - 1] if i else ""
            after = text[i + 1] if i + 1 < len(text) else ""
            if ch in ",:" and before.isdigit() and after.isdigit():
                out.append(ch)
                continue
            out.append(_FULL[ch])
        else:
            out.append(ch)
    return "".join(out)


_SCOPE_COLON = re.compile(r"(?<!项目)[:：]")


def scope_punctuation(text: str) -> str:
    """A business scope (经营范围) is a list: items end with ；, sentences with 。. The only colons
    follow 许可项目 / 一般项目; OCR reads the small ； as ： and the 。 as a dot."""
    text = _SCOPE_COLON.sub("；", chinese_punctuation(text))
    return text.replace("·", "。").replace("•", "。")
