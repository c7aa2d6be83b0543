"""Backlog throughput: the fixture submissions through `pipeline.runner.verify` in N worker processes.

Each worker is a fresh (spawned) process that loads one engine — with its threads per inference
(`intra_op_num_threads`, onnxruntime or OpenVINO) set for it — and verifies whole submissions (ingest, OCR, extraction, rules), one at a time. Timing
starts once every worker has loaded its engine and read one warm-up page, and stops when the last
submission is done. This is our own process pool, not `zizhi backlog run`.

    .venv/bin/python -m benchmarks.throughput --workers 2 --threads 1
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import statistics
import sys
import time
from pathlib import Path

from benchmarks.common import check_date, find_submissions, peak_rss_mb

_state: dict = {}


def _init(ocr: dict, warm_page: str, ready) -> None:
    from pipeline.ingest import load_document
    from pipeline.ocr import get_engine
    from pipeline.preprocess import read_page
    from pipeline.settings import Settings

    settings = Settings(ocr=ocr)
    engine = get_engine(settings.ocr)
    read_page(load_document(Path(warm_page), settings.ingest).pages[0], engine, settings.preprocess)
    _state.update(settings=settings, engine=engine)
    ready.put(peak_rss_mb())


def _verify(path: str) -> tuple[str, float, int, str, float]:
    from pipeline.errors import SubmissionError
    from pipeline.runner import verify

    t = time.perf_counter()
    try:
        verdict = verify(path, today=check_date(Path(path)), settings=_state["settings"], engine=_state["engine"])
    except SubmissionError as e:
        return path, time.perf_counter() - t, 0, f"unusable: {e}", peak_rss_mb()
    pages = sum(d.pages for d in verdict.documents)
    return path, time.perf_counter() - t, pages, verdict.decision, peak_rss_mb()


def run(workers: int, threads: int, submissions: list[Path], ocr: dict | None = None) -> dict:
    """Verify `submissions` with `workers` processes of `threads` inference threads each; `ocr`: engine
    options (default: RapidOCR with its default runtime)."""
    ocr = dict(ocr or {"kind": "rapidocr"})
    if ocr.get("kind", "rapidocr") == "rapidocr":
        ocr["intra_op_num_threads"] = threads
    ctx = mp.get_context("spawn")
    ready = ctx.Queue()
    warm = next(p for p in sorted(submissions[0].parent.glob("docs/*")) if p.suffix.lower() != ".pdf")
    t_start = time.perf_counter()
    with ctx.Pool(workers, initializer=_init, initargs=(ocr, str(warm), ready)) as pool:
        load_rss = [ready.get(timeout=600) for _ in range(workers)]
        startup = time.perf_counter() - t_start
        t0 = time.perf_counter()
        results = pool.map(_verify, [str(s) for s in submissions], chunksize=1)
        wall = time.perf_counter() - t0
    pages = sum(r[2] for r in results)
    return {
        "workers": workers, "intra_op_num_threads": threads, "submissions": len(results), "pages": pages,
        "wall_s": round(wall, 2), "startup_s": round(startup, 2),
        "submissions_per_min": round(60 * len(results) / wall, 2), "pages_per_min": round(60 * pages / wall, 2),
        "median_submission_s": round(statistics.median(r[1] for r in results), 2),
        "worker_peak_rss_mb": round(max(max(r[4] for r in results), max(load_rss))),
        "decisions": {Path(r[0]).parent.name: r[3] for r in results},
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--threads", type=int, default=-1, help="inference threads per worker (-1: default)")
    parser.add_argument("--rounds", type=int, default=1, help="pass over the fixtures this many times")
    parser.add_argument("--engine", choices=["openvino", "onnxruntime"], default="openvino",
                        help="RapidOCR's inference runtime")
    args = parser.parse_args(argv)
    subs = find_submissions() * args.rounds
    print(json.dumps(run(args.workers, args.threads, subs, {"kind": "rapidocr", "engine": args.engine}), indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
