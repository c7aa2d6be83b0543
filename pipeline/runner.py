"""verify(): a submission in, a verdict out. The one function `zizhi verify` and the flows call."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline.checks import decide, evaluate
from pipeline.display import visible
from pipeline.document import DocumentWork, process_document
from pipeline.errors import DocumentError, SubmissionError
from pipeline.ingest import load_submission, resolve_document_path
from pipeline.media.listing import read_listing
from pipeline.models import DocumentRef, Submission, Verdict
from pipeline.ocr.base import OcrEngine, get_engine
from pipeline.settings import Settings, get_settings
from rules import Rules, load_rules


def check_submission(submission: Submission, base_dir: Path, rules: Rules) -> Submission:
    """Refuse a submission that cannot be verified at all (SPEC: exit status 2); return it with each
    file listed once.

    Raises SubmissionError for an unknown category, a missing or unsafe file, or more distinct
    documents (product images, videos) than `rules.thresholds.max_documents` (`max_product_images`,
    `max_product_videos`).
    A file listed twice (under the same or another spelling of its path) is read once: the later
    entries are dropped.
    """
    if submission.product.category not in rules.categories.categories:
        known = ", ".join(sorted(rules.categories.categories))
        raise SubmissionError(f"unknown category {visible(repr(submission.product.category))} (known: {known})")
    documents: dict[Path, DocumentRef] = {}
    images: dict[Path, str] = {}
    videos: dict[Path, str] = {}
    product = submission.product
    for file in [ref.file for ref in submission.documents] + list(product.images) + list(product.videos):
        try:
            resolve_document_path(base_dir, file)
        except DocumentError as e:  # missing, or a path that leads out (UnsafePathError)
            raise SubmissionError(str(e)) from None
    for ref in submission.documents:
        documents.setdefault(resolve_document_path(base_dir, ref.file), ref)
    for file in product.images:
        images.setdefault(resolve_document_path(base_dir, file), file)
    for file in product.videos:
        videos.setdefault(resolve_document_path(base_dir, file), file)
    t = rules.thresholds
    if len(documents) > t.max_documents:
        raise SubmissionError(f"submission lists {len(documents)} documents; at most {t.max_documents} are "
                              f"accepted (rules: max_documents)")
    if len(images) > t.max_product_images:
        raise SubmissionError(f"submission lists {len(images)} product images; at most {t.max_product_images} "
                              f"are accepted (rules: max_product_images)")
    if len(videos) > t.max_product_videos:
        raise SubmissionError(f"submission lists {len(videos)} product videos; at most {t.max_product_videos} "
                              f"are accepted (rules: max_product_videos)")
    if (len(documents), len(images), len(videos)) == (len(submission.documents), len(product.images),
                                                       len(product.videos)):
        return submission
    product = product.model_copy(update={"images": list(images.values()), "videos": list(videos.values())})
    return submission.model_copy(update={"documents": list(documents.values()), "product": product})


def assemble_verdict(submission: Submission, base_dir: Path, works: list[DocumentWork], *, today: dt.date,
                     settings: Settings, rules: Rules, engine: OcrEngine,
                     image_digests: list[str] | None = None, video_digests: list[str] | None = None) -> Verdict:
    """The rules over a submission's interpreted documents (and its pictures, videos and text): the verdict.

    `image_digests` / `video_digests` (one per product image / video): the digests fingerprinted; a
    file whose bytes differ raises ContentChanged (see `pipeline.media.listing.read_listing`)."""
    listing = read_listing(submission, base_dir, engine, settings, rules, image_digests, video_digests)
    evaluation = evaluate(submission, works, rules, today, listing)
    return Verdict(submission_id=submission.id, decision=decide(evaluation), checked_on=today,
                   reasons=evaluation.reasons, documents=[w.result for w in works], checks=evaluation.checks,
                   media=evaluation.media)


def verify_loaded(submission: Submission, base_dir: Path, *, today: dt.date, settings: Settings,
                  rules: Rules, engine: OcrEngine) -> Verdict:
    submission = check_submission(submission, base_dir, rules)
    works = [process_document(base_dir, ref, engine, settings, rules) for ref in submission.documents]
    return assemble_verdict(submission, base_dir, works, today=today, settings=settings, rules=rules, engine=engine)


def verify(submission_path: str | Path, *, today: dt.date | None = None, settings: Settings | None = None,
           rules: Rules | None = None, engine: OcrEngine | None = None) -> Verdict:
    settings = settings or get_settings()
    rules = rules or load_rules(settings.rules_dir)
    submission, base_dir = load_submission(submission_path)
    submission = check_submission(submission, base_dir, rules)  # before loading the engine: fail fast
    engine = engine or get_engine(settings.ocr)
    return verify_loaded(submission, base_dir, today=today or dt.date.today(), settings=settings, rules=rules,
                         engine=engine)
