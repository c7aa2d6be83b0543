"""Where a page's time goes: CPU seconds per stage of `read_page`, for one or more engine settings.

    .venv/bin/python -m benchmarks.bench_stages [--pages 24] [--ocr JSON ...]
    .venv/bin/python -m benchmarks.bench_stages --documents 12 [--ocr JSON ...]

Each `--ocr` is a JSON object of RapidOCR options over the defaults (e.g. '{"cascade": {"enabled":
false}}'); every configuration gets its own engine with one inference thread and one recognition
stream, so the figures are CPU seconds of this process's own work (`time.process_time`), which a busy
neighbour on a shared machine inflates far less than wall seconds. The engine's calls are wrapped:
detection, the direction classifier, the cascade's first pass, the small recogniser; the rest of
`read_page` (warps, outline search, strip cutting, routing, quality) is "other". Pages are spread
evenly over every fixture page, read once untimed first; configurations alternate page by page.

With `--documents N`, the whole cacheable reading of N fixture documents (`read_document`: decode,
`read_page`, capture signals, seals, the issue-20 re-reads) instead, with its steps timed too
(inclusive of the model calls they make).
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
import time

from benchmarks.common import evenly, find_documents, machine

STAGES = ("detect", "classify_direction", "first_pass", "recognize")
# pipeline.document's steps of read_document, timed where read_document calls them
DOCUMENT_STEPS = ("load_document_bytes", "read_page", "rainbow_tint", "measure_page", "read_seals",
                  "reread_under_seals", "reread_credit_code", "reread_missing_holder", "reread_rule_lines")


def _timed(owner, name: str, acc, key: str) -> None:
    call = getattr(owner, name)

    def timed(*a, **k):
        t = time.process_time()
        try:
            return call(*a, **k)
        finally:
            acc[key] += time.process_time() - t

    setattr(owner, name, timed)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=24, help="pages spread evenly over the fixture documents")
    parser.add_argument("--ocr", action="append", default=[], help="JSON of RapidOCR options (repeatable)")
    parser.add_argument("--documents", type=int, default=0,
                        help="time read_document over this many fixture documents instead of read_page")
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
            _timed(engine, name, acc, name)
        runs.append({"ocr": config, "settings": settings, "engine": engine, "acc": acc, "total": 0.0,
                     "steps": collections.Counter()})
    if args.documents:
        return documents(runs, args.documents)

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


def documents(runs: list[dict], n: int) -> int:
    """read_document over `n` fixture documents, each configuration in turn per document."""
    from pipeline import document
    from pipeline.models import DocumentRef

    current: dict = {}
    for name in DOCUMENT_STEPS:  # the names read_document calls, timed into the current run's counter
        original = getattr(document, name)

        def timed(*a, _original=original, _name=name, **k):
            t = time.process_time()
            try:
                return _original(*a, **k)
            finally:
                current["run"]["steps"][_name] += time.process_time() - t

        setattr(document, name, timed)
    docs = evenly(find_documents(), n)
    pages = 0
    for i, doc in enumerate([docs[0], *docs]):
        for run in runs:
            current["run"] = run
            t = time.process_time()
            reading = document.read_document(doc.parent, DocumentRef(file=doc.name), run["engine"], run["settings"])
            if i == 0:  # warm, untimed
                run["acc"].clear()
                run["steps"].clear()
                continue
            run["total"] += time.process_time() - t
        pages += len(reading.pages) if i else 0
    print(f"CPU seconds of read_document for {len(docs)} documents ({pages} pages), one thread ({machine()['cpu']}):")
    print(f"{'':<22}" + "".join(f"{'config ' + str(i + 1):>12}" for i in range(len(runs))))
    print("steps (each with the model calls it makes):")
    for name in DOCUMENT_STEPS:
        print(f"  {name:<20}" + "".join(f"{r['steps'][name]:>12.1f}" for r in runs))
    print("model calls (wherever made):")
    for name in STAGES:
        print(f"  {name:<20}" + "".join(f"{r['acc'][name]:>12.1f}" for r in runs))
    print(f"{'document total':<22}" + "".join(f"{r['total']:>12.1f}" for r in runs))
    for i, run in enumerate(runs):
        print(f"config {i + 1}: {json.dumps(run['ocr'])}")
    if len(runs) > 1:
        print("document total, config 1 ÷ each: " + ", ".join(f"{runs[0]['total'] / r['total']:.2f}" for r in runs))
    return 0


if __name__ == "__main__":
    sys.exit(main())
