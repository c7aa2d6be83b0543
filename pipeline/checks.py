"""The rules of SPEC §4 evaluated over a submission's documents, and the decision policy.

Every rule evaluated becomes a `Check` (passed ones included, so a reviewer sees why). A check
that fails or is doubtful also gives a `Reason` with a SPEC §5 code. The decision policy lives in
`decide` and docs/decision-policy.md: a check `fail`s only on clear evidence (values read at or
above `reject_confidence`); doubt is `review`; approve needs every check to pass.
"""

from __future__ import annotations

import datetime as dt
import re

from rapidfuzz import fuzz
from stdnum import exceptions as stdnum_exceptions

from extractors.classify import UNCLASSIFIED
from extractors.form import load_forms, number_module
from pipeline.brand_chain import check_brand_chain
from pipeline.document import DocumentWork, page_lines
from pipeline.evaluation import Evaluation, low_confidence, trusted, type_name
from pipeline.media.listing import ListingReading, screen_listing
from pipeline.models import Check, Decision, Submission
from pipeline.seals import check_seals
from rules import Rules, Thresholds
from validators import credit_code as uscc
from validators import id_number, names, registration_number


def number_validator(doc_type: str) -> str | None:
    spec = load_forms().types.get(doc_type, {}).get("licence_number")
    if spec is not None and spec.kind == "id_number":
        return "id_number"  # 居民身份号码: validators/id_number.py (GB 11643, ISO 7064 MOD 11-2)
    return spec.number if spec is not None else None


# Types whose certificates always print an end date (SPEC §3 lists valid_until for them): a
# missing one is a reading problem, not an open-ended licence.
VALIDITY_PRINTED = {
    "food_business_licence", "food_production_licence", "cosmetics_production_licence",
    "medical_device_business_licence", "medical_device_registration", "tobacco_retail_licence",
    "publication_business_licence", "trademark_certificate", "pesticide_registration",
    "pesticide_business_licence", "veterinary_drug_approval", "veterinary_drug_business_licence",
}


# The label words a reviewer knows each rule-bearing field by, for the checks' messages.
FIELD_LABELS = {
    "valid_until": "营业期限/有效期至", "valid_from": "营业期限自/有效期自", "credit_code": "统一社会信用代码",
    "licence_number": "编号", "holder_name": "名称", "product_name": "产品名称",
}


def absence(work: DocumentWork, field: str) -> tuple[bool, str]:
    """Whether `field`, which was not read, is shown not to be printed — and the evidence either way.

    Issue 11: "not printed" needs a legible page, none of the field's labels read, and a
    recognised layout variant that omits it (extractors/layouts.yaml); or the label read with an
    empty value on a variant that may leave it blank. Anything else is a value not read: the
    caller makes it LOW_CONFIDENCE (review), never a pass.
    """
    ex = work.extraction
    quality = work.result.quality
    words = FIELD_LABELS.get(field, field)
    if ex is None:
        return False, f"{field} not read: the document's fields could not be extracted"
    layout = ex.layout_evidence or "layout variant not recognised"
    if field in ex.labels_found:
        label = ex.labels_found[field]
        if field in ex.blank and field in ex.blank_allowed:
            return True, f"label {label} printed with an empty value, which this layout may leave blank ({layout})"
        if field in ex.blank:
            return False, f"label {label} printed but nothing read beside or under it (blank, sealed over or unreadable)"
        return False, f"label {label} printed but its value could not be read"
    if field in ("valid_until", "valid_from") and "valid_from" in ex.fields and field == "valid_until":
        return False, f"a start date ({ex.fields['valid_from'].value}) was read but no end: a start alone is not a term"
    if quality is None or not quality.ok:
        return False, f"no {words} label read, but the page is not legible enough to show that none is printed"
    if field not in ex.omits:
        return False, f"no {words} label read on a legible page, but {layout} is not one that omits it"
    if field in ("valid_until", "valid_from"):
        if ex.stray_period:
            return False, (f"no {words} label read, but a period-like text was read outside any labelled value "
                           f"({ex.stray_period!r})")
        if work.doc_type == "business_licence" and "established" not in ex.fields:
            return False, "no 营业期限 label read, but 成立日期 was not read either: the rows a term is printed in were not read"
    return True, f"not printed: page legible, no {words} label in its OCR text, and {layout} omits it"


