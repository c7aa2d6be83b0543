"""Re-read what a rule rests on (issue 20): a credit code that was not read, or not read right.

A page's first reading goes over every line once, at the detector's scale. Where the credit code
a rule needs is missing from it — a code run that fails its GB 32100 check character or is a
character short, a `统一社会信用代码` label read with no code beside it, or a licence whose title was
read but whose code row was not detected at all (a watermark over it, a misaligned print) — the
area it should be in is read again, cropped from the uploaded image:

- enlarged ×2, so small print gets the recogniser's full height;
- with the red channel as the grey image, so red ink (a seal, an overprint like 仅作网站注册使用)
  is as bright as the paper and the black print under it remains;
- binarised (Otsu) on that red channel, for a faint or low-contrast scan.

A reading is kept only if it passes its own check (the code's check character, after the same
OCR-confusion repair the extractor applies); a character is never invented. Every attempt is
recorded (`Reread`), kept or not, and the check shows them to the reviewer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import cv2
import numpy as np

from pipeline import geometry as geo
from pipeline.ocr.base import OcrEngine
from pipeline.preprocess import PageLine, PageReading
from validators import credit_code

# 18 characters of the credit code's alphabet (and the letters OCR confuses with its digits),
# or 15–17 of them: a code read a character or three short.
CODE_RUN = re.compile(r"(?<![0-9A-Z])[0-9A-Z]{15,19}(?![0-9A-Z])")
CODE_LABEL = re.compile(r"信用代码|社会信用|统一社会")
TITLE = re.compile(r"营业执照")
NAME_LABEL = re.compile(r"^(名称|称|企业名称|字号名称)")
VARIANTS = ("enlarged ×2", "red channel ×2", "red channel binarised ×2")


@dataclass
class Reread:
    """One attempt at reading a field's area again."""

    field: str
    variant: str
    text: str  # what the recogniser read (the code found in it, when one was)
    kept: bool
    why: str

    def describe(self) -> str:
        return f"{self.variant}: {self.text or '(nothing)'} — {self.why}"


def _compact(text: str) -> str:
    return re.sub(r"\s+", "", text).upper()


def _valid_code(text: str) -> str | None:
    for m in CODE_RUN.finditer(_compact(text)):
        repaired = credit_code.repair(m.group(0))
        if repaired.value is not None:
            return repaired.value
    return None


def _regions(page: PageReading) -> list[tuple[str, tuple[float, float, float, float]]]:
    """(why, layout-frame box) of where a missing or doubtful credit code should be, best first."""
    w, h = page.transform.size
    lines = page.lines
    if not lines:
        return []
    unit = float(np.median([float(ln.quad[:, 1].max() - ln.quad[:, 1].min()) for ln in lines]))
    out = []

    def box_of(line, right: float | None = None, below: float = 0.0):
        q = line.quad
        x0, y0, x1, y1 = float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max())
        return (max(0.0, x0 - unit), max(0.0, y0 - 0.6 * unit), min(w, right if right is not None else x1 + unit),
                min(h, y1 + 0.6 * unit + below))

    for line in lines:
        compact = _compact(line.text)
        # (a 15- or 13-digit 注册号 is an old licence's number, not a credit code read wrong)
        if any(len(m.group(0)) >= 15 and not (m.group(0).isdigit() and len(m.group(0)) in (13, 15))
               for m in CODE_RUN.finditer(compact)):
            out.append(("a code-like run that fails its check", box_of(line)))
    for line in lines:
        if CODE_LABEL.search(line.text):
            # the value beside the label, or on the line under it
            out.append(("the 统一社会信用代码 label read without a valid code", box_of(line, right=w, below=1.6 * unit)))
    titles = [ln for ln in lines if TITLE.search(_compact(ln.text))]
    names = [ln for ln in lines if NAME_LABEL.match(_compact(ln.text))]
    if titles and not out:
        # the code row not detected at all: it lies between the title's top and the 名称 row
        top = max(0.0, float(min(ln.quad[:, 1].min() for ln in titles)) - unit)
        bottom = float(min(ln.quad[:, 1].min() for ln in names)) if names else min(h, top + 0.35 * h)
        if bottom - top > 1.5 * unit:
            out.append(("no code row read between the title and 名称", (0.0, top, float(w), bottom)))
    return out[:3]


