"""Which document is this? Title and form cues from `doc_types.yaml`, with a confidence."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field, field_validator

from extractors.types import OcrLine

UNCLASSIFIED = "unclassified"


class DocTypeCues(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_zh: str
    titles: list[str] = Field(min_length=1, description="Regexes of the document's title")
    cues: list[str] = Field(default_factory=list, description="Regexes of words its form prints")
    not_: list[str] = Field(default_factory=list, alias="not",
                            description="Other documents' titles that contain this title")
    numbers: list[str] = Field(default_factory=list,
                               description="Regexes of the type's own number (械注准…): as strong as a title "
                                           "found in the text, when the title itself was not read")
    signatures: list[str] = Field(default_factory=list,
                                  description="Regexes of what only this type prints (a footer, a registry's "
                                              "address): with `signature_cues` of its cues, as strong as a title "
                                              "found in the text, when the title was washed out, cropped or "
                                              "sealed over")
    signature_cues: int = Field(default=4, ge=1, description="cues needed beside a signature")

    @field_validator("titles", "cues", "not_", "numbers", "signatures")
    @classmethod
    def _compile(cls, patterns: list[str]) -> list[str]:
        for pattern in patterns:
            re.compile(pattern)  # a broken regex is an error when the table loads, not on a page
        return patterns


class LookAlike(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pattern: str = Field(description="Regex on the page text (whitespace removed)")
    reason: str = Field(description="What the document is, for the reviewer")
    headings_only: bool = Field(default=False,
                                description="Match the page's large-type lines only: a permit's title may be "
                                            "named inside a licence's 经营范围 (凭网络文化经营许可证经营)")

    @field_validator("pattern")
    @classmethod
    def _compiles(cls, pattern: str) -> str:
        re.compile(pattern)  # a broken regex is an error when the table loads, not on a page
        return pattern


class DocTypeTable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    types: dict[str, DocTypeCues]
    look_alikes: list[LookAlike] = Field(default_factory=list,
                                         description="Documents merchants upload in place of a licence that are "
                                                     "not one: the page is left unclassified, with the reason")


@lru_cache(maxsize=4)
def load_doc_types(path: Path | None = None) -> DocTypeTable:
    path = path or Path(__file__).with_name("doc_types.yaml")
    return DocTypeTable.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


class Classification(BaseModel):
    doc_type: str
    confidence: float
    scores: dict[str, float]
    title_line: str | None = None
    look_alike: str | None = None  # why a page that reads like a licence is not one


def _title_parts(title: str) -> list[str]:
    """A plain title of four or more characters with its first or last character missing."""
    if len(title) < 4 or re.escape(title) != title:
        return []
    return [re.escape(title[1:]), re.escape(title[:-1])]


def _compact(s: str) -> str:
    return re.sub(r"\s+", "", s)


# A numbered instruction (1、… 2、…: a licence's 须知 or 重要提示 panel) tells the holder about other
# things — 信息查询 on a registry — and is no evidence of what the page itself is.
NOTE_LINE = re.compile(r"^[0-9一二三四五六七八九十]{1,2}[、.．]")


def _heading_fragment(title: str, heads: list[str]) -> bool:
    """A heading that is the end of a plain title with its first half lost (营业执照's gold foil washed
    out to white leaves 执照 on a heading line of its own)."""
    if len(title) < 4 or re.escape(title) != title:
        return False
    tail = title[len(title) // 2:]
    return any(h == tail or (h.endswith(tail) and len(h) < len(title)) for h in heads)


def classify(lines: list[OcrLine], table: DocTypeTable | None = None) -> Classification:
    table = table or load_doc_types()
    if not lines:
        return Classification(doc_type=UNCLASSIFIED, confidence=0.0, scores={})
    page_text = _compact("".join(ln.text for ln in lines))
    evidence_text = _compact("".join(ln.text for ln in lines if not NOTE_LINE.match(_compact(ln.text))))
    median_height = float(np.median([ln.height for ln in lines]))
    headings = [_compact(ln.text) for ln in lines if ln.height >= 1.4 * median_height]

    scores: dict[str, float] = {}
    title_lines: dict[str, str] = {}
    for doc_type, cues in table.types.items():
        text = page_text
        heads = headings
        for other in cues.not_:
            text = text.replace(other, "")
            heads = [h.replace(other, "") for h in heads]
        title_score = 0.0
        for title in cues.titles:
            if any(re.search(title, h) for h in heads):
                title_score = 0.6
                title_lines[doc_type] = next(h for h in heads if re.search(title, h))
                break
            if re.search(title, text):
                title_score = max(title_score, 0.4)
            elif any(re.search(part, h) for part in _title_parts(title) for h in heads):
                title_score = max(title_score, 0.3)  # a seal or a fold hid one character of the title
            elif _heading_fragment(title, heads):
                title_score = max(title_score, 0.3)  # its first half washed out (gold foil) or cropped
        found = sum(1 for cue in cues.cues if re.search(cue, text))
        cue_score = 0.4 * min(1.0, found / max(1, min(4, len(cues.cues))))
        if title_score < 0.4 and found >= 2 and any(re.search(n, text) for n in cues.numbers):
            title_score = 0.4  # its own number and its row labels, the title unread (an angled photo)
        if (title_score < 0.4 and found >= cues.signature_cues
                and any(re.search(sig, text) for sig in cues.signatures)):
            # what only this type prints and its row labels: the title washed out, cropped or sealed over
            title_score = 0.4
        scores[doc_type] = round(title_score + cue_score, 3) if title_score else round(cue_score * 0.5, 3)

    for look in table.look_alikes:
        where = headings if look.headings_only else [evidence_text]
        if any(re.search(look.pattern, h) for h in where):
            return Classification(doc_type=UNCLASSIFIED, confidence=0.9, scores=scores, look_alike=look.reason)
    ranked = sorted(scores.items(), key=lambda kv: -kv[1])
    best, best_score = ranked[0]
    second_score = ranked[1][1] if len(ranked) > 1 else 0.0
    confidence = best_score
    if best_score > 0 and second_score >= 0.8 * best_score:
        confidence *= 0.7  # two types fit about equally well: not sure
    if confidence < 0.5:
        return Classification(doc_type=UNCLASSIFIED, confidence=round(1 - confidence, 3), scores=scores)
    return Classification(doc_type=best, confidence=round(min(confidence, 0.99), 3), scores=scores,
                          title_line=title_lines.get(best))
