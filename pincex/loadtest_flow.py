"""`pincex loadtest run` from start to end: the collectors measure, planning judges, the store
keeps; here the three meet (the one layer that may import them all).

    options = LoadTestOptions(profile="baseline", target=url, scale=0.1, admin_key=key)
    figures = run_loadtest(options, store_path)        # judged, analysed, kept
    figures.to_json()

Steps: the profile (scaled, overridden) -> its schedule -> the preflight checklist -> users
seeded and an audit snapshot taken (against the exchange) -> the load, on our engine or Locust,
stress step by step -> the server's /metrics watched throughout -> figures -> the invariants
audited -> verdicts from slo.yaml -> the post-test analysis against the pinned baseline -> the
run kept with all of it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace

import httpx
import pandas as pd

from collectors.bench.admin import AdminClient
from collectors.bench.runs import kept, measured_run
from collectors.bench.server_sources import NO_SOURCES, ServerSources
from collectors.bench.server_watch import ServerWatch, server_points, server_summary
from collectors.loadtest.config import LoadTestConfig, Profile, load_loadtest_config
from collectors.loadtest.engine import run_ours
from collectors.loadtest.figures import (
    ALL,
    LoadTestFigures,
    Measured,
    StageFigures,
    measure,
    stage_figures,
)
from collectors.loadtest.invariants import AuditClient
from collectors.loadtest.plan import LoadPlan
from collectors.loadtest.preflight import Preflight, preflight
from collectors.loadtest.result import LoadTestResult
from collectors.loadtest.schedule import Schedule, Stage, constant_schedule, schedule_for
from collectors.scrape import ScrapeResult
from collectors.settings import get_settings, resolve_store_path
from collectors.store.model import Histogram, Run, Summary
from collectors.store.store import RunStore
from common.redact import mask_url
from planning.capacity.config import load_config as load_capacity_config
from planning.loadtest.analysis import analyse
from planning.loadtest.baseline import RunFigures
from planning.loadtest.measures import (
    InvariantCheck,
    LoadTestMeasures,
    StageMeasure,
    WindowSeries,
)
from planning.loadtest.stress import step_misses
from planning.loadtest.verdict import LoadVerdicts
from planning.loadtest.verdicts import judge
from planning.run_slo import RunFacts, run_figures
from planning.slo import SloConfig, load_config

__all__ = [
    "CUSTOM",
    "KIND",
    "LoadTestOptions",
    "LoadTestSetup",
    "PreflightRefused",
    "check_preflight",
    "prepare",
    "run_loadtest",
    "step_meets",
]

CUSTOM = "custom"  # the profile name of a run without --profile
KIND = "loadtest"  # the kind of run a load test is kept as


@dataclass(frozen=True, slots=True)
class LoadTestOptions:
    target: str  # checked base URL
    profile: str | None = None
    scale: float = 1.0
    rate: float | None = None  # total requests per second, after scaling
    duration: float | None = None  # seconds, after scaling (every duration follows)
    engine: str = "ours"
    workers: int = 1  # Locust workers started here
    remote_workers: int = 0  # Locust workers to wait for from other machines
    master_bind: str = "127.0.0.1"  # the Locust master's address (remote workers reach it)
    master_port: int = 0  # 0: a free port
    admin_key: str | None = None
    users: int = 8
    connections: int = 64
    seed: int = 1
    config_path: str | None = None
    slo_path: str | None = None
    force: bool = False
    scrape_interval: float = 1.0
    sources: ServerSources = NO_SOURCES
    label: str = "unlabelled"
    tags: tuple[str, ...] = ()


@dataclass(frozen=True)
class LoadTestSetup:
    """The run as planned: the config, the profile as it will run, its schedule."""

    config: LoadTestConfig
    slos: SloConfig
    profile: Profile
    schedule: Schedule
    total_rate: float | None  # None: each scenario at its own rps
    scale: float
    rate_scale: float = 1.0  # the profile's rates as run / as configured
    time_scale: float = 1.0  # the profile's durations as run / as configured


def _custom_profile(config: LoadTestConfig) -> Profile:
    rate = sum(r for _, _, r in config.rates(None))
    return Profile(
        CUSTOM,
        "ramp",
        rate,
        config.test_duration,
        ramp_up=config.ramp_up_time,
        ramp_down=config.ramp_down_time,
    )


def prepare(options: LoadTestOptions) -> LoadTestSetup:
    """Read the configs and shape the run; a config error (LoadTestConfigError, SloError)
    says which file and line."""
    config = load_loadtest_config(options.config_path)
    slos = load_config(options.slo_path)
    if options.profile is None:
        profile = _custom_profile(config)
        total: float | None = None if options.rate is None else options.rate
    else:
        profile = config.profile(options.profile)
        slos.profile(options.profile)  # a profile slo.yaml does not know is refused early
        total = profile.rate * options.scale
    profile = profile.scaled(options.scale) if options.scale != 1.0 else profile
    if options.rate is not None:
        profile = profile.rescaled(rates=options.rate / profile.rate)
        total = options.rate
    elif options.profile is None:
        total = None if options.scale == 1.0 else profile.rate
    if options.duration is not None:
        profile = profile.rescaled(durations=options.duration / profile.duration)
    base = _custom_profile(config) if options.profile is None else config.profile(options.profile)
    return LoadTestSetup(
        config,
        slos,
        profile,
        schedule_for(profile),
        total,
        options.scale,
        rate_scale=profile.rate / base.rate,
        time_scale=profile.duration / base.duration,
    )


def window_for(setup: LoadTestSetup) -> float:
    """The series' window: a second, shorter when the run's durations were scaled down (at
    least 50 ms)."""
    return float(min(1.0, max(0.05, round(setup.time_scale, 3))))


def step_meets(slos: SloConfig, profile: str, step: StageFigures) -> bool:
    """Whether a stress step met `profile`'s latency and error targets (p95, p99, errors)."""
    return not step_misses(slos, profile, _stage_measure(step))


