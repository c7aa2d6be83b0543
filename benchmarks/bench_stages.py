"""Where a page's time goes: CPU seconds per stage of `read_page`, for one or more engine settings.

    .venv/bin/python -m benchmarks.bench_stages [--pages 24] [--ocr JSON ...]

Each `--ocr` is a JSON object of RapidOCR options over the defaults (e.g. '{"cascade": {"enabled":
false}}'); every configuration gets its own engine with one inference thread and one recognition
stream, so the figures are CPU seconds of this process's own work (`time.process_time`), which a busy
neighbour on a shared machine inflates far less than wall seconds. The engine's calls are wrapped:
detection, the direction classifier, the cascade's first pass, the small recogniser; the rest of
`read_page` (warps, outline search, strip cutting, routing, quality) is "other". Pages are spread
evenly over every fixture page, read once untimed first; configurations alternate page by page.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time

from benchmarks.common import evenly, find_documents, machine

STAGES = ("detect", "classify_direction", "first_pass", "recognize")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=24, help="pages spread evenly over the fixture documents")
    parser.add_argument("--ocr", action="append", default=[], help="JSON of RapidOCR options (repeatable)")
    args = parser.parse_args(argv)

    from pipeline.ingest import load_document
    from pipeline.ocr.base import load_engine
    from pipeline.preprocess import read_page
    from pipeline.settings import Settings

    configs = [json.loads(c) for c in args.ocr] or [{"cascade": {"enabled": False}}, {"cascade": {"enabled": True}}]
    runs = []
    for config in configs:
        settings = Settings(ocr={**config, "intra_op_num_threads": 1, "rec_streams": 1})
        engine = load_engine(settings.ocr)
        acc: collections.Counter = collections.Counter()
        for name in STAGES:
            call = getattr(engine, name)

            def timed(*a, _call=call, _name=name, _acc=acc, **k):
                t = time.process_time()
                try:
                    return _call(*a, **k)
                finally:
                    _acc[_name] += time.process_time() - t

            setattr(engine, name, timed)
        runs.append({"ocr": config, "settings": settings, "engine": engine, "acc": acc, "total": 0.0})

    images = []
    for doc in evenly(find_documents(), args.pages):
        try:
            images.append(load_document(doc, runs[0]["settings"].ingest).pages[0])
        except Exception as e:  # noqa: BLE001 - a fixture that is unreadable on purpose
            print(f"skipped {doc.name}: {e}", file=sys.stderr)
    for run in runs:  # warm, untimed
        read_page(images[0], run["engine"], run["settings"].preprocess)
        run["acc"].clear()
    for image in images:
        for run in runs:
            t = time.process_time()
            read_page(image, run["engine"], run["settings"].preprocess)
            run["total"] += time.process_time() - t

    print(f"CPU seconds for {len(images)} pages, one thread ({machine()['cpu']}):")
    header = f"{'stage':<22}" + "".join(f"{'config ' + str(i + 1):>12}" for i in range(len(runs)))
    print(header)
    for name in (*STAGES, "other", "page total"):
        cells = []
        for run in runs:
            value = run["total"] - sum(run["acc"].values()) if name == "other" else \
                run["total"] if name == "page total" else run["acc"][name]
            cells.append(f"{value:>12.1f}")
        print(f"{name:<22}" + "".join(cells))
    for i, run in enumerate(runs):
        print(f"config {i + 1}: {json.dumps(run['ocr'])}")
    if len(runs) > 1:
        print("page total, config 1 ÷ each: " + ", ".join(f"{runs[0]['total'] / r['total']:.2f}" for r in runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
