"""How fast the reviewer console answers, in process (no network): queue pages over a large store,
a submission page the first time (its pages decoded from the store's copy) and again (cached), a
page image, and a decision.

    .venv/bin/python -m benchmarks.bench_console                 # seeds 2,000 verdicts in a temp store
    .venv/bin/python -m benchmarks.bench_console --store URL     # an existing store (after a backlog run)

Seeded verdicts reuse the fixture submissions' real files (a JPG, PNG, WEBP or PDF each), so a
first view decodes real uploads; their verdicts carry no fields (no OCR is run here).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import re
import sys
import tempfile
import time
import warnings
from pathlib import Path

from benchmarks.common import SUBMISSIONS, find_submissions, machine, peak_rss_mb, percentile

PASSWORD = "benchmark-password"


def seed(url: str, count: int) -> None:
    from operations import backlog as bl
    from operations.store import Key, Store, current_owner
    from pipeline.models import DocumentResult, Reason, Verdict

    store = Store(url)
    folders = [p.parent for p in find_submissions(SUBMISSIONS)]
    copies = []
    for folder in folders:
        copy = bl.copy_submission(folder, bl.fingerprint(folder).content_hash)
        if copy is not None and copy.files:
            copies.append(copy)
    decisions, codes = ("review", "reject", "approve"), ("LOW_CONFIDENCE", "EXPIRED", "HOLDER_MISMATCH", "")
    for i in range(count):
        copy = copies[i % len(copies)]
        decision, code = decisions[i % 3], codes[i % 4]
        verdict = Verdict(
            submission_id=f"SUB-BENCH-{i:06d}", decision=decision, checked_on=dt.date(2026, 11, 27),
            reasons=[Reason(code=code, message="seeded")] if code and decision != "approve" else [],
            documents=[DocumentResult(file=name, doc_type="business_licence", doc_type_confidence=0.9, pages=1)
                       for role, name, _ in copy.files if role == "document"])
        store.record_verdict(Key(verdict.submission_id, f"bench-{i}"), verdict_json=verdict.model_dump_json(),
                             decision=decision, checked_on=verdict.checked_on, versions={"engine": "bench"},
                             owner=current_owner(), copy=copy, reason_codes=[r.code for r in verdict.reasons])


def timed(fn, repeat: int) -> list[float]:
    out = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        out.append((time.perf_counter() - start) * 1000)
    return out


def summary(ms: list[float]) -> dict:
    return {"n": len(ms), "p50_ms": round(percentile(ms, 0.5), 1), "p95_ms": round(percentile(ms, 0.95), 1)}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--store", help="an existing verdict store (default: seed a temporary one)")
    parser.add_argument("--verdicts", type=int, default=2000, help="verdicts to seed (default 2000)")
    parser.add_argument("--repeat", type=int, default=30, help="requests per measurement")
    parser.add_argument("--json", help="also write the figures here")
    args = parser.parse_args(argv)

    warnings.filterwarnings("ignore", message="Using `httpx` with `starlette.testclient`")
    from fastapi.testclient import TestClient

    from console.app import create_app
    from console.db import ConsoleStore
    from operations.store import Store

    tmp = tempfile.TemporaryDirectory(prefix="zizhi-bench-console-")
    url = args.store or f"sqlite:///{Path(tmp.name) / 'verdicts.db'}"
    started = time.perf_counter()
    if not args.store:
        seed(url, args.verdicts)
    seed_s = time.perf_counter() - started
    store = Store(url)
    db = ConsoleStore(store)
    name = f"bench-{int(time.time())}"
    db.add_reviewer(name, PASSWORD)
    client = TestClient(create_app(url), follow_redirects=False)
    page = client.get("/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text).group(1)
    assert client.post("/login", data={"name": name, "password": PASSWORD, "csrf_token": token}).status_code == 303

    ids = [v.id for v in store.verdicts(limit=args.repeat * 2 + 1)]
    figures: dict = {"machine": machine(), "store": "seeded" if not args.store else "given",
                     "verdicts": len(store.verdicts()), "seed_s": round(seed_s, 1)}
    figures["queue_first_page"] = summary(timed(lambda: client.get("/queue"), args.repeat))
    figures["queue_filtered"] = summary(timed(lambda: client.get("/queue", params={"reason": "EXPIRED",
                                                                                  "decision": "reject"}), args.repeat))
    figures["queue_page_20"] = summary(timed(lambda: client.get("/queue", params={"page": 20}), args.repeat))
    cold = iter(ids[:args.repeat])
    figures["submission_page_first_view"] = summary(timed(lambda: client.get(f"/verdicts/{next(cold)}"), args.repeat))
    figures["submission_page_again"] = summary(timed(lambda: client.get(f"/verdicts/{ids[0]}"), args.repeat))
    figures["page_image_cached"] = summary(timed(
        lambda: client.get(f"/verdicts/{ids[0]}/files/1/pages/1.jpg"), args.repeat))
    pending = iter(ids[args.repeat:])

    def decide():
        vid = next(pending)
        html = client.get(f"/verdicts/{vid}").text
        csrf = re.search(r'name="csrf_token" value="([^"]+)"', html).group(1)
        seen = re.search(r'name="seen_review" value="(\d+)"', html).group(1)
        start = time.perf_counter()
        assert client.post(f"/verdicts/{vid}/decision", data={"csrf_token": csrf, "seen_review": seen,
                                                               "decision": "approve"}).status_code == 303
        return time.perf_counter() - start

    figures["decision_post"] = summary([decide() * 1000 for _ in range(min(args.repeat, len(ids) - args.repeat))])
    figures["peak_rss_mb"] = round(peak_rss_mb())
    print(json.dumps(figures, indent=2, ensure_ascii=False))
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    tmp.cleanup()
    return 0


if __name__ == "__main__":
    sys.exit(main())
