"""The `zizhi` command line. `zizhi verify` is fixed by SPEC §2; the rest is zizhi's own."""

from __future__ import annotations

import argparse
import datetime as dt
import sys

from pipeline.display import visible as v
from pipeline.errors import SubmissionError
from pipeline.models import Verdict

EXIT_UNUSABLE = 2


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def render_verdict(verdict: Verdict) -> str:
    """A verdict for a person: decision, reasons, fields with confidence, checks.

    Every text that comes from a merchant or a reading (ids, file names, values, messages) is shown
    through `display.visible`: one verdict line can never pose as another."""
    out = [f"{v(verdict.submission_id)}: {verdict.decision.upper()}  (checked on {verdict.checked_on})"]
    if verdict.reasons:
        out.append("reasons:")
        for r in verdict.reasons:
            where = f" [{v(r.document)}]" if r.document else ""
            out.append(f"  - {r.code}{where}: {v(r.message)}")
    for doc in verdict.documents:
        q = doc.quality
        quality = f", sharpness {q.sharpness:.0f}, {q.width}×{q.height}, skew {q.skew_deg}°" if q else ""
        out.append(f"document {v(doc.file)}: {doc.doc_type} ({doc.doc_type_confidence:.2f}), "
                   f"{doc.pages} page(s){quality}")
        for name, f in doc.fields.items():
            value = f.value if len(f.value) <= 60 else f.value[:57] + "…"
            out.append(f"    {name:<22} {v(value)}  ({f.confidence:.2f}, p{f.page})")
        for e in doc.errors:
            out.append(f"    ! {e.stage}{f' p{e.page}' if e.page else ''}: {v(e.message)}")
    out.append("checks:")
    for c in verdict.checks:
        mark = {"pass": "ok  ", "fail": "FAIL", "review": "??  ", "skip": "--  "}[c.status]
        parts = [f"  {mark} {c.name}"]
        if c.document:
            parts.append(f"[{v(c.document)}]")
        if c.expected is not None:
            parts.append(f"expected {v(c.expected)}")
        if c.found is not None or c.expected is not None:
            parts.append(f"found {v(c.found) if c.found is not None else '(nothing)'}")
        if c.score is not None:
            parts.append(f"score {c.score}")
        if c.message:
            parts.append(f"— {v(c.message)}")
        out.append(" ".join(parts))
    return "\n".join(out)


def cmd_verify(args: argparse.Namespace) -> int:
    from pipeline.runner import verify

    try:
        verdict = verify(args.submission, today=args.today)
    except SubmissionError as e:
        print(f"zizhi: {v(e)}", file=sys.stderr)  # one line, whatever the file names in it hold
        return EXIT_UNUSABLE
    if args.json:
        print(verdict.model_dump_json(indent=2))
    else:
        print(render_verdict(verdict))
    return 0


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

    from pipeline.replay import check_floors, load_floors, render, replay, write_report

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
    """`zizhi replay --real DIR`: real uploads against their truth.json (pipeline/replay_real.py)."""
    from pathlib import Path

    from pipeline.replay import load_floors
    from pipeline.replay_real import check_real_floors, render_real, replay_real

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
    report.failures = check_real_floors(report, load_floors(floors_path)) if floors_path.is_file() else []
    print(render_real(report))
    if args.report:
        Path(args.report).write_text(report.model_dump_json(indent=2), encoding="utf-8")
    for failure in report.failures:
        print(f"FLOOR: {failure}", file=sys.stderr)
    return 1 if report.failures else 0


# The real samples' truth was read in November 2026: validity is judged on a fixed date so that
# a replay next year scores the same reading the same way.
REAL_CHECK_DATE = dt.date(2026, 11, 30)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="zizhi", description="Pre-screen Douyin shop qualification documents.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("verify", help="verify one submission and print its verdict")
    p.add_argument("submission", help="path to SUBMISSION.json")
    p.add_argument("--today", type=_date, default=None, help="check validity against this date (YYYY-MM-DD)")
    p.add_argument("--json", action="store_true", help="print the verdict JSON and nothing else")
    p.set_defaults(func=cmd_verify)

    p = sub.add_parser("replay", help="verify every fixture submission and score it against its truth")
    p.add_argument("dir", nargs="?", default="fixtures", help="folder holding <case>/submission.json + expected.json")
    p.add_argument("--report", help="also write the report as JSON to this file")
    p.add_argument("--floors", help="floors file (default: DIR/floors.yaml, else fixtures/floors.yaml)")
    p.add_argument("--quiet", action="store_true", help="no per-case progress on stderr")
    p.add_argument("--real", metavar="REAL_DIR",
                   help="instead, score the real uploads in REAL_DIR against its truth.json (never copied; "
                        "floors: fixtures/floors-real.yaml)")
    p.add_argument("--today", type=_date, default=None,
                   help=f"with --real: the check date (default {REAL_CHECK_DATE})")
    p.set_defaults(func=cmd_replay)

    # Operator commands (backlog, verdict store, Prefect deployments) live in their own module.
    from pipeline.cli_ops import register as register_ops

    register_ops(sub)
    # The reviewer console and its accounts (a web app over the verdict store).
    from console.cli import register as register_console

    register_console(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
