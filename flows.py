"""Prefect flows: a thin layer over the plain functions in `pipeline/`.

- `verify_submission`: one submission; per document a cached OCR task (load + straighten + OCR)
  and an extract task, then the verdict task — the same functions `zizhi verify` composes.
- `process_backlog`: every submission under an inbox whose current content has no verdict yet,
  in batch sub-flows (hundreds of tasks each), claimed in and recorded to zizhi's verdict store.
- `replay_fixtures`: the fixture replay (accuracy against ground truth) as a flow, for nightly runs.

`zizhi verify` calls `pipeline.runner.verify` directly (a one-off check should not pay for
Prefect's temporary server); these flows run the same functions for scheduled, observed work.
Tasks take paths and hashes, never image bytes (Prefect would hash them).
"""

from __future__ import annotations

import datetime as dt
import os
import queue
import uuid
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

from prefect import flow, get_run_logger, task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.futures import PrefectFuture
from prefect.runtime import flow_run as runtime_flow_run
from prefect.task_runners import ThreadPoolTaskRunner

from operations import backlog as bl
from operations.store import Item, Key, Store, current_owner
from pipeline.display import visible
from pipeline.document import DocumentReading, DocumentWork, interpret_document, read_document
from pipeline.errors import ContentChanged, SubmissionError
from pipeline.ingest import submission_from_bytes
from pipeline.models import DocumentRef, Submission, Verdict
from pipeline.ocr import get_engine
from pipeline.runner import assemble_verdict, check_submission
from pipeline.settings import get_settings
from rules import load_rules

_stores: dict[str, Store] = {}


def open_store(url: str | None) -> Store:
    """One Store per URL per process (a task may run in a worker process)."""
    url = url or bl.backlog_settings().store
    if url not in _stores:
        _stores[url] = Store(url)
    return _stores[url]


def _rules():
    return load_rules(get_settings().rules_dir)


def _engine():
    return get_engine(get_settings().ocr)


@dataclass
class LoadedSubmission:
    """A submission parsed from the very bytes its content hash was computed from, with the digest
    each of its files had then: every later read of a file must find the same digest."""

    submission: Submission
    base_dir: str
    content_hash: str
    doc_hashes: list[str] = field(default_factory=list)  # one per submission.documents entry
    image_hashes: list[str] = field(default_factory=list)  # one per submission.product.images entry
    submission_json: bytes = b""
    digests: dict[str, str] = field(default_factory=dict)  # every named file as written -> digest


def _exception_of(state) -> BaseException | None:
    try:
        value = state.result(raise_on_failure=False)
    except BaseException as e:  # noqa: BLE001 - the result itself could not be read
        return e
    return value if isinstance(value, BaseException) else None


def _retry_on_io(task, task_run, state) -> bool:
    """Retry only what a retry can help: transient I/O errors, not missing files, bad content or bugs."""
    exc = _exception_of(state)
    return isinstance(exc, OSError) and not isinstance(
        exc, FileNotFoundError | NotADirectoryError | IsADirectoryError | PermissionError)


# --- tasks -----------------------------------------------------------------------------------

@task(name="scan-inbox", retries=2, retry_delay_seconds=2, retry_condition_fn=_retry_on_io,
      cache_policy=NO_CACHE, persist_result=False)
def scan_inbox_task(inbox: str) -> list[bl.Fingerprint]:
    return bl.scan_inbox(Path(inbox))


@task(name="load-submission", retries=2, retry_delay_seconds=1, retry_condition_fn=_retry_on_io,
      cache_policy=NO_CACHE, persist_result=False, task_run_name="load {submission_path}")
