"""Baseline and peak verdicts, data corruption and scaled wording, on constructed measures."""

from __future__ import annotations

from dataclasses import replace

import pytest
import yaml

from common.loadtest_terms import Definitions
from planning.loadtest.verdict import num
from planning.loadtest.verdicts import judge
from planning.slo import SloConfig, default_config_path, parse_config
from tests.planning.loadtest.factories import invariants, measures, ramp_run, series, stage


def _by_name(slos: SloConfig, terms: Definitions, **kw: object) -> dict[str, dict[str, object]]:
    m = ramp_run(**kw)  # type: ignore[arg-type]
    return {v["name"]: v for v in judge(slos, terms, m).to_json()}  # type: ignore[misc]


def test_baseline_all_met(slos: SloConfig, terms: Definitions) -> None:
    verdicts = judge(slos, terms, ramp_run(rate=5000, p95=7.0, p99=20.0))
    assert [v.name for v in verdicts.verdicts] == [
        "p95 latency",
        "p99 latency",
        "error rate",
        "throughput",
    ]
    assert {v.status for v in verdicts.verdicts} == {"met"}
    assert verdicts.passed
    first = verdicts.verdicts[0].to_json()
    assert list(first) == ["name", "target", "observed", "status", "reason"]
    assert first["target"] == "< 10 ms"
    assert first["observed"] == 7.0
    assert "over the hold (60 s at 5,000 req/s)" in str(first["reason"])
    assert "scaled" not in str(first["reason"])


@pytest.mark.parametrize(
    ("kw", "name", "observed"),
    [
        ({"p95": 12.5}, "p95 latency", 12.5),
        ({"p99": 25.0}, "p99 latency", 25.0),  # "< 25": 25 misses
        ({"errors": 1}, "error rate", round(1 / 6000 * 100, 4)),  # 0.017 % of 6,000: met
        ({"errors": 7}, "error rate", round(7 / 6000 * 100, 4)),  # 0.117 %: missed
    ],
)
def test_baseline_one_missed(
    slos: SloConfig, terms: Definitions, kw: dict[str, float], name: str, observed: float
) -> None:
    verdicts = _by_name(slos, terms, rate=100, **kw)
    assert verdicts[name]["observed"] == observed
    expected = "met" if kw == {"errors": 1} else "missed"
    assert verdicts[name]["status"] == expected


def test_throughput_reaches_the_target_less_one_window(slos: SloConfig, terms: Definitions) -> None:
    # baseline's target is 5,000 req/s; scaled x0.02 it is 100 req/s (the run's rate)
    m = ramp_run(rate=100, scale=0.02, completed_rps=98.5)
    v = judge(slos, terms, m).named("throughput")
    assert v is not None
    assert v.target == "> 100 req/s sustained"
    assert v.status == "met"  # 98.5 >= 100 * (1 - 1/60) = 98.33
    m = ramp_run(rate=100, scale=0.02, completed_rps=98.0)
    v = judge(slos, terms, m).named("throughput")
    assert v is not None and v.status == "missed"
    assert "98.3" in v.reason


def test_throughput_missed_on_a_dip_below_the_floor(slos: SloConfig, terms: Definitions) -> None:
    # a 10 s stretch of the hold at 85 % of the rate; its mean is still met
    per_window = [100] * 20 + [85] * 10 + [100] * 30
    m = ramp_run(rate=100, scale=0.02, completed=per_window, completed_rps=100.0)
    v = judge(slos, terms, m).named("throughput")
    assert v is not None and v.status == "missed"
    assert "lowest 0.2 s" not in v.reason  # the window scales: 10 s x0.02 = 1 window
    assert "lowest 1 s 85 req/s" in v.reason
    # unscaled, the window is 10 s and the floor 90 % of 5,000: judged at scale 1
    m = ramp_run(rate=5000, completed=[5000] * 55 + [0] * 5, completed_rps=5000.0)
    v = judge(slos, terms, m).named("throughput")
    assert v is not None and v.status == "missed"
    assert "lowest 10 s 2,500 req/s" in v.reason


def test_peak_stable_met(slos: SloConfig, terms: Definitions) -> None:
    noise = [40.0, 42.0, 39.0, 41.0, 43.0, 38.0] * 10  # 60 windows, no trend
    v = judge(slos, terms, ramp_run("peak", hold_p99=noise)).named("stable")
    assert v is not None
    assert v.status == "met", v.reason
    assert "Mann-Kendall" in v.reason


