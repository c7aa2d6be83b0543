"""The contract (SPEC §1–2): the submission that comes in and the verdict that goes out."""

from __future__ import annotations

import datetime as dt
from typing import Annotated, Literal

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, field_validator

from pipeline.display import is_plain_text, unsafe_characters

Decision = Literal["approve", "reject", "review"]
CheckStatus = Literal["pass", "fail", "review", "skip"]

# SPEC §5, in its order: the codes a verdict's reasons (and a reviewer's decision) may carry.
REASON_CODES = ("MISSING_DOCUMENT", "UNREADABLE", "EXPIRED", "HOLDER_MISMATCH", "CREDIT_CODE_MISMATCH",
                "PRODUCT_MISMATCH", "BRAND_MISMATCH", "AUTHORIZATION_CHAIN_BROKEN", "INVALID_NUMBER",
                "WRONG_DOCUMENT_TYPE", "UNCLASSIFIED", "LOW_CONFIDENCE", "AUTHENTICITY_FLAG",
                "CATEGORY_NOT_ALLOWED", "PROHIBITED_CONTENT")


def _plain(text: str) -> str:
    if not is_plain_text(text):
        raise ValueError(f"holds control or bidi characters ({', '.join(unsafe_characters(text))}): ids and "
                         "names must be plain text")
    return text


