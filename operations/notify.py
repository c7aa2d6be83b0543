"""Status-change notifications (SPEC §7), Standard Webhooks 1.0, from the durable outbox.

Each event is POSTed to `ZIZHI_CALLBACK_URL` with `webhook-id` (= its `event_id`), `webhook-timestamp`
(Unix seconds, of this attempt) and `webhook-signature`: `v1,` + base64 of HMAC-SHA256 over
`"{webhook-id}.{webhook-timestamp}.{body}"`, keyed with the base64-decoded part of the `whsec_`
secret — one such value per configured secret, space-separated, while a secret is rotated.

At least once: an event leaves the outbox only on a 2xx (delivered) or a 410 (the receiver wants no
more of it). Anything else — another status, a refused connection, a timeout — is retried after
`ZIZHI_CALLBACK_RETRY_SECONDS` (the last wait repeats). The outbox is a table in the verdict store,
so a restart loses nothing. Receivers drop repeats by `webhook-id`.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import threading
import time

import httpx

from operations.intake import IntakeSettings, IntakeStore
from pipeline.display import visible

log = logging.getLogger(__name__)
SECRET_PREFIX = "whsec_"


class BadSecret(ValueError):
    """A callback secret that is not `whsec_` + base64."""


def secret_keys(secrets: str) -> list[bytes]:
    """The signing keys of `ZIZHI_CALLBACK_SECRET` (one or more `whsec_…`, space-separated)."""
    keys = []
    for secret in secrets.split():
        if not secret.startswith(SECRET_PREFIX):
            raise BadSecret("a callback secret starts with whsec_ followed by base64")
        try:
            key = base64.b64decode(secret[len(SECRET_PREFIX):], validate=True)
        except ValueError:
            raise BadSecret("a callback secret is whsec_ followed by base64: this one does not decode") from None
        if len(key) < 16:
            raise BadSecret("a callback secret should carry at least 16 random bytes (24 or more recommended)")
        keys.append(key)
    if not keys:
        raise BadSecret("no callback secret given")
    return keys


def signature(keys: list[bytes], msg_id: str, timestamp: int, body: bytes) -> str:
    """The `webhook-signature` header: `v1,<base64>` per key, space-separated."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return " ".join("v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
                    for key in keys)


def webhook_headers(keys: list[bytes], event_id: str, body: bytes, now: float | None = None) -> dict[str, str]:
    timestamp = int(now if now is not None else time.time())
    return {"content-type": "application/json", "webhook-id": event_id, "webhook-timestamp": str(timestamp),
            "webhook-signature": signature(keys, event_id, timestamp, body)}


class Notifier:
    """Finds status changes and delivers due events, every `poll` seconds, in a daemon thread."""

    def __init__(self, intake: IntakeStore, settings: IntakeSettings):
        self.intake = intake
        self.settings = settings
        self.url = settings.callback_url
        self.keys = secret_keys(settings.callback_secret) if self.url else []
        self._stop = threading.Event()
        self.wake = threading.Event()
        self._thread = threading.Thread(target=self._run, name="zizhi-notifier", daemon=True)
        self._client = httpx.Client(timeout=settings.callback_timeout_seconds, follow_redirects=False,
                                    headers={"user-agent": "zizhi-webhooks/1"})

    def start(self) -> Notifier:
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self.wake.set()
        self._thread.join(timeout=self.settings.callback_timeout_seconds + 5)
        self._client.close()

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.round()
            except Exception as e:  # noqa: BLE001 - the store may be briefly unreachable: try again next round
                log.warning("notifications: %s", visible(e))
            self.wake.wait(self.settings.worker_poll_seconds)
            self.wake.clear()

    def round(self) -> int:
        """One pass: write events for changed statuses, then send what is due. Returns how many were sent."""
        self.intake.sync_notifications()
        if not self.url:
            return 0  # no callback configured: events stay in the outbox (`zizhi outbox`)
        sent = 0
        for event in self.intake.due_events():
            if self._stop.is_set():
                break
            self.deliver(event)
            sent += 1
        return sent

    def deliver(self, event: dict) -> str:
        """POST one event; records the outcome. Returns delivered / gone / retry."""
        body = event["body"].encode("utf-8")
        headers = webhook_headers(self.keys, event["event_id"], body)
        try:
            response = self._client.post(self.url, content=body, headers=headers)
        except httpx.HTTPError as e:
            self.intake.failed_attempt(event["event_id"], f"{type(e).__name__}: {e}",
                                       self.settings.callback_retry_seconds)
            return "retry"
        if 200 <= response.status_code < 300:
            self.intake.delivered(event["event_id"])
            return "delivered"
        if response.status_code == 410:
            self.intake.delivered(event["event_id"], gone=True)
            log.warning("callback answered 410 Gone for %s: not sent again", event["event_id"])
            return "gone"
        self.intake.failed_attempt(event["event_id"], f"HTTP {response.status_code}",
                                   self.settings.callback_retry_seconds)
        return "retry"
