"""Red seals (公章): found by colour and shape, their curved text read, and checked.

- `find_seals(image)`: red round or oval seals on an uploaded page — red pixels closed into blobs,
  an ellipse fitted to each, kept when the red lies on a ring (a seal's border) rather than filling
  the shape (the national emblem is solid red). Boxes in uploaded pixels.
- `read_seal(image, seal, engine)`: the seal's ink turned dark-on-white (redness, so black print
  under it drops out), the ellipse made a circle, the ring unwrapped by a polar transform into a
  straight strip (upper arc, read clockwise, characters upright; a small seal enlarged first), then
  read by the same recogniser as every text line. Where the engine gives its CTC probabilities,
  they are kept (`Seal.posteriors`) so a check can ask how well the seal supports a given name
  (`seal_support`, pipeline.ocr.ctc) instead of comparing a noisy reading by edit distance.
- `reread_under_seals(image, reading, seals, engine)`: text lines a seal's ink lies over are read
  again from the red channel (red ink is bright there, black print stays dark), and the better
  reading is kept — seal ink must not pollute 名称 or a date.
- `check_seals(ev, works, thresholds)`: the brand-authorization letter's seal names its grantor
  (a legible seal that supports neither grantor nor grantee → AUTHENTICITY_FLAG, review, both
  names; no seal supporting the grantor → review); a
  licence's authority seal against its printed 登记机关 / 发证机关 (informational; a mismatch is
  review, never reject).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import cv2
import numpy as np
from rapidfuzz import fuzz

from pipeline.ocr.base import OcrEngine
from pipeline.ocr.ctc import TextPosterior, confident_substitutions, support

Box = tuple[int, int, int, int]


@dataclass
class Seal:
    """One seal on a page: ellipse in uploaded pixels, and its text once read."""

    page: int
    centre: tuple[float, float]
    axes: tuple[float, float]  # full lengths (major, minor), uploaded px
    angle: float  # degrees, as cv2.fitEllipse gives it
    box: Box
    text: str = ""
    confidence: float = 0.0
    posteriors: list[TextPosterior] = field(default_factory=list)  # one per strip read (engine's CTC output)

    @property
    def shape(self) -> str:
        return "round" if self.axes[1] >= 0.88 * self.axes[0] else "oval"


def redness(image: np.ndarray) -> np.ndarray:
    """How red each pixel is, 0–255: R minus the larger of G and B (black and grey print: ~0)."""
    b, g, r = (image[..., i].astype(np.int16) for i in range(3))
    return np.clip(r - np.maximum(g, b), 0, 255).astype(np.uint8)


def _red_mask(image: np.ndarray) -> np.ndarray:
    hsv = cv2.cvtColor(image, cv2.COLOR_BGR2HSV)
    h, s, v = hsv[..., 0], hsv[..., 1], hsv[..., 2]
    return (((h <= 10) | (h >= 160)) & (s >= 70) & (v >= 60)).astype(np.uint8)


def find_seals(image: np.ndarray, page: int = 1, long_side: int = 1200) -> list[Seal]:
    """Red round/oval seals on one uploaded page (BGR). Empty for grey images."""
    if image.ndim == 2:
        return []
    H, W = image.shape[:2]
    factor = min(1.0, long_side / max(H, W))
    small = cv2.resize(image, (int(W * factor), int(H * factor)), interpolation=cv2.INTER_AREA) if factor < 1 else image
    sh, sw = small.shape[:2]
    red = _red_mask(small)
    k = max(3, int(0.012 * min(sh, sw)))
    blob = cv2.morphologyEx(red, cv2.MORPH_CLOSE, cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (k, k)))
    # every contour, not only the outer ones: a red printed frame encloses the whole page
    contours, _ = cv2.findContours(blob, cv2.RETR_LIST, cv2.CHAIN_APPROX_NONE)
    seals: list[Seal] = []
    for c in contours:
        if len(c) < 20:
            continue
        (cx, cy), (a1, a2), ang = cv2.fitEllipse(c)
        major, minor = max(a1, a2), min(a1, a2)
        if not 0.04 * min(sh, sw) <= major <= 0.6 * min(sh, sw) or minor < 0.5 * major:
            continue
        area = cv2.contourArea(cv2.convexHull(c))
        if area < 0.75 * math.pi * major * minor / 4:
            continue  # not an ellipse: a red line of text, a border strip
        if not _ring_like(red, (cx, cy), (a1, a2), ang):
            continue
        x0, y0, bw, bh = cv2.boundingRect(c)
        if any(abs(o.centre[0] * factor - cx) < major / 3 and abs(o.centre[1] * factor - cy) < major / 3
               and max(o.axes) * factor >= major for o in seals):
            continue  # the inner edge of a ring already found
        seals = [o for o in seals if not (abs(o.centre[0] * factor - cx) < major / 3
                                          and abs(o.centre[1] * factor - cy) < major / 3)]
        seals.append(Seal(page=page, centre=(cx / factor, cy / factor), axes=(a1 / factor, a2 / factor), angle=ang,
                          box=(int(x0 / factor), int(y0 / factor), int((x0 + bw) / factor), int((y0 + bh) / factor))))
    return seals


def _ellipse_mask(shape, centre, axes, angle, scale: float) -> np.ndarray:
    m = np.zeros(shape, np.uint8)
    cv2.ellipse(m, (int(centre[0]), int(centre[1])), (max(1, int(axes[0] * scale / 2)), max(1, int(axes[1] * scale / 2))),
                angle, 0, 360, 1, -1)
    return m


def _ring_like(red: np.ndarray, centre, axes, angle) -> bool:
    """A seal's red is densest on its border ring; the national emblem is red all through."""
    outer = _ellipse_mask(red.shape, centre, axes, angle, 1.0)
    ring_in = _ellipse_mask(red.shape, centre, axes, angle, 0.84)
    mid_out = _ellipse_mask(red.shape, centre, axes, angle, 0.55)
    mid_in = _ellipse_mask(red.shape, centre, axes, angle, 0.35)
    ring = (outer - ring_in) > 0
    middle = (mid_out - mid_in) > 0
    if ring.sum() == 0 or middle.sum() == 0:
        return False
    ring_density = float(red[ring].mean())
    middle_density = float(red[middle].mean())
    return ring_density >= 0.2 and middle_density <= 0.75 * ring_density