def load_submission_task(submission_path: str, expected_hash: str | None = None) -> LoadedSubmission:
    """Fingerprint the submission's content, then parse and check the bytes just hashed
    (SubmissionError: unusable; ContentChanged: not the content `expected_hash` names)."""
    path = Path(submission_path)
    if not path.is_file():
        raise SubmissionError(f"submission file not found: {visible(path)}")
    fp = bl.fingerprint(path.parent, path.name)
    if expected_hash is not None and fp.content_hash != expected_hash:
        raise ContentChanged("submission changed since the inbox was scanned; its new content is "
                             "picked up as a new item")
    if fp.error:
        raise SubmissionError(fp.error)
    base_dir = path.parent.resolve()
    submission = submission_from_bytes(fp.submission_json, f"submission file {visible(path)}")
    submission = check_submission(submission, base_dir, _rules())
    return LoadedSubmission(submission, str(base_dir), fp.content_hash,
                            [fp.doc_hashes[ref.file] for ref in submission.documents],
                            [fp.doc_hashes[file] for file in submission.product.images],
                            fp.submission_json, dict(fp.doc_hashes))


def _ocr_cache_key(context, parameters) -> str | None:
    if not bl.backlog_settings().ocr_cache or not parameters.get("doc_hash"):
        return None
    return f"zizhi-ocr-{parameters['reading_key']}-{parameters['doc_hash']}"


@task(name="ocr-document", cache_key_fn=_ocr_cache_key, persist_result=True, retries=1,
      retry_delay_seconds=2, retry_condition_fn=_retry_on_io, task_run_name="ocr {submission_id} {ref.file}")
def read_document_task(base_dir: str, ref: DocumentRef, doc_hash: str, reading_key: str,
                       submission_id: str = "") -> DocumentReading:
    """Load, straighten and OCR one document: cached by the file's digest and the engine's identity.

    The file is read once and its bytes must have `doc_hash` (else ContentChanged, and nothing is
    cached): the reading filed under a digest is always the reading of those bytes."""
    return read_document(Path(base_dir), ref, _engine(), get_settings(), expect_digest=doc_hash)


@task(name="extract-document", cache_policy=NO_CACHE, persist_result=False,
      task_run_name="extract {submission_id} {ref.file}")
def extract_task(reading: DocumentReading, base_dir: str, ref: DocumentRef, submission_id: str = "",
                 doc_hash: str | None = None) -> DocumentWork:
    """Classify and extract fields from a reading (cheap: no OCR)."""
    settings = get_settings()
    if reading.load_error is not None or (doc_hash is not None and reading.sha256 != doc_hash):
        # A cached reading that failed to load may name another upload's file, or an environment
        # problem since fixed: loading fails fast, so read it again rather than trust the cache.
        # (A reading of other bytes than `doc_hash` cannot be cached; it is never used either.)
        reading = read_document(Path(base_dir), ref, _engine(), settings, expect_digest=doc_hash)
    return interpret_document(reading, ref, settings, _rules())


@task(name="verdict", cache_policy=NO_CACHE, persist_result=False, task_run_name="verdict {submission.id}")
def verdict_task(submission: Submission, works: list[DocumentWork], today: dt.date, base_dir: str,
                 image_hashes: list[str] | None = None) -> Verdict:
    """The rules over the documents (and product images), and the decision: the same function
    `zizhi verify` ends with. Product images are read once each and must have `image_hashes`."""
    return assemble_verdict(submission, Path(base_dir), works, today=today, settings=get_settings(), rules=_rules(),
                            engine=_engine(), image_digests=image_hashes)


@task(name="claim", retries=3, retry_delay_seconds=[1, 2, 4], cache_policy=NO_CACHE, persist_result=False)
def claim_task(store_url: str, items: list[Item], owner: str) -> list[Item]:
    s = bl.backlog_settings()
    return open_store(store_url).claim(items, owner=owner, lease_seconds=s.backlog_lease_seconds,
                                       max_attempts=s.backlog_max_attempts)


@task(name="record-verdict", retries=3, retry_delay_seconds=[1, 2, 4], cache_policy=NO_CACHE,
      persist_result=False, task_run_name="record {item.submission_id}")
