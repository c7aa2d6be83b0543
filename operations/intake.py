"""The intake API's records, in the verdict store beside the backlog's (same database, same `metadata`).

- `intake_submissions`: each submission id taken by the API, and whose it is (the caller: a digest of
  the bearer token, never the token). Another caller's id is unknown to a caller (404).
- `intake_versions`: every version of a submission: its content hash (the backlog's key, SPEC §7
  `content_hash`), the objects its files are stored as (sha256, in object storage), when it came,
  and the last status notified. A version's status is never stored: it is read from the verdict
  store (the verdict of its content, a reviewer's decision on it, a failed claim), so the API, the
  console and the backlog can never disagree.
- `intake_idempotency`: (caller, Idempotency-Key) → the request it answered and its answer.
- `outbox`: status-change events to deliver to the operator's callback (Standard Webhooks), each
  once made durable and retried until a 2xx or a 410 (operations/notify.py).

Status changes become events in two ways, both durable: an accepted version gets its `pending`
event in the transaction that stores it; every later change (a verdict recorded by any worker of
the cluster, a reviewer's decision in the console, a failure) is found by `sync_notifications`,
which compares each open version's status with the last one notified and writes the event and the
new notified status in one transaction. A change that happens while nothing runs the sync (no
`zizhi serve` up) is found when one starts again; two changes between two syncs (a second, by
default) are notified as the last one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import secrets
import shutil
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict
from sqlalchemy import (
    Column,
    DateTime,
    Integer,
    String,
    Table,
    Text,
    and_,
    func,
    inspect,
    or_,
    select,
    update,
)
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy.exc import IntegrityError

from operations.backlog import SUBMISSION_FILE, backlog_settings, fingerprint
from operations.objects import ObjectStore, default_objects_url, open_objects
from operations.store import DONE, FAILED, Item, Store, claims, metadata, utcnow, verdicts
from pipeline.merchant import reviewer_reasons
from pipeline.models import Reason, Verdict

PENDING, IN_REVIEW, APPROVED, REJECTED, FAILED_STATUS = "pending", "in_review", "approved", "rejected", "failed"
STATUSES = (PENDING, IN_REVIEW, APPROVED, REJECTED, FAILED_STATUS)
BY_DECISION = {"approve": APPROVED, "reject": REJECTED, "review": IN_REVIEW}
EVENT_TYPE = "submission.status_changed"

intake_submissions = Table(
    "intake_submissions", metadata,
    Column("submission_id", String(200), primary_key=True),
    Column("caller", String(64), nullable=False, index=True),
    Column("created_at", DateTime, nullable=False),
)

intake_versions = Table(
    "intake_versions", metadata,
    Column("submission_id", String(200), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("content_hash", String(64), nullable=False, index=True),
    Column("files_json", Text, nullable=False),  # [{"name", "role", "sha256", "size"}], submission.json first
    Column("created_at", DateTime, nullable=False),
    Column("notified_status", String(16)),
    Column("notified_at", DateTime),
)

intake_idempotency = Table(
    "intake_idempotency", metadata,
    Column("caller", String(64), primary_key=True),
    Column("key", String(255), primary_key=True),
    Column("request_hash", String(64), nullable=False),
    Column("response_json", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

outbox = Table(
    "outbox", metadata,
    Column("event_id", String(64), primary_key=True),
    Column("submission_id", String(200), nullable=False, index=True),
    Column("version", Integer, nullable=False),
    Column("status", String(16), nullable=False),
    Column("body", Text, nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("state", String(16), nullable=False, index=True),  # pending / delivered / gone (the receiver said 410)
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", DateTime, nullable=False),
    Column("delivered_at", DateTime),
    Column("last_error", Text),
)

# The console's audit trail of reviewers' decisions (console/db.py owns and creates it); read here by
# name only, so the API does not depend on the console. Absent until the console has run on the store.
_reviews = sql_table("reviews", sql_column("id", Integer), sql_column("verdict_id", Integer),
                     sql_column("decision", String), sql_column("reason_codes", Text),
                     sql_column("decided_at", DateTime))


class IntakeSettings(BaseSettings):
    """Where uploads are kept and where status changes are sent (`ZIZHI_*`, SPEC §7)."""

    model_config = SettingsConfigDict(env_prefix="ZIZHI_", extra="ignore")

    objects: str | None = Field(None, description="Object storage: a folder, or s3://bucket/prefix (default: "
                                                  "objects/ beside the verdict store)")
    s3_endpoint: str | None = Field(None, description="S3 endpoint URL for s3:// objects (unset: AWS)")
    callback_url: str | None = Field(None, description="Where status changes are POSTed (Standard Webhooks)")
    callback_secret: str | None = Field(None, description="whsec_<base64> signing secret; several, space-separated, "
                                                          "while one is rotated")
    callback_retry_seconds: list[float] = Field(
        [5, 300, 1800, 7200, 18000, 36000], min_length=1,
        description="Wait before each retry of a failed delivery (the last repeats until it is delivered)")
    callback_timeout_seconds: float = Field(15, gt=0, le=120, description="A receiver that does not answer "
                                                                           "this fast is retried")
    worker_poll_seconds: float = Field(2, gt=0, le=600, description="How often the embedded worker and the "
                                                                     "notifier look for work")
    worker_batch_size: int = Field(2, ge=1, le=1000, description="Submissions per flow run of the embedded worker: "
                                                                 "a stop waits for the run in progress")

    def objects_url(self, store_url: str) -> str:
        return self.objects or default_objects_url(store_url)

    def open_objects(self, store_url: str) -> ObjectStore:
        return open_objects(self.objects_url(store_url), endpoint=self.s3_endpoint)


class NotFound(Exception):
    """No such submission for this caller."""


class Conflict(Exception):
    """The request conflicts with what is stored (an id already taken, a key used for other content)."""


@dataclass
class StoredObject:
    name: str   # as written in the submission (submission.json for the submission itself)
    role: str   # submission / document / product_image / product_video
    sha256: str
    size: int


@dataclass
class Version:
    submission_id: str
    version: int
    content_hash: str
    files: list[StoredObject]
    created_at: dt.datetime
    notified_status: str | None = None
    notified_at: dt.datetime | None = None

    @property
    def key(self) -> tuple[str, str]:
        return self.submission_id, self.content_hash


@dataclass
class Status:
    """A version's status as the API shows it, with what it rests on."""

    status: str
    verdict: dict | None = None
    review: dict | None = None
    error: str | None = None
    decided_at: dt.datetime | None = None
    reasons: list[Reason] = field(default_factory=list)  # what the merchant is told (rejected / in_review)


