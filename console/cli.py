"""`zizhi console` (the reviewer web app) and `zizhi reviewers` (its accounts).

Imports of the web stack happen inside the commands, so `zizhi verify` never pays for them.
"""

from __future__ import annotations

import argparse
import getpass
import ipaddress
import sys

EXIT_USAGE = 2


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("console", help="the reviewer console: queue, evidence, decisions (a local web app)")
    p.add_argument("--store", help="verdict store URL (default: ZIZHI_STORE)")
    p.add_argument("--host", help="address to listen on (default 127.0.0.1: loopback only)")
    p.add_argument("--port", type=int, help="port (default 8000)")
    p.set_defaults(func=cmd_console)

    p = sub.add_parser("reviewers", help="reviewer accounts of the console")
    rsub = p.add_subparsers(dest="reviewers_command", required=True)
    for name, helptext in (("add", "add a reviewer; the password is read from stdin"),
                           ("passwd", "set a reviewer's password (from stdin) and log them out everywhere"),
                           ("disable", "disable a reviewer and close their sessions"),
                           ("list", "list reviewers")):
        r = rsub.add_parser(name, help=helptext)
        if name != "list":
            r.add_argument("name")
        r.add_argument("--store", help="verdict store URL (default: ZIZHI_STORE)")
        r.set_defaults(func=cmd_reviewers)


def _store_url(args: argparse.Namespace) -> str:
    from pipeline.backlog import backlog_settings

    return args.store or backlog_settings().store


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
    from console.db import ConsoleStore, ReviewerError
    from pipeline.store import Store

    db = ConsoleStore(Store(_store_url(args)))
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

    from console.app import create_app
    from console.settings import ConsoleSettings

    settings = ConsoleSettings()
    host, port = args.host or settings.host, args.port or settings.port
    if not _is_loopback(host):
        print(f"zizhi console: listening on {host}, not loopback: put it behind an HTTPS proxy and set "
              "ZIZHI_CONSOLE_SECURE_COOKIES=true", file=sys.stderr)
    app = create_app(_store_url(args), settings)
    print(f"zizhi console on http://{host}:{port}/ (store {app.state.store!r})", file=sys.stderr)
    uvicorn.run(app, host=host, port=port, log_level="info", proxy_headers=False, server_header=False)
    return 0
