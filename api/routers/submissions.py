"""Submissions: submit (POST /v1/submissions), resubmit (POST …/{id}/versions), status (GET …/{id}).

An upload is streamed to a private staging folder (api/uploads.py), checked as `zizhi verify` checks
a submission, fingerprinted with the backlog's content hash, and only then stored: each file once in
object storage by its sha256, the version and its `pending` event in the verdict store. A refused
upload (401, 404, 409, 413, 415, 422) stores nothing: every check comes before the first write.
"""

from __future__ import annotations

import hashlib
import shutil
import tempfile
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Depends, Header, Request
from fastapi import Path as PathParam
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from api.auth import caller
from api.errors import ApiError, responses
from api.uploads import SUBMISSION_PART, Upload, assemble, receive
from operations.backlog import SUBMISSION_FILE, content_hash_of
from operations.intake import STATUSES, Conflict, NotFound, StoredObject, Version, request_hash
from pipeline.display import is_plain_text, visible
from pipeline.models import Submission

router = APIRouter(prefix="/v1/submissions", tags=["submissions"])

MAX_KEY = 255
SubmissionId = Annotated[str, PathParam(min_length=1, max_length=200, description="The submission's id (SPEC §1)")]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Accepted(_Model):
    id: str
    version: int
    status: str = Field(description="pending")
    content_hash: str = Field(description="sha256 over the submission JSON and every file it names")


class MerchantReason(_Model):
    code: str = Field(description="SPEC §5 reason code")
    document: str | None = Field(description="The file it is about, as the submission names it")
    merchant_message: str = Field(description="The sentence for the merchant (Chinese)")


class Review(_Model):
    decision: str = Field(description="approve / reject: the reviewer's decision, which stands")
    reasons: list[MerchantReason]
    decided_at: str


class HistoryEntry(_Model):
    version: int
    content_hash: str
    status: str
    submitted_at: str
    decided_at: str | None


class SubmissionStatus(_Model):
    id: str
    version: int = Field(description="The latest version")
    status: str = Field(description=" / ".join(STATUSES))
    failure_reason: str | None = Field(description="Why it could not be processed (status failed)")
    verdict: dict | None = Field(description="The SPEC §2 verdict of the latest version (null while pending)")
    review: Review | None = Field(description="The reviewer's decision (null until a reviewer decides)")
    history: list[HistoryEntry]


MULTIPART_BODY = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": [SUBMISSION_PART],
    "properties": {SUBMISSION_PART: {"type": "string", "description": "The submission JSON (SPEC §1), UTF-8, at "
                                                                      "most 1 MB"}},
    "additionalProperties": {"type": "string", "format": "binary",
                             "description": "One part per document, product image and video, named exactly as "
                                            "the JSON writes it (e.g. docs/business_licence.jpg)"}}}}}}

IdempotencyKey = Annotated[str | None, Header(alias="Idempotency-Key", description="Same key, same content: the "
                                                                                  "same answer; other content: 409")]


def _iso(value) -> str | None:
    return value.isoformat() + "Z" if value is not None else None


def _check_key(key: str | None) -> str | None:
    if key is None:
        return None
    if not key or len(key) > MAX_KEY or not key.isascii() or not key.isprintable():
        raise ApiError(422, f"Idempotency-Key must be 1 to {MAX_KEY} printable ASCII characters", "invalid_request")
    return key


def _store_upload(service, caller_id: str, submission: Submission, upload: Upload, tree: Path, *,
                  path_id: str | None, key: str | None) -> dict:
    """Everything after the upload is on disk and checked: idempotency, the id, then the writes.

    The content hash is the backlog's, made from the digests computed while the files streamed in
    (no file is read again, let alone into memory)."""
    new = path_id is None
    digests = {name: part.sha256 for name, part in upload.files.items()}
    content_hash = content_hash_of(upload.submission_json, digests)
    sid = submission.id
    kind = "submission" if new else "version"
    if key is not None:
        found = service.intake.idempotent_answer(caller_id, key)
        if found is not None:
            if found[0] == request_hash(kind, sid, content_hash):
                return found[1]  # the same request again: the same answer, nothing stored twice
            raise ApiError(409, "this Idempotency-Key was used for another request (other content or id)")
    try:
        service.intake.check_can_add(caller_id, sid, new=new)
    except Conflict as e:
        raise ApiError(409, str(e)) from None
    except NotFound:
        raise ApiError(404, f"no submission {sid!r}") from None
    documents = {ref.file for ref in submission.documents}
    images = set(submission.product.images)
    files = [StoredObject(SUBMISSION_FILE, "submission", hashlib.sha256(upload.submission_json).hexdigest(),
                          len(upload.submission_json))]
    for name, part in upload.files.items():
        role = "document" if name in documents else "product_image" if name in images else "product_video"
        files.append(StoredObject(name, role, part.sha256, part.size))
    stored: set[str] = set()
    try:
        for obj in files:
            if obj.sha256 not in stored:
                service.objects.put_file(tree / (SUBMISSION_FILE if obj.role == "submission" else obj.name),
                                         obj.sha256)
                stored.add(obj.sha256)
    except Exception as e:  # noqa: BLE001 - the storage refused or is down: say so, keep nothing of the version
        # (objects already written are content-addressed: the retry finds them and writes nothing twice)
        raise ApiError(503, f"object storage did not take the upload ({type(e).__name__}): nothing was "
                            f"submitted; retry later", "unavailable") from None
    try:
        return service.intake.add_version(caller_id, sid, new=new, content_hash=content_hash, files=files,
                                          idempotency_key=key)
    except Conflict as e:
        raise ApiError(409, str(e)) from None
    except NotFound:
        raise ApiError(404, f"no submission {sid!r}") from None


