"""Replay an order flow straight into the engine's book and into the baseline book.

Two kinds of pass per book, both on operations parsed beforehand (parsing is never timed):

* throughput: one wall-clock interval around the whole replay, nothing else in the loop;
  repeated, the median is reported;
* latency: `perf_counter_ns` around each operation (so each figure includes the timer's own
  cost, reported as `timer_overhead_ns`); this pass also counts the trades and checksums the
  fills, from which the deterministic figures and the baseline comparison come.

The parsed flow is moved out of the garbage collector's sight (`gc.freeze`) before timing and
each pass starts with a fresh book after a full collection, the same for both books.
"""

from __future__ import annotations

import gc
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from time import perf_counter, perf_counter_ns
from typing import Any, Protocol

from collectors.bench.baseline_book import BaselineBook
from collectors.bench.engine_flow import OP_CANCEL, OP_LIMIT, Op
from collectors.bench.percentiles import percentiles
from exchange_ref.engine import book as engine_book
from exchange_ref.engine.types import DEFAULT_SYMBOLS, SymbolSpec

__all__ = ["BookReport", "Figures", "ReplayReport", "figures", "replay_report", "summary_lines"]

METHOD = (
    "ops_per_s: median over --repeat passes of operations / wall time of the whole replay, "
    "operations parsed into tuples beforehand, fresh book per pass, the parsed flow frozen out "
    "of the GC (gc.freeze) and the GC otherwise on; latency: a separate pass timing each "
    "operation with perf_counter_ns (includes timer_overhead_ns); throughput passes of the "
    "engine and the baseline alternate"
)


class _Execution(Protocol):
    @property
    def filled(self) -> int: ...
    @property
    def fills(self) -> list[tuple[int, int, int, int, int]]: ...


