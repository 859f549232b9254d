"""When a run is not to be trusted, and the words it says so in."""

from __future__ import annotations

from collectors.bench.trust import TrustInputs, trust_reasons


def _inputs(**changes: object) -> TrustInputs:
    base: dict[str, object] = {
        "generator_cpu_pct": 40.0,
        "target_rate": 1000.0,
        "achieved_rate": 999.0,
        "samples": 20_000,
        "error_rate": 0.0,
    }
    return TrustInputs(**(base | changes))  # type: ignore[arg-type]


def test_a_healthy_run_is_trusted() -> None:
    assert trust_reasons(_inputs()) == []


def test_each_rule_says_why() -> None:
    assert "CPU was 95%" in trust_reasons(_inputs(generator_cpu_pct=95.0))[0]
    assert "below 95% of the target" in trust_reasons(_inputs(achieved_rate=940.0))[0]
    assert trust_reasons(_inputs(achieved_rate=950.0)) == []
    assert "too few for a p99 " in trust_reasons(_inputs(samples=999))[0]
    assert "too few for a p99.9" in trust_reasons(_inputs(samples=9_999))[0]
    assert "errors (over 1%)" in trust_reasons(_inputs(error_rate=0.02))[0]
    assert trust_reasons(_inputs(error_rate=0.01)) == []


def test_the_samples_rule_follows_the_percentile_claimed() -> None:
    assert trust_reasons(_inputs(samples=5_000, highest_claimed=99.0)) == []
    assert trust_reasons(_inputs(samples=500, highest_claimed=95.0)) == []
    assert "p99 " in trust_reasons(_inputs(samples=500, highest_claimed=99.0))[0]
    assert trust_reasons(_inputs(samples=0, highest_claimed=None)) == []


def test_every_reason_is_listed() -> None:
    reasons = trust_reasons(
        _inputs(generator_cpu_pct=99.0, achieved_rate=10.0, samples=10, error_rate=0.5)
    )
    assert len(reasons) == 4


def test_a_generator_behind_its_schedule_is_not_trusted() -> None:
    assert trust_reasons(_inputs(schedule_lag_p99_ms=4.0)) == []
    (reason,) = trust_reasons(_inputs(schedule_lag_p99_ms=30.0, schedule_lag_max_ms=41.0))
    assert "fell behind its own schedule" in reason and "30 ms" in reason
    # what was measured, not a guess at the cause
    assert "the latest 41 ms" in reason and "40% of a core" in reason
    assert "short of CPU" not in reason


def test_the_generator_measures_its_own_lateness() -> None:
    """A load whose event loop is blocked 60 ms twice a second releases requests late, and says
    so; the same load unblocked does not."""
    import time

    from collectors.bench.httpload import Request, run_load, run_open_model
    from tests.collectors.stub_server import serving

    request = [Request("POST", "/api/v1/orders", b"{}")]

    def block(done: int, planned: int) -> None:
        time.sleep(0.06)

    with serving() as url:
        quiet = run_load(run_open_model(url, request, 500, 1000, 4, 10))
        blocked = run_load(run_open_model(url, request, 500, 1000, 4, 10, progress=block))
    # a ratio against the quiet run, so a loaded machine (which wakes both late) cannot flake it
    assert blocked.schedule_lag_p99 > 3 * quiet.schedule_lag_p99
    assert blocked.schedule_lag_max >= 0.05