async def _accept(request: Request, caller_id: str, key: str | None, path_id: str | None) -> Accepted:
    service = request.app.state.service
    key = _check_key(key)
    if path_id is not None and await run_in_threadpool(service.intake.owner, path_id) != caller_id:
        raise ApiError(404, f"no submission {path_id!r}")  # before reading a byte of the body
    staging = Path(tempfile.mkdtemp(prefix="zizhi-upload-", dir=service.settings.staging_dir))
    try:
        upload = await receive(request.headers.get("content-type", ""), request.headers.get("content-length"),
                               request.stream(), staging, service.limits)
        submission, tree = await run_in_threadpool(assemble, upload, staging, service.rules, expected_id=path_id)
        answer = await run_in_threadpool(_store_upload, service, caller_id, submission, upload, tree,
                                         path_id=path_id, key=key)
    finally:
        await run_in_threadpool(shutil.rmtree, staging, True)
    if service.on_accept is not None:
        service.on_accept()
    return Accepted(**answer)


@router.post("", status_code=202, response_model=Accepted, openapi_extra=MULTIPART_BODY,
             responses=responses(401, 408, 409, 413, 415, 422), summary="Submit a listing's documents")
async def submit(request: Request, caller_id: Annotated[str, Depends(caller)],
                 idempotency_key: IdempotencyKey = None) -> Accepted:
    """A part named `submission` (the §1 JSON) and one part per document, product image and video, whose
    form-field name is the file's path exactly as the JSON writes it."""
    return await _accept(request, caller_id, idempotency_key, None)


@router.post("/{submission_id}/versions", status_code=202, response_model=Accepted, openapi_extra=MULTIPART_BODY,
             responses=responses(401, 404, 409, 413, 415, 422), summary="Resubmit (a new version)")
async def resubmit(request: Request, submission_id: SubmissionId, caller_id: Annotated[str, Depends(caller)],
                   idempotency_key: IdempotencyKey = None) -> Accepted:
    """The merchant's resubmission after a rejection: the same body as a submission (its JSON's id must
    be the path's); a new version of the same id. The exact content of the latest version again is 409."""
    return await _accept(request, caller_id, idempotency_key, submission_id)


@router.get("/{submission_id}", response_model=SubmissionStatus, responses=responses(401, 404),
            summary="Status, verdict, reviewer's decision and history")
def submission_status(request: Request, submission_id: SubmissionId,
                      caller_id: Annotated[str, Depends(caller)]) -> SubmissionStatus:
    service = request.app.state.service
    if not is_plain_text(submission_id) or service.intake.owner(submission_id) != caller_id:
        raise ApiError(404, f"no submission {visible(submission_id)!r}")
    versions: list[Version] = service.intake.versions(submission_id)
    if not versions:
        raise ApiError(404, f"no submission {visible(submission_id)!r}")
    statuses = [service.intake.status(v) for v in versions]
    latest, now = versions[-1], statuses[-1]
    history = [HistoryEntry(version=v.version, content_hash=v.content_hash, status=s.status,
                            submitted_at=_iso(v.created_at), decided_at=_iso(s.decided_at) if s.status != "pending"
                            else None) for v, s in zip(versions, statuses, strict=True)]
    return SubmissionStatus(id=submission_id, version=latest.version, status=now.status,
                            failure_reason=now.error if now.status == "failed" else None,
                            verdict=now.verdict, review=Review(**now.review) if now.review else None, history=history)
