"""Prefect flows: a thin layer over the plain functions in `pipeline/`.

- `verify_submission`: one submission; per document a cached OCR task (load + straighten + OCR)
  and an extract task, then the verdict task — the same functions `zizhi verify` composes.
- `process_backlog`: every submission under an inbox whose current content has no verdict yet,
  in batch sub-flows (hundreds of tasks each), claimed in and recorded to zizhi's verdict store.
  Each submission is one `verify` task (claim, then the tasks above called in turn), mapped on the
  batch's task runner, whose size bounds the work in flight: Prefect schedules, nothing here does.
- `process_intake`: the submissions the intake API accepted (operations/intake.py) whose content has no
  verdict yet: each fetched from object storage into a staging folder and verified by the same
  `backlog-batch` sub-flow as an inbox (claims, verdicts, failures recorded alike).
- `replay_fixtures`: the fixture replay (accuracy against ground truth) as a flow, for nightly runs.

`zizhi verify` calls `pipeline.runner.verify` directly (a one-off check should not pay for
Prefect's temporary server); these flows run the same functions for scheduled, observed work.
Tasks take paths and hashes, never image bytes (Prefect would hash them).
"""

from __future__ import annotations

import datetime as dt
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

from prefect import flow, get_run_logger, task, unmapped
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE
from prefect.events import emit_event
from prefect.futures import as_completed
from prefect.runtime import flow_run as runtime_flow_run
from prefect.states import Failed
from prefect.task_runners import ThreadPoolTaskRunner

from operations import backlog as bl
from operations import progress as pg
from operations.readings import SharedReadings, read_shared
from operations.store import RUNNING, Item, Key, Store, current_owner
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


_shared: dict[str, SharedReadings] = {}


def shared_readings(url: str | None) -> SharedReadings | None:
    """The readings kept in the verdict store at `url` (one per URL per process), or None without a
    store or with ZIZHI_OCR_CACHE=false."""
    s = bl.backlog_settings()
    if not url or not s.ocr_cache:
        return None
    if url not in _shared:
        secret = s.reading_secret.get_secret_value().encode() if s.reading_secret else None
        _shared[url] = SharedReadings(open_store(url), secret)
    return _shared[url]


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
    video_hashes: list[str] = field(default_factory=list)  # one per submission.product.videos entry
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
                            video_hashes=[fp.doc_hashes[file] for file in submission.product.videos],
                            submission_json=fp.submission_json, digests=dict(fp.doc_hashes))


def _ocr_cache_key(context, parameters) -> str | None:
    if not bl.backlog_settings().ocr_cache or not parameters.get("doc_hash"):
        return None
    return f"zizhi-ocr-{parameters['reading_key']}-{parameters['doc_hash']}"


@task(name="ocr-document", cache_key_fn=_ocr_cache_key, persist_result=True, retries=1,
      retry_delay_seconds=2, retry_condition_fn=_retry_on_io, task_run_name="ocr {submission_id} {ref.file}")
def read_document_task(base_dir: str, ref: DocumentRef, doc_hash: str, reading_key: str,
                       submission_id: str = "", store: str | None = None) -> DocumentReading:
    """Load, straighten and OCR one document: cached by the file's digest and the engine's identity,
    in this machine's Prefect results and, with a `store`, in the verdict store for every worker.

    The file is read once and its bytes must have `doc_hash` (else ContentChanged, and nothing is
    cached): the reading filed under a digest is always the reading of those bytes. A reading found
    in the store is of the same bytes (checked on load), perhaps under another upload's file name."""
    return read_shared(shared_readings(store), reading_key, base_dir, ref, _engine(), get_settings(), doc_hash,
                       read=read_document)


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
                 image_hashes: list[str] | None = None, video_hashes: list[str] | None = None) -> Verdict:
    """The rules over the documents (and product images, videos, text), and the decision: the same
    function `zizhi verify` ends with. Product images and videos are read once each and must have
    `image_hashes` / `video_hashes`."""
    return assemble_verdict(submission, Path(base_dir), works, today=today, settings=get_settings(), rules=_rules(),
                            engine=_engine(), image_digests=image_hashes, video_digests=video_hashes)


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

