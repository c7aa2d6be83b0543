"""The rules of SPEC §4 evaluated over a submission's documents, and the decision policy.

Every rule evaluated becomes a `Check` (passed ones included, so a reviewer sees why). A check
that fails or is doubtful also gives a `Reason` with a SPEC §5 code. The decision policy lives in
`decide` and docs/decision-policy.md: a check `fail`s only on clear evidence (values read at or
above `reject_confidence`); doubt is `review`; approve needs every check to pass.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from extractors.classify import UNCLASSIFIED, load_doc_types
from pipeline.document import DocumentWork
from pipeline.models import Check, Decision, FieldValue, Reason, Submission
from rules import Rules
from validators import credit_code as uscc
from validators import names, registration_number


@dataclass
class Evaluation:
    checks: list[Check] = field(default_factory=list)
    reasons: list[Reason] = field(default_factory=list)

    def add(self, check: Check, code: str | None = None, message: str | None = None) -> None:
        self.checks.append(check)
        if check.status in ("fail", "review") and code:
            self.reasons.append(Reason(code=code, document=check.document,
                                       message=message or check.message or check.name))


def type_name(doc_type: str) -> str:
    cues = load_doc_types().types.get(doc_type)
    return f"{cues.name_zh} ({doc_type})" if cues else doc_type


def decide(evaluation: Evaluation) -> Decision:
    statuses = {c.status for c in evaluation.checks}
    if "fail" in statuses:
        return "reject"
    if "review" in statuses or not evaluation.checks:
        return "review"
    return "approve"


def evaluate(submission: Submission, works: list[DocumentWork], rules: Rules, today: dt.date) -> Evaluation:
    ev = Evaluation()
    thresholds = rules.thresholds
    category = rules.categories.categories[submission.product.category]
    if not category.open_for_online_sale:
        ev.add(Check(name="category_open_for_sale", status="fail", expected="open", found="closed",
                     message=category.closed_reason), "CATEGORY_NOT_ALLOWED")
    else:
        ev.add(Check(name="category_open_for_sale", status="pass", found=submission.product.category))

    for work in works:
        check_document_read(ev, work, rules)
    check_completeness(ev, submission, works, rules)

    licences = [w for w in works if w.doc_type == "business_licence"]
    for work in licences:
        check_holder(ev, work, submission.shop.company, thresholds)
        check_credit_code(ev, work, submission.shop.credit_code, thresholds)
        check_validity(ev, work, today, thresholds)
    return ev


def check_document_read(ev: Evaluation, work: DocumentWork, rules: Rules) -> None:
    doc = work.ref.file
    result = work.result
    if work.load_error is not None:
        # A file nobody can open is clearly unusable; a file over our limits may still open for a person.
        clear = any(s in work.load_error for s in ("cannot be decoded", "is empty", "not a JPG", "cannot be read",
                                                   "has no pages"))
        ev.add(Check(name="document_readable", status="fail" if clear else "review", document=doc,
                     found=work.load_error), "UNREADABLE", work.load_error)
        return
    if not work.readings:
        ev.add(Check(name="document_readable", status="review", document=doc,
                     message="no page could be read: " + "; ".join(e.message for e in result.errors)),
               "UNREADABLE")
        return
    for note in work.notes:
        ev.add(Check(name="all_pages_read", status="review", document=doc, message=note), "UNREADABLE")

    if result.doc_type == UNCLASSIFIED:
        ev.add(Check(name="document_recognised", status="review", document=doc, found=UNCLASSIFIED,
                     score=round(result.doc_type_confidence * 100, 1),
                     message="not recognised as any document type the platform asks for"), "UNCLASSIFIED")
    else:
        ev.add(Check(name="document_recognised", status="pass", document=doc, found=result.doc_type,
                     score=round(result.doc_type_confidence * 100, 1)))
    declared = work.ref.declared_type
    if declared and result.doc_type != UNCLASSIFIED:
        same = declared == result.doc_type
        ev.add(Check(name="declared_type_matches", status="pass" if same else "review", document=doc,
                     expected=declared, found=result.doc_type),
               None if same else "WRONG_DOCUMENT_TYPE",
               f"declared as {type_name(declared)} but reads as {type_name(result.doc_type)}")

    quality = result.quality
    if quality is not None and quality.flags:
        ev.add(Check(name="authenticity", status="review", document=doc, found="; ".join(quality.flags),
                     message="; ".join(quality.flags)), "AUTHENTICITY_FLAG")
    elif quality is not None:
        ev.add(Check(name="authenticity", status="pass", document=doc))
    if quality is not None:
        if quality.ok:
            ev.add(Check(name="legible", status="pass", document=doc, score=quality.sharpness))
        else:
            problems = []
            opts_msg = (f"sharpness {quality.sharpness}, median text height {quality.text_height_px} px, "
                        f"mean OCR confidence {quality.mean_confidence}")
            problems.append(opts_msg)
            # Unreadable and nothing of substance read: the merchant must upload a better image.
            key_fields = {"holder_name", "credit_code", "licence_number"}
            clear = result.doc_type == UNCLASSIFIED or not (key_fields & set(result.fields))
            ev.add(Check(name="legible", status="fail" if clear else "review", document=doc,
                         score=quality.sharpness, message="too blurred or too small to read: " + opts_msg),
                   "UNREADABLE")


def check_completeness(ev: Evaluation, submission: Submission, works: list[DocumentWork], rules: Rules) -> None:
    table = rules.categories
    groups = list(table.always_requires) + list(table.categories[submission.product.category].requires)
    if submission.product.brand:
        groups += list(table.branded_requires)
    present = {w.doc_type for w in works}
    doubtful = [w for w in works if w.doc_type == UNCLASSIFIED or w.load_error or
                (w.result.quality is not None and not w.result.quality.ok)]
    for group in groups:
        found = [t for t in group if t in present]
        expected = " or ".join(group)
        if found:
            ev.add(Check(name="required_document_present", status="pass", expected=expected, found=found[0]))
        else:
            # If some document could not be recognised, it may be the missing one: ask a person.
            status = "review" if doubtful else "fail"
            names_zh = " / ".join(type_name(t) for t in group)
            ev.add(Check(name="required_document_present", status=status, expected=expected, found=None,
                         message=f"required document missing: {names_zh}"), "MISSING_DOCUMENT")


def _trusted(value: FieldValue | None, floor: float) -> bool:
    return value is not None and value.confidence >= floor


def _low_confidence(ev: Evaluation, name: str, doc: str, field_name: str, value: FieldValue | None,
                    expected: str | None = None) -> None:
    if value is None:
        ev.add(Check(name=name, status="review", document=doc, expected=expected, found=None,
                     message=f"{field_name} could not be read"), "LOW_CONFIDENCE")
    else:
        ev.add(Check(name=name, status="review", document=doc, expected=expected, found=value.value,
                     score=round(value.confidence * 100, 1),
                     message=f"{field_name} read with low confidence ({value.confidence:.2f})"), "LOW_CONFIDENCE")


def check_holder(ev: Evaluation, work: DocumentWork, company: str, thresholds) -> None:
    doc = work.ref.file
    holder = work.result.fields.get("holder_name")
    if not _trusted(holder, thresholds.field_confidence_floor):
        _low_confidence(ev, "holder_matches_shop", doc, "holder_name", holder, company)
        return
    match = names.compare_names(company, holder.value, near_threshold=thresholds.name_near_score)
    check = Check(name="holder_matches_shop", status="pass", document=doc, expected=company, found=holder.value,
                  score=round(match.score, 1))
    if match.status == "same":
        ev.add(check)
        return
    detail = "; ".join(match.differences[:3])
    if match.status == "near":
        # One or two characters apart: another company, or a misread. Never approve; a person decides.
        check.status = "review"
        check.message = f"holder nearly matches the shop company but is not the same name ({detail})"
    else:
        check.status = "fail" if holder.confidence >= thresholds.reject_confidence else "review"
        check.message = f"issued to {holder.value}, not the shop company {company}"
    ev.add(check, "HOLDER_MISMATCH")


def check_credit_code(ev: Evaluation, work: DocumentWork, declared: str | None, thresholds) -> None:
    doc = work.ref.file
    fields = work.result.fields
    code = fields.get("credit_code")
    extracted = work.extraction.fields.get("credit_code") if work.extraction else None
    if code is None:
        number = fields.get("licence_number")
        if number is not None:
            valid = registration_number.is_valid(number.value)
            ev.add(Check(name="registration_number_valid", status="pass" if valid else "review", document=doc,
                         found=number.value, message=None if valid else "注册号 check digit does not verify"),
                   None if valid else "INVALID_NUMBER")
            msg = (f"old-format licence: 注册号 {number.value}, no 统一社会信用代码 — old-format licences were "
                   f"replaced by credit-code licences in 2015–2017; ask for the current licence")
            ev.add(Check(name="credit_code_matches_declared", status="review", document=doc, expected=declared,
                         found=None, message=msg), "CREDIT_CODE_MISMATCH" if declared else "INVALID_NUMBER", msg)
        else:
            _low_confidence(ev, "credit_code_valid", doc, "credit_code", None)
        return

    repaired_note = extracted.note if extracted is not None and extracted.note else None
    if uscc.is_valid(code.value):
        ev.add(Check(name="credit_code_valid", status="pass", document=doc, found=code.value,
                     message=repaired_note))
    else:
        clear = code.confidence >= thresholds.reject_confidence
        ev.add(Check(name="credit_code_valid", status="fail" if clear else "review", document=doc,
                     found=code.value, score=round(code.confidence * 100, 1),
                     message="统一社会信用代码 check character does not verify (GB 32100-2015)"), "INVALID_NUMBER")
        return

    if not _trusted(code, thresholds.field_confidence_floor):
        _low_confidence(ev, "credit_code_matches_declared", doc, "credit_code", code, declared)
        return
    if not declared:
        ev.add(Check(name="credit_code_matches_declared", status="skip", document=doc, found=code.value,
                     message="the shop declared no credit code"))
        return
    try:
        declared_compact = uscc.compact(declared)
    except uscc.ValidationError:
        declared_compact = declared.strip().upper()
    if declared_compact == code.value:
        ev.add(Check(name="credit_code_matches_declared", status="pass", document=doc, expected=declared_compact,
                     found=code.value, score=100.0))
        return
    # A code that passes its check character was very probably read right: a real mismatch.
    clear = code.confidence >= thresholds.reject_confidence and not repaired_note
    ev.add(Check(name="credit_code_matches_declared", status="fail" if clear else "review", document=doc,
                 expected=declared_compact, found=code.value,
                 message=f"licence credit code {code.value} differs from the declared {declared_compact}"),
           "CREDIT_CODE_MISMATCH")


def check_validity(ev: Evaluation, work: DocumentWork, today: dt.date, thresholds) -> None:
    doc = work.ref.file
    until = work.result.fields.get("valid_until")
    notes = work.extraction.notes if work.extraction else []
    if until is None:
        if any("期限" in n for n in notes):
            _low_confidence(ev, "valid_on_check_date", doc, "valid_until", None)
        else:
            ev.add(Check(name="valid_on_check_date", status="skip", document=doc,
                         message="no validity period printed (licences without 营业期限 have no fixed term)"))
        return
    if until.value == "long_term":
        ev.add(Check(name="valid_on_check_date", status="pass", document=doc, expected=f">= {today}",
                     found="long_term"))
        return
    if not _trusted(until, thresholds.field_confidence_floor):
        _low_confidence(ev, "valid_on_check_date", doc, "valid_until", until, f">= {today}")
        return
    end = dt.date.fromisoformat(until.value)
    if end < today:
        clear = until.confidence >= thresholds.reject_confidence
        ev.add(Check(name="valid_on_check_date", status="fail" if clear else "review", document=doc,
                     expected=f">= {today}", found=until.value,
                     message=f"{type_name(work.doc_type)} expired on {until.value}"), "EXPIRED")
        return
    left = (end - today).days
    message = f"expires in {left} days" if left <= thresholds.near_expiry_days else None
    ev.add(Check(name="valid_on_check_date", status="pass", document=doc, expected=f">= {today}",
                 found=until.value, message=message))
