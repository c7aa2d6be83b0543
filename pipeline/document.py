"""One document: load → straighten and OCR each page → classify → extract.

Stages raise; this runner records an error item (stage, page, message) and carries on, so one
bad page doesn't sink a document and one bad document doesn't sink a submission.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import lru_cache, partial
from pathlib import Path

import numpy as np

from extractors import brand_authorization, business_licence
from extractors.classify import UNCLASSIFIED, Classification, classify
from extractors.form import extract_form, load_forms
from extractors.types import Extraction, OcrLine
from pipeline import geometry as geo
from pipeline.authenticity import rainbow_tint
from pipeline.capture_flags import PageSignals, box_to_quad, measure_page
from pipeline.display import visible
from pipeline.errors import ContentChanged, DocumentError
from pipeline.ingest import fetch, load_document_bytes
from pipeline.models import (
    DocumentRef,
    DocumentResult,
    ErrorItem,
    FieldValue,
    FlagEvidence,
    Quality,
    SealReading,
)
from pipeline.ocr.base import OcrEngine
from pipeline.preprocess import PageReading, read_page
from pipeline.rereads import (
    RULE_FIELDS,
    reread_credit_code,
    reread_missing_dates,
    reread_missing_holder,
    reread_rule_lines,
)
from pipeline.seals import read_seals, reread_under_seals
from pipeline.settings import Settings
from rules import Rules, load_rules

EXTRACTORS = {
    "business_licence": business_licence.extract,
    "brand_authorization": brand_authorization.extract,
    **{doc_type: partial(extract_form, doc_type) for doc_type in load_forms().types},
}


@dataclass
class DocumentWork:
    """What the rules need to know about one document, beside its public result."""

    ref: DocumentRef
    result: DocumentResult
    classification: Classification | None = None
    extraction: Extraction | None = None
    load_error: str | None = None
    notes: list[str] = field(default_factory=list)
    readings: list[PageReading] = field(default_factory=list)
    seal_rereads: list[tuple[str, str]] = field(default_factory=list)  # lines read again without seal ink
    seals: list = field(default_factory=list)  # pipeline.seals.Seal of the document's page, as result.seals
    rereads: list = field(default_factory=list)  # pipeline.rereads.Reread of the document's page

    @property
    def doc_type(self) -> str:
        return self.result.doc_type


@lru_cache(maxsize=1)
def _to_simplified():
    import opencc

    return opencc.OpenCC("t2s")


def page_lines(reading: PageReading) -> list[OcrLine]:
    """The page's OCR lines for classification and extraction, in simplified characters.

    The recogniser sometimes returns a traditional form of a character (專, 許, 悅) — mostly on
    Kai and Ming type. Mainland certificates print simplified characters only, so the traditional
    form is always a misreading.
    """
    convert = _to_simplified().convert
    return [OcrLine(convert(ln.text), ln.confidence, ln.quad, ln.quad_original, reading.page)
            for ln in reading.lines]


def authenticity_flags(reading: PageReading, doc_type: str, rules: Rules,
                       rainbow: tuple[float, int] = (0.0, 0)) -> list[str]:
    """Rule 8 flags this page shows: a black-and-white copy of a document with colour seals, a
    screen recapture (colour moiré over the paper)."""
    flags = []
    t = rules.thresholds
    share, bands = rainbow
    if share >= t.recapture_min_tinted_share and bands >= t.recapture_min_hue_bands:
        flags.append(f"screen recapture: colour moiré over {share:.0%} of the page background "
                     f"({bands} hue bands)")
    if doc_type in rules.categories.colour_seal_documents and reading.colour_fraction < t.photocopy_max_colour_fraction:
        flags.append(f"photocopy: no colour on a document that carries red seals "
                     f"({reading.colour_fraction:.3%} coloured pixels)")
    return flags


def add_capture_flags(result: DocumentResult, page: PageReading, signals: PageSignals | None, rules: Rules,
                      extraction: Extraction | None = None) -> None:
    """Border, occlusion, specimen, glare and screenshot flags and the capture kinds of the page
    (pipeline.capture_flags), with their evidence boxes, into `result.quality`. With the page's
    `extraction`, an occluder over where an unread field's value would be names that field."""
    from pipeline.capture_flags import bottom_cut_finding, capture_findings, top_cut_finding, value_areas

    if result.quality is None:
        return
    boxes = {name: (min(p[0] for p in f.box), min(p[1] for p in f.box), max(p[0] for p in f.box),
                    max(p[1] for p in f.box))
             for name, f in result.fields.items() if f.box and f.page == page.page}
    lines = page_lines(page)
    hidden = None
    if extraction is not None and signals is not None:
        unread = {name: label for name, label in extraction.labels_found.items() if name not in result.fields}
        hidden = value_areas(unread, lines, signals.size)
    found = capture_findings(signals, lines, result.doc_type, boxes, rules.thresholds.capture_flags, hidden)
    if result.doc_type == "business_licence" and "screenshot" not in found.kinds:
        # a licence cut off below its last row or above its first: no text line is cut, so the
        # line-based border check above cannot see it
        t = rules.thresholds.capture_flags

        def to_upload(points):
            return page.transform.inverse().apply(points)

        finders = {"bottom": lambda: bottom_cut_finding(lines, float(page.transform.size[1]), to_upload, page.page,
                                                        t, page.size),
                   "top": lambda: top_cut_finding(lines, to_upload, page.page, t, page.size)}
        for side, find in finders.items():
            border = next((f for f in found.flags if f.flag == "border_incomplete"), None)
            if border is not None and side in border.sides:
                continue
            cut = find()
            if cut is not None:
                found.flags = [f for f in found.flags if f.flag != "border_incomplete"] + [_merge_border(border, cut)]
    sheets = getattr(page, "sheets", [])  # (a reading pickled before sheets were kept has none)
    if len(sheets) >= 2:
        # Two documents in one upload (a licence beside a food licence, 正本 beside 副本): the largest
        # sheet was read and judged alone, never their fields merged; a person sees both boxes.
        message = (f"multiple_documents: {len(sheets)} documents in one upload; only the largest was read "
                   f"and judged — each document must be uploaded on its own")
        result.quality.flags.append(message)
        for sheet in sheets:
            result.quality.evidence.append(FlagEvidence(
                flag="multiple_documents", message=message, page=page.page,
                box=[[round(float(x)), round(float(y))] for x, y in sheet]))
    result.quality.capture.extend(k for k in found.kinds if k not in result.quality.capture)
    for f in found.flags:
        result.quality.flags.append(f.message)
        result.quality.evidence.append(FlagEvidence(flag=f.flag, message=f.message, page=f.page,
                                                    box=box_to_quad(f.box) if f.box else None,
                                                    sides=f.sides, fields=f.fields))


