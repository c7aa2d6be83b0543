"""`make bench-engines`: OCR engines side by side on the fixture submissions.

    .venv/bin/python -m benchmarks.bench_engines [--engines rapidocr,paddleocr,...] [--docs docs/engines.md]

Each engine runs in its own fresh process (so one engine's memory and threads don't touch the
next): it loads the engine, then replays every fixture submission through `pipeline.runner.verify`
exactly as `zizhi replay fixtures` does, and scores the verdicts against expected.json. Reported:
field exact-match accuracy (all scored fields), doc-type and decision accuracy, seconds per page
(the `read_page` step: straighten + detect + classify direction + recognise, timed per page),
import + engine load time and peak RSS. PaddleOCR runs in `build/venv-paddle` (make install-paddle)
when the current interpreter does not have it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import (
    ROOT,
    SUBMISSIONS,
    evenly,
    git_revision,
    machine,
    peak_rss_mb,
    print_table,
    wait_for_quiet,
)

ENGINES: dict[str, dict] = {
    "rapidocr": {"label": "RapidOCR 3.10 (default; PP-OCR ONNX, OpenVINO)", "ocr": {"kind": "rapidocr"}},
    "rapidocr-onnxruntime": {"label": "RapidOCR 3.10 (PP-OCR ONNX, onnxruntime)",
                             "ocr": {"kind": "rapidocr", "engine": "onnxruntime"}},
    "paddleocr": {"label": "PaddleOCR 3.4 + PaddlePaddle 3.3 (PP-OCRv4 mobile; oneDNN for rec/cls)",
                  "ocr": {"kind": "paddleocr"}, "module": "paddleocr"},
    "paddleocr-no-onednn": {"label": "PaddleOCR, oneDNN off everywhere (enable_mkldnn=False)",
                            "ocr": {"kind": "paddleocr", "enable_mkldnn": False}, "module": "paddleocr"},
    "tesseract": {"label": "Tesseract 5 chi_sim, its own layout analysis (whole engine)",
                  "ocr": {"kind": "tesseract"}, "module": "tesserocr"},
    "tesseract-rapid-det": {"label": "Tesseract 5 chi_sim reading RapidOCR's detected lines",
                            "ocr": {"kind": "tesseract", "detector": "rapidocr"}, "module": "tesserocr"},
}
# paddleocr-no-onednn (~10 s a page) only on request: --engines paddleocr-no-onednn
DEFAULT_ENGINES = ["rapidocr", "rapidocr-onnxruntime", "paddleocr", "tesseract", "tesseract-rapid-det"]
PADDLE_VENV_PYTHON = ROOT / "build" / "venv-paddle" / "bin" / "python"
TABLE_START, TABLE_END = "<!-- engines-table:start -->", "<!-- engines-table:end -->"


def interpreter_for(module: str | None) -> str | None:
    """This interpreter if it can import `module`, else build/venv-paddle's for PaddleOCR, else None."""
    import importlib.util

    if module is None or importlib.util.find_spec(module) is not None:
        return sys.executable
    if module == "paddleocr" and PADDLE_VENV_PYTHON.exists():
        return str(PADDLE_VENV_PYTHON)
    return None


def chosen_cases(root: Path, sample: int) -> list[Path]:
    from devtools.replay import find_cases

    return evenly(find_cases(root), sample)


def replay_cases(cases: list[Path], engine):
    """`zizhi replay`'s scoring over these fixture folders, with this engine."""
    from devtools.replay import Expected, score_case, summarise
    from pipeline.errors import SubmissionError
    from pipeline.runner import verify

    results = []
    for folder in cases:
        expected = Expected.model_validate_json((folder / "expected.json").read_text(encoding="utf-8"))
        start = time.perf_counter()
        verdict, error = None, None
        try:
            verdict = verify(folder / "submission.json", today=expected.check_date, engine=engine)
        except SubmissionError as e:
            error = str(e)
        results.append(score_case(folder.name, expected, verdict, time.perf_counter() - start, error))
    return summarise(results)


