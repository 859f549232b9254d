"""SLO config and verdicts: literal results in, exact statuses and margins out."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
import yaml

import planning.slo
from planning.slo import (
    DEFAULT_CONFIG,
    ConfigError,
    ResultsError,
    SloConfig,
    SloError,
    evaluate,
    load_config,
    load_results,
    parse_config,
)

SMALL = Path(__file__).parent / "data" / "slo" / "small.yaml"

# The contract with the run store and the dashboard: renaming one is a deliberate change here.
SHIPPED_METRICS: dict[str, list[str | None]] = {
    "trading_engine": [
        "order_processing_p95_ms",
        "order_processing_p99_ms",
        "order_throughput_per_second",
        "peak_order_throughput_per_second",
        "order_book_update_latency_ms",
        "market_data_latency_ms",
    ],
    "system_resources": [
        f"{component}_{resource}"
        for component in (
            "trading_engine",
            "market_data_service",
            "database_primary",
            "websocket_service",
            "authentication_service",
        )
        for resource in ("cpu_percent", "memory_gib", "network_mbps", "disk_mb_per_second")
    ],
    "database": [
        "database_query_p95_ms",
        "database_pool_utilization_percent",
        "database_cache_hit_ratio_percent",
        "database_replication_lag_ms",
        "database_lock_wait_avg_ms",
    ],
    "baseline": [
        "request_latency_p95_ms",
        "request_latency_p99_ms",
        "request_error_rate_percent",
        "request_throughput_rps",
    ],
    "peak": [
        "request_latency_p95_ms",
        "request_latency_p99_ms",
        "request_error_rate_percent",
        None,
    ],
    "stress": ["max_capacity_rps", None, None],
    "spike": ["recovery_time_seconds", "data_corruption_count", "queue_depth_max"],
}


def small_data() -> dict[str, Any]:
    """A fresh copy of the small config as parsed YAML, for tests that break one entry."""
    data: dict[str, Any] = yaml.safe_load(SMALL.read_text())
    return data


@pytest.fixture(scope="module")
def shipped() -> SloConfig:
    return load_config(DEFAULT_CONFIG)


@pytest.fixture(scope="module")
def small() -> SloConfig:
    return load_config(SMALL)


def by_metric(verdicts: planning.slo.Verdicts) -> dict[str | None, planning.slo.Verdict]:
    return {v.slo.metric: v for v in verdicts.verdicts}


# -- the shipped config ---------------------------------------------------------------------


def test_shipped_config_holds_the_specifications_tables_and_profiles(shipped):
    sections = {**shipped.tables, **shipped.profiles}
    assert {name: [s.metric for s in sec.slos] for name, sec in sections.items()} == (
        SHIPPED_METRICS
    )
    assert shipped.aliases == {"orders_per_second": "order_throughput_per_second"}
    every_name = {m for names in SHIPPED_METRICS.values() for m in names if m}
    assert set(shipped.metrics) == every_name


@pytest.mark.parametrize(
    ("metric", "comparator", "target", "unit", "component"),
    [
        ("order_processing_p95_ms", "<", 10, "ms", "Trading Engine"),
        ("order_throughput_per_second", ">", 10000, "orders/s", "Trading Engine"),
        ("peak_order_throughput_per_second", ">", 50000, "orders/s", "Trading Engine"),
        ("trading_engine_memory_gib", "<", 2, "GiB", "Trading Engine"),
        ("websocket_service_memory_gib", "<", 0.5, "GiB", "WebSocket Service"),
        ("websocket_service_network_mbps", "<", 1000, "Mbps", "WebSocket Service"),
        ("database_primary_disk_mb_per_second", "<", 200, "MB/s", "Database (Primary)"),
        ("authentication_service_cpu_percent", "<", 40, "%", "Authentication Service"),
        ("database_cache_hit_ratio_percent", ">", 95, "%", "Database"),
        ("database_lock_wait_avg_ms", "<", 10, "ms", "Database"),
    ],
)
def test_shipped_targets(shipped, metric, comparator, target, unit, component):
    slo = shipped.table_slo(metric)
    assert slo is not None
    assert (slo.comparator, slo.target, slo.unit, slo.component) == (
        comparator,
        target,
        unit,
        component,
    )


def test_shipped_profiles_state_the_expected_results(shipped):
    def targets(profile: str) -> list[tuple[str | None, str | None, float | None]]:
        return [(s.metric, s.comparator, s.target) for s in shipped.profiles[profile].slos]

    assert targets("baseline") == [
        ("request_latency_p95_ms", "<", 10),
        ("request_latency_p99_ms", "<", 25),
        ("request_error_rate_percent", "<", 0.1),
        ("request_throughput_rps", ">", 5000),
    ]
    assert targets("peak")[:3] == [
        ("request_latency_p95_ms", "<", 50),
        ("request_latency_p99_ms", "<", 100),
        ("request_error_rate_percent", "<", 1),
    ]
    assert targets("spike")[:2] == [
        ("recovery_time_seconds", "<=", 30),
        ("data_corruption_count", "<=", 0),
    ]
    informational = {
        p: [s.spec for s in shipped.profiles[p].slos if s.informational] for p in shipped.profiles
    }
    assert informational == {
        "baseline": [],
        "peak": ["System remains stable"],
        "stress": [
            "Identify maximum capacity",
            "Verify graceful degradation",
            "Test error handling under stress",
        ],
        "spike": ["Queue depth manageable"],
    }


def test_the_ci_workflows_keys_are_accepted(shipped):
    results = {
        "order_processing_p95_ms": 8,
        "orders_per_second": 12000,
        "database_query_p95_ms": 60,
    }
    v = by_metric(evaluate(shipped, results, None))
    assert (v["order_processing_p95_ms"].status, v["order_processing_p95_ms"].margin) == ("met", 2)
    throughput = v["order_throughput_per_second"]
    assert (throughput.status, throughput.margin, throughput.margin_percent) == ("met", 2000, 20)
    assert throughput.result_key == "orders_per_second"
    assert (v["database_query_p95_ms"].status, v["database_query_p95_ms"].margin) == ("missed", -10)


# -- verdicts ---------------------------------------------------------------------------------


def test_met_and_missed_with_exact_margins(small):
    verdicts = evaluate(
        small,
        {
            "order_processing_p95_ms": 9.3,
            "orders_per_second": 9000,
            "trading_engine_cpu_percent": 91,
        },
        None,
    )
    v = by_metric(verdicts)
    assert (v["order_processing_p95_ms"].status, v["order_processing_p95_ms"].observed) == (
        "met",
        9.3,
    )
    assert v["order_processing_p95_ms"].margin == 0.7  # decimal, not 0.6999999999999993
    assert v["order_processing_p95_ms"].margin_percent == 7.0
    assert (v["order_throughput_per_second"].status, v["order_throughput_per_second"].margin) == (
        "missed",
        -1000,
    )
    assert v["order_throughput_per_second"].margin_percent == -10.0
    assert (
        v["trading_engine_cpu_percent"].margin,
        v["trading_engine_cpu_percent"].margin_percent,
    ) == (
        -21,
        -30.0,
    )
    assert verdicts.overall == "missed"
    assert not verdicts.passed
    assert verdicts.counts() == {"met": 1, "missed": 2, "not_measured": 0, "informational": 0}
    assert verdicts.tables == ("engine",)
    assert verdicts.profile is None


@pytest.mark.parametrize(
    ("comparator", "status"), [("<", "missed"), ("<=", "met"), (">", "missed"), (">=", "met")]
)
def test_equality_with_each_comparator(comparator, status):
    data = small_data()
    data["tables"]["engine"]["slos"][0]["comparator"] = comparator
    config = parse_config(data, "t.yaml")
    v = by_metric(evaluate(config, {"order_processing_p95_ms": 10}, None))[
        "order_processing_p95_ms"
    ]
    assert (v.status, v.margin, v.margin_percent) == (status, 0, 0)


@pytest.mark.parametrize(
    ("comparator", "observed", "status", "margin"),
    [
        ("<", 9.99, "met", 0.01),
        ("<", 10.01, "missed", -0.01),
        ("<=", 10.01, "missed", -0.01),
        (">", 10.01, "met", 0.01),
        (">", 9.99, "missed", -0.01),
        (">=", 9.99, "missed", -0.01),
    ],
)
def test_either_side_of_the_target(comparator, observed, status, margin):
    data = small_data()
    data["tables"]["engine"]["slos"][0]["comparator"] = comparator
    config = parse_config(data, "t.yaml")
    result = {"order_processing_p95_ms": observed}
    v = by_metric(evaluate(config, result, None))["order_processing_p95_ms"]
    assert (v.status, v.margin) == (status, margin)


def test_a_zero_target_has_no_margin_percent(shipped):
    verdicts = evaluate(
        shipped,
        {"recovery_time_seconds": 31, "data_corruption_count": 0, "queue_depth_max": 120},
        "spike",
    )
    v = by_metric(verdicts)
    assert (v["recovery_time_seconds"].status, v["recovery_time_seconds"].margin) == ("missed", -1)
    corruption = v["data_corruption_count"]
    assert (corruption.status, corruption.margin, corruption.margin_percent) == ("met", 0, None)
    assert (v["queue_depth_max"].status, v["queue_depth_max"].observed) == ("informational", 120)
    assert verdicts.overall == "missed"


def test_not_measured_never_passes_unless_allowed(small):
    partial = {"order_processing_p95_ms": 5, "orders_per_second": 20000}
    verdicts = evaluate(small, partial, None)
    assert by_metric(verdicts)["trading_engine_cpu_percent"].status == "not_measured"
    assert (verdicts.overall, verdicts.passed) == ("not_measured", False)
    allowed = evaluate(small, partial, None, allow_unmeasured=True)
    assert (allowed.overall, allowed.passed) == ("met", True)
    nulls = evaluate(small, {**partial, "trading_engine_cpu_percent": None}, None)
    assert by_metric(nulls)["trading_engine_cpu_percent"].status == "not_measured"


def test_allow_unmeasured_still_needs_one_figure_and_never_hides_a_miss(small):
    assert evaluate(small, {}, None, allow_unmeasured=True).overall == "not_measured"
    missed = evaluate(small, {"order_processing_p95_ms": 11}, None, allow_unmeasured=True)
    assert missed.overall == "missed"


def test_a_profile_is_judged_alone_and_other_known_metrics_are_ignored(small):
    results = {"request_latency_p95_ms": 4.5, "order_processing_p95_ms": 50}
    verdicts = evaluate(small, results, "baseline")
    assert [(v.slo.metric, v.status) for v in verdicts.verdicts] == [
        ("request_latency_p95_ms", "met"),
        ("queue_depth_max", "informational"),
    ]
    assert verdicts.overall == "met"
    assert verdicts.ignored == ("order_processing_p95_ms",)
    assert verdicts.tables == ()
    doc = verdicts.as_dict()
    assert (doc["scope"], doc["profile"], doc["overall"], doc["passed"]) == (
        "profile",
        "baseline",
        "met",
        True,
    )


def test_a_profile_of_goals_only_is_informational(small):
    verdicts = evaluate(small, {}, "stress")
    assert [(v.slo.metric, v.slo.spec, v.status) for v in verdicts.verdicts] == [
        (None, "Verify graceful degradation", "informational")
    ]
    assert (verdicts.overall, verdicts.passed) == ("informational", True)


def test_unknown_profile(small):
    with pytest.raises(SloError, match=r"unknown profile 'soak' .*baseline, stress"):
        evaluate(small, {}, "soak")


def test_unknown_metric_is_an_error_naming_it(small):
    with pytest.raises(
        ResultsError, match=r"unknown metric 'order_procesing_p95_ms'.*did you mean"
    ):
        evaluate(small, {"order_procesing_p95_ms": 3}, None)


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ("fast", r"'order_processing_p95_ms' is not a number: 'fast'"),
        (True, r"is not a number: True"),
        ([1, 2], r"is not a number: \[1, 2\]"),
        (float("nan"), r"not a finite number"),
        (float("inf"), r"not a finite number"),
    ],
)
def test_non_numeric_values_are_errors(small, value, message):
    with pytest.raises(ResultsError, match=message):
        evaluate(small, {"order_processing_p95_ms": value}, None)


def test_an_alias_and_its_metric_must_agree(small):
    same = {"orders_per_second": 12000, "order_throughput_per_second": 12000}
    assert by_metric(evaluate(small, same, None))["order_throughput_per_second"].status == "met"
    with pytest.raises(ResultsError, match="'order_throughput_per_second' and 'orders_per_second'"):
        evaluate(small, {"order_throughput_per_second": 1, "orders_per_second": 2}, None)


# -- malformed configs ---------------------------------------------------------------------------


def _break(change) -> dict[str, Any]:
    data = small_data()
    change(data)
    return data


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda d: d["tables"]["engine"]["slos"][0].update(comparator="=<"),
            r"^t\.yaml: tables\.engine\.slos\[0\] \(order_processing_p95_ms\): comparator '=<'",
        ),
        (
            lambda d: d["tables"]["engine"]["slos"][1].update(target="10k"),
            r"tables\.engine\.slos\[1\] \(order_throughput_per_second\): target '10k' is not a num",
        ),
        (
            lambda d: d["tables"]["engine"]["slos"][2].pop("target"),
            r"tables\.engine\.slos\[2\] \(trading_engine_cpu_percent\): missing target",
        ),
        (
            lambda d: d["profiles"]["baseline"]["slos"][0].update(metric="request_latncy_p95_ms"),
            r"profiles\.baseline\.slos\[0\] \(request_latncy_p95_ms\): metric "
            r"'request_latncy_p95_ms' is not in metrics",
        ),
        (
            lambda d: d["tables"]["engine"]["slos"][0].update(comparater="<"),
            r"slos\[0\] \(order_processing_p95_ms\): unknown key 'comparater'",
        ),
        (
            lambda d: d["metrics"]["queue_depth_max"].pop("unit"),
            r"metrics\.queue_depth_max: missing unit",
        ),
        (
            lambda d: d["metrics"].update({"Queue-Depth": d["metrics"]["queue_depth_max"]}),
            r"metrics\.Queue-Depth: 'Queue-Depth' is not a snake_case name",
        ),
        (
            lambda d: d["aliases"].update(p95="order_p95_ms"),
            r"aliases\.p95: refers to 'order_p95_ms', which is not in metrics",
        ),
        (
            lambda d: d["tables"].update(again=d["tables"]["engine"]),
            r"tables\.again\.slos\[0\] \(order_processing_p95_ms\): metric already has a target",
        ),
        (
            lambda d: d["tables"]["engine"]["slos"].append(
                {"informational": True, "spec": "stable"}
            ),
            r"tables\.engine\.slos\[3\]: informational entries belong in profiles",
        ),
        (
            lambda d: d["profiles"]["baseline"]["slos"].append(
                d["profiles"]["baseline"]["slos"][0]
            ),
            r"profiles\.baseline\.slos\[0\] \(request_latency_p95_ms\): metric appears twice",
        ),
        (lambda d: d.update(version=2), r"version: unsupported version 2"),
        (lambda d: d.pop("profiles"), r"top level: missing profiles"),
    ],
)
def test_a_malformed_config_names_the_file_and_the_entry(change, message):
    with pytest.raises(ConfigError, match=message):
        parse_config(_break(change), "t.yaml")


def test_bad_yaml_names_the_file_and_line(tmp_path):
    bad = tmp_path / "slo.yaml"
    bad.write_text("version: 1\nmetrics: {a: [1, 2}\n")
    with pytest.raises(
        ConfigError, match=rf"^{re.escape(str(bad))}: not valid YAML: line 2, column"
    ):
        load_config(bad)


def test_a_duplicate_key_is_an_error(tmp_path):
    dup = tmp_path / "slo.yaml"
    dup.write_text(SMALL.read_text().replace("aliases:\n", "aliases:\n  orders_per_second: x\n"))
    with pytest.raises(
        ConfigError, match=r"line \d+, column \d+: duplicate key 'orders_per_second'"
    ):
        load_config(dup)


def test_a_missing_config(tmp_path):
    with pytest.raises(ConfigError, match="no such file"):
        load_config(tmp_path / "nope.yaml")


# -- results files ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", r"not valid JSON"),
        ("[1, 2]", r"expected a JSON object of metric names to numbers, not an array"),
        ('"x"', r"expected a JSON object of metric names to numbers, not a string"),
        ("3", r"expected a JSON object of metric names to numbers, not a number"),
        ('{"a": "1"}', r"value of 'a' is not a number: '1'"),
    ],
)
def test_bad_results_files(tmp_path, text, message):
    path = tmp_path / "r.json"
    path.write_text(text)
    with pytest.raises(ResultsError, match=rf"^{re.escape(str(path))}: {message}"):
        load_results(path)


def test_results_file_with_nulls(tmp_path):
    path = tmp_path / "r.json"
    path.write_text('{"a": 1, "b": 2.5, "c": null}')
    assert load_results(path) == {"a": 1, "b": 2.5, "c": None}
    with pytest.raises(ResultsError, match="no such file"):
        load_results(tmp_path / "missing.json")
