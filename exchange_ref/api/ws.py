"""The market data WebSocket protocol: one session per client, requests in, frames out.

Requests are JSON text frames `{"method": ..., "params": [...], "id": ...}`:

- `SUBSCRIBE` / `UNSUBSCRIBE` with `params` a list of stream names -> `{"result":null,"id":N}`
- `LIST_SUBSCRIPTIONS` (no `params`, or an empty list) -> `{"result":["btcusd@depth"],"id":N}`

`id` is an integer, a string or null (absent means null) and is echoed back. A bad request gets
`{"error":{"code":"<code>","msg":"<message>"},"id":<id or null>}` and the connection stays
open; codes: `invalid_json`, `invalid_request`, `invalid_id`, `missing_method`,
`unknown_method`, `invalid_params`, `unknown_stream`, `binary_not_supported`. Replies are queued
with the client's data frames (see `exchange_ref.feed.hub`), so they keep their order.
"""

from __future__ import annotations

from typing import Any

import orjson
from starlette.websockets import WebSocket

from exchange_ref.feed.hub import MarketDataHub, Subscriber, UnknownStreamError

__all__ = ["RequestError", "handle_request", "websocket_session"]

_METHODS = ("SUBSCRIBE", "UNSUBSCRIBE", "LIST_SUBSCRIPTIONS")
_MAX_ID = 64  # characters of a string request id (it is echoed in the reply)
RequestId = int | str | None


class RequestError(Exception):
    """A request the session answers with an error frame."""

    def __init__(self, code: str, msg: str, request_id: RequestId = None) -> None:
        super().__init__(msg)
        self.code = code
        self.msg = msg
        self.request_id = request_id

    def reply(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "msg": self.msg}, "id": self.request_id}


async def websocket_session(websocket: WebSocket, hub: MarketDataHub) -> None:
    """Serve one market data client until it disconnects or the hub closes it."""
    await websocket.accept()
    if hub.closing:
        await websocket.close(1001, "server shutting down")
        return
    client = hub.connect(websocket)
    try:
        while True:
            message = await websocket.receive()
            if message["type"] == "websocket.disconnect":
                break
            text = message.get("text")
            if text is None:
                reply = RequestError(
                    "binary_not_supported", "send requests as JSON text frames"
                ).reply()
            else:
                reply = handle_request(hub, client, text)
            await hub.send_reply(client, reply)
    finally:
        await hub.disconnect(client)


def handle_request(hub: MarketDataHub, client: Subscriber, text: str) -> dict[str, Any]:
    """Apply one request frame of `client` and return the reply to send."""
    try:
        return _apply(hub, client, text)
    except RequestError as exc:
        return exc.reply()


def _apply(hub: MarketDataHub, client: Subscriber, text: str) -> dict[str, Any]:
    try:
        request = orjson.loads(text)
    except orjson.JSONDecodeError:
        raise RequestError("invalid_json", "the request is not valid JSON") from None
    if not isinstance(request, dict):
        raise RequestError("invalid_request", "the request must be a JSON object")
    request_id = request.get("id")
    if request_id is not None and (
        isinstance(request_id, bool)
        or not isinstance(request_id, int | str)
        or (isinstance(request_id, str) and len(request_id) > _MAX_ID)
        or (isinstance(request_id, int) and request_id.bit_length() > 63)
    ):
        raise RequestError(
            "invalid_id",
            f"id must be a 64-bit integer, a string of at most {_MAX_ID} characters or null",
        )
    method = request.get("method")
    if method is None:
        raise RequestError("missing_method", "method is required", request_id)
    if method not in _METHODS:
        raise RequestError(
            "unknown_method", f"method must be one of {', '.join(_METHODS)}", request_id
        )
    params = request.get("params")
    if method == "LIST_SUBSCRIPTIONS":
        if params not in (None, []):
            raise RequestError("invalid_params", "LIST_SUBSCRIPTIONS takes no params", request_id)
        return {"result": hub.subscriptions(client), "id": request_id}
    if not isinstance(params, list) or not all(isinstance(p, str) for p in params):
        raise RequestError("invalid_params", "params must be a list of stream names", request_id)
    try:
        if method == "SUBSCRIBE":
            hub.subscribe(client, params)
        else:
            hub.unsubscribe(client, params)
    except UnknownStreamError as exc:
        raise RequestError("unknown_stream", str(exc), request_id) from None
    return {"result": None, "id": request_id}