def _crop(image: np.ndarray, page: PageReading, box: tuple[float, float, float, float], scale: float = 2.0
          ) -> tuple[np.ndarray, np.ndarray]:
    """The layout-frame `box` cut from the uploaded image, straightened and enlarged; with the matrix
    that maps crop pixels back to the layout frame."""
    x0, y0, x1, y1 = box
    corners = np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32)
    source = page.transform.inverse().apply(corners).astype(np.float32)
    out_w, out_h = max(8, int((x1 - x0) * scale)), max(8, int((y1 - y0) * scale))
    target = np.array([[0, 0], [out_w, 0], [out_w, out_h], [0, out_h]], dtype=np.float32)
    matrix = cv2.getPerspectiveTransform(source, target)
    crop = cv2.warpPerspective(image, matrix, (out_w, out_h), flags=cv2.INTER_CUBIC, borderValue=(255, 255, 255))
    back = cv2.getPerspectiveTransform(target, corners)
    return crop, back


def _variant(crop: np.ndarray, name: str) -> np.ndarray:
    if crop.ndim == 2:
        grey = crop
    elif name == "enlarged ×2":
        return crop
    else:
        grey = crop[..., 2]  # red ink is as bright as paper in the red channel; black print stays dark
    if name.endswith("binarised ×2"):
        _, grey = cv2.threshold(grey, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)


def reread_credit_code(image: np.ndarray, page: PageReading, engine: OcrEngine,
                       max_attempts: int = 6) -> list[Reread]:
    """Read again where a business licence's credit code should be, when the page holds no valid one;
    a reading that passes its check character is added to `page.lines` (with its box mapped back to
    the layout frame and the upload). Returns every attempt."""
    text = "".join(_compact(ln.text) for ln in page.lines)
    if _valid_code(text) is not None or not (CODE_LABEL.search(text) or TITLE.search(text)):
        return []
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    attempts: list[Reread] = []
    inverse = page.transform.inverse()
    for why, box in _regions(page):
        crop, back = _crop(image, page, box)
        for name in VARIANTS:
            if len(attempts) >= max_attempts:
                return attempts
            variant = _variant(crop, name)
            quads = engine.detect(variant)
            if not quads:
                attempts.append(Reread("credit_code", name, "", False, f"{why}: no text found"))
                continue
            strips = [geo.crop_quad(variant, q) for q in quads]
            readings = engine.recognize(strips)
            found = [(q, t, c, _valid_code(t)) for q, (t, c) in zip(quads, readings)]
            good = [f for f in found if f[3] is not None]
            if not good:
                best = max((t for _, t, _, _ in found), key=lambda t: len(CODE_RUN.findall(_compact(t))) * 100 + len(t),
                           default="")
                attempts.append(Reread("credit_code", name, best.strip(), False,
                                       f"{why}: no code that passes its check character"))
                continue
            quad, line_text, conf, code = max(good, key=lambda f: f[2])
            layout = cv2.perspectiveTransform(np.asarray(quad, np.float32).reshape(-1, 1, 2), back).reshape(-1, 2)
            page.lines.append(PageLine(line_text.strip(), float(conf), layout, inverse.apply(layout), engine.rec_model))
            page.lines.sort(key=lambda ln: (float(ln.quad[:, 1].mean()), float(ln.quad[:, 0].min())))
            attempts.append(Reread("credit_code", name, code, True,
                                   f"{why}: {code} passes its check character (read {conf:.2f})"))
            return attempts
    return attempts


# The fields whose lines are read again with every variant: what the rules rest on.
RULE_FIELDS = ("holder_name", "credit_code", "licence_number", "valid_until", "grantor", "brand", "product_name")
LINE_VARIANTS = ("enlarged ×2", "red channel", "padded")


def _line_variants(strip: np.ndarray) -> dict[str, np.ndarray]:
    if strip.ndim == 2:
        strip = cv2.cvtColor(strip, cv2.COLOR_GRAY2BGR)
    return {
        "enlarged ×2": cv2.resize(strip, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC),
        "red channel": cv2.cvtColor(strip[..., 2], cv2.COLOR_GRAY2BGR),
        # a margin of the strip's own edge pixels: a character cut at the box's end gets room
        "padded": cv2.copyMakeBorder(strip, 8, 8, 8, 8, cv2.BORDER_REPLICATE),
    }


