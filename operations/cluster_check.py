"""`make cluster-check`: the multi-machine setup of docs/scaling.md, run for real on this machine.

It installs (apt, as `.ci/postgres` does) and starts its own PostgreSQL cluster in a temporary
folder, a Prefect server whose database is that PostgreSQL, a process work pool with **two
workers** (separate processes, one flow run at a time each), and registers the backlog deployment
with the verdict store on the same PostgreSQL. Then, over one inbox of fixture submissions plus a
deliberately broken one, added in three waves as uploads arrive:

1. one flow run (one worker busy): submissions per minute with one worker;
2. two flow runs at once (both workers): submissions per minute with two workers;
3. two flow runs at once, and one worker (with its flow run) killed with `kill -9` midway; the
   other finishes its run, then one more run takes over what the dead one had claimed.

It checks that every good submission has exactly one verdict, that the broken one is recorded as
failed, and that both workers did work; stops everything it started, whatever happens; and ends
with the line

    cluster workers 2 workers_used U submissions N verdicts V duplicates D failed F seconds S

(N: good submissions, each must have one verdict; F: submissions recorded as failed, the broken
one). Exit 0 only when V = N, D = 0, F = 1, U = 2 and the kill did land midway.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = ROOT / "fixtures" / "submissions"
POOL = "zizhi-cluster-check"
DEPLOYMENT = "process-backlog/backlog"
BROKEN_ID = "SUB-CLUSTER-BROKEN"


class ClusterCheckSettings(BaseSettings):
    """Knobs of `make cluster-check` (`ZIZHI_CLUSTER_*`); the ports are off the usual ones so that
    other work on the machine is not disturbed."""

    model_config = SettingsConfigDict(env_prefix="ZIZHI_CLUSTER_", extra="forbid")

    pg_port: int = Field(55432, ge=1024, le=65535, description="Port of the check's own PostgreSQL")
    prefect_port: int = Field(4250, ge=1024, le=65535, description="Port of the check's Prefect server")
    one_worker: int = Field(6, ge=1, description="Good submissions of wave 1 (one flow run)")
    two_workers: int = Field(10, ge=2, description="Good submissions of wave 2 (two flow runs)")
    kill_wave: int = Field(10, ge=4, description="Good submissions of wave 3 (two runs, one worker killed)")
    ocr_threads: int = Field(1, ge=1, le=16, description="onnxruntime threads per worker's OCR engine")
    phase_timeout: float = Field(900.0, gt=0, description="Seconds a wave may take before the check fails")
    keep: bool = Field(False, description="Keep the temporary folder (logs, PGDATA) for a post-mortem")


# --- processes -------------------------------------------------------------------------------

def descendants(pid: int) -> list[int]:
    """Every live process below `pid` (children first found, then theirs), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = [], [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def kill_tree(pid: int, sig: int = signal.SIGKILL) -> None:
    """Signal `pid` and everything below it (a worker and its flow-run processes)."""
    for p in [pid, *descendants(pid)]:
        try:
            os.kill(p, sig)
        except ProcessLookupError:
            pass


@dataclass
class Started:
    """What the check started, to stop it all at the end whatever happened."""

    procs: list[tuple[str, subprocess.Popen]] = field(default_factory=list)
    stops: list = field(default_factory=list)  # callables, run last first

    def spawn(self, name: str, cmd: list[str], log: Path, env: dict, cwd: Path = ROOT) -> subprocess.Popen:
        out = log.open("ab")
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=out, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                start_new_session=True)
        out.close()
        self.procs.append((name, proc))
        return proc

    def stop_all(self) -> None:
        """Last started, first stopped (workers before their server), each given 15 s to stop."""
        for _, proc in reversed(self.procs):
            if proc.poll() is None:
                kill_tree(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                kill_tree(proc.pid, signal.SIGKILL)
                proc.wait()
        for stop in reversed(self.stops):
            try:
                stop()
            except Exception as e:  # noqa: BLE001 - keep stopping the rest
                print(f"cluster-check: could not stop {stop}: {e}", file=sys.stderr)


# --- PostgreSQL ------------------------------------------------------------------------------

def _pg_bin() -> Path:
    """Debian's PostgreSQL binaries, installed with apt when missing (as `.ci/postgres` does)."""
    base = Path("/usr/lib/postgresql")
    if not base.is_dir() or not any(base.glob("*/bin/initdb")):
        sudo = [] if os.geteuid() == 0 else ["sudo"]
        env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        subprocess.run([*sudo, "apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run([*sudo, "apt-get", "install", "-y", "-qq", "postgresql"], check=True, env=env,
                       stdout=subprocess.DEVNULL)
    versions = sorted(base.glob("*/bin/initdb"), key=lambda p: [int(x) for x in p.parts[-3].split(".") if x.isdigit()])
    return versions[-1].parent


def start_postgres(work: Path, port: int, started: Started) -> tuple[str, str]:
    """A private cluster in `work/pg` on 127.0.0.1:`port`; returns (Prefect URL, verdict store URL)."""
    bindir = _pg_bin()
    data, sock = work / "pg", work / "pg-run"  # pg-run: its socket and its log, written by its own user
    data.mkdir()
    sock.mkdir()
    as_pg: list[str] = []
    if os.geteuid() == 0:  # PostgreSQL refuses to run as root: run it as Debian's postgres user
        shutil.chown(data, "postgres")
        shutil.chown(sock, "postgres")
        work.chmod(0o755)
        as_pg = ["runuser", "-u", "postgres", "--"]

    def quiet(cmd: list[str]) -> None:
        subprocess.run(cmd, stdout=subprocess.DEVNULL, check=True)

    quiet([*as_pg, str(bindir / "initdb"), "-D", str(data), "-U", "postgres", "--auth=trust",
           "-E", "UTF8", "--locale=C"])
    started.stops.append(lambda: subprocess.run([*as_pg, str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast",
                                                 "-w", "stop"], stdout=subprocess.DEVNULL, check=False))
    options = f"-p {port} -c listen_addresses=127.0.0.1 -k {sock} -c max_connections=200 -c fsync=off"
    quiet([*as_pg, str(bindir / "pg_ctl"), "-D", str(data), "-l", str(sock / "postgres.log"), "-o",
           options, "-w", "start"])
    psql = [str(bindir / "psql"), "-h", "127.0.0.1", "-p", str(port), "-U", "postgres", "-qtA", "-c"]
    for sql in ("create role zizhi login", "create database prefect owner zizhi",
                "create database zizhi owner zizhi"):
        quiet([*psql, sql])
    return (f"postgresql+asyncpg://zizhi@127.0.0.1:{port}/prefect",
            f"postgresql+psycopg://zizhi@127.0.0.1:{port}/zizhi")


# --- Prefect ---------------------------------------------------------------------------------

def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=1) as resp:
            return resp.status == 200
    except (OSError, ValueError):
        return False


def _wait(what: str, ready, timeout: float, every: float = 0.5):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = ready()
        if value:
            return value
        time.sleep(every)
    raise RuntimeError(f"cluster-check: {what} not ready after {timeout:.0f} s")


def prefect_cli() -> str:
    return str(Path(sys.executable).with_name("prefect"))


def _run_worker_ids(log: Path) -> set[str]:
    """Flow runs a worker took, from its own log ("Worker '…' submitting flow run '<id>'")."""
    ids = set()
    for line in log.read_text(errors="replace").splitlines():
        if "submitting flow run '" in line:
            ids.add(line.split("submitting flow run '", 1)[1].split("'", 1)[0])
    return ids


class Cluster:
    """The running check: its server, workers, inbox and store."""

    def __init__(self, cfg: ClusterCheckSettings, work: Path, started: Started, store_url: str, env: dict):
        self.cfg, self.work, self.started, self.store_url, self.env = cfg, work, started, store_url, env
        self.inbox = work / "inbox"
        self.inbox.mkdir()
        self.workers: dict[str, tuple[subprocess.Popen, Path]] = {}
        self.good: list[str] = []  # ids of the good submissions put in the inbox

    # -- inbox --
    def add(self, names: list[str]) -> None:
        for name in names:
            shutil.copytree(FIXTURES / name, self.inbox / name)
            self.good.append(json.loads((FIXTURES / name / "submission.json").read_text(encoding="utf-8"))["id"])

    def add_broken(self) -> None:
        """A submission naming a document that is not there: recorded failed (permanently)."""
        folder = self.inbox / "zz-broken"
        shutil.copytree(FIXTURES / "demo", folder)
        sub = json.loads((folder / "submission.json").read_text(encoding="utf-8"))
        sub["id"], sub["documents"] = BROKEN_ID, [{"file": "docs/not-uploaded.jpg"}]
        (folder / "submission.json").write_text(json.dumps(sub, ensure_ascii=False), encoding="utf-8")

    # -- workers and runs --
    def start_worker(self, name: str) -> None:
        log = self.work / f"{name}.log"
        proc = self.started.spawn(name, [prefect_cli(), "worker", "start", "--pool", POOL, "--type", "process",
                                         "--limit", "1", "--name", name], log, self.env)
        self.workers[name] = (proc, log)

    def wait_workers_online(self) -> None:
        from prefect.client.orchestration import get_client

        def online():
            with get_client(sync_client=True) as client:
                workers = client.read_workers_for_work_pool(POOL)
            return {w.name for w in workers if str(w.status).upper().endswith("ONLINE")} >= set(self.workers)

        _wait("workers", online, 120)

    def trigger(self, n: int) -> list[str]:
        from prefect.deployments import run_deployment

        return [str(run_deployment(DEPLOYMENT, timeout=0).id) for _ in range(n)]

    def states(self, ids: list[str]) -> dict[str, object]:
        from prefect.client.orchestration import get_client

        with get_client(sync_client=True) as client:
            return {i: client.read_flow_run(i).state for i in ids}

    def wait_final(self, ids: list[str]) -> dict[str, object]:
        def final():
            states = self.states(ids)
            return states if all(s is not None and s.is_final() for s in states.values()) else None

        return _wait(f"flow runs {ids}", final, self.cfg.phase_timeout, every=1.0)

    def worker_of(self, run_id: str) -> str | None:
        for name, (_, log) in self.workers.items():
            if run_id in _run_worker_ids(log):
                return name
        return None

    def root_run(self, flow_run_id: str, cache: dict) -> str:
        """The deployment's flow run a verdict was recorded under (verdicts name their batch sub-flow)."""
        from prefect.client.orchestration import get_client

        if flow_run_id not in cache:
            with get_client(sync_client=True) as client:
                run = client.read_flow_run(flow_run_id)
                while run.parent_task_run_id is not None:
                    run = client.read_flow_run(client.read_task_run(run.parent_task_run_id).flow_run_id)
            cache[flow_run_id] = str(run.id)
        return cache[flow_run_id]

    def verdicts_by_run(self) -> Counter:
        from operations.store import Store

        store = Store(self.store_url)
        try:
            cache: dict = {}
            return Counter(self.root_run(v.flow_run_id, cache) for v in store.verdicts() if v.flow_run_id)
        finally:
            store.close()


def _phase(cluster: Cluster, label: str, runs: int, count: int) -> float:
    """Trigger `runs` flow runs over what the inbox holds, wait for them; returns submissions/minute."""
    t0 = time.monotonic()
    ids = cluster.trigger(runs)
    states = cluster.wait_final(ids)
    seconds = time.monotonic() - t0
    rate = count / seconds * 60
    shown = ", ".join(f"{cluster.worker_of(i) or '?'}: {s.name}" for i, s in states.items())
    print(f"cluster-check: {label}: {count} submissions in {seconds:.1f} s = {rate:.1f}/min ({shown})", flush=True)
    return rate


def _kill_midway(cluster: Cluster, count: int, victim: str) -> bool:
    """Two runs over `count` new submissions; `victim` (worker, with its flow run) is killed with
    SIGKILL once its run has recorded a verdict and before the wave is half done. Then the other
    run finishes and one more run takes over the dead one's claims. True if the kill was midway."""
    from prefect.client.orchestration import get_client
    from prefect.states import Crashed

    before = cluster.verdicts_by_run()
    t0 = time.monotonic()
    ids = cluster.trigger(2)

    def victim_working():
        mine = [i for i in ids if cluster.worker_of(i) == victim]
        if not mine:
            return None
        done = cluster.verdicts_by_run() - before
        if done[mine[0]] >= 1:
            return mine[0], sum(done[i] for i in ids)
        return None

    victim_run, done_at_kill = _wait(f"{victim} working", victim_working, cluster.cfg.phase_timeout, every=0.2)
    proc, _ = cluster.workers[victim]
    kill_tree(proc.pid, signal.SIGKILL)
    proc.wait()
    midway = done_at_kill < count
    print(f"cluster-check: kill -9 {victim} (pid {proc.pid}) and its flow run after {done_at_kill}/{count} "
          f"verdicts of this wave", flush=True)
    # What an operator (or Prefect's zombie detection, with heartbeats on) would do with the dead run.
    with get_client(sync_client=True) as client:
        client.set_flow_run_state(victim_run, Crashed(message="worker killed (kill -9) by cluster-check"),
                                  force=True)
    other = [i for i in ids if i != victim_run]
    cluster.wait_final(other)
    takeover = cluster.trigger(1)
    cluster.wait_final(takeover)
    print(f"cluster-check: the other worker finished its run, and one more took over the dead run's claims "
          f"({time.monotonic() - t0:.1f} s for the wave)", flush=True)
    return midway


def summary_line(workers: int, used: int, submissions: int, verdicts: int, duplicates: int, failed: int,
                 seconds: float) -> str:
    return (f"cluster workers {workers} workers_used {used} submissions {submissions} verdicts {verdicts} "
            f"duplicates {duplicates} failed {failed} seconds {seconds:.0f}")


def fixture_names(n: int) -> list[str]:
    """`n` fixture submissions with one image document and no product images (quick to verify)."""
    names = []
    for folder in sorted(FIXTURES.iterdir()):
        sub_file = folder / "submission.json"
        if not sub_file.is_file():
            continue
        sub = json.loads(sub_file.read_text(encoding="utf-8"))
        docs = sub.get("documents") or []
        if len(docs) == 1 and not (sub.get("product") or {}).get("images") \
                and Path(docs[0]["file"]).suffix.lower() in (".jpg", ".jpeg", ".png"):
            names.append(folder.name)
    if len(names) < n:
        raise SystemExit(f"cluster-check: only {len(names)} one-image fixture submissions, {n} wanted")
    return names[:n]


def run(cfg: ClusterCheckSettings) -> int:
    t0 = time.monotonic()
    names = fixture_names(cfg.one_worker + cfg.two_workers + cfg.kill_wave)
    work = Path(tempfile.mkdtemp(prefix="zizhi-cluster-", dir="/tmp"))
    started = Started()
    if not cfg.keep:
        started.stops.insert(0, lambda: shutil.rmtree(work, ignore_errors=True))
    api = f"http://127.0.0.1:{cfg.prefect_port}/api"
    try:
        if _answers(f"{api}/health"):
            raise SystemExit(f"cluster-check: something already answers on port {cfg.prefect_port} "
                             f"(set ZIZHI_CLUSTER_PREFECT_PORT)")
        prefect_db, store_url = start_postgres(work, cfg.pg_port, started)
        print(f"cluster-check: PostgreSQL on 127.0.0.1:{cfg.pg_port} ({work / 'pg'})", flush=True)
        base = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "ZIZHI_"))}
        base.update(PREFECT_SERVER_ANALYTICS_ENABLED="false", DO_NOT_TRACK="1",
                    PREFECT_HOME=str(work / "prefect-home"))
        started.spawn("prefect-server", [prefect_cli(), "server", "start", "--host", "127.0.0.1", "--port",
                                         str(cfg.prefect_port)], work / "server.log",
                      {**base, "PREFECT_API_DATABASE_CONNECTION_URL": prefect_db, "PREFECT_UI_ENABLED": "false"})
        _wait("Prefect server", lambda: _answers(f"{api}/health"), 180)
        print(f"cluster-check: Prefect server on {api}, database PostgreSQL", flush=True)
        env = {**base, "PREFECT_API_URL": api, "PREFECT_LOCAL_STORAGE_PATH": str(work / "results"),
               "PREFECT_WORKER_QUERY_SECONDS": "2", "ZIZHI_OCR__INTRA_OP_NUM_THREADS": str(cfg.ocr_threads),
               "ZIZHI_BACKLOG_CONCURRENCY": "1", "ZIZHI_STORE": store_url}
        os.environ.update({k: env[k] for k in ("PREFECT_API_URL", "PREFECT_HOME", "ZIZHI_STORE")})
        cluster = Cluster(cfg, work, started, store_url, env)

        from flows import deploy_to_pool

        with (work / "deploy.log").open("w") as log, contextlib.redirect_stdout(log):  # Prefect's tables
            deploy_to_pool(POOL, str(cluster.inbox), store_url, scheduled=False, concurrency_limit=2)
        for name in ("worker-1", "worker-2"):
            cluster.start_worker(name)
        cluster.wait_workers_online()
        print(f"cluster-check: work pool {POOL}: 2 workers online; deployment {DEPLOYMENT}", flush=True)

        cluster.add(names[:cfg.one_worker])
        cluster.add_broken()
        rate1 = _phase(cluster, "one worker", 1, cfg.one_worker + 1)
        cluster.add(names[cfg.one_worker:cfg.one_worker + cfg.two_workers])
        rate2 = _phase(cluster, "two workers", 2, cfg.two_workers)
        cluster.add(names[cfg.one_worker + cfg.two_workers:])
        midway = _kill_midway(cluster, cfg.kill_wave, victim="worker-2")

        from operations.store import Store

        store = Store(store_url)
        try:
            verdicts = store.verdicts()
            failures = store.failures()
        finally:
            store.close()
        per_id = Counter(v.submission_id for v in verdicts)
        duplicates = sum(n - 1 for n in per_id.values())
        got = sum(1 for i in set(cluster.good) if per_id[i] >= 1)
        runs = cluster.verdicts_by_run()
        used = sum(1 for name in cluster.workers
                   if any(runs[r] for r in _run_worker_ids(cluster.workers[name][1])))
        broken = [c for c in failures if c.submission_id == BROKEN_ID]
        problems = []
        if got != len(cluster.good) or len(verdicts) != len(cluster.good):
            problems.append(f"{len(cluster.good)} good submissions, {got} with a verdict, {len(verdicts)} verdicts")
        if not broken or not broken[0].permanent:
            problems.append("the broken submission is not recorded as failed (permanently)")
        if len(failures) != 1:
            problems.append(f"{len(failures)} failures recorded, 1 expected")
        if used != 2:
            problems.append(f"{used} worker(s) did work, 2 expected")
        if not midway:
            problems.append("the kill did not land midway through the wave")
        print(f"cluster-check: submissions/minute through the pool: one worker {rate1:.1f}, two workers {rate2:.1f}",
              flush=True)
        for problem in problems:
            print(f"cluster-check: FAILED: {problem}", file=sys.stderr, flush=True)
        line = summary_line(2, used, len(cluster.good), len(verdicts), duplicates, len(failures),
                            time.monotonic() - t0)
        code = 1 if problems else 0
    finally:
        if cfg.keep:
            print(f"cluster-check: kept {work}", file=sys.stderr)
        started.stop_all()
    print(line, flush=True)
    return code


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m operations.cluster_check", description=__doc__.split("\n")[0])
    parser.parse_args(argv)

    def stop(signum, _frame):
        raise KeyboardInterrupt(f"signal {signum}")

    signal.signal(signal.SIGTERM, stop)  # `finally` stops what was started, on Ctrl-C or a CI timeout too
    return run(ClusterCheckSettings())


if __name__ == "__main__":
    sys.exit(main())