def unwrap(image: np.ndarray, seal: Seal, span_deg: float = 280.0, inner: float = 0.45) -> np.ndarray:
    """The seal's upper arc as a straight BGR strip, dark ink on white, characters upright.

    The ellipse is first made a circle (rotated to its axes, the minor axis stretched), then a polar
    transform lays the ring out: angle along x (clockwise, centred on the top), radius along y
    (outer edge at the top, `inner` of the radius at the bottom).
    """
    major = max(seal.axes)
    R = major / 2
    pad = int(R * 1.15)
    cx, cy = seal.centre
    x0, y0 = int(cx) - pad, int(cy) - pad
    crop = np.full((2 * pad, 2 * pad), 255, np.uint8)
    H, W = image.shape[:2]
    sx0, sy0, sx1, sy1 = max(0, x0), max(0, y0), min(W, x0 + 2 * pad), min(H, y0 + 2 * pad)
    if sx1 <= sx0 or sy1 <= sy0:
        return np.full((32, 32, 3), 255, np.uint8)
    ink = redness(image[sy0:sy1, sx0:sx1])
    crop[sy0 - y0:sy1 - y0, sx0 - x0:sx1 - x0] = 255 - cv2.normalize(ink, None, 0, 255, cv2.NORM_MINMAX)
    a1, a2 = seal.axes
    if abs(a1 - a2) > 0.04 * major:
        # stretch along the minor axis so the ellipse becomes a circle
        minor_angle = seal.angle if a1 < a2 else seal.angle + 90
        rot = cv2.getRotationMatrix2D((pad, pad), minor_angle, 1.0)
        crop = cv2.warpAffine(crop, rot, crop.shape[::-1], borderValue=255)
        stretch = major / max(1.0, min(a1, a2))
        m = np.float32([[stretch, 0, pad * (1 - stretch)], [0, 1, 0]])
        crop = cv2.warpAffine(crop, m, crop.shape[::-1], borderValue=255)
        crop = cv2.warpAffine(crop, cv2.getRotationMatrix2D((pad, pad), -minor_angle, 1.0), crop.shape[::-1],
                              borderValue=255)
    n_angle = max(64, int(2 * math.pi * R * 0.8))
    polar = cv2.warpPolar(crop, (int(R), n_angle), (pad, pad), R, cv2.WARP_POLAR_LINEAR + cv2.INTER_LINEAR)
    # rows are angles from +x, clockwise on screen (y down); the top of the seal is at 270°
    start = 270 - span_deg / 2
    rows = (np.arange(int(n_angle * span_deg / 360)) + int(n_angle * start / 360)) % n_angle
    strip = polar[rows].T[::-1]  # x: angle clockwise; y: outer edge first
    strip = strip[int(0.02 * R): int((1 - inner) * R)]
    return cv2.cvtColor(strip, cv2.COLOR_GRAY2BGR)