def record_verdict_task(store_url: str, item: Item, verdict: Verdict, versions: dict, owner: str,
                        loaded: LoadedSubmission | None = None) -> bool:
    """Store the verdict and close its claim in one transaction; False if one was stored already."""
    flow_run_id = runtime_flow_run.get_id()
    # The store keeps its own copy of the files, for the reviewer console: the submission bytes that
    # were parsed, and each file only if it still has the digest that was read.
    copy = None
    if loaded is not None:
        copy = bl.copy_verified(Path(loaded.base_dir), loaded.submission_json, loaded.digests)
    elif item.folder:
        copy = bl.copy_submission(Path(item.folder), item.content_hash,
                                  max_file_bytes=get_settings().ingest.max_file_bytes)
    return open_store(store_url).record_verdict(
        item.key, verdict_json=verdict.model_dump_json(), decision=verdict.decision,
        checked_on=verdict.checked_on, versions=versions, owner=owner, folder=item.folder, flow_run_id=flow_run_id,
        copy=copy, reason_codes=[r.code for r in verdict.reasons])


@task(name="record-failure", retries=3, retry_delay_seconds=[1, 2, 4], cache_policy=NO_CACHE,
      persist_result=False, task_run_name="failed {item.submission_id}")
def record_failure_task(store_url: str, item: Item, error: str, owner: str, permanent: bool) -> None:
    open_store(store_url).record_failure(item.key, error, owner=owner, permanent=permanent, folder=item.folder)


@task(name="publish-verdict", retries=2, retry_delay_seconds=2, cache_policy=NO_CACHE, persist_result=False,
      task_run_name="publish {verdict.submission_id}")
def publish_verdict_task(verdict: Verdict, folder: str = "", content_hash: str = "") -> None:
    """The reviewer's view: a markdown artifact keyed by submission id (history kept per key)."""
    create_markdown_artifact(
        markdown=bl.verdict_markdown(verdict, folder=folder, content_hash=content_hash),
        key=bl.artifact_key("verdict", verdict.submission_id),
        description=f"{verdict.submission_id}: {verdict.decision}")


# --- composition -----------------------------------------------------------------------------

@dataclass
class Track:
    """One submission's way through the task graph."""

    path: str
    item: Item | None = None
    loaded: LoadedSubmission | None = None
    works: list = field(default_factory=list)
    left: int = 0  # documents not yet extracted
    verdict: Verdict | None = None
    stored: bool | None = None
    error: BaseException | None = None


