"""The console's languages: Chinese (zh-CN, the reviewers' language and the default) and English.

- Which one a request gets: the `zizhi_lang` cookie the language link sets (kept across pages and
  logins), else the first language of `Accept-Language` the console has (any `zh-*` reads the
  zh-CN catalogue: simplified is what the platform's reviewers read; any `en-*` English), else zh-CN.
- The words: gettext catalogues with English msgids. `console/translations/zh_CN/LC_MESSAGES/
  messages.po` is the source, committed; it is compiled in memory when the console starts (Babel's
  `write_mo`), so no build step, no generated file in the tree and no stale `.mo`. English needs no
  catalogue: its msgids are the English. `make translations` extracts the msgids (`babel.cfg`:
  the templates, `console/*.py`, the labels of `console.labels`) and merges them into the `.po`.
- Templates use Jinja2's i18n extension (`{% trans %}`, `_()`), one environment per language, so
  concurrent requests in two languages never share a gettext.
- Dates: Babel's `format_date` ("2026年11月27日") in zh-CN, ISO in English.
"""

from __future__ import annotations

import datetime as dt
import gettext as gettext_module
import io
import re
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import jinja2
from babel.dates import format_date
from babel.lists import format_list
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import NullTranslations, Translations
from markupsafe import Markup

from console import labels
from extractors.classify import load_doc_types
from rules import load_rules

CATALOGUES = Path(__file__).resolve().parent / "translations"
DOMAIN = "messages"
DEFAULT_LOCALE = "zh_CN"
LOCALES = ("zh_CN", "en")
TAGS = {"zh_CN": "zh-CN", "en": "en"}  # BCP 47: <html lang>, the cookie, the language link
LANG_COOKIE = "zizhi_lang"
# The Babel extraction keywords beyond its defaults (babel.cfg cannot hold them; the Makefile passes
# the same with -k).
EXTRACT_KEYWORDS = {"NP_": ((1, "c"), 2)}  # N_ is one of Babel's defaults


def locale_of_tag(tag: str | None) -> str | None:
    """The locale a language tag (`zh-CN`, `zh_TW`, `en-US`, `EN`) is served in, or None."""
    primary = re.split(r"[-_]", (tag or "").strip(), maxsplit=1)[0].lower()
    return {"zh": "zh_CN", "en": "en"}.get(primary)


def preferred_locale(cookie: str | None, accept_language: str | None) -> str:
    """The cookie's language, else the first one of Accept-Language (by q, then order) served here,
    else zh-CN. A malformed header is read as far as it makes sense, never refused."""
    chosen = locale_of_tag(cookie) if cookie else None
    if chosen:
        return chosen
    ranked = []
    for position, part in enumerate((accept_language or "")[:1000].split(",")[:32]):
        tag, _, params = part.partition(";")
        q = 1.0
        found = re.search(r"q\s*=\s*([^;,\s]*)", params)
        if found:
            try:
                q = float(found.group(1)[:8])
            except ValueError:
                q = 0.0  # an unreadable weight: that language is skipped
        if q > 0:
            ranked.append((-q, position, tag.strip()))
    for _, _, tag in sorted(ranked):
        chosen = locale_of_tag(tag)
        if chosen:
            return chosen
    return DEFAULT_LOCALE


def catalogue_path(locale: str) -> Path:
    return CATALOGUES / locale / "LC_MESSAGES" / f"{DOMAIN}.po"


def compile_catalogue(path: Path, locale: str) -> Translations:
    """A `.po` compiled in memory (fuzzy entries left out: an unreviewed guess is not shown). A
    malformed file raises, so the console refuses to start rather than fail on a page."""
    with path.open("rb") as po:
        catalog = read_po(po, locale=locale, domain=DOMAIN, abort_invalid=True)
    mo = io.BytesIO()
    write_mo(mo, catalog, use_fuzzy=False)
    mo.seek(0)
    return Translations(mo, domain=DOMAIN)


@lru_cache(maxsize=len(LOCALES))
def translations(locale: str) -> gettext_module.NullTranslations:
    """The locale's catalogue; English needs none (its msgids are the English)."""
    if locale == "en":
        return NullTranslations()
    return compile_catalogue(catalogue_path(locale), locale)


