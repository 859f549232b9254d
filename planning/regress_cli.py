"""`pincex regress ...`: the specification's baseline check and change points in run histories."""

from __future__ import annotations

from pathlib import Path

import click
import orjson

from pincex.errors import UsageFailure
from planning.regress.check import ResultsError, check_regression, load_results
from planning.regress.directions import DirectionError
from planning.regress.history import HistoryError, read_histories
from planning.regress.report import analyse, report_json, report_lines

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
    type=float,
    default=0.15,
    show_default=True,
    help="Maximum allowed degradation (0.15 = 15%).",
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
    required=True,
    type=click.Path(dir_okay=False, path_type=Path),
    help="CSV with header series,metric,value; one row per run in run order.",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@click.option(
    "--higher-is-worse", multiple=True, metavar="NAME", help="Metric where higher is worse."
)
@click.option(
    "--lower-is-worse", multiple=True, metavar="NAME", help="Metric where lower is worse."
)
@click.option("--ci", is_flag=True, help="Exit 1 when any series has a regression step.")
def detect_cmd(
    input_file: Path,
    as_json: bool,
    higher_is_worse: tuple[str, ...],
    lower_is_worse: tuple[str, ...],
    ci: bool,
) -> None:
    """Steps, drift and outliers in run histories, each alert explained."""
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
    if ci and any(c.direction == "regression" for r in reports for c in r.detection.changes):
        raise SystemExit(1)
