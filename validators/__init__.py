"""Validators for the identifiers, dates and names read off qualification documents.

Each identifier module follows python-stdnum's interface:
``compact(number) -> str``, ``validate(number) -> str`` (compact form, or a
``stdnum.exceptions.ValidationError`` subclass: InvalidFormat, InvalidLength,
InvalidChecksum, InvalidComponent), ``is_valid(number) -> bool`` (never
raises) and ``format(number) -> str``.

* ``credit_code``: 统一社会信用代码 (GB 32100-2015), with OCR ``repair``
* ``registration_number``: 15-digit 工商注册号 (GS15-2006)
* ``id_number``: 居民身份证号码 (GB 11643-1999)
* licence numbers (SPEC §3), each with a ``SEARCH`` regex whose match
  (``group(0)``, the same as group ``number``) is a candidate to ``validate``: ``food_business_number`` (JY),
  ``food_production_number`` (SC), ``cosmetics_production_number`` (粤妆…),
  ``cosmetics_filing_number``, ``medical_device_business_number``,
  ``medical_device_registration_number``, ``tobacco_licence_number``,
  ``publication_licence_number``, ``trademark_number``, ``trademark_class``,
  ``health_food_number``, ``infant_formula_number``,
  ``pesticide_registration_number``, ``pesticide_business_number``,
  ``veterinary_drug_approval_number``, ``veterinary_drug_business_number``.
  ``InvalidFormat`` from these means "does not fit the known structure" (send
  to review); the other exceptions name a specific defect.
* ``dates``: dates, validity ends (``"long_term"``) and periods
* ``names``: name normalisation and comparison

This package imports nothing from ``pipeline`` or ``extractors``.
"""

from stdnum.exceptions import (
    InvalidChecksum,
    InvalidComponent,
    InvalidFormat,
    InvalidLength,
    ValidationError,
)

from validators import (
    cosmetics_filing_number,
    cosmetics_production_number,
    credit_code,
    dates,
    food_business_number,
    food_production_number,
    health_food_number,
    id_number,
    infant_formula_number,
    medical_device_business_number,
    medical_device_registration_number,
    names,
    pesticide_business_number,
    pesticide_registration_number,
    publication_licence_number,
    registration_number,
    tobacco_licence_number,
    trademark_class,
    trademark_number,
    veterinary_drug_approval_number,
    veterinary_drug_business_number,
)

#: Licence-number modules (SPEC §3): the stdnum-style interface plus ``SEARCH``.
LICENCE_NUMBER_MODULES = (
    food_business_number,
    food_production_number,
    cosmetics_production_number,
    cosmetics_filing_number,
    medical_device_business_number,
    medical_device_registration_number,
    tobacco_licence_number,
    publication_licence_number,
    trademark_number,
    trademark_class,
    health_food_number,
    infant_formula_number,
    pesticide_registration_number,
    pesticide_business_number,
    veterinary_drug_approval_number,
    veterinary_drug_business_number,
)

#: Modules with the stdnum-style compact/validate/is_valid/format interface.
IDENTIFIER_MODULES = (credit_code, registration_number, id_number, *LICENCE_NUMBER_MODULES)

__all__ = [
    "IDENTIFIER_MODULES",
    "LICENCE_NUMBER_MODULES",
    "InvalidChecksum",
    "InvalidComponent",
    "InvalidFormat",
    "InvalidLength",
    "ValidationError",
    "cosmetics_filing_number",
    "cosmetics_production_number",
    "credit_code",
    "dates",
    "food_business_number",
    "food_production_number",
    "health_food_number",
    "id_number",
    "infant_formula_number",
    "medical_device_business_number",
    "medical_device_registration_number",
    "names",
    "pesticide_business_number",
    "pesticide_registration_number",
    "publication_licence_number",
    "registration_number",
    "tobacco_licence_number",
    "trademark_class",
    "trademark_number",
    "veterinary_drug_approval_number",
    "veterinary_drug_business_number",
]
