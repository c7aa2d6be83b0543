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

import re
import unicodedata
from typing import Literal

from pydantic import BaseModel, ConfigDict
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

__all__ = ["NameMatch", "compare_names", "entity_name_problems", "normalize_name", "partial_match"]

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


# The last characters of a registered entity's name: its organisational form (组织形式) or, for a
# 个体工商户, the industry word it ends with (企业名称登记管理规定 / 个体工商户名称登记管理办法:
# 行政区划 + 字号 + 行业 + 组织形式). Not exhaustive: a name outside it is only *doubtful*.
ENTITY_ENDINGS = (
    "公司", "集团", "企业", "厂", "店", "部", "中心", "社", "室", "所", "行", "馆", "场", "站", "院", "坊",
    "堂", "庄", "园", "吧", "城", "铺", "屋", "楼", "厅", "处", "会", "团", "队", "家", "居", "阁", "轩", "斋",
    "苑", "汇", "号", "廊", "档", "摊", "台", "厂", "超市", "商贸", "批发", "经营", "门市", "合作社", ")",
)
# Labels that OCR glues onto the value beside them (名称 and its variants, the next rows' labels).
GLUED_LABELS = ("字号名称", "企业名称", "经营者名称", "名称", "住所", "经营场所", "营业场所", "类型",
                "法定代表人", "负责人", "经营者", "投资人", "注册号", "统一社会信用代码")
_ADDRESS = re.compile(r"\d+\s*(号|组|栋|幢|室|楼|层|单元|弄|巷)|[路街道]\d|\d+-\d+")


def entity_name_problems(name: str | None) -> list[str]:
    """Why a text read where an entity's name should be is not plausibly such a name ([] when it is).

    A misread is not another company: an address line (digits with 号/组/栋/室…), a label glued on
    (字号名称…), or text without an entity's form at its end (有限公司, 厂, 店, (个体工商户) …) are
    reasons to look again, not evidence that the document belongs to someone else.

    >>> entity_name_problems('周村永泰电器厂')
    []
    >>> entity_name_problems('所南通市通州区川姜镇三圩埭26组')
    ['reads like an address (26组)', 'does not end with an entity form (…26组)']
    """
    n = normalize_name(name)
    if not n:
        return ["empty"]
    problems = []
    for label in GLUED_LABELS:
        if n.startswith(label) and len(n) > len(label):
            problems.append(f"starts with the label {label}")
            break
    address = _ADDRESS.search(n)
    if address:
        problems.append(f"reads like an address ({address.group(0)})")
    if not n.endswith(ENTITY_ENDINGS):
        problems.append(f"does not end with an entity form (…{n[-3:]})")
    return problems


def partial_match(expected: str | None, found: str | None, *, min_chars: int = 4,
                  min_partial: float = 90.0) -> str | None:
    """How `found` relates to `expected` when one is (nearly) inside the other, else None.

    The declared name with text glued on (a watermark, the next line: 某某工作室赶集网58同城) or a
    fragment of it (a name cut at a line break or under a seal: 上海大智惠餐饮 for …餐饮管理有限公司
    第三分公司) is not proof of another company. Equal names are not a partial match.
    """
    exp, fnd = normalize_name(expected), normalize_name(found)
    if not exp or not fnd or exp == fnd or min(len(exp), len(fnd)) < min_chars:
        return None
    if exp in fnd:
        extra = fnd.replace(exp, "…", 1)
        return f"the shop company's name with extra text read beside it ({extra})"
    if fnd in exp:
        return f"only a fragment of the shop company's name was read ({fnd} of {exp})"
    shorter, longer = (fnd, exp) if len(fnd) < len(exp) else (exp, fnd)
    if len(longer) - len(shorter) >= 2 and fuzz.partial_ratio(shorter, longer) >= min_partial:
        what = "a fragment of" if shorter is fnd else "the shop company's name nearly, inside"
        return f"{what} the shop company's name, one character apart ({fnd})"
    return None
