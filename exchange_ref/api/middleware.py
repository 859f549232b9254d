"""ASGI middleware: HTTP metrics (requests, latency, bytes, in-flight), the request body limit
and load shedding."""

from __future__ import annotations

import time
from typing import Any, cast

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from exchange_ref.api.responses import error_response
from exchange_ref.api.wire import MAX_BODY, WireError
from exchange_ref.metrics import ChildCache, ExchangeMetrics

__all__ = ["BodyTooLarge", "ObservedApp"]

_CLOSE = (b"connection", b"close")


class BodyTooLarge(WireError):
    """Raised by `receive` once a body passes the limit (one without a Content-Length)."""

    def __init__(self, limit: int) -> None:
        super().__init__("BODY_TOO_LARGE", f"request body over {limit} bytes", 413)


def _declared_body(headers: list[tuple[bytes, bytes]]) -> int:
    """The body length a request announces: its Content-Length, -1 when chunked, else 0."""
    for name, value in headers:
        if name == b"content-length":
            return int(value) if value.isdigit() else -1
        if name == b"transfer-encoding":
            return -1
    return 0


_NOT_SHED = ("/health/", "/metrics", "/admin/")


class ObservedApp:
    """Counts every HTTP request and sheds load with 503 + Retry-After when over capacity.

    `limits()` returns the reason to shed now (or None); in-flight requests beyond
    `max_inflight` are shed too. Health, metrics and admin routes are never shed, so the
    operator can still see what is happening.

    Every route's body is limited to `max_body` bytes before anything reads it: a declared
    length over it is answered 413 at once, and a chunked body is cut off as it passes it. A
    response sent before its request's body was read closes the connection, so that the server
    does not go on taking a body nobody wants.
    """

    def __init__(
        self,
        app: ASGIApp,
        metrics: ExchangeMetrics,
        max_inflight: int,
        retry_after: int,
        limits: Any,
        fast: Any = None,
        max_body: int = MAX_BODY,
    ) -> None:
        self.app = app
        self.metrics = metrics
        self.max_inflight = max_inflight
        self.retry_after = str(retry_after)
        self.limits = limits
        self.inflight = 0
        self.fast = fast  # an OrderFastPath, or None to route everything through the app
        self.max_body = max_body
        self._requests = ChildCache(metrics.http_requests)  # (method, route, status)
        self._duration = ChildCache(metrics.http_duration)  # (method, route)
        self._request_bytes = ChildCache(metrics.http_request_bytes)
        self._response_bytes = ChildCache(metrics.http_response_bytes)
        self._shed = ChildCache(metrics.load_shed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        metrics = self.metrics
        path: str = scope["path"]
        method: str = scope["method"]
        declared = _declared_body(scope["headers"])
        max_body = self.max_body
        if declared > max_body:
            self._requests(method, "too_large", "413").inc()
            response = error_response(
                413,
                "BODY_TOO_LARGE",
                f"request body over {max_body} bytes",
                {"Connection": "close"},
            )
            await response(scope, receive, send)
            return
        if not path.startswith(_NOT_SHED):
            reason = "inflight" if self.inflight >= self.max_inflight else self.limits()
            if reason is not None:
                self._shed(reason).inc()
                self._requests(method, "shed", "503").inc()
                response = error_response(
                    503,
                    "OVERLOADED",
                    f"the exchange is shedding load ({reason}); retry after {self.retry_after} s",
                    # A body it did not read: close rather than go on taking it.
                    {
                        "Retry-After": self.retry_after,
                        **({"Connection": "close"} if declared else {}),
                    },
                )
                await response(scope, receive, send)
                return
        start = time.perf_counter()
        scope["pincex.arrived"] = start
        status = 500
        sent = 0
        received = 0
        unread = declared != 0  # a body the app has not read to its end yet

        async def counting_receive() -> Message:
            nonlocal received, unread
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > max_body:
                    raise BodyTooLarge(max_body)
                if not message.get("more_body", False):
                    unread = False
            return message

        async def counting_send(message: Message) -> None:
            nonlocal status, sent
            if message["type"] == "http.response.start":
                status = message["status"]
                if unread:
                    message["headers"] = [*message.get("headers", ()), _CLOSE]
            elif message["type"] == "http.response.body":
                sent += len(message.get("body", b""))
            await send(message)

        self.inflight += 1
        metrics.inflight.inc()
        fast = self.fast
        try:
            if fast is not None and fast.handles(scope):
                await fast(scope, counting_receive, counting_send)
            else:
                await self.app(scope, counting_receive, counting_send)
        finally:
            self.inflight -= 1
            metrics.inflight.dec()
            label = cast(
                str,
                scope.get("pincex.route") or getattr(scope.get("route"), "path", "unmatched"),
            )
            self._requests(method, label, str(status)).inc()
            self._duration(method, label).observe(time.perf_counter() - start)
            self._request_bytes(label).inc(received)
            self._response_bytes(label).inc(sent)
