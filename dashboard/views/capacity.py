"""Capacity: what-if growth, per-pod capacity (measured or typed in), headroom and unit costs;
pods, cores, memory, bandwidth and monthly cost, the runway of today's fleet, the USL curve of
the measured ramp and Erlang-C pods for a p99 target. The growth part needs no runs."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from collectors.store.frames import RunFilter
from dashboard import data, ui
from dashboard.charts.capacity import runway_chart, usl_chart
from planning import slo as slo_config
from planning.capacity import (
    CapacityConfig,
    ConfigError,
    Growth,
    load_config,
    powershell_number,
    scenario_growth,
    script_growth,
    script_lines,
)
from planning.ramp import Ramp
from planning.sizing import SizingError, size_pods
from planning.usl import Curve, USLFit
from planning.whatif import (
    Overrides,
    PodCapacity,
    capacity_from_best,
    capacity_from_fit,
    custom_growth,
    exhaustion_frame,
    fit_ramp,
    headroom_factor,
    headroom_percent,
    runway_frame,
    spec_capacity,
    usl_frame,
    what_if,
)

CONFIG = Path(__file__).resolve().parents[2] / "config" / "capacity.yaml"
ps = powershell_number
SOURCES = {
    "spec": "The specification's baseline",
    "best": "Measured: best rate meeting the p99",
    "fit": "Measured: USL fit (a range)",
    "typed": "Typed in",
}
RAMPS = {"orders": "Orders runs of one label", "steps": "Steps of a stress load test"}


def _money(value: float | None) -> str:
    return "open" if value is None else f"${ps(value)}"


def _span(low: float, high: float | None, money: bool = False) -> str:
    def show(value: float | None) -> str:
        if value is None:
            return "open (unreachable at the interval's low end)"
        return _money(value) if money else ps(value)

    return f"{show(low)} to {show(high)}"


def _growth_form(config: CapacityConfig) -> tuple[Growth, int]:
    s = config.script
    models = ["script", *config.scenarios, "custom"]
    with st.form("cap_growth_form"):
        st.markdown("**Growth**")
        model = st.radio(
            "Growth model",
            models,
            key="cap_model",
            format_func=lambda m: {
                "script": "The specification's script (one multiplier)",
                "custom": "Custom multipliers",
            }.get(m, f"{m.capitalize()} (capacity.yaml)"),
        )
        growth = st.number_input(
            "Growth multiplier over the horizon", 0.01, 1000.0, float(s.growth_multiplier), 0.5,
            key="cap_growth",
        )  # fmt: skip
        months = st.number_input("Months ahead", 1, 120, int(s.months_ahead), key="cap_months")
        st.caption("Custom multipliers over the horizon:")
        a, b = st.columns(2)
        orders = a.number_input("Orders volume ×", 0.01, 1000.0, 3.0, key="cap_c_orders")
        peak = b.number_input("Peak orders/s ×", 0.01, 1000.0, 3.0, key="cap_c_peak")
        conns = a.number_input("Connections ×", 0.01, 1000.0, 3.0, key="cap_c_conns")
        memory = b.number_input("Memory ×", 0.01, 1000.0, 3.0, key="cap_c_memory")
        st.form_submit_button("Apply growth", type="primary")
    if model == "script":
        return script_growth(growth), int(months)
    if model == "custom":
        return custom_growth(orders, conns, memory, peak), int(months)
    scenario = config.scenarios[model]
    return scenario_growth(scenario), scenario.months


def _capacity_form(
    s: object, labels: list[str], stress: dict[str, str]
) -> tuple[str, str, str | None, bool, float]:
    with st.form("cap_capacity_form"):
        st.markdown("**Per-pod capacity**")
        source = st.radio("Source", list(SOURCES), format_func=SOURCES.get, key="cap_source")
        ramp_from = st.radio("Ramp points", list(RAMPS), format_func=RAMPS.get, key="cap_ramp")
        label = st.selectbox(
            "Ramp label (orders runs)", labels or ["(no orders runs)"], key="cap_label"
        )
        picked = st.selectbox(
            "Stress run (its steps)", list(stress) or ["(no stress runs)"],
            format_func=lambda r: stress.get(r, r), key="cap_stress",
        )  # fmt: skip
        untrusted = st.checkbox("Count runs marked not trusted", key="cap_untrusted")
        typed = st.number_input(
            "Typed in, orders/s per pod", 1.0, 1e9, float(s.orders_per_pod), 100.0,  # type: ignore[attr-defined]
            key="cap_typed",
        )  # fmt: skip
        st.form_submit_button("Apply capacity", type="primary")
    if ramp_from == "steps":
        return source, ramp_from, (picked if stress else None), untrusted, typed
    return source, ramp_from, (label if labels else None), untrusted, typed


def _costs_form(config: CapacityConfig) -> Overrides:
    s = config.script
    with st.form("cap_costs_form"):
        st.markdown("**Headroom and unit costs**")
        a, b = st.columns(2)
        pods = a.number_input("Pods headroom %", 0.0, 1000.0, headroom_percent(s.pod_headroom),
                              key="cap_h_pods")  # fmt: skip
        cores = b.number_input("Cores headroom %", 0.0, 1000.0, headroom_percent(s.core_headroom),
                               key="cap_h_cores")  # fmt: skip
        mem = a.number_input("Memory headroom %", 0.0, 1000.0,
                             headroom_percent(s.memory_headroom), key="cap_h_memory")  # fmt: skip
        net = b.number_input("Bandwidth headroom %", 0.0, 1000.0,
                             headroom_percent(s.bandwidth_headroom), key="cap_h_net")  # fmt: skip
        pod = a.number_input("$ per pod", 0.0, 1e7, float(s.cost_per_pod), key="cap_cost_pod")
        core = b.number_input("$ per core", 0.0, 1e7, float(s.cost_per_core), key="cap_cost_core")
        gb = a.number_input("$ per GB memory", 0.0, 1e7, float(s.cost_per_gb), key="cap_cost_gb")
        mbps = b.number_input("$ per Mbps", 0.0, 1e7, float(s.cost_per_mbps), 0.01,
                              key="cap_cost_mbps")  # fmt: skip
        st.form_submit_button("Apply headroom and costs", type="primary")
    return Overrides(
        headroom_factor(pods), headroom_factor(cores), headroom_factor(mem),
        headroom_factor(net), pod, core, gb, mbps,
    )  # fmt: skip


def _measured(source: str, ramp: Ramp | None, fit: USLFit | None, untrusted: bool,
              typed: float, config: CapacityConfig) -> PodCapacity:  # fmt: skip
    if source == "typed":
        return PodCapacity(typed, "typed in")
    if source == "spec":
        return spec_capacity(config)
    chosen = None
    if ramp is not None:
        chosen = capacity_from_best(ramp, untrusted) if source == "best" else None
        chosen = capacity_from_fit(fit) if source == "fit" and fit is not None else chosen
    if chosen is None:
        why = {
            "best": "no run of the ramp met the p99 target"
            + ("" if untrusted else " among trusted runs (tick 'Count runs marked not trusted')"),
            "fit": "there is no USL fit of the ramp (see below)",
        }[source]
        st.warning(f"{SOURCES[source]}: {why}; the specification's baseline is used instead.")
        return spec_capacity(config)
    return chosen


def _results(config: CapacityConfig, growth: Growth, months: int, capacity: PodCapacity,
             overrides: Overrides) -> float:  # fmt: skip
    result = what_if(config, growth, months, capacity, overrides)
    plan, f = result.plan, result.plan.figures
    st.subheader(f"Plan: {growth.label} over {months} months")
    st.caption(f"Per pod: {capacity.value:,.6g} orders/s ({capacity.source}).")
    top, bottom = st.columns(3), st.columns(3)
    top[0].metric("Required pods", ps(f.required_pods))
    top[1].metric("Recommended pods", ps(f.recommended_pods))
    top[2].metric("Monthly cost", _money(f.total_cost))
    bottom[0].metric(
        "Database cores", ps(f.recommended_cores), help=f"required {ps(f.required_cores)}"
    )
    bottom[1].metric("Memory", f"{ps(f.recommended_memory_gb)} GB")
    bottom[2].metric("Bandwidth", f"{ps(f.recommended_bandwidth_mbps)} Mbps")
    if result.pods_range is not None and result.cost_range is not None:
        st.info(
            f"From the fit's 95 % interval ({capacity.low:,.6g} to {capacity.high:,.6g} orders/s "
            f"per pod): **{_span(*result.pods_range)} pods**, "
            f"**{_span(*result.cost_range, money=True)} a month**."
        )
    costs = pd.DataFrame(
        {"monthly cost": [_money(f.trading_engine_cost), _money(f.database_cost),
                          _money(f.network_cost), _money(f.total_cost)]},
        index=["trading engine", "database (cores + memory)", "network", "total"],
    )  # fmt: skip
    left, right = st.columns(2)
    left.dataframe(costs, width="stretch")
    with right.expander("The script's output and its known flaws"):
        st.code("\n".join(script_lines(plan)), language="text")
        st.markdown("\n".join(f"- {note}" for note in plan.notes))
    if plan.targets:
        st.dataframe(pd.DataFrame([t.__dict__ for t in plan.targets]), hide_index=True)
    st.plotly_chart(runway_chart(runway_frame(plan), months), width="stretch")
    st.dataframe(exhaustion_frame(plan).drop(columns="month"), hide_index=True)
    return f.projected_peak_orders_per_second


def _usl_section(view: ui.StoreView, ramp: Ramp | None, label: str | None,
                 fit: USLFit | None, reason: str | None, steps: bool) -> None:  # fmt: skip
    st.subheader("Measured per-pod capacity: the ramp and its USL fit")
    if ramp is None and steps:
        st.caption(
            "No stress load test with steps in the store: run `pincex loadtest run --profile "
            "stress ...`, or take the ramp from orders runs."
        )
        return
    if ramp is None:
        st.caption("No orders runs in the store: the growth plan above uses no runs.")
        ui.empty_store_guide(view)
        return
    unit = "requests/s, each step a point" if steps else "orders/s"
    st.caption(f"Load is {ramp.load_words}; throughput in {unit}; ramp: {label}.")
    best = ramp.best
    if best is not None:
        st.markdown(
            f"Highest trusted rate meeting p99 < {ramp.p99_target_ms:g} ms: "
            f"**{best.throughput_per_s:,.0f} orders/s** (p99 {best.p99_ms:.3g} ms)."
        )
    else:
        untrusted = sum(not p.trusted for p in ramp.points_by_run)
        ui.blank(
            f"no trusted run met p99 < {ramp.p99_target_ms:g} ms "
            f"({len(ramp.points_by_run)} runs, {untrusted} not trusted)"
        )
    points = pd.DataFrame([p.__dict__ for p in ramp.points_by_run])
    st.caption("Open markers: runs marked not trusted.")
    curve = usl_frame(fit) if fit is not None else None
    name = str(label) if steps else f"the {label} ramp"
    title = f"USL fit of {name}" if fit is not None else f"{name[0].upper()}{name[1:]} (no fit)"
    if not points.empty:
        st.plotly_chart(usl_chart(points, curve, ramp.load_words, title), width="stretch")
    if fit is None:
        ui.blank(f"no USL fit: {reason}")
        return
    c, iv = fit.curve, fit.intervals
    cols = st.columns(5)
    cols[0].metric("σ contention", f"{c.sigma:.4g}")
    cols[1].metric("κ coherency", f"{c.kappa:.4g}")
    cols[2].metric("λ (X at load 1)", f"{c.lam:,.4g}/s")
    cols[3].metric(
        "Peak load N*", "none" if c.peak_concurrency is None else f"{c.peak_concurrency:.3g}"
    )
    cols[4].metric("R²", f"{fit.r_squared:.3f}")
    st.caption(f"{fit.points} points; intervals: {iv.method}.")
    for warning in fit.warnings:
        st.warning(warning)


def _sizing(fit: USLFit | None, peak_rate: float, cost_per_pod: float, p99_target: float) -> None:
    st.subheader("Erlang-C pods for a p99 target")
    with st.form("cap_sizing_form"):
        a, b, c = st.columns(3)
        rate = a.number_input("Target rate, orders/s", 1.0, 1e9, float(round(peak_rate)),
                              key="cap_size_rate")  # fmt: skip
        p99 = b.number_input("p99 target, ms", 0.01, 1e6, p99_target, key="cap_size_p99")
        conc = c.number_input("Per-pod concurrency (0: at the peak)", 0, 100_000, 0,
                              key="cap_size_conc")  # fmt: skip
        sources = (["fit"] if fit is not None else []) + ["typed"]
        names = {"fit": "the measured fit", "typed": "typed σ, κ, λ"}
        source = st.radio("Per-pod USL curve", sources, horizontal=True, key="cap_size_source",
                          format_func=names.get)  # fmt: skip
        a, b, c = st.columns(3)
        sigma = a.number_input("σ", 0.0, 0.999, 0.0267, format="%.4f", key="cap_size_sigma")
        kappa = b.number_input("κ", 0.0, 1.0, 0.000769, format="%.6f", key="cap_size_kappa")
        lam = c.number_input("λ, orders/s at load 1", 0.001, 1e9, 995.6, key="cap_size_lam")
        st.form_submit_button("Size", type="primary")
    curve_or_fit = fit if source == "fit" and fit is not None else Curve(sigma, kappa, lam)
    concurrency = int(conc) or None
    no_peak = fit is not None and fit.curve.peak_concurrency is None
    if concurrency is None and fit is not None and curve_or_fit is fit and no_peak:
        concurrency = max(1, round(fit.max_load))
        st.caption(f"The fit has no peak: concurrency {concurrency}, the highest tested load.")
    try:
        plan = size_pods(curve_or_fit, rate, p99, concurrency=concurrency,
                         cost_per_pod=cost_per_pod, max_pods=1_000_000)  # fmt: skip
    except SizingError as exc:
        st.warning(f"Cannot size: {exc}.")
        return
    except ArithmeticError as exc:  # the M/M/c tail overflows near saturation (c = 1)
        st.warning(f"Cannot size at these inputs: the queueing model overflowed ({exc}).")
        return
    if not plan.reachable:
        st.warning(f"Unreachable: {plan.reason}")
        return
    at = plan.at_recommended
    cols = st.columns(4)
    cols[0].metric("Pods for the p99", str(plan.recommended_pods))
    cols[1].metric("Their monthly cost", _money(plan.monthly_cost))
    cols[2].metric("p99 at that count", "—" if at is None else f"{at.p99_latency_ms:.3g} ms")
    cols[3].metric("Utilization", "—" if at is None else f"{at.utilization:.0%}")
    cost_low, cost_high = plan.monthly_cost_range or (0.0, None)
    st.caption(
        f"Each pod: concurrency {plan.concurrency}, {plan.per_pod_throughput:,.5g} orders/s, "
        f"mean latency {plan.mean_latency_ms:.3g} ms (Little's law)."
        + (
            ""
            if plan.pods_range is None
            else f" 95 % range of X(c): {_span(*plan.pods_range)} pods, "
            f"{_span(cost_low, cost_high, money=True)} a month."
        )
    )


def _p99_target() -> float:
    try:
        target = slo_config.load_config().table_slo("order_processing_p99_ms")
    except slo_config.ConfigError:
        return 25.0
    return 25.0 if target is None or target.target is None else float(target.target)


ui.page_header(
    "Capacity",
    "What the growth needs (pods, database cores, memory, bandwidth, monthly cost), when "
    "today's fleet runs out, and what one pod measured.",
)
view = ui.store_view()
try:
    config = load_config(CONFIG)
except ConfigError as exc:
    st.error(f"Cannot read the capacity config: {exc}")
    st.stop()

labels: list[str] = []
stress: dict[str, str] = {}
if view.exists:
    orders = RunFilter(kind="orders")
    labels = ui.load(view, lambda: data.label_counts(view.path, view.version, orders))[:50]
    tests = ui.load(view, lambda: data.loadtest_runs(view.path, view.version))
    stress = {str(r.run_id): f"{r.title} · {r.profile}"
              for r in tests.itertuples(index=False) if r.steps}  # fmt: skip

left, middle, right = st.columns(3)
with left:
    growth, months = _growth_form(config)
with middle:
    source, ramp_from, picked, untrusted, typed = _capacity_form(config.script, labels, stress)
with right:
    overrides = _costs_form(config)

ramp = fit = reason = None
label = picked
if ramp_from == "steps" and picked is not None:
    stress_id = picked
    ramp = ui.load(view, lambda: data.steps_ramp(view.path, view.version, stress_id, _p99_target()))
    label = f"the steps of {stress[picked]}"
elif picked is not None:
    where = RunFilter(kind="orders", label=picked)
    ramp = ui.load(view, lambda: data.ramp(view.path, view.version, where))
if ramp is not None:
    fit, reason = fit_ramp(ramp)

capacity = _measured(source, ramp, fit, untrusted, typed, config)
peak_rate = _results(config, growth, months, capacity, overrides)
_usl_section(view, ramp, label, fit, reason, ramp_from == "steps")
_sizing(fit, peak_rate, float(overrides.cost_per_pod or 100.0), _p99_target())
