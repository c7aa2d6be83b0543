"""Replay real uploads against fields read by eye: `zizhi replay --real DIR`.

DIR holds real document images and a `truth.json` (a list of {file, doc_type, fields, notes};
only fields a person could read with certainty). These files are evaluation data that may not be
redistributed, so they are read where they lie and never copied into the project.

For every document in DIR (with or without truth), zizhi reads it once and then judges it twice:
1. as uploaded by the company it names (the truth's holder and credit code declared as the shop),
   in a category that needs that document type;
2. as uploaded by a shop that declares another company (scored for the documents whose holder
   must be the shop company: entity documents and the brand chain's).

Its *document decision* is the policy of `checks.decide` over the checks about that document (the
category and completeness checks of the made-up submission are left out: one document alone is
never a complete submission). An approve is *false* when the other company declared it, when the
truth says it is not a SPEC §3 document or has expired on the check date, or when a field its
rules rest on (holder, credit code of a business licence, licence number) could not be read by eye
either: a pipeline cannot have read with certainty what a person could not. A reject is *false*
when the company it names declared a SPEC §3 document the truth shows in force: whatever was
misread, a reviewer would not reject it at a glance (review is the answer to doubt).

The figures are also given per batch (truth's `batch`; the first two batches predate the key and
are scored together as "1-2") and per capture kind (scan, photo, rotated, screenshot, PDF, low
resolution: from truth's `capture` description, or the file's name where there is none), with
floors per batch in fixtures/floors-real.yaml.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter, defaultdict
from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from devtools.replay import _same_text
from extractors.classify import UNCLASSIFIED, load_doc_types
from pipeline.checks import decide, evaluate
from pipeline.document import interpret_document, read_document
from pipeline.evaluation import Evaluation
from pipeline.models import DocumentRef, Product, Shop, Submission
from pipeline.settings import Settings, get_settings
from rules import Rules, load_rules

# Documents whose holder must be the shop company (rule 4), directly or through the brand chain
# (rule 6): declared by another company, they must never approve. (A product document or an ID
# card names no shop company: its "other company" decision is shown, not scored.)
BRAND_DOCUMENTS = {"trademark_certificate", "brand_authorization"}
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".pdf"}
OTHER_COMPANY = "青岛海澜星辰贸易有限公司"
OTHER_CREDIT_CODE = "91370200MA3C1U2E1B"
PLACEHOLDER_BRAND = "未声明品牌"
# Fields without which no rule can pass on a document of the type: an approve without them read
# by eye is an approve without evidence.
RULE_FIELDS = {
    "business_licence": ("holder_name", "credit_code"),
    "trademark_certificate": ("holder_name", "licence_number", "valid_until"),
    "brand_authorization": ("holder_name", "grantor", "brand", "valid_until"),
}
DEFAULT_RULE_FIELDS = ("holder_name", "licence_number")


class TruthDocument(BaseModel):
    model_config = ConfigDict(extra="allow")

    file: str = Field(min_length=1)
    doc_type: str = Field(description="SPEC §3 doc_type, or 'other' for a document the platform does not ask for")
    fields: dict[str, str] = Field(default_factory=dict)
    notes: str | None = None
    capture: str | None = None
    batch: int | str | None = None

    @property
    def batch_name(self) -> str:
        return str(self.batch) if self.batch is not None else FIRST_BATCHES


# Batches 1 and 2 were read before truth.json carried a batch number: scored as one.
FIRST_BATCHES = "1-2"

# Capture kinds, by the words of truth's `capture` description (or the file's name): a document
# may be of several kinds (a rotated low-resolution photo).
CAPTURE_WORDS = {
    "screenshot": ("screenshot", "app", "monitor", "screen"),
    "scan": ("scan", "photocopy", "print"),
    "photo": ("photo", "handheld", "desk", "holding"),
    "rotated": ("rot90", "rot180", "rotated", "exif", "sideways", "orient"),
    "pdf": ("pdf",),
    "low resolution": ("low resolution", "lowres", "low-res", "very low", "downscaled"),
}


def capture_kinds(file: str, truth: TruthDocument | None) -> list[str]:
    text = (truth.capture if truth is not None and truth.capture else file).lower()
    if file.lower().endswith(".pdf"):
        text += " pdf"
    return [kind for kind, words in CAPTURE_WORDS.items() if any(w in text for w in words)] or ["other"]


class BatchFloors(BaseModel):
    """Floors of one batch of real uploads."""

    model_config = ConfigDict(extra="forbid")

    doc_type_accuracy: float = Field(ge=0, le=1)
    field_accuracy: float = Field(ge=0, le=1, description="exact match over the batch's scored fields")
    credit_code_accuracy: float = Field(default=0.0, ge=0, le=1)
    clean_licences_approved: float = Field(
        default=0.0, ge=0, le=1,
        description="share of in-force business licences with a legible credit code approved, declared by their own company")


class RealFloors(BatchFloors):
    """Floors of the real-sample replay (fixtures/floors-real.yaml): over every document, and per batch."""

    max_false_approves: int = Field(ge=0)
    max_false_rejects: int = Field(ge=0, description="in-force documents rejected when their own company declared them")
    batches: dict[str, BatchFloors] = Field(default_factory=dict)


def load_real_floors(path: Path) -> RealFloors:
    import yaml

    try:
        return RealFloors.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))
    except (OSError, yaml.YAMLError, ValidationError) as e:
        raise ValueError(f"{path}: unusable floors file ({str(e).splitlines()[0]})") from None


class RealCase(BaseModel):
    file: str
    has_truth: bool
    batch: str = FIRST_BATCHES
    capture: list[str] = Field(default_factory=list)
    in_force: bool = False  # a SPEC §3 document the truth shows in force on the check date
    seconds: float
    expected_doc_type: str | None
    doc_type: str
    fields: list[tuple[str, str, str | None, bool]] = Field(default_factory=list)
    decision_own: str | None = None  # declared by the company the truth names
    decision_other: str | None = None  # declared by another company
    approve_allowed: bool = False
    reasons_own: list[str] = Field(default_factory=list)
    false_approves: list[str] = Field(default_factory=list)

    @property
    def false_reject(self) -> bool:
        return self.in_force and self.decision_own == "reject"

    @property
    def clean_licence(self) -> bool:
        """An in-force business licence whose holder and credit code a person can read."""
        return self.has_truth and self.expected_doc_type == "business_licence" and self.approve_allowed


class Score(BaseModel):
    """The replay's figures over a group of documents (all, a batch, a capture kind)."""

    documents: int
    doc_type_accuracy: float
    field_accuracy: float
    per_field: dict[str, tuple[int, int]]
    clean_business_licences: int
    clean_business_licences_approved: int
    false_approves: list[str]
    false_rejects: list[str]

    @property
    def credit_code_accuracy(self) -> float:
        good, total = self.per_field.get("credit_code", (0, 0))
        return _ratio(good, total)

    @property
    def clean_licences_approved(self) -> float:
        return _ratio(self.clean_business_licences_approved, self.clean_business_licences)


