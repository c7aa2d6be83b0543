"""The verdict store: zizhi's own durable record of every verdict and every failure.

SQLAlchemy Core over a SQLite file by default (`ZIZHI_STORE`, `--store URL`), PostgreSQL by URL
(`postgresql+psycopg://…`, the `postgres` extra). Prefect's database is for watching runs, never
the only copy of a verdict.

Tables:

- `claims`: one row per (submission id, content hash) — the unit of "exactly once". A backlog run
  inserts the row (state `running`, its owner, a heartbeat) *before* verifying, and the verdict
  insert flips it to `done` in the same transaction. A claim whose owner died (same host: the
  process is gone; any host: no heartbeat for a lease) is taken over by the next run. A failure
  leaves it `failed` with the reason and the attempts so far; a permanent one (the submission
  itself is unusable) is never retried for that content, a transient one is, up to a limit.
- `verdicts`: every verdict with its submission id, content hash, decision, versions (engine,
  models, zizhi, rules) and time. The unique key (submission id, content hash) is what makes a
  second verdict for the same content impossible, even if two runs race past their claims.

- `files`: the store's own copy of every file a verdict was made from (submission JSON, documents,
  product images), by sha256 — one row however many verdicts use it — kept just after the verdict
  (best effort: a verdict is never lost for its copies). The reviewer console serves
  pages from these copies only, never from a path: the inbox may have moved on or been cleaned.
- `verdict_files`: which copies belong to a verdict (its role, its position, its name as written).
- `verdict_facts`: what the review queue filters on (category, brand, shop company, reason codes),
  written in the verdict's transaction.

Times are stored as naive UTC.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
import logging
import os
import socket
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    Engine,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    create_engine,
    event,
    make_url,
    select,
    tuple_,
    update,
)
from sqlalchemy.exc import ArgumentError, DBAPIError, IntegrityError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.pool import NullPool

from pipeline.display import visible

RUNNING, DONE, FAILED = "running", "done", "failed"
log = logging.getLogger(__name__)

metadata = MetaData()

claims = Table(
    "claims", metadata,
    Column("submission_id", String(200), primary_key=True),
    Column("content_hash", String(64), primary_key=True),
    Column("folder", Text, nullable=False, default=""),
    Column("state", String(16), nullable=False),
    Column("owner", String(300), nullable=False),
    Column("attempts", Integer, nullable=False, default=1),
    Column("claimed_at", DateTime, nullable=False),
    Column("heartbeat_at", DateTime, nullable=False),
    Column("finished_at", DateTime),
    Column("error", Text),
    Column("permanent", Boolean, nullable=False, default=False),
)

verdicts = Table(
    "verdicts", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("submission_id", String(200), nullable=False, index=True),
    Column("content_hash", String(64), nullable=False),
    Column("folder", Text, nullable=False, default=""),
    Column("decision", String(16), nullable=False),
    Column("checked_on", Date, nullable=False),
    Column("verdict_json", Text, nullable=False),
    Column("versions_json", Text, nullable=False, default="{}"),
    Column("flow_run_id", String(64)),
    Column("created_at", DateTime, nullable=False, index=True),
    UniqueConstraint("submission_id", "content_hash", name="uq_verdict_content"),
)

files = Table(
    "files", metadata,
    Column("sha256", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", DateTime, nullable=False),
)

verdict_files = Table(
    "verdict_files", metadata,
    Column("verdict_id", Integer, primary_key=True),
    Column("position", Integer, primary_key=True),
    Column("role", String(16), nullable=False),  # submission / document / product_image / product_video
    Column("name", Text, nullable=False),        # as written in the submission
    Column("sha256", String(64), nullable=False),
)

verdict_facts = Table(
    "verdict_facts", metadata,
    Column("verdict_id", Integer, primary_key=True),
    Column("category", Text, nullable=False, index=True),
    Column("brand", Text),
    Column("shop_company", Text, nullable=False, default=""),
    Column("reason_codes", Text, nullable=False, default=""),  # " CODE1 CODE2 ": LIKE '% CODE %' finds one
)

# The OCR reading of a document's bytes, shared by every worker of a cluster (operations/readings.py:
# plain JSON of the reading's dataclasses, validated on load, optionally HMAC-signed). One row per
# (reading key, file digest): written once by whoever read the file first.
readings = Table(
    "readings", metadata,
    Column("reading_key", String(64), primary_key=True),
    Column("sha256", String(64), primary_key=True),
    Column("format", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("mac", String(64)),
    Column("created_at", DateTime, nullable=False),
)


class StoreError(Exception):
    """The verdict store cannot be used: a bad URL, a missing folder or store, or a database that is
    read-only, full, corrupt or unreachable. The message is one line, for an operator."""


def describe_store_error(store_name: str, error: BaseException) -> str:
    """One line saying why the store failed: the database's own reason, not SQLAlchemy's dump."""
    if isinstance(error, StoreError):
        return str(error)
    orig = getattr(error, "orig", None) if isinstance(error, DBAPIError) else None
    reason = str(orig if orig is not None else error).strip().splitlines()
    return f"verdict store {store_name} is not usable: {visible(reason[0] if reason else type(error).__name__)}"


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


def default_store_url() -> str:
    """`sqlite:///$XDG_DATA_HOME/zizhi/verdicts.db` (XDG default: ~/.local/share)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return f"sqlite:///{Path(base) / 'zizhi' / 'verdicts.db'}"


