"""The committed fixture set (fixtures/submissions) is well-formed, covers the spec, and matches its generator."""

from __future__ import annotations

import datetime as dt
import json
import re
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from stdnum.cn import ric, uscc
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
# Closing a category is an operator decision (rules data); with the default rules every category is
# open, so no fixture can expect CATEGORY_NOT_ALLOWED (see fixtures/README.md).
OPERATOR_ONLY_CODES = {"CATEGORY_NOT_ALLOWED"}
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
# SPEC §3: the fields each type can carry (holder_name for all of them)
SPEC_FIELDS = {
    "business_licence": {"credit_code", "licence_number", "legal_representative", "established", "valid_from",
                         "valid_until", "scope", "address"},
    "id_card": {"licence_number", "valid_from", "valid_until"},
    "food_business_licence": {"credit_code", "licence_number", "legal_representative", "scope", "valid_until"},
    "food_production_licence": {"credit_code", "licence_number", "scope", "valid_until"},
    "inspection_report": {"product_name", "issue_date"},
    "cosmetics_production_licence": {"credit_code", "licence_number", "valid_until"},
    "cosmetics_filing": {"licence_number", "product_name"},
    "medical_device_business_licence": {"credit_code", "licence_number", "valid_until"},
    "medical_device_registration": {"licence_number", "product_name", "valid_until"},
    "tobacco_retail_licence": {"licence_number", "valid_until"},
    "publication_business_licence": {"licence_number", "valid_until"},
    "trademark_certificate": {"licence_number", "brand", "trademark_class", "valid_from", "valid_until"},
    "brand_authorization": {"grantor", "brand", "valid_from", "valid_until"},
    "health_food_approval": {"licence_number", "product_name"},
    "infant_formula_registration": {"licence_number", "product_name"},
    "pesticide_registration": {"licence_number", "product_name", "valid_until"},
    "pesticide_business_licence": {"licence_number", "valid_until"},
    "veterinary_drug_approval": {"licence_number", "product_name", "valid_until"},
    "veterinary_drug_business_licence": {"licence_number", "valid_until"},
}
DOC_TYPES = set(SPEC_FIELDS)
CJK = "\u4e00-\u9fff"
# licence_number structures (verdict form: brackets as ASCII), SPEC §3
NUMBER_PATTERNS = {
    "food_business_licence": r"JY\d{14}",
    "food_production_licence": r"SC\d{14}",
    "cosmetics_production_licence": rf"[{CJK}]妆\d{{8}}",
    # 进口 filings: 国妆网备进字(省)YYYYNNNNNN; domestic ones: 省 + G (国产) + 妆网备字YYYYNNNNNN
    "cosmetics_filing": rf"国妆网备进字\([{CJK}]\)\d{{10}}|[{CJK}]G妆网备字\d{{10}}|国妆特注?字G\d{{8}}",
    "medical_device_business_licence": rf"[{CJK}]{{2,}}械经营[许备]\d{{8}}号",
    # year (4) + management class (1) + catalogue code (2) + serial (4); class-I filings: …械备YYYYNNNN号
    "medical_device_registration": rf"[{CJK}]械注[准进许](19|20)\d{{2}}[123]\d{{2}}\d{{4}}|[{CJK}]{{2}}械备\d{{8}}号",
    "tobacco_retail_licence": r"\d{12}",
    "publication_business_licence": rf"新出发[{CJK}]+字第[{CJK}]?\d+号",
    # a split registration keeps its number with a letter suffix (12345678A)
    "trademark_certificate": r"\d{7,8}[A-Z]?",
    # 国食健注 numbers exist since the 2016 registration regime (before: 国食健字), 食健备 since 2017
    "health_food_approval": r"国食健注[GJ]20(1[6-9]|[2-9]\d)\d{4}|食健备[GJ]20(1[7-9]|[2-9]\d)\d{8}",
    "infant_formula_registration": r"国食注字YP\d{8}",
    "pesticide_registration": r"(PD|WP|LS)\d{8}",
    "pesticide_business_licence": rf"农药经许\([{CJK}]\)\d{{6}}(19|20)\d{{2}}\d{{4}}",
    "veterinary_drug_approval": r"兽药字\((19|20)\d{2}\)\d{9}",
    "veterinary_drug_business_licence": r"\((19|20)\d{2}\)兽药经营证字\d{9}号",
}
CAPTURES = {"scan", "photo", "photocopy", "pdf", "scan_lowres", "digital", "screen", "screenshot"}
DOC_EXTS = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".pdf"}
VIDEO_EXTS = {".mp4", ".mov", ".webm"}
VIDEO_PLANTED = {"phone", "wechat", "qr_code"}
BL_FIELDS = {"holder_name", "legal_representative", "established", "address", "scope"}
DATE_FIELDS = {"established", "valid_from", "valid_until", "issue_date"}
PLANTED = {
    "general-credit-code-bad-check": "credit_code",
    "food-licence-number-13-digits": "licence_number",
    "medical_device-registration-bad-number": "licence_number",
}