_CJK = re.compile(r"[\u4e00-\u9fff]")


# A seal whose text is smaller than this many pixels across is enlarged before it is unwrapped: the
# recogniser reads 48-pixel-high strips, and a 180-pixel seal's characters are ~16 pixels high.
_SMALL_SEAL_PX = 320


def seal_strips(image: np.ndarray, seal: Seal) -> list[np.ndarray]:
    """The seal's text band unwrapped over two spans (seals differ in how far round their text
    runs), each a BGR strip, dark ink on white; a small seal also enlarged ×2 (the two sizes read
    different look-alikes, so both are kept)."""
    views = [(image, seal)]
    if max(seal.axes) < _SMALL_SEAL_PX:
        x0, y0, x1, y1 = seal.box
        pad = int(0.2 * max(seal.axes))
        H, W = image.shape[:2]
        ox, oy = max(0, x0 - pad), max(0, y0 - pad)
        crop = image[oy:min(H, y1 + pad), ox:min(W, x1 + pad)]
        views.append((cv2.resize(crop, None, fx=2.0, fy=2.0, interpolation=cv2.INTER_CUBIC),
                      Seal(page=seal.page, centre=((seal.centre[0] - ox) * 2, (seal.centre[1] - oy) * 2),
                           axes=(seal.axes[0] * 2, seal.axes[1] * 2), angle=seal.angle, box=seal.box)))
    strips = []
    for view, placed in views:
        for span in (290.0, 330.0):
            strip = unwrap(view, placed, span_deg=span)
            h = strip.shape[0]
            strips.append(strip[int(0.12 * h): int(0.95 * h)])  # the ring and the star cut in as lines
    return strips


def _cjk_score(text: str, conf: float) -> float:
    return len(_CJK.findall(text)) * conf


def read_seal_posteriors(image: np.ndarray, seal: Seal, engine: OcrEngine) -> tuple[str, float, list[TextPosterior]]:
    """(text, confidence, posteriors) of the seal's curved text: the better reading of its strips,
    and the engine's CTC probabilities of every strip (empty for an engine that gives none)."""
    strips = seal_strips(image, seal)
    try:
        posteriors = engine.recognize_posteriors(strips)
        readings = [(p.reading, p.confidence) for p in posteriors]
    except NotImplementedError:
        posteriors, readings = [], engine.recognize(strips)
    best = ("", 0.0)
    for text, conf in readings:
        text = "".join(_CJK.findall(text)) or text.strip()
        if _cjk_score(text, conf) > _cjk_score(*best):
            best = (text, float(conf))
    return best[0], best[1], posteriors


