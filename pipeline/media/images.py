"""SPEC §6 on pictures: QR codes and barcodes, and the text OCR reads off a picture.

`read_picture` looks at one image (a product picture's page, or a video frame) and keeps what it saw
with where it saw it; `read_product_image` reads a product picture file once, under the same path
safety, size limits and digest check as a document (pipeline.ingest).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np
from stdnum import ean

from pipeline.display import visible
from pipeline.errors import ContentChanged, DocumentError
from pipeline.ingest import fetch, load_document_bytes
from pipeline.ocr.base import OcrEngine
from pipeline.preprocess import read_page
from pipeline.settings import Settings

Quad = list[list[int]]


@dataclass
class SeenText:
    text: str
    confidence: float
    box: Quad | None = None
    page: int = 1


@dataclass
class SeenCode:
    kind: str  # "QR code" or "barcode"
    payload: str  # '' when it could not be decoded
    box: Quad | None = None
    page: int = 1


@dataclass
class PictureReading:
    """What one picture (or one video frame) shows: its text lines and its codes."""

    width: int = 0
    height: int = 0
    lines: list[SeenText] = field(default_factory=list)
    codes: list[SeenCode] = field(default_factory=list)


@dataclass
class ProductImageReading:
    """A product picture as read. Built by `read_product_image`; tests may give `text` alone."""

    file: str
    text: str = ""
    confidence: float = 0.0
    qr_codes: list[str] = field(default_factory=list)  # decoded payloads ('' when undecodable)
    error: str | None = None
    pictures: list[PictureReading] = field(default_factory=list)  # one per page

    def seen(self) -> PictureReading:
        """Every page's lines and codes (or the summary `text` as one line when only that is known)."""
        if self.pictures:
            first = self.pictures[0]
            merged = PictureReading(first.width, first.height)
            for p in self.pictures:
                merged.lines += p.lines
                merged.codes += p.codes
            return merged
        lines = [SeenText(t, self.confidence) for t in self.text.splitlines() if t.strip()]
        return PictureReading(lines=lines, codes=[SeenCode("QR code", c) for c in self.qr_codes])


def _quad(points: np.ndarray) -> Quad:
    return [[round(float(x)), round(float(y))] for x, y in np.asarray(points).reshape(-1, 2)[:4]]


def find_qr_codes(image: np.ndarray) -> list[str]:
    return [c.payload for c in find_codes(image) if c.kind == "QR code"]


def _qr_codes(image: np.ndarray, page: int, scale: float = 1.0) -> list[SeenCode]:
    try:
        ok, decoded, points, _ = cv2.QRCodeDetector().detectAndDecodeMulti(image)
    except cv2.error:
        return []
    if not ok or points is None:
        return []
    return [SeenCode("QR code", d or "", _quad(np.asarray(p) / scale), page)
            for d, p in zip(decoded, points, strict=False)]


# A picture this small may carry a QR code of 3–4 px modules (a sticker in a 512 px video frame), which
# OpenCV's detector misses at that size and finds at twice it: such pictures get a second, larger look.
SMALL_PICTURE = 1280


def find_codes(image: np.ndarray, page: int = 1) -> list[SeenCode]:
    """QR codes (decoded or not) and 1-D barcodes, with their quadrilaterals in the image's pixels."""
    found = _qr_codes(image, page)
    if not found and max(image.shape[:2]) < SMALL_PICTURE:
        found = _qr_codes(cv2.resize(image, None, fx=2, fy=2, interpolation=cv2.INTER_CUBIC), page, 2.0)
    try:
        ok, decoded, _types, points = cv2.barcode.BarcodeDetector().detectAndDecodeMulti(image)
    except (cv2.error, AttributeError):
        ok, decoded, points = False, (), None
    if ok and points is not None:
        # Only decoded barcodes (the detector's undecoded candidates include stripes and text blocks),
        # and not a retail GTIN (EAN-13/EAN-8/UPC-A): that is the product's own, printed on its package.
        found += [SeenCode("barcode", d, _quad(p), page) for d, p in zip(decoded, points, strict=False)
                  if d and not ean.is_valid(d)]
    return found


def read_picture(image: np.ndarray, engine: OcrEngine, settings: Settings, page: int = 1) -> PictureReading:
    """OCR one picture (BGR) and look for codes on it; boxes in its own pixels."""
    h, w = image.shape[:2]
    reading = PictureReading(w, h, codes=find_codes(image, page))
    # No page rectification: a product shot is not a photographed sheet, and a box drawn on it (a
    # package, a card) would be taken for the page's outline and everything outside it left unread.
    options = settings.preprocess.model_copy(update={"rectify": False})
    for line in read_page(image, engine, options, page=page).lines:
        reading.lines.append(SeenText(line.text, float(line.confidence), _quad(line.quad_original), page))
    return reading


def read_product_image(base_dir: Path, file: str, engine: OcrEngine, settings: Settings,
                       expect_digest: str | None = None) -> ProductImageReading:
    """Read a product picture once and screen those bytes; ContentChanged when they are not the
    `expect_digest` the submission was fingerprinted with (as `document.read_document`)."""
    reading = ProductImageReading(file=file)
    fetched = fetch(base_dir, file, settings.ingest)
    if expect_digest is not None and fetched.digest != expect_digest:
        raise ContentChanged(f"product image {visible(file)} changed since the submission was scanned")
    try:
        if fetched.error is not None:
            raise fetched.error
        loaded = load_document_bytes(fetched.data, Path(file), settings.ingest)
    except DocumentError as e:
        reading.error = str(e)
        return reading
    for index, image in enumerate(loaded.pages, start=1):
        reading.pictures.append(read_picture(image, engine, settings, page=index))
    seen = reading.seen()
    reading.text = "\n".join(line.text for line in seen.lines)
    reading.confidence = min((line.confidence for line in seen.lines), default=1.0)
    reading.qr_codes = [c.payload for c in seen.codes if c.kind == "QR code"]
    return reading