def _stage_measure(s: StageFigures) -> StageMeasure:
    """A stage's figures as planning reads them; a request never sent is an error of its
    stage."""
    return StageMeasure(
        name=s.stage.name,
        kind=s.stage.kind,
        start=s.stage.start,
        end=s.stage.end,
        planned_rate=(s.stage.rate_from + s.stage.rate_to) / 2,
        requests=s.requests + s.not_sent,
        errors=s.errors + s.not_sent,
        completed_rps=s.completed_rps,
        p95_ms=None if s.latency is None else s.latency.p95,
        p99_ms=None if s.latency is None else s.latency.p99,
    )


def mid_price(target: str, symbol: str) -> float | None:
    """The exchange's mid (best bid and ask), else its last price; None when it has neither."""
    try:
        r = httpx.get(f"{target}/api/v1/market/ticker", params={"symbol": symbol}, timeout=5)
        t = r.json() if r.status_code == 200 else {}
    except (httpx.HTTPError, ValueError):
        return None
    bid, ask, last = t.get("bestBid"), t.get("bestAsk"), t.get("lastPrice")
    if bid and ask:
        return (float(bid) + float(ask)) / 2
    return float(last) if last else None


def run_steps(
    plan: LoadPlan,
    setup: LoadTestSetup,
    progress: Callable[[float, float], None] | None,
) -> tuple[LoadTestResult, tuple[Stage, ...], dict[str, bool], str | None]:
    """Stress on our engine: one step at a time, each judged as it ends; after
    `stop_after_missed` steps in a row missed the capacity targets, the rest are not run."""
    profile = setup.profile
    parts: list[LoadTestResult] = []
    offsets: list[float] = []
    run: list[Stage] = []
    met: dict[str, bool] = {}
    missed_in_row = 0
    sent = 0
    stopped = None
    for stage in setup.schedule.stages:
        dues = constant_schedule(stage.rate_to, stage.seconds, "step").due_times()
        part = run_ours(plan, dues, progress, first_index=sent)
        sent += len(dues)
        parts.append(part)
        offsets.append(stage.start)
        run.append(stage)
        figures = stage_figures(part.shifted(stage.start), stage, dues + stage.start)
        met[stage.name] = step_meets(setup.slos, profile.capacity_profile, figures)
        missed_in_row = 0 if met[stage.name] else missed_in_row + 1
        if part.aborted:
            break
        if profile.stop_after_missed and missed_in_row >= profile.stop_after_missed:
            if stage is not setup.schedule.stages[-1]:
                stopped = stage.name
            break
    return LoadTestResult.joined(parts, offsets), tuple(run), met, stopped


@dataclass(frozen=True)
class Executed:
    setup: LoadTestSetup
    plan: LoadPlan
    result: LoadTestResult
    measured: Measured
    server: ScrapeResult | None


