"""The reviewer console in a real browser: Debian's Chromium driven by Playwright for Python.

Two submissions are verified for real (OCR) and stored with their copies: a licence drawn at
known places and uploaded sideways with an EXIF orientation tag, and the demo fixture. The test
logs in, opens the first, checks that each field's box is drawn on the screen where the field's
text was drawn on the page, records a decision, lands on the next in the queue, and finds the
decision in the audit trail. It saves a screenshot of the submission page as an artifact
(`build/test-artifacts/console-submission.png`; `make console-screenshot` copies it into docs/).

The second test works from the keyboard alone over hand-made verdicts (no OCR): logs in, decides
three verdicts, meets the confirm dialog of an approval over a failed check (dismissed: nothing
recorded; accepted: recorded), skips a verdict another reviewer holds, and reads /stats.json. It
writes the keystrokes and seconds of each decision to `build/test-artifacts/console-keyboard.json`.

The first runs in a Chinese browser (the console's default language), the second in an English one
(Accept-Language). The third reads every page, its dialogs and console.js's messages in zh-CN and
finds no English UI text (tests/test_console_i18n.py: `ui_words_left`), then switches to English by
the link and finds every label in English (`cjk_left`), on every page after it.

Playwright's own browser download cannot work offline: Chromium comes from apt (`chromium`).
Where it is missing the test skips, except under CI (CI=true), where that is a failure.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path

import pytest
from babel.dates import format_date
from PIL import Image

from operations import backlog as bl
from operations.store import Store, current_owner
from pipeline.runner import verify
from tests.conftest import ROOT, SUBMISSIONS, text_page, write_submission
from tests.test_cli import CODE, COMPANY, licence_lines
from tests.test_console import FAILED, _page_png, _record
from tests.test_console_i18n import cjk_left, ui_words_left, verdict_data

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(os.environ.get("ZIZHI_TEST_ARTIFACTS", ROOT / "build" / "test-artifacts"))
PASSWORD = "correct horse battery"
TODAY = dt.date(2026, 11, 27)
# Chromium as root in a container, with no network: no sandbox, and none of its background calls home.
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-sync",
                 "--disable-background-networking", "--disable-component-update", "--disable-dev-shm-usage"]

pytestmark = pytest.mark.ocr


def _require_browser():
    missing = []
    if not CHROMIUM.exists():
        missing.append(f"{CHROMIUM} (apt-get install chromium)")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing.append("the playwright package (pip install -e '.[dev]')")
    if missing:
        message = "browser test needs " + " and ".join(missing)
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _exif_rotated_licence(folder: Path) -> dict[str, tuple]:
    """An upright licence drawn at known places, saved sideways with EXIF orientation 6 (as a phone
    does): the console must show it upright with the boxes on the upright page."""
    image, boxes = text_page(licence_lines(), size=(1500, 1000), seal=True)
    upright = Image.fromarray(image[:, :, ::-1])
    sideways = upright.transpose(Image.Transpose.ROTATE_90)
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    (folder / "docs").mkdir(parents=True)
    sideways.save(folder / "docs" / "licence.jpg", "JPEG", quality=92, exif=exif.tobytes())
    write_submission(folder, [{"file": "docs/licence.jpg"}], credit_code=CODE, sid="SUB-BROWSER-EXIF")
    return {"holder_name": boxes[COMPANY], "credit_code": boxes[CODE]}


def _verify_and_store(store: Store, folder: Path, engine) -> int:
    fp = bl.fingerprint(folder)
    verdict = verify(folder / "submission.json", today=TODAY, engine=engine)
    copy = bl.copy_submission(folder, fp.content_hash)
    assert copy is not None
    assert store.record_verdict(fp.item.key, verdict_json=verdict.model_dump_json(), decision=verdict.decision,
                                checked_on=verdict.checked_on, versions={"engine": engine.name},
                                owner=current_owner(), folder=str(folder), copy=copy,
                                reason_codes=[r.code for r in verdict.reasons])
    return max(v.id for v in store.verdicts(verdict.submission_id))


@pytest.fixture(scope="module")
def console_server(tmp_path_factory, engine):
    _require_browser()
    import uvicorn

    from console.app import create_app
    from console.db import ConsoleStore
    from console.server import uvicorn_config
    from console.settings import ConsoleSettings

    root = tmp_path_factory.mktemp("console")
    url = f"sqlite:///{root / 'verdicts.db'}"
    store = Store(url)
    drawn = _exif_rotated_licence(root / "inbox" / "exif")
    exif_id = _verify_and_store(store, root / "inbox" / "exif", engine)
    shutil.copytree(SUBMISSIONS / "demo", root / "inbox" / "demo")
    demo_id = _verify_and_store(store, root / "inbox" / "demo", engine)
    # Hand-made verdicts for the keyboard test, in their own category (queue order: as listed).
    png, boxes = _page_png()
    keys = {sid: _record(store, sid, decision=decision, category="keys", codes=codes, png=png, box=boxes[COMPANY],
                         checks=checks)
            for sid, decision, codes, checks in (
                ("SUB-KEY-1", "review", ["LOW_CONFIDENCE"], []),
                ("SUB-KEY-FAIL", "reject", ["HOLDER_MISMATCH"], [FAILED]),
                ("SUB-KEY-HELD", "review", ["LOW_CONFIDENCE"], []),
                ("SUB-KEY-2", "review", ["UNREADABLE"], []))}
    db = ConsoleStore(store)
    db.add_reviewer("alice", PASSWORD)
    db.add_reviewer("bob", PASSWORD)
    db.take_lease(keys["SUB-KEY-HELD"], "bob", minutes=60)  # bob has it open: alice's j skips it
    prescreen = store.verdict(exif_id).verdict

    port = _free_port()
    # Every pre-screen approve in the queue (audit share 1): the demo's approve is the next verdict below.
    settings = ConsoleSettings(audit_share=1.0)
    server = uvicorn.Server(uvicorn_config(create_app(url, settings), "127.0.0.1", port, settings,
                                           log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        assert time.monotonic() < deadline, "console did not start"
        time.sleep(0.05)
    yield {"base": f"http://127.0.0.1:{port}", "store": store, "db": db, "exif_id": exif_id, "demo_id": demo_id,
           "drawn": drawn, "prescreen": prescreen, "keys": keys}
    server.should_exit = True
    thread.join(timeout=10)


@pytest.fixture(scope="module")
def browser(console_server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        chromium = p.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


def _screen_rect_of_page_box(page, figure, box) -> dict:
    """Where a box in the uploaded page's pixels should appear on the screen: scaled by the drawn
    page image (the SVG <image>) from the page's own size (the SVG viewBox)."""
    image = figure.locator("svg image").bounding_box()
    width, height = (float(figure.locator("svg").get_attribute(a)) for a in ("data-width", "data-height"))
    sx, sy = image["width"] / width, image["height"] / height
    x0, y0, x1, y1 = box
    return {"x": image["x"] + x0 * sx, "y": image["y"] + y0 * sy, "width": (x1 - x0) * sx, "height": (y1 - y0) * sy}


