"""How the console is served: uvicorn with a limit on the request head and a header-read timeout.

uvicorn 0.54 bounds the size of a request head (`h11_max_incomplete_event_size`) but not the time
it may take to arrive: its keep-alive timer runs only between requests and is cancelled by the
first byte, so a client that sends its headers one byte a minute ("slowloris") holds a connection
for ever, and one that connects and sends nothing is never timed out. `HeaderTimeoutH11Protocol`
adds the missing timer: from the connection (and from the end of each response) until a request's
headers are complete; when it fires first, the connection is closed.
"""

from __future__ import annotations

import asyncio

import h11
import uvicorn
from uvicorn.protocols.http.h11_impl import H11Protocol

from console.settings import ConsoleSettings


class HeaderTimeoutH11Protocol(H11Protocol):
    """uvicorn's h11 protocol, closing a connection whose request head takes over `header_timeout` s."""

    header_timeout: float = 10.0

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        self._header_timer: asyncio.TimerHandle | None = None
        super().connection_made(transport)
        self._arm_header_timer()

    def _arm_header_timer(self) -> None:
        self._cancel_header_timer()
        self._header_timer = self.loop.call_later(self.header_timeout, self._header_timeout_expired)

    def _cancel_header_timer(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self.conn.their_state is not h11.IDLE:  # a whole request head has been parsed
            self._cancel_header_timer()

    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing() and self.conn.their_state is h11.IDLE:
            self._arm_header_timer()  # the next request on this connection gets the same time

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_header_timer()
        super().connection_lost(exc)

    def _header_timeout_expired(self) -> None:
        self._header_timer = None
        if self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self.transport.close()


def uvicorn_config(app, host: str, port: int, settings: ConsoleSettings, **options) -> uvicorn.Config:
    """The uvicorn configuration the console runs with (also the browser test's)."""
    protocol = type("ConsoleH11Protocol", (HeaderTimeoutH11Protocol,),
                    {"header_timeout": settings.header_timeout_seconds})
    options.setdefault("log_level", "info")
    return uvicorn.Config(app, host=host, port=port, http=protocol, proxy_headers=False, server_header=False,
                          h11_max_incomplete_event_size=settings.max_header_bytes, **options)
