"""Rule 8 capture flags measured: per-flag precision and recall on the fixtures, false-flag rate
on real samples.

    .venv/bin/python -m benchmarks.bench_flags [--fixtures fixtures/submissions]
        [--real ../shared/samples/real] [--cache build/flag-cache] [--json out.json]

Fixtures: every submission is verified as `zizhi replay` does; a document's truth is its
expected.json `flags` (documents without the key are clean captures: none of the issue-12 flags
is expected; `photocopy`/`screen_recapture` are expected where the capture says so). Real samples
(read in place, never copied): each file is read and interpreted alone; `REAL_NOT_CLEAN` names,
per flag, the files on which that flag is legitimate (a finger in the photo, a screenshot, a
specimen…); every other file is a clean sample for that flag and any firing is a false flag.

OCR readings are cached (pickled `DocumentReading`, keyed by path, size and mtime) so thresholds
can be re-tuned without re-reading; the pixel measurements are always redone from the image.
"""

from __future__ import annotations

import argparse
import datetime as dt
import hashlib
import json
import pickle
from collections import defaultdict
from pathlib import Path

from devtools.replay import Expected, check_floors, load_floors, render, score_case, summarise
from pipeline.capture_flags import measure_page
from pipeline.document import DocumentReading, interpret_document, read_document
from pipeline.ingest import load_document, load_submission
from pipeline.models import DocumentRef
from pipeline.ocr.base import get_engine
from pipeline.runner import assemble_verdict
from pipeline.seals import read_seals, reread_under_seals
from pipeline.settings import get_settings
from rules import load_rules

FLAGS = ("border_incomplete", "occluded", "specimen", "glare", "screenshot", "photocopy", "screen_recapture")
KINDS = ("screenshot", "glare", "electronic_licence")
ROOT = Path(__file__).resolve().parents[1]

# Real samples on which a flag is legitimate (judged by eye; see SOURCES.md beside them).
REAL_NOT_CLEAN: dict[str, set[str]] = {
    "business_licence_08_handheld_photo.jpg": {"occluded", "border_incomplete", "glare"},  # fingers over the frame
    "business_licence_15_person_holding.jpg": {"occluded", "border_incomplete", "glare"},  # held up by a person
    "food_operation_licence_02_photo_skewed.jpg": {"occluded", "border_incomplete"},  # a finger over the page
    "other_drug_business_licence_01_partial.jpg": {"border_incomplete", "glare"},  # cut off, through glass
    "other_industry_comprehensive_permit_01.jpg": {"occluded", "glare", "border_incomplete"},  # framed, held
    "business_licence_14_phone_app_screenshot.jpg": {"screenshot", "border_incomplete"},
    "business_licence_25_eprint_app_rot90.jpg": {"screenshot", "border_incomplete"},
    "food_operation_licence_05_registry_screenshot.jpg": {"screenshot"},
    "business_licence_specimen_01.png": {"specimen"},
    "business_licence_specimen_02.jpg": {"specimen"},
    "id_card_specimen_01_rot180.jpg": {"specimen"},
    "business_licence_32_sample_blurred.png": {"specimen"},  # an onboarding sample
    "food_operation_licence_07_sample_blurred.png": {"specimen"},
    "business_licence_05_photo_rot90.jpg": {"photocopy"},  # photo of a photocopy
    "business_licence_21_branch_blank_term.jpg": {"photocopy"},  # photo of a photocopy
    "brand_authorization_01_letter_lowres.jpg": {"photocopy"},
}
REAL_KINDS: dict[str, set[str]] = {
    "business_licence_16_eprint_rot90.jpg": {"electronic_licence"},
    "business_licence_17_eprint.png": {"electronic_licence"},
    "business_licence_29_sole_proprietorship_eprint.jpg": {"electronic_licence"},
    "business_licence_25_eprint_app_rot90.jpg": {"electronic_licence", "screenshot"},
    "business_licence_14_phone_app_screenshot.jpg": {"screenshot"},
    "food_operation_licence_05_registry_screenshot.jpg": {"screenshot"},
}


def flags_of(result) -> set[str]:
    q = result.quality
    if q is None:
        return set()
    found = {e.flag for e in q.evidence}
    for line in q.flags:  # the two older flags carry no evidence entry
        if line.startswith("photocopy"):
            found.add("photocopy")
        if line.startswith("screen recapture"):
            found.add("screen_recapture")
    return found


