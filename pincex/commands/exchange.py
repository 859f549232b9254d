"""`pincex exchange ...`: run and seed the reference exchange (`pincex demo` lives in
`pincex/commands/demo.py`)."""

from __future__ import annotations

import asyncio
import secrets

import click
import orjson

from common.errors import UsageFailure
from common.ports import free_port
from common.redact import mask_url
from exchange_ref.settings import ExchangeSettings, InvalidSettings, build_settings

__all__ = ["exchange"]


def _settings_or_fail(**overrides: object) -> ExchangeSettings:
    """The exchange's settings with `overrides` (None: not given); a bad one is a usage error."""
    try:
        return build_settings(**overrides)
    except InvalidSettings as exc:
        raise UsageFailure(str(exc)) from None


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
@click.option(
    "--create-dirs",
    is_flag=True,
    help="create the SQLite database file's directory when it is missing (without it a "
    "missing directory is an error)",
)
def serve(
    host: str | None,
    port: int | None,
    database_url: str | None,
    symbols: str | None,
    log_level: str,
    port_file: str | None,
    create_dirs: bool,
) -> None:
    """Serve the exchange until SIGINT/SIGTERM (then drain, flush and exit 0).

    The admin key (guarding /admin routes) is PINCEX_ADMIN_KEY, at least 16 characters; without
    it a strong one is generated and printed once on stderr. With --port 0 the exchange takes
    a free port and prints its real URL once it listens."""
    from exchange_ref.server import serve as run

    settings = _settings_or_fail(
        host=host,
        port=port,
        database_url=database_url,
        symbols=symbols,
        create_dirs=create_dirs,
    )
    if settings.port:
        free_port(settings.host, settings.port)
    _check_database(settings)
    if not settings.admin_key:
        settings = settings.model_copy(update={"admin_key": secrets.token_urlsafe(24)})
        click.echo(
            f"admin key: {settings.admin_key}   (generated; set PINCEX_ADMIN_KEY to choose one)",
            err=True,
        )
    database = mask_url(settings.database_url)

    def announce(bound_port: int) -> None:
        where = f"http://{settings.host}:{bound_port}"
        click.echo(f"exchange: {where} database {database}", err=True)

    run(settings, log_level, port_file, on_ready=announce)


def _check_database(settings: ExchangeSettings) -> None:
    """Open the database and create (or migrate) its schema before serving, so that a database
    that cannot be used is one clear line rather than a failed server start."""
    from exchange_ref.storage import MissingDirectory, Store

    url = settings.database_url
    try:
        store = Store(url, pool_size=1, create_dirs=settings.create_dirs)
        try:
            store.create_schema()
        finally:
            store.close()
    except MissingDirectory as exc:
        raise UsageFailure(
            f"cannot use the database {mask_url(url)}: {exc} (pass --create-dirs to create it)"
        ) from None
    except Exception as exc:
        reason = str(getattr(exc, "orig", None) or exc)
        raise UsageFailure(f"cannot use the database {mask_url(url)}: {reason}") from None


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
    from exchange_ref.seeding import SEED_DEPOSITS, seed_users

    settings = _settings_or_fail(database_url=database_url)
    try:
        users = asyncio.run(seed_users(settings, count, prefix))
    except Exception as exc:  # a database that cannot be opened or written
        raise UsageFailure(
            f"cannot seed users in {mask_url(settings.database_url)}: {exc}"
        ) from None
    if as_json:
        deposits = {k: str(v) for k, v in SEED_DEPOSITS.items()}
        click.echo(orjson.dumps({"users": users, "deposits": deposits}).decode())
        return
    for user in users:
        click.echo(f"{user['name']}  {user['apiKey']}")
