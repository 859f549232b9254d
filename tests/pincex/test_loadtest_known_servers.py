"""Verdicts against servers whose behaviour is known: a fixed latency is "missed" by a target
below it and "met" by one above; a server of fixed capacity, pushed past it by spikes, recovers
in the time its queue takes to drain."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from pincex.loadtest_flow import LoadTestOptions, execute, prepare, to_measures
from planning.loadtest.verdicts import judge
from planning.slo import load_config
from tests.collectors.known_server import realized_ms, spawn

ROOT = Path(__file__).parents[2]
P95_LINE = (
    '{metric: request_latency_p95_ms, comparator: "<", target: 10, spec: "P95 latency < 10ms"}'
)


@pytest.fixture
def server_20ms() -> Iterator[str]:
    proc, url = spawn("--cycle", "0.02")
    yield url
    proc.terminate()
    proc.wait(10)


def _slo_with_p95(tmp_path: Path, target: float) -> str:
    text = (ROOT / "config" / "slo.yaml").read_text()
    assert P95_LINE in text
    path = tmp_path / f"slo-{target:g}.yaml"
    path.write_text(text.replace(P95_LINE, P95_LINE.replace("target: 10", f"target: {target}")))
    return str(path)


def test_a_fixed_latency_misses_a_target_below_it_and_meets_one_above(
    server_20ms: str, tmp_path: Path
) -> None:
    options = LoadTestOptions(
        target=server_20ms, profile="baseline", rate=300, duration=5.0, scrape_interval=0
    )
    executed = execute(prepare(options), options, keys=())
    measures = to_measures(executed, None)
    served = realized_ms(server_20ms)
    assert measures.p95_ms is not None and measures.p95_ms >= min(served)
    below = load_config(_slo_with_p95(tmp_path, 5))
    above = load_config(_slo_with_p95(tmp_path, 500))
    definitions = executed.setup.config.definitions
    p95_below = judge(below, definitions, measures).named("p95 latency")
    p95_above = judge(above, definitions, measures).named("p95 latency")
    assert p95_below is not None and p95_above is not None
    assert p95_below.status == "missed" and "< 5 ms" in p95_below.target
    assert p95_above.status == "met" and "< 500 ms" in p95_above.target
    # no invariants against a server that is not the exchange: said, not passed silently
    assert measures.invariants is None


SPIKE_PROFILE = """\
  spike:
    pattern: spike
    rate: 100
    duration: 180s
    spike_rate: 350
    spike_duration: 20s
    spike_every: 80s
    spike_first_at: 20s
"""


def test_a_spike_past_a_servers_capacity_recovers_as_its_queue_drains(tmp_path: Path) -> None:
    """A server answering one request at a time in 4 ms (about 250/s, less on a loaded machine)
    gets 100/s with spikes of 350/s for 2 s: each spike leaves a backlog that drains at
    (capacity - 100)/s, and the recovery time is that drain."""
    text = (ROOT / "config" / "loadtest.yaml").read_text()
    start = text.index("  spike:\n")
    end = text.index("\n# What the specification", start)
    config = tmp_path / "loadtest.yaml"
    config.write_text(text[:start] + SPIKE_PROFILE + text[end:])
    proc, url = spawn("--cycle", "0.004", "--serial")
    try:
        # durations x0.1 (spikes of 2 s every 8 s over 18 s), rates as written
        options = LoadTestOptions(
            target=url,
            profile="spike",
            duration=18.0,
            scrape_interval=0,
            config_path=str(config),
            connections=64,
        )
        setup = prepare(options)
        assert [(s.start, s.end) for s in setup.schedule.of_kind("spike")] == [(2, 4), (10, 12)]
        executed = execute(setup, options, keys=())
        served = realized_ms(url)
    finally:
        proc.terminate()
        proc.wait(10)
    measures = to_measures(executed, None)
    capacity = 1000 / (sum(served) / len(served))  # answers per second, one at a time
    assert 100 < capacity < 350, capacity  # the spikes pass it, the base rate does not
    expected = (350 - capacity) * 2 / (capacity - 100)  # backlog / drain rate, seconds
    verdict = judge(load_config(), setup.config.definitions, measures).named("recovery")
    assert verdict is not None and isinstance(verdict.observed, float), verdict
    worst = verdict.observed
    assert 0.5 * expected - 0.2 <= worst <= 1.6 * expected + 0.5, (worst, expected, verdict)


def test_requests_a_saturated_server_kept_from_being_sent_are_errors_of_their_stage() -> None:
    """1,000/s for 3 s at a server that answers one request at a time in 5 ms (under 200/s):
    most requests are still waiting when the time bound comes, and are never sent. They count
    against the error-rate target of their stage, not just as a trust warning."""
    proc, url = spawn("--cycle", "0.005", "--serial")
    try:
        options = LoadTestOptions(
            target=url, profile="baseline", rate=1000, duration=3.0, scrape_interval=0,
            connections=4,
        )  # fmt: skip
        setup = prepare(options)
        executed = execute(setup, options, keys=())
    finally:
        proc.terminate()
        proc.wait(10)
    hold = next(s for s in executed.measured.figures.stages if s.stage.kind == "hold")
    assert hold.not_sent > 0 and executed.measured.figures.not_sent >= hold.not_sent
    measures = to_measures(executed, None)
    errors = judge(load_config(), setup.config.definitions, measures).named("error rate")
    assert errors is not None and errors.status == "missed", errors
    assert measures.error_rate_pct > 10