def measure_one(ocr: dict, root: Path, sample: int) -> dict:
    """In this process: load the engine, replay the fixtures, time each page read."""
    t = time.perf_counter()
    import pipeline.runner  # noqa: F401 - part of what a worker imports
    from pipeline import document
    from pipeline.ocr.base import get_engine
    from pipeline.settings import Settings

    settings = Settings(ocr=ocr)
    engine = get_engine(settings.ocr)
    load_s = time.perf_counter() - t

    page_seconds: list[float] = []
    real_read_page = document.read_page

    def timed_read_page(*args, **kwargs):
        start = time.perf_counter()
        try:
            return real_read_page(*args, **kwargs)
        finally:
            page_seconds.append(time.perf_counter() - start)

    document.read_page = timed_read_page
    # verify() gets this engine; the other settings (ingest, preprocess, rules) are the defaults.
    t = time.perf_counter()
    report = replay_cases(chosen_cases(root, sample), engine)
    wall = time.perf_counter() - t
    return {
        "engine": engine.name, "version": engine.version, "model_ids": list(engine.model_ids),
        "ocr": settings.ocr.model_dump(mode="json"),
        "import_and_load_s": round(load_s, 2),
        "pages": len(page_seconds), "s_per_page": round(sum(page_seconds) / max(1, len(page_seconds)), 3),
        "p50_page_s": round(statistics.median(page_seconds), 3) if page_seconds else None,
        "submissions": len(report.cases), "replay_wall_s": round(wall, 1),
        "field_accuracy": report.field_accuracy, "doc_type_accuracy": report.doc_type_accuracy,
        "decision_accuracy": report.decision_accuracy, "reason_recall": report.reason_recall,
        "false_approves": report.false_approves,
        "fields_correct": sum(v[0] for v in report.per_field.values()),
        "fields_total": sum(v[1] for v in report.per_field.values()),
        "per_field": report.per_field, "peak_rss_mb": round(peak_rss_mb()),
    }


def run_engine(key: str, root: Path, sample: int) -> dict:
    spec = ENGINES[key]
    python = interpreter_for(spec.get("module"))
    if python is None:
        what = "make install-paddle" if spec.get("module") == "paddleocr" else "pip install .[tesseract]"
        return {"key": key, "label": spec["label"], "skipped": f"{spec.get('module')} not installed ({what})"}
    cmd = [python, "-m", "benchmarks.bench_engines", "--one", json.dumps(spec["ocr"]), "--root", str(root),
           "--sample", str(sample)]
    env = {k: v for k, v in os.environ.items() if not k.startswith("ZIZHI_OCR")}
    env["PADDLE_PDX_DISABLE_MODEL_SOURCE_CHECK"] = "True"
    proc = subprocess.run(cmd, check=False, capture_output=True, text=True, cwd=ROOT, env=env, timeout=3600)
    if proc.returncode != 0:
        return {"key": key, "label": spec["label"], "failed": proc.stderr.strip().splitlines()[-12:]}
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    return {"key": key, "label": spec["label"], "python": python, **result}


def markdown_table(results: list[dict]) -> str:
    rows = [("| engine | field exact match | doc type | decision | false approves | s / page (p50) | load s "
             "| peak RSS MB |"),
            "|---|---|---|---|---|---|---|---|"]
    for r in results:
        if "skipped" in r or "failed" in r:
            rows.append(f"| {r['label']} | {r.get('skipped') or 'failed: ' + r['failed'][-1]} | | | | | | |")
            continue
        rows.append(f"| {r['label']} | {r['field_accuracy']:.1%} ({r['fields_correct']}/{r['fields_total']}) "
                    f"| {r['doc_type_accuracy']:.0%} | {r['decision_accuracy']:.0%} | {len(r['false_approves'])} "
                    f"| {r['s_per_page']:.2f} ({r['p50_page_s']:.2f}) | {r['import_and_load_s']:.1f} "
                    f"| {r['peak_rss_mb']} |")
    return "\n".join(rows)


def write_docs(path: Path, table: str, meta: str) -> None:
    text = path.read_text(encoding="utf-8")
    block = f"{TABLE_START}\n{meta}\n\n{table}\n{TABLE_END}"
    new = re.sub(re.escape(TABLE_START) + ".*?" + re.escape(TABLE_END), lambda _: block, text, flags=re.DOTALL)
    path.write_text(new, encoding="utf-8")


