"""Notifications (SPEC §7): Standard Webhooks signatures as a receiver checks them with the published
library, and at-least-once delivery from the durable outbox to a real local receiver."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
import json
import time

import pytest
from standardwebhooks.webhooks import Webhook, WebhookVerificationError

from operations.intake import IntakeSettings, IntakeStore, StoredObject, outbox
from operations.notify import BadSecret, Notifier, secret_keys, signature, webhook_headers
from operations.store import Store
from tests.conftest import webhook_secret

SECRET = webhook_secret()
NEW_SECRET = "whsec_" + base64.b64encode(b"the-rotated-in-secret-0123456789").decode()


def test_a_receiver_verifies_our_signature_with_the_standard_webhooks_library():
    body = json.dumps({"event_id": "evt_1", "status": "approved"}).encode()
    headers = webhook_headers(secret_keys(SECRET), "evt_1", body)
    assert Webhook(SECRET).verify(body, headers) == {"event_id": "evt_1", "status": "approved"}
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(body + b" ", headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(NEW_SECRET).verify(body, headers)


def test_the_signature_is_exactly_the_specs():
    key = base64.b64decode(SECRET.removeprefix("whsec_"))
    body = b'{"a":1}'
    expected = base64.b64encode(hmac.new(key, b'evt_9.1700000000.{"a":1}', hashlib.sha256).digest()).decode()
    assert signature([key], "evt_9", 1700000000, body) == f"v1,{expected}"
    headers = webhook_headers([key], "evt_9", body, now=1700000000)
    assert headers["webhook-id"] == "evt_9" and headers["webhook-timestamp"] == "1700000000"


def test_while_a_secret_is_rotated_both_signatures_are_sent_and_either_verifies():
    body = b'{"event_id":"evt_2"}'
    headers = webhook_headers(secret_keys(f"{SECRET} {NEW_SECRET}"), "evt_2", body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    for secret in (SECRET, NEW_SECRET):
        Webhook(secret).verify(body, headers)


@pytest.mark.parametrize("bad", ["", "secret", "whsec_not base64!", "whsec_" + base64.b64encode(b"short").decode()])
def test_a_bad_secret_is_refused(bad):
    with pytest.raises(BadSecret):
        secret_keys(bad)


def _store_with_versions(tmp_path, n: int = 1) -> IntakeStore:
    intake = IntakeStore(Store(f"sqlite:///{tmp_path}/verdicts.db"))
    for i in range(n):
        intake.add_version("caller", f"SUB-N-{i}", new=True, content_hash=f"{i:064x}",
                           files=[StoredObject("submission.json", "submission", "0" * 64, 2)])
    return intake


def _settings(receiver, **changes) -> IntakeSettings:
    return IntakeSettings(callback_url=receiver.url, callback_secret=SECRET, callback_retry_seconds=[0.05],
                          **changes)


def _deliver_all(notifier: Notifier, rounds: int = 40) -> None:
    for _ in range(rounds):
        notifier.round()
        if not notifier.intake.events():
            return
        time.sleep(0.06)


def test_a_receiver_down_for_three_attempts_gets_the_event_after_it_recovers(tmp_path, webhook_receiver):
    receiver = webhook_receiver([500, 503, 500])
    intake = _store_with_versions(tmp_path)
    notifier = Notifier(intake, _settings(receiver))
    _deliver_all(notifier)
    assert [status for _, _, status in receiver.deliveries] == [500, 503, 500, 204]
    ids = {h["webhook-id"] for h, _, _ in receiver.deliveries}
    assert len(ids) == 1  # the same event, retried: the receiver drops repeats by webhook-id
    [(headers, body)] = receiver.accepted()
    payload = Webhook(SECRET).verify(body, headers)
    assert payload["event_id"] == headers["webhook-id"] and payload["status"] == "pending"
    assert payload["type"] == "submission.status_changed" and payload["id"] == "SUB-N-0" and payload["version"] == 1
    assert intake.events() == []
    [event] = intake.events(undelivered_only=False)
    assert event["state"] == "delivered" and event["attempts"] == 4 and event["last_error"] == "HTTP 500"


def test_a_410_stops_the_event(tmp_path, webhook_receiver):
    receiver = webhook_receiver([410])
    intake = _store_with_versions(tmp_path)
    _deliver_all(Notifier(intake, _settings(receiver)))
    assert [s for _, _, s in receiver.deliveries] == [410]
    assert intake.events(undelivered_only=False)[0]["state"] == "gone"


def test_events_survive_a_restart_and_keep_each_submissions_order(tmp_path, webhook_receiver):
    down = webhook_receiver([500] * 100)
    intake = _store_with_versions(tmp_path, 2)
    with intake.engine.begin() as conn:  # a second change of SUB-N-0, queued behind its first
        intake._enqueue(conn, "SUB-N-0", 1, "in_review", [], dt.datetime(2100, 1, 1))
    first = Notifier(intake, _settings(down))
    first.round()
    assert {json.loads(b)["id"] for _, b, _ in down.deliveries} == {"SUB-N-0", "SUB-N-1"}  # one each: in order
    assert len(intake.events()) == 3
    # "Restart": a new process's notifier over the same store, the receiver up again.
    up = webhook_receiver()
    reopened = IntakeStore(Store(intake.store.url))
    with reopened.engine.begin() as conn:
        conn.execute(outbox.update().values(next_attempt_at=dt.datetime(2000, 1, 1)))
    _deliver_all(Notifier(reopened, _settings(up)))
    seen = [(json.loads(b)["id"], json.loads(b)["status"]) for _, b in up.accepted()]
    assert sorted(seen) == [("SUB-N-0", "in_review"), ("SUB-N-0", "pending"), ("SUB-N-1", "pending")]
    assert seen.index(("SUB-N-0", "pending")) < seen.index(("SUB-N-0", "in_review"))
    assert reopened.events() == []


def test_without_a_callback_events_wait_in_the_outbox(tmp_path):
    intake = _store_with_versions(tmp_path)
    Notifier(intake, IntakeSettings()).round()
    assert [e["status"] for e in intake.events()] == ["pending"]


def test_zizhi_outbox_lists_what_is_not_yet_delivered(tmp_path, capsys, webhook_receiver):
    from zizhi.cli import main

    intake = _store_with_versions(tmp_path, 2)
    receiver = webhook_receiver([204, 500])
    Notifier(intake, _settings(receiver)).round()  # SUB-N-0 delivered, SUB-N-1 answered 500
    assert main(["outbox", "--store", intake.store.url]) == 0
    out = capsys.readouterr()
    assert "SUB-N-1 v1 → pending" in out.out and "HTTP 500" in out.out and "SUB-N-0" not in out.out
    assert "1 event(s) not yet delivered" in out.err
    assert main(["outbox", "--all", "--json", "--store", intake.store.url]) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted((r["submission_id"], r["state"]) for r in rows) == [("SUB-N-0", "delivered"), ("SUB-N-1", "pending")]
    assert all(r["body"]["type"] == "submission.status_changed" for r in rows)
    assert main(["outbox", "--store", f"sqlite:///{tmp_path}/missing/v.db"]) == 2
