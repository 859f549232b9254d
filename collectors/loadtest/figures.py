"""What one load test measured: figures per stage, scenario and endpoint, series and a run.

    measured = measure(plan, result, stages, window_s=1.0)
    measured.figures.to_json()     # the `--json` object's measured part
    measured.summaries, measured.histograms, measured.series   # as the store keeps them

Latency is from each request's due time (coordinated omission corrected) and, separately,
from its send; percentiles are read from HdrHistograms. A request without an answer (a failed
connection, no answer in time) and a non-2xx answer are errors; a request never sent before
the time bound is counted as not sent (and as an error).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt

from collectors.bench.figures import LatencyView, Outcome, ScheduleLag, Verdict
from collectors.bench.trust import TrustInputs, trust_reasons
from collectors.loadtest.plan import LoadPlan
from collectors.loadtest.result import LoadTestResult
from collectors.loadtest.schedule import Stage
from collectors.store.model import Histogram, Point, Summary
from collectors.store.summarise import summarise

__all__ = [
    "ALL",
    "GroupFigures",
    "LoadTestFigures",
    "Measured",
    "StageFigures",
    "Windows",
    "measure",
    "scenario_summary_name",
]

ALL = "all requests"
Bools = npt.NDArray[np.bool_]
Floats = npt.NDArray[np.float64]


def scenario_summary_name(scenario: str) -> str:
    return f"scenario:{scenario}"


@dataclass(frozen=True, slots=True)
class GroupFigures:
    """A scenario's or an endpoint's figures."""

    name: str
    planned_share: float  # 0..1 of all requests
    achieved_share: float
    requests: int
    errors: int
    achieved_rate: float  # requests sent per second of the run
    latency: LatencyView | None  # None: no answer at all
    service_time: LatencyView | None
    endpoints: tuple[GroupFigures, ...] = ()

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "planned_share": round(self.planned_share, 4),
            "achieved_share": round(self.achieved_share, 4),
            "requests": self.requests,
            "errors": self.errors,
            "achieved_rate": self.achieved_rate,
            "latency_ms": None if self.latency is None else self.latency.to_json(),
            "service_time_ms": None if self.service_time is None else self.service_time.to_json(),
        }
        if self.endpoints:
            out["endpoints"] = {e.name: e.to_json() for e in self.endpoints}
        return out


@dataclass(frozen=True, slots=True)
class StageFigures:
    stage: Stage
    requests: int
    errors: int
    achieved_rate: float  # requests sent per second of the stage
    completed_rps: float  # 2xx answers arriving per second of the stage
    latency: LatencyView | None
    met: bool | None = None  # steps: whether the step met the capacity targets
    not_sent: int = 0  # due in the stage but never sent before the time bound

    @property
    def error_rate_pct(self) -> float:
        """Errors and requests never sent, of the requests due in the stage (%)."""
        due = self.requests + self.not_sent
        return (self.errors + self.not_sent) / due * 100 if due else 0.0

    def to_json(self) -> dict[str, Any]:
        out = self.stage.to_json() | {
            "requests": self.requests,
            "errors": self.errors,
            "not_sent": self.not_sent,
            "error_rate_pct": round(self.error_rate_pct, 4),
            "achieved_rate": self.achieved_rate,
            "completed_rps": self.completed_rps,
            "latency_ms": None if self.latency is None else self.latency.to_json(),
        }
        if self.met is not None:
            out["met"] = self.met
        return out


@dataclass(frozen=True, slots=True)
class Windows:
    """Client figures per window of due time."""

    window_s: float
    start: Floats
    requests: npt.NDArray[np.int64]
    errors: npt.NDArray[np.int64]
    completed: npt.NDArray[np.int64]  # 2xx answers by arrival time
    p99_ms: Floats  # NaN where nothing was answered


@dataclass(frozen=True, slots=True, kw_only=True)
class LoadTestFigures(Outcome):
    profile: str
    pattern: str
    scale: float
    engine: str
    target: str
    planned_requests: int
    requests: int  # sent
    errors: int  # non-2xx, no answer, or never sent
    not_sent: int
    duration_s: float
    window_s: float
    status_counts: dict[str, int]
    refusals: int  # 429 and 503
    refusals_with_retry_after: int
    timeouts: int
    other_5xx: int
    latency: LatencyView | None
    service_time: LatencyView | None
    stages: tuple[StageFigures, ...]
    scenarios: tuple[GroupFigures, ...]
    generator_cpu_pct: float
    schedule_lag: ScheduleLag
    order_ids_acknowledged: int
    crossed_books_seen: int
    workers: tuple[dict[str, Any], ...] = ()
    stopped_early_after: str | None = None
    # filled in once judged (pincex loadtest run): plain JSON from planning and the checks
    verdicts: tuple[dict[str, Any], ...] = ()
    passed: bool | None = None
    preflight: tuple[dict[str, Any], ...] = ()
    invariants: tuple[dict[str, Any], ...] | None = None
    analysis: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "profile": self.profile,
            "pattern": self.pattern,
            "scale": self.scale,
            "engine": self.engine,
            "target": self.target,
            "planned_requests": self.planned_requests,
            "requests": self.requests,
            "errors": self.errors,
            "not_sent": self.not_sent,
            "duration_s": self.duration_s,
            "window_s": self.window_s,
            "status_counts": dict(self.status_counts),
            "refusals": {
                "count": self.refusals,
                "with_retry_after": self.refusals_with_retry_after,
                "timeouts": self.timeouts,
                "other_5xx": self.other_5xx,
            },
            "latency_ms": None if self.latency is None else self.latency.to_json(),
            "service_time_ms": None if self.service_time is None else self.service_time.to_json(),
            "stages": [s.to_json() for s in self.stages],
            "scenarios": {s.name: s.to_json() for s in self.scenarios},
        }
        if self.pattern == "steps":
            out["steps"] = [s.to_json() for s in self.stages if s.stage.kind == "step"]
            out["stopped_early_after"] = self.stopped_early_after
        out |= {
            "verdicts": list(self.verdicts),
            "passed": bool(self.passed) and self.verdict.trusted,
            **self.verdict.to_json(),
            "preflight": list(self.preflight),
            "invariants": None if self.invariants is None else list(self.invariants),
            "analysis": self.analysis,
            "generator_cpu_pct": self.generator_cpu_pct,
            "schedule_lag_ms": self.schedule_lag.to_json(),
            "orders_acknowledged": self.order_ids_acknowledged,
            "crossed_books_seen": self.crossed_books_seen,
        }
        if self.workers:
            out["workers"] = list(self.workers)
        out |= self.extra
        return out | self.outcome_json()


@dataclass(frozen=True)
class Measured:
    figures: LoadTestFigures
    summaries: list[Summary]
    histograms: list[Histogram]
    series: list[Point]
    windows: Windows


def _view(values_ms: Floats) -> LatencyView | None:
    if not len(values_ms):
        return None
    summary, _ = summarise("x", values_ms * 1000.0, None, errors=0, duration_s=1.0)
    return LatencyView.of(summary.latency)


class _Groups:
    """Figures of groups of the result's requests (all, a scenario, an endpoint); each group's
    summary and histograms are collected for the run as they are made."""

    def __init__(self, result: LoadTestResult, elapsed: float) -> None:
        self.lat, self.svc = result.latency_ms(), result.service_ms()
        self.ok, self.answered = result.ok, result.answered
        self.elapsed, self.total = elapsed, len(result)
        self.summaries: list[Summary] = []
        self.histograms: list[Histogram] = []

    def figures(
        self,
        name: str,
        mask: Bools,
        planned_share: float,
        endpoints: tuple[GroupFigures, ...] = (),
        shown: str | None = None,
    ) -> GroupFigures:
        """The figures of the requests in `mask`, their summary named `name` (`shown`: the
        name the figures carry, when not `name`)."""
        ok, elapsed = self.ok, self.elapsed
        requests = int(mask.sum())
        errors = int((mask & ~ok).sum())
        got = mask & self.answered
        summary, hists = summarise(
            name, self.lat[got] * 1000.0, self.svc[got] * 1000.0, errors=errors,
            duration_s=elapsed,
        )  # fmt: skip
        completed = float((mask & ok).sum()) / elapsed if elapsed > 0 else 0.0
        self.summaries.append(
            Summary(summary.name, requests, errors, completed, summary.latency, summary.service)
        )
        self.histograms.extend(hists)
        has = bool(got.any())
        return GroupFigures(
            name=shown or name,
            planned_share=planned_share,
            achieved_share=requests / self.total if self.total else 0.0,
            requests=requests,
            errors=errors,
            achieved_rate=round(requests / elapsed, 2) if elapsed > 0 else 0.0,
            latency=LatencyView.of(summary.latency) if has else None,
            service_time=LatencyView.of(summary.service) if has and summary.service else None,
            endpoints=endpoints,
        )


def windows(result: LoadTestResult, window_s: float, duration: float) -> Windows:
    n = max(1, int(np.ceil(duration / window_s - 1e-9)))
    lat = result.latency_ms()
    ok = result.ok
    bins = np.clip((result.due / window_s).astype(np.int64), 0, n - 1)
    requests = np.bincount(bins, minlength=n)[:n]
    errors = np.bincount(bins, weights=(~ok).astype(np.float64), minlength=n)[:n]
    arrived = np.clip((np.nan_to_num(result.done[ok]) / window_s).astype(np.int64), 0, n - 1)
    completed = np.bincount(arrived, minlength=n)[:n]
    p99 = np.full(n, np.nan)
    answered = result.answered
    order = np.argsort(bins[answered], kind="stable")
    sorted_bins = bins[answered][order]
    sorted_lat = lat[answered][order]
    edges = np.searchsorted(sorted_bins, np.arange(n + 1))
    for k in range(n):
        a, b = edges[k], edges[k + 1]
        if b > a:
            p99[k] = float(np.percentile(sorted_lat[a:b], 99))
    return Windows(
        window_s,
        np.arange(n, dtype=np.float64) * window_s,
        requests.astype(np.int64),
        errors.astype(np.int64),
        completed.astype(np.int64),
        p99,
    )


def _series(result: LoadTestResult, plan: LoadPlan, w: Windows) -> list[Point]:
    points: list[Point] = []

    def add(name: str, values: Floats | npt.NDArray[np.int64], per_s: bool) -> None:
        for t, v in zip(w.start, values, strict=True):
            if not np.isnan(v):
                value = float(v) / w.window_s if per_s else float(v)
                points.append(Point("client", name, round(float(t), 3), value))

    add("requests_per_s", w.requests, True)
    add("errors_per_s", w.errors, True)
    add("completed_per_s", w.completed, True)
    add("latency_p99_ms", w.p99_ms, False)
    for scenario in plan.scenarios:
        ids = [i for i, r in enumerate(plan.routes) if r.scenario == scenario]
        part = _subset(result, np.isin(result.route, ids))
        ws = windows(part, w.window_s, float(len(w.start)) * w.window_s)
        add(f"requests_per_s:{scenario}", ws.requests, True)
        add(f"errors_per_s:{scenario}", ws.errors, True)
        add(f"latency_p99_ms:{scenario}", ws.p99_ms, False)
    return points


def _subset(result: LoadTestResult, mask: Bools) -> LoadTestResult:
    return replace(
        result,
        route=result.route[mask],
        due=result.due[mask],
        sent=result.sent[mask],
        done=result.done[mask],
        status=result.status[mask],
        retry_after=result.retry_after[mask],
        timed_out=result.timed_out[mask],
    )


def stage_figures(result: LoadTestResult, stage: Stage, dues: Floats | None = None) -> StageFigures:
    """A stage's figures; with the schedule's `dues`, the requests due in the stage that were
    never sent (a generator held back by a saturated server) are counted too."""
    mask = (result.due >= stage.start) & (result.due < stage.end)
    not_sent = 0
    if dues is not None and not result.aborted:
        planned = int(np.searchsorted(dues, stage.end) - np.searchsorted(dues, stage.start))
        not_sent = max(0, planned - int(mask.sum()))
    ok = result.ok
    seconds = max(stage.seconds, 1e-9)
    done = np.nan_to_num(result.done, nan=-1.0)
    completed = int((ok & (done >= stage.start) & (done < stage.end)).sum())
    got = mask & result.answered
    return StageFigures(
        stage=stage,
        requests=int(mask.sum()),
        errors=int((mask & ~ok).sum()),
        achieved_rate=round(float(mask.sum()) / seconds, 2),
        completed_rps=round(completed / seconds, 2),
        latency=_view(result.latency_ms()[got]),
        not_sent=not_sent,
    )


def measure(
    plan: LoadPlan,
    result: LoadTestResult,
    stages: tuple[Stage, ...],
    *,
    profile: str,
    pattern: str,
    scale: float,
    planned: int,
    window_s: float = 1.0,
    step_met: dict[str, bool] | None = None,
    stopped_early_after: str | None = None,
    dues: Floats | None = None,
) -> Measured:
    """The figures, summaries, histograms and series of a load test's result (`dues`: the
    schedule's due times, to count the requests never sent per stage)."""
    ok = result.ok
    duration = max((s.end for s in stages), default=result.elapsed)
    groups = _Groups(result, max(duration, 1e-9))
    total = len(result)
    headline = groups.figures(ALL, np.ones(total, dtype=np.bool_), 1.0)
    scenarios = []
    for scenario in plan.scenarios:
        ids = [i for i, r in enumerate(plan.routes) if r.scenario == scenario]
        endpoints = tuple(
            groups.figures(plan.routes[i].name, result.route == i, plan.routes[i].share)
            for i in ids
        )
        share = sum(plan.routes[i].share for i in ids)
        scenarios.append(
            groups.figures(
                scenario_summary_name(scenario), np.isin(result.route, ids), share, endpoints,
                shown=scenario,
            )
        )  # fmt: skip
    stage_figs = []
    for stage in stages:
        figs = stage_figures(result, stage, dues)
        if step_met is not None and stage.name in step_met:
            figs = replace(figs, met=step_met[stage.name])
        stage_figs.append(figs)
    w = windows(result, window_s, duration)
    status_counts: dict[str, int] = {}
    codes, counts = np.unique(result.status, return_counts=True)
    for code, count in zip(codes, counts, strict=True):
        status_counts[str(int(code))] = int(count)
    refused = (result.status == 429) | (result.status == 503)
    # the rate asked of the stages run (a stress run stopped early ran fewer than planned)
    elapsed = groups.elapsed
    asked = sum(s.planned for s in stages) or planned
    trust = TrustInputs(
        generator_cpu_pct=result.generator_cpu_pct,
        target_rate=asked / elapsed,
        achieved_rate=total / elapsed if not result.aborted else asked / elapsed,
        samples=int(result.answered.sum()),
        error_rate=0.0,  # a load test judges its errors in its verdicts
        highest_claimed=99.0,
        schedule_lag_p99_ms=result.schedule_lag_p99 * 1000,
        schedule_lag_max_ms=result.schedule_lag_max * 1000,
    )
    figures = LoadTestFigures(
        profile=profile,
        pattern=pattern,
        scale=scale,
        engine=result.engine,
        target=plan.target,
        planned_requests=planned,
        requests=total,
        errors=int((~ok).sum()) + result.not_sent,
        not_sent=result.not_sent,
        duration_s=round(duration, 3),
        window_s=window_s,
        status_counts=status_counts,
        refusals=int(refused.sum()),
        refusals_with_retry_after=int((refused & result.retry_after).sum()),
        timeouts=int(result.timed_out.sum()),
        other_5xx=int(((result.status >= 500) & (result.status != 503)).sum()),
        latency=headline.latency,
        service_time=headline.service_time,
        stages=tuple(stage_figs),
        scenarios=tuple(scenarios),
        generator_cpu_pct=result.generator_cpu_pct,
        schedule_lag=ScheduleLag(
            round(result.schedule_lag_p99 * 1000, 3), round(result.schedule_lag_max * 1000, 3)
        ),
        order_ids_acknowledged=len(result.order_ids),
        crossed_books_seen=result.crossed_books,
        workers=tuple(w_.to_json() for w_ in result.workers),
        stopped_early_after=stopped_early_after,
        verdict=Verdict(tuple(trust_reasons(trust)), tuple(_warnings(result))),
        aborted=result.aborted,
    )
    return Measured(figures, groups.summaries, groups.histograms, _series(result, plan, w), w)


def _warnings(result: LoadTestResult) -> list[str]:
    out = []
    if result.aborted:
        out.append(
            f"aborted (interrupted): the figures cover the {len(result)} requests sent before it"
        )
    if result.not_sent:
        out.append(f"{result.not_sent} requests were never sent before the time bound")
    if result.errors:
        out.append(f"{len(result.errors)} connection errors, first: {result.errors[0]}")
    missing = [w for w in result.workers if w.missing_s is not None]
    for w in missing:
        out.append(f"Locust worker {w.id} ({w.host}) went missing at {w.missing_s:.1f} s")
    return out