@dataclass(frozen=True)
class Judging:
    """What every submission of a run is judged with, and where and as whom its verdict is recorded."""

    today: dt.date
    reading_key: str
    store: str | None = None
    versions: dict = field(default_factory=dict)
    owner: str | None = None


def verify_one(path: str, item: Item | None, how: Judging) -> tuple[Verdict, bool]:
    """One submission through its tasks, each called in turn (nested task runs): load, then per
    document OCR (cached) and extract, the verdict, with a store its record, then its artifact.

    Returns (verdict, stored): stored is False when a verdict for this content was stored already.
    Raises what the first failing task raised (SubmissionError, ContentChanged, or a bug)."""
    loaded = load_submission_task(path, item.content_hash if item else None)
    submission = loaded.submission
    works = []
    for ref, doc_hash in zip(submission.documents, loaded.doc_hashes, strict=True):
        reading = read_document_task(loaded.base_dir, ref, doc_hash, how.reading_key, submission.id, how.store)
        works.append(extract_task(reading, loaded.base_dir, ref, submission.id, doc_hash))
    verdict = verdict_task(submission, works, how.today, loaded.base_dir, loaded.image_hashes, loaded.video_hashes)
    stored = True
    if how.store and item is not None:
        stored = record_verdict_task(how.store, item, verdict, how.versions, how.owner, loaded)
    if stored:
        folder = item.folder if item else str(Path(path).parent)
        state = publish_verdict_task(verdict, folder, loaded.content_hash, return_state=True)
        if not state.is_completed():  # the verdict is stored: a missing artifact only costs the UI view
            get_run_logger().warning("artifact for %s not published: %s", visible(verdict.submission_id),
                                     state.message)
    return verdict, stored


@task(name="verify", cache_policy=NO_CACHE, persist_result=False, task_run_name="verify {item.submission_id}")
def verify_item_task(item: Item, how: Judging) -> bl.Outcome | None:
    """Claim one pending submission, verify and record it; None when another run holds its claim.

    The claim is taken just before the work starts, so runs sharing an inbox split it between them
    and a killed run leaves only the submissions it was working on to be taken over."""
    if not claim_task(how.store, [item], how.owner):
        return None
    verdict, stored = verify_one(str(Path(item.folder) / bl.SUBMISSION_FILE), item, how)
    return bl.Outcome(item.submission_id, item.content_hash, item.folder,
                      verdict.decision if stored else "duplicate", reasons=bl.reason_codes(verdict))


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
    # One thread per submission in flight: its tasks run one after another inside it (nested task runs).
    return ThreadPoolTaskRunner(max_workers=concurrency)


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
    how = Judging(bl.today_or(today), bl.reading_key(engine, settings), store,
                  bl.versions(engine, settings, _rules()), current_owner())
    verdict, _ = verify_one(str(submission_path), item, how)
    return verdict.model_dump(mode="json")


def _settle(items: list[Item], how: Judging) -> Iterator[tuple[Item, bl.Outcome | None, BaseException | None]]:
    """Verify `items` on the flow's task runner (its bound: `--workers` at once); yields each item
    as its task ends: (item, outcome or None when another run holds it, the exception it raised)."""
    futures = verify_item_task.map(items, unmapped(how))
    item_of = {id(f): item for f, item in zip(futures, items, strict=True)}
    for future in as_completed(futures):
        future.wait()  # done in the runner is not yet the final state read back
        state = future.state
        if state.is_completed():
            yield item_of[id(future)], future.result(), None
        else:
            yield item_of[id(future)], None, _exception_of(state) or RuntimeError(
                f"ended {state.name}: {state.message}")


