"""ExchangeMetrics on a fresh registry: names, labels, buckets, sources, reset, promtool."""

from __future__ import annotations

import asyncio
import shutil
import subprocess
import time

import pytest
from prometheus_client import CollectorRegistry, generate_latest

from exchange_ref.metrics import ORDER_PROCESSING_BUCKETS, ExchangeMetrics, monitor_event_loop_lag


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


@pytest.fixture
def metrics(registry: CollectorRegistry) -> ExchangeMetrics:
    return ExchangeMetrics(registry)


def _observe_everything(m: ExchangeMetrics) -> None:
    m.order_processing.labels("BTCUSD", "buy", "limit").observe(0.003)
    m.orders_processed.labels("BTCUSD", "buy", "FILLED").inc()
    m.book_update.labels("BTCUSD").observe(2e-5)
    m.trades.labels("BTCUSD").inc(2)
    m.lock_wait.labels("engine").observe(1e-4)
    m.match_to_broadcast.labels("depth").observe(5e-4)
    m.ws_connections.set(3)
    m.ws_messages_sent.labels("depth").inc()
    m.ws_bytes_sent.labels("depth").inc(120)
    m.ws_messages_dropped.labels("slow_client").inc()
    m.db_query.labels("orderbook").observe(0.002)
    m.db_commit.observe(0.004)
    m.db_commit_batch.observe(250)
    m.pending_writes.set(7)
    m.cache_requests.labels("ticker", "hit").inc()
    m.http_requests.labels("POST", "/api/v1/orders", "201").inc()
    m.http_duration.labels("POST", "/api/v1/orders").observe(0.006)
    m.http_request_bytes.labels("/api/v1/orders").inc(100)
    m.http_response_bytes.labels("/api/v1/orders").inc(300)
    m.inflight.set(1)
    m.load_shed.labels("pending_writes").inc()
    m.event_loop_lag.observe(0.001)
    m.set_pool_status_source("exchange", lambda: {"active": 2, "idle": 3, "waiting": 1, "max": 5})
    m.set_busy_wait_source(lambda: 1.5)


def test_spec_order_processing_histogram(registry, metrics):
    metrics.order_processing.labels("BTCUSD", "buy", "limit").observe(0.003)
    labels = {"symbol": "BTCUSD", "side": "buy", "type": "limit"}
    name = "pincex_order_processing_duration_seconds"
    for bound in ORDER_PROCESSING_BUCKETS:
        expected = 0.0 if bound < 0.003 else 1.0
        le = {**labels, "le": str(bound)}
        assert registry.get_sample_value(f"{name}_bucket", le) == expected
    assert ORDER_PROCESSING_BUCKETS == (0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0)
    assert registry.get_sample_value(f"{name}_count", labels) == 1.0
    text = generate_latest(registry).decode()
    assert "# HELP pincex_order_processing_duration_seconds Time spent processing orders" in text
    assert 'pincex_order_processing_duration_seconds_bucket{le="0.001",side="buy"' in text


