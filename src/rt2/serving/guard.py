"""Connection guard: deadlines for slow and idle HTTP clients, a cap on connections per address.

uvicorn's h11 protocol times out only the idle gap *between* requests (``timeout_keep_alive``): a
request head that never ends, or a body that never arrives, holds its connection for as long as
the client likes, and every held connection counts towards the server's concurrency limit. The
protocol here is uvicorn's own ``H11Protocol`` plus three rules:

- a request head (and a new connection's first request) must arrive within ``header_timeout_s``;
- its body must arrive within ``body_timeout_s`` of the head;
- one client address holds at most ``max_per_client`` connections (websockets included), and the
  server at most ``max_connections``; a connection past either limit is answered
  ``503 too_many_connections`` and closed at once.

An expired deadline answers ``408 request_timeout`` (or closes a connection that never sent a
byte) and closes the connection. A client that hangs up in the middle of a body is one info line,
not a traceback. Every refusal is counted by reason for ``/healthz``.
"""

from __future__ import annotations

import asyncio
import logging
from collections import Counter
from dataclasses import dataclass
from typing import Any

import h11
from uvicorn.protocols.http.h11_impl import H11Protocol
from uvicorn.protocols.utils import get_remote_addr

from rt2.serving.protocol import RequestError

log = logging.getLogger("rt2.serve")

#: how long a refused connection is kept half-closed so the client can read the 503 (no RST)
LINGER_S = 1.0


@dataclass(frozen=True)
class ConnectionLimits:
    """Deadlines (seconds) and connection caps; validated on construction."""

    header_timeout_s: float = 10.0
    body_timeout_s: float = 30.0
    keep_alive_s: float = 5.0
    max_connections: int = 1000
    max_per_client: int = 128

    def __post_init__(self) -> None:
        for name in ("header_timeout_s", "body_timeout_s", "keep_alive_s"):
            value = getattr(self, name)
            if not 0 < value <= 3600:
                raise ValueError(f"ConnectionLimits.{name}: expected in (0, 3600], got {value}")
        if self.max_connections < 1:
            raise ValueError(
                f"ConnectionLimits.max_connections: expected >= 1, got {self.max_connections}"
            )
        if not 1 <= self.max_per_client <= self.max_connections:
            raise ValueError(
                f"ConnectionLimits.max_per_client: expected in [1, max_connections="
                f"{self.max_connections}], got {self.max_per_client}"
            )


