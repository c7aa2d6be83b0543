"""Which document is this? Title and form cues from `doc_types.yaml`, with a confidence."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import yaml
from pydantic import BaseModel, ConfigDict, Field

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


class LookAlike(BaseModel):
    model_config = ConfigDict(extra="forbid")

    pattern: str = Field(description="Regex on the page text (whitespace removed)")
    reason: str = Field(description="What the document is, for the reviewer")


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


def classify(lines: list[OcrLine], table: DocTypeTable | None = None) -> Classification:
    table = table or load_doc_types()
    if not lines:
        return Classification(doc_type=UNCLASSIFIED, confidence=0.0, scores={})
    page_text = _compact("".join(ln.text for ln in lines))
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
        found = sum(1 for cue in cues.cues if re.search(cue, text))
        cue_score = 0.4 * min(1.0, found / max(1, min(4, len(cues.cues))))
        if title_score < 0.4 and found >= 2 and any(re.search(n, text) for n in cues.numbers):
            title_score = 0.4  # its own number and its row labels, the title unread (an angled photo)
        scores[doc_type] = round(title_score + cue_score, 3) if title_score else round(cue_score * 0.5, 3)

    for look in table.look_alikes:
        if re.search(look.pattern, page_text):
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
