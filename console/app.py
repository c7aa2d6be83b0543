"""The reviewer console: a server-rendered web app over the verdict store.

Routes (all but /login, /language and /static need a login):

- `GET /queue`: latest verdict of each submission, filterable, oldest first, paginated.
- `GET /verdicts/{id}`: the evidence — pages with field boxes, quality, fields, checks, reasons —
  and the decision form. `POST /verdicts/{id}/decision` appends to the audit trail, then opens
  the next verdict of the same queue.
- `GET /verdicts/{id}/files/{position}/pages/{page}.jpg`: a page of the store's copy of a file.
  Only integers come from the request; the bytes come from the database, never from a path.
- `GET /verdicts/{id}/files/{position}/pages/{page}/full.jpg`: the same page at full resolution.
- `GET /verdicts/{id}/documents/{doc}/fields/{field}.jpg`: the crop of one field's box.
- `GET /verdicts/{id}/next`, `/prev`: the neighbour in the filtered queue (keys `j` / `k`),
  skipping verdicts another reviewer holds.
- `GET /audit`, `GET /export.csv`: the audit trail, on screen and as CSV.
- `GET /stats`, `GET /stats.json`: agreement, overturns, audit sample, reviewers' pace, over a
  date range.
- `GET /language/{zh-CN|en}?next=PATH`: the language link (a cookie); pages are in zh-CN unless it
  or the browser's Accept-Language asks for English (console/i18n.py).

Opening a pending verdict takes a lease on it (`ZIZHI_CONSOLE_LEASE_MINUTES`): others see who is
reviewing it, `j` and "next" skip it, and their decisions on it are refused (409) while it lasts.

Every POST carries the session's CSRF token (the login form: a double-submit cookie) and, when the
browser sends an Origin, must come from this origin.
"""

from __future__ import annotations

import asyncio
import csv
import datetime as dt
import hmac
import io
import secrets
import threading
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode, urlsplit

import cv2
import jinja2
from fastapi import FastAPI, Request
from fastapi import Path as PathParam
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response, StreamingResponse
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from markupsafe import Markup, escape
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException

from console.db import PAGE_SIZE, ConsoleStore, QueueFilter, Session
from console.evidence import (
    checks_to_look_at,
    crop_jpeg,
    failed_check_names,
    reason_views,
    video_frames,
    visible,
)
from console.i18n import LANG_COOKIE, LOCALES, TAGS, Translator, environment, locale_of_tag, preferred_locale
from console.labels import N_
from console.pages import PageRenderer, page_views
from console.settings import ConsoleSettings
from operations.store import Store
from pipeline.media.videos import frame_at
from pipeline.merchant import reviewer_reasons
from pipeline.models import REASON_CODES, Submission, Verdict
from pipeline.settings import get_settings
from rules import load_rules

HERE = Path(__file__).resolve().parent
SESSION_COOKIE = "zizhi_session"
LOGIN_CSRF_COOKIE = "zizhi_login_csrf"
MAX_COMMENT = 4000
MAX_FORM_BYTES = 64 * 1024
PARALLEL_PASSWORD_CHECKS = 2  # scrypt takes ~50 ms and 32 MiB each: a login flood queues, the rest serves
MAX_ID = 2**31 - 1
FILTER_PREFIX = "queue_"  # the decision form carries the queue's filter under this prefix
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'self'; img-src 'self'; style-src 'self'; script-src 'self'; "
                               "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
}


# Starlette's own error details (an unknown path, a wrong method): in the catalogue like ours.
STARLETTE_DETAILS = (N_("Not Found"), N_("Method Not Allowed"))


class LoginRequired(Exception):
    pass


class LoginThrottle:
    """Failed logins per name in a sliding window, kept in the database (a restart does not lift a
    lockout; `zizhi reviewers unlock NAME` does). A name over the limit is locked until it slides.

    `attempt` counts a try as failed *before* the password is checked (atomically with the lock
    test, under a lock in this process), and `succeeded` forgives it: parallel guesses cannot all
    slip in under the limit.
    """

    def __init__(self, db: ConsoleStore, max_failures: int, window: dt.timedelta):
        self.db, self.max_failures, self.window = db, max_failures, window
        self._lock = threading.Lock()

    def attempt(self, name: str) -> bool:
        """False when the name is locked; else the attempt is counted (as failed, until forgiven)."""
        with self._lock:
            return self.db.login_attempt(name, max_failures=self.max_failures, window=self.window)

    def succeeded(self, name: str) -> None:
        self.db.login_succeeded(name)