# --- who owns a claim ------------------------------------------------------------------------

def _proc_start(pid: int) -> str | None:
    """The process's start time in clock ticks since boot (Linux), to tell a reused pid apart."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def current_owner(run: str | None = None) -> str:
    """`host/pid/start[#run]`: names this process, unambiguously across pid reuse (and one run in it)."""
    owner = f"{socket.gethostname()}/{os.getpid()}/{_proc_start(os.getpid()) or '-'}"
    return f"{owner}#{run}" if run else owner


def owner_is_dead(owner: str) -> bool:
    """True only when we can tell for sure: the owner ran on this host and its process is gone."""
    try:
        host, pid_text, start = owner.split("#", 1)[0].rsplit("/", 2)
        pid = int(pid_text)
    except ValueError:
        return False
    if host != socket.gethostname():
        return False  # another machine: only the lease can tell
    now_start = _proc_start(pid)
    if now_start is not None:
        return start != "-" and now_start != start  # pid reused by another process
    if Path("/proc").is_dir():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False
    return False


# --- records ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class Key:
    submission_id: str
    content_hash: str


@dataclass
class Claim:
    submission_id: str
    content_hash: str
    folder: str
    state: str
    owner: str
    attempts: int
    claimed_at: dt.datetime
    heartbeat_at: dt.datetime
    finished_at: dt.datetime | None
    error: str | None
    permanent: bool

    @property
    def key(self) -> Key:
        return Key(self.submission_id, self.content_hash)


@dataclass
class StoredVerdict:
    id: int
    submission_id: str
    content_hash: str
    folder: str
    decision: str
    checked_on: dt.date
    verdict: dict
    versions: dict
    flow_run_id: str | None
    created_at: dt.datetime

    def to_json(self) -> dict:
        return {"id": self.id, "submission_id": self.submission_id, "content_hash": self.content_hash,
                "folder": self.folder, "decision": self.decision, "checked_on": self.checked_on.isoformat(),
                "created_at": self.created_at.isoformat() + "Z", "versions": self.versions,
                "flow_run_id": self.flow_run_id, "verdict": self.verdict}


@dataclass
class SubmissionCopy:
    """The bytes a verdict was made from, read back under the content hash it was claimed with."""

    submission_json: bytes
    category: str
    brand: str | None
    shop_company: str
    files: list[tuple[str, str, bytes]]  # (role, name as written, bytes), in submission order


@dataclass
class StoredFile:
    position: int
    role: str
    name: str
    sha256: str


@dataclass
class Item:
    """What a claim is taken for: a submission folder's current content."""

    submission_id: str
    content_hash: str
    folder: str = ""

    @property
    def key(self) -> Key:
        return Key(self.submission_id, self.content_hash)