# Ids and names a merchant writes: printed, stored and compared, so no control characters (NUL,
# newline, escape…), bidi overrides or lone surrogates.
PlainText = Annotated[str, AfterValidator(_plain)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Shop(_Model):
    name: PlainText = Field(description="Shop name as shown on Douyin (店铺名)")
    company: PlainText = Field(min_length=1, description="The shop's legal entity (店铺主体)")
    credit_code: PlainText | None = Field(default=None, description="Declared 统一社会信用代码")


class Product(_Model):
    title: str = Field(default="", description="Listing title")
    category: PlainText = Field(min_length=1, description="Category code of SPEC §4")
    brand: PlainText | None = Field(default=None, description="Brand; null or absent is unbranded (无品牌)")
    images: list[PlainText] = Field(default_factory=list, description="Product pictures (SPEC §6)")
    videos: list[PlainText] = Field(default_factory=list, description="Main and detail videos, MP4/MOV/WEBM, "
                                                                      "paths like documents (SPEC §6)")
    description: str = Field(default="", description="Listing description text (SPEC §6)")

    @field_validator("brand")
    @classmethod
    def _blank_brand_is_unbranded(cls, brand: str | None) -> str | None:
        # "" already reads as unbranded everywhere (a falsy brand); "   " must too, not as a brand that
        # needs a trademark certificate (a wrong MISSING_DOCUMENT reject)
        return brand if brand is None or brand.strip() else None


class DocumentRef(_Model):
    file: PlainText = Field(min_length=1, description="Path relative to the submission file's folder")
    declared_type: PlainText | None = Field(default=None, description="doc_type the merchant declared")


class Submission(_Model):
    # Outside callers may add bookkeeping keys; the contract fields are checked strictly below.
    model_config = ConfigDict(extra="ignore")

    id: PlainText = Field(min_length=1, max_length=200, description="Submission id (the verdict store keeps 200)")
    shop: Shop
    product: Product
    documents: list[DocumentRef]

    @field_validator("id")
    @classmethod
    def _id_not_blank(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("submission id is blank")
        return value


class Reason(_Model):
    code: str
    document: str | None = None
    message: str
    merchant_message: str = Field(default="", description="SPEC §2: one Chinese sentence for the merchant — what is "
                                                          "wrong on which document and what to upload or change "
                                                          "(rules/merchant_messages.yaml)")


class FlagEvidence(_Model):
    flag: str = Field(description="border_incomplete | occluded | specimen | glare | screenshot | photocopy | "
                                  "screen_recapture | multiple_documents")
    message: str = Field(description="The flag's line in quality.flags")
    page: int = Field(description="1-based page the evidence is on")
    box: list[list[int]] | None = Field(default=None, description="Evidence quadrilateral in the page's uploaded "
                                                                   "pixels (like a field's box); null: the whole page")
    sides: list[str] = Field(default_factory=list, description="border_incomplete: top/right/bottom/left of the "
                                                                "uploaded image")
    fields: list[str] = Field(default_factory=list, description="Key fields under the evidence box")


class Quality(_Model):
    ok: bool
    sharpness: float = Field(description="Variance of the Laplacian at a 1600 px long side")
    width: int
    height: int
    skew_deg: float = Field(description="Angle the page was turned by to straighten it")
    text_height_px: float | None = Field(default=None, description="Median text-line height, uploaded pixels")
    mean_confidence: float | None = Field(default=None, description="Mean OCR confidence of the lines read")
    flags: list[str] = Field(default_factory=list, description="Rule 8 flags, each '<flag>: <why>'; any sends "
                                                                 "the verdict to review")
    capture: list[str] = Field(default_factory=list, description="Capture kinds seen: screenshot, glare, "
                                                                 "electronic_licence (informational)")
    evidence: list[FlagEvidence] = Field(default_factory=list, description="Where each flag was seen")


class FieldValue(_Model):
    value: str
    confidence: float
    page: int
    box: list[list[int]] | None = None


class SealReading(_Model):
    text: str = Field(description="The seal's curved text as read (may be partial); '' when illegible")
    confidence: float = Field(description="Recogniser confidence of that text (0 when illegible)")
    page: int
    box: list[list[int]] = Field(description="The seal's bounding quadrilateral, uploaded pixels")
    shape: str = Field(default="round", description="round or oval")


class DocumentResult(_Model):
    file: str
    doc_type: str
    doc_type_confidence: float
    pages: int
    quality: Quality | None = None
    fields: dict[str, FieldValue] = Field(default_factory=dict)
    errors: list[ErrorItem] = Field(default_factory=list, description="Stages that failed, per page")
    seals: list[SealReading] | None = Field(default=None, description="Red seals found on the document's page "
                                                                       "(null: not looked for)")


class ErrorItem(_Model):
    stage: str
    page: int | None = None
    message: str


class Check(_Model):
    name: str
    status: CheckStatus
    document: str | None = None
    expected: str | None = None
    found: str | None = None
    score: float | None = None
    message: str | None = None


class MediaFinding(_Model):
    """What SPEC §6 screening saw on a product picture or a video frame, and where (for the console)."""

    message: str = Field(description="What was seen, e.g. 'phone 13857123456 at 12.5 s'")
    time_s: float | None = Field(default=None, description="Video: seconds from the start of the frame it is on")
    page: int = Field(default=1, description="Picture: 1-based page (a TIFF's frame)")
    box: list[list[int]] | None = Field(default=None, description="Quadrilateral in the picture's or frame's "
                                                                   "pixels; null: the whole picture")


class MediaResult(_Model):
    """One product picture or video as screened (SPEC §6)."""

    file: str
    kind: Literal["image", "video"]
    width: int | None = Field(default=None, description="Pixels of the picture / the video's frames")
    height: int | None = None
    duration_s: float | None = Field(default=None, description="Video: length in seconds")
    frames_screened: int | None = Field(default=None, description="Video: distinct frames OCR'd and scanned "
                                                                   "for codes")
    findings: list[MediaFinding] = Field(default_factory=list)
    error: str | None = Field(default=None, description="Why it could not be screened")


class Verdict(_Model):
    submission_id: str
    decision: Decision
    checked_on: dt.date
    reasons: list[Reason] = Field(default_factory=list)
    documents: list[DocumentResult] = Field(default_factory=list)
    checks: list[Check] = Field(default_factory=list)
    media: list[MediaResult] = Field(default_factory=list, description="Product pictures and videos as "
                                                                       "screened (SPEC §6), with where each "
                                                                       "finding is")

    @field_validator("reasons")
    @classmethod
    def _reasons_sorted_unique(cls, reasons: list[Reason]) -> list[Reason]:
        seen: set[tuple[str, str | None, str]] = set()
        unique = []
        for r in reasons:
            key = (r.code, r.document, r.message)
            if key not in seen:
                seen.add(key)
                unique.append(r)
        return unique


DocumentResult.model_rebuild()
