"""The durable side of the exchange's audit: aggregates over the store, in SQL, per backend.

    with store.read_transaction() as conn:
        reads = AuditReads(conn, store.is_postgres)
        reads.balances()                 # {(user, asset): (available, locked)}
        reads.missing_orders([(1, 500)]) # (how many of those ids are not stored, the first few)

Every figure that grows with the number of orders or trades is computed by the database
(counts, sums grouped per user or per order); only the results travel, and rows are listed
only for the first few ids that are wrong. Amounts are the stored integers: prices in ticks,
quantities in lots, balances in atoms.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from typing import Any

__all__ = ["AuditReads", "UserAsset"]

UserAsset = tuple[uuid.UUID, str]

_OPEN = "status IN ('PENDING', 'PARTIAL')"

_COUNT_RANGE = "SELECT COUNT(*) FROM orders WHERE id BETWEEN {p} AND {p}"
_PG_COUNT_RANGES = (
    "SELECT r.lo, r.hi, (SELECT COUNT(*) FROM orders o WHERE o.id BETWEEN r.lo AND r.hi) "
    "FROM unnest(%s::bigint[], %s::bigint[]) AS r(lo, hi)"
)
# Starts of the runs of missing ids in [lo, hi]: lo itself, or one past a stored id whose
# successor is not stored.
_GAPS = (
    "SELECT g FROM (SELECT CAST({p} AS BIGINT) AS g WHERE NOT EXISTS "
    "(SELECT 1 FROM orders WHERE id = {p}) "
    "UNION ALL SELECT o.id + 1 FROM orders o WHERE o.id >= {p} AND o.id < {p} "
    "AND NOT EXISTS (SELECT 1 FROM orders n WHERE n.id = o.id + 1)) AS gaps "
    "ORDER BY g LIMIT {p}"
)
_NEXT_STORED = "SELECT MIN(id) FROM orders WHERE id > {p}"
# Per symbol, so that the partial index of open orders finds them (without the symbol SQLite
# scans every order).
_OPEN_LOCKS = (
    "SELECT user_id, side{text}, SUM(CASE WHEN side = 'BUY' "
    "THEN price * (quantity - filled_quantity) ELSE quantity - filled_quantity END) "
    f"FROM orders WHERE symbol = {{p}} AND {_OPEN} GROUP BY user_id, side"
)
_OPEN_ORDERS = f"SELECT id, quantity - filled_quantity FROM orders WHERE symbol = {{p}} AND {_OPEN}"
_OVERFILLED = (
    "SELECT id, quantity, filled_quantity, COUNT(*) OVER () FROM orders "
    "WHERE filled_quantity > quantity OR filled_quantity < 0 ORDER BY id LIMIT {p}"
)
# Orders after `from_order` whose filled quantity is not the sum of their trades after
# `after_trade` (an order's trades all come after it, so with matching high-water marks of one
# moment this is every trade of those orders). Two halves so that the scan of every order
# looks up trades only for the few filled ones: orders filled at all, and orders traded.
_FILLS = (
    "WITH f AS (SELECT order_id, SUM(quantity) AS traded FROM ("
    "SELECT buy_order_id AS order_id, quantity FROM trades WHERE id > {p} UNION ALL "
    "SELECT sell_order_id, quantity FROM trades WHERE id > {p}) AS t GROUP BY order_id), "
    "bad AS (SELECT o.id, o.filled_quantity AS filled, COALESCE(f.traded, 0) AS traded "
    "FROM orders o LEFT JOIN f ON f.order_id = o.id WHERE o.id > {p} "
    "AND o.filled_quantity <> 0 AND o.filled_quantity <> COALESCE(f.traded, 0) "
    "UNION SELECT o.id, o.filled_quantity, f.traded FROM f JOIN orders o ON o.id = f.order_id "
    "WHERE o.id > {p} AND o.filled_quantity <> f.traded) "
    "SELECT id, filled, traded, COUNT(*) OVER () FROM bad ORDER BY id LIMIT {p}"
)
_FLOWS = (
    "SELECT {who}, symbol, SUM(quantity), SUM(price * quantity) FROM trades "
    "WHERE id > {p} GROUP BY {who}, symbol"
)
_MAX_IDS = (
    "SELECT (SELECT COALESCE(MAX(id), 0) FROM orders), (SELECT COALESCE(MAX(id), 0) FROM trades)"
)


class AuditReads:
    """The audit's queries on one DBAPI connection (inside `Store.read_transaction()`)."""

    def __init__(self, conn: Any, pg: bool) -> None:
        self.conn = conn
        self.pg = pg
        self._p = "%s" if pg else "?"

    def _rows(self, template: str, params: tuple[Any, ...] = (), **parts: str) -> list[Any]:
        sql = template.format(p=self._p, **parts)
        return list(self.conn.execute(sql, params).fetchall())

    @staticmethod
    def _uid(value: Any) -> uuid.UUID:
        return value if isinstance(value, uuid.UUID) else uuid.UUID(hex=value)

    def max_ids(self) -> tuple[int, int]:
        """The highest stored order id and trade id (0 when none)."""
        ((orders, trades),) = self._rows(_MAX_IDS)
        return int(orders), int(trades)

    def user_ids(self) -> set[uuid.UUID]:
        return {self._uid(r[0]) for r in self._rows("SELECT id FROM users")}

    def balances(self) -> dict[UserAsset, tuple[int, int]]:
        rows = self._rows("SELECT user_id, asset, available, locked FROM balances")
        return {(self._uid(u), a): (int(av), int(lk)) for u, a, av, lk in rows}

    def missing_orders(
        self, ranges: list[tuple[int, int]], limit: int = 5
    ) -> tuple[int, list[int]]:
        """How many ids of the (disjoint) inclusive `ranges` have no stored order, and the
        first `limit` of them."""
        if self.pg:
            lows, highs = [lo for lo, _ in ranges], [hi for _, hi in ranges]
            rows = self._rows(_PG_COUNT_RANGES, (lows, highs))
            counted = [(int(lo), int(hi), int(n)) for lo, hi, n in rows]
        else:
            sql = _COUNT_RANGE.format(p="?")
            count = self.conn.execute
            counted = [(lo, hi, count(sql, (lo, hi)).fetchone()[0]) for lo, hi in ranges]
        short = sorted((lo, hi) for lo, hi, n in counted if n < hi - lo + 1)
        missing = sum(hi - lo + 1 - n for lo, hi, n in counted)
        first: list[int] = []
        for lo, hi in short:
            if len(first) >= limit:
                break
            first.extend(self._first_missing(lo, hi, limit - len(first)))
        return missing, first

    def _first_missing(self, lo: int, hi: int, limit: int) -> list[int]:
        out: list[int] = []
        for (start,) in self._rows(_GAPS, (lo, lo, lo, hi, limit)):
            ((after,),) = self._rows(_NEXT_STORED, (int(start),))
            end = hi if after is None else min(hi, int(after) - 1)
            out.extend(range(int(start), min(end, int(start) + limit - len(out) - 1) + 1))
            if len(out) >= limit:
                break
        return out

    def open_locks(self, symbols: Iterable[str]) -> dict[tuple[uuid.UUID, str, str], int]:
        """Per (user, symbol, side) of the open orders of `symbols`: BUY the sum of price *
        remaining (ticks x lots), SELL the remaining lots."""
        text = "::text" if self.pg else ""
        return {
            (self._uid(user), symbol, side): int(total)
            for symbol in symbols
            for user, side, total in self._rows(_OPEN_LOCKS, (symbol,), text=text)
        }

    def open_orders(self, symbol: str) -> dict[int, int]:
        """Remaining lots of each open order of `symbol`, by id."""
        return {int(i): int(r) for i, r in self._rows(_OPEN_ORDERS, (symbol,))}

    def overfilled(self, limit: int = 5) -> tuple[int, list[tuple[int, int, int]]]:
        """Orders filled beyond their quantity or below zero: how many, and the first
        `limit` as (id, quantity, filled)."""
        rows = self._rows(_OVERFILLED, (limit,))
        count = int(rows[0][3]) if rows else 0
        return count, [(int(i), int(q), int(f)) for i, q, f, _ in rows]

    def fill_mismatches(
        self, after_trade: int, from_order: int, limit: int = 5
    ) -> tuple[int, list[tuple[int, int, int]]]:
        """Orders with id > `from_order` whose filled quantity differs from the sum of their
        trades with id > `after_trade`: how many, and the first as (id, filled, traded)."""
        rows = self._rows(_FILLS, (after_trade, after_trade, from_order, from_order, limit))
        count = int(rows[0][3]) if rows else 0
        return count, [(int(i), int(f), int(t)) for i, f, t, _ in rows]

    def trade_flows(self, after_trade: int) -> dict[tuple[uuid.UUID, str], tuple[int, int]]:
        """Per (user, symbol), over the trades after `after_trade`: the net lots bought and
        the net value paid in ticks x lots (both negative when the user sold more)."""
        out: dict[tuple[uuid.UUID, str], tuple[int, int]] = {}
        for who, sign in (("buyer_id", 1), ("seller_id", -1)):
            for user, symbol, lots, value in self._rows(_FLOWS, (after_trade,), who=who):
                key = (self._uid(user), symbol)
                held = out.get(key, (0, 0))
                out[key] = (held[0] + sign * int(lots), held[1] + sign * int(value))
        return out
