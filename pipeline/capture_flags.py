"""Rule 8 capture and authenticity flags beyond photocopy and recapture (SPEC §4 rule 8).

Two steps, so that a flow can cache the expensive one:

- `measure_page(image, reading)` (read time, needs the uploaded pixels): the measurements — how much
  of each image edge is paper and whether printed ink runs through it, skin-coloured blobs over the
  paper, highlight blobs above the page's lighting, how synthetic (noise-free) the background is.
  Returns plain data (`PageSignals`), boxes in uploaded-image pixels.
- `capture_findings(signals, reading, doc_type, fields, thresholds)` (interpret time, cheap): the
  thresholds of `rules/thresholds.yaml` (`capture_flags:`) turn the measurements and the OCR lines
  into flags (each one sends the verdict to review) and capture kinds (informational).

Flags: `border_incomplete` (the document runs off the image edge: sides and evidence box),
`occluded` (a finger or hand over the page: box and the key fields under it), `specimen` (样本 /
样张, fields printed as XXXX), `glare` (a reflection over a key field), `screenshot` (a phone or
app screenshot). Capture kinds: `screenshot`, `glare`, `electronic_licence` (a print of an
电子营业执照, never a defect).

Sides are those of the uploaded image as stored (top = its first pixel row), which is what the
reviewer's overlay shows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import cv2
import numpy as np

from rules import CaptureFlagThresholds

SIDES = ("top", "right", "bottom", "left")
KEY_FIELDS = ("holder_name", "credit_code", "licence_number", "valid_until", "grantor", "brand", "product_name")

Box = tuple[int, int, int, int]  # x0, y0, x1, y1 in uploaded-image pixels


@dataclass
class SideSignal:
    paper_share: float  # share of the outer band that is paper
    ink_share: float  # share of the band just inside that carries dark print (frame, text)
    paper_span: Box | None = None  # where along the side the paper touches the edge


@dataclass
class Blob:
    box: Box
    area_share: float  # of the whole image
    touches_edge: bool = False  # reaches the image border or the paper's outline (enters from outside)
    score: float = 0.0  # glare: mean excess brightness over the page's lighting (grey levels)


@dataclass
class PageSignals:
    """Pixel measurements of one uploaded page (picklable; boxes in uploaded pixels)."""

    page: int
    size: tuple[int, int]  # (w, h)
    paper_level: float = 0.0  # V of the paper (0–255)
    sides: dict[str, SideSignal] = field(default_factory=dict)
    edge_ink: dict[str, list[tuple[int, int]]] = field(default_factory=dict)  # side -> runs of ink on the
    # outermost rows/columns (start, end along the side, uploaded px) lying among paper
    skin: list[Blob] = field(default_factory=list)
    glare: list[Blob] = field(default_factory=list)
    flat_share: float = 0.0  # share of background blocks with no sensor noise at all (born-digital)


@dataclass
class Finding:
    flag: str
    message: str
    page: int
    box: Box | None = None
    sides: list[str] = field(default_factory=list)
    fields: list[str] = field(default_factory=list)


@dataclass
class CaptureFindings:
    flags: list[Finding] = field(default_factory=list)  # each sends the verdict to review
    kinds: list[str] = field(default_factory=list)  # capture kinds (informational unless also a flag)


def _small(image: np.ndarray, long_side: int) -> tuple[np.ndarray, float]:
    h, w = image.shape[:2]
    factor = min(1.0, long_side / max(h, w))
    if factor < 1.0:
        image = cv2.resize(image, (max(1, int(w * factor)), max(1, int(h * factor))), interpolation=cv2.INTER_AREA)
    return image, factor


def _bgr(image: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR) if image.ndim == 2 else image


def _paper_level(hsv: np.ndarray) -> float:
    """Brightness of the paper: a high percentile of the unsaturated pixels of the central area."""
    h, w = hsv.shape[:2]
    centre = hsv[h // 5: h - h // 5, w // 5: w - w // 5]
    grey = centre[..., 2][centre[..., 1] < 60]
    if grey.size < 100:
        return 200.0
    return float(np.percentile(grey, 80))


def _band(mask: np.ndarray, side: str, depth: int, offset: int = 0) -> np.ndarray:
    """The strip of `mask` `depth` deep starting `offset` in from `side`, laid out side-along × depth."""
    if side == "top":
        return mask[offset:offset + depth, :].T
    if side == "bottom":
        h = mask.shape[0]
        return mask[h - offset - depth:h - offset, :].T
    if side == "left":
        return mask[:, offset:offset + depth]
    w = mask.shape[1]
    return mask[:, w - offset - depth:w - offset]


def _span_box(side: str, start: int, end: int, depth: int, size: tuple[int, int]) -> Box:
    w, h = size
    if side == "top":
        return (start, 0, end, depth)
    if side == "bottom":
        return (start, h - depth, end, h)
    if side == "left":
        return (0, start, depth, end)
    return (w - depth, start, w, end)


def _runs(flags: np.ndarray, min_len: int) -> list[tuple[int, int]]:
    """(start, end) of the runs of True at least `min_len` long."""
    padded = np.concatenate([[False], flags.astype(bool), [False]])
    diff = np.diff(padded.astype(np.int8))
    starts, ends = np.flatnonzero(diff == 1), np.flatnonzero(diff == -1)
    return [(int(s), int(e)) for s, e in zip(starts, ends) if e - s >= min_len]


def measure_page(image: np.ndarray, page: int = 1) -> PageSignals:
    """Measure one uploaded page (BGR or grey, uploaded pixels) for `capture_findings`."""
    image = _bgr(image)
    H, W = image.shape[:2]
    small, factor = _small(image, 1000)
    sh, sw = small.shape[:2]
    hsv = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)
    sat, val = hsv[..., 1], hsv[..., 2]
    level = _paper_level(hsv)
    paper = (val >= 0.78 * level) & (sat < 60)
    ink = val < 0.55 * level
    signals = PageSignals(page=page, size=(W, H), paper_level=round(level, 1))
    if min(sh, sw) < 16:
        return signals  # a sliver or a dot: no sides, edges or blobs to measure (it is unreadable anyway)

    depth = max(2, round(0.01 * min(sh, sw)))
    for side in SIDES:
        band = _band(paper, side, depth)
        inner = _band(ink, side, 3 * depth, offset=depth)
        along = band.mean(axis=1) >= 0.5
        runs = _runs(along, max(2, int(0.05 * along.size)))
        span = None
        if runs:
            s, e = runs[0][0], runs[-1][1]
            span = _span_box(side, int(s / factor), int(e / factor), int(6 * depth / factor), (W, H))
        signals.sides[side] = SideSignal(paper_share=round(float(band.mean()), 3),
                                         ink_share=round(float(inner.mean()), 4), paper_span=span)

    # Ink on the outermost pixels, at full resolution: text cut by the frame leaves strokes there.
    full_val = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    edge_depth = max(2, int(0.002 * max(W, H)))
    for side in SIDES:
        v = _band(full_val[..., 2], side, edge_depth).astype(np.float32)
        s = _band(full_val[..., 1], side, edge_depth)
        col_ink = (v < 0.55 * level).any(axis=1)
        col_paper = ((v >= 0.78 * level) & (s < 60)).any(axis=1)
        # ink counts only where paper lies beside it (a dark desk is not print)
        near_paper = cv2.dilate(col_paper.astype(np.uint8)[:, None], np.ones((max(3, edge_depth * 8), 1), np.uint8))
        signals.edge_ink[side] = _runs(col_ink & (near_paper[:, 0] > 0), 2)

    signals.skin = _skin_blobs(small, paper, factor)
    # luma, not V: red print (an overprint, a seal) is bright in V but not white
    signals.glare = _glare_blobs(cv2.cvtColor(small, cv2.COLOR_BGR2GRAY), paper, factor, level)
    signals.flat_share = _flat_share(small, paper)
    return signals


def _paper_hull(paper: np.ndarray) -> np.ndarray:
    """Filled convex hull of the largest paper region (the sheet, text holes and occluders included)."""
    k = max(3, int(0.02 * min(paper.shape)))
    closed = cv2.morphologyEx(paper.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(closed)
    hull_mask = np.zeros(paper.shape, np.uint8)
    if n <= 1:
        return hull_mask
    biggest = 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA]))
    pts = np.column_stack(np.nonzero(labels == biggest)[::-1]).astype(np.int32)
    cv2.fillConvexPoly(hull_mask, cv2.convexHull(pts), 1)
    return hull_mask


def _skin_blobs(small: np.ndarray, paper: np.ndarray, factor: float) -> list[Blob]:
    """Skin-coloured solid blobs over the sheet (a finger or hand), boxes in uploaded pixels."""
    ycc = cv2.cvtColor(small, cv2.COLOR_BGR2YCrCb)
    y, cr, cb = ycc[..., 0], ycc[..., 1], ycc[..., 2]
    sat = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)[..., 1]
    # skin is more saturated than tinted paper (a cream or pink licence ground is not a finger)
    skin = ((cr >= 138) & (cr <= 173) & (cb >= 77) & (cb <= 127) & (y >= 60) & (sat >= 50)
            & ~paper).astype(np.uint8)
    hull = _paper_hull(paper)
    k = max(5, int(0.025 * min(small.shape[:2])))  # wider than print strokes and seal rings
    kernel = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k))
    solid = cv2.morphologyEx(skin & hull, cv2.MORPH_OPEN, kernel)
    outline = hull - cv2.erode(hull, kernel)
    hue = cv2.cvtColor(small, cv2.COLOR_BGR2HSV)[..., 0]
    red = ((hue <= 8) | (hue >= 170)) & (sat >= 120)
    h, w = solid.shape
    n, labels, stats, _ = cv2.connectedComponentsWithStats(solid)
    blobs = []
    for i in range(1, n):
        x, y0, bw, bh, area = (int(v) for v in stats[i])
        if area < 0.002 * h * w:
            continue
        if min(bw, bh) < 0.08 * min(h, w):
            continue  # a thin strip along the frame (desk, a tinted edge), not a finger
        gx0, gy0 = max(0, x - bw // 2), max(0, y0 - bh // 2)
        if red[gy0:y0 + bh + bh // 2, gx0:x + bw + bw // 2].mean() >= 0.1:
            continue  # the gold of the national emblem beside its red, not a finger
        comp = labels == i
        at_border = x <= 1 or y0 <= 1 or x + bw >= w - 1 or y0 + bh >= h - 1
        touches = at_border or bool((comp & (outline > 0)).any())
        blobs.append(Blob(box=(int(x / factor), int(y0 / factor), int((x + bw) / factor), int((y0 + bh) / factor)),
                          area_share=round(area / (h * w), 4), touches_edge=touches))
    return blobs


def _glare_blobs(val: np.ndarray, paper: np.ndarray, factor: float, level: float) -> list[Blob]:
    """Highlights above the page's smooth lighting: a quadratic surface is fitted to the paper's
    brightness (lamp gradient and vignetting); a reflection is a compact blob well above it."""
    h, w = val.shape
    k = max(5, int(0.03 * min(h, w)))
    bg = cv2.morphologyEx(val, cv2.MORPH_CLOSE, np.ones((k, k), np.uint8))  # text removed
    grid = 48
    gs = cv2.resize(bg, (grid, grid), interpolation=cv2.INTER_AREA).astype(np.float32)
    gp = cv2.resize(paper.astype(np.float32), (grid, grid), interpolation=cv2.INTER_AREA) > 0.5
    if gp.sum() < 50:
        return []
    yy, xx = np.mgrid[0:grid, 0:grid].astype(np.float32) / grid
    design = np.column_stack([np.ones(grid * grid), xx.ravel(), yy.ravel(), xx.ravel() ** 2, yy.ravel() ** 2,
                              (xx * yy).ravel()])
    sel = gp.ravel()
    coef = None
    for _ in range(3):  # refit without the highlights themselves
        coef, *_ = np.linalg.lstsq(design[sel], gs.ravel()[sel], rcond=None)
        resid = gs.ravel() - design @ coef
        keep = sel & (resid < 12)
        if keep.sum() < 50 or (keep == sel).all():
            break
        sel = keep
    fit = cv2.resize((design @ coef).reshape(grid, grid), (w, h), interpolation=cv2.INTER_LINEAR)
    excess = bg.astype(np.float32) - fit
    mask = ((excess >= 15) & (bg >= 250)).astype(np.uint8)  # blown out, not just bright
    n, labels, stats, _ = cv2.connectedComponentsWithStats(mask)
    blobs = []
    for i in range(1, n):
        x, y0, bw, bh, area = (int(v) for v in stats[i])
        if area < 0.002 * h * w:
            continue
        if bw > 0.6 * w and bh > 0.6 * h:
            continue  # white all round the page (a margin, a transparent canvas), not a highlight
        inside = labels == i
        if float(np.percentile(val[inside], 1)) < 0.6 * level:
            continue  # dark print keeps its contrast inside: bright paper, not a reflection washing it out
        blobs.append(Blob(box=(int(x / factor), int(y0 / factor), int((x + bw) / factor), int((y0 + bh) / factor)),
                          area_share=round(area / (h * w), 4), score=round(float(excess[inside].mean()), 1)))
    return blobs


def _flat_share(small: np.ndarray, paper: np.ndarray) -> float:
    """Share of 16 px paper blocks whose pixels are all but identical (no sensor or scanner noise):
    high on born-digital renders and screenshots, low on scans and photos."""
    gray = cv2.cvtColor(small, cv2.COLOR_BGR2GRAY).astype(np.float32)
    h, w = gray.shape
    b = 16
    hb, wb = h // b, w // b
    if hb == 0 or wb == 0:
        return 0.0
    blocks = gray[:hb * b, :wb * b].reshape(hb, b, wb, b)
    std = blocks.std(axis=(1, 3))
    on_paper = paper[:hb * b, :wb * b].reshape(hb, b, wb, b).mean(axis=(1, 3)) > 0.98
    mean = blocks.mean(axis=(1, 3))
    background = on_paper & (mean < 250)  # white paper is flat in any capture (clipped, or JPEG-smoothed)
    if background.sum() < 20:
        return 0.0
    return round(float((std[background] < 0.6).mean()), 3)


# ---------------------------------------------------------------------------------------------
# interpretation


def _quad_box(quad) -> Box:
    q = np.asarray(quad, dtype=np.float64)
    return (int(q[:, 0].min()), int(q[:, 1].min()), int(np.ceil(q[:, 0].max())), int(np.ceil(q[:, 1].max())))


def _union(boxes: list[Box]) -> Box:
    return (min(b[0] for b in boxes), min(b[1] for b in boxes), max(b[2] for b in boxes), max(b[3] for b in boxes))


def _overlap(a: Box, b: Box) -> float:
    """Intersection area over the smaller box's area."""
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    if x1 <= x0 or y1 <= y0:
        return 0.0
    smaller = min((a[2] - a[0]) * (a[3] - a[1]), (b[2] - b[0]) * (b[3] - b[1]))
    return (x1 - x0) * (y1 - y0) / max(1, smaller)


