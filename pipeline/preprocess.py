"""Straighten a page and read it: outline rectification, orientation, deskew, OCR, quality.

The uploaded pixels are never resampled more than once. A chain of invertible transforms
(`pipeline.geometry.Transform`) maps the uploaded image to a *layout frame* in which the page is
upright and its text lines are horizontal; text lines are detected on a downscaled working image,
and each line is cut for recognition straight from the uploaded image through the inverse
transform. A line's box in the verdict is that same quadrilateral in uploaded-image pixels.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import cv2
import numpy as np

from pipeline import geometry as geo
from pipeline.ocr.base import OcrEngine
from pipeline.settings import PreprocessOptions


@dataclass
class PageLine:
    text: str
    confidence: float
    quad: np.ndarray  # layout frame: upright, deskewed
    quad_original: np.ndarray  # uploaded-image pixels


@dataclass
class PageReading:
    page: int  # 1-based
    size: tuple[int, int]  # uploaded image (w, h)
    transform: geo.Transform  # uploaded image -> layout frame
    quarter_turns: int  # clockwise quarter turns applied to make the page upright
    skew_deg: float
    rectified: bool
    lines: list[PageLine] = field(default_factory=list)
    sharpness: float = 0.0
    colour_fraction: float = 0.0  # share of clearly coloured pixels (red seals, borders)
    # Outlines of every sheet of paper the photo shows (uploaded pixels, the one read first) when it
    # shows more than one: two documents in one upload (issue 20). Empty for one sheet.
    sheets: list[np.ndarray] = field(default_factory=list)

    @property
    def text(self) -> str:
        return "\n".join(line.text for line in self.lines)

    @property
    def median_text_height(self) -> float | None:
        if not self.lines:
            return None
        heights = [_quad_height(line.quad_original) for line in self.lines]
        return float(np.median(heights))

    @property
    def mean_confidence(self) -> float | None:
        if not self.lines:
            return None
        return float(np.mean([line.confidence for line in self.lines]))


def _quad_height(q: np.ndarray) -> float:
    return float((np.linalg.norm(q[0] - q[3]) + np.linalg.norm(q[1] - q[2])) / 2)


def _quad_width(q: np.ndarray) -> float:
    return float((np.linalg.norm(q[0] - q[1]) + np.linalg.norm(q[3] - q[2])) / 2)


def sharpness_of(image: np.ndarray, long_side: int = 1600) -> float:
    """Variance of the Laplacian, measured at a fixed scale so pages of any size compare."""
    gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    h, w = gray.shape[:2]
    factor = long_side / max(h, w)
    if factor < 1.0:
        gray = cv2.resize(gray, (max(1, int(w * factor)), max(1, int(h * factor))), interpolation=cv2.INTER_AREA)
    return float(cv2.Laplacian(gray, cv2.CV_64F).var())


def colour_fraction_of(image: np.ndarray) -> float:
    """Share of pixels with clear colour (saturation and brightness both well above grey).

    A licence carries red seals and a red border; a black-and-white photocopy has none.
    """
    if image.ndim == 2:
        return 0.0
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    coloured = (hsv[:, :, 1] > 90) & (hsv[:, :, 2] > 70)
    return float(coloured.mean())


def find_sheet_outlines(image: np.ndarray, min_share: float = 0.08) -> list[tuple[np.ndarray, float]]:
    """Quadrilaterals of the sheets of paper a photo shows, largest first, each with its share of the
    image's area: convex four-cornered outlines of at least `min_share` of the frame (and at most
    90 %: a page that fills the frame is a scan), every corner angle within 60–120°."""
    h, w = image.shape[:2]
    gray = cv2.cvtColor(image, cv2.COLOR_BGR2GRAY) if image.ndim == 3 else image
    gray = cv2.GaussianBlur(gray, (5, 5), 0)
    edges = cv2.Canny(gray, 40, 120)
    edges = cv2.dilate(edges, np.ones((3, 3), np.uint8), iterations=2)
    contours, _ = cv2.findContours(edges, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    found = []
    for contour in sorted(contours, key=cv2.contourArea, reverse=True)[:6]:
        area = cv2.contourArea(contour)
        if not min_share * w * h <= area <= 0.90 * w * h:
            continue
        peri = cv2.arcLength(contour, True)
        approx = cv2.approxPolyDP(contour, 0.02 * peri, True)
        if len(approx) != 4 or not cv2.isContourConvex(approx):
            continue
        quad = geo.order_quad(approx.reshape(4, 2))
        if all(_right_enough(quad, i) for i in range(4)):
            found.append((quad, area / (w * h)))
    return found


def _right_enough(quad: np.ndarray, i: int) -> bool:
    """Corner `i` within 60–120°: a sheet seen in perspective, not a random shape."""
    a, b, c = quad[i - 1], quad[i], quad[(i + 1) % 4]
    v1, v2 = a - b, c - b
    cos = float(np.dot(v1, v2) / (np.linalg.norm(v1) * np.linalg.norm(v2) + 1e-9))
    return -0.5 <= cos <= 0.5


def find_page_outline(image: np.ndarray) -> np.ndarray | None:
    """The quadrilateral of a photographed sheet of paper, or None when there is no clear one.

    Conservative on purpose: a wrong outline would crop away text, while a missed one costs only
    a little accuracy (lines are still read along their own slant).
    """
    sheets = find_sheet_outlines(image)
    if not sheets or sheets[0][1] < 0.25:
        return None  # too small to be the page
    return sheets[0][0]


def other_sheets(sheets: list[tuple[np.ndarray, float]], min_ratio: float = 0.5) -> list[np.ndarray]:
    """Every sheet when a photo shows two or more of comparable size (a licence beside a food licence,
    正本 beside 副本), else []. Measured 2026-12-07 on 146 real uploads and the fixtures: it fires on the
    composite of a food licence and a business licence and on an open two-page booklet, nowhere else."""
    if len(sheets) < 2 or sheets[0][1] < 0.12:
        return []
    keep = [q for q, share in sheets if share >= min_ratio * sheets[0][1]]
    return keep if len(keep) >= 2 else []


def _outline_transform(size: tuple[int, int], quad: np.ndarray, long_side: int) -> geo.Transform:
    width = max(np.linalg.norm(quad[0] - quad[1]), np.linalg.norm(quad[3] - quad[2]))
    height = max(np.linalg.norm(quad[0] - quad[3]), np.linalg.norm(quad[1] - quad[2]))
    factor = min(1.0, long_side / max(width, height))
    out = (max(1, int(width * factor)), max(1, int(height * factor)))
    return geo.perspective(size, quad, out)


def _length_weighted_vote(quads: list[np.ndarray], votes: list[tuple[int, float]]) -> int:
    tally: dict[int, float] = {}
    for q, (label, score) in zip(quads, votes):
        tally[label] = tally.get(label, 0.0) + _quad_width(q) * score
    return max(tally, key=tally.get) if tally else 0


def _skew_of(quads: list[np.ndarray]) -> float:
    """Length-weighted median angle of the long, flat lines (degrees, image y-down)."""
    samples = [(geo.quad_angle_deg(q), _quad_width(q)) for q in quads if _quad_width(q) > 3 * _quad_height(q)]
    if len(samples) < 2:
        return 0.0
    samples.sort()
    total = sum(w for _, w in samples)
    running = 0.0
    for angle, weight in samples:
        running += weight
        if running >= total / 2:
            return angle
    return samples[-1][0]


def read_page(image: np.ndarray, engine: OcrEngine, options: PreprocessOptions, page: int = 1) -> PageReading:
    """Straighten and OCR one uploaded page image (BGR)."""
    h, w = image.shape[:2]
    size = (w, h)
    transform = geo.Transform.identity(size)
    if max(w, h) > options.work_long_side:
        transform = geo.scale(size, options.work_long_side / max(w, h))
    working = transform.warp(image)

    rectified = False
    sheets: list[np.ndarray] = []
    if options.rectify:
        outlines = find_sheet_outlines(working)
        back = transform.inverse()
        sheets = [back.apply(q) for q in other_sheets(outlines)]
        outline = outlines[0][0] if outlines and outlines[0][1] >= 0.25 else None
        if outline is not None:
            transform = transform.then(_outline_transform(transform.size, outline, options.work_long_side))
            working = transform.warp(image)
            rectified = True

    quads = engine.detect(working)

    # Orientation, step 1: lines standing on end mean the page lies on its side.
    tall = sum(_quad_height(q) for q in quads if _quad_height(q) > 1.5 * _quad_width(q))
    flat = sum(_quad_width(q) for q in quads if _quad_width(q) > 1.5 * _quad_height(q))
    quarter_turns = 0
    if tall > flat:
        turn = geo.rotate_quarter(transform.size, 1)
        transform = transform.then(turn)
        working = turn.warp(working)
        quads = engine.detect(working)
        quarter_turns = 1

    # Orientation, step 2: the direction classifier's votes, weighted by line length, say
    # whether the (now horizontal) lines read upside down.
    longest = sorted(quads, key=_quad_width, reverse=True)[:40]
    inverse = transform.inverse()
    strips = [geo.crop_quad(image, inverse.apply(q), max_height=48) for q in longest]
    if _length_weighted_vote(longest, engine.classify_direction(strips)) == 180:
        turn = geo.rotate_quarter(transform.size, 2)
        transform = transform.then(turn)
        quads = [geo.order_quad(turn.apply(q)) for q in quads]
        quarter_turns += 2

    # Deskew in coordinates only: the strips are cut from the uploaded image along each line's
    # own slant, so only the layout (rows and columns) needs the straightened frame.
    skew = _skew_of(quads)
    if abs(skew) >= options.deskew_min_deg:
        turn = geo.rotate_small(transform.size, skew)
        transform = transform.then(turn)
        quads = [geo.order_quad(turn.apply(q)) for q in quads]
    else:
        skew = 0.0

    inverse = transform.inverse()
    originals = [inverse.apply(q) for q in quads]
    strips = [geo.crop_quad(image, q) for q in originals]
    texts = engine.recognize(strips)
    lines = [
        PageLine(text.strip(), conf, q, qo)
        for (text, conf), q, qo in zip(texts, quads, originals)
        if text.strip()
    ]
    lines.sort(key=lambda ln: (float(ln.quad[:, 1].mean()), float(ln.quad[:, 0].min())))
    return PageReading(page=page, size=size, transform=transform, quarter_turns=quarter_turns,
                       skew_deg=round(skew, 2), rectified=rectified, lines=lines,
                       sharpness=round(sharpness_of(working), 1),
                       colour_fraction=round(colour_fraction_of(working), 5), sheets=sheets)
