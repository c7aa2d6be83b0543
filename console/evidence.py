"""What the submission page shows beside the decision: text made visible, the checks to look at with
their field crops and the differing characters marked, and where each reason points.

Pure functions over a `Verdict` (no database, no web stack), so they are tested directly.
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Callable
from dataclasses import dataclass, field

import cv2
import numpy as np
from markupsafe import Markup

from pipeline.models import Check, DocumentResult, Verdict

# Characters that could forge what a reviewer reads: C0/C1 controls and DEL, NUL, line and paragraph
# separators, bidi embeddings/overrides/isolates and marks, zero-width and other invisible format
# characters, the BOM, and lone surrogates (a JSON `\ud800` survives into a Python str).
_INVISIBLE = re.compile("[\x00-\x1f\x7f-\x9f\u00ad\u061c\u115f\u1160\u180e\u200b-\u200f\u2028-\u202e"
                        "\u2060-\u2064\u2066-\u206f\u3164\ufeff\ufff9-\ufffb\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\x00": "\\0"}
MAX_DIFF_CHARS = 300  # longer values are shown whole, unmarked (the diff is quadratic)


def visible(value: object) -> object:
    """A string with every invisible or direction-changing character written as an escape
    (`\\n`, `\\0`, `\\u202e`, …); anything else unchanged. Markup (already built by the templates)
    passes through. The templates' `finalize`: every `{{ … }}` goes through it before escaping."""
    if not isinstance(value, str) or isinstance(value, Markup):
        return value
    return _INVISIBLE.sub(lambda m: _NAMED.get(m.group(), f"\\u{ord(m.group()):04x}"), value)


@dataclass
class Segment:
    text: str
    differs: bool


def diff_segments(expected: str | None, found: str | None) -> tuple[list[Segment], list[Segment]]:
    """Both strings cut into runs, each run marked when it is not in the other string (character diff)."""
    a, b = expected or "", found or ""
    if not a or not b or len(a) > MAX_DIFF_CHARS or len(b) > MAX_DIFF_CHARS:
        return ([Segment(a, False)] if a else []), ([Segment(b, False)] if b else [])
    left: list[Segment] = []
    right: list[Segment] = []
    for op, i1, i2, j1, j2 in difflib.SequenceMatcher(None, a, b, autojunk=False).get_opcodes():
        if i2 > i1:
            left.append(Segment(a[i1:i2], op != "equal"))
        if j2 > j1:
            right.append(Segment(b[j1:j2], op != "equal"))
    return left, right


# The field a check reads, when its value alone does not tell (checks name no field, SPEC §3).
CHECK_FIELDS = {
    "holder_matches_shop": "holder_name",
    "credit_code_valid": "credit_code",
    "credit_code_matches_declared": "credit_code",
    "credit_code_matches_business_licence": "credit_code",
    "valid_on_check_date": "valid_until",
    "authorization_in_force": "valid_until",
    "number_format": "licence_number",
    "registration_number_valid": "licence_number",
    "names_declared_brand": "brand",
}
# The field a reason code is about, for the link beside it.
REASON_FIELDS = {
    "HOLDER_MISMATCH": "holder_name",
    "CREDIT_CODE_MISMATCH": "credit_code",
    "EXPIRED": "valid_until",
    "INVALID_NUMBER": "licence_number",
    "BRAND_MISMATCH": "brand",
}


@dataclass
class CheckView:
    check: Check
    doc_index: int | None          # the document it is about, when named
    field_name: str | None         # the field whose crop is shown, when found with a box
    page: int | None
    expected: list[Segment] = field(default_factory=list)
    found: list[Segment] = field(default_factory=list)


@dataclass
class ReasonView:
    code: str
    document: str | None
    message: str
    anchor: str | None       # an id on the page: the field's row, else the document
    page_anchor: str | None = None  # the page the field was read on
    merchant_message: str = ""  # what the merchant is told (SPEC §2), shown beside the reviewer's reason


def _document_index(verdict: Verdict, name: str | None) -> int | None:
    for i, doc in enumerate(verdict.documents):
        if name is not None and doc.file == name:
            return i
    return None


