"""The backlog: which submissions need a verdict, what each one's content is, and what a run did.

Plain functions (no Prefect here) that `flows.py` wires into flows and tasks:

- `BacklogSettings`: the operator's knobs (`ZIZHI_*`): verdict store URL, batch size,
  concurrency, task runner, schedule, claim lease.
- `fingerprint`: a submission folder's content hash — the submission file and every file it names,
  read through the same safe path resolution as the pipeline. "Exactly once" is per
  (submission id, content hash): a merchant who re-uploads gets a new verdict, a rerun does not.
- `engine_identity` / `reading_key`: what the OCR cache is keyed by besides a file's hash.
- `verdict_markdown` / `summary_rows`: what a reviewer sees in the Prefect UI.
- `ClaimKeeper`: renews this run's claims in the store while it works, so a run on another host
  can tell a live run from a dead one.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import importlib
import importlib.metadata
import json
import logging
import os
import re
import threading
from collections import Counter
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict

from operations.store import Item, Store, SubmissionCopy, default_store_url
from pipeline.display import is_plain_text, visible
from pipeline.errors import SubmissionError
from pipeline.ingest import MAX_SUBMISSION_BYTES, fetch, parse_submission_json
from pipeline.models import Verdict
from pipeline.settings import IngestOptions, get_settings

SUBMISSION_FILE = "submission.json"
log = logging.getLogger(__name__)


class BacklogSettings(BaseSettings):
    """Operator settings of the backlog, the verdict store and the Prefect deployments."""

    model_config = SettingsConfigDict(env_prefix="ZIZHI_", extra="ignore")

    store: str = Field(default_factory=default_store_url,
                       description="Verdict store URL (SQLAlchemy): sqlite:///path.db or postgresql+psycopg://…")
    backlog_inbox: Path | None = Field(None, description="Inbox the scheduled backlog deployment scans")
    backlog_batch_size: int = Field(50, ge=1, le=1000,
                                    description="Submissions per batch flow run (about 6 tasks each: "
                                                "keeps a flow run to hundreds of tasks)")
    backlog_concurrency: int = Field(1, ge=1, le=64, description="Submissions verified at once")
    backlog_task_runner: Literal["thread", "process", "dask"] = Field(
        "thread", description="thread: one process, one OCR engine; process / dask: one engine per worker "
                              "process (needs PREFECT_API_URL set, or a temporary server is started once)")
    backlog_lease_seconds: float = Field(300.0, ge=5, description="A running claim with no heartbeat for this "
                                                                  "long is taken over by the next run")
    backlog_max_attempts: int = Field(3, ge=1, description="Attempts per content before it stays failed")
    backlog_cron: str = Field("*/15 * * * *", description="Schedule of the served backlog deployment")
    replay_cron: str = Field("0 3 * * *", description="Schedule of the served nightly replay")
    replay_dir: Path = Field(Path("fixtures"), description="Fixture folder the nightly replay scores")
    schedule_timezone: str = Field("Asia/Shanghai", description="Time zone the deployments' cron schedules "
                                                                "are read in (IANA name)")
    deployment_concurrency: int = Field(1, ge=1, le=64, description="Runs of one deployment at a time; more "
                                                                    "start when one ends (1: a slow run never "
                                                                    "overlaps the next scheduled one)")
    prefect_api_url: str = Field("http://127.0.0.1:4200/api",
                                 description="Local Prefect server (`make server`) used when PREFECT_API_URL "
                                             "is unset and it answers")
    ocr_cache: bool = Field(True, description="Cache OCR readings by file content and engine version (in Prefect's "
                                              "result storage, and in the verdict store for every worker: "
                                              "operations/readings.py)")
    reading_secret: SecretStr | None = Field(None, description="Sign the readings kept in the verdict store "
                                                                "(HMAC-SHA256) and use only signed ones; the same "
                                                                "secret on every worker")


def backlog_settings() -> BacklogSettings:
    return BacklogSettings()


# --- content ---------------------------------------------------------------------------------

@dataclass
class Fingerprint:
    """A submission folder's content as scanned: its key, and the bytes the key was computed from.

    `error` (one line) says the folder cannot be verified as it is: unusable content (`permanent`,
    e.g. JSON nested 5,000 deep) or a problem reading it (not permanent: retried up to the limit).
    """

    submission_id: str
    content_hash: str
    folder: Path
    doc_hashes: dict[str, str] = field(default_factory=dict)  # file as written -> ingest.Fetched.digest
    submission_json: bytes = b""  # the bytes hashed: parse these, never the file again
    error: str | None = None
    permanent: bool = True
    blobs: dict[str, bytes] = field(default_factory=dict, repr=False)  # with keep_bytes: file -> bytes read

    @property
    def item(self) -> Item:
        return Item(self.submission_id, self.content_hash, str(self.folder))


def file_sha256(path: Path, chunk: int = 1 << 20) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        while block := f.read(chunk):
            h.update(block)
    return h.hexdigest()


def _named_files(raw: object) -> list[str]:
    """Files a (possibly malformed) submission names: documents, then product images, then videos."""
    files: list[str] = []
    if not isinstance(raw, dict):
        return files
    docs = raw.get("documents")
    for doc in docs if isinstance(docs, list) else []:
        if isinstance(doc, dict) and isinstance(doc.get("file"), str):
            files.append(doc["file"])
    product = raw.get("product")
    for key in ("images", "videos"):
        if isinstance(product, dict) and isinstance(product.get(key), list):
            files.extend(x for x in product[key] if isinstance(x, str))
    return list(dict.fromkeys(files))


class _ContentHash:
    """The content hash of a submission: its JSON, then each named file's name and digest."""

    def __init__(self, submission_json: bytes):
        self._h = hashlib.sha256(b"zizhi-submission-v1\0")
        self._h.update(hashlib.sha256(submission_json).hexdigest().encode())

    def add(self, name: str, digest: str) -> None:
        self._h.update(b"\0" + name.encode("utf-8", "surrogatepass") + b"\0" + digest.encode())

    def hexdigest(self) -> str:
        return self._h.hexdigest()