class PageError(HTTPException):
    """An HTTP error whose page links back to where the reviewer was (`back`, a path on this site).
    `detail` is a gettext msgid, filled with `params` in the reader's language."""

    def __init__(self, status_code: int, detail: str, back: str | None = None, params: dict | None = None):
        super().__init__(status_code, detail)
        self.back, self.params = back, params or {}


class FormLimit:
    """Refuses a request body over `max_bytes` (counted as it streams, whatever Content-Length says)
    and any multipart body: every form here is small and urlencoded, and a multipart parser would
    spool uploads to disk before the login or CSRF check could refuse them."""

    def __init__(self, app, max_bytes: int):
        self.app, self.max_bytes = app, max_bytes

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD"):
            return await self.app(scope, receive, send)
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        if headers.get("content-type", "").lower().startswith("multipart/"):
            return await _plain(send, 415, "multipart bodies are not accepted")
        try:
            declared = int(headers.get("content-length", "0"))
        except ValueError:
            declared = self.max_bytes + 1
        if declared > self.max_bytes:
            return await _plain(send, 413, "request body too large")
        seen = 0

        async def limited_receive():
            nonlocal seen
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    raise HTTPException(413, N_("request body too large"))
            return message

        return await self.app(scope, limited_receive, send)


async def _plain(send, status: int, text: str) -> None:
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"text/plain; charset=utf-8")]})
    await send({"type": "http.response.body", "body": text.encode()})


def _same_token(given: object, expected: str) -> bool:
    """Constant-time comparison that also survives a non-ASCII or non-string value."""
    return isinstance(given, str) and hmac.compare_digest(given.encode(), expected.encode())