def box_to_quad(box: Box) -> list[list[int]]:
    """(x0, y0, x1, y1) as the verdict's quadrilateral [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]."""
    x0, y0, x1, y1 = box
    return [[x0, y0], [x1, y0], [x1, y1], [x0, y1]]


def _fields_under(box: Box, fields: dict[str, Box]) -> list[str]:
    return [name for name in KEY_FIELDS if name in fields and _overlap(box, fields[name]) > 0.15]


def _cut_lines(signals: PageSignals, lines, t: CaptureFlagThresholds) -> dict[str, list[Box]]:
    """Text lines the image edge cuts: the line's box reaches the edge and print runs through the
    outermost pixels under it (a line merely near the edge leaves them clean)."""
    w, h = signals.size
    tol = max(2.0, t.border_edge_tolerance * max(w, h))
    cut: dict[str, list[Box]] = {s: [] for s in SIDES}
    for line in lines:
        box = _quad_box(line.quad_original)
        reach = {"top": box[1] <= tol, "bottom": box[3] >= h - 1 - tol,
                 "left": box[0] <= tol, "right": box[2] >= w - 1 - tol}
        for side, near in reach.items():
            if not near:
                continue
            lo, hi = (box[0], box[2]) if side in ("top", "bottom") else (box[1], box[3])
            inked = sum(max(0, min(e, hi) - max(s, lo)) for s, e in signals.edge_ink.get(side, []))
            if inked >= t.border_min_ink_share * max(1, hi - lo):
                cut[side].append(box)
    return cut


