"""What the benchmarks share: the fixture pages and submissions, percentiles, memory, the machine."""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SUBMISSIONS = ROOT / "fixtures" / "submissions"
DOCUMENT_SUFFIXES = {".jpg", ".jpeg", ".png", ".webp", ".tif", ".tiff", ".bmp", ".pdf"}


def find_documents(args: list[str] | None = None) -> list[Path]:
    """Image and PDF files under the given folders/files; default: every fixture submission's documents."""
    targets = [Path(a) for a in (args or [])] or [SUBMISSIONS]
    docs: list[Path] = []
    for t in targets:
        if t.is_dir():
            docs += sorted(p for p in t.rglob("*") if p.suffix.lower() in DOCUMENT_SUFFIXES)
        elif t.suffix.lower() in DOCUMENT_SUFFIXES:
            docs.append(t)
    return docs


def find_submissions(root: Path = SUBMISSIONS) -> list[Path]:
    return sorted(root.glob("*/submission.json"))


def check_date(submission: Path):
    """The fixture's own check date (expected.json), so verdicts are the ones replay scores."""
    import datetime as dt

    expected = submission.parent / "expected.json"
    if expected.is_file():
        return dt.date.fromisoformat(json.loads(expected.read_text(encoding="utf-8"))["check_date"])
    return None


def evenly(items: list, k: int | None) -> list:
    """`k` items spread evenly over `items` (all of them when k is 0/None or not smaller): a fixed,
    varied sample as the fixture set grows, the same on every run."""
    if not k or k >= len(items):
        return list(items)
    return [items[round(i * (len(items) - 1) / (k - 1))] for i in range(k)] if k > 1 else [items[0]]


def percentile(values: list[float], q: float) -> float:
    """Nearest-rank percentile (no interpolation: with ~20 pages p95 is the second slowest)."""
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, round(q * (len(ordered) - 1))))
    return ordered[k]


def peak_rss_mb() -> float:
    """Peak resident set size of this process so far, in MiB.

    /proc/self/status VmHWM belongs to this process's own memory map; getrusage's ru_maxrss is not
    reset by exec on Linux, so a spawned worker would report its parent's peak.
    """
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def cpu_busy(seconds: float = 3.0) -> float | None:
    """Share of all cores busy over the next `seconds` (from /proc/stat), whoever uses them."""
    def sample():
        fields = [int(x) for x in Path("/proc/stat").read_text().splitlines()[0].split()[1:]]
        idle = fields[3] + fields[4]  # idle + iowait
        return sum(fields), idle

    try:
        total0, idle0 = sample()
        time.sleep(seconds)
        total1, idle1 = sample()
    except (OSError, ValueError, IndexError):
        return None
    return round(1 - (idle1 - idle0) / max(1, total1 - total0), 3)


def wait_for_quiet(max_wait_s: float, busy_below: float = 0.2) -> float | None:
    """On a shared machine: wait (up to `max_wait_s`) until the cores are nearly idle before a timed
    run; returns the busy share last seen, which goes into the figures."""
    deadline = time.monotonic() + max_wait_s
    busy = cpu_busy()
    while busy is not None and busy >= busy_below and time.monotonic() < deadline:
        time.sleep(5)
        busy = cpu_busy()
    return busy


def machine() -> dict:
    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem_gb = None
    try:
        mem_gb = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError):
        pass
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    return {"cpu": cpu, "cores": os.cpu_count(), "memory_gb": mem_gb, "python": platform.python_version(),
            "load_avg_1min_at_start": round(load, 2) if load is not None else None}


def git_revision() -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], check=False,
                             capture_output=True, text=True, timeout=10)
        dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain"], check=False,
                               capture_output=True, text=True, timeout=10).stdout.strip()
        return out.stdout.strip() + ("+dirty" if dirty else "") if out.returncode == 0 else None
    except (OSError, subprocess.SubprocessError):
        return None


def print_table(headers: list[str], rows: list[list], file=sys.stdout) -> None:
    cells = [[str(c) for c in headers]] + [[str(c) for c in r] + [""] * (len(headers) - len(r)) for r in rows]
    widths = [max(len(r[i]) for r in cells) for i in range(len(headers))]
    for n, r in enumerate(cells):
        print("  ".join(c.ljust(w) if i == 0 else c.rjust(w) for i, (c, w) in enumerate(zip(r, widths))), file=file)
        if n == 0:
            print("  ".join("-" * w for w in widths), file=file)
