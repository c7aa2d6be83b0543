"""The OCR engine interface.

The pipeline needs three things from an engine, kept separate so that orientation and reading can
share one detection pass: `detect` text lines on a working image, `classify_direction` of line
strips (0° or 180°), and `recognize` line strips. Engines are expensive to load, so there is one
instance per process (`get_engine`), and nothing per call may change its configuration.
"""

from __future__ import annotations

import threading
from abc import ABC, abstractmethod
from dataclasses import dataclass

import numpy as np

from pipeline.ocr.ctc import TextPosterior
from pipeline.settings import CascadeOptions, OcrOptions, RapidOcrOptions


@dataclass
class TextLine:
    """One line of text. `quad` is in whatever frame the caller asked for."""

    text: str
    confidence: float
    quad: np.ndarray  # (4, 2): tl, tr, br, bl


class OcrEngine(ABC):
    name: str
    version: str
    model_ids: tuple[str, ...] = ()  # what a cache of readings must be keyed by, beside name and version
    rec_model: str = ""  # the model `recognize` runs, as recorded on each line it read
    cascade: CascadeOptions | None = None  # set when `first_pass` reads every line first (pipeline.ocr.cascade)

    @abstractmethod
    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        """Quadrilaterals (tl, tr, br, bl) of the text lines in `image`, in its pixels."""

    @abstractmethod
    def classify_direction(self, strips: list[np.ndarray]) -> list[tuple[int, float]]:
        """For each upright-ish strip: (0 or 180, score)."""

    @abstractmethod
    def recognize(self, strips: list[np.ndarray]) -> list[tuple[str, float]]:
        """Text and confidence for each strip."""

    def first_pass(self, strips: list[np.ndarray]) -> list:
        """The cascade's cheap reading of each strip (pipeline.ocr.cascade.FirstRead), for engines
        with `cascade` set."""
        raise NotImplementedError(f"{self.name} has no first-pass recogniser")

    def recognize_posteriors(self, strips: list[np.ndarray], k: int = 8) -> list[TextPosterior]:
        """For each strip, the recogniser's top-k characters per CTC step (pipeline.ocr.ctc), so a
        caller can ask how well a strip supports a given text. Engines without CTC probabilities
        raise NotImplementedError; callers then fall back to comparing `recognize`'s text."""
        raise NotImplementedError(f"{self.name} gives no character probabilities")


_engine: OcrEngine | None = None
_engine_key: str | None = None
_lock = threading.Lock()


def get_engine(options: OcrOptions | None = None) -> OcrEngine:
    """The process's engine, loaded on first use and then shared; `options.kind` picks the engine."""
    global _engine, _engine_key
    options = options or RapidOcrOptions()
    key = options.model_dump_json()
    with _lock:
        if _engine is None or _engine_key != key:
            _engine = load_engine(options)
            _engine_key = key
        return _engine


def load_engine(options: OcrOptions) -> OcrEngine:
    """A new engine for `options` (benchmarks compare several; the pipeline uses `get_engine`)."""
    if options.kind == "rapidocr":
        from pipeline.ocr.rapid import RapidOcrEngine

        return RapidOcrEngine(options)
    if options.kind == "paddleocr":
        from pipeline.ocr.paddle import PaddleOcrEngine

        return PaddleOcrEngine(options)
    if options.kind == "tesseract":
        from pipeline.ocr.tesseract import TesseractEngine

        return TesseractEngine(options)
    raise ValueError(f"unknown OCR engine kind {options.kind!r}")
