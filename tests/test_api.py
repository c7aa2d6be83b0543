"""The intake API in-process (no OCR): every refusal and its status, nothing stored for any of them,
idempotency, versions, requirements, health — over a real store, real object storage (a folder; and
SeaweedFS for the 50-listings test) and the real multipart parser."""

from __future__ import annotations

import asyncio
import hashlib
import json
import time
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from api.app import create_app
from api.service import Service
from api.settings import ApiSettings
from operations.intake import IntakeSettings, IntakeStore, caller_of, materialise
from operations.store import Store
from tests.conftest import SUBMISSIONS

TOKEN, OTHER = "token-for-the-listing-service", "token-of-another-caller-xx"
AUTH = {"Authorization": f"Bearer {TOKEN}"}
DEMO = SUBMISSIONS / "demo"
LICENCE = (DEMO / "docs" / "business_licence.jpg").read_bytes()


def make_client(tmp_path: Path, objects: str | None = None, **api) -> tuple[TestClient, Service]:
    store = Store(f"sqlite:///{tmp_path}/verdicts.db")
    intake_settings = IntakeSettings(objects=objects or str(tmp_path / "objects"))
    (tmp_path / "staging").mkdir(exist_ok=True)
    api.setdefault("staging_dir", str(tmp_path / "staging"))
    service = Service(store=store, objects=intake_settings.open_objects(store.url),
                      settings=ApiSettings(tokens=[TOKEN, OTHER], **api), intake_settings=intake_settings)
    return TestClient(create_app(service), raise_server_exceptions=False), service


@pytest.fixture
def api(tmp_path):
    client, service = make_client(tmp_path)
    yield client, service
    service.store.close()


def submission(sid: str = "SUB-API-1", files: tuple[str, ...] = ("docs/business_licence.jpg",), **product) -> dict:
    return {"id": sid, "shop": {"name": "青禾家居旗舰店", "company": "成都青禾家居用品有限公司"},
            "product": {"title": "收纳盒", "category": "general", "brand": None} | product,
            "documents": [{"file": f} for f in files]}


def parts(sub: dict | bytes | None, files: dict[str, bytes] | None = None) -> list:
    out = []
    if sub is not None:
        data = sub if isinstance(sub, bytes) else json.dumps(sub, ensure_ascii=False).encode()
        out.append(("submission", (None, data, "application/json")))
    for name, data in (files if files is not None else {"docs/business_licence.jpg": LICENCE}).items():
        out.append((name, ("upload", data, "application/octet-stream")))
    return out


def nothing_stored(service: Service) -> None:
    assert list(Path(service.settings.staging_dir).iterdir()) == []  # no spooled upload left behind
    intake = IntakeStore(service.store)
    assert service.objects.digests() == []
    assert intake.events(undelivered_only=False) == []
    assert intake.owner("SUB-API-1") is None


def test_a_submission_is_accepted_stored_once_and_reported_pending(api):
    client, service = api
    r = client.post("/v1/submissions", files=parts(submission()), headers=AUTH)
    assert r.status_code == 202, r.text
    body = r.json()
    assert body["id"] == "SUB-API-1" and body["version"] == 1 and body["status"] == "pending"
    assert len(body["content_hash"]) == 64
    assert len(service.objects.digests()) == 2  # the JSON and the licence
    r = client.get("/v1/submissions/SUB-API-1", headers=AUTH)
    assert r.status_code == 200
    status = r.json()
    assert status["status"] == "pending" and status["verdict"] is None and status["review"] is None
    assert [h["version"] for h in status["history"]] == [1]
    [event] = IntakeStore(service.store).events()
    assert json.loads(event["body"]) == {"event_id": event["event_id"], "type": "submission.status_changed",
                                         "id": "SUB-API-1", "version": 1, "status": "pending", "reasons": []}


def test_the_same_idempotency_key_twice_stores_one_and_answers_the_same(api):
    client, service = api
    headers = AUTH | {"Idempotency-Key": "order-42"}
    first = client.post("/v1/submissions", files=parts(submission()), headers=headers)
    second = client.post("/v1/submissions", files=parts(submission()), headers=headers)
    assert first.status_code == second.status_code == 202
    assert first.json() == second.json()
    assert len(IntakeStore(service.store).versions("SUB-API-1")) == 1
    assert len(IntakeStore(service.store).events()) == 1
    # The same key with other content is a conflict, and stores nothing more.
    before = service.objects.digests()
    other = client.post("/v1/submissions", files=parts(submission(title="另一个标题")), headers=headers)
    assert other.status_code == 409 and other.json()["error"]["code"] == "conflict"
    assert service.objects.digests() == before


