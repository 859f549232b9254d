"""`pincex loadtest ...`: the specification's load tests (run), its pre-test checklist
(preflight), and a Locust worker for load beyond one machine (worker)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import click

from collectors.bench.target import base_url, check_reachable
from collectors.loadtest.config import LoadTestConfigError, parse_duration
from collectors.loadtest.locust_engine import DEFAULT_MASTER_PORT
from common.errors import UsageFailure
from pincex.commands.bench_command import BenchCommand, exit_for, measuring
from pincex.commands.loadtest_view import preflight_lines, run_lines
from pincex.commands.loadtest_worker import worker
from pincex.loadtest_flow import LoadTestOptions, LoadTestSetup
from pincex.options import (
    BenchContext,
    admin_key_option,
    allow_remote_option,
    echo_json,
    json_option,
    progress_bar,
    run_options,
    stored_line,
    target_option,
)

if TYPE_CHECKING:
    from collectors.loadtest.figures import LoadTestFigures

__all__ = ["loadtest"]

_RATES_HELP = (
    "Rates: a profile's rate (or --rate) is the total, split between the scenarios by their "
    "weight (70/20/10: 5,000 req/s sends 3,500 / 1,000 / 500); without --profile and --rate "
    "each scenario runs at its own rps from config/loadtest.yaml (1,000 / 500 / 100, as the "
    "specification writes them). Within a scenario its endpoints share its rate equally."
)


def _duration(_ctx: click.Context, _param: click.Parameter, value: str | None) -> float | None:
    if value is None:
        return None
    try:
        seconds = parse_duration(value)
    except ValueError as exc:
        raise click.BadParameter(str(exc)) from None
    if not 1 <= seconds <= 86_400:
        raise click.BadParameter(f"must be between 1 s and 24 h, got {value!r}")
    return seconds


class _LoadTestCommand(BenchCommand):
    """A benchmark command whose config errors are bad input (exit 2), and a Locust run that
    could not be made exit 1."""

    def invoke(self, ctx: click.Context) -> Any:
        from collectors.loadtest.locust_engine import LocustEngineError
        from planning.slo import SloError

        try:
            return super().invoke(ctx)
        except (LoadTestConfigError, SloError) as exc:
            raise UsageFailure(str(exc)) from None
        except LocustEngineError as exc:
            raise UsageFailure(f"the Locust engine failed: {exc}", 1) from None


@click.group()
def loadtest() -> None:
    """The specification's load tests: baseline, peak, stress and spike, with verdicts."""


