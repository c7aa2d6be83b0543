"""Prefect flows against one temporary Prefect server (session-scoped harness, heartbeats off).

Fast tests use a fake OCR engine that reads nothing (every document is then unreadable, which is
enough to count verdicts); the `ocr` ones run the real engine on copies of fixture submissions.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import signal
import subprocess
import sys
import time

import pytest

from operations.store import DONE, Key, Store
from pipeline.ocr.base import OcrEngine
from tests.conftest import ROOT, SUBMISSIONS

TODAY = dt.date(2026, 11, 27)


@pytest.fixture(scope="session")
def prefect_api(tmp_path_factory):
    """One temporary Prefect server for the whole session; results (the OCR cache) in a tmp folder."""
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from prefect.settings import (
        PREFECT_API_URL,
        PREFECT_FLOWS_HEARTBEAT_FREQUENCY,
        PREFECT_LOCAL_STORAGE_PATH,
        temporary_settings,
    )
    from prefect.testing.utilities import prefect_test_harness

    results = tmp_path_factory.mktemp("prefect-results")
    with temporary_settings(updates={PREFECT_FLOWS_HEARTBEAT_FREQUENCY: None, PREFECT_LOCAL_STORAGE_PATH: results}):
        assert PREFECT_FLOWS_HEARTBEAT_FREQUENCY.value() is None
        with prefect_test_harness(server_startup_timeout=120):
            yield PREFECT_API_URL.value()


@pytest.fixture
def results_dir(tmp_path, prefect_api):
    """A fresh, empty OCR cache for one test."""
    from prefect.settings import PREFECT_LOCAL_STORAGE_PATH, temporary_settings

    with temporary_settings(updates={PREFECT_LOCAL_STORAGE_PATH: tmp_path / "results"}):
        yield tmp_path / "results"


class BlindEngine(OcrEngine):
    """Finds no text: cheap stand-in for the real engine where only the plumbing is under test."""

    name, version, model_ids = "blind", "0", ("none",)

    def detect(self, image):
        return []

    def classify_direction(self, strips):
        return [(0, 1.0)] * len(strips)

    def recognize(self, strips):
        return [("", 0.0)] * len(strips)


@pytest.fixture
def blind(monkeypatch):
    import flows

    engine = BlindEngine()
    monkeypatch.setattr(flows, "_engine", lambda: engine)
    return engine


def make_inbox(root, names=("demo", "general-expired"), broken=True):
    box = root / "inbox"
    for name in names:
        shutil.copytree(SUBMISSIONS / name, box / name)
    if broken:
        (box / "missing-doc").mkdir(parents=True)
        sub = json.loads((SUBMISSIONS / "demo" / "submission.json").read_text(encoding="utf-8"))
        sub["id"], sub["documents"] = "SUB-MISSING", [{"file": "docs/nope.jpg"}]
        (box / "missing-doc" / "submission.json").write_text(json.dumps(sub, ensure_ascii=False), encoding="utf-8")
        (box / "bad-json").mkdir()
        (box / "bad-json" / "submission.json").write_text("{oops", encoding="utf-8")
    return box


def backlog(*args, **kwargs) -> dict:
    """`process_backlog` as an operator sees it: its summary, and a Failed run exactly when a
    submission was recorded as failed."""
    from flows import process_backlog, summary_of

    state = process_backlog(*args, return_state=True, **kwargs)
    summary = summary_of(state)
    assert state.is_failed() == bool(summary["failed"]), (state, summary["failed"])
    return summary


def artifacts(key: str):
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey

    with get_client(sync_client=True) as client:
        return client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=[key])))


def test_backlog_one_verdict_each_broken_recorded_rerun_adds_none(tmp_path, prefect_api, results_dir, blind,
                                                                  monkeypatch):
    import flows

    events = []
    monkeypatch.setattr(flows, "emit_event", lambda **k: events.append(k))
    inbox = make_inbox(tmp_path)
    url = f"sqlite:///{tmp_path / 'v.db'}"
    summary = backlog(str(inbox), store=url, today=TODAY, batch_size=2, concurrency=2)
    assert (summary["found"], summary["processed"], summary["batches"]) == (4, 4, 2)
    # the run ended Failed (checked by `backlog`) and said so with an event an automation can match
    (event,) = events
    assert event["event"] == "zizhi.backlog.failed" and event["payload"]["failed"] == 2
    assert sorted(event["payload"]["submissions"]) == ["SUB-MISSING", "folder:bad-json"]
    assert summary["counts"].pop("failed") == 2
    assert sum(summary["counts"].values()) == 2 and set(summary["counts"]) <= {"reject", "review"}

    store = Store(url)
    assert sorted(v.submission_id for v in store.verdicts()) == ["SUB-FX-001", "SUB-FX-016"]
    failures = {c.submission_id: c for c in store.failures()}
    assert "document not found: docs/nope.jpg" in failures["SUB-MISSING"].error
    assert "not valid JSON" in failures["folder:bad-json"].error
    assert all(c.permanent for c in failures.values())
    v = store.verdicts("SUB-FX-001")[0]
    assert v.versions["engine"] == "blind" and v.checked_on == TODAY and v.flow_run_id
    # The store keeps its own copy of what was verified, for the reviewer console.
    kept = store.stored_files(v.id)
    assert [(k.role, k.name) for k in kept] == [("submission", "submission.json"),
                                               ("document", "docs/business_licence.jpg")]
    assert store.file_bytes(kept[1].sha256) == (inbox / "demo" / "docs" / "business_licence.jpg").read_bytes()

    summaries = artifacts("backlog-summary")
    again = backlog(str(inbox), store=url, today=TODAY)
    assert (again["found"], again["skipped"], again["processed"]) == (4, 4, 0)
    assert len(store.verdicts()) == 2 and len(events) == 1
    # a run with nothing to do does not bury the last real summary under its key
    assert len(artifacts("backlog-summary")) == len(summaries)

    # Reviewers see each verdict (markdown, keyed by submission id) and each run's summary table.
    (md,) = [a for a in artifacts("verdict-sub-fx-001") if a.type == "markdown"][-1:]
    assert f"SUB-FX-001: **{v.decision.upper()}**" in md.data and "## Checks" in md.data
    assert any(a.type == "table" for a in artifacts("backlog-summary"))


def test_verify_submission_records_once_with_a_store(tmp_path, prefect_api, results_dir, blind):
    from flows import verify_submission

    inbox = make_inbox(tmp_path, names=("demo",), broken=False)
    url = f"sqlite:///{tmp_path / 'v.db'}"
    path = str(inbox / "demo" / "submission.json")
    first = verify_submission(path, today=TODAY, store=url)
    verify_submission(path, today=TODAY, store=url)
    assert first["submission_id"] == "SUB-FX-001"
    store = Store(url)
    (v,) = store.verdicts()
    assert store.claims()[Key(v.submission_id, v.content_hash)].state == DONE


@pytest.mark.ocr
def test_flow_verdict_equals_zizhi_verify_and_ocr_cache_hits(tmp_path, prefect_api, results_dir, engine,
                                                             monkeypatch):
    import flows
    from pipeline.runner import verify

    calls = []
    real = flows.read_document
    monkeypatch.setattr(flows, "read_document", lambda *a, **k: calls.append(a[1].file) or real(*a, **k))
    inbox = make_inbox(tmp_path, names=("general-expired",), broken=False)
    path = inbox / "general-expired" / "submission.json"
    got = flows.verify_submission(str(path), today=TODAY)
    assert got == verify(path, today=TODAY, engine=engine).model_dump(mode="json")
    assert len(calls) == 1

    flows.verify_submission(str(path), today=TODAY)  # same content, same engine: cached
    shutil.copytree(inbox / "general-expired", inbox / "same-licence-other-listing")
    flows.verify_submission(str(inbox / "same-licence-other-listing" / "submission.json"), today=TODAY)
    assert len(calls) == 1
    assert any(results_dir.iterdir())

    with (inbox / "general-expired" / "docs" / "business_licence.jpg").open("ab") as f:
        f.write(b"\0")  # a re-upload: new bytes, new reading
    flows.verify_submission(str(path), today=TODAY)
    assert len(calls) == 2


def _store_state(url: str) -> tuple[int, int]:
    s = Store(url)
    try:
        claims = s.claims().values()
        return len(s.verdicts()), sum(c.state == "running" for c in claims)
    except Exception:  # noqa: BLE001 - tables not created yet
        return 0, 0
    finally:
        s.close()


@pytest.mark.ocr
def test_run_killed_midway_then_rerun_gives_exactly_one_verdict_each(tmp_path, prefect_api, engine):
    """A real `kill -9` of `zizhi backlog run` in the middle of a batch, then a second run."""
    names = ("demo", "general-expired", "general-approve-scan", "general-holder-one-char")
    inbox = make_inbox(tmp_path, names=names, broken=False)
    url = f"sqlite:///{tmp_path / 'v.db'}"
    env = {**os.environ, "PREFECT_API_URL": prefect_api, "PREFECT_LOCAL_STORAGE_PATH": str(tmp_path / "res"),
           "ZIZHI_STORE": url, "ZIZHI_BACKLOG_CONCURRENCY": "1"}
    cmd = [sys.executable, "-m", "zizhi", "backlog", "run", "--inbox", str(inbox), "--today",
           TODAY.isoformat(), "--batch-size", "3"]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                            start_new_session=True)
    # A claim is taken just before its submission's work: wait for a verdict and the next claim.
    # Generous deadline: on a loaded 2-core machine the run's start alone can take a minute.
    start = time.monotonic()
    try:
        while time.monotonic() < start + 300 and proc.poll() is None:
            done, running = _store_state(url)
            if done >= 1 and running >= 1:
                break
            time.sleep(0.05)
    finally:
        exited = proc.poll()
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
    done, running = _store_state(url)
    assert 1 <= done < len(names) and running >= 1, \
        f"the run was not caught midway: {done} verdicts, {running} running claims, exit {exited}, " \
        f"{time.monotonic() - start:.0f} s"


    summary = backlog(str(inbox), store=url, today=TODAY, batch_size=3)
    assert summary["processed"] == len(names) - done  # only the rest, including the killed one's claims
    store = Store(url)
    ids = [v.submission_id for v in store.verdicts()]
    assert sorted(ids) == sorted(json.loads((SUBMISSIONS / n / "submission.json").read_text())["id"]
                                 for n in names)
    assert all(c.state == DONE for c in store.claims().values())
    assert any(c.attempts == 2 for c in store.claims().values())  # the dead run's claim was taken over


def test_a_crash_in_the_pipeline_is_recorded_retryable_and_the_rest_finish(tmp_path, prefect_api, results_dir,
                                                                            blind, monkeypatch):
    import flows

    real = flows.assemble_verdict

    def assemble_verdict(submission, *a, **k):
        if submission.id == "SUB-FX-016":
            raise RuntimeError("boom")
        return real(submission, *a, **k)

    monkeypatch.setattr(flows, "assemble_verdict", assemble_verdict)
    inbox = make_inbox(tmp_path, broken=False)
    url = f"sqlite:///{tmp_path / 'v.db'}"
    summary = backlog(str(inbox), store=url, today=TODAY)
    assert summary["failed"] == [{"submission_id": "SUB-FX-016", "folder": str(inbox / "general-expired"),
                                  "error": "RuntimeError: boom"}]
    store = Store(url)
    (failure,) = store.failures()
    assert not failure.permanent and failure.attempts == 1
    assert [v.submission_id for v in store.verdicts()] == ["SUB-FX-001"]

    monkeypatch.setattr(flows, "assemble_verdict", real)  # fixed: the next run retries it, and only it
    again = backlog(str(inbox), store=url, today=TODAY)
    assert again["processed"] == 1 and not again["failed"]
    assert sorted(v.submission_id for v in store.verdicts()) == ["SUB-FX-001", "SUB-FX-016"]
    assert store.claims()[Key(failure.submission_id, failure.content_hash)].attempts == 2


@pytest.mark.ocr
def test_dask_runner_two_worker_processes(tmp_path, prefect_api, monkeypatch):
    """prefect-dask LocalCluster: workers are processes, so they get the API URL from the environment."""
    pytest.importorskip("prefect_dask")

    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    monkeypatch.setenv("PREFECT_LOCAL_STORAGE_PATH", str(tmp_path / "res"))
    inbox = make_inbox(tmp_path, names=("demo", "general-expired"), broken=False)
    url = f"sqlite:///{tmp_path / 'v.db'}"
    summary = backlog(str(inbox), store=url, today=TODAY, concurrency=2, runner="dask")
    assert "failed" not in summary["counts"] and sum(summary["counts"].values()) == 2
    assert sorted(v.submission_id for v in Store(url).verdicts()) == ["SUB-FX-001", "SUB-FX-016"]


def test_served_deployments_carry_their_schedules(tmp_path, monkeypatch):
    monkeypatch.setenv("ZIZHI_BACKLOG_CRON", "*/5 * * * *")
    from flows import deployments

    backlog, replay = deployments(str(tmp_path), "sqlite:///x.db", replay_dir=str(tmp_path))
    assert (backlog.name, backlog.parameters) == ("backlog", {"inbox": str(tmp_path), "store": "sqlite:///x.db"})
    assert backlog.schedules[0].schedule.cron == "*/5 * * * *"
    assert replay.name == "replay-nightly" and replay.schedules[0].schedule.cron == "0 3 * * *"
    # a slow run never overlaps the next scheduled one; crons are read in Beijing time unless told
    assert backlog.concurrency_limit == 1 and replay.concurrency_limit == 1
    assert {d.schedules[0].schedule.timezone for d in (backlog, replay)} == {"Asia/Shanghai"}
    monkeypatch.setenv("ZIZHI_SCHEDULE_TIMEZONE", "Europe/Paris")
    (backlog, _) = deployments(str(tmp_path), concurrency_limit=2)
    assert backlog.schedules[0].schedule.timezone == "Europe/Paris" and backlog.concurrency_limit == 2
    assert deployments(str(tmp_path), scheduled=False)[0].schedules == []


@pytest.mark.ocr
def test_replay_fixtures_flow_scores_and_publishes(tmp_path, prefect_api, results_dir, engine):
    from flows import replay_fixtures

    root = tmp_path / "fx"
    shutil.copytree(SUBMISSIONS / "demo", root / "demo")
    (root / "floors.yaml").write_text("doc_type_accuracy: 0\nfield_accuracy: 0\ndecision_accuracy: 0\n"
                                      "reason_recall: 0\nmax_false_approves: 1\n")
    out = replay_fixtures(str(root))
    assert set(out) >= {"decision_accuracy", "false_approves"}
    assert artifacts("replay-report") and artifacts("replay-cases")


# --- issue 16: no upload stops the backlog; what is verified is exactly what was hashed ----------

def _poison_inbox(root):
    """Two good submissions beside a JSON nested 5,000 deep, an id that is a lone surrogate, and a
    folder whose name is not UTF-8."""
    box = make_inbox(root, names=("demo", "general-expired"), broken=False)
    (box / "deep").mkdir()
    (box / "deep" / "submission.json").write_text("[" * 5000 + "]" * 5000)
    sub = json.loads((SUBMISSIONS / "demo" / "submission.json").read_text(encoding="utf-8"))
    (box / "surrogate").mkdir()
    (box / "surrogate" / "submission.json").write_text(json.dumps({**sub, "id": "\ud800"}))  # "\ud800" escaped
    odd = os.fsencode(box) + b"/name-\xff-latin1"
    os.mkdir(odd)
    with open(odd + b"/submission.json", "w", encoding="utf-8") as f:
        json.dump({**sub, "id": "SUB-ODD-FOLDER"}, f)
    return box


def test_poison_submissions_are_recorded_failed_and_every_good_one_verified_on_every_run(
        tmp_path, prefect_api, results_dir, blind, capsys):
    from zizhi.cli import main

    inbox = _poison_inbox(tmp_path)
    url = f"sqlite:///{tmp_path / 'v.db'}"
    first = backlog(str(inbox), store=url, today=TODAY)
    assert first["found"] == 5 and first["counts"]["failed"] == 3
    store = Store(url)
    assert sorted(v.submission_id for v in store.verdicts()) == ["SUB-FX-001", "SUB-FX-016"]
    failures = {c.submission_id: c for c in store.failures()}
    assert set(failures) == {"folder:deep", "folder:surrogate", "folder:name-\\udcff-latin1"}
    assert "JSON nested 5000 levels deep" in failures["folder:deep"].error
    assert "lone surrogate" in failures["folder:surrogate"].error
    assert "not plain UTF-8" in failures["folder:name-\\udcff-latin1"].error
    assert all(c.permanent for c in failures.values())

    for _ in range(2):  # and again: nothing new, nothing dies
        again = backlog(str(inbox), store=url, today=TODAY)
        assert (again["found"], again["skipped"], again["processed"]) == (5, 5, 0)
    # a new good submission beside them is verified as usual
    shutil.copytree(SUBMISSIONS / "general-approve-scan", inbox / "zz-new")
    later = backlog(str(inbox), store=url, today=TODAY)
    assert later["processed"] == 1 and "failed" not in later["counts"]
    assert len(store.verdicts()) == 3 and len(store.failures()) == 3

    capsys.readouterr()
    assert main(["verdicts", "--store", url, "--failures"]) == 0
    out = capsys.readouterr().out.splitlines()[1:]  # after the header row
    assert len(out) == 3 and any("levels deep" in line for line in out) and any("surrogate" in line for line in out)


def _swap(path, data: bytes) -> None:
    """A re-upload: the file is replaced at once (as a web server's rename does)."""
    tmp = path.with_name(path.name + ".upload")
    tmp.write_bytes(data)
    os.replace(tmp, path)


@pytest.mark.parametrize("when", ["after-scan", "before-read", "before-copy"])
def test_a_licence_swapped_mid_run_is_judged_and_cached_only_as_the_bytes_read(
        tmp_path, prefect_api, results_dir, blind, monkeypatch, when):
    import hashlib

    import flows
    from operations import backlog as bl

    inbox = make_inbox(tmp_path, names=("demo",), broken=False)
    licence = inbox / "demo" / "docs" / "business_licence.jpg"
    mine = licence.read_bytes()
    other = (SUBMISSIONS / "general-expired" / "docs" / "business_licence.jpg").read_bytes()  # another company's
    sha_mine, sha_other = hashlib.sha256(mine).hexdigest(), hashlib.sha256(other).hexdigest()
    before = bl.fingerprint(inbox / "demo")

    swapped = []

    def swap_once():
        if not swapped:
            _swap(licence, other)
            swapped.append(True)

    reads, judged = [], []
    real_read, real_interpret = flows.read_document, flows.interpret_document

    def read_document(*a, **k):
        if when == "before-read":
            swap_once()
        reading = real_read(*a, **k)
        reads.append((k.get("expect_digest"), reading.sha256))
        return reading

    def interpret_document(reading, *a, **k):
        judged.append(reading.sha256)
        return real_interpret(reading, *a, **k)

    monkeypatch.setattr(flows, "read_document", read_document)
    monkeypatch.setattr(flows, "interpret_document", interpret_document)
    if when == "after-scan":
        real_scan = bl.scan_inbox
        monkeypatch.setattr(bl, "scan_inbox", lambda inbox_: [real_scan(inbox_), swap_once()][0])
    if when == "before-copy":
        real_copy = bl.copy_verified
        monkeypatch.setattr(bl, "copy_verified", lambda *a, **k: [swap_once(), real_copy(*a, **k)][1])

    url = f"sqlite:///{tmp_path / 'v.db'}"
    summary = backlog(str(inbox), store=url, today=TODAY)
    assert swapped
    after = bl.fingerprint(inbox / "demo")
    store = Store(url)
    stored = {v.content_hash: v for v in store.verdicts()}
    # every reading that was made (and so could be cached) is of the bytes it is filed under
    assert reads and all(expected == got for expected, got in reads)

    if when == "before-copy":
        # read and judged before the swap: its verdict is the old content's; its copy keeps no swapped bytes
        assert judged == [sha_mine] and set(stored) == {before.content_hash}
        kept = {f.role: f.sha256 for f in store.stored_files(stored[before.content_hash].id)}
        assert kept == {"submission": hashlib.sha256((inbox / "demo" / "submission.json").read_bytes()).hexdigest()}
        again = backlog(str(inbox), store=url, today=TODAY)  # the new content is new work
        assert again["processed"] == 1
    else:
        # never judged on a mix: the old content's claim is dropped, the new content verified as itself
        assert summary["counts"]["changed"] == 1 and "failed" not in summary["counts"]
        assert judged == [sha_other] and set(stored) == {after.content_hash}
        assert Key(before.submission_id, before.content_hash) not in store.claims()
    verdict = store.verdicts()[-1]
    assert verdict.content_hash == after.content_hash
    docs = [f for f in store.stored_files(verdict.id) if f.role == "document"]
    assert [f.sha256 for f in docs] == [sha_other] and store.file_bytes(sha_other) == other

    # The attack: a later submission carrying the first licence must be judged on that licence,
    # never on a reading of the other one filed under its hash.
    judged.clear()
    later = inbox / "later"
    shutil.copytree(SUBMISSIONS / "demo", later)
    (later / "submission.json").write_text((later / "submission.json").read_text(encoding="utf-8").replace(
        "SUB-FX-001", "SUB-LATER"), encoding="utf-8")
    backlog(str(inbox), store=url, today=TODAY)
    assert judged == [sha_mine]
    assert all(expected == got for expected, got in reads)


def test_backlog_run_exits_1_on_failures_with_one_progress_line_not_task_logs(tmp_path, prefect_api, results_dir,
                                                                             blind, capfd, monkeypatch):
    from zizhi.cli import main

    inbox = make_inbox(tmp_path)
    url = f"sqlite:///{tmp_path / 'v.db'}"
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    capfd.readouterr()
    assert main(["backlog", "run", "--inbox", str(inbox), "--store", url]) == 1
    out, err = capfd.readouterr()
    assert "verified now (failed 2," in out and out.count("  failed ") == 2
    progress = [line for line in err.splitlines() if " done · approve " in line]
    assert progress and progress[-1].startswith("4/4 done") and "failed 2" in progress[-1]
    assert "Task run '" not in err  # task logs stay in the Prefect UI
    assert main(["backlog", "run", "--inbox", str(inbox), "--store", url]) == 0  # nothing new, nothing failed


def test_a_store_that_fails_mid_run_stops_it_with_one_line(tmp_path, prefect_api, results_dir, blind, capfd,
                                                           monkeypatch):
    from sqlalchemy.exc import OperationalError

    from zizhi.cli import main

    def full(*a, **k):
        raise OperationalError("INSERT INTO verdicts", {}, Exception("database or disk is full"))

    inbox = make_inbox(tmp_path, names=("demo",), broken=False)
    url = f"sqlite:///{tmp_path / 'v.db'}"
    Store(url).close()
    monkeypatch.setenv("PREFECT_API_URL", prefect_api)
    monkeypatch.setattr(Store, "record_verdict", full)
    monkeypatch.setattr(Store, "record_failure", full)
    capfd.readouterr()
    code = main(["backlog", "run", "--inbox", str(inbox), "--store", url])
    out, err = capfd.readouterr()
    assert code == 1 and out == ""
    assert err.strip().splitlines()[-1] == (f"zizhi: backlog run stopped: verdict store {url} is not usable: "
                                            "database or disk is full")
    assert "Traceback" not in err


def test_the_documented_automation_is_one_prefect_accepts():
    """docs/operations.md's example automation on `zizhi.backlog.failed`, as `prefect automation
    create --from-file` would read it."""
    import re

    import yaml
    from prefect.events.schemas.automations import AutomationCore

    text = (ROOT / "docs" / "operations.md").read_text(encoding="utf-8")
    (automation,) = yaml.safe_load(re.search(r"```yaml\n(.*?)```", text, re.DOTALL).group(1))["automations"]
    trigger = AutomationCore.model_validate(automation).trigger
    assert trigger.expect == {"zizhi.backlog.failed"}