def cached_reading(path: Path, ref: DocumentRef, cache: Path, engine, settings) -> DocumentReading:
    st = path.stat()
    key = hashlib.md5(f"{path.resolve()}|{st.st_size}|{st.st_mtime_ns}".encode()).hexdigest()
    file = cache / f"{key}.pkl"
    if file.exists():
        reading = pickle.loads(file.read_bytes())
    else:
        reading = read_document(path.parent, DocumentRef(file=path.name), engine, settings)
        file.write_bytes(pickle.dumps(reading))
    reading.file = ref.file
    if reading.load_error is None:  # pixel measurements: always current
        pages = load_document(path, settings.ingest).pages
        reading.signals = {i: measure_page(im, page=i) for i, im in enumerate(pages, start=1)}
        if not getattr(reading, "seals", None):  # a reading cached before seals were read
            reading.seals, reading.seal_rereads = {}, {}
            for page in reading.pages:
                image = pages[page.page - 1]
                reading.seals[page.page] = read_seals(image, engine, page=page.page)
                reading.seal_rereads[page.page] = reread_under_seals(image, page, reading.seals[page.page], engine)
            file.write_bytes(pickle.dumps(reading))
    return reading


def fixture_truth(doc: dict) -> set[str]:
    truth = set(doc.get("flags", []))
    if doc.get("capture") == "photocopy":
        truth.add("photocopy")
    if doc.get("capture") == "screen":
        truth.add("screen_recapture")
    return truth


def run_fixtures(root: Path, cache: Path, engine, settings, rules, only: list[str] | None = None) -> dict:
    counts = {f: {"tp": 0, "fp": 0, "fn": 0} for f in FLAGS}
    kinds = {k: {"tp": 0, "fp": 0, "fn": 0} for k in KINDS}
    approvals = {"expected": 0, "approved": 0}
    rows: list[dict] = []
    decisions: list[dict] = []
    scored = []  # devtools.replay scoring of the same verdicts: the replay's floors, from cached readings
    for exp_file in sorted(root.rglob("expected.json")):
        folder = exp_file.parent
        if only and folder.name not in only:
            continue
        expected = json.loads(exp_file.read_text(encoding="utf-8"))
        submission, base = load_submission(folder / "submission.json")
        works = []
        for ref in submission.documents:
            reading = cached_reading(base / ref.file, ref, cache, engine, settings)
            works.append(interpret_document(reading, ref, settings, rules))
        verdict = assemble_verdict(submission, base, works, today=dt.date.fromisoformat(expected["check_date"]),
                                   settings=settings, rules=rules, engine=engine)
        scored.append(score_case(folder.name, Expected.model_validate(expected), verdict, 0.0, None))
        got_codes = {r.code for r in verdict.reasons}
        decisions.append({"case": folder.name, "decision": verdict.decision, "expected": expected["decisions"],
                          "missing_reasons": sorted(set(expected.get("reason_codes", [])) - got_codes)})
        if expected["decisions"] == ["approve"]:
            approvals["expected"] += 1
            approvals["approved"] += verdict.decision == "approve"
        for result in verdict.documents:
            doc = expected["documents"].get(result.file, {})
            truth, got = fixture_truth(doc), flags_of(result)
            for f in FLAGS:
                key = "tp" if f in truth and f in got else "fp" if f in got else "fn" if f in truth else None
                if key:
                    counts[f][key] += 1
            want_kinds = set(doc.get("capture_kinds", []))
            got_kinds = set(result.quality.capture) if result.quality else set()
            for k in KINDS:
                key = ("tp" if k in want_kinds and k in got_kinds else "fp" if k in got_kinds
                       else "fn" if k in want_kinds else None)
                if key:
                    kinds[k][key] += 1
            if truth or got or want_kinds or got_kinds:
                rows.append({"case": folder.name, "file": result.file, "expected": sorted(truth), "got": sorted(got),
                             "kinds_expected": sorted(want_kinds), "kinds_got": sorted(got_kinds),
                             "decision": verdict.decision, "expected_decisions": expected["decisions"]})
    report = summarise(scored)
    floors = check_floors(report, load_floors(ROOT / "fixtures" / "floors.yaml"))
    return {"flags": counts, "kinds": kinds, "approvals": approvals, "rows": rows, "decisions": decisions,
            "replay": render(report), "floor_failures": floors}


