"""Operator subcommands of `zizhi`: backlog runs, the verdict store, Prefect deployments.

Prefect is imported inside the command functions only, so `zizhi verify` never pays for it.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import sys
import time
import urllib.request
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from pipeline.cli import iso_date

EXIT_UNUSABLE = 2
_SURROGATE = re.compile("[\ud800-\udfff]")


def _json_line(value: object) -> str:
    """`value` as one JSON line, non-ASCII text as is but a lone surrogate (how Python reads a file name
    that is not UTF-8) as its `\\uXXXX` escape: the line stays UTF-8 and parses back to the same name."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(value, ensure_ascii=False))


def _within(field) -> Callable[[str], int]:
    """An argparse type for a number that stands for a `BacklogSettings` field: a whole number within the
    field's own bounds (a negative --batch-size made no batch at all; --workers -2 a ValueError traceback)."""
    low = next(m.ge for m in field.metadata if hasattr(m, "ge"))
    high = next(m.le for m in field.metadata if hasattr(m, "le"))

    def number(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = low - 1
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"not a whole number from {low} to {high}: {text!r}")
        return value

    return number


def register(sub: argparse._SubParsersAction) -> None:
    """Add the operator subcommands to the `zizhi` parser. Defaults come from `ZIZHI_*` settings
    (operations/backlog.py: BacklogSettings), so each help names the variable and its default."""
    from operations.backlog import BacklogSettings

    d = {name: f.default for name, f in BacklogSettings.model_fields.items()}
    bounded = {name: _within(f) for name, f in BacklogSettings.model_fields.items()
               if name in ("backlog_batch_size", "backlog_concurrency", "deployment_concurrency")}
    p = sub.add_parser("backlog", help="verify pending submissions with Prefect (exactly once each)")
    bsub = p.add_subparsers(dest="backlog_command", required=True)
    r = bsub.add_parser("run", help="one run over every submission folder under --inbox with no verdict yet; "
                              "exits 1 when a submission was recorded as failed")
    r.add_argument("--inbox", required=True, help="folder of <name>/submission.json submission folders")
    r.add_argument("--store", help="verdict store URL (default: ZIZHI_STORE, else a SQLite file in the XDG "
                                   "data folder)")
    r.add_argument("--today", type=iso_date, help="check validity against this date (default: today)")
    r.add_argument("--batch-size", type=bounded["backlog_batch_size"], help=f"submissions per batch flow run (default: "
                                                  f"ZIZHI_BACKLOG_BATCH_SIZE, else {d['backlog_batch_size']})")
    r.add_argument("--workers", type=bounded["backlog_concurrency"], help=f"submissions verified at once (default: ZIZHI_BACKLOG_CONCURRENCY, "
                                               f"else {d['backlog_concurrency']})")
    r.add_argument("--runner", choices=["thread", "process", "dask"],
                   help="task runner: threads in this process, a process pool, or a Dask LocalCluster "
                        f"(default: ZIZHI_BACKLOG_TASK_RUNNER, else {d['backlog_task_runner']})")
    r.add_argument("--json", action="store_true", help="print the run's summary as JSON")
    r.set_defaults(func=cmd_backlog_run)

    p = sub.add_parser("verdicts", help="list the verdicts in the verdict store, oldest first, with a header row "
                                  "(--failures: the submissions that could not be verified)")
    p.add_argument("--store", help="verdict store URL (default: ZIZHI_STORE, else a SQLite file in the XDG "
                                   "data folder)")
    p.add_argument("--json", action="store_true", help="one JSON object per line, with the full verdict")
    p.add_argument("--submission", help="only this submission id; exit 1 when it has none (default: every submission)")
    p.add_argument("--failures", action="store_true", help="list recorded failures instead")
    p.set_defaults(func=cmd_verdicts)

    p = sub.add_parser("flows", help="Prefect deployments of zizhi's flows")
    fsub = p.add_subparsers(dest="flows_command", required=True)
    s = fsub.add_parser("serve", help="serve the backlog (cron) and nightly replay deployments until stopped")
    serve_deploy = [
        ("--inbox", "inbox the backlog deployment scans (default: ZIZHI_BACKLOG_INBOX)"),
        ("--store", "verdict store URL (default: ZIZHI_STORE, else a SQLite file in the XDG data folder)"),
        ("--backlog-cron", (f"cron of the backlog deployment (default: ZIZHI_BACKLOG_CRON, else "
                           f"{d['backlog_cron']!r})")),
        ("--replay-dir", f"fixture folder of the nightly replay (default: ZIZHI_REPLAY_DIR, else {d['replay_dir']})"),
        ("--replay-cron", f"cron of the replay deployment (default: ZIZHI_REPLAY_CRON, else {d['replay_cron']!r})"),
        ("--timezone", (f"time zone of both crons, an IANA name (default: ZIZHI_SCHEDULE_TIMEZONE, else "
                       f"{d['schedule_timezone']})")),
        ("--intake-cron", ("also a deployment verifying what the intake API accepted, on this cron (e.g. "
                           "'* * * * *', for `zizhi serve --no-worker`; default: ZIZHI_INTAKE_CRON, else none)")),
    ]
    limit_help = (f"backlog runs at a time; a scheduled run waits while one is running (default: "
                  f"ZIZHI_DEPLOYMENT_CONCURRENCY, else {d['deployment_concurrency']})")
    for flag, text in serve_deploy:
        s.add_argument(flag, help=text)
    s.add_argument("--concurrency-limit", type=bounded["deployment_concurrency"], help=limit_help)
    s.set_defaults(func=cmd_flows_serve)
    dp = fsub.add_parser("deploy", help="register the same deployments in a process work pool "
                                  "(run them with `prefect worker start --pool POOL`)")
    dp.add_argument("--pool", default="zizhi-process", help="work pool name, created if missing "
                                                            "(default: zizhi-process)")
    for flag, text in serve_deploy:
        dp.add_argument(flag, help=text)
    dp.add_argument("--concurrency-limit", type=bounded["deployment_concurrency"], help=limit_help)
    dp.set_defaults(func=cmd_flows_deploy)


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

    def not_a_task_line(record: logging.LogRecord) -> bool:
        # One progress line instead of one line per task: task logs below a warning stay in the UI.
        return record.levelno >= logging.WARNING or not record.name.startswith("prefect.task_runs")

    for logger in [logging.getLogger(), *map(logging.getLogger, list(logging.root.manager.loggerDict))]:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, PrefectConsoleHandler) and not_a_task_line not in handler.filters:
                handler.addFilter(not_a_task_line)
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
            from flows import process_backlog, summary_of
            from operations.progress import ProgressPrinter
            from operations.progress import log as progress_log

            _console_logs_without_tracebacks()
            printer = ProgressPrinter(sys.stderr)
            progress_log.addHandler(printer)
            stack.callback(progress_log.removeHandler, printer)
            stack.callback(printer.close)
            state = process_backlog(str(inbox), store=store_url, today=args.today, batch_size=args.batch_size,
                                    concurrency=args.workers, runner=runner, return_state=True)
            summary = summary_of(state)
    except (StoreError, SQLAlchemyError) as e:  # the store failed during the run (full, gone, locked)
        print(f"zizhi: backlog run stopped: {describe_store_error(store_name, e)}", file=sys.stderr)
        return 1
    seconds = time.perf_counter() - start
    summary["seconds"] = round(seconds, 1)
    code = 1 if summary["failed"] else 0  # failures recorded: the run's Prefect state is Failed too
    if args.json:
        print(_json_line(summary))  # a folder's name may not be UTF-8
        return code
    counts = ", ".join(f"{k} {v}" for k, v in sorted(summary["counts"].items())) or "nothing new"
    rate = f", {summary['processed'] / seconds * 60:.1f}/min" if summary["processed"] else ""
    print(f"{summary['found']} submission(s) in {summary['inbox']}: {summary['skipped']} already verified or in "
          f"progress, {summary['processed']} verified now ({counts}) in {seconds:.1f}s{rate}; "
          f"store {summary['store']}")
    for f in summary["failed"]:
        print(f"  failed {visible(f['submission_id'])} ({visible(f['folder'])}): {visible(f['error'])}")
    return code


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


