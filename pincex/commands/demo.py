"""`pincex demo`: the exchange with demo users, a short measured ramp, a market-data run, a load
test and a database run kept in the run store, then the dashboard over them; up until Ctrl-C.

Each measurement is `python -m pincex bench ...` (or `loadtest run ...`) in its own process
(as a user would run it), one progress line before and one result line after. Running the demo
again adds runs, so the dashboard's trends and regression detection get history.
"""

from __future__ import annotations

import math
import os
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import orjson

from collectors.settings import get_settings
from common.errors import UsageFailure, one_line
from common.paths import STORE_DEFAULT_HELP, data_dir
from common.ports import free_port
from common.redact import mask_url
from pincex.commands.dashboard import DashboardServer, start_dashboard, wait_for_signal

__all__ = ["RAMP_RATES", "demo"]

RAMP_RATES = (500, 1000, 1500, 2000, 2500)  # orders/s of the ramp's steps
MD_CONNECTIONS = 50
# The demo's databases live in the data directory (beside the run store), from any folder.
DB_URL = f"sqlite:///{data_dir() / 'demo-bench-db.sqlite'}"
DB_CONNECTIONS = 8
DB_QUERIES_PER_CONNECTION = 700  # 5,600 queries: over 1,000 of each of the five types
DEFAULT_STEP_S = 8
LOADTEST_SCALE = 0.1  # of the baseline profile: 500 requests/s of the mix


@dataclass(frozen=True)
class Step:
    """One measurement of the demo: what it does in words, its `pincex bench` (or `command`)
    arguments, and how its JSON result reads in one line."""

    title: str
    args: list[str]
    timeout_s: float
    result: Callable[[dict[str, Any]], str]
    command: tuple[str, ...] = ("bench",)


def _trust(doc: dict[str, Any]) -> str:
    if doc.get("trusted"):
        return "trusted"
    reasons = doc.get("trust_reasons") or ["no reason given"]
    return f"not trusted: {reasons[0]}"


def _orders_result(rate: int) -> Callable[[dict[str, Any]], str]:
    def line(doc: dict[str, Any]) -> str:
        return (
            f"{doc['achieved_rate']:,.0f} orders/s achieved of {rate:,}, "
            f"p99 {doc['latency_ms']['p99']:.1f} ms, {_trust(doc)}"
        )

    return line


def _md_result(doc: dict[str, Any]) -> str:
    return (
        f"{doc['messages_received']:,} messages at {doc['messages_per_s']:,.0f}/s, "
        f"p99 {doc['latency_ms']['p99']:.1f} ms, {_trust(doc)}"
    )


def _loadtest_result(doc: dict[str, Any]) -> str:
    verdicts = doc.get("verdicts") or []
    met = sum(1 for v in verdicts if v["status"] == "met")
    outcome = "passed" if doc.get("passed") else "failed"
    latency = doc.get("latency_ms") or {}
    return (
        f"{outcome}: {met} of {len(verdicts)} targets met, p95 {latency.get('p95', 0):.1f} ms, "
        f"p99 {latency.get('p99', 0):.1f} ms, {_trust(doc)}"
    )


def _db_result(doc: dict[str, Any]) -> str:
    overall = doc["overall"]
    return (
        f"{overall['count']:,} queries at {overall['queries_per_second']:,.0f}/s, "
        f"p99 {overall['p99_ms']:.1f} ms, {_trust(doc)}"
    )


def _step_seconds(rate: int, seconds: int | None) -> int:
    """A ramp step's length: as asked, or by default long enough for 10,000 orders (so that its
    p99.9 can be trusted) and at least 8 s."""
    return seconds if seconds is not None else max(DEFAULT_STEP_S, math.ceil(10_000 / rate))