def _passes(field: str, text: str) -> bool:
    """A reading of a rule-bearing line that still holds what it must: a valid code where the line held
    a code, an entity form where it held a name (its own checks; a variant never wins on confidence
    alone when it breaks them)."""
    compact = _compact(text)
    if field == "credit_code":
        return _valid_code(compact) is not None
    if field in ("holder_name", "grantor"):
        from validators.names import entity_name_problems

        tail = re.sub(r"^.*?(名称|称)[:：]?", "", re.sub(r"\s+", "", text))
        return not any(p.startswith(("reads like an address", "does not end")) for p in entity_name_problems(tail))
    return True


def reread_rule_lines(image: np.ndarray, page: PageReading, engine: OcrEngine,
                      targets: list[tuple[str, int]]) -> list[Reread]:
    """Read the page's lines that hold rule-bearing fields (`targets`: (field, index into page.lines))
    again from three variants of their strip. A variant replaces the line only where the line fails
    the field's own check and the variant passes it (a code whose check character verifies; an
    entity form at the name's end) — never on the recogniser's confidence alone: measured on the
    real samples, a variant read surer flips a right character as often as a wrong one (清 → 消 on a
    photocopy, 烙 → 焙 on a screenshot). Returns every attempt that read differently."""
    if not targets:
        return []
    strips, owners = [], []
    for field_name, index in targets:
        line = page.lines[index]
        base = geo.crop_quad(image, np.asarray(line.quad_original))
        for name, variant in _line_variants(base).items():
            strips.append(variant)
            owners.append((field_name, index, name))
    readings = engine.recognize(strips)
    best: dict[int, tuple[float, str, Reread]] = {}
    attempts = []
    for (field_name, index, name), (text, conf) in zip(owners, readings):
        text = text.strip()
        line = page.lines[index]
        if not text or _compact(text) == _compact(line.text):
            continue
        fixes = not _passes(field_name, line.text) and _passes(field_name, text)
        attempt = Reread(field_name, name, text, False,
                         f"read {conf:.3f} against {line.confidence:.3f} for {line.text!r}"
                         + ("" if fixes else "; not kept: only a reading that passes the field's own check where "
                                             "the first one fails it replaces it"))
        attempts.append(attempt)
        if fixes and conf > best.get(index, (0.0,))[0]:
            best[index] = (float(conf), text, attempt)
    for index, (conf, text, attempt) in best.items():
        line = page.lines[index]
        attempt.kept = True
        attempt.why = f"kept: {text!r} passes the field's own check, {line.text!r} did not"
        line.text, line.confidence, line.model = text, conf, engine.rec_model
    return attempts


def _read_region(image: np.ndarray, page: PageReading, engine: OcrEngine, box, field: str, why: str,
                 accept, attempts: list[Reread], max_attempts: int) -> bool:
    """Read the layout-frame `box` again in the three crop variants; the first text line `accept`
    takes (it returns the value, or None) is added to `page.lines`. True when one was."""
    crop, back = _crop(image, page, box)
    inverse = page.transform.inverse()
    for name in VARIANTS:
        if len(attempts) >= max_attempts:
            return False
        variant = _variant(crop, name)
        quads = engine.detect(variant)
        readings = engine.recognize([geo.crop_quad(variant, q) for q in quads]) if quads else []
        found = [(q, t.strip(), c, accept(t)) for q, (t, c) in zip(quads, readings) if t.strip()]
        good = [f for f in found if f[3] is not None]
        if not good:
            shown = max((t for _, t, _, _ in found), key=len, default="")
            attempts.append(Reread(field, name, shown, False, f"{why}: nothing that passes the field's own check"))
            continue
        quad, text, conf, value = max(good, key=lambda f: f[2])
        layout = cv2.perspectiveTransform(np.asarray(quad, np.float32).reshape(-1, 1, 2), back).reshape(-1, 2)
        page.lines.append(PageLine(text, float(conf), layout, inverse.apply(layout), engine.rec_model))
        page.lines.sort(key=lambda ln: (float(ln.quad[:, 1].mean()), float(ln.quad[:, 0].min())))
        attempts.append(Reread(field, name, value, True, f"{why}: {value!r} read {conf:.2f}"))
        return True
    return False


def _entity_name(text: str) -> str | None:
    """The entity name a re-read line holds (a label's tail stripped), if it is a plausible one."""
    from validators.names import entity_name_problems

    name = re.sub(r"^(名称|称|企业名称|字号名称)[:：]?", "", re.sub(r"\s+", "", text))
    if len(re.findall(r"[\u4e00-\u9fff]", name)) < 4 or entity_name_problems(name):
        return None
    return name


