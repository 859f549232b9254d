"""`pincex regress ...`: the specification's baseline check and change points in run histories."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import click
import orjson

from common.errors import UsageFailure
from common.paths import STORE_DEFAULT_HELP
from pincex.sources import run_source, source_failures
from planning.regress.check import ResultsError, check_regression, load_results
from planning.regress.directions import DirectionError
from planning.regress.history import HistoryError, read_histories

if TYPE_CHECKING:  # the detector loads numpy and scipy, the store pandas: imported when run
    from planning.regress.report import HistoryReport
    from planning.regress.stored import Detected, StoredHistory

__all__ = ["regress"]


def _emit_json(obj: object) -> None:
    click.echo(orjson.dumps(obj, option=orjson.OPT_SERIALIZE_NUMPY).decode())


@click.group()
def regress() -> None:
    """Did the last change make the trading stack slower? Baseline checks and run histories."""


@regress.command("check")
@click.option(
    "--baseline-file",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Baseline results (JSON object).",
)
@click.option(
    "--current-results",
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="Current results (JSON object).",
)
@click.option(
    "--threshold",
    type=click.FloatRange(0, 10, min_open=True),
    default=0.15,
    show_default=True,
    help="Maximum allowed degradation (0.15 = 15%), in (0, 10].",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object instead of lines.")
def check(baseline_file: Path, current_results: Path, threshold: float, as_json: bool) -> None:
    """The specification's check-regression.py: exit 1 on a regression, 0 otherwise."""
    try:
        baseline = load_results(baseline_file, "baseline")
        current = load_results(current_results, "current results")
        result = check_regression(
            baseline,
            current,
            threshold,
            baseline_name=f"baseline file {baseline_file}",
            current_name=f"current results file {current_results}",
        )
    except ResultsError as exc:
        raise UsageFailure(str(exc)) from None
    for warning in result.warnings:
        click.echo(f"warning: {warning}", err=True)
    if as_json:
        _emit_json(result.to_json())
    else:
        for line in result.lines():
            click.echo(line)
    raise SystemExit(result.exit_code)


@regress.command("detect")
@click.option(
    "--input",
    "input_file",
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV with header series,metric,value; one row per run in run order.",
)
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PATH",
    help="Build the histories from the stored runs in this run store instead of --input.",
)
@click.option(
    "--from-store",
    is_flag=True,
    help=f"Like --store with the default store ({STORE_DEFAULT_HELP}).",
)
@click.option("--kind", metavar="K", help="With a store: only runs of this kind (orders, db...).")
@click.option("--label", metavar="L", help="With a store: only runs of this version label.")
@click.option("--profile", metavar="P", help="With a store: only runs of this profile.")
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--higher-is-worse", multiple=True, metavar="NAME", help="Metric where higher is worse."
)
@click.option(
    "--lower-is-worse", multiple=True, metavar="NAME", help="Metric where lower is worse."
)
@click.option("--ci", is_flag=True, help="Exit 1 when any series has a regression step.")
@click.pass_context
def detect_cmd(
    ctx: click.Context,
    input_file: Path | None,
    store_path: Path | None,
    from_store: bool,
    kind: str | None,
    label: str | None,
    profile: str | None,
    as_json: bool,
    higher_is_worse: tuple[str, ...],
    lower_is_worse: tuple[str, ...],
    ci: bool,
) -> None:
    """Steps, drift and outliers in run histories, each alert explained.

    The histories come from a CSV file (--input) or from stored runs (--store PATH, or
    --from-store for the default store). From a store there is one history per (kind,
    profile, summary name, figure) with the runs in start order; the figures are the p50,
    p95 and p99 latency of both views (latency_*: from each request's due time; service_*:
    from its send) and the throughput (throughput_per_s, requests/s). Each alert then also
    names the run where the new level starts (run_id in the JSON; label, start and id in
    the lines).

    \b
    pincex regress detect --input history.csv --json
    pincex regress detect --store data/pincex.duckdb --kind orders --label main --ci
    """
    sources = [
        name
        for name, given in (
            ("--input", input_file is not None),
            ("--store", store_path is not None),
            ("--from-store", from_store),
        )
        if given
    ]
    if len(sources) > 1:
        raise UsageFailure(
            f"give one of --input, --store or --from-store, not {' and '.join(sources)}"
        )
    if not sources:
        raise UsageFailure("Missing option '--input' (or --store PATH, or --from-store)")
    if input_file is None:
        if higher_is_worse or lower_is_worse:
            raise UsageFailure(
                "--higher-is-worse/--lower-is-worse apply to --input only "
                "(a store's figures have known directions)"
            )
        _detect_stored(ctx, store_path, kind, label, profile, as_json, ci)
        return
    for option, value in (("--kind", kind), ("--label", label), ("--profile", profile)):
        if value is not None:
            raise UsageFailure(f"{option} applies to --store or --from-store only")
    from planning.regress.report import analyse, report_json, report_lines

    try:
        histories = read_histories(input_file)
        reports = analyse(histories, higher_is_worse, lower_is_worse)
    except (HistoryError, DirectionError) as exc:
        raise UsageFailure(str(exc)) from None
    if as_json:
        _emit_json(report_json(reports))
    else:
        for line in report_lines(reports):
            click.echo(line)
    if ci and _regressed(reports):
        raise SystemExit(1)