def content_hash_of(submission_json: bytes, digests: dict[str, str]) -> str:
    """The content hash `fingerprint` computes, from the submission's bytes and each named file's
    sha256 (`digests`: name as written -> digest; a name missing there is an error): for an upload
    whose files were hashed as they arrived, without reading them again."""
    h = _ContentHash(submission_json)
    for name in _named_files(parse_submission_json(submission_json)):
        h.add(name, digests[name])
    return h.hexdigest()


def folder_id(folder: Path) -> str:
    """The key of a folder whose submission has no usable id: `folder:<name>`, printable and storable
    (a non-UTF-8 folder name is shown with escapes)."""
    return f"folder:{visible(Path(folder).name)}"[:200]


def _ingest_options(max_file_bytes: int | None) -> IngestOptions:
    options = get_settings().ingest
    return options if max_file_bytes is None else options.model_copy(update={"max_file_bytes": max_file_bytes})


def fingerprint(folder: Path, file: str = SUBMISSION_FILE, *, keep_bytes: bool = False,
                max_file_bytes: int | None = None) -> Fingerprint:
    """Identify a submission folder's current content: each file is read once and hashed.

    Bad content never raises: it is part of what the content is (a missing or unsafe document has
    an error digest; unusable JSON sets `error`). Raises OSError only when the submission file
    itself cannot be read.
    """
    folder = Path(folder)
    with (folder / file).open("rb") as f:
        data = f.read(MAX_SUBMISSION_BYTES + 1)
    h = _ContentHash(data)
    error = None
    try:
        raw = parse_submission_json(data)
    except SubmissionError as e:
        raw, error = None, str(e)
    sid = raw.get("id") if isinstance(raw, dict) else None
    sid = sid.strip() if isinstance(sid, str) else ""
    submission_id = sid if sid and len(sid) <= 200 and is_plain_text(sid) else folder_id(folder)
    fp = Fingerprint(submission_id, "", folder, submission_json=data, error=error)
    base = folder.resolve()
    options = _ingest_options(max_file_bytes)
    for name in _named_files(raw):
        fetched = fetch(base, name, options)  # missing, unsafe or too large: an error digest
        fp.doc_hashes[name] = fetched.digest
        h.add(name, fetched.digest)
        if keep_bytes and fetched.data is not None:
            fp.blobs[name] = fetched.data
    fp.content_hash = h.hexdigest()
    return fp


