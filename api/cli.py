"""`zizhi serve` (the intake API, with its embedded worker and notifier) and `zizhi outbox`.

Imports of the web stack happen inside the commands, so `zizhi verify` never pays for them.
"""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack

from pipeline.cli import tcp_port

EXIT_UNUSABLE = 2


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("serve", help="the intake API (SPEC §7): uploads in, statuses and signed notifications out")
    p.add_argument("--host", help="address to listen on (default ZIZHI_API_HOST, 127.0.0.1: loopback only)")
    p.add_argument("--port", type=tcp_port, help="port (default ZIZHI_API_PORT, 8080)")
    p.add_argument("--no-worker", action="store_true",
                   help="accept and report only; leave verification to the cluster's workers")
    p.add_argument("--store", help="verdict store URL (default: ZIZHI_STORE)")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("outbox", help="status-change notifications not yet delivered to the callback")
    p.add_argument("--store", help="verdict store URL (default: ZIZHI_STORE)")
    p.add_argument("--all", action="store_true", help="delivered ones too")
    p.add_argument("--json", action="store_true", help="one JSON object per line")
    p.set_defaults(func=cmd_outbox)


def _fail(message: str) -> int:
    from pipeline.display import visible

    print(f"zizhi: {visible(message)}", file=sys.stderr)
    return EXIT_UNUSABLE


def cmd_serve(args: argparse.Namespace) -> int:
    from pydantic import ValidationError

    from api.settings import ApiSettings
    from operations.backlog import backlog_settings
    from operations.intake import IntakeSettings
    from operations.notify import BadSecret, secret_keys
    from operations.objects import ObjectStoreError
    from operations.store import Store, StoreError

    try:
        settings, intake_settings = ApiSettings(), IntakeSettings()
    except ValidationError as e:
        return _fail(f"bad setting: {e.errors()[0]['loc'][0]}: {e.errors()[0]['msg']}")
    if not settings.tokens:
        print("zizhi: ZIZHI_API_TOKENS is empty: every request but /v1/health will be refused (401)", file=sys.stderr)
    if intake_settings.callback_url:
        if not intake_settings.callback_url.startswith(("http://", "https://")):
            return _fail("ZIZHI_CALLBACK_URL must be an http:// or https:// URL")
        try:
            secret_keys(intake_settings.callback_secret or "")
        except BadSecret as e:
            return _fail(f"ZIZHI_CALLBACK_SECRET: {e}")
    store_url = args.store or backlog_settings().store
    try:
        store = Store(store_url)
        store.check_writable()
        objects = intake_settings.open_objects(store_url)
        objects.check()
    except (StoreError, ObjectStoreError) as e:
        return _fail(str(e))
    host, port = args.host or settings.host, args.port or settings.port
    with ExitStack() as stack:
        stack.callback(store.close)
        return _run(stack, store, objects, settings, intake_settings, host=host, port=port, worker=not args.no_worker)


def _run(stack: ExitStack, store, objects, settings, intake_settings, *, host: str, port: int, worker: bool) -> int:
    import uvicorn

    from api.app import create_app
    from api.service import Service
    from console.server import HeaderTimeoutH11Protocol
    from operations.notify import Notifier

    notifier = Notifier(store_intake(store), intake_settings)
    wake = [notifier.wake.set]
    if worker:
        from operations.cli import use_prefect_server
        from operations.intake_worker import IntakeWorker

        api = use_prefect_server(stack, shared=True)  # one Prefect server for every flow run of this process
        print(f"zizhi: Prefect API: {api}", file=sys.stderr)
        runner = IntakeWorker(store, intake_settings, objects=intake_settings.objects_url(store.url),
                              after_round=notifier.wake.set).start()
        stack.callback(runner.stop)
        wake.append(runner.wake.set)
    notifier.start()
    stack.callback(notifier.stop)
    service = Service(store=store, objects=objects, settings=settings, intake_settings=intake_settings,
                      on_accept=lambda: [w() for w in wake])
    protocol = type("ApiH11Protocol", (HeaderTimeoutH11Protocol,), {"header_timeout": settings.header_timeout_seconds})
    config = uvicorn.Config(create_app(service), host=host, port=port, http=protocol, proxy_headers=False,
                            server_header=False, h11_max_incomplete_event_size=settings.max_header_bytes,
                            log_level="info", timeout_graceful_shutdown=10)
    print(f"zizhi: intake API on http://{host}:{port} (OpenAPI page: /docs), store {store.name}, objects "
          f"{objects.url}, worker {'embedded' if worker else 'off (--no-worker)'}, callback "
          f"{intake_settings.callback_url or 'none'}", file=sys.stderr)
    _server(config).run()
    return 0


def _server_class():
    import contextlib

    import uvicorn

    class Server(uvicorn.Server):
        """uvicorn's server, except that after a graceful stop on SIGTERM/SIGINT it returns instead of
        re-raising the signal (uvicorn's default kills the process there): the worker, the notifier and
        the temporary Prefect server are then stopped by `zizhi serve` itself, and it exits 0."""

        @contextlib.contextmanager
        def capture_signals(self):
            with super().capture_signals():
                try:
                    yield
                finally:
                    getattr(self, "_captured_signals", []).clear()

    return Server


def _server(config):
    return _server_class()(config)


def store_intake(store):
    from operations.intake import IntakeStore

    return IntakeStore(store)


def cmd_outbox(args: argparse.Namespace) -> int:
    from operations.backlog import backlog_settings
    from operations.intake import IntakeStore
    from operations.store import Store, StoreError
    from pipeline.display import visible

    try:
        store = Store(args.store or backlog_settings().store, create=False, must_exist=True)
        events = IntakeStore(store).events(undelivered_only=not args.all)
    except StoreError as e:
        return _fail(str(e))
    if args.json:
        for e in events:
            print(json.dumps({k: (v.isoformat() + "Z" if hasattr(v, "isoformat") else v) for k, v in e.items()
                              if k != "body"} | {"body": json.loads(e["body"])}, ensure_ascii=False))
        return 0
    print(f"{'event_id':<28} {'state':<10} {'attempts':>8}  {'created (UTC)':<19}  submission / version → status"
          f"  last error")
    for e in events:
        print(f"{e['event_id']:<28} {e['state']:<10} {e['attempts']:>8}  {e['created_at']:%Y-%m-%d %H:%M:%S}  "
              f"{visible(e['submission_id'])} v{e['version']} → {e['status']}  {visible(e['last_error'] or '')}")
    print(f"{len(events)} event(s){'' if args.all else ' not yet delivered'}", file=sys.stderr)
    return 0