def decide(evaluation: Evaluation) -> Decision:
    statuses = {c.status for c in evaluation.checks}
    if "fail" in statuses:
        return "reject"
    if "review" in statuses or not evaluation.checks:
        return "review"
    return "approve"


def evaluate(submission: Submission, works: list[DocumentWork], rules: Rules, today: dt.date,
             listing: ListingReading | None = None) -> Evaluation:
    """Every rule of SPEC §4 over the submission's documents (and §6 over its pictures, videos and text)."""
    ev = Evaluation(doc_types={w.ref.file: w.doc_type for w in works}, messages=rules.merchant_messages)
    t = rules.thresholds
    category = rules.categories.categories[submission.product.category]
    if not category.open_for_online_sale:
        ev.add(Check(name="category_open_for_sale", status="fail", expected="open", found="closed",
                     message=category.closed_reason), "CATEGORY_NOT_ALLOWED")
    else:
        ev.add(Check(name="category_open_for_sale", status="pass", found=submission.product.category))

    for work in works:
        check_document_read(ev, work, rules)
        if work.rereads:
            kept = [r for r in work.rereads if r.kept]
            ev.add(Check(name="key_field_reread", status="pass" if kept else "skip", document=work.ref.file,
                         found="; ".join(f"{r.field}: {r.text}" for r in kept) or None,
                         message="rule-bearing text read again: " + "; ".join(
                             f"{r.field} {r.describe()}" for r in work.rereads[:8])))
    check_completeness(ev, submission, works, rules)

    entity_types = set(rules.categories.entity_documents)
    licence_codes = [w.result.fields["credit_code"] for w in works
                     if w.doc_type == "business_licence" and "credit_code" in w.result.fields]
    licence_code = licence_codes[0].value if licence_codes else None
    for work in works:
        if work.doc_type in entity_types:
            check_holder(ev, work, submission.shop.company, t)
            check_credit_code(ev, work, submission.shop.credit_code, t,
                              licence_code=None if work.doc_type == "business_licence" else licence_code)
        check_number_format(ev, work, t)
        if work.doc_type != "brand_authorization":  # letters have their own, stricter validity rule
            check_validity(ev, work, today, t)
    product_types = set(rules.categories.product_documents)
    for work in works:
        if work.doc_type in product_types:
            check_product(ev, work, submission, t)
    check_seals(ev, works, t.capture_flags)
    if submission.product.brand:
        check_brand_chain(ev, submission, works, rules, today)
    # Rule 3 holds for every document uploaded, required or not (issue 20: an expired letter beside an
    # unbranded listing was approved). A letter the brand chain judged has its stricter check already.
    judged = {c.document for c in ev.checks if c.name == "authorization_in_force"}
    for work in works:
        if work.doc_type == "brand_authorization" and work.ref.file not in judged:
            check_validity(ev, work, today, t)
        if work.doc_type == "brand_authorization":
            check_letter_signatory(ev, work, t)
    note_unreadable_extras(ev, submission, works, rules)
    ev.media = screen_listing(ev, submission.product, listing, rules)
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
    if result.quality is None:  # no page of it could be read
        ev.add(Check(name="document_readable", status="review", document=doc,
                     message="no page could be read: " + "; ".join(e.message for e in result.errors)),
               "UNREADABLE")
        return
    for note in work.notes:
        ev.add(Check(name="all_pages_read", status="review", document=doc, message=note), "UNREADABLE")

    if result.doc_type == UNCLASSIFIED:
        look_alike = work.classification.look_alike if work.classification else None
        ev.add(Check(name="document_recognised", status="review", document=doc, found=UNCLASSIFIED,
                     score=round(result.doc_type_confidence * 100, 1),
                     message=f"not a document the platform asks for: {look_alike}" if look_alike
                     else "not recognised as any document type the platform asks for"), "UNCLASSIFIED")
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
            opts_msg = (f"sharpness {quality.sharpness}, median text height {quality.text_height_px} px, "
                        f"mean OCR confidence {quality.mean_confidence}")
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


