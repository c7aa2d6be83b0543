"""Turning OCR text near a label into a field value, with its confidence and box.

Shared by every extractor: label-driven values (`field_from_value`), values found by pattern
near a label (`candidates_near`), and the credit code with its OCR-confusion repair.
"""

from __future__ import annotations

import re

from extractors.layout import LabelHit, Row, Value
from extractors.types import ExtractedField, OcrLine
from validators import credit_code, dates

# Credit codes are 18 characters of digits and capitals; OCR may read O, I, Z, S for digits.
CODE_RUN = re.compile(r"(?<![0-9A-Za-z])[0-9A-Za-z]{18}(?![0-9A-Za-z])")
NAME_CHARS = re.compile(r"[^\u4e00-\u9fff·•A-Za-z]")
COMPANY_END = re.compile(r"(公司|厂|店|部|中心|社|所|行|场|馆|室|处|院|站|坊|园|队|会|铺|吧|城|号)$")
_ENDINGS = re.compile(r"(公司|厂|店|部|中心|社|所|行|场|馆|室|处|院|站|坊|园|队|会|铺|吧|城|号|[)）])")
# A reposting site's watermark read on the name's line (赶集网58同城, 维库网, www.xxx.com): a site's
# words, a domain or a phone-like digit run, and no entity form of its own.
SITE_TAIL = re.compile(r"^(?!.*(公司|有限|集团))(?=.*(网|同城|[Cc][Oo][Mm]|[Ww]{3}|\d{2,}))[\u4e00-\u9fffA-Za-z0-9.\-]{2,14}$")


def strip_site_tail(name: str) -> tuple[str, str | None]:
    """The name without a site watermark glued after its entity form (…工作室赶集网58同城 →
    …工作室), and the tail cut; the name unchanged and None when there is no such tail."""
    for m in reversed(list(_ENDINGS.finditer(name))):
        tail = name[m.end():]
        if not tail:
            continue
        if SITE_TAIL.match(tail):
            return name[:m.end()], tail
        break
    return name, None


# A value joined from several rows is only as sure as the join: each extra row costs this much.
JOIN_FACTOR = 0.97


def field_from_value(value: Value | None, text: str, *, confidence_factor: float = 1.0, note: str | None = None,
           raw: str | None = None) -> ExtractedField:
    pieces = value.pieces() if value else []
    confs = [line.confidence for line, _, _ in pieces] or [0.0]

    quads = [line.sub_quad_original(a, b) for line, a, b in pieces]
    page = pieces[0][0].page if pieces else 1
    return ExtractedField(value=text, confidence=round(min(confs) * confidence_factor, 3), page=page,
                          quads=quads, raw=raw if raw is not None else (value.text if value else None), note=note)


def name_field(value: Value, text: str, label_cut: str | None, **kwargs) -> ExtractedField:
    """An entity name's field: its confidence reflects a join over rows, and a cut at a label it
    ran into (below `reject_confidence`: a name that needed cutting never supports a reject)."""
    rows = len({id(span.row) for span in value.spans})
    factor = kwargs.pop("confidence_factor", 1.0) * JOIN_FACTOR ** max(0, rows - 1)
    note = kwargs.pop("note", None)
    if label_cut is not None:
        factor *= CUT_FACTOR
        note = (note + "; " if note else "") + f"value ran into the label {label_cut}: cut there"
    return field_from_value(value, text, confidence_factor=factor, note=note, **kwargs)


# A name cut where it ran into another label may have lost or kept a piece: below reject_confidence.
CUT_FACTOR = 0.9


def line_field(line: OcrLine, start: int, end: int, text: str, *, note: str | None = None,
                confidence_factor: float = 1.0) -> ExtractedField:
    return ExtractedField(value=text, confidence=round(line.confidence * confidence_factor, 3), page=line.page,
                          quads=[line.sub_quad_original(start, end)], raw=line.text[start:end], note=note)