class GraphRun:
    """Submits each submission's tasks as their inputs complete, with at most `ocr_slots` OCR tasks
    in flight. A task is only ever submitted once its upstream tasks are done, so no worker thread
    sits blocked waiting for another (Prefect resolves future arguments inside the worker), and
    each verdict is recorded as soon as it exists, not at the end of the batch.

    With `claim`, submissions are claimed a few at a time, just before they are started: runs
    sharing an inbox (several workers) split it between them, and a killed run leaves only the
    few submissions it was working on to be taken over.
    """

    def __init__(self, *, today: dt.date, reading_key: str, ocr_slots: int, store: str | None = None,
                 versions: dict | None = None, owner: str | None = None):
        self.today, self.reading_key, self.ocr_slots = today, reading_key, max(1, ocr_slots)
        self.store, self.versions, self.owner = store, versions or {}, owner
        self.started: list[Track] = []
        self._done: queue.SimpleQueue = queue.SimpleQueue()
        self._tags: dict[int, tuple[Track, str, int, PrefectFuture]] = {}
        self._waiting: deque[Track] = deque()
        self._reads: deque[tuple[Track, int]] = deque()
        self._reads_in_flight = 0
        self._loading = 0

    def _submit(self, track: Track, kind: str, task_fn, *args, doc: int = -1, **kwargs) -> PrefectFuture:
        future = task_fn.submit(*args, **kwargs)
        self._tags[id(future)] = (track, kind, doc, future)
        future.add_done_callback(self._done.put)
        return future

    def _start_more(self, claim) -> None:
        """Keep about one round of OCR work queued ahead: claim and load the next submissions."""
        while self._waiting and len(self._reads) < self.ocr_slots and self._loading < self.ocr_slots:
            chunk = [self._waiting.popleft() for _ in range(min(self.ocr_slots, len(self._waiting)))]
            if claim is not None:
                try:
                    won = {i.key for i in claim([t.item for t in chunk])}
                except Exception as e:  # noqa: BLE001 - recorded as these items' failure; the batch goes on
                    for t in chunk:
                        t.error = e
                        self.started.append(t)
                    continue
                chunk = [t for t in chunk if t.item.key in won]
            for t in chunk:
                self.started.append(t)
                self._loading += 1
                self._submit(t, "load", load_submission_task, t.path, t.item.content_hash if t.item else None)

    def run(self, tracks: list[Track], claim=None) -> list[Track]:
        """Verify `tracks`; returns those started (all of them, or those `claim` granted)."""
        logger = get_run_logger()
        self._waiting.extend(tracks)
        self._start_more(claim)
        while self._tags:
            track, kind, doc, future = self._tags.pop(id(self._done.get()))
            future.wait()
            state = future.state
            if kind == "read":
                self._reads_in_flight -= 1
            elif kind == "load":
                self._loading -= 1
            if kind == "publish":
                if not state.is_completed():
                    logger.warning("artifact for %s not published: %s", track.path, state.message)
            elif track.error is None:
                if state.is_completed():
                    self._advance(track, kind, doc, future)
                else:
                    track.error = _exception_of(state) or RuntimeError(f"{kind} ended {state.name}: {state.message}")
            while self._reads_in_flight < self.ocr_slots and self._reads:
                t, i = self._reads.popleft()
                if t.error is None and t.loaded is not None:
                    ref = t.loaded.submission.documents[i]
                    self._submit(t, "read", read_document_task, t.loaded.base_dir, ref, t.loaded.doc_hashes[i],
                                 self.reading_key, t.loaded.submission.id, doc=i)
                    self._reads_in_flight += 1
            self._start_more(claim)
        return self.started

    def _advance(self, t: Track, kind: str, doc: int, future: PrefectFuture) -> None:
        if kind == "load":
            t.loaded = future.result()
            n = len(t.loaded.submission.documents)
            t.works, t.left = [None] * n, n
            if n == 0:
                self._submit(t, "verdict", verdict_task, t.loaded.submission, [], self.today, t.loaded.base_dir,
                             t.loaded.image_hashes)
            self._reads.extend((t, i) for i in range(n))
        elif kind == "read":
            self._submit(t, "extract", extract_task, future, t.loaded.base_dir, t.loaded.submission.documents[doc],
                         t.loaded.submission.id, t.loaded.doc_hashes[doc], doc=doc)
        elif kind == "extract":
            t.works[doc] = future
            t.left -= 1
            if t.left == 0:
                self._submit(t, "verdict", verdict_task, t.loaded.submission, list(t.works), self.today,
                             t.loaded.base_dir, t.loaded.image_hashes)
        elif kind == "verdict":
            t.verdict = future.result()
            if self.store and t.item is not None:
                self._submit(t, "record", record_verdict_task, self.store, t.item, future, self.versions,
                             self.owner, t.loaded)
            else:
                self._publish(t, future)
        elif kind == "record":
            t.stored = future.result()
            if t.stored:
                self._publish(t, future)

    def _publish(self, t: Track, upstream: PrefectFuture) -> None:
        folder = t.item.folder if t.item else str(Path(t.path).parent)
        self._submit(t, "publish", publish_verdict_task, t.verdict, folder, t.loaded.content_hash,
                     wait_for=[upstream])


def describe(exc: BaseException) -> str:
    """One line for a failure record: zizhi's own errors as they are, others with their type."""
    text = str(exc) if isinstance(exc, SubmissionError | ContentChanged) else f"{type(exc).__name__}: {exc}"
    return visible(text)


# How often one batch picks a folder up again after its content changed under the run (a folder
# rewritten non-stop is left to the next run).
RESCANS = 2


def _claim_and_fail(store: str, fp: bl.Fingerprint, owner: str) -> bl.Outcome | None:
    """Record a folder the scan could not use (its `error`) as failed: claimed first, so a transient
    error counts its attempts and stops being retried at the limit. None if the claim was not won."""
    s = bl.backlog_settings()
    st = open_store(store)
    item, error, permanent = fp.item, fp.error, fp.permanent
    try:
        if not st.claim([item], owner=owner, lease_seconds=s.backlog_lease_seconds,
                        max_attempts=s.backlog_max_attempts):
            return None
    except Exception as e:  # noqa: BLE001 - recorded below (if the store takes nothing, that raises)
        error, permanent = f"{error}; and it could not be claimed: {describe(e)}", False
    st.record_failure(item.key, error, owner=owner, permanent=permanent, folder=item.folder)
    return bl.Outcome(item.submission_id, item.content_hash, item.folder, "failed", error=error, permanent=permanent)


