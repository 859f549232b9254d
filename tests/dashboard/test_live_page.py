"""The live page through AppTest against the session's real exchange: metrics after two scrapes;
a closed port or a remote host is a notice, never an exception. And the live module's pure parts
on literal snapshots."""

from __future__ import annotations

import socket
from collections.abc import Callable
from datetime import datetime
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from collectors.scrape.parse import Snapshot, labels_of
from dashboard import live
from exchange_ref.server import ServerThread
from tests.dashboard.conftest import FilledStore


def _metrics(at: AppTest) -> dict[str, str]:
    return {m.label: m.value for m in at.metric}


def _point_at(at: AppTest, url: str) -> AppTest:
    at.sidebar.text_input(key="live_url").set_value(url).run()
    return at


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def test_live_metrics_of_the_real_exchange_after_two_scrapes(
    page: Callable[..., AppTest], tmp_path: Path, filled_store: FilledStore
) -> None:
    # filled_store ran orders on the exchange, so its order counters exist
    at = _point_at(page(tmp_path / "empty.duckdb", "live.py"), f"{filled_store.url}/metrics")
    assert not at.exception, [e.value for e in at.exception]
    first = _metrics(at)
    assert first["Memory (RSS)"].endswith(" MB")
    assert first["Orders/s"] == "—"  # a rate needs two scrapes
    assert any("two scrapes" in c.value for c in at.caption)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    shown = _metrics(at)
    assert shown["Orders/s"] != "—"
    assert shown["CPU"].endswith(" %")
    assert shown["DB pool active / max"].split(" / ")[1].isdigit()
    assert any("2 samples kept" in c.value for c in at.caption)
    assert at.get("plotly_chart")
    assert not at.warning


def test_live_page_reads_the_exchange_fixture(
    page: Callable[..., AppTest], tmp_path: Path, exchange: ServerThread
) -> None:
    at = page(tmp_path / "empty.duckdb", "live.py", query={"url": f"{exchange.url}/metrics"})
    assert at.sidebar.text_input(key="live_url").value == f"{exchange.url}/metrics"
    at.run()
    assert not at.exception and not at.warning
    assert _metrics(at)["HTTP in flight · WebSockets"] != "— · —"


def test_a_closed_port_is_a_notice(page: Callable[..., AppTest], tmp_path: Path) -> None:
    url = f"http://127.0.0.1:{_closed_port()}/metrics"
    at = _point_at(page(tmp_path / "empty.duckdb", "live.py"), url)
    at.run()
    assert not at.exception
    notices = [w.value for w in at.warning]
    assert len(notices) == 1 and url in notices[0] and "did not answer" in notices[0]
    assert "\n" not in notices[0]
    assert not at.metric


def test_a_remote_host_is_refused_unless_allowed(
    page: Callable[..., AppTest], tmp_path: Path
) -> None:
    at = _point_at(page(tmp_path / "empty.duckdb", "live.py"), "http://192.0.2.1:9/metrics")
    assert not at.exception
    assert any("not a loopback address" in w.value for w in at.warning)
    at.sidebar.checkbox(key="live_allow_remote").check().run()
    assert not at.exception
    assert not any("not a loopback address" in w.value for w in at.warning)
    assert any("No metrics from http://192.0.2.1:9/metrics" in w.value for w in at.warning)


# --- the pure parts ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "allow", "refused"),
    [
        ("http://127.0.0.1:8080/metrics", False, None),
        ("http://localhost:8080/metrics", False, None),
        ("http://[::1]:8080/metrics", False, None),
        ("http://10.0.0.5:8080/metrics", False, "not a loopback address"),
        ("http://10.0.0.5:8080/metrics", True, None),
        ("ftp://127.0.0.1/metrics", False, "not an http"),
        ("127.0.0.1:8080", False, "not an http"),
        ("http://127.0.0.1:99999/metrics", False, "bad port"),
    ],
)
def test_check_url(url: str, allow: bool, refused: str | None) -> None:
    problem = live.check_url(url, allow)
    if refused is None:
        assert problem is None
    else:
        assert problem is not None and refused in problem


def _snapshot(at: float, filled: float, pending: float, buckets: list[float]) -> Snapshot:
    bounds = ("0.001", "0.005", "0.01", "+Inf")
    return Snapshot(
        at,
        {
            "pincex_orders_processed_total": {
                labels_of({"side": "BUY", "status": "FILLED"}): filled,
                labels_of({"side": "BUY", "status": "PENDING"}): pending,
            },
            "pincex_order_processing_duration_seconds_bucket": {
                labels_of({"le": le}): count for le, count in zip(bounds, buckets, strict=True)
            },
            "process_cpu_seconds_total": {(): at / 2},
            "process_resident_memory_bytes": {(): 2e8},
            "pincex_http_requests_in_flight": {(): 3.0},
            "pincex_database_connections": {
                labels_of({"pool": "exchange", "state": "active"}): 2.0,
                labels_of({"pool": "exchange", "state": "max"}): 5.0,
            },
        },
    )


def test_one_scrape_gives_gauges_two_give_rates_and_quantiles() -> None:
    s0 = _snapshot(10.0, 100, 50, [0, 0, 0, 0])
    s1 = _snapshot(12.0, 300, 150, [50, 90, 100, 100])
    first = live.sample(None, s0)
    assert first == {
        "memory_rss_bytes": 2e8,
        "http_in_flight": 3.0,
        "db_pool_active": 2.0,
        "db_pool_max": 5.0,
    }
    second = live.sample(s0, s1)
    assert second["orders_per_s"] == 150.0
    assert second["orders_per_s.filled"] == 100.0
    assert second["orders_per_s.pending"] == 50.0
    assert second["cpu_percent"] == pytest.approx(50.0)
    assert second["order_processing_p50_ms"] == pytest.approx(1.0)
    assert second["order_processing_p99_ms"] == pytest.approx(9.5)
    assert live.sample(s1, s1) == first  # no interval: gauges only


def test_history_keeps_the_newest_rows() -> None:
    history: list[dict[str, object]] = []
    for i in range(5):
        history = live.remember(history, {"orders_per_s": float(i)}, datetime(2026, 1, 1), keep=3)
    frame = live.live_frame(history)
    assert frame["orders_per_s"].tolist() == [2.0, 3.0, 4.0]
    history = live.remember(history, {"orders_per_s.filled": 1.0}, datetime(2026, 1, 1), keep=3)
    assert live.statuses(live.live_frame(history)) == ["filled"]
    assert live.live_frame([]).empty