def _lines_near_edges(signals: PageSignals, lines, share: float) -> dict[str, int]:
    """How many text lines lie within `share` of the image's long side from each edge."""
    w, h = signals.size
    reach = share * max(w, h)
    near = dict.fromkeys(SIDES, 0)
    for line in lines:
        x0, y0, x1, y1 = _quad_box(line.quad_original)
        near["top"] += y0 <= reach
        near["bottom"] += y1 >= h - reach
        near["left"] += x0 <= reach
        near["right"] += x1 >= w - reach
    return near


def _border_finding(signals: PageSignals, lines, t: CaptureFlagThresholds,
                    complete_sides: tuple[str, ...] = ()) -> Finding | None:
    """`complete_sides`: sides the page's own content shows complete (a licence's footer read at its
    bottom): a sheet reaching that edge is a tight crop there, not a cut one (a text line cut by the
    edge still counts)."""
    cut = _cut_lines(signals, lines, t)
    sides, boxes, why = [], [], []
    background_seen = min(s.paper_share for s in signals.sides.values()) <= t.border_background_max_paper
    born_digital = signals.flat_share >= t.born_digital_min_flat_share  # an electronic print has no paper edge
    near_text = _lines_near_edges(signals, lines, t.border_text_near)
    for side in SIDES:
        sig = signals.sides.get(side)
        if cut[side]:
            sides.append(side)
            boxes.extend(cut[side])
            why.append(f"{len(cut[side])} text line(s) cut by the {side} edge")
        elif (sig is not None and side not in complete_sides and background_seen and not born_digital
              and sig.paper_share >= t.border_min_paper_share
              and sig.ink_share >= t.border_min_frame_ink and sig.paper_span is not None
              and near_text[side] >= t.border_min_lines_near):
            # a photo (background visible on another side) whose sheet, with print on it, runs
            # through this side of the frame
            sides.append(side)
            boxes.append(sig.paper_span)
            why.append(f"the sheet runs off the {side} edge ({sig.paper_share:.0%} of it is paper, print "
                       f"beside it)")
    if not sides:
        return None
    return Finding("border_incomplete", "border_incomplete: the document runs off the image at the "
                   + ", ".join(sides) + " (" + "; ".join(why) + ")", signals.page, _union(boxes), sides=sides)