def _picked_up_again(store: str, folder: str, owner: str, outcomes: list[bl.Outcome]) -> Item | None:
    """The folder's new content after a change under the run: an item to verify now, or None (its
    failure recorded, or nothing readable there any more)."""
    try:
        fp = bl.fingerprint(Path(folder))
    except OSError:
        return None  # gone (moved, deleted): the next scan sees whatever is there then
    if fp.error:
        if (outcome := _claim_and_fail(store, fp, owner)) is not None:
            outcomes.append(outcome)
        return None
    return fp.item


def task_runner(kind: str, concurrency: int, dask_address: str | None = None):
    if kind == "process":
        from prefect.task_runners import ProcessPoolTaskRunner

        return ProcessPoolTaskRunner(max_workers=concurrency)
    if kind == "dask":
        from prefect_dask import DaskTaskRunner

        if dask_address:
            return DaskTaskRunner(address=dask_address)
        return DaskTaskRunner(cluster_kwargs={"n_workers": concurrency, "threads_per_worker": 1,
                                              "processes": True, "dashboard_address": None})
    return ThreadPoolTaskRunner(max_workers=concurrency + 2)  # + cheap tasks beside the OCR slots


# --- flows -----------------------------------------------------------------------------------

@flow(name="verify-submission", log_prints=True)
def verify_submission(submission_path: str, today: dt.date | None = None, store: str | None = None) -> dict:
    """One submission → its verdict (JSON), published as an artifact; recorded if `store` is given."""
    engine, settings = _engine(), get_settings()
    item = None
    if store:
        path = Path(submission_path)
        fp = bl.fingerprint(path.parent, path.name)
        item = Item(fp.submission_id, fp.content_hash, str(path.parent))
    run = GraphRun(today=bl.today_or(today), reading_key=bl.reading_key(engine, settings),
                   ocr_slots=bl.backlog_settings().backlog_concurrency, store=store,
                   versions=bl.versions(engine, settings, _rules()), owner=current_owner())
    (track,) = run.run([Track(path=str(submission_path), item=item)])
    if track.error is not None:
        raise track.error
    return track.verdict.model_dump(mode="json")


@flow(name="backlog-batch", flow_run_name="batch {number}", log_prints=True)
def backlog_batch(items: list[Item], store: str, today: dt.date, owner: str, number: int = 1,
                  ocr_slots: int = 1) -> list[bl.Outcome]:
    """Claim (a few at a time), verify, and record every verdict or failure of a batch."""
    logger = get_run_logger()
    engine, settings = _engine(), get_settings()
    outcomes: list[bl.Outcome] = []
    todo = list(items)
    for rescan in range(RESCANS + 1):
        run = GraphRun(today=today, reading_key=bl.reading_key(engine, settings), ocr_slots=ocr_slots, store=store,
                       versions=bl.versions(engine, settings, _rules()), owner=owner)
        try:
            tracks = run.run([Track(path=str(Path(i.folder) / bl.SUBMISSION_FILE), item=i) for i in todo],
                             claim=lambda chunk: claim_task(store, chunk, owner))
        except BaseException as e:
            # Interrupted: hand back what was not finished (a later run retries it), then re-raise.
            unfinished = [t.item.key for t in run.started if t.error is None and t.stored is None]
            open_store(store).release(owner, unfinished, f"run interrupted: {type(e).__name__}: {visible(e)}")
            raise
        if len(tracks) < len(todo):
            logger.info("%d of %d taken by another run meanwhile", len(todo) - len(tracks), len(todo))
        todo = []
        for t in tracks:
            item = t.item
            if t.error is None:
                outcomes.append(bl.Outcome(item.submission_id, item.content_hash, item.folder,
                                           t.verdict.decision if t.stored else "duplicate",
                                           reasons=[r.code for r in t.verdict.reasons]))
                continue
            message = describe(t.error)
            if isinstance(t.error, ContentChanged):
                # Nothing is judged on a mix: this content's claim is dropped (the content is gone)
                # and the folder's new content is picked up as a new item.
                logger.info("%s (%s): %s", visible(item.submission_id), visible(Path(item.folder).name), message)
                open_store(store).forget(owner, item.key)
                outcomes.append(bl.Outcome(item.submission_id, item.content_hash, item.folder, "changed",
                                           error=message))
                new = _picked_up_again(store, item.folder, owner, outcomes) if rescan < RESCANS else None
                if new is not None and new.key != item.key:
                    todo.append(new)
                continue
            permanent = isinstance(t.error, SubmissionError)
            logger.warning("%s (%s) failed: %s", visible(item.submission_id), visible(Path(item.folder).name),
                           message)
            record_failure_task(store, item, message, owner, permanent)
            outcomes.append(bl.Outcome(item.submission_id, item.content_hash, item.folder, "failed",
                                       error=message, permanent=permanent))
        if not todo:
            break
    if outcomes:
        create_table_artifact([o.row() for o in outcomes], key="backlog-batch",
                              description=f"batch {number}: {len(outcomes)} submission(s)")
    return outcomes