def reread_missing_holder(image: np.ndarray, page: PageReading, engine: OcrEngine, label: str | None,
                          max_attempts: int = 3) -> list[Reread]:
    """The holder's label (名称) was read and its value was not (a copy's faint print the detector
    missed): read the area right of the label again; keep a line only if it is a plausible entity
    name (an entity form at its end, no address, four Chinese characters at least)."""
    if not label or not page.lines:
        return []
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    w, h = page.transform.size
    tail = label[-1]
    hits = [ln for ln in page.lines if _compact(ln.text) in (label, tail)]
    if not hits:
        return []
    line = hits[0]
    q = line.quad
    unit = float(q[:, 1].max() - q[:, 1].min())
    x1 = float(q[:, 0].max())
    box = (x1, max(0.0, float(q[:, 1].min()) - 0.5 * unit), min(float(w), x1 + 0.55 * w),
           min(float(h), float(q[:, 1].max()) + 0.5 * unit))
    attempts: list[Reread] = []
    _read_region(image, page, engine, box, "holder_name", f"label {label} read without its value",
                 _entity_name, attempts, max_attempts)
    return attempts


DATE_ROW = re.compile(r"(成立日期|注册日期|营业期限|经营期限)|[0-9]{4}年[0-9]{1,2}月[0-9]{1,2}日")


def _box_iou(a, b) -> float:
    x0, y0, x1, y1 = max(a[0], b[0]), max(a[1], b[1]), min(a[2], b[2]), min(a[3], b[3])
    if x1 <= x0 or y1 <= y0:
        return 0.0
    inter = (x1 - x0) * (y1 - y0)
    return inter / max(1.0, (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter)


def _line_box(quad) -> tuple[float, float, float, float]:
    q = np.asarray(quad, dtype=np.float64)
    return float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max())


def reread_missing_dates(image: np.ndarray, page: PageReading, engine: OcrEngine, capital_label: str | None,
                         date_labels_read: bool, max_attempts: int = 3) -> list[Reread]:
    """A licence whose 成立日期 and 营业期限 rows were both missed by the detector (a large grey
    watermark such as 仅供…展示使用 across them), while 注册资本 above them was read: the band under
    注册资本 in its column is read again. The lines there that are a date row's label or a date are
    added to the page (not over a line already read); a date is never completed or guessed."""
    if date_labels_read or not capital_label or not page.lines:
        return []
    hits = [ln for ln in page.lines if _compact(ln.text).startswith(capital_label)]
    if not hits:
        return []
    if image.ndim == 2:
        image = cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    w, h = page.transform.size
    x0, y0, _, y1 = _line_box(hits[0].quad)
    unit = y1 - y0
    box = (max(0.0, x0 - unit), max(0.0, y1 - 0.2 * unit), float(w), min(float(h), y1 + 2.6 * unit))
    crop, back = _crop(image, page, box)
    inverse = page.transform.inverse()
    known = [_line_box(ln.quad) for ln in page.lines]
    attempts: list[Reread] = []
    why = "成立日期 and 营业期限 rows not read under 注册资本"
    for name in VARIANTS[:max_attempts]:
        variant = _variant(crop, name)
        quads = engine.detect(variant)
        readings = engine.recognize([geo.crop_quad(variant, q) for q in quads]) if quads else []
        new = []
        for quad, (text, conf) in zip(quads, readings):
            text = text.strip()
            if not DATE_ROW.search(_compact(text)):
                continue
            layout = cv2.perspectiveTransform(np.asarray(quad, np.float32).reshape(-1, 1, 2), back).reshape(-1, 2)
            if any(_box_iou(_line_box(layout), k) > 0.3 for k in known):
                continue  # read already: the first reading stands
            new.append(PageLine(text, float(conf), layout, inverse.apply(layout), engine.rec_model))
        if not new:
            attempts.append(Reread("established", name, "", False, f"{why}: no date row found"))
            continue
        page.lines.extend(new)
        page.lines.sort(key=lambda ln: (float(ln.quad[:, 1].mean()), float(ln.quad[:, 0].min())))
        attempts.append(Reread("established", name, " / ".join(ln.text for ln in new), True,
                               f"{why}: {len(new)} line(s) read there"))
        return attempts
    return attempts