def check_letter_signatory(ev: Evaluation, work: DocumentWork, thresholds: Thresholds) -> None:
    """A letter's body and its signature block name the same grantor (issue 20): a letter written by
    one party and signed by another does not show who grants it — review, with both names."""
    grantor = work.result.fields.get("grantor")
    signatory = work.extraction.signatory if work.extraction is not None else None
    if grantor is None or signatory is None:
        return
    match = names.compare_names(grantor.value, signatory.value, near_threshold=thresholds.name_near_score)
    doc = work.ref.file
    if match.status == "same":
        ev.add(Check(name="letter_signed_by_grantor", status="pass", document=doc, expected=grantor.value,
                     found=signatory.value, score=100.0))
        return
    ev.add(Check(name="letter_signed_by_grantor", status="review", document=doc, expected=grantor.value,
                 found=signatory.value, score=round(match.score, 1),
                 message=f"the letter's body names {grantor.value} as the grantor, but it is signed by "
                         f"{signatory.value}"), "AUTHORIZATION_CHAIN_BROKEN")


def note_unreadable_extras(ev: Evaluation, submission: Submission, works: list[DocumentWork], rules: Rules) -> None:
    """A document that could not be read, uploaded beside everything the listing requires (each
    requirement met by a recognised, legible document), is noted, not judged (issue 20): it neither
    blocks the verdict nor helps it. Its checks stay in the list, as `skip`, with why."""
    table = rules.categories
    groups = list(table.always_requires) + list(table.categories[submission.product.category].requires)
    if submission.product.brand:
        groups += list(table.branded_requires)

    def readable(w: DocumentWork) -> bool:
        return (w.load_error is None and w.result.quality is not None and w.result.quality.ok
                and w.doc_type != UNCLASSIFIED)

    present = {w.doc_type for w in works if readable(w)}
    if not all(any(t in present for t in group) for group in groups):
        return
    unreadable = {w.ref.file for w in works if w.load_error is not None or w.result.quality is None
                  or (not w.result.quality.ok and w.doc_type == UNCLASSIFIED)}
    if not unreadable:
        return
    for check in ev.checks:
        if check.document in unreadable and check.status in ("review", "fail") and check.name in (
                "document_readable", "legible", "document_recognised", "all_pages_read"):
            check.status = "skip"
            check.message = (f"not required for this listing and could not be read: noted, not judged "
                             f"({check.message or check.found or check.name})")
    doubtful = {c.document for c in ev.checks if c.status in ("review", "fail")}
    ev.reasons = [r for r in ev.reasons if r.document not in unreadable or r.document in doubtful]


def _plausible_entity(name: str) -> bool:
    """At least four Chinese characters: every registered entity name has a region and a form."""
    return len(re.findall(r"[\u4e00-\u9fff]", name)) >= 4


def check_holder(ev: Evaluation, work: DocumentWork, company: str, thresholds: Thresholds) -> None:
    doc = work.ref.file
    holder = work.result.fields.get("holder_name")
    if holder is not None and not _plausible_entity(holder.value):
        # A stray glyph under a seal is not a company name: unreadable, not another company.
        ev.add(Check(name="holder_matches_shop", status="review", document=doc, expected=company,
                     found=holder.value, message=f"holder name unreadable (read {holder.value!r})"), "LOW_CONFIDENCE")
        return
    if not trusted(holder, thresholds.field_confidence_floor):
        low_confidence(ev, "holder_matches_shop", doc, "holder_name", holder, company)
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
    elif problems := names.entity_name_problems(holder.value):
        # An address, a label or a person's name read where the name should be: a misread, not
        # another company (issue 20: a clean licence was rejected on an address line).
        check.status = "review"
        check.message = (f"holder name read as {holder.value!r}, which is not a plausible entity name "
                         f"({'; '.join(problems)}): a misread, not evidence of another company")
        ev.add(check, "LOW_CONFIDENCE")
        return
    elif (part := names.partial_match(company, holder.value)) is not None:
        # The declared name with text glued on (a watermark, the next line) or a fragment of it (a
        # line break, a seal over the end): what was read does not show another company. Review.
        check.status = "review"
        check.message = f"holder read as {holder.value}: {part}; a person compares it with the upload"
    else:
        check.status = "fail" if holder.confidence >= thresholds.reject_confidence else "review"
        check.message = f"{type_name(work.doc_type)} is issued to {holder.value}, not the shop company {company}"
    ev.add(check, "HOLDER_MISMATCH")


