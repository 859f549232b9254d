"""planning.run_slo on literal frames: which target rows a run measured, with what figure, and
why the others were not."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from planning.run_slo import JudgedRun, RunFacts, judge_run, latest_verdicts, run_figures
from planning.slo import SloConfig, load_config

_FIGURES = ("mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms")


@pytest.fixture(scope="module")
def slos() -> SloConfig:
    return load_config()


def summary(name: str, count: int, p95: float, p99: float, **extra: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"name": name, "count": count, "errors": 0, "throughput_per_s": 100.0}
    for f in _FIGURES:
        row[f"latency_{f}"] = 1.0
        row[f"service_{f}"] = 0.5
    row.update(latency_p95_ms=p95, latency_p99_ms=p99, **extra)
    return row


def frame(*rows: dict[str, Any]) -> pd.DataFrame:
    return pd.DataFrame(list(rows))


def points(side: str, name: str, *values: float) -> list[dict[str, Any]]:
    return [
        {"side": side, "name": name, "second": float(i), "value": v} for i, v in enumerate(values)
    ]


NO_SERIES = pd.DataFrame({c: pd.Series(dtype=object) for c in ("side", "name", "second", "value")})


def verdict(judged: JudgedRun, metric: str) -> tuple[str, float | None]:
    v = next(v for v in judged.verdicts.verdicts if v.slo.metric == metric)
    return v.status, v.observed


def test_orders_latency_from_the_headline_and_throughput_not_shown_below_its_target(slos):
    facts = RunFacts(kind="orders", config={"rate": 500}, duration_s=4)
    summaries = frame(
        summary("GET /api/v1/book", 10, p95=90.0, p99=99.0),
        summary("POST /api/v1/orders", 2000, p95=3.0, p99=30.0),
    )
    series = pd.DataFrame(points("client", "orders_per_s", 498, 502, 500, 500))
    judged = judge_run(slos, facts, summaries, series)
    assert verdict(judged, "order_processing_p95_ms") == ("met", 3.0)
    assert verdict(judged, "order_processing_p99_ms") == ("missed", 30.0)
    assert "POST /api/v1/orders" in judged.figures.how["order_processing_p95_ms"]
    assert verdict(judged, "order_throughput_per_second") == ("not_measured", None)
    assert judged.why_not("order_throughput_per_second") == (
        "offered 500 orders/s, below the 10,000/s target: the run cannot show it"
    )
    assert judged.verdicts.overall == "missed"


def test_orders_throughput_measured_when_offered_at_the_target(slos):
    facts = RunFacts(kind="orders", config={"rate": 20000}, duration_s=30)
    series = pd.DataFrame(points("client", "orders_per_s", 19000, 21000, 20000))
    judged = judge_run(slos, facts, frame(summary("POST", 100, 1.0, 2.0)), series)
    assert verdict(judged, "order_throughput_per_second") == ("met", 20000.0)
    assert "offered 20,000" in judged.figures.how["order_throughput_per_second"]
    assert "below the 50,000/s target" in judged.why_not("peak_order_throughput_per_second")
    # the peak target is a burst of 60 s: a shorter run at the peak rate cannot show it
    burst = RunFacts(kind="orders", config={"rate": 60000}, duration_s=30)
    short = judge_run(slos, burst, frame(summary("POST", 100, 1.0, 2.0)), series)
    assert verdict(short, "peak_order_throughput_per_second")[0] == "not_measured"
    assert "lasted 30 s" in short.why_not("peak_order_throughput_per_second")


def test_batched_orders_without_a_client_series_count_orders(slos):
    facts = RunFacts(kind="orders", config={"rate": 12000, "batch_size": 100}, duration_s=10)
    summaries = frame(summary("POST batch", 1200, 5.0, 9.0, throughput_per_s=120.0))
    figures = run_figures(slos, facts, summaries, NO_SERIES)
    assert figures.values["order_throughput_per_second"] == 12000.0


def test_market_data_and_db_figures(slos):
    md = run_figures(
        slos,
        RunFacts(kind="market-data"),
        frame(summary("btcusd@depth", 600, 1.2, 1.7)),
        NO_SERIES,
    )
    assert md.values == {"market_data_latency_ms": 1.7}
    assert "600 frames" in md.how["market_data_latency_ms"]
    db = run_figures(
        slos,
        RunFacts(kind="db"),
        frame(summary("select book", 40, 12.0, 20.0), summary("insert order", 40, 51.0, 60.0)),
        NO_SERIES,
    )
    assert db.values == {"database_query_p95_ms": 51.0}
    assert "slowest of 2 query types (insert order)" in db.how["database_query_p95_ms"]


def test_a_run_of_another_kind_says_it_does_not_measure_a_row(slos):
    judged = judge_run(slos, RunFacts(kind="orders"), frame(summary("P", 10, 1, 2)), NO_SERIES)
    assert judged.why_not("database_query_p95_ms") == "an orders run does not measure it"
    db = judge_run(slos, RunFacts(kind="db"), frame(summary("q", 10, 1, 2)), NO_SERIES)
    assert db.why_not("order_processing_p95_ms") == "a db run does not measure it"


def test_a_run_without_summaries_says_so(slos):
    empty = frame(summary("x", 1, 1, 1)).iloc[0:0]
    judged = judge_run(slos, RunFacts(kind="orders"), empty, NO_SERIES)
    assert judged.why_not("order_processing_p99_ms") == "the run holds no summary figures"
    assert judged.verdicts.overall == "not_measured"


def test_server_series_map_to_the_resource_rows(slos):
    rows = [
        *points("server", "cpu_percent", 20.0, 40.0),
        *points("server", "memory_rss_bytes", 2**29, 2**30),
        *points("server", "network_bytes_per_s", 1e6, 3e6),
        *points("server", "disk_read_bytes_per_s", 1e6, 1e6),
        *points("server", "disk_write_bytes_per_s", 2e6, 4e6),
        *points("server", "book_update_p99_ms", 0.2, 0.4, 5.0),
        *points("server", "db_pool_use_percent", 10.0, 85.0),
    ]
    judged = judge_run(slos, RunFacts(kind="db"), frame(summary("q", 5, 1, 1)), pd.DataFrame(rows))
    assert verdict(judged, "trading_engine_cpu_percent") == ("met", 30.0)
    assert verdict(judged, "trading_engine_memory_gib") == ("met", 1.0)
    assert verdict(judged, "trading_engine_network_mbps") == ("met", 16.0)
    assert verdict(judged, "trading_engine_disk_mb_per_second") == ("met", 4.0)
    assert verdict(judged, "order_book_update_latency_ms") == ("met", 0.4)
    assert verdict(judged, "database_pool_utilization_percent") == ("missed", 85.0)
    assert judged.figures.how["trading_engine_cpu_percent"].startswith("server, exchange process")
    # a series the server did not report is named in the reason
    assert verdict(judged, "database_cache_hit_ratio_percent")[0] == "not_measured"
    assert "cache_hit_ratio" in judged.why_not("database_cache_hit_ratio_percent")
    # a component the one exchange process also serves is not measured apart
    assert "shared with the trading engine" in judged.why_not("websocket_service_cpu_percent")


def test_without_server_series_every_resource_row_says_so(slos):
    judged = judge_run(slos, RunFacts(kind="db"), frame(summary("q", 5, 1, 1)), NO_SERIES)
    assert judged.why_not("trading_engine_cpu_percent") == "the run holds no server-side series"
    assert not any(v.status == "met" and v.slo.metric != "database_query_p95_ms"
                   for v in judged.verdicts.verdicts)  # fmt: skip


def test_a_profile_judges_the_request_figures(slos):
    facts = RunFacts(kind="orders", config={"rate": 6000}, duration_s=60)
    summaries = frame(summary("POST", 6000, 8.0, 30.0, errors=12, throughput_per_s=5990.0))
    judged = judge_run(slos, facts, summaries, NO_SERIES, profile="baseline")
    assert judged.verdicts.profile == "baseline"
    assert verdict(judged, "request_latency_p95_ms") == ("met", 8.0)
    assert verdict(judged, "request_latency_p99_ms") == ("missed", 30.0)
    assert verdict(judged, "request_error_rate_percent") == ("missed", 0.2)
    assert verdict(judged, "request_throughput_rps") == ("met", 5990.0)
    assert judged.verdicts.ignored == ()
    slow = judge_run(slos, RunFacts(kind="orders", config={"rate": 100}), summaries, NO_SERIES,
                     profile="baseline")  # fmt: skip
    assert verdict(slow, "request_throughput_rps")[0] == "not_measured"
    assert "offered 100 requests/s" in slow.why_not("request_throughput_rps")
    db = judge_run(slos, RunFacts(kind="db"), summaries, NO_SERIES, profile="baseline")
    assert all(v.status == "not_measured" for v in db.verdicts.verdicts)
    assert "sends no HTTP requests" in db.why_not("request_latency_p95_ms")


def test_allow_unmeasured_passes_a_run_that_met_what_it_measured(slos):
    facts = RunFacts(kind="db")
    summaries = frame(summary("q", 5, 1.0, 1.0))
    assert judge_run(slos, facts, summaries, NO_SERIES).verdicts.overall == "not_measured"
    tolerant = judge_run(slos, facts, summaries, NO_SERIES, allow_unmeasured=True)
    assert tolerant.verdicts.overall == "met" and tolerant.verdicts.passed


def test_as_dict_carries_provenance_and_trust(slos):
    facts = RunFacts(kind="db", run_id="r1", label="v1", trusted=False, warnings=("too few",))
    doc = judge_run(slos, facts, frame(summary("q", 5, 1.0, 1.0)), NO_SERIES).as_dict()
    assert doc["trusted"] is False
    assert doc["run"]["id"] == "r1" and doc["run"]["warnings"] == ["too few"]
    rows = {r["metric"]: r for r in doc["verdicts"]}
    assert rows["database_query_p95_ms"]["how"].startswith("p95 of the slowest")
    assert rows["database_query_p95_ms"]["why_not"] is None
    assert rows["order_processing_p95_ms"]["why_not"] == "a db run does not measure it"


def test_latest_verdicts_take_the_newest_run_that_measured_a_row(slos):
    old_db = judge_run(slos, RunFacts(kind="db", run_id="old"), frame(summary("q", 5, 70, 70)),
                       NO_SERIES)  # fmt: skip
    new_orders = judge_run(slos, RunFacts(kind="orders", run_id="new"),
                           frame(summary("P", 5, 1, 2)), NO_SERIES)  # fmt: skip
    rows = {r.verdict.slo.metric: r for r in latest_verdicts([new_orders, old_db])}
    assert rows["database_query_p95_ms"].run is not None
    assert rows["database_query_p95_ms"].run.run_id == "old"
    assert rows["database_query_p95_ms"].verdict.status == "missed"
    assert rows["order_processing_p95_ms"].run is not None
    assert rows["order_processing_p95_ms"].run.run_id == "new"
    replica = rows["database_replication_lag_ms"]
    assert (
        replica.run is None and replica.why_not == "the reference stack has no replica to measure"
    )
