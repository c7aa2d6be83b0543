"""A realistic backlog: 200 listings from 20 shops, each shop sending the same documents with every
product it lists, verified with the reading shared through the verdict store and without it.

    .venv/bin/python -m benchmarks.backlog_reuse [--shops 20] [--listings 10] [--sample 40]

The inbox is built in a temporary folder from the fixtures: 20 fixture submissions (spread evenly over
those with documents and no product images; product images are read per listing either way) are the
shops; each shop lists `--listings` products (its own submission id and product title) carrying
byte-identical copies of its documents. Listings arrive in a shuffled order (fixed seed), as a backlog
does. Two spawned worker processes with one inference thread each (the recommended pool on 2 cores)
verify them the way the backlog flow's tasks do (operations.readings.read_shared, interpret, the
rules), without Prefect:

- with the shared reading: every listing, against a fresh SQLite verdict store in the temp folder
  (the first listing of a shop reads its documents, the others find them in the store);
- without: `--sample` listings spread evenly (every listing costs the same then: it reads all its
  documents), so the figure does not need the full 200.

`backlog_reuse_x` = listings per minute with ÷ without. Timing starts once both workers have loaded
their engine and read a warm-up page.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import random
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from benchmarks.common import check_date, evenly, find_submissions, peak_rss_mb

_state: dict = {}


def shops(n: int) -> list[Path]:
    """Fixture submissions with documents and no product images, `n` spread evenly."""
    found = []
    for path in find_submissions():
        raw = json.loads(path.read_text(encoding="utf-8"))
        if raw.get("documents") and not (raw.get("product") or {}).get("images"):
            found.append(path)
    return evenly(found, n)


def build_inbox(root: Path, shop_submissions: list[Path], listings: int, seed: int = 21) -> list[Path]:
    """`listings` submission folders per shop under `root`, each with byte-identical copies of the
    shop's documents; returns their submission.json paths in a shuffled arrival order."""
    paths = []
    for s, shop in enumerate(shop_submissions):
        raw = json.loads(shop.read_text(encoding="utf-8"))
        today = check_date(shop)
        for n in range(listings):
            folder = root / f"shop{s:02d}-listing{n:02d}"
            folder.mkdir(parents=True)
            for doc in raw["documents"]:
                target = folder / doc["file"]
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copyfile(shop.parent / doc["file"], target)
            listing = {**raw, "id": f"BL-{s:02d}-{n:02d}",
                       "product": {**raw["product"], "title": f"{raw['product'].get('title', '')} 款{n + 1}"}}
            (folder / "submission.json").write_text(json.dumps(listing, ensure_ascii=False), encoding="utf-8")
            if today is not None:
                (folder / "check_date").write_text(today.isoformat(), encoding="utf-8")
            paths.append(folder / "submission.json")
    random.Random(seed).shuffle(paths)
    return paths


def _init(ocr: dict, store_url: str | None, warm_page: str, ready) -> None:
    try:
        _load(ocr, store_url, warm_page)
    except BaseException as e:  # the parent must hear of it: a pool replaces a worker whose start fails, forever
        ready.put(f"worker could not start: {type(e).__name__}: {e}")
        raise
    ready.put(peak_rss_mb())


def _load(ocr: dict, store_url: str | None, warm_page: str) -> None:
    from operations.backlog import reading_key
    from operations.readings import SharedReadings
    from operations.store import Store
    from pipeline.ingest import load_document
    from pipeline.ocr import get_engine
    from pipeline.preprocess import read_page
    from pipeline.settings import Settings
    from rules import load_rules

    settings = Settings(ocr=ocr)
    engine = get_engine(settings.ocr)
    read_page(load_document(Path(warm_page), settings.ingest).pages[0], engine, settings.preprocess)
    shared = SharedReadings(Store(store_url, create=False)) if store_url else None  # created by run()
    _state.update(settings=settings, engine=engine, rules=load_rules(settings.rules_dir), shared=shared,
                  key=reading_key(engine, settings))