VERDICT_HEADER = f"{'stored (UTC)':<19}  {'submission':<24} {'decision':<8} {'reasons':<40} {'content':<12}  folder"
FAILURE_HEADER = f"{'failed (UTC)':<19}  {'submission':<24} {'state':<20}  folder: error"


def _print_verdicts(store, args: argparse.Namespace) -> int:
    """Text mode: a header row, then one line each, merchant text through `visible` (no forged
    lines); --json escapes by itself. Exit 1 when `--submission` names one the store has nothing for."""
    from operations.backlog import reason_codes
    from pipeline.display import visible

    shown = 0
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
                if not shown:
                    print(FAILURE_HEADER)
                kind = "FAILED (permanent)" if c.permanent else f"FAILED (attempt {c.attempts})"
                print(f"{c.finished_at:%Y-%m-%d %H:%M:%S}  {visible(c.submission_id):<24} {kind:<20}  "
                      f"{visible(Path(c.folder).name)}: {visible(c.error)}")
            shown += 1
        if not shown and not args.json:
            print("no failures recorded" + (f" for submission {visible(args.submission)}" if args.submission else ""),
                  file=sys.stderr)
        return 1 if args.submission and not shown else 0
    for v in store.iter_verdicts():
        if args.submission and v.submission_id != args.submission:
            continue
        if args.json:
            print(json.dumps(v.to_json(), ensure_ascii=False))
        else:
            if not shown:
                print(VERDICT_HEADER)
            reasons = ",".join(reason_codes(r["code"] for r in v.verdict.get("reasons", []))) or "-"
            print(f"{v.created_at:%Y-%m-%d %H:%M:%S}  {visible(v.submission_id):<24} {v.decision:<8} "
                  f"{visible(reasons):<40} {v.content_hash[:12]}  {visible(Path(v.folder).name)}")
        shown += 1
    failures = [c for c in store.failures() if not args.submission or c.submission_id == args.submission]
    if not args.json:
        if failures:  # failures are not verdicts, but an operator listing verdicts must not miss them
            print(f"{len(failures)} failed submission(s) not listed: `zizhi verdicts --failures`", file=sys.stderr)
        elif not shown:
            print("no verdicts" + (f" for submission {visible(args.submission)}" if args.submission else ""),
                  file=sys.stderr)
    if args.submission and not shown:
        if not failures:
            print(f"zizhi: unknown submission id: {visible(args.submission)}", file=sys.stderr)
        return 1
    return 0


