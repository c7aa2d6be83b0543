"""Settings: every limit and knob in one pydantic model, overridable by ZIZHI_* variables."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field
from pydantic_settings import BaseSettings, SettingsConfigDict


class IngestOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    max_file_bytes: int = Field(50 * 1024 * 1024, description="Refuse larger files before reading them")
    max_pixels: int = Field(80_000_000, description="Refuse images with more pixels, read from the header "
                                                     "before decoding (decompression bombs)")
    pdf_dpi: int = Field(200, description="Rasterisation resolution for PDF pages")
    pdf_max_pages: int = Field(10, description="Pages beyond this are reported, not read")
    pdf_timeout_s: int = Field(120, description="Give up rasterising a PDF after this long")


class PreprocessOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    work_long_side: int = Field(1600, description="Long side of the working image used for detection")
    deskew_min_deg: float = Field(0.3, description="Smaller skews are left alone")
    rectify: bool = Field(True, description="Rectify a photographed page when its outline is found")
    min_mean_confidence: float = Field(0.75, description="Mean OCR line confidence needed to call a page legible")
    min_sharpness: float = Field(40.0, description="Below this Laplacian variance a page is too blurred")
    min_text_height_px: float = Field(15.0, description="Median detected line-box height (uploaded px, boxes "
                                                        "include det padding: about 1.7× the glyphs) needed to read")


class RapidOcrOptions(BaseModel):
    """Options of the default engine: RapidOCR with the PP-OCR ONNX models shipped in its wheel."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["rapidocr"] = "rapidocr"
    det_limit_type: Literal["max", "min"] = Field("max", description="How det resizes: cap the long side "
                                                                      "(max) or raise the short side (min)")
    det_limit_side_len: int = Field(960, description="Side length det resizes to")
    det_box_thresh: float = Field(0.5, description="Minimum detection box score")
    det_unclip_ratio: float = Field(1.6, description="How far det grows a text box")
    intra_op_num_threads: int = Field(-1, description="onnxruntime threads per op; -1 lets it choose")
    rec_batch_num: int = Field(6, description="Text lines recognised per batch")


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ZIZHI_", env_nested_delimiter="__", extra="forbid")

    ingest: IngestOptions = Field(default_factory=IngestOptions)
    preprocess: PreprocessOptions = Field(default_factory=PreprocessOptions)
    ocr: RapidOcrOptions = Field(default_factory=RapidOcrOptions)
    rules_dir: Path | None = Field(None, description="Folder with categories.yaml / thresholds.yaml; "
                                                     "default: the ones shipped in the package")


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
