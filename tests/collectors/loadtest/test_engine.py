"""Our engine sends the whole mix on its schedule and measures every answer (a real server
with known service times on 127.0.0.1)."""

from __future__ import annotations

import numpy as np
import pytest

from collectors.loadtest.config import Profile, load_loadtest_config
from collectors.loadtest.engine import run_ours
from collectors.loadtest.figures import measure
from collectors.loadtest.plan import LoadPlan
from collectors.loadtest.schedule import schedule_for
from tests.collectors.known_server import realized_ms, spawn


@pytest.fixture(scope="module")
def fixed_server():
    proc, url = spawn("--cycle", "0.02")
    yield url
    proc.terminate()
    proc.wait(10)


def test_the_mix_the_counts_and_the_latency_of_a_fixed_server(fixed_server: str) -> None:
    config = load_loadtest_config()
    profile = Profile("custom", "ramp", 300.0, 4.0, ramp_up=1.0, ramp_down=0.5)
    schedule = schedule_for(profile)
    plan = LoadPlan.build(config, 300.0, schedule, fixed_server, connections=32)
    result = run_ours(plan)
    planned = len(schedule.due_times())
    assert len(result) + result.not_sent == planned
    assert result.ok.all()
    measured = measure(
        plan, result, schedule.stages, profile="custom", pattern="ramp", scale=1.0, planned=planned
    )
    figures = measured.figures
    for scenario in figures.scenarios:
        assert abs(scenario.achieved_share - scenario.planned_share) <= 0.03, scenario
    served = realized_ms(fixed_server)
    assert figures.latency is not None and figures.service_time is not None
    # nothing answers faster than the server's own service time
    assert figures.service_time.p50 >= min(served)
    assert figures.latency.p50 >= figures.service_time.p50 - 0.001
    hold = next(s for s in figures.stages if s.stage.kind == "hold")
    assert hold.requests == pytest.approx(300 * 2.5, abs=2)
    names = [s.name for s in measured.summaries]
    assert names[0] == "all requests"
    assert "scenario:order_placement" in names and "POST /api/v1/orders" in names
    assert {p.series for p in measured.series} >= {
        "requests_per_s",
        "latency_p99_ms",
        "requests_per_s:market_data",
    }
    # the specification's order bodies go without keys to a server that is not the exchange
    assert figures.order_ids_acknowledged == 0
    assert np.isnan(result.done).sum() == 0
