"""Merchant messages (SPEC §2 `merchant_message`): one Chinese sentence per reason, for the merchant.

Made where reasons are made (`Evaluation.add`), from the reason's code and the check behind it:
the templates are data (rules/merchant_messages.yaml, validated by `rules.MerchantMessages`), and
only the merchant's own data fills them — their file name, the document's Chinese name, a value
as printed on their upload, what they declared. Never a score, a check's name or another
submission's data: the placeholders cannot name them.
"""

from __future__ import annotations

import datetime as dt
import re
from functools import lru_cache

from extractors.classify import UNCLASSIFIED, load_doc_types
from pipeline.models import Check, Reason
from pipeline.settings import get_settings
from rules import MerchantMessages, MessageCondition, MessageTemplate, load_rules, message_placeholders

# A value quoted to the merchant is cut to this many characters (an OCR line can be a paragraph).
MAX_QUOTED = 60


@lru_cache(maxsize=1)
def _doc_names() -> dict[str, str]:
    return {code: cues.name_zh for code, cues in load_doc_types().types.items()}


def doc_name(doc_type: str | None) -> str | None:
    """The Chinese name of a document type (营业执照); None when unknown or not recognised."""
    if not doc_type or doc_type == UNCLASSIFIED:
        return None
    return _doc_names().get(doc_type)


def chinese_date(value: str | None) -> str | None:
    """2026-10-31 → 2026年10月31日; None for anything that is not one ISO date."""
    try:
        day = dt.date.fromisoformat((value or "").strip())
    except ValueError:
        return None
    return f"{day.year}年{day.month}月{day.day}日"


def _quoted(value: str | None) -> str | None:
    if value is None:
        return None
    value = re.sub(r"\s+", " ", value).strip()
    if not value or value in ("long_term", UNCLASSIFIED) or value.startswith((">=", "<=")):
        return None  # machine forms, not what is printed on the upload
    return value if len(value) <= MAX_QUOTED else value[:MAX_QUOTED] + "…"


def _required_docs(expected: str | None) -> str | None:
    """"food_business_licence or food_production_licence" → 食品经营许可证或食品生产许可证."""
    if not expected:
        return None
    names = [doc_name(part.strip()) for part in expected.split(" or ")]
    return "或".join(names) if names and all(names) else None


def context_of(check: Check, code: str, *, doc_type: str | None = None, field: str | None = None,
               messages: MerchantMessages) -> dict[str, str]:
    """The placeholder values a check offers (only those it has)."""
    field_key = (field or "").split(" ")[0] or messages.check_fields.get(check.name)
    values = {
        "file": check.document,
        "doc_name": doc_name(doc_type),
        "field_name": messages.fields.get(field_key) if field_key else None,
        "found": _quoted(check.found),
        "expected": _quoted(check.expected),
        "found_date": chinese_date(check.found),
    }
    if code == "MISSING_DOCUMENT":
        values["required_docs"] = _required_docs(check.expected)
    if code == "WRONG_DOCUMENT_TYPE":
        values["declared_doc"] = doc_name(check.expected)
        values["doc_name"] = doc_name(check.found)
    if code == "CATEGORY_NOT_ALLOWED":
        values["closed_reason"] = _quoted(check.message)
    return {k: v for k, v in values.items() if v}


def _applies(when: MessageCondition, check: Check, doc_type: str | None) -> bool:
    found, expected = (check.found or "").lower(), (check.expected or "").lower()
    return ((not when.check or check.name in when.check)
            and (not when.doc_type or doc_type in when.doc_type)
            and (not when.status or check.status in when.status)
            and (not when.found_contains or any(w.lower() in found for w in when.found_contains))
            and (not when.expected_contains or any(w.lower() in expected for w in when.expected_contains)))


def _fits(template: MessageTemplate, values: dict[str, str]) -> bool:
    return message_placeholders(template.text) <= values.keys()


def merchant_message(code: str, check: Check | None = None, *, doc_type: str | None = None,
                     field: str | None = None, messages: MerchantMessages | None = None) -> str:
    """The merchant's sentence for a reason: the first template of its code that applies to the check
    and has all its values, else the code's generic message, else the default."""
    messages = messages or default_messages()
    entry = messages.codes.get(code)
    if entry is None:
        return messages.default
    if check is None:
        return entry.generic
    values = context_of(check, code, doc_type=doc_type, field=field, messages=messages)
    for template in entry.templates:
        if _applies(template.when, check, doc_type) and _fits(template, values):
            return template.text.format(**values)
    return entry.generic


def default_messages() -> MerchantMessages:
    """The operator's templates (ZIZHI_RULES_DIR when set, else the packaged ones)."""
    return load_rules(get_settings().rules_dir).merchant_messages


def reviewer_reasons(codes: list[str], verdict_reasons: list[Reason], *,
                     messages: MerchantMessages | None = None) -> list[Reason]:
    """A reviewer's rejection codes as reasons for the merchant: where the pre-screen gave a reason
    with the same code, its specific sentence(s) (the reviewer confirmed it); else the code's generic
    sentence (the reviewer saw something the pre-screen did not: nothing specific is known)."""
    messages = messages or default_messages()
    out: list[Reason] = []
    for code in dict.fromkeys(codes):
        same = [r for r in verdict_reasons if r.code == code and r.merchant_message]
        if same:
            out += [Reason(code=code, document=r.document, message=r.message, merchant_message=r.merchant_message)
                    for r in same]
        else:
            entry = messages.codes.get(code)
            text = entry.generic if entry else messages.default
            out.append(Reason(code=code, message="reviewer's decision", merchant_message=text))
    return out
