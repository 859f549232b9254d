"""The load test's correctness check through the exchange's audit routes, on a real exchange."""

from __future__ import annotations

import socket
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import pytest

from collectors.bench.admin import AdminClient
from collectors.bench.errors import BenchFailed
from collectors.loadtest.invariants import AuditClient, AuditFailed, id_ranges
from exchange_ref.audit import CHECK_NAMES, MAX_AUDIT_RANGES
from exchange_ref.server import ServerThread
from tests.factories import exchange_settings

ADMIN_KEY = "test-admin-key-0123456"


@pytest.fixture
def exchange(tmp_path: Path) -> Iterator[ServerThread]:
    with ServerThread(exchange_settings(tmp_path)) as server:
        yield server


def _place(url: str, keys: list[str], n: int) -> np.ndarray:
    """`n` orders around 50,000 (every third one crossing); their acknowledged ids."""
    ids = []
    with httpx.Client(base_url=url, timeout=10) as client:
        for i in range(n):
            side = "BUY" if i % 2 else "SELL"
            offset = -5 if i % 3 == 0 else 5
            price = 50_000 - offset if side == "BUY" else 50_000 + offset
            r = client.post(
                "/api/v1/orders",
                headers={"X-API-Key": keys[i % len(keys)]},
                json={"symbol": "BTCUSD", "side": side, "quantity": "0.1", "price": str(price)},
            )
            assert r.status_code == 201, r.text
            ids.append(r.json()["orderId"])
    return np.array(ids, dtype=np.int64)


def test_ids_become_runs_of_consecutive_ids() -> None:
    ids = np.array([5, 3, 4, 4, 10, 1, 11, 12], dtype=np.int64)
    assert id_ranges(ids) == [[1, 1], [3, 5], [10, 12]]
    assert id_ranges(np.array([], dtype=np.int64)) == []
    assert id_ranges(np.arange(1, 1_000_001, dtype=np.int64)) == [[1, 1_000_000]]


def test_a_healthy_run_passes_every_invariant(exchange: ServerThread) -> None:
    keys = AdminClient(exchange.url, ADMIN_KEY).seed_users(3, "BTCUSD", "audit")
    audit = AuditClient(exchange.url, ADMIN_KEY)
    snapshot = audit.snapshot()
    ids = _place(exchange.url, keys, 60)
    results = audit.check(snapshot, ids[::-1])  # any order
    assert [r.name for r in results] == list(CHECK_NAMES)
    assert [r.name for r in results if not r.passed] == []
    assert "all 60 acknowledged orders (1 id range)" in results[0].detail
    assert all(r.passed for r in audit.check(None, None))


def test_a_lost_order_fails_orders_present(exchange: ServerThread, tmp_path: Path) -> None:
    keys = AdminClient(exchange.url, ADMIN_KEY).seed_users(2, "BTCUSD", "audit")
    audit = AuditClient(exchange.url, ADMIN_KEY)
    snapshot = audit.snapshot()
    ids = _place(exchange.url, keys, 20)
    db = sqlite3.connect(tmp_path / "exchange.db")
    try:
        db.execute("DELETE FROM orders WHERE id = ?", (int(ids[7]),))
        db.commit()
    finally:
        db.close()
    failed = {r.name: r.detail for r in audit.check(snapshot, ids) if not r.passed}
    assert "orders_present" in failed
    assert (
        f"1 of 20 acknowledged orders (1 id range) not in the store; first: {ids[7]}"
        == (failed["orders_present"])
    )


def test_a_wrong_admin_key_is_a_clear_failure(exchange: ServerThread) -> None:
    with pytest.raises(AuditFailed, match=r"cannot take an audit snapshot .* HTTP 403"):
        AuditClient(exchange.url, "not-the-key").snapshot()
    with pytest.raises(AuditFailed, match=r"cannot audit the exchange .* HTTP 403"):
        AuditClient(exchange.url, "not-the-key").check(None, None)


def test_an_unknown_snapshot_is_a_clear_failure(exchange: ServerThread) -> None:
    with pytest.raises(AuditFailed, match=r"HTTP 404 .*unknown snapshot"):
        AuditClient(exchange.url, ADMIN_KEY).check("feedfacefeedface", None)


def test_an_unreachable_exchange_is_a_clear_failure() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(AuditFailed, match=r"cannot take an audit snapshot on .*ConnectError") as e:
        AuditClient(f"http://127.0.0.1:{port}", ADMIN_KEY, timeout=2).snapshot()
    assert isinstance(e.value, BenchFailed)


def test_too_many_ranges_are_refused_before_sending() -> None:
    scattered = np.arange(1, 2 * (MAX_AUDIT_RANGES + 1), 2, dtype=np.int64)
    with pytest.raises(AuditFailed, match=f"{MAX_AUDIT_RANGES + 1} ranges, more than"):
        AuditClient("http://127.0.0.1:9", ADMIN_KEY).check(None, scattered)
