"""The committed fixture set (fixtures/submissions) is well-formed and matches its generator."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import pytest
from stdnum.cn import uscc
from stdnum.iso7064 import mod_11_10

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "fixtures" / "submissions"
DECISIONS = {"approve", "reject", "review"}
REASON_CODES = {
    "MISSING_DOCUMENT",
    "UNREADABLE",
    "EXPIRED",
    "HOLDER_MISMATCH",
    "CREDIT_CODE_MISMATCH",
    "PRODUCT_MISMATCH",
    "BRAND_MISMATCH",
    "AUTHORIZATION_CHAIN_BROKEN",
    "INVALID_NUMBER",
    "WRONG_DOCUMENT_TYPE",
    "UNCLASSIFIED",
    "LOW_CONFIDENCE",
    "AUTHENTICITY_FLAG",
    "CATEGORY_NOT_ALLOWED",
    "PROHIBITED_CONTENT",
}
CATEGORIES = {
    "general",
    "food",
    "health_food",
    "infant_formula",
    "cosmetics",
    "medical_device",
    "e_cigarette",
    "books",
    "pesticide",
    "veterinary_drug",
}
DOC_EXTS = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".pdf"}
BL_FIELDS = {"holder_name", "legal_representative", "established", "address", "scope"}
DATE_FIELDS = {"established", "valid_from", "valid_until", "issue_date"}

FOLDERS = sorted(p for p in SUBMISSIONS.iterdir() if p.is_dir()) if SUBMISSIONS.exists() else []
IDS = [p.name for p in FOLDERS]


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def test_fixture_set_present():
    names = set(IDS)
    assert "demo" in names
    assert len(names) >= 15
    assert all(n == "demo" or n.startswith("general-") for n in names)


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_submission_json_matches_spec(folder: Path):
    sub = _load(folder / "submission.json")
    assert isinstance(sub["id"], str) and sub["id"]
    assert isinstance(sub["shop"]["company"], str) and sub["shop"]["company"]
    assert sub["product"]["category"] in CATEGORIES
    if "credit_code" in sub["shop"]:
        assert uscc.is_valid(sub["shop"]["credit_code"])
    docs = sub["documents"]
    assert isinstance(docs, list) and docs
    for d in docs:
        rel = Path(d["file"])
        assert not rel.is_absolute() and ".." not in rel.parts
        p = (folder / rel).resolve()
        assert folder.resolve() in p.parents, f"{rel} leaves the submission folder"
        assert p.is_file(), f"{rel} missing"
        assert p.suffix.lower() in DOC_EXTS
        assert p.stat().st_size <= 600_000


def test_submission_ids_unique():
    ids = [_load(f / "submission.json")["id"] for f in FOLDERS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_expected_json_schema(folder: Path):
    exp = _load(folder / "expected.json")
    sub = _load(folder / "submission.json")
    assert set(exp) >= {"check_date", "decisions", "reason_codes", "documents", "note"}
    dt.date.fromisoformat(exp["check_date"])
    assert exp["decisions"] and set(exp["decisions"]) <= DECISIONS
    assert set(exp["reason_codes"]) <= REASON_CODES
    if exp["decisions"] == ["approve"]:
        assert exp["reason_codes"] == []
    assert isinstance(exp["note"], str) and exp["note"]
    files = {d["file"] for d in sub["documents"]}
    assert set(exp["documents"]) == files
    for doc in exp["documents"].values():
        assert {"doc_type", "capture", "fields"} <= set(doc)
        for name, value in doc["fields"].items():
            if name in DATE_FIELDS and value != "long_term":
                dt.date.fromisoformat(value)
        if doc["doc_type"] == "business_licence":
            f = doc["fields"]
            assert BL_FIELDS <= set(f)
            assert ("credit_code" in f) != ("licence_number" in f)
            if "valid_until" in f:
                assert f["valid_until"] == "long_term" or dt.date.fromisoformat(f["valid_until"])


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_ground_truth_numbers_valid(folder: Path):
    """Every credit code / 注册号 in ground truth is valid unless the case plants a bad one."""
    exp = _load(folder / "expected.json")
    for doc in exp["documents"].values():
        planted = set(doc.get("planted_invalid", []))
        f = doc["fields"]
        if "credit_code" in f:
            assert uscc.is_valid(f["credit_code"]) != ("credit_code" in planted), f["credit_code"]
        if doc["doc_type"] == "business_licence" and "licence_number" in f:
            assert len(f["licence_number"]) == 15 and mod_11_10.is_valid(f["licence_number"])


def test_planted_invalid_case_exists():
    planted = [
        f.name
        for f in FOLDERS
        if any(d.get("planted_invalid") for d in _load(f / "expected.json")["documents"].values())
    ]
    assert planted == ["general-credit-code-bad-check"]


def test_fixture_size_budget():
    total = sum(p.stat().st_size for p in (ROOT / "fixtures").rglob("*") if p.is_file())
    assert total < 20 * 1024 * 1024


def test_generator_check_reports_no_differences():
    """Regenerating the set gives byte-identical files (the generator is deterministic)."""
    r = subprocess.run(
        [sys.executable, "-m", "fixtures.generator", "--check"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert r.returncode == 0, r.stderr


def test_generator_refuses_without_write_flag():
    r = subprocess.run(
        [sys.executable, "-m", "fixtures.generator"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert r.returncode == 2


def test_check_compare_reports_every_kind_of_difference(tmp_path: Path):
    from fixtures.generator.__main__ import compare

    fresh, committed = tmp_path / "fresh", tmp_path / "committed"
    for root in (fresh, committed):
        (root / "a").mkdir(parents=True)
        (root / "a" / "same.json").write_text("{}")
    (fresh / "a" / "changed.jpg").write_bytes(b"1")
    (committed / "a" / "changed.jpg").write_bytes(b"2")
    (fresh / "a" / "new.json").write_text("{}")
    (committed / "a" / "stale.json").write_text("{}")
    assert compare(fresh, committed) == [
        "missing (not committed): a/new.json",
        "extra (not generated): a/stale.json",
        "differs: a/changed.jpg",
    ]
