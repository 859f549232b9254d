"""`pincex plan capacity|usl|size`: the capacity plan, USL fits and SLO-driven pod counts."""

from __future__ import annotations

import math
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import orjson

from common.errors import UsageFailure
from common.paths import STORE_DEFAULT_HELP
from pincex.commands.plan_view import ramp_json, ramp_lines, size_lines, usl_lines
from pincex.sources import run_source, source_failures
from planning.capacity import (
    CapacityConfig,
    ConfigError,
    load_config,
    plan_capacity,
    report_lines,
    scenario_growth,
    script_growth,
)

if TYPE_CHECKING:  # numpy, pandas and scipy load when a command runs, not at `pincex --help`
    from planning.ramp import LoadDefinition
    from planning.usl import Curve, USLFit

__all__ = ["plan"]


class _OneLineCommand(click.Command):
    """A bad or missing option is one `error:` line and exit 2, like every other failure."""

    def make_context(
        self,
        info_name: str | None,
        args: list[str],
        parent: click.Context | None = None,
        **extra: Any,
    ) -> click.Context:
        try:
            return super().make_context(info_name, args, parent, **extra)
        except click.exceptions.NoArgsIsHelpError:
            raise
        except click.UsageError as exc:
            raise UsageFailure(exc.format_message()) from None


class _Group(_OneLineCommand, click.Group):
    command_class = _OneLineCommand

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            raise UsageFailure(exc.format_message()) from None


def _emit(payload: dict[str, Any]) -> None:
    click.echo(orjson.dumps(payload, option=orjson.OPT_INDENT_2).decode())


def _finite(value: float | None, option: str, *, low: float = 0.0) -> None:
    if value is not None and not (math.isfinite(value) and value > low):
        raise UsageFailure(f"{option} must be a number above {low:g}, got {value}")


_json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


@click.group(cls=_Group)
def plan() -> None:
    """Capacity planning: the specification's capacity script, USL fits, pods for an SLO."""


# --- capacity ------------------------------------------------------------------------------------


@plan.command("capacity")
@click.option(
    "--growth",
    type=float,
    metavar="G",
    help="The script's $GrowthMultiplier over the horizon (default 3.0, from the config).",
)
@click.option(
    "--months",
    type=click.IntRange(1, 600),
    metavar="M",
    help="The script's $MonthsAhead (default 12); sets the month-by-month runway only.",
)
@click.option(
    "--scenario",
    metavar="NAME",
    help="Take volume, user and peak growth from capacity-planning.yaml (conservative,"
    " aggressive) instead of --growth, and compare with its infrastructure targets.",
)
@click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Capacity config (default: capacity.yaml in PINCEX_CONFIG_DIR, else this checkout's"
    " config/).",
)
@_json_option
def capacity(
    growth: float | None,
    months: int | None,
    scenario: str | None,
    config_path: Path | None,
    as_json: bool,
) -> None:
    """Reproduce scripts/calculate-capacity.ps1: its figures, rounding and printed lines.

    By default the lines are the script's Write-Host lines as PowerShell prints them (doubles
    as .NET "G15": 3.0 prints as 3), followed by the runway of today's fleet (3 pods, 8 cores,
    32 GB, 1 Gbps) month by month, growth compounded as g^(m/M).

    With --scenario, volume growth scales orders/s, CPU and memory; volume growth times the
    peak multiplier scales the peak orders/s (so pods and bandwidth); user growth scales
    database and WebSocket connections (so cores). The YAML's targets are shown with the gap.

    \b
    Known flaws of the script, reproduced in the figures and listed in the output ("notes"):
    - cpu_usage_percent and websocket_connections are projected and never used (nor is the
      average orders/s: pods follow the peak only);
    - MonthsAhead is only printed: it changes no figure;
    - 1,000,000 orders a day is 11.6 orders/s on average, not the 500/s stated;
    - memory headroom multiplies the projected usage, billed as database memory;
    - today's 200 connections already need all 8 database cores (25 per core);
    - one multiplier grows everything; the YAML's user growth and peak multiplier are unused;
    - 2,000 orders/s x 3 pods = 6,000/s, below the spec's own 10,000/50,000 targets;
    - network counts 1,024 bytes per peak order only (no market data fan-out);
    - headroom multiplies counts already rounded up;
    - the YAML's targets (9 pods, 16 CPU at 3x) do not follow from the script (12, 29);
    - "$${tradingEngineCost}" is PowerShell's $$ then literal text, so the script prints no
      cost figure at all; these lines print the intended "$1200".
    """
    config = _load_config(config_path)
    if scenario is not None:
        if growth is not None:
            raise UsageFailure("give --growth or --scenario, not both")
        chosen = config.scenarios.get(scenario)
        if chosen is None:
            names = ", ".join(config.scenarios)
            raise UsageFailure(f"unknown scenario {scenario!r}: choose one of {names}")
        if months is not None and months != chosen.months:
            raise UsageFailure(
                f"the {scenario} scenario is a {chosen.months}-month projection; "
                f"--months must be {chosen.months} or left out"
            )
        growth_model, horizon = scenario_growth(chosen), chosen.months
    else:
        _finite(growth, "--growth")
        multiplier = config.script.growth_multiplier if growth is None else growth
        growth_model = script_growth(multiplier)
        horizon = config.script.months_ahead if months is None else months
    result = plan_capacity(config, growth_model, horizon)
    if as_json:
        _emit(result.to_dict())
    else:
        click.echo("\n".join(report_lines(result)))


