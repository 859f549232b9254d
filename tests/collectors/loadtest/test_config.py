"""config/loadtest.yaml: the shipped file reads, every flaw is one line naming the entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from collectors.loadtest.config import (
    LoadTestConfigError,
    load_loadtest_config,
    parse_duration,
)

GOOD = """\
version: 1
target_url: http://127.0.0.1:8080
test_duration: 300s
ramp_up_time: 60s
scenarios:
  - name: order_placement
    weight: 70
    rps: 1000
    endpoints:
      - /api/v1/orders
  - name: market_data
    weight: 20
    rps: 500
    endpoints:
      - /api/v1/market/ticker
      - {path: /api/v1/market/orderbook, weight: 3}
profiles:
  baseline: {pattern: ramp, rate: 5000, duration: 15m}
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "loadtest.yaml"
    path.write_text(text)
    return path


def test_the_shipped_config_has_the_specifications_scenarios_and_profiles() -> None:
    config = load_loadtest_config()
    assert [(s.name, s.weight, s.rps) for s in config.scenarios] == [
        ("order_placement", 70, 1000),
        ("market_data", 20, 500),
        ("account_operations", 10, 100),
    ]
    assert config.test_duration == 300 and config.ramp_up_time == 60
    assert {n: (p.rate, p.duration) for n, p in config.profiles.items()} == {
        "baseline": (5000, 900),
        "peak": (15000, 600),
        "stress": (30000, 300),
        "spike": (1000, 600),
    }
    spike = config.profile("spike")
    assert (spike.spike_rate, spike.spike_duration, spike.spike_every) == (10000, 30, 120)


def test_a_total_rate_is_split_by_weight_and_no_total_uses_each_scenarios_rps(
    tmp_path: Path,
) -> None:
    config = load_loadtest_config(_write(tmp_path, GOOD))
    by_weight = {e.path: r for _, e, r in config.rates(900)}
    assert by_weight["/api/v1/orders"] == pytest.approx(700)
    # within a scenario endpoints share its rate by their weights (1 and 3)
    assert by_weight["/api/v1/market/ticker"] == pytest.approx(50)
    assert by_weight["/api/v1/market/orderbook"] == pytest.approx(150)
    as_written = {e.path: r for _, e, r in config.rates(None)}
    assert as_written["/api/v1/orders"] == 1000
    assert as_written["/api/v1/market/ticker"] == 125
    assert config.planned_shares(None)["order_placement"] == pytest.approx(1000 / 1500)


@pytest.mark.parametrize(
    ("change", "expected"),
    [
        (("    weight: 70\n", "    weight: lots\n"), "scenarios[0].weight: expected a number"),
        (("    rps: 1000\n", "    rps: 1000\n    colour: red\n"), "unknown key 'colour'"),
        (
            ("test_duration: 300s", "test_duration: 300 fortnights"),
            "test_duration: expected a duration",
        ),
        (
            ("rate: 5000, duration: 15m", "rate: 5000, duration: 15m, ramp_up_time: 15m"),
            "leave no time to hold",
        ),
        (("pattern: ramp", "pattern: sine"), "expected one of ramp, spike, steps"),
    ],
)
def test_a_flaw_is_one_line_naming_the_entry_and_its_line(
    tmp_path: Path, change: tuple[str, str], expected: str
) -> None:
    text = GOOD.replace(*change)
    assert text != GOOD
    with pytest.raises(LoadTestConfigError) as caught:
        load_loadtest_config(_write(tmp_path, text))
    message = str(caught.value)
    assert expected in message
    assert "(line " in message and "\n" not in message


def test_an_empty_scenario_list_is_refused(tmp_path: Path) -> None:
    head = GOOD.split("scenarios:")[0]
    with pytest.raises(LoadTestConfigError, match=r"scenarios: the scenario list is empty.*line 5"):
        load_loadtest_config(_write(tmp_path, head + "scenarios: []\n"))


def test_a_missing_file_and_bad_yaml_are_refused(tmp_path: Path) -> None:
    with pytest.raises(LoadTestConfigError, match="no such file"):
        load_loadtest_config(tmp_path / "absent.yaml")
    with pytest.raises(LoadTestConfigError, match="not valid YAML"):
        load_loadtest_config(_write(tmp_path, "version: [1\n"))


def test_durations_take_units() -> None:
    assert [parse_duration(v) for v in ("90s", "15m", "1h", "250ms", 12)] == [
        90,
        900,
        3600,
        0.25,
        12,
    ]
    with pytest.raises(ValueError):
        parse_duration("soon")