def test_a_resubmission_is_version_2_and_an_unchanged_one_is_refused(api):
    client, service = api
    assert client.post("/v1/submissions", files=parts(submission()), headers=AUTH).status_code == 202
    again = client.post("/v1/submissions", files=parts(submission()), headers=AUTH)
    assert again.status_code == 409  # an id is submitted once; resubmissions are versions
    same = client.post("/v1/submissions/SUB-API-1/versions", files=parts(submission()), headers=AUTH)
    assert same.status_code == 409 and "exactly this content" in same.json()["error"]["message"]
    r = client.post("/v1/submissions/SUB-API-1/versions", files=parts(submission(title="收纳盒 三层")), headers=AUTH)
    assert r.status_code == 202 and r.json()["version"] == 2
    history = client.get("/v1/submissions/SUB-API-1", headers=AUTH).json()["history"]
    assert [h["version"] for h in history] == [1, 2] and history[0]["content_hash"] != history[1]["content_hash"]
    # The licence is the same bytes in both versions: stored once (two JSONs + one licence).
    assert len(service.objects.digests()) == 3
    wrong_id = client.post("/v1/submissions/SUB-API-1/versions", files=parts(submission("SUB-OTHER")), headers=AUTH)
    assert wrong_id.status_code == 422 and "not the id in the path" in wrong_id.json()["error"]["message"]
    unknown = client.post("/v1/submissions/SUB-NOPE/versions", files=parts(submission("SUB-NOPE")), headers=AUTH)
    assert unknown.status_code == 404


@pytest.mark.parametrize("headers", [{}, {"Authorization": "Bearer wrong-token-wrong-token"},
                                     {"Authorization": f"Basic {TOKEN}"}, {"Authorization": "Bearer"}])
def test_without_a_valid_token_it_is_401_and_nothing_is_stored(api, headers):
    client, service = api
    r = client.post("/v1/submissions", files=parts(submission()), headers=headers)
    assert r.status_code == 401 and r.json()["error"]["code"] == "unauthorized"
    assert r.headers["www-authenticate"] == "Bearer"
    assert client.get("/v1/requirements", headers=headers).status_code == 401
    assert client.get("/v1/submissions/SUB-API-1", headers=headers).status_code == 401
    nothing_stored(service)


@pytest.mark.parametrize(("sub", "files", "status", "says"), [
    (None, None, 422, "'submission' part"),
    (submission(), {}, 422, "was not sent"),
    (submission(files=("../outside.jpg",)), {"../outside.jpg": LICENCE}, 422, "may not contain '..'"),
    (submission(files=("/etc/passwd.jpg",)), {"/etc/passwd.jpg": LICENCE}, 422, "must be relative"),
    (submission(), {"docs/business_licence.jpg": LICENCE, "docs/extra.jpg": LICENCE}, 422, "not a file the submission"),
    (submission(category="spaceships"), None, 422, "unknown category"),
    (b'{"id": "SUB-API-1", "shop": ', None, 422, "not valid JSON"),
    (b"[" * 5000 + b"]" * 5000, None, 422, "nested"),
    (submission(), {"docs/business_licence.jpg": b"MZ\x90\x00 this is an exe file, not a licence"}, 415, "not a JPG"),
    (submission(), {"docs/business_licence.jpg": b""}, 422, "empty"),
    (submission(files=("submission.json",)), {"submission.json": LICENCE}, 422, "may not be named"),
    (submission("SUB/../API-1"), None, 422, "cannot be polled"),  # accepted, it could never be polled: a 404
    (submission(".."), None, 422, "cannot be polled"),
])
def test_an_unusable_upload_is_refused_with_its_reason_and_nothing_is_stored(api, sub, files, status, says):
    client, service = api
    r = client.post("/v1/submissions", files=parts(sub, files), headers=AUTH)
    assert r.status_code == status, r.text
    assert says in r.json()["error"]["message"]
    nothing_stored(service)


