"""`make bench`: speed and memory of the zizhi page pipeline against bare RapidOCR on the same pages.

    .venv/bin/python -m benchmarks.bench_pages [DOC_OR_DIR ...] [--json FILE] [--no-throughput]

Default pages: 40 pages spread evenly over every page of the fixture submissions' documents (images
and PDF pages; `--pages 0` for all), decoded up front. In one process, engines warm (one untimed page each):

- per page, the whole zizhi page step (straighten, orientation, detection, recognition, quality,
  classification, extraction) — `read_page` + classify + extract — against bare RapidOCR
  (`RapidOCR()(image)`: its own resize, det, cls on every line, rec) with the same det/rec
  settings and the same inference runtime (the floor under us), and against bare RapidOCR with its
  default runtime, onnxruntime, the same detection settings and threads and its own recognition
  batching (what a plain RapidOCR user gets).
  The three runs alternate page by page, so a busy neighbour on a shared machine slows all alike.
- import + model load: `import pipeline.runner` and `get_engine()` in a fresh interpreter (median of 3).
- backlog throughput with 1 and 2 worker processes over 16 fixture submissions spread evenly
  (benchmarks/throughput.py), and each worker's peak RSS.
- the realistic backlog (benchmarks/backlog_reuse.py): 200 listings from 20 shops that send the same
  documents with every listing, 2 workers × 1 thread, listings per minute with the reading shared
  through the verdict store against without it.

The last line is `bench pages N p50_s X p95_s Y bare_ocr_p50_s Z overhead R rss_mb M ort_p50_s W
backlog_reuse_x B`: R = pipeline median / bare median per page; M = the largest peak RSS of one
worker process (one engine, verifying submissions) — the figure the "per worker" memory target is
about; W = the median page of bare RapidOCR on onnxruntime (W / X is the speed-up over plain
RapidOCR); B = listings per minute with the shared reading ÷ without (left off with
`--backlog-shops 0`).
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import time
from pathlib import Path

from benchmarks.common import (
    ROOT,
    evenly,
    find_documents,
    find_submissions,
    git_revision,
    machine,
    peak_rss_mb,
    percentile,
    print_table,
    wait_for_quiet,
)

LOAD_SNIPPET = """
import time
t = time.perf_counter()
import pipeline.runner
from pipeline.ocr import get_engine
from pipeline.settings import get_settings
get_engine(get_settings().ocr)
print(time.perf_counter() - t)
"""

# (workers, threads per inference): one worker with the default threads and with one thread, two
# workers with one thread each (the recommended backlog set-up) and with the default threads.
THROUGHPUT_CONFIGS = [(1, -1), (1, 1), (2, 1), (2, -1)]


def import_and_load_seconds(runs: int = 3) -> float:
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", LOAD_SNIPPET], capture_output=True, text=True, cwd=ROOT,
                             timeout=300, check=True)
        times.append(float(out.stdout.strip().splitlines()[-1]))
    return statistics.median(times)


# How zizhi batches recognition; `ort` (plain RapidOCR) keeps RapidOCR's own batching (config.yaml:
# 6 lines a batch, padded to at least 320 px), the floor `bare` uses ours.
REC_BATCHING = ("Rec.rec_batch_num", "Rec.rec_img_shape")


def bare_rapidocr(options, runtime: str | None = None, *, rapidocr_batching: bool = False):
    """`RapidOCR()` with our det/rec settings and threads, on `runtime` (default: the one we use);
    with `rapidocr_batching`, RapidOCR's default recognition batching instead of ours."""
    from rapidocr import RapidOCR

    from pipeline.ocr.rapid import rapidocr_params

    params = rapidocr_params(options, runtime)
    if rapidocr_batching:
        for key in REC_BATCHING:
            params.pop(key)
    return RapidOCR(params=params)