def _overlap(a: dict, b: dict) -> float:
    """Intersection over the smaller of the two rectangles."""
    ix = max(0.0, min(a["x"] + a["width"], b["x"] + b["width"]) - max(a["x"], b["x"]))
    iy = max(0.0, min(a["y"] + a["height"], b["y"] + b["height"]) - max(a["y"], b["y"]))
    smaller = min(a["width"] * a["height"], b["width"] * b["height"])
    return ix * iy / smaller if smaller else 0.0


def test_reviewer_logs_in_checks_the_evidence_and_records_a_decision(console_server, browser):
    base, exif_id, demo_id = console_server["base"], console_server["exif_id"], console_server["demo_id"]
    page = browser.new_page(viewport={"width": 1400, "height": 1200}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))

    # Any page sends an anonymous visitor to the login form first.
    page.goto(f"{base}/queue")
    assert "/login" in page.url
    page.fill("input[name=name]", "alice")
    page.fill("input[name=password]", "wrong password!!")
    page.click("button[type=submit]")
    assert "用户名或密码错误。" in page.inner_text(".login")
    page.fill("input[name=name]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/queue")

    # The queue, oldest first: the sideways licence, then the demo (then the keyboard test's).
    rows = page.locator("table.queue tbody tr")
    assert rows.count() == 6
    assert "SUB-BROWSER-EXIF" in rows.nth(0).inner_text() and "SUB-FX-001" in rows.nth(1).inner_text()
    assert "bob 正在审核" in rows.nth(4).inner_text()
    page.click("text=SUB-BROWSER-EXIF")
    page.wait_for_url(f"{base}/verdicts/{exif_id}")
    page.wait_for_load_state("networkidle")

    # The page is shown upright (EXIF applied) and each box sits on the text it was read from.
    figure = page.locator("figure.page").first
    assert (figure.locator("svg").get_attribute("data-width"), figure.locator("svg").get_attribute("data-height")) \
        == ("1500", "1000")
    assert page.evaluate("() => document.querySelector('svg image').getBBox().width") == 1500
    for field, drawn_box in console_server["drawn"].items():
        polygon = page.locator(f'polygon[data-box="d0-{field}"]')
        assert polygon.count() == 1, f"no box for {field}"
        on_screen = polygon.bounding_box()
        expected = _screen_rect_of_page_box(page, figure, drawn_box)
        assert _overlap(on_screen, expected) > 0.8, (field, on_screen, expected)
        centre = (on_screen["x"] + on_screen["width"] / 2, on_screen["y"] + on_screen["height"] / 2)
        assert expected["x"] <= centre[0] <= expected["x"] + expected["width"], field
        assert expected["y"] <= centre[1] <= expected["y"] + expected["height"], field
    row = page.locator('tr.field-row[data-box="d0-holder_name"]')
    assert COMPANY in row.inner_text()
    row.hover()  # hovering a field's row lights up its box
    assert "hot" in (page.locator('polygon[data-box="d0-holder_name"]').get_attribute("class") or "")

    # The decision bar stays in view wherever the evidence is scrolled to (a short window: it scrolls).
    page.set_viewport_size({"width": 1400, "height": 700})
    page.evaluate("() => window.scrollTo(0, document.documentElement.scrollHeight)")
    assert page.evaluate("window.scrollY") > 300
    bar, choice = (page.locator(sel).bounding_box() for sel in (".decision-bar", ".decision-bar .choice"))
    assert bar["y"] + bar["height"] >= 600 and 0 <= choice["y"] and choice["y"] + choice["height"] <= 700, (bar, choice)
    page.evaluate("() => window.scrollTo(0, 0)")
    page.set_viewport_size({"width": 1400, "height": 1200})

    # The decision: reject with a code and a comment; the console opens the next in the queue.
    page.check('input[name=decision][value=reject]')
    page.check('input[name=reason_codes][value=AUTHENTICITY_FLAG]')
    page.fill("textarea[name=comment]", "浏览器测试：not an original scan")
    page.click("#decision-form button[type=submit]")
    page.wait_for_url(f"{base}/verdicts/{demo_id}?recorded={exif_id}")
    page.wait_for_load_state("networkidle")
    assert page.inner_text("#prescreen").strip() == "审核通过" and "approve" in page.get_attribute("#prescreen", "class")
    assert "SUB-BROWSER-EXIF 已记录：审核驳回（疑似非原件）" in page.inner_text("#recorded")

    # The demo's page, a field lit, saved as the artifact (and the README's picture).
    page.locator('tr.field-row[data-box="d0-credit_code"]').hover()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-submission.png"))
    assert (ARTIFACTS / "console-submission.png").stat().st_size > 50_000

    # The audit trail has the decision, with reviewer and time; the pre-screen verdict is unchanged.
    page.goto(f"{base}/audit")
    first = page.locator("table.audit tbody tr").first.inner_text()
    assert "alice" in first and "SUB-BROWSER-EXIF" in first and "审核驳回" in first
    assert "疑似非原件" in first and "浏览器测试" in first
    assert format_date(dt.datetime.now(dt.UTC).date(), "long", locale="zh_CN") in first  # 2026年12月7日
    assert console_server["store"].verdict(exif_id).verdict == console_server["prescreen"]
    assert not errors, errors
    page.close()


