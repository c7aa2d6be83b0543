"""The verdict store: claims, exactly one verdict per content, failures, takeovers of dead runs."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import socket
import threading

import pytest
from sqlalchemy import update

from operations.store import (
    DONE,
    FAILED,
    RUNNING,
    Item,
    Store,
    claims,
    current_owner,
    default_store_url,
    owner_is_dead,
    utcnow,
    verdicts,
)

LEASE, MAX = 300.0, 3
ME = current_owner()
OTHER_HOST = "another-host.example/4242/1"


@pytest.fixture
def store(tmp_path):
    s = Store(f"sqlite:///{tmp_path / 'v.db'}")
    yield s
    s.close()


def items(n: int) -> list[Item]:
    return [Item(f"SUB-{i:03d}", f"{i:064x}", f"/inbox/s{i}") for i in range(n)]


def take(store: Store, its, owner=ME):
    return store.claim(its, owner=owner, lease_seconds=LEASE, max_attempts=MAX)


def record(store: Store, item: Item, owner=ME, decision="approve") -> bool:
    verdict = {"submission_id": item.submission_id, "decision": decision, "reasons": []}
    return store.record_verdict(item.key, verdict_json=json.dumps(verdict), decision=decision,
                                checked_on=dt.date(2026, 11, 27), versions={"engine": "x"}, owner=owner,
                                folder=item.folder)


def dead_owner() -> str:
    """An owner on this host whose process has exited."""
    p = multiprocessing.get_context("spawn").Process(target=int)
    p.start()
    p.join()
    return f"{socket.gethostname()}/{p.pid}/1"


def test_default_url_is_an_sqlite_file_in_the_xdg_data_folder(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_store_url() == f"sqlite:///{tmp_path}/zizhi/verdicts.db"


def test_claim_then_verdict_then_nothing_left(store):
    its = items(3)
    assert take(store, its) == its
    assert take(store, its) == []  # held by this (live) owner
    assert take(store, its, owner=OTHER_HOST) == []  # a live claim is not taken over
    assert record(store, its[0]) is True
    assert record(store, its[0]) is False  # a second verdict for the same content is dropped
    assert [v.submission_id for v in store.verdicts()] == ["SUB-000"]
    assert store.claims()[its[0].key].state == DONE
    assert store.pending(its, owner=OTHER_HOST, lease_seconds=LEASE, max_attempts=MAX) == []


def test_new_content_of_the_same_submission_is_a_new_item(store):
    (a,) = items(1)
    take(store, [a])
    record(store, a)
    b = Item(a.submission_id, "f" * 64, a.folder)
    assert store.pending([a, b], owner=ME, lease_seconds=LEASE, max_attempts=MAX) == [b]
    assert take(store, [b]) == [b]
    record(store, b, decision="reject")
    assert [(v.content_hash[:1], v.decision) for v in store.verdicts(a.submission_id)] == [("0", "approve"),
                                                                                            ("f", "reject")]


def test_claim_of_a_dead_run_on_this_host_is_taken_over_at_once(store):
    its = items(2)
    ghost = dead_owner()
    assert owner_is_dead(ghost)
    assert take(store, its, owner=ghost) == its
    assert take(store, its) == its
    c = store.claims()[its[0].key]
    assert (c.state, c.owner, c.attempts) == (RUNNING, ME, 2)


def test_claim_on_another_host_is_taken_over_only_after_its_lease(store):
    (a,) = items(1)
    take(store, [a], owner=OTHER_HOST)
    assert take(store, [a]) == []
    with store.engine.begin() as conn:
        conn.execute(update(claims).values(heartbeat_at=utcnow() - dt.timedelta(seconds=LEASE + 1)))
    assert take(store, [a]) == [a]


def test_heartbeat_keeps_a_claim_alive(store):
    (a,) = items(1)
    take(store, [a], owner=OTHER_HOST)
    old = utcnow() - dt.timedelta(seconds=LEASE + 1)
    with store.engine.begin() as conn:
        conn.execute(update(claims).values(heartbeat_at=old))
    assert store.heartbeat(OTHER_HOST) == 1
    assert take(store, [a]) == []


def test_owner_liveness():
    assert not owner_is_dead(ME)
    assert not owner_is_dead(OTHER_HOST)  # cannot tell from here
    assert owner_is_dead(dead_owner())
    host, pid, _ = ME.rsplit("/", 2)
    assert owner_is_dead(f"{host}/{pid}/12345")  # our pid, but another process's start time
    assert not owner_is_dead("garbage")


def test_failures_permanent_and_transient(store):
    a, b = items(2)
    take(store, [a, b])
    store.record_failure(a.key, "document not found: docs/x.jpg", owner=ME, permanent=True)
    store.record_failure(b.key, "OSError: disk hiccup", owner=ME, permanent=False)
    failed = {c.submission_id: c for c in store.failures()}
    assert failed["SUB-000"].permanent and failed["SUB-000"].error == "document not found: docs/x.jpg"
    assert not failed["SUB-001"].permanent and failed["SUB-001"].attempts == 1
    # The permanent one is never retried for this content; the transient one until MAX attempts.
    for attempt in range(2, MAX + 1):
        assert store.pending([a, b], owner=ME, lease_seconds=LEASE, max_attempts=MAX) == [b]
        assert take(store, [a, b]) == [b]
        assert store.claims()[b.key].attempts == attempt
        store.record_failure(b.key, "OSError again", owner=ME, permanent=False)
    assert store.pending([a, b], owner=ME, lease_seconds=LEASE, max_attempts=MAX) == []
    assert store.counts() == {RUNNING: 0, DONE: 0, FAILED: 2}


def test_a_submission_whose_runs_keep_dying_is_given_up(store):
    (a,) = items(1)
    for _ in range(MAX):
        assert take(store, [a], owner=dead_owner()) == [a]
    assert take(store, [a]) == []
    c = store.claims()[a.key]
    assert c.state == FAILED and c.permanent and "died 3 time" in c.error


def test_failure_without_a_claim_is_recorded_and_does_not_clobber_a_verdict(store):
    a, b = items(2)
    assert store.record_failure(a.key, "bad", owner=ME, permanent=True, folder=a.folder) == 1
    assert store.claims()[a.key].state == FAILED
    take(store, [b])
    record(store, b)
    assert store.record_failure(b.key, "late", owner=ME, permanent=False) == 0
    assert store.claims()[b.key].state == DONE


def test_release_hands_claims_back_for_a_later_run(store):
    its = items(2)
    take(store, its)
    assert store.release(ME, [i.key for i in its], "run interrupted") == 2
    assert take(store, its, owner=OTHER_HOST) == its


def _claim_in_process(url: str, n: int, out) -> None:
    s = Store(url)
    got = s.claim(items(n), owner=current_owner(), lease_seconds=LEASE, max_attempts=MAX)
    for it in got:
        record(s, it, owner=current_owner())
    out.put(sorted(i.submission_id for i in got))


def test_two_processes_racing_split_the_work(tmp_path):
    url = f"sqlite:///{tmp_path / 'race.db'}"
    Store(url).close()
    ctx = multiprocessing.get_context("spawn")
    out = ctx.Queue()
    procs = [ctx.Process(target=_claim_in_process, args=(url, 40, out)) for _ in range(2)]
    for p in procs:
        p.start()
    got = [out.get(timeout=60) for _ in procs]
    for p in procs:
        p.join(timeout=30)
    assert not set(got[0]) & set(got[1])
    assert sorted(got[0] + got[1]) == [f"SUB-{i:03d}" for i in range(40)]
    assert len(Store(url).verdicts()) == 40


def test_racing_verdicts_for_one_content_leave_exactly_one(store):
    (a,) = items(1)
    take(store, [a])
    results = []
    threads = [threading.Thread(target=lambda: results.append(record(store, a))) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(results) == [False, False, False, True]
    assert len(store.verdicts()) == 1


def test_stored_verdict_json(store):
    (a,) = items(1)
    take(store, [a])
    record(store, a, decision="review")
    (v,) = store.verdicts()
    j = v.to_json()
    assert j["submission_id"] == "SUB-000" and j["decision"] == "review" and j["checked_on"] == "2026-11-27"
    assert j["verdict"]["decision"] == "review" and j["versions"] == {"engine": "x"}
    assert j["created_at"].endswith("Z")


@pytest.mark.skipif(not os.environ.get("ZIZHI_TEST_POSTGRES_URL"), reason="set ZIZHI_TEST_POSTGRES_URL "
                    "(postgresql+psycopg://…) to run the store against PostgreSQL")
def test_postgresql_store():
    s = Store(os.environ["ZIZHI_TEST_POSTGRES_URL"])
    with s.engine.begin() as conn:
        conn.execute(claims.delete())
        conn.execute(verdicts.delete())
    its = items(3)
    assert take(s, its) == its
    assert take(s, its, owner=OTHER_HOST) == []
    assert record(s, its[0]) and not record(s, its[0])
    s.record_failure(its[1].key, "bad", owner=ME, permanent=True)
    assert [v.submission_id for v in s.verdicts()] == ["SUB-000"]
    assert [c.submission_id for c in s.failures()] == ["SUB-001"]
    s.close()


def test_two_runs_in_one_process_are_different_owners(store):
    (a,) = items(1)
    first, second = current_owner("run1"), current_owner("run2")
    assert take(store, [a], owner=first) == [a]
    assert take(store, [a], owner=second) == []  # the first run is alive
    assert not owner_is_dead(first)


@pytest.mark.skipif(not os.environ.get("ZIZHI_TEST_POSTGRES_URL"), reason="set ZIZHI_TEST_POSTGRES_URL "
                    "(postgresql+psycopg://…) to run the console's store against PostgreSQL")
def test_console_store_on_postgresql():
    # Here, not in test_console.py: both PostgreSQL tests share one database, so one worker runs them.
    from sqlalchemy import text

    from console.db import ConsoleStore, QueueFilter
    from operations.store import metadata
    from tests.test_console import COMPANY, _page_png, _record

    store = Store(os.environ["ZIZHI_TEST_POSTGRES_URL"], create=False)
    metadata.drop_all(store.engine)  # this test owns the database: start from nothing
    store = Store(os.environ["ZIZHI_TEST_POSTGRES_URL"])
    png, boxes = _page_png()
    first = _record(store, "SUB-PG", decision="reject", category="food", codes=["EXPIRED"], png=png,
                    box=boxes[COMPANY])
    _record(store, "SUB-PG2", decision="review", category="general", codes=[], png=png, box=boxes[COMPANY])
    db = ConsoleStore(store)
    rows, total = db.queue(QueueFilter(reason="EXPIRED"))
    assert total == 1 and rows[0].verdict_id == first
    assert db.decision_counts(QueueFilter()) == {"review": 1, "reject": 1, "approve": 0}
    db.record_review(first, reviewer="alice", decision="reject", reason_codes=["EXPIRED"], comment="pg")
    assert db.next_in_queue(QueueFilter()) != first
    for statement in ("UPDATE reviews SET decision = 'approve'", "DELETE FROM reviews", "TRUNCATE reviews"):
        with pytest.raises(Exception, match="append-only"), store.engine.begin() as conn:
            conn.execute(text(statement))
    assert [r.comment for r in db.reviews(first)] == ["pg"]
    store.close()


@pytest.mark.skipif(not os.environ.get("ZIZHI_TEST_POSTGRES_URL"), reason="set ZIZHI_TEST_POSTGRES_URL "
                    "(postgresql+psycopg://…) to run the intake API's records against PostgreSQL")
def test_intake_records_on_postgresql():
    # Here, beside the other PostgreSQL tests: they share one database, so one worker runs them in turn.
    from console.db import ConsoleStore
    from operations.intake import Conflict, IntakeStore, StoredObject
    from operations.store import Key, metadata
    from pipeline.models import Verdict

    store = Store(os.environ["ZIZHI_TEST_POSTGRES_URL"], create=False)
    metadata.drop_all(store.engine)
    store = Store(os.environ["ZIZHI_TEST_POSTGRES_URL"])
    intake = IntakeStore(store)
    files = [StoredObject("submission.json", "submission", "a" * 64, 10)]
    first = intake.add_version("caller", "SUB-PG", new=True, content_hash="1" * 64, files=files, idempotency_key="k")
    assert first["version"] == 1
    assert intake.add_version("caller", "SUB-PG", new=True, content_hash="1" * 64, files=files,
                              idempotency_key="k") == first  # the key's answer, after the id's conflict
    with pytest.raises(Conflict):
        intake.add_version("caller", "SUB-PG", new=True, content_hash="2" * 64, files=files)
    assert intake.add_version("caller", "SUB-PG", new=False, content_hash="2" * 64, files=files)["version"] == 2
    [v1, v2] = intake.versions("SUB-PG")
    verdict = Verdict(submission_id="SUB-PG", decision="review", checked_on=dt.date(2026, 12, 7))
    store.record_verdict(Key("SUB-PG", v2.content_hash), verdict_json=verdict.model_dump_json(), decision="review",
                         checked_on=verdict.checked_on, versions={}, owner=ME)
    assert intake.status(v2).status == "in_review" and intake.status(v1).status == "pending"
    assert intake.sync_notifications() == 1
    ConsoleStore(store).record_review(store.verdicts("SUB-PG")[0].id, reviewer="alice", decision="reject",
                                      reason_codes=["EXPIRED"], comment="")
    assert intake.status(v2).status == "rejected" and intake.sync_notifications() == 1
    statuses = [e["status"] for e in intake.due_events()]
    assert statuses == ["pending"]  # one per submission at a time, oldest first
    assert [e["status"] for e in intake.events()] == ["pending", "pending", "in_review", "rejected"]
    assert [v.version for v in intake.pending_work(owner=ME)] == [1]  # v1 has no verdict yet
    store.close()