@flow(name="backlog-batch", flow_run_name="batch {number} of {of}", log_prints=True)
def backlog_batch(items: list[Item], store: str, today: dt.date, owner: str, number: int = 1,
                  of: int = 1) -> list[bl.Outcome]:
    """Claim (each just before its work), verify, and record every verdict or failure of a batch."""
    logger = get_run_logger()
    engine, settings = _engine(), get_settings()
    how = Judging(today, bl.reading_key(engine, settings), store, bl.versions(engine, settings, _rules()), owner)
    progress = pg.current_progress(len(items))
    outcomes: list[bl.Outcome] = []
    todo = list(items)
    for rescan in range(RESCANS + 1):
        again: list[Item] = []
        taken = 0
        try:
            for item, outcome, error in _settle(todo, how):
                if error is None:
                    if outcome is None:
                        taken += 1
                    else:
                        outcomes.append(outcome)
                    progress.add(outcome.status if outcome else "taken")
                    continue
                message = describe(error)
                if isinstance(error, ContentChanged):
                    # Nothing is judged on a mix: this content's claim is dropped (the content is gone)
                    # and the folder's new content is picked up as a new item.
                    logger.info("%s (%s): %s", visible(item.submission_id), visible(Path(item.folder).name), message)
                    open_store(store).forget(owner, item.key)
                    outcomes.append(bl.Outcome(item.submission_id, item.content_hash, item.folder, "changed",
                                               error=message))
                    new = _picked_up_again(store, item.folder, owner, outcomes) if rescan < RESCANS else None
                    if new is not None and new.key != item.key:
                        again.append(new)
                        progress.grow(1)
                    progress.add("changed")
                    continue
                permanent = isinstance(error, SubmissionError)
                logger.warning("%s (%s) failed: %s", visible(item.submission_id), visible(Path(item.folder).name),
                               message)
                record_failure_task(store, item, message, owner, permanent)
                outcomes.append(bl.Outcome(item.submission_id, item.content_hash, item.folder, "failed",
                                           error=message, permanent=permanent))
                progress.add("failed")
        except BaseException as e:
            # Interrupted: hand back the claims this run holds and did not finish (a later run
            # retries them), then re-raise.
            st = open_store(store)
            mine = [k for k, c in st.claims([i.key for i in todo]).items() if c.state == RUNNING and c.owner == owner]
            st.release(owner, mine, f"run interrupted: {type(e).__name__}: {visible(e)}")
            raise
        if taken:
            logger.info("%d of %d taken by another run meanwhile", taken, len(todo))
        todo = again
        if not todo:
            break
    if outcomes:  # on this batch run's own page (no key: one batch never hides another)
        create_table_artifact([o.row() for o in outcomes],
                              description=f"batch {number} of {of}: {len(outcomes)} submission(s)")
    return outcomes


class BacklogFailures(Exception):
    """A backlog run recorded failures: the flow run ends Failed, with the run's summary attached."""

    def __init__(self, summary: dict):
        self.summary = summary
        super().__init__(f"{len(summary['failed'])} submission(s) failed")


def summary_of(state) -> dict:
    """The summary dict of a finished `process_backlog` run (`return_state=True`), Completed or Failed
    for recorded failures; raises the run's own exception when it stopped for another reason."""
    result = state.result(raise_on_failure=False)
    if isinstance(result, BacklogFailures):
        return result.summary
    if isinstance(result, BaseException):
        raise result
    return result


