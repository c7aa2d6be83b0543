"""What a product video adds to a submission (issue 23, docs/performance.md).

    python -m benchmarks.bench_media [--runs 3] [--json benchmarks/media.json]

Verifies each fixture video alone in its case's folder, and the same folder without videos, in one process with the OCR engine loaded once, and reports the difference —
split into decoding and sampling (the child process) and screening the sampled frames (QR detection
and OCR). Also times a corrupt video and a decoder stopped at its deadline.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from pipeline.media.videos import sample_video
from pipeline.ocr.base import get_engine
from pipeline.runner import verify
from pipeline.settings import get_settings
from rules import load_rules

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "submissions"
# (case, video): each fixture video alone in its case's folder
CASES = [("general-listing-clean-video-ordinary-text", "media/detail.mp4"),
         ("general-listing-prohibited-media", "media/detail.mp4"),
         ("general-listing-prohibited-media", "media/main.mp4"),
         ("general-listing-prohibited-media", "media/detail_2.mp4")]
TODAY = dt.date(2026, 11, 27)


def _listing(folder: Path, tmp: Path, videos: list[str]) -> Path:
    """A copy of the case whose product lists only `videos`."""
    copy = tmp / f"{folder.name}-{len(list(tmp.iterdir()))}"
    shutil.copytree(folder, copy)
    sub = json.loads((copy / "submission.json").read_text(encoding="utf-8"))
    sub["product"]["videos"] = videos
    (copy / "submission.json").write_text(json.dumps(sub, ensure_ascii=False), encoding="utf-8")
    return copy / "submission.json"


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchmarks.bench_media", description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--json", type=Path)
    args = ap.parse_args(argv)
    settings = get_settings()
    limits = load_rules(settings.rules_dir).thresholds.video
    engine = get_engine(settings.ocr)
    verify(FIXTURES / "demo" / "submission.json", today=TODAY, engine=engine)  # warm up
    results = {}
    with tempfile.TemporaryDirectory(prefix="zizhi-bench-media-") as tmp:
        for name, video_file in CASES:
            folder = FIXTURES / name
            plain = _listing(folder, Path(tmp), [])
            with_video = _listing(folder, Path(tmp), [video_file])
            data = (folder / video_file).read_bytes()
            with_v, without_v, decode, frames = [], [], [], 0
            for _ in range(args.runs):
                t = time.perf_counter()
                verdict = verify(with_video, today=TODAY, engine=engine)
                with_v.append(time.perf_counter() - t)
                t = time.perf_counter()
                verify(plain, today=TODAY, engine=engine)
                without_v.append(time.perf_counter() - t)
                t = time.perf_counter()
                sampled = sample_video(data, limits, settings.ingest.video_timeout_s)
                decode.append(time.perf_counter() - t)
                frames = len(sampled.frames)
            media = next((m for m in verdict.media if m.kind == "video"), None)
            results[f"{name} {video_file}"] = {
                "decision": verdict.decision, "bytes": len(data),
                "duration_s": media.duration_s if media else None, "frames_screened": frames,
                "with_video_s": round(statistics.median(with_v), 2),
                "without_video_s": round(statistics.median(without_v), 2),
                "video_adds_s": round(statistics.median(with_v) - statistics.median(without_v), 2),
                "decode_and_sample_s": round(statistics.median(decode), 2),
            }
            print(name, video_file, results[f"{name} {video_file}"], flush=True)
    t = time.perf_counter()
    stopped = sample_video((FIXTURES / CASES[0][0] / CASES[0][1]).read_bytes(), limits, 0.5)
    results["deadline_0.5s"] = {"error": stopped.error, "seconds": round(time.perf_counter() - t, 2)}
    print("deadline", results["deadline_0.5s"])
    if args.json:
        args.json.write_text(json.dumps(results, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
