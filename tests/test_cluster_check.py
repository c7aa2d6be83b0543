"""The pieces of `make cluster-check` that can be checked without starting a cluster (the check
itself runs in CI: `.ci/run`)."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

import pytest
from pydantic import ValidationError

from operations.cluster_check import ClusterCheckSettings, descendants, fixture_names, kill_tree, summary_line


def test_the_last_line_is_exactly_as_specified():
    assert summary_line(2, 2, 26, 26, 0, 1, 305.6) == \
        "cluster workers 2 workers_used 2 submissions 26 verdicts 26 duplicates 0 failed 1 seconds 306"


def test_kill_tree_reaches_the_flow_run_under_a_worker():
    proc = subprocess.Popen(["sh", "-c", "sleep 60 & sleep 60 & wait"], start_new_session=True)
    try:
        deadline = time.monotonic() + 10
        while len(descendants(proc.pid)) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        children = descendants(proc.pid)
        assert len(children) == 2
        kill_tree(proc.pid)
        assert proc.wait(timeout=10) != 0
        def state(pid: int) -> str | None:
            try:
                return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except FileNotFoundError:
                return None

        # A killed process still shows R until a busy core lets it run its exit: wait for each child
        # to be gone, or a zombie waiting for init to reap it (a signal that missed it never gets there).
        deadline = time.monotonic() + 10
        while any(state(pid) not in (None, "Z") for pid in children) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert all(state(pid) in (None, "Z") for pid in children), [state(pid) for pid in children]
    finally:
        if proc.poll() is None:
            proc.kill()


def test_the_inbox_is_made_of_distinct_one_image_fixtures():
    names = fixture_names(26)
    assert len(set(names)) == 26
    with pytest.raises(SystemExit, match="one-image fixture submissions"):
        fixture_names(10_000)


def test_settings_default_off_the_usual_ports_and_refuse_unknown_keys(monkeypatch):
    cfg = ClusterCheckSettings()
    assert (cfg.pg_port, cfg.prefect_port, cfg.ocr_threads) == (55432, 4250, 1)
    assert cfg.one_worker + cfg.two_workers + cfg.kill_wave + 1 >= 20  # with the broken one
    with pytest.raises(ValidationError):
        ClusterCheckSettings(pg_prot=1)