def _copy_of(submission_json: bytes, files: list[tuple[str, str, bytes]]) -> SubmissionCopy:
    raw = parse_submission_json(submission_json)
    raw = raw if isinstance(raw, dict) else {}
    shop = raw.get("shop") if isinstance(raw.get("shop"), dict) else {}
    product = raw.get("product") if isinstance(raw.get("product"), dict) else {}
    return SubmissionCopy(submission_json=submission_json, category=str(product.get("category") or ""),
                          brand=product.get("brand") if isinstance(product.get("brand"), str) else None,
                          shop_company=str(shop.get("company") or ""), files=files)


def _role(raw: object, name: str) -> str:
    """The store's role of a named file: document, product_video, or product_image (the rest)."""
    docs = raw.get("documents") if isinstance(raw, dict) else None
    if isinstance(docs, list) and any(isinstance(d, dict) and d.get("file") == name for d in docs):
        return "document"
    product = raw.get("product") if isinstance(raw, dict) else None
    videos = product.get("videos") if isinstance(product, dict) else None
    images = product.get("images") if isinstance(product, dict) else None
    if isinstance(videos, list) and name in videos and not (isinstance(images, list) and name in images):
        return "product_video"
    return "product_image"


def copy_submission(folder: Path, content_hash: str, *, max_file_bytes: int = 50 * 1024 * 1024
                    ) -> SubmissionCopy | None:
    """Read back the bytes of a verified submission for the store to keep, or None when the folder no
    longer holds the content that was verified (a re-upload in between: its own run will keep that).

    Files are read once and hashed from the bytes kept, so what is stored is exactly what matches.
    A folder or file gone since (moved, cleaned up) also gives None: the verdict is stored without copies.
    """
    try:
        fp = fingerprint(Path(folder), keep_bytes=True, max_file_bytes=max_file_bytes)
    except OSError as e:
        log.warning("no copy kept of %s: %s", visible(folder), visible(e))
        return None
    if fp.content_hash != content_hash or fp.error:
        return None
    raw = parse_submission_json(fp.submission_json)
    return _copy_of(fp.submission_json, [(_role(raw, name), name, blob) for name, blob in fp.blobs.items()])


def copy_verified(folder: Path, submission_json: bytes, digests: dict[str, str], *,
                  max_file_bytes: int | None = None) -> SubmissionCopy | None:
    """The store's copy of a verified submission: the submission bytes that were parsed, and each
    named file read again and kept only if its bytes are the ones verified (same digest) — a file
    replaced since is left out (logged), never kept in place of what was read."""
    try:
        raw = parse_submission_json(submission_json)
    except SubmissionError:
        return None
    base, options = Path(folder).resolve(), _ingest_options(max_file_bytes)
    kept: list[tuple[str, str, bytes]] = []
    for name in _named_files(raw):
        fetched = fetch(base, name, options)
        if fetched.data is None:
            continue  # missing, unsafe or too large: its verdict says so, there is nothing to keep
        if fetched.digest != digests.get(name):
            log.warning("%s in %s changed after it was verified: its copy is not kept", visible(name),
                        visible(folder))
            continue
        kept.append((_role(raw, name), name, fetched.data))
    return _copy_of(submission_json, kept)


