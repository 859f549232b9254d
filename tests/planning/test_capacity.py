"""calculate-capacity.ps1 reproduced: figures, rounding, PowerShell printing, scenarios, runway."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest
import yaml

from planning.capacity import (
    ConfigError,
    compute_figures,
    load_config,
    parse_bandwidth_mbps,
    parse_config,
    parse_database_spec,
    parse_multiplier,
    plan_capacity,
    powershell_number,
    report_lines,
    scenario_growth,
    script_growth,
    script_lines,
)

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config" / "capacity.yaml"

SCRIPT_LINES_3X = [
    "Capacity Planning for 12 months ahead (3x growth):",
    "=============================================",
    "Trading Engine:",
    "  Current Pods: 3",
    "  Required Pods: 8",
    "  Recommended Pods: 12",
    "",
    "Database:",
    "  Current Connections: 200",
    "  Target Connections: 600",
    "  Required CPU Cores: 24",
    "  Recommended CPU Cores: 29",
    "",
    "Memory:",
    "  Current Usage: 8GB",
    "  Projected Usage: 24GB",
    "  Recommended Allocation: 32GB",
    "",
    "Network:",
    "  Current Bandwidth: 1000Mbps",
    "  Required Bandwidth: 122.88Mbps",
    "  Recommended Bandwidth: 246Mbps",
    "",
    "Estimated Monthly Costs:",
    "  Trading Engine: $1200",
    "  Database: $1770",
    "  Network: $24.6",
    "  Total: $2994.6",
]


@pytest.fixture(scope="module")
def config():
    return load_config(CONFIG)


@pytest.fixture
def raw():
    return yaml.safe_load(CONFIG.read_text())


# --- the specification's example -----------------------------------------------------------------


def test_growth_3_gives_the_specifications_figures(config):
    f = compute_figures(config.script, script_growth(3.0))
    assert (f.required_pods, f.recommended_pods) == (8, 12)
    assert f.projected_database_connections == 600
    assert (f.required_cores, f.recommended_cores) == (24, 29)
    assert (f.projected_memory_usage_gb, f.recommended_memory_gb) == (24, 32)
    assert (f.required_bandwidth_mbps, f.recommended_bandwidth_mbps) == (122.88, 246)
    assert (f.trading_engine_cost, f.database_cost, f.network_cost) == (1200, 1770, 24.6)
    assert f.total_cost == 2994.6


def test_growth_3_prints_the_scripts_lines_exactly(config):
    assert script_lines(plan_capacity(config, script_growth(3.0), 12)) == SCRIPT_LINES_3X


def test_the_default_config_is_the_scripts_defaults(config):
    assert config.script.growth_multiplier == 3.0
    assert config.script.months_ahead == 12


def test_months_ahead_is_only_printed(config):
    six = plan_capacity(config, script_growth(3.0), 6)
    twelve = plan_capacity(config, script_growth(3.0), 12)
    assert six.figures == twelve.figures
    assert script_lines(six)[0] == "Capacity Planning for 6 months ahead (3x growth):"
    assert script_lines(six)[1:] == SCRIPT_LINES_3X[1:]


def test_fractional_growth_prints_doubles_as_powershell_g15(config):
    # 5000 * 1.1 = 5500.000000000001 -> ceil(2.7500000000000004) = 3 pods; 200 * 1.1 =
    # 220.00000000000003, which PowerShell's G15 prints as 220 (repr would say ...03).
    lines = script_lines(plan_capacity(config, script_growth(1.1), 12))
    assert lines[0] == "Capacity Planning for 12 months ahead (1.1x growth):"
    assert lines[4:6] == ["  Required Pods: 3", "  Recommended Pods: 5"]
    assert lines[9:12] == [
        "  Target Connections: 220",
        "  Required CPU Cores: 9",
        "  Recommended CPU Cores: 11",
    ]
    assert lines[15:17] == ["  Projected Usage: 8.8GB", "  Recommended Allocation: 12GB"]
    assert lines[20:22] == ["  Required Bandwidth: 45.056Mbps", "  Recommended Bandwidth: 91Mbps"]
    assert lines[24:] == [
        "  Trading Engine: $500",
        "  Database: $670",
        "  Network: $9.1",
        "  Total: $1179.1",
    ]


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (3, "3"),
        (3.0, "3"),
        (600.0, "600"),
        (122.88, "122.88"),
        (24.6, "24.6"),
        (2994.6, "2994.6"),
        (220.00000000000003, "220"),
        (11111.11 - 11110.01, "1.10000000000036"),  # PowerShell 7.2 prints this (G15)
        (0.1 + 0.2, "0.3"),
        (1e15, "1E+15"),
        (123456789012345.0, "123456789012345"),
        (1e-5, "1E-05"),
        (0.0001, "0.0001"),
        (2.5, "2.5"),
        (10**20, "100000000000000000000"),
    ],
)
def test_powershell_number(value, text):
    assert powershell_number(value) == text


# --- the YAML ------------------------------------------------------------------------------------


def test_yaml_multipliers_and_specs_are_parsed(config):
    conservative = config.scenarios["conservative"]
    assert (conservative.months, conservative.user_growth, conservative.volume_growth) == (12, 2, 3)
    assert conservative.peak_multiplier == 1.5
    assert config.scenarios["aggressive"].volume_growth == 10.0
    assert config.fleets["current"].__dict__ == {
        "pods": 3,
        "cpu_cores": 8,
        "memory_gb": 32,
        "bandwidth_mbps": 1000,
    }
    assert config.fleets["aggressive"].bandwidth_mbps == 25000
    assert config.fleets["conservative"].memory_gb == 64


@pytest.mark.parametrize(
    ("text", "value"), [("3.0x", 3.0), ("10.0x", 10.0), (" 1.5X ", 1.5), ("2x", 2.0), (2.5, 2.5)]
)
def test_parse_multiplier(text, value):
    assert parse_multiplier(text, "k") == value


@pytest.mark.parametrize("text", ["3.0", "x3", "three", "-1x", "0x", "", None, True, "3.0xx"])
def test_parse_multiplier_rejects(text):
    with pytest.raises(ConfigError, match=r"^k: "):
        parse_multiplier(text, "k")


def test_parse_specs():
    assert parse_database_spec("8 CPU, 32GB RAM", "k") == (8, 32)
    assert parse_database_spec("32 CPU, 128GB RAM", "k") == (32, 128)
    assert parse_bandwidth_mbps("1 Gbps", "k") == 1000
    assert parse_bandwidth_mbps("25 Gbps", "k") == 25000
    assert parse_bandwidth_mbps("500 Mbps", "k") == 500
    for bad in ("8 CPUs", "32GB RAM, 8 CPU", 8):
        with pytest.raises(ConfigError, match=r"^k: expected a database spec"):
            parse_database_spec(bad, "k")
    for bad in ("1 GB", "fast", 1000):
        with pytest.raises(ConfigError, match=r"^k: expected a bandwidth"):
            parse_bandwidth_mbps(bad, "k")


def _broken(raw, path, value):
    data = copy.deepcopy(raw)
    node = data
    *parents, last = path.split(".")
    for part in parents:
        node = node[part]
    if value is _DELETE:
        del node[last]
    else:
        node[last] = value
    return data


_DELETE = object()


@pytest.mark.parametrize(
    ("path", "value", "message"),
    [
        (
            "growth_projections.conservative_12_months.volume_growth",
            "three",
            "growth_projections.conservative_12_months.volume_growth: expected a multiplier",
        ),
        (
            "growth_projections.aggressive_12_months.user_growth",
            _DELETE,
            "growth_projections.aggressive_12_months.user_growth: missing",
        ),
        (
            "infrastructure_scaling.database_specs.current",
            "8 cores",
            "infrastructure_scaling.database_specs.current: expected a database spec",
        ),
        (
            "infrastructure_scaling.network_bandwidth.aggressive_target",
            "lots",
            "infrastructure_scaling.network_bandwidth.aggressive_target: expected a bandwidth",
        ),
        (
            "calculate_capacity.trading_engine.orders_per_pod",
            "2000/s",
            "calculate_capacity.trading_engine.orders_per_pod: expected a number",
        ),
        (
            "calculate_capacity.network.headroom",
            0,
            "calculate_capacity.network.headroom: must be above 0",
        ),
        (
            "calculate_capacity.months_ahead",
            12.5,
            "calculate_capacity.months_ahead: expected a whole number",
        ),
        ("current_metrics", [1, 2], "current_metrics: expected a mapping"),
    ],
)
def test_a_malformed_config_names_the_key(raw, path, value, message):
    with pytest.raises(ConfigError) as info:
        parse_config(_broken(raw, path, value))
    assert str(info.value).startswith(message)


def test_a_scenario_key_must_name_its_horizon(raw):
    raw["growth_projections"]["someday"] = raw["growth_projections"]["conservative_12_months"]
    with pytest.raises(ConfigError, match=r"growth_projections\.someday: name it"):
        parse_config(raw)


def test_load_config_names_the_file(tmp_path):
    bad = tmp_path / "c.yaml"
    bad.write_text("current_metrics: [")
    with pytest.raises(ConfigError, match=r"c\.yaml: not valid YAML"):
        load_config(bad)
    with pytest.raises(ConfigError, match=r"missing\.yaml: no such file"):
        load_config(tmp_path / "missing.yaml")
    bad.write_text("- 1\n")
    with pytest.raises(ConfigError, match=r"c\.yaml: top level: expected a mapping, got a list"):
        load_config(bad)


# --- scenarios -----------------------------------------------------------------------------------


def test_scenario_growth_maps_volume_users_and_peak(config):
    growth = scenario_growth(config.scenarios["conservative"])
    assert (growth.orders, growth.cpu, growth.memory) == (3.0, 3.0, 3.0)
    assert growth.peak_orders == 4.5
    assert (growth.connections, growth.websockets) == (2.0, 2.0)
    f = compute_figures(config.script, growth)
    assert f.projected_peak_orders_per_second == 22500
    assert (f.required_pods, f.recommended_pods) == (12, 18)
    assert f.projected_database_connections == 400
    assert (f.required_cores, f.recommended_cores) == (16, 20)
    assert f.projected_websocket_connections == 20000
    assert f.recommended_memory_gb == 32
    assert f.recommended_bandwidth_mbps == 369


def test_scenario_shows_the_yaml_targets_with_the_gap(config):
    plan = plan_capacity(config, scenario_growth(config.scenarios["aggressive"]), 12)
    gaps = {t.resource: (t.computed, t.target, t.gap) for t in plan.targets}
    assert gaps == {
        "trading_engine_pods": (75, 30, 45),
        "database_cpu_cores": (48, 32, 16),
        "memory": (104, 128, -24),
        "network_bandwidth": (1639, 25000, -23361),
    }
    assert script_lines(plan)[0] == (
        "Capacity Planning for 12 months ahead (aggressive: 10x volume, 5x users, 2x peak):"
    )
    assert "  Trading engine pods: computed 75 pods, target 30 pods, gap +45" in report_lines(plan)


def test_without_a_scenario_there_are_no_targets(config):
    assert plan_capacity(config, script_growth(3.0), 12).targets == ()


# --- the runway ----------------------------------------------------------------------------------


def test_month_of_exhaustion_at_3x(config):
    plan = plan_capacity(config, script_growth(3.0), 12)
    months = {e.resource: (e.month, e.requirement) for e in plan.exhaustion}
    # pods: 5000 * 3^(m/12) > 6000 first at m = 2 (6004.5/s -> 4 pods); cores: 200 * 3^(1/12)
    # = 219.2 connections -> 9 cores > 8 at m = 1; memory 24 GB and 122.88 Mbps stay within.
    assert months["trading_engine_pods"] == (2, 4)
    assert months["database_cpu_cores"] == (1, 9)
    assert months["memory"] == (None, None)
    assert months["network_bandwidth"] == (None, None)
    assert [row.month for row in plan.monthly] == list(range(13))
    assert plan.monthly[0].pods == 3 and plan.monthly[12].pods == 8
    assert plan.monthly[12].memory_gb == 24


def test_month_of_exhaustion_follows_the_horizon_and_growth(config):
    plan = plan_capacity(config, scenario_growth(config.scenarios["aggressive"]), 12)
    months = {e.resource: e.month for e in plan.exhaustion}
    # memory 8 * 10^(m/12) > 32 GB when m > 12 log 4 / log 10 = 7.2; network 5000 * 20^(m/12)
    # * 8192 / 1e6 > 1000 Mbps needs 20^(m/12) > 24.4: never within 12 months.
    assert months == {
        "trading_engine_pods": 1,
        "database_cpu_cores": 1,
        "memory": 8,
        "network_bandwidth": None,
    }
    short = plan_capacity(config, script_growth(3.0), 24)
    assert {e.resource: e.month for e in short.exhaustion}["trading_engine_pods"] == 4


def test_a_fleet_already_short_is_month_zero(config):
    plan = plan_capacity(config, script_growth(3.0), 12)
    pods = next(e for e in plan.exhaustion if e.resource == "trading_engine_pods")
    assert pods.headroom_month == 0  # today's 5000/s peak wants ceil(3 * 1.5) = 5 pods > 3
    assert any("below the script's headroom from month 0" in line for line in report_lines(plan))


def test_growth_below_one_never_exhausts(config):
    plan = plan_capacity(config, script_growth(0.5), 12)
    assert all(e.month is None for e in plan.exhaustion)


# --- the flaws -----------------------------------------------------------------------------------


def test_notes_name_the_scripts_flaws(config):
    notes = "\n".join(plan_capacity(config, script_growth(3.0), 12).notes)
    assert "cpu_usage_percent (60 -> 180, a percentage past 100) and never uses it" in notes
    assert "websocket_connections (10000 -> 30000) and never uses them" in notes
    assert "MonthsAhead (12) is only printed" in notes
    assert "1000000 orders a day is 11.6 orders/s on average, not the 500/s" in notes
    assert "headroom (x1.3) multiplies the projected usage (8 GB -> 24 GB -> 32 GB)" in notes
    assert "need 8 of the 8 cores, so the database has no headroom now" in notes
    assert "the YAML says 9 pods and 16 CPU" in notes
    assert "$$" in notes


def test_report_keeps_the_script_lines_first(config):
    plan = plan_capacity(config, script_growth(3.0), 12)
    lines = report_lines(plan)
    assert lines[: len(SCRIPT_LINES_3X)] == SCRIPT_LINES_3X
    assert "Known flaws of calculate-capacity.ps1 (reproduced in the figures above):" in lines


def test_to_dict_is_plain(config):
    data = plan_capacity(config, script_growth(3.0), 12).to_dict()
    assert data["figures"]["recommended_pods"] == 12
    assert isinstance(data["figures"]["recommended_pods"], int)
    assert data["figures"]["total_cost"] == 2994.6
    assert data["lines"] == SCRIPT_LINES_3X
    assert data["targets"] is None
    assert data["constants"]["orders_per_pod"] == 2000


def test_plan_rejects_a_zero_horizon(config):
    with pytest.raises(ValueError, match="months"):
        plan_capacity(config, script_growth(3.0), 0)
