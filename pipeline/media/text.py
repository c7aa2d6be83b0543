"""SPEC §6 on text: contact details and banned superlatives in what a listing says or shows.

One function, `find_prohibited`, for every text a listing carries: the title and description as the
merchant wrote them, and the lines OCR read off a picture or a video frame. The lists are data
(rules/content.yaml, `rules.ContentRules`); this module only applies them, on two forms of the text:

- plain: NFKC-folded (full-width and styled letters and digits become plain ones), lower-cased,
  whitespace removed — what the text says;
- compact: also without punctuation, symbols, emoji and invisible characters (`compact_drops`), and,
  for the contact patterns, with the look-alikes replaced (`variants`: 威信 → 微信, V❤ → v信,
  幺三八 → 138) — what it says once the characters inserted to dodge the list are taken out.

A finding records which form it needed (`evasive`), and the characters of the text it covers, so a
caller can point at the OCR line(s) it came from.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from rules import ContentRules


@dataclass(frozen=True)
class TextFinding:
    kind: str  # a contact pattern's name (phone, wechat…) or "banned_word"
    found: str  # the matched text as the merchant wrote it (original characters)
    evasive: bool  # seen only once inserted characters and look-alikes were taken out
    start: int  # span in the original text
    end: int

    def describe(self) -> str:
        what = f"banned superlatives: {self.found}" if self.kind == "banned_word" else f"{self.kind} {self.found}"
        return what + (" (written to dodge the filter)" if self.evasive else "")


@dataclass(frozen=True)
class _Form:
    text: str
    origin: tuple[int, ...]  # for each character of `text`, the index of the original character it came from


class _Compiled:
    def __init__(self, content: ContentRules):
        self.contact = {name: re.compile(p, re.IGNORECASE) for name, p in content.contact_patterns.items()}
        self.allowed = [re.compile(p, re.IGNORECASE) for p in content.allowed_phrases]
        self.drop_categories = frozenset(content.compact_drops.categories)
        self.keep = frozenset(content.compact_drops.keep)
        # each banned word reduced as a text is, so "100%" and "最 好" compare like with like
        self.banned = sorted({w for word in content.banned_words
                              for w in (_fold(word), self.compact_of(_fold(word))) if w}, key=len, reverse=True)
        keys = sorted(content.variants, key=len, reverse=True)
        self.variants = re.compile("|".join(re.escape(_fold(k)) for k in keys)) if keys else None
        self.variant_of = {_fold(k): _fold(v) for k, v in content.variants.items()}

    def compact_of(self, text: str) -> str:
        return "".join(c for c in text if c in self.keep or unicodedata.category(c) not in self.drop_categories)


def _fold(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


_COMPILED: dict[int, tuple[ContentRules, _Compiled]] = {}


def _compiled(content: ContentRules) -> _Compiled:
    """The rules compiled once per rules object (load_rules caches those)."""
    held = _COMPILED.get(id(content))
    if held is None or held[0] is not content:
        if len(_COMPILED) > 16:
            _COMPILED.clear()
        held = _COMPILED[id(content)] = (content, _Compiled(content))
    return held[1]


def _folded(text: str) -> _Form:
    """NFKC per character (so every folded character knows where it came from), lower-cased."""
    out: list[str] = []
    origin: list[int] = []
    for i, ch in enumerate(text):
        for c in _fold(ch):
            out.append(c)
            origin.append(i)
    return _Form("".join(out), tuple(origin))


def _keep_only(form: _Form, keep) -> _Form:
    chars = [(c, o) for c, o in zip(form.text, form.origin, strict=True) if keep(c)]
    return _Form("".join(c for c, _ in chars), tuple(o for _, o in chars))


def _replace_variants(form: _Form, compiled: _Compiled) -> _Form:
    if compiled.variants is None:
        return form
    out: list[str] = []
    origin: list[int] = []
    pos = 0
    for m in compiled.variants.finditer(form.text):
        out += form.text[pos:m.start()]
        origin += form.origin[pos:m.start()]
        replacement = compiled.variant_of[m.group()]
        out += replacement
        origin += [form.origin[m.start()]] * len(replacement)
        pos = m.end()
    out += form.text[pos:]
    origin += form.origin[pos:]
    return _Form("".join(out), tuple(origin))


def _blank_allowed(form: _Form, compiled: _Compiled, protected: list[str]) -> str:
    """The form's text with allowed phrases and protected names (the declared brand) blanked out, length kept."""
    text = form.text
    for pattern in compiled.allowed:
        text = pattern.sub(lambda m: "\0" * len(m.group()), text)
    for name in protected:
        if name:
            text = text.replace(name, "\0" * len(name))
    return text


def find_prohibited(text: str, content: ContentRules, *, protected: tuple[str, ...] = ()) -> list[TextFinding]:
    """Contact details and banned words in `text`, each once (plain-form findings first).

    `protected`: names that are not claims (the declared brand, backed by its trademark certificate):
    a brand called 第一坊 is not the superlative 第一."""
    if not text:
        return []
    compiled = _compiled(content)
    folded = _folded(text)
    plain = _keep_only(folded, lambda c: not c.isspace())
    compact = _keep_only(plain, lambda c: c in compiled.keep or unicodedata.category(c) not in compiled.drop_categories)
    contact = _keep_only(_replace_variants(plain, compiled),
                         lambda c: c in compiled.keep or unicodedata.category(c) not in compiled.drop_categories)
    guarded = [compiled.compact_of(_fold(p).replace(" ", "")) for p in protected if p] + \
        [_fold(p).replace(" ", "") for p in protected if p]

    findings: list[TextFinding] = []
    seen: set[tuple[str, str]] = set()

    def add(kind: str, form: _Form, start: int, end: int, evasive: bool) -> None:
        first, last = form.origin[start], form.origin[end - 1] + 1
        found = text[first:last]
        key = (kind, re.sub(r"\s+", "", found))
        if key in seen:
            return
        seen.add(key)
        findings.append(TextFinding(kind, found, evasive, first, last))

    for form, evasive in ((plain, False), (contact, True)):
        for name, pattern in compiled.contact.items():
            for m in pattern.finditer(form.text):
                if m.end() > m.start():
                    add(name, form, m.start(), m.end(), evasive)
    for form, evasive in ((plain, False), (compact, True)):
        searchable = _blank_allowed(form, compiled, guarded)
        for word in compiled.banned:
            for m in re.finditer(re.escape(word), searchable):
                add("banned_word", form, m.start(), m.end(), evasive)
    # a finding the plain form made is not repeated by the compact one under another spelling
    plain_spans = [(f.start, f.end) for f in findings if not f.evasive]
    return [f for f in findings if not f.evasive or not any(s <= f.start and f.end <= e for s, e in plain_spans)]