@loadtest.command("run", cls=_LoadTestCommand, epilog=_RATES_HELP)
@click.option(
    "--profile",
    default=None,
    help="baseline, peak, stress or spike (config/loadtest.yaml); without it the config's "
    "test_duration and ramp at the scenarios' own rates",
)
@target_option()
@click.option(
    "--scale",
    type=click.FloatRange(min=0.0001, max=10, min_open=False),
    default=1.0,
    show_default=True,
    help="multiply the profile's rates and durations (0.1 on a small machine); every verdict "
    "says it was scaled",
)
@click.option(
    "--rate",
    type=click.FloatRange(min=1, max=1_000_000),
    default=None,
    help="total requests per second (after --scale): the hold rate, spike base or top step",
)
@click.option(
    "--duration",
    default=None,
    callback=_duration,
    help="the whole run (90s, 5m; after --scale): every stage stretches in proportion",
)
@click.option(
    "--engine",
    type=click.Choice(["ours", "locust"]),
    default="ours",
    show_default=True,
    help="ours: the open-model engine on this machine; locust: a Locust master with workers",
)
@click.option(
    "--workers",
    type=click.IntRange(0, 64),
    default=1,
    show_default=True,
    help="Locust workers started here (0: only remote ones)",
)
@click.option(
    "--remote-workers",
    type=click.IntRange(0, 1024),
    default=0,
    show_default=True,
    help="Locust workers to wait for (up to 5 min) from other machines, each started there "
    "with `pincex loadtest worker --master HOST:PORT`",
)
@click.option(
    "--master-bind",
    default="127.0.0.1",
    show_default=True,
    help="address the Locust master listens on (another than loopback needs --allow-remote)",
)
@click.option(
    "--master-port",
    type=click.IntRange(0, 65535),
    default=None,
    help="the Locust master's port (default: 5557 with remote workers, else a free one)",
)
@admin_key_option
@click.option(
    "--users",
    type=click.IntRange(1, 1000),
    default=8,
    show_default=True,
    help="funded users seeded on the exchange (with an admin key)",
)
@click.option(
    "--connections",
    type=click.IntRange(1, 1024),
    default=64,
    show_default=True,
    help="keep-alive connections of our engine",
)
@click.option("--seed", type=int, default=1, show_default=True, help="seed of the order flow")
@click.option(
    "--config", "config_path", default=None, help="load-test config (default config/loadtest.yaml)"
)
@click.option("--slo", "slo_path", default=None, help="SLO config (default config/slo.yaml)")
@click.option("--force", is_flag=True, help="start even when a preflight check failed")
@allow_remote_option
@run_options
@json_option
def run(
    profile: str | None,
    target: str,
    scale: float,
    rate: float | None,
    duration: float | None,
    engine: str,
    workers: int,
    remote_workers: int,
    master_bind: str,
    master_port: int | None,
    admin_key: str | None,
    users: int,
    connections: int,
    seed: int,
    config_path: str | None,
    slo_path: str | None,
    force: bool,
    allow_remote: bool,
    bench: BenchContext,
    as_json: bool,
) -> None:
    """Run a load test: every scenario at once on an open model, judged against slo.yaml.

    Checks the preflight list first (refuses on a failed item unless --force), seeds funded
    users against the exchange (with an admin key), sends the load on the profile's stages,
    audits the exchange's invariants, judges the profile's expected results and analyses the
    run against the pinned baseline of the profile; the run is kept with all of it.

    Exit codes: 0 every measured target met; 1 a target missed, an invariant broken or the
    run not trusted; 2 bad input; 130 interrupted (what was measured is printed and kept).
    """
    from pincex.loadtest_flow import PreflightRefused

    if engine == "ours" and (workers != 1 or remote_workers or master_port is not None):
        raise UsageFailure("--workers, --remote-workers and --master-port are for --engine locust")
    if engine == "locust" and workers + remote_workers < 1:
        raise UsageFailure(
            "--engine locust needs at least one worker (--workers, --remote-workers)"
        )
    if master_bind not in ("127.0.0.1", "localhost", "::1") and not allow_remote:
        raise UsageFailure(f"--master-bind {master_bind} is not loopback; pass --allow-remote")
    if master_port is None:
        master_port = DEFAULT_MASTER_PORT if remote_workers else 0
    if remote_workers:
        shown = "THIS-HOST" if master_bind in ("0.0.0.0", "::") else master_bind
        click.echo(
            f"waiting for {remote_workers} remote worker(s): on each machine run "
            f"`pincex loadtest worker --master {shown}:{master_port}`",
            err=True,
        )
    options = LoadTestOptions(
        target=base_url(target, allow_remote),
        profile=profile,
        scale=scale,
        rate=rate,
        duration=duration,
        engine=engine,
        workers=workers,
        remote_workers=remote_workers,
        master_bind=master_bind,
        master_port=master_port,
        admin_key=admin_key,
        users=users,
        connections=connections,
        seed=seed,
        config_path=config_path,
        slo_path=slo_path,
        force=force,
        scrape_interval=bench.scrape_interval,
        sources=bench.sources,
        label=bench.label,
        tags=bench.tags,
    )
    from pincex.loadtest_flow import prepare

    setup = prepare(options)  # a flawed config is refused before the target is tried
    check_reachable(options.target)
    try:
        figures = _measured(options, setup, bench.store_path, as_json)
    except PreflightRefused as refused:
        if as_json:
            echo_json({"started": False, "preflight": refused.preflight.to_json()})
        else:
            for line in preflight_lines(refused.preflight):
                click.echo(line)
        raise UsageFailure(str(refused), 1) from None
    if as_json:
        echo_json(figures.to_json())
    else:
        for line in run_lines(figures):
            click.echo(line)
        if figures.run_id is not None:
            click.echo(stored_line(figures.run_id, bench.store_path))
    exit_for(figures.store_error, figures.aborted, False)
    if not figures.to_json()["passed"]:
        raise UsageFailure(_failed_line(figures.to_json()), 1)


def _measured(
    options: LoadTestOptions, setup: LoadTestSetup, store_path: str | None, as_json: bool
) -> LoadTestFigures:
    """The judged figures; PreflightRefused passes through (it is not a benchmark failure)."""
    from pincex.loadtest_flow import run_loadtest

    with measuring(options.target), progress_bar(not as_json, "requests answered") as bar:
        return run_loadtest(options, store_path, bar, setup)


def _failed_line(doc: dict[str, Any]) -> str:
    missed = [v["name"] for v in doc["verdicts"] if v["status"] == "missed"]
    parts = []
    if missed:
        parts.append("missed: " + ", ".join(missed))
    if not doc["trusted"]:
        parts.append("not trusted: " + "; ".join(doc["trust_reasons"]))
    return "the load test failed (" + "; ".join(parts or ["no verdict"]) + ")"


@loadtest.command("preflight", cls=_LoadTestCommand)
@click.option("--profile", default="baseline", show_default=True, help="the profile to check for")
@target_option()
@admin_key_option
@click.option(
    "--prometheus",
    "prometheus_url",
    default=None,
    help="a Prometheus server to check (default PINCEX_PROMETHEUS_URL)",
)
@click.option(
    "--store",
    "store_path",
    default=None,
    help="run store file (default PINCEX_STORE_PATH or data/pincex.duckdb)",
)
@click.option("--config", "config_path", default=None, help="load-test config")
@allow_remote_option
@json_option
def preflight(
    profile: str,
    target: str,
    admin_key: str | None,
    prometheus_url: str | None,
    store_path: str | None,
    config_path: str | None,
    allow_remote: bool,
    as_json: bool,
) -> None:
    """The specification's pre-test checklist, each check passed, failed or skipped with why.

    Exit 0 when nothing failed, 1 when a check failed, 2 on bad input.
    """
    from pincex.loadtest_flow import check_preflight

    result = check_preflight(
        base_url(target, allow_remote), profile, admin_key, prometheus_url, store_path, config_path
    )
    if as_json:
        echo_json({"passed": result.passed, "checks": result.to_json()})
    else:
        for line in preflight_lines(result):
            click.echo(line)
    if not result.passed:
        failed = [c.name for c in result.checks if c.status == "fail"]
        raise UsageFailure("preflight failed: " + ", ".join(failed), 1)


loadtest.add_command(worker)
