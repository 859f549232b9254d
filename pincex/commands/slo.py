"""`pincex slo check` and `pincex diagnose`: a results file judged against the spec's targets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click
import orjson

from common.errors import UsageFailure
from common.paths import STORE_DEFAULT_HELP
from pincex.sources import run_source, source_failures
from planning.diagnose import Diagnosis, examine
from planning.slo import (
    ResultsError,
    SloConfig,
    SloError,
    Verdict,
    Verdicts,
    evaluate,
    load_config,
    load_results,
)

if TYPE_CHECKING:
    from planning.run_slo import JudgedRun

__all__ = ["diagnose", "run_title", "run_verdict_lines", "slo"]

F = TypeVar("F", bound=Callable[..., Any])


_VERDICT_WORDS = {"met": "met", "missed": "MISSED", "not_measured": "not measured"}
_OVERALL_WORDS = {
    "met": "MET",
    "missed": "MISSED",
    "not_measured": "NOT MEASURED",
    "informational": "INFORMATIONAL (no numeric target to judge)",
}


def _results_option(alternative: str = "") -> Callable[[F], F]:
    return click.option(
        "--results",
        "results_path",
        type=click.Path(path_type=Path),
        metavar="FILE",
        help="JSON object of metric name to number, each in the config's unit for it."
        + alternative,
    )


_config_option = click.option(
    "--config",
    "config_path",
    type=click.Path(path_type=Path),
    metavar="FILE",
    help="SLO config (default: slo.yaml in PINCEX_CONFIG_DIR, else this checkout's config/).",
)
_json_option = click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")


@click.group()
def slo() -> None:
    """Judge results against the spec's SLOs.

    The targets (config/slo.yaml) are the specification's three target tables and the expected
    results of its four load-test profiles.
    """


@slo.command("check")
@_results_option(" Required (or --run).")
@click.option(
    "--run",
    "run_ref",
    metavar="ID|latest",
    help="A stored run instead of a results file: its id, an id prefix (8+ characters) or latest.",
)
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    metavar="PATH",
    help=f"With --run: the run store ({STORE_DEFAULT_HELP}).",
)
@click.option(
    "--profile",
    metavar="NAME",
    help="Judge this load-test profile's expected results (baseline, peak, stress, spike)"
    " instead of the target tables.",
)
@_config_option
@click.option(
    "--allow-unmeasured",
    is_flag=True,
    help="Do not fail on SLOs without a figure (at least one must still be measured)."
    " The default with --run.",
)
@click.option(
    "--strict",
    is_flag=True,
    help="With --run: fail (exit 1) also when a target row is not measured or the run is"
    " not trusted.",
)
@_json_option
@click.pass_context
def check(
    ctx: click.Context,
    results_path: Path | None,
    run_ref: str | None,
    store_path: Path | None,
    profile: str | None,
    config_path: Path | None,
    allow_unmeasured: bool,
    strict: bool,
    as_json: bool,
) -> None:
    """Judge a results file, or a stored run, against the SLOs.

    With --results: exits 0 when everything is met, 1 when an SLO is missed or lacks a
    figure, 2 on bad input.

    Without --profile the three target tables are judged (normal operation); with --profile
    only that load test's expected results are.

    With --run, a stored run is judged: every target row the run measured is met or missed,
    with the figure, its margin and how it was derived; the rest are "not measured" with the
    reason (a db run has no order latency), never a pass. A run that is not trusted says so
    on every row. Exit codes with --run: 1 when a measured row missed or when the run
    measured no row at all, 0 otherwise: rows the run could not measure do not fail it
    unless --strict, which also fails a run that is not trusted.

    \b
    pincex slo check --results performance-results.json
    pincex slo check --results peak-run.json --profile peak --json
    pincex slo check --run latest
    pincex slo check --run 3f2a9c1e --store data/pincex.duckdb --profile baseline --json
    """
    if run_ref is not None or store_path is not None or strict:
        _check_run(
            ctx, results_path, run_ref, store_path, profile, config_path, allow_unmeasured,
            strict, as_json,
        )  # fmt: skip
        return
    if results_path is None:
        raise UsageFailure("missing --results FILE or --run ID|latest")
    config, results = _load(results_path, config_path)
    try:
        verdicts = evaluate(config, results, profile, allow_unmeasured=allow_unmeasured)
    except ResultsError as exc:
        raise UsageFailure(_one_line(f"{results_path}: {exc}")) from None
    except SloError as exc:
        raise UsageFailure(_one_line(str(exc))) from None
    if as_json:
        doc = {"config": config.source, "results": str(results_path), **verdicts.as_dict()}
        click.echo(orjson.dumps(doc).decode())
    else:
        for line in _verdict_lines(verdicts):
            click.echo(line)
    if not verdicts.passed:
        ctx.exit(1)


def _check_run(
    ctx: click.Context,
    results_path: Path | None,
    run_ref: str | None,
    store_path: Path | None,
    profile: str | None,
    config_path: Path | None,
    allow_unmeasured: bool,
    strict: bool,
    as_json: bool,
) -> None:
    """`slo check --run`: the stored run judged, with the figures' provenance."""
    if run_ref is None:
        given = "--store" if store_path is not None else "--strict"
        raise UsageFailure(f"{given} applies to --run ID|latest only")
    if results_path is not None:
        raise UsageFailure("give --results FILE or --run ID|latest, not both")
    if strict and allow_unmeasured:
        raise UsageFailure("--strict and --allow-unmeasured contradict each other")
    try:
        config = load_config(config_path)
        if profile is not None:
            config.profile(profile)
    except SloError as exc:
        raise UsageFailure(_one_line(str(exc))) from None
    source = run_source(ctx)
    with source_failures():
        judged = source.judged_run(
            store_path, run_ref, slos=config, profile=profile, allow_unmeasured=not strict
        )
    numeric = [v for v in judged.verdicts.verdicts if v.status != "informational"]
    if profile is not None and numeric and all(v.status == "not_measured" for v in numeric):
        wanted = [v.slo.metric or "" for v in numeric]
        reason = judged.why_not(wanted[0])
        raise UsageFailure(
            f"run {judged.facts.run_id} has none of the {profile} profile's figures"
            f" ({', '.join(wanted) or 'none'}): {reason}"
        )
    untrusted_fails = strict and not judged.facts.trusted
    if as_json:
        doc = {"config": config.source, **judged.as_dict()}
        doc["passed"] = judged.verdicts.passed and not untrusted_fails
        click.echo(orjson.dumps(doc).decode())
    else:
        for line in run_verdict_lines(judged, strict):
            click.echo(line)
    if not judged.verdicts.passed or untrusted_fails:
        ctx.exit(1)