def _merge_border(found, cut):
    """One border_incomplete finding for the page: the sides and reasons of both."""
    if found is None:
        return cut
    from pipeline.capture_flags import Finding, _union

    side = cut.sides[0]
    what = "below its last field row" if side == "bottom" else "above its first field row"
    return Finding("border_incomplete", found.message.rstrip(")") + f"; and at the {side}: nothing read {what})",
                   found.page, _union([b for b in (found.box, cut.box) if b]),
                   sides=list(dict.fromkeys(found.sides + cut.sides)))


def quality_of(reading: PageReading, settings: Settings) -> Quality:
    opts = settings.preprocess
    height = reading.median_text_height
    confidence = reading.mean_confidence
    ok = (reading.sharpness >= opts.min_sharpness and height is not None and height >= opts.min_text_height_px
          and len(reading.lines) >= 3 and (confidence or 0) >= opts.min_mean_confidence)
    return Quality(ok=ok, sharpness=reading.sharpness, width=reading.size[0], height=reading.size[1],
                   skew_deg=reading.skew_deg, text_height_px=round(height, 1) if height else None,
                   mean_confidence=round(confidence, 3) if confidence is not None else None)


@dataclass
class DocumentReading:
    """The expensive part of a document — loaded and OCR'd pages — with no rules applied.

    Plain data (picklable), so a flow can cache it by the file's content hash and engine version.
    """

    file: str
    sha256: str = ""  # digest of the bytes decoded (ingest.Fetched.digest): what this reading is of
    page_count: int = 0
    pages: list[PageReading] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    errors: list[ErrorItem] = field(default_factory=list)
    load_error: str | None = None
    rainbow: dict[int, tuple[float, int]] = field(default_factory=dict)  # page -> rainbow_tint()
    signals: dict[int, PageSignals] = field(default_factory=dict)  # page -> capture_flags.measure_page()
    seals: dict[int, list] = field(default_factory=dict)  # page -> pipeline.seals.read_seals()
    seal_rereads: dict[int, list[tuple[str, str]]] = field(default_factory=dict)  # page -> reread_under_seals()
    rereads: dict[int, list] = field(default_factory=dict)  # page -> pipeline.rereads.Reread attempts