def read_seal(image: np.ndarray, seal: Seal, engine: OcrEngine) -> tuple[str, float]:
    """(text, confidence) of the seal's curved text (see read_seal_posteriors)."""
    text, conf, _ = read_seal_posteriors(image, seal, engine)
    return text, conf


def read_seals(image: np.ndarray, engine: OcrEngine, page: int = 1) -> list[Seal]:
    """find_seals + read_seal_posteriors on one uploaded page."""
    seals = find_seals(image, page=page)
    for s in seals:
        s.text, s.confidence, s.posteriors = read_seal_posteriors(image, s, engine)
    return seals


def seal_support(seal: Seal, name: str, confident: float = 0.9) -> float | None:
    """How well the seal's strips support `name` (0–1, pipeline.ocr.ctc.support, the best strip;
    the name as printed and with its brackets dropped), or None when no probabilities were kept.

    A strip that reads one of the name's characters as another with probability ≥ `confident`
    does not support it at all (0.0): a clearly read 禾田 is not a noisy 禾苗."""
    posteriors = getattr(seal, "posteriors", None)  # absent on a Seal pickled before they were kept
    if not posteriors or not name:
        return None
    plain = "".join(_CJK.findall(name))
    best = 0.0
    for p in posteriors:
        if plain and confident_substitutions(p, plain, confident, keep=_CJK.match):
            continue
        best = max([best] + [support(p, v) for v in {name, plain} - {""}])
    return best


def seal_text_names(seal_text: str, name: str, min_score: float = 85.0) -> float:
    """How well a seal's text names `name` (0–100): the seal may add 合同专用章 or lose a character
    to the ring."""
    from validators.names import normalize_name

    a, b = normalize_name(seal_text), normalize_name(name)
    if not a or not b:
        return 0.0
    return float(fuzz.partial_ratio(b, a)) if len(a) >= len(b) else float(fuzz.ratio(a, b))


def _box_overlap(a: Box, b: Box) -> float:
    """Intersection area over the area of `a`."""
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    if x1 <= x0 or y1 <= y0:
        return 0.0
    return (x1 - x0) * (y1 - y0) / max(1, (a[2] - a[0]) * (a[3] - a[1]))


def reread_under_seals(image: np.ndarray, reading, seals: list[Seal], engine: OcrEngine) -> list[tuple[str, str]]:
    """Read again, from the red channel, the lines of `reading` (a PageReading) a seal lies over;
    keep the new text where the recogniser is surer of it. Returns (old, new) for each line changed.

    In the red channel red ink is as bright as the paper while black print stays dark, so the
    seal drops out and the print under it remains.
    """
    from pipeline import geometry as geo

    if image.ndim == 2 or not seals:
        return []
    under = []
    for line in reading.lines:
        q = np.asarray(line.quad_original)
        box = (int(q[:, 0].min()), int(q[:, 1].min()), int(q[:, 0].max()) + 1, int(q[:, 1].max()) + 1)
        if any(_box_overlap(box, s.box) > 0.1 for s in seals):
            under.append(line)
    if not under:
        return []
    red_channel = cv2.cvtColor(image[..., 2], cv2.COLOR_GRAY2BGR)
    strips = [geo.crop_quad(red_channel, np.asarray(ln.quad_original)) for ln in under]
    changed = []
    for line, (text, conf) in zip(under, engine.recognize(strips)):
        text = text.strip()
        if text and text != line.text and conf > line.confidence + 0.02:
            changed.append((line.text, text))
            line.text, line.confidence = text, float(conf)
    return changed


# ---------------------------------------------------------------------------------------------
# checks


_COMPANY = re.compile(r"(公司|集团|厂|商行|店|中心|合作社|事务所|研究院|工作室)")
_AUTHORITY_LABEL = re.compile(r"(登记机关|发证机关|发证部门|发证单位)[:：\s]*(.*)")