def run_title(judged: JudgedRun) -> str:
    """How people name the run: "label · kind · start"."""
    f = judged.facts
    start = "-" if f.started_at is None else f.started_at.strftime("%Y-%m-%d %H:%M:%S")
    return f"{f.label} · {f.kind} · {start}"


def run_verdict_lines(judged: JudgedRun, strict: bool = False) -> list[str]:
    """The human report of a judged run: the run named, its trust, one aligned row per target
    (with how the figure was derived or why there is none), the overall verdict."""
    f, verdicts = judged.facts, judged.verdicts
    lines = [f"run {run_title(judged)} (id {f.run_id}, profile {f.profile}, {f.status})"]
    if not f.trusted:
        lines.append("NOT TRUSTED: " + ("; ".join(f.warnings) or "the run was marked so"))
    if verdicts.profile is None:
        lines.append(f"target tables: {', '.join(verdicts.tables)}")
    else:
        lines.append(f"profile: {verdicts.profile}")
    header = ("SLO", "target", "observed", "margin", "verdict")
    trust = () if f.trusted else ("trust",)
    rows: list[tuple[str, ...]] = [(*header, *trust, "how / why not")]
    for v in verdicts.verdicts:
        rows.append((*_row(v), *(("NOT TRUSTED",) if trust else ()), judged.note(v)))
    counts = verdicts.counts()
    summary = (
        f"{counts['met']} met, {counts['missed']} missed, {counts['not_measured']} not measured,"
        f" {counts['informational']} informational"
    )
    overall = _OVERALL_WORDS[verdicts.overall]
    if verdicts.allow_unmeasured and counts["not_measured"]:
        summary += "; rows not measured fail the run only with --strict"
    if not f.trusted:
        overall += ", NOT TRUSTED" + (" (fails with --strict)" if strict else "")
    return [*lines, *_aligned(rows), f"overall: {overall} ({summary})"]


