"""A label/value certificate, read by the table in `forms.yaml`.

Most licences are forms: a title, then labels with values beside or below them. One extractor
serves them all; what differs between types (label words, value kinds, number formats) is data.
"""

from __future__ import annotations

import importlib
import re
from functools import lru_cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from extractors.layout import (
    LabelHit,
    Value,
    cut_at_labels,
    find_labels,
    group_rows,
    label_pattern,
    value_after,
)
from extractors.text import chinese_punctuation, scope_text
from extractors.types import ExtractedField, Extraction, OcrLine
from extractors.values import (
    COMPANY_END,
    NAME_CHARS,
    candidates_near,
    despaced,
    field_from_value,
    lenient_date,
    lenient_period,
    lenient_validity,
    line_field,
    name_field,
    read_credit_code,
)
from validators import dates, id_number

Kind = Literal["name", "person", "credit_code", "number", "date", "validity", "period", "text", "brand",
               "trademark_class", "id_number"]


class FieldSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    kind: Kind
    labels: list[str] = Field(min_length=1)
    number: str | None = Field(None, description="validators module whose SEARCH finds the number")
    max_rows: int = Field(1, ge=1, le=30)
    anywhere: bool = Field(False, description="the label may stand mid-line (注册日期 … 有效期至 … on one line)")


class FormTable(BaseModel):
    model_config = ConfigDict(extra="forbid")

    stop_labels: list[str] = Field(default_factory=list, description="labels that only end a value")
    types: dict[str, dict[str, FieldSpec]]


@lru_cache(maxsize=2)
def load_forms(path: Path | None = None) -> FormTable:
    path = path or Path(__file__).with_name("forms.yaml")
    return FormTable.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


@lru_cache(maxsize=32)
def _label_words(doc_type: str) -> re.Pattern:
    """Every label word of `doc_type`'s form (its fields' and the stop labels)."""
    table = load_forms()
    words = [w for spec in table.types[doc_type].values() for w in spec.labels] + list(table.stop_labels)
    return label_pattern(words)


def number_module(name: str):
    """The validators module for a number format, or None if there is none (yet)."""
    try:
        return importlib.import_module(f"validators.{name}")
    except ImportError:
        return None


ID_RUN = re.compile(r"(?<![0-9])[0-9]{17}[0-9Xx](?![0-9A-Za-z])")
CLASS_RUN = re.compile(r"第?\s*([0-9]{1,2})\s*类|国际分类[:：]?\s*([0-9]{1,2})")
QUOTES = "「」『』“”\"'《》〈〉【】"
NAME_LEAD = re.compile(r"^(?:名称|名)[:：]?")
TEXT_LEAD = re.compile(r"^[（(][\u4e00-\u9fff]{1,4}[）)][:：]?")


def extract_form(doc_type: str, lines: list[OcrLine], table: FormTable | None = None) -> Extraction:
    table = table or load_forms()
    specs = table.types[doc_type]
    rows = group_rows(lines)
    labels = {name: spec.labels for name, spec in specs.items()}
    own = {lab for labs in labels.values() for lab in labs}
    labels["_stop"] = [lab for lab in table.stop_labels if lab not in own]
    hits = find_labels(rows, labels, anywhere=frozenset(n for n, spec in specs.items() if spec.anywhere))
    first = {}
    for hit in hits:
        first.setdefault(hit.field, hit)
    out = Extraction(doc_type=doc_type)

    for hit in hits:
        if hit.field != "_stop":
            for name in _PERIOD_FIELDS.get(specs[hit.field].kind, (hit.field,)):
                out.labels_found.setdefault(name, hit.label)
    for name, spec in specs.items():
        hit = first.get(name)
        if name == "_stop":
            continue
        if hit is None and spec.kind == "brand":
            brand = _brand_without_label(rows, hits)
            if brand is not None:
                out.fields[name] = brand
            continue
        value: Value | None = None
        if hit is not None:
            value = value_after(rows, hit, hits, max_rows=spec.max_rows if spec.kind != "name" else 2)
            if not value.text:
                value = _value_below(rows, hit, hits, spec) or value
            if not value.text:
                out.blank.update(_PERIOD_FIELDS.get(spec.kind, (name,)))
        try:
            _read(out, name, spec, value, lines, rows, hit)
        except dates.ValidationError as e:
            out.notes.append(f"{name} unreadable ({e}): {value.text if value else ''!r}")
    return out