@flow(name="process-backlog", log_prints=True)
def process_backlog(inbox: str, store: str | None = None, today: dt.date | None = None,
                    batch_size: int | None = None, concurrency: int | None = None,
                    runner: str | None = None) -> dict:
    """Verify, once, every submission under `inbox` whose current content has no verdict yet."""
    logger = get_run_logger()
    s = bl.backlog_settings()
    store_url = store or s.store
    batch_size = batch_size or s.backlog_batch_size
    concurrency = concurrency or s.backlog_concurrency
    runner = runner or s.backlog_task_runner
    today = bl.today_or(today)
    owner = current_owner(uuid.uuid4().hex[:8])
    st = open_store(store_url)

    found = scan_inbox_task(inbox)
    items = [fp.item for fp in found]
    pending = st.pending(items, owner=owner, lease_seconds=s.backlog_lease_seconds,
                         max_attempts=s.backlog_max_attempts)
    skipped = len(items) - len(pending)
    logger.info("%d submission(s) in %s: %d to verify, %d already verified or in progress (store %r)",
                len(items), inbox, len(pending), skipped, st)

    # Folders the scan could not use (unusable JSON, an unreadable file…) are recorded as failed
    # here, each on its own; only the others go to the batches.
    outcomes: list[bl.Outcome] = []
    unusable = {fp.item.key: fp for fp in found if fp.error}
    for item in [i for i in pending if i.key in unusable]:
        fp = unusable[item.key]
        logger.warning("%s (%s) failed: %s", visible(item.submission_id), visible(fp.folder.name), fp.error)
        if (outcome := _claim_and_fail(store_url, fp, owner)) is not None:
            outcomes.append(outcome)
    pending = [i for i in pending if i.key not in unusable]
    chunks = list(bl.batches(pending, batch_size))
    cluster = None
    try:
        dask_address = None
        if runner == "dask" and chunks:
            from distributed import LocalCluster  # one cluster for all batches, not one per batch

            cluster = LocalCluster(n_workers=concurrency, threads_per_worker=1, processes=True,
                                   dashboard_address=None)
            dask_address = cluster.scheduler_address
        with bl.ClaimKeeper(st, owner, interval=max(1.0, s.backlog_lease_seconds / 4)):
            for number, chunk in enumerate(chunks, start=1):
                batch = backlog_batch.with_options(task_runner=task_runner(runner, concurrency, dask_address))
                outcomes += batch(chunk, store_url, today, owner, number, ocr_slots=concurrency)
    finally:
        if cluster is not None:
            cluster.close()

    rows = bl.summary_rows(outcomes, skipped=skipped)
    create_table_artifact(rows or [{"status": "nothing to do", "count": 0, "share": "", "examples": ""}],
                          key="backlog-summary", description=f"backlog {inbox}: {len(outcomes)} verified this run")
    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    return {"inbox": str(inbox), "store": repr(st), "found": len(items), "skipped": skipped,
            "processed": len(outcomes), "counts": counts, "batches": len(chunks),
            "failed": [{"submission_id": o.submission_id, "folder": o.folder, "error": o.error}
                       for o in outcomes if o.status == "failed"]}


