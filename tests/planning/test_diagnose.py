"""Diagnosis rules: each fires on literal figures at its threshold, quiet just inside it."""

from __future__ import annotations

import pytest

from planning.diagnose import QUICK_REFERENCE, RULES, diagnose, examine
from planning.slo import DEFAULT_CONFIG, ResultsError, SloConfig, SloError, load_config

# rule id -> (metric, a figure that triggers it, a figure just inside the target)
CASES = {
    "high_cpu_usage.trading_engine": ("trading_engine_cpu_percent", 70, 69.9),
    "high_cpu_usage.market_data_service": ("market_data_service_cpu_percent", 60, 59.9),
    "high_cpu_usage.database_primary": ("database_primary_cpu_percent", 80, 79.9),
    "high_cpu_usage.websocket_service": ("websocket_service_cpu_percent", 50, 49.9),
    "high_cpu_usage.authentication_service": ("authentication_service_cpu_percent", 40, 39.9),
    "high_memory_usage.trading_engine": ("trading_engine_memory_gib", 2, 1.99),
    "high_memory_usage.market_data_service": ("market_data_service_memory_gib", 1, 0.99),
    "high_memory_usage.database_primary": ("database_primary_memory_gib", 16, 15.9),
    "high_memory_usage.websocket_service": ("websocket_service_memory_gib", 0.5, 0.49),
    "high_memory_usage.authentication_service": ("authentication_service_memory_gib", 0.5, 0.49),
    "network_saturation.trading_engine": ("trading_engine_network_mbps", 100, 99.9),
    "network_saturation.market_data_service": ("market_data_service_network_mbps", 200, 199.9),
    "network_saturation.database_primary": ("database_primary_network_mbps", 500, 499.9),
    "network_saturation.websocket_service": ("websocket_service_network_mbps", 1000, 999.9),
    "network_saturation.authentication_service": ("authentication_service_network_mbps", 50, 49.9),
    "high_db_latency": ("database_query_p95_ms", 50, 49.9),
    "high_pool_utilization": ("database_pool_utilization_percent", 80, 79.9),
    "low_cache_hit_ratio": ("database_cache_hit_ratio_percent", 95, 95.1),
    "high_replication_lag": ("database_replication_lag_ms", 100, 99.9),
    "high_lock_wait": ("database_lock_wait_avg_ms", 10, 9.9),
    "high_error_rates": ("request_error_rate_percent", 0.1, 0.09),
}


@pytest.fixture(scope="module")
def shipped() -> SloConfig:
    return load_config(DEFAULT_CONFIG)


def test_every_rule_has_a_case():
    assert [r.id for r in RULES] == list(CASES)
    assert {r.id: r.metric for r in RULES} == {rule: case[0] for rule, case in CASES.items()}


def test_the_quick_reference_is_the_specifications_table():
    assert QUICK_REFERENCE == {
        "High CPU Usage": ("Check goroutines, GC frequency", "Optimize algorithms, tune GOGC"),
        "High Memory Usage": (
            "Profile heap, check for leaks",
            "Implement object pooling, fix leaks",
        ),
        "High DB Latency": ("Analyze slow queries, check locks", "Add indexes, optimize queries"),
        "Network Saturation": ("Monitor bandwidth usage", "Implement compression, cache data"),
        "High Error Rates": ("Check logs, trace requests", "Fix bugs, add circuit breakers"),
    }


@pytest.mark.parametrize("rule_id", list(CASES))
def test_each_rule_fires_at_its_threshold_and_not_just_inside(shipped, rule_id):
    metric, trigger, inside = CASES[rule_id]
    findings = diagnose({metric: trigger}, shipped)
    assert [f.rule for f in findings] == [rule_id]
    assert findings[0].figures == {metric: trigger}
    assert findings[0].threshold == trigger
    assert findings[0].over_by == 0
    assert diagnose({metric: inside}, shipped) == []
    diagnosis = examine({metric: inside}, shipped)
    assert [(c.rule, c.triggered) for c in diagnosis.checked] == [(rule_id, False)]