class _Book(Protocol):
    def submit(
        self,
        order_id: int,
        side: int,
        price: int,
        qty: int,
        owner: int = 0,
        market: bool = False,
        tif: int = 0,
    ) -> _Execution: ...
    def cancel(self, order_id: int) -> tuple[int, int, int, int] | None: ...
    def best_bid(self) -> int | None: ...
    def best_ask(self) -> int | None: ...
    def __len__(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Figures:
    """What a replay did: the same flow gives the same figures on every run and book."""

    operations: int
    trades: int
    traded_lots: int
    best_bid: int | None
    best_ask: int | None
    resting_orders: int
    fills_digest: int


@dataclass(frozen=True, slots=True)
class BookReport:
    figures: Figures
    ops_per_s: float
    ops_per_s_runs: tuple[float, ...]
    latency_ns: tuple[int, int, int, int]  # p50, p99, p999, max


@dataclass(frozen=True, slots=True)
class ReplayReport:
    """The engine's book against the baseline book on one flow, with its one JSON form
    (`pincex bench engine --replay --json`); `spec` prints the flow's prices and sizes."""

    symbol: str
    implementation: str
    repeat: int
    timer_overhead_ns: int
    engine: BookReport
    baseline: BookReport
    spec: SymbolSpec

    @property
    def speedup(self) -> float:
        return self.engine.ops_per_s / self.baseline.ops_per_s

    @property
    def baseline_agrees(self) -> bool:
        return self.engine.figures == self.baseline.figures

    def to_json(self) -> dict[str, Any]:
        """The JSON document of `pincex bench engine --replay --json`."""
        out: dict[str, Any] = {"symbol": self.symbol, "implementation": self.implementation}
        out.update(_book_json(self.engine, self.spec))
        out["baseline"] = _book_json(self.baseline, self.spec)
        out["speedup"] = round(self.speedup, 2)
        out["baseline_agrees"] = self.baseline_agrees
        out["repeat"] = self.repeat
        out["timer_overhead_ns"] = self.timer_overhead_ns
        out["method"] = METHOD
        return out


def _book_json(report: BookReport, spec: SymbolSpec) -> dict[str, Any]:
    f = report.figures
    p50, p99, p999, worst = report.latency_ns
    return {
        "operations": f.operations,
        "trades": f.trades,
        "traded_quantity": spec.qty_str(f.traded_lots),
        "best_bid": None if f.best_bid is None else spec.price_str(f.best_bid),
        "best_ask": None if f.best_ask is None else spec.price_str(f.best_ask),
        "resting_orders": f.resting_orders,
        "ops_per_s": round(report.ops_per_s),
        "ops_per_s_runs": [round(r) for r in report.ops_per_s_runs],
        "latency_us": {
            "p50": p50 / 1000,
            "p99": p99 / 1000,
            "p999": p999 / 1000,
            "max": worst / 1000,
        },
    }


def _throughput(make_book: Callable[[], _Book], ops: Sequence[Op]) -> float:
    """Operations per second of one timed replay into a fresh book."""
    book = make_book()
    submit = book.submit
    cancel = book.cancel
    gc.collect()
    start = perf_counter()
    for op, order_id, side, price, qty in ops:
        if op == OP_LIMIT:
            submit(order_id, side, price, qty)
        elif op == OP_CANCEL:
            cancel(order_id)
        else:
            submit(order_id, side, 0, qty, 0, True)
    elapsed = perf_counter() - start
    return len(ops) / elapsed


def figures(make_book: Callable[[], _Book], ops: Sequence[Op]) -> tuple[Figures, list[int]]:
    """Replay once timing each operation: (figures, per-operation nanoseconds)."""
    book = make_book()
    submit = book.submit
    cancel = book.cancel
    clock = perf_counter_ns
    latencies = [0] * len(ops)
    trades = traded = 0
    digest = 0
    gc.collect()
    for i, (op, order_id, side, price, qty) in enumerate(ops):
        if op == OP_CANCEL:
            t0 = clock()
            cancel(order_id)
            t1 = clock()
        else:
            if op == OP_LIMIT:
                t0 = clock()
                ex = submit(order_id, side, price, qty)
                t1 = clock()
            else:
                t0 = clock()
                ex = submit(order_id, side, 0, qty, 0, True)
                t1 = clock()
            if ex.fills:
                trades += len(ex.fills)
                traded += ex.filled
                digest = hash((digest, *ex.fills))
        latencies[i] = t1 - t0
    result = Figures(len(ops), trades, traded, book.best_bid(), book.best_ask(), len(book), digest)
    return result, latencies


def _percentiles(latencies: list[int]) -> tuple[int, int, int, int]:
    """p50, p99, p99.9 (from the benchmarks' one HdrHistogram method) and max, in ns."""
    p = percentiles(latencies, (50, 99, 99.9))
    return round(p[50.0]), round(p[99.0]), round(p[99.9]), max(latencies)


def _timer_overhead_ns() -> int:
    clock = perf_counter_ns
    samples = []
    for _ in range(10_000):
        t0 = clock()
        t1 = clock()
        samples.append(t1 - t0)
    return int(statistics.median(samples))


def replay_report(ops: Sequence[Op], symbol: str, repeat: int = 3) -> ReplayReport:
    """Measure the engine's book and the baseline on the same parsed flow of `symbol` (one of
    the exchange's default symbols)."""
    if not ops:
        raise ValueError("the flow has no operations")
    engine_cls = engine_book.OrderBook
    books: dict[str, Callable[[], _Book]] = {"engine": engine_cls, "baseline": BaselineBook}
    gc.collect()
    gc.freeze()
    try:
        runs: dict[str, list[float]] = {name: [] for name in books}
        for _ in range(repeat):
            for name, make in books.items():
                runs[name].append(_throughput(make, ops))
        reports = {}
        for name, make in books.items():
            figs, latencies = figures(make, ops)
            reports[name] = BookReport(
                figs, statistics.median(runs[name]), tuple(runs[name]), _percentiles(latencies)
            )
        overhead = _timer_overhead_ns()
    finally:
        gc.unfreeze()
        gc.collect()
    return ReplayReport(
        symbol,
        "mypyc" if engine_book.COMPILED else "python",
        repeat,
        overhead,
        reports["engine"],
        reports["baseline"],
        DEFAULT_SYMBOLS[symbol],
    )


def summary_lines(report: ReplayReport, path: str) -> list[str]:
    """The human summary of a replay."""
    spec = report.spec
    f = report.engine.figures

    def timing(name: str, book: BookReport) -> str:
        p50, p99, p999, _ = book.latency_ns
        return (
            f"{name:<18}{round(book.ops_per_s):>12,} ops/s   latency p50 {p50 / 1000:.2f} us"
            f"  p99 {p99 / 1000:.2f} us  p99.9 {p999 / 1000:.2f} us"
        )

    bid = "-" if f.best_bid is None else spec.price_str(f.best_bid)
    ask = "-" if f.best_ask is None else spec.price_str(f.best_ask)
    return [
        f"{report.symbol} flow {path}: {f.operations:,} operations, {f.trades:,} trades"
        f" ({spec.qty_str(f.traded_lots)} traded), best bid {bid} / ask {ask},"
        f" {f.resting_orders:,} resting",
        timing(f"engine ({report.implementation})", report.engine),
        timing("baseline", report.baseline),
        f"speedup {round(report.speedup, 2)}x (median of {report.repeat} passes each);"
        f" baseline agrees: {'yes' if report.baseline_agrees else 'NO'}",
    ]