def _regressed(reports: list[HistoryReport]) -> bool:
    return any(c.direction == "regression" for r in reports for c in r.detection.changes)


def _detect_stored(
    ctx: click.Context,
    store_path: Path | None,
    kind: str | None,
    label: str | None,
    profile: str | None,
    as_json: bool,
    ci: bool,
) -> None:
    with source_failures():
        found = run_source(ctx).detected(store_path, kind, label, profile)
    if as_json:
        _emit_json(found.as_json())
    elif not found.histories:
        chosen = [
            f"{n} {v}" for n, v in (("kind", kind), ("label", label), ("profile", profile)) if v
        ]
        click.echo(f"no stored runs match{': ' + ', '.join(chosen) if chosen else ''}")
    else:
        for line in stored_lines(found):
            click.echo(line)
    if ci and _regressed(found.reports):
        raise SystemExit(1)


def _when(value: object) -> str:
    strftime = getattr(value, "strftime", None)
    return str(value) if strftime is None else str(strftime("%Y-%m-%d %H:%M:%S"))


def _run_name(h: StoredHistory, i: int) -> str:
    """A run of a history as people name it: label · start · id prefix."""
    return f"{h.labels[i]} · {_when(h.started_at[i])} · {h.run_ids[i][:8]}"


def stored_lines(found: Detected) -> list[str]:
    """`report_lines` of stored histories, each change, outlier and trend naming its runs."""
    from planning.regress.report import report_lines

    runs = len({r for h in found.histories for r in h.run_ids})
    lines = [f"{len(found.histories)} histories from {runs} stored runs (in start order)"]
    for h, r in zip(found.histories, found.reports, strict=True):
        hid, det = r.history.id, r.detection
        changes = iter(det.changes)
        trends = iter(det.trends)
        for line in report_lines([r]):
            lines.append(line)
            if line.startswith(f"{hid}: ") and " at run " in line:
                c = next(changes)
                lines.append(f"  starts at   {_run_name(h, c.index)}")
                if c.index > 0:
                    lines.append(f"  last before {_run_name(h, c.index - 1)}")
            elif line.startswith(f"{hid}: trend "):
                t = next(trends)
                lines.append(f"  from {_run_name(h, t.start)} to {_run_name(h, t.end)}")
            elif line.startswith(f"{hid}: outliers at runs "):
                names = "; ".join(_run_name(h, o.index) for o in det.outliers)
                lines.append(f"  outlier runs {names}")
    return lines