def check_credit_code(ev: Evaluation, work: DocumentWork, declared: str | None, thresholds: Thresholds,
                      licence_code: str | None = None) -> None:
    """The credit code printed on an entity licence: valid, the declared one, the business licence's."""
    doc = work.ref.file
    fields = work.result.fields
    code = fields.get("credit_code")
    extracted = work.extraction.fields.get("credit_code") if work.extraction else None
    if code is None:
        if work.doc_type != "business_licence":
            # Some entity licences (older editions, tobacco, publication) print no credit code; a
            # code whose label was read but whose value was not is missing, not absent.
            if work.extraction is not None and "credit_code" in work.extraction.labels_found:
                _, evidence = absence(work, "credit_code")
                ev.add(Check(name="credit_code_valid", status="review", document=doc, found=None, message=evidence),
                       "LOW_CONFIDENCE", f"credit code not read: {evidence}")
            else:
                ev.add(Check(name="credit_code_valid", status="skip", document=doc,
                             message="no 统一社会信用代码 label read: this licence does not print one"))
            return
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
        elif work.doc_type == "business_licence":
            low_confidence(ev, "credit_code_valid", doc, "credit_code", None)
        return

    repaired_note = extracted.note if extracted is not None and extracted.note else None
    if id_number.is_valid(code.value):
        # 社会信用代码（身份证号码）: an individual's licence may print an ID number in its place.
        ev.add(Check(name="credit_code_valid", status="review", document=doc, found=code.value,
                     message="a valid 居民身份证号码 (resident ID number), not a 统一社会信用代码"), "INVALID_NUMBER")
        return
    problems = uscc.structure_problems(code.value) if uscc.is_valid(code.value) else []
    if problems:
        # Real codes that break these rules exist: a person looks, never a reject on this alone.
        ev.add(Check(name="credit_code_valid", status="review", document=doc, found=code.value,
                     message="final check character verifies, but " + "; ".join(problems)), "INVALID_NUMBER")
        return
    if uscc.is_valid(code.value):
        ev.add(Check(name="credit_code_valid", status="pass", document=doc, found=code.value,
                     message=repaired_note))
    else:
        # Issue 20: a code that fails its check character is a doubt, not proof. On a real upload a
        # misread (one of 18 characters, on a photo) is far likelier than a misprinted licence,
        # however sure the recogniser is; SPEC: doubtful numbers go to review.
        ev.add(Check(name="credit_code_valid", status="review", document=doc,
                     found=code.value, score=round(code.confidence * 100, 1),
                     message="统一社会信用代码 check character does not verify (GB 32100-2015): a misread or a "
                             "misprint, a person compares it with the upload"), "INVALID_NUMBER")
        return

    if not trusted(code, thresholds.field_confidence_floor):
        low_confidence(ev, "credit_code_matches_declared", doc, "credit_code", code, declared)
        return
    if licence_code is not None:
        same = licence_code == code.value
        clear = code.confidence >= thresholds.reject_confidence and not repaired_note
        ev.add(Check(name="credit_code_matches_business_licence", document=doc, expected=licence_code,
                     found=code.value, status="pass" if same else ("fail" if clear else "review"),
                     message=None if same else f"{type_name(work.doc_type)} credit code {code.value} differs from "
                                               f"the business licence's {licence_code}"),
               None if same else "CREDIT_CODE_MISMATCH")
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