def test_oversized_uploads_are_413_while_streaming_and_nothing_is_stored(tmp_path):
    client, service = make_client(tmp_path, max_file_bytes=64 * 1024, max_request_bytes=256 * 1024)
    big = LICENCE[:4] + b"\0" * (100 * 1024)
    r = client.post("/v1/submissions", files=parts(submission(), {"docs/business_licence.jpg": big}), headers=AUTH)
    assert r.status_code == 413 and "docs/business_licence.jpg" in r.json()["error"]["message"]
    names = tuple(f"docs/{i}.jpg" for i in range(6))
    r = client.post("/v1/submissions", files=parts(submission(files=names), {n: LICENCE[:60_000] for n in names}),
                    headers=AUTH)
    assert r.status_code == 413 and "over the limit" in r.json()["error"]["message"]
    # Sent without a Content-Length (chunked): refused when the running count crosses the limit.
    def chunked():
        yield b'--B\r\nContent-Disposition: form-data; name="docs/business_licence.jpg"\r\n\r\n' + LICENCE[:16]
        for _ in range(100):
            yield b"\0" * 8192
    r = client.post("/v1/submissions", content=chunked(),
                    headers=AUTH | {"content-type": "multipart/form-data; boundary=B"})
    assert r.status_code == 413
    nothing_stored(service)
    service.store.close()
    (tmp_path / "json").mkdir()
    client, service = make_client(tmp_path / "json")
    r = client.post("/v1/submissions", files=parts(b" " * (1024 * 1024 + 1)), headers=AUTH)
    assert r.status_code == 413 and "JSON" in r.json()["error"]["message"]
    nothing_stored(service)
    service.store.close()


def test_hostile_bodies_get_a_clean_4xx(api):
    client, service = api
    r = client.post("/v1/submissions", content=b'{"id": "x"}', headers=AUTH | {"content-type": "application/json"})
    assert r.status_code == 415
    garbage = b"--XYZ\r\nContent-Disposition: form-data; name=\"submission\"\r\n\r\n{}\r\n--XYZ"  # never closed
    r = client.post("/v1/submissions", content=garbage,
                    headers=AUTH | {"content-type": "multipart/form-data; boundary=XYZ"})
    assert r.status_code == 422 and r.json()["error"]["code"] in ("malformed_request", "invalid_submission")
    r = client.post("/v1/submissions", content=b"\x00" * 1000,
                    headers=AUTH | {"content-type": "multipart/form-data"})
    assert r.status_code == 422
    many_headers = b"--B\r\n" + b"".join(b"X-H%d: v\r\n" % i for i in range(50)) + b"\r\nx\r\n--B--\r\n"
    r = client.post("/v1/submissions", content=many_headers,
                    headers=AUTH | {"content-type": "multipart/form-data; boundary=B"})
    assert r.status_code == 422
    r = client.get("/v1/health", headers={"X-Padding": "a" * 65536})
    assert r.status_code == 431 and r.json()["error"]["code"] == "headers_too_large"
    r = client.post("/v1/submissions", files=parts(submission()), headers=AUTH | {"Idempotency-Key": "ключ".encode()})
    assert r.status_code == 422
    nothing_stored(service)


def test_a_submission_is_known_only_to_its_caller(api):
    client, service = api
    assert client.post("/v1/submissions", files=parts(submission()), headers=AUTH).status_code == 202
    other = {"Authorization": f"Bearer {OTHER}"}
    assert client.get("/v1/submissions/SUB-API-1", headers=other).status_code == 404
    r = client.post("/v1/submissions/SUB-API-1/versions", files=parts(submission(title="x")), headers=other)
    assert r.status_code == 404
    r = client.post("/v1/submissions", files=parts(submission()), headers=other)
    assert r.status_code == 409
    assert client.get("/v1/submissions/SUB-UNKNOWN", headers=AUTH).json()["error"]["code"] == "not_found"
    assert IntakeStore(service.store).owner("SUB-API-1") == caller_of(TOKEN)


