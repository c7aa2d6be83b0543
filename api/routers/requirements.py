"""GET /v1/requirements: what a category needs, from rules/categories.yaml — the data the checks use —
with Chinese names, what each upload must show (rules/upload_requirements.yaml) and the accepted files."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request
from pydantic import BaseModel, ConfigDict, Field

from api.auth import caller
from api.errors import ApiError, responses
from pipeline.merchant import doc_name
from pipeline.settings import get_settings
from rules import Rules

router = APIRouter(prefix="/v1", tags=["requirements"])

ACCEPTED_TYPES = ["jpg", "jpeg", "png", "webp", "tiff", "tif", "bmp", "pdf"]
MEDIA_TYPES = ["image/jpeg", "image/png", "image/webp", "image/tiff", "image/bmp", "application/pdf"]
VIDEO_TYPES = ["mp4", "mov", "webm"]
VIDEO_MEDIA_TYPES = ["video/mp4", "video/quicktime", "video/webm"]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DocumentType(_Model):
    doc_type: str
    name_zh: str


class RequiredDocument(_Model):
    doc_type: str = Field(description="The document asked for (the first of its alternatives)")
    name_zh: str
    alternatives: list[DocumentType] = Field(description="Other types any one of which does instead")
    because: str = Field(description="every_submission / category / branded")
    must_show: list[str] = Field(description="What the upload must show (Chinese, for the merchant)")


class AcceptedFiles(_Model):
    extensions: list[str]
    media_types: list[str]
    max_file_bytes: int
    max_request_bytes: int
    max_documents: int
    max_product_images: int
    video_extensions: list[str] = Field(description="Product videos (product.videos): MP4, MOV or WEBM")
    video_media_types: list[str]
    max_product_videos: int
    video_max_seconds: float = Field(description="A longer product video is not screened (sent to review)")
    pdf_max_pages: int = Field(description="Pages beyond this are not read: upload the licence's own pages")


class CategoryRequirements(_Model):
    category: str
    name_zh: str
    branded: bool
    open_for_online_sale: bool
    closed_reason: str | None
    documents: list[RequiredDocument]
    accepted_files: AcceptedFiles


class Requirements(_Model):
    categories: list[CategoryRequirements]


def _type(doc_type: str) -> DocumentType:
    return DocumentType(doc_type=doc_type, name_zh=doc_name(doc_type) or doc_type)


def _must_show(rules: Rules, group: list[str]) -> list[str]:
    guide = rules.upload_requirements
    lines = list(guide.every_upload)
    if any(t in rules.categories.entity_documents for t in group):
        lines += guide.entity_documents
    if any(t in rules.categories.product_documents for t in group):
        lines += guide.product_documents
    for t in group:
        lines += [line for line in guide.by_type.get(t, []) if line not in lines]
    return lines


def category_requirements(rules: Rules, code: str, branded: bool, accepted: AcceptedFiles) -> CategoryRequirements:
    table = rules.categories
    category = table.categories[code]
    groups = [(g, "every_submission") for g in table.always_requires] + [(g, "category") for g in category.requires]
    if branded:
        groups += [(g, "branded") for g in table.branded_requires]
    documents = [RequiredDocument(doc_type=group[0], name_zh=_type(group[0]).name_zh,
                                  alternatives=[_type(t) for t in group[1:]], because=why,
                                  must_show=_must_show(rules, group)) for group, why in groups]
    if branded:  # a letter is needed only when the registrant is not the shop: said, not required
        documents.append(RequiredDocument(doc_type="brand_authorization", name_zh=_type("brand_authorization").name_zh,
                                          alternatives=[], because="branded_if_registrant_is_not_the_shop",
                                          must_show=_must_show(rules, ["brand_authorization"])))
    return CategoryRequirements(category=code, name_zh=category.name_zh, branded=branded,
                                open_for_online_sale=category.open_for_online_sale,
                                closed_reason=category.closed_reason, documents=documents, accepted_files=accepted)


@router.get("/requirements", response_model=Requirements, responses=responses(401, 422),
            summary="The documents a category needs, what each must show, and the files accepted")
def requirements(request: Request, _caller: Annotated[str, Depends(caller)],
                 category: Annotated[str | None, Query(max_length=64, description="A category code (SPEC §4); "
                                                                                  "absent: every category")] = None,
                 branded: Annotated[bool, Query(description="The product has a brand")] = False) -> Requirements:
    service = request.app.state.service
    rules = service.rules
    limits = service.limits
    accepted = AcceptedFiles(extensions=ACCEPTED_TYPES, media_types=MEDIA_TYPES, max_file_bytes=limits.max_file_bytes,
                             max_request_bytes=limits.max_request_bytes,
                             max_documents=rules.thresholds.max_documents,
                             max_product_images=rules.thresholds.max_product_images,
                             video_extensions=VIDEO_TYPES, video_media_types=VIDEO_MEDIA_TYPES,
                             max_product_videos=rules.thresholds.max_product_videos,
                             video_max_seconds=rules.thresholds.video.max_seconds,
                             pdf_max_pages=get_settings().ingest.pdf_max_pages)
    known = rules.categories.categories
    if category is not None and category not in known:
        raise ApiError(422, f"unknown category {category!r} (known: {', '.join(sorted(known))})")
    codes = [category] if category is not None else list(known)
    return Requirements(categories=[category_requirements(rules, c, branded, accepted) for c in codes])