def test_names_and_label_sets(registry, metrics):
    _observe_everything(metrics)
    get = registry.get_sample_value
    assert (
        get(
            "pincex_orders_processed_total", {"symbol": "BTCUSD", "side": "buy", "status": "FILLED"}
        )
        == 1
    )
    assert (
        get(
            "pincex_orderbook_update_duration_seconds_bucket", {"symbol": "BTCUSD", "le": "2.5e-05"}
        )
        == 1
    )
    assert get("pincex_trades_total", {"symbol": "BTCUSD"}) == 2
    assert get("pincex_lock_wait_seconds_count", {"lock": "engine"}) == 1
    broadcast = {"stream_type": "depth", "le": "0.002"}
    assert get("pincex_market_data_broadcast_latency_seconds_bucket", broadcast) == 1
    assert get("pincex_websocket_connections") == 3
    assert get("pincex_websocket_messages_sent_total", {"stream_type": "depth"}) == 1
    assert get("pincex_websocket_bytes_sent_total", {"stream_type": "depth"}) == 120
    assert get("pincex_websocket_messages_dropped_total", {"reason": "slow_client"}) == 1
    assert get("pincex_database_query_duration_seconds_count", {"query": "orderbook"}) == 1
    assert get("pincex_database_commit_duration_seconds_count") == 1
    assert get("pincex_database_commit_batch_records_bucket", {"le": "250.0"}) == 1
    assert get("pincex_database_commit_batch_records_bucket", {"le": "100000.0"}) == 1
    assert get("pincex_pending_writes") == 7
    assert get("pincex_cache_requests_total", {"cache": "ticker", "result": "hit"}) == 1
    http = {"method": "POST", "route": "/api/v1/orders"}
    assert get("pincex_http_requests_total", {**http, "status": "201"}) == 1
    assert get("pincex_http_request_duration_seconds_count", http) == 1
    assert get("pincex_http_request_bytes_total", {"route": "/api/v1/orders"}) == 100
    assert get("pincex_http_response_bytes_total", {"route": "/api/v1/orders"}) == 300
    assert get("pincex_http_requests_in_flight") == 1
    assert get("pincex_load_shed_total", {"reason": "pending_writes"}) == 1
    assert get("pincex_event_loop_lag_seconds_count") == 1
    assert get("pincex_database_busy_wait_seconds_total") == 1.5
    assert get("process_cpu_seconds_total") is not None
    assert get("process_resident_memory_bytes") is not None


def test_pool_source_is_read_at_scrape_time(registry, metrics):
    status = {"active": 2, "idle": 3, "waiting": 1, "max": 5}
    metrics.set_pool_status_source("exchange", lambda: status)
    for state, value in status.items():
        labels = {"pool": "exchange", "state": state}
        assert registry.get_sample_value("pincex_database_connections", labels) == value
    status["active"] = 4
    labels = {"pool": "exchange", "state": "active"}
    assert registry.get_sample_value("pincex_database_connections", labels) == 4


def test_failing_pool_source_drops_its_series_but_not_the_scrape(registry, metrics):
    healthy = {"active": 1, "idle": 0, "waiting": 0, "max": 1}
    metrics.set_pool_status_source("exchange", lambda: healthy)
    assert (
        registry.get_sample_value(
            "pincex_database_connections", {"pool": "exchange", "state": "max"}
        )
        == 1
    )

    def broken() -> dict[str, int]:
        raise RuntimeError("pool closed")

    metrics.set_pool_status_source("exchange", broken)
    assert (
        registry.get_sample_value(
            "pincex_database_connections", {"pool": "exchange", "state": "max"}
        )
        is None
    )
    assert registry.get_sample_value("pincex_websocket_connections") == 0


def test_disk_io_from_proc_and_absent_when_unreadable(registry, metrics, tmp_path):
    try:
        with open("/proc/self/io"):
            readable = True
    except OSError:
        readable = False
    if readable:
        assert registry.get_sample_value("pincex_process_disk_read_bytes_total") is not None
        assert registry.get_sample_value("pincex_process_disk_written_bytes_total") is not None

    fake = tmp_path / "io"
    fake.write_text("rchar: 10\nread_bytes: 4096\nwrite_bytes: 8192\n")
    other = CollectorRegistry()
    ExchangeMetrics(other, proc_io_path=fake)
    assert other.get_sample_value("pincex_process_disk_read_bytes_total") == 4096
    assert other.get_sample_value("pincex_process_disk_written_bytes_total") == 8192

    missing = CollectorRegistry()
    ExchangeMetrics(missing, proc_io_path=tmp_path / "absent")
    assert "pincex_process_disk" not in generate_latest(missing).decode()


