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

from pipeline.settings import RapidOcrOptions


@dataclass
class TextLine:
    """One line of text. `quad` is in whatever frame the caller asked for."""

    text: str
    confidence: float
    quad: np.ndarray  # (4, 2): tl, tr, br, bl


class OcrEngine(ABC):
    name: str
    version: str

    @abstractmethod
    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        """Quadrilaterals (tl, tr, br, bl) of the text lines in `image`, in its pixels."""

    @abstractmethod
    def classify_direction(self, strips: list[np.ndarray]) -> list[tuple[int, float]]:
        """For each upright-ish strip: (0 or 180, score)."""

    @abstractmethod
    def recognize(self, strips: list[np.ndarray]) -> list[tuple[str, float]]:
        """Text and confidence for each strip."""


_engine: OcrEngine | None = None
_engine_key: str | None = None
_lock = threading.Lock()


def get_engine(options: RapidOcrOptions | None = None) -> OcrEngine:
    """The process's engine, loaded on first use and then shared."""
    global _engine, _engine_key
    options = options or RapidOcrOptions()
    key = options.model_dump_json()
    with _lock:
        if _engine is None or _engine_key != key:
            from pipeline.ocr.rapid import RapidOcrEngine

            _engine = RapidOcrEngine(options)
            _engine_key = key
        return _engine
