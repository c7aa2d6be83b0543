"""Text clean-up shared by extractors."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import yaml
from rapidfuzz.distance import Levenshtein

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


_SCOPE_COLON = re.compile(r"(?<!项目)(?<!项目是)[:：]")


def scope_punctuation(text: str) -> str:
    """A business scope (经营范围) is a list: items end with ；, sentences with 。. The only colons
    follow a heading (许可项目 / 一般项目, 一般经营项目是); OCR reads the small ； as ： and the
    。 as a dot."""
    text = _SCOPE_COLON.sub("；", chinese_punctuation(text))
    return text.replace("·", "。").replace("•", "。")


OPENERS = {"（": "）", "〔": "〕", "［": "］", "【": "】"}
CLOSERS = {close: open_ for open_, close in OPENERS.items()}
_CJK = re.compile(r"[\u4e00-\u9fff]")
# 许可项目：… 一般项目：… — each heading starts a sentence, so what precedes it ends with 。
_HEADING = re.compile(r"(?<=.)[，；、]?(?=(?:许可|一般)(?:经营)?项目(?:是)?[：:])")
# What a sentence that OCR left without its 。 may end with: a character or a closing bracket.
# After other punctuation (。．.，；、：…) a 。 would be stacked onto what is printed.
_SENTENCE_END = re.compile(r"[\u4e00-\u9fff）)]")


def scope_text(line_texts: list[str], *, business_licence: bool = False) -> str:
    """The scope as printed, from the texts of its wrapped lines (top to bottom).

    Chinese typesetting hangs punctuation at the end of a full line, past the margin, where the
    detector often leaves it out: the ；, 。 or ） that ended a line is then missing. Where a line
    ends is known, so what the grammar of a scope requires there is put back:
    - a bracket that opens the next line right after one closing this one starts a sentence
      (`…除外）` / `（依法须经…`): the 。 between them was lost;
    - a qualifier of the form （除…） or （仅…） ends its item (互联网销售（除销售需要许可的商品）,
      食品销售（仅销售预包装食品）), so a line ending with one and followed by more items lost
      its ； (business licences only: older food-licence items put a qualifier mid-item,
      预包装食品（含冷藏冷冻食品）销售).
    Then, over the whole text: a heading within a line ends the sentence before it (OCR drops
    the small 。 before 一般项目; a heading that starts a line may follow a paragraph that ends
    without one, so nothing is added there), brackets balance, the prescribed closing remarks
    are restored, and (business licences) a scope that ends on a bare character lost its 。.
    A 。 is never added after punctuation that was read (。）】」，；、 …): what is printed stays.
    """
    pieces = [scope_punctuation(t) for t in line_texts if t]
    text = pieces[0] if pieces else ""
    breaks = set()  # offsets in `text` where a new line starts
    for nxt in pieces[1:]:
        if text.endswith("）") and nxt.startswith("（"):
            text += "。"
        elif business_licence and text.endswith("）") and _CJK.match(nxt) and _closing_qualifier(text):
            text += "；"
        breaks.add(len(text))
        text += nxt
    text = _HEADING.sub(lambda m: _heading_stop(text, m, breaks), text)
    text = text.replace("。。", "。")
    # Read to the end of a line that ends on a bare character: the last line lost what hung past
    # the margin (its 。, or the ） and 。 of a qualifier left open). Whatever else it ends with —
    # a 。, a bracket, a comma — is what is printed.
    bare_end = bool(text) and _CJK.fullmatch(text[-1]) is not None
    text = _balance_brackets(text)
    text = _restore_remarks(text)
    if business_licence and bare_end and not _ends_with_remark(text):
        text += "。"
    return text


def _heading_stop(text: str, m: re.Match, breaks: set[int]) -> str:
    """What goes before a heading: a ，；、 read there is the 。 misread; where nothing was read,
    a 。 within a line (not at a line break, and not after other punctuation)."""
    if m.group():
        return "。"
    if m.start() in breaks or not _SENTENCE_END.match(text[m.start() - 1]):
        return ""
    return "。"


def _closing_qualifier(text: str) -> bool:
    """Does `text` end with a bracketed qualifier that closes an item, （除…） or （仅…）?"""
    start = _matching_open(text, len(text) - 1)
    return start is not None and text[start + 1:start + 2] in ("除", "仅")


def _matching_open(text: str, close_at: int) -> int | None:
    depth = 0
    for i in range(close_at, -1, -1):
        if text[i] in CLOSERS:
            depth += 1
        elif text[i] in OPENERS:
            depth -= 1
            if depth == 0:
                return i
    return None


def _ends_with_remark(text: str) -> bool:
    """Does the scope end with a bracketed sentence of its own — a prescribed closing remark, or
    a bracket opened after a 。 (…货物进出口。（依法须经…活动））? Nothing follows that."""
    if not text.endswith("）"):
        return False
    start = _matching_open(text, len(text) - 1)
    return start is not None and (start == 0 or text[start - 1] == "。" or text[start:] in _remarks())


def _balance_brackets(text: str) -> str:
    """Brackets in a scope nest and close. OCR reads a 〔〕 as （）, and drops a closing bracket at
    the end of a line: a closer that does not match the innermost open bracket is that bracket's
    closer, and brackets still open at the end are closed there."""
    out, stack = [], []
    for ch in text:
        if ch in OPENERS:
            stack.append(ch)
        elif ch in CLOSERS and stack:
            ch = OPENERS[stack.pop()]
        out.append(ch)
    out.extend(OPENERS[o] for o in reversed(stack))
    return "".join(out)


@lru_cache(maxsize=1)
def _remarks() -> tuple[str, ...]:
    data = yaml.safe_load(Path(__file__).with_name("scope_remarks.yaml").read_text(encoding="utf-8"))
    return tuple(data["remarks"])


def _restore_remarks(text: str) -> str:
    """Replace a bracketed sentence that reads within a few characters of a prescribed closing
    remark with the remark (OCR errors in boilerplate say nothing about the licence); a ，；、 read
    just before it is the 。 ending the sentence there, misread, and between a ） and the remark a
    。 was lost. After a bare character nothing is added: licences print the remark both after a
    。 and straight after the last item (…企业管理（除依法…）)."""
    for start in [i for i, ch in enumerate(text) if ch == "（"]:
        for remark in _remarks():
            # The remark as read may be a character or two longer or shorter; it ends at a ）.
            ends = [e for e in range(start + len(remark) - 2, min(len(text), start + len(remark) + 2) + 1)
                    if text[e - 1] == "）"]
            if not ends:
                continue
            distance, stop = min((Levenshtein.distance(text[start:e], remark), e) for e in ends)
            if distance > max(2, len(remark) // 8):
                continue
            before = text[:start]
            if before and before[-1] in "，；、":
                # the 。 ending the sentence before the remark, misread
                before = before.rstrip("，；、") + "。"
            elif before.endswith("）"):
                # two brackets back to back (…的商品）（除依法…）): the small 。 between them lost
                before += "。"
            if distance or before != text[:start]:
                return _restore_remarks(before + remark + text[stop:])
    return text