def test_a_finding_carries_the_specifications_advice(shipped):
    (finding,) = diagnose({"trading_engine_cpu_percent": 91}, shipped)
    assert finding.issue == "High CPU Usage"
    assert finding.component == "Trading Engine"
    assert finding.symptom == "CPU Usage 91% breaks the target < 70%"
    assert (finding.observed, finding.comparator, finding.threshold) == (91, "<", 70)
    assert (finding.over_by, finding.severity) == (21, 0.3)
    assert finding.investigation == "Check goroutines, GC frequency"
    assert finding.resolution == "Optimize algorithms, tune GOGC"
    assert finding.source == "Performance Tuning Quick Reference"


def test_database_target_rules_carry_their_own_advice(shipped):
    (finding,) = diagnose({"database_cache_hit_ratio_percent": 76}, shipped)
    assert (finding.issue, finding.comparator, finding.threshold) == (
        "Low Cache Hit Ratio",
        ">",
        95,
    )
    assert (finding.over_by, finding.severity) == (19, 0.2)
    assert finding.source.startswith("Database Performance Targets")
    assert finding.investigation and finding.resolution


def test_findings_are_sorted_by_how_far_past_the_threshold(shipped):
    results = {
        "trading_engine_cpu_percent": 77,  # 10 % over 70
        "database_query_p95_ms": 150,  # 200 % over 50
        "database_lock_wait_avg_ms": 15,  # 50 % over 10
        "websocket_service_memory_gib": 0.5,  # at the limit
        "market_data_service_cpu_percent": 30,  # fine
    }
    findings = diagnose(results, shipped)
    assert [(f.rule, f.severity) for f in findings] == [
        ("high_db_latency", 2.0),
        ("high_lock_wait", 0.5),
        ("high_cpu_usage.trading_engine", 0.1),
        ("high_memory_usage.websocket_service", 0.0),
    ]


def test_the_error_rate_limit_comes_from_the_chosen_profile(shipped):
    assert [f.rule for f in diagnose({"request_error_rate_percent": 0.5}, shipped)] == [
        "high_error_rates"
    ]
    assert diagnose({"request_error_rate_percent": 0.5}, shipped, "peak") == []
    (finding,) = diagnose({"request_error_rate_percent": 1}, shipped, "peak")
    assert finding.threshold == 1
    stress = examine({"request_error_rate_percent": 5}, shipped, "stress")
    assert stress.findings == ()
    skipped = {s.rule: s.reason for s in stress.not_evaluated}
    assert skipped["high_error_rates"] == (
        "no target for request_error_rate_percent in profile stress"
    )


def test_rules_without_figures_are_listed_not_evaluated(shipped):
    diagnosis = examine({"database_query_p95_ms": 20, "orders_per_second": 100}, shipped)
    assert [(c.rule, c.target, c.target_from) for c in diagnosis.checked] == [
        ("high_db_latency", "< 50 ms", "table database")
    ]
    assert len(diagnosis.not_evaluated) == len(RULES) - 1
    skipped = {s.rule: s.reason for s in diagnosis.not_evaluated}
    assert skipped["high_lock_wait"] == "no figure for database_lock_wait_avg_ms"
    doc = diagnosis.as_dict()
    assert set(doc) == {"findings", "checked", "not_evaluated"}
    assert doc["not_evaluated"][0] == {
        "rule": "high_cpu_usage.trading_engine",
        "issue": "High CPU Usage",
        "reason": "no figure for trading_engine_cpu_percent",
    }


def test_bad_figures_are_errors_not_silent(shipped):
    with pytest.raises(ResultsError, match="unknown metric 'cpu'"):
        diagnose({"cpu": 99}, shipped)
    with pytest.raises(ResultsError, match="is not a number"):
        diagnose({"trading_engine_cpu_percent": "high"}, shipped)  # type: ignore[dict-item]
    with pytest.raises(SloError, match="unknown profile 'soak'"):
        diagnose({}, shipped, "soak")


def test_a_symptom_shows_its_figure_as_people_read_it() -> None:
    finding = diagnose({"trading_engine_cpu_percent": 91.23456789}, load_config())[0]
    assert finding.symptom == "CPU Usage 91.235% breaks the target < 70%"