def test_reset_zeroes_counters_and_histograms_and_keeps_levels(registry, metrics):
    _observe_everything(metrics)
    cached = metrics.ws_messages_sent.labels("depth")
    metrics.reset()
    get = registry.get_sample_value
    assert (
        get(
            "pincex_orders_processed_total", {"symbol": "BTCUSD", "side": "buy", "status": "FILLED"}
        )
        == 0
    )
    opl = {"symbol": "BTCUSD", "side": "buy", "type": "limit"}
    assert get("pincex_order_processing_duration_seconds_count", opl) == 0
    assert get("pincex_order_processing_duration_seconds_bucket", {**opl, "le": "+Inf"}) == 0
    assert get("pincex_order_processing_duration_seconds_sum", opl) == 0
    assert get("pincex_database_commit_duration_seconds_count") == 0
    assert get("pincex_database_commit_batch_records_sum") == 0
    assert get("pincex_event_loop_lag_seconds_count") == 0
    assert get("pincex_http_request_bytes_total", {"route": "/api/v1/orders"}) == 0
    assert get("pincex_websocket_messages_dropped_total", {"reason": "slow_client"}) == 0
    assert get("pincex_database_busy_wait_seconds_total") == 0
    # Levels describe now and stay; the pool source is still read.
    assert get("pincex_websocket_connections") == 3
    assert get("pincex_pending_writes") == 7
    assert get("pincex_database_connections", {"pool": "exchange", "state": "max"}) == 5
    assert get("process_cpu_seconds_total") is not None
    # A child cached before the reset keeps counting into the exported series.
    cached.inc()
    assert get("pincex_websocket_messages_sent_total", {"stream_type": "depth"}) == 1
    # Nothing was unregistered: observing again works and is exported.
    metrics.db_commit.observe(0.01)
    assert get("pincex_database_commit_duration_seconds_count") == 1


def test_busy_wait_counts_from_the_reset_baseline(registry, metrics):
    total = [2.0]
    metrics.set_busy_wait_source(lambda: total[0])
    metrics.reset()
    total[0] = 2.25
    assert registry.get_sample_value("pincex_database_busy_wait_seconds_total") == 0.25


@pytest.mark.skipif(
    shutil.which("promtool") is None, reason="promtool not installed (make sysdeps)"
)
def test_promtool_check_metrics_is_clean(registry, metrics):
    _observe_everything(metrics)
    exposition = generate_latest(registry)
    result = subprocess.run(
        ["promtool", "check", "metrics"], input=exposition, capture_output=True, timeout=60
    )
    assert result.returncode == 0, result.stdout.decode() + result.stderr.decode()
    assert result.stdout.decode() + result.stderr.decode() in ("", "All checks passed!\n")


def test_event_loop_lag_monitor_observes_a_blocked_loop(registry, metrics):
    async def scenario() -> None:
        task = asyncio.create_task(monitor_event_loop_lag(metrics, interval=0.01))
        await asyncio.sleep(0)  # the monitor starts its first sleep
        time.sleep(0.05)  # block the loop: that wake-up is at least 0.04 s late
        await asyncio.sleep(0.03)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(scenario())
    count = registry.get_sample_value("pincex_event_loop_lag_seconds_count")
    assert count is not None and count >= 1
    assert registry.get_sample_value("pincex_event_loop_lag_seconds_sum") >= 0.04
    on_time = registry.get_sample_value("pincex_event_loop_lag_seconds_bucket", {"le": "0.025"})
    assert on_time < count


def test_lag_monitor_rejects_a_non_positive_interval(metrics):
    with pytest.raises(ValueError):
        asyncio.run(monitor_event_loop_lag(metrics, interval=0))


def test_child_cache_resolves_each_label_set_once_and_survives_a_reset(registry, metrics):
    from exchange_ref.metrics import ChildCache

    processed = ChildCache(metrics.orders_processed)
    first = processed("BTCUSD", "BUY", "FILLED")
    assert processed("BTCUSD", "BUY", "FILLED") is first
    assert processed("BTCUSD", "SELL", "FILLED") is not first
    first.inc(2)
    labels = {"symbol": "BTCUSD", "side": "BUY", "status": "FILLED"}
    assert registry.get_sample_value("pincex_orders_processed_total", labels) == 2
    metrics.reset()
    processed("BTCUSD", "BUY", "FILLED").inc()
    assert registry.get_sample_value("pincex_orders_processed_total", labels) == 1