@flow(name="process-backlog", log_prints=True)
def process_backlog(inbox: str, store: str | None = None, today: dt.date | None = None,
                    batch_size: int | None = None, concurrency: int | None = None,
                    runner: str | None = None) -> dict:
    """Verify, once, every submission under `inbox` whose current content has no verdict yet.

    Ends Failed (with the summary attached: see `summary_of`) when a submission was recorded as
    failed, after emitting the `zizhi.backlog.failed` event; the rest of the inbox is verified anyway."""
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
    progress = pg.Progress(total=len(pending))
    token = pg.set_progress(progress)

    # Folders the scan could not use (unusable JSON, an unreadable file…) are recorded as failed
    # here, each on its own; only the others go to the batches.
    outcomes: list[bl.Outcome] = []
    unusable = {fp.item.key: fp for fp in found if fp.error}
    for item in [i for i in pending if i.key in unusable]:
        fp = unusable[item.key]
        logger.warning("%s (%s) failed: %s", visible(item.submission_id), visible(fp.folder.name), fp.error)
        if (outcome := _claim_and_fail(store_url, fp, owner)) is not None:
            outcomes.append(outcome)
        progress.add(outcome.status if outcome else "taken")
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
                outcomes += batch(chunk, store_url, today, owner, number, len(chunks))
    finally:
        pg.reset_progress(token)
        if cluster is not None:
            cluster.close()

    counts: dict[str, int] = {}
    for o in outcomes:
        counts[o.status] = counts.get(o.status, 0) + 1
    summary = {"inbox": str(inbox), "store": repr(st), "found": len(items), "skipped": skipped,
               "processed": len(outcomes), "counts": counts, "batches": len(chunks),
               "failed": [{"submission_id": o.submission_id, "folder": o.folder, "error": o.error}
                          for o in outcomes if o.status == "failed"]}
    rows = bl.summary_rows(outcomes, skipped=skipped)
    description = f"backlog {inbox}: {len(outcomes)} verified this run"
    # On the run's own page, always; under the `backlog-summary` key only when the run did something,
    # so an empty scheduled run never buries the last real summary.
    create_table_artifact(rows or [{"status": "nothing to do", "count": 0, "share": "", "examples": ""}],
                          description=description)
    if outcomes:
        create_table_artifact(rows, key="backlog-summary", description=description)
    if summary["failed"]:
        emit_event(event="zizhi.backlog.failed",
                   resource={"prefect.resource.id": f"zizhi.inbox.{bl.artifact_key('inbox', str(inbox))}",
                             "prefect.resource.name": str(inbox)},
                   payload={"failed": len(summary["failed"]), "processed": len(outcomes),
                            "submissions": [f["submission_id"] for f in summary["failed"]][:50]})
        return Failed(message=f"{len(summary['failed'])} of {len(outcomes)} submission(s) failed "
                              f"(zizhi verdicts --failures)", data=BacklogFailures(summary))
    return summary


@flow(name="process-intake", log_prints=True)
def process_intake(store: str | None = None, objects: str | None = None, today: dt.date | None = None,
                   limit: int | None = None, concurrency: int | None = None) -> dict:
    """Verify the API's accepted submissions whose content has no verdict yet (at most `limit`).

    Each is fetched by digest from object storage (`objects`, default ZIZHI_OBJECTS) into a staging
    folder and goes through `backlog-batch` like an inbox folder: claimed, verified, its verdict or
    failure recorded. Status changes are then written to the outbox for the callback."""
    from operations.intake import IntakeSettings, IntakeStore, materialise

    logger = get_run_logger()
    s = bl.backlog_settings()
    store_url = store or s.store
    st = open_store(store_url)
    intake = IntakeStore(st)
    settings = IntakeSettings()
    objs = settings.open_objects(store_url) if objects is None else \
        IntakeSettings(objects=objects).open_objects(store_url)
    owner = current_owner(uuid.uuid4().hex[:8])
    todo = intake.pending_work(owner=owner, limit=limit or s.backlog_batch_size)
    summary: dict = {"found": len(todo), "counts": {}, "failed": []}
    if not todo:
        return summary
    staging = Path(tempfile.mkdtemp(prefix="zizhi-intake-"))
    try:
        items = []
        for n, version in enumerate(todo):
            try:
                # Named after the submission: the verdict store keeps the folder a verdict was made from.
                safe = re.sub(r"[^A-Za-z0-9._-]+", "_", version.submission_id)[:80]
                folder = materialise(objs, version, staging / f"{n:04d}-{safe}-v{version.version}")
            except Exception as e:  # noqa: BLE001 - storage unreachable or corrupt: retried up to the limit
                message = f"could not fetch the upload from object storage: {describe(e)}"
                logger.warning("%s v%d: %s", visible(version.submission_id), version.version, message)
                item = Item(version.submission_id, version.content_hash)
                if st.claim([item], owner=owner, lease_seconds=s.backlog_lease_seconds,
                            max_attempts=s.backlog_max_attempts):
                    st.record_failure(item.key, message, owner=owner, permanent=False)
                summary["failed"].append({"submission_id": version.submission_id, "error": message})
                continue
            items.append(Item(version.submission_id, version.content_hash, str(folder)))
        logger.info("%d accepted submission(s) to verify from %r", len(items), objs)
        if items:
            runner = task_runner("thread", concurrency or s.backlog_concurrency)
            with bl.ClaimKeeper(st, owner, interval=max(1.0, s.backlog_lease_seconds / 4)):
                outcomes = backlog_batch.with_options(task_runner=runner)(items, store_url, bl.today_or(today), owner)
            for o in outcomes:
                summary["counts"][o.status] = summary["counts"].get(o.status, 0) + 1
                if o.status == "failed":
                    summary["failed"].append({"submission_id": o.submission_id, "error": o.error})
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    intake.sync_notifications()
    return summary


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