def scan_inbox(inbox: Path) -> list[Fingerprint]:
    """Every `<inbox>/<folder>/submission.json`, in folder order, fingerprinted.

    Each folder on its own: whatever goes wrong with one (unreadable file, a bug) becomes that
    folder's `error` (not permanent), never the scan's. Raises only when the inbox itself cannot be
    listed."""
    inbox = Path(inbox)
    if not inbox.is_dir():
        raise NotADirectoryError(f"inbox is not a folder: {inbox}")
    inbox = inbox.resolve()  # folders are recorded and handed to workers as absolute paths
    found = []
    for p in sorted(inbox.iterdir()):
        try:
            target = p / SUBMISSION_FILE
            if not target.is_file():
                if target.exists() or target.is_symlink():
                    # a submission.json that is a folder, a FIFO or a dangling link: say so, never skip it quietly
                    raise ValueError(f"{SUBMISSION_FILE} is not a regular file")
                continue
            fp = fingerprint(p)
            if not is_plain_text(p.name):  # not UTF-8 (or a control character): no tool can show or store it
                fp.submission_id, fp.permanent = folder_id(p), True
                fp.error = f"submission folder name is not plain UTF-8 text: {visible(p.name)}"
            found.append(fp)
        except Exception as e:  # noqa: BLE001 - one folder must never stop the scan of the others
            message = f"submission folder cannot be scanned: {type(e).__name__}: {visible(e)}"[:1000]
            digest = hashlib.sha256(f"zizhi-scan-error\0{message}".encode("utf-8", "backslashreplace")).hexdigest()
            found.append(Fingerprint(folder_id(p), digest, p, error=message, permanent=False))
    return found


def batches(items: Sequence, size: int) -> Iterator[list]:
    for i in range(0, len(items), size):
        yield list(items[i:i + size])


# --- versions --------------------------------------------------------------------------------

def engine_identity(engine) -> dict:
    return {"engine": engine.name, "engine_version": engine.version,
            "model_ids": list(getattr(engine, "model_ids", ()) or ())}


# The code that turns a file into a DocumentReading: a cached reading made by other code (another
# release, or a working copy in between) is not reused — it is pickled, so even its shape may differ.
READING_MODULES = ("pipeline.ingest", "pipeline.preprocess", "pipeline.geometry", "pipeline.document",
                   "pipeline.ocr.base", "pipeline.ocr.ctc", "pipeline.ocr.cascade", "pipeline.seals",
                   "pipeline.capture_flags", "pipeline.rereads", "operations.readings")


def reading_code_hash(engine=None) -> str:
    names = list(READING_MODULES) + ([type(engine).__module__] if engine is not None else [])
    h = hashlib.sha256()
    for name in dict.fromkeys(names):
        module = importlib.import_module(name)
        path = getattr(module, "__file__", None)
        h.update(name.encode() + b"\0" + (Path(path).read_bytes() if path else b""))
    return h.hexdigest()[:16]


def reading_key(engine, settings) -> str:
    """Everything besides the file's bytes that a document's OCR reading depends on."""
    blob = json.dumps({**engine_identity(engine), "code": reading_code_hash(engine),
                       "ocr": settings.ocr.model_dump(mode="json"),
                       "preprocess": settings.preprocess.model_dump(mode="json"),
                       "ingest": settings.ingest.model_dump(mode="json")}, sort_keys=True)
    return hashlib.sha256(blob.encode()).hexdigest()[:24]


def versions(engine, settings, rules) -> dict:
    """What a stored verdict records about the code and data that made it."""
    try:
        zizhi = importlib.metadata.version("zizhi")
    except importlib.metadata.PackageNotFoundError:
        zizhi = "unknown"
    rules_hash = hashlib.sha256(rules.model_dump_json().encode()).hexdigest()[:16]
    return {**engine_identity(engine), "zizhi": zizhi, "rules": rules_hash,
            "reading_key": reading_key(engine, settings)}


# --- what reviewers see ----------------------------------------------------------------------

def artifact_key(prefix: str, name: str) -> str:
    """A Prefect artifact key (lowercase letters, digits, dashes) for a submission id."""
    slug = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-")
    if slug != name.lower() or not slug:
        slug = f"{slug[:60]}-{hashlib.sha256(name.encode()).hexdigest()[:8]}".strip("-")
    return f"{prefix}-{slug}"[:100]


def _cell(value: object) -> str:
    return visible(value).replace("|", "\\|")