def read_document(base_dir: Path, ref: DocumentRef, engine: OcrEngine, settings: Settings,
                  expect_digest: str | None = None) -> DocumentReading:
    """Read a document's bytes once, then decode, straighten and OCR those bytes (the cacheable step).

    With `expect_digest` (the digest the submission was fingerprinted with), bytes that differ raise
    ContentChanged before anything is decoded: a reading is always of the content it is filed under.
    """
    reading = DocumentReading(file=ref.file)
    fetched = fetch(base_dir, ref.file, settings.ingest)
    if expect_digest is not None and fetched.digest != expect_digest:
        raise ContentChanged(f"document {visible(ref.file)} changed since the submission was scanned")
    reading.sha256 = fetched.digest
    try:
        if fetched.error is not None:
            raise fetched.error
        loaded = load_document_bytes(fetched.data, Path(ref.file), settings.ingest)
    except DocumentError as e:
        reading.load_error = str(e)
        reading.errors.append(ErrorItem(stage="ingest", message=str(e)))
        return reading
    reading.page_count = loaded.page_count
    reading.notes.extend(loaded.notes)
    reading.errors.extend(ErrorItem(stage="ingest", message=note) for note in loaded.notes)
    for index, image in enumerate(loaded.pages, start=1):
        try:
            page_reading = read_page(image, engine, settings.preprocess, page=index)
            reading.pages.append(page_reading)
            reading.rainbow[index] = rainbow_tint(image)
            reading.signals[index] = measure_page(image, page=index)
        except Exception as e:  # noqa: BLE001 - one bad page must not sink the document
            reading.errors.append(ErrorItem(stage="ocr", page=index, message=f"{type(e).__name__}: {e}"))
            continue
        try:
            reading.seals[index] = read_seals(image, engine, page=index)
            reading.seal_rereads[index] = reread_under_seals(image, page_reading, reading.seals[index], engine)
        except Exception as e:  # noqa: BLE001 - the page's text stands without its seals
            reading.errors.append(ErrorItem(stage="seals", page=index, message=f"{type(e).__name__}: {e}"))
        try:
            attempts = reread_credit_code(image, page_reading, engine)
            extraction = first_extraction(page_reading)
            if extraction is not None and "holder_name" not in extraction.fields:
                attempts += reread_missing_holder(image, page_reading, engine,
                                                  extraction.labels_found.get("holder_name"))
                extraction = first_extraction(page_reading)
            if extraction is not None and extraction.doc_type == "business_licence":
                dates_read = bool({"established", "valid_from", "valid_until"} & set(extraction.labels_found))
                more = reread_missing_dates(image, page_reading, engine, extraction.labels_found.get("capital"),
                                            dates_read or "valid_until" in extraction.fields)
                if more:
                    attempts += more
                    extraction = first_extraction(page_reading)
            attempts += reread_rule_lines(image, page_reading, engine, rule_lines(page_reading, extraction))
            if attempts:
                reading.rereads[index] = attempts
        except Exception as e:  # noqa: BLE001 - the first reading stands
            reading.errors.append(ErrorItem(stage="reread", page=index, message=f"{type(e).__name__}: {e}"))
    return reading