def _verify(path: str) -> tuple[str, float, str, float, int, int]:
    """One listing as the backlog's tasks verify it: fingerprint, per document the (shared) reading
    and its interpretation, then the rules."""
    from operations.backlog import fingerprint
    from operations.readings import read_shared
    from pipeline.document import interpret_document
    from pipeline.ingest import submission_from_bytes
    from pipeline.runner import assemble_verdict, check_submission

    t = time.perf_counter()
    folder = Path(path).parent
    fp = fingerprint(folder)
    st = _state
    submission = check_submission(submission_from_bytes(fp.submission_json, path), folder.resolve(), st["rules"])
    works = []
    for ref in submission.documents:
        reading = read_shared(st["shared"], st["key"], folder.resolve(), ref, st["engine"], st["settings"],
                              fp.doc_hashes[ref.file])
        works.append(interpret_document(reading, ref, st["settings"], st["rules"]))
    today_file = folder / "check_date"
    today = dt.date.fromisoformat(today_file.read_text()) if today_file.is_file() else dt.date.today()
    verdict = assemble_verdict(submission, folder.resolve(), works, today=today, settings=st["settings"],
                               rules=st["rules"], engine=st["engine"],
                               image_digests=[fp.doc_hashes[f] for f in submission.product.images])
    hits = st["shared"].hits if st["shared"] is not None else 0
    return path, time.perf_counter() - t, verdict.decision, peak_rss_mb(), hits, os.getpid()


def _hits(results) -> int:
    """Documents found in the store: each worker's count after its last listing, summed."""
    last: dict[int, int] = {}
    for r in results:
        last[r[5]] = max(last.get(r[5], 0), r[4])
    return sum(last.values())


def run(listings: list[Path], store_url: str | None, ocr: dict, workers: int = 2) -> dict:
    if store_url:
        from operations.store import Store

        Store(store_url).close()  # the tables, once, before the workers race to create them
    ocr = {**ocr, "intra_op_num_threads": 1}
    ctx = mp.get_context("spawn")
    ready = ctx.Queue()
    warm = next(p for p in sorted(listings[0].parent.rglob("*")) if p.suffix.lower() in {".jpg", ".png", ".webp"})
    with ctx.Pool(workers, initializer=_init, initargs=(ocr, store_url, str(warm), ready)) as pool:
        load_rss = [ready.get(timeout=600) for _ in range(workers)]
        if failed := [r for r in load_rss if isinstance(r, str)]:
            pool.terminate()
            raise RuntimeError(failed[0])
        t0 = time.perf_counter()
        results = pool.map(_verify, [str(p) for p in listings], chunksize=1)
        wall = time.perf_counter() - t0
    return {"listings": len(results), "wall_s": round(wall, 2),
            "listings_per_min": round(60 * len(results) / wall, 2),
            "median_listing_s": round(statistics.median(r[1] for r in results), 3),
            "worker_peak_rss_mb": round(max(max(r[3] for r in results), max(load_rss))),
            "shared_hits": _hits(results),
            "decisions": {Path(r[0]).parent.name: r[2] for r in results}}


def measure(ocr: dict, shops_n: int = 20, listings: int = 10, sample: int = 40, workers: int = 2) -> dict:
    with tempfile.TemporaryDirectory(prefix="zizhi-backlog-") as tmp:
        root = Path(tmp)
        chosen = shops(shops_n)
        inbox = build_inbox(root / "inbox", chosen, listings)
        without = run(evenly(sorted(inbox), sample), None, ocr, workers)
        with_ = run(inbox, f"sqlite:///{root / 'verdicts.db'}", ocr, workers)
    same = [name for name, d in without["decisions"].items() if with_["decisions"].get(name) != d]
    return {"shops": len(chosen), "listings": len(inbox), "workers": workers, "without_shared_reading": without,
            "with_shared_reading": with_, "decisions_differing": same,
            "backlog_reuse_x": round(with_["listings_per_min"] / without["listings_per_min"], 2)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--shops", type=int, default=20)
    parser.add_argument("--listings", type=int, default=10, help="listings per shop")
    parser.add_argument("--sample", type=int, default=40, help="listings timed without the shared reading")
    args = parser.parse_args(argv)
    from pipeline.settings import get_settings

    print(json.dumps(measure(get_settings().ocr.model_dump(mode="json"), args.shops, args.listings, args.sample),
                     indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
