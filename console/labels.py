"""What the console calls the verdict's codes: decisions, check statuses, reason codes, check names,
field names and rule-8 flags, as gettext messages (English msgids; the Chinese is in the zh_CN
catalogue, `console/translations/`).

Only marked here (`N_`, `NP_`: `make translations` extracts them with the templates' strings);
translated when a page is drawn, in the reader's language (`console.i18n`). A code with no entry is
shown as it is, never hidden: `tests/test_console_i18n.py` fails when the pipeline produces a check
name or a reason code that has none.

Document types and categories are not here: their Chinese names are data beside their rules
(`name_zh` in extractors/doc_types.yaml and rules/categories.yaml).
"""

from __future__ import annotations


def N_(message: str) -> str:
    """Marks a message for extraction (gettext_noop): translated where it is shown."""
    return message


def NP_(context: str, message: str) -> tuple[str, str]:
    """Marks a message with its context (a word that reads differently elsewhere: `review`)."""
    return context, message


# Pre-screen and reviewer decisions: the seed's 审核状态 (待审核 / 审核通过 / 审核驳回) and the
# pre-screen's third answer.
DECISIONS = {
    "approve": NP_("decision", "approve"),
    "reject": NP_("decision", "reject"),
    "review": NP_("decision", "review"),
}

# The queue's status filter.
QUEUE_STATUSES = {
    "pending": NP_("queue status", "pending"),
    "decided": NP_("queue status", "decided"),
    "auto": NP_("queue status", "auto"),
    "all": NP_("queue status", "all"),
}

# A check's status (SPEC §2).
CHECK_STATUSES = {
    "pass": NP_("check status", "pass"),
    "fail": NP_("check status", "fail"),
    "review": NP_("check status", "review"),
    "skip": NP_("check status", "skip"),
}

# SPEC §5, the meaning column; the Chinese follows its wording in the seed's words (资质文件不全,
# 不清晰, 不符 …).
REASONS = {
    "MISSING_DOCUMENT": N_("required document missing"),
    "UNREADABLE": N_("unreadable"),
    "EXPIRED": N_("expired"),
    "HOLDER_MISMATCH": N_("holder is another company"),
    "CREDIT_CODE_MISMATCH": N_("credit code differs"),
    "PRODUCT_MISMATCH": N_("product does not match"),
    "BRAND_MISMATCH": N_("brand does not match"),
    "AUTHORIZATION_CHAIN_BROKEN": N_("authorization chain broken"),
    "INVALID_NUMBER": N_("invalid number"),
    "WRONG_DOCUMENT_TYPE": N_("wrong document type"),
    "UNCLASSIFIED": N_("unrecognised document"),
    "LOW_CONFIDENCE": N_("read with low confidence"),
    "AUTHENTICITY_FLAG": N_("authenticity flag"),
    "CATEGORY_NOT_ALLOWED": N_("category closed to online sale"),
    "PROHIBITED_CONTENT": N_("prohibited content"),
}

# The rules' names (pipeline.checks and friends: `Check(name=…)`).
CHECKS = {
    "category_open_for_sale": N_("category open for online sale"),
    "required_document_present": N_("required document present"),
    "document_readable": N_("file could be read"),
    "all_pages_read": N_("every page read"),
    "document_recognised": N_("document type recognised"),
    "declared_type_matches": N_("declared type matches"),
    "legible": N_("legible"),
    "authenticity": N_("authenticity (copy, recapture, border, occlusion)"),
    "holder_matches_shop": N_("holder is the shop company"),
    "credit_code_valid": N_("credit code valid"),
    "credit_code_matches_declared": N_("credit code matches the declared one"),
    "credit_code_matches_business_licence": N_("credit code matches the business licence"),
    "valid_on_check_date": N_("in force on the check date"),
    "in_force_on_check_date": N_("already in force (starts on or before the check date)"),
    "number_format": N_("number format"),
    "registration_number_valid": N_("registration number valid"),
    "names_declared_brand": N_("names the declared brand"),
    "product_matches": N_("names the product or brand"),
    "brand_chain": N_("brand authorization chain"),
    "authorization_in_force": N_("authorization in force"),
    "authorization_period_nested": N_("authorization period within the previous one"),
    "authority_seal": N_("issuing authority's seal"),
    "letter_seal_names_grantor": N_("letter's seal names the grantor"),
    "letter_signed_by_grantor": N_("letter signed by its grantor"),
    "seal_ink_removed": N_("lines under a seal read again"),
    "key_field_reread": N_("key fields read again"),
    "product_image_clean": N_("product image free of prohibited content"),
    # SPEC §6's videos and text (issue 23's media checks, named ahead of their merge)
    "product_video_clean": N_("product video free of prohibited content"),
    "product_title_clean": N_("title free of prohibited content"),
    "product_description_clean": N_("description free of prohibited content"),
}

# Field names (SPEC §3), as the forms print their labels.
FIELDS = {
    "holder_name": N_("holder"),
    "credit_code": N_("unified social credit code"),
    "legal_representative": N_("legal representative"),
    "established": N_("established"),
    "valid_from": N_("valid from"),
    "valid_until": N_("valid until"),
    "scope": N_("business scope"),
    "address": N_("address"),
    "licence_number": N_("licence number"),
    "product_name": N_("product name"),
    "issue_date": N_("issue date"),
    "brand": N_("brand"),
    "trademark_class": N_("trademark class"),
    "grantor": N_("grantor"),
}
# Words the checks write as their expected or found value (category_open_for_sale).
CHECK_VALUES = {
    "open": NP_("check value", "open"),
    "closed": NP_("check value", "closed"),
}

# Fields whose value is an ISO date (or `long_term`): shown as a date in the reader's language.
DATE_FIELDS = frozenset({"established", "valid_from", "valid_until", "issue_date"})

# The pipeline's stages, as a document's errors name them.
STAGES = {
    "ingest": N_("reading the file"),
    "ocr": N_("text recognition"),
    "extract": N_("field extraction"),
    "seals": N_("seal reading"),
}

# Rule 8 flags (quality.flags lines are "<flag>: <why>"; the why is the pipeline's own text).
FLAGS = {
    "border_incomplete": N_("border cut off"),
    "occluded": N_("occluded"),
    "specimen": N_("specimen"),
    "glare": N_("glare"),
    "screenshot": N_("screenshot"),
    "photocopy": N_("photocopy"),
    "screen recapture": N_("screen recapture"),
    "screen_recapture": N_("screen recapture"),
    "multiple_documents": N_("several documents in one image"),
}
