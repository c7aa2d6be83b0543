"""What every rule check shares: the list of checks and reasons, and small helpers."""

from __future__ import annotations

from dataclasses import dataclass, field

from extractors.classify import load_doc_types
from pipeline.merchant import default_messages, merchant_message
from pipeline.models import Check, FieldValue, MediaResult, Reason
from rules import MerchantMessages


@dataclass
class Evaluation:
    checks: list[Check] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)
    media: list[MediaResult] = field(default_factory=list)  # SPEC §6: what each picture and video showed
    # What the merchant messages need beyond the check: each document's type (by file as written),
    # and the operator's templates (rules/merchant_messages.yaml; None: the configured ones).
    doc_types: dict[str, str] = field(default_factory=dict)
    messages: MerchantMessages | None = None

    def add(self, check: Check, code: str | None = None, message: str | None = None, *,
            field: str | None = None) -> None:
        """Record a check; a failed or doubtful one with a code also gives a Reason, with the
        merchant's sentence made from the code and the check (`field`: the field it rests on)."""
        self.checks.append(check)
        if check.status in ("fail", "review") and code:
            if self.messages is None:
                self.messages = default_messages()
            self.reasons.append(Reason(
                code=code, document=check.document, message=message or check.message or check.name,
                merchant_message=merchant_message(code, check, doc_type=self.doc_types.get(check.document or ""),
                                                  field=field, messages=self.messages)))


def type_name(doc_type: str) -> str:
    cues = load_doc_types().types.get(doc_type)
    return f"{cues.name_zh} ({doc_type})" if cues else doc_type


def trusted(value: FieldValue | None, floor: float) -> bool:
    return value is not None and value.confidence >= floor


def low_confidence(ev: Evaluation, name: str, doc: str, field_name: str, value: FieldValue | None,
                    expected: str | None = None) -> None:
    if value is None:
        ev.add(Check(name=name, status="review", document=doc, expected=expected, found=None,
                     message=f"{field_name} could not be read"), "LOW_CONFIDENCE", field=field_name)
    else:
        ev.add(Check(name=name, status="review", document=doc, expected=expected, found=value.value,
                     score=round(value.confidence * 100, 1),
                     message=f"{field_name} read with low confidence ({value.confidence:.2f})"), "LOW_CONFIDENCE",
               field=field_name)
