"""The console's tables, beside the verdict store's own (same database, same `metadata`):

- `reviewers`: accounts (`zizhi reviewers add NAME`), passwords hashed (`console.accounts`).
- `sessions`: one row per login; the cookie carries a random token, the table only its sha256,
  so a copy of the database does not let anyone in. Each session has its own CSRF token.
- `reviews`: the audit trail of reviewers' decisions. Append-only: a reviewer who changes their
  mind adds a row; the database refuses UPDATE and DELETE on it (triggers, SQLite and PostgreSQL),
  and the pre-screen verdict in `verdicts` is never touched.
- `review_times`: beside each decision, when the reviewer opened the verdict (their lease) and
  whether it was an audit-sample item: what `/stats` computes seconds per decision from.
- `review_leases`: who holds a pending verdict (opened it) and until when; others skip it.
- `login_failures`: failed logins per name, so a lockout survives a restart
  (`zizhi reviewers unlock NAME` lifts it).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import re
import secrets
import statistics
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator
from sqlalchemy import (
    DDL,
    Boolean,
    Column,
    DateTime,
    Float,
    Integer,
    String,
    Table,
    Text,
    and_,
    case,
    delete,
    event,
    false,
    func,
    not_,
    or_,
    select,
    true,
    tuple_,
    update,
)
from sqlalchemy.exc import IntegrityError

from console.accounts import DUMMY_HASH, check_new_password, hash_password, needs_rehash, verify_password
from operations.store import Store, metadata, utcnow, verdict_facts, verdicts
from pipeline.models import REASON_CODES

reviewers = Table(
    "reviewers", metadata,
    Column("name", String(64), primary_key=True),
    Column("password_hash", String(300), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("disabled_at", DateTime),
)

sessions = Table(
    "sessions", metadata,
    Column("token_sha256", String(64), primary_key=True),
    Column("reviewer", String(64), nullable=False, index=True),
    Column("csrf_token", String(64), nullable=False),
    Column("created_at", DateTime, nullable=False),
    Column("seen_at", DateTime, nullable=False),
)

reviews = Table(
    "reviews", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("verdict_id", Integer, nullable=False, index=True),
    Column("submission_id", String(200), nullable=False),
    Column("content_hash", String(64), nullable=False),
    Column("prescreen_decision", String(16), nullable=False),
    Column("reviewer", String(64), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("reason_codes", Text, nullable=False, default="[]"),
    Column("comment", Text, nullable=False, default=""),
    Column("decided_at", DateTime, nullable=False, index=True),
)

review_times = Table(
    "review_times", metadata,
    Column("review_id", Integer, primary_key=True),
    Column("opened_at", DateTime),       # the reviewer's lease began (None: decided without one)
    Column("seconds", Float),            # decided_at - opened_at
    Column("audit", Boolean, nullable=False, default=False),  # a pre-screen approve from the audit sample
)

review_leases = Table(
    "review_leases", metadata,
    Column("verdict_id", Integer, primary_key=True),
    Column("reviewer", String(64), nullable=False),
    Column("acquired_at", DateTime, nullable=False),
    Column("expires_at", DateTime, nullable=False),
)

login_failures = Table(
    "login_failures", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("name", String(64), nullable=False, index=True),
    Column("failed_at", DateTime, nullable=False, index=True),
)

for _op in ("UPDATE", "DELETE"):
    event.listen(reviews, "after_create", DDL(
        f"CREATE TRIGGER reviews_no_{_op.lower()} BEFORE {_op} ON reviews "
        f"BEGIN SELECT RAISE(ABORT, 'reviews is an append-only audit trail'); END").execute_if(dialect="sqlite"))
event.listen(reviews, "after_create", DDL(
    "CREATE OR REPLACE FUNCTION reviews_append_only() RETURNS trigger LANGUAGE plpgsql AS "
    "$$ BEGIN RAISE EXCEPTION 'reviews is an append-only audit trail'; END $$").execute_if(dialect="postgresql"))
event.listen(reviews, "after_create", DDL(
    "CREATE TRIGGER reviews_append_only BEFORE UPDATE OR DELETE ON reviews "
    "FOR EACH ROW EXECUTE FUNCTION reviews_append_only()").execute_if(dialect="postgresql"))
event.listen(reviews, "after_create", DDL(  # row triggers do not see TRUNCATE
    "CREATE TRIGGER reviews_no_truncate BEFORE TRUNCATE ON reviews "
    "FOR EACH STATEMENT EXECUTE FUNCTION reviews_append_only()").execute_if(dialect="postgresql"))

NAME_RE = re.compile(r"^[\w.-]{1,64}$")
PAGE_SIZE = 50


class ReviewerError(ValueError):
    """A reviewer account that cannot be added or changed as asked."""


@dataclass
class Session:
    reviewer: str
    csrf_token: str
    created_at: dt.datetime
    seen_at: dt.datetime


@dataclass
class Review:
    id: int
    verdict_id: int
    submission_id: str
    content_hash: str
    prescreen_decision: str
    reviewer: str
    decision: str
    reason_codes: list[str]
    comment: str
    decided_at: dt.datetime


@dataclass
class QueueRow:
    verdict_id: int
    submission_id: str
    decision: str
    created_at: dt.datetime
    checked_on: dt.date
    category: str | None
    brand: str | None
    shop_company: str | None
    reason_codes: list[str]
    reviewed_decision: str | None
    reviewer: str | None
    decided_at: dt.datetime | None
    content_hash: str = ""
    audit: bool = False           # a pre-screen approve drawn into the audit sample
    held_by: str | None = None    # a reviewer's live lease on it


@dataclass
class Lease:
    verdict_id: int
    reviewer: str
    acquired_at: dt.datetime
    expires_at: dt.datetime


AUDIT_BUCKETS = 16**4  # the first four hex digits of a content hash


def audit_threshold(share: float) -> int:
    """How many of the 65,536 buckets are in the audit sample for a share in [0, 1]."""
    return min(AUDIT_BUCKETS, max(0, round(share * AUDIT_BUCKETS)))


def in_audit_sample(content_hash: str, share: float) -> bool:
    """Whether a pre-screen approve with this content hash is in the audit sample.

    Deterministic and reproducible: the first four hex digits of the content hash (the sha256 of
    the submission's bytes, so uniform) compared as text with the share's threshold, exactly as
    the queue's SQL does. The same verdict is in or out of the sample on every run and machine."""
    threshold = audit_threshold(share)
    if threshold >= AUDIT_BUCKETS:
        return True
    return threshold > 0 and content_hash[:4].lower() < f"{threshold:04x}"


class QueueFilter(BaseModel):
    """What the queue shows: the latest content of each submission, oldest first."""

    model_config = ConfigDict(extra="ignore")

    status: Literal["pending", "decided", "auto", "all"] = Field(
        "pending", description="pending: no decision yet and needs one (review, reject, or an approve in the audit "
                               "sample); decided: has a decision; auto: approves outside the sample; all")
    decision: Literal["approve", "reject", "review"] | None = Field(None, description="Pre-screen decision")
    category: str | None = Field(None, max_length=64)
    reason: str | None = Field(None, description="A SPEC §5 code among the verdict's reasons")
    date_from: dt.date | None = Field(None, ge=dt.date(2000, 1, 1), le=dt.date(2999, 12, 31),
                                      description="Verdicts made on or after this day (UTC)")
    date_to: dt.date | None = Field(None, ge=dt.date(2000, 1, 1), le=dt.date(2999, 12, 31),
                                    description="Verdicts made on or before this day (UTC)")
    page: int = Field(1, ge=1, le=10_000)

    @field_validator("decision", "category", "reason", "date_from", "date_to", mode="before")
    @classmethod
    def _blank_is_none(cls, value):
        return None if value == "" else value

    @field_validator("reason")
    @classmethod
    def _known_code(cls, value: str | None) -> str | None:
        if value is not None and value not in REASON_CODES:
            raise ValueError(f"unknown reason code {value!r}")
        return value

    def query(self, **changes) -> dict[str, str]:
        """The non-default parameters, for links that keep the filter."""
        data = self.model_copy(update=changes).model_dump(exclude_defaults=True)
        return {k: str(v) for k, v in data.items()}


def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class ConsoleStore:
    """Queue, accounts, sessions, leases, the audit trail and its statistics, over a verdict `Store`.

    `audit_share` (0–1) is the share of pre-screen approves that enter the review queue as the
    audit sample (`in_audit_sample`)."""

    def __init__(self, store: Store, *, audit_share: float = 0.02):
        self.store = store
        self.engine = store.engine
        self.audit_share = audit_share
        metadata.create_all(self.engine)  # the console's tables, in a store made before them

    # -- reviewers --

    def add_reviewer(self, name: str, password: str) -> None:
        if not NAME_RE.match(name):
            raise ReviewerError("a reviewer name is 1–64 letters, digits, '.', '_' or '-'")
        check_new_password(password)
        try:
            with self.engine.begin() as conn:
                conn.execute(reviewers.insert().values(name=name, password_hash=hash_password(password),
                                                       created_at=utcnow()))
        except IntegrityError:
            raise ReviewerError(f"reviewer {name!r} exists (use `zizhi reviewers passwd`)") from None

    def set_password(self, name: str, password: str) -> None:
        check_new_password(password)
        with self.engine.begin() as conn:
            n = conn.execute(update(reviewers).where(reviewers.c.name == name)
                             .values(password_hash=hash_password(password))).rowcount
            conn.execute(delete(sessions).where(sessions.c.reviewer == name))  # log out everywhere
        if not n:
            raise ReviewerError(f"no reviewer {name!r}")

    def disable_reviewer(self, name: str) -> None:
        with self.engine.begin() as conn:
            n = conn.execute(update(reviewers).where(reviewers.c.name == name, reviewers.c.disabled_at.is_(None))
                             .values(disabled_at=utcnow())).rowcount
            conn.execute(delete(sessions).where(sessions.c.reviewer == name))
        if not n:
            raise ReviewerError(f"no active reviewer {name!r}")

    def list_reviewers(self) -> list[dict]:
        with self.engine.connect() as conn:
            rows = conn.execute(select(reviewers.c.name, reviewers.c.created_at, reviewers.c.disabled_at)
                                .order_by(reviewers.c.name))
            return [dict(r._mapping) for r in rows]

    def authenticate(self, name: str, password: str) -> bool:
        with self.engine.connect() as conn:
            row = conn.execute(select(reviewers).where(reviewers.c.name == name,
                                                       reviewers.c.disabled_at.is_(None))).first()
        stored = row.password_hash if row else DUMMY_HASH
        ok = verify_password(password, stored) and row is not None
        if ok and needs_rehash(stored):
            with self.engine.begin() as conn:
                conn.execute(update(reviewers).where(reviewers.c.name == name)
                             .values(password_hash=hash_password(password)))
        return ok

    # -- sessions --

    def open_session(self, reviewer: str) -> tuple[str, Session]:
        """A new session; returns the cookie token (kept nowhere else) and the session."""
        token = secrets.token_urlsafe(32)
        now = utcnow()
        session = Session(reviewer, secrets.token_urlsafe(32), now, now)
        with self.engine.begin() as conn:
            conn.execute(sessions.insert().values(token_sha256=_token_hash(token), reviewer=reviewer,
                                                  csrf_token=session.csrf_token, created_at=now, seen_at=now))
        return token, session

    def session(self, token: str, *, idle: dt.timedelta, lifetime: dt.timedelta) -> Session | None:
        """The live session of a cookie token; an expired one is deleted. Renews its idle clock."""
        if not token or len(token) > 200:
            return None
        key = _token_hash(token)
        now = utcnow()
        with self.engine.connect() as conn:
            row = conn.execute(select(sessions).join(reviewers, reviewers.c.name == sessions.c.reviewer)
                               .where(sessions.c.token_sha256 == key, reviewers.c.disabled_at.is_(None))).first()
        if row is None:
            return None
        if row.seen_at < now - idle or row.created_at < now - lifetime:
            self.close_session(token)
            return None
        if row.seen_at < now - dt.timedelta(seconds=60):  # one write a minute at most per session
            with self.engine.begin() as conn:
                conn.execute(update(sessions).where(sessions.c.token_sha256 == key).values(seen_at=now))
        return Session(row.reviewer, row.csrf_token, row.created_at, now)

    def close_session(self, token: str) -> None:
        with self.engine.begin() as conn:
            conn.execute(delete(sessions).where(sessions.c.token_sha256 == _token_hash(token)))

    def purge_sessions(self, *, idle: dt.timedelta, lifetime: dt.timedelta) -> int:
        now = utcnow()
        with self.engine.begin() as conn:
            return conn.execute(delete(sessions).where(
                (sessions.c.seen_at < now - idle) | (sessions.c.created_at < now - lifetime))).rowcount

    # -- the queue --

    def _latest_verdicts(self):
        """The newest verdict of each submission: an older content was superseded by a re-upload."""
        return select(func.max(verdicts.c.id)).group_by(verdicts.c.submission_id)

    def _sampled(self):
        """SQL twin of `in_audit_sample` for the verdicts table."""
        threshold = audit_threshold(self.audit_share)
        if threshold >= AUDIT_BUCKETS:
            return true()
        if threshold == 0:
            return false()
        return func.lower(func.substr(verdicts.c.content_hash, 1, 4)) < f"{threshold:04x}"

    def _queue_select(self, f: QueueFilter, *, with_decision: bool = True, now: dt.datetime | None = None):
        last = (select(reviews.c.verdict_id, func.max(reviews.c.id).label("review_id"))
                .group_by(reviews.c.verdict_id).subquery())
        cols = [verdicts.c.id, verdicts.c.submission_id, verdicts.c.decision, verdicts.c.created_at,
                verdicts.c.checked_on, verdicts.c.content_hash, verdict_facts.c.category, verdict_facts.c.brand,
                verdict_facts.c.shop_company, verdict_facts.c.reason_codes,
                reviews.c.decision.label("reviewed_decision"), reviews.c.reviewer, reviews.c.decided_at,
                review_leases.c.reviewer.label("held_by")]
        q = (select(*cols)
             .select_from(verdicts.outerjoin(verdict_facts, verdict_facts.c.verdict_id == verdicts.c.id)
                          .outerjoin(last, last.c.verdict_id == verdicts.c.id)
                          .outerjoin(reviews, reviews.c.id == last.c.review_id)
                          .outerjoin(review_leases, and_(review_leases.c.verdict_id == verdicts.c.id,
                                                         review_leases.c.expires_at > (now or utcnow()))))
             .where(verdicts.c.id.in_(self._latest_verdicts())))
        if f.status == "pending":
            q = q.where(reviews.c.id.is_(None), or_(verdicts.c.decision != "approve", self._sampled()))
        elif f.status == "auto":
            q = q.where(reviews.c.id.is_(None), verdicts.c.decision == "approve", not_(self._sampled()))
        elif f.status == "decided":
            q = q.where(reviews.c.id.is_not(None))
        if with_decision and f.decision:
            q = q.where(verdicts.c.decision == f.decision)
        if f.category:
            q = q.where(verdict_facts.c.category == f.category)
        if f.reason:
            q = q.where(verdict_facts.c.reason_codes.like(f"% {f.reason} %"))
        if f.date_from:
            q = q.where(verdicts.c.created_at >= dt.datetime.combine(f.date_from, dt.time()))
        if f.date_to:
            q = q.where(verdicts.c.created_at < dt.datetime.combine(f.date_to + dt.timedelta(days=1), dt.time()))
        return q

    def queue(self, f: QueueFilter, *, page_size: int = PAGE_SIZE) -> tuple[list[QueueRow], int]:
        """One page of the queue, oldest first, and how many rows the filter matches in all."""
        q = self._queue_select(f)
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(q.subquery())).scalar_one()
            rows = conn.execute(q.order_by(verdicts.c.created_at, verdicts.c.id)
                                .offset((f.page - 1) * page_size).limit(page_size))
            return [self._queue_row(r._mapping) for r in rows], total

    def decision_counts(self, f: QueueFilter) -> dict[str, int]:
        """Rows per pre-screen decision under the filter's other conditions."""
        sub = self._queue_select(f, with_decision=False).subquery()
        with self.engine.connect() as conn:
            rows = conn.execute(select(sub.c.decision, func.count()).group_by(sub.c.decision))
            counts = {d: n for d, n in rows}
        return {d: counts.get(d, 0) for d in ("review", "reject", "approve")}

    def next_in_queue(self, f: QueueFilter, *, after: int | None = None, reviewer: str | None = None) -> int | None:
        """The oldest pending verdict under the filter (other than `after`) that no other reviewer holds."""
        q = self._queue_select(f.model_copy(update={"status": "pending", "page": 1}))
        if after is not None:
            q = q.where(verdicts.c.id != after)
        q = q.where(or_(review_leases.c.reviewer.is_(None), review_leases.c.reviewer == reviewer))
        with self.engine.connect() as conn:
            row = conn.execute(q.order_by(verdicts.c.created_at, verdicts.c.id).limit(1)).first()
        return row.id if row else None

    def neighbour(self, f: QueueFilter, verdict_id: int, *, forward: bool, reviewer: str) -> int | None:
        """The verdict after (or before) this one in the filtered queue's order, skipping those another
        reviewer holds; None at either end or when `verdict_id` does not exist."""
        with self.engine.connect() as conn:
            here = conn.execute(select(verdicts.c.created_at, verdicts.c.id)
                                .where(verdicts.c.id == verdict_id)).first()
            if here is None:
                return None
            q = self._queue_select(f.model_copy(update={"page": 1}))
            q = q.where(or_(review_leases.c.reviewer.is_(None), review_leases.c.reviewer == reviewer),
                        verdicts.c.id != verdict_id)
            key = tuple_(verdicts.c.created_at, verdicts.c.id)
            if forward:
                q = q.where(key > tuple_(here.created_at, here.id)).order_by(verdicts.c.created_at, verdicts.c.id)
            else:
                q = q.where(key < tuple_(here.created_at, here.id)).order_by(verdicts.c.created_at.desc(),
                                                                          verdicts.c.id.desc())
            row = conn.execute(q.limit(1)).first()
        return row.id if row else None

    def is_audit(self, verdict_id: int) -> bool:
        """A pre-screen approve in the audit sample."""
        stored = self.store.verdict(verdict_id)
        return stored is not None and stored.decision == "approve" and in_audit_sample(stored.content_hash,
                                                                                        self.audit_share)

    # -- leases: who is working on a verdict --

    def take_lease(self, verdict_id: int, reviewer: str, *, minutes: float) -> Lease:
        """Holds the verdict for `reviewer` for `minutes` (renewed while they keep it open), unless another
        reviewer's lease is live: then that lease is returned, unchanged. Atomic between processes:
        an insert, else one conditional update."""
        now = utcnow()
        until = now + dt.timedelta(minutes=minutes)
        try:
            with self.engine.begin() as conn:
                conn.execute(review_leases.insert().values(verdict_id=verdict_id, reviewer=reviewer,
                                                           acquired_at=now, expires_at=until))
            return Lease(verdict_id, reviewer, now, until)
        except IntegrityError:
            pass
        mine_live = and_(review_leases.c.reviewer == reviewer, review_leases.c.expires_at > now)
        with self.engine.begin() as conn:
            conn.execute(update(review_leases).where(
                review_leases.c.verdict_id == verdict_id,
                or_(review_leases.c.reviewer == reviewer, review_leases.c.expires_at <= now))
                .values(reviewer=reviewer, expires_at=until,
                        acquired_at=case((mine_live, review_leases.c.acquired_at), else_=now)))
            row = conn.execute(select(review_leases).where(review_leases.c.verdict_id == verdict_id)).first()
        return Lease(row.verdict_id, row.reviewer, row.acquired_at, row.expires_at)

    def live_lease(self, verdict_id: int) -> Lease | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(review_leases).where(review_leases.c.verdict_id == verdict_id,
                                                           review_leases.c.expires_at > utcnow())).first()
        return Lease(row.verdict_id, row.reviewer, row.acquired_at, row.expires_at) if row else None

    def categories(self) -> list[str]:
        with self.engine.connect() as conn:
            return [c for (c,) in conn.execute(select(verdict_facts.c.category).distinct()
                                               .order_by(verdict_facts.c.category)) if c]

    def facts(self, verdict_id: int) -> dict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(verdict_facts).where(verdict_facts.c.verdict_id == verdict_id)).first()
        return dict(row._mapping) if row else None

    def newer_verdict(self, submission_id: str, verdict_id: int) -> int | None:
        """The newest verdict of the same submission, when this one has been superseded."""
        with self.engine.connect() as conn:
            newest = conn.execute(select(func.max(verdicts.c.id))
                                  .where(verdicts.c.submission_id == submission_id)).scalar_one()
        return newest if newest is not None and newest != verdict_id else None

    # -- decisions (append-only) --

    def record_review(self, verdict_id: int, *, reviewer: str, decision: str, reason_codes: Sequence[str],
                      comment: str) -> Review:
        """Appends a decision; with it, the time since the reviewer's lease began (then released) and
        whether the verdict was an audit-sample item. LookupError: no such verdict."""
        stored = self.store.verdict(verdict_id)
        if stored is None:
            raise LookupError(f"no verdict {verdict_id}")
        now = utcnow()
        codes = list(dict.fromkeys(reason_codes))
        audit = stored.decision == "approve" and in_audit_sample(stored.content_hash, self.audit_share)
        with self.engine.begin() as conn:
            lease = conn.execute(select(review_leases.c.acquired_at).where(
                review_leases.c.verdict_id == verdict_id, review_leases.c.reviewer == reviewer)).first()
            review_id = conn.execute(reviews.insert().values(
                verdict_id=verdict_id, submission_id=stored.submission_id, content_hash=stored.content_hash,
                prescreen_decision=stored.decision, reviewer=reviewer, decision=decision,
                reason_codes=json.dumps(codes), comment=comment, decided_at=now)).inserted_primary_key[0]
            opened = lease.acquired_at if lease else None
            conn.execute(review_times.insert().values(
                review_id=review_id, opened_at=opened, audit=audit,
                seconds=(now - opened).total_seconds() if opened else None))
            conn.execute(delete(review_leases).where(review_leases.c.verdict_id == verdict_id,
                                                     review_leases.c.reviewer == reviewer))
        return Review(review_id, verdict_id, stored.submission_id, stored.content_hash, stored.decision, reviewer,
                      decision, codes, comment, now)

    def reviews(self, verdict_id: int | None = None, *, newest_first: bool = True, limit: int | None = None,
                offset: int = 0) -> list[Review]:
        q = select(reviews)
        if verdict_id is not None:
            q = q.where(reviews.c.verdict_id == verdict_id)
        q = q.order_by(reviews.c.id.desc() if newest_first else reviews.c.id).offset(offset)
        if limit is not None:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            return [_review(r._mapping) for r in conn.execute(q)]

    def _queue_row(self, m) -> QueueRow:
        return QueueRow(verdict_id=m["id"], submission_id=m["submission_id"], decision=m["decision"],
                        created_at=m["created_at"], checked_on=m["checked_on"], category=m["category"],
                        brand=m["brand"], shop_company=m["shop_company"], reason_codes=(m["reason_codes"] or "").split(),
                        reviewed_decision=m["reviewed_decision"], reviewer=m["reviewer"], decided_at=m["decided_at"],
                        content_hash=m["content_hash"], held_by=m["held_by"],
                        audit=m["decision"] == "approve" and in_audit_sample(m["content_hash"], self.audit_share))

    def count_reviews(self) -> int:
        with self.engine.connect() as conn:
            return conn.execute(select(func.count()).select_from(reviews)).scalar_one()

    # -- the quality loop --

    def stats(self, date_from: dt.date | None = None, date_to: dt.date | None = None) -> dict:
        """Figures over the decisions in force (each verdict's latest) made between the two UTC days,
        both included: see docs/console.md ("Statistics") for each key. Shape::

            {"from", "to", "decided", "agreement", "agreement_base", "by_prescreen": {pre: {decision: n}},
             "overturned_approvals", "overturned_rejections", "overturns_by_reason": {code: n},
             "audit": {"decided", "overturned", "false_approve_share"}, "median_seconds",
             "reviewers": {name: {"decided", "agreed", "overturned", "timed", "median_seconds"}}}
        """
        latest = select(func.max(reviews.c.id)).group_by(reviews.c.verdict_id)
        q = (select(reviews.c.reviewer, reviews.c.prescreen_decision, reviews.c.decision, reviews.c.reason_codes,
                    verdict_facts.c.reason_codes.label("prescreen_codes"), review_times.c.seconds,
                    review_times.c.audit)
             .select_from(reviews.outerjoin(verdict_facts, verdict_facts.c.verdict_id == reviews.c.verdict_id)
                          .outerjoin(review_times, review_times.c.review_id == reviews.c.id))
             .where(reviews.c.id.in_(latest)))
        if date_from:
            q = q.where(reviews.c.decided_at >= dt.datetime.combine(date_from, dt.time()))
        if date_to:
            q = q.where(reviews.c.decided_at < dt.datetime.combine(date_to + dt.timedelta(days=1), dt.time()))
        by_prescreen: dict[str, dict[str, int]] = {}
        overturn_codes: dict[str, int] = {}
        people: dict[str, dict] = {}
        seconds_all: list[float] = []
        agreed = base = audit_decided = audit_overturned = 0
        with self.engine.connect() as conn:
            rows = conn.execute(q).all()
        for r in rows:
            pre, got = r.prescreen_decision, r.decision
            by_prescreen.setdefault(pre, {}).setdefault(got, 0)
            by_prescreen[pre][got] += 1
            person = people.setdefault(r.reviewer, {"decided": 0, "agreed": 0, "overturned": 0, "seconds": []})
            person["decided"] += 1
            if pre in ("approve", "reject"):  # a pre-screen `review` asked a person: nothing to agree with
                base += 1
                agreed += pre == got
                person["agreed"] += pre == got
                if pre != got:
                    person["overturned"] += 1
                    # approve → reject: the reviewer's codes say why; reject → approve: the pre-screen's did
                    codes = json.loads(r.reason_codes or "[]") if got == "reject" else (r.prescreen_codes or "").split()
                    for code in codes:
                        overturn_codes[code] = overturn_codes.get(code, 0) + 1
            if r.audit:
                audit_decided += 1
                audit_overturned += got == "reject"
            if r.seconds is not None:
                person["seconds"].append(r.seconds)
                seconds_all.append(r.seconds)
        return {
            "from": date_from.isoformat() if date_from else None,
            "to": date_to.isoformat() if date_to else None,
            "decided": len(rows),
            "agreement": round(agreed / base, 4) if base else None,
            "agreement_base": base,
            "by_prescreen": by_prescreen,
            "overturned_approvals": by_prescreen.get("approve", {}).get("reject", 0),
            "overturned_rejections": by_prescreen.get("reject", {}).get("approve", 0),
            "overturns_by_reason": dict(sorted(overturn_codes.items(), key=lambda kv: (-kv[1], kv[0]))),
            "audit": {"decided": audit_decided, "overturned": audit_overturned,
                      "false_approve_share": round(audit_overturned / audit_decided, 4) if audit_decided else None},
            "median_seconds": _median(seconds_all),
            "reviewers": {name: {"decided": p["decided"], "agreed": p["agreed"], "overturned": p["overturned"],
                                 "timed": len(p["seconds"]), "median_seconds": _median(p["seconds"])}
                          for name, p in sorted(people.items())},
        }

    # -- failed logins (kept in the database: a lockout survives a restart) --

    def login_attempt(self, name: str, *, max_failures: int, window: dt.timedelta) -> bool:
        """False when `name` has `max_failures` failures within `window`; else records this attempt as a
        failure (forgiven by `login_succeeded`) and returns True. Old failures are purged on the way."""
        now = utcnow()
        with self.engine.begin() as conn:
            conn.execute(delete(login_failures).where(login_failures.c.failed_at < now - window))
            n = conn.execute(select(func.count()).select_from(login_failures)
                             .where(login_failures.c.name == name)).scalar_one()
            if n >= max_failures:
                return False
            conn.execute(login_failures.insert().values(name=name, failed_at=now))
        return True

    def login_succeeded(self, name: str) -> None:
        self.unlock(name)

    def unlock(self, name: str) -> int:
        """Forgets the failed logins of `name`; returns how many there were."""
        with self.engine.begin() as conn:
            return conn.execute(delete(login_failures).where(login_failures.c.name == name)).rowcount

    def reviews_with_facts(self) -> Iterator[tuple[Review, dict]]:
        """Every decision, oldest first, with the verdict's facts (for the CSV export)."""
        q = (select(reviews, verdict_facts.c.category, verdict_facts.c.brand, verdict_facts.c.shop_company)
             .select_from(reviews.outerjoin(verdict_facts, and_(verdict_facts.c.verdict_id == reviews.c.verdict_id)))
             .order_by(reviews.c.id))
        with self.engine.connect() as conn:
            for row in conn.execution_options(yield_per=500).execute(q):
                m = row._mapping
                yield _review(m), {"category": m["category"], "brand": m["brand"], "shop_company": m["shop_company"]}




def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 1) if values else None


def _review(m) -> Review:
    return Review(id=m["id"], verdict_id=m["verdict_id"], submission_id=m["submission_id"],
                  content_hash=m["content_hash"], prescreen_decision=m["prescreen_decision"], reviewer=m["reviewer"],
                  decision=m["decision"], reason_codes=json.loads(m["reason_codes"] or "[]"), comment=m["comment"],
                  decided_at=m["decided_at"])