def test_peak_stable_missed_on_a_slow_rise(slos: SloConfig, terms: Definitions) -> None:
    # a 15 % rise over the hold: within 20 % of the first third, but a trend
    rise = [40.0 + 6.0 * i / 59 + (0.5 if i % 2 else -0.5) for i in range(60)]
    v = judge(slos, terms, ramp_run("peak", hold_p99=rise)).named("stable")
    assert v is not None and v.status == "missed"
    assert "rising" in v.reason and "outside" not in v.reason


def test_peak_stable_missed_on_a_step_in_the_last_third(
    slos: SloConfig, terms: Definitions
) -> None:
    # flat, then 30 % higher and falling back in the last third: no upward trend overall
    values = [50.0, 52.0] * 20 + [70.0 - 0.5 * i for i in range(20)]
    v = judge(slos, terms, ramp_run("peak", hold_p99=values)).named("stable")
    assert v is not None and v.status == "missed"
    assert "outside" in v.reason


def test_stable_not_measured_without_enough_windows(slos: SloConfig, terms: Definitions) -> None:
    m = ramp_run("peak", hold_p99=[None] * 58 + [40.0, 41.0])
    v = judge(slos, terms, m).named("stable")
    assert v is not None and v.status == "not measured"


def test_scaled_reasons_say_so(slos: SloConfig, terms: Definitions) -> None:
    verdicts = judge(slos, terms, ramp_run("peak", scale=0.1))
    assert verdicts.verdicts
    for v in verdicts.verdicts:
        assert v.reason.startswith("scaled x0.1: "), v.reason


def test_corruption_every_profile_when_checked(slos: SloConfig, terms: Definitions) -> None:
    assert judge(slos, terms, ramp_run()).named("data corruption") is None  # not checked
    ok = judge(slos, terms, ramp_run(invariants=invariants())).named("data corruption")
    assert ok is not None and ok.status == "met" and ok.observed == 0
    assert "all 4 invariants held" in ok.reason
    bad = judge(slos, terms, ramp_run(invariants=invariants("funds_conserved")))
    v = bad.named("data corruption")
    assert v is not None and v.status == "missed" and v.observed == 1
    assert "funds_conserved failed (3 wrong)" in v.reason
    assert not bad.passed


def test_a_crossed_book_is_corruption(slos: SloConfig, terms: Definitions) -> None:
    m = ramp_run(invariants=invariants(), crossed_books_seen=2)
    v = judge(slos, terms, m).named("data corruption")
    assert v is not None and v.status == "missed"
    assert "crossed book" in v.reason and "2 orderbook answers" in v.reason
    m = ramp_run(crossed_books_seen=1)  # seen though the invariants were not checked
    v = judge(slos, terms, m).named("data corruption")
    assert v is not None and v.status == "missed"


def test_a_profile_without_targets_is_judged_on_correctness(
    slos: SloConfig, terms: Definitions
) -> None:
    m = ramp_run("custom", invariants=invariants())
    assert [v.name for v in judge(slos, terms, m).verdicts] == ["data corruption"]
    assert judge(slos, terms, replace(m, invariants=None)).verdicts == ()


def _custom_profile(slos_path_data: list[dict[str, object]]) -> SloConfig:
    data = yaml.safe_load(default_config_path().read_text())
    data["profiles"]["custom"] = {"title": "Custom", "slos": slos_path_data}
    return parse_config(data, "slo.yaml")


def test_without_a_hold_the_run_is_judged(terms: Definitions) -> None:
    slos = _custom_profile(
        [{"metric": "request_latency_p99_ms", "comparator": "<", "target": 20, "spec": "p99"}]
    )
    m = measures("custom", [stage("base", 0, 10, 10, p99=30.0)], series([30.0] * 10))
    v = judge(slos, terms, m).named("p99 latency")
    assert v is not None and v.status == "missed"
    assert "over the run: 30 ms misses < 20 ms" in v.reason


def test_an_expectation_without_a_definition(terms: Definitions) -> None:
    slos = _custom_profile([{"informational": True, "spec": "Users are happy"}])
    m = ramp_run("custom", scale=0.5)
    (v,) = judge(slos, terms, m).verdicts
    assert (v.name, v.status) == ("Users are happy", "not measured")
    assert v.reason == "scaled x0.5: no definition says how to judge 'Users are happy'"


@pytest.mark.parametrize(
    ("value", "text"),
    [(0, "0"), (7.25, "7.25"), (0.05, "0.05"), (12.34, "12.3"), (1500, "1,500"), (30.0, "30")],
)
def test_figures_read_as_people_read_them(value: float, text: str) -> None:
    assert num(value) == text
