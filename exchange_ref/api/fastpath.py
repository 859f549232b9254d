"""The raw ASGI fast path for `POST /api/v1/orders` and `POST /api/v1/orders/batch`.

Same answers as the FastAPI routes (they share `exchange_ref.api.orders`), without the
framework's per-request machinery. The OpenAPI document still describes these routes through
their FastAPI declarations.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson
from starlette.types import Receive, Scope, Send

from exchange_ref.api import orders
from exchange_ref.api.auth import authenticate, running
from exchange_ref.api.errors import REFUSALS, refusal
from exchange_ref.api.wire import MAX_BODY, WireError

__all__ = ["FAST_ROUTES", "OrderFastPath"]

FAST_ROUTES = {
    "/api/v1/orders": (orders.place_single, 201),
    "/api/v1/orders/batch": (orders.place_batch, 200),
}
_JSON = [(b"content-type", b"application/json")]


class OrderFastPath:
    """Serves the two order routes; `state` is the app's state, holding the running `service`
    (once started) and the wire `views`."""

    def __init__(self, state: Any, key_header: str) -> None:
        self.state = state
        self.key_header = key_header.lower().encode("latin-1")

    def handles(self, scope: Scope) -> bool:
        return scope["method"] == "POST" and scope["path"] in FAST_ROUTES

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        place, ok_status = FAST_ROUTES[scope["path"]]
        scope["pincex.route"] = scope["path"]
        status, payload = await self._answer(scope, receive, place, ok_status)
        body = orjson.dumps(payload)
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [*_JSON, (b"content-length", str(len(body)).encode())],
            }
        )
        await send({"type": "http.response.body", "body": body})

    async def _answer(
        self,
        scope: Scope,
        receive: Receive,
        place: Callable[..., Awaitable[dict[str, Any]]],
        ok_status: int,
    ) -> tuple[int, Any]:
        try:
            service = running(getattr(self.state, "service", None))
            api_key = content_type = None
            key_header = self.key_header
            for name, value in scope["headers"]:  # the first of a repeated header, as Starlette
                if name == key_header:
                    if api_key is None:
                        api_key = value.decode("latin-1")
                elif name == b"content-type" and content_type is None:
                    content_type = value.decode("latin-1")
            user = authenticate(service, api_key)
            orders.check_json_type(content_type)
            body = await _read_body(receive)
            arrived = scope.get("pincex.arrived", time.perf_counter())
            return ok_status, await place(service, self.state.views, user, body, arrived)
        except REFUSALS as exc:
            return refusal(exc)


async def _read_body(receive: Receive) -> bytes:
    chunks = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise WireError("DISCONNECTED", "the client went away", 400)
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > MAX_BODY:
            raise WireError("BODY_TOO_LARGE", f"request body over {MAX_BODY} bytes", 413)
        chunks.append(chunk)
        if not message.get("more_body", False):
            return b"".join(chunks)