def bottom_cut_finding(lines, layout_height: float, to_upload, page: int, t: CaptureFlagThresholds,
                       size: tuple[int, int]) -> Finding | None:
    """A business licence cut off below its last field (issue 20: no text line is cut, so the
    line-based check saw nothing). Every layout prints something at or below its last row: 登记机关
    with the issue date, the registry footer (国家企业信用信息公示系统), 监制. When none of them was read
    there and the print runs to the image's bottom, the frame passed through the sheet: border
    incomplete at the bottom, with the band under the last row as the box (uploaded pixels).

    Measured on 120 real licences of every vintage (2026-12-07): the one page it fires on is the top
    half of a licence photographed alone; no complete licence lacks the anchor (old 企业法人营业执照
    print the issue date on the 营业期限 row, so "at or below" allows one row height)."""
    form = _licence_form(lines, t)
    if form is None:
        return None  # too little of the form read to say where its rows end
    compact, labels, rows, top, bottom, height = form
    anchors = re.compile(t.licence_bottom_anchors)
    last = max(float(ln.quad[:, 1].min()) for ln in rows)
    if any(anchors.search(text) and not labels.search(text) and float(ln.quad[:, 1].min()) > last - 1.5 * height
           for text, ln in compact):
        return None
    if layout_height - bottom > t.bottom_cut_max_gap * max(1.0, bottom - top):
        return None  # a margin below the print: the sheet ends in the frame, the anchor was just not read
    return Finding("border_incomplete", "border_incomplete: the document runs off the image at the bottom (nothing "
                   "of 登记机关, the issue date or the registry footer read below its last field row)", page,
                   _band_box(last, layout_height, to_upload, size), sides=["bottom"])


