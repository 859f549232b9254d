"""The options the benchmark commands share, as decorators, and the context they build.

    @click.command(cls=BenchCommand)
    @target_option()
    @allow_remote_option
    @admin_key_option
    @run_options            # --label --tag --store --no-store --scrape-interval -> BenchContext
    @json_option
    def orders(target, allow_remote, admin_key, bench: BenchContext, as_json): ...

Also the progress bar and the `--json` printing every stored benchmark shares.
"""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, TypeVar

import click
import orjson

from collectors.bench.server_sources import NO_SOURCES, ServerSources
from collectors.settings import CollectorSettings, get_settings, resolve_store_path
from collectors.store.limits import MAX_TAGS, RunFormatError, check_name
from common.errors import UsageFailure

__all__ = [
    "BenchContext",
    "admin_key_option",
    "allow_remote_option",
    "connections_option",
    "echo_json",
    "fail_if_not_stored",
    "json_option",
    "keep_options",
    "progress_bar",
    "rate_option",
    "run_options",
    "scrape_option",
    "store_options",
    "stored_line",
    "symbol_option",
    "target_option",
]

_F = TypeVar("_F", bound=Callable[..., Any])


def _label(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    try:
        check_name("--label", value)
    except RunFormatError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def _tags(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    if len(values) > MAX_TAGS:
        raise click.BadParameter(f"at most {MAX_TAGS} tags, got {len(values)}")
    try:
        for value in values:
            check_name("--tag", value)
    except RunFormatError as exc:
        raise click.BadParameter(str(exc)) from None
    return values


def store_options(fn: _F) -> _F:
    """--label, --tag, --store, --no-store: where and how the run is kept (the label and tags
    checked as the store will check them, before anything is measured)."""
    for option in reversed(
        [
            click.option(
                "--label",
                default="unlabelled",
                show_default=True,
                callback=_label,
                help="version label of the system under test, kept with the run",
            ),
            click.option(
                "--tag",
                "tags",
                multiple=True,
                callback=_tags,
                help="a tag kept with the run (repeatable)",
            ),
            click.option(
                "--store",
                "store_path",
                default=None,
                help="run store file (default PINCEX_STORE_PATH or data/pincex.duckdb)",
            ),
            click.option("--no-store", is_flag=True, help="do not keep the run in the run store"),
        ]
    ):
        fn = option(fn)
    return fn


def scrape_option(fn: _F) -> _F:
    """--scrape-interval, and where the server's side comes from: --prometheus-url, --pg-url,
    --pg-replica-url (defaults: PINCEX_PROMETHEUS_URL, PINCEX_PG_URL, PINCEX_PG_REPLICA_URLS)."""
    for option in reversed(
        [
            click.option(
                "--scrape-interval",
                type=click.FloatRange(min=0),
                default=1.0,
                show_default=True,
                help="seconds between scrapes of the target's /metrics (0: do not scrape)",
            ),
            click.option(
                "--prometheus-url",
                metavar="URL",
                default=None,
                help="a Prometheus server scraping the target: the server's series come from "
                "range queries over the run's window (default: PINCEX_PROMETHEUS_URL; "
                "none: the target's /metrics is scraped directly)",
            ),
            click.option(
                "--pg-url",
                metavar="URL",
                default=None,
                help="the exchange's PostgreSQL primary, sampled every interval: cache hit "
                "ratio, lock waits, connections (default: PINCEX_PG_URL)",
            ),
            click.option(
                "--pg-replica-url",
                "pg_replica_urls",
                metavar="URL",
                multiple=True,
                help="a streaming replica of --pg-url, for the replication lag; repeatable "
                "(default: PINCEX_PG_REPLICA_URLS, comma-separated)",
            ),
        ]
    ):
        fn = option(fn)
    return fn


def server_sources(
    settings: CollectorSettings,
    prometheus_url: str | None,
    pg_url: str | None,
    pg_replica_urls: tuple[str, ...],
) -> ServerSources:
    """The run's server sources: the options given, else the settings."""
    replicas = pg_replica_urls or tuple(
        url.strip() for url in settings.pg_replica_urls.split(",") if url.strip()
    )
    return ServerSources(
        prometheus_url=(prometheus_url if prometheus_url is not None else settings.prometheus_url),
        pg_url=pg_url if pg_url is not None else settings.pg_url,
        pg_replica_urls=replicas,
    )


@dataclass(frozen=True, slots=True)
class BenchContext:
    """What a benchmark command knows besides its own options: the settings, and where and how
    its run is kept (`store_path` None: not kept)."""

    settings: CollectorSettings
    store_path: str | None
    label: str = "unlabelled"
    tags: tuple[str, ...] = ()
    scrape_interval: float = 1.0
    sources: ServerSources = NO_SOURCES


def _with_context(fn: _F, scrape: bool) -> _F:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        settings = get_settings()
        no_store = kwargs.pop("no_store")
        store_path = kwargs.pop("store_path")
        sources = ServerSources()
        if scrape:
            sources = server_sources(
                settings,
                kwargs.pop("prometheus_url"),
                kwargs.pop("pg_url"),
                kwargs.pop("pg_replica_urls"),
            )
        kwargs["bench"] = BenchContext(
            settings,
            None if no_store else str(resolve_store_path(store_path)),
            kwargs.pop("label"),
            kwargs.pop("tags"),
            kwargs.pop("scrape_interval") if scrape else 0.0,
            sources,
        )
        return fn(*args, **kwargs)

    wrapped = store_options(wrapper)
    return scrape_option(wrapped) if scrape else wrapped  # type: ignore[return-value]


def run_options(fn: _F) -> _F:
    """--label, --tag, --store, --no-store, --scrape-interval and the server sources
    (--prometheus-url, --pg-url, --pg-replica-url), handed to the command as one
    `bench: BenchContext` argument."""
    return _with_context(fn, scrape=True)


def keep_options(fn: _F) -> _F:
    """--label, --tag, --store and --no-store as one `bench: BenchContext` argument, for a
    benchmark that has no target's /metrics to scrape."""
    return _with_context(fn, scrape=False)


def json_option(fn: _F) -> _F:
    """--json: one JSON object on stdout instead of the human summary."""
    return click.option("--json", "as_json", is_flag=True, help="print one JSON object")(fn)


def allow_remote_option(fn: _F) -> _F:
    """--allow-remote: a target off loopback is refused without it."""
    return click.option(
        "--allow-remote", is_flag=True, help="allow a target that is not on loopback"
    )(fn)


def target_option(
    help_text: str = "exchange URL (default PINCEX_TARGET or http://127.0.0.1:8080)",
    from_settings: bool = True,
) -> Callable[[_F], _F]:
    """--target: the URL to load; unless given, the settings' target (`from_settings`) or
    None. Checked by the command (`collectors.bench.target.base_url`)."""

    def default(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
        return value or (get_settings().target if from_settings else None)

    return click.option("--target", default=None, callback=default, help=help_text)


def rate_option(default: float, help_text: str) -> Callable[[_F], _F]:
    """--rate: the open model's fixed rate (per second, at least 1)."""
    return click.option(
        "--rate", type=click.FloatRange(min=1), default=default, show_default=True, help=help_text
    )


def connections_option(
    help_text: str = "keep-alive connections the requests are spread over",
) -> Callable[[_F], _F]:
    """--connections: the HTTP generator's keep-alive connections (1 to 1024, default 16)."""
    return click.option(
        "--connections",
        type=click.IntRange(1, 1024),
        default=16,
        show_default=True,
        help=help_text,
    )


def admin_key_option(fn: _F) -> _F:
    """--admin-key: seeds users through the exchange's admin key; else the settings' key."""

    def default(_ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
        return value or get_settings().admin_key or None

    return click.option(
        "--admin-key",
        default=None,
        callback=default,
        help="seed users through the exchange's admin key (env PINCEX_ADMIN_KEY)",
    )(fn)


def symbol_option(fn: _F) -> _F:
    """--symbol: the symbol the load trades or watches (upper-cased)."""
    return click.option(
        "--symbol",
        default="BTCUSD",
        show_default=True,
        callback=lambda _ctx, _param, value: value.upper(),
        help="symbol the orders trade (and the market data streams watch)",
    )(fn)


@contextmanager
def progress_bar(enabled: bool, label: str) -> Iterator[Callable[[float, float], None] | None]:
    """A progress bar on stderr fed by `callback(done, total)`; None when not enabled (with
    --json, or when the command prints other fixed lines). The bar appears at the first
    report, so a command that fails before measuring prints only its error line."""
    if not enabled:
        yield None
        return
    scale = 1000  # fractional totals (seconds) shown in thousandths
    state: dict[str, Any] = {"bar": None, "last": 0}

    def update(done: float, total: float) -> None:
        bar = state["bar"]
        if bar is None:
            bar = click.progressbar(
                length=1, label=label, file=sys.stderr, show_eta=False, show_percent=True
            )
            bar.__enter__()
            state["bar"] = bar
        bar.length = max(int(total * scale), 1)
        now = int(done * scale)
        bar.update(now - state["last"])
        state["last"] = now

    try:
        yield update
    finally:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)


def fail_if_not_stored(figures: dict[str, Any]) -> None:
    """After the figures are printed: exit 1 with one line when the store refused the run."""
    if "store_error" in figures:
        raise UsageFailure(f"the run was measured but not stored: {figures['store_error']}", 1)


def stored_line(run_id: str, store_path: str | None) -> str:
    """The line a benchmark prints once its run is kept: the run and the store it went to."""
    return f"stored as run {run_id}" + (f" in {store_path}" if store_path else "")


def echo_json(figures: dict[str, Any]) -> None:
    """--json: the figures as one object on stdout, then the store's refusal (if any) as the
    command's one error line."""
    click.echo(orjson.dumps(figures).decode())
    fail_if_not_stored(figures)
