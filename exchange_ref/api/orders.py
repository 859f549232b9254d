"""Order placement, shared by the FastAPI routes and the raw ASGI fast path.

Both answer exactly the same way; the fast path skips the framework's per-request work
(dependency solving, exception middleware) on the two routes that carry the order flow.
"""

from __future__ import annotations

import time
from typing import Any

import orjson

from exchange_ref.api.wire import WireError
from exchange_ref.engine.errors import EngineError
from exchange_ref.metrics import observe_many
from exchange_ref.service import ExchangeService, User

__all__ = ["MAX_BODY", "decode_json", "place_batch", "place_single"]

MAX_BODY = 4 * 1024 * 1024


def decode_json(body: bytes) -> Any:
    if len(body) > MAX_BODY:
        raise WireError("BODY_TOO_LARGE", f"request body over {MAX_BODY} bytes", 413)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise WireError("INVALID_JSON", f"malformed JSON: {exc}") from None


def _observe(service: ExchangeService, results: list[dict[str, Any]], start: float) -> None:
    """One observation per order: from the request's arrival to its acknowledgement."""
    elapsed = time.perf_counter() - start
    service.count_processed(results)
    counts: dict[tuple[str, str, str], int] = {}
    for order in results:
        key = (order["symbol"], order["side"], order["type"])
        counts[key] = counts.get(key, 0) + 1
    for key, count in counts.items():
        observe_many(service.processing_histogram(*key), elapsed, count)


async def place_single(
    service: ExchangeService, user: User, body: bytes, arrived: float
) -> dict[str, Any]:
    """Place one order object; return it once committed."""
    item = decode_json(body)
    service.engine_wait(arrived)
    order = service.place_timed(user, item, service.clock_us())
    await service.durable()
    _observe(service, [order], arrived)
    return order


async def place_batch(
    service: ExchangeService, user: User, body: bytes, arrived: float
) -> dict[str, Any]:
    """Place a JSON array of order objects, each taken or refused on its own."""
    items = decode_json(body)
    if not isinstance(items, list):
        raise WireError("INVALID_BATCH", "the batch must be a JSON array of order objects")
    limit = service.settings.max_batch_orders
    if len(items) > limit:
        raise WireError(
            "BATCH_TOO_LARGE", f"a batch holds at most {limit} orders, got {len(items)}"
        )
    service.engine_wait(arrived)
    successful: list[dict[str, Any]] = []
    errors: list[dict[str, Any]] = []
    now = service.clock_us()
    place = service.place_timed
    for index, item in enumerate(items):
        try:
            successful.append(place(user, item, now))
        except (WireError, EngineError) as exc:
            errors.append({"index": index, "code": exc.code, "message": exc.message})
    await service.durable()
    _observe(service, successful, arrived)
    return {"successful": successful, "errors": errors}
