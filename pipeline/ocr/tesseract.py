"""Tesseract 5 as a baseline engine (ZIZHI_OCR__KIND=tesseract).

Tesseract reads whole pages; zizhi's interface wants line detection, a 0°/180° verdict per line
strip and the text of each strip, so this adapter maps each onto Tesseract in-process (tesserocr,
`pip install .[tesseract]`, with the `chi_sim` data of Debian's `tesseract-ocr-chi-sim`):

- `detect`: Tesseract's own layout analysis (page segmentation, no recognition) and its text-line
  boxes — so the comparison is of the whole engine. `detector="rapidocr"` instead borrows
  RapidOCR's detector and direction classifier, leaving Tesseract only the reading.
- `classify_direction`: Tesseract has no per-line direction model; each of the longest strips is
  read upright and turned 180°, and the more confident reading wins.
- `recognize`: each strip as one text line (`--psm 7`), with a margin of its background colour. Tesseract's chi_sim
  output puts spaces between Chinese characters; they are removed (spaces between Latin words stay).
"""

from __future__ import annotations

import importlib.metadata
import re
import threading
from pathlib import Path

import cv2
import numpy as np

from pipeline.ocr.base import OcrEngine
from pipeline.settings import TesseractOptions

TESSDATA_DIRS = ("/usr/share/tesseract-ocr/5/tessdata", "/usr/share/tesseract-ocr/4.00/tessdata",
                 "/usr/share/tessdata", "/usr/local/share/tessdata")
DIRECTION_LINES = 12  # strips read twice to vote on 180°: the longest ones, enough for a clear majority
_CJK = r"[\u3000-\u303f\u3400-\u9fff\uff00-\uffef]"
_SPACE_IN_CJK = re.compile(rf"(?<={_CJK})\s+(?={_CJK})|(?<={_CJK})\s+(?=[0-9A-Za-z])|(?<=[0-9A-Za-z])\s+(?={_CJK})")


def find_tessdata(lang: str) -> str:
    first = lang.split("+")[0]
    for d in TESSDATA_DIRS:
        if (Path(d) / f"{first}.traineddata").exists():
            return d + "/"
    raise RuntimeError(f"no {first}.traineddata: apt-get install tesseract-ocr-{first.replace('_', '-')} "
                       f"(looked in {', '.join(TESSDATA_DIRS)})")


def join_cjk(text: str) -> str:
    return _SPACE_IN_CJK.sub("", text).strip()


class TesseractEngine(OcrEngine):
    name = "tesseract"

    def __init__(self, options: TesseractOptions):
        try:
            import tesserocr
        except ImportError:
            raise RuntimeError("the Tesseract engine needs tesserocr: pip install .[tesseract]") from None
        from tesserocr import OEM, PyTessBaseAPI

        self.options = options
        self._tesserocr = tesserocr
        self._psm_line = int(options.line_psm)
        self._api = PyTessBaseAPI(path=find_tessdata(options.lang), lang=options.lang, psm=self._psm_line,
                                  oem=OEM.LSTM_ONLY)
        self.version = f"{tesserocr.tesseract_version().split()[1]} (tesserocr " \
                       f"{importlib.metadata.version('tesserocr')})"
        self._helper = None
        if options.detector == "rapidocr":
            from pipeline.ocr.rapid import RapidOcrEngine
            from pipeline.settings import RapidOcrOptions

            self._helper = RapidOcrEngine(RapidOcrOptions())
        self._lock = threading.Lock()
        self.model_ids = (f"tesseract-{options.lang}-lstm", f"layout-{options.detector}")

    def close(self) -> None:
        self._api.End()

    def _pil(self, image: np.ndarray):
        from PIL import Image

        gray = image if image.ndim == 2 else cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
        return Image.fromarray(gray)

    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        if self._helper is not None:
            return self._helper.detect(image)
        RIL, PSM = self._tesserocr.RIL, self._tesserocr.PSM
        with self._lock:
            self._api.SetPageSegMode(PSM.AUTO)
            try:
                self._api.SetImage(self._pil(image))
                components = self._api.GetComponentImages(RIL.TEXTLINE, True)
            finally:
                self._api.SetPageSegMode(self._psm_line)
        quads = []
        for _, box, _, _ in components:
            x, y, w, h = box["x"], box["y"], box["w"], box["h"]
            if w < 4 or h < 4:
                continue
            # A little padding as the DB detectors add: glyph edges must not touch the strip's edge.
            pad = 0.15 * h
            x0, y0, x1, y1 = x - pad, y - pad, x + w + pad, y + h + pad
            quads.append(np.array([[x0, y0], [x1, y0], [x1, y1], [x0, y1]], dtype=np.float32))
        return quads

    def classify_direction(self, strips: list[np.ndarray]) -> list[tuple[int, float]]:
        if self._helper is not None:
            return self._helper.classify_direction(strips)
        votes: list[tuple[int, float]] = [(0, 0.0)] * len(strips)  # score 0: no say in the vote
        for i, strip in enumerate(strips[:DIRECTION_LINES]):
            (_, upright), (_, turned) = self.recognize([strip, cv2.rotate(strip, cv2.ROTATE_180)])
            votes[i] = (180, turned - upright) if turned > upright else (0, upright - turned)
        return votes

    def recognize(self, strips: list[np.ndarray]) -> list[tuple[str, float]]:
        out = []
        h_target = self.options.strip_height
        with self._lock:
            for strip in strips:
                gray = strip if strip.ndim == 2 else cv2.cvtColor(strip, cv2.COLOR_BGR2GRAY)
                h, w = gray.shape[:2]
                if h != h_target:
                    f = h_target / max(1, h)
                    gray = cv2.resize(gray, (max(1, round(w * f)), h_target),
                                      interpolation=cv2.INTER_AREA if f < 1 else cv2.INTER_CUBIC)
                m = h_target // 4
                gray = cv2.copyMakeBorder(gray, m, m, m, m, cv2.BORDER_CONSTANT, value=int(np.median(gray)))
                self._api.SetImage(self._pil(gray))
                text = join_cjk(self._api.GetUTF8Text())
                out.append((text, self._api.MeanTextConf() / 100.0 if text else 0.0))
        return out