# A period label (有效期限 自…至…) stands for both ends.
_PERIOD_FIELDS = {"period": ("valid_from", "valid_until")}

NUMBER_LINE = re.compile(r"第\s*[0-9]{5,9}[A-Z]?\s*号|[0-9]{7,9}[A-Z]?号|注册号")
TITLE_ROW = re.compile(r"注册证|证书$")


def _brand_without_label(rows, hits) -> ExtractedField | None:
    """A trademark certificate prints the mark itself, unlabelled, in a box between its number
    (第 12345678 号) and 核定使用商品: the short text found there is the brand."""
    start = next((i for i, row in enumerate(rows) if NUMBER_LINE.search(row.text)), None)
    end = min((h.row_index for h in hits if start is not None and h.row_index > start), default=None)
    if start is None or end is None:
        return None
    for row in rows[start + 1:end]:
        text = row.text.strip(QUOTES + "®™*")
        line = max(row.lines, key=lambda ln: ln.right - ln.left)
        # a mark has a letter or a character, read clearly: a barcode's caption (*TMZC…*), a stray
        # stroke of the emblem or the certificate's own title (the electronic layout prints the
        # title between the number and the mark) is not it
        if (1 <= len(text) <= 20 and not re.search(r"[0-9]{4,}", text) and re.search(r"[\u4e00-\u9fffA-Za-z]", text)
                and line.confidence >= 0.8 and not TITLE_ROW.search(text)):
            return line_field(line, 0, len(line.text), line.text.strip(QUOTES + "®™ "),
                              note="the mark as printed in the certificate's box", confidence_factor=0.95)
    return None


def _value_below(rows, hit, hits, spec):
    """A value printed under its label rather than beside it (stacked forms, narrow columns)."""
    if hit.row_index + 1 >= len(rows):
        return None
    below = rows[hit.row_index + 1]
    if any(h.row_index == hit.row_index + 1 for h in hits) or not below.text:
        return None
    label_row = rows[hit.row_index]
    label_left, label_right = label_row.x_of(hit.start), label_row.x_of(hit.end - 1) + label_row.height
    # Only text that starts under the label (not somewhere else on the row below) is its value.
    starts = [i for i in range(len(below.text))
              if label_left - 2 * label_row.height <= below.x_of(i) <= label_right + 4 * label_row.height]
    if not starts:
        return None
    fake = LabelHit(hit.field, hit.label, hit.row_index + 1, starts[0], starts[0])
    value = value_after(rows, fake, hits, max_rows=spec.max_rows)
    return value if value.text else None