def _page_count(path: Path, settings) -> int:
    """Pages zizhi reads from a document (PDF pages up to the cap), without rasterising it."""
    if path.suffix.lower() != ".pdf":
        return 1
    from pdf2image import pdfinfo_from_path

    return min(int(pdfinfo_from_path(str(path)).get("Pages", 1)), settings.ingest.pdf_max_pages)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("documents", nargs="*")
    parser.add_argument("--json", help="write the figures to this file")
    parser.add_argument("--pages", type=int, default=40, dest="max_pages",
                        help="at most this many pages, spread evenly over the fixtures (0: all)")
    parser.add_argument("--submissions", type=int, default=16,
                        help="fixture submissions per throughput run, spread evenly (0: all)")
    parser.add_argument("--no-throughput", action="store_true", help="skip the worker-pool runs")
    parser.add_argument("--backlog-shops", type=int, default=20, help="shops of the realistic backlog (0: skip it)")
    parser.add_argument("--backlog-listings", type=int, default=10, help="listings per shop")
    parser.add_argument("--backlog-sample", type=int, default=40,
                        help="listings timed without the shared reading (each costs the same then)")
    parser.add_argument("--quiet-wait", type=float, default=90,
                        help="before each timed run wait up to this many seconds for the cores to go idle "
                             "(a shared machine); the busy share seen is recorded")
    args = parser.parse_args(argv)

    figures: dict = {"machine": machine(), "revision": git_revision()}
    load_s = import_and_load_seconds()

    from extractors.classify import classify
    from pipeline.document import EXTRACTORS, page_lines
    from pipeline.ingest import load_document
    from pipeline.ocr import get_engine
    from pipeline.preprocess import read_page
    from pipeline.settings import get_settings

    settings = get_settings()
    if settings.ocr.kind != "rapidocr":
        print("make bench compares against bare RapidOCR: run it with the default engine", file=sys.stderr)
        return 2
    engine = get_engine(settings.ocr)
    bare = bare_rapidocr(settings.ocr)
    ort = bare_rapidocr(settings.ocr, "onnxruntime", rapidocr_batching=True)

    docs = find_documents(args.documents)
    pages = [(d, i) for d in docs for i in range(1, _page_count(d, settings) + 1)]
    chosen = evenly(pages, args.max_pages)
    loaded: dict[Path, list] = {}
    images = []
    for d, i in chosen:
        if d not in loaded:
            loaded = {d: load_document(d, settings.ingest).pages}  # keep one document's pages at a time
        images.append((f"{d.parent.parent.name}/{d.name}#{i}", loaded[d][i - 1]))
    if not images:
        print("no pages found", file=sys.stderr)
        return 2

    def pipeline_page(image):
        reading = read_page(image, engine, settings.preprocess)
        lines = page_lines(reading)
        cls = classify(lines)
        extractor = EXTRACTORS.get(cls.doc_type)
        if extractor:
            extractor(lines)

    pipeline_page(images[0][1])  # warm-up, untimed
    bare(images[0][1])
    ort(images[0][1])
    figures["cpu_busy_before_pages"] = wait_for_quiet(args.quiet_wait)
    ours, theirs, plain = [], [], []
    for _, image in images:
        for run, times in ((pipeline_page, ours), (bare, theirs), (ort, plain)):
            t = time.perf_counter()
            run(image)
            times.append(time.perf_counter() - t)

    p50, bare_p50, ort_p50 = statistics.median(ours), statistics.median(theirs), statistics.median(plain)
    figures.update({
        "pages": len(images), "pages_available": len(pages), "ocr": settings.ocr.model_dump(mode="json"),
        "import_and_load_s": round(load_s, 2),
        "pipeline_p50_s": round(p50, 3), "pipeline_p95_s": round(percentile(ours, 0.95), 3),
        "bare_ocr_p50_s": round(bare_p50, 3), "bare_ocr_p95_s": round(percentile(theirs, 0.95), 3),
        "overhead": round(p50 / bare_p50, 2),
        "ort_p50_s": round(ort_p50, 3), "ort_p95_s": round(percentile(plain, 0.95), 3),
        "speedup_vs_ort": round(ort_p50 / p50, 2),
        "pipeline_total_s": round(sum(ours), 2), "bare_ocr_total_s": round(sum(theirs), 2),
        "ort_total_s": round(sum(plain), 2),
        "bench_process_peak_rss_mb": round(peak_rss_mb()),  # three engines and all pages in memory
        "per_page": [{"page": name, "pipeline_s": round(a, 3), "bare_ocr_s": round(b, 3), "ort_s": round(c, 3)}
                     for (name, _), a, b, c in zip(images, ours, theirs, plain)],
    })

    print(f"per page (seconds), {len(images)} of {len(pages)} fixture pages:")
    print_table(["", "p50", "p95", "total"], [
        ["zizhi page pipeline", f"{p50:.3f}", f"{figures['pipeline_p95_s']:.3f}", f"{sum(ours):.1f}"],
        [f"bare RapidOCR, {settings.ocr.engine}, our settings", f"{bare_p50:.3f}", f"{figures['bare_ocr_p95_s']:.3f}",
         f"{sum(theirs):.1f}"],
        ["plain RapidOCR, onnxruntime, its rec batching", f"{ort_p50:.3f}", f"{figures['ort_p95_s']:.3f}", f"{sum(plain):.1f}"],
    ])
    print(f"speed-up over bare RapidOCR on onnxruntime: {figures['speedup_vs_ort']}x")

    worker_rss = None
    if not args.no_throughput:
        from benchmarks.throughput import run

        runs = []
        subs = evenly(find_submissions(), args.submissions)
        for workers, threads in THROUGHPUT_CONFIGS:
            busy = wait_for_quiet(args.quiet_wait)
            runs.append({**run(workers, threads, subs, settings.ocr.model_dump(mode="json")), "cpu_busy_before": busy})
        figures["throughput"] = runs
        one = {r["intra_op_num_threads"]: r for r in runs if r["workers"] == 1}
        two = {r["intra_op_num_threads"]: r for r in runs if r["workers"] == 2}
        figures["speedup_2w1t_vs_1w1t"] = round(two[1]["submissions_per_min"] / one[1]["submissions_per_min"], 2)
        figures["speedup_2w1t_vs_1w_default"] = round(two[1]["submissions_per_min"] / one[-1]["submissions_per_min"], 2)
        worker_rss = max(r["worker_peak_rss_mb"] for r in runs)
        print(f"\nbacklog throughput ({len(subs)} fixture submissions, {runs[0]['pages']} pages; spawned worker "
              f"processes, pipeline.runner.verify):")
        print_table(["workers x threads", "wall s", "subs/min", "pages/min", "median sub s", "worker RSS MB"], [
            [f"{r['workers']} x {'default' if r['intra_op_num_threads'] == -1 else r['intra_op_num_threads']}",
             f"{r['wall_s']:.1f}", f"{r['submissions_per_min']:.1f}", f"{r['pages_per_min']:.1f}",
             f"{r['median_submission_s']:.2f}", r["worker_peak_rss_mb"]] for r in runs])
        print(f"2 workers x 1 thread vs 1 worker x 1 thread: {figures['speedup_2w1t_vs_1w1t']}x; "
              f"vs 1 worker x default threads: {figures['speedup_2w1t_vs_1w_default']}x")
    reuse = None
    if args.backlog_shops:
        from benchmarks.backlog_reuse import measure

        busy = wait_for_quiet(args.quiet_wait)
        reuse = {**measure(settings.ocr.model_dump(mode="json"), args.backlog_shops, args.backlog_listings,
                           args.backlog_sample), "cpu_busy_before": busy}
        figures["backlog_reuse"] = reuse
        figures["backlog_reuse_x"] = reuse["backlog_reuse_x"]
        w, wo = reuse["with_shared_reading"], reuse["without_shared_reading"]
        print(f"\nrealistic backlog: {reuse['listings']} listings from {reuse['shops']} shops reusing their documents, "
              f"{reuse['workers']} workers x 1 thread:")
        print_table(["", "listings timed", "wall s", "listings/min", "median listing s", "worker RSS MB"], [
            [name, r["listings"], f"{r['wall_s']:.1f}", f"{r['listings_per_min']:.1f}", f"{r['median_listing_s']:.2f}",
             r["worker_peak_rss_mb"]] for name, r in (("with the shared reading", w), ("without", wo))])
        print(f"with / without: {reuse['backlog_reuse_x']}x; decisions differing: {len(reuse['decisions_differing'])}")
        worker_rss = max(worker_rss or 0, w["worker_peak_rss_mb"], wo["worker_peak_rss_mb"])
    figures["worker_peak_rss_mb"] = worker_rss
    rss = worker_rss if worker_rss is not None else figures["bench_process_peak_rss_mb"]
    figures["rss_mb"] = rss

    print(f"\nimport + model load {figures['import_and_load_s']} s (fresh interpreter, median of 3); "
          f"peak RSS: one worker {worker_rss} MB, this bench process (three engines) "
          f"{figures['bench_process_peak_rss_mb']} MB")
    busy = [figures["cpu_busy_before_pages"]] + [r["cpu_busy_before"] for r in figures.get("throughput", [])] \
        + ([reuse["cpu_busy_before"]] if reuse else [])
    print(f"machine: {figures['machine']['cpu']}, {figures['machine']['cores']} cores, "
          f"load average {figures['machine']['load_avg_1min_at_start']} at start; cores busy (others) before "
          f"each timed run: {', '.join('?' if b is None else f'{b:.0%}' for b in busy)}")
    if args.json:
        Path(args.json).parent.mkdir(parents=True, exist_ok=True)
        Path(args.json).write_text(json.dumps(figures, indent=2, ensure_ascii=False), encoding="utf-8")
        print(f"figures written to {args.json}")
    print(f"bench pages {figures['pages']} p50_s {figures['pipeline_p50_s']} p95_s {figures['pipeline_p95_s']} "
          f"bare_ocr_p50_s {figures['bare_ocr_p50_s']} overhead {figures['overhead']} rss_mb {rss:.0f} "
          f"ort_p50_s {figures['ort_p50_s']}" + (f" backlog_reuse_x {reuse['backlog_reuse_x']}" if reuse else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
