"""What-if plans over the specification's capacity script: defaults equal the script, overrides
and ranges move the figures the way the script's arithmetic says."""

from __future__ import annotations

import math
from dataclasses import asdict
from pathlib import Path

import pytest

from planning.capacity import load_config, plan_capacity, scenario_growth, script_growth
from planning.ramp import Ramp, RampPoint
from planning.usl import Points, fit_usl
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
    with_overrides,
)

CONFIG = load_config(Path(__file__).resolve().parents[2] / "config" / "capacity.yaml")


def _usl_points(sigma: float, kappa: float, lam: float, loads: list[float]) -> Points:
    return Points(
        tuple(loads),
        tuple(lam * n / (1 + sigma * (n - 1) + kappa * n * (n - 1)) for n in loads),
    )


def _ramp(rows: list[tuple[float, float, float, bool]]) -> Ramp:
    """(load, throughput, p99 ms, trusted) rows; the target is 25 ms."""
    points = tuple(
        RampPoint(f"r{i}", "v1", x, x, n, p99, trusted, p99 < 25)
        for i, (n, x, p99, trusted) in enumerate(rows)
    )
    return Ramp(points, "inflight", 25.0, ())


def test_defaults_are_the_specification_figures() -> None:
    result = what_if(CONFIG, script_growth(3.0), 12, spec_capacity(CONFIG))
    expected = plan_capacity(CONFIG, script_growth(3.0), 12)
    assert result.plan.to_dict() == expected.to_dict()
    f = result.plan.figures
    assert (f.required_pods, f.recommended_pods, f.total_cost) == (8, 12, 2994.6)
    assert result.pods_range is None and result.cost_range is None


def test_default_overrides_keep_the_config_unchanged() -> None:
    s = CONFIG.script
    same = Overrides(
        headroom_factor(headroom_percent(s.pod_headroom)),
        headroom_factor(headroom_percent(s.core_headroom)),
        headroom_factor(headroom_percent(s.memory_headroom)),
        headroom_factor(headroom_percent(s.bandwidth_headroom)),
        float(s.cost_per_pod),
        float(s.cost_per_core),
        float(s.cost_per_gb),
        float(s.cost_per_mbps),
    )
    assert with_overrides(CONFIG, same, float(s.orders_per_pod)) is CONFIG


@pytest.mark.parametrize(("percent", "factor"), [(50, 1.5), (20, 1.2), (30, 1.3), (100, 2.0)])
def test_headroom_percent_round_trips(percent: float, factor: float) -> None:
    assert headroom_factor(percent) == factor
    assert headroom_percent(factor) == percent


def test_overrides_change_only_what_they_name() -> None:
    cheaper = what_if(
        CONFIG, script_growth(3.0), 12, spec_capacity(CONFIG), Overrides(cost_per_pod=50)
    )
    f = cheaper.plan.figures
    assert f.recommended_pods == 12
    assert f.trading_engine_cost == 600
    assert f.total_cost == pytest.approx(2994.6 - 600)
    no_headroom = what_if(
        CONFIG, script_growth(3.0), 12, spec_capacity(CONFIG), Overrides(pod_headroom=1.0)
    )
    assert no_headroom.plan.figures.recommended_pods == 8


def test_per_pod_capacity_sets_the_pods() -> None:
    result = what_if(CONFIG, script_growth(3.0), 12, PodCapacity(3000, "typed"))
    assert result.plan.figures.required_pods == 5  # ceil(15000 / 3000)
    assert result.plan.figures.recommended_pods == 8  # ceil(5 * 1.5)
    with pytest.raises(ValueError, match="above 0"):
        what_if(CONFIG, script_growth(3.0), 12, PodCapacity(0, "typed"))


def test_a_range_gives_pods_and_cost_at_its_ends() -> None:
    result = what_if(CONFIG, script_growth(3.0), 12, PodCapacity(2000, "fit", 1000, 5000))
    assert result.pods_range == (5, 23)  # ceil(ceil(15000/5000)*1.5), ceil(15 * 1.5)
    assert result.cost_range == (2994.6 - 700, 2994.6 + 1100)
    open_top = what_if(CONFIG, script_growth(3.0), 12, PodCapacity(2000, "fit", 0.0, 5000))
    assert open_top.pods_range == (5, None)
    assert open_top.cost_range is not None and open_top.cost_range[1] is None


