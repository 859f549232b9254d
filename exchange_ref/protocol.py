"""uvicorn's httptools protocol with the exchange's connection rules (`exchange_ref.connguard`).

- At accept: a connection over the per-source or total cap is aborted before any parsing.
- Request heads: at most `max_header_bytes` from the first byte of a request to the end of its
  head are fed to the parser (431 past that, so a huge header never reaches httptools, which
  buffers a field until it ends), at most `max_header_count` fields (431) and `max_url_bytes`
  of URL (414); each refusal is a JSON error with `Connection: close`, then the connection is
  closed.
  A head that begins while a response is still under way (pipelined) may begin in the middle
  of a read, past what was counted: it is measured from its parts when it ends (431 if over).
- Timeouts: a head must end `header_timeout` seconds after its first byte (408, closed; for a
  pipelined head, from when it began once the response before it is sent); a request body
  that is not complete gets 408 (or, its answer begun, is closed) when no byte of it came for
  `body_timeout` seconds, and its app's `receive` gets `http.disconnect` (an answer computed
  after the body ended is never timed out, nor a body the server is not reading: the app has
  not taken what came, has not yet asked for it with 100 Continue, or a pipelined request
  waits for the response before it); a connection
  with no request in progress for `idle_timeout` seconds (since it opened or since its last
  response) is closed. The guard's sweep checks them; a request only stores a time or bumps a
  counter. This replaces uvicorn's keep-alive timer (one timer armed and cancelled per
  request).
- Upgraded connections leave the sweep: a WebSocket is governed by the market-data rules; the
  source's count is released when it closes.
- Shutdown: a request in progress is answered with `Connection: close`; a request that arrives
  while draining is answered 503 `SHUTTING_DOWN` with `Connection: close`; once the grace
  window ends idle connections are closed (never while a request may be on its way to them)
  and a request whose body is still incomplete is answered 503 too (its app gets
  `http.disconnect`), so that no request waits for the drain timeout and its cancellation.

    config = GuardedConfig(app, ConnectionGuard(ConnectionLimits()), host=..., port=...)
"""

from __future__ import annotations

import asyncio
from typing import Any

import httptools
import orjson
import uvicorn
from uvicorn._types import ASGIReceiveCallable, ASGISendCallable, Scope
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol
from uvicorn.protocols.utils import get_remote_addr
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from uvicorn.server import ServerState

from exchange_ref.connguard import ConnectionGuard

__all__ = ["SHUTTING_DOWN", "GuardedConfig", "GuardedHttpProtocol", "GuardedWebSocketProtocol"]

SHUTTING_DOWN = "SHUTTING_DOWN"
_IDLE, _HEAD, _BUSY = 0, 1, 2  # no request in progress / a head arriving / a request in progress
_DRAIN_BODY = 1 << 20  # bytes of a request body read before answering 503 while shutting down
_SHUTDOWN_BODY = orjson.dumps(
    {"code": SHUTTING_DOWN, "message": "the exchange is shutting down; retry on a new connection"}
)


class _Refused(Exception):
    """Raised from a parser callback: the request head is over a limit (see `_refusal`)."""


class GuardedConfig(uvicorn.Config):
    """uvicorn's config with the guarded protocols and the guard they share."""

    def __init__(self, app: Any, guard: ConnectionGuard, **kwargs: Any) -> None:
        super().__init__(app, http=GuardedHttpProtocol, ws=GuardedWebSocketProtocol, **kwargs)
        self.guard = guard