def _licence_form(lines, t: CaptureFlagThresholds):
    """(compact texts with their lines, the row-label pattern, the row lines, top and bottom of the
    print, median line height) of a licence page, in the layout frame; None when fewer than three
    field rows were read (too little of the form to say where it starts or ends)."""
    compact = [("".join(ln.text.split()), ln) for ln in lines]
    labels = re.compile(t.licence_row_labels)
    rows = [ln for text, ln in compact if labels.match(text)]
    if len(rows) < 3:
        return None
    top = min(float(ln.quad[:, 1].min()) for _, ln in compact)
    bottom = max(float(ln.quad[:, 1].max()) for _, ln in compact)
    height = float(np.median([float(ln.quad[:, 1].max() - ln.quad[:, 1].min()) for _, ln in compact]))
    return compact, labels, rows, top, bottom, height


def _band_box(y0: float, y1: float, to_upload, size: tuple[int, int]) -> Box:
    """The full-width layout band y0..y1 as a box in uploaded pixels, clipped to the image."""
    band = np.array([[0, y0], [1e9, y0], [1e9, y1], [0, y1]], dtype=np.float64)
    pts = to_upload(band.clip(0, None))
    w, h = size
    return (max(0, int(pts[:, 0].min())), max(0, int(pts[:, 1].min())), min(w, int(pts[:, 0].max())),
            min(h, int(pts[:, 1].max())))


