"""Factories for load-test measures: literal series and stages, the rest defaulted."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any

from planning.loadtest.measures import InvariantCheck, LoadTestMeasures, StageMeasure, WindowSeries


def series(
    p99: Sequence[float | None],
    *,
    window_s: float = 1.0,
    start: float = 0.0,
    requests: int | Sequence[int] = 100,
    errors: int | Sequence[int] = 0,
    completed: int | Sequence[int] | None = None,
) -> WindowSeries:
    """One window per p99 value, from `start`, each `window_s` long."""
    n = len(p99)

    def each(v: int | Sequence[int]) -> tuple[int, ...]:
        return tuple(v) if isinstance(v, Sequence) else (v,) * n

    reqs = each(requests)
    errs = each(errors)
    done = (
        each(completed)
        if completed is not None
        else tuple(r - e for r, e in zip(reqs, errs, strict=True))
    )
    return WindowSeries(
        window_s=window_s,
        start=tuple(start + i * window_s for i in range(n)),
        requests=reqs,
        errors=errs,
        completed=done,
        p99_ms=tuple(p99),
    )


def stage(
    kind: str,
    start: float,
    end: float,
    rate: float,
    *,
    index: int = 0,
    p95: float | None = 5.0,
    p99: float | None = 10.0,
    errors: int = 0,
    completed_rps: float | None = None,
) -> StageMeasure:
    requests = int(rate * (end - start))
    name = f"{kind} {index}" if kind in ("spike", "step") else kind
    done = completed_rps if completed_rps is not None else (requests - errors) / (end - start)
    return StageMeasure(name, kind, start, end, rate, requests, errors, done, p95, p99)


def measures(
    profile: str,
    stages: Sequence[StageMeasure],
    windows: WindowSeries,
    **overrides: Any,
) -> LoadTestMeasures:
    """Totals summed from the stages; p95/p99 the worst stage's."""
    p95s = [s.p95_ms for s in stages if s.p95_ms is not None]
    p99s = [s.p99_ms for s in stages if s.p99_ms is not None]
    base = LoadTestMeasures(
        profile=profile,
        pattern={"stress": "steps", "spike": "spike"}.get(profile, "ramp"),
        scale=1.0,
        rate=max((s.planned_rate for s in stages), default=0.0),
        requests=sum(s.requests for s in stages),
        errors=sum(s.errors for s in stages),
        p95_ms=max(p95s, default=None),
        p99_ms=max(p99s, default=None),
        stages=tuple(stages),
        series=windows,
        status_counts={"200": sum(s.requests - s.errors for s in stages)},
    )
    return replace(base, **overrides)


def ramp_run(
    profile: str = "baseline",
    *,
    rate: float = 100.0,
    hold_p99: Sequence[float | None] | None = None,
    p95: float = 5.0,
    p99: float = 10.0,
    errors: int = 0,
    completed: int | Sequence[int] | None = None,
    completed_rps: float | None = None,
    **overrides: Any,
) -> LoadTestMeasures:
    """Ramp-up 0-10 s, hold 10-70 s, ramp-down 70-75 s; one 1 s window per second of the hold
    (`hold_p99`, default flat at `p99`), the ramps' windows flat too."""
    hold_values = list(hold_p99) if hold_p99 is not None else [p99] * 60
    values = [p99] * 10 + hold_values + [p99] * 5
    per_window = int(rate)
    done: int | list[int]
    if completed is None:
        done = per_window
    elif isinstance(completed, int):
        done = [per_window] * 10 + [completed] * len(hold_values) + [per_window] * 5
    else:
        done = [per_window] * 10 + list(completed) + [per_window] * 5
    stages = [
        stage("ramp-up", 0, 10, rate / 2),
        stage("hold", 10, 70, rate, p95=p95, p99=p99, errors=errors, completed_rps=completed_rps),
        stage("ramp-down", 70, 75, rate / 2),
    ]
    return measures(
        profile, stages, series(values, requests=per_window, completed=done), **overrides
    )


def invariants(*failed: str) -> tuple[InvariantCheck, ...]:
    names = ("orders_present", "funds_conserved", "no_negative_balance", "no_overfill")
    return tuple(
        InvariantCheck(n, n not in failed, "checked 100 orders" if n not in failed else "3 wrong")
        for n in names
    )