def _load_config(path: Path | None) -> CapacityConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        raise UsageFailure(str(exc)) from None


# --- usl -----------------------------------------------------------------------------------------


@plan.command("usl")
@click.option(
    "--input",
    "input_path",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="CSV with the header concurrency,throughput (one row per measurement).",
)
@click.option(
    "--from-runs",
    is_flag=True,
    help="Take the points from stored orders runs (a ramp of rates) instead of --input.",
)
@click.option("--label", metavar="L", help="With --from-runs: only runs of this version label.")
@click.option(
    "--load",
    "load_definition",
    type=click.Choice(["inflight", "connections"]),
    default="inflight",
    show_default=True,
    help="With --from-runs: a run's load. inflight: requests in flight by Little's law"
    " (throughput x mean service time); connections: its configured connection count.",
)
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PATH",
    help=f"With --from-runs: the run store ({STORE_DEFAULT_HELP}).",
)
@click.option(
    "--method",
    type=click.Choice(["nls", "normalized"]),
    default="nls",
    show_default=True,
    help="nls: least squares with lambda free (R usl 2.x+); normalized: lambda = X(1), the"
    " linearised fit of usl 1.x (needs a row at concurrency 1).",
)
@_json_option
@click.pass_context
def usl(
    ctx: click.Context,
    input_path: Path | None,
    from_runs: bool,
    label: str | None,
    load_definition: LoadDefinition,
    store_path: Path | None,
    method: str,
    as_json: bool,
) -> None:
    """Fit the Universal Scalability Law X(N) = lambda*N / (1 + sigma(N-1) + kappa*N(N-1)).

    Prints sigma (contention), kappa (coherency), lambda (throughput at N = 1), the peak
    N* = sqrt((1 - sigma)/kappa) and X(N*), R², and two-sided 95 % Wald intervals (t quantile,
    n - 3 df, from the nonlinear least-squares covariance; the peak's by the delta method),
    with warnings when the data never reached the knee.

    With --from-runs the points are stored orders runs (say, a ramp of increasing rates
    against one exchange process, that is one pod): each run's throughput (orders/s) at its
    load (see --load); the runs are listed, and the highest rate whose p99 met the target
    table's p99 SLO is reported as the measured per-pod capacity (trusted runs only). A fit
    needs at least 4 distinct loads.

    \b
    pincex plan usl --input points.csv
    pincex plan usl --from-runs --label v1 --json
    """
    if from_runs:
        if input_path is not None:
            raise UsageFailure("give --input FILE or --from-runs, not both")
        _usl_from_runs(ctx, label, load_definition, store_path, method, as_json)
        return
    for option, given in (
        ("--label", label is not None),
        ("--store", store_path is not None),
        ("--load", load_definition != "inflight"),
    ):
        if given:
            raise UsageFailure(f"{option} applies to --from-runs only")
    if input_path is None:
        raise UsageFailure("Missing option '--input' (or --from-runs)")
    fit = _fit(input_path, method)
    if as_json:
        _emit(fit.to_dict())
        return
    click.echo("\n".join(usl_lines(fit, input_path)))


def _usl_from_runs(
    ctx: click.Context,
    label: str | None,
    load_definition: LoadDefinition,
    store_path: Path | None,
    method: str,
    as_json: bool,
) -> None:
    from planning.usl import USLDataError, fit_usl

    with source_failures():
        ramp = run_source(ctx).ramp(store_path, label, load_definition)
    which = "orders runs" + ("" if label is None else f" labelled {label}")
    loads = len(set(ramp.points.load))
    if loads < _MIN_RAMP_LOADS:
        runs = len(ramp.points_by_run)
        hint = (
            "the runs' connection counts do not vary enough; try --load inflight"
            if load_definition == "connections" and runs >= _MIN_RAMP_LOADS
            else f"run a ramp: pincex bench orders at {_MIN_RAMP_LOADS}+ rates"
        )
        raise UsageFailure(
            f"found {loads} distinct load{'' if loads == 1 else 's'} in {runs} stored "
            f"{which.replace('runs', 'run') if runs == 1 else which}; a USL fit needs at "
            f"least {_MIN_RAMP_LOADS} ({hint})"
        )
    try:
        fit = fit_usl(ramp.points, method)
    except USLDataError as exc:
        raise UsageFailure(f"stored {which}: {exc}") from None
    if as_json:
        _emit({**fit.to_dict(), **ramp_json(ramp)})
        return
    click.echo("\n".join([*usl_lines(fit, f"stored {which}"), *ramp_lines(ramp)]))