FOLDERS = sorted(p for p in SUBMISSIONS.iterdir() if p.is_dir()) if SUBMISSIONS.exists() else []
IDS = [p.name for p in FOLDERS]


def _load(path: Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _norm(name: str) -> str:
    return name.replace("（", "(").replace("）", ")").replace(" ", "")


def _cases() -> list[tuple[str, dict, dict]]:
    return [(f.name, _load(f / "submission.json"), _load(f / "expected.json")) for f in FOLDERS]


def test_fixture_set_present():
    names = set(IDS)
    assert "demo" in names
    assert 50 <= len(names) <= 110
    for n in names - {"demo"}:
        category = n.split("-", 1)[0]
        assert category in CATEGORIES, f"{n}: folder names start with the category"


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_submission_json_matches_spec(folder: Path):
    sub = _load(folder / "submission.json")
    assert isinstance(sub["id"], str) and sub["id"]
    assert isinstance(sub["shop"]["company"], str) and sub["shop"]["company"]
    assert sub["product"]["category"] in CATEGORIES
    assert folder.name == "demo" or folder.name.startswith(sub["product"]["category"] + "-")
    brand = sub["product"].get("brand")
    assert brand is None or (isinstance(brand, str) and brand)
    if "credit_code" in sub["shop"]:
        assert uscc.is_valid(sub["shop"]["credit_code"])
    docs = sub["documents"]
    assert isinstance(docs, list) and docs
    videos = list(sub["product"].get("videos", []))
    paths = [d["file"] for d in docs] + list(sub["product"].get("images", [])) + videos
    assert len(paths) == len(set(paths))
    for d in docs:
        assert set(d) <= {"file", "declared_type"}
        if "declared_type" in d:
            assert d["declared_type"] in DOC_TYPES
    for rel_s in paths:
        rel = Path(rel_s)
        assert not rel.is_absolute() and ".." not in rel.parts
        p = (folder / rel).resolve()
        assert folder.resolve() in p.parents, f"{rel} leaves the submission folder"
        assert p.is_file(), f"{rel} missing"
        assert p.suffix.lower() in (VIDEO_EXTS if rel_s in videos else DOC_EXTS)
        assert p.stat().st_size <= (100_000 if rel_s in videos else 600_000)


def test_submission_ids_unique():
    ids = [_load(f / "submission.json")["id"] for f in FOLDERS]
    assert len(ids) == len(set(ids))


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_expected_json_schema(folder: Path):
    exp = _load(folder / "expected.json")
    sub = _load(folder / "submission.json")
    assert set(exp) >= {"check_date", "decisions", "reason_codes", "documents", "note"}
    assert set(exp) <= {"check_date", "decisions", "reason_codes", "documents", "note", "images", "videos", "text"}
    assert exp["check_date"] == "2026-11-27"
    assert exp["decisions"] and set(exp["decisions"]) <= DECISIONS
    assert len(exp["decisions"]) == len(set(exp["decisions"]))
    assert set(exp["reason_codes"]) <= REASON_CODES
    if exp["decisions"] == ["approve"] or "approve" in exp["decisions"]:
        assert exp["reason_codes"] == [], "a case that may approve cannot require a reason"
    assert isinstance(exp["note"], str) and exp["note"]
    assert set(exp["documents"]) == {d["file"] for d in sub["documents"]}
    assert set(exp.get("images", {})) == set(sub["product"].get("images", []))
    for planted in exp.get("images", {}).values():
        assert set(planted) == {"planted"}
    assert set(exp.get("videos", {})) == set(sub["product"].get("videos", []))
    for video in exp.get("videos", {}).values():
        assert set(video) <= {"planted", "shown", "corrupt"} and set(video["planted"]) <= VIDEO_PLANTED
        assert all(0 <= lo < hi for lo, hi in video["shown"])
        assert bool(video["planted"]) == bool(video["shown"]), "a planted video says when it is on screen"
    for field_name, planted in exp.get("text", {}).items():
        assert field_name in ("product.title", "product.description") and sub["product"].get(field_name[8:])
        assert set(planted) == {"planted"} and planted["planted"]
    for doc in exp["documents"].values():
        assert {"doc_type", "capture", "fields"} <= set(doc)
        assert doc["capture"] in CAPTURES
        t = doc["doc_type"]
        assert t is None or t in DOC_TYPES
        f = doc["fields"]
        assert all(isinstance(v, str) and v for v in f.values())
        if t is None:
            assert f == {}
            continue
        assert set(f) <= SPEC_FIELDS[t] | {"holder_name"}, f"{t}: fields beyond SPEC §3: {set(f) - SPEC_FIELDS[t]}"
        assert "holder_name" in f
        for name, value in f.items():
            if name in DATE_FIELDS and value != "long_term":
                dt.date.fromisoformat(value)
        if "valid_from" in f and f.get("valid_until", "long_term") != "long_term":
            assert f["valid_from"] <= f["valid_until"]
        if t == "business_licence":
            assert BL_FIELDS <= set(f)
            assert ("credit_code" in f) != ("licence_number" in f)
        if t == "trademark_certificate":
            assert 1 <= int(f["trademark_class"]) <= 45 and f["trademark_class"] == str(int(f["trademark_class"]))


def _number_ok(doc_type: str, field: str, value: str) -> bool:
    if field == "credit_code":
        return uscc.is_valid(value)
    if doc_type == "business_licence":
        return len(value) == 15 and mod_11_10.is_valid(value)
    if doc_type == "id_card":
        return ric.is_valid(value)
    return re.fullmatch(NUMBER_PATTERNS[doc_type], value) is not None


@pytest.mark.parametrize("folder", FOLDERS, ids=IDS)
def test_ground_truth_numbers_valid(folder: Path):
    """Every credit code / licence number in ground truth is valid unless the case plants a bad one."""
    exp = _load(folder / "expected.json")
    for doc in exp["documents"].values():
        planted = set(doc.get("planted_invalid", []))
        for field in ("credit_code", "licence_number"):
            if field in doc["fields"]:
                value = doc["fields"][field]
                assert _number_ok(doc["doc_type"], field, value) != (field in planted), (doc["doc_type"], value)
                assert "（" not in value and "）" not in value, "licence numbers use ASCII brackets"


def test_planted_invalid_cases():
    found = {}
    for name, _, exp in _cases():
        for doc in exp["documents"].values():
            for field in doc.get("planted_invalid", []):
                found[name] = field
    assert found == PLANTED
    for name in PLANTED:
        assert "INVALID_NUMBER" in _load(SUBMISSIONS / name / "expected.json")["reason_codes"]


def test_every_category_and_reason_code_covered_twice():
    categories = Counter(sub["product"]["category"] for _, sub, _ in _cases())
    assert set(categories) == CATEGORIES
    assert all(n >= 2 for n in categories.values()), categories
    codes = Counter(code for _, _, exp in _cases() for code in set(exp["reason_codes"]))
    for code in REASON_CODES - OPERATOR_ONLY_CODES:
        assert codes[code] >= 2, f"{code} is planted in {codes[code]} case(s)"
    assert not set(codes) & OPERATOR_ONLY_CODES
    approving = {sub["product"]["category"] for _, sub, exp in _cases() if exp["decisions"] == ["approve"]}
    assert approving == CATEGORIES, "every category has a clean case that must approve"


def test_every_document_type_rendered():
    types = {doc["doc_type"] for _, _, exp in _cases() for doc in exp["documents"].values()}
    assert types == DOC_TYPES | {None}


def _chain_ok(shop: str, brand: str, docs: list[dict], check: dt.date) -> bool:
    """SPEC rule 6 on ground truth: registrant → (≤ 2 letters) → shop, periods nested, ≥ 60 days left."""
    tms = [d["fields"] for d in docs if d["doc_type"] == "trademark_certificate"]
    letters = [d["fields"] for d in docs if d["doc_type"] == "brand_authorization"]
    if len(tms) != 1 or tms[0]["brand"] != brand:
        return False
    tm = tms[0]
    holder, lo, hi = _norm(tm["holder_name"]), tm["valid_from"], tm["valid_until"]
    for _ in range(3):
        if holder == _norm(shop):
            return not letters
        nxt = [x for x in letters if _norm(x["grantor"]) == holder]
        if len(nxt) != 1:
            return False
        x = nxt[0]
        letters.remove(x)
        if x["brand"] != brand or not (lo <= x["valid_from"] <= x["valid_until"] <= hi):
            return False
        if dt.date.fromisoformat(x["valid_until"]) < check + dt.timedelta(days=60):
            return False
        holder, lo, hi = _norm(x["holder_name"]), x["valid_from"], x["valid_until"]
    return False


def test_approving_cases_are_consistent():
    """A case that must approve has every rule hold on its ground truth (so the truth itself is right)."""
    for name, sub, exp in _cases():
        if exp["decisions"] != ["approve"]:
            continue
        check = dt.date.fromisoformat(exp["check_date"])
        docs = list(exp["documents"].values())
        types = [d["doc_type"] for d in docs]
        assert None not in types, name
        assert "business_licence" in types, name
        assert not any(d.get("planted_invalid") for d in docs), name
        for d in docs:
            until = d["fields"].get("valid_until")
            if until and until != "long_term":
                assert dt.date.fromisoformat(until) > check + dt.timedelta(days=30), (name, d["doc_type"])
            if d["doc_type"] in {"business_licence", "food_business_licence", "food_production_licence",
                                 "cosmetics_production_licence", "medical_device_business_licence",
                                 "tobacco_retail_licence", "publication_business_licence",
                                 "pesticide_business_licence", "veterinary_drug_business_licence"}:
                assert _norm(d["fields"]["holder_name"]) == _norm(sub["shop"]["company"]), name
                if "credit_code" in d["fields"] and "credit_code" in sub["shop"]:
                    assert d["fields"]["credit_code"] == sub["shop"]["credit_code"], name
        brand = sub["product"].get("brand")
        if brand:
            assert _chain_ok(sub["shop"]["company"], brand, docs, check), name
        for rel in exp.get("images", {}):
            assert exp["images"][rel]["planted"] == [], name
        for rel, video in exp.get("videos", {}).items():
            assert video["planted"] == [] and not video.get("corrupt"), (name, rel)
        assert not exp.get("text"), name


def test_fixture_size_budget():
    """Committed fixtures stay small: du -sh fixtures under 21 MB (files + filesystem blocks)."""
    total = sum(p.stat().st_size for p in (ROOT / "fixtures").rglob("*") if p.is_file())
    assert total < 19.5 * 1024 * 1024


def test_generator_check_reports_no_differences():
    """Regenerating the set gives the committed files (byte-identical on the machine that wrote them; on
    another CPU, images whose pixels agree within the generator's tolerance)."""
    r = subprocess.run(
        [sys.executable, "-m", "fixtures.generator", "--check"],
        check=False,
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
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


def _render_page():
    import cv2
    import numpy as np

    page = np.full((400, 600, 3), 245, np.uint8)
    for row in range(6):
        cv2.putText(page, f"91510107MA59G2WX0{row}", (40, 60 + 55 * row), cv2.FONT_HERSHEY_SIMPLEX, 1.0,
                    (30, 30, 30), 2)
    cv2.circle(page, (480, 300), 70, (40, 40, 200), 3)
    return page


@pytest.mark.parametrize("suffix", [".webp", ".jpg"])
def test_lossy_fixtures_compare_by_picture_not_by_bytes(tmp_path, suffix):
    """The CPU-independent check (issue 21): a lossy file encoded with other rounding is the same
    picture; one extra small digit, or the page moved by a pixel, is not."""
    import cv2
    import numpy as np

    from fixtures.generator.__main__ import same_pixels

    page = _render_page()
    flag = cv2.IMWRITE_WEBP_QUALITY if suffix == ".webp" else cv2.IMWRITE_JPEG_QUALITY
    ref = tmp_path / f"ref{suffix}"
    cv2.imwrite(str(ref), page, [flag, 90])
    # the same picture through the codec with other rounding (another quality setting)
    other = tmp_path / f"other{suffix}"
    cv2.imwrite(str(other), page, [flag, 88])
    assert ref.read_bytes() != other.read_bytes()
    assert same_pixels(ref, other)
    changed = page.copy()
    cv2.putText(changed, "1", (520, 380), cv2.FONT_HERSHEY_SIMPLEX, 0.6, (0, 0, 0), 1)
    edited = tmp_path / f"edited{suffix}"
    cv2.imwrite(str(edited), changed, [flag, 90])
    assert not same_pixels(ref, edited)
    shifted = tmp_path / f"shifted{suffix}"
    cv2.imwrite(str(shifted), np.roll(page, 1, axis=1), [flag, 90])
    assert not same_pixels(ref, shifted)


def test_exact_check_needs_check():
    r = subprocess.run([sys.executable, "-m", "fixtures.generator", "--exact", "--out", "/tmp/x"], check=False,
                       cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert r.returncode == 2 and "--exact works with --check only" in r.stderr