def top_cut_finding(lines, to_upload, page: int, t: CaptureFlagThresholds, size: tuple[int, int]) -> Finding | None:
    """A business licence cut off above its first field: the mirror of `bottom_cut_finding`. Every
    layout prints the title with the credit code (or the old 注册号) and 副本/编号 above 名称; when
    none of them was read there and the print starts at the image's top, the frame passed through
    the sheet: border incomplete at the top, the band above the first row as the box.

    A washed-out title alone does not fire it (the code above 名称 is still read). Measured on the
    145 real samples (2026-12-07): no licence lacks a top anchor; the one page without one is not a
    business licence."""
    form = _licence_form(lines, t)
    if form is None:
        return None
    compact, labels, rows, top, _, height = form
    anchors = re.compile(t.licence_top_anchors)
    first = min(float(ln.quad[:, 1].min()) for ln in rows)
    if any(anchors.search(text) and not labels.match(text) and float(ln.quad[:, 1].max()) < first + 1.5 * height
           for text, ln in compact):
        return None
    if top > t.top_cut_max_lines * height:
        return None  # a margin above the print: the sheet starts in the frame, the title was just not read
    return Finding("border_incomplete", "border_incomplete: the document runs off the image at the top (nothing of "
                   "the title, the credit code or 注册号 read above its first field row)", page,
                   _band_box(0.0, first, to_upload, size), sides=["top"])