def test_requirements_come_from_the_category_table_in_chinese(api):
    client, _ = api
    r = client.get("/v1/requirements", params={"category": "health_food", "branded": "true"}, headers=AUTH)
    assert r.status_code == 200
    [cat] = r.json()["categories"]
    assert cat["name_zh"] == "保健食品" and cat["branded"] is True
    docs = {d["doc_type"]: d for d in cat["documents"]}
    assert list(docs) == ["business_licence", "food_business_licence", "health_food_approval",
                          "trademark_certificate", "brand_authorization"]
    assert docs["food_business_licence"]["alternatives"] == [{"doc_type": "food_production_licence",
                                                               "name_zh": "食品生产许可证"}]
    assert docs["business_licence"]["name_zh"] == "营业执照"
    assert any("清晰" in line for line in docs["business_licence"]["must_show"])
    assert any("店铺主体" in line for line in docs["business_licence"]["must_show"])
    assert any("所售商品" in line for line in docs["health_food_approval"]["must_show"])
    files = cat["accepted_files"]
    assert "pdf" in files["extensions"] and files["max_documents"] == 20
    assert files["video_extensions"] == ["mp4", "mov", "webm"] and files["max_product_videos"] == 5  # SPEC §6
    assert len(client.get("/v1/requirements", headers=AUTH).json()["categories"]) >= 10
    assert client.get("/v1/requirements", params={"category": "nope"}, headers=AUTH).status_code == 422


def test_health_says_503_when_object_storage_is_down(tmp_path):
    blocked = tmp_path / "not-a-folder"
    blocked.write_text("a file where the object folder should be")
    client, service = make_client(tmp_path, objects=str(blocked / "objects"))
    assert client.get("/v1/health").status_code == 503
    assert client.get("/v1/health").json()["error"]["code"] == "unavailable"
    service.store.close()
    (tmp_path / "ok").mkdir()
    client, service = make_client(tmp_path / "ok")
    assert client.get("/v1/health").json() == {"status": "ok", "store": "ok", "objects": "ok"}
    service.store.close()


def test_the_openapi_page_documents_every_endpoint(api):
    client, _ = api
    spec = client.get("/openapi.json").json()
    assert {"/v1/requirements", "/v1/submissions", "/v1/submissions/{submission_id}/versions",
            "/v1/submissions/{submission_id}", "/v1/health"} <= set(spec["paths"])
    post = spec["paths"]["/v1/submissions"]["post"]
    assert "multipart/form-data" in post["requestBody"]["content"]
    assert {"202", "401", "409", "413", "415", "422"} <= set(post["responses"])
    assert client.get("/docs").status_code == 200


def test_a_licence_uploaded_with_50_listings_is_stored_once_in_s3(tmp_path, seaweedfs, monkeypatch):
    for key, value in seaweedfs.env.items():
        monkeypatch.setenv(key, value)
    client, service = make_client(tmp_path, objects=f"s3://{seaweedfs.bucket}/fifty-{tmp_path.name}")
    assert service.objects.endpoint == seaweedfs.endpoint  # an S3 store, not a folder
    for n in range(50):
        r = client.post("/v1/submissions", files=parts(submission(f"SUB-50-{n:02d}")), headers=AUTH)
        assert r.status_code == 202, r.text
    digests = service.objects.digests()
    licence = hashlib.sha256(LICENCE).hexdigest()
    assert digests.count(licence) == 1
    assert len(digests) == 51  # 50 submission JSONs (their ids differ) + the one licence
    assert client.get("/v1/health").status_code == 200
    service.store.close()


def test_a_cluster_without_the_embedded_worker_gets_an_intake_deployment(tmp_path):
    from flows import deployments

    assert [d.name for d in deployments(str(tmp_path), "sqlite:///x.db")] == ["backlog", "replay-nightly"]
    *_, intake = deployments(str(tmp_path), "sqlite:///x.db", intake_cron="* * * * *")
    assert intake.name == "intake" and intake.parameters == {"store": "sqlite:///x.db"}
    assert intake.schedules[0].schedule.cron == "* * * * *"