_MIN_RAMP_LOADS = 4


def _fit(path: Path, method: str = "nls") -> USLFit:
    from planning.usl import USLDataError, fit_usl, read_points

    try:
        return fit_usl(read_points(path), method)
    except USLDataError as exc:
        raise UsageFailure(str(exc)) from None


# --- size ----------------------------------------------------------------------------------------


@plan.command("size")
@click.option(
    "--usl",
    "usl_path",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="Per-pod load-vs-throughput CSV to fit (gives a pod range too).",
)
@click.option("--sigma", type=float, help="USL contention, 0 <= sigma < 1 (without --usl).")
@click.option("--kappa", type=float, help="USL coherency, kappa >= 0 (without --usl).")
@click.option("--lambda", "lam", type=float, help="USL throughput at N = 1 (without --usl).")
@click.option("--target-rate", required=True, type=float, metavar="R", help="Requests/s to serve.")
@click.option(
    "--slo-p99-ms", required=True, type=float, metavar="T", help="P99 latency objective, ms."
)
@click.option(
    "--headroom",
    type=float,
    default=1.0,
    show_default=True,
    metavar="H",
    help="At least ceil(H * R / X(c)) pods; 1 lets the SLO alone decide.",
)
@click.option(
    "--cost-per-pod",
    type=float,
    default=100.0,
    show_default=True,
    metavar="C",
    help="USD per pod per month (the specification's $100).",
)
@click.option(
    "--concurrency",
    type=click.IntRange(min=1),
    metavar="N",
    help="Requests a pod serves at once (default: the whole number next to the peak N*).",
)
@click.option(
    "--max-pods",
    type=click.IntRange(min=1),
    metavar="K",
    help="Report the target unreachable when it needs more pods than this.",
)
@_json_option
def size(
    usl_path: Path | None,
    sigma: float | None,
    kappa: float | None,
    lam: float | None,
    target_rate: float,
    slo_p99_ms: float,
    headroom: float,
    cost_per_pod: float,
    concurrency: int | None,
    max_pods: int | None,
    as_json: bool,
) -> None:
    """Pods for a target rate from a fitted USL curve, so the P99 latency meets the SLO.

    \b
    Model: each pod is an M/M/c queue with c = its concurrency and service rate
    mu = X(c)/c per slot (Little's law: mean latency c/X(c)); the rate is spread evenly.
    P(wait) is Erlang C; P(W > t) = C exp(-(c mu - lambda) t); the SLO bounds the P99 of
    the latency (wait + service) from the exact M/M/c distribution. Recommended: the fewest
    pods meeting the SLO, at least ceil(H R / X(c)). With --usl, pods and cost also come as
    a range from the 95 % interval of X(c). Unreachable (exit 1, with the reason): an idle
    pod already misses the SLO, or more than --max-pods pods would be needed.
    """
    from planning.sizing import SizingError, size_pods
    from planning.usl import Curve

    given = [
        name
        for name, v in (("--sigma", sigma), ("--kappa", kappa), ("--lambda", lam))
        if v is not None
    ]
    if usl_path is not None and given:
        raise UsageFailure(f"give --usl or --sigma/--kappa/--lambda, not both ({given[0]})")
    source: Curve | USLFit
    if usl_path is not None:
        source = _fit(usl_path)
    elif sigma is None or kappa is None or lam is None:
        missing = [n for n in ("--sigma", "--kappa", "--lambda") if n not in given]
        raise UsageFailure(
            f"give --usl FILE or all of --sigma, --kappa, --lambda (missing {', '.join(missing)})"
        )
    else:
        if not (math.isfinite(sigma) and 0 <= sigma < 1):
            raise UsageFailure(f"--sigma must be in [0, 1), got {sigma}")
        if not (math.isfinite(kappa) and kappa >= 0):
            raise UsageFailure(f"--kappa must be 0 or more, got {kappa}")
        _finite(lam, "--lambda")
        source = Curve(sigma, kappa, lam)
    _finite(target_rate, "--target-rate")
    _finite(slo_p99_ms, "--slo-p99-ms")
    if not (math.isfinite(headroom) and headroom >= 1):
        raise UsageFailure(f"--headroom must be 1 or more, got {headroom}")
    if not (math.isfinite(cost_per_pod) and cost_per_pod >= 0):
        raise UsageFailure(f"--cost-per-pod must be 0 or more, got {cost_per_pod}")
    try:
        result = size_pods(
            source,
            target_rate,
            slo_p99_ms,
            concurrency=concurrency,
            headroom=headroom,
            cost_per_pod=cost_per_pod,
            max_pods=max_pods,
        )
    except SizingError as exc:
        raise UsageFailure(str(exc)) from None
    if as_json:
        _emit(result.to_dict())
    else:
        click.echo("\n".join(size_lines(result, source)))
    if not result.reachable:
        click.get_current_context().exit(1)