def execute(
    setup: LoadTestSetup,
    options: LoadTestOptions,
    keys: tuple[str, ...],
    progress: Callable[[float, float], None] | None = None,
) -> Executed:
    """Send the load and measure it (no judging)."""
    mid = mid_price(options.target, setup.config.symbol) if keys else None
    plan = LoadPlan.build(
        setup.config,
        setup.total_rate,
        setup.schedule,
        options.target,
        symbol=setup.config.symbol,
        keys=keys,
        mid_price=mid or 50_000.0,
        seed=options.seed,
        connections=options.connections,
        timeout=setup.config.definitions.timeout,
    )
    watch = ServerWatch(options.target, options.scrape_interval, options.sources).start()
    stages = setup.schedule.stages
    met: dict[str, bool] | None = None
    stopped = None
    try:
        if options.engine == "locust":
            from collectors.loadtest.locust_engine import run_locust

            result = run_locust(
                plan,
                options.workers + options.remote_workers,
                local_workers=options.workers,
                bind_host=options.master_bind,
                port=options.master_port,
                join_timeout=30.0 if not options.remote_workers else 300.0,
                progress=progress,
            )
        elif setup.profile.pattern == "steps":
            result, stages, met, stopped = run_steps(plan, setup, progress)
        else:
            result = run_ours(plan, None, progress)
    finally:
        server = watch.stop()
    dues = setup.schedule.due_times()
    if options.engine == "locust" and setup.profile.pattern == "steps":
        met = {}
        for stage in stages:
            met[stage.name] = step_meets(
                setup.slos, setup.profile.capacity_profile, stage_figures(result, stage, dues)
            )
    measured = measure(
        plan,
        result,
        stages,
        profile=setup.profile.name,
        pattern=setup.profile.pattern,
        scale=setup.scale,
        planned=len(dues),
        window_s=window_for(setup),
        step_met=met,
        stopped_early_after=stopped,
        dues=dues,
    )
    if server is not None:
        measured = replace(
            measured, figures=replace(measured.figures, server=server_summary(server))
        )
    return Executed(setup, plan, result, measured, server)


def seed(options: LoadTestOptions, symbol: str) -> tuple[str, ...]:
    """Funded users on the exchange (with an admin key); none against any other server."""
    if not options.admin_key:
        return ()
    return tuple(
        AdminClient(options.target, options.admin_key).seed_users(options.users, symbol, "loadtest")
    )


def queue_depth(server: ScrapeResult | None) -> tuple[tuple[float, float], ...] | None:
    if server is None:
        return None
    points = server.series("queue_depth")
    return tuple((float(t), float(v)) for t, v in points) if points else None


def to_measures(
    executed: Executed,
    invariants: tuple[InvariantCheck, ...] | None,
) -> LoadTestMeasures:
    """The measured figures as planning reads them."""
    f = executed.measured.figures
    w = executed.measured.windows
    profile = executed.setup.profile
    stages = tuple(_stage_measure(s) for s in f.stages)
    series = WindowSeries(
        window_s=w.window_s,
        start=tuple(float(x) for x in w.start),
        requests=tuple(int(x) for x in w.requests),
        errors=tuple(int(x) for x in w.errors),
        completed=tuple(int(x) for x in w.completed),
        p99_ms=tuple(None if x != x else float(x) for x in w.p99_ms),
    )
    return LoadTestMeasures(
        profile=profile.name,
        pattern=profile.pattern,
        scale=executed.setup.scale,
        rate=profile.rate,
        requests=f.requests + f.not_sent,
        errors=f.errors,
        p95_ms=None if f.latency is None else f.latency.p95,
        p99_ms=None if f.latency is None else f.latency.p99,
        stages=stages,
        series=series,
        status_counts=dict(f.status_counts),
        refusals=f.refusals,
        refusals_with_retry_after=f.refusals_with_retry_after,
        timeouts=f.timeouts,
        other_5xx=f.other_5xx,
        spike_rate=profile.spike_rate,
        invariants=invariants,
        crossed_books_seen=f.crossed_books_seen,
        queue_depth=queue_depth(executed.server),
        stopped_early_after=f.stopped_early_after,
        trusted=f.verdict.trusted,
        trust_reasons=f.verdict.trust_reasons,
        rate_scale=executed.setup.rate_scale,
        time_scale=executed.setup.time_scale,
        capacity_profile=profile.capacity_profile,
    )


class PreflightRefused(Exception):
    """A preflight check failed and the run was not forced (the command prints the list)."""

    def __init__(self, preflight: Preflight) -> None:
        failed = [c.name for c in preflight.checks if c.status == "fail"]
        super().__init__(
            "not started: preflight failed (" + ", ".join(failed) + "); fix it or pass --force"
        )
        self.preflight = preflight


def check_preflight(
    target: str,
    profile: str,
    admin_key: str | None,
    prometheus_url: str | None,
    store_path: str | None,
    config_path: str | None,
    keys: tuple[str, ...] = (),
) -> Preflight:
    """The pre-test checklist against `target` for `profile`."""
    config = load_loadtest_config(config_path)
    if profile != CUSTOM:
        config.profile(profile)
    return preflight(
        target,
        admin_key=admin_key or "",
        profile=profile,
        store_path=str(resolve_store_path(store_path)),
        prometheus_url=prometheus_url or get_settings().prometheus_url or None,
        definitions=config.definitions,
        keys=keys,
    )


