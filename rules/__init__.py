"""The platform's rules as data (SPEC §4), validated by pydantic when loaded."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

PACKAGED = Path(__file__).parent


class Category(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_zh: str
    requires: list[list[str]] = Field(default_factory=list,
                                      description="Groups of doc types; one of each group is needed")
    open_for_online_sale: bool = True
    closed_reason: str | None = Field(None, description="Shown to the merchant when the category is closed")


class CategoryTable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    always_requires: list[list[str]]
    branded_requires: list[list[str]] = Field(default_factory=list)
    categories: dict[str, Category]
    entity_documents: list[str]
    product_documents: list[str]
    colour_seal_documents: list[str] = Field(default_factory=list,
                                             description="Types whose originals carry colour seals or borders "
                                                         "(a grey copy of one is flagged as a photocopy)")

    @model_validator(mode="after")
    def _closed_needs_reason(self) -> CategoryTable:
        for code, cat in self.categories.items():
            if not cat.open_for_online_sale and not cat.closed_reason:
                raise ValueError(f"category {code} is closed but has no closed_reason")
        return self


class Thresholds(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name_near_score: float = Field(ge=0, le=100)
    field_confidence_floor: float = Field(ge=0, le=1)
    reject_confidence: float = Field(ge=0, le=1)
    classify_confidence_floor: float = Field(ge=0, le=1)
    near_expiry_days: int = Field(ge=0)
    min_remaining_days: int = Field(ge=0)
    photocopy_max_colour_fraction: float = Field(ge=0, le=1)
    recapture_min_tinted_share: float = Field(ge=0, le=1)
    recapture_min_hue_bands: int = Field(ge=1, le=12)
    product_match_score: float = Field(ge=0, le=100)
    product_mismatch_score: float = Field(ge=0, le=100)
    max_documents: int = Field(20, ge=1, description="More documents than this (after a file listed twice "
                                                     "is counted once) make a submission unusable")
    max_product_images: int = Field(20, ge=0, description="More product images than this make a submission "
                                                          "unusable")


class ContentRules(BaseModel):
    model_config = ConfigDict(extra="forbid")

    banned_words: list[str] = Field(description="Absolute superlatives banned by the Advertising Law")
    contact_patterns: dict[str, str] = Field(description="Regexes of contact details (phone, WeChat, QQ, links)")

    @model_validator(mode="after")
    def _patterns_compile(self) -> ContentRules:
        import re

        for name, pattern in self.contact_patterns.items():
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"contact pattern {name}: {e}") from None
        return self


class Rules(BaseModel):
    categories: CategoryTable
    thresholds: Thresholds
    content: ContentRules


def _read(path: Path) -> dict:
    try:
        return yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as e:
        raise ValueError(f"{path}: not valid YAML: {e}") from None


@lru_cache(maxsize=8)
def load_rules(directory: Path | None = None) -> Rules:
    """Rules from `directory` (files missing there fall back to the packaged ones)."""
    def pick(name: str) -> Path:
        if directory is not None and (directory / name).is_file():
            return directory / name
        return PACKAGED / name

    return Rules(categories=CategoryTable.model_validate(_read(pick("categories.yaml"))),
                 thresholds=Thresholds.model_validate(_read(pick("thresholds.yaml"))),
                 content=ContentRules.model_validate(_read(pick("content.yaml"))))