def test_custom_growth_with_one_multiplier_is_the_script() -> None:
    custom = plan_capacity(CONFIG, custom_growth(3, 3, 3, 3), 12)
    script = plan_capacity(CONFIG, script_growth(3.0), 12)
    assert asdict(custom.figures) == asdict(script.figures)
    with pytest.raises(ValueError, match="peak"):
        custom_growth(3, 3, 3, 0)


def test_custom_growth_matches_a_scenario_with_its_multipliers() -> None:
    scenario = CONFIG.scenarios["conservative"]
    custom = custom_growth(
        scenario.volume_growth,
        scenario.user_growth,
        scenario.volume_growth,
        scenario.volume_growth * scenario.peak_multiplier,
    )
    figures = plan_capacity(CONFIG, custom, 12).figures
    assert asdict(figures) == asdict(plan_capacity(CONFIG, scenario_growth(scenario), 12).figures)


def test_best_measured_rate_is_trusted_unless_asked() -> None:
    ramp = _ramp([(1, 900, 5, True), (2, 1700, 9, True), (3, 2300, 30, True), (4, 2400, 8, False)])
    best = capacity_from_best(ramp)
    assert best is not None and best.value == 1700 and "NOT TRUSTED" not in best.source
    anyway = capacity_from_best(ramp, include_untrusted=True)
    assert anyway is not None and anyway.value == 1700  # a trusted run met it: it wins
    untrusted = _ramp([(1, 900, 5, False), (2, 1700, 9, False)])
    assert capacity_from_best(untrusted) is None
    chosen = capacity_from_best(untrusted, include_untrusted=True)
    assert chosen is not None and chosen.value == 1700 and "NOT TRUSTED" in chosen.source


def test_fit_ramp_needs_four_loads() -> None:
    fit, reason = fit_ramp(_ramp([(1, 900, 5, True), (2, 1700, 9, True), (3, 2300, 9, True)]))
    assert fit is None and reason is not None and "3 distinct loads" in reason


def test_capacity_from_a_fit_past_its_peak_is_the_peak_with_its_interval() -> None:
    loads = [1, 2, 4, 8, 16, 24, 32, 48, 64]
    points = _usl_points(0.03, 0.0008, 1000, loads)
    noisy = Points(
        points.load, tuple(x * (1 + 0.01 * (-1) ** i) for i, x in enumerate(points.throughput))
    )
    fit = fit_usl(noisy)
    capacity = capacity_from_fit(fit)
    assert capacity is not None and capacity.is_range
    assert fit.curve.peak_throughput == pytest.approx(capacity.value)
    assert capacity.low is not None and capacity.high is not None
    assert capacity.low < capacity.value < capacity.high
    assert "peak" in capacity.source


def test_capacity_from_a_fit_below_its_knee_stays_at_the_tested_load() -> None:
    points = _usl_points(0.05, 0.0, 1000, [1, 2, 3, 4, 5])
    noisy = Points(
        points.load, tuple(x * (1 + 0.01 * (-1) ** i) for i, x in enumerate(points.throughput))
    )
    fit = fit_usl(noisy)
    capacity = capacity_from_fit(fit)
    assert capacity is not None
    assert capacity.value == pytest.approx(fit.curve.throughput(5))
    assert "highest tested load" in capacity.source


def test_runway_and_exhaustion_frames() -> None:
    plan = plan_capacity(CONFIG, script_growth(3.0), 12)
    runway = runway_frame(plan)
    assert len(runway) == 13 * 4
    pods = runway[runway["resource"] == "Trading engine pods"].set_index("month")
    assert pods.loc[0, "required"] == 3 and pods.loc[12, "required"] == 8
    assert pods.loc[12, "share"] == pytest.approx(100 * 8 / 3)
    table = exhaustion_frame(plan).set_index("resource")
    assert table.loc["Trading engine pods", "runs out"] == "month 2"
    assert table.loc["Memory", "runs out"] == "not within 12 months"


def test_usl_frame_spans_the_tested_loads_with_a_band() -> None:
    points = _usl_points(0.03, 0.0008, 1000, [1, 2, 4, 8, 16, 32, 48])
    noisy = Points(
        points.load, tuple(x * (1 + 0.02 * (-1) ** i) for i, x in enumerate(points.throughput))
    )
    fit = fit_usl(noisy)
    frame = usl_frame(fit)
    assert frame["load"].is_monotonic_increasing
    assert frame["load"].max() >= 48
    inside = frame.dropna()
    assert not inside.empty
    assert (
        (inside["low"] <= inside["throughput"]) & (inside["throughput"] <= inside["high"])
    ).all()
    assert not any(math.isnan(v) for v in frame["throughput"])
