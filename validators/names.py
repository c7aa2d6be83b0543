"""Normalising and comparing company and person names.

Rule (SPEC §4, rule 4): names match only after full-width and half-width
forms and brackets are normalised. A difference of even one character in a
company name means a different company. So ``compare_names`` gives ``"same"``
only when the normalised strings are identical. ``"near"`` means not
identical but a rapidfuzz ``fuzz.ratio`` score of at least ``near_threshold``;
that is a probable OCR misread or a look-alike company, and the caller sends
it to review, never to approve. Anything else is ``"different"``.

``normalize_name``:

1. NFKC, so full-width letters, digits and （） become half-width
2. every bracket (（）【】[]〔〕〖〗｛｝{}) becomes ( or )
3. middle dots in person names (· ・ • ‧ ∙) become ·
4. all whitespace and invisible format characters are removed
5. trailing punctuation is stripped, except a closing bracket. 个体工商户 names
   such as ``某某店(个体工商户)`` end with one.

Letter case is kept. ``ABC科技`` and ``abc科技`` are not the same registered name.

>>> normalize_name('杭州某某（上海）有限公司 ')
'杭州某某(上海)有限公司'
>>> compare_names('杭州某某（上海）有限公司', '杭州某某[上海]有限公司').status
'same'
"""

from __future__ import annotations

import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

__all__ = ["NameMatch", "compare_names", "normalize_name"]

_BRACKETS = str.maketrans(
    {
        "【": "(", "】": ")", "[": "(", "]": ")", "〔": "(", "〕": ")",
        "〖": "(", "〗": ")", "{": "(", "}": ")", "（": "(", "）": ")",
    }
)
_MIDDLE_DOTS = str.maketrans({"・": "·", "•": "·", "‧": "·", "∙": "·", "⋅": "·"})


def normalize_name(name: str | None) -> str:
    """Return the comparable form of a company or person name ('' for None)."""
    if not isinstance(name, str):
        return ""
    s = unicodedata.normalize("NFKC", name).translate(_BRACKETS).translate(_MIDDLE_DOTS)
    s = "".join(c for c in s if not c.isspace() and unicodedata.category(c) != "Cf")
    while s and s[-1] != ")" and unicodedata.category(s[-1]).startswith("P"):
        s = s[:-1]
    return s


class NameMatch(BaseModel):
    """Result of ``compare_names``."""

    model_config = ConfigDict(frozen=True)

    score: float
    status: Literal["same", "near", "different"]
    expected_normalized: str
    found_normalized: str
    differences: list[str] = []


def _differences(expected: str, found: str) -> list[str]:
    """Describe the edits that turn ``expected`` into ``found``. Positions are
    1-based in the normalised expected name. An insertion or deletion is shown
    with the preceding character as context: 'position 5: expected 时, found 时代'."""
    # Merge adjacent non-equal opcodes into blocks of (src_start, src_end, dest_start, dest_end).
    blocks: list[list[int]] = []
    last_equal = True
    for op in Levenshtein.editops(expected, found).as_opcodes():
        if op.tag == "equal":
            last_equal = True
            continue
        if blocks and not last_equal:
            blocks[-1][1], blocks[-1][3] = op.src_end, op.dest_end
        else:
            blocks.append([op.src_start, op.src_end, op.dest_start, op.dest_end])
        last_equal = False
    out: list[str] = []
    for s0, s1, d0, d1 in blocks:
        src, dst = expected[s0:s1], found[d0:d1]
        if src and dst:
            out.append(f"position {s0 + 1}: expected {src}, found {dst}")
            continue
        # insertion or deletion: show it with the neighbouring character as context
        if s0 > 0:
            pos, exp, fnd = s0, expected[s0 - 1] + src, expected[s0 - 1] + dst
        elif s1 < len(expected):
            pos, exp, fnd = 1, src + expected[s1], dst + expected[s1]
        else:
            pos, exp, fnd = 1, src, dst
        out.append(f"position {pos}: expected {exp or '(nothing)'}, found {fnd or '(nothing)'}")
    return out


def _edit_allowance(a: str, b: str, near_edits: int) -> int:
    return min(near_edits, max(1, max(len(a), len(b)) // 4))


def compare_names(expected: str | None, found: str | None, *, near_threshold: float = 90.0,
                  near_edits: int = 2) -> NameMatch:
    """Compare a declared name with one read from a document.

    ``score`` is ``rapidfuzz.fuzz.ratio`` (0-100) of the normalised names.
    ``status`` is ``"same"`` only for identical normalised names, ``"near"``
    when the score is at least ``near_threshold`` or at most ``near_edits``
    characters differ (a short name with one character changed scores low but
    is still a near miss: OCR may have misread it), and ``"different"``
    otherwise. The edit allowance scales with length: one edit per four
    characters of the longer name, at least one, at most ``near_edits``, so
    two brands of two or three characters (云舒, 舒云阁) are different names,
    not a near miss. A name that is empty after normalising (None included) is
    never ``"same"``, not even with another empty one.
    """
    exp, fnd = normalize_name(expected), normalize_name(found)
    if not exp or not fnd:
        missing = "expected" if not exp else "found"
        return NameMatch(
            score=0.0,
            status="different",
            expected_normalized=exp,
            found_normalized=fnd,
            differences=[f"{missing} name is empty"],
        )
    score = float(fuzz.ratio(exp, fnd))
    if exp == fnd:
        status: Literal["same", "near", "different"] = "same"
    elif score >= near_threshold or Levenshtein.distance(exp, fnd) <= _edit_allowance(exp, fnd, near_edits):
        status = "near"
    else:
        status = "different"
    return NameMatch(
        score=score,
        status=status,
        expected_normalized=exp,
        found_normalized=fnd,
        differences=_differences(exp, fnd),
    )