def _steps(url: str, label: str, seconds: int | None, store: str) -> list[Step]:
    keep = ["--label", label, "--store", store]
    steps = [
        Step(
            f"ramp {i}/{len(RAMP_RATES)}: orders at {rate:,}/s for {step_s} s",
            [
                "orders",
                "--target",
                url,
                *f"--rate {rate} --duration {step_s} --tag ramp".split(),
                *keep,
            ],
            step_s + 120,
            _orders_result(rate),
        )
        for i, rate in enumerate(RAMP_RATES, 1)
        for step_s in [_step_seconds(rate, seconds)]
    ]
    base = DEFAULT_STEP_S if seconds is None else seconds
    md_seconds = max(2, round(base * 1.25))
    db_seconds = min(25, 3 * base)  # the query phase's limit (seeding comes first)
    steps.append(
        Step(
            f"market data: {MD_CONNECTIONS} WebSocket clients for {md_seconds} s",
            [
                "market-data",
                "--target",
                url,
                *f"--connections {MD_CONNECTIONS} --duration {md_seconds}".split(),
                *keep,
            ],
            md_seconds + 120,
            _md_result,
        )
    )
    lt_seconds = max(4, 2 * base)
    steps.append(
        Step(
            f"load test: the baseline profile x{LOADTEST_SCALE:g} for {lt_seconds} s "
            "(the 70/20/10 mix, judged, the exchange audited after)",
            [
                *f"run --profile baseline --scale {LOADTEST_SCALE}".split(),
                *f"--duration {lt_seconds}s --force --target {url}".split(),
                *keep,
            ],
            lt_seconds + 180,
            _loadtest_result,
            command=("loadtest",),
        )
    )
    db_file = Path(DB_URL.removeprefix("sqlite:///"))
    reuse = db_file.is_file() and db_file.stat().st_size > 0
    db_file.parent.mkdir(parents=True, exist_ok=True)
    steps.append(
        Step(
            f"database: {DB_CONNECTIONS} connections x {DB_QUERIES_PER_CONNECTION} queries on "
            f"{DB_URL}" + (" (its rows reused)" if reuse else " (seeding it first)"),
            [
                *f"db --url {DB_URL} --connections {DB_CONNECTIONS}".split(),
                *f"--max-seconds {db_seconds}".split(),
                *f"--queries-per-connection {DB_QUERIES_PER_CONNECTION}".split(),
                *(["--reuse"] if reuse else []),
                *keep,
            ],
            180,
            _db_result,
        )
    )
    return steps


def _run_step(step: Step, index: int, total: int, env: dict[str, str]) -> None:
    click.echo(f"[{index}/{total}] {step.title} ...")
    started = time.monotonic()
    cmd = [sys.executable, "-m", "pincex", *step.command, *step.args, "--json"]
    try:
        done = subprocess.run(
            cmd, env=env, capture_output=True, text=True, timeout=step.timeout_s, check=False
        )
    except subprocess.TimeoutExpired:
        click.echo(f"      failed: no result within {step.timeout_s:.0f} s")
        return
    took = time.monotonic() - started
    lines = done.stdout.strip().splitlines()
    try:
        doc: dict[str, Any] = orjson.loads(lines[-1]) if lines else {}
    except orjson.JSONDecodeError:
        doc = {}
    if not doc:
        errors = done.stderr.strip().splitlines()
        why = one_line(errors[-1]) if errors else f"exit code {done.returncode}"
        click.echo(f"      failed: {why}")
        return
    where = f"run {doc['run_id'][:8]}" if "run_id" in doc else "not stored"
    if "store_error" in doc:
        where = f"not stored: {one_line(str(doc['store_error']))}"
    click.echo(f"      {step.result(doc)} ({where}, {took:.0f} s)")


@click.command()
@click.option("--port", type=click.IntRange(0, 65535), default=8080, show_default=True,
              help="the exchange's port (0: a free one)")  # fmt: skip
@click.option("--db", "database_url", default=f"sqlite:///{data_dir() / 'demo-exchange.db'}",
              show_default=True, help="the exchange's database")  # fmt: skip
@click.option(
    "--load-seconds",
    type=click.IntRange(0, 600),
    default=None,
    help="seconds of each ramp step (default: 8, or long enough for 10,000 orders so that a "
    "p99.9 can be trusted); the market-data run takes a quarter more (0: no load)",
)
@click.option(
    "--no-load", is_flag=True, help="no measurements: the exchange and the dashboard only"
)
@click.option("--label", default="demo", show_default=True, help="version label of the runs")
@click.option("--dashboard-port", type=click.IntRange(0, 65535), default=8501, show_default=True,
              help="the dashboard's port (0: a free one)")  # fmt: skip