def check_validity(ev: Evaluation, work: DocumentWork, today: dt.date, thresholds: Thresholds) -> None:
    """Rule 3: every valid_until is on or after the check date (long_term always passes)."""
    doc = work.ref.file
    for name in ("valid_from", "established"):
        start = work.result.fields.get(name)
        if start is None or not re.fullmatch(r"\d{4}-\d{2}-\d{2}", start.value):
            continue
        if dt.date.fromisoformat(start.value) > today:
            # SPEC's rule 3 looks at the end only; a start after the check date is a document not in
            # force yet or, likelier, a misread year: never approved on it, a person reads the date.
            ev.add(Check(name="in_force_on_check_date", status="review", document=doc, expected=f"<= {today}",
                         found=start.value, message=f"{name} read as {start.value}, after the check date: a "
                                                    f"misread date or a document not yet in force"),
                   "LOW_CONFIDENCE")
    until = work.result.fields.get("valid_until")
    notes = work.extraction.notes if work.extraction else []
    if until is None:
        unreadable = [n for n in notes if "期限" in n or "valid_until" in n or "有效期" in n]
        if work.doc_type in VALIDITY_PRINTED and _is_filing(work):
            number = work.result.fields["licence_number"].value
            ev.add(Check(name="valid_on_check_date", status="skip", document=doc, found=number,
                         message=f"a filing (备案, number {number}) carries no end date"))
            return
        if work.doc_type not in VALIDITY_PRINTED and work.doc_type != "business_licence":
            return  # SPEC §3 gives this type no valid_until
        not_printed, evidence = absence(work, "valid_until")
        if unreadable:
            not_printed, evidence = False, f"{evidence}; {unreadable[0]}"
        if work.doc_type in VALIDITY_PRINTED and not_printed:
            not_printed, evidence = False, f"{type_name(work.doc_type)} always prints an end date; {evidence}"
        if not_printed:
            ev.add(Check(name="valid_on_check_date", status="skip", document=doc, message=evidence))
        else:
            ev.add(Check(name="valid_on_check_date", status="review", document=doc, expected=f">= {today}",
                         found=None, message=f"valid_until could not be read: {evidence}"),
                   "LOW_CONFIDENCE", f"valid_until could not be read: {evidence}")
        return
    if until.value == "long_term":
        raw = work.extraction.fields["valid_until"].raw if work.extraction and "valid_until" in work.extraction.fields \
            else None
        ev.add(Check(name="valid_on_check_date", status="pass", document=doc, expected=f">= {today}",
                     found="long_term", message=f"printed {raw!r}: no end" if raw else None))
        return
    if not trusted(until, thresholds.field_confidence_floor):
        low_confidence(ev, "valid_on_check_date", doc, "valid_until", until, f">= {today}")
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


def _is_filing(work: DocumentWork) -> bool:
    """备案凭证 (filings) are open-ended: only licences and registrations print an end date."""
    number = work.result.fields.get("licence_number")
    return number is not None and "备" in number.value


def check_number_format(ev: Evaluation, work: DocumentWork, thresholds: Thresholds) -> None:
    """Rule 7: licence numbers fit their type's structure; check characters verify.

    A number that does not fit the known structure may be a legitimate variant: review. A
    specific, explainable defect (length, region, check character) read confidently: reject.
    """
    number = work.result.fields.get("licence_number")
    if work.doc_type == "business_licence" or work.doc_type not in load_forms().types:
        return  # the old business licence's 注册号 is checked with its credit-code rule
    doc = work.ref.file
    if number is None:
        # (an ID card's emblem side prints no number, and no category requires an ID card)
        if "licence_number" in load_forms().types[work.doc_type] and work.doc_type != "id_card":
            # Every SPEC §3 type with a number prints it: one not read is missing, never absent.
            _, evidence = absence(work, "licence_number")
            ev.add(Check(name="number_format", status="review", document=doc, found=None,
                         message=f"licence number could not be read: {evidence}"), "LOW_CONFIDENCE")
        return
    module_name = number_validator(work.doc_type)
    module = number_module(module_name) if module_name else None
    if module is None:
        ev.add(Check(name="number_format", status="skip", document=doc, found=number.value,
                     message=f"no format rule for {type_name(work.doc_type)} numbers"))
        return
    try:
        module.validate(number.value)
    except stdnum_exceptions.InvalidFormat as e:
        ev.add(Check(name="number_format", status="review", document=doc, found=number.value,
                     message=f"{number.value} does not fit the usual structure ({e}); it may be a variant"),
               "INVALID_NUMBER")
        return
    except stdnum_exceptions.InvalidChecksum as e:
        # A check digit that does not verify: a misread is likelier than a misprint (see credit codes).
        ev.add(Check(name="number_format", status="review", document=doc, found=number.value,
                     score=round(number.confidence * 100, 1), message=f"{number.value}: {e}"), "INVALID_NUMBER")
        return
    except stdnum_exceptions.ValidationError as e:
        clear = number.confidence >= thresholds.reject_confidence
        ev.add(Check(name="number_format", status="fail" if clear else "review", document=doc, found=number.value,
                     score=round(number.confidence * 100, 1), message=f"{number.value}: {e}"), "INVALID_NUMBER")
        return
    if work.doc_type == "id_card":
        mismatch = id_card_mismatch(work, number.value)
        if mismatch:
            # The card prints what its number encodes: a disagreement is a specimen (代用名 cards), an
            # edited card, or a misread, and a reviewer tells which.
            ev.add(Check(name="number_format", status="review", document=doc, found=number.value,
                         message=f"{number.value}: {mismatch}"), "INVALID_NUMBER")
            return
    ev.add(Check(name="number_format", status="pass", document=doc, found=number.value))


