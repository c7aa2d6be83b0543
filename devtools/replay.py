"""Replay the fixture submissions against their ground truth: accuracy tables and floors.

Each `fixtures/submissions/<name>/` holds `submission.json` and `expected.json` (check date,
acceptable decisions, reason codes that must appear, and per-document truth). `replay` verifies
each one with the same engine, scores it, and compares the totals with the floors in
`fixtures/floors.yaml` — raising a floor is a deliberate commit.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import time
from collections import Counter, defaultdict
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from pipeline.errors import SubmissionError
from pipeline.models import Verdict
from pipeline.runner import verify


class ExpectedDocument(BaseModel):
    model_config = ConfigDict(extra="allow")

    doc_type: str = Field(description="doc_type of SPEC §3, or 'unclassified' (null means the same)")
    fields: dict[str, str] = Field(default_factory=dict)

    @field_validator("doc_type", mode="before")
    @classmethod
    def _none_is_unclassified(cls, value):
        return "unclassified" if value is None else value


class ExpectedVideo(BaseModel):
    model_config = ConfigDict(extra="allow")

    planted: list[str] = Field(default_factory=list, description="what SPEC §6 screening must find on it")
    shown: list[tuple[float, float]] = Field(default_factory=list,
                                             description="[start, end) seconds each planted thing is on screen")


class Expected(BaseModel):
    model_config = ConfigDict(extra="allow")

    check_date: dt.date
    decisions: list[str] = Field(min_length=1)
    reason_codes: list[str] = Field(default_factory=list)
    documents: dict[str, ExpectedDocument] = Field(default_factory=dict)
    note: str | None = None
    videos: dict[str, ExpectedVideo] = Field(default_factory=dict)
    text: dict[str, ExpectedVideo] = Field(default_factory=dict, description="product.title / product.description: "
                                                                             "what SPEC §6 screening must find")


class Floors(BaseModel):
    model_config = ConfigDict(extra="forbid")

    doc_type_accuracy: float = Field(ge=0, le=1)
    field_accuracy: float = Field(ge=0, le=1, description="exact match over all scored fields")
    decision_accuracy: float = Field(ge=0, le=1)
    reason_recall: float = Field(ge=0, le=1, description="share of expected reason codes that appear")
    max_false_approves: int = Field(ge=0)
    sighting_recall: float = Field(1.0, ge=0, le=1, description="share of planted videos whose reason names a "
                                                                "second the planted thing is on screen")


class CaseResult(BaseModel):
    name: str
    seconds: float
    expected_decisions: list[str]
    decision: str | None
    decision_ok: bool
    false_approve: bool
    expected_reasons: list[str]
    missing_reasons: list[str]
    doc_types: list[tuple[str, str]]  # (expected, got)
    fields: list[tuple[str, str, str | None, bool]]  # (field, expected, got, ok)
    error: str | None = None
    expected_flags: list[str] = Field(default_factory=list)  # rule 8 flags expected.json asks for (file:flag)
    missing_flags: list[str] = Field(default_factory=list)
    expected_sightings: list[str] = Field(default_factory=list)  # planted videos (whose reason must name a second)
    # and planted title/description
    missing_sightings: list[str] = Field(default_factory=list)  # … and did not name one inside the window


class Report(BaseModel):
    cases: list[CaseResult]
    doc_type_accuracy: float
    field_accuracy: float
    per_field: dict[str, tuple[int, int]]  # field -> (correct, total)
    decision_accuracy: float
    reason_recall: float
    false_approves: list[str]
    flag_recall: float = Field(default=1.0, description="share of the rule 8 flags expected.json asks for that appear")
    sighting_recall: float = Field(default=1.0, description="share of planted videos whose reason names a second "
                                                            "the planted thing is on screen (and of planted "
                                                            "titles/descriptions with a reason on them)")
    doc_type_confusion: dict[str, dict[str, int]]
    decision_confusion: dict[str, dict[str, int]]
    seconds_per_submission: float
    failures: list[str] = Field(default_factory=list)


def load_floors(path: Path) -> Floors:
    return Floors.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")))


def find_cases(root: Path) -> list[Path]:
    return sorted(p.parent for p in root.rglob("expected.json") if (p.parent / "submission.json").is_file())


def _same_text(read: str, truth: str) -> bool:
    """Exact match, except for whitespace: OCR does not report the width of a gap, and a
    reviewer reads 无菌注射器 带针 and 无菌注射器带针 as the same."""
    return "".join(read.split()) == "".join(truth.split())


def score_case(name: str, expected: Expected, verdict: Verdict | None, seconds: float, error: str | None) -> CaseResult:
    decision = verdict.decision if verdict else None
    got_codes = {r.code for r in verdict.reasons} if verdict else set()
    docs = {d.file: d for d in verdict.documents} if verdict else {}
    doc_types, fields, want_flags, missing_flags = [], [], [], []
    for file, truth in expected.documents.items():
        got = docs.get(file)
        for flag in getattr(truth, "flags", None) or []:  # issue-12 cases: the flags the document must raise
            want_flags.append(f"{file}:{flag}")
            seen = {e.flag for e in got.quality.evidence} if got and got.quality else set()
            if flag not in seen:
                missing_flags.append(f"{file}:{flag}")
        doc_types.append((truth.doc_type, got.doc_type if got else "(none)"))
        # a capture defect case (cut off, finger, glare…) hides values on purpose: not scored
        scored_fields = truth.fields if getattr(truth, "fields_scored", True) else {}
        for fname, value in scored_fields.items():
            read = got.fields.get(fname).value if got and fname in got.fields else None
            fields.append((fname, value, read, read is not None and _same_text(read, value)))
    want_sightings, missing_sightings = [], []
    for file, video in expected.videos.items():
        if not video.planted:
            continue
        want_sightings.append(file)
        seconds_named = [_second_named(r.message) for r in (verdict.reasons if verdict else [])
                         if r.code == "PROHIBITED_CONTENT" and r.document == file]
        if not any(t is not None and lo - 0.05 <= t < hi for t in seconds_named for lo, hi in video.shown):
            missing_sightings.append(file)
    for field_name, planted in expected.text.items():  # the title / description: a reason on that field
        if planted.planted:
            want_sightings.append(field_name)
            if not any(r.code == "PROHIBITED_CONTENT" and r.document == field_name
                       for r in (verdict.reasons if verdict else [])):
                missing_sightings.append(field_name)
    return CaseResult(
        name=name, seconds=round(seconds, 2), expected_decisions=expected.decisions, decision=decision,
        decision_ok=decision in expected.decisions,
        false_approve=decision == "approve" and "approve" not in expected.decisions,
        expected_reasons=sorted(set(expected.reason_codes)),
        missing_reasons=sorted(set(expected.reason_codes) - got_codes), doc_types=doc_types, fields=fields,
        error=error, expected_flags=want_flags, missing_flags=missing_flags,
        expected_sightings=want_sightings, missing_sightings=missing_sightings)


def _second_named(message: str) -> float | None:
    """The second a video finding names ("… at 12.5 s"), or None."""
    m = re.search(r" at (\d+(?:\.\d+)?) s\b", message)
    return float(m.group(1)) if m else None


def replay(root: Path, *, engine=None, progress=None) -> Report:
    cases: list[CaseResult] = []
    for folder in find_cases(root):
        try:
            expected = Expected.model_validate_json((folder / "expected.json").read_text(encoding="utf-8"))
        except (ValidationError, OSError) as e:
            bad = CaseResult(name=folder.name, seconds=0.0, expected_decisions=["(bad expected.json)"], decision=None,
                             decision_ok=False, false_approve=False, expected_reasons=[], missing_reasons=[],
                             doc_types=[], fields=[], error=f"expected.json unusable: {str(e).splitlines()[0]}")
            cases.append(bad)
            if progress:
                progress(bad)
            continue
        start = time.perf_counter()
        verdict, error = None, None
        try:
            verdict = verify(folder / "submission.json", today=expected.check_date, engine=engine)
        except SubmissionError as e:
            error = str(e)
        case = score_case(folder.name, expected, verdict, time.perf_counter() - start, error)
        cases.append(case)
        if progress:
            progress(case)
    return summarise(cases)


def _ratio(good: int, total: int) -> float:
    return round(good / total, 4) if total else 1.0


def summarise(cases: list[CaseResult]) -> Report:
    per_field: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    type_confusion: dict[str, Counter] = defaultdict(Counter)
    decision_confusion: dict[str, Counter] = defaultdict(Counter)
    for c in cases:
        for fname, _, _, ok in c.fields:
            per_field[fname][0] += ok
            per_field[fname][1] += 1
        for exp, got in c.doc_types:
            type_confusion[exp][got] += 1
        decision_confusion["/".join(c.expected_decisions)][c.decision or "error"] += 1
    field_good = sum(v[0] for v in per_field.values())
    field_total = sum(v[1] for v in per_field.values())
    types = [t for c in cases for t in c.doc_types]
    wanted = sum(len(c.expected_reasons) for c in cases)
    missing = sum(len(c.missing_reasons) for c in cases)
    return Report(
        cases=cases,
        doc_type_accuracy=_ratio(sum(e == g for e, g in types), len(types)),
        field_accuracy=_ratio(field_good, field_total),
        per_field={k: (v[0], v[1]) for k, v in sorted(per_field.items())},
        decision_accuracy=_ratio(sum(c.decision_ok for c in cases), len(cases)),
        reason_recall=_ratio(wanted - missing, wanted),
        false_approves=[c.name for c in cases if c.false_approve],
        flag_recall=_ratio(sum(len(c.expected_flags) - len(c.missing_flags) for c in cases),
                           sum(len(c.expected_flags) for c in cases)),
        sighting_recall=_ratio(sum(len(c.expected_sightings) - len(c.missing_sightings) for c in cases),
                               sum(len(c.expected_sightings) for c in cases)),
        doc_type_confusion={k: dict(v) for k, v in type_confusion.items()},
        decision_confusion={k: dict(v) for k, v in decision_confusion.items()},
        seconds_per_submission=round(sum(c.seconds for c in cases) / len(cases), 2) if cases else 0.0,
    )


def check_floors(report: Report, floors: Floors) -> list[str]:
    failures = []
    for name in ("doc_type_accuracy", "field_accuracy", "decision_accuracy", "reason_recall", "sighting_recall"):
        got, floor = getattr(report, name), getattr(floors, name)
        if got < floor:
            failures.append(f"{name} {got:.4f} is below the floor {floor:.4f}")
    if len(report.false_approves) > floors.max_false_approves:
        failures.append(f"{len(report.false_approves)} false approve(s) (allowed {floors.max_false_approves}): "
                        + ", ".join(report.false_approves))
    return failures


def render(report: Report) -> str:
    out = ["per-field exact match:"]
    for fname, (good, total) in report.per_field.items():
        out.append(f"  {fname:<22} {good:>4}/{total:<4} {good / total:6.1%}")
    out.append(f"  {'ALL':<22} {'':>9} {report.field_accuracy:6.1%}")
    out.append("doc-type confusion (expected → got):")
    for exp, row in sorted(report.doc_type_confusion.items()):
        out.append(f"  {exp:<30} " + ", ".join(f"{g}: {n}" for g, n in sorted(row.items())))
    out.append("decision confusion (acceptable → got):")
    for exp, row in sorted(report.decision_confusion.items()):
        out.append(f"  {exp:<30} " + ", ".join(f"{g}: {n}" for g, n in sorted(row.items())))
    wrong = [c for c in report.cases if not c.decision_ok or c.missing_reasons or c.missing_flags
             or c.missing_sightings]
    if wrong:
        out.append("cases off the truth:")
        for c in wrong:
            extra = f" missing reasons {c.missing_reasons}" if c.missing_reasons else ""
            extra += f" missing flags {c.missing_flags}" if c.missing_flags else ""
            extra += f" no second named on {c.missing_sightings}" if c.missing_sightings else ""
            out.append(f"  {c.name}: expected {'/'.join(c.expected_decisions)}, got {c.decision}{extra}"
                       + (f" ({c.error})" if c.error else ""))
    out.append(f"false approves: {len(report.false_approves)}"
               + (" — " + ", ".join(report.false_approves) if report.false_approves else ""))
    out.append(f"doc-type accuracy {report.doc_type_accuracy:.1%}, field accuracy {report.field_accuracy:.1%}, "
               f"decision accuracy {report.decision_accuracy:.1%}, reason recall {report.reason_recall:.1%}, "
               f"flag recall {report.flag_recall:.1%}, video sighting recall {report.sighting_recall:.1%}, "
               f"{report.seconds_per_submission:.2f} s per submission over {len(report.cases)} submissions")
    return "\n".join(out)


def write_report(report: Report, path: Path) -> None:
    path.write_text(json.dumps(report.model_dump(mode="json"), ensure_ascii=False, indent=2), encoding="utf-8")