def _baseline_sides(store_path: str | None, profile: str) -> tuple[str, Run] | None:
    """The pinned baseline run of the profile, when the store has one."""
    if store_path is None:
        return None
    store = RunStore(store_path)
    if not store.exists():
        return None
    run_id = store.baselines().get((KIND, profile))
    return None if run_id is None else (run_id, store.get(run_id))


def run_loadtest(
    options: LoadTestOptions,
    store_path: str | None,
    progress: Callable[[float, float], None] | None = None,
    setup: LoadTestSetup | None = None,
) -> LoadTestFigures:
    """The whole load test: planned (unless `setup` was prepared already), checked, sent,
    measured, audited, judged, analysed and kept (when `store_path`). PreflightRefused when a
    check failed without `force`."""
    setup = setup or prepare(options)
    keys = seed(options, setup.config.symbol)
    checklist = check_preflight(
        options.target,
        setup.profile.name,
        options.admin_key,
        None,
        store_path,
        options.config_path,
        keys,
    )
    if not checklist.passed and not options.force:
        raise PreflightRefused(checklist)
    audit = AuditClient(options.target, options.admin_key) if options.admin_key else None
    snapshot = audit.snapshot() if audit is not None else None
    executed = execute(setup, options, keys, progress)
    invariants = None
    if audit is not None and snapshot is not None:
        found = audit.check(snapshot, executed.result.order_ids)
        invariants = tuple(InvariantCheck(c.name, c.passed, c.detail) for c in found)
    measures = to_measures(executed, invariants)
    judged = judge(setup.slos, setup.config.definitions, measures)
    baseline = _baseline_sides(store_path, setup.profile.name)
    analysis = analyse_run(executed, measures, judged, baseline)
    figures = replace(
        executed.measured.figures,
        verdicts=tuple(v.to_json() for v in judged.verdicts),
        passed=judged.passed,
        preflight=tuple(checklist.to_json()),
        invariants=None
        if invariants is None
        else tuple({"name": i.name, "passed": i.passed, "detail": i.detail} for i in invariants),
        analysis=analysis,
    )
    if store_path is None:
        return figures
    return kept(figures, store_path, build_run(executed, figures, options))


def build_run(executed: Executed, figures: LoadTestFigures, options: LoadTestOptions) -> Run:
    measured = executed.measured
    config = figures.to_json()
    return measured_run(
        kind=KIND,
        profile=executed.setup.profile.name,
        target=mask_url(options.target),
        label=options.label,
        tags=options.tags,
        started_at=executed.result.started_at,
        measured_s=figures.duration_s,
        config=config,
        verdict=figures.verdict,
        summaries=measured.summaries,
        histograms=measured.histograms,
        client_series=measured.series,
        server=executed.server,
        host={"generator_cpu_pct": figures.generator_cpu_pct},
        aborted=figures.aborted,
    )


def _run_figures(run_id: str, summaries: list[Summary], histograms: list[Histogram]) -> RunFigures:
    """A run's "all requests" figures as the baseline comparison reads them."""
    head = next(s for s in summaries if s.name == ALL)
    return RunFigures(
        run_id=run_id,
        requests=head.count,
        errors=head.errors,
        throughput_per_s=head.throughput_per_s,
        histograms={h.view: h.encoded for h in histograms if h.name == ALL},
    )


def server_figures(slos: SloConfig, executed: Executed) -> dict[str, float | None]:
    """The server's figures named as slo.yaml names them (CPU, memory, ...), from its /metrics."""
    points = server_points(executed.server, executed.result.started_at)
    if not points:
        return {}
    series = pd.DataFrame(
        [{"side": p.side, "name": p.series, "second": p.second, "value": p.value} for p in points]
    )
    found = run_figures(slos, RunFacts(KIND), pd.DataFrame(), series)
    return dict(found.values)


def analyse_run(
    executed: Executed,
    measures: LoadTestMeasures,
    judged: LoadVerdicts,
    baseline: tuple[str, Run] | None,
) -> dict[str, object]:
    """The post-test analysis: against the pinned baseline, the bottleneck, the
    recommendations and whether the capacity model should change."""
    setup = executed.setup
    measured = executed.measured
    this = _run_figures("this run", measured.summaries, measured.histograms)
    pinned = None
    if baseline is not None:
        run_id, run = baseline
        if any(s.name == ALL for s in run.summaries):
            pinned = _run_figures(run_id, run.summaries, run.histograms)
    orders = sum(r.share for r in executed.plan.routes if r.endpoint.path == "/api/v1/orders")
    analysis = analyse(
        measures,
        judged,
        setup.slos,
        setup.config.definitions,
        load_capacity_config(),
        run=this,
        baseline=pinned,
        server=server_figures(setup.slos, executed),
        order_share=orders or 1.0,
    )
    return analysis.to_json() | {"lines": analysis.lines()}