class ConnectionGuard:
    """Open connections per client address and refusals by reason (one event loop's state)."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.per_client: Counter[str] = Counter()
        self.rejected: Counter[str] = Counter()

    @property
    def open(self) -> int:
        return sum(self.per_client.values())

    def admit(self, host: str) -> RequestError | None:
        """Count a new connection from ``host``, or say why it is refused."""
        if self.per_client[host] >= self.limits.max_per_client:
            return RequestError(
                "too_many_connections",
                f"{host} already holds {self.per_client[host]} connections "
                f"(limit {self.limits.max_per_client} per client address)",
            )
        if self.open >= self.limits.max_connections:
            return RequestError(
                "too_many_connections",
                f"the server holds {self.open} connections (limit {self.limits.max_connections})",
            )
        self.per_client[host] += 1
        return None

    def release(self, host: str) -> None:
        self.per_client[host] -= 1
        if self.per_client[host] <= 0:
            del self.per_client[host]


def raw_error_response(err: RequestError) -> bytes:
    """A complete ``Connection: close`` HTTP/1.1 error response, written past h11's state machine
    (it may not answer a request whose head never arrived)."""
    body = err.to_text().encode()
    head = (
        f"HTTP/1.1 {err.status} {_REASONS.get(err.status, 'Error')}\r\n"
        f"content-type: application/json\r\ncontent-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    )
    return head.encode() + body


_REASONS = {408: "Request Timeout", 503: "Service Unavailable"}


class GuardedH11Protocol(H11Protocol):
    """uvicorn's h11 protocol with the guard's deadlines and caps (subclassed per server by
    :func:`guarded_protocol`, which sets ``guard``)."""

    guard: ConnectionGuard

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._host: str | None = None  # set while this connection is counted
        self._refused = False
        self._phase = ""  # "header" or "body" while a deadline runs
        self._deadline: asyncio.TimerHandle | None = None
        self._expired = False

    # ---- asyncio protocol ---------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        addr = get_remote_addr(transport)
        host = addr[0] if addr else "unknown"
        refusal = self.guard.admit(host)
        if refusal is not None:
            self._refuse(transport, refusal)
            return
        self._host = host
        super().connection_made(transport)
        self._arm("header")

    def data_received(self, data: bytes) -> None:
        if self._refused or self._expired:
            return  # discarded: a refused connection only waits for the client to read the 503
        super().data_received(data)
        self._track()

    def eof_received(self) -> bool | None:
        if self._refused:
            return None  # the client read the 503 and closed: close our side too
        return super().eof_received()  # type: ignore[func-returns-value]

    def connection_lost(self, exc: Exception | None) -> None:
        if self._refused:
            return
        self._cancel()
        if (
            not self._expired
            and self.cycle is not None
            and self.conn.their_state is h11.SEND_BODY
            and not self.cycle.response_complete
        ):
            self.guard.rejected["client_disconnected"] += 1
            declared = dict(self.headers or []).get(b"content-length", b"?").decode("latin-1")
            log.info(
                "%s hung up before sending all of %s %s's body (content-length %s)",
                self._client_text(),
                self.scope["method"],
                self.scope["path"],
                declared,
            )
        self._release()
        super().connection_lost(exc)

    # ---- uvicorn hooks ------------------------------------------------------------------------
    def on_response_complete(self) -> None:
        super().on_response_complete()
        if not self.transport.is_closing():
            self._track()  # a pipelined request may already be half here

    def send_400_response(self, msg: str) -> None:
        self.guard.rejected["bad_http"] += 1
        self._cancel()
        super().send_400_response(msg)

    def handle_websocket_upgrade(self, event: h11.Request) -> None:
        self._cancel()  # the websocket protocol has its own ping timeouts
        super().handle_websocket_upgrade(event)
        ws = self.transport.get_protocol()
        ws_lost = ws.connection_lost

        def connection_lost(exc: Exception | None) -> None:
            self._release()
            ws_lost(exc)

        ws.connection_lost = connection_lost  # type: ignore[method-assign]

    # ---- deadlines ----------------------------------------------------------------------------
    def _track(self) -> None:
        """Start, switch or stop the deadline after the parser consumed what arrived."""
        state = self.conn.their_state
        if state is h11.IDLE:
            if self._phase != "header" and self.conn.trailing_data[0]:
                self._arm("header")  # the next request's head has begun
        elif state is h11.SEND_BODY:
            if self._phase != "body":
                self._arm("body")
        else:
            self._cancel()

    def _arm(self, phase: str) -> None:
        self._cancel()
        limits = self.guard.limits
        seconds = limits.header_timeout_s if phase == "header" else limits.body_timeout_s
        self._phase = phase
        self._deadline = self.loop.call_later(seconds, self._expire)

    def _cancel(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
        self._deadline, self._phase = None, ""

    def _expire(self) -> None:
        phase, self._deadline, self._phase = self._phase, None, ""
        if self.transport.is_closing():
            return
        self._expired = True
        limits = self.guard.limits
        if phase == "header" and not self.conn.trailing_data[0]:
            reason = "idle_timeout"  # connected and sent nothing
        else:
            reason = f"{phase}_timeout"
        self.guard.rejected[reason] += 1
        if phase == "body":
            seconds = limits.body_timeout_s
            what = f"the body of {self.scope['method']} {self.scope['path']}"
        else:
            seconds = limits.header_timeout_s
            what = "a request head" if reason == "header_timeout" else "any request"
        log.info("%s: %s: sent no complete %s in %g s", self._client_text(), reason, what, seconds)
        if reason != "idle_timeout" and (self.cycle is None or not self.cycle.response_started):
            err = RequestError("request_timeout", f"{what} did not arrive within {seconds:g} s")
            self.transport.write(raw_error_response(err))
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.disconnected = True  # the app's receive() says http.disconnect
            self.cycle.message_event.set()
        self.transport.close()

    # ---- helpers ------------------------------------------------------------------------------
    def _refuse(self, transport: asyncio.Transport, err: RequestError) -> None:
        self._refused = True
        self.transport = transport
        self.guard.rejected[err.kind] += 1
        log.info("refused a connection: %s", err.message)
        transport.write(raw_error_response(err))
        if transport.can_write_eof():
            transport.write_eof()  # half-close: the client reads the 503, then we close
            asyncio.get_running_loop().call_later(LINGER_S, transport.close)
        else:
            transport.close()

    def _release(self) -> None:
        if self._host is not None:
            self.guard.release(self._host)
            self._host = None

    def _client_text(self) -> str:
        return f"{self.client[0]}:{self.client[1]}" if self.client else "a client"


def guarded_protocol(guard: ConnectionGuard) -> type[GuardedH11Protocol]:
    """The protocol class to pass as ``uvicorn.Config(http=...)`` for one server."""
    return type("GuardedH11Protocol", (GuardedH11Protocol,), {"guard": guard})
