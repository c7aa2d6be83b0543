"""SPEC §6: product pictures may not carry QR codes, contact details or banned superlatives."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np

from pipeline.display import visible
from pipeline.errors import ContentChanged, DocumentError
from pipeline.evaluation import Evaluation
from pipeline.ingest import fetch, load_document_bytes
from pipeline.models import Check
from pipeline.ocr.base import OcrEngine
from pipeline.preprocess import read_page
from pipeline.settings import Settings
from rules import Rules


@dataclass
class ProductImageReading:
    file: str
    text: str = ""
    confidence: float = 0.0
    qr_codes: list[str] = field(default_factory=list)  # decoded payloads ('' when undecodable)
    error: str | None = None


def find_qr_codes(image: np.ndarray) -> list[str]:
    detector = cv2.QRCodeDetector()
    try:
        ok, decoded, points, _ = detector.detectAndDecodeMulti(image)
    except cv2.error:
        return []
    if not ok or points is None:
        return []
    return [d or "" for d in decoded]


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
    texts, confs = [], []
    for index, image in enumerate(loaded.pages, start=1):
        reading.qr_codes += find_qr_codes(image)
        page = read_page(image, engine, settings.preprocess, page=index)
        texts += [ln.text for ln in page.lines]
        confs += [ln.confidence for ln in page.lines]
    reading.text = "\n".join(texts)
    reading.confidence = float(min(confs)) if confs else 1.0
    return reading


def check_product_images(ev: Evaluation, images: list[ProductImageReading], rules: Rules) -> None:
    content = rules.content
    t = rules.thresholds
    for image in images:
        doc = image.file
        if image.error:
            ev.add(Check(name="product_image_clean", status="review", document=doc, found=image.error,
                         message=f"product image could not be read: {image.error}"), "UNREADABLE")
            continue
        compact = re.sub(r"\s+", "", image.text)
        findings = []
        if image.qr_codes:
            shown = ", ".join(c or "(undecodable)" for c in image.qr_codes)
            findings.append(f"QR code ({shown})")
        for name, pattern in content.contact_patterns.items():
            m = re.search(pattern, compact)
            if m:
                findings.append(f"{name} {m.group(0)}")
        words = [w for w in content.banned_words if w in compact]
        if words:
            findings.append("banned superlatives: " + "、".join(words))
        if not findings:
            ev.add(Check(name="product_image_clean", status="pass", document=doc))
            continue
        # A decoded QR code is unambiguous; text findings rest on the OCR being right.
        clear = bool(image.qr_codes and any(image.qr_codes)) or image.confidence >= t.reject_confidence
        ev.add(Check(name="product_image_clean", status="fail" if clear else "review", document=doc,
                     found="; ".join(findings), message="product image carries " + "; ".join(findings)),
               "PROHIBITED_CONTENT")