def value_areas(labels: dict[str, str], lines, size: tuple[int, int]) -> dict[str, Box]:
    """Where the values of key fields would be printed, for fields whose label was read but whose
    value was not: from the label's right edge across a third of the page's width, as tall as the
    label's line and half a line more either way (uploaded pixels). `labels` maps a field to the
    label word read for it (extractors' `labels_found`), `lines` are the page's OCR lines."""
    w, _ = size
    areas = {}
    for name, label in labels.items():
        if name not in KEY_FIELDS:
            continue
        for ln in lines:
            text = "".join(ln.text.split())
            at = text.find(label)
            if at < 0:
                continue
            x0, y0, x1, y1 = _quad_box(ln.quad_original)
            # the label's own right edge within its line, by its share of the line's characters
            end = x0 + (x1 - x0) * (at + len(label)) / max(1, len(text))
            pad = (y1 - y0) // 2
            areas[name] = (int(end), y0 - pad, int(min(w, end + w / 3)), y1 + pad)
            break
    return areas


def _occlusion_findings(signals: PageSignals, fields: dict[str, Box], t: CaptureFlagThresholds,
                        hidden: dict[str, Box] | None = None, lines=()) -> list[Finding]:
    """A finger or hand over the page's print (SPEC rule 8: an object over a field). A hand that holds
    the sheet by its margin, over no text line, field or unread field's place, hides nothing: the
    page is then a hand-held capture, not an occluded one (issue 20: clean hand-held licences went to
    review). Text that the hand hides completely leaves no OCR line, but its field is then missing,
    and a missing rule-bearing field is review on its own."""
    found = []
    text_boxes = [_quad_box(ln.quad_original) for ln in lines]
    for blob in signals.skin:
        if blob.area_share < t.occlusion_min_area_share or not blob.touches_edge:
            continue
        under = _fields_under(blob.box, fields)
        unread = [name for name in _fields_under(blob.box, hidden or {}) if name not in under]
        over_text = sum(1 for b in text_boxes if _overlap(blob.box, b) > t.occlusion_min_text_overlap)
        if not under and not unread and not over_text:
            continue
        where = f" over {', '.join(under)}" if under else ""
        if unread:
            where += (f"{' and' if under else ''} where {', '.join(unread)} would be printed (label read, "
                      f"value not)")
        found.append(Finding("occluded", f"occluded: a finger or hand covers {blob.area_share:.1%} of the image"
                             f"{where}", signals.page, blob.box, fields=under + unread))
    return found


_CLOCK = re.compile(r"^\D{0,3}\d{1,2}[:：]\d{2}(?!\d)")
_STATUS = re.compile(r"(\d{1,3}\s?%|[45]G|LTE|中国移动|中国联通|中国电信)")
_APP_CHROME = re.compile(r"返回|下载|分享|保存|关闭|更多|^\s*[<＜‹]")  # an app's navigation bar
_SPECIMEN_WORDS = re.compile(r"样本|样张|样照|代用名|SPECIMEN|SAMPLE", re.IGNORECASE)
_XXXX = re.compile(r"[XxＸ×]{4,}")
_ELECTRONIC = re.compile(r"电子营业执照|电子证照|电子许可证")


def _screenshot_finding(signals: PageSignals, lines, t: CaptureFlagThresholds) -> Finding | None:
    w, h = signals.size
    top = t.screenshot_status_bar_share * h
    status = [ln for ln in lines if _quad_box(ln.quad_original)[3] <= top
              and (_CLOCK.search(ln.text.strip()) or _STATUS.search(ln.text))]
    clock = [ln for ln in status if _CLOCK.search(ln.text.strip())]
    aspect = max(w, h) / max(1, min(w, h))
    synthetic = signals.flat_share >= t.born_digital_min_flat_share
    chrome = [ln for ln in lines if _quad_box(ln.quad_original)[3] <= 2.5 * top and _APP_CHROME.search(ln.text)]
    if clock and (synthetic or aspect >= t.screenshot_min_aspect or len(status) >= 2 or chrome):
        status = status + chrome
        box = _union([_quad_box(ln.quad_original) for ln in status])
        return Finding("screenshot", f"screenshot: a phone status bar ({' '.join(ln.text for ln in status)}) "
                       f"at the top of the image", signals.page, box)
    return None


