"""Order placement, shared by the FastAPI routes and the raw ASGI fast path.

Both answer exactly the same way; the fast path skips the framework's per-request work
(dependency solving, exception middleware) on the two routes that carry the order flow.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import orjson

from exchange_ref.api.views import WireViews
from exchange_ref.api.wire import MAX_BODY, ParsedOrder, WireError, clip, parse_order
from exchange_ref.engine.errors import EngineError
from exchange_ref.engine.types import SymbolSpec
from exchange_ref.metrics import observe_many
from exchange_ref.service import ExchangeService
from exchange_ref.users import User

__all__ = ["check_json_type", "decode_json", "parse", "place_batch", "place_single"]

log = logging.getLogger("pincex.exchange")


def check_json_type(content_type: str | None) -> None:
    """Refuse a body declared as something other than JSON (none declared is taken as JSON);
    called before the body is read."""
    if content_type is None:
        return
    media = content_type.partition(";")[0].strip().lower()
    if media != "application/json" and not (
        media.startswith("application/") and media.endswith("+json")
    ):
        raise WireError(
            "UNSUPPORTED_MEDIA_TYPE",
            f"the body must be JSON (Content-Type: application/json), not {clip(media, 40)}",
            415,
        )


def decode_json(body: bytes) -> Any:
    """The JSON value of a request body, or WireError (413 or 400)."""
    if len(body) > MAX_BODY:
        raise WireError("BODY_TOO_LARGE", f"request body over {MAX_BODY} bytes", 413)
    try:
        return orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        raise WireError("INVALID_JSON", f"malformed JSON: {exc}") from None


def parse(item: Any, specs: dict[str, SymbolSpec]) -> ParsedOrder:
    """Check one order object without acting on it; raise WireError when it is refused.

    Parsing changes nothing, so even a defect in it is answered as a refusal (and logged)
    rather than as a failed request."""
    try:
        return parse_order(item, specs)
    except WireError:
        raise
    except Exception:
        log.exception("reading an order object failed")
        raise WireError("INVALID_ORDER", "the order object could not be read") from None


def _place(
    service: ExchangeService, views: WireViews, user: User, parsed: ParsedOrder, now: int
) -> dict[str, Any]:
    placement = service.place(
        user,
        parsed.spec,
        parsed.side,
        parsed.type,
        parsed.tif,
        parsed.price,
        parsed.quantity,
        now,
    )
    return views.order(placement, parsed.client_order_id)


def _observe(service: ExchangeService, results: list[dict[str, Any]], start: float) -> None:
    """Count acknowledged orders in `pincex_orders_processed_total` and observe one processing
    time per order: from the request's arrival to its acknowledgement."""
    elapsed = time.perf_counter() - start
    processed: dict[tuple[str, str, str], int] = {}
    processing: dict[tuple[str, str, str], int] = {}
    for order in results:
        key = (order["symbol"], order["side"], order["status"])
        processed[key] = processed.get(key, 0) + 1
        key = (order["symbol"], order["side"], order["type"])
        processing[key] = processing.get(key, 0) + 1
    for key, count in processed.items():
        service.processed(*key).inc(count)
    for key, count in processing.items():
        observe_many(service.processing(*key), elapsed, count)


async def place_single(
    service: ExchangeService, views: WireViews, user: User, body: bytes, arrived: float
) -> dict[str, Any]:
    """Place one order object; return it once committed."""
    parsed = parse(decode_json(body), service.specs)
    service.engine_wait(arrived)
    order = _place(service, views, user, parsed, service.clock_us())
    await service.durable()
    _observe(service, [order], arrived)
    return order


async def place_batch(
    service: ExchangeService, views: WireViews, user: User, body: bytes, arrived: float
) -> dict[str, Any]:
    """Place a JSON array of order objects, each taken or refused on its own.

    Every item is checked before any of them acts, so that a refusal found while parsing can
    never follow placed orders out as a failed request (a client retrying it would trade twice).
    """
    items = decode_json(body)
    if not isinstance(items, list):
        raise WireError("INVALID_BATCH", "the batch must be a JSON array of order objects")
    limit = service.settings.max_batch_orders
    if len(items) > limit:
        raise WireError(
            "BATCH_TOO_LARGE", f"a batch holds at most {limit} orders, got {len(items)}"
        )
    errors: list[dict[str, Any]] = []
    accepted: list[tuple[int, ParsedOrder]] = []
    specs = service.specs
    for index, item in enumerate(items):
        try:
            accepted.append((index, parse(item, specs)))
        except WireError as exc:
            errors.append({"index": index, "code": exc.code, "message": exc.message})
    service.engine_wait(arrived)
    successful: list[dict[str, Any]] = []
    now = service.clock_us()
    for position, (index, parsed) in enumerate(accepted):
        try:
            successful.append(_place(service, views, user, parsed, now))
        except EngineError as exc:
            errors.append({"index": index, "code": exc.code, "message": exc.message})
        except Exception:
            # A defect, not a refusal. Orders before this one are placed: answer for them
            # rather than fail the request, and place nothing after it.
            log.exception("placing batch item %d failed", index)
            errors.extend(
                {"index": i, "code": "NOT_PLACED", "message": "not placed: an earlier item failed"}
                for i, _ in accepted[position + 1 :]
            )
            errors.append(
                {"index": index, "code": "INTERNAL_ERROR", "message": "the exchange failed"}
            )
            break
    errors.sort(key=lambda error: error["index"])
    await service.durable()
    _observe(service, successful, arrived)
    return {"successful": successful, "errors": errors}
