"""`pincex exchange ...`: run and seed the reference exchange (`pincex demo` lives in
`pincex/commands/demo.py` and uses the helpers here)."""

from __future__ import annotations

import asyncio
from decimal import Decimal
from typing import Any

import click
import orjson
from prometheus_client import CollectorRegistry
from pydantic import ValidationError

from common.errors import UsageFailure
from common.ports import free_port
from common.redact import mask_url
from exchange_ref.settings import ExchangeSettings

__all__ = ["DEMO_DEPOSITS", "exchange"]

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
    if settings.port:
        free_port(settings.host, settings.port)
    if not settings.admin_key:
        raise UsageFailure("set PINCEX_ADMIN_KEY: the admin key guards /admin routes")
    _check_database(settings.database_url)
    where = f"http://{settings.host}:{settings.port}"
    click.echo(f"exchange: {where} database {mask_url(settings.database_url)}", err=True)
    run(settings, log_level, port_file)


def _check_database(url: str) -> None:
    """Open the database and create (or migrate) its schema before serving, so that a database
    that cannot be used is one clear line rather than a failed server start."""
    from exchange_ref.storage.store import Store

    try:
        store = Store(url, pool_size=1)
        try:
            store.create_schema()
        finally:
            store.close()
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc)
        raise UsageFailure(f"cannot use the database {mask_url(url)}: {reason}") from None


async def _seed_offline(
    settings: ExchangeSettings, count: int, prefix: str
) -> list[dict[str, str]]:
    from exchange_ref.api.marketdata import MarketDataHub
    from exchange_ref.metrics import ExchangeMetrics
    from exchange_ref.service import ExchangeService
    from exchange_ref.storage.committer import Committer
    from exchange_ref.storage.store import Store

    store = Store(settings.database_url, sqlite_synchronous=settings.sqlite_synchronous)
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
    return [{"userId": str(u.id), "name": u.name, "apiKey": key} for u, key in users]


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
        raise UsageFailure(
            f"cannot seed users in {mask_url(settings.database_url)}: {exc}"
        ) from None
    if as_json:
        deposits = {k: str(v) for k, v in DEMO_DEPOSITS.items()}
        click.echo(orjson.dumps({"users": users, "deposits": deposits}).decode())
        return
    for user in users:
        click.echo(f"{user['name']}  {user['apiKey']}")
