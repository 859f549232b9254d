"""Server-side scraping: exposition parsing, interval series math, and the scraper end to end."""

from __future__ import annotations

import http.server
import math
import socket
import threading
import time
from collections.abc import Iterator

import httpx
import pytest

from collectors.scrape import (
    DirectScrape,
    ParseError,
    Scraper,
    ScrapeResult,
    histogram_quantile,
    parse_exposition,
    server_series,
)
from collectors.scrape.series import bucket_increases
from exchange_ref.server import ServerThread
from tests.factories import exchange_settings

ADMIN = {"X-API-Key": "test-admin-key-0123456"}

OP = "pincex_order_processing_duration_seconds"
OP_BOUNDS = ("0.001", "0.005", "0.01", "0.025", "0.05", "0.1", "0.25", "0.5", "1.0", "+Inf")


def hist(name: str, labels: str, bounds: tuple[str, ...], counts: list[int]) -> str:
    """Exposition lines of one histogram child with cumulative `counts` per bound."""
    sep = "," if labels else ""
    lines = [
        f'{name}_bucket{{{labels}{sep}le="{b}"}} {c}' for b, c in zip(bounds, counts, strict=True)
    ]
    lines.append(f"{name}_count{{{labels}}} {counts[-1]}")
    return "\n".join(lines)


def text(parts: list[str]) -> str:
    return "\n".join(parts) + "\n"


T0 = text(
    [
        f"# TYPE {OP} histogram",
        hist(OP, 'side="BUY",symbol="BTCUSD",type="LIMIT"', OP_BOUNDS, [10] + [20] * 9),
        hist(OP, 'side="SELL",symbol="BTCUSD",type="LIMIT"', OP_BOUNDS, [0] * 10),
        "# TYPE pincex_orders_processed_total counter",
        'pincex_orders_processed_total{side="BUY",status="FILLED",symbol="BTCUSD"} 50',
        'pincex_orders_processed_total{side="BUY",status="PENDING",symbol="BTCUSD"} 10',
        "# TYPE pincex_orderbook_update_duration_seconds histogram",
        hist(
            "pincex_orderbook_update_duration_seconds",
            'symbol="BTCUSD"',
            ("0.0001", "0.001", "+Inf"),
            [100, 200, 200],
        ),
        "# TYPE pincex_event_loop_lag_seconds histogram",
        hist("pincex_event_loop_lag_seconds", "", ("0.1", "0.5", "+Inf"), [0, 0, 0]),
        "# TYPE pincex_database_query_duration_seconds histogram",
        hist(
            "pincex_database_query_duration_seconds",
            'query="insert"',
            ("0.001", "0.01", "+Inf"),
            [0, 0, 0],
        ),
        hist(
            "pincex_database_query_duration_seconds",
            'query="select"',
            ("0.001", "0.01", "+Inf"),
            [0, 0, 0],
        ),
        "# TYPE process_cpu_seconds_total counter",
        "process_cpu_seconds_total 1.0",
        "# TYPE process_resident_memory_bytes gauge",
        "process_resident_memory_bytes 1.0e8",
        "# TYPE pincex_http_request_bytes_total counter",
        'pincex_http_request_bytes_total{route="/api/v1/orders"} 1000',
        "# TYPE pincex_http_response_bytes_total counter",
        'pincex_http_response_bytes_total{route="/api/v1/orders"} 0',
        "# TYPE pincex_process_disk_read_bytes_total counter",
        "pincex_process_disk_read_bytes_total 0",
        "# TYPE pincex_process_disk_written_bytes_total counter",
        "pincex_process_disk_written_bytes_total 100",
        "# TYPE pincex_cache_requests_total counter",
        'pincex_cache_requests_total{cache="ticker",result="hit"} 10',
        'pincex_cache_requests_total{cache="ticker",result="miss"} 5',
    ]
)

