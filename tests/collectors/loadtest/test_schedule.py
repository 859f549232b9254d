"""Schedules: the stages of each pattern and the due times they give."""

from __future__ import annotations

import numpy as np
import pytest

from collectors.loadtest.config import Profile, load_loadtest_config
from collectors.loadtest.plan import LoadPlan, mix_pattern
from collectors.loadtest.schedule import schedule_for


def test_a_ramp_rises_linearly_holds_and_falls() -> None:
    profile = Profile("p", "ramp", 100.0, 10.0, ramp_up=4.0, ramp_down=2.0)
    schedule = schedule_for(profile)
    assert [(s.kind, s.start, s.end) for s in schedule.stages] == [
        ("ramp-up", 0, 4),
        ("hold", 4, 8),
        ("ramp-down", 8, 10),
    ]
    dues = schedule.due_times()
    # requests = area under the rate: 200 up + 400 held + 100 down
    assert len(dues) == 700
    assert np.all(np.diff(dues) >= 0)
    per_second = np.bincount(dues.astype(int), minlength=10)
    # the ramp-up's seconds carry 12.5, 37.5, 62.5, 87.5 requests on average
    assert per_second[:4].tolist() == pytest.approx([12.5, 37.5, 62.5, 87.5], abs=1)
    assert per_second[4:8].tolist() == [100, 100, 100, 100]
    assert per_second[8] + per_second[9] == 100


def test_the_spike_pattern_of_the_specification() -> None:
    spike = load_loadtest_config().profile("spike")
    schedule = schedule_for(spike)
    spikes = schedule.of_kind("spike")
    assert [(s.start, s.end, s.rate_to) for s in spikes] == [
        (60, 90, 10000),
        (180, 210, 10000),
        (300, 330, 10000),
        (420, 450, 10000),
        (540, 570, 10000),
    ]
    assert schedule.duration == 600
    assert all(s.rate_to == 1000 for s in schedule.of_kind("base"))


def test_steps_climb_to_the_profiles_rate_and_scaling_keeps_the_shape() -> None:
    stress = load_loadtest_config().profile("stress").scaled(0.01)
    schedule = schedule_for(stress)
    assert [round(s.rate_to) for s in schedule.stages] == [30 * k for k in range(1, 11)]
    assert schedule.duration == pytest.approx(3.0)


def test_the_mix_interleaves_routes_at_their_shares() -> None:
    pattern = mix_pattern([0.7, 0.1, 0.1, 0.05, 0.05])
    assert (np.bincount(pattern) / len(pattern)).tolist() == pytest.approx(
        [0.7, 0.1, 0.1, 0.05, 0.05]
    )
    # every window of 100 requests already holds each route within 2 of its share
    for start in range(0, 900, 50):
        window = np.bincount(pattern[start : start + 100], minlength=5)
        assert np.all(np.abs(window - np.array([70, 10, 10, 5, 5])) <= 2)


def test_a_plan_splits_a_profiles_rate_by_scenario_weight() -> None:
    config = load_loadtest_config()
    plan = LoadPlan.build(config, 5000, schedule_for(config.profile("baseline")), "http://h/")
    assert plan.target == "http://h"
    assert plan.planned_shares() == pytest.approx(
        {"order_placement": 0.7, "market_data": 0.2, "account_operations": 0.1}
    )
