"""The reviewer console over HTTP: every route, and every refusal (no login, bad CSRF, cross-origin,
traversal, bad input). No OCR here: verdicts are made by hand and stored with their file copies."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re

import cv2
import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from console.accounts import hash_password, needs_rehash, verify_password
from console.app import create_app
from console.db import ConsoleStore, QueueFilter
from console.settings import ConsoleSettings
from pipeline import backlog as bl
from pipeline.cli import main
from pipeline.models import Check, DocumentResult, FieldValue, Quality, Reason, Verdict
from pipeline.store import Key, Store, SubmissionCopy, current_owner
from tests.conftest import text_page

PASSWORD = "correct horse battery"
COMPANY = "杭州鲜果时光食品有限公司"


def _page_png(size=(1200, 800)) -> tuple[bytes, dict]:
    image, boxes = text_page([("营业执照", 450, 40), ("名称", 80, 200), (COMPANY, 240, 200)], size=size)
    ok, png = cv2.imencode(".png", image)
    assert ok
    return png.tobytes(), boxes


def _quad(box) -> list[list[int]]:
    x0, y0, x1, y1 = (int(v) for v in box)
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def _record(store: Store, sid: str, *, decision: str, category: str, codes: list[str], png: bytes, box,
            upload: int = 1, content_hash: str | None = None, checks: list[Check] | None = None) -> int:
    submission = {"id": sid, "shop": {"name": "店", "company": COMPANY},
                  "product": {"title": "t", "category": category}, "documents": [{"file": "docs/bl.png"}]}
    verdict = Verdict(
        submission_id=sid, decision=decision, checked_on=dt.date(2026, 11, 27),
        reasons=[Reason(code=c, document="docs/bl.png", message=f"{c} message") for c in codes],
        documents=[DocumentResult(
            file="docs/bl.png", doc_type="business_licence", doc_type_confidence=0.97, pages=1,
            quality=Quality(ok=True, sharpness=300.0, width=1200, height=800, skew_deg=0.0),
            fields={"holder_name": FieldValue(value=COMPANY, confidence=0.97, page=1, box=_quad(box))})],
        checks=checks or [])
    copy = SubmissionCopy(json.dumps(submission, ensure_ascii=False).encode(), category, None, COMPANY,
                          [("document", "docs/bl.png", png)])
    assert store.record_verdict(Key(sid, content_hash or f"hash-{sid}-{upload}"), verdict_json=verdict.model_dump_json(), decision=decision,
                                checked_on=verdict.checked_on, versions={"engine": "test"}, owner=current_owner(),
                                copy=copy, reason_codes=codes)
    return max(v.id for v in store.verdicts(sid))


@pytest.fixture
def env(tmp_path):
    url = f"sqlite:///{tmp_path / 'console.db'}"
    store = Store(url)
    png, boxes = _page_png()
    ids = {
        "review": _record(store, "SUB-A", decision="review", category="general", codes=["LOW_CONFIDENCE"],
                          png=png, box=boxes[COMPANY]),
        "reject": _record(store, "SUB-B", decision="reject", category="food", codes=["EXPIRED", "HOLDER_MISMATCH"],
                          png=png, box=boxes[COMPANY]),
        # an approve in the 2% audit sample: its content hash starts below 051f (the default threshold)
        "approve": _record(store, "SUB-C", decision="approve", category="general", codes=[], png=png,
                           box=boxes[COMPANY], content_hash="0000" + "c" * 60),
    }
    db = ConsoleStore(store)
    db.add_reviewer("alice", PASSWORD)
    app = create_app(url, ConsoleSettings(login_max_failures=3))
    client = TestClient(app, base_url="http://testserver", follow_redirects=False)
    return {"url": url, "store": store, "db": db, "client": client, "ids": ids, "boxes": boxes}


def csrf_of(html: str) -> str:
    return re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)


def login(client: TestClient, name="alice", password=PASSWORD, next_path="/queue"):
    page = client.get("/login", params={"next": next_path})
    return client.post("/login", data={"name": name, "password": password, "csrf_token": csrf_of(page.text),
                                       "next": next_path})


def logged_in(env) -> TestClient:
    r = login(env["client"])
    assert r.status_code == 303
    return env["client"]


# --- no page, image or action without a login ----------------------------------------------

@pytest.mark.parametrize(("method", "path", "status"), [
    ("GET", "/", 303), ("GET", "/queue", 303), ("GET", "/verdicts/1", 303), ("GET", "/audit", 303),
    ("GET", "/verdicts/1/files/1/pages/1.jpg", 401), ("GET", "/export.csv", 401),
    ("POST", "/verdicts/1/decision", 401), ("POST", "/logout", 401),
])
def test_every_route_refuses_without_a_login(env, method, path, status):
    r = env["client"].request(method, path, data={"decision": "approve"} if method == "POST" else None)
    assert r.status_code == status
    if status == 303:
        assert r.headers["location"].startswith("/login?next=")
    assert "SUB-A" not in r.text and COMPANY not in r.text


def test_a_forged_or_expired_session_cookie_is_no_login(env):
    client = env["client"]
    client.cookies.set("zizhi_session", "made-up-token")
    assert client.get("/queue").status_code == 303
    logged_in(env)
    with env["store"].engine.begin() as conn:  # the session went idle 3 hours ago
        conn.execute(text("UPDATE sessions SET seen_at = :t"), {"t": dt.datetime(2020, 1, 1)})
    assert client.get("/queue").status_code == 303


# --- login ---------------------------------------------------------------------------------------

def test_login_sets_an_httponly_samesite_cookie_and_goes_where_it_was_asked(env):
    r = login(env["client"], next_path="/audit")
    assert r.status_code == 303 and r.headers["location"] == "/audit"
    cookie = r.headers["set-cookie"]
    assert "zizhi_session=" in cookie and "HttpOnly" in cookie and "samesite=lax" in cookie.lower()
    assert env["client"].get("/audit").status_code == 200


@pytest.mark.parametrize("target", ["//evil.example/x", "https://evil.example/", "/\\evil.example", "queue"])
def test_login_never_redirects_off_site(env, target):
    r = login(env["client"], next_path=target)
    assert r.headers["location"] == "/queue"


def test_wrong_password_and_unknown_name_are_refused_alike(env):
    wrong = login(env["client"], password="not the password")
    unknown = login(env["client"], name="mallory")
    assert wrong.status_code == unknown.status_code == 401
    assert "Wrong name or password." in wrong.text and "Wrong name or password." in unknown.text
    assert "zizhi_session" not in wrong.headers.get("set-cookie", "")


def test_login_without_its_csrf_cookie_or_token_is_refused(env):
    client = env["client"]
    page = client.get("/login")
    token = csrf_of(page.text)
    r = client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": "x" + token})
    assert r.status_code == 403
    client.cookies.clear()
    r = client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": token})
    assert r.status_code == 403


def test_repeated_failures_lock_the_name_even_for_the_right_password(env):
    for _ in range(3):
        assert login(env["client"], password="guess-guess-guess").status_code == 401
    r = login(env["client"])
    assert r.status_code == 429 and "Too many failed logins" in r.text


def test_logout_needs_csrf_and_ends_the_session(env):
    client = logged_in(env)
    assert client.post("/logout", data={"csrf_token": "wrong"}).status_code == 403
    page = client.get("/queue")
    r = client.post("/logout", data={"csrf_token": csrf_of(page.text)})
    assert r.status_code == 303 and r.headers["location"] == "/login"
    assert client.get("/queue").status_code == 303


def test_disabling_a_reviewer_ends_their_sessions(env):
    client = logged_in(env)
    env["db"].disable_reviewer("alice")
    assert client.get("/queue").status_code == 303
    assert login(env["client"]).status_code == 401


# --- the queue -----------------------------------------------------------------------------------

def test_queue_lists_pending_oldest_first_with_counts(env):
    client = logged_in(env)
    r = client.get("/queue")
    assert r.status_code == 200
    assert r.text.index("SUB-A") < r.text.index("SUB-B") < r.text.index("SUB-C")
    assert "review 1" in r.text and "reject 1" in r.text and "approve 1" in r.text
    for header in ("Content-Security-Policy", "X-Frame-Options", "X-Content-Type-Options"):
        assert header in r.headers
    assert r.headers["Cache-Control"] == "no-store"


@pytest.mark.parametrize(("query", "shown", "hidden"), [
    ({"decision": "reject"}, ["SUB-B"], ["SUB-A", "SUB-C"]),
    ({"category": "general"}, ["SUB-A", "SUB-C"], ["SUB-B"]),
    ({"reason": "HOLDER_MISMATCH"}, ["SUB-B"], ["SUB-A", "SUB-C"]),
    ({"date_from": "2000-01-01", "date_to": "2000-01-02"}, [], ["SUB-A", "SUB-B", "SUB-C"]),
    ({"status": "decided"}, [], ["SUB-A", "SUB-B", "SUB-C"]),
])
def test_queue_filters(env, query, shown, hidden):
    r = logged_in(env).get("/queue", params=query)
    assert r.status_code == 200
    rows = r.text.split("<tbody>")[1] if "<tbody>" in r.text else ""
    assert all(s in rows for s in shown) and not any(h in rows for h in hidden)


def test_queue_today_date_filter_keeps_todays_verdicts(env):
    today = dt.datetime.now(dt.UTC).date().isoformat()
    r = logged_in(env).get("/queue", params={"date_from": today, "date_to": today})
    assert all(s in r.text for s in ("SUB-A", "SUB-B", "SUB-C"))


@pytest.mark.parametrize("query", [{"reason": "NOT_A_CODE"}, {"decision": "maybe"}, {"date_from": "yesterday"},
                                   {"page": "0"}, {"status": "everything"}, {"date_to": "9999-12-31"},
                                   {"reason": "%"}])
def test_queue_refuses_a_bad_filter_with_a_clear_message(env, query):
    r = logged_in(env).get("/queue", params=query)
    assert r.status_code == 400 and "bad filter" in r.text


def test_queue_paginates(env):
    store, db = env["store"], env["db"]
    png, boxes = _page_png()
    for i in range(55):
        _record(store, f"SUB-P{i:03d}", decision="review", category="books", codes=[], png=png, box=boxes[COMPANY])
    rows, total = db.queue(QueueFilter(category="books"))
    assert total == 55 and len(rows) == 50
    rows2, _ = db.queue(QueueFilter(category="books", page=2))
    assert [r.submission_id for r in rows2] == [f"SUB-P{i:03d}" for i in range(50, 55)]
    r = logged_in(env).get("/queue", params={"category": "books", "page": 2})
    assert "page 2 of 2" in r.text and "SUB-P054" in r.text and "SUB-P000" not in r.text


def test_queue_shows_only_the_latest_upload_of_a_submission(env):
    png, boxes = _page_png()
    store = env["store"]
    newer = _record(store, "SUB-A", decision="approve", category="general", codes=[], png=png, box=boxes[COMPANY],
                    upload=2)
    rows, _ = env["db"].queue(QueueFilter(status="all"))
    assert [r.verdict_id for r in rows if r.submission_id == "SUB-A"] == [newer]
    page = logged_in(env).get(f"/verdicts/{env['ids']['review']}")
    assert f'href="/verdicts/{newer}"' in page.text


# --- a verdict and its evidence --------------------------------------------------------------------

def test_verdict_page_shows_declared_fields_boxes_checks_and_reasons(env):
    vid = env["ids"]["reject"]
    r = logged_in(env).get(f"/verdicts/{vid}")
    assert r.status_code == 200
    html = r.text
    assert COMPANY in html and "EXPIRED" in html and "HOLDER_MISMATCH" in html and "business_licence" in html
    x0, y0, x1, y1 = (int(v) for v in env["boxes"][COMPANY])
    assert f'points="{x0},{y0} {x1},{y0} {x1},{y1} {x0},{y1}"' in html
    assert 'viewBox="0 0 1200 800"' in html  # the uploaded page's own coordinates
    assert f"/verdicts/{vid}/files/1/pages/1.jpg" in html
    assert 'data-box="d0-holder_name"' in html


def test_page_image_is_the_stored_copy_as_jpeg(env):
    vid = env["ids"]["review"]
    r = logged_in(env).get(f"/verdicts/{vid}/files/1/pages/1.jpg")
    assert r.status_code == 200 and r.headers["content-type"] == "image/jpeg"
    image = cv2.imdecode(np.frombuffer(r.content, np.uint8), cv2.IMREAD_COLOR)
    assert image.shape[:2] == (800, 1200)
    # The company name is drawn where the stored box says (dark pixels inside it).
    x0, y0, x1, y1 = (int(v) for v in env["boxes"][COMPANY])
    assert image[y0:y1, x0:x1].min() < 80 and image[:30, :30].min() > 200


@pytest.mark.parametrize("path", [
    "/verdicts/{vid}/files/0/pages/1.jpg",       # position 0 is the submission JSON, not an image
    "/verdicts/{vid}/files/1/pages/2.jpg",       # no page 2
    "/verdicts/{vid}/files/9/pages/1.jpg",       # no such file
    "/verdicts/999/files/1/pages/1.jpg",         # no such verdict
    "/verdicts/{vid}/files/..%2F..%2Fetc%2Fpasswd/pages/1.jpg",
    "/verdicts/{vid}/files/1/pages/..%2F..%2F..%2Fetc%2Fpasswd",
    "/static/..%2Fdb.py",
    "/static/../app.py",
    "/verdicts/999",
    "/verdicts/..%2F..%2Fetc%2Fpasswd",
    "/verdicts/99999999999999999999",
    "/verdicts/abc<script>",
])
def test_traversal_and_unknown_ids_find_nothing(env, path):
    client = logged_in(env)
    r = client.get(path.format(vid=env["ids"]["review"]))
    assert r.status_code == 404
    assert "root:" not in r.text and "import" not in r.text and "<script>" not in r.text


def test_static_files_are_served_without_login(env):
    r = env["client"].get("/static/console.css")
    assert r.status_code == 200 and ".field-box" in r.text


# --- decisions and the audit trail -------------------------------------------------------------------

def _decision_form(client, vid, **fields):
    page = client.get(f"/verdicts/{vid}")
    seen = re.search(r'name="seen_review" value="(\d+)"', page.text).group(1)
    return {"csrf_token": csrf_of(page.text), "seen_review": seen, **fields}


def test_decision_is_appended_and_opens_the_next_in_queue(env):
    client, ids, store = logged_in(env), env["ids"], env["store"]
    before = store.verdict(ids["review"]).verdict
    form = _decision_form(client, ids["review"], decision="reject", reason_codes=["UNREADABLE", "EXPIRED"],
                          comment="seal covers the date")
    r = client.post(f"/verdicts/{ids['review']}/decision", data=form)
    assert r.status_code == 303 and r.headers["location"] == f"/verdicts/{ids['reject']}?recorded={ids['review']}"
    assert "SUB-A recorded: reject (UNREADABLE EXPIRED)" in client.get(r.headers["location"]).text
    (review,) = env["db"].reviews(ids["review"])
    assert (review.reviewer, review.decision, review.reason_codes, review.comment, review.prescreen_decision) == (
        "alice", "reject", ["UNREADABLE", "EXPIRED"], "seal covers the date", "review")
    assert store.verdict(ids["review"]).verdict == before  # the pre-screen verdict is never overwritten

    # A change of mind is a second row, not an edit.
    form = _decision_form(client, ids["review"], decision="approve", reason_codes=["EXPIRED"], comment="re-read")
    client.post(f"/verdicts/{ids['review']}/decision", data=form)
    latest, first = env["db"].reviews(ids["review"])
    assert (latest.decision, latest.reason_codes, first.decision) == ("approve", [], "reject")
    page = client.get(f"/verdicts/{ids['review']}")
    assert page.text.count("seal covers the date") == 1 and "re-read" in page.text
    assert "SUB-A" not in client.get("/queue").text.split("<tbody>")[1]
    assert "SUB-A" in client.get("/queue", params={"status": "decided"}).text
    audit = client.get("/audit").text
    assert audit.index("re-read") < audit.index("seal covers the date")  # newest first


def test_the_next_in_queue_keeps_the_filter_and_ends_at_the_queue(env):
    client, ids = logged_in(env), env["ids"]
    form = _decision_form(client, ids["reject"], decision="reject", reason_codes=["EXPIRED"], queue_category="food")
    r = client.post(f"/verdicts/{ids['reject']}/decision", data=form)
    assert r.status_code == 303 and r.headers["location"].startswith("/queue?")  # nothing else in food
    assert "category=food" in r.headers["location"] and "done=" in r.headers["location"]
    assert "Nothing else is pending" in client.get(r.headers["location"]).text


@pytest.mark.parametrize(("fields", "status", "message"), [
    ({"decision": "maybe"}, 400, "choose approve or reject"),
    ({"decision": "reject"}, 400, "needs at least one reason code"),
    ({"decision": "reject", "reason_codes": ["NOPE"]}, 400, "unknown reason code"),
    ({"decision": "approve", "comment": "x" * 4001}, 400, "over 4000"),
])
def test_bad_decisions_are_refused_and_nothing_is_recorded(env, fields, status, message):
    client, vid = logged_in(env), env["ids"]["review"]
    r = client.post(f"/verdicts/{vid}/decision", data=_decision_form(client, vid, **fields))
    assert r.status_code == status and message in r.text
    assert env["db"].reviews(vid) == []


def test_decision_without_the_csrf_token_or_from_another_origin_is_refused(env):
    client, vid = logged_in(env), env["ids"]["review"]
    assert client.post(f"/verdicts/{vid}/decision", data={"decision": "approve"}).status_code == 403
    assert client.post(f"/verdicts/{vid}/decision",
                       data={"decision": "approve", "csrf_token": "forged"}).status_code == 403
    form = _decision_form(client, vid, decision="approve")
    r = client.post(f"/verdicts/{vid}/decision", data=form, headers={"Origin": "http://evil.example"})
    assert r.status_code == 403
    assert env["db"].reviews(vid) == []
    assert client.post(f"/verdicts/{vid}/decision", data=form, headers={"Origin": "http://testserver"}
                       ).status_code == 303


def test_a_csrf_token_of_another_session_does_not_work(env):
    client, vid = logged_in(env), env["ids"]["review"]
    stolen = csrf_of(client.get("/queue").text)
    env["db"].add_reviewer("bob", PASSWORD)
    bob = TestClient(env["client"].app, follow_redirects=False)
    assert login(bob, name="bob").status_code == 303
    assert bob.post(f"/verdicts/{vid}/decision", data={"decision": "approve", "csrf_token": stolen}
                    ).status_code == 403


def test_decision_on_a_missing_verdict_is_404(env):
    client = logged_in(env)
    form = _decision_form(client, env["ids"]["review"], decision="approve")
    assert client.post("/verdicts/999/decision", data=form).status_code == 404


def test_the_audit_trail_refuses_update_and_delete(env):
    vid = env["ids"]["review"]
    env["db"].record_review(vid, reviewer="alice", decision="approve", reason_codes=[], comment="")
    for statement in ("UPDATE reviews SET decision = 'reject'", "DELETE FROM reviews"):
        with pytest.raises(Exception, match="append-only"), env["store"].engine.begin() as conn:
            conn.execute(text(statement))
    assert [r.decision for r in env["db"].reviews(vid)] == ["approve"]


def test_csv_export_has_every_decision_and_defuses_formulas(env):
    client, ids = logged_in(env), env["ids"]
    env["db"].record_review(ids["reject"], reviewer="alice", decision="reject", reason_codes=["EXPIRED"],
                            comment="=HYPERLINK(\"http://evil\")")
    env["db"].record_review(ids["approve"], reviewer="alice", decision="approve", reason_codes=[], comment="好")
    r = client.get("/export.csv")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.DictReader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert [(x["submission_id"], x["decision"], x["category"]) for x in rows] == [
        ("SUB-B", "reject", "food"), ("SUB-C", "approve", "general")]
    assert rows[0]["comment"].startswith("'=") and rows[0]["reason_codes"] == "EXPIRED"
    assert rows[1]["comment"] == "好" and rows[1]["shop_company"] == COMPANY


# --- accounts ------------------------------------------------------------------------------------------

def test_passwords_are_scrypt_hashed_salted_and_checked():
    first, second = hash_password(PASSWORD), hash_password(PASSWORD)
    assert first.startswith("scrypt$n=32768,r=8,p=1$") and first != second and PASSWORD not in first
    assert verify_password(PASSWORD, first) and not verify_password(PASSWORD + "x", first)
    assert not verify_password(PASSWORD, "garbage") and not verify_password(PASSWORD, "md5$x$y$z")
    assert not needs_rehash(first) and needs_rehash(hash_password(PASSWORD, n=2**14))


def test_reviewers_cli_reads_the_password_from_stdin(tmp_path, monkeypatch, capsys):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["reviewers", "add", "carol", "--store", url]) == 0
    monkeypatch.setattr("sys.stdin", io.StringIO("short\n"))
    assert main(["reviewers", "add", "dave", "--store", url]) == 2
    monkeypatch.setattr("sys.stdin", io.StringIO(PASSWORD + "\n"))
    assert main(["reviewers", "add", "carol", "--store", url]) == 2
    assert main(["reviewers", "add", "bad name!", "--store", url]) == 2
    assert main(["reviewers", "list", "--store", url]) == 0
    out, err = capsys.readouterr()
    assert "carol\tactive" in out and "dave" not in out and "at least 10 characters" in err and "exists" in err
    db = ConsoleStore(Store(url))
    assert db.authenticate("carol", PASSWORD) and not db.authenticate("carol", "wrong password!")
    with db.engine.connect() as conn:
        stored = conn.execute(text("SELECT password_hash FROM reviewers")).scalar_one()
    assert PASSWORD not in stored
    assert main(["reviewers", "disable", "carol", "--store", url]) == 0
    assert not db.authenticate("carol", PASSWORD)


# --- the store's copies ---------------------------------------------------------------------------------

def test_copy_is_taken_only_of_the_content_that_was_verified(tmp_path):
    folder = tmp_path / "sub"
    (folder / "docs").mkdir(parents=True)
    png, _ = _page_png()
    (folder / "docs" / "bl.png").write_bytes(png)
    (folder / "submission.json").write_text(json.dumps({
        "id": "SUB-X", "shop": {"name": "n", "company": COMPANY},
        "product": {"title": "t", "category": "general", "brand": "牌", "images": ["docs/bl.png"]},
        "documents": [{"file": "docs/bl.png"}, {"file": "docs/missing.jpg"}, {"file": "../outside.jpg"}]},
        ensure_ascii=False), encoding="utf-8")
    fp = bl.fingerprint(folder)
    copy = bl.copy_submission(folder, fp.content_hash)
    assert copy is not None and (copy.category, copy.brand, copy.shop_company) == ("general", "牌", COMPANY)
    assert [(role, name) for role, name, _ in copy.files] == [("document", "docs/bl.png")]
    (folder / "docs" / "bl.png").write_bytes(png + b"\0")  # re-uploaded since: not what was verified
    assert bl.copy_submission(folder, fp.content_hash) is None


def test_a_file_used_by_many_verdicts_is_stored_once(env):
    with env["store"].engine.connect() as conn:
        files = conn.execute(text("SELECT COUNT(*) FROM files")).scalar_one()
        links = conn.execute(text("SELECT COUNT(*) FROM verdict_files")).scalar_one()
    assert (files, links) == (1 + 3, 3 * 2)  # one page image + three submission JSONs; two links each



# --- abuse: bodies, tokens, races ------------------------------------------------------------------

def test_multipart_and_oversized_bodies_are_refused_before_parsing(env):
    client = env["client"]
    r = client.post("/login", files={"upload": ("x.bin", b"\0" * 1000)}, data={"name": "alice"})
    assert r.status_code == 415
    r = client.post("/login", content=b"name=" + b"a" * 70_000,
                    headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413

    def chunks():  # no Content-Length: counted as it streams
        for _ in range(20):
            yield b"a" * 8192

    r = client.post("/login", content=chunks(), headers={"content-type": "application/x-www-form-urlencoded"})
    assert r.status_code == 413


def test_a_non_ascii_csrf_token_is_a_refusal_not_a_crash(env):
    client = env["client"]
    client.get("/login")
    assert client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": "令牌"}).status_code == 403
    logged_in(env)
    assert client.post("/logout", data={"csrf_token": "令牌"}).status_code == 403


def test_origin_null_is_refused_and_a_public_origin_is_honoured(env):
    client, vid = logged_in(env), env["ids"]["review"]
    form = _decision_form(client, vid, decision="approve")
    assert client.post(f"/verdicts/{vid}/decision", data=form, headers={"Origin": "null"}).status_code == 403
    proxied = TestClient(create_app(env["url"], ConsoleSettings(public_origin="https://review.example")),
                         follow_redirects=False)
    page = proxied.get("/login")
    data = {"name": "alice", "password": PASSWORD, "csrf_token": csrf_of(page.text)}
    assert proxied.post("/login", data=data, headers={"Origin": "http://testserver"}).status_code == 403
    assert proxied.post("/login", data=data, headers={"Origin": "https://review.example"}).status_code == 303


def test_a_decision_made_meanwhile_by_another_reviewer_is_not_silently_followed(env):
    client, vid = logged_in(env), env["ids"]["review"]
    form = _decision_form(client, vid, decision="approve", comment="mine")
    env["db"].record_review(vid, reviewer="bob", decision="reject", reason_codes=["EXPIRED"], comment="bob's")
    r = client.post(f"/verdicts/{vid}/decision", data=form)
    assert r.status_code == 409 and "bob recorded a decision (reject)" in r.text
    assert [x.comment for x in env["db"].reviews(vid)] == ["bob's"]


def test_a_mangled_queue_filter_does_not_cost_the_decision(env):
    client, vid = logged_in(env), env["ids"]["review"]
    form = _decision_form(client, vid, decision="approve", queue_reason="NOPE")
    r = client.post(f"/verdicts/{vid}/decision", data=form)
    assert r.status_code == 303 and r.headers["location"] == f"/verdicts/{env['ids']['reject']}?recorded={vid}"
    assert len(env["db"].reviews(vid)) == 1


def test_bad_page_numbers_in_the_audit_trail_are_a_plain_400(env):
    r = logged_in(env).get("/audit", params={"page": "x"})
    assert r.status_code == 400 and "detail" not in r.text


def test_login_page_shows_no_text_from_the_link(env):
    r = env["client"].get("/login", params={"error": "Call IT on 555-0100 with your password"})
    assert "555-0100" not in r.text


def test_facts_are_kept_without_copies_and_merchant_text_is_made_storable(env):
    store = env["store"]
    assert store.record_verdict(Key("SUB-NOCOPY", "h"), verdict_json=Verdict(
        submission_id="SUB-NOCOPY", decision="review", checked_on=dt.date(2026, 11, 27)).model_dump_json(),
        decision="review", checked_on=dt.date(2026, 11, 27), versions={}, owner=current_owner(),
        reason_codes=["UNCLASSIFIED"])
    rows, _ = env["db"].queue(QueueFilter(reason="UNCLASSIFIED"))
    assert [r.submission_id for r in rows] == ["SUB-NOCOPY"]
    copy = SubmissionCopy(b"{}", "c" * 300, "牌\x00", "公司\x00名", [("document", "a\x00.png", b"x")])
    assert store.record_verdict(Key("SUB-NUL", "h"), verdict_json="{}", decision="review",
                                checked_on=dt.date(2026, 11, 27), versions={}, owner=current_owner(), copy=copy)
    vid = store.verdicts("SUB-NUL")[0].id
    facts = env["db"].facts(vid)
    assert (facts["brand"], facts["shop_company"], len(facts["category"])) == ("牌", "公司名", 300)
    assert [f.name for f in store.stored_files(vid)] == ["submission.json", "a.png"]


def test_no_copy_when_the_folder_is_gone(tmp_path):
    assert bl.copy_submission(tmp_path / "moved-away", "0" * 64) is None


def test_parallel_requests_for_one_file_decode_it_once(tmp_path):
    import threading

    from console.pages import PageRenderer
    from pipeline.settings import IngestOptions

    png, _ = _page_png()
    renderer, loads, barrier = PageRenderer(IngestOptions()), [], threading.Barrier(6)

    def load():
        loads.append(1)
        return png

    def request():
        barrier.wait()
        renderer.render("same-file", load)

    threads = [threading.Thread(target=request) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(loads) == 1 and len(renderer.render("same-file", load).pages) == 1
