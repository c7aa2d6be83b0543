"""Issue 22's "done when", for real: `zizhi serve` as a process, SeaweedFS as its object storage, a
Prefect server, and a callback receiver that is down for its first three deliveries.

Ten fixture submissions go in over HTTP multipart; each reaches the decision `zizhi verify` gives on
the same files (pipeline.runner.verify, the function the command calls). Refusals (bad token, a
missing part, a path that leads out, an oversized file, hostile requests) store nothing. The server
is restarted midway; every status change still reaches the receiver, signed (checked with the
Standard Webhooks library), and nothing is lost.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from standardwebhooks.webhooks import Webhook

from devtools.seaweedfs import free_port
from operations.cluster_check import _wait
from operations.intake import IntakeStore
from operations.objects import S3Objects
from operations.store import Store
from tests.conftest import ROOT, SUBMISSIONS, webhook_secret

pytestmark = pytest.mark.ocr

TOKEN = "serve-test-token-0123456789"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
# Small ones, decisions of every kind: an approve, expiries, flags, a missing licence, a product
# image, a two-document category.
CASES = ["demo", "general-layout-term-two-rows-expired", "general-missing-licence", "general-product-image-qr",
         "cosmetics-filing-lowres", "general-lowres-unreadable", "general-flag-finger-over-name",
         "general-flag-specimen", "general-layout-individual-suffix", "general-flag-clean-tight-crop"]
STATUS_OF = {"approve": "approved", "reject": "rejected", "review": "in_review"}
ZIZHI = str(Path(sys.executable).with_name("zizhi"))


def wait_for(predicate, timeout: float, what: str):
    return _wait(what, predicate, timeout)  # RuntimeError naming `what` after `timeout` s


def answers(url: str) -> bool:
    try:
        return httpx.get(url, timeout=1).status_code == 200
    except httpx.HTTPError:
        return False


@pytest.fixture(scope="module")
def prefect_api(tmp_path_factory):
    """A Prefect server of the test's own (its own PREFECT_HOME), shared by both `zizhi serve` runs."""
    home = tmp_path_factory.mktemp("prefect-home")
    port = free_port()
    env = dict(os.environ, PREFECT_HOME=str(home), PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
               PREFECT_API_URL="")
    log = (home / "server.log").open("wb")
    proc = subprocess.Popen([str(Path(sys.executable).with_name("prefect")), "server", "start", "--host", "127.0.0.1",
                             "--port", str(port), "--no-ui", "--no-scheduler", "--no-late-runs"],
                            stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    url = f"http://127.0.0.1:{port}/api"
    try:
        wait_for(lambda: proc.poll() is not None or answers(url + "/health"), 120, "the Prefect server")
        assert proc.poll() is None, (home / "server.log").read_text()[-2000:]
        yield url, home
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
        log.close()


@pytest.fixture
def serve_processes():
    """Every `zizhi serve` a test starts, stopped at its end whatever happened (no orphan on failure)."""
    started: list[Serve] = []
    yield started
    for server in started:
        if server.proc.poll() is None:
            server.proc.kill()
            server.proc.wait(timeout=10)


class Serve:
    """`zizhi serve` as a process on a free loopback port."""

    def __init__(self, env: dict, log: Path, started: list | None = None):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.log = log
        out = log.open("ab")
        self.proc = subprocess.Popen([ZIZHI, "serve", "--host", "127.0.0.1", "--port", str(self.port)],
                                     stdout=out, stderr=subprocess.STDOUT, env=env, cwd=ROOT, start_new_session=True)
        out.close()
        if started is not None:
            started.append(self)
        wait_for(lambda: self.proc.poll() is not None or answers(self.url + "/v1/health"), 90, "zizhi serve")
        assert self.proc.poll() is None, log.read_text()[-3000:]

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        try:
            return self.proc.wait(timeout=90)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.wait(timeout=10)


def multipart(folder: Path, sub: dict | None = None, skip: str | None = None) -> list:
    sub = sub or json.loads((folder / "submission.json").read_text(encoding="utf-8"))
    files = [("submission", (None, json.dumps(sub, ensure_ascii=False).encode(), "application/json"))]
    for name in [d["file"] for d in sub["documents"]] + list(sub["product"].get("images", [])):
        if name != skip:
            files.append((name, (Path(name).name, (folder / name).read_bytes(), "application/octet-stream")))
    return files


def raw_request(port: int, data: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(data)  # with "Connection: close": the server closes after its answer
        chunks = []
        while chunk := s.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_the_listing_service_submits_over_http_and_is_told_every_change(tmp_path, seaweedfs, prefect_api,
                                                                        webhook_receiver, engine, monkeypatch,
                                                                        serve_processes):
    started = time.monotonic()
    for key, value in seaweedfs.env.items():
        monkeypatch.setenv(key, value)
    receiver = webhook_receiver([500, 500, 500])
    api_url, prefect_home = prefect_api
    store_url = f"sqlite:///{tmp_path}/verdicts.db"
    bucket_prefix = f"serve-{tmp_path.name}"
    env = dict(os.environ, **seaweedfs.env, ZIZHI_API_TOKENS=TOKEN, ZIZHI_STORE=store_url,
               ZIZHI_OBJECTS=f"s3://{seaweedfs.bucket}/{bucket_prefix}", ZIZHI_CALLBACK_URL=receiver.url,
               ZIZHI_CALLBACK_SECRET=webhook_secret(), ZIZHI_CALLBACK_RETRY_SECONDS="[0.5]",
               ZIZHI_WORKER_POLL_SECONDS="0.5", ZIZHI_API_MAX_FILE_BYTES=str(1024 * 1024),
               PREFECT_API_URL=api_url, PREFECT_HOME=str(prefect_home),
               PREFECT_LOCAL_STORAGE_PATH=str(tmp_path / "prefect-storage"))
    objects = S3Objects(f"s3://{seaweedfs.bucket}/{bucket_prefix}", endpoint=seaweedfs.endpoint)
    server = Serve(env, tmp_path / "serve.log", serve_processes)
    client = httpx.Client(base_url=server.url, timeout=60)
    store = Store(store_url)
    intake = IntakeStore(store)

    # --- refusals first: each its status, and nothing stored --------------------------------------
    demo = SUBMISSIONS / "demo"
    assert client.post("/v1/submissions", files=multipart(demo)).status_code == 401
    assert client.post("/v1/submissions", files=multipart(demo),
                       headers={"Authorization": "Bearer not-the-token-at-all"}).status_code == 401
    r = client.post("/v1/submissions", files=multipart(demo, skip="docs/business_licence.jpg"), headers=AUTH)
    assert r.status_code == 422 and "was not sent" in r.json()["error"]["message"]
    outside = json.loads((demo / "submission.json").read_text(encoding="utf-8"))
    outside["documents"] = [{"file": "../../etc/licence.jpg"}]
    files = multipart(demo, outside, skip="../../etc/licence.jpg")
    files.append(("../../etc/licence.jpg", ("x.jpg", (demo / "docs/business_licence.jpg").read_bytes(), "image/jpeg")))
    r = client.post("/v1/submissions", files=files, headers=AUTH)
    assert r.status_code == 422 and "'..'" in r.json()["error"]["message"]
    big = multipart(demo)
    big[1] = ("docs/business_licence.jpg", ("b.jpg", b"\xff\xd8\xff\xe0" + b"\0" * (2 * 1024 * 1024), "image/jpeg"))
    assert client.post("/v1/submissions", files=big, headers=AUTH).status_code == 413
    # Hostile: a 64 KB header, a malformed body, a JSON bomb.
    r = client.get("/v1/requirements", headers=AUTH | {"X-Padding": "a" * 65536})
    assert r.status_code == 431
    body = b"--zz\r\nno headers, and no end"
    head = raw_request(server.port, b"POST /v1/submissions HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                       b"Authorization: Bearer " +
                       TOKEN.encode() + b"\r\nContent-Type: multipart/form-data; boundary=zz\r\n"
                       b"Content-Length: %d\r\n\r\n" % len(body) + body)
    assert head.startswith(b"HTTP/1.1 422"), head[:200]
    bomb = multipart(demo)
    bomb[0] = ("submission", (None, b'{"id": ' + b"[" * 100_000 + b"]" * 100_000 + b"}", "application/json"))
    r = client.post("/v1/submissions", files=bomb, headers=AUTH)
    assert r.status_code == 422 and "nested" in r.json()["error"]["message"]
    assert objects.digests() == [] and intake.events(undelivered_only=False) == []

    # --- ten submissions over HTTP, each with an Idempotency-Key; one sent twice ------------------
    accepted = {}
    for case in CASES:
        r = client.post("/v1/submissions", files=multipart(SUBMISSIONS / case), headers=AUTH | {"Idempotency-Key": case})
        assert r.status_code == 202, r.text
        accepted[r.json()["id"]] = case
    again = client.post("/v1/submissions", files=multipart(SUBMISSIONS / CASES[0]),
                        headers=AUTH | {"Idempotency-Key": CASES[0]})
    assert again.status_code == 202 and again.json()["version"] == 1
    assert len(intake.versions(again.json()["id"])) == 1
    stored_after_ten = len(objects.digests())

    def statuses() -> dict[str, str]:
        return {sid: client.get(f"/v1/submissions/{sid}", headers=AUTH).json()["status"] for sid in accepted}

    # --- a restart once some are done, the rest still to do: nothing is lost -----------------------
    wait_for(lambda: sum(s != "pending" for s in statuses().values()) >= 3, 300, "three verdicts")
    assert server.stop() == 0
    server = Serve(env, tmp_path / "serve.log", serve_processes)
    client = httpx.Client(base_url=server.url, timeout=60)
    assert "pending" in statuses().values(), "the restart came too late to leave work for the new process"

    # What `zizhi verify` says on the same files (the same function, in this process), meanwhile.
    from pipeline.runner import verify

    expected = {sid: verify(SUBMISSIONS / case / "submission.json", engine=engine).decision
                for sid, case in accepted.items()}
    def all_decided() -> dict | None:
        now = statuses()
        return None if "pending" in now.values() else now

    final = wait_for(all_decided, 400, "every verdict")
    assert final == {sid: STATUS_OF[d] for sid, d in expected.items()}, (final, expected)
    for sid in accepted:
        got = client.get(f"/v1/submissions/{sid}", headers=AUTH).json()
        assert got["verdict"]["decision"] == expected[sid] and got["review"] is None
        assert all(r["merchant_message"] for r in got["verdict"]["reasons"])

    # --- a resubmission is version 2 --------------------------------------------------------------
    sid = next(s for s, d in expected.items() if d != "approve")
    case = accepted[sid]
    resubmitted = json.loads((SUBMISSIONS / case / "submission.json").read_text(encoding="utf-8"))
    resubmitted["product"]["title"] += "（重新提交）"
    r = client.post(f"/v1/submissions/{sid}/versions", files=multipart(SUBMISSIONS / case, resubmitted), headers=AUTH)
    assert r.status_code == 202 and r.json()["version"] == 2
    wait_for(lambda: client.get(f"/v1/submissions/{sid}", headers=AUTH).json()["status"] != "pending", 200,
             "version 2's verdict")
    history = client.get(f"/v1/submissions/{sid}", headers=AUTH).json()["history"]
    assert [h["version"] for h in history] == [1, 2]
    assert len(objects.digests()) == stored_after_ten + 1  # only the new JSON: its files were stored already

    # --- every status change reached the receiver, signed, after its three 500s --------------------
    v2 = client.get(f"/v1/submissions/{sid}", headers=AUTH).json()["status"]
    expected_changes = {(s, 1): ["pending", STATUS_OF[d]] for s, d in expected.items()}
    expected_changes[(sid, 2)] = ["pending", v2]
    verifier = Webhook(webhook_secret())

    def received() -> dict[tuple[str, int], list[str]]:
        changes: dict[tuple[str, int], list[str]] = {}
        seen_ids = set()
        for headers, body in receiver.accepted():
            payload = verifier.verify(body, headers)  # raises unless the signature and timestamp hold
            assert payload["event_id"] == headers["webhook-id"] and payload["type"] == "submission.status_changed"
            if headers["webhook-id"] in seen_ids:
                continue  # at least once: a receiver drops repeats
            seen_ids.add(headers["webhook-id"])
            changes.setdefault((payload["id"], payload["version"]), []).append(payload["status"])
            if payload["status"] == "rejected":
                assert payload["reasons"] and all(r["merchant_message"] for r in payload["reasons"])
        return changes

    wait_for(lambda: received() == expected_changes, 60, "every status change at the receiver")
    assert [s for _, _, s in receiver.deliveries[:3]] == [500, 500, 500]
    wait_for(lambda: not intake.events(), 30, "an empty outbox")
    assert server.stop() == 0
    store.close()
    print(f"done-when run: {time.monotonic() - started:.0f}s")