class RealReport(Score):
    cases: list[RealCase]
    check_date: dt.date
    decisions: dict[str, dict[str, int]]
    per_batch: dict[str, Score] = Field(default_factory=dict)
    per_capture: dict[str, Score] = Field(default_factory=dict)
    seconds_per_document: float
    failures: list[str] = Field(default_factory=list)


def load_truth(folder: Path) -> dict[str, TruthDocument]:
    """truth.json of `folder`, by file name. Raises ValueError with one line if it is unusable."""
    path = folder / "truth.json"
    if not path.is_file():
        return {}
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
        docs = [TruthDocument.model_validate(item) for item in raw]
    except (OSError, json.JSONDecodeError, ValidationError, TypeError) as e:
        raise ValueError(f"{path}: unusable truth file ({str(e).splitlines()[0]})") from None
    return {d.file: d for d in docs}


def category_for(doc_type: str, rules: Rules) -> str:
    """A category whose requirements include `doc_type` (general when none does)."""
    for name, category in rules.categories.categories.items():
        if category.open_for_online_sale and any(doc_type in group for group in category.requires):
            return name
    return "general"


def document_decision(evaluation: Evaluation, file: str) -> tuple[str, list[str]]:
    """The decision policy over the checks about one document, and their reason codes."""
    own = Evaluation()
    for check in evaluation.checks:
        if check.document == file and check.name != "required_document_present":
            own.checks.append(check)
    own.reasons = [r for r in evaluation.reasons if r.document == file]
    return decide(own), sorted({r.code for r in own.reasons})


def in_force(truth: TruthDocument | None, check_date: dt.date) -> bool:
    """A SPEC §3 document whose printed end (if the truth has one) is on or after the check date."""
    if truth is None or truth.doc_type not in load_doc_types().types:
        return False
    until = truth.fields.get("valid_until")
    return until in (None, "long_term") or dt.date.fromisoformat(until) >= check_date


def approve_allowed(truth: TruthDocument | None, check_date: dt.date, rules: Rules) -> bool:
    if not in_force(truth, check_date):
        return False
    needed = RULE_FIELDS.get(truth.doc_type, DEFAULT_RULE_FIELDS)
    return all(f in truth.fields for f in needed if f != "valid_until")