def caller_of(token: str) -> str:
    """Who a bearer token is, as stored: a digest, so a copy of the database names no token."""
    return hashlib.sha256(b"zizhi-api-caller\0" + token.encode()).hexdigest()[:32]


def request_hash(kind: str, submission_id: str, content_hash: str) -> str:
    return hashlib.sha256(f"{kind}\0{submission_id}\0{content_hash}".encode()).hexdigest()


def new_event_id() -> str:
    return "evt_" + secrets.token_hex(12)


def _version(m) -> Version:
    return Version(m["submission_id"], m["version"], m["content_hash"],
                   [StoredObject(**f) for f in json.loads(m["files_json"])], m["created_at"],
                   m["notified_status"], m["notified_at"])


class IntakeStore:
    """The intake records over one verdict store (tables created with it)."""

    def __init__(self, store: Store):
        self.store = store
        self.engine = store.engine
        metadata.create_all(self.engine, tables=[intake_submissions, intake_versions, intake_idempotency, outbox])
        self._has_reviews = False

    # -- submissions and versions --

    def owner(self, submission_id: str) -> str | None:
        with self.engine.connect() as conn:
            return conn.execute(select(intake_submissions.c.caller)
                                .where(intake_submissions.c.submission_id == submission_id)).scalar_one_or_none()

    def versions(self, submission_id: str) -> list[Version]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(intake_versions).where(intake_versions.c.submission_id == submission_id)
                                .order_by(intake_versions.c.version))
            return [_version(r._mapping) for r in rows]

    def idempotent_answer(self, caller: str, key: str) -> tuple[str, dict] | None:
        """(request hash, answer) stored for this caller's key, if any."""
        with self.engine.connect() as conn:
            row = conn.execute(select(intake_idempotency).where(intake_idempotency.c.caller == caller,
                                                               intake_idempotency.c.key == key)).first()
        return (row.request_hash, json.loads(row.response_json)) if row else None

    def check_can_add(self, caller: str, submission_id: str, *, new: bool) -> None:
        """Raise Conflict (a new id already taken) or NotFound (a version of an id this caller does not
        have) before anything is stored."""
        owner = self.owner(submission_id)
        if new and owner is not None:
            raise Conflict(f"submission {submission_id} exists already: POST /v1/submissions/{{id}}/versions "
                           f"to resubmit")
        if not new and owner != caller:
            raise NotFound(submission_id)

    def add_version(self, caller: str, submission_id: str, *, new: bool, content_hash: str,
                    files: list[StoredObject], idempotency_key: str | None = None) -> dict:
        """Store a version (a new submission when `new`) and its `pending` event, with the caller's
        idempotency key, in one transaction; returns the answer (SPEC §7 202 body).

        Raises Conflict / NotFound as `check_can_add`; Conflict for a key used meanwhile for other
        content, or a resubmission of exactly the latest version's content."""
        now = utcnow()
        kind = "submission" if new else "version"
        try:
            with self.engine.begin() as conn:
                if new:
                    conn.execute(intake_submissions.insert().values(submission_id=submission_id, caller=caller,
                                                                    created_at=now))
                    number = 1
                else:
                    owner = conn.execute(select(intake_submissions.c.caller).where(
                        intake_submissions.c.submission_id == submission_id)).scalar_one_or_none()
                    if owner != caller:
                        raise NotFound(submission_id)
                    latest = conn.execute(select(intake_versions.c.version, intake_versions.c.content_hash)
                                          .where(intake_versions.c.submission_id == submission_id)
                                          .order_by(intake_versions.c.version.desc()).limit(1)).first()
                    if latest is not None and latest.content_hash == content_hash:
                        raise Conflict(f"version {latest.version} of {submission_id} has exactly this content: "
                                       f"change the documents or the submission to resubmit")
                    number = (latest.version if latest else 0) + 1
                conn.execute(intake_versions.insert().values(
                    submission_id=submission_id, version=number, content_hash=content_hash,
                    files_json=json.dumps([f.__dict__ for f in files], ensure_ascii=False), created_at=now,
                    notified_status=PENDING, notified_at=now))
                answer = {"id": submission_id, "version": number, "status": PENDING, "content_hash": content_hash}
                if idempotency_key is not None:
                    conn.execute(intake_idempotency.insert().values(
                        caller=caller, key=idempotency_key,
                        request_hash=request_hash(kind, submission_id, content_hash),
                        response_json=json.dumps(answer, ensure_ascii=False), created_at=now))
                self._enqueue(conn, submission_id, number, PENDING, [], now)
                return answer
        except IntegrityError:
            # Raced: the id was taken, the version number used, or the key stored by a parallel request.
            if idempotency_key is not None:
                found = self.idempotent_answer(caller, idempotency_key)
                if found is not None:
                    if found[0] == request_hash(kind, submission_id, content_hash):
                        return found[1]
                    raise Conflict("this Idempotency-Key was used for another request") from None
            if new:
                raise Conflict(f"submission {submission_id} exists already") from None
            raise Conflict(f"another version of {submission_id} was stored at the same time: retry") from None

    # -- status --

    def reviews_available(self) -> bool:
        if not self._has_reviews:
            self._has_reviews = inspect(self.engine).has_table("reviews")
        return self._has_reviews

    def status(self, version: Version) -> Status:
        sid, content_hash = version.key
        with self.engine.connect() as conn:
            row = conn.execute(select(verdicts.c.id, verdicts.c.decision, verdicts.c.verdict_json,
                                      verdicts.c.created_at)
                               .where(verdicts.c.submission_id == sid, verdicts.c.content_hash == content_hash)).first()
            if row is None:
                claim = conn.execute(select(claims).where(claims.c.submission_id == sid,
                                                          claims.c.content_hash == content_hash)).first()
                if claim is not None and claim.state == FAILED and (
                        claim.permanent or claim.attempts >= backlog_settings().backlog_max_attempts):
                    return Status(FAILED_STATUS, error=claim.error, decided_at=claim.finished_at)
                return Status(PENDING)
            verdict = Verdict.model_validate_json(row.verdict_json)
            review = None
            if self.reviews_available():
                review = conn.execute(select(_reviews).where(_reviews.c.verdict_id == row.id)
                                      .order_by(_reviews.c.id.desc()).limit(1)).first()
        shown = verdict.model_dump(mode="json")
        if review is None:
            status = BY_DECISION[row.decision]
            return Status(status, verdict=shown, decided_at=row.created_at,
                          reasons=verdict.reasons if status != APPROVED else [])
        codes = json.loads(review.reason_codes or "[]")
        reasons = reviewer_reasons(codes, verdict.reasons) if review.decision == "reject" else []
        decided = review.decided_at
        return Status(BY_DECISION.get(review.decision, IN_REVIEW), verdict=shown, decided_at=decided,
                      review={"decision": review.decision, "reasons": [_merchant_view(r) for r in reasons],
                              "decided_at": decided.isoformat() + "Z"},
                      reasons=reasons)

    # -- work for the worker --

    def pending_work(self, *, owner: str, limit: int = 50) -> list[Version]:
        """Versions whose content has no verdict yet and may be claimed now (oldest first; one per
        content: two versions with the same content share one verdict)."""
        s = backlog_settings()
        q = (select(intake_versions).select_from(intake_versions.outerjoin(verdicts, and_(
            verdicts.c.submission_id == intake_versions.c.submission_id,
            verdicts.c.content_hash == intake_versions.c.content_hash)))
            .where(verdicts.c.id.is_(None)).order_by(intake_versions.c.created_at, intake_versions.c.version))
        with self.engine.connect() as conn:
            found = [_version(r._mapping) for r in conn.execute(q)]
        unique = list({v.key: v for v in reversed(found)}.values())[::-1]
        open_keys = {(i.submission_id, i.content_hash) for i in self.store.pending(
            [Item(v.submission_id, v.content_hash) for v in unique], owner=owner,
            lease_seconds=s.backlog_lease_seconds, max_attempts=s.backlog_max_attempts)}
        return [v for v in unique if v.key in open_keys][:limit]

    # -- notifications --

    def sync_notifications(self, limit: int = 1000) -> int:
        """Write an event for every version whose status changed since it was last notified; returns how
        many. Looks only where a change can be: a pending version that now has a verdict or a failed
        claim, and a version a reviewer decided on since it was last notified (oldest first)."""
        joined = (intake_versions
                  .outerjoin(verdicts, and_(verdicts.c.submission_id == intake_versions.c.submission_id,
                                            verdicts.c.content_hash == intake_versions.c.content_hash))
                  .outerjoin(claims, and_(claims.c.submission_id == intake_versions.c.submission_id,
                                          claims.c.content_hash == intake_versions.c.content_hash)))
        cond = or_(intake_versions.c.notified_status.is_(None),
                   and_(intake_versions.c.notified_status == PENDING,
                        or_(verdicts.c.id.is_not(None), claims.c.state == FAILED)))
        if self.reviews_available():
            reviewed = (select(_reviews.c.verdict_id, func.max(_reviews.c.decided_at).label("last"))
                        .group_by(_reviews.c.verdict_id)).subquery()
            joined = joined.outerjoin(reviewed, reviewed.c.verdict_id == verdicts.c.id)
            cond = or_(cond, reviewed.c.last > intake_versions.c.notified_at)
        q = (select(intake_versions).select_from(joined).where(cond)
             .order_by(intake_versions.c.created_at, intake_versions.c.version).limit(limit))
        with self.engine.connect() as conn:
            candidates = [_version(r._mapping) for r in conn.execute(q)]
        made = 0
        for version in candidates:
            status = self.status(version)
            if status.status == version.notified_status:
                if status.decided_at and version.notified_at and status.decided_at > version.notified_at:
                    self._mark_seen(version)  # a reviewer confirmed the same status: nothing to tell
                continue
            now = utcnow()
            with self.engine.begin() as conn:
                seen = intake_versions.c.notified_status == version.notified_status \
                    if version.notified_status is not None else intake_versions.c.notified_status.is_(None)
                changed = conn.execute(update(intake_versions).where(
                    intake_versions.c.submission_id == version.submission_id,
                    intake_versions.c.version == version.version, seen)
                    .values(notified_status=status.status, notified_at=now)).rowcount
                if changed:  # compare-and-swap: two notifiers never write the same change twice
                    self._enqueue(conn, version.submission_id, version.version, status.status,
                                  status.reasons if status.status != APPROVED else [], now)
                    made += 1
        return made

    def _mark_seen(self, version: Version) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(intake_versions).where(
                intake_versions.c.submission_id == version.submission_id,
                intake_versions.c.version == version.version).values(notified_at=utcnow()))

    def _enqueue(self, conn, submission_id: str, version: int, status: str, reasons: list[Reason],
                 now: dt.datetime) -> str:
        event_id = new_event_id()
        body = {"event_id": event_id, "type": EVENT_TYPE, "id": submission_id, "version": version, "status": status,
                "reasons": [_merchant_view(r) for r in reasons]}
        conn.execute(outbox.insert().values(
            event_id=event_id, submission_id=submission_id, version=version, status=status,
            body=json.dumps(body, ensure_ascii=False, separators=(",", ":")), created_at=now, state="pending",
            attempts=0, next_attempt_at=now))
        return event_id

    def due_events(self, now: dt.datetime | None = None, limit: int = 50) -> list[dict]:
        """Events to send now: per submission only its oldest undelivered one (a receiver sees each
        submission's changes in order), and only when its next attempt is due."""
        now = now or utcnow()
        oldest = (select(outbox.c.submission_id, func.min(outbox.c.created_at).label("first"))
                  .where(outbox.c.state == "pending").group_by(outbox.c.submission_id)).subquery()
        q = (select(outbox).join(oldest, and_(oldest.c.submission_id == outbox.c.submission_id,
                                              oldest.c.first == outbox.c.created_at))
             .where(outbox.c.state == "pending", outbox.c.next_attempt_at <= now)
             .order_by(outbox.c.created_at, outbox.c.event_id).limit(limit))
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]

    def delivered(self, event_id: str, *, gone: bool = False) -> None:
        with self.engine.begin() as conn:
            conn.execute(update(outbox).where(outbox.c.event_id == event_id).values(
                state="gone" if gone else "delivered", delivered_at=utcnow(), attempts=outbox.c.attempts + 1))

    def failed_attempt(self, event_id: str, error: str, retry_in: list[float]) -> None:
        with self.engine.begin() as conn:
            attempts = conn.execute(select(outbox.c.attempts).where(outbox.c.event_id == event_id)).scalar_one()
            wait = retry_in[min(attempts, len(retry_in) - 1)]
            conn.execute(update(outbox).where(outbox.c.event_id == event_id).values(
                attempts=attempts + 1, last_error=error[:2000],
                next_attempt_at=utcnow() + dt.timedelta(seconds=wait)))

    def events(self, *, undelivered_only: bool = True) -> list[dict]:
        q = select(outbox).order_by(outbox.c.created_at, outbox.c.event_id)
        if undelivered_only:
            q = q.where(outbox.c.state == "pending")
        with self.engine.connect() as conn:
            return [dict(r._mapping) for r in conn.execute(q)]