class Store:
    """The verdict store at one URL. Safe to share between threads; open one per process.

    `create`: create the tables if missing (a new store file in an existing folder). `must_exist`:
    an SQLite store file that does not exist is an error (commands that only read). A store whose
    folder does not exist is always an error (a typo must not start an empty store), except the
    default one, whose folder is zizhi's own. Raises StoreError (one line) for any of these, a bad
    URL, or a database that cannot be opened.
    """

    def __init__(self, url: str | None = None, *, create: bool = True, must_exist: bool = False):
        self.url = url or default_store_url()
        self.engine = _make_engine(self.url, must_exist=must_exist, make_folder=self.url == default_store_url())
        if create:
            try:
                metadata.create_all(self.engine)
            except SQLAlchemyError as e:
                self.engine.dispose()
                raise StoreError(describe_store_error(self.name, e)) from None

    @property
    def name(self) -> str:
        """The URL with any password hidden, for messages."""
        return visible(self.engine.url.render_as_string(hide_password=True))

    def check_writable(self, probe_bytes: int = 1 << 16) -> None:
        """Raise StoreError unless the store takes a write of `probe_bytes` (rolled back, nothing is
        kept): a read-only, full, corrupt or unreachable store is told before a run starts, not after
        its first verdict."""
        try:
            with self.engine.connect() as conn:
                trans = conn.begin()
                try:
                    conn.execute(files.insert().values(sha256="zizhi-write-probe", size=probe_bytes,
                                                       data=b"\0" * probe_bytes, created_at=utcnow()))
                finally:
                    trans.rollback()
        except SQLAlchemyError as e:
            raise StoreError(describe_store_error(self.name, e)) from None

    def close(self) -> None:
        self.engine.dispose()

    def __repr__(self) -> str:
        return f"Store({self.name})"

    # -- claims --

    def claims(self, keys: Iterable[Key] | None = None) -> dict[Key, Claim]:
        if keys is None:
            with self.engine.connect() as conn:
                return {c.key: c for c in (Claim(**row._mapping) for row in conn.execute(select(claims)))}
        out: dict[Key, Claim] = {}
        with self.engine.connect() as conn:
            for chunk in _chunks(list(keys), 400):
                cond = tuple_(claims.c.submission_id, claims.c.content_hash).in_(
                    [(k.submission_id, k.content_hash) for k in chunk])
                for row in conn.execute(select(claims).where(cond)):
                    c = Claim(**row._mapping)
                    out[c.key] = c
        return out

    def is_open(self, claim: Claim | None, *, owner: str, lease_seconds: float, max_attempts: int,
                now: dt.datetime | None = None) -> bool:
        """Whether a claim on this content may be taken now (no row, a retryable failure, a dead run)."""
        if claim is None:
            return True
        if claim.state == DONE:
            return False
        if claim.state == FAILED:
            return not claim.permanent and claim.attempts < max_attempts
        # running
        if claim.owner == owner:
            return False
        now = now or utcnow()
        return claim.heartbeat_at < now - dt.timedelta(seconds=lease_seconds) or owner_is_dead(claim.owner)

    def pending(self, items: Sequence[Item], *, owner: str, lease_seconds: float, max_attempts: int
                ) -> list[Item]:
        """The items whose content has no verdict and may be claimed now, in the order given."""
        found = self.claims(i.key for i in items)
        now = utcnow()
        return [i for i in items if self.is_open(found.get(i.key), owner=owner, lease_seconds=lease_seconds,
                                                 max_attempts=max_attempts, now=now)]

    def claim(self, items: Sequence[Item], *, owner: str, lease_seconds: float, max_attempts: int
              ) -> list[Item]:
        """Take a durable claim on each item that is open; return those this owner now holds.

        Each take is one atomic statement (an insert, or an update conditional on the row being
        exactly as read), so two runs racing for the same content cannot both win.
        """
        won: list[Item] = []
        for item in items:
            now = utcnow()
            try:
                with self.engine.begin() as conn:
                    conn.execute(claims.insert().values(
                        submission_id=item.submission_id, content_hash=item.content_hash, folder=_text(item.folder),
                        state=RUNNING, owner=owner, attempts=1, claimed_at=now, heartbeat_at=now,
                        permanent=False))
                won.append(item)
                continue
            except IntegrityError:
                pass
            current = self.claims([item.key]).get(item.key)
            if current is None or not self.is_open(current, owner=owner, lease_seconds=lease_seconds,
                                                   max_attempts=max_attempts, now=now):
                continue
            if current.state == RUNNING and current.attempts >= max_attempts:
                # Its runs keep dying on it (a poison submission): stop feeding it to new runs.
                self._swap(current, state=FAILED, permanent=True, finished_at=now,
                           error=f"abandoned: the run verifying it died {current.attempts} time(s)")
                continue
            if self._swap(current, state=RUNNING, owner=owner, attempts=current.attempts + 1, claimed_at=now,
                          heartbeat_at=now, finished_at=None, error=None, folder=_text(item.folder) or current.folder):
                won.append(item)
        return won

    def _swap(self, seen: Claim, **values) -> bool:
        """Update the claim only if it is still exactly as `seen` (compare-and-swap)."""
        with self.engine.begin() as conn:
            result = conn.execute(update(claims).where(
                claims.c.submission_id == seen.submission_id, claims.c.content_hash == seen.content_hash,
                claims.c.state == seen.state, claims.c.owner == seen.owner, claims.c.attempts == seen.attempts,
                claims.c.heartbeat_at == seen.heartbeat_at).values(**values))
            return result.rowcount == 1

    def heartbeat(self, owner: str) -> int:
        """Renew every running claim of `owner`; returns how many."""
        with self.engine.begin() as conn:
            return conn.execute(update(claims).where(claims.c.owner == owner, claims.c.state == RUNNING)
                                .values(heartbeat_at=utcnow())).rowcount

    def forget(self, owner: str, key: Key) -> int:
        """Drop this owner's running claim (its content is gone: the folder was re-uploaded while it
        ran). Returns 1 if a claim was dropped."""
        with self.engine.begin() as conn:
            return conn.execute(claims.delete().where(
                claims.c.submission_id == key.submission_id, claims.c.content_hash == key.content_hash,
                claims.c.state == RUNNING, claims.c.owner == owner)).rowcount

    def release(self, owner: str, keys: Iterable[Key], reason: str) -> int:
        """Give back claims this owner will not finish (a transient failure, so a later run retries)."""
        n = 0
        for key in keys:
            n += self.record_failure(key, reason, owner=owner, permanent=False)
        return n

    # -- outcomes --

    def record_verdict(self, key: Key, *, verdict_json: str, decision: str, checked_on: dt.date,
                       versions: dict, owner: str, folder: str = "", flow_run_id: str | None = None,
                       copy: SubmissionCopy | None = None, reason_codes: Sequence[str] = ()) -> bool:
        """Store the verdict (with the facts the queue filters on) and mark its claim done, in one
        transaction; then keep the copies of its files, when given, in another.

        Returns False when a verdict for this content is already stored (it is kept; this one is
        dropped), so calling it twice, or from two racing runs, leaves exactly one.

        The copies are for the console: a failure to keep them is logged and never costs the verdict.
        """
        now = utcnow()
        try:
            with self.engine.begin() as conn:
                verdict_id = conn.execute(verdicts.insert().values(
                    submission_id=key.submission_id, content_hash=key.content_hash, folder=_text(folder),
                    decision=decision, checked_on=checked_on, verdict_json=verdict_json,
                    versions_json=json.dumps(versions, ensure_ascii=False, sort_keys=True),
                    flow_run_id=flow_run_id, created_at=now)).inserted_primary_key[0]
                conn.execute(verdict_facts.insert().values(verdict_id=verdict_id, **_facts(copy, reason_codes)))
                self._finish(conn, key, owner, now, state=DONE, error=None, permanent=False, folder=_text(folder))
        except IntegrityError:
            if not self._has_verdict(key):
                raise  # not the unique verdict key: a real error, for the caller's retries
            with self.engine.begin() as conn:  # the verdict is there: the claim is done whoever held it
                conn.execute(update(claims).where(
                    claims.c.submission_id == key.submission_id, claims.c.content_hash == key.content_hash)
                    .values(state=DONE, finished_at=now, error=None))
            return False
        if copy is not None:
            try:
                self._keep_copy(verdict_id, copy, now)
            except SQLAlchemyError as e:
                log.warning("verdict %s of %s stored, but not its files' copies: %s", verdict_id,
                            key.submission_id, e)
        return True

    def _has_verdict(self, key: Key) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(select(verdicts.c.id).where(
                verdicts.c.submission_id == key.submission_id,
                verdicts.c.content_hash == key.content_hash)).first() is not None

    def _keep_copy(self, verdict_id: int, copy: SubmissionCopy, now: dt.datetime) -> None:
        entries = [("submission", "submission.json", copy.submission_json), *copy.files]
        with self.engine.begin() as conn:
            for position, (role, name, data) in enumerate(entries):
                digest = hashlib.sha256(data).hexdigest()
                # Two runs may keep the same file at once (one licence, many shops): the loser's insert is a no-op.
                conn.execute(_insert_ignoring_duplicates(conn, files).values(
                    sha256=digest, size=len(data), data=data, created_at=now))
                conn.execute(verdict_files.insert().values(verdict_id=verdict_id, position=position, role=role,
                                                           name=_clean(name), sha256=digest))

    def record_failure(self, key: Key, error: str, *, owner: str, permanent: bool, folder: str = "") -> int:
        """Mark the claim failed with its reason (a failure with no claim yet gets one)."""
        now = utcnow()
        with self.engine.begin() as conn:
            n = conn.execute(update(claims).where(
                claims.c.submission_id == key.submission_id, claims.c.content_hash == key.content_hash,
                claims.c.state == RUNNING, claims.c.owner == owner)
                .values(state=FAILED, finished_at=now, error=_text(error)[:4000], permanent=permanent)).rowcount
        if n:
            return n
        try:
            with self.engine.begin() as conn:
                conn.execute(claims.insert().values(
                    submission_id=key.submission_id, content_hash=key.content_hash, folder=_text(folder),
                    state=FAILED, owner=owner, attempts=1, claimed_at=now, heartbeat_at=now, finished_at=now,
                    error=_text(error)[:4000], permanent=permanent))
            return 1
        except IntegrityError:
            return 0  # someone else holds or finished it: leave their record alone

    def _finish(self, conn, key: Key, owner: str, now: dt.datetime, **values) -> None:
        result = conn.execute(update(claims).where(
            claims.c.submission_id == key.submission_id, claims.c.content_hash == key.content_hash)
            .values(finished_at=now, **values))
        if result.rowcount == 0:  # recorded without a claim (verify_submission with a store)
            conn.execute(claims.insert().values(
                submission_id=key.submission_id, content_hash=key.content_hash, owner=owner, attempts=1,
                claimed_at=now, heartbeat_at=now, finished_at=now, **values))

    # -- reading --

    def verdicts(self, submission_id: str | None = None, limit: int | None = None) -> list[StoredVerdict]:
        q = select(verdicts).order_by(verdicts.c.created_at, verdicts.c.id)
        if submission_id is not None:
            q = q.where(verdicts.c.submission_id == submission_id)
        if limit is not None:
            q = q.limit(limit)
        with self.engine.connect() as conn:
            return [_stored(row._mapping) for row in conn.execute(q)]

    def iter_verdicts(self) -> Iterator[StoredVerdict]:
        with self.engine.connect() as conn:
            q = select(verdicts).order_by(verdicts.c.created_at, verdicts.c.id)
            for row in conn.execution_options(yield_per=200).execute(q):
                yield _stored(row._mapping)

    def verdict(self, verdict_id: int) -> StoredVerdict | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(verdicts).where(verdicts.c.id == verdict_id)).first()
        return _stored(row._mapping) if row else None

    def stored_files(self, verdict_id: int) -> list[StoredFile]:
        """The copies kept with a verdict (none for a verdict recorded without them)."""
        q = select(verdict_files).where(verdict_files.c.verdict_id == verdict_id).order_by(verdict_files.c.position)
        with self.engine.connect() as conn:
            return [StoredFile(r.position, r.role, r.name, r.sha256) for r in conn.execute(q)]

    def file_bytes(self, sha256: str) -> bytes | None:
        with self.engine.connect() as conn:
            row = conn.execute(select(files.c.data).where(files.c.sha256 == sha256)).first()
        return bytes(row.data) if row else None

    def failures(self) -> list[Claim]:
        with self.engine.connect() as conn:
            q = select(claims).where(claims.c.state == FAILED).order_by(claims.c.finished_at)
            return [Claim(**row._mapping) for row in conn.execute(q)]

    def counts(self) -> dict[str, int]:
        out = {RUNNING: 0, DONE: 0, FAILED: 0}
        with self.engine.connect() as conn:
            for c in (Claim(**row._mapping) for row in conn.execute(select(claims))):
                out[c.state] = out.get(c.state, 0) + 1
        return out


