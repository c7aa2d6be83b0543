"""What extractors work on: OCR lines in the layout frame, and what they produce."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class OcrLine:
    text: str
    confidence: float
    quad: np.ndarray  # layout frame (upright, deskewed), tl tr br bl
    quad_original: np.ndarray  # uploaded-image pixels
    page: int = 1

    @property
    def top(self) -> float:
        return float(self.quad[:, 1].min())

    @property
    def bottom(self) -> float:
        return float(self.quad[:, 1].max())

    @property
    def left(self) -> float:
        return float(self.quad[:, 0].min())

    @property
    def right(self) -> float:
        return float(self.quad[:, 0].max())

    @property
    def height(self) -> float:
        return max(1.0, self.bottom - self.top)

    @property
    def center_y(self) -> float:
        return float(self.quad[:, 1].mean())

    def char_x(self, index: int) -> float:
        """Approximate left x of character `index`, assuming even spacing along the line."""
        n = max(1, len(self.text))
        return self.left + (self.right - self.left) * index / n

    def sub_quad_original(self, start: int, end: int) -> np.ndarray:
        """The part of the line holding characters [start, end), in uploaded-image pixels."""
        n = max(1, len(self.text))
        a, b = start / n, end / n
        q = self.quad_original
        top_l, top_r = q[0] + (q[1] - q[0]) * a, q[0] + (q[1] - q[0]) * b
        bot_l, bot_r = q[3] + (q[2] - q[3]) * a, q[3] + (q[2] - q[3]) * b
        return np.array([top_l, top_r, bot_r, bot_l], dtype=np.float32)


@dataclass
class ExtractedField:
    value: str
    confidence: float
    page: int
    quads: list[np.ndarray] = field(default_factory=list)  # uploaded-image pixels
    raw: str | None = None  # the text as read, before normalising
    note: str | None = None  # e.g. a credit-code repair


@dataclass
class Extraction:
    """What an extractor read, and the evidence the rules need about what it did not read.

    A field a rule rests on that is absent from `fields` is "not printed" only on evidence
    (issue 11): none of its labels in `labels_found`, and the recognised `layout` variant is one
    that omits it (`omits`), or its label printed with nothing beside it (`blank`) on a variant
    that may leave it blank (`blank_allowed`). Otherwise it is missing: the value was not read.
    """

    doc_type: str
    fields: dict[str, ExtractedField] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)
    labels_found: dict[str, str] = field(default_factory=dict)  # field -> the label word read for it
    blank: set[str] = field(default_factory=set)  # fields whose label was read with no value beside or below
    layout: str | None = None  # recognised layout variant (extractors/layouts.yaml), e.g. "individual"
    layout_evidence: str | None = None  # why that variant: the cue that was found
    omits: set[str] = field(default_factory=set)  # fields the variant does not print
    blank_allowed: set[str] = field(default_factory=set)  # fields the variant may print empty
    stray_period: str | None = None  # a period-like text (date 至 date) read outside any labelled value
    # a letter's signature block: the party that signs (and seals) it, read above its date; the rules
    # compare it with the grantor the body names (brand_authorization)
    signatory: ExtractedField | None = None
