"""The application factory: `create_app(settings)` builds everything in its lifespan."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
from collections.abc import AsyncIterator
from typing import cast

from fastapi import FastAPI, Request, WebSocket
from fastapi.exceptions import RequestValidationError
from prometheus_client import CollectorRegistry
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect
from starlette.responses import Response

from exchange_ref.api.errors import REFUSALS, Refusal, refusal
from exchange_ref.api.fastpath import OrderFastPath
from exchange_ref.api.middleware import ObservedApp
from exchange_ref.api.responses import JSONBytes, error_response
from exchange_ref.api.routes import router
from exchange_ref.api.views import WireViews
from exchange_ref.api.ws import websocket_session
from exchange_ref.audit import Auditor
from exchange_ref.feed.hub import MarketDataHub
from exchange_ref.metrics import ChildCache, ExchangeMetrics, monitor_event_loop_lag
from exchange_ref.service import ExchangeService
from exchange_ref.settings import ExchangeSettings
from exchange_ref.storage.committer import Committer
from exchange_ref.storage.store import Store

__all__ = ["ExchangeApp", "create_app"]

log = logging.getLogger("pincex.exchange")


class ExchangeApp(ObservedApp):
    """The ASGI app a server runs: the FastAPI app wrapped in metrics and load shedding."""

    fastapi: FastAPI

    async def before_shutdown(self) -> None:
        """Close market-data sockets with 1001 before the server drops its connections."""
        service: ExchangeService | None = getattr(self.fastapi.state, "service", None)
        if service is not None:
            service.ready = False
            await service.hub.close_all(1001, "server shutting down")


def create_app(
    settings: ExchangeSettings, registry: CollectorRegistry | None = None
) -> ExchangeApp:
    registry = registry if registry is not None else CollectorRegistry()
    metrics = ExchangeMetrics(registry)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = Store(
            settings.database_url,
            pool_size=settings.db_pool_size,
            sqlite_synchronous=settings.sqlite_synchronous,
            create_dirs=settings.create_dirs,
            on_query=lambda name, seconds: metrics.db_query.labels(name).observe(seconds),
        )
        metrics.set_pool_status_source("exchange", store.pool_status)
        metrics.set_busy_wait_source(lambda: float(store.busy_wait_seconds))

        def on_commit(records: int, seconds: float) -> None:
            metrics.db_commit.observe(seconds)
            metrics.db_commit_batch.observe(records)

        committer = Committer(store, settings.commit_interval_ms, on_commit=on_commit)
        hub = MarketDataHub(metrics, list(settings.symbols), queue_size=settings.ws_queue_size)
        service = ExchangeService(settings, store, committer, metrics, hub)
        views = WireViews(service.specs, ChildCache(metrics.cache_requests))
        service.feed = views
        app.state.views = views
        app.state.service = service
        app.state.auditor = Auditor(service)
        lag_task = asyncio.create_task(monitor_event_loop_lag(metrics))
        try:
            await service.start()
            if settings.gc_freeze:
                # What start-up built (books, users, code) lives for the whole process: keep it
                # out of every later collection so that collections stay short.
                gc.collect()
                gc.freeze()
                gc.set_threshold(settings.gc_young_threshold, 20, 20)
            log.info(
                "exchange ready: %d users, %d open orders",
                len(service.users),
                len(service.exchange.open),
            )
            yield
        finally:
            lag_task.cancel()
            await hub.close_all(1001, "server shutting down")
            await service.stop()
            store.close()

    app = FastAPI(
        title="PinCEX reference exchange",
        version="1.0",
        description="The system under test of PinCEX Perf Lab: matching, REST and WebSocket.",
        lifespan=lifespan,
    )
    app.state.registry = registry
    app.state.settings = settings
    app.include_router(router)

    @app.websocket("/ws")
    async def ws_endpoint(websocket: WebSocket) -> None:
        service: ExchangeService | None = getattr(app.state, "service", None)
        if service is None:
            await websocket.close(1013)
            return
        await websocket_session(websocket, service.hub)

    async def _refused(_: Request, exc: Exception) -> Response:
        status, body = refusal(cast(Refusal, exc))  # registered for REFUSALS only
        return JSONBytes(body, status_code=status)

    for kind in REFUSALS:
        app.add_exception_handler(kind, _refused)

    @app.exception_handler(ClientDisconnect)
    async def _disconnected(_: Request, exc: ClientDisconnect) -> Response:
        # The client left while its body was read: nobody reads this answer (the fast path
        # answers the same), but it is not a server error to log with a traceback.
        return error_response(400, "DISCONNECTED", "the client went away")

    @app.exception_handler(RequestValidationError)
    async def _validation_error(_: Request, exc: RequestValidationError) -> Response:
        first = exc.errors()[0] if exc.errors() else {}
        where = ".".join(str(p) for p in first.get("loc", ()) if p != "body") or "request"
        return error_response(400, "INVALID_REQUEST", f"{where}: {first.get('msg', 'invalid')}")

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(_: Request, exc: StarletteHTTPException) -> Response:
        code = {404: "NOT_FOUND", 405: "METHOD_NOT_ALLOWED"}.get(exc.status_code, "HTTP_ERROR")
        return error_response(exc.status_code, code, str(exc.detail))

    def limits() -> str | None:
        service: ExchangeService | None = getattr(app.state, "service", None)
        return service.overloaded() if service is not None else None

    fast = OrderFastPath(app.state, settings.api_key_header)
    wrapped = ExchangeApp(
        app,
        metrics,
        settings.max_inflight_requests,
        settings.retry_after_seconds,
        limits,
        fast if settings.fast_path else None,
    )
    wrapped.fastapi = app
    return wrapped
