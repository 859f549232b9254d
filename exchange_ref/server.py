"""Running the exchange under uvicorn: in the foreground (`serve`) or a thread (`ServerThread`)."""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import signal
import socket
import threading
import time
from collections.abc import Callable, Coroutine, Iterator
from typing import Any, TypeVar

import uvicorn

from common.fdlimit import raise_fd_limit
from exchange_ref.api.app import ExchangeApp, create_app
from exchange_ref.connguard import ConnectionGuard, ConnectionLimits, fd_room
from exchange_ref.protocol import GuardedConfig
from exchange_ref.service import ExchangeService
from exchange_ref.settings import ExchangeSettings

T = TypeVar("T")

__all__ = ["ExchangeServer", "ServerThread", "connection_limits", "serve"]


WS_MAX_FRAME = 64 * 1024  # bytes of one WebSocket message from a client (close 1009 past it)
_OPEN_FILES = 65_536 + 1_024  # the specification's 50,000 WebSocket clients fit, with room


class ExchangeServer(uvicorn.Server):
    """uvicorn's server with the connection guard (caps, timeouts; see `exchange_ref.protocol`).

    On shutdown it stops accepting, answers requests that arrive during the guard's grace
    window with 503 SHUTTING_DOWN, closes market-data sockets with 1001, waits for requests in
    progress (up to the drain timeout), then closes what is left and flushes.
    """

    def __init__(
        self,
        config: GuardedConfig,
        app: ExchangeApp,
        port_file: str | None = None,
        on_ready: Callable[[int], None] | None = None,
    ) -> None:
        super().__init__(config)
        self.exchange_app = app
        self.port_file = port_file
        self.on_ready = on_ready
        self.guard = config.guard

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        if self.started:
            self.guard.start(asyncio.get_running_loop())
        if self.port_file and self.started:
            tmp = f"{self.port_file}.tmp"
            with open(tmp, "w") as fh:
                fh.write(f"{self.bound_port}\n")
            os.replace(tmp, self.port_file)
        if self.on_ready is not None and self.started:
            self.on_ready(self.bound_port)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        for server in self.servers:
            server.close()
        self.guard.drain()
        with contextlib.suppress(Exception):
            await self.exchange_app.before_shutdown()
        try:
            await super().shutdown(sockets)
        finally:
            self.guard.stop()

    @property
    def bound_port(self) -> int:
        for server in self.servers:
            for sock in server.sockets:
                return int(sock.getsockname()[1])
        raise RuntimeError("server has no bound socket")


def connection_limits(settings: ExchangeSettings) -> ConnectionLimits:
    """The guard's limits from the settings; the total cap is kept within the open-file limit."""
    return ConnectionLimits(
        max_header_bytes=settings.max_header_bytes,
        max_header_count=settings.max_header_count,
        max_url_bytes=settings.max_url_bytes,
        header_timeout=settings.header_timeout_seconds,
        idle_timeout=settings.idle_timeout_seconds,
        body_timeout=settings.body_timeout_seconds,
        max_per_source=settings.max_connections_per_source,
        max_total=min(settings.max_connections, fd_room()),
        shutdown_grace=min(settings.shutdown_grace_seconds, settings.drain_timeout_seconds),
    )


def _config(app: ExchangeApp, settings: ExchangeSettings, log_level: str) -> GuardedConfig:
    return GuardedConfig(
        app,
        ConnectionGuard(connection_limits(settings)),
        host=settings.host,
        port=settings.port,
        log_level=log_level,
        access_log=False,
        lifespan="on",
        timeout_graceful_shutdown=math.ceil(settings.drain_timeout_seconds) or None,
        loop="uvloop",
        # A market-data request is a few hundred bytes; uvicorn would take 16 MiB frames.
        ws_max_size=WS_MAX_FRAME,
    )


def serve(
    settings: ExchangeSettings,
    log_level: str = "info",
    port_file: str | None = None,
    on_ready: Callable[[int], None] | None = None,
) -> None:
    """Run until SIGINT/SIGTERM: then stop accepting, drain, flush writes and exit.

    Once the exchange is ready, the bound port (the real one with port 0) is written to
    `port_file` and passed to `on_ready`, when given.
    """
    raise_fd_limit(_OPEN_FILES)  # market data clients: one socket each
    app = create_app(settings)
    server = ExchangeServer(_config(app, settings, log_level), app, port_file, on_ready)
    # uvicorn re-raises the signal that stopped it once it has shut down gracefully; a
    # drained, flushed exchange should exit 0 (a rolling update counts on it), so the
    # handlers it restores afterwards do nothing.
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: None)
    server.run()


class ServerThread:
    """An exchange on 127.0.0.1 in a background thread; `url` is known once `start()` returns."""

    def __init__(self, settings: ExchangeSettings, log_level: str = "warning") -> None:
        self.settings = settings
        self.app = create_app(settings)
        self.server = ExchangeServer(_config(self.app, settings, log_level), self.app)
        self.thread = threading.Thread(target=self.server.run, name="exchange", daemon=True)

    @property
    def url(self) -> str:
        return f"http://{self.settings.host}:{self.server.bound_port}"

    @property
    def service(self) -> ExchangeService:
        service: ExchangeService = self.app.fastapi.state.service
        return service

    def start(self, timeout: float = 30.0) -> ServerThread:
        self.thread.start()
        deadline = time.monotonic() + timeout
        while not (self.server.started and self.server.servers):
            if not self.thread.is_alive():
                raise RuntimeError("the exchange failed to start")
            if time.monotonic() > deadline:
                raise TimeoutError("the exchange did not start in time")
            time.sleep(0.02)
        return self

    def stop(self, timeout: float = 30.0) -> None:
        self.server.should_exit = True
        self.thread.join(timeout)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def call(self, coro_fn: Callable[[], Coroutine[Any, Any, T]]) -> T:
        """Run a coroutine function on the server's loop and wait for its result (tests, demo)."""
        return asyncio.run_coroutine_threadsafe(coro_fn(), self._loop()).result(30)

    def _loop(self) -> asyncio.AbstractEventLoop:
        for server in self.server.servers:
            return server.get_loop()
        raise RuntimeError("server not running")


@contextlib.contextmanager
def running(settings: ExchangeSettings) -> Iterator[ServerThread]:
    with ServerThread(settings) as thread:
        yield thread
