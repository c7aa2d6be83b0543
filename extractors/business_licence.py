"""营业执照: the business licence, new (统一社会信用代码, 2015+) and old (15-digit 注册号) formats.

Fields (SPEC §3): holder_name, credit_code, legal_representative, established, valid_from,
valid_until, scope, address; the old format's 注册号 is reported as licence_number.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from functools import lru_cache

import numpy as np

from extractors.layout import (
    LabelHit,
    Row,
    Span,
    Value,
    cut_at_labels,
    find_labels,
    group_rows,
    label_pattern,
    realign_overprint,
    value_after,
    value_beside,
)
from extractors.layouts import load_layouts, match_variant
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
    line_field,
    name_field,
    read_credit_code,
    strip_site_tail,
)
from validators import dates

LABELS: dict[str, list[str]] = {
    # 字号名称: old 个体工商户 licences; the longest label is matched first, so the name never
    # starts with the label's tail.
    "holder_name": ["字号名称", "企业名称", "名称"],
    "credit_code": ["统一社会信用代码", "社会信用代码", "信用代码"],
    "licence_number": ["注册号"],
    "entity_type": ["类型", "组成形式", "企业类型", "公司类型"],
    # …姓名: old 企业法人营业执照 (法定代表人姓名) and 个体工商户 (经营者姓名) print the label with 姓名
    "legal_representative": ["法定代表人姓名", "经营者姓名", "负责人姓名", "投资人姓名", "法定代表人",
                             "执行事务合伙人", "经营者", "负责人", "投资人"],
    "capital": ["注册资本", "注册资金", "出资额", "出资数额", "实收资本"],
    # 立日期 / 册日期: the label's first character lost under an overprint (a promotional stamp)
    "established": ["成立日期", "注册日期", "立日期", "册日期"],
    # 执照有效期: old 个体工商户 licences print the licence's own term (自…至…) instead of 营业期限
    "period": ["营业期限", "经营期限", "合伙期限", "执照有效期"],
    # the two-row layout: 营业期限自 2015年01月01日 / 营业期限至 2025年12月31日
    "period_from": ["营业期限自", "经营期限自", "合伙期限自"],
    "period_until": ["营业期限至", "经营期限至", "合伙期限至"],
    "address": ["主要经营场所", "经营场所", "营业场所", "住所"],
    "scope": ["经营范围"],
    "authority": ["登记机关"],
    "serial": ["证照编号", "编号"],
}

# What each field's value looks like, to tell which label a misaligned print's value belongs to.
_DATE = r"[0-9〇○零一二三四五六七八九十]{4}\s*年|\d{4}[-./]\d{1,2}"
VALUE_FITS = {
    "holder_name": re.compile(r"(公司|厂|店|部|中心|社|行|馆|室|院|站|坊)$"),
    "established": re.compile(_DATE),
    "period": re.compile(_DATE + r"|长期|永久"),
    "legal_representative": re.compile(r"^[\u4e00-\u9fff·]{2,4}$"),
    "capital": re.compile(r"元|万"),
    "entity_type": re.compile(r"公司|企业|合伙|个体|独资|集体|全民"),
    "address": re.compile(r"[省市县区镇乡村路街道号]"),
    "scope": re.compile(r"经营项目|销售|生产|加工|服务|制造|批发|零售|开发"),
}


@lru_cache(maxsize=1)
def _label_words() -> re.Pattern:
    return label_pattern([w for words in LABELS.values() for w in words])


# 注册号: 15 digits (GS15-2006, with a MOD 11,10 check digit) or, before 2007, 13 (no check digit).
REG_NUMBER = re.compile(r"(?<![0-9])(?:[0-9]{15}|[0-9]{13})(?![0-9])")


def extract(lines: list[OcrLine]) -> Extraction:
    lines, shifted = realign_overprint(lines, LABELS, VALUE_FITS)
    rows = group_rows(lines)
    hits = find_labels(rows, LABELS)
    out = Extraction(doc_type="business_licence")
    first: dict[str, LabelHit] = {}
    for hit in hits:
        first.setdefault(hit.field, hit)

    def value_of(field: str, max_rows: int = 1) -> Value | None:
        hit = first.get(field)
        if hit is None:
            return None
        v = value_after(rows, hit, hits, max_rows=max_rows)
        if not v.text:
            v = value_beside(rows, hit, hits) or v
        return v if v.text else None

    # holder_name: one line, or two when the first does not end like a name does.
    name = value_of("holder_name", max_rows=2)
    if name is not None:
        if len(name.spans) > 1 and COMPANY_END.search(name.spans[0].text):
            name.spans = name.spans[:1]
        cut = cut_at_labels(name, _label_words())
        text, tail = strip_site_tail(_clean_name(name.text))
        if tail:
            cut = cut or f"a site watermark ({tail})"
        stripped = LEADING_JUNK_NAME.match(text)
        if stripped and stripped.end() < len(text):
            # a watermark's letters or the label's own tail (称) glued in front of the name
            text, cut = text[stripped.end():], cut or stripped.group(0)
        if len(re.findall(r"[\u4e00-\u9fff]", text)) >= 4 or (text and COMPANY_END.search(text) and len(text) >= 4):
            out.fields["holder_name"] = name_field(name, text, cut)
        elif text:
            # a character or two beside the label (所 of a stacked 名/住 称/所 label pair) is no name:
            # the entity-like line under the title is looked for instead
            out.notes.append(f"名称 read as {text!r}: too short for a name")

    if "holder_name" not in out.fields:
        fallback = _holder_without_label(lines)
        if fallback is not None:
            out.fields["holder_name"] = fallback

    code = read_credit_code(lines, rows, first.get("credit_code"))
    if code is not None:
        out.fields["credit_code"] = code
    elif "licence_number" in first or "credit_code" not in first:
        number = _registration_number(lines, rows, first.get("licence_number"))
        if number is not None:
            out.fields["licence_number"] = number

    rep = value_of("legal_representative")
    if rep is not None:
        text = NAME_CHARS.sub("", rep.text)
        if text:
            out.fields["legal_representative"] = field_from_value(rep, text)

    established = value_of("established")
    if established is not None:
        try:
            out.fields["established"] = field_from_value(established, lenient_date(established.text).isoformat())
        except dates.ValidationError:
            out.notes.append(f"成立日期 unreadable: {established.text!r}")

    _periods(out, rows, hits)

    address = value_of("address", max_rows=3)
    if address is not None:
        out.fields["address"] = field_from_value(address, chinese_punctuation(address.text.strip("：:")))

    scope = value_of("scope", max_rows=16)
    if scope is not None:
        text = scope_text([span.text for span in scope.spans], business_licence=True)
        out.fields["scope"] = field_from_value(scope, text)
    if not any(h.field in LABEL_FIELDS for h in hits):
        _term_by_its_value(out, rows, [scope, address])
    _absence_evidence(out, lines, rows, hits, first, scope, [address])
    if shifted is not None:
        out.notes.append(f"values printed {abs(shifted.shift):.0f} px {'above' if shifted.shift > 0 else 'below'} "
                         f"their labels (a misaligned print; {shifted.values} values agree): read with their labels")
    return out


# Which SPEC fields a label stands for: its being read is evidence that the field is printed.
LABEL_FIELDS = {
    "period": ("valid_from", "valid_until"), "period_from": ("valid_from",), "period_until": ("valid_until",),
}
PERIOD_TEXT = re.compile(r"至[:：]?([0-9]{4}年|长期|永久|不约定|\*{3})|[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日?[至到~—-]")


def _absence_evidence(out: Extraction, lines: list[OcrLine], rows: list[Row], hits: list[LabelHit],
                      first: dict[str, LabelHit], scope: Value | None, others: list[Value | None] = ()) -> None:
    """Record what the rules need to tell "not printed" from "not read" (types.Extraction). A
    period-like text inside another labelled value (经营范围, or a 住所 that notes its temporary
    premises' 有效期至) is that value's, not a term printed without its label."""
    for hit in hits:
        for name in LABEL_FIELDS.get(hit.field, (hit.field,)):
            out.labels_found.setdefault(name, hit.label)
    scope_rows = {id(span.row) for value in (scope, *others) if value is not None for span in value.spans}
    period_rows = {h.row_index for h in hits if h.field in LABEL_FIELDS}
    for ri, row in enumerate(rows):
        if id(row) in scope_rows or ri in period_rows:
            continue
        if PERIOD_TEXT.search(row.text):
            out.stray_period = row.text  # a term may be printed where no 营业期限 label was read
            break
    gap = _unread_row_after(rows, hits, first.get("established"))
    if gap:
        out.stray_period = gap  # a row that could hold a term was not read
    page_text = "".join(row.text for row in rows)
    issued = _issue_date(rows, first.get("authority"))
    holder = out.fields.get("holder_name")
    code = out.fields.get("credit_code")
    found = match_variant(load_layouts().business_licence, labels={h.label for h in hits}, page_text=page_text,
                          holder=holder.value if holder else None, credit_code=code.value if code else None,
                          issued=issued)
    if found is not None:
        variant, why = found
        out.layout, out.layout_evidence = variant.name, f"layout {variant.name} — {variant.zh} ({why})"
        out.omits, out.blank_allowed = set(variant.omits), set(variant.blank_allowed)


def _unread_row_after(rows: list[Row], hits: list[LabelHit], established: LabelHit | None) -> str | None:
    """Whether the labels of 成立日期's column leave a row-sized blank right under it, where
    营业期限 is printed on the layouts that print it (an overprint or glare over the whole row)."""
    if established is None:
        return None
    row = rows[established.row_index]
    x0, unit = row.x_of(established.start), row.height
    column = sorted({(rows[h.row_index].top + rows[h.row_index].bottom) / 2 for h in hits
                     if abs(rows[h.row_index].x_of(h.start) - x0) < 1.5 * unit and h.field != "scope"})
    if len(column) < 3:
        return None
    spacings = [b - a for a, b in itertools.pairwise(column)]
    y = (row.top + row.bottom) / 2
    below = [c for c in column if c > y + 0.5 * unit]
    if not below:
        return None
    step = float(np.median(spacings))
    if below[0] - y > 1.7 * step:
        return f"a blank of {below[0] - y:.0f} px under 成立日期 where its column's rows are {step:.0f} px apart"
    return None


def _noise(value: Value) -> bool:
    """A value with no digit and no wording of a term, read with low confidence: not print."""
    text = value.text
    if re.search(r"[0-9〇○零一二三四五六七八九十]|长期|永久|期限|\*", text):
        return False
    return all(line.confidence < 0.8 for line, _, _ in value.pieces())


def _issue_date(rows: list[Row], authority: LabelHit | None) -> dt.date | None:
    """The licence's issue date: the date printed with 登记机关 (beside it or in the rows under it)."""
    if authority is None:
        return None
    label_row = rows[authority.row_index]
    left = label_row.x_of(authority.start) - 2 * label_row.height
    for end in range(authority.row_index + 1, min(len(rows), authority.row_index + 4) + 1):
        # The date's digits and its 年/月/日 are often separate OCR boxes a few pixels apart in
        # height, so they land in neighbouring rows: read the lines right of the label in x order.
        lines = sorted((ln for row in rows[authority.row_index:end] for ln in row.lines if ln.left >= left),
                       key=lambda ln: ln.left)
        found = dates.find_dates("".join(re.sub(r"\s+", "", ln.text) for ln in lines))
        if found:
            return found[-1][0]
    # Only the year read (the month under the seal): from 2023 on, the year alone places the issue date
    # after 2022-03-01, which is all the layout cue asks; 1 January is the earliest it can be.
    lines = [ln for row in rows[authority.row_index:authority.row_index + 4] for ln in row.lines if ln.left >= left]
    years = [int(m.group(0)) for ln in lines for m in re.finditer(r"(?<!\d)20[2-9]\d(?!\d)", ln.text)]
    if years and 2023 <= max(years) <= dt.date.today().year:
        return dt.date(max(years), 1, 1)
    return None


# the label's tail (称 of 名　称) with whatever a watermark glued in front of it: not the name
LEADING_JUNK_NAME = re.compile(r"^[A-Za-z0-9._\-/]*(?:名称|称)[:：]?(?=[\u4e00-\u9fff])")
NOT_A_HOLDER = re.compile(r"监督管理|工商行政管理|登记机关|网址|公示系统|监制"
                          # a 类型 value (有限责任公司(自然人独资)…) is an entity form, not a name
                          r"|^(类型)?[:：]?(有限责任公司|股份有限公司|其他有限责任公司|其他股份有限公司|个人独资企业|"
                          r"普通合伙企业|有限合伙企业|个体工商户|农民专业合作社)")
NAME_PREFIX = re.compile(r"^(名称|称|企业名称)[:：]?")


def _holder_without_label(lines: list[OcrLine]) -> ExtractedField | None:
    """The holder when its label was lost (stacked label boxes, a seal over `名称`): the first
    line after the title that reads as an entity name, trusted a little less."""
    seen_title = False
    for line in lines:  # reading order
        compact = re.sub(r"\s+", "", line.text)
        if "营业执照" in compact:
            seen_title = True
            continue
        if not seen_title or NOT_A_HOLDER.search(compact):
            continue
        prefix = NAME_PREFIX.match(compact)
        name = compact[prefix.end():] if prefix else compact
        if len(name) >= 5 and COMPANY_END.search(name) and not re.search(r"[0-9]{3}", name):
            start = line.text.find(name[0]) if prefix else 0
            return line_field(line, max(0, start), len(line.text), chinese_punctuation(name),
                               note="label 名称 not found: taken from the first entity-like line",
                               confidence_factor=0.95 if prefix else 0.9)
    return None


def _clean_name(text: str) -> str:
    return chinese_punctuation(text.strip("：:;；,，.。、 "))


def _periods(out: Extraction, rows: list[Row], hits: list[LabelHit]) -> None:
    """营业期限 in one row (自…至…), or in two (营业期限自 … / 营业期限至 …, or 营业期限 自… then
    营业期限 至…): every period label's value is read, the first start and the first end kept."""
    for hit in hits:
        if hit.field not in LABEL_FIELDS:
            continue
        value = value_after(rows, hit, hits, max_rows=2 if hit.field == "period" else 1)
        if not value.text:
            value = value_beside(rows, hit, hits) or value
        if not value.text or _noise(value):
            # nothing beside the label, or only a stray low-confidence fragment (a seal's text)
            out.blank.update(LABEL_FIELDS[hit.field])
            continue
        text = value.text.strip("：:")
        if hit.field == "period_until" or (hit.field == "period" and text.startswith(("至", "到"))):
            text = "至" + text.lstrip("至到")
        elif hit.field == "period_from":
            text = text.removeprefix("自")
            text = text if re.search(r"[至到~]", text) else text + "起"
        else:
            text = text.removeprefix("自")
        try:
            valid_from, valid_until = lenient_period(text)
        except dates.ValidationError:
            out.notes.append(f"营业期限 unreadable: {text!r}")
            continue
        if valid_from is not None and "valid_from" not in out.fields:
            out.fields["valid_from"] = field_from_value(value, valid_from.isoformat())
        if valid_until is not None and "valid_until" not in out.fields:
            until = valid_until if isinstance(valid_until, str) else valid_until.isoformat()
            out.fields["valid_until"] = field_from_value(value, until, raw=value.text)


# A term as only 营业期限 prints it: a date, 至, then a date or 长期 (the 成立日期 row holds one date;
# 登记机关's issue date one). 住所's "有效期至" note and the scope are excluded by the caller.
TERM_RANGE = re.compile(r"[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日?[至到]([0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日?|长期|永久)")


def _term_by_its_value(out: Extraction, rows: list[Row], others: list[Value | None]) -> None:
    """No period label was read (its first characters under an overprint: `限 2010年08月02日至长期`):
    the one date range the page prints outside 经营范围 and 住所 is the term, by what it is. Two
    ranges are ambiguous and nothing is taken; a read date is never completed."""
    taken = {id(span.row) for value in others if value is not None for span in value.spans}
    found = [(row, m) for row in rows if id(row) not in taken for m in TERM_RANGE.finditer(row.text)]
    if len(found) != 1:
        return
    row, m = found[0]
    value = Value(spans=[Span(row, m.start(), m.end())], label="", label_row=row)
    try:
        valid_from, valid_until = lenient_period(m.group(0))
    except dates.ValidationError:
        return
    note = f"营业期限's label not read: the term taken from the only date range printed ({m.group(0)})"
    if valid_from is not None:
        out.fields["valid_from"] = field_from_value(value, valid_from.isoformat(), note=note)
    if valid_until is not None:
        until = valid_until if isinstance(valid_until, str) else valid_until.isoformat()
        out.fields["valid_until"] = field_from_value(value, until, raw=m.group(0), note=note)
    out.notes.append(note)


def _registration_number(lines: list[OcrLine], rows: list[Row], hit: LabelHit | None) -> ExtractedField | None:
    spaced_lines = [despaced(line) for line in lines]
    candidates = candidates_near(spaced_lines, rows, hit, REG_NUMBER)
    if not candidates:
        return None
    line, m = candidates[0]
    return line_field(line, m.start(), m.end(), m.group(0), confidence_factor=1.0 if hit else 0.8)
