"""Progress of a backlog run, for an operator: one line, not one log line per task.

`Progress` counts what a run has done so far and logs it to the `zizhi.progress` logger (which no
Prefect handler sees: per-task logs stay in the Prefect UI). `ProgressPrinter` is what
`zizhi backlog run` hangs on that logger: a live bar on a terminal, a plain line every so often in
a log file. A line reads

    12/40 done · approve 3 · reject 5 · review 3 · failed 1 · 14.2/min · ETA 1m58s
"""

from __future__ import annotations

import logging
import sys
import time
from collections import Counter
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from typing import TextIO

log = logging.getLogger("zizhi.progress")
log.propagate = False  # only the CLI's printer shows it; a worker's log is the Prefect UI's
log.setLevel(logging.INFO)

SHOWN = ("approve", "reject", "review", "failed")


@dataclass
class Progress:
    """Submissions done out of `total` so far, by outcome status, since `started` (monotonic s)."""

    total: int
    done: int = 0
    counts: Counter = field(default_factory=Counter)
    started: float = field(default_factory=time.monotonic)

    def add(self, status: str) -> None:
        """One submission ended (approve / reject / review / failed / duplicate / changed / taken)."""
        self.done += 1
        self.counts[status] += 1
        log.info(self.line(), extra={"zizhi_progress": self})

    def grow(self, n: int) -> None:
        """`n` more to do (a folder re-uploaded during the run is verified again as new content)."""
        self.total += n

    def rate(self, now: float | None = None) -> float:
        """Submissions per minute so far (0.0 before the first one ends)."""
        elapsed = (now if now is not None else time.monotonic()) - self.started
        return self.done / elapsed * 60 if self.done and elapsed > 0 else 0.0

    def line(self, now: float | None = None) -> str:
        rate = self.rate(now)
        parts = [f"{self.done}/{self.total} done"] + [f"{s} {self.counts[s]}" for s in SHOWN]
        parts.append(f"{rate:.1f}/min")
        left = max(0, self.total - self.done)
        parts.append(f"ETA {_duration(left / rate * 60)}" if rate and left else ("ETA -" if left else "finished"))
        return " · ".join(parts)


def _duration(seconds: float) -> str:
    seconds = round(seconds)
    if seconds < 60:
        return f"{seconds}s"
    if seconds < 3600:
        return f"{seconds // 60}m{seconds % 60:02d}s"
    return f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"


_current: ContextVar[Progress | None] = ContextVar("zizhi_progress", default=None)


def set_progress(progress: Progress) -> Token:
    return _current.set(progress)


def reset_progress(token: Token) -> None:
    _current.reset(token)


def current_progress(total: int = 0) -> Progress:
    """The run's progress (set by `process_backlog`), or a new one for a batch run on its own."""
    return _current.get() or Progress(total=total)


class ProgressPrinter(logging.Handler):
    """Shows `Progress` lines: redrawn in place on a terminal (with a bar), else one plain line at
    most every `interval` seconds and the last one always."""

    def __init__(self, stream: TextIO | None = None, *, interval: float = 10.0, width: int = 24):
        super().__init__(logging.INFO)
        self.stream = stream or sys.stderr
        self.live = bool(getattr(self.stream, "isatty", lambda: False)())
        self.interval, self.width = interval, width
        self._last = float("-inf")
        self._open = False  # a live line is on screen without its newline

    def emit(self, record: logging.LogRecord) -> None:
        progress: Progress | None = getattr(record, "zizhi_progress", None)
        if progress is None:
            return
        finished = progress.done >= progress.total
        now = time.monotonic()
        try:
            if self.live:
                filled = self.width * progress.done // max(1, progress.total)
                bar = "█" * filled + "·" * (self.width - filled)
                self.stream.write(f"\r\033[K[{bar}] {progress.line(now)}" + ("\n" if finished else ""))
                self._open = not finished
            elif finished or now - self._last >= self.interval:
                self.stream.write(progress.line(now) + "\n")
                self._last = now
            self.stream.flush()
        except Exception:  # noqa: BLE001 - a closed terminal must not stop the run
            self.handleError(record)

    def close(self) -> None:
        if self._open:
            self.stream.write("\n")
            self._open = False
        super().close()
