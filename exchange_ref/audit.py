"""The exchange audits itself: after a load test, is everything it acknowledged durable and
consistent?

    auditor = Auditor(service)
    snap = await auditor.snapshot()                       # before the load test
    report = await auditor.audit(snap.id, [(101, 5000)])  # after it: acknowledged order ids
    report.passed, [c.name for c in report.checks if not c.passed]

Both take the service's state at a moment when the store holds exactly what is in memory
(`ExchangeService.at_rest`: commits held for the time of one write and a copy of the engine's
balances and resting orders, on the event loop), open one read transaction on the store there,
and release the exchange; the store is then read off the event loop with SQL aggregates
(`exchange_ref.storage.audit_reads`) while the exchange goes on working. The checks are
`exchange_ref.audit_checks`. Snapshots live in memory: a restart forgets them.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import secrets
from dataclasses import dataclass
from time import perf_counter
from typing import Any

from exchange_ref.audit_checks import CHECK_NAMES, run_checks
from exchange_ref.audit_state import (
    AuditCheck,
    AuditSnapshot,
    DurableState,
    MemoryState,
)
from exchange_ref.service import ExchangeService
from exchange_ref.storage.audit_reads import AuditReads

__all__ = [
    "CHECK_NAMES",
    "MAX_AUDIT_RANGES",
    "AuditCheck",
    "AuditReport",
    "AuditSnapshot",
    "Auditor",
    "UnknownSnapshot",
    "merge_ranges",
]

IdRanges = list[tuple[int, int]]

# Most id ranges one audit takes (about 2 MB of JSON, within the request body limit).
MAX_AUDIT_RANGES = 100_000
# Past this many stored orders, an audit given a snapshot checks the fills of the orders
# placed since it (all their trades came after it) rather than of every order ever stored.
FULL_FILL_CHECK_ORDERS = 1_000_000


class UnknownSnapshot(Exception):
    """The audit was asked about a snapshot the exchange does not hold."""

    code = "UNKNOWN_SNAPSHOT"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class AuditReport:
    snapshot: str | None
    max_order_id: int
    max_trade_id: int
    checks: tuple[AuditCheck, ...]
    seconds: float  # from the request to the verdict

    @property
    def passed(self) -> bool:
        return all(c.passed for c in self.checks)


def merge_ranges(ranges: IdRanges) -> IdRanges:
    """Sorted, disjoint inclusive ranges covering the same ids (overlapping and adjacent
    ranges joined)."""
    out: IdRanges = []
    for lo, hi in sorted(ranges):
        if out and lo <= out[-1][1] + 1:
            if hi > out[-1][1]:
                out[-1] = (out[-1][0], hi)
        else:
            out.append((lo, hi))
    return out


class Auditor:
    """Snapshots (the last `keep`, in memory) and audits of one exchange service."""

    def __init__(
        self,
        service: ExchangeService,
        keep: int = 16,
        full_fill_check_orders: int = FULL_FILL_CHECK_ORDERS,
    ) -> None:
        self.service = service
        self.keep = keep
        self.full_fill_check_orders = full_fill_check_orders
        self._snapshots: collections.OrderedDict[str, AuditSnapshot] = collections.OrderedDict()

    def _reads(self, conn: Any) -> AuditReads:
        return AuditReads(conn, self.service.store.is_postgres)

    async def snapshot(self) -> AuditSnapshot:
        """Remember every user's balances and the high-water marks now (all durable)."""
        service = self.service
        with contextlib.ExitStack() as stack:
            supply, conn = await service.at_rest(
                lambda: (
                    service.exchange.accounts.supply(),
                    stack.enter_context(service.store.read_transaction()),
                )
            )
            reads = self._reads(conn)

            def read() -> tuple[tuple[int, int], dict[Any, tuple[int, int]], set[Any]]:
                return reads.max_ids(), reads.balances(), reads.user_ids()

            (max_order, max_trade), balances, users = await asyncio.to_thread(read)
        snap = AuditSnapshot(
            secrets.token_hex(8),
            max_order,
            max_trade,
            {key: available + locked for key, (available, locked) in balances.items()},
            frozenset(users),
            supply,
        )
        self._snapshots[snap.id] = snap
        while len(self._snapshots) > self.keep:
            self._snapshots.popitem(last=False)
        return snap

    def find(self, snapshot_id: str) -> AuditSnapshot:
        snap = self._snapshots.get(snapshot_id)
        if snap is None:
            raise UnknownSnapshot(
                f"unknown snapshot {snapshot_id[:64]!r}: the exchange keeps its last "
                f"{self.keep} snapshots in memory, until it restarts"
            )
        return snap

    async def audit(self, snapshot_id: str | None, order_ids: IdRanges | None) -> AuditReport:
        """Wait until every pending write is durable, then run every check (`CHECK_NAMES`).

        `order_ids`: inclusive ranges of the acknowledged order ids; None checks every id the
        exchange has given."""
        started = perf_counter()
        snap = self.find(snapshot_id) if snapshot_id is not None else None
        service = self.service
        with contextlib.ExitStack() as stack:
            memory, conn = await service.at_rest(
                lambda: (
                    MemoryState.capture(service),
                    stack.enter_context(service.store.read_transaction()),
                )
            )
            durable = await asyncio.to_thread(
                self._read, self._reads(conn), memory, snap, order_ids
            )
        checks = run_checks(memory, durable, snap, service.specs)
        return AuditReport(
            snap.id if snap else None,
            durable.max_order_id,
            durable.max_trade_id,
            checks,
            perf_counter() - started,
        )

    def _read(
        self,
        reads: AuditReads,
        memory: MemoryState,
        snap: AuditSnapshot | None,
        order_ids: IdRanges | None,
    ) -> DurableState:
        max_order, max_trade = reads.max_ids()
        if order_ids is None:
            ranges = [(1, memory.max_order_id)] if memory.max_order_id else []
            what = "orders the exchange numbered"
        else:
            ranges = merge_ranges(order_ids)
            what = "acknowledged orders"
        if snap is not None and max_order > self.full_fill_check_orders:
            after_trade, from_order = snap.max_trade_id, snap.max_order_id
            scope = f"the {max_order - from_order} orders placed since snapshot {snap.id}"
        else:
            after_trade, from_order, scope = 0, 0, "every stored order"
        return DurableState(
            max_order_id=max_order,
            max_trade_id=max_trade,
            balances=reads.balances(),
            open_locks=reads.open_locks(memory.books),
            open_orders={symbol: reads.open_orders(symbol) for symbol in memory.books},
            acknowledged=sum(hi - lo + 1 for lo, hi in ranges),
            ranges=len(ranges),
            ids_what=what,
            missing=reads.missing_orders(ranges),
            overfilled=reads.overfilled(),
            fill_scope=scope,
            fill_mismatches=reads.fill_mismatches(after_trade, from_order),
            trade_flows=reads.trade_flows(snap.max_trade_id) if snap is not None else None,
        )