def test_status_follows_the_prescreen_until_a_reviewer_decides_and_each_change_becomes_an_event(api):
    import datetime as dt

    from console.db import ConsoleStore
    from operations.store import Key, current_owner
    from pipeline.models import Reason, Verdict

    client, service = api
    accepted = client.post("/v1/submissions", files=parts(submission()), headers=AUTH).json()
    intake = IntakeStore(service.store)
    verdict = Verdict(submission_id="SUB-API-1", decision="review", checked_on=dt.date(2026, 12, 7), reasons=[
        Reason(code="LOW_CONFIDENCE", document="docs/business_licence.jpg", message="holder read at 0.41",
               merchant_message="资质文件不清晰：营业执照上的名称无法清晰辨认，请重新上传。")])
    service.store.record_verdict(Key("SUB-API-1", accepted["content_hash"]), verdict_json=verdict.model_dump_json(),
                                 decision="review", checked_on=verdict.checked_on, versions={}, owner=current_owner())
    got = client.get("/v1/submissions/SUB-API-1", headers=AUTH).json()
    assert got["status"] == "in_review" and got["verdict"]["decision"] == "review" and got["review"] is None
    assert intake.sync_notifications() == 1 and intake.sync_notifications() == 0
    # A reviewer rejects in the console, adding a code the pre-screen did not give: theirs stands.
    console = ConsoleStore(service.store)
    verdict_id = service.store.verdicts("SUB-API-1")[0].id
    console.record_review(verdict_id, reviewer="alice", decision="reject",
                          reason_codes=["LOW_CONFIDENCE", "AUTHENTICITY_FLAG"], comment="internal note")
    got = client.get("/v1/submissions/SUB-API-1", headers=AUTH).json()
    assert got["status"] == "rejected" and got["review"]["decision"] == "reject"
    messages = [r["merchant_message"] for r in got["review"]["reasons"]]
    assert messages[0] == "资质文件不清晰：营业执照上的名称无法清晰辨认，请重新上传。"
    assert messages[1] == service.rules.merchant_messages.codes["AUTHENTICITY_FLAG"].generic
    assert "internal note" not in json.dumps(got["review"], ensure_ascii=False)
    assert got["history"][0]["status"] == "rejected"
    assert intake.sync_notifications() == 1
    bodies = [json.loads(e["body"]) for e in intake.events()]
    assert [b["status"] for b in bodies] == ["pending", "in_review", "rejected"]
    assert [r["code"] for r in bodies[-1]["reasons"]] == ["LOW_CONFIDENCE", "AUTHENTICITY_FLAG"]
    # The reviewer changes their mind: approved, told once more.
    console.record_review(verdict_id, reviewer="bob", decision="approve", reason_codes=[], comment="")
    assert client.get("/v1/submissions/SUB-API-1", headers=AUTH).json()["status"] == "approved"
    assert intake.sync_notifications() == 1
    assert json.loads(intake.events()[-1]["body"])["reasons"] == []


def test_a_submission_that_cannot_be_processed_is_failed_with_its_reason(api):
    from operations.store import Key, current_owner

    client, service = api
    accepted = client.post("/v1/submissions", files=parts(submission()), headers=AUTH).json()
    service.store.record_failure(Key("SUB-API-1", accepted["content_hash"]), "could not fetch the upload",
                                 owner=current_owner(), permanent=True)
    got = client.get("/v1/submissions/SUB-API-1", headers=AUTH).json()
    assert got["status"] == "failed" and got["failure_reason"] == "could not fetch the upload"
    assert got["verdict"] is None


def test_one_file_under_two_spellings_must_be_the_same_bytes(api):
    client, _ = api
    sub = submission(files=("docs/business_licence.jpg", "./docs/business_licence.jpg"))
    same = {"docs/business_licence.jpg": LICENCE, "./docs/business_licence.jpg": LICENCE}
    assert client.post("/v1/submissions", files=parts(sub, same), headers=AUTH).status_code == 202
    other = {"docs/business_licence.jpg": LICENCE, "./docs/business_licence.jpg": LICENCE[:-10] + b"\0" * 10}
    r = client.post("/v1/submissions", files=parts(dict(sub, id="SUB-API-2"), other), headers=AUTH)
    assert r.status_code == 422 and "name the same file" in r.json()["error"]["message"]


def test_chinese_file_names_arrive_as_written(api):
    client, service = api
    sub = submission(files=("资质/营业执照.jpg",))
    r = client.post("/v1/submissions", files=parts(sub, {"资质/营业执照.jpg": LICENCE}), headers=AUTH)
    assert r.status_code == 202, r.text
    [version] = IntakeStore(service.store).versions("SUB-API-1")
    assert [f.name for f in version.files] == ["submission.json", "资质/营业执照.jpg"]


