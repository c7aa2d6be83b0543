"""`zizhi verify` (fixed by SPEC §2) and how a verdict is shown to a person.

The whole command line is put together in `zizhi/cli.py`, above every package it draws on."""

from __future__ import annotations

import argparse
import datetime as dt
import os
import sys

from pipeline.display import visible as v
from pipeline.errors import SubmissionError
from pipeline.models import Verdict

EXIT_UNUSABLE = 2


# argparse types shared by every subcommand's --today and --port (operations/, api/, console/)
def iso_date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def tcp_port(text: str) -> int:
    """A TCP port for --port: 1–65535 (socket.bind raises OverflowError beyond, a traceback)."""
    try:
        port = int(text)
    except ValueError:
        port = 0
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"not a TCP port (1-65535): {text!r}")
    return port


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
            if r.merchant_message:
                out.append(f"    merchant: {v(r.merchant_message)}")
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
    try:
        if args.json:
            print(verdict.model_dump_json(indent=2))
        else:
            print(render_verdict(verdict))
        sys.stdout.flush()
    except BrokenPipeError:  # `zizhi verify S.json | head -1`: the reader has what it wanted
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())  # nor a second error at exit
    return 0


def register(sub: argparse._SubParsersAction) -> None:
    """Add `zizhi verify` (SPEC §2) to the `zizhi` parser."""
    p = sub.add_parser("verify", help="verify one submission and print its verdict")
    p.add_argument("submission", help="path to SUBMISSION.json")
    p.add_argument("--today", type=iso_date, default=None, help="check validity against this date, YYYY-MM-DD (default: today)")
    p.add_argument("--json", action="store_true", help="print the verdict JSON and nothing else")
    p.set_defaults(func=cmd_verify)
