"""Rows, labels and values on an OCR'd page.

Certificates are label/value forms: `名　　称  杭州某某有限公司`, sometimes in two columns. OCR
splits them in every way: the label's first character alone (`名`) and its second glued to the
value (`称杭州某某有限公司`), a value on the next row, a label and value in one line. So a page
is first grouped into rows; each row becomes one compact string (whitespace removed) that keeps,
for every character, the OCR line it came from — labels are found in that string, and a value
is the text between its label and the next label in the row, plus continuation rows below.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import numpy as np

from extractors.types import OcrLine


@dataclass
class Row:
    lines: list[OcrLine]
    text: str = ""  # compact: no whitespace
    owners: list[tuple[int, int]] = field(default_factory=list)  # per char: (line idx in row, char idx)
    boundaries: set[int] = field(default_factory=set)  # char offsets where a line or a gap begins

    @property
    def top(self) -> float:
        return min(float(ln.quad[:, 1].min()) for ln in self.lines)

    @property
    def bottom(self) -> float:
        return max(float(ln.quad[:, 1].max()) for ln in self.lines)

    @property
    def height(self) -> float:
        return float(np.median([ln.height for ln in self.lines]))

    def x_of(self, offset: int) -> float:
        """Left x (layout frame) of the character at `offset`."""
        li, ci = self.owners[offset]
        return self.lines[li].char_x(ci)


@dataclass
class Span:
    """A piece of a value: characters [start, end) of a row."""

    row: Row
    start: int
    end: int

    @property
    def text(self) -> str:
        return self.row.text[self.start:self.end]


@dataclass
class Value:
    spans: list[Span]
    label: str
    label_row: Row

    @property
    def text(self) -> str:
        return "".join(s.text for s in self.spans)

    def sub(self, start: int, end: int) -> Value:
        """The part of the value holding characters [start, end) of its text (its box and
        confidence then come from those characters' lines only)."""
        spans, offset = [], 0
        for span in self.spans:
            a, b = max(start, offset), min(end, offset + len(span.text))
            if a < b:
                spans.append(Span(span.row, span.start + a - offset, span.start + b - offset))
            offset += len(span.text)
        return Value(spans, self.label, self.label_row)

    def pieces(self) -> list[tuple[OcrLine, int, int]]:
        """(line, first char, last char + 1) of the raw line text behind each span."""
        out = []
        for span in self.spans:
            by_line: dict[int, list[int]] = {}
            for off in range(span.start, span.end):
                li, ci = span.row.owners[off]
                by_line.setdefault(li, []).append(ci)
            for li, cis in by_line.items():
                out.append((span.row.lines[li], min(cis), max(cis) + 1))
        return out


# A character or two read with almost no confidence is a seal's stroke or background texture,
# not print: between the characters of a label (`名 2 称`) it would hide the label.
SPECKLE_MAX_CHARS = 2
SPECKLE_MAX_CONFIDENCE = 0.2


def is_speckle(line: OcrLine) -> bool:
    return len(line.text.strip()) <= SPECKLE_MAX_CHARS and line.confidence < SPECKLE_MAX_CONFIDENCE


def group_rows(lines: list[OcrLine]) -> list[Row]:
    """Lines whose centres lie within about half a text line of each other share a row.

    Centres, not extents: a box that stacks two label characters vertically (`名` over `类`)
    would otherwise glue two rows together. Speckle is left out (see `is_speckle`).
    """
    lines = [ln for ln in lines if not is_speckle(ln)]
    flat = [ln.height for ln in lines if ln.right - ln.left > ln.height]
    unit = float(np.median(flat)) if flat else (float(np.median([ln.height for ln in lines])) if lines else 1.0)
    rows: list[Row] = []
    centres: list[list[float]] = []
    for line in sorted(lines, key=lambda ln: ln.center_y):
        tolerance = 0.5 * min(unit, line.height)
        best, best_distance = None, None
        for i in range(max(0, len(rows) - 4), len(rows)):
            distance = abs(line.center_y - float(np.mean(centres[i])))
            if distance <= tolerance and (best_distance is None or distance < best_distance):
                best, best_distance = i, distance
        if best is None:
            rows.append(Row([line]))
            centres.append([line.center_y])
        else:
            rows[best].lines.append(line)
            centres[best].append(line.center_y)
    for row in rows:
        row.lines.sort(key=lambda ln: ln.left)
        _compact(row)
    return rows


# Latin letters glued in front of a line's Chinese text: a licence's security microprint (SCJDGL,
# 市场监督管理's initials) or a watermark. A label may start right after them.
LATIN_LEAD = re.compile(r"^[A-Za-z]{2,}(?=[\u4e00-\u9fff])")


def _compact(row: Row) -> None:
    text, owners, boundaries = [], [], set()
    for li, line in enumerate(row.lines):
        boundaries.add(len(text))
        lead = LATIN_LEAD.match(line.text.strip())
        if lead:
            boundaries.add(len(text) + len(lead.group(0)))
        gap = False
        for ci, ch in enumerate(line.text):
            if ch.isspace():
                gap = True
                continue
            if gap:
                boundaries.add(len(text))
                gap = False
            text.append(ch)
            owners.append((li, ci))
    row.text = "".join(text)
    row.owners = owners
    row.boundaries = boundaries


_BRACKET_CLASSES = {"（": "[（(]", "(": "[（(]", "）": "[）)]", ")": "[）)]"}


def spaced(label: str) -> str:
    """Regex for a label as it appears in a row's compact text (whitespace already removed);
    full- and half-width brackets are the same to OCR."""
    return "".join(_BRACKET_CLASSES.get(ch) or re.escape(ch) for ch in label)


@dataclass
class LabelHit:
    field: str
    label: str
    row_index: int
    start: int
    end: int


def find_labels(rows: list[Row], labels: dict[str, list[str]], *, anywhere: frozenset[str] = frozenset()
                ) -> list[LabelHit]:
    """Every occurrence of a label that starts a line or follows a gap in it.

    `labels` maps a field to its label words, longest first. A label found in the middle of
    running text (`…依法须经批准的项目…`) is not a label, unless its field is in `anywhere`.
    """
    alternatives = sorted(((lab, f) for f, labs in labels.items() for lab in labs), key=lambda t: -len(t[0]))
    pattern = re.compile("|".join(f"({spaced(lab)})" for lab, _ in alternatives))
    hits: list[LabelHit] = []
    for ri, row in enumerate(rows):
        for m in pattern.finditer(row.text):
            lab, fld = alternatives[m.lastindex - 1]
            if m.start() in row.boundaries or fld in anywhere:
                hits.append(LabelHit(fld, lab, ri, m.start(), m.end()))
    hits.extend(_split_label_hits(rows, labels, hits))
    hits.sort(key=lambda h: (h.row_index, h.start))
    return hits


def _split_label_hits(rows: list[Row], labels: dict[str, list[str]], hits: list[LabelHit]) -> list[LabelHit]:
    """Labels printed wide apart whose characters OCR split, lost or merged: a two-character
    label (`名　　称`) whose first character was lost or merged with the label below it (a
    stacked `名类` box) — the second character starts a line (`称上海某某有限公司`) and a short
    line just left of it holds the first character; `住` or `所` alone with the value beside it;
    a longer spread-out label without its first character (`营　项　目`)."""
    pairs = {lab: fld for fld, labs in labels.items() for lab in labs if len(lab) == 2}
    longer = sorted(((lab, fld) for fld, labs in labels.items() for lab in labs if len(lab) >= 3),
                    key=lambda t: -len(t[0]))
    taken = {(h.row_index, h.start) for h in hits}
    all_lines = [ln for row in rows for ln in row.lines]
    extra = []
    for ri, row in enumerate(rows):
        for start in sorted(row.boundaries):
            if start >= len(row.text) or (ri, start) in taken or any(
                    h.row_index == ri and h.start <= start < h.end for h in hits + extra):
                continue
            li, ci = row.owners[start]
            line = row.lines[li]
            if ci > 1:
                continue  # only at the start of an OCR line
            lone = line.text.strip()
            apart = li == 0 or line.left - row.lines[li - 1].right > 2 * line.height
            headless = _headless_spread_label(row, li, longer) if apart else None
            if headless is not None:
                lab, fld = headless
                extra.append(LabelHit(fld, lab, ri, start, start + len(lab) - 1))
                continue
            if len(lone) == 1 and li + 1 < len(row.lines):
                # `住` alone, its `所` lost (faded, under a seal), the value next on the row
                fld = next((f for lab, f in pairs.items() if lab[0] == lone), None)
                if fld is not None:
                    extra.append(LabelHit(fld, lone, ri, start, start + 1))
                    continue
                # `所` alone, its `住` lost: only where a label can start, apart from the text
                # before it on the row (a lone `号` inside `第 123 号` is no label).
                fld = next((f for lab, f in pairs.items() if lab[1] == lone), None)
                if fld is not None and apart:
                    extra.append(LabelHit(fld, lone, ri, start, start + 1))
                    continue
            for lab, fld in pairs.items():
                if row.text[start] != lab[1]:
                    continue
                h = line.height
                for other in all_lines:
                    if (other is not line and len(other.text.strip()) <= 3 and lab[0] in other.text
                            and other.right <= line.left + 0.5 * h and other.left >= line.left - 12 * h
                            and abs(other.center_y - line.center_y) <= 1.5 * h):
                        extra.append(LabelHit(fld, lab, ri, start, start + 1))
                        break
                else:
                    continue
                break
    return extra


def _headless_spread_label(row: Row, li: int, labels: list[tuple[str, str]]) -> tuple[str, str] | None:
    """A label of three or more characters printed spread out (`经　营　项　目`), one OCR line
    per character, whose first character was lost (faded, under a seal): lines `li`, `li`+1, …
    hold the rest of it one character each, and text follows on the row. (label, field) or None."""
    for lab, fld in labels:
        rest = lab[1:]
        chars = [ln.text.strip() for ln in row.lines[li:li + len(rest)]]
        if chars == list(rest) and li + len(rest) < len(row.lines):
            return lab, fld
    # ...or read as one line without its first character(s) (`定代表人`), at least three left
    lone = re.sub(r"\s+", "", row.lines[li].text)
    if li + 1 < len(row.lines) and len(lone) >= 3:
        for lab, fld in labels:
            if len(lab) > len(lone) and lab.endswith(lone):
                return lab[len(lab) - len(lone) - 1:], fld
    return None


def _gap_end(row: Row, start: int, end: int, gap_heights: float = 2.0, *, after_label: bool = False) -> int:
    """Cut a value where a wide blank separates it from the next OCR line (or from its label):
    text beyond the gap belongs to another block (a notes column, a seal's caption)."""
    last_line = row.owners[start - 1][0] if after_label and start > 0 else None
    if last_line is not None and start < end and row.owners[start][0] != last_line:
        # The value starts in another OCR line than its label: it may sit far to the right, but
        # then it must be the nearest text, not a block across the page.
        first = row.lines[row.owners[start][0]]
        if first.left - row.lines[last_line].right > 8 * row.height:
            return start
    last_line = None
    for offset in range(start, end):
        li = row.owners[offset][0]
        if last_line is not None and li != last_line:
            gap = row.lines[li].left - row.lines[last_line].right
            if gap > gap_heights * min(row.height, row.lines[last_line].height):
                return offset
        last_line = li
    return end


LEADING_JUNK = re.compile(r"^[:：;；,，.。、\-—_|]+")


def value_after(rows: list[Row], hit: LabelHit, hits: list[LabelHit], *, max_rows: int = 1,
                column_tolerance: float = 2.0) -> Value:
    """The value that follows a label: the rest of its row up to the next label, then continuation
    rows below that start in the value's column and hold no label of their own (up to `max_rows`
    rows in all)."""
    row = rows[hit.row_index]
    left = row.x_of(hit.start)
    # The column the value lives in: from its label's left edge to the nearest label to the
    # right on this row or the two above and below (two-column forms stagger their rows, so the
    # next column's label is often a row off).
    # Only labels that line up with another label below or above them form a column: a lone
    # label (a portrait licence's 统一社会信用代码 at top right) bounds nothing.
    xs = [(h, rows[h.row_index].x_of(h.start)) for h in hits]
    # Labels below do not bound it: a block under the value (发证机关, 签发人) is not a column.
    # A label starts the next column only to the right of where this label ends: the tail of a
    # spread label above (`所` of 住　　所, printed flush right) lines up inside a long label.
    label_end = row.x_of(hit.end - 1) + 0.5 * row.height
    column_starts = [x for h, x in xs
                     if 0 <= hit.row_index - h.row_index <= 2 and x > max(left + 4 * row.height, label_end)
                     and any(0 < abs(h2.row_index - h.row_index) <= 3 and abs(x2 - x) < row.height
                             for h2, x2 in xs)]
    right = min(column_starts, default=float("inf"))
    same_row = sorted(h.start for h in hits if h.row_index == hit.row_index and h.start >= hit.end)
    end = same_row[0] if same_row else len(row.text)
    end = next((i for i in range(hit.end, end) if row.x_of(i) >= right - 0.5 * row.height), end)
    start = hit.end
    while start < end and LEADING_JUNK.match(row.text[start]):
        start += 1
    reach_end = end
    end = _gap_end(row, start, end, after_label=True)
    spans = [Span(row, start, end)] if end > start else []
    if not spans:
        # Nothing beside the label: the value is missing (blurred, sealed over) or printed under
        # it. Continuation rows would only collect whatever text lies below.
        return Value(spans, hit.label, row)
    value_left = row.x_of(start)
    # How far the label's row reaches in the value's column, past a blank that cut the value
    # there (a seal over the middle of a wide scope leaves its lines in two pieces).
    # Only where the column is bounded on the right (the next column's labels, the next label on
    # the row): otherwise the far piece may be a block of its own (a notes column).
    bounded = right < float("inf") or bool(same_row)
    reach = row.lines[row.owners[reach_end - 1][0]].right if bounded else value_left
    cut_left = row.x_of(end) if end < reach_end else None
    # Label and value in one OCR line (`经营范围：…`): an old-format licence wraps such a value
    # back to the label's own left margin.
    inline = row.owners[hit.start][0] == row.owners[start][0]
    rows_used = 1
    ri = hit.row_index + 1
    last_bottom = row.bottom
    while rows_used < max_rows and ri < len(rows):
        nxt = rows[ri]
        if nxt.top - last_bottom > column_tolerance * row.height:
            break
        in_column = [i for i in range(len(nxt.text)) if left - 0.5 * row.height <= nxt.x_of(i) < right - 0.5 * row.height]
        if not in_column:
            ri += 1
            continue
        s, e = in_column[0], in_column[-1] + 1
        e = _gap_end(nxt, s, e)
        if any(h.row_index == ri and h.start <= s < h.end for h in hits):
            break  # the tail of a label (`人` of a spread 法定代表人) strays into the column
        if any(h.row_index == ri and s <= h.start < e for h in hits):
            break  # the next label in this column: the value has ended
        li, ci = nxt.owners[s]
        if ci > 0 and nxt.lines[li].left < left - 1.0 * row.height:
            # The row's first text in the column is the end of an OCR line that begins left of
            # it, in the labels' column: a label (its head lost or not read as one) and its value.
            break
        x = nxt.x_of(s)
        if x < value_left - 2.5 * row.height and not (inline and abs(x - left) <= row.height):
            break  # starts far left of the value: another block of the page
        if x > value_left + 6 * row.height and x >= reach - row.height:
            # A wrapped value goes on at its own left margin; text that starts far to the right
            # of it, beyond where the label's row ends, is another block (a seal's caption, the
            # issue date beside the last line). Under the label's row, it is the value's own
            # lines broken by a blank (a seal over their middle).
            break
        if cut_left is not None and x >= cut_left - row.height and len(spans) == 1:
            # ...and the label's row was cut at that same blank: its far piece is the value's too
            spans[0] = Span(row, start, reach_end)
        spans.append(Span(nxt, s, e))
        last_bottom = nxt.bottom
        rows_used += 1
        ri += 1
    return Value(spans, hit.label, row)


def value_beside(rows: list[Row], hit: LabelHit, hits: list[LabelHit], *, reach: float = 0.9) -> Value | None:
    """The value of a label whose own row holds nothing after it, printed half a line above or below
    (an old licence filled in on a printer that missed the form's lines: 营业期限 with its dates
    floating between it and the row above). The nearest row within `reach` text heights whose text
    starts right of the label, is claimed by no label of its own before that text, and lies nearer
    to this label than to any other label of the column. None when there is none."""
    row = rows[hit.row_index]
    label_right = row.x_of(hit.end - 1) + 0.5 * row.height
    label_left = row.x_of(hit.start)
    centre = (row.top + row.bottom) / 2
    column = [h for h in hits if h is not hit and abs(rows[h.row_index].x_of(h.start) - label_left) < 1.5 * row.height]
    best: tuple[float, int] | None = None
    for ri in (hit.row_index - 1, hit.row_index + 1):
        if not 0 <= ri < len(rows):
            continue
        other = rows[ri]
        middle = (other.top + other.bottom) / 2
        distance = abs(middle - centre)
        if distance > reach * row.height:
            continue
        if any(abs((rows[h.row_index].top + rows[h.row_index].bottom) / 2 - middle) < distance for h in column):
            continue  # nearer to another label of the column: that label's value
        if best is None or distance < best[0]:
            best = (distance, ri)
    if best is None:
        return None
    other = rows[best[1]]
    starts = [i for i in range(len(other.text)) if other.x_of(i) >= label_right - 0.5 * row.height]
    if not starts:
        return None
    s = starts[0]
    if any(h.row_index == best[1] and h.start <= s for h in hits):
        return None  # the row's text there belongs to a label of its own
    if other.x_of(s) - label_right > 8 * row.height:
        return None  # far right of the label: another block (a notes column, the issue date)
    e = _gap_end(other, s, len(other.text))
    return Value([Span(other, s, e)], hit.label, row) if e > s else None


def label_pattern(words: list[str]) -> re.Pattern:
    """Labels of a form as they may appear inside a value that ran into them: the longer ones
    anywhere, a two- or three-character one only with its colon (住所：), since short words occur
    in names and addresses."""
    long_words = sorted({w for w in words if len(w) >= 4}, key=len, reverse=True)
    short_words = sorted({w for w in words if 2 <= len(w) < 4}, key=len, reverse=True)
    parts = [spaced(w) for w in long_words] + [spaced(w) + "[:：]" for w in short_words]
    return re.compile("|".join(parts)) if parts else re.compile(r"(?!)")


def cut_at_labels(value: Value, pattern: re.Pattern) -> str | None:
    """Cut `value` where another label of the form appears inside it (a wrapped holder name
    running into `许可证编号：JY…` on the row beside it). Returns the label cut at, or None."""
    for i, span in enumerate(value.spans):
        m = pattern.search(span.text)
        if m is None:
            continue
        if m.start() == 0 and i == 0:
            continue  # the value *is* a label's text: nothing sensible to keep
        cut = Span(span.row, span.start, span.start + m.start())
        value.spans = value.spans[:i] + ([cut] if cut.end > cut.start else [])
        return m.group(0)
    return None


@dataclass
class Realignment:
    shift: float  # px added to the values' y (layout frame)
    values: int  # value lines whose content fits the label they then row up with


def realign_overprint(lines: list[OcrLine], labels: dict[str, list[str]], fits: dict[str, re.Pattern], *,
                      min_shift: float = 0.35, tolerance: float = 0.22, margin: int = 3
                      ) -> tuple[list[OcrLine], Realignment | None]:
    """An old licence filled in on a printer whose paper slipped: every value sits the same distance
    above (or below) its label — often half a row or more, so each value rows up with a neighbour's
    label. Geometry alone cannot tell which (half a row up is half a row down from the next label), so
    each candidate offset is scored by what the values *are*: a line rowed up with 名称 that is an
    entity's name, with 成立日期 a date, with 法定代表人 a person's name (`fits`: field -> pattern).
    When an offset of at least `min_shift` text heights fits `margin` more values than none does, the
    value lines are moved by it (layout frame only: their boxes on the upload are untouched)."""
    words = [(w, f) for f, ws in labels.items() for w in ws]
    compact = [re.sub(r"\s+", "", ln.text) for ln in lines]

    def label_of(text: str) -> str | None:
        return next((f for w, f in sorted(words, key=lambda t: -len(t[0])) if text.startswith(w)), None)

    pieces = {w[k]: f for w, f in words if len(w) == 2 for k in (0, 1)}
    kinds: list[str | None] = []
    for text in compact:
        kind = label_of(text)
        if kind is None and 1 <= len(text) <= 2 and all(ch in pieces for ch in text):
            kind = pieces[text[-1]]  # 名 / 称 / 称所: a spread label's pieces
        kinds.append(kind)
    label_lines = [(ln, k) for ln, k in zip(lines, kinds) if k is not None and len(compact[lines.index(ln)]) <= 8]
    if len(label_lines) < 4:
        return lines, None
    h = float(np.median([ln.height for ln, _ in label_lines]))
    values = [(i, ln) for i, (ln, k) in enumerate(zip(lines, kinds)) if k is None and len(compact[i]) >= 2]

    def score(shift: float) -> int:
        n = 0
        for i, line in values:
            y = line.center_y + shift
            left = [(la, k) for la, k in label_lines if la.right <= line.left + 0.5 * h and line.left - la.right < 10 * h
                    and abs(la.center_y - y) <= tolerance * h]
            if left and any(k in fits and fits[k].search(compact[i]) for _, k in left):
                n += 1
        return n

    candidates = sorted({round(la.center_y - line.center_y) for _, line in values for la, _ in label_lines
                         if min_shift * h <= abs(la.center_y - line.center_y) <= 1.2 * h})
    if not candidates:
        return lines, None
    base = score(0.0)
    best = max(candidates, key=lambda c: (score(float(c)), -abs(c)))
    fitted = score(float(best))
    if fitted < base + margin:
        return lines, None
    moved = []
    for line, kind in zip(lines, kinds):
        if kind is not None:
            moved.append(line)
            continue
        quad = line.quad.copy()
        quad[:, 1] += best
        moved.append(OcrLine(line.text, line.confidence, quad, line.quad_original, line.page))
    return moved, Realignment(float(best), fitted)