def test_a_listing_with_a_product_video_is_accepted_and_a_video_that_is_not_one_is_415(api):
    # SPEC §7: one part per document, product image *and video*; the backlog verifies videos (§6)
    client, service = api
    video = (SUBMISSIONS / "general-listing-clean-video-ordinary-text" / "media" / "detail.mp4").read_bytes()
    sub = submission(videos=["media/detail.mp4"])
    r = client.post("/v1/submissions", files=parts(sub, {"docs/business_licence.jpg": LICENCE,
                                                         "media/detail.mp4": video}), headers=AUTH)
    assert r.status_code == 202, r.text
    [version] = IntakeStore(service.store).versions("SUB-API-1")
    assert [(f.name, f.role) for f in version.files][1:] == [("docs/business_licence.jpg", "document"),
                                                             ("media/detail.mp4", "product_video")]
    folder = materialise(service.objects, version, Path(service.settings.staging_dir).parent / "worker")
    assert (folder / "media" / "detail.mp4").read_bytes() == video  # what the worker lays out for the backlog
    for name, data in (("media/detail.mp4", LICENCE), ("docs/business_licence.jpg", video)):  # swapped
        files = {"docs/business_licence.jpg": LICENCE, "media/detail.mp4": video} | {name: data}
        r = client.post("/v1/submissions", files=parts(dict(sub, id="SUB-API-2"), files), headers=AUTH)
        assert r.status_code == 415 and name in r.json()["error"]["message"], r.text
    assert IntakeStore(service.store).owner("SUB-API-2") is None


def test_an_upload_streams_to_disk_never_whole_in_memory(tmp_path):
    import asyncio
    import tracemalloc

    from api.uploads import Limits, receive

    size = 40 * 1024 * 1024

    async def body():
        yield b'--B\r\nContent-Disposition: form-data; name="docs/big.pdf"; filename="big.pdf"\r\n\r\n%PDF-1.4\n'
        block = b"0" * (256 * 1024)
        for _ in range(size // len(block)):
            yield block
        yield b"\r\n--B--\r\n"

    tracemalloc.start()
    upload = asyncio.run(receive("multipart/form-data; boundary=B", None, body(), tmp_path,
                                 Limits(max_file_bytes=50 * 1024 * 1024, max_request_bytes=60 * 1024 * 1024,
                                        max_parts=3)))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    part = upload.files["docs/big.pdf"]
    assert part.size == size + len(b"%PDF-1.4\n") and part.path.stat().st_size == part.size
    assert peak < 4 * 1024 * 1024, f"peak {peak / 2**20:.1f} MiB for a {size / 2**20:.0f} MiB upload"


def test_an_upload_that_stops_arriving_is_408_not_held_forever(tmp_path):
    from api.errors import ApiError
    from api.uploads import Limits, receive

    async def stalled():
        yield b'--B\r\nContent-Disposition: form-data; name="docs/a.jpg"; filename="a.jpg"\r\n\r\n\xff\xd8'
        await asyncio.sleep(3600)  # the client went quiet after its first bytes

    limits = Limits(max_file_bytes=1024 * 1024, max_request_bytes=2 * 1024 * 1024, max_parts=3, body_idle_seconds=0.3)
    started = time.monotonic()
    with pytest.raises(ApiError) as raised:
        asyncio.run(receive("multipart/form-data; boundary=B", None, stalled(), tmp_path, limits))
    assert raised.value.status == 408 and "stalled" in raised.value.message
    assert time.monotonic() - started < 5


def test_object_storage_down_during_an_upload_is_503_and_no_version(tmp_path, monkeypatch):
    from devtools.seaweedfs import free_port

    # A real endpoint address where nothing listens (connection refused), as when the S3 server is down.
    monkeypatch.setenv("ZIZHI_S3_ENDPOINT", f"http://127.0.0.1:{free_port()}")
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "zizhi-test")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "zizhi-test-secret")
    client, service = make_client(tmp_path, objects="s3://zizhi/down")
    r = client.post("/v1/submissions", files=parts(submission()), headers=AUTH)
    assert r.status_code == 503 and r.json()["error"]["code"] == "unavailable"
    assert IntakeStore(service.store).owner("SUB-API-1") is None and IntakeStore(service.store).events() == []
    assert list(Path(service.settings.staging_dir).iterdir()) == []
    assert client.get("/v1/health").status_code == 503
    service.store.close()


@pytest.mark.parametrize("port", ["99999", "0", "-1", "http"])
def test_zizhi_serve_refuses_a_port_out_of_range_in_one_line(port, capsys):
    from zizhi.cli import main

    with pytest.raises(SystemExit) as e:  # argparse's usage error, not socket.bind's OverflowError
        main(["serve", "--no-worker", "--port", port])
    assert e.value.code == 2 and "not a TCP port" in capsys.readouterr().err