T1 = text(
    [
        f"# TYPE {OP} histogram",
        hist(OP, 'side="BUY",symbol="BTCUSD",type="LIMIT"', OP_BOUNDS, [30, 80] + [100] * 8),
        hist(OP, 'side="SELL",symbol="BTCUSD",type="LIMIT"', OP_BOUNDS, [0, 0, 10] + [20] * 7),
        "# TYPE pincex_orders_processed_total counter",
        # FILLED went 50 -> 30: a reset, so the increase is 30.
        'pincex_orders_processed_total{side="BUY",status="FILLED",symbol="BTCUSD"} 30',
        'pincex_orders_processed_total{side="BUY",status="PENDING",symbol="BTCUSD"} 20',
        "# TYPE pincex_orderbook_update_duration_seconds histogram",
        # Reset too: every bucket is below its t0 value.
        hist(
            "pincex_orderbook_update_duration_seconds",
            'symbol="BTCUSD"',
            ("0.0001", "0.001", "+Inf"),
            [5, 10, 10],
        ),
        "# TYPE pincex_event_loop_lag_seconds histogram",
        hist("pincex_event_loop_lag_seconds", "", ("0.1", "0.5", "+Inf"), [90, 98, 100]),
        "# TYPE pincex_database_query_duration_seconds histogram",
        hist(
            "pincex_database_query_duration_seconds",
            'query="insert"',
            ("0.001", "0.01", "+Inf"),
            [0, 10, 10],
        ),
        hist(
            "pincex_database_query_duration_seconds",
            'query="select"',
            ("0.001", "0.01", "+Inf"),
            [10, 10, 10],
        ),
        "# TYPE pincex_database_connections gauge",
        'pincex_database_connections{pool="exchange",state="active"} 3',
        'pincex_database_connections{pool="exchange",state="idle"} 7',
        'pincex_database_connections{pool="exchange",state="max"} 10',
        "# TYPE pincex_pending_writes gauge",
        "pincex_pending_writes 7",
        "# TYPE pincex_http_requests_in_flight gauge",
        "pincex_http_requests_in_flight 3",
        "# TYPE process_cpu_seconds_total counter",
        "process_cpu_seconds_total 2.5",
        "# TYPE process_resident_memory_bytes gauge",
        "process_resident_memory_bytes 1.5e8",
        "# TYPE pincex_http_request_bytes_total counter",
        'pincex_http_request_bytes_total{route="/api/v1/orders"} 3000',
        "# TYPE pincex_http_response_bytes_total counter",
        'pincex_http_response_bytes_total{route="/api/v1/orders"} 8000',
        "# TYPE pincex_process_disk_read_bytes_total counter",
        "pincex_process_disk_read_bytes_total 4096",
        "# TYPE pincex_process_disk_written_bytes_total counter",
        "pincex_process_disk_written_bytes_total 100",
        "# TYPE pincex_cache_requests_total counter",
        'pincex_cache_requests_total{cache="ticker",result="hit"} 40',
        'pincex_cache_requests_total{cache="ticker",result="miss"} 15',
    ]
)


# --- parsing -------------------------------------------------------------------------------


def test_parse_keys_samples_by_name_and_sorted_labels():
    snap = parse_exposition(
        "# HELP pincex_orders_processed_total Total number of orders processed\n"
        "# TYPE pincex_orders_processed_total counter\n"
        'pincex_orders_processed_total{symbol="BTCUSD",side="BUY",status="FILLED"} 3.0\n'
        "# TYPE pincex_pending_writes gauge\n"
        "pincex_pending_writes 4.0\n",
        at=5.0,
    )
    assert snap.at == 5.0 and len(snap) == 2
    assert snap.get("pincex_orders_processed_total") == {
        (("side", "BUY"), ("status", "FILLED"), ("symbol", "BTCUSD")): 3.0
    }
    assert snap.get("pincex_pending_writes") == {(): 4.0}
    assert snap.get("absent") == {}


@pytest.mark.parametrize("body", ["<html><body>Not found</body></html>", "hello world", '{"a":1}'])
def test_parse_refuses_garbage(body):
    with pytest.raises(ParseError, match="not Prometheus text"):
        parse_exposition(body, at=0.0)


# --- quantiles -----------------------------------------------------------------------------


def test_histogram_quantile_interpolates_inside_the_bucket():
    buckets = [(0.001, 20.0), (0.005, 60.0), (0.01, 90.0), (0.025, 100.0), (math.inf, 100.0)]
    q = histogram_quantile(0.5, buckets)
    assert q is not None
    assert q.value == pytest.approx(0.004) and (q.lo, q.hi) == (0.001, 0.005)
    first = histogram_quantile(0.1, buckets)
    assert first is not None and (first.value, first.lo, first.hi) == (0.0005, 0.0, 0.001)


def test_histogram_quantile_past_the_top_bucket_is_the_top_bound():
    q = histogram_quantile(0.99, [(0.1, 90.0), (0.5, 98.0), (math.inf, 100.0)])
    assert q is not None and (q.value, q.lo, q.hi) == (0.5, 0.5, math.inf)


def test_histogram_quantile_needs_observations_and_an_inf_bucket():
    assert histogram_quantile(0.5, [(0.1, 0.0), (math.inf, 0.0)]) is None
    assert histogram_quantile(0.5, [(0.1, 3.0), (0.2, 3.0)]) is None
    assert histogram_quantile(0.5, [(math.inf, 3.0)]) is None