def _store_default() -> str:
    from operations.backlog import backlog_settings

    return backlog_settings().store


def _deployment_folders(args: argparse.Namespace) -> tuple[str, str] | None:
    """(inbox, replay folder) of the deployments, resolved; None after saying that no inbox was given."""
    from operations.backlog import backlog_settings

    settings = backlog_settings()
    inbox = args.inbox or settings.backlog_inbox
    if not inbox:
        print("zizhi: give --inbox (or set ZIZHI_BACKLOG_INBOX) for the backlog deployment", file=sys.stderr)
        return None
    return str(Path(inbox).resolve()), str(Path(args.replay_dir or settings.replay_dir).resolve())


def _intake_cron(args: argparse.Namespace) -> str | None:
    return args.intake_cron or os.environ.get("ZIZHI_INTAKE_CRON") or None


def cmd_flows_serve(args: argparse.Namespace) -> int:
    folders = _deployment_folders(args)
    if folders is None:
        return EXIT_UNUSABLE
    inbox, replay_dir = folders
    with ExitStack() as stack:
        api = use_prefect_server(stack, require=True)  # schedules need a real server's scheduler
        print(f"zizhi: serving deployments on {api}", file=sys.stderr)
        from prefect import serve

        from flows import deployments

        serve(*deployments(inbox, args.store, backlog_cron=args.backlog_cron, replay_dir=replay_dir,
                           replay_cron=args.replay_cron, timezone=args.timezone,
                           concurrency_limit=args.concurrency_limit, intake_cron=_intake_cron(args)))
    return 0


def cmd_flows_deploy(args: argparse.Namespace) -> int:
    folders = _deployment_folders(args)
    if folders is None:
        return EXIT_UNUSABLE
    inbox, replay_dir = folders
    with ExitStack() as stack:
        api = use_prefect_server(stack, require=True)
        from flows import deploy_to_pool

        ids = deploy_to_pool(args.pool, inbox, args.store, backlog_cron=args.backlog_cron, replay_dir=replay_dir,
                             replay_cron=args.replay_cron, timezone=args.timezone,
                             concurrency_limit=args.concurrency_limit, intake_cron=_intake_cron(args))
    print(f"zizhi: {len(ids)} deployment(s) in work pool {args.pool!r} on {api}; start a worker with "
          f"`PREFECT_API_URL={api} prefect worker start --pool {args.pool}` (or `make worker`)")
    return 0