def _text(text: str | None) -> str:
    """Text a column can hold whatever the file system gave: a folder name that is not UTF-8 arrives
    as lone surrogates (which no database encodes), NUL is refused by PostgreSQL. Both are escaped."""
    return (text or "").encode("utf-8", "backslashreplace").decode("utf-8").replace("\x00", "\\0")


def _clean(text: str | None) -> str | None:
    """Merchant text as a database column takes it: PostgreSQL refuses NUL characters."""
    return text.replace("\x00", "") if text is not None else None


def _facts(copy: SubmissionCopy | None, reason_codes: Sequence[str]) -> dict:
    codes = " ".join(dict.fromkeys(reason_codes))
    return {"category": _clean(copy.category) if copy else "", "brand": _clean(copy.brand) if copy else None,
            "shop_company": _clean(copy.shop_company) if copy else "", "reason_codes": f" {codes} " if codes else ""}


def _insert_ignoring_duplicates(conn, table: Table):
    if conn.dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert
    elif conn.dialect.name == "sqlite":
        from sqlalchemy.dialects.sqlite import insert
    else:
        raise NotImplementedError(f"the verdict store runs on SQLite or PostgreSQL, not {conn.dialect.name}")
    return insert(table).on_conflict_do_nothing()


def _stored(m) -> StoredVerdict:
    return StoredVerdict(id=m["id"], submission_id=m["submission_id"], content_hash=m["content_hash"],
                         folder=m["folder"], decision=m["decision"], checked_on=m["checked_on"],
                         verdict=json.loads(m["verdict_json"]), versions=json.loads(m["versions_json"] or "{}"),
                         flow_run_id=m["flow_run_id"], created_at=m["created_at"])


