"""`zizhi replay`: scoring logic without OCR, and the accuracy floors over the fixture set."""

from __future__ import annotations

import datetime as dt

import pytest

from devtools.replay import Expected, Floors, check_floors, load_floors, render, replay, score_case, summarise
from pipeline.models import DocumentResult, FieldValue, Reason, Verdict
from tests.conftest import FIXTURES, SUBMISSIONS

TRUTH = Expected.model_validate({
    "check_date": "2026-11-27", "decisions": ["reject", "review"], "reason_codes": ["HOLDER_MISMATCH"],
    "documents": {"docs/bl.jpg": {"doc_type": "business_licence",
                                  "fields": {"holder_name": "甲公司", "credit_code": "X"}}}})


def _verdict(decision, codes, holder="甲公司", doc_type="business_licence"):
    doc = DocumentResult(file="docs/bl.jpg", doc_type=doc_type, doc_type_confidence=0.9, pages=1,
                         fields={"holder_name": FieldValue(value=holder, confidence=0.9, page=1)})
    return Verdict(submission_id="S", decision=decision, checked_on=dt.date(2026, 11, 27),
                   reasons=[Reason(code=c, message=c) for c in codes], documents=[doc])


def test_score_counts_fields_types_decisions_and_reasons():
    case = score_case("c", TRUTH, _verdict("review", ["HOLDER_MISMATCH"]), 1.0, None)
    assert case.decision_ok and not case.false_approve and case.missing_reasons == []
    assert ("holder_name", "甲公司", "甲公司", True) in case.fields
    assert ("credit_code", "X", None, False) in case.fields  # not read counts as wrong
    assert case.doc_types == [("business_licence", "business_licence")]


def test_false_approve_and_missing_reason_are_caught():
    case = score_case("bad", TRUTH, _verdict("approve", [], holder="乙公司"), 1.0, None)
    assert case.false_approve and not case.decision_ok and case.missing_reasons == ["HOLDER_MISMATCH"]
    report = summarise([case])
    assert report.false_approves == ["bad"] and report.field_accuracy == 0.0 and report.reason_recall == 0.0
    floors = Floors(doc_type_accuracy=0, field_accuracy=0, decision_accuracy=0, reason_recall=0,
                    max_false_approves=0)
    assert any("false approve" in f for f in check_floors(report, floors))
    assert "false approves: 1 — bad" in render(report)


def test_floors_file_is_valid_and_strict_about_false_approves():
    floors = load_floors(FIXTURES / "floors.yaml")
    assert floors.max_false_approves == 0


def test_unusable_expected_file_is_a_failed_case_not_a_crash(tmp_path):
    case_dir = tmp_path / "broken"
    case_dir.mkdir()
    (case_dir / "submission.json").write_text("{}", encoding="utf-8")
    (case_dir / "expected.json").write_text('{"decisions": []}', encoding="utf-8")
    report = replay(tmp_path, engine=object())
    assert report.cases[0].error.startswith("expected.json unusable")
    assert report.decision_accuracy == 0.0


@pytest.mark.ocr
def test_fixture_replay_meets_the_floors(engine):
    """The CI accuracy gate: every fixture submission, the real engine, the committed floors."""
    report = replay(SUBMISSIONS, engine=engine)
    print(render(report))
    assert len(report.cases) >= 20
    failures = check_floors(report, load_floors(FIXTURES / "floors.yaml"))
    assert failures == [], "\n".join(failures)
    # Beyond the averages: on every licence that should approve, the two values the entity
    # rule rests on are read exactly.
    for case in report.cases:
        if "approve" in case.expected_decisions:
            for name, expected, got, ok in case.fields:
                if name in ("holder_name", "credit_code"):
                    assert ok, f"{case.name}: {name} expected {expected}, read {got}"


def test_a_planted_video_must_be_named_with_a_second_it_is_on_screen():
    truth = Expected.model_validate({
        "check_date": "2026-11-27", "decisions": ["reject", "review"], "reason_codes": ["PROHIBITED_CONTENT"],
        "videos": {"media/d.mp4": {"planted": ["phone"], "shown": [[2.0, 4.0]]}}})

    def verdict(message, document="media/d.mp4"):
        return Verdict(submission_id="S", decision="reject", checked_on=dt.date(2026, 11, 27),
                       reasons=[Reason(code="PROHIBITED_CONTENT", document=document, message=message)])

    assert score_case("in", truth, verdict("product video shows phone 138… at 3.0 s"), 1, None).missing_sightings == []
    for wrong in (verdict("product video shows phone 138… at 5.0 s"), verdict("shows a phone"),
                  verdict("product video shows phone 138… at 3.0 s", document="media/other.mp4")):
        case = score_case("off", truth, wrong, 1, None)
        assert case.missing_sightings == ["media/d.mp4"] and case.missing_reasons == []
        assert summarise([case]).sighting_recall == 0.0
        assert any("sighting_recall" in f for f in check_floors(summarise([case]), load_floors(FIXTURES / "floors.yaml")))
