"""The console's languages (console/i18n.py): the zh-CN catalogue is complete and compiles, every code
the pipeline produces has a name, the language is chosen by the link's cookie, else Accept-Language,
else zh-CN, and each page in zh-CN holds no English UI text (over HTTP here; in Chromium, with the
dialogs and console.js's words, in test_console_browser.py). No OCR.

`ui_words_left` / `cjk_left` are the checks both use: what remains of a page's text once the data
it shows (names, values, file names, the pipeline's own messages…) is taken out.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from html.parser import HTMLParser

import jinja2
import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.support import Translations
from fastapi.testclient import TestClient

from console import labels
from console.app import create_app
from console.db import ConsoleStore
from console.evidence import visible
from console.i18n import (
    DEFAULT_LOCALE,
    EXTRACT_KEYWORDS,
    LOCALES,
    Translator,
    catalogue_path,
    compile_catalogue,
    environment,
    preferred_locale,
)
from console.settings import ConsoleSettings
from extractors.classify import load_doc_types
from operations.store import Key, Store, SubmissionCopy, current_owner
from pipeline.models import REASON_CODES, Check, FlagEvidence
from rules import load_rules
from tests.conftest import ROOT, SUBMISSIONS
from tests.test_console import COMPANY, PASSWORD, _page_png, _record, csrf_of

# --- the check: no English UI text left ---------------------------------------------------------------

# Latin that a Chinese page legitimately shows as it is: the product's name, the time standard, and
# two file formats named on a link (导出 CSV, JSON), as Chinese software writes them.
LATIN_TERMS = {"zizhi", "UTC", "CSV", "JSON"}
# Key caps, inside <kbd> only (a key is labelled as printed on it).
KEY_NAMES = {"Ctrl", "Enter", "Esc", "Tab"}
# Data that is Latin by nature, wherever it is shown: submission ids, credit codes (GB 32100), licence
# numbers (JY…/SC…), file names, content hashes, version numbers.
DATA_PATTERNS = re.compile(r"SUB-[\w-]+|\b[0-9A-Z]{18}\b|\b(?:JY|SC)\d{14}\b|[\w./-]+\.(?:jpe?g|png|pdf|webp|tiff?|bmp"
                           r"|mp4|mov|webm)\b|\b[0-9a-f]{12,64}\b|\b\d+(?:\.\d+)+\b", re.IGNORECASE)
PLACEHOLDERS = re.compile(r"\{\w+\}")  # console.js fills {checks}, {max}… in its sentences
CJK = re.compile(r"[\u3000-\u303f\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\uff00-\uffef]")


def _without_data(text: str, data: set[str], where: str = "text") -> str:
    if where == "diff" and any(text.strip() in value for value in data):  # a run of a value, <mark>ed or not
        return ""
    for value in sorted((v for v in data if v and v.strip()), key=len, reverse=True):
        # whole values only: a one-letter title must not eat the "t" of "Ctrl"
        text = re.sub(rf"(?<![A-Za-z]){re.escape(value)}(?![A-Za-z])", " ", text)
    return PLACEHOLDERS.sub(" ", DATA_PATTERNS.sub(" ", text))


def ui_words_left(items: list[tuple[str, str]], data: set[str]) -> list[str]:
    """The runs of two or more ASCII letters left in a zh-CN page's text once its data is taken out.

    `items` are (where, text): "kbd" (a key cap), "command" (a <code> naming a `zizhi` command),
    "language" (the link to the other language, written in that language), "diff" (a run of an expected
    or found value, cut where the characters differ), else any text node or UI attribute. `data` holds the values the page shows from the verdict and the reviewers (ids,
    names, field values, comments, the pipeline's English messages): legitimately in any script."""
    left = []
    for where, text in items:
        if where == "language" or (where == "command" and text.startswith("zizhi ")):
            continue
        for word in re.findall(r"[A-Za-z]{2,}", _without_data(text, data, where)):
            if word in LATIN_TERMS or (where == "kbd" and word in KEY_NAMES):
                continue
            left.append(f"{word!r} in {where}: {text.strip()[:80]!r}")
    return left


def cjk_left(items: list[tuple[str, str]], data: set[str]) -> list[str]:
    """Chinese characters (and full-width punctuation) left in an English page once its data is out.
    "merchant": what the merchant is told (`.merchant-message`, SPEC §2), Chinese in every console language."""
    return [f"{where}: {text.strip()[:80]!r}" for where, text in items
            if where not in ("language", "merchant") and CJK.search(_without_data(text, data, where))]


def verdict_data(verdict: dict, submission: dict | None = None) -> set[str]:
    """Every value a verdict (and its submission) puts on a page as data, not as a label."""
    found = set()
    for doc in verdict.get("documents", []):
        found.add(doc["file"])
        found.update(f["value"] for f in doc.get("fields", {}).values())
        quality = doc.get("quality") or {}
        for line in quality.get("flags", []):
            found.add(line.partition(": ")[2] or line)
        found.update(e["message"] for e in doc.get("errors", []))
    for check in verdict.get("checks", []):
        found.update(v for v in (check.get("document"), check.get("expected"), check.get("found"),
                                 check.get("message")) if v)
    for media in verdict.get("media", []):  # SPEC §6: a video's or a picture's findings
        found.add(media.get("file") or "")
        found.update(f["message"] for f in media.get("findings", []) if f.get("message"))
    for reason in verdict.get("reasons", []):  # merchant_message (SPEC §2): Chinese in both languages, by SPEC
        found.update(v for v in (reason.get("document"), reason.get("message"), reason.get("merchant_message")) if v)
    if submission:
        shop, product = submission["shop"], submission["product"]
        found.update(v for v in (shop.get("name"), shop.get("company"), shop.get("credit_code"), product.get("title"),
                                 product.get("brand")) if v)
    return found


class _PageText(HTMLParser):
    """A page's text nodes and UI attributes, each with where it was (as the browser test collects)."""

    ATTRIBUTES = ("title", "placeholder", "aria-label", "alt")

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.items: list[tuple[str, str]] = []
        self.stack: list[tuple[str, dict]] = []

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        for name in self.ATTRIBUTES:
            if attrs.get(name):
                self.items.append((f"@{name}", attrs[name]))
        if tag in ("button", "input") and attrs.get("type") in ("submit", "button", "reset") and attrs.get("value"):
            self.items.append(("@value", attrs["value"]))
        if tag not in ("input", "meta", "link", "br", "img", "image", "polygon"):
            self.stack.append((tag, attrs))

    def handle_endtag(self, tag):
        while self.stack:
            if self.stack.pop()[0] == tag:
                break

    def handle_data(self, data):
        if not data.strip():
            return
        tags = [t for t, _ in self.stack]
        if "script" in tags:
            script = next(a for t, a in self.stack if t == "script")
            if script.get("id") == "console-strings":
                self.items += [("js", s) for s in json.loads(data).values()]
            return
        if "style" in tags:
            return
        where = "text"
        if any("merchant-message" in a.get("class", "").split() for _, a in self.stack):
            where = "merchant"
        elif any("diffed" in a.get("class", "").split() for _, a in self.stack):
            where = "diff"
        elif "kbd" in tags:
            where = "kbd"
        elif "code" in tags:
            where = "command"
        elif any(a.get("id", "").startswith("language-") for _, a in self.stack):
            where = "language"
        self.items.append((where, data))


def page_text(html: str) -> list[tuple[str, str]]:
    parser = _PageText()
    parser.feed(html)
    return parser.items


def test_the_checks_see_english_left_and_let_data_through():
    data = {"alice", "docs/bl.png is fine", "holder nearly matches"}
    items = [("text", "审核员 alice"), ("text", "Queue"), ("@title", "zoom in (+)"), ("kbd", "Ctrl"),
             ("text", "Ctrl"), ("text", "SUB-KEY-1 已记录"), ("text", "91510107MA59G2WX04"),
             ("command", "zizhi reviewers add 用户名"), ("language", "English"), ("js", "{n} / {max} characters"),
             ("text", "holder nearly matches"), ("text", "导出 CSV")]
    left = ui_words_left(items, data)
    assert [w.split(" in ")[0] for w in left] == ["'Queue'", "'zoom'", "'in'", "'Ctrl'", "'characters'"], left
    assert cjk_left([("text", "Queue"), ("text", "审核员"), ("language", "中文"), ("text", "杭州某公司")],
                    {"杭州某公司"}) == ["text: '审核员'"]


# --- the catalogue ---------------------------------------------------------------------------------------

def _extracted() -> dict[tuple[str | None, str | tuple], set[str]]:
    """The msgids `make translations` extracts (babel.cfg, with the console's keywords): key → files."""
    with (ROOT / "babel.cfg").open(encoding="utf-8") as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    keywords = {**DEFAULT_KEYWORDS, **EXTRACT_KEYWORDS}
    found: dict = {}
    for filename, _lineno, message, _comments, context in extract_from_dir(
            str(ROOT / "console"), [(pattern.removeprefix("console/"), method) for pattern, method in method_map],
            {k.removeprefix("console/"): v for k, v in options_map.items()}, keywords=keywords):
        key = (context, message if isinstance(message, str) else tuple(message))
        found.setdefault(key, set()).add(filename)
    return found


def _catalogue(locale: str):
    with catalogue_path(locale).open("rb") as po:
        return read_po(po, locale=locale)


def test_every_msgid_of_the_templates_and_the_code_has_its_zh_cn_translation():
    extracted = _extracted()
    assert len(extracted) > 200, "the extraction found the templates and console/*.py"
    assert any("verdict.html" in f for files in extracted.values() for f in files)
    assert (None, "Wrong name or password.") in extracted and ("decision", "review") in extracted
    catalogue = _catalogue("zh_CN")
    entries = {(m.context, m.id if isinstance(m.id, str) else tuple(m.id)): m for m in catalogue if m.id}
    missing = sorted(str(k) for k in extracted if k not in entries)
    assert not missing, f"not in the zh_CN catalogue (run `make translations`, then translate): {missing}"
    untranslated = sorted(str(k) for k, m in entries.items()
                          if not all(m.string if isinstance(m.string, tuple) else (m.string,)))
    fuzzy = sorted(str(k) for k, m in entries.items() if m.fuzzy)
    assert not untranslated and not fuzzy, (untranslated, fuzzy)
    stale = sorted(str(k) for k in entries if k not in extracted)
    assert not stale, f"in the catalogue but no longer in the code (run `make translations`): {stale}"


def test_the_catalogue_compiles_and_its_placeholders_match():
    catalogue = _catalogue("zh_CN")
    problems = [(m.id, [str(e) for e in errors]) for m, errors in catalogue.check() if errors]
    assert not problems, problems  # python-format placeholders: the same names in msgid and msgstr
    for message in catalogue:  # the brace placeholders console.js fills, too
        if message.id and isinstance(message.id, str) and "{" in message.id:
            assert set(re.findall(r"\{\w+\}", message.id)) == set(re.findall(r"\{\w+\}", message.string)), message.id
    mo = io.BytesIO()
    write_mo(mo, catalogue, use_fuzzy=False)
    mo.seek(0)
    compiled = Translations(mo)
    assert compiled.gettext("Wrong name or password.") == "用户名或密码错误。"
    assert compiled.pgettext("decision", "review") == "需人工复核"
    assert compiled.ngettext("%(count)s page", "%(count)s pages", 3) % {"count": 3} == "共 3 页"


def test_a_malformed_catalogue_stops_the_start(tmp_path):
    broken = tmp_path / "messages.po"
    broken.write_text('msgid "Queue"\nmsgstr "待审列表\n\nmsgid "x"\n', encoding="utf-8")
    with pytest.raises(PoFileError, match="missing msgstr"):
        compile_catalogue(broken, "zh_CN")
    good = tmp_path / "good.po"
    good.write_text('msgid "Queue"\nmsgstr "待审列表"\n', encoding="utf-8")
    assert compile_catalogue(good, "zh_CN").gettext("Queue") == "待审列表"


def test_console_js_words_come_from_the_page():
    js = (ROOT / "console" / "static" / "console.js").read_text(encoding="utf-8")
    base = (ROOT / "console" / "templates" / "base.html").read_text(encoding="utf-8")
    used = set(re.findall(r"\bt\('(\w+)'", js))
    given = set(re.findall(r'"(\w+)": _\(', base))
    assert used and used == given, (used, given)
    # and no sentence of its own: every quoted string in it is a selector, a key, a name or a class
    code = re.sub(r"//.*", "", js)
    sentences = [s for s in re.findall(r"'([^'\\\n]*)'", code) if re.search(r"[A-Za-z]+ [A-Za-z]+ [A-Za-z]+", s)]
    assert not sentences, sentences


# --- every code has a name -----------------------------------------------------------------------------

def test_every_reason_code_check_field_and_type_has_a_chinese_name():
    assert tuple(labels.REASONS) == REASON_CODES  # SPEC §5, in its order
    # A name the source holds in a variable or an f-string cannot be read here: the files that build
    # names are listed with what they build (issue 23's media checks), so that each gets a name too.
    # pipeline/evaluation.py's low_confidence(ev, "name", …) checks the name its callers pass (read below).
    made = {"pipeline/media/listing.py": {"product_title_clean", "product_description_clean"},
            "pipeline/evaluation.py": set()}
    produced, building = set(), set()
    for path in (ROOT / "pipeline").rglob("*.py"):
        source = path.read_text(encoding="utf-8")
        produced.update(re.findall(r"Check\(\s*name=\"([a-z_]+)\"", source))
        produced.update(re.findall(r"low_confidence\(\s*ev,\s*\"([a-z_]+)\"", source))
        if re.search(r"Check\(\s*name=(?!\")", source):
            building.add(path.relative_to(ROOT).as_posix())
    assert len(produced) > 20
    assert not building - set(made), f"files building check names at run time, not listed here: {building - set(made)}"
    produced.update(*(made[file] for file in building))
    assert not produced - set(labels.CHECKS), f"checks without a name in console/labels.py: {produced - set(labels.CHECKS)}"
    assert set(Check.model_fields["status"].annotation.__args__) == set(labels.CHECK_STATUSES)
    flags = set(re.findall(r"[a-z_]+", FlagEvidence.model_fields["flag"].description))  # "border_incomplete | …"
    assert len(flags) > 5 and not flags - set(labels.FLAGS), flags - set(labels.FLAGS)
    fields = set()  # every field the fixtures' ground truth names
    for path in SUBMISSIONS.glob("*/expected.json"):
        for doc in json.loads(path.read_text(encoding="utf-8")).get("documents", {}).values():
            fields.update((doc.get("fields") or {}).keys())
    assert fields and not fields - set(labels.FIELDS), fields - set(labels.FIELDS)
    zh, en = Translator("zh_CN"), Translator("en")
    for code in REASON_CODES:
        assert zh.reason(code) != code and CJK.search(zh.reason(code)), code
        assert en.reason(code) != code and not CJK.search(en.reason(code)), code
    for name in labels.CHECKS:
        assert CJK.search(zh.check(name)), name
    for code in load_doc_types().types:
        assert CJK.search(zh.doc_type(code)) and not CJK.search(en.doc_type(code)), code
    for code in load_rules().categories.categories:
        assert CJK.search(zh.category(code)), code
    assert zh.doc_type("business_licence") == "营业执照" and en.doc_type("business_licence") == "business licence"
    assert zh.reason("MISSING_DOCUMENT") == "资质文件不全" and zh.reason("UNREADABLE") == "资质文件不清晰"
    assert [zh.decision(d) for d in ("approve", "reject", "review")] == ["审核通过", "审核驳回", "需人工复核"]
    assert zh.queue_status("pending") == "待审核"
    assert zh.check("no_such_check") == "no_such_check"  # unknown: shown as it is, never hidden


def test_dates_are_written_the_readers_way():
    zh, en = Translator("zh_CN"), Translator("en")
    day = dt.date(2026, 11, 27)
    assert zh.date(day) == "2026年11月27日" and en.date(day) == "2026-11-27"
    assert zh.time(dt.datetime(2026, 1, 7, 9, 5)) == "2026年1月7日 09:05 UTC"
    assert en.time(dt.datetime(2026, 1, 7, 9, 5)) == "2026-01-07 09:05 UTC"
    assert zh.field_value("valid_until", "2030-06-30") == "2030年6月30日"
    assert zh.field_value("valid_until", "long_term") == "长期" and en.field_value("valid_until", "long_term") == "long term"
    assert zh.field_value("valid_until", "2030-13-45") == "2030-13-45"  # not a date: as read
    assert zh.field_value("holder_name", "2030-06-30") == "2030-06-30"  # not a date field
    # a check's expected / found: codes and dates in Chinese, everything else as the pipeline wrote it
    assert zh.check_value(">= 2026-11-27") == ">= 2026年11月27日" and zh.check_value("long_term") == "长期"
    assert zh.check_value("food_business_licence or food_production_licence") == "食品经营许可证或食品生产许可证"
    assert zh.check_value("general") == "普通类目" and zh.check_value("closed") == "禁止线上销售"
    assert zh.check_value("91510107MA59G2WX04") == "91510107MA59G2WX04" and zh.check_value("x_business_licence") \
        == "x_business_licence"
    assert en.check_value(">= 2026-11-27") == ">= 2026-11-27" and en.check_value("long_term") == "long_term"
    assert zh.flag("photocopy: no colour on a document") == ("复印件", "no colour on a document")
    assert zh.flag("something else") == ("", "something else")


@pytest.mark.parametrize(("cookie", "header", "locale"), [
    (None, None, "zh_CN"),
    (None, "", "zh_CN"),
    (None, "en-US,en;q=0.9", "en"),
    (None, "zh-TW,zh;q=0.9,en;q=0.8", "zh_CN"),
    (None, "fr-FR,en;q=0.5,zh-CN;q=0.8", "zh_CN"),   # by q, not by order
    (None, "fr-FR,de;q=0.5", "zh_CN"),               # nothing served: the default
    (None, "en;q=0,zh;q=0.1", "zh_CN"),              # q=0 is "not this one"
    (None, "en;q=abc, ,;;,zh", "zh_CN"),             # malformed: read as far as it goes
    (None, "EN", "en"),
    ("en", "zh-CN", "en"),                           # the switch wins over the browser
    ("zh-CN", "en", "zh_CN"),
    ("klingon", "en", "en"),                         # a forged cookie is ignored
])
def test_the_language_is_the_switch_else_the_browser_else_chinese(cookie, header, locale):
    assert preferred_locale(cookie, header) == locale
    assert DEFAULT_LOCALE == "zh_CN" and set(LOCALES) == {"zh_CN", "en"}


def test_a_translated_sentence_shows_a_value_escaped_and_made_visible():
    env = environment("zh_CN", jinja2.DictLoader({}), visible)
    out = env.from_string('{{ _("page %(page)s of %(file)s", page=1, file=name) }}').render(
        name="a\u202e<b>.png")
    assert out == "a\\u202e&lt;b&gt;.png 第 1 页"
    out = env.from_string("{% trans who=name %}Being reviewed by {{ who }} (until {{ who }} UTC): press "
                          "<kbd>j</kbd> for the next one.{% endtrans %}").render(name="x\u2066y")
    assert "x\\u2066y" in out and "\u2066" not in out and "<kbd>j</kbd>" in out


# --- over HTTP ---------------------------------------------------------------------------------------------

@pytest.fixture
def site(tmp_path):
    url = f"sqlite:///{tmp_path / 'console.db'}"
    store = Store(url)
    png, boxes = _page_png()
    failed = Check(name="holder_matches_shop", status="fail", document="docs/bl.png", expected=COMPANY,
                   found=COMPANY.replace("司", "可"), message="holder nearly matches the shop company")
    ids = {"reject": _record(store, "SUB-ZH-1", decision="reject", category="food",
                             codes=["EXPIRED", "HOLDER_MISMATCH"], png=png, box=boxes[COMPANY], checks=[failed]),
           "review": _record(store, "SUB-ZH-2", decision="review", category="general", codes=["LOW_CONFIDENCE"],
                             png=png, box=boxes[COMPANY])}
    ids["video"] = _video_verdict(store)
    db = ConsoleStore(store)
    db.add_reviewer("alice", PASSWORD)
    return {"url": url, "store": store, "db": db, "ids": ids}


def _video_verdict(store: Store) -> int:
    """A listing whose video shows a phone number at 2.0 s (SPEC §6): the frame view's words. The
    page is only drawn here, so the stored video's bytes need not decode."""
    from pipeline.models import MediaFinding, MediaResult, Reason, Verdict

    verdict = Verdict(
        submission_id="SUB-ZH-V", decision="reject", checked_on=dt.date(2026, 11, 27),
        reasons=[Reason(code="PROHIBITED_CONTENT", document="media/detail.mp4",
                        message="product video shows phone 13857123456 at 2.0 s")],
        media=[MediaResult(file="media/detail.mp4", kind="video", width=512, height=512, duration_s=6.0,
                           frames_screened=6, findings=[MediaFinding(message="phone 13857123456 at 2.0 s", time_s=2.0,
                                                                     box=[[130, 470], [380, 470], [380, 500], [130, 500]])])])
    submission = {"id": "SUB-ZH-V", "shop": {"name": "店", "company": COMPANY},
                  "product": {"title": "t", "category": "general", "videos": ["media/detail.mp4"]}, "documents": []}
    copy = SubmissionCopy(json.dumps(submission, ensure_ascii=False).encode(), "general", None, COMPANY,
                          [("product_video", "media/detail.mp4", b"not decoded here")])
    assert store.record_verdict(Key("SUB-ZH-V", "hash-zh-v"), verdict_json=verdict.model_dump_json(),
                                decision="reject", checked_on=verdict.checked_on, versions={}, owner=current_owner(),
                                copy=copy, reason_codes=["PROHIBITED_CONTENT"])
    return max(v.id for v in store.verdicts("SUB-ZH-V"))


def _client(site, **headers) -> TestClient:
    client = TestClient(create_app(site["url"], ConsoleSettings()), follow_redirects=False, headers=headers)
    page = client.get("/login")
    r = client.post("/login", data={"name": "alice", "password": PASSWORD, "csrf_token": csrf_of(page.text),
                                    "next": "/queue"})
    assert r.status_code == 303
    return client


def _site_data(site) -> set[str]:
    data = {"alice", "bob", "浏览器测试 fine", "status"}  # "status": the query parameter a bad filter names
    for vid in site["ids"].values():
        stored = site["store"].verdict(vid)
        files = site["store"].stored_files(vid)
        submission = json.loads(site["store"].file_bytes(next(f for f in files if f.role == "submission").sha256))
        data |= verdict_data(stored.verdict, submission) | {stored.versions.get("engine", ""),
                                                             stored.content_hash[:12]}
    return data


def _pages(client: TestClient, site) -> dict[str, str]:
    ids = site["ids"]
    # a decision, so the audit trail, the stats and "decided" have something to say
    page = client.get(f"/verdicts/{ids['review']}").text
    seen = re.search(r'name="seen_review" value="(\d+)"', page).group(1)
    client.post(f"/verdicts/{ids['review']}/decision", data={
        "csrf_token": csrf_of(page), "seen_review": seen, "decision": "reject", "reason_codes": ["UNREADABLE"],
        "comment": "浏览器测试 fine"})
    refused = client.post(f"/verdicts/{ids['reject']}/decision", data={
        "csrf_token": csrf_of(page), "seen_review": "0", "decision": "approve", "comment": ""})
    assert refused.status_code == 400
    return {"queue": client.get("/queue", params={"status": "all"}).text,
            "verdict": client.get(f"/verdicts/{ids['reject']}").text,
            "video": client.get(f"/verdicts/{ids['video']}").text,
            "decided": client.get(f"/verdicts/{ids['review']}", params={"recorded": ids["review"]}).text,
            "refused": refused.text,
            "done": client.get("/queue", params={"done": ids["review"], "recorded": ids["review"]}).text,
            "audit": client.get("/audit").text, "stats": client.get("/stats").text,
            "404": client.get("/verdicts/999").text, "bad filter": client.get("/queue?status=nope").text,
            "unknown path": client.get("/nowhere").text}


def test_every_page_is_in_chinese_by_default(site):
    client = _client(site)
    data = _site_data(site)
    login = TestClient(client.app).get("/login")
    assert login.headers["content-language"] == "zh-CN" and '<html lang="zh-CN">' in login.text
    left = {"login": ui_words_left(page_text(login.text), data)}
    for name, html in _pages(client, site).items():
        assert '<html lang="zh-CN">' in html, name
        left[name] = ui_words_left(page_text(html), data)
    assert not any(left.values()), {k: v for k, v in left.items() if v}
    verdict = _pages(client, site)["verdict"]
    assert "资质已过期" in verdict and "主体不符" in verdict and "营业执照" in verdict and "食品" in verdict
    assert "审核驳回" in verdict and "持证主体与店铺主体一致" in verdict and "2026年11月27日" in verdict
    assert 'data-failed-labels="持证主体与店铺主体一致"' in verdict
    video = client.get(f"/verdicts/{site['ids']['video']}").text
    assert "商品视频画面" in video and "第 2.0 秒" in video and "含违规信息" in video


def test_every_page_is_in_english_by_accept_language(site):
    client = _client(site, **{"Accept-Language": "en-GB,en;q=0.9"})
    data = _site_data(site)
    left = {}
    for name, html in _pages(client, site).items():
        assert '<html lang="en">' in html, name
        left[name] = cjk_left(page_text(html), data)
    assert not any(left.values()), {k: v for k, v in left.items() if v}
    verdict = client.get(f"/verdicts/{site['ids']['reject']}").text
    assert "expired" in verdict and "holder is another company" in verdict and "business licence" in verdict
    assert "2026-11-27" in verdict and "Checks to look at" in verdict
    video = client.get(f"/verdicts/{site['ids']['video']}").text
    assert "Product video frames" in video and "2.0 s" in video and "prohibited content" in video


def test_the_language_link_sets_a_cookie_kept_across_pages_and_logins(site):
    client = _client(site)
    assert "待审列表" in client.get("/queue").text
    r = client.get("/language/en", params={"next": "/queue?status=all"})
    assert r.status_code == 303 and r.headers["location"] == "/queue?status=all"
    cookie = r.headers["set-cookie"]
    assert cookie.startswith("zizhi_lang=en;") and "HttpOnly" in cookie and "Max-Age=31536000" in cookie
    assert "Queue" in client.get("/queue").text and "Audit trail" in client.get("/audit").text
    # kept over the browser's own language and a new login
    assert "Queue" in client.get("/queue", headers={"Accept-Language": "zh-CN"}).text
    assert client.post("/logout", data={"csrf_token": csrf_of(client.get("/queue").text)}).status_code == 303
    assert "Reviewer login" in client.get("/login").text
    r = client.get("/language/zh-CN", params={"next": "/login"})
    assert r.headers["location"] == "/login" and "审核员登录" in client.get("/login").text
    # the link on each page leads back to the same page; on a refused decision (a POST's answer), to its verdict
    fresh, vid = _client(site), site["ids"]["review"]
    html = fresh.get(f"/verdicts/{vid}", params={"category": "general"}).text
    assert f'href="/language/en?next=%2Fverdicts%2F{vid}%3Fcategory%3Dgeneral"' in html
    refused = fresh.post(f"/verdicts/{vid}/decision", data={"csrf_token": csrf_of(html), "seen_review": "0"})
    assert refused.status_code == 400 and f'href="/language/en?next=%2Fverdicts%2F{vid}"' in refused.text


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "/\\evil", "javascript:alert(1)"])
def test_the_language_link_goes_nowhere_but_this_site(site, target):
    r = TestClient(create_app(site["url"], ConsoleSettings()), follow_redirects=False).get(
        "/language/en", params={"next": target})
    assert r.status_code == 303 and r.headers["location"] == "/queue"


def test_an_unknown_language_is_not_found(site):
    client = TestClient(create_app(site["url"], ConsoleSettings()), follow_redirects=False)
    r = client.get("/language/fr")
    assert r.status_code == 404 and "set-cookie" not in r.headers
    assert client.get("/language/" + "x" * 100).status_code == 404
