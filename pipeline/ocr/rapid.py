"""The default engine: RapidOCR 3.x running the PP-OCR ONNX models shipped inside its wheel.

RapidOCR's own `__call__` resizes, detects, classifies and recognises in one go, and its per-call
options stick to the instance (they leak into later calls and other threads). zizhi uses the
three models separately instead, configured once at construction, so that the pipeline controls
the geometry (it crops lines from the uploaded pixels) and shares one detection between
orientation and reading.
"""

from __future__ import annotations

import importlib.metadata
import threading

import numpy as np

from pipeline.ocr.base import OcrEngine
from pipeline.settings import RapidOcrOptions


class RapidOcrEngine(OcrEngine):
    name = "rapidocr"

    def __init__(self, options: RapidOcrOptions):
        from rapidocr import RapidOCR

        self.options = options
        self.version = importlib.metadata.version("rapidocr")
        params = {
            "Global.log_level": "warning",
            "Det.limit_type": options.det_limit_type,
            "Det.limit_side_len": options.det_limit_side_len,
            "Det.box_thresh": options.det_box_thresh,
            "Det.unclip_ratio": options.det_unclip_ratio,
            "Rec.rec_batch_num": options.rec_batch_num,
            "EngineConfig.onnxruntime.intra_op_num_threads": options.intra_op_num_threads,
        }
        self._ocr = RapidOCR(params=params)
        # Load all three models now: the first document should not pay for it.
        self._det = self._ocr._load_det_model()
        self._cls = self._ocr._load_cls_model()
        self._rec = self._ocr._load_rec_model()
        self._lock = threading.Lock()
        self.model_ids = (
            f"{self._ocr.cfg.Det.ocr_version.value}-det-{self._ocr.cfg.Det.model_type.value}",
            f"{self._ocr.cfg.Rec.ocr_version.value}-rec-{self._ocr.cfg.Rec.model_type.value}",
            f"{self._ocr.cfg.Cls.ocr_version.value}-cls-{self._ocr.cfg.Cls.model_type.value}",
        )

    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        with self._lock:  # the detector rebuilds its preprocessing per call: keep calls apart
            out = self._det(image)
        if out.boxes is None:
            return []
        return [np.asarray(b, dtype=np.float32).reshape(4, 2) for b in out.boxes]

    def classify_direction(self, strips: list[np.ndarray]) -> list[tuple[int, float]]:
        if not strips:
            return []
        out = self._cls(list(strips))
        return [(180 if "180" in str(label) else 0, float(score)) for label, score in out.cls_res]

    def recognize(self, strips: list[np.ndarray]) -> list[tuple[str, float]]:
        if not strips:
            return []
        from rapidocr.ch_ppocr_rec import TextRecInput

        out = self._rec(TextRecInput(img=list(strips)))
        if out.txts is None:
            return [("", 0.0)] * len(strips)
        return [(str(t), float(s)) for t, s in zip(out.txts, out.scores)]