def _field_of(doc: DocumentResult, check_name: str | None, value: str | None) -> str | None:
    """The check's field: its value equals what the check found, else the check's usual field."""
    if value:
        for name, fv in doc.fields.items():
            if fv.value == value and fv.box:
                return name
    name = CHECK_FIELDS.get(check_name or "")
    return name if name in doc.fields else None


def checks_to_look_at(verdict: Verdict, show: Callable[[str], str] = lambda value: value) -> list[CheckView]:
    """Every `fail` then `review` check, with its field (when it has a box) and the marked diff of
    its expected and found values as the reader sees them (`show`: codes and dates in their words)."""
    views = []
    for status in ("fail", "review"):
        for check in verdict.checks:
            if check.status != status:
                continue
            index = _document_index(verdict, check.document)
            name = page = None
            if index is not None:
                doc = verdict.documents[index]
                name = _field_of(doc, check.name, check.found)
                if name is not None and doc.fields[name].box:
                    page = doc.fields[name].page
                else:
                    name = None
            expected, found = diff_segments(check.expected and show(check.expected), check.found and show(check.found))
            views.append(CheckView(check, index, name, page, expected, found))
    return views


def failed_check_names(verdict: Verdict) -> list[str]:
    """The distinct names of the `fail` checks: what an approval overrides."""
    return list(dict.fromkeys(c.name for c in verdict.checks if c.status == "fail"))


def reason_views(verdict: Verdict) -> list[ReasonView]:
    views = []
    for reason in verdict.reasons:
        index = _document_index(verdict, reason.document)
        anchor = page_anchor = None
        if index is not None:
            doc = verdict.documents[index]
            name = REASON_FIELDS.get(reason.code)
            if name in doc.fields:
                anchor, page_anchor = f"field-d{index}-{name}", f"doc-{index}-page-{doc.fields[name].page}"
            else:
                anchor = f"doc-{index}"
        views.append(ReasonView(reason.code, reason.document, reason.message, anchor, page_anchor,
                                reason.merchant_message))
    return views


@dataclass
class FrameView:
    """A product video's frame a finding was seen on (SPEC §6): where to fetch it and its box."""

    file: str
    position: int  # the stored copy's position
    time_s: float
    ms: int  # the frame's address in the console's URL
    message: str
    width: int
    height: int
    points: str | None  # SVG polygon points in the frame's pixels


def video_frames(verdict: Verdict, positions: dict[str, int]) -> list[FrameView]:
    """Every finding on a stored product video, with the frame it was seen on and its box."""
    views = []
    for media in verdict.media:
        if media.kind != "video" or media.file not in positions or not media.width or not media.height:
            continue
        for finding in media.findings:
            if finding.time_s is None:
                continue
            points = " ".join(f"{x},{y}" for x, y in finding.box) if finding.box else None
            views.append(FrameView(media.file, positions[media.file], finding.time_s, round(finding.time_s * 1000),
                                   finding.message, media.width, media.height, points))
    return views


def crop_jpeg(screen_jpeg: bytes, page_width: float, box: list[list[int]], *, pad: int = 16,
              quality: int = 90) -> bytes | None:
    """The part of a screen JPEG under a field's box (in the page's own pixels, `page_width` wide),
    with a margin; None when the box falls outside the image."""
    image = cv2.imdecode(np.frombuffer(screen_jpeg, np.uint8), cv2.IMREAD_COLOR)
    if image is None or page_width <= 0:
        return None
    h, w = image.shape[:2]
    scale = w / page_width
    xs = [p[0] * scale for p in box]
    ys = [p[1] * scale for p in box]
    x0, x1 = max(0, int(min(xs)) - pad), min(w, int(max(xs)) + pad)
    y0, y1 = max(0, int(min(ys)) - pad), min(h, int(max(ys)) + pad)
    if x1 <= x0 or y1 <= y0:
        return None
    ok, jpeg = cv2.imencode(".jpg", image[y0:y1, x0:x1], [cv2.IMWRITE_JPEG_QUALITY, quality])
    return jpeg.tobytes() if ok else None
