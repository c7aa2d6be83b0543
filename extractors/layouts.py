"""Layout variants of a document type (`layouts.yaml`) and how a page is matched to one.

A variant says which rule-bearing fields a layout does not print (a 个体工商户 licence has no
营业期限) or may print empty (a branch licence's 营业期限). The rules accept "not printed" only
with such a variant recognised, no label of the field read, and a legible page (issue 11).
"""

from __future__ import annotations

import datetime as dt
from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator


class Cue(BaseModel):
    model_config = ConfigDict(extra="forbid")

    label: str | None = Field(None, description="a label word read as a label on the page")
    text: str | None = Field(None, description="a word anywhere in the page's OCR text")
    name_suffix: str | None = Field(None, description="the holder name read ends with this")
    code_prefix: str | None = Field(None, description="the credit code read starts with this")
    issued_on_or_after: dt.date | None = Field(None, description="the licence's issue date is on or after this")

    @model_validator(mode="after")
    def _exactly_one(self) -> Cue:
        if sum(v is not None for v in self.model_dump().values()) != 1:
            raise ValueError("a cue sets exactly one of label, text, name_suffix, code_prefix, issued_on_or_after")
        return self


class Variant(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str
    zh: str = Field(description="what the variant is, for the reviewer")
    when_any: list[Cue] = Field(min_length=1)
    omits: list[str] = Field(default_factory=list, description="fields this layout never prints")
    blank_allowed: list[str] = Field(default_factory=list, description="fields it may print with no value")


class LayoutTable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    business_licence: list[Variant] = Field(default_factory=list)


@lru_cache(maxsize=2)
def load_layouts(path: Path | None = None) -> LayoutTable:
    path = path or Path(__file__).with_name("layouts.yaml")
    return LayoutTable.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def match_variant(variants: list[Variant], *, labels: set[str], page_text: str, holder: str | None,
                  credit_code: str | None, issued: dt.date | None) -> tuple[Variant, str] | None:
    """The first variant one of whose cues holds, with the cue that did (for the check's message)."""
    for variant in variants:
        for cue in variant.when_any:
            # (a label cue stands for its longer forms too: 经营者 for 经营者姓名)
            if cue.label is not None and any(label.startswith(cue.label) for label in labels):
                return variant, f"label {cue.label} read"
            if cue.text is not None and cue.text in page_text:
                return variant, f"{cue.text} printed"
            if cue.name_suffix is not None and holder and holder.endswith(cue.name_suffix):
                return variant, f"name ends in {cue.name_suffix}"
            if cue.code_prefix is not None and credit_code and credit_code.startswith(cue.code_prefix):
                return variant, f"credit code starts with {cue.code_prefix}"
            if cue.issued_on_or_after is not None and issued is not None and issued >= cue.issued_on_or_after:
                return variant, f"issued on {issued} (on or after {cue.issued_on_or_after})"
    return None