def _cjk_len(text: str) -> int:
    return len(_CJK.findall(text))


def check_seals(ev, works, thresholds) -> None:
    """Seal checks over the documents (see the module docstring). `ev` is a pipeline.evaluation
    Evaluation, `works` the DocumentWork list, `thresholds` the rules' CaptureFlagThresholds."""
    from pipeline.models import Check

    for work in works:
        result = work.result
        doc = work.ref.file
        rereads = getattr(work, "seal_rereads", None) or []
        if rereads:
            shown = "; ".join(f"{old} → {new}" for old, new in rereads[:4])
            ev.add(Check(name="seal_ink_removed", status="pass", document=doc,
                         message=f"lines under a seal read again without its red ink: {shown}"))
        if result.seals is None:
            continue  # not looked for (a reading made without the seal step)
        if result.doc_type == "brand_authorization":
            _check_letter_seal(ev, work, thresholds, Check)
        elif result.seals and result.doc_type not in ("unclassified", "trademark_certificate"):
            _check_authority_seal(ev, work, thresholds, Check)


def _names(seal, reading, name: str, t) -> tuple[bool, float, str | None]:
    """(does the seal name `name`, the score shown, how): by its CTC support where the engine kept its
    probabilities (`seal` is a pipeline.seals.Seal), else by a legible reading (`reading`, a
    SealReading) within partial ratio `seal_name_score` of it."""
    backed = seal_support(seal, name, t.seal_char_confident) if seal is not None else None
    if backed is not None:
        # the probabilities decide: a legible reading one character off (禾田 for 禾苗) passes a
        # partial ratio of 85 but not this
        return backed >= t.seal_support_name, round(100 * backed, 1), (
            f"the seal's text, read as {reading.text}, supports {name} "
            f"(character probabilities: support {backed:.2f}, 1.00 = its own reading)")
    ratio = seal_text_names(reading.text, name)
    return ratio >= t.seal_name_score and reading.confidence >= t.seal_min_confidence, round(ratio, 1), None


def _names_nobody(seal, text: str, names: list[str], t) -> bool:
    """A legible seal that names none of `names`: by support below `seal_support_other` for each
    where probabilities were kept, else by partial ratio below `seal_name_score`."""
    for name in names:
        backed = seal_support(seal, name, t.seal_char_confident) if seal is not None else None
        if backed is not None:
            if backed >= t.seal_support_other:
                return False
        elif seal_text_names(text, name) >= t.seal_name_score:
            return False
    return True


def _check_letter_seal(ev, work, t, Check) -> None:
    doc = work.ref.file
    result = work.result
    grantor = result.fields.get("grantor")
    grantee = result.fields.get("holder_name")
    # the pipeline.seals.Seal objects behind result.seals (probabilities), where the reading kept them
    objects = work.seals if len(work.seals) == len(result.seals) else [None] * len(result.seals)
    pairs = list(zip(result.seals, objects))
    legible = [(s, o) for s, o in pairs if _cjk_len(s.text) >= 4 and s.confidence >= t.seal_min_confidence]
    if grantor is None:
        ev.add(Check(name="letter_seal_names_grantor", status="skip", document=doc,
                     found="; ".join(s.text for s, _ in legible) or None,
                     message="the grantor could not be read, so its seal cannot be checked"))
        return
    if not result.seals:
        ev.add(Check(name="letter_seal_names_grantor", status="review", document=doc, expected=grantor.value,
                     message="no red seal found on the letter: a brand authorization carries the grantor's seal"),
               "AUTHENTICITY_FLAG")
        return
    named = sorted(((score, how, s) for s, o in pairs if _cjk_len(s.text) >= 2
                    for ok, score, how in [_names(o, s, grantor.value, t)] if ok), key=lambda p: -p[0])
    if named:
        score, how, seal = named[0]
        ev.add(Check(name="letter_seal_names_grantor", status="pass", document=doc, expected=grantor.value,
                     found=seal.text, score=score, message=how))
        return
    parties = [grantor.value] + ([grantee.value] if grantee is not None else [])
    others = [s for s, o in legible if _COMPANY.search(s.text) and _names_nobody(o, s.text, parties, t)]
    if others:
        seal = others[0]
        ev.add(Check(name="letter_seal_names_grantor", status="review", document=doc, expected=grantor.value,
                     found=seal.text, score=round(seal_text_names(seal.text, grantor.value), 1),
                     message=f"the letter's seal names {seal.text}, not its grantor {grantor.value}"),
               "AUTHENTICITY_FLAG")
        return
    read = "; ".join(f"{s.text or '(nothing)'} ({s.confidence:.2f})" for s in result.seals)
    ev.add(Check(name="letter_seal_names_grantor", status="review", document=doc, expected=grantor.value,
                 found=read, message=f"no legible seal of the grantor {grantor.value} (seals read: {read})"),
           "LOW_CONFIDENCE")