def test_a_reviewer_decides_three_verdicts_from_the_keyboard_alone(console_server, browser):
    base, keys, db = console_server["base"], console_server["keys"], console_server["db"]
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="en-US")  # English by Accept-Language
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    dialogs: list[str] = []
    answers = []  # what to do with the next confirm dialogs: True accept, False dismiss

    def on_dialog(dialog):
        dialogs.append(dialog.message)
        dialog.accept() if answers.pop(0) else dialog.dismiss()

    page.on("dialog", on_dialog)
    timings: list[dict] = []

    def decide(strokes: list[str], expect_url: str) -> None:
        """Presses the keys of one decision and waits for the next page; records count and time."""
        start = time.monotonic()
        for key in strokes:
            page.keyboard.press(key)
        page.wait_for_url(expect_url)
        page.wait_for_load_state("load")
        timings.append({"keys": len(strokes), "strokes": strokes, "seconds": round(time.monotonic() - start, 3)})

    # Log in from the keyboard: the name field has the focus (autofocus lands after the load event at
    # times: keys typed before it would go to the page, and Tab to the header's links).
    page.goto(f"{base}/queue?category=keys")
    page.wait_for_function("document.activeElement && document.activeElement.name === 'name'")
    page.keyboard.type("alice")
    page.keyboard.press("Tab")
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(f"{base}/queue?category=keys")

    # j opens the first verdict nobody else holds.
    opened = time.monotonic()
    page.keyboard.press("j")
    page.wait_for_url(f"{base}/verdicts/{keys['SUB-KEY-1']}?category=keys")
    page.wait_for_load_state("load")
    assert page.locator(".decision-bar").is_visible()
    # ? shows the keys, Esc hides them
    page.keyboard.press("?")
    assert page.locator("#keys-help").is_visible()
    page.keyboard.press("Escape")
    assert not page.locator("#keys-help").is_visible()
    # + zooms the page image, 0 fits it again
    svg = page.locator("figure.page svg").first
    fit = svg.bounding_box()["width"]
    page.keyboard.press("+")
    page.keyboard.press("+")
    assert svg.bounding_box()["width"] > fit * 1.5
    page.keyboard.press("0")
    assert abs(svg.bounding_box()["width"] - fit) < 2

    # 1. A review verdict, rejected: r (the pre-ticked LOW_CONFIDENCE stays), Ctrl+Enter.
    decide(["r", "Control+Enter"], f"{base}/verdicts/{keys['SUB-KEY-FAIL']}?category=keys&recorded={keys['SUB-KEY-1']}")
    assert "SUB-KEY-1 recorded: reject (read with low confidence)" in page.inner_text("#recorded")
    (first,) = db.reviews(keys["SUB-KEY-1"])
    assert (first.reviewer, first.decision, first.reason_codes) == ("alice", "reject", ["LOW_CONFIDENCE"])

    # 2. The failed check: its crop and the differing character are shown beside the decision.
    fail_id = keys["SUB-KEY-FAIL"]
    assert page.locator(".look.status-fail img").evaluate("img => img.complete && img.naturalWidth > 0")
    assert page.locator(".look.status-fail .found mark").inner_text() == "可"
    assert page.is_checked("input[name=decision][value=reject]")  # the pre-screen's decision
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "console-failed-check.png"))
    # Approving it without a comment: told so, no dialog, nothing recorded.
    page.keyboard.press("a")
    page.keyboard.press("Control+Enter")
    assert "needs a comment" in page.inner_text("#problem") and not dialogs
    assert db.reviews(fail_id) == []
    # The focus is in the comment now: j typed there is text, not "next".
    page.keyboard.type("jk same company: the scan's 司 is smudged")
    assert page.url.startswith(f"{base}/verdicts/{fail_id}")
    # With a comment: the browser asks, naming the failed check. Dismissed: nothing recorded.
    answers.append(False)
    page.keyboard.press("Control+Enter")
    page.wait_for_timeout(300)
    assert len(dialogs) == 1 and "holder is the shop company" in dialogs[0]
    assert db.reviews(fail_id) == [] and page.url.startswith(f"{base}/verdicts/{fail_id}")
    # Accepted: recorded, with the comment; j-order skips the verdict bob holds.
    answers.append(True)
    decide(["Control+Enter"], f"{base}/verdicts/{keys['SUB-KEY-2']}?category=keys&recorded={fail_id}")
    assert len(dialogs) == 2
    (override,) = db.reviews(fail_id)
    assert (override.decision, override.comment) == ("approve", "jk same company: the scan's 司 is smudged")
    assert "SUB-KEY-FAIL recorded: approve" in page.inner_text("#recorded")

    # 3. The last one: a, Ctrl+Enter; nothing else is free in this queue.
    decide(["a", "Control+Enter"], f"{base}/queue?category=keys&recorded={keys['SUB-KEY-2']}&done={keys['SUB-KEY-2']}")
    assert "SUB-KEY-2 recorded: approve" in page.inner_text("#recorded")
    assert [r.decision for r in db.reviews(keys["SUB-KEY-2"])] == ["approve"]
    assert db.reviews(keys["SUB-KEY-HELD"]) == []
    total = round(time.monotonic() - opened, 1)

    # Back to the overridden verdict: it says it was decided, by whom and how.
    page.goto(f"{base}/verdicts/{fail_id}")
    assert "Decided: APPROVE by alice" in page.inner_text("#decided").replace("approve", "APPROVE")

    # /stats.json reports what the audit trail holds.
    page.goto(f"{base}/stats.json")
    stats = json.loads(page.inner_text("body"))
    mine = [r for r in db.reviews() if r.reviewer == "alice"]
    assert stats["reviewers"]["alice"]["decided"] == len({r.verdict_id for r in mine}) >= 3
    assert stats["overturned_rejections"] >= 1 and stats["overturns_by_reason"].get("HOLDER_MISMATCH", 0) >= 1
    assert stats["reviewers"]["alice"]["timed"] >= 3 and stats["reviewers"]["alice"]["median_seconds"] is not None
    assert stats["by_prescreen"]["review"]["reject"] >= 1 and stats["by_prescreen"]["review"]["approve"] >= 1

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    report = {"decisions": timings, "three_decisions_seconds": total,
              "median_seconds_per_decision_in_stats": stats["reviewers"]["alice"]["median_seconds"]}
    (ARTIFACTS / "console-keyboard.json").write_text(json.dumps(report, indent=2))
    print("keyboard decisions:", json.dumps(report))
    assert not errors, errors
    page.close()


