"""Operator subcommands of `zizhi`: backlog runs, the verdict store, Prefect deployments.

Prefect is imported inside the command functions only, so `zizhi verify` never pays for it.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
import time
import urllib.request
from contextlib import ExitStack
from pathlib import Path

EXIT_UNUSABLE = 2


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def register(sub: argparse._SubParsersAction) -> None:
    """Add the operator subcommands to the `zizhi` parser."""
    p = sub.add_parser("backlog", help="verify pending submissions with Prefect (exactly once each)")
    bsub = p.add_subparsers(dest="backlog_command", required=True)
    r = bsub.add_parser("run", help="one run over every submission folder under --inbox with no verdict yet")
    r.add_argument("--inbox", required=True, help="folder of <name>/submission.json submission folders")
    r.add_argument("--store", help="verdict store URL (default: ZIZHI_STORE, else a SQLite file in the XDG "
                                   "data folder)")
    r.add_argument("--today", type=_date, help="check validity against this date (default: today)")
    r.add_argument("--batch-size", type=int, help="submissions per batch flow run (ZIZHI_BACKLOG_BATCH_SIZE)")
    r.add_argument("--workers", type=int, help="submissions OCR'd at once (ZIZHI_BACKLOG_CONCURRENCY)")
    r.add_argument("--runner", choices=["thread", "process", "dask"],
                   help="task runner (ZIZHI_BACKLOG_TASK_RUNNER): threads in this process, a process pool, "
                        "or a Dask LocalCluster")
    r.add_argument("--json", action="store_true", help="print the run's summary as JSON")
    r.set_defaults(func=cmd_backlog_run)

    p = sub.add_parser("verdicts", help="list the verdicts in the verdict store")
    p.add_argument("--store", help="verdict store URL (default: ZIZHI_STORE)")
    p.add_argument("--json", action="store_true", help="one JSON object per line, with the full verdict")
    p.add_argument("--submission", help="only this submission id")
    p.add_argument("--failures", action="store_true", help="list recorded failures instead")
    p.set_defaults(func=cmd_verdicts)

    p = sub.add_parser("flows", help="Prefect deployments of zizhi's flows")
    fsub = p.add_subparsers(dest="flows_command", required=True)
    s = fsub.add_parser("serve", help="serve the backlog (cron) and nightly replay deployments until stopped")
    s.add_argument("--inbox", help="inbox the backlog deployment scans (default: ZIZHI_BACKLOG_INBOX)")
    s.add_argument("--store", help="verdict store URL (default: ZIZHI_STORE)")
    s.add_argument("--backlog-cron", help="cron of the backlog deployment (default: ZIZHI_BACKLOG_CRON)")
    s.add_argument("--replay-dir", help="fixture folder of the nightly replay (default: ZIZHI_REPLAY_DIR)")
    s.add_argument("--replay-cron", help="cron of the replay deployment (default: ZIZHI_REPLAY_CRON)")
    s.set_defaults(func=cmd_flows_serve)
    d = fsub.add_parser("deploy", help="register the same deployments in a process work pool "
                                       "(run them with `prefect worker start --pool POOL`)")
    d.add_argument("--pool", default="zizhi-process", help="work pool name (created if missing)")
    for a in ("--inbox", "--store", "--backlog-cron", "--replay-dir", "--replay-cron"):
        d.add_argument(a, help="as for `flows serve`")
    d.set_defaults(func=cmd_flows_deploy)


# --- Prefect server selection ----------------------------------------------------------------

def _answers(api_url: str, timeout: float = 0.5) -> bool:
    try:
        with urllib.request.urlopen(api_url.rstrip("/") + "/health", timeout=timeout) as resp:
            return resp.status == 200
    except (OSError, ValueError):
        return False


def use_prefect_server(stack: ExitStack, *, require: bool = False, shared: bool = False) -> str | None:
    """Point Prefect at a server; returns its API URL, or None for Prefect's temporary one.

    PREFECT_API_URL wins; else the local server of `make server` if it answers; else, when worker
    processes need one (`shared`), a temporary server started once here and handed to them (each
    would otherwise start its own against the same SQLite file); else Prefect's own temporary one.
    """
    from operations.backlog import backlog_settings, prefect_env_defaults

    prefect_env_defaults()
    url = os.environ.get("PREFECT_API_URL")
    if url:
        return url
    local = backlog_settings().prefect_api_url
    if _answers(local):
        url = local
    elif require:
        raise SystemExit(f"zizhi: no Prefect server at {local}: start one with `make server`, "
                         f"or set PREFECT_API_URL")
    elif shared:
        from prefect.server.api.server import SubprocessASGIServer

        server = SubprocessASGIServer()
        server.start()
        stack.callback(server.stop)
        stack.callback(_drain_prefect_workers)  # runs first: send the logs before the server goes
        url = server.api_url
    else:
        return None
    os.environ["PREFECT_API_URL"] = url  # for worker processes
    from prefect.settings import PREFECT_API_URL, temporary_settings

    stack.enter_context(temporary_settings(updates={PREFECT_API_URL: url}))
    return url


def _drain_prefect_workers() -> None:
    import inspect

    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogWorker
    from prefect.utilities.asyncutils import run_coro_as_sync

    async def drain() -> None:
        for result in (APILogWorker.instance().drain(), EventsWorker.drain_all()):
            if inspect.isawaitable(result):
                await result

    try:
        run_coro_as_sync(drain())
    except Exception as e:  # noqa: BLE001 - only logs and events are at stake
        print(f"zizhi: could not flush Prefect logs: {e}", file=sys.stderr)


# --- commands --------------------------------------------------------------------------------

def _open_store(url: str, *, writable: bool):
    """The store, or one line on stderr and None: a bad URL, a missing folder (or, to read, a missing
    store), a corrupt file; to write, also a read-only or full one."""
    from operations.store import Store, StoreError

    try:
        store = Store(url, create=writable, must_exist=not writable)
        if writable:
            store.check_writable()
        return store
    except StoreError as e:
        print(f"zizhi: {e}", file=sys.stderr)
        return None


def _console_logs_without_tracebacks() -> None:
    """Prefect's console log shows each failure as one line, without its traceback: a failed
    submission is recorded with its reason, and a run that stops says why in one line. (The
    Prefect server's logs keep the tracebacks.)"""
    import logging

    from prefect.logging.handlers import PrefectConsoleHandler

    def one_line(format_record):
        def format(record: logging.LogRecord) -> str:
            saved = record.exc_info, record.exc_text, record.stack_info
            record.exc_info = record.exc_text = record.stack_info = None
            try:
                return format_record(record)
            finally:
                record.exc_info, record.exc_text, record.stack_info = saved
        return format

    for logger in [logging.getLogger(), *map(logging.getLogger, list(logging.root.manager.loggerDict))]:
        for handler in getattr(logger, "handlers", []):
            formatter = handler.formatter
            if isinstance(handler, PrefectConsoleHandler) and formatter is not None \
                    and not getattr(formatter, "_zizhi_one_line", False):
                formatter.format = one_line(formatter.format)
                formatter._zizhi_one_line = True


def cmd_backlog_run(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from operations.backlog import backlog_settings
    from operations.store import StoreError, describe_store_error
    from pipeline.display import visible

    inbox = Path(args.inbox)
    if not inbox.is_dir():
        print(f"zizhi: not a folder: {visible(inbox)}", file=sys.stderr)
        return EXIT_UNUSABLE
    settings = backlog_settings()
    store_url = args.store or settings.store
    store = _open_store(store_url, writable=True)  # before Prefect starts: fail in a second, in one line
    if store is None:
        return EXIT_UNUSABLE
    store_name = store.name
    store.close()
    runner = args.runner or settings.backlog_task_runner
    start = time.perf_counter()
    try:
        with ExitStack() as stack:
            api = use_prefect_server(stack, shared=runner != "thread")
            print(f"zizhi: Prefect API: {api or 'temporary server'}", file=sys.stderr)
            from flows import process_backlog

            _console_logs_without_tracebacks()
            summary = process_backlog(str(inbox), store=store_url, today=args.today, batch_size=args.batch_size,
                                      concurrency=args.workers, runner=runner)
    except (StoreError, SQLAlchemyError) as e:  # the store failed during the run (full, gone, locked)
        print(f"zizhi: backlog run stopped: {describe_store_error(store_name, e)}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    summary["seconds"] = round(seconds, 1)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
        return 0
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary["counts"].items())) or "nothing new"
    rate = f", {summary['processed'] / seconds * 60:.1f}/min" if summary["processed"] else ""
    print(f"{summary['found']} submission(s) in {summary['inbox']}: {summary['skipped']} already verified or in "
          f"progress, {summary['processed']} verified now ({counts}) in {seconds:.1f}s{rate}; "
          f"store {summary['store']}")
    for f in summary["failed"]:
        print(f"  failed {visible(f['submission_id'])} ({visible(f['folder'])}): {visible(f['error'])}")
    return 0


def cmd_verdicts(args: argparse.Namespace) -> int:
    try:
        return _list_verdicts(args)
    except BrokenPipeError:  # `zizhi verdicts --json | head`
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0


def _list_verdicts(args: argparse.Namespace) -> int:
    from sqlalchemy.exc import SQLAlchemyError

    from operations.store import describe_store_error

    store = _open_store(args.store or _store_default(), writable=False)
    if store is None:
        return EXIT_UNUSABLE
    try:
        return _print_verdicts(store, args)
    except SQLAlchemyError as e:  # corrupt, not a zizhi store, unreachable
        print(f"zizhi: {describe_store_error(store.name, e)}", file=sys.stderr)
        return EXIT_UNUSABLE
    finally:
        store.close()


def _print_verdicts(store, args: argparse.Namespace) -> int:
    """Text mode shows merchant text through `visible` (no forged lines); --json escapes by itself."""
    from pipeline.display import visible

    if args.failures:
        for c in store.failures():
            if args.submission and c.submission_id != args.submission:
                continue
            if args.json:
                print(json.dumps({"submission_id": c.submission_id, "content_hash": c.content_hash,
                                  "folder": c.folder, "error": c.error, "attempts": c.attempts,
                                  "permanent": c.permanent,
                                  "finished_at": c.finished_at.isoformat() + "Z" if c.finished_at else None},
                                 ensure_ascii=False))
            else:
                kind = "permanent" if c.permanent else f"attempt {c.attempts}"
                print(f"{c.finished_at:%Y-%m-%d %H:%M:%S}  {visible(c.submission_id):<24} FAILED ({kind})  "
                      f"{visible(Path(c.folder).name)}: {visible(c.error)}")
        return 0
    for v in store.iter_verdicts():
        if args.submission and v.submission_id != args.submission:
            continue
        if args.json:
            print(json.dumps(v.to_json(), ensure_ascii=False))
        else:
            reasons = ",".join(sorted({r["code"] for r in v.verdict.get("reasons", [])})) or "-"
            print(f"{v.created_at:%Y-%m-%d %H:%M:%S}  {visible(v.submission_id):<24} {v.decision:<8} "
                  f"{visible(reasons):<40} {v.content_hash[:12]}  {visible(Path(v.folder).name)}")
    return 0


def _store_default() -> str:
    from operations.backlog import backlog_settings

    return backlog_settings().store


def cmd_flows_serve(args: argparse.Namespace) -> int:
    from operations.backlog import backlog_settings

    settings = backlog_settings()
    inbox = args.inbox or settings.backlog_inbox
    if not inbox:
        print("zizhi: give --inbox (or set ZIZHI_BACKLOG_INBOX) for the backlog deployment", file=sys.stderr)
        return EXIT_UNUSABLE
    with ExitStack() as stack:
        api = use_prefect_server(stack, require=True)  # schedules need a real server's scheduler
        print(f"zizhi: serving deployments on {api}", file=sys.stderr)
        from prefect import serve

        from flows import deployments

        serve(*deployments(str(Path(inbox).resolve()), args.store, backlog_cron=args.backlog_cron,
                           replay_dir=str(Path(args.replay_dir or settings.replay_dir).resolve()),
                           replay_cron=args.replay_cron))
    return 0


def cmd_flows_deploy(args: argparse.Namespace) -> int:
    from operations.backlog import backlog_settings

    settings = backlog_settings()
    inbox = args.inbox or settings.backlog_inbox
    if not inbox:
        print("zizhi: give --inbox (or set ZIZHI_BACKLOG_INBOX) for the backlog deployment", file=sys.stderr)
        return EXIT_UNUSABLE
    with ExitStack() as stack:
        api = use_prefect_server(stack, require=True)
        from flows import deploy_to_pool

        ids = deploy_to_pool(args.pool, str(Path(inbox).resolve()), args.store, backlog_cron=args.backlog_cron,
                             replay_dir=str(Path(args.replay_dir or settings.replay_dir).resolve()),
                             replay_cron=args.replay_cron)
    print(f"zizhi: {len(ids)} deployment(s) in work pool {args.pool!r} on {api}; start a worker with "
          f"`PREFECT_API_URL={api} prefect worker start --pool {args.pool}` (or `make worker`)")
    return 0
