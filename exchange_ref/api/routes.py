"""REST routes of the specification: orders, market data, account, health, admin, metrics."""

from __future__ import annotations

import time
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any, TypeVar

from fastapi import APIRouter, Path, Query, Request
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from pydantic import BaseModel, ConfigDict, Field, StrictInt, ValidationError
from starlette.responses import Response

from exchange_ref.api import orders
from exchange_ref.api.deps import AdminKey, Audits, CurrentUser, Service, Views
from exchange_ref.api.responses import JSONBytes
from exchange_ref.api.wire import (
    BatchResponse,
    ErrorResponse,
    OrderIn,
    OrderOut,
    WireError,
    clip,
)
from exchange_ref.audit import MAX_AUDIT_RANGES, UnknownSnapshot
from exchange_ref.service import ExchangeService

__all__ = ["router"]

router = APIRouter()
M = TypeVar("M", bound=BaseModel)

_ERRORS: dict[int | str, dict[str, Any]] = {
    400: {"model": ErrorResponse, "description": "the request breaks a rule"},
    401: {"model": ErrorResponse, "description": "missing or unknown API key"},
    503: {"model": ErrorResponse, "description": "load shed; retry after Retry-After seconds"},
}
_ORDER_SCHEMA = OrderIn.model_json_schema()


@router.post(
    "/api/v1/orders",
    status_code=201,
    response_model=OrderOut,
    responses={**_ERRORS, 403: {"model": ErrorResponse}},
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": _ORDER_SCHEMA}},
        }
    },
    tags=["orders"],
)
async def place_order(
    request: Request, service: Service, views: Views, user: CurrentUser
) -> Response:
    """Place one order; answered once it is committed."""
    arrived = request.scope.get("pincex.arrived", time.perf_counter())
    orders.check_json_type(request.headers.get("content-type"))
    order = await orders.place_single(service, views, user, await request.body(), arrived)
    return JSONBytes(order, status_code=201)


@router.post(
    "/api/v1/orders/batch",
    response_model=BatchResponse,
    responses=_ERRORS,
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {
                    "schema": {"type": "array", "maxItems": 1000, "items": _ORDER_SCHEMA}
                }
            },
        }
    },
    tags=["orders"],
)
async def place_batch(
    request: Request, service: Service, views: Views, user: CurrentUser
) -> Response:
    """Place up to 1000 orders; each is taken or refused on its own, all answered once committed."""
    arrived = request.scope.get("pincex.arrived", time.perf_counter())
    orders.check_json_type(request.headers.get("content-type"))
    body = await request.body()
    return JSONBytes(await orders.place_batch(service, views, user, body, arrived))


@router.delete(
    "/api/v1/orders/{order_id}",
    responses={**_ERRORS, 404: {"model": ErrorResponse}},
    tags=["orders"],
)
async def cancel_order(
    order_id: Annotated[int, Path(ge=1, le=2**63 - 1)],
    service: Service,
    views: Views,
    user: CurrentUser,
) -> Response:
    """Cancel one of the caller's open orders."""
    cancellation = service.cancel(user, order_id)
    await service.durable()
    return JSONBytes(views.cancellation(cancellation))


_SymbolQ = Annotated[str, Query(min_length=1, max_length=20, examples=["BTCUSD"])]


@router.get("/api/v1/market/ticker", responses={400: {"model": ErrorResponse}}, tags=["market"])
async def ticker(symbol: _SymbolQ, service: Service, views: Views) -> Response:
    """Last trade, best bid and ask, and 24 h volume of a symbol."""
    return JSONBytes(views.ticker(service, symbol))


@router.get("/api/v1/market/orderbook", responses={400: {"model": ErrorResponse}}, tags=["market"])
async def orderbook(
    symbol: _SymbolQ,
    service: Service,
    views: Views,
    depth: Annotated[int, Query(ge=1, le=1000)] = 50,
) -> Response:
    """Aggregated price levels, best first, with the book's `lastUpdateId` for resync."""
    return JSONBytes(views.orderbook(service, symbol, depth))


@router.get("/api/v1/account/balance", responses={401: {"model": ErrorResponse}}, tags=["account"])
async def balance(service: Service, views: Views, user: CurrentUser) -> Response:
    """The caller's balances per asset: available, locked by open orders, total."""
    return JSONBytes({"userId": str(user.id), "balances": views.balances(service.balances(user))})


@router.get("/api/v1/account/orders", responses={401: {"model": ErrorResponse}}, tags=["account"])
async def account_orders(
    service: Service,
    views: Views,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
) -> Response:
    """The caller's most recent orders, newest first."""
    records = await service.order_history(user, limit)
    return JSONBytes({"orders": [views.stored_order(r) for r in records]})


@router.get("/health/live", tags=["health"], responses={503: {"model": ErrorResponse}})
async def live(request: Request) -> Response:
    """The process is up; 503 after a storage failure, so that it gets restarted."""
    service: ExchangeService | None = getattr(request.app.state, "service", None)
    if service is not None and service.failed:
        return JSONBytes({"code": "STORAGE_FAILURE", "message": service.failed}, status_code=503)
    return JSONBytes({"status": "live"})


@router.get("/health/ready", responses={503: {"model": ErrorResponse}}, tags=["health"])
async def ready(request: Request) -> Response:
    """Ready once the books and balances are rebuilt from storage."""
    service: ExchangeService | None = getattr(request.app.state, "service", None)
    if service is None or not service.ready:
        return JSONBytes({"status": "starting"}, status_code=503)
    return JSONBytes({"status": "ready"})