_PRINTED_BIRTH = re.compile(r"出生\D{0,2}(\d{4})\s*年\s*(\d{1,2})\s*月\s*(\d{1,2})\s*日?")
_PRINTED_SEX = re.compile(r"性别\s*([男女])")


def id_card_mismatch(work: DocumentWork, number: str) -> str | None:
    """What an ID card's portrait side prints (出生 date, 性别) against what its number encodes
    (digits 7–14 the birth date, the 17th odd for male): the disagreement in words, or None when
    they agree or the printed values were not read."""
    try:
        birth, sex = id_number.get_birth_date(number), id_number.get_gender(number)
    except stdnum_exceptions.ValidationError:
        return None
    problems = []
    for reading in work.readings:
        for line in page_lines(reading):
            text = "".join(line.text.split())
            m = _PRINTED_BIRTH.search(text)
            if m:
                try:
                    printed = dt.date(*(int(g) for g in m.groups()))
                except ValueError:
                    printed = None
                if printed is not None and printed != birth:
                    problems.append(f"the number encodes birth date {birth.isoformat()}, the card prints "
                                    f"出生 {printed.isoformat()}")
            m = _PRINTED_SEX.search(text)
            if m and ("male" if m.group(1) == "男" else "female") != sex:
                problems.append(f"the number encodes a {sex} holder, the card prints 性别 {m.group(1)}")
    return "; ".join(dict.fromkeys(problems)) or None


def check_product(ev: Evaluation, work: DocumentWork, submission: Submission, thresholds: Thresholds) -> None:
    """Rule 5: a product document names the product's brand or the product itself."""
    doc = work.ref.file
    fields = work.result.fields
    named = [f for key in ("product_name", "brand") if (f := fields.get(key)) is not None]
    if not named:
        low_confidence(ev, "product_matches", doc, "product_name", None, submission.product.brand
                        or submission.product.title)
        return
    text = names.normalize_name("".join(f.value for f in named))
    brand = names.normalize_name(submission.product.brand) if submission.product.brand else ""
    title = names.normalize_name(submission.product.title)
    found = " / ".join(f.value for f in named)
    if brand and brand in text:
        ev.add(Check(name="product_matches", status="pass", document=doc, expected=submission.product.brand,
                     found=found, score=100.0))
        return
    score = float(fuzz.partial_ratio(text, title)) if title else 0.0
    if score >= thresholds.product_match_score:
        ev.add(Check(name="product_matches", status="pass", document=doc, expected=submission.product.title,
                     found=found, score=round(score, 1)))
        return
    confident = all(f.confidence >= thresholds.reject_confidence for f in named)
    expected = submission.product.brand or submission.product.title
    ev.add(Check(name="product_matches", status="fail" if confident and score < thresholds.product_mismatch_score else "review",
                 document=doc,
                 expected=expected, found=found, score=round(score, 1),
                 message=f"{type_name(work.doc_type)} is for {found}, not {expected}"), "PRODUCT_MISMATCH")