def docs_meta(saved: dict) -> str:
    m, results = saved["machine"], saved["results"]
    done = next((r for r in results if "pages" in r), {})
    busy = ", ".join("?" if r.get("cpu_busy_before") is None else format(r["cpu_busy_before"], ".0%")
                     for r in results)
    return (f"Measured by `make bench-engines` (`python -m benchmarks.bench_engines --sample {saved['sample']}`) "
            f"at {saved['revision']} on {m['cpu']}, {m['cores']} cores, {m['memory_gb']} GB: "
            f"{done.get('submissions', '?')} of {saved['submissions_available']} fixture submissions"
            f"{' spread evenly' if saved['sample'] else ''}, {done.get('pages', '?')} pages. Share of the cores "
            f"busy with other work just before each engine: {busy} (a shared machine: seconds are inflated "
            f"by other developers' runs; accuracy does not depend on load).")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--engines", default=",".join(DEFAULT_ENGINES), help=f"of {', '.join(ENGINES)}")
    parser.add_argument("--root", default=str(SUBMISSIONS), help="folder of fixture submissions")
    parser.add_argument("--sample", type=int, default=0,
                        help="only this many fixture submissions, spread evenly (default: all)")
    parser.add_argument("--quiet-wait", type=float, default=90,
                        help="before each engine wait up to this many seconds for idle cores (shared machine)")
    parser.add_argument("--json", default=str(ROOT / "benchmarks" / "results" / "engines.json"))
    parser.add_argument("--docs", help="rewrite the table between the engines-table markers of this file")
    parser.add_argument("--render", metavar="JSON", help="only write --docs from a saved --json file")
    parser.add_argument("--one", help=argparse.SUPPRESS)  # internal: measure one engine in this process
    args = parser.parse_args(argv)

    if args.one:
        print(json.dumps(measure_one(json.loads(args.one), Path(args.root), args.sample), ensure_ascii=False))
        return 0

    if args.render:
        saved = json.loads(Path(args.render).read_text(encoding="utf-8"))
        if args.docs:
            write_docs(Path(args.docs), markdown_table(saved["results"]), docs_meta(saved))
            print(f"table written to {args.docs}")
        return 0

    keys = [k.strip() for k in args.engines.split(",") if k.strip()]
    unknown = [k for k in keys if k not in ENGINES]
    if unknown:
        parser.error(f"unknown engine(s) {unknown}; known: {', '.join(ENGINES)}")
    info = {"machine": machine(), "revision": git_revision(), "root": args.root, "sample": args.sample,
            "submissions_available": len(chosen_cases(Path(args.root), 0))}
    results = []
    for key in keys:
        busy = wait_for_quiet(args.quiet_wait)
        print(f"measuring {key} (cores busy before: {busy}) ...", file=sys.stderr, flush=True)
        results.append({**run_engine(key, Path(args.root), args.sample), "cpu_busy_before": busy})
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps({**info, "results": results}, indent=2, ensure_ascii=False), "utf-8")
    print(f"figures written to {args.json}")
    print_table(["engine", "fields", "doc type", "decision", "s/page", "p50 s", "load s", "RSS MB"], [
        [r["key"], *(["skipped: " + r["skipped"]] if "skipped" in r else ["FAILED"] if "failed" in r else
                     [f"{r['field_accuracy']:.1%}", f"{r['doc_type_accuracy']:.0%}", f"{r['decision_accuracy']:.0%}",
                      f"{r['s_per_page']:.2f}", f"{r['p50_page_s']:.2f}", f"{r['import_and_load_s']:.1f}",
                      r["peak_rss_mb"]])]
        for r in results])
    for r in results:
        if "failed" in r:
            print(f"{r['key']} failed:\n" + "\n".join(r["failed"]), file=sys.stderr)
    if args.docs:
        write_docs(Path(args.docs), markdown_table(results), docs_meta({**info, "results": results}))
        print(f"table written to {args.docs}")
    return 0 if not any("failed" in r for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