def _specimen_finding(page: int, lines) -> Finding | None:
    marks = []
    for ln in lines:
        text = "".join(ln.text.split())
        word = _SPECIMEN_WORDS.search(text)
        # the watermark stands alone (样本) or as a short label; 样本 inside prose (a scope) is not it
        if (word and len(text) <= len(word.group(0)) + 3) or _XXXX.search(text):
            marks.append((ln, f"'{text}'"))
    if not marks:
        return None
    box = _union([_quad_box(ln.quad_original) for ln, _ in marks])
    shown = ", ".join(m for _, m in marks[:4])
    return Finding("specimen", f"specimen: a sample document, not a licence ({shown})", page, box)


def footer_sides(lines, t: CaptureFlagThresholds) -> tuple[str, ...]:
    """("bottom",) when a business licence's footer (国家企业信用信息公示系统网址, …监制), the last thing
    it prints, was read at the bottom of the page's text: its bottom edge is in the frame."""
    if not lines:
        return ()
    footer = re.compile(t.licence_footer)
    # the upright layout frame where the line has one, else the uploaded pixels
    quads = [np.asarray(getattr(ln, "quad", None) if getattr(ln, "quad", None) is not None else ln.quad_original)
             for ln in lines]
    bottom = max(float(q[:, 1].max()) for q in quads)
    unit = float(np.median([float(q[:, 1].max() - q[:, 1].min()) for q in quads]))
    if any(footer.search("".join(ln.text.split())) and float(q[:, 1].max()) >= bottom - 2 * unit
           for ln, q in zip(lines, quads)):
        return ("bottom",)
    return ()


def capture_findings(signals: PageSignals | None, lines, doc_type: str, fields: dict[str, Box],
                     t: CaptureFlagThresholds, hidden: dict[str, Box] | None = None) -> CaptureFindings:
    """Flags and capture kinds of one page.

    `lines` are the page's OCR lines (objects with `text` and `quad_original`, uploaded pixels);
    `fields` maps field names to their boxes (x0, y0, x1, y1) on this page; `hidden` maps fields
    not read to where their value would be (`value_areas`), so an occluder can name them. Without `signals`
    (a reading cached before these measurements existed) only the text-based findings are made.
    """
    out = CaptureFindings()
    page = signals.page if signals is not None else 1
    specimen = _specimen_finding(page, lines)
    if specimen:
        out.flags.append(specimen)
    text = "".join(ln.text for ln in lines)
    if signals is None:
        return out
    shot = _screenshot_finding(signals, lines, t)
    if shot:
        out.kinds.append("screenshot")
        out.flags.append(shot)
    border = _border_finding(signals, lines, t, footer_sides(lines, t) if doc_type == "business_licence" else ())
    if border and not shot:  # a screenshot's crop of a licence is reported as the screenshot
        out.flags.append(border)
    occluded = _occlusion_findings(signals, fields, t, hidden, lines)
    out.flags.extend(occluded)
    if not occluded and any(b.area_share >= t.occlusion_min_area_share and b.touches_edge for b in signals.skin):
        out.kinds.append("hand_held")
    glare_over = []
    for blob in signals.glare:
        if blob.area_share < t.glare_min_area_share or blob.score < t.glare_min_excess:
            continue
        if "glare" not in out.kinds:
            out.kinds.append("glare")
        under = _fields_under(blob.box, fields)
        if under:
            glare_over.append((blob, under))
    for blob, under in glare_over:
        out.flags.append(Finding("glare", f"glare: a reflection over {', '.join(under)} "
                                 f"({blob.score:.0f} grey levels above the page's lighting)",
                                 page, blob.box, fields=under))
    if doc_type == "business_licence" and not shot and (
            _ELECTRONIC.search(text) or signals.flat_share >= t.born_digital_min_flat_share):
        out.kinds.append("electronic_licence")
    return out
