"""The exchange audits itself: a healthy run passes every check, and each kind of damage done
to the store behind the exchange's back fails the check that names it (SQLite and PostgreSQL)."""

from __future__ import annotations

import random
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from exchange_ref.audit_checks import CHECK_NAMES
from exchange_ref.server import ServerThread
from tests.exchange_ref.api.conftest import ADMIN, key
from tests.factories import exchange_settings

DEPOSITS = {"USD": "10000000", "BTC": "1000"}


def _orders(rng: random.Random, n: int) -> list[dict[str, str]]:
    """Limit orders around 50,000: about a third cross the book, the rest rest on it."""
    out = []
    for _ in range(n):
        side = rng.choice(["BUY", "SELL"])
        offset = rng.randint(1, 30)
        if rng.random() < 0.35:
            offset = -20
        price = 50_000 - offset if side == "BUY" else 50_000 + offset
        out.append(
            {
                "symbol": "BTCUSD",
                "side": side,
                "type": "LIMIT",
                "timeInForce": rng.choice(["GTC", "GTC", "IOC"]),
                "quantity": f"{rng.randint(1, 200) / 100:.2f}",
                "price": str(price),
            }
        )
    return out


@dataclass
class Audited:
    """A live exchange that took a snapshot, then a flow of orders from three users."""

    client: httpx.Client
    db: sa.Engine
    snapshot: str
    acknowledged: list[int]

    def audit(self, **body: Any) -> dict[str, Any]:
        body.setdefault("snapshot", self.snapshot)
        body.setdefault("order_ids", [[i, i] for i in self.acknowledged])
        r = self.client.post("/admin/audit", json=body, headers=ADMIN)
        assert r.status_code == 200, r.text
        return dict(r.json())

    def sql(self, statement: str) -> None:
        with self.db.begin() as conn:
            assert conn.execute(sa.text(statement)).rowcount >= 1, statement

    def one(self, query: str) -> Any:
        with self.db.connect() as conn:
            return conn.execute(sa.text(query)).scalar_one()