# Every text node (hidden ones too: the keys' help), the UI attributes, the page's title and
# console.js's words, each with where it is (see tests/test_console_i18n.py: ui_words_left).
PAGE_TEXT_JS = """() => {
  const items = [];
  const where = (el) => el.closest('.merchant-message') ? 'merchant' : el.closest('.diffed') ? 'diff'
    : el.closest('kbd') ? 'kbd' : el.closest('code') ? 'command' : el.closest('[id^="language-"]') ? 'language' : 'text';
  const walker = document.createTreeWalker(document.documentElement, NodeFilter.SHOW_TEXT);
  while (walker.nextNode()) {
    const node = walker.currentNode, parent = node.parentElement;
    if (!parent || !node.textContent.trim() || parent.closest('script, style')) { continue; }
    items.push([where(parent), node.textContent]);
  }
  for (const a of ['title', 'placeholder', 'aria-label', 'alt']) {
    for (const el of document.querySelectorAll('[' + a + ']')) { items.push(['@' + a, el.getAttribute(a)]); }
  }
  for (const el of document.querySelectorAll('input[type=submit], input[type=button], input[type=reset], button[value]')) {
    if (el.value) { items.push(['@value', el.value]); }
  }
  const strings = document.getElementById('console-strings');
  if (strings) { for (const v of Object.values(JSON.parse(strings.textContent))) { items.push(['js', v]); } }
  return items;
}"""