def test_bucket_increases_sum_children_and_restart_a_reset_child():
    s0, s1 = parse_exposition(T0, 10.0), parse_exposition(T1, 12.0)
    assert bucket_increases(s0, s1, OP) == {
        "": [(float(b), c) for b, c in zip(OP_BOUNDS, [20, 60, 90] + [100.0] * 7, strict=True)]
    }
    book = bucket_increases(s0, s1, "pincex_orderbook_update_duration_seconds")
    assert book == {"": [(0.0001, 5.0), (0.001, 10.0), (math.inf, 10.0)]}
    by_query = bucket_increases(s0, s1, "pincex_database_query_duration_seconds", by="query")
    assert by_query["insert"] == [(0.001, 0.0), (0.01, 10.0), (math.inf, 10.0)]


# --- the series ----------------------------------------------------------------------------


def test_server_series_over_one_interval():
    series = server_series(parse_exposition(T0, 10.0), parse_exposition(T1, 12.0))
    expected = {
        # order processing: deltas 20, 60, 90, 100 cumulative over 1, 5, 10, 25 ms
        "order_processing_p50_ms": 4.0,
        "order_processing_p50_lo_ms": 1.0,
        "order_processing_p50_hi_ms": 5.0,
        "order_processing_p95_ms": 17.5,
        "order_processing_p95_lo_ms": 10.0,
        "order_processing_p95_hi_ms": 25.0,
        "order_processing_p99_ms": 23.5,
        "order_processing_p99_lo_ms": 10.0,
        "order_processing_p99_hi_ms": 25.0,
        # counter reset: FILLED counts 30 (its post-reset value), PENDING 10, over 2 s
        "orders_per_s": 20.0,
        "orders_per_s.filled": 15.0,
        "orders_per_s.pending": 5.0,
        # histogram reset: the t1 buckets 5, 10 are the increase
        "book_update_p95_ms": 0.91,
        "book_update_p95_lo_ms": 0.1,
        "book_update_p95_hi_ms": 1.0,
        "book_update_p99_ms": 0.982,
        "book_update_p99_lo_ms": 0.1,
        "book_update_p99_hi_ms": 1.0,
        # past the top finite bucket: the bound, no upper bound
        "event_loop_lag_p99_ms": 500.0,
        "event_loop_lag_p99_lo_ms": 500.0,
        "db_query_p95_ms": 9.1,
        "db_query_p95_lo_ms": 1.0,
        "db_query_p95_hi_ms": 10.0,
        "db_query_p95_ms.insert": 9.55,
        "db_query_p95_lo_ms.insert": 1.0,
        "db_query_p95_hi_ms.insert": 10.0,
        "db_query_p95_ms.select": 0.95,
        "db_query_p95_lo_ms.select": 0.0,
        "db_query_p95_hi_ms.select": 1.0,
        "cpu_percent": 75.0,
        "memory_rss_bytes": 1.5e8,
        "network_in_bytes_per_s": 1000.0,
        "network_out_bytes_per_s": 4000.0,
        "network_bytes_per_s": 5000.0,
        "disk_read_bytes_per_s": 2048.0,
        "disk_write_bytes_per_s": 0.0,
        "db_pool_use_percent": 30.0,
        "cache_hit_ratio": 0.75,
        "queue_depth": 10.0,
    }
    assert series == pytest.approx(expected)


def test_missing_metrics_give_missing_series():
    empty = server_series(parse_exposition("", 0.0), parse_exposition("", 1.0))
    assert empty == {}
    only_orders = server_series(parse_exposition("", 0.0), parse_exposition(T0, 1.0))
    assert "match_to_broadcast_p95_ms" not in only_orders
    # a series first seen at t1 counts from zero
    assert only_orders["orders_per_s"] == 60.0


def test_server_series_refuses_scrapes_out_of_order():
    with pytest.raises(ValueError, match="out of order"):
        server_series(parse_exposition(T0, 2.0), parse_exposition(T1, 2.0))


# --- the scraper against real servers ------------------------------------------------------


def order(side: str, price: int) -> dict[str, object]:
    return {
        "symbol": "BTCUSD",
        "side": side,
        "type": "LIMIT",
        "timeInForce": "GTC",
        "quantity": 0.01,
        "price": price,
    }