def _merchant_view(reason: Reason) -> dict:
    """A reason as the listing service shows it to the merchant."""
    return {"code": reason.code, "document": reason.document, "merchant_message": reason.merchant_message}


# --- from object storage to a folder the backlog reads ---------------------------------------

def materialise(objects: ObjectStore, version: Version, folder: Path) -> Path:
    """Write a version's files into `folder` under their names as written (checked safe when the
    upload was accepted), fetched by digest from object storage; returns the folder.

    Raises ValueError when what comes back is not the content the version was accepted with."""
    folder.mkdir(parents=True, exist_ok=False)
    root = folder.resolve()
    for obj in version.files:
        target = (folder / (SUBMISSION_FILE if obj.role == "submission" else obj.name))
        if not target.resolve().is_relative_to(root):
            raise ValueError(f"stored name {obj.name!r} leads out of its folder")
        target.parent.mkdir(parents=True, exist_ok=True)
        objects.fetch_to(obj.sha256, target)
    found = fingerprint(folder).content_hash
    if found != version.content_hash:
        shutil.rmtree(folder, ignore_errors=True)
        raise ValueError(f"object storage returned other content for {version.submission_id} v{version.version} "
                         f"({found[:12]}…, accepted as {version.content_hash[:12]}…)")
    return folder


__all__ = ["APPROVED", "DONE", "FAILED_STATUS", "IN_REVIEW", "PENDING", "REJECTED", "STATUSES", "Conflict",
           "IntakeSettings", "IntakeStore", "NotFound", "Status", "StoredObject", "Version", "caller_of",
           "materialise", "open_objects"]