def verdict_markdown(verdict: Verdict, *, folder: str = "", content_hash: str = "") -> str:
    icon = {"approve": "✅", "reject": "❌", "review": "🔍"}[verdict.decision]
    out = [f"# {icon} {_cell(verdict.submission_id)}: **{verdict.decision.upper()}**", "",
           f"Checked on {verdict.checked_on}" + (f" · folder `{_cell(folder)}`" if folder else "")
           + (f" · content `{content_hash[:12]}`" if content_hash else ""), ""]
    out += ["## Reasons", ""]
    if verdict.reasons:
        out += ["| code | document | message |", "|---|---|---|"]
        out += [f"| {_cell(r.code)} | {_cell(r.document)} | {_cell(r.message)} |" for r in verdict.reasons]
    else:
        out.append("None.")
    for doc in verdict.documents:
        q = doc.quality
        out += ["", f"## {_cell(doc.file)}: {doc.doc_type} ({doc.doc_type_confidence:.2f}), {doc.pages} page(s)", ""]
        if q:
            flags = "; ".join(q.flags) or "none"
            out.append(f"Quality {'ok' if q.ok else 'NOT ok'}: sharpness {q.sharpness:.0f}, {q.width}×{q.height}, "
                       f"skew {q.skew_deg}°; flags: {_cell(flags)}")
            out.append("")
        if doc.fields:
            out += ["| field | value | confidence | page |", "|---|---|---|---|"]
            out += [f"| {name} | {_cell(f.value)} | {f.confidence:.2f} | {f.page} |" for name, f in doc.fields.items()]
        for e in doc.errors:
            out.append(f"- error in {e.stage}{f' p{e.page}' if e.page else ''}: {_cell(e.message)}")
    out += ["", "## Checks", "", "| check | status | document | expected | found | score | message |",
            "|---|---|---|---|---|---|---|"]
    out += [f"| {c.name} | {c.status} | {_cell(c.document)} | {_cell(c.expected)} | {_cell(c.found)} | "
            f"{_cell(c.score)} | {_cell(c.message)} |" for c in verdict.checks]
    return "\n".join(out) + "\n"


@dataclass
class Outcome:
    """What one backlog run did with one submission."""

    submission_id: str
    content_hash: str
    folder: str
    status: str  # approve / reject / review / failed / duplicate / changed (re-queued as its new content)
    reasons: list[str] = field(default_factory=list)
    error: str | None = None
    permanent: bool = False

    def row(self) -> dict:
        return {"submission": visible(self.submission_id), "folder": visible(Path(self.folder).name),
                "status": self.status, "reasons": ", ".join(self.reasons) or visible(self.error or "")[:200],
                "content": self.content_hash[:12]}


def reason_codes(codes) -> list[str]:
    """Reason codes as every listing shows them: each once, in the verdict's order. `codes` is a
    Verdict, or an iterable of codes."""
    if isinstance(codes, Verdict):
        codes = (r.code for r in codes.reasons)
    return list(dict.fromkeys(codes))


def summary_rows(outcomes: Sequence[Outcome], *, skipped: int = 0) -> list[dict]:
    """One row per outcome status, for the run's table artifact."""
    counts = Counter(o.status for o in outcomes)
    total = len(outcomes)
    rows = []
    for status in ("approve", "reject", "review", "failed", "duplicate", "changed"):
        if counts.get(status):
            examples = [o.submission_id for o in outcomes if o.status == status][:10]
            rows.append({"status": status, "count": counts[status],
                         "share": f"{counts[status] / total:.0%}" if total else "", "examples": ", ".join(examples)})
    if skipped:
        rows.append({"status": "already verified or in progress", "count": skipped, "share": "", "examples": ""})
    return rows


# --- claims while running --------------------------------------------------------------------

class ClaimKeeper:
    """Heartbeats this owner's running claims every `interval` seconds, in a daemon thread."""

    def __init__(self, store: Store, owner: str, interval: float):
        self.store, self.owner, self.interval = store, owner, interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zizhi-claim-keeper", daemon=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                self.store.heartbeat(self.owner)
            except Exception as e:  # noqa: BLE001 - a missed beat only risks a takeover after the lease
                log.warning("claim heartbeat failed: %s", e)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._stop.set()
        self._thread.join(timeout=5)


def today_or(value: dt.date | None) -> dt.date:
    return value or dt.date.today()


def prefect_env_defaults() -> None:
    """Telemetry off: these machines have no network (set before Prefect is imported)."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
