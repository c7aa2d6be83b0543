"""`zizhi console` (the reviewer web app) and `zizhi reviewers` (its accounts).

Imports of the web stack happen inside the commands, so `zizhi verify` never pays for them.
"""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import sys

from pipeline.cli import tcp_port

EXIT_USAGE = 2


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("console", help="the reviewer console: queue, evidence, decisions (a local web app)")
    p.add_argument("--store", help="verdict store URL (default: ZIZHI_STORE)")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1: loopback only)")
    p.add_argument("--port", type=tcp_port, help="port (default 8000)")
    p.set_defaults(func=cmd_console)

    p = sub.add_parser("reviewers", help="reviewer accounts of the console")
    rsub = p.add_subparsers(dest="reviewers_command", required=True)
    for name, helptext in (("add", "add a reviewer; the password is read from stdin"),
                           ("passwd", "set a reviewer's password (from stdin) and log them out everywhere"),
                           ("disable", "disable a reviewer and close their sessions"),
                           ("unlock", "lift a reviewer's login lockout (forget their failed logins)"),
                           ("list", "list reviewers")):
        r = rsub.add_parser(name, help=helptext)
        if name != "list":
            r.add_argument("name")
        r.add_argument("--store", help="verdict store URL (default: ZIZHI_STORE)")
        r.set_defaults(func=cmd_reviewers)


def _store_url(args: argparse.Namespace) -> str:
    from operations.backlog import backlog_settings

    return args.store or backlog_settings().store


class StoreUnavailable(Exception):
    """The verdict store cannot be used; the message is one line for the operator."""


def open_console_store(url: str, *, must_exist: bool, audit_share: float = 0.02):
    """The `ConsoleStore` at `url`, checked usable, or StoreUnavailable with one line saying why:
    a bad URL, a SQLite file whose folder does not exist (never made silently: a typo would start
    an empty store), a missing file when `must_exist`, a file that is not a database, a read-only
    or full one, a server that does not answer."""
    from sqlalchemy import delete
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError, SQLAlchemyError

    from console.db import ConsoleStore, review_leases
    from operations.store import Store, StoreError

    try:
        parsed = make_url(url)
    except ArgumentError:
        raise StoreUnavailable("the store URL is not a database URL (sqlite:///PATH or "
                               "postgresql+psycopg://…)") from None
    shown = parsed.render_as_string(hide_password=True)
    if parsed.get_backend_name() == "sqlite" and parsed.database not in (None, "", ":memory:"):
        from pathlib import Path

        name = parsed.database
        if name.startswith("file:"):  # an SQLite URI (…?mode=ro&uri=true)
            name = name[len("file:"):].split("?", 1)[0]
        path = Path(name).expanduser()
        if not path.parent.is_dir():
            raise StoreUnavailable(f"the store's folder {path.parent} does not exist (fix --store or ZIZHI_STORE, "
                                   "or create the folder)")
        if must_exist and not path.exists():
            raise StoreUnavailable(f"no verdict store at {path}: run `zizhi backlog run` first, or fix --store / "
                                   "ZIZHI_STORE")
    try:
        db = ConsoleStore(Store(url), audit_share=audit_share)
        with db.engine.begin() as conn:  # the console writes (sessions, leases, decisions): try now
            conn.execute(delete(review_leases).where(review_leases.c.verdict_id == -1))
    except StoreError as e:  # the store's own one-line reason (operations/store.py)
        raise StoreUnavailable(f"cannot use the verdict store {shown}: {str(e).split(' is not usable: ')[-1]}") from None
    except (SQLAlchemyError, ImportError, ValueError, OSError) as e:
        reason = str(getattr(e, "orig", None) or e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        raise StoreUnavailable(f"cannot use the verdict store {shown}: {reason}") from None
    return db


def _read_password() -> str:
    """From stdin: a prompt (twice) on a terminal, else the first line of what is piped in."""
    if sys.stdin.isatty():
        first = getpass.getpass("password: ")
        if getpass.getpass("again: ") != first:
            raise ValueError("the passwords differ")
        return first
    return sys.stdin.readline().rstrip("\r\n")


def cmd_reviewers(args: argparse.Namespace) -> int:
    from console.accounts import PasswordError
    from console.db import ReviewerError

    try:
        db = open_console_store(_store_url(args), must_exist=False)
    except StoreUnavailable as e:
        print(f"zizhi reviewers: {e}", file=sys.stderr)
        return 1
    try:
        if args.reviewers_command == "list":
            for r in db.list_reviewers():
                state = f"disabled {r['disabled_at']:%Y-%m-%d}" if r["disabled_at"] else "active"
                print(f"{r['name']}\t{state}\tadded {r['created_at']:%Y-%m-%d}")
        elif args.reviewers_command == "add":
            db.add_reviewer(args.name, _read_password())
            print(f"reviewer {args.name} added")
        elif args.reviewers_command == "passwd":
            db.set_password(args.name, _read_password())
            print(f"password of {args.name} changed; their sessions are closed")
        elif args.reviewers_command == "disable":
            db.disable_reviewer(args.name)
            print(f"reviewer {args.name} disabled")
        elif args.reviewers_command == "unlock":
            n = db.unlock(args.name)
            print(f"{args.name} unlocked ({n} failed login(s) forgotten)" if n else
                  f"{args.name} was not locked out (no failed logins on record)")
    except (ReviewerError, PasswordError, ValueError) as e:
        print(f"zizhi reviewers: {e}", file=sys.stderr)
        return EXIT_USAGE
    return 0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def cmd_console(args: argparse.Namespace) -> int:
    import uvicorn
    from pydantic import ValidationError

    from console.app import create_app
    from console.server import uvicorn_config
    from console.settings import ConsoleSettings

    try:
        settings = ConsoleSettings()
    except ValidationError as e:
        print("zizhi console: bad ZIZHI_CONSOLE_* setting: " + "; ".join(
            f"{'.'.join(map(str, err['loc']))}: {err['msg']}" for err in e.errors()), file=sys.stderr)
        return EXIT_USAGE
    host, port = args.host or settings.host, args.port or settings.port
    url = _store_url(args)
    try:
        open_console_store(url, must_exist=True, audit_share=settings.audit_share)
    except StoreUnavailable as e:
        print(f"zizhi console: {e}", file=sys.stderr)
        return 1
    if not _is_loopback(host):
        print(f"zizhi console: listening on {host}, not loopback: put it behind an HTTPS proxy and set "
              "ZIZHI_CONSOLE_SECURE_COOKIES=true", file=sys.stderr)
    app = create_app(url, settings)
    print(f"zizhi console on http://{host}:{port}/ (store {app.state.store!r})", file=sys.stderr)
    server = uvicorn.Server(uvicorn_config(app, host, port, settings))
    server.run()
    return 0 if server.started else 1  # e.g. the port is taken (uvicorn said so)
