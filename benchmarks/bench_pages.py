"""Seconds per page: the whole zizhi page pipeline against bare RapidOCR on the same pages.

    .venv/bin/python -m benchmarks.bench_pages [IMAGE_OR_DIR ...] [--json FILE]

Default pages: every image document of the fixture submissions. One process, engines warm
(a first untimed pass over one page), each page timed once per side. The last line is
`bench pages N p50_s X p95_s Y bare_ocr_p50_s Z overhead R rss_mb M` (R = pipeline median /
bare median).
"""

from __future__ import annotations

import argparse
import json
import resource
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGE_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp"}


def find_pages(args: list[str]) -> list[Path]:
    targets = [Path(a) for a in args] or [ROOT / "fixtures" / "submissions"]
    pages: list[Path] = []
    for t in targets:
        if t.is_dir():
            pages += sorted(p for p in t.rglob("*") if p.suffix.lower() in IMAGE_SUFFIXES)
        elif t.suffix.lower() in IMAGE_SUFFIXES:
            pages.append(t)
    return pages


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("pages", nargs="*")
    parser.add_argument("--json", help="write the figures to this file")
    args = parser.parse_args(argv)

    t0 = time.perf_counter()
    from extractors.classify import classify
    from pipeline.document import EXTRACTORS, page_lines
    from pipeline.ingest import load_document
    from pipeline.ocr import get_engine
    from pipeline.preprocess import read_page
    from pipeline.settings import get_settings

    settings = get_settings()
    engine = get_engine(settings.ocr)
    load_s = time.perf_counter() - t0

    from rapidocr import RapidOCR

    o = settings.ocr
    bare = RapidOCR(params={"Global.log_level": "warning", "Det.limit_type": o.det_limit_type,
                            "Det.limit_side_len": o.det_limit_side_len,
                            "EngineConfig.onnxruntime.intra_op_num_threads": o.intra_op_num_threads})

    paths = find_pages(args.pages)
    if not paths:
        print("no pages found", file=sys.stderr)
        return 2
    images = [load_document(p, settings.ingest).pages[0] for p in paths]

    def pipeline_page(image):
        reading = read_page(image, engine, settings.preprocess)
        lines = page_lines(reading)
        cls = classify(lines)
        extractor = EXTRACTORS.get(cls.doc_type)
        if extractor:
            extractor(lines)

    pipeline_page(images[0])  # warm-up, untimed
    bare(images[0])
    ours, theirs = [], []
    for image in images:
        t = time.perf_counter()
        pipeline_page(image)
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        bare(image)
        theirs.append(time.perf_counter() - t)

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    figures = {
        "pages": len(images), "import_and_load_s": round(load_s, 2),
        "pipeline_p50_s": round(statistics.median(ours), 3), "pipeline_p95_s": round(percentile(ours, 0.95), 3),
        "bare_ocr_p50_s": round(statistics.median(theirs), 3), "bare_ocr_p95_s": round(percentile(theirs, 0.95), 3),
        "rss_mb": round(rss_mb, 0),
    }
    figures["overhead"] = round(figures["pipeline_p50_s"] / figures["bare_ocr_p50_s"], 2)
    print(f"{'':<12}{'p50 s':>8}{'p95 s':>8}")
    print(f"{'zizhi page':<12}{figures['pipeline_p50_s']:>8.3f}{figures['pipeline_p95_s']:>8.3f}")
    print(f"{'bare OCR':<12}{figures['bare_ocr_p50_s']:>8.3f}{figures['bare_ocr_p95_s']:>8.3f}")
    print(f"import + model load {figures['import_and_load_s']} s; peak RSS {figures['rss_mb']:.0f} MB")
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2), encoding="utf-8")
    print(f"bench pages {figures['pages']} p50_s {figures['pipeline_p50_s']} p95_s {figures['pipeline_p95_s']} "
          f"bare_ocr_p50_s {figures['bare_ocr_p50_s']} overhead {figures['overhead']} rss_mb {figures['rss_mb']:.0f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