def run_real(real: Path, cache: Path, engine, settings, rules) -> dict:
    files = sorted(p for p in real.iterdir() if p.suffix.lower() in (".jpg", ".jpeg", ".png", ".webp", ".pdf"))
    fired: dict[str, list[str]] = defaultdict(list)
    clean_n = dict.fromkeys(FLAGS, 0)
    false: dict[str, list[str]] = defaultdict(list)
    kind_rows = []
    for path in files:
        ref = DocumentRef(file=path.name)
        reading = cached_reading(path, ref, cache, engine, settings)
        result = interpret_document(reading, ref, settings, rules).result
        got = flags_of(result)
        allowed = REAL_NOT_CLEAN.get(path.name, set())
        for f in FLAGS:
            if f in got:
                fired[f].append(path.name)
            if f not in allowed:
                clean_n[f] += 1
                if f in got:
                    false[f].append(path.name)
        got_kinds = set(result.quality.capture) if result.quality else set()
        kind_rows.append((path.name, sorted(REAL_KINDS.get(path.name, set())), sorted(got_kinds)))
    return {"files": len(files), "clean": clean_n, "false": dict(false), "fired": dict(fired), "kinds": kind_rows}


def _ratio(a: int, b: int) -> str:
    return f"{a / b:.0%}" if b else "n/a"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--fixtures", type=Path, default=ROOT / "fixtures" / "submissions")
    ap.add_argument("--real", type=Path, default=ROOT.parent / "shared" / "samples" / "real")
    ap.add_argument("--cache", type=Path, default=ROOT / "build" / "flag-cache")
    ap.add_argument("--only", nargs="*", help="fixture case names (default: all)")
    ap.add_argument("--skip-fixtures", action="store_true")
    ap.add_argument("--skip-real", action="store_true")
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    args.cache.mkdir(parents=True, exist_ok=True)
    settings = get_settings()
    rules = load_rules(settings.rules_dir)
    engine = get_engine(settings.ocr)
    out: dict = {}
    if not args.skip_fixtures:
        fx = out["fixtures"] = run_fixtures(args.fixtures, args.cache, engine, settings, rules, args.only)
        print("fixtures: per-flag precision / recall (documents)")
        for f, c in list(fx["flags"].items()) + [(f"kind:{k}", c) for k, c in fx["kinds"].items()]:
            print(f"  {f:<26} tp {c['tp']:>3} fp {c['fp']:>3} fn {c['fn']:>3}  precision "
                  f"{_ratio(c['tp'], c['tp'] + c['fp']):>5}  recall {_ratio(c['tp'], c['tp'] + c['fn']):>5}")
        a = fx["approvals"]
        print(f"  clean submissions (expected approve) approved: {a['approved']}/{a['expected']}")
        ok = [d for d in fx["decisions"] if d["decision"] in d["expected"]]
        false_approves = [d["case"] for d in fx["decisions"] if d["decision"] == "approve" and "approve" not in d["expected"]]
        print(f"  decisions as expected: {len(ok)}/{len(fx['decisions'])}; false approves: {false_approves or 0}")
        for d in fx["decisions"]:
            if d["decision"] not in d["expected"] or d["missing_reasons"]:
                print(f"  decision off: {d['case']}: expected {d['expected']}, got {d['decision']}, missing reasons "
                      f"{d['missing_reasons']}")
        print("replay scoring of the same verdicts:\n" + fx["replay"])
        print(f"  floors: {fx['floor_failures'] or 'all met'}")
        for r in fx["rows"]:
            if set(r["expected"]) != set(r["got"]) or set(r["kinds_expected"]) != set(r["kinds_got"]):
                print(f"  off: {r['case']} {r['file']}: expected {r['expected']} {r['kinds_expected']}, "
                      f"got {r['got']} {r['kinds_got']} ({r['decision']})")
    if not args.skip_real and args.real.is_dir():
        rl = out["real"] = run_real(args.real, args.cache, engine, settings, rules)
        print(f"real samples ({rl['files']} files, read in place): false flags on the clean ones, per flag")
        for f in FLAGS:
            bad = rl["false"].get(f, [])
            print(f"  {f:<20} {len(bad):>2}/{rl['clean'][f]:<3} {_ratio(len(bad), rl['clean'][f]):>5}  "
                  + ", ".join(bad) + (f"  (fired on {len(rl['fired'].get(f, []))} in all)"))
        for name, want, got in rl["kinds"]:
            if want or got:
                print(f"  capture kinds {name}: expected {want}, got {got}")
    if args.json:
        args.json.write_text(json.dumps(out, ensure_ascii=False, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