@click.option(
    "--store",
    "store_path",
    default=None,
    help=f"run store file ({STORE_DEFAULT_HELP})",
)
def demo(
    port: int,
    database_url: str,
    load_seconds: int | None,
    no_load: bool,
    label: str,
    dashboard_port: int,
    store_path: str | None,
) -> None:
    """The exchange with demo users on 127.0.0.1, a short ramp of orders runs (500 to 2,500
    orders/s), a market-data run, a baseline load test and a database run kept in the run
    store, then the dashboard over them; up until Ctrl-C."""
    from exchange_ref.seeding import SEED_DEPOSITS
    from exchange_ref.server import ServerThread
    from exchange_ref.service import User
    from exchange_ref.settings import InvalidSettings, build_settings

    began = time.monotonic()
    store = str(Path(store_path or get_settings().store_path).resolve())
    try:
        settings = build_settings(
            port=port, database_url=database_url, symbols="BTCUSD,ETHUSD,SOLUSD", create_dirs=True
        )
    except InvalidSettings as exc:
        raise UsageFailure(str(exc)) from None
    if settings.port:
        free_port(settings.host, settings.port)  # the exchange's
    if dashboard_port:
        free_port(
            "127.0.0.1", dashboard_port, "--dashboard-port"
        )  # fail now, not after the measurements
    thread = ServerThread(settings, log_level="warning").start()
    service = thread.service
    server: DashboardServer | None = None
    try:

        async def demo_users() -> list[tuple[User, str]]:
            # Only a digest of each key is stored, so a restarted demo cannot show the keys of
            # the users it made before: it makes three more.
            users = service.create_users(3, SEED_DEPOSITS, "demo")
            await service.durable()
            return users

        users = thread.call(demo_users)
        _describe_exchange(thread.url, settings.host, thread.server.bound_port, users)
        click.echo(f"  database:      {mask_url(settings.database_url)}")
        click.echo(f"  admin key:     {service.admin_key}")
        if load_seconds != 0 and not no_load:
            click.echo(f"Measuring (label {label}; every run kept in {store}):")
            env = {**os.environ, "PINCEX_ADMIN_KEY": service.admin_key}
            steps = _steps(thread.url, label, load_seconds, store)
            for index, step in enumerate(steps, 1):
                _run_step(step, index, len(steps), env)
        click.echo("Starting the dashboard ...")
        server = start_dashboard("127.0.0.1", dashboard_port, store)
        click.echo(
            f"Dashboard: {server.url}   (ready {time.monotonic() - began:.0f} s after start)"
        )
        click.echo("  runs:          pincex runs list   (pincex runs show ID for one)")
        click.echo("Press Ctrl-C to stop.")
        stopped = wait_for_signal({"dashboard": server.alive, "exchange": thread.thread.is_alive})
        if stopped == "dashboard":
            raise UsageFailure(f"the dashboard stopped unexpectedly: {server.last_error()}", 1)
        if stopped == "exchange":
            raise UsageFailure("the exchange stopped unexpectedly", 1)
    finally:
        click.echo("stopping: the dashboard, then the exchange (draining, flushing)", err=True)
        if server is not None:
            server.stop()
        thread.stop()


def _describe_exchange(url: str, host: str, port: int, users: list[Any]) -> None:
    click.echo(f"PinCEX reference exchange: {url}")
    click.echo(f"  OpenAPI:       {url}/openapi.json  (browsable at {url}/docs)")
    click.echo(f"  metrics:       {url}/metrics")
    click.echo(f"  WebSocket:     ws://{host}:{port}/ws")
    click.echo("  demo users (header X-API-Key):")
    for user, api_key in users:
        click.echo(f"    {user.name}  {api_key}")
    click.echo("Try:")
    click.echo(
        f"  curl -s -H 'X-API-Key: {users[0][1]}' -H 'Content-Type: application/json' "
        f'-d \'{{"symbol":"BTCUSD","side":"BUY","type":"LIMIT","timeInForce":"GTC",'
        f'"quantity":0.5,"price":50000}}\' {url}/api/v1/orders'
    )
