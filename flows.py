"""Prefect flows: a thin layer over the plain functions in `pipeline/`.

`zizhi verify` calls `pipeline.runner.verify` directly (a one-off check should not pay for
Prefect's temporary server); these flows run the same functions for scheduled, observed work.
"""

from __future__ import annotations

import datetime as dt
import os
from pathlib import Path

os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("DO_NOT_TRACK", "1")

from prefect import flow, task  # noqa: E402

from pipeline.errors import SubmissionError  # noqa: E402
from pipeline.models import Verdict  # noqa: E402
from pipeline.runner import verify  # noqa: E402


@task(name="verify-submission", retries=0)
def verify_task(submission_path: str, today: dt.date | None = None) -> dict:
    """One submission → its verdict (as JSON-able dict), or the reason it is unusable."""
    try:
        verdict: Verdict = verify(submission_path, today=today)
    except SubmissionError as e:
        return {"submission": submission_path, "error": str(e)}
    return verdict.model_dump(mode="json")


@flow(name="verify-submission")
def verify_submission(submission_path: str, today: dt.date | None = None) -> dict:
    return verify_task(submission_path, today)


@flow(name="process-backlog")
def process_backlog(inbox: str, today: dt.date | None = None) -> list[dict]:
    """Verify every `*/submission.json` under `inbox`; one bad submission never stops the rest."""
    paths = sorted(str(p) for p in Path(inbox).glob("*/submission.json"))
    futures = [verify_task.submit(p, today) for p in paths]
    return [f.result() for f in futures]