def _read(out: Extraction, name: str, spec: FieldSpec, value: Value | None, lines, rows, hit) -> None:
    kind = spec.kind
    if kind == "credit_code":
        code = read_credit_code(lines, rows, hit)
        if code is not None:
            out.fields[name] = code
        return
    if kind == "id_number":
        found = _pattern_field(lines, rows, hit, ID_RUN)
        if found is not None:
            try:
                found.value = id_number.compact(found.value)
            except dates.ValidationError:
                pass
            out.fields[name] = found
        return
    if kind == "number":
        module = number_module(spec.number) if spec.number else None
        pattern = getattr(module, "SEARCH", None)
        found = _pattern_field(lines, rows, hit, pattern) if pattern is not None else None
        if found is not None and module is not None:
            try:
                found.value = module.compact(found.value)  # the number as printed, without spaces
            except dates.ValidationError:
                pass  # keep it as read: the number-format rule will say what is wrong
        if found is None and value is not None and value.text:
            found = field_from_value(value, value.text.strip("：: "))
            found.note = "number does not match the known pattern; taken as printed"
        if found is not None:
            out.fields[name] = found
        return
    if value is None or not value.text:
        return
    text = value.text
    if kind == "name":
        if len(value.spans) > 1 and COMPANY_END.search(value.spans[0].text):
            value.spans = value.spans[:1]
        cut = cut_at_labels(value, _label_words(out.doc_type))
        # 生产企业 / 名称：… printed as one label over two cells leaves 名称 in front of the value
        cleaned = NAME_LEAD.sub("", chinese_punctuation(value.text.strip("：:;；,，.。、 ")))
        if cleaned:
            out.fields[name] = name_field(value, cleaned, cut)
    elif kind == "person":
        cleaned = NAME_CHARS.sub("", text)
        if cleaned:
            out.fields[name] = field_from_value(value, cleaned)
    elif kind == "date":
        out.fields[name] = field_from_value(_date_part(value), lenient_date(text).isoformat())
    elif kind == "validity":
        until = lenient_validity(_strip_period_words(text))
        out.fields[name] = field_from_value(_date_part(value), until if isinstance(until, str) else until.isoformat(),
                                            raw=value.text)
    elif kind == "period":
        text = _strip_period_words(text)
        start, end = lenient_period(text)
        if start is not None:
            out.fields["valid_from"] = field_from_value(value, start.isoformat())
        if end is not None:
            out.fields["valid_until"] = field_from_value(value, end if isinstance(end, str) else end.isoformat())
    elif kind == "text":
        # a label's qualifier printed after it, e.g. 产品名称（中文）：
        if name == "scope":
            first, *rest = [s.text for s in value.spans]
            cleaned = scope_text([TEXT_LEAD.sub("", chinese_punctuation(first.strip("：: ")))] + rest)
        else:
            cleaned = TEXT_LEAD.sub("", chinese_punctuation(text.strip("：: ")))
        if cleaned:
            out.fields[name] = field_from_value(value, cleaned)
    elif kind == "brand":
        cleaned = text.strip("：: " + QUOTES)
        if cleaned:
            out.fields[name] = field_from_value(value, cleaned)
    elif kind == "trademark_class":
        m = CLASS_RUN.search(text)
        if m:
            out.fields[name] = field_from_value(value, str(int(m.group(1) or m.group(2))))


def _date_part(value: Value) -> Value:
    """The value cut to the date it holds: text the row ran on into (a seal's characters beside
    an end date) must not lower the date's confidence or widen its box."""
    found = dates.find_dates(value.text)
    if len(found) != 1:
        return value
    _, start, end = found[0]
    return value.sub(start, end)


def _strip_period_words(text: str) -> str:
    text = text.strip("：: ")
    for word in ("自", "起"):
        text = text.removeprefix(word)
    return text.rstrip("止")


def _pattern_field(lines, rows, hit, pattern) -> ExtractedField | None:
    candidates = candidates_near([despaced(ln) for ln in lines], rows, hit, pattern)
    if not candidates:
        return _pattern_in_rows(rows, pattern, 1.0 if hit else 0.9)
    line, m = candidates[0]
    return line_field(line, m.start(), m.end(), m.group(0), confidence_factor=1.0 if hit else 0.9)


def _pattern_in_rows(rows, pattern, factor: float) -> ExtractedField | None:
    """A number OCR split over several boxes of one row (`第` `68020680` `号`): found in the row's
    compact text, its box the union of the pieces, its confidence the lowest of them."""
    for row in rows:
        m = pattern.search(row.text)
        if m is None:
            continue
        by_line: dict[int, list[int]] = {}
        for offset in range(m.start(), m.end()):
            li, ci = row.owners[offset]
            by_line.setdefault(li, []).append(ci)
        pieces = [(row.lines[li], min(cis), max(cis) + 1) for li, cis in by_line.items()]
        return ExtractedField(value=m.group(0), page=pieces[0][0].page,
                              confidence=round(min(ln.confidence for ln, _, _ in pieces) * factor, 3),
                              quads=[ln.sub_quad_original(a, b) for ln, a, b in pieces], raw=m.group(0),
                              note="number read across several OCR boxes of one row")
    return None