class Translator:
    """gettext and the console's labels in one locale."""

    def __init__(self, locale: str):
        if locale not in LOCALES:
            raise ValueError(f"unknown console locale {locale!r}")
        self.locale, self.tag = locale, TAGS[locale]
        self.tr = translations(locale)

    # -- gettext --
    def gettext(self, message: str) -> str:
        return self.tr.gettext(message)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        return self.tr.ngettext(singular, plural, n)

    def pgettext(self, context: str, message: str) -> str:
        return self.tr.pgettext(context, message)

    def _label(self, table: dict[str, str | tuple[str, str]], code: str | None) -> str:
        if code is None:
            return ""
        entry = table.get(code)
        if entry is None:
            return code  # a code the console has no name for is shown as it is, never hidden
        return self.pgettext(*entry) if isinstance(entry, tuple) else self.gettext(entry)

    # -- the verdict's codes --
    def decision(self, code: str | None) -> str:
        return self._label(labels.DECISIONS, code)

    def queue_status(self, code: str) -> str:
        return self._label(labels.QUEUE_STATUSES, code)

    def check_status(self, code: str) -> str:
        return self._label(labels.CHECK_STATUSES, code)

    def reason(self, code: str) -> str:
        return self._label(labels.REASONS, code)

    def reasons(self, codes: list[str]) -> str:
        return self.join([self.reason(c) for c in codes])

    def check(self, name: str | None) -> str:
        return self._label(labels.CHECKS, name)

    def checks(self, names: list[str]) -> str:
        return self.join([self.check(n) for n in names])

    def field(self, name: str | None) -> str:
        return self._label(labels.FIELDS, name)

    def stage(self, name: str) -> str:
        return self._label(labels.STAGES, name)

    def flag(self, line: str) -> tuple[str, str]:
        """A quality.flags line, "<flag>: <why>", as (the flag's name, the pipeline's why)."""
        flag, sep, why = line.partition(": ")
        if not sep or flag not in labels.FLAGS:
            return "", line
        return self._label(labels.FLAGS, flag), why

    def doc_type(self, code: str) -> str:
        cues = load_doc_types().types.get(code)
        if self.locale == "zh_CN":
            if cues is not None:
                return cues.name_zh
            return self.gettext("unrecognised") if code == "unclassified" else code
        return code.replace("_", " ")

    def category(self, code: str | None) -> str:
        if not code:
            return ""
        category = load_rules().categories.categories.get(code)
        if self.locale == "zh_CN" and category is not None:
            return category.name_zh
        return code.replace("_", " ")

    # -- values --
    def join(self, items: list[str]) -> str:
        return format_list(items, locale=self.locale) if items else ""

    def date(self, value: dt.date | str | None) -> str:
        if value is None or value == "":
            return ""
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                return value
        if isinstance(value, dt.datetime):
            value = value.date()
        return format_date(value, "long", locale=self.locale) if self.locale == "zh_CN" else value.isoformat()

    def time(self, value: dt.datetime | None) -> str:
        """A moment the console recorded (UTC): "2026年11月27日 14:03 UTC" / "2026-11-27 14:03 UTC"."""
        if value is None:
            return ""
        return f"{self.date(value.date())} {value:%H:%M} UTC"

    def check_value(self, value: str | None) -> str:
        """A check's expected or found value as the reader reads it: in zh-CN, the document types,
        categories, `long_term` and ISO dates in it written in Chinese; in English, as the verdict
        says. The names only: every other character stays as the pipeline wrote it."""
        if not value or self.locale == "en":
            return value or ""
        doc_types, categories = load_doc_types().types, load_rules().categories.categories

        def word(m: re.Match) -> str:
            code = m.group()
            if code == "long_term":
                return self.gettext("long term")
            if code in doc_types or code == "unclassified":
                return self.doc_type(code)
            if code in labels.CHECK_VALUES:
                return self._label(labels.CHECK_VALUES, code)
            return self.category(code) if code in categories else code

        alternatives = value.split(" or ")  # required_document_present: "a or b", a group of doc types
        if len(alternatives) > 1 and all(a in doc_types for a in alternatives):
            return format_list([self.doc_type(a) for a in alternatives], style="or", locale=self.locale)
        value = re.sub(r"(?<![\w-])\d{4}-\d{2}-\d{2}(?![\w-])", lambda m: self.date(m.group()), value)
        return re.sub(r"(?<![A-Za-z0-9_])[a-z][a-z_]*[a-z](?![A-Za-z0-9_])", word, value)

    def field_value(self, name: str, value: str) -> str:
        """A field's value as read; a date field's ISO date (or `long_term`) written in the reader's way."""
        if name in labels.DATE_FIELDS:
            if value == "long_term":
                return self.gettext("long term")
            return self.date(value)
        return value


def _newstyle(translator: Translator, finalize: Callable[[object], object]) -> dict[str, Callable]:
    """Jinja2's new-style gettext callables (`_("… %(name)s", name=x)`), with every value passed
    through `finalize` before it is put in: a name in a translated sentence is made visible
    (`console.evidence.visible`) exactly as a bare `{{ name }}` is."""

    def fill(context, text: str, variables: dict) -> str:
        if context.eval_ctx.autoescape:
            text = Markup(text)
        return text % {k: finalize(v) for k, v in variables.items()}

    @jinja2.pass_context
    def gettext(context, string, /, **variables):
        return fill(context, translator.gettext(string), variables)

    @jinja2.pass_context
    def ngettext(context, singular, plural, num, /, **variables):
        variables.setdefault("num", num)
        return fill(context, translator.ngettext(singular, plural, num), variables)

    @jinja2.pass_context
    def pgettext(context, string_ctx, string, /, **variables):
        variables.setdefault("context", string_ctx)
        return fill(context, translator.pgettext(string_ctx, string), variables)

    return {"gettext": gettext, "ngettext": ngettext, "pgettext": pgettext}


def environment(locale: str, loader: jinja2.BaseLoader, finalize: Callable[[object], object]) -> jinja2.Environment:
    """A Jinja2 environment whose templates speak `locale`."""
    translator = Translator(locale)
    env = jinja2.Environment(loader=loader, autoescape=True, finalize=finalize, extensions=["jinja2.ext.i18n"])
    env.policies["ext.i18n.trimmed"] = True  # babel.cfg extracts with trimmed = true: the same msgids
    env.install_null_translations(newstyle=True)  # sets the extension up; the callables follow
    env.globals.update(_newstyle(translator, finalize))
    env.globals.update(tr=translator, lang=translator.tag, locale=locale,
                       other_locales=[(TAGS[other], other) for other in LOCALES if other != locale])
    env.filters.update(
        decision=translator.decision, check_status=translator.check_status, queue_status=translator.queue_status,
        reason=translator.reason, reasons=translator.reasons, check_name=translator.check,
        check_names=translator.checks, field_name=translator.field, doc_type=translator.doc_type,
        category=translator.category, fmt_date=translator.date, fmt_time=translator.time)
    return env