@click.command("diagnose")
@_results_option()
@click.option(
    "--profile",
    default="baseline",
    show_default=True,
    metavar="NAME",
    help="Load-test profile whose error-rate limit the High Error Rates rule uses.",
)
@_config_option
@_json_option
def diagnose(
    results_path: Path | None, profile: str, config_path: Path | None, as_json: bool
) -> None:
    """Match figures to the spec's tuning advice.

    Each rule of the spec's tuning quick reference (and its database targets) that the figures
    trigger is listed with its symptom, what to investigate and how to resolve it.

    Exits 0 whether or not something is found (it is a diagnosis), 2 on bad input.

    \b
    pincex diagnose --results performance-results.json
    """
    config, results = _load(results_path, config_path)
    try:
        diagnosis = examine(results, config, profile)
    except ResultsError as exc:
        raise UsageFailure(_one_line(f"{results_path}: {exc}")) from None
    except SloError as exc:
        raise UsageFailure(_one_line(str(exc))) from None
    if as_json:
        click.echo(orjson.dumps(diagnosis.as_dict()).decode())
    else:
        for line in _diagnosis_lines(diagnosis):
            click.echo(line)


def _load(
    results_path: Path | None, config_path: Path | None
) -> tuple[SloConfig, dict[str, float | None]]:
    if results_path is None:
        raise UsageFailure("missing --results FILE")
    try:
        config = load_config(config_path)
        results = load_results(results_path)
    except SloError as exc:
        raise UsageFailure(_one_line(str(exc))) from None
    return config, results


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}" if n == 1 else f"{n} {noun}s"


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _num(x: float) -> str:
    if float(x).is_integer():
        return str(int(x))
    text = repr(float(x))
    return text if len(text) <= 10 else f"{x:.6g}"


def _quantity(x: float, unit: str | None, signed: bool = False) -> str:
    """`x` with its unit; a signed difference of percentages is in percentage points (pp)."""
    number = ("+" if signed and x > 0 else "") + _num(x)
    if unit == "%":
        return f"{number} pp" if signed else f"{number}%"
    return f"{number} {unit}" if unit else number


def _row(v: Verdict) -> tuple[str, str, str, str, str]:
    s = v.slo
    observed = "-" if v.observed is None else _quantity(v.observed, s.unit)
    if s.comparator is None or s.target is None:
        return (s.metric or "(goal)", s.spec, observed, "-", "info")
    target = f"{s.comparator} {_quantity(s.target, s.unit)}"
    margin = "-"
    if v.margin is not None:
        margin = _quantity(v.margin, s.unit, signed=True)
        if v.margin_percent is not None:
            margin += f" ({v.margin_percent:+.1f}%)"
    return (s.metric or "", target, observed, margin, _VERDICT_WORDS[v.status])


def _aligned(rows: Sequence[Sequence[str]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]


def _verdict_lines(verdicts: Verdicts) -> list[str]:
    """The human report: scope, one aligned row per SLO, the overall verdict."""
    if verdicts.profile is None:
        scope = f"target tables: {', '.join(verdicts.tables)}"
    else:
        scope = f"profile: {verdicts.profile}"
    rows = [("SLO", "target", "observed", "margin", "verdict")]
    rows += [_row(v) for v in verdicts.verdicts]
    counts = verdicts.counts()
    summary = (
        f"{counts['met']} met, {counts['missed']} missed, {counts['not_measured']} not measured,"
        f" {counts['informational']} informational"
    )
    if verdicts.allow_unmeasured and counts["not_measured"]:
        summary += "; unmeasured allowed"
    lines = [scope, *_aligned(rows), f"overall: {_OVERALL_WORDS[verdicts.overall]} ({summary})"]
    if verdicts.ignored:
        lines.append(f"not in this scope, ignored: {', '.join(verdicts.ignored)}")
    return lines


def _diagnosis_lines(diagnosis: Diagnosis) -> list[str]:
    """The human report: each finding with what to investigate and how to resolve it."""
    checked = _count(len(diagnosis.checked), "rule")
    tally = f"{checked} checked, {len(diagnosis.not_evaluated)} lacking a figure or target"
    if not diagnosis.findings:
        return [f"no findings: {tally}"]
    lines = [f"{_count(len(diagnosis.findings), 'finding')}: {tally}"]
    for i, f in enumerate(diagnosis.findings, 1):
        where = f" ({f.component})" if f.component else ""
        if not f.over_by:
            over = "at the threshold"
        elif f.threshold:
            over = f"{f.severity * 100:.1f}% past the threshold"
        else:
            over = f"{_quantity(f.over_by, f.unit)} past the threshold"
        lines += [
            f"{i}. {f.issue}{where}: {f.symptom}, {over}",
            f"   investigate: {f.investigation}",
            f"   resolve:     {f.resolution}",
        ]
    return lines