def first_extraction(page: PageReading) -> Extraction | None:
    """Classify and extract a page as read so far (cheap: no OCR), to find what to read again."""
    lines = page_lines(page)
    extractor = EXTRACTORS.get(classify(lines).doc_type)
    return extractor(lines) if extractor is not None else None


def rule_lines(page: PageReading, extraction: Extraction | None) -> list[tuple[str, int]]:
    """(field, index into page.lines) of the lines behind the rule-bearing fields of a first
    extraction of the page, for pipeline.rereads."""
    if extraction is None:
        return []
    targets = []
    for name in RULE_FIELDS:
        f = extraction.fields.get(name)
        if f is None or not f.quads:
            continue
        for quad in f.quads:
            cx, cy = (float(v) for v in np.asarray(quad).reshape(-1, 2).mean(axis=0))
            for i, line in enumerate(page.lines):
                q = np.asarray(line.quad_original)
                if q[:, 0].min() <= cx <= q[:, 0].max() and q[:, 1].min() <= cy <= q[:, 1].max():
                    if (name, i) not in targets:
                        targets.append((name, i))
                    break
    return targets


def interpret_document(reading: DocumentReading, ref: DocumentRef, settings: Settings, rules: Rules) -> DocumentWork:
    """Classify the pages read, pick the document's page, extract its fields (cheap, no OCR)."""
    result = DocumentResult(file=ref.file, doc_type=UNCLASSIFIED, doc_type_confidence=0.0,
                            pages=reading.page_count, errors=list(reading.errors))
    work = DocumentWork(ref=ref, result=result, load_error=reading.load_error, notes=list(reading.notes),
                        readings=list(reading.pages))
    best: tuple[Classification, PageReading] | None = None
    for page in reading.pages:
        cls = classify(page_lines(page))
        if best is None or _better(cls, best[0]):
            best = (cls, page)
    if best is None:
        return work

    cls, page = best
    work.classification = cls
    result.doc_type = cls.doc_type
    result.doc_type_confidence = round(cls.confidence, 3)
    result.quality = quality_of(page, settings)
    result.quality.flags.extend(authenticity_flags(page, cls.doc_type, rules, reading.rainbow.get(page.page, (0, 0))))
    extractor = EXTRACTORS.get(cls.doc_type)
    if extractor is not None:
        try:
            work.extraction = extractor(page_lines(page))
        except Exception as e:  # noqa: BLE001 - recorded as an error item; the rules then ask for review
            result.errors.append(ErrorItem(stage="extract", page=page.page, message=f"{type(e).__name__}: {e}"))
        if work.extraction is not None:
            for name, f in work.extraction.fields.items():
                box = geo.quad_to_box(geo.enclosing_quad(f.quads)) if f.quads else None
                result.fields[name] = FieldValue(value=f.value, confidence=f.confidence, page=f.page, box=box)
    add_capture_flags(result, page, reading.signals.get(page.page), rules, work.extraction)
    page_seals = reading.seals.get(page.page)
    if page_seals is not None:
        result.seals = [SealReading(text=s.text, confidence=round(s.confidence, 3), page=s.page,
                                    box=box_to_quad(s.box), shape=s.shape) for s in page_seals]
        work.seals = list(page_seals)
    work.seal_rereads = list(reading.seal_rereads.get(page.page, []))
    work.rereads = list(getattr(reading, "rereads", {}).get(page.page, []))
    return work


def process_document(base_dir: Path, ref: DocumentRef, engine: OcrEngine, settings: Settings,
                     rules: Rules | None = None) -> DocumentWork:
    """read_document + interpret_document: what `zizhi verify` does for each document."""
    rules = rules or load_rules(settings.rules_dir)
    return interpret_document(read_document(base_dir, ref, engine, settings), ref, settings, rules)


def _better(a: Classification, b: Classification) -> bool:
    a_known, b_known = a.doc_type != UNCLASSIFIED, b.doc_type != UNCLASSIFIED
    if a_known != b_known:
        return a_known
    return a.confidence > b.confidence