def _chunks(items: list, n: int) -> Iterator[list]:
    for i in range(0, len(items), n):
        yield items[i:i + n]


def _sqlite_path(url) -> Path | None:
    """The file an SQLite URL names (None: in memory), `file:` URIs included."""
    db = url.database or ""
    if url.query.get("uri") in ("true", "1") and db.startswith("file:"):
        db = db[len("file:"):].split("?", 1)[0]
        db = db.removeprefix("//")
    return None if db in ("", ":memory:") or url.query.get("mode") == "memory" else Path(db).expanduser()


def _make_engine(url: str, *, must_exist: bool = False, make_folder: bool = False) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError as e:
        raise StoreError(f"bad verdict store URL {visible(url)!r}: {visible(e)} (expected sqlite:///path.db "
                         f"or postgresql+psycopg://user@host/db)") from None
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise StoreError(f"bad verdict store URL {visible(parsed.render_as_string(hide_password=True))!r}: "
                         f"the store runs on sqlite or postgresql, not {visible(parsed.get_backend_name())}")
    try:
        return _engine_for(url, parsed, must_exist=must_exist, make_folder=make_folder)
    except ImportError as e:
        raise StoreError(f"verdict store {visible(parsed.render_as_string(hide_password=True))!r} needs a database "
                         f"driver that is not installed ({visible(e)}): pip install -e '.[postgres]'") from None
    except (NoSuchModuleError, ArgumentError) as e:
        raise StoreError(f"bad verdict store URL {visible(parsed.render_as_string(hide_password=True))!r}: "
                         f"{visible(e)}") from None


def _engine_for(url: str, parsed, *, must_exist: bool, make_folder: bool) -> Engine:
    if parsed.get_backend_name() == "sqlite":
        path = _sqlite_path(parsed)
        if path is not None:
            if make_folder:
                path.parent.mkdir(parents=True, exist_ok=True)
            elif not path.parent.is_dir():
                raise StoreError(f"verdict store folder does not exist: {visible(path.parent)} (create it, or "
                                 f"fix the store URL)")
            if must_exist and not path.is_file():
                raise StoreError(f"no verdict store at {visible(path)}")
        # NullPool: no connection outlives its use, so forked/spawned workers never share one.
        engine = create_engine(url, poolclass=NullPool, connect_args={"timeout": 60})

        @event.listens_for(engine, "connect")
        def _sqlite_pragmas(dbapi_conn, _record):
            cur = dbapi_conn.cursor()
            cur.execute("PRAGMA journal_mode=WAL")  # readers never block the writer
            cur.execute("PRAGMA synchronous=NORMAL")
            cur.execute("PRAGMA busy_timeout=60000")
            cur.close()

        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_pre_ping=True)
