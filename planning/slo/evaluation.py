"""Verdicts: measured figures judged against the SLOs of a config.

    config = load_config("config/slo.yaml")
    verdicts = evaluate(config, {"order_processing_p95_ms": 9.3}, profile=None)
    verdicts.overall  # "not_measured": the other target-table SLOs have no figure

Scope. Without a profile the three target tables (trading engine, system resources, database)
are evaluated: they describe normal operation. With a profile only that load-test profile's
expected results are evaluated, because a peak or stress run is expected to exceed the
normal-operation targets (the peak profile allows a 50 ms P95 where the engine table allows 10).

Results are a flat mapping of metric name to number, in the unit the config gives for that metric
(nothing is converted; percentages are 0-100). A value of None means "not measured". Names may be
config metrics or config aliases (the CI workflow's `orders_per_second`); any other name is an
error, never silently ignored.

Margins: positive means headroom, negative means the target is missed by that much. For `<` and
`<=` the margin is `target - observed`; for `>` and `>=` it is `observed - target`; the percent
is the margin over |target| (None when the target is 0). A margin of 0 is met under `<=`/`>=` and
missed under `<`/`>`. Margins are computed in decimal on the values as written, so a 10 ms target
and 9.3 ms observed give 0.7, not 0.6999999999999993.
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Callable, Mapping
from decimal import Decimal

from planning.slo.model import (
    Comparator,
    Overall,
    ResultsError,
    Slo,
    SloConfig,
    Verdict,
    Verdicts,
)
from planning.slo.results import figure

__all__ = ["evaluate", "margin", "resolve_results", "satisfies"]

_OPS: dict[str, Callable[[Decimal, Decimal], bool]] = {
    "<": operator.lt,
    "<=": operator.le,
    ">": operator.gt,
    ">=": operator.ge,
}


def _dec(x: float) -> Decimal:
    return Decimal(x) if isinstance(x, int) else Decimal(repr(float(x)))


def satisfies(observed: float, comparator: Comparator, target: float) -> bool:
    """Whether `observed comparator target` holds."""
    return _OPS[comparator](_dec(observed), _dec(target))


def margin(observed: float, comparator: Comparator, target: float) -> tuple[float, float | None]:
    """(margin, margin in % of |target|): positive is headroom; the % is None for a 0 target."""
    o, t = _dec(observed), _dec(target)
    m = t - o if comparator in ("<", "<=") else o - t
    return float(m), None if t == 0 else float(m / abs(t) * 100)


def evaluate(
    slos: SloConfig,
    results: Mapping[str, float | None],
    profile: str | None = None,
    *,
    allow_unmeasured: bool = False,
) -> Verdicts:
    """Judge `results` against the target tables, or against `profile`'s expected results."""
    selected = slos.select(profile)
    figures = _resolve(slos, results)
    verdicts = tuple(_judge(slo, figures.get(slo.metric or "")) for slo in selected)
    used = {slo.metric for slo in selected}
    ignored = tuple(key for metric, (_, key) in figures.items() if metric not in used)
    return Verdicts(
        profile=profile,
        tables=tuple(slos.tables) if profile is None else (),
        verdicts=verdicts,
        overall=_overall(verdicts, allow_unmeasured),
        allow_unmeasured=allow_unmeasured,
        ignored=ignored,
    )


def _judge(slo: Slo, figure: tuple[float | None, str] | None) -> Verdict:
    value, key = figure if figure is not None else (None, None)
    if slo.comparator is None or slo.target is None:
        return Verdict(slo, "informational", value, result_key=key)
    if value is None:
        return Verdict(slo, "not_measured", result_key=key)
    ok = satisfies(value, slo.comparator, slo.target)
    m, pct = margin(value, slo.comparator, slo.target)
    return Verdict(slo, "met" if ok else "missed", value, m, pct, key)


def _overall(verdicts: tuple[Verdict, ...], allow_unmeasured: bool) -> Overall:
    statuses = [v.status for v in verdicts if v.status != "informational"]
    if not statuses:
        return "informational"
    if "missed" in statuses:
        return "missed"
    if "met" not in statuses or ("not_measured" in statuses and not allow_unmeasured):
        return "not_measured"
    return "met"


def resolve_results(
    slos: SloConfig, results: Mapping[str, float | None]
) -> dict[str, float | None]:
    """`results` keyed by config metric names (aliases resolved), every name and value checked."""
    return {metric: value for metric, (value, _) in _resolve(slos, results).items()}


def _resolve(slos: SloConfig, results: Mapping[str, object]) -> dict[str, tuple[float | None, str]]:
    figures: dict[str, tuple[float | None, str]] = {}
    for key, value in results.items():
        metric = key if key in slos.metrics else slos.aliases.get(key)
        if metric is None:
            raise ResultsError(_unknown(slos, key))
        number = figure(key, value)
        if metric in figures and figures[metric][0] != number:
            other = figures[metric][1]
            raise ResultsError(
                f"{other!r} and {key!r} both give {metric} but differ"
                f" ({figures[metric][0]} vs {number})"
            )
        figures[metric] = (number, key)
    return figures


def _unknown(slos: SloConfig, key: str) -> str:
    names = [*slos.metrics, *slos.aliases]
    close = difflib.get_close_matches(key, names, n=1)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return f"unknown metric {key!r}: not a metric or alias in {slos.source}{hint}"