def _submission(file: str, doc_type: str, company: str, credit_code: str | None, rules: Rules,
                brand: str | None) -> Submission:
    return Submission(id=f"REAL-{Path(file).stem}", shop=Shop(name="real-sample shop", company=company,
                                                               credit_code=credit_code),
                      product=Product(title="", category=category_for(doc_type, rules), brand=brand),
                      documents=[DocumentRef(file=file)])


def replay_real(folder: Path, *, check_date: dt.date, engine, settings: Settings | None = None,
                rules: Rules | None = None, progress=None, read=read_document) -> RealReport:
    """Read every document in `folder` once and score it (see the module docstring).

    `read(folder, ref, engine, settings) -> DocumentReading` is the OCR step (a developer may pass
    a cached one to iterate on extraction without re-reading)."""
    settings = settings or get_settings()
    rules = rules or load_rules(settings.rules_dir)
    truths = load_truth(folder)
    files = sorted(p.name for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    cases = []
    for file in files:
        truth = truths.get(file)
        start = time.perf_counter()
        ref = DocumentRef(file=file)
        reading = read(folder, ref, engine, settings)
        work = interpret_document(reading, ref, settings, rules)
        doc_type = work.doc_type
        expected_type = None
        if truth is not None:
            expected_type = truth.doc_type if truth.doc_type in load_doc_types().types else UNCLASSIFIED
        case = RealCase(file=file, has_truth=truth is not None, seconds=0.0, expected_doc_type=expected_type,
                        doc_type=doc_type, approve_allowed=approve_allowed(truth, check_date, rules),
                        batch=truth.batch_name if truth is not None else FIRST_BATCHES,
                        capture=capture_kinds(file, truth), in_force=in_force(truth, check_date))
        if truth is not None and expected_type != UNCLASSIFIED:
            # (fields of a document the platform does not ask for are not extracted by design)
            for name, value in truth.fields.items():
                got = work.result.fields.get(name)
                got_value = got.value if got is not None else None
                case.fields.append((name, value, got_value, got_value is not None and _same_text(got_value, value)))
        judged_type = truth.doc_type if truth is not None and expected_type != UNCLASSIFIED else doc_type
        if judged_type == UNCLASSIFIED:
            judged_type = "business_licence"
        brand = truth.fields.get("brand") if truth is not None else None
        if judged_type in ("brand_authorization", "trademark_certificate") and brand is None:
            brand = PLACEHOLDER_BRAND  # (a figurative mark has no brand text) judged within a brand's chain
        if truth is not None and "holder_name" in truth.fields:
            own = _submission(file, judged_type, truth.fields["holder_name"], truth.fields.get("credit_code"),
                              rules, brand)
            ev = evaluate(own, [work], rules, check_date)
            case.decision_own, case.reasons_own = document_decision(ev, file)
            if case.decision_own == "approve" and not case.approve_allowed:
                case.false_approves.append("own")
        other = _submission(file, judged_type, OTHER_COMPANY, OTHER_CREDIT_CODE, rules, brand)
        case.decision_other, _ = document_decision(evaluate(other, [work], rules, check_date), file)
        if case.decision_other == "approve" and judged_type in set(rules.categories.entity_documents) | BRAND_DOCUMENTS:
            case.false_approves.append("other company")
        case.seconds = round(time.perf_counter() - start, 2)
        cases.append(case)
        if progress:
            progress(case)
    return summarise_real(cases, check_date)


def _ratio(good: int, total: int) -> float:
    return round(good / total, 4) if total else 1.0


def score(cases: list[RealCase]) -> Score:
    per_field: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    for c in cases:
        for name, _, _, ok in c.fields:
            per_field[name][0] += ok
            per_field[name][1] += 1
    typed = [c for c in cases if c.expected_doc_type is not None]
    clean = [c for c in cases if c.clean_licence]
    good = sum(v[0] for v in per_field.values())
    total = sum(v[1] for v in per_field.values())
    return Score(
        documents=len(cases),
        doc_type_accuracy=_ratio(sum(c.doc_type == c.expected_doc_type for c in typed), len(typed)),
        field_accuracy=_ratio(good, total),
        per_field={k: (v[0], v[1]) for k, v in sorted(per_field.items())},
        clean_business_licences=len(clean),
        clean_business_licences_approved=sum(c.decision_own == "approve" for c in clean),
        false_approves=[f"{c.file} ({', '.join(c.false_approves)})" for c in cases if c.false_approves],
        false_rejects=[f"{c.file} ({', '.join(c.reasons_own)})" for c in cases if c.false_reject],
    )


def summarise_real(cases: list[RealCase], check_date: dt.date) -> RealReport:
    decisions: dict[str, Counter] = defaultdict(Counter)
    for c in cases:
        if c.decision_own:
            decisions["own company" + (" (approve allowed)" if c.approve_allowed else "")][c.decision_own] += 1
        decisions["other company"][c.decision_other or "error"] += 1
    batches: dict[str, list[RealCase]] = defaultdict(list)
    captures: dict[str, list[RealCase]] = defaultdict(list)
    for c in cases:
        batches[c.batch].append(c)
        for kind in c.capture:
            captures[kind].append(c)
    return RealReport(
        **score(cases).model_dump(), cases=cases, check_date=check_date,
        decisions={k: dict(v) for k, v in sorted(decisions.items())},
        per_batch={k: score(v) for k, v in sorted(batches.items())},
        per_capture={k: score(v) for k, v in sorted(captures.items())},
        seconds_per_document=round(sum(c.seconds for c in cases) / len(cases), 2) if cases else 0.0,
    )


def _below(name: str, got: Score, floors: BatchFloors) -> list[str]:
    failures = []
    for measure in ("doc_type_accuracy", "field_accuracy", "credit_code_accuracy", "clean_licences_approved"):
        value, floor = getattr(got, measure), getattr(floors, measure)
        if value < floor:
            failures.append(f"real samples, {name}: {measure} {value:.4f} is below the floor {floor:.4f}")
    return failures


def check_real_floors(report: RealReport, floors: RealFloors) -> list[str]:
    failures = _below("all batches", report, floors)
    for batch, batch_floors in floors.batches.items():
        if batch not in report.per_batch:
            failures.append(f"real samples: batch {batch} has floors but no documents were replayed")
            continue
        failures += _below(f"batch {batch}", report.per_batch[batch], batch_floors)
    if len(report.false_approves) > floors.max_false_approves:
        failures.append(f"real samples: {len(report.false_approves)} false approve(s) (allowed "
                        f"{floors.max_false_approves}): " + ", ".join(report.false_approves))
    if len(report.false_rejects) > floors.max_false_rejects:
        failures.append(f"real samples: {len(report.false_rejects)} false reject(s) of in-force documents (allowed "
                        f"{floors.max_false_rejects}): " + ", ".join(report.false_rejects))
    return failures


def _score_line(name: str, s: Score) -> str:
    return (f"  {name:<16} {s.documents:>4} docs  type {s.doc_type_accuracy:6.1%}  fields {s.field_accuracy:6.1%}  "
            f"codes {s.credit_code_accuracy:6.1%}  clean licences approved {s.clean_business_licences_approved:>3}/"
            f"{s.clean_business_licences:<3}  false approves {len(s.false_approves)}  false rejects {len(s.false_rejects)}")


def render_real(report: RealReport) -> str:
    out = [f"real samples checked on {report.check_date}", "per-field exact match (against truth.json):"]
    for name, (good, total) in report.per_field.items():
        out.append(f"  {name:<22} {good:>4}/{total:<4} {good / total:6.1%}")
    out.append(f"  {'ALL':<22} {'':>9} {report.field_accuracy:6.1%}")
    out.append("fields off the truth:")
    for c in report.cases:
        for name, want, got, ok in c.fields:
            if not ok:
                out.append(f"  {c.file}: {name} expected {want!r}, read {got!r}")
    out.append("doc types off the truth:")
    for c in report.cases:
        if c.expected_doc_type is not None and c.doc_type != c.expected_doc_type:
            out.append(f"  {c.file}: expected {c.expected_doc_type}, got {c.doc_type}")
    out.append("document decisions (declared by → got):")
    for who, row in report.decisions.items():
        out.append(f"  {who:<32} " + ", ".join(f"{d}: {n}" for d, n in sorted(row.items())))
    out.append(f"clean business licences approved: {report.clean_business_licences_approved} of "
               f"{report.clean_business_licences}")
    out.append("per batch:")
    out += [_score_line(f"batch {name}", s) for name, s in report.per_batch.items()]
    out.append("per capture kind (a document may be of several):")
    out += [_score_line(name, s) for name, s in report.per_capture.items()]
    out.append("per field and batch:")
    for field_name in report.per_field:
        row = []
        for name, s in report.per_batch.items():
            good, total = s.per_field.get(field_name, (0, 0))
            row.append(f"batch {name} {good}/{total}")
        out.append(f"  {field_name:<22} " + ", ".join(row))
    out.append(f"false approves: {len(report.false_approves)}"
               + (" — " + ", ".join(report.false_approves) if report.false_approves else ""))
    out.append(f"false rejects: {len(report.false_rejects)}"
               + (" — " + ", ".join(report.false_rejects) if report.false_rejects else ""))
    out.append(f"doc-type accuracy {report.doc_type_accuracy:.1%}, field accuracy {report.field_accuracy:.1%}, "
               f"{report.seconds_per_document:.2f} s per document over {len(report.cases)} documents")
    return "\n".join(out)
