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
        if any(len(m.group(0)) >= 15 for m in CODE_RUN.finditer(compact)):
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
            page.lines.append(PageLine(line_text.strip(), float(conf), layout, inverse.apply(layout)))
            page.lines.sort(key=lambda ln: (float(ln.quad[:, 1].mean()), float(ln.quad[:, 0].min())))
            attempts.append(Reread("credit_code", name, code, True,
                                   f"{why}: {code} passes its check character (read {conf:.2f})"))
            return attempts
    return attempts