class GuardedHttpProtocol(HttpToolsProtocol):
    """HTTP/1.1 on httptools with head limits, header and idle timeouts, caps and draining."""

    def __init__(
        self,
        config: uvicorn.Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        guard: ConnectionGuard = config.guard  # type: ignore[attr-defined]
        limits = guard.limits
        self.guard = guard
        self._max_head = limits.max_header_bytes
        self._max_count = limits.max_header_count
        self._max_url = limits.max_url_bytes
        self._header_timeout = limits.header_timeout
        self._idle_timeout = limits.idle_timeout
        self._body_timeout = limits.body_timeout
        self._source: str | None = None  # the admitted source address; None: refused
        self._phase = _IDLE
        self._since = 0.0  # when the phase began (loop time)
        self._reading_head = True  # bytes received now belong to a request head
        self._head_used = 0  # bytes of the current head fed to the parser
        self._pipelined = False  # a head began while a response was under way (not yet ended)
        self._pipelined_since = 0.0  # when it began (loop time)
        self._body_rx = 0  # reads while a request body was incomplete
        self._body_seen = 0  # `_body_rx` at the sweep that last saw the body progress; -1: new
        self._body_since = 0.0  # when that sweep ran
        self._refusal: tuple[int, str, str] | None = None
        self._upgraded = False

    # Connection

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        client = get_remote_addr(transport)
        host = client[0] if client else ""
        if not self.guard.admit(host):
            transport.abort()
            return
        self._source = host
        super().connection_made(transport)
        self._since = self.loop.time()
        self.guard.http.add(self)

    def connection_lost(self, exc: Exception | None) -> None:
        if self._source is None:  # refused at accept
            return
        self.guard.http.discard(self)
        self.guard.release(self._source)
        super().connection_lost(exc)

    def handle_websocket_upgrade(self) -> None:
        self._upgraded = True
        self.guard.http.discard(self)
        super().handle_websocket_upgrade()
        ws = self.transport.get_protocol()
        if isinstance(ws, GuardedWebSocketProtocol):
            ws.guard, ws.source = self.guard, self._source  # released when it closes
        elif self._source is not None:
            self.guard.release(self._source)

    # Bytes in

    def data_received(self, data: bytes) -> None:
        if self._reading_head:
            if self._phase == _IDLE:
                self._phase = _HEAD
                self._since = self.loop.time()
            used = self._head_used + len(data)
            if used > self._max_head:
                self._feed_bounded(data)
                return
            self._head_used = used
        else:
            self._body_rx += 1
        self._feed(data)

    def _feed_bounded(self, data: bytes) -> None:
        """Feed no more of a head than its limit allows; 431 when it has not ended by then."""
        room = self._max_head - self._head_used
        self._head_used = self._max_head
        self._feed(data[:room])
        if self._upgraded or self.transport.is_closing():
            return
        if self._reading_head and self._head_used >= self._max_head:
            self._refuse(
                431, "HEADERS_TOO_LARGE", f"the request head is over {self._max_head} bytes"
            )
            return
        self.data_received(data[room:])  # the head ended inside the limit

    def _feed(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserUpgrade:
            if self._should_upgrade():
                self.handle_websocket_upgrade()
            else:
                self._unsupported_upgrade_warning()
        except httptools.HttpParserError:
            if self._refusal is not None:
                self._refuse(*self._refusal)
            else:
                msg = "Invalid HTTP request received."
                self.logger.warning(msg)
                self.send_400_response(msg)

    # Parser callbacks

    def on_url(self, url: bytes) -> None:
        # (Here rather than in on_message_begin: no extra callback per request.)
        if self._phase == _BUSY and not self._pipelined:
            # A head begun while a response is under way (pipelined), possibly in the middle
            # of a read, so not counted: measured from its parts when it ends.
            self._pipelined = True
            self._pipelined_since = self.loop.time()
        self.url += url
        if len(self.url) > self._max_url:
            self._refusal = (414, "URL_TOO_LONG", f"the URL is over {self._max_url} bytes")
            raise _Refused

    def on_headers_complete(self) -> None:
        self._reading_head = False
        self._phase = _BUSY
        self._body_seen = -1
        if len(self.headers) > self._max_count:
            self._refusal = (
                431,
                "HEADERS_TOO_LARGE",
                f"the request has over {self._max_count} header fields",
            )
            raise _Refused
        if self._pipelined:
            self._pipelined = False
            if self._head_size() > self._max_head:
                self._refusal = (
                    431,
                    "HEADERS_TOO_LARGE",
                    f"the request head is over {self._max_head} bytes",
                )
                raise _Refused
        if self.guard.draining:
            self.app = self._shutting_down
        super().on_headers_complete()

    def on_message_complete(self) -> None:
        super().on_message_complete()
        self._reading_head = True
        self._head_used = 0

    def on_response_complete(self) -> None:
        self.server_state.total_requests += 1
        if self.transport.is_closing():
            return
        self.flow.resume_reading()
        if self.pipeline:
            cycle, app = self.pipeline.pop()
            self._start_asgi_task(cycle, app)
            return
        if self._pipelined:  # the next head began while this response was under way
            self._phase = _HEAD
            self._since = self._pipelined_since
            return
        self._phase = _IDLE
        self._since = self.loop.time()

    def _head_size(self) -> int:
        """Bytes of the head just parsed, from its parts: at most what was sent (methods have
        3 letters or more; a request line has 2 spaces and "HTTP/1.1\r\n"; the head ends with
        "\r\n"; a field is "name: value\r\n")."""
        size = len(self.url) + 17
        for name, value in self.headers:
            size += len(name) + len(value) + 4
        return size

    # The guard's side

    def check_deadlines(self, now: float) -> None:
        """Close the connection when idle past its timeout, slow to send a request head, or
        stalled in a request body (or, the grace window over, still sending one)."""
        if self.transport.is_closing():
            return
        if self._phase == _IDLE:
            if now - self._since > self._idle_timeout:
                self.guard.stats.idle_closed += 1
                self.transport.close()
        elif self._phase == _HEAD:
            if now - self._since > self._header_timeout:
                self.guard.stats.header_timeouts += 1
                self._refuse(
                    408,
                    "HEADER_TIMEOUT",
                    f"the request head did not arrive within {self._header_timeout:g} s",
                )
        elif not self._reading_head:  # a request whose body has not all arrived
            if self.guard.grace_over and not self.pipeline:
                self._shut_out_body()
            elif (
                self._body_seen != self._body_rx
                or self.flow.read_paused
                or self.cycle.waiting_for_100_continue
            ):
                # Bytes came since the last sweep, or the server is not reading (the app has
                # not taken what came, a response before this request is under way, or the
                # client waits for the app to ask for the body with 100 Continue).
                self._body_seen = self._body_rx
                self._body_since = now
            elif now - self._body_since > self._body_timeout:
                self.guard.stats.body_timeouts += 1
                self._abandon(
                    408,
                    orjson.dumps(
                        {
                            "code": "REQUEST_TIMEOUT",
                            "message": f"no byte of the request body arrived for "
                            f"{self._body_timeout:g} s",
                        }
                    ),
                )

    def end_of_grace(self) -> None:
        """The drain's grace window ended: close if no request is in progress; answer 503 to
        a request still waiting for its body (unless a response before it is under way: the
        sweep does it once that is sent)."""
        if self.transport.is_closing():
            return
        if self._phase == _IDLE:
            self.transport.close()
        elif self._phase == _BUSY and not self._reading_head and not self.pipeline:
            self._shut_out_body()

    def _shut_out_body(self) -> None:
        self.guard.stats.shutting_down_503 += 1
        self._abandon(503, _SHUTDOWN_BODY, b"retry-after: 1\r\n")

    def shutdown(self) -> None:
        """uvicorn's graceful shutdown: a request in progress is answered with `Connection:
        close`; an idle connection stays open through the grace window (see the guard)."""
        self.guard.drain()
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False

    # Answers of our own

    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer a JSON error with `Connection: close` (unless another response is under
        way on this connection), then close."""
        if status in (414, 431):
            self.guard.stats.heads_too_large += 1
        self._phase = _BUSY
        self._reading_head = False
        if self.cycle is None or self.cycle.response_complete:
            self._write_error(status, orjson.dumps({"code": code, "message": message}))
        self.transport.close()

    def _abandon(self, status: int, body: bytes, headers: bytes = b"") -> None:
        """Give up on the request in progress, its body incomplete: answer `status` with
        `body` and `Connection: close` unless its app has begun an answer, then close. The
        app's `receive` returns `http.disconnect` and what it sends is dropped."""
        cycle = self.cycle
        if cycle is not None:
            cycle.disconnected = True
            cycle.message_event.set()
            if not cycle.response_started:
                self._write_error(status, body, headers)
        self.transport.close()

    def _write_error(self, status: int, body: bytes, headers: bytes = b"") -> None:
        """A JSON answer with `Connection: close`, written as is."""
        content = [STATUS_LINE[status]]
        for name, value in self.server_state.default_headers:
            content.extend([name, b": ", value, b"\r\n"])
        content.extend(
            [
                headers,
                b"content-type: application/json\r\ncontent-length: ",
                str(len(body)).encode("ascii"),
                b"\r\nconnection: close\r\n\r\n",
                body,
            ]
        )
        self.transport.write(b"".join(content))

    async def _shutting_down(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        """503 SHUTTING_DOWN with `Connection: close`, once the body (up to 1 MiB) is read, so
        that closing leaves no unread request behind (which would reset the connection)."""
        received = 0
        while received < _DRAIN_BODY:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client left, or the protocol answered (a stalled body)
            if not message.get("more_body", False):
                break
            received += len(message.get("body", b""))
        self.guard.stats.shutting_down_503 += 1
        await send(
            {
                "type": "http.response.start",
                "status": 503,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(_SHUTDOWN_BODY)).encode("ascii")),
                    (b"retry-after", b"1"),
                    (b"connection", b"close"),
                ],
            }
        )
        await send({"type": "http.response.body", "body": _SHUTDOWN_BODY, "more_body": False})


class GuardedWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's WebSocket protocol; releases its source's count when it closes."""

    guard: ConnectionGuard | None = None
    source: str | None = None

    def connection_lost(self, exc: Exception | None) -> None:
        try:
            super().connection_lost(exc)
        finally:
            if self.guard is not None and self.source is not None:
                self.guard.release(self.source)
                self.guard = None