def test_scraper_follows_a_live_exchange(tmp_path):
    server = ServerThread(exchange_settings(tmp_path)).start()
    try:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            r = client.post("/admin/users", json={"count": 2}, headers=ADMIN)
            assert r.status_code == 201, r.text
            keys = [{"X-API-Key": u["apiKey"]} for u in r.json()["users"]]
            with DirectScrape(server.url, timeout=2.0) as source:
                scraper = Scraper(source, interval=0.5, duration=3.0).start()
                deadline = time.monotonic() + 2.5
                i = 0
                while time.monotonic() < deadline:
                    side, price = ("SELL", 50000) if i % 2 else ("BUY", 50000)
                    r = client.post("/api/v1/orders", json=order(side, price), headers=keys[i % 2])
                    assert r.status_code == 201, r.text
                    i += 1
                    time.sleep(0.01)
                result = scraper.join(timeout=10)
    finally:
        server.stop()
    assert not result.partial, result.problems
    assert result.problems == []
    names = result.names()
    for name in ("order_processing_p50_ms", "order_processing_p95_ms", "order_processing_p99_ms"):
        assert name in names
    assert "order_processing_p95_lo_ms" in names and "order_processing_p95_hi_ms" in names
    assert max(v for _, v in result.series("orders_per_s")) > 0
    assert "memory_rss_bytes" in names and "db_pool_use_percent" in names
    seconds = [s for s, _ in result.series("memory_rss_bytes")]
    assert seconds == sorted(seconds) and seconds[0] > 0 and seconds[-1] <= 3.5
    assert all(p.side == "server" for p in result.points)


class _Fixed(http.server.BaseHTTPRequestHandler):
    status = 404
    body = b"Not Found"

    def do_GET(self) -> None:
        self.send_response(self.status)
        self.send_header("Content-Length", str(len(self.body)))
        self.end_headers()
        self.wfile.write(self.body)

    def log_message(self, format: str, *args: object) -> None:
        pass


class _Garbage(_Fixed):
    status = 200
    body = b"<html><body>hello</body></html>"


@pytest.fixture(params=[_Fixed, _Garbage], ids=["404", "garbage"])
def bad_target(request) -> Iterator[tuple[str, str]]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), request.param)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        expected = "HTTP 404" if request.param is _Fixed else "answered garbage"
        yield f"http://127.0.0.1:{server.server_address[1]}", expected
    finally:
        server.shutdown()
        server.server_close()


def _scrape_briefly(url: str) -> ScrapeResult:
    with DirectScrape(url, timeout=1.0) as source:
        return Scraper(source, interval=0.1, duration=0.3).start().join(timeout=10)


def test_a_bad_target_gives_a_partial_result(bad_target):
    url, expected = bad_target
    result = _scrape_briefly(url)
    assert result.partial and result.points == []
    assert result.reason is not None and result.reason.startswith("the target's /metrics")
    assert expected in result.reason
    assert result.failed_scrapes == result.scrapes == 4
    assert len(result.problems) == 1


def test_a_refused_connection_gives_a_partial_result():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    result = _scrape_briefly(f"http://127.0.0.1:{port}")
    assert result.partial
    assert result.reason is not None
    assert result.reason.startswith("the target's /metrics did not answer:")


class _Script:
    """A source replaying literal scrapes, then failing."""

    def __init__(self, texts: list[str]) -> None:
        self.texts = texts
        self.calls = 0

    def scrape(self):
        self.calls += 1
        if not self.texts:
            raise RuntimeError("gone")
        return parse_exposition(self.texts.pop(0), time.monotonic())


def test_stop_ends_an_open_ended_scraper_and_unexpected_errors_are_problems():
    source = _Script([T0, T1])
    scraper = Scraper(source, interval=0.05).start()
    time.sleep(0.3)
    result = scraper.stop(timeout=5)
    assert not scraper._thread.is_alive()
    assert result.partial
    assert result.problems == ["the scrape failed: RuntimeError('gone')"]
    assert result.series("orders_per_s") and result.series("orders_per_s")[0][1] > 0


class _Foreign(_Fixed):
    """A /metrics in good Prometheus text with none of the exchange's metrics (nginx, any app)."""

    status = 200
    body = b"# TYPE foo_total counter\nfoo_total 1\n"


def test_metrics_that_are_not_the_exchanges_give_a_partial_result_with_a_reason():
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Foreign)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        result = _scrape_briefly(f"http://127.0.0.1:{server.server_address[1]}")
    finally:
        server.shutdown()
        server.server_close()
    assert result.partial and result.points == []
    assert result.reason == (
        "the target's /metrics has none of the exchange's metrics (pincex_*, process_*)"
    )


def test_a_single_scrape_says_why_there_is_no_interval():
    source = _Script([T0])
    result = Scraper(source, interval=5, duration=0).start().join(timeout=5)
    assert source.calls == 1 and result.problems == []
    assert result.partial and result.points == []
    assert result.reason is not None and "only 1 scrape(s)" in result.reason
