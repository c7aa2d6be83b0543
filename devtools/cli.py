"""`zizhi replay`: developer tooling, the pipeline's accuracy on fixtures (and on real uploads)."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from pipeline.cli import EXIT_UNUSABLE, iso_date


def _folder_and_engine(folder: str):
    """(the replay's folder, the OCR engine), or None after saying on stderr that it is no folder."""
    from pathlib import Path

    from pipeline.ocr import get_engine
    from pipeline.settings import get_settings

    root = Path(folder)
    if not root.is_dir():
        print(f"zizhi: not a folder: {root}", file=sys.stderr)
        return None
    return root, get_engine(get_settings().ocr)


def cmd_replay(args: argparse.Namespace) -> int:
    from pathlib import Path

    from devtools.replay import check_floors, load_floors, render, replay, write_report

    if args.real:
        return cmd_replay_real(args)
    loaded = _folder_and_engine(args.dir)
    if loaded is None:
        return EXIT_UNUSABLE
    root, engine = loaded

    def progress(case):
        if not args.quiet:
            mark = "ok " if case.decision_ok and not case.missing_reasons else "BAD"
            print(f"  {mark} {case.name:<40} {case.decision or 'error':<8} {case.seconds:5.1f}s", file=sys.stderr)

    report = replay(root, engine=engine, progress=progress)
    if not report.cases:
        print(f"zizhi: no fixture submissions (expected.json + submission.json) under {root}", file=sys.stderr)
        return EXIT_UNUSABLE
    floors_path = Path(args.floors) if args.floors else root / "floors.yaml"
    if not floors_path.is_file():
        floors_path = Path(__file__).resolve().parent.parent / "fixtures" / "floors.yaml"
    report.failures = check_floors(report, load_floors(floors_path)) if floors_path.is_file() else []
    print(render(report))
    if args.report:
        write_report(report, Path(args.report))
    for failure in report.failures:
        print(f"FLOOR: {failure}", file=sys.stderr)
    return 1 if report.failures else 0


def cmd_replay_real(args: argparse.Namespace) -> int:
    """`zizhi replay --real DIR`: real uploads against their truth.json (devtools/replay_real.py)."""
    from pathlib import Path

    from devtools.replay_real import check_real_floors, load_real_floors, render_real, replay_real

    loaded = _folder_and_engine(args.real)
    if loaded is None:
        return EXIT_UNUSABLE
    root, engine = loaded

    def progress(case):
        if not args.quiet:
            mark = "BAD" if case.false_approves else "ok "
            print(f"  {mark} {case.file:<52} {case.doc_type:<28} own {case.decision_own or '-':<8} "
                  f"other {case.decision_other:<8} {case.seconds:5.1f}s", file=sys.stderr)

    try:
        report = replay_real(root, check_date=args.today or REAL_CHECK_DATE, engine=engine, progress=progress)
    except ValueError as e:
        print(f"zizhi: {e}", file=sys.stderr)
        return EXIT_UNUSABLE
    if not report.cases:
        print(f"zizhi: no documents under {root}", file=sys.stderr)
        return EXIT_UNUSABLE
    floors_path = Path(args.floors) if args.floors else Path(__file__).resolve().parent.parent / "fixtures" / "floors-real.yaml"
    try:
        report.failures = check_real_floors(report, load_real_floors(floors_path)) if floors_path.is_file() else []
    except ValueError as e:
        print(f"zizhi: {e}", file=sys.stderr)
        return EXIT_UNUSABLE
    print(render_real(report))
    if args.report:
        Path(args.report).write_text(report.model_dump_json(indent=2), encoding="utf-8")
    for failure in report.failures:
        print(f"FLOOR: {failure}", file=sys.stderr)
    return 1 if report.failures else 0


# The real samples' truth was read in November 2026: validity is judged on a fixed date so that
# a replay next year scores the same reading the same way.
REAL_CHECK_DATE = dt.date(2026, 11, 30)


def register(sub: argparse._SubParsersAction) -> None:
    """Add `zizhi replay` to the `zizhi` parser."""
    p = sub.add_parser("replay", help="verify every fixture submission and score it against its truth")
    p.add_argument("dir", nargs="?", default="fixtures", help="folder holding <case>/submission.json + expected.json (default: fixtures)")
    p.add_argument("--report", help="also write the report as JSON to this file (default: not written)")
    p.add_argument("--floors", help="floors file (default: DIR/floors.yaml, else fixtures/floors.yaml)")
    p.add_argument("--quiet", action="store_true", help="no per-case progress on stderr")
    p.add_argument("--real", metavar="REAL_DIR",
                   help="instead, score the real uploads in REAL_DIR against its truth.json (never copied; "
                        "floors: fixtures/floors-real.yaml; default: the fixtures, not real uploads)")
    p.add_argument("--today", type=iso_date, default=None,
                   help=f"with --real: the check date (default {REAL_CHECK_DATE})")
    p.set_defaults(func=cmd_replay)