def _url(tmp_path: Path, backend: str, request: pytest.FixtureRequest) -> str:
    if backend == "postgres":
        return str(request.getfixturevalue("pg_url"))
    return f"sqlite:///{tmp_path / 'exchange.db'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def audited(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Audited]:
    url = _url(tmp_path, request.param, request)
    settings = exchange_settings(tmp_path, database_url=url)
    with ServerThread(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        users = client.post(
            "/admin/users", json={"count": 3, "balances": DEPOSITS}, headers=ADMIN
        ).json()["users"]
        # orders before the snapshot: resting ones are touched after it
        rng = random.Random(7)
        for i in range(3):
            client.post("/api/v1/orders/batch", json=_orders(rng, 30), headers=key(users[i]))
        r = client.post("/admin/audit/snapshot", headers=ADMIN)
        assert r.status_code == 200, r.text
        snap = r.json()
        acknowledged = []
        for i in range(12):
            answer = client.post(
                "/api/v1/orders/batch", json=_orders(rng, 40), headers=key(users[i % 3])
            ).json()
            acknowledged += [o["orderId"] for o in answer["successful"]]
        engine = sa.create_engine(url.replace("sqlite:///", "sqlite:///", 1))
        try:
            yield Audited(client, engine, snap["snapshot"], acknowledged)
        finally:
            engine.dispose()


def _failed(report: dict[str, Any]) -> dict[str, str]:
    return {c["name"]: c["detail"] for c in report["checks"] if not c["passed"]}


def test_a_healthy_run_passes_every_check(audited: Audited) -> None:
    report = audited.audit()
    assert [c["name"] for c in report["checks"]] == list(CHECK_NAMES)
    assert _failed(report) == {}
    assert report["passed"] is True
    assert report["snapshot"] == audited.snapshot
    assert report["max_order_id"] == max(audited.acknowledged)
    trades = audited.one("SELECT COUNT(*) FROM trades")
    assert trades > 0 and report["max_trade_id"] == trades
    details = {c["name"]: c["detail"] for c in report["checks"]}
    n = len(audited.acknowledged)
    assert f"all {n} acknowledged orders" in details["orders_present"]
    assert "3 users" in details["funds_conserved"]
    assert "of 3 users against their trades" in details["balances_reconcile_with_trades"]
    # without a snapshot or ids: every id the exchange numbered, and no reconciliation
    bare = audited.client.post("/admin/audit", headers=ADMIN).json()
    assert bare["passed"] is True and bare["snapshot"] is None
    bare_details = {c["name"]: c["detail"] for c in bare["checks"]}
    assert (
        f"all {report['max_order_id']} orders the exchange numbered"
        in (bare_details["orders_present"])
    )
    assert bare_details["balances_reconcile_with_trades"].startswith("not checked")


def test_the_audit_waits_for_orders_still_being_committed(audited: Audited) -> None:
    """A snapshot and an audit taken straight after acknowledged orders see all of them."""
    body = _orders(random.Random(1), 1)[0]
    users = audited.client.post("/admin/users", json={"count": 1}, headers=ADMIN).json()["users"]
    placed = audited.client.post("/api/v1/orders", json=body, headers=key(users[0])).json()
    report = audited.audit(order_ids=[[placed["orderId"], placed["orderId"]]])
    assert report["passed"] is True, _failed(report)
    assert "1 users created since, from their deposits" in report["checks"][2]["detail"]


def test_a_deleted_order_fails_orders_present(audited: Audited) -> None:
    gone = sorted(audited.acknowledged)[len(audited.acknowledged) // 2]
    audited.sql(f"DELETE FROM orders WHERE id = {gone}")
    failed = _failed(audited.audit())
    assert "orders_present" in failed
    assert f"1 of {len(audited.acknowledged)} acknowledged orders" in failed["orders_present"]
    assert f"first: {gone}" in failed["orders_present"]


def test_a_changed_balance_fails_conservation_reconciliation_and_memory(audited: Audited) -> None:
    audited.sql(
        "UPDATE balances SET available = available + 100 WHERE asset = 'USD' AND user_id = "
        "(SELECT user_id FROM balances ORDER BY user_id LIMIT 1)"
    )
    failed = _failed(audited.audit())
    assert set(failed) == {
        "funds_conserved",
        "balances_reconcile_with_trades",
        "durable_matches_memory",
    }
    assert "USD: stored" in failed["funds_conserved"] and "off by 100" in failed["funds_conserved"]
    assert "1 of" in failed["balances_reconcile_with_trades"]
    assert "USD: moved" in failed["balances_reconcile_with_trades"]
    assert "1 of" in failed["durable_matches_memory"]


def test_a_negative_balance_fails_no_negative_balance(audited: Audited) -> None:
    audited.sql(
        "UPDATE balances SET available = -5 WHERE asset = 'BTC' AND user_id = "
        "(SELECT user_id FROM balances ORDER BY user_id DESC LIMIT 1)"
    )
    failed = _failed(audited.audit())
    assert "no_negative_balance" in failed
    assert "1 of 6 stored balances below 0" in failed["no_negative_balance"]
    assert "BTC available -5" in failed["no_negative_balance"]


def test_an_extra_lock_fails_locks_match_open_orders(audited: Audited) -> None:
    audited.sql(
        "UPDATE balances SET locked = locked + 7, available = available - 7 "
        "WHERE asset = 'USD' AND user_id = (SELECT user_id FROM balances ORDER BY user_id LIMIT 1)"
    )
    failed = _failed(audited.audit())
    assert set(failed) == {"locks_match_open_orders", "durable_matches_memory"}
    assert "USD: locked" in failed["locks_match_open_orders"]


def test_an_overfilled_order_fails_no_overfilled_order(audited: Audited) -> None:
    victim = max(audited.acknowledged)
    audited.sql(f"UPDATE orders SET filled_quantity = quantity + 1 WHERE id = {victim}")
    failed = _failed(audited.audit())
    assert "no_overfilled_order" in failed
    assert "1 overfilled" in failed["no_overfilled_order"]
    assert f"order {victim} filled" in failed["no_overfilled_order"]


def test_a_fill_without_its_trades_fails_no_overfilled_order(audited: Audited) -> None:
    victim = audited.one("SELECT MIN(id) FROM orders WHERE status = 'FILLED'")
    audited.sql(f"UPDATE orders SET filled_quantity = filled_quantity - 1 WHERE id = {victim}")
    failed = _failed(audited.audit())
    assert "no_overfilled_order" in failed
    assert "1 not matching their trades" in failed["no_overfilled_order"]
    assert f"order {victim} filled" in failed["no_overfilled_order"]


def test_an_open_order_changed_in_the_store_fails_book_agreement(audited: Audited) -> None:
    victim = audited.one("SELECT MAX(id) FROM orders WHERE status IN ('PENDING', 'PARTIAL')")
    audited.sql(f"UPDATE orders SET status = 'CANCELLED' WHERE id = {victim}")
    failed = _failed(audited.audit())
    assert "book_not_crossed" in failed
    assert f"BTCUSD order {victim}: book" in failed["book_not_crossed"]
    assert "store not open" in failed["book_not_crossed"]


@pytest.mark.parametrize("route", ["/admin/audit", "/admin/audit/snapshot"])
def test_the_audit_routes_need_the_admin_key(live, route: str) -> None:
    missing = live.client.post(route)
    assert missing.status_code == 401 and missing.json()["code"] == "UNAUTHORIZED"
    user = live.users(1)[0]
    other = live.client.post(route, headers=key(user))
    assert other.status_code == 403 and other.json()["code"] == "FORBIDDEN"


@pytest.mark.parametrize(
    ("body", "status", "message"),
    [
        (b'{"order_ids": [[5, 2]]}', 400, "order_ids.0: [5, 2] ends before it starts"),
        (b'{"order_ids": [[1, 2], [0, 3]]}', 400, "order_ids.1.0: Input should be greater"),
        (b'{"order_ids": [[1.5, 3]]}', 400, "order_ids.0.0: Input should be a valid integer"),
        (b'{"order_ids": [[true, 3]]}', 400, "order_ids.0.0: Input should be a valid integer"),
        (b'{"order_ids": [[1, 2, 3]]}', 400, "order_ids.0: Tuple should have at most 2"),
        (b'{"order_ids": "1-5"}', 400, "order_ids: Input should be a valid list"),
        (b'{"snapshot": ""}', 400, "snapshot: String should have at least 1 character"),
        (b'{"ids": []}', 400, "ids: Extra inputs are not permitted"),
        (b"[1, 2]", 400, "the body must be a JSON object"),
        (b"{", 400, "malformed JSON"),
        (b'{"snapshot": "nope"}', 404, "unknown snapshot 'nope'"),
    ],
)
def test_bad_audit_bodies_are_refused_with_what_is_wrong(
    live, body: bytes, status: int, message: str
) -> None:
    r = live.client.post("/admin/audit", content=body, headers=ADMIN)
    assert r.status_code == status, r.text
    assert message in r.json()["message"]


def test_a_body_that_is_not_json_is_refused(live) -> None:
    r = live.client.post(
        "/admin/audit", content=b"x", headers={**ADMIN, "Content-Type": "text/plain"}
    )
    assert r.status_code == 415


def test_only_the_last_snapshots_are_kept(live) -> None:
    ids = [
        live.client.post("/admin/audit/snapshot", headers=ADMIN).json()["snapshot"]
        for _ in range(17)
    ]
    assert len(set(ids)) == 17
    first = live.client.post("/admin/audit", json={"snapshot": ids[0]}, headers=ADMIN)
    assert first.status_code == 404 and "last 16 snapshots" in first.json()["message"]
    last = live.client.post("/admin/audit", json={"snapshot": ids[-1]}, headers=ADMIN)
    assert last.status_code == 200 and last.json()["passed"] is True


def test_past_the_limit_the_fills_of_the_orders_since_the_snapshot_are_checked(
    tmp_path: Path,
) -> None:
    with (
        ServerThread(exchange_settings(tmp_path)) as server,
        httpx.Client(base_url=server.url, timeout=30) as client,
    ):
        server.app.fastapi.state.auditor.full_fill_check_orders = 10
        users = client.post(
            "/admin/users", json={"count": 2, "balances": DEPOSITS}, headers=ADMIN
        ).json()["users"]
        cross = {"symbol": "BTCUSD", "quantity": "0.1", "price": "50000"}
        for user, side in ((users[0], "SELL"), (users[1], "BUY")) * 10:  # 10 trades, ids 1-20
            client.post("/api/v1/orders", json={**cross, "side": side}, headers=key(user))
        snap = client.post("/admin/audit/snapshot", headers=ADMIN).json()["snapshot"]
        for user, side in ((users[0], "SELL"), (users[1], "BUY")) * 3:  # ids 21-26
            client.post("/api/v1/orders", json={**cross, "side": side}, headers=key(user))
        db = sa.create_engine(f"sqlite:///{tmp_path / 'exchange.db'}")
        try:
            with db.begin() as conn:  # before the snapshot: outside the scope
                conn.execute(sa.text("UPDATE orders SET filled_quantity = 1 WHERE id = 3"))
            body = {"snapshot": snap}
            report = client.post("/admin/audit", json=body, headers=ADMIN).json()
            check = report["checks"][CHECK_NAMES.index("no_overfilled_order")]
            assert check["passed"], check
            assert f"the 6 orders placed since snapshot {snap}" in check["detail"]
            with db.begin() as conn:
                conn.execute(sa.text("UPDATE orders SET filled_quantity = 1 WHERE id = 24"))
            failed = _failed(client.post("/admin/audit", json=body, headers=ADMIN).json())
            assert "order 24 filled 1, its trades 10000" in failed["no_overfilled_order"]
            # without a snapshot every order is checked
            failed = _failed(client.post("/admin/audit", headers=ADMIN).json())
            assert "2 not matching their trades" in failed["no_overfilled_order"]
        finally:
            db.dispose()


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_audits_taken_while_orders_flow_see_one_consistent_moment(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    """Memory and store are compared at one moment: orders placed during the audit never
    show as a difference."""
    settings = exchange_settings(tmp_path, database_url=_url(tmp_path, backend, request))
    with ServerThread(settings) as server, httpx.Client(base_url=server.url, timeout=30) as client:
        users = client.post(
            "/admin/users", json={"count": 4, "balances": DEPOSITS}, headers=ADMIN
        ).json()["users"]
        snap = client.post("/admin/audit/snapshot", headers=ADMIN).json()["snapshot"]
        stop, placed = threading.Event(), threading.Event()

        def trade(user: dict[str, str], seed: int) -> None:
            rng = random.Random(seed)
            with httpx.Client(base_url=server.url, timeout=30) as own:
                while not stop.is_set():
                    own.post("/api/v1/orders/batch", json=_orders(rng, 20), headers=key(user))
                    placed.set()

        traders = [threading.Thread(target=trade, args=(u, i)) for i, u in enumerate(users)]
        for t in traders:
            t.start()
        reports: list[dict[str, Any]] = []
        try:
            assert placed.wait(60)
            # audit until three of them saw different moments of the flow (or 100 audits)
            while len(reports) < 100 and len({r["max_order_id"] for r in reports}) < 3:
                body = {"snapshot": snap}
                reports.append(client.post("/admin/audit", json=body, headers=ADMIN).json())
        finally:
            stop.set()
            for t in traders:
                t.join()
        assert [_failed(r) for r in reports] == [{}] * len(reports)
        assert len({r["max_order_id"] for r in reports}) >= 3  # orders flowed in between