def _schedule(cron: str, timezone: str | None):
    from prefect.schedules import Cron

    return Cron(cron, timezone=timezone or bl.backlog_settings().schedule_timezone)


def _deployment_specs(inbox: str, store: str | None, *, backlog_cron: str | None, replay_dir: str | None,
                      replay_cron: str | None, timezone: str | None, concurrency_limit: int | None,
                      scheduled: bool = True, intake_cron: str | None = None) -> list[dict]:
    """The two deployments: the backlog on a cron, the fixture replay nightly; each with its schedule
    (in `timezone`, default ZIZHI_SCHEDULE_TIMEZONE; none when not `scheduled`: runs on demand only)
    and a concurrency limit (default ZIZHI_DEPLOYMENT_CONCURRENCY, 1)."""
    s = bl.backlog_settings()
    limit = concurrency_limit or s.deployment_concurrency
    return [
        {"flow": process_backlog, "name": "backlog", "concurrency_limit": limit,
         "schedules": [_schedule(backlog_cron or s.backlog_cron, timezone)] if scheduled else [],
         "parameters": {"inbox": inbox, "store": store or s.store},
         "description": "Verify every submission whose content has no verdict yet"},
        {"flow": replay_fixtures, "name": "replay-nightly", "concurrency_limit": 1,
         "schedules": [_schedule(replay_cron or s.replay_cron, timezone)] if scheduled else [],
         "parameters": {"root": str(replay_dir or s.replay_dir)},
         "description": "Accuracy of the pipeline on the fixture submissions"},
    ] + ([{"flow": process_intake, "name": "intake", "concurrency_limit": limit,
           "schedules": [_schedule(intake_cron, timezone)] if scheduled else [],
           "parameters": {"store": store or s.store},
           "description": "Verify what the intake API accepted (zizhi serve --no-worker leaves it to this)"}]
         if intake_cron else [])


def deployments(inbox: str, store: str | None = None, *, backlog_cron: str | None = None,
                replay_dir: str | None = None, replay_cron: str | None = None, timezone: str | None = None,
                concurrency_limit: int | None = None, scheduled: bool = True,
                intake_cron: str | None = None) -> list:
    """The served deployments: the backlog on a cron, the fixture replay nightly."""
    specs = _deployment_specs(inbox, store, backlog_cron=backlog_cron, replay_dir=replay_dir, replay_cron=replay_cron,
                              timezone=timezone, concurrency_limit=concurrency_limit, scheduled=scheduled,
                              intake_cron=intake_cron)
    return [spec.pop("flow").to_deployment(**spec) for spec in specs]


def deploy_to_pool(pool: str, inbox: str, store: str | None = None, *, backlog_cron: str | None = None,
                   replay_dir: str | None = None, replay_cron: str | None = None, timezone: str | None = None,
                   concurrency_limit: int | None = None, scheduled: bool = True,
                   intake_cron: str | None = None) -> list[str]:
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
    source = str(Path(__file__).resolve().parent)
    ids = []
    for spec in _deployment_specs(inbox, store, backlog_cron=backlog_cron, replay_dir=replay_dir,
                                  replay_cron=replay_cron, timezone=timezone, concurrency_limit=concurrency_limit,
                                  scheduled=scheduled, intake_cron=intake_cron):
        fl = spec.pop("flow")
        remote = fl.from_source(source=source, entrypoint=f"flows.py:{fl.fn.__name__}")
        ids.append(str(remote.deploy(work_pool_name=pool, print_next_steps=False, **spec)))
    return ids


__all__ = ["Key", "backlog_batch", "deploy_to_pool", "deployments", "process_backlog", "process_intake",
           "replay_fixtures", "verify_submission"]
