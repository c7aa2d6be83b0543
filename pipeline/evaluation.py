"""What every rule check shares: the list of checks and reasons, and small helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

from extractors.classify import load_doc_types
from pipeline.models import Check, FieldValue, MediaResult, Reason


@dataclass
class Evaluation:
    checks: list[Check] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    media: list[MediaResult] = field(default_factory=list)  # SPEC §6: what each picture and video showed

    def add(self, check: Check, code: str | None = None, message: str | None = None) -> None:
        self.checks.append(check)
        if check.status in ("fail", "review") and code:
            self.reasons.append(Reason(code=code, document=check.document,
                                       message=message or check.message or check.name))


def type_name(doc_type: str) -> str:
    cues = load_doc_types().types.get(doc_type)
    return f"{cues.name_zh} ({doc_type})" if cues else doc_type


def trusted(value: FieldValue | None, floor: float) -> bool:
    return value is not None and value.confidence >= floor


def low_confidence(ev: Evaluation, name: str, doc: str, field_name: str, value: FieldValue | None,
                    expected: str | None = None) -> None:
    if value is None:
        ev.add(Check(name=name, status="review", document=doc, expected=expected, found=None,
                     message=f"{field_name} could not be read"), "LOW_CONFIDENCE")
    else:
        ev.add(Check(name=name, status="review", document=doc, expected=expected, found=value.value,
                     score=round(value.confidence * 100, 1),
                     message=f"{field_name} read with low confidence ({value.confidence:.2f})"), "LOW_CONFIDENCE")