# What an issuing authority's name ends with: a name read after 登记机关 that does not is another
# line of the page (a 须知 sentence that mentions 登记机关), not the authority.
_AUTHORITY_END = re.compile(r"(局|委员会|管理委员会|分局|厅|办公室|中心)$")


def printed_authority(lines) -> str | None:
    """The issuing authority printed after 登记机关 / 发证机关 on the page, if any (lines: PageLine)."""
    for i, line in enumerate(lines):
        m = _AUTHORITY_LABEL.search("".join(line.text.split()))
        if not m:
            continue
        tail = "".join(_CJK.findall(m.group(2)))
        if _cjk_len(tail) >= 4 and _AUTHORITY_END.search(tail):
            return tail
    return None


def _check_authority_seal(ev, work, t, Check) -> None:
    """Informational: the licence's seal against its printed authority; a confident mismatch is review.

    A seal's text is shown only where it is supported (issue 20): the seal's character probabilities
    back the printed authority's name (as a letter's seal backs its grantor), or, without them, a
    legible reading matches it. A reading that supports nothing printed is not evidence — a
    recogniser's guess at curved text (部市武使区市研监管管理局) — so the check says the seal is
    there and its text not legible, and shows no text."""
    doc = work.ref.file
    result = work.result
    objects = work.seals if len(work.seals) == len(result.seals) else [None] * len(result.seals)
    pairs = list(zip(result.seals, objects))
    page = next((r for r in work.readings if result.seals and r.page == result.seals[0].page), None)
    printed = printed_authority(page.lines) if page is not None else None
    if printed is not None:
        backing = sorted(((score, how, seal) for seal, obj in pairs if _cjk_len(seal.text) >= 2
                          for ok, score, how in [_names(obj, seal, printed, t)] if ok), key=lambda x: -x[0])
        if backing:
            score, how, seal = backing[0]
            ev.add(Check(name="authority_seal", status="pass", document=doc, expected=printed, found=printed,
                         score=score, message=how or f"the seal reads {seal.text}, the printed authority"))
            return
        legible = [(seal, obj) for seal, obj in pairs if _cjk_len(seal.text) >= 4
                   and seal.confidence >= t.seal_min_confidence and _AUTHORITY_END.search(seal.text)]
        clear = [seal for seal, obj in legible if _names_nobody(obj, seal.text, [printed], t)]
        if clear:
            seal = max(clear, key=lambda x: x.confidence)
            ev.add(Check(name="authority_seal", status="review", document=doc, expected=printed, found=seal.text,
                         score=round(seal_text_names(seal.text, printed), 1),
                         message=f"the authority's seal reads {seal.text} clearly ({seal.confidence:.2f}) and does "
                                 f"not support the printed {printed}"),
                   "AUTHENTICITY_FLAG")
            return
    ev.add(Check(name="authority_seal", status="pass", document=doc, expected=printed, found=None,
                 message="seal present, text not legible" + ("" if printed else "; no authority name printed "
                                                              "beside it to compare")))