def candidates_near(lines: list[OcrLine], rows: list[Row], hit: LabelHit | None, pattern: re.Pattern
                     ) -> list[tuple[OcrLine, re.Match]]:
    """Matches of `pattern` in OCR lines, nearest to the label first (or in reading order)."""
    found = []
    for line in lines:
        for m in pattern.finditer(line.text):
            found.append((line, m))
    if hit is None or not found:
        return found
    label_row = rows[hit.row_index]
    lx, ly = label_row.x_of(hit.start), (label_row.top + label_row.bottom) / 2

    def distance(item: tuple[OcrLine, re.Match]) -> float:
        line, _ = item
        dy = line.center_y - ly
        penalty = 0.0 if dy >= -0.5 * line.height else 1e6  # values sit on or below their label
        return penalty + abs(dy) + 0.3 * abs(line.left - lx)

    return sorted(found, key=distance)


def read_credit_code(lines: list[OcrLine], rows: list[Row], hit: LabelHit | None) -> ExtractedField | None:
    spaced_lines = [despaced(line) for line in lines]
    candidates = candidates_near(spaced_lines, rows, hit, CODE_RUN)
    best_invalid = None
    for line, m in candidates[:6]:
        raw = m.group(0).upper()
        if raw.isdigit() and hit is None:
            continue  # 18 bare digits far from any label: more likely a serial number
        repair = credit_code.repair(raw)
        if repair.value is not None:
            note = None
            factor = 1.0
            if repair.changes:
                note = "OCR repair: " + ", ".join(f"position {p + 1} {a}→{b}" for p, a, b in repair.changes)
                factor = 0.9
            return line_field(line, m.start(), m.end(), repair.value, note=note, confidence_factor=factor)
        if best_invalid is None:
            best_invalid = (line, m, raw)
    if best_invalid is not None and hit is not None:
        line, m, raw = best_invalid
        # Report what is printed: a bad check character is the rules' business (INVALID_NUMBER).
        return line_field(line, m.start(), m.end(), raw, note="check character does not verify")
    return None




def despaced(line: OcrLine) -> OcrLine:
    """The same line with spaces inside digit runs removed (`9131 0113 …`), geometry kept."""
    if " " not in line.text:
        return line
    text = re.sub(r"(?<=[0-9A-Z]) (?=[0-9A-Z])", "", line.text)
    if text == line.text:
        return line
    # Characters shift; the sub-box stays approximate, which is all a box needs to be.
    return OcrLine(text, line.confidence, line.quad, line.quad_original, line.page)





def _is_long_term(text: str) -> bool:
    """The text starts with a wording of "no end" (长期, ******, a blank 年 月 日, 9999年…), with
    whatever OCR ran into it after."""
    compact = re.sub(r"\s+", "", text)
    return (any(compact.startswith(word) for word in dates.LONG_TERM_WORDS) or bool(re.match(r"\*{3,}", compact))
            or bool(re.match(r"年月日|9999年", compact)))


def lenient_date(text: str):
    """The date a value holds, ignoring text OCR ran into it (`2023年08月13日发证日期：…`)."""
    try:
        return dates.parse_date(text)
    except dates.ValidationError:
        found = dates.find_dates(text)
        if not found:
            raise
        return found[0][0]


def lenient_validity(text: str):
    """A date or "long_term", ignoring text that OCR ran into the value."""
    try:
        return dates.parse_validity(text)
    except dates.ValidationError:
        if _is_long_term(text):
            return dates.LONG_TERM
        return lenient_date(text)


def lenient_period(text: str):
    """(valid_from, valid_until) of `自…至…`, ignoring text that OCR ran into the value."""
    try:
        return dates.parse_period(text)
    except dates.ValidationError:
        found = dates.find_dates(text)
        if not found:
            if _is_long_term(text):
                return None, dates.LONG_TERM
            raise
        first, _, first_end = found[0]
        if len(found) >= 2:
            return first, found[1][0]
        rest = re.sub(r"^[\s至到起止~\-—–]+", "", text[first_end:])
        if _is_long_term(rest):
            return first, dates.LONG_TERM
        before = text[:found[0][1]]
        return (None, first) if "至" in before else (first, None)
