"""`zizhi replay --real`: real uploads (../shared/samples/real, never copied here) against their
truth, with the floors in fixtures/floors-real.yaml. The scoring logic is tested without OCR."""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

import pytest

from devtools.replay_real import (
    RealCase,
    TruthDocument,
    approve_allowed,
    capture_kinds,
    check_real_floors,
    load_real_floors,
    load_truth,
    render_real,
    replay_real,
    summarise_real,
)
from rules import load_rules
from tests.conftest import FIXTURES, ROOT

REAL = Path(os.environ.get("ZIZHI_REAL_SAMPLES", ROOT.parent / "shared" / "samples" / "real"))
CHECK_DATE = dt.date(2026, 11, 30)
RULES = load_rules()


def test_floors_file_is_valid_and_strict_about_false_approves():
    floors = load_real_floors(FIXTURES / "floors-real.yaml")
    assert floors.max_false_approves == 0 and floors.field_accuracy >= 0.8
    assert {"1-2", "3"} <= set(floors.batches), "every batch beside the checkout has its own floors"


@pytest.mark.parametrize(("truth", "allowed"), [
    ({"doc_type": "business_licence", "fields": {"holder_name": "甲有限公司", "credit_code": "X"}}, True),
    ({"doc_type": "business_licence", "fields": {"credit_code": "X"}}, False),  # holder unreadable by eye
    ({"doc_type": "business_licence", "fields": {"holder_name": "甲", "credit_code": "X",
                                                  "valid_until": "2021-01-01"}}, False),  # expired
    ({"doc_type": "other", "fields": {"holder_name": "甲", "credit_code": "X"}}, False),
    ({"doc_type": "food_business_licence", "fields": {"holder_name": "甲", "licence_number": "JY1"}}, True),
])
def test_when_an_approve_is_allowed(truth, allowed):
    assert approve_allowed(TruthDocument(file="f.jpg", **truth), CHECK_DATE, RULES) is allowed


def test_summary_counts_false_approves_and_clean_licences():
    cases = [
        RealCase(file="a.jpg", has_truth=True, seconds=1, expected_doc_type="business_licence",
                 doc_type="business_licence", fields=[("holder_name", "甲", "甲", True)], decision_own="approve",
                 decision_other="reject", approve_allowed=True),
        RealCase(file="b.jpg", has_truth=True, seconds=1, expected_doc_type="business_licence",
                 doc_type="business_licence", fields=[("holder_name", "乙", None, False)], decision_own="review",
                 decision_other="approve", approve_allowed=True, false_approves=["other company"]),
    ]
    report = summarise_real(cases, CHECK_DATE)
    assert report.field_accuracy == 0.5 and report.clean_business_licences == 2
    assert report.clean_business_licences_approved == 1 and report.false_approves == ["b.jpg (other company)"]
    assert any("false approve" in f for f in check_real_floors(report, load_real_floors(FIXTURES / "floors-real.yaml")))
    assert "b.jpg: holder_name expected '乙', read None" in render_real(report)


def test_batches_are_scored_apart_and_a_reject_of_an_in_force_document_is_false():
    cases = [
        RealCase(file="a.jpg", has_truth=True, seconds=1, expected_doc_type="business_licence", batch="1-2",
                 doc_type="business_licence", fields=[("credit_code", "X", "X", True)], decision_own="approve",
                 decision_other="reject", approve_allowed=True, in_force=True, capture=["scan"]),
        RealCase(file="b.jpg", has_truth=True, seconds=1, expected_doc_type="business_licence", batch="3",
                 doc_type="business_licence", fields=[("credit_code", "Y", "Z", False)], decision_own="reject",
                 reasons_own=["INVALID_NUMBER"], decision_other="reject", approve_allowed=True, in_force=True,
                 capture=["photo", "low resolution"]),
        RealCase(file="c.jpg", has_truth=True, seconds=1, expected_doc_type="business_licence", batch="3",
                 doc_type="business_licence", decision_own="reject", reasons_own=["EXPIRED"],
                 decision_other="reject", approve_allowed=False, in_force=False, capture=["photo"]),
    ]
    report = summarise_real(cases, CHECK_DATE)
    assert report.false_rejects == ["b.jpg (INVALID_NUMBER)"]  # c.jpg has expired: its reject is right
    assert report.per_batch["1-2"].credit_code_accuracy == 1.0 and report.per_batch["3"].credit_code_accuracy == 0.0
    assert report.per_batch["3"].clean_licences_approved == 0.0 and report.per_capture["photo"].documents == 2
    floors = load_real_floors(FIXTURES / "floors-real.yaml").model_copy(update={"max_false_rejects": 0})
    failures = check_real_floors(report, floors)
    assert any("false reject" in f for f in failures)
    assert any(f.startswith("real samples, batch 3: credit_code_accuracy") for f in failures)
    assert "batch 3" in render_real(report) and "false rejects: 1" in render_real(report)


@pytest.mark.parametrize(("file", "capture", "kinds"), [
    ("business_licence_05_photo_rot90.jpg", None, {"photo", "rotated"}),
    ("x.jpg", "scan, stored rotated 90° (EXIF orientation 8), low resolution (596x421)", {"scan", "rotated", "low resolution"}),
    ("y.jpg", "screenshot, upright, phone gallery view", {"screenshot"}),
    ("z.pdf", None, {"pdf"}),
])
def test_capture_kinds_come_from_the_description_or_the_name(file, capture, kinds):
    truth = TruthDocument(file=file, doc_type="business_licence", capture=capture) if capture else None
    assert set(capture_kinds(file, truth)) == kinds


def test_unusable_truth_file_is_one_clear_error(tmp_path):
    (tmp_path / "truth.json").write_text("[{\"file\": 3}]", encoding="utf-8")
    with pytest.raises(ValueError, match="unusable truth file"):
        load_truth(tmp_path)


@pytest.mark.ocr
def test_real_sample_replay_meets_the_floors(engine):
    """The CI accuracy gate on real uploads. The samples are evaluation data that may not be
    redistributed: they are read where they lie, beside the checkout, and never copied."""
    if not (REAL / "truth.json").is_file():
        pytest.skip(f"no real samples at {REAL} (set ZIZHI_REAL_SAMPLES): the real-sample floors were not checked")
    report = replay_real(REAL, check_date=CHECK_DATE, engine=engine)
    print(render_real(report))
    failures = check_real_floors(report, load_real_floors(FIXTURES / "floors-real.yaml"))
    assert not failures, "\n".join(failures)
