"""`pincex exchange ...` and `pincex demo`: run and seed the reference exchange."""

from __future__ import annotations

import asyncio
import errno
import os
import signal
import socket
import subprocess
import sys
import threading
from decimal import Decimal
from typing import Any

import click
import orjson
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from exchange_ref.settings import ExchangeSettings
from pincex.errors import UsageFailure

__all__ = ["demo", "exchange"]

DEMO_DEPOSITS = {
    "USD": Decimal("10000000"),
    "BTC": Decimal("1000"),
    "ETH": Decimal("10000"),
    "SOL": Decimal("100000"),
}


def _settings(**overrides: Any) -> ExchangeSettings:
    values = {k: v for k, v in overrides.items() if v is not None}
    try:
        return ExchangeSettings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "settings"
        raise UsageFailure(f"invalid setting {where}: {first['msg']}") from None


def _check_port_free(host: str, port: int) -> None:
    if port == 0:
        return
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise UsageFailure(
                    f"{host}:{port} is already in use; pick another --port"
                ) from None
            raise UsageFailure(f"cannot bind {host}:{port}: {exc.strerror}") from None


db_option = click.option(
    "--db",
    "database_url",
    metavar="URL",
    help="database URL (default: PINCEX_DATABASE_URL or sqlite:///data/exchange.db)",
)
symbols_option = click.option(
    "--symbols", metavar="LIST", help="comma-separated symbols, e.g. BTCUSD,ETHUSD"
)


@click.group()
def exchange() -> None:
    """The reference exchange (the system under test)."""


@exchange.command()
@click.option("--host", default=None, help="address to bind (default 127.0.0.1)")
@click.option("--port", type=click.IntRange(0, 65535), default=None, help="port (default 8080)")
@db_option
@symbols_option
@click.option(
    "--log-level", default="info", type=click.Choice(["debug", "info", "warning", "error"])
)
@click.option(
    "--port-file",
    type=click.Path(dir_okay=False),
    default=None,
    help="write the bound port here once ready (useful with --port 0)",
)
def serve(
    host: str | None,
    port: int | None,
    database_url: str | None,
    symbols: str | None,
    log_level: str,
    port_file: str | None,
) -> None:
    """Serve the exchange until SIGINT/SIGTERM (then drain, flush and exit 0)."""
    from exchange_ref.server import serve as run

    settings = _settings(host=host, port=port, database_url=database_url, symbols=symbols)
    _check_port_free(settings.host, settings.port)
    if not settings.admin_key:
        raise UsageFailure("set PINCEX_ADMIN_KEY: the admin key guards /admin routes")
    click.echo(
        f"exchange: http://{settings.host}:{settings.port} database {settings.database_url}",
        err=True,
    )
    run(settings, log_level, port_file)


async def _seed_offline(
    settings: ExchangeSettings, count: int, prefix: str
) -> list[dict[str, str]]:
    from exchange_ref.api.marketdata import MarketDataHub
    from exchange_ref.metrics import ExchangeMetrics
    from exchange_ref.service import ExchangeService
    from exchange_ref.storage.committer import Committer
    from exchange_ref.storage.store import Store

    store = Store(settings.database_url)
    try:
        metrics = ExchangeMetrics(CollectorRegistry())
        service = ExchangeService(
            settings,
            store,
            Committer(store),
            metrics,
            MarketDataHub(metrics, list(settings.symbols)),
        )
        await service.start()
        users = service.create_users(count, DEMO_DEPOSITS, prefix)
        await service.durable()
        await service.stop()
    finally:
        store.close()
    return [{"userId": str(u.id), "name": u.name, "apiKey": u.api_key} for u in users]


@exchange.command("seed-users")
@click.argument("count", type=click.IntRange(1, 100_000))
@db_option
@click.option("--prefix", default="user", show_default=True, help="name prefix of the users")
@click.option("--json", "as_json", is_flag=True, help="print one JSON object")
def seed_users(count: int, database_url: str | None, prefix: str, as_json: bool) -> None:
    """Create COUNT users with API keys and balances in the exchange's database.

    Run it while the exchange is stopped (a running exchange reads users at start); against a
    running exchange use its `POST /admin/users` route with the admin key.
    """
    settings = _settings(database_url=database_url)
    try:
        users = asyncio.run(_seed_offline(settings, count, prefix))
    except Exception as exc:  # a database that cannot be opened or written
        raise UsageFailure(f"cannot seed users in {settings.database_url}: {exc}") from None
    if as_json:
        deposits = {k: str(v) for k, v in DEMO_DEPOSITS.items()}
        click.echo(orjson.dumps({"users": users, "deposits": deposits}).decode())
        return
    for user in users:
        click.echo(f"{user['name']}  {user['apiKey']}")


