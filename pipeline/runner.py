"""verify(): a submission in, a verdict out. The one function `zizhi verify` and the flows call."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from pipeline.checks import decide, evaluate
from pipeline.document import DocumentWork, process_document
from pipeline.errors import DocumentError, SubmissionError
from pipeline.ingest import load_submission, resolve_document_path
from pipeline.models import Submission, Verdict
from pipeline.ocr.base import OcrEngine, get_engine
from pipeline.product_images import read_product_image
from pipeline.settings import Settings, get_settings
from rules import Rules, load_rules


def check_submission(submission: Submission, base_dir: Path, rules: Rules) -> None:
    """Refuse a submission that cannot be verified at all (SPEC: exit status 2)."""
    if submission.product.category not in rules.categories.categories:
        known = ", ".join(sorted(rules.categories.categories))
        raise SubmissionError(f"unknown category {submission.product.category!r} (known: {known})")
    if not submission.documents:
        return  # nothing uploaded: a verdict (MISSING_DOCUMENT), not an unusable submission
    for file in [ref.file for ref in submission.documents] + list(submission.product.images):
        try:
            resolve_document_path(base_dir, file)
        except DocumentError as e:  # missing, or a path that leads out (UnsafePathError)
            raise SubmissionError(str(e)) from None


def assemble_verdict(submission: Submission, base_dir: Path, works: list[DocumentWork], *, today: dt.date,
                     settings: Settings, rules: Rules, engine: OcrEngine) -> Verdict:
    """The rules over a submission's interpreted documents (and its product images): the verdict."""
    images = [read_product_image(base_dir, file, engine, settings) for file in submission.product.images]
    evaluation = evaluate(submission, works, rules, today, images)
    return Verdict(submission_id=submission.id, decision=decide(evaluation), checked_on=today,
                   reasons=evaluation.reasons, documents=[w.result for w in works], checks=evaluation.checks)


def verify_loaded(submission: Submission, base_dir: Path, *, today: dt.date, settings: Settings,
                  rules: Rules, engine: OcrEngine) -> Verdict:
    check_submission(submission, base_dir, rules)
    works = [process_document(base_dir, ref, engine, settings, rules) for ref in submission.documents]
    return assemble_verdict(submission, base_dir, works, today=today, settings=settings, rules=rules, engine=engine)


def verify(submission_path: str | Path, *, today: dt.date | None = None, settings: Settings | None = None,
           rules: Rules | None = None, engine: OcrEngine | None = None) -> Verdict:
    settings = settings or get_settings()
    rules = rules or load_rules(settings.rules_dir)
    submission, base_dir = load_submission(submission_path)
    check_submission(submission, base_dir, rules)  # before loading the engine: fail fast
    engine = engine or get_engine(settings.ocr)
    return verify_loaded(submission, base_dir, today=today or dt.date.today(), settings=settings, rules=rules,
                         engine=engine)
