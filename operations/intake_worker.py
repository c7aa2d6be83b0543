"""The embedded worker of `zizhi serve`: runs the `process-intake` flow whenever accepted uploads wait.

A thread that wakes when the API accepts an upload (or every `ZIZHI_WORKER_POLL_SECONDS`), and runs
one `process-intake` flow run over what is pending — the same flow (and `backlog-batch` sub-flow,
claims and store) a cluster's workers run with `zizhi serve --no-worker`, so several API processes
and workers may share a store: the claims decide who verifies what.
"""

from __future__ import annotations

import logging
import threading
import uuid

from operations.intake import IntakeSettings, IntakeStore
from operations.store import Store, current_owner
from pipeline.display import visible

log = logging.getLogger(__name__)


class IntakeWorker:
    def __init__(self, store: Store, settings: IntakeSettings, *, objects: str | None = None,
                 after_round=None):
        self.store = store
        self.intake = IntakeStore(store)
        self.settings = settings
        self.objects = objects
        self.after_round = after_round  # e.g. wake the notifier: a verdict is a status change
        self.wake = threading.Event()
        self._stop = threading.Event()
        self._owner = current_owner(uuid.uuid4().hex[:8])
        self._thread = threading.Thread(target=self._run, name="zizhi-intake-worker", daemon=True)

    def start(self) -> IntakeWorker:
        self._thread.start()
        return self

    def stop(self, timeout: float = 30) -> None:
        """Ask the loop to stop after the current flow run (a run in progress releases its claims when
        the process ends: the next run takes them over)."""
        self._stop.set()
        self.wake.set()
        self._thread.join(timeout=timeout)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                if self.intake.pending_work(owner=self._owner, limit=1):
                    self.run_once()
                    continue  # more may have come meanwhile
            except Exception as e:  # noqa: BLE001 - a failed round is logged; the next one tries again
                log.warning("intake worker: %s", visible(e))
            self.wake.wait(self.settings.worker_poll_seconds)
            self.wake.clear()

    def run_once(self) -> dict:
        from flows import process_intake

        summary = process_intake(store=self.store.url, objects=self.objects, limit=self.settings.worker_batch_size)
        if self.after_round is not None:
            self.after_round()
        return summary