def _shown_data(console_server) -> set[str]:
    """What the pages show as data: every stored verdict's values and its submission's, the
    reviewers' names and comments, and the test's own category (`keys`: the rules do not know it,
    so the console shows its code)."""
    store, db = console_server["store"], console_server["db"]
    data = {"alice", "bob", "keys"}
    for vid in [console_server["exif_id"], console_server["demo_id"], *console_server["keys"].values()]:
        stored = store.verdict(vid)
        kept = store.stored_files(vid)
        submission = json.loads(store.file_bytes(next(k for k in kept if k.role == "submission").sha256))
        data |= verdict_data(stored.verdict, submission)
        data |= {stored.content_hash[:12], *map(str, stored.versions.values())}
    data |= {r.comment for r in db.reviews() if r.comment}
    return data


def test_every_page_speaks_chinese_and_the_switch_turns_every_label_english(console_server, browser):
    base, keys, db = console_server["base"], console_server["keys"], console_server["db"]
    page = browser.new_page(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    # a CSP refusal (of the words' data block, say); the 404 page's own status is expected
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" and "status of 404" not in m.text
            else None)
    dialogs: list[str] = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))

    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.goto(f"{base}/login")
    login_items = page.evaluate(PAGE_TEXT_JS)
    page.fill("input[name=name]", "alice")
    page.fill("input[name=password]", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"{base}/queue")
    data = _shown_data(console_server)
    fail_id, held_id = keys["SUB-KEY-FAIL"], keys["SUB-KEY-HELD"]
    pages = {"queue": "/queue?status=all", "queue, filtered": "/queue?status=pending&decision=review&reason=EXPIRED",
             "the sideways licence": f"/verdicts/{console_server['exif_id']}",
             "the demo": f"/verdicts/{console_server['demo_id']}", "a failed check": f"/verdicts/{fail_id}",
             "held by bob": f"/verdicts/{held_id}", "audit": "/audit", "stats": "/stats",
             "not found": "/verdicts/999999", "recorded": f"/queue?done={fail_id}&recorded={fail_id}"}

    def read_all(lang: str) -> dict[str, list[tuple[str, str]]]:
        seen = {}
        for name, path in pages.items():
            page.goto(base + path)
            page.wait_for_load_state("load")
            assert page.get_attribute("html", "lang") == lang, name
            if name == "a failed check":
                page.keyboard.press("?")  # the keys' help, shown
                assert page.locator("#keys-help").is_visible()
                page.screenshot(path=str(ARTIFACTS / f"console-keys-{lang}.png"))
                page.keyboard.press("Escape")
            if name in ("queue", "stats"):
                page.screenshot(path=str(ARTIFACTS / f"console-{name}-{lang}.png"))
            seen[name] = page.evaluate(PAGE_TEXT_JS)
        # console.js's own messages and the confirm dialog, on the failed check (dismissed: nothing recorded)
        page.goto(f"{base}/verdicts/{fail_id}")
        before = len(db.reviews(fail_id))
        page.keyboard.press("a")
        page.keyboard.press("Control+Enter")
        messages = [page.inner_text("#problem")]
        page.fill("textarea[name=comment]", "看过了 fine")
        messages.append(page.inner_text("#comment-count"))
        page.keyboard.press("Control+Enter")
        page.wait_for_timeout(300)
        messages += [dialogs[-1], page.inner_text("#problem")]
        assert len(db.reviews(fail_id)) == before
        seen["messages"] = [("js", m) for m in messages]
        return seen

    zh = read_all("zh-CN")
    zh["login"] = login_items
    assert len(dialogs) == 1 and "持证主体与店铺主体一致" in dialogs[0], dialogs
    assert "须在备注中说明理由" in zh["messages"][0][1] and "字" in zh["messages"][1][1]
    left = {name: ui_words_left(items, data | {"看过了 fine"}) for name, items in zh.items()}
    assert not any(left.values()), {k: v for k, v in left.items() if v}
    assert sum(len(items) for items in zh.values()) > 500  # the check read the pages, not nothing

    # The switch: English on this page, and on every page after it (a cookie), whatever the browser says.
    page.goto(f"{base}/queue")
    page.click("#language-en")
    page.wait_for_url(f"{base}/queue")
    assert page.get_attribute("html", "lang") == "en" and "Queue" in page.inner_text("h1")
    en = read_all("en")
    assert len(dialogs) == 2 and "holder is the shop company" in dialogs[1], dialogs
    left = {name: cjk_left(items, data | {"看过了 fine"}) for name, items in en.items()}
    assert not any(left.values()), {k: v for k, v in left.items() if v}
    for name, items in en.items():  # and no label kept in Chinese where it was translated
        assert not any(text.strip() in ("待审核", "审核通过", "需人工复核", "资质文件不全") for _, text in items), name
    page.click("#language-zh-CN")
    assert page.get_attribute("html", "lang") == "zh-CN"
    assert not errors, errors
    page.close()