@task(name="replay", cache_policy=NO_CACHE, persist_result=False)
def replay_task(root: str, floors: str | None = None) -> dict:
    from devtools.replay import check_floors, load_floors, render, replay

    report = replay(Path(root), engine=_engine())
    floors_path = Path(floors) if floors else Path(root) / "floors.yaml"
    if not floors_path.is_file():
        floors_path = Path(__file__).resolve().parent / "fixtures" / "floors.yaml"
    if floors_path.is_file():
        report.failures = check_floors(report, load_floors(floors_path))
    return {"report": report.model_dump(mode="json"), "text": render(report)}


@flow(name="replay-fixtures", log_prints=True)
def replay_fixtures(root: str = "fixtures", floors: str | None = None) -> dict:
    """Score every fixture submission against its truth; fail the run if a floor is broken."""
    out = replay_task(root, floors)
    report = out["report"]
    create_markdown_artifact(markdown=f"```\n{out['text']}\n```\n", key="replay-report",
                             description=f"replay of {len(report['cases'])} fixture submission(s)")
    create_table_artifact([{"case": c["name"], "expected": "/".join(c["expected_decisions"]),
                            "got": c["decision"] or "error", "ok": c["decision_ok"],
                            "missing_reasons": ", ".join(c["missing_reasons"]), "seconds": c["seconds"]}
                           for c in report["cases"]], key="replay-cases")
    if report["failures"]:
        raise RuntimeError("replay below its floors: " + "; ".join(report["failures"]))
    return {k: report[k] for k in ("doc_type_accuracy", "field_accuracy", "decision_accuracy", "reason_recall",
                                   "false_approves", "seconds_per_submission")}


def deployments(inbox: str, store: str | None = None, *, backlog_cron: str | None = None,
                replay_dir: str | None = None, replay_cron: str | None = None) -> list:
    """The served deployments: the backlog on a cron, the fixture replay nightly."""
    s = bl.backlog_settings()
    return [
        process_backlog.to_deployment(name="backlog", cron=backlog_cron or s.backlog_cron,
                                      parameters={"inbox": inbox, "store": store or s.store},
                                      description="Verify every submission whose content has no verdict yet"),
        replay_fixtures.to_deployment(name="replay-nightly", cron=replay_cron or s.replay_cron,
                                      parameters={"root": str(replay_dir or s.replay_dir)},
                                      description="Accuracy of the pipeline on the fixture submissions"),
    ]


def deploy_to_pool(pool: str, inbox: str, store: str | None = None, *, backlog_cron: str | None = None,
                   replay_dir: str | None = None, replay_cron: str | None = None) -> list[str]:
    """Register the same two deployments in a process work pool (created if missing), for
    `prefect worker start --pool POOL` on any machine with this checkout at the same path."""
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.actions import WorkPoolCreate
    from prefect.exceptions import ObjectAlreadyExists

    with get_client(sync_client=True) as client:
        try:
            client.create_work_pool(WorkPoolCreate(name=pool, type="process"))
        except ObjectAlreadyExists:
            pass
    s = bl.backlog_settings()
    source = str(Path(__file__).resolve().parent)
    ids = []
    for fl, name, cron, params in (
            (process_backlog, "backlog", backlog_cron or s.backlog_cron, {"inbox": inbox, "store": store or s.store}),
            (replay_fixtures, "replay-nightly", replay_cron or s.replay_cron,
             {"root": str(replay_dir or s.replay_dir)})):
        remote = fl.from_source(source=source, entrypoint=f"flows.py:{fl.fn.__name__}")
        ids.append(str(remote.deploy(name=name, work_pool_name=pool, cron=cron, parameters=params,
                                     print_next_steps=False)))
    return ids


__all__ = ["Key", "backlog_batch", "deploy_to_pool", "deployments", "process_backlog", "replay_fixtures",
           "verify_submission"]