_DEMO_RATE = 1000  # orders per second of the demo's load test: the specification's default


def _demo_load(url: str, admin_key: str, seconds: int, store_path: str | None) -> None:
    """`pincex bench orders` against the demo exchange in its own process; its summary printed
    here, its run kept in the run store."""
    cmd = [sys.executable, "-m", "pincex", "bench", "orders", "--target", url]
    cmd += ["--rate", str(_DEMO_RATE), "--duration", str(seconds)]
    cmd += ["--label", "demo", "--tag", "demo"]
    cmd += ["--store", store_path] if store_path else []
    click.echo(f"Load test: {_DEMO_RATE} orders/s for {seconds} s ...")
    done = subprocess.run(
        cmd,
        env={**os.environ, "PINCEX_ADMIN_KEY": admin_key},
        stdout=subprocess.PIPE,
        text=True,
        timeout=seconds + 120,
        check=False,
    )
    for line in done.stdout.splitlines():
        click.echo(f"  {line}")
    if done.returncode != 0:
        click.echo("  the load test failed (its error is above); the exchange stays up", err=True)
    else:
        click.echo("  runs: pincex runs list   (pincex runs show ID for one)")


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True)
@click.option("--db", "database_url", default="sqlite:///data/demo-exchange.db", show_default=True)
@click.option(
    "--load-seconds",
    type=click.IntRange(0, 600),
    default=10,
    show_default=True,
    help="seconds of the orders benchmark run against it at start, kept in the run store (0: none)",
)
@click.option(
    "--store",
    "store_path",
    default=None,
    help="run store file (default PINCEX_STORE_PATH or data/pincex.duckdb)",
)
def demo(port: int, database_url: str, load_seconds: int, store_path: str | None) -> None:
    """Start the exchange with demo users on 127.0.0.1, drive a short real load test against it
    (its run kept in the run store), and stay up until Ctrl-C."""
    from exchange_ref.server import ServerThread
    from exchange_ref.service import User

    settings = _settings(port=port, database_url=database_url, symbols="BTCUSD,ETHUSD,SOLUSD")
    _check_port_free(settings.host, settings.port)
    thread = ServerThread(settings, log_level="warning").start()
    service = thread.service

    async def demo_users() -> list[User]:
        existing = [u for u in service.users_by_owner.values() if u.name.startswith("demo-")]
        if len(existing) >= 3:
            return existing[:3]
        users = service.create_users(3 - len(existing), DEMO_DEPOSITS, "demo")
        await service.durable()
        return existing + users

    users = thread.call(demo_users)
    click.echo(f"PinCEX reference exchange: {thread.url}")
    click.echo(f"  OpenAPI:       {thread.url}/openapi.json  (browsable at {thread.url}/docs)")
    click.echo(f"  metrics:       {thread.url}/metrics")
    click.echo(f"  WebSocket:     ws://{settings.host}:{thread.server.bound_port}/ws")
    click.echo(f"  database:      {settings.database_url}")
    click.echo(f"  admin key:     {service.admin_key}")
    click.echo("  demo users (header X-API-Key):")
    for user in users:
        click.echo(f"    {user.name}  {user.api_key}")
    click.echo("Try:")
    click.echo(
        f"  curl -s -H 'X-API-Key: {users[0].api_key}' -H 'Content-Type: application/json' "
        f'-d \'{{"symbol":"BTCUSD","side":"BUY","type":"LIMIT","timeInForce":"GTC",'
        f'"quantity":0.5,"price":50000}}\' {thread.url}/api/v1/orders'
    )
    if load_seconds:
        _demo_load(thread.url, service.admin_key, load_seconds, store_path)
    click.echo("Press Ctrl-C to stop.")
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        if not thread.thread.is_alive():
            raise UsageFailure("the exchange stopped unexpectedly", 1)
    click.echo("stopping: draining requests and flushing writes", err=True)
    thread.stop()