@router.get("/metrics", tags=["metrics"], response_class=Response)
async def metrics(request: Request) -> Response:
    """Prometheus exposition of the exchange's metrics."""
    return Response(generate_latest(request.app.state.registry), media_type=CONTENT_TYPE_LATEST)


_ADMIN_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ErrorResponse},
    403: {"model": ErrorResponse},
}


@router.post("/admin/metrics/reset", tags=["admin"], responses=_ADMIN_ERRORS)
async def reset_metrics(service: Service, _admin: AdminKey) -> Response:
    """Zero the exchange's counters and histograms before a measured run."""
    service.metrics.reset()
    return JSONBytes({"status": "reset"})


@router.get("/admin/metrics/reset", tags=["admin"], responses=_ADMIN_ERRORS)
async def reset_metrics_get(service: Service, _admin: AdminKey) -> Response:
    """The same reset by GET, as the specification's `curl` sends it."""
    return await reset_metrics(service, None)


def _validated(model: type[M], raw: Any) -> M:
    """`raw` as `model`, or WireError naming the first field that is wrong."""
    try:
        return model.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "body"
        raise WireError("INVALID_REQUEST", f"{clip(where)[1:-1]}: {first['msg']}") from None


class UsersIn(BaseModel):
    count: int = Field(ge=1, le=10_000)
    balances: dict[str, str] = Field(
        default_factory=lambda: {"USD": "10000000", "BTC": "1000", "ETH": "10000"},
        description="deposit per asset, decimal strings",
    )
    prefix: str = Field(default="user", max_length=32, pattern=r"^[A-Za-z0-9_-]+$")


@router.post(
    "/admin/users",
    status_code=201,
    tags=["admin"],
    responses={
        400: {"model": ErrorResponse},
        401: {"model": ErrorResponse},
        403: {"model": ErrorResponse},
    },
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {"application/json": {"schema": UsersIn.model_json_schema()}},
        }
    },
)
async def create_users(request: Request, service: Service, _admin: AdminKey) -> Response:
    """Create users with API keys and deposits (for benchmarks and demos).

    The body is read only once the admin key is checked (a stranger's body is never parsed)."""
    orders.check_json_type(request.headers.get("content-type"))
    body = _validated(UsersIn, orders.decode_json(await request.body()))
    assets = set(service.assets())
    deposits: dict[str, Decimal] = {}
    for asset, text in body.balances.items():
        if asset not in assets:
            raise WireError(
                "UNKNOWN_ASSET", f"unknown asset {clip(asset)}; known: {', '.join(sorted(assets))}"
            )
        try:
            amount = Decimal(text)
        except InvalidOperation:
            raise WireError(
                "INVALID_FIELD", f"balance of {clip(asset)} {clip(text)} is not a decimal"
            ) from None
        exponent = amount.as_tuple().exponent
        if not isinstance(exponent, int) or exponent < -8 or not 0 <= amount <= Decimal("1e9"):
            raise WireError(
                "INVALID_FIELD", f"balance of {asset} must be 0..1e9 with at most 8 decimals"
            )
        deposits[asset] = amount
    users = service.create_users(body.count, deposits, body.prefix)
    await service.durable()
    return JSONBytes(
        {"users": [{"userId": str(u.id), "name": u.name, "apiKey": key} for u, key in users]},
        status_code=201,
    )


_OrderId = Annotated[StrictInt, Field(ge=1, le=2**63 - 1)]


class AuditIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    snapshot: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        description="a snapshot id from POST /admin/audit/snapshot, taken before the load",
    )
    order_ids: list[tuple[_OrderId, _OrderId]] | None = Field(
        default=None,
        max_length=MAX_AUDIT_RANGES,
        description="inclusive [lo, hi] ranges of the acknowledged order ids; "
        "none given: every id the exchange has numbered",
    )


@router.post("/admin/audit/snapshot", tags=["admin"], responses=_ADMIN_ERRORS)
async def audit_snapshot(auditor: Audits, views: Views, _admin: AdminKey) -> Response:
    """Remember every user's balances and the trade and order high-water marks now (after the
    pending writes are durable), for `POST /admin/audit` after a load test."""
    return JSONBytes(views.audit_snapshot(await auditor.snapshot()))


@router.post(
    "/admin/audit",
    tags=["admin"],
    responses={**_ADMIN_ERRORS, 400: {"model": ErrorResponse}, 404: {"model": ErrorResponse}},
    openapi_extra={
        "requestBody": {
            "required": False,
            "content": {"application/json": {"schema": AuditIn.model_json_schema()}},
        }
    },
)
async def audit(request: Request, auditor: Audits, views: Views, _admin: AdminKey) -> Response:
    """Wait until every pending write is durable, then check the exchange's invariants
    (orders present, funds conserved, balances reconciled with trades, ...); 200 whether
    they pass or not, with `passed` and one entry per check."""
    orders.check_json_type(request.headers.get("content-type"))
    raw = await request.body()
    value = orders.decode_json(raw) if raw.strip() else {}
    if not isinstance(value, dict):
        raise WireError("INVALID_REQUEST", "the body must be a JSON object (or empty)")
    body = _validated(AuditIn, value)
    for i, (lo, hi) in enumerate(body.order_ids or ()):
        if lo > hi:
            raise WireError("INVALID_REQUEST", f"order_ids.{i}: [{lo}, {hi}] ends before it starts")
    try:
        report = await auditor.audit(body.snapshot, body.order_ids)
    except UnknownSnapshot as exc:
        raise WireError(exc.code, exc.message, 404) from None
    return JSONBytes(views.audit_report(report))