def _safe_next(target: str | None) -> str:
    """Only a path on this site (no scheme, no host, no `//evil`) may be a redirect target."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return "/queue"
    parts = urlsplit(target)
    if parts.scheme or parts.netloc:
        return "/queue"
    return target


def _csv_cell(value: object) -> str:
    """A cell a spreadsheet will not run as a formula (OWASP CSV injection)."""
    text = "" if value is None else str(value)
    return "'" + text if text[:1] in ("=", "+", "-", "@", "\t", "\r") else text


def create_app(store_url: str | None = None, settings: ConsoleSettings | None = None) -> FastAPI:
    settings = settings or ConsoleSettings()
    store = Store(store_url)
    db = ConsoleStore(store, audit_share=settings.audit_share)
    renderer = PageRenderer(get_settings().ingest, capacity=settings.rendered_documents)
    throttle = LoginThrottle(db, settings.login_max_failures, dt.timedelta(minutes=settings.login_lockout_minutes))
    # `visible` on every {{ … }} (and every value put into a translated sentence): ids, names and
    # values from uploads never carry an invisible character, a newline or a bidi override onto the screen.
    # One environment per language (console.i18n): a request's gettext is never another's.
    loader = jinja2.FileSystemLoader(str(HERE / "templates"))
    templates = {}
    for locale in LOCALES:
        templates[locale] = Jinja2Templates(env=environment(locale, loader, visible))
        templates[locale].env.globals.update(reason_codes=REASON_CODES, urlencode=urlencode,
                                             filter_prefix=FILTER_PREFIX, max_comment=MAX_COMMENT)

    app = FastAPI(title="zizhi reviewer console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.store, app.state.db, app.state.settings = store, db, settings
    app.add_middleware(FormLimit, max_bytes=MAX_FORM_BYTES)
    password_checks = asyncio.Semaphore(PARALLEL_PASSWORD_CHECKS)
    app.mount("/static", StaticFiles(directory=str(HERE / "static")), name="static")

    @app.middleware("http")
    async def security_headers(request: Request, call_next):
        response = await call_next(request)
        for k, v in SECURITY_HEADERS.items():
            response.headers.setdefault(k, v)
        if not request.url.path.startswith("/static/"):
            response.headers.setdefault("Cache-Control", "no-store")
        return response

    @app.exception_handler(LoginRequired)
    async def to_login(request: Request, _exc: LoginRequired):
        if request.method == "GET" and not request.url.path.endswith((".jpg", ".csv", ".json")):
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            return RedirectResponse("/login?" + urlencode({"next": target}), status_code=303)
        return Response("login required", status_code=401, media_type="text/plain")

    @app.exception_handler(HTTPException)
    async def error_page(request: Request, exc: HTTPException):
        params = getattr(exc, "params", None) or {}
        if request.url.path.endswith((".jpg", ".csv", ".json")):  # for programs: English, as the API speaks
            detail = str(exc.detail) % params if params else str(exc.detail)
            return Response(detail, status_code=exc.status_code, media_type="text/plain")
        detail = translator(request).gettext(str(exc.detail))  # Starlette's own ("Not Found") are in the catalogue
        if params:
            detail = detail % params
        return render(request, "error.html", None, status_code=exc.status_code, detail=detail,
                      back=getattr(exc, "back", None))

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError):
        # A malformed id or page number: the same "not found" whoever asks, echoing nothing back.
        status = 404 if any(err.get("loc", ("",))[0] == "path" for err in exc.errors()) else 400
        return await error_page(request, HTTPException(status, N_("not found") if status == 404 else
                                                       N_("bad request")))

    # -- helpers --

    def locale_of(request: Request) -> str:
        return preferred_locale(request.cookies.get(LANG_COOKIE), request.headers.get("accept-language"))

    def translator(request: Request) -> Translator:
        return Translator(locale_of(request))

    def current_session(request: Request) -> Session:
        token = request.cookies.get(SESSION_COOKIE, "")
        session = db.session(token, idle=settings.session_idle, lifetime=settings.session_lifetime)
        if session is None:
            raise LoginRequired()
        return session

    def check_origin(request: Request) -> None:
        """A browser's POST from another site carries its Origin: refuse it. Behind a proxy that
        rewrites Host, set ZIZHI_CONSOLE_PUBLIC_ORIGIN to the address reviewers use."""
        origin = request.headers.get("origin")
        if origin is None:
            return
        if settings.public_origin:
            allowed = origin.rstrip("/") == settings.public_origin.rstrip("/")
        else:
            allowed = origin != "null" and urlsplit(origin).netloc == request.headers.get("host")
        if not allowed:
            raise HTTPException(403, N_("cross-origin request refused"))

    async def checked_form(request: Request, session: Session):
        check_origin(request)
        form = await request.form()
        if not _same_token(form.get("csrf_token"), session.csrf_token):
            raise HTTPException(403, N_("CSRF token missing or wrong: reload the page and try again"))
        return form

    def render(request: Request, name: str, session: Session | None, status_code: int = 200, **context):
        response = templates[locale_of(request)].TemplateResponse(request, name, {"session": session, **context},
                                                                  status_code=status_code)
        response.headers["Content-Language"] = TAGS[locale_of(request)]
        response.headers["Vary"] = "Accept-Language, Cookie"
        return response

    def set_cookie(response: Response, key: str, value: str, max_age: int | None = None,
                   samesite: str = "strict") -> None:
        response.set_cookie(key, value, max_age=max_age, httponly=True, samesite=samesite,
                            secure=settings.secure_cookies, path="/")

    def parse_filter(data, prefix: str = "") -> QueueFilter:
        try:
            return QueueFilter.model_validate({k: data.get(prefix + k) for k in QueueFilter.model_fields
                                               if data.get(prefix + k)})
        except ValidationError as e:
            # names the parameters (what the URL says), not pydantic's English sentences
            raise PageError(400, N_("bad filter: %(why)s"), params={"why": ", ".join(
                dict.fromkeys(str(err["loc"][0]) if err.get("loc") else "?" for err in e.errors()))}) from None

    # -- login --

    @app.get("/login", response_class=HTMLResponse)
    def login_page(request: Request, next: str | None = None):
        token = secrets.token_urlsafe(32)
        response = render(request, "login.html", None, csrf_token=token, next=_safe_next(next), error=None)
        set_cookie(response, LOGIN_CSRF_COOKIE, token, max_age=3600)
        return response

    @app.post("/login")
    async def login(request: Request):
        check_origin(request)
        form = await request.form()
        if not _same_token(form.get("csrf_token"), request.cookies.get(LOGIN_CSRF_COOKIE, "")):
            raise HTTPException(403, N_("CSRF token missing or wrong: reload the login page and try again"))
        name, password = str(form.get("name", "")).strip()[:64], str(form.get("password", ""))[:1024]
        target = _safe_next(str(form.get("next", "")))

        def refuse(status: int, message: str):
            fresh = secrets.token_urlsafe(32)
            response = render(request, "login.html", None, status_code=status, csrf_token=fresh, next=target,
                              error=message)
            set_cookie(response, LOGIN_CSRF_COOKIE, fresh, max_age=3600)
            return response

        tr = translator(request)
        if not await run_in_threadpool(throttle.attempt, name):
            return refuse(429, tr.gettext("Too many failed logins for this name: wait %(minutes)d minutes or ask "
                                          "an operator (zizhi reviewers unlock NAME).")
                          % {"minutes": settings.login_lockout_minutes})
        async with password_checks:  # scrypt off the event loop, a few at a time
            ok = bool(name) and await run_in_threadpool(db.authenticate, name, password)
        if not ok:
            return refuse(401, tr.gettext("Wrong name or password."))
        await run_in_threadpool(throttle.succeeded, name)

        def start_session() -> str:
            old = request.cookies.get(SESSION_COOKIE)
            if old:
                db.close_session(old)  # a login always starts a new session (no fixation)
            db.purge_sessions(idle=settings.session_idle, lifetime=settings.session_lifetime)
            return db.open_session(name)[0]

        token = await run_in_threadpool(start_session)
        response = RedirectResponse(target, status_code=303)
        # Lax, not Strict: a link to a verdict pasted in chat opens it in the reviewer's session. Every
        # POST still needs the session's CSRF token, and Lax never sends the cookie on another site's POST.
        set_cookie(response, SESSION_COOKIE, token, max_age=int(settings.session_lifetime.total_seconds()),
                   samesite="lax")
        response.delete_cookie(LOGIN_CSRF_COOKIE, path="/")
        return response

    @app.get("/language/{tag}")
    def switch_language(request: Request, tag: str = PathParam(max_length=16), next: str | None = None):
        """The language link: remembers the reader's choice in a cookie (over Accept-Language) and goes
        back where they were. No login needed: the login page has the link too."""
        locale = locale_of_tag(tag)
        if locale is None:
            raise HTTPException(404, N_("not found"))
        response = RedirectResponse(_safe_next(next), status_code=303)
        set_cookie(response, LANG_COOKIE, TAGS[locale], max_age=365 * 24 * 3600, samesite="lax")
        return response

    @app.post("/logout")
    async def logout(request: Request):
        session = await run_in_threadpool(current_session, request)
        await checked_form(request, session)
        await run_in_threadpool(db.close_session, request.cookies.get(SESSION_COOKIE, ""))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- queue --

    @app.get("/")
    def home(request: Request):
        current_session(request)
        return RedirectResponse("/queue", status_code=303)

    @app.get("/queue", response_class=HTMLResponse)
    def queue_page(request: Request):
        session = current_session(request)
        f = parse_filter(request.query_params)
        rows, total = db.queue(f)
        pages = max(1, -(-total // PAGE_SIZE))
        return render(request, "queue.html", session, f=f, rows=rows, total=total, pages=pages,
                      counts=db.decision_counts(f), categories=db.categories(), me=session.reviewer,
                      recorded=recorded_notice(session, request.query_params.get("done"), translator(request)),
                      end=request.query_params.get("end") in ("next", "prev"))

    # -- a verdict --

    def verdict_context(session: Session, verdict_id: int, f: QueueFilter, tr: Translator, *, lease: bool) -> dict:
        """Everything the submission page shows. Takes (or renews) the reviewer's lease when `lease`
        and the verdict is pending and current."""
        stored = store.verdict(verdict_id)
        if stored is None:
            raise HTTPException(404, N_("no such verdict"))
        verdict = Verdict.model_validate(stored.verdict)
        kept = store.stored_files(verdict_id)
        submission, submission_note = None, tr.gettext("the store kept no copy of the submission")
        for item in kept:
            if item.role == "submission":
                try:  # read as the pipeline reads it (a BOM is allowed)
                    submission = Submission.model_validate_json((store.file_bytes(item.sha256) or b"").decode("utf-8-sig"))
                except (ValidationError, UnicodeDecodeError):
                    submission_note = tr.gettext("the stored copy of the submission cannot be read")
        by_name = {(k.role, k.name): k for k in kept}
        documents = []
        for index, doc in enumerate(verdict.documents):
            copy = by_name.get(("document", doc.file))
            views, error = [], None
            if copy is None:
                error = tr.gettext("the store kept no copy of this file") if not kept else \
                    tr.gettext("file not kept (unreadable upload)")
            else:
                rendered = renderer.render(copy.sha256, lambda sha=copy.sha256: store.file_bytes(sha))
                error = tr.gettext(rendered.error) if rendered.error else None  # a decoder's own words pass as they are
                views = page_views(doc, rendered)
            documents.append({"index": index, "result": doc, "position": copy.position if copy else None,
                              "views": views, "error": error})
        images = [k for k in kept if k.role == "product_image"]
        frames = video_frames(verdict, {k.name: k.position for k in kept if k.role == "product_video"})
        history = db.reviews(verdict_id)
        newer = db.newer_verdict(stored.submission_id, verdict_id)
        holder = None
        if not history and newer is None:
            held = db.take_lease(verdict_id, session.reviewer, minutes=settings.lease_minutes) if lease \
                else db.live_lease(verdict_id)
            holder = held if held is not None and held.reviewer != session.reviewer else None
        looks = checks_to_look_at(verdict, tr.check_value)
        crops = {(c.doc_index, c.field_name) for c in looks if c.field_name is not None}
        return {"f": f, "stored": stored, "verdict": verdict, "submission": submission, "documents": documents,
                "images": images, "frames": frames, "facts": db.facts(verdict_id),
                "submission_note": submission_note,
                "history": history, "seen_review": history[0].id if history else 0, "newer": newer,
                "holder": holder, "looks": looks, "crops": crops, "reasons": reason_views(verdict),
                # what the merchant is told for each decision's reasons (the pre-screen's sentence for a code
                # it gave, else the code's generic one), beside the reviewer's codes
                "merchant_messages": {h.id: [r.merchant_message for r in reviewer_reasons(h.reason_codes,
                                                                                          verdict.reasons)]
                                      for h in history},
                "failed_checks": (failed := failed_check_names(verdict)), "failed_labels": tr.checks(failed),
                "filter_query": urlencode(f.query()),
                "audit": stored.decision == "approve" and db.is_audit(verdict_id), "problem": None,
                # the form starts from the pre-screen: its decision (when approve/reject) and its codes
                "draft": {"decision": verdict.decision if verdict.decision in ("approve", "reject") else None,
                          "codes": {r.code for r in verdict.reasons}, "comment": ""}}

    def recorded_notice(session: Session, value: str | None, tr: Translator) -> str | None:
        """"SUB-… recorded: reject (expired)" for the verdict id the redirect carried (only an
        integer comes from the URL; the text comes from this reviewer's own decision)."""
        if not value or not value.isdigit() or int(value) > MAX_ID:
            return None
        latest = db.reviews(int(value), limit=1)
        if not latest or latest[0].reviewer != session.reviewer:
            return None
        r = latest[0]
        if r.reason_codes:
            return tr.gettext("%(submission)s recorded: %(decision)s (%(reasons)s)") % {
                "submission": r.submission_id, "decision": tr.decision(r.decision), "reasons": tr.reasons(r.reason_codes)}
        return tr.gettext("%(submission)s recorded: %(decision)s") % {"submission": r.submission_id,
                                                                       "decision": tr.decision(r.decision)}

    @app.get("/verdicts/{verdict_id}", response_class=HTMLResponse)
    def verdict_page(request: Request, verdict_id: int = PathParam(ge=1, le=MAX_ID)):
        session = current_session(request)
        f = parse_filter(request.query_params)
        tr = translator(request)
        context = verdict_context(session, verdict_id, f, tr, lease=True)
        return render(request, "verdict.html", session,
                      recorded=recorded_notice(session, request.query_params.get("recorded"), tr), **context)

    def stored_page(verdict_id: int, position: int):
        match = [k for k in store.stored_files(verdict_id)
                 if k.position == position and k.role in ("document", "product_image")]
        if not match:
            raise HTTPException(404, "no such file")
        sha = match[0].sha256
        return sha, renderer.render(sha, lambda: store.file_bytes(sha))

    @app.get("/verdicts/{verdict_id}/files/{position}/pages/{page}.jpg")
    def page_image(request: Request, verdict_id: int = PathParam(ge=1, le=MAX_ID),
                   position: int = PathParam(ge=0, le=10_000), page: int = PathParam(ge=1, le=10_000)):
        current_session(request)
        _, rendered = stored_page(verdict_id, position)
        if rendered.error or not 1 <= page <= len(rendered.pages):
            raise HTTPException(404, "no such page")
        return Response(rendered.pages[page - 1].jpeg, media_type="image/jpeg")  # no-store, as every page

    @app.get("/verdicts/{verdict_id}/files/{position}/pages/{page}/full.jpg")
    def full_page_image(request: Request, verdict_id: int = PathParam(ge=1, le=MAX_ID),
                        position: int = PathParam(ge=0, le=10_000), page: int = PathParam(ge=1, le=10_000)):
        current_session(request)
        sha, _ = stored_page(verdict_id, position)
        jpeg = renderer.full_page(lambda: store.file_bytes(sha), page)
        if jpeg is None:
            raise HTTPException(404, "no such page")
        return Response(jpeg, media_type="image/jpeg")

    @app.get("/verdicts/{verdict_id}/files/{position}/frames/{ms}.jpg")
    def video_frame(request: Request, verdict_id: int = PathParam(ge=1, le=MAX_ID),
                    position: int = PathParam(ge=0, le=10_000), ms: int = PathParam(ge=0, le=86_400_000)):
        """The frame of a stored product video a finding names (and no other: a URL cannot make the
        console decode arbitrary times), decoded like the pipeline's sampling: child process, deadline."""
        current_session(request)
        stored = store.verdict(verdict_id)
        if stored is None:
            raise HTTPException(404, "no such verdict")
        copy = {k.position: k for k in store.stored_files(verdict_id) if k.role == "product_video"}.get(position)
        verdict = Verdict.model_validate(stored.verdict)
        if copy is None or not any(f.ms == ms for f in video_frames(verdict, {copy.name: position})):
            raise HTTPException(404, "no such frame")
        data = store.file_bytes(copy.sha256)
        frame = frame_at(data, ms / 1000, load_rules(get_settings().rules_dir).thresholds.video,
                         get_settings().ingest.video_timeout_s) if data else None
        ok, jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 88]) if frame is not None else (False, None)
        if not ok:
            raise HTTPException(404, "the frame cannot be decoded")
        return Response(jpeg.tobytes(), media_type="image/jpeg")

    @app.get("/verdicts/{verdict_id}/documents/{doc}/fields/{field_name}.jpg")
    def field_crop(request: Request, verdict_id: int = PathParam(ge=1, le=MAX_ID),
                   doc: int = PathParam(ge=0, le=10_000), field_name: str = PathParam(pattern=r"^[a-z_]{1,40}$")):
        current_session(request)
        stored = store.verdict(verdict_id)
        if stored is None:
            raise HTTPException(404, "no such verdict")
        verdict = Verdict.model_validate(stored.verdict)
        if doc >= len(verdict.documents) or field_name not in verdict.documents[doc].fields:
            raise HTTPException(404, "no such field")
        document, value = verdict.documents[doc], verdict.documents[doc].fields[field_name]
        copy = [k for k in store.stored_files(verdict_id) if k.role == "document" and k.name == document.file]
        if not value.box or not copy:
            raise HTTPException(404, "no crop for this field")
        _, rendered = stored_page(verdict_id, copy[0].position)
        views = page_views(document, rendered)
        if rendered.error or not 1 <= value.page <= len(rendered.pages):
            raise HTTPException(404, "no such page")
        jpeg = crop_jpeg(rendered.pages[value.page - 1].jpeg, float(views[value.page - 1].width), value.box)
        if jpeg is None:
            raise HTTPException(404, "the field's box is outside its page")
        return Response(jpeg, media_type="image/jpeg")

    def neighbour(request: Request, verdict_id: int, forward: bool):
        session = current_session(request)
        f = parse_filter(request.query_params)
        other = db.neighbour(f, verdict_id, forward=forward, reviewer=session.reviewer)
        query = urlencode(f.query(page=1))
        if other is None:
            return RedirectResponse("/queue?" + urlencode({**f.query(page=1), "end": "next" if forward else "prev"}),
                                    status_code=303)
        return RedirectResponse(f"/verdicts/{other}" + (f"?{query}" if query else ""), status_code=303)

    @app.get("/verdicts/{verdict_id}/next")
    def next_verdict(request: Request, verdict_id: int = PathParam(ge=1, le=MAX_ID)):
        return neighbour(request, verdict_id, True)

    @app.get("/verdicts/{verdict_id}/prev")
    def previous_verdict(request: Request, verdict_id: int = PathParam(ge=1, le=MAX_ID)):
        return neighbour(request, verdict_id, False)

    @app.post("/verdicts/{verdict_id}/decision")
    async def decide(request: Request, verdict_id: int = PathParam(ge=1, le=MAX_ID)):
        session = await run_in_threadpool(current_session, request)
        form = await checked_form(request, session)
        decision = form.get("decision")
        codes = [c for c in form.getlist("reason_codes") if isinstance(c, str)]
        comment = str(form.get("comment", "")).strip()
        seen_review = str(form.get("seen_review", ""))
        override = str(form.get("override", ""))
        try:  # the queue the reviewer came from, for "next"; a mangled one is just the whole queue
            f = parse_filter(form, prefix=FILTER_PREFIX)
        except HTTPException:
            f = QueueFilter()
        back = f"/verdicts/{verdict_id}" + (f"?{urlencode(f.query())}" if f.query() else "")
        tr = translator(request)

        def record():
            stored = store.verdict(verdict_id)
            if stored is None:
                raise HTTPException(404, N_("no such verdict"))
            failed = failed_check_names(Verdict.model_validate(stored.verdict))
            problems = []
            if decision not in ("approve", "reject"):
                problems.append(tr.gettext("choose approve or reject"))
            if any(c not in REASON_CODES for c in codes):
                problems.append(tr.gettext("unknown reason code"))
            if decision == "reject" and not codes:
                problems.append(tr.gettext("a rejection needs at least one reason code"))
            if len(comment) > MAX_COMMENT:
                problems.append(tr.gettext("the comment is over %(max)d characters (%(length)d): shorten it")
                                % {"max": MAX_COMMENT, "length": len(comment)})
            if decision == "approve" and failed:
                # A wrong approve is the worst error: overriding a failed check is confirmed (the browser's
                # dialog names them; the form echoes their names) and explained.
                if override != ",".join(failed):
                    problems.append(tr.gettext("approving over failed checks (%(checks)s) needs confirmation")
                                    % {"checks": tr.checks(failed)})
                if not comment:
                    problems.append(tr.gettext("approving over failed checks needs a comment saying why"))
            if not seen_review.isdigit():
                problems.append(tr.gettext("the form is incomplete: reload the page"))
            if problems:
                return tr.gettext("; ").join(problems)
            latest = db.reviews(verdict_id, limit=1)
            if (latest[0].id if latest else 0) != int(seen_review):
                other = latest[0]
                raise PageError(409, N_("%(reviewer)s recorded a decision (%(decision)s) on this verdict while it "
                                        "was open: open it again to see it before deciding"), back=back,
                                params={"reviewer": other.reviewer, "decision": tr.decision(other.decision)})
            held = db.live_lease(verdict_id)
            if held is not None and held.reviewer != session.reviewer:
                raise PageError(409, N_("being reviewed by %(reviewer)s until %(time)s UTC: nothing was recorded"),
                                back=back, params={"reviewer": held.reviewer, "time": f"{held.expires_at:%H:%M}"})
            db.record_review(verdict_id, reviewer=session.reviewer, decision=str(decision),
                             reason_codes=codes if decision == "reject" else [], comment=comment)
            return db.next_in_queue(f, after=verdict_id, reviewer=session.reviewer)

        outcome = await run_in_threadpool(record)
        if isinstance(outcome, str):  # refused: the page again, the reviewer's input kept, the reason on top
            def again():
                context = verdict_context(session, verdict_id, f, tr, lease=False)
                context.update(problem=outcome, draft={"decision": decision if decision in ("approve", "reject")
                                                       else None, "codes": set(codes),
                                                       "comment": Markup(escape(comment))})  # kept as typed
                return context
            context = await run_in_threadpool(again)
            return render(request, "verdict.html", session, status_code=400, recorded=None, **context)
        query = {**f.query(page=1), "recorded": str(verdict_id)}
        if outcome is None:
            return RedirectResponse("/queue?" + urlencode({**query, "done": str(verdict_id)}), status_code=303)
        return RedirectResponse(f"/verdicts/{outcome}?" + urlencode(query), status_code=303)

    # -- the quality loop --

    def stats_range(request: Request) -> tuple[dt.date | None, dt.date | None]:
        f = parse_filter(request.query_params)
        if f.date_from and f.date_to and f.date_from > f.date_to:
            raise HTTPException(400, N_("bad filter: date_from is after date_to"))
        return f.date_from, f.date_to

    @app.get("/stats", response_class=HTMLResponse)
    def stats_page(request: Request):
        session = current_session(request)
        date_from, date_to = stats_range(request)
        return render(request, "stats.html", session, stats=db.stats(date_from, date_to), date_from=date_from,
                      date_to=date_to, audit_share=settings.audit_share)

    @app.get("/stats.json")
    def stats_json(request: Request):
        current_session(request)
        date_from, date_to = stats_range(request)
        return JSONResponse({**db.stats(date_from, date_to), "audit_share": settings.audit_share})

    # -- audit trail --

    @app.get("/audit", response_class=HTMLResponse)
    def audit_page(request: Request, page: int = 1):
        session = current_session(request)
        page = max(1, min(page, 10_000))
        total = db.count_reviews()
        return render(request, "audit.html", session, reviews=db.reviews(limit=100, offset=(page - 1) * 100),
                      page=page, pages=max(1, -(-total // 100)), total=total)

    @app.get("/export.csv")
    def export_csv(request: Request):
        current_session(request)
        columns = ["review_id", "decided_at_utc", "reviewer", "decision", "reason_codes", "comment", "submission_id",
                   "verdict_id", "content_hash", "prescreen_decision", "category", "brand", "shop_company"]

        def rows() -> Iterator[str]:
            buf = io.StringIO()
            writer = csv.writer(buf)
            buf.write("\ufeff")  # spreadsheet programs then read the Chinese names as UTF-8
            writer.writerow(columns)
            for review, facts in db.reviews_with_facts():
                writer.writerow([_csv_cell(v) for v in (
                    review.id, review.decided_at.isoformat(timespec="seconds") + "Z", review.reviewer,
                    review.decision, " ".join(review.reason_codes), review.comment, review.submission_id,
                    review.verdict_id, review.content_hash, review.prescreen_decision, facts["category"],
                    facts["brand"], facts["shop_company"])])
                yield buf.getvalue()
                buf.seek(0)
                buf.truncate()
            yield buf.getvalue()

        stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%d-%H%M%S")
        return StreamingResponse(rows(), media_type="text/csv; charset=utf-8",
                                 headers={"Content-Disposition": f'attachment; filename="zizhi-decisions-{stamp}.csv"'})

    return app
