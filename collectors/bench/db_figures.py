"""What one `bench db` run measured, with its one JSON form.

    figures = db_figures(result)       # from run_db_bench's DbBenchResult
    figures.to_json()                  # the keys, in the order, `--json` printed before

`DbFigures.to_json()` gives exactly the keys that `--json` printed before the figures had a type.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from collectors.bench.db_bench import NOTES, DbBenchResult
from collectors.bench.figures import Outcome, Verdict
from collectors.bench.percentiles import percentiles_ms
from collectors.bench.progress import aborted_warning
from collectors.bench.trust import TrustInputs, trust_reasons

__all__ = ["DbFigures", "QueryFigures", "SeedFigures", "db_figures", "db_trust_reasons"]

_P99_SAMPLES = 1_000


@dataclass(frozen=True, slots=True)
class QueryFigures:
    """One query type's (or every query's) figures: durations in ms, rounded to the µs."""

    count: int
    avg_ms: float | None
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None
    max_ms: float | None
    rows: int
    queries_per_second: float | None

    @classmethod
    def of(cls, durations: list[float], rows: int, wall_s: float) -> QueryFigures:
        count = len(durations)
        p = percentiles_ms(durations, (50, 95, 99))

        def ms(value: float | None) -> float | None:
            return None if value is None or not count else round(value, 3)

        return cls(
            count,
            ms(sum(durations) / count if count else None),
            ms(p[50.0]),
            ms(p[95.0]),
            ms(p[99.0]),
            ms(max(durations) if count else None),
            rows,
            round(count / wall_s, 1) if wall_s > 0 else None,
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "count": self.count,
            "avg_ms": self.avg_ms,
            "p50_ms": self.p50_ms,
            "p95_ms": self.p95_ms,
            "p99_ms": self.p99_ms,
            "max_ms": self.max_ms,
            "rows": self.rows,
            "queries_per_second": self.queries_per_second,
        }


@dataclass(frozen=True, slots=True)
class SeedFigures:
    """The data queried: seeded here (and how long that took) or reused, its row counts."""

    seeded: bool
    seconds: float
    counts: dict[str, int]  # users, balances, orders, trades
    symbols: tuple[str, ...]

    def config_json(self) -> dict[str, Any]:
        """As the run keeps it in its config: without the seeding time."""
        return {"seeded": self.seeded, **self.counts, "symbols": list(self.symbols)}

    def to_json(self) -> dict[str, Any]:
        return {
            "seeded": self.seeded,
            "seconds": self.seconds,
            **self.counts,
            "symbols": list(self.symbols),
        }


@dataclass(frozen=True, slots=True)
class DbFigures(Outcome):
    """The figures of one database benchmark; `run_id` or `store_error` once it was kept."""

    backend: str
    connections: int
    queries_per_connection: int
    seed: SeedFigures
    wall_s: float
    client_cpu_pct: float
    stopped_early: bool
    overall: QueryFigures
    queries: dict[str, QueryFigures]

    @property
    def planned_queries(self) -> int:
        return self.connections * self.queries_per_connection

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "backend": self.backend,
            "connections": self.connections,
            "queries_per_connection": self.queries_per_connection,
            "planned_queries": self.planned_queries,
            "seed": self.seed.to_json(),
            "wall_s": self.wall_s,
            "client_cpu_pct": self.client_cpu_pct,
            "stopped_early": self.stopped_early,
            "overall": self.overall.to_json(),
            "queries": {name: q.to_json() for name, q in self.queries.items()},
            "notes": list(NOTES),
            "trusted": self.trusted,
            "trust_reasons": list(self.verdict.trust_reasons),
        }
        return out | self.outcome_json()


def db_trust_reasons(result: DbBenchResult) -> list[str]:
    """Trust rules of the query phase, for the whole and for each query type's own p99. With
    SQLite the database runs inside this process, so its CPU is the database's work too, not a
    sign that the client was the limit."""
    count = sum(len(s.durations_ms) for s in result.by_type.values())
    reasons = trust_reasons(
        TrustInputs(
            generator_cpu_pct=0.0 if result.backend == "sqlite" else result.client_cpu_pct,
            target_rate=0.0,
            achieved_rate=0.0,
            samples=count,
            error_rate=0.0,
            highest_claimed=99.0,  # avg, p50, p95, p99 and max are reported
        )
    )
    if count >= _P99_SAMPLES:
        few = {
            name: len(s.durations_ms)
            for name, s in result.by_type.items()
            if len(s.durations_ms) < _P99_SAMPLES
        }
        if few:
            listed = ", ".join(f"{name} {n}" for name, n in few.items())
            reasons.append(
                f"too few samples for the p99 of some query types (needs 1,000 each): {listed}"
            )
    return reasons


def db_figures(result: DbBenchResult) -> DbFigures:
    """The figures of a database benchmark's query phase, with its verdict."""
    every = [d for s in result.by_type.values() for d in s.durations_ms]
    rows = sum(s.rows for s in result.by_type.values())
    return DbFigures(
        verdict=Verdict(
            trust_reasons=tuple(db_trust_reasons(result)),
            warnings=(aborted_warning(result.wall_s),) if result.aborted else (),
        ),
        aborted=result.aborted,
        backend=result.backend,
        connections=result.connections,
        queries_per_connection=result.queries_per_connection,
        seed=SeedFigures(
            result.seed.seeded,
            round(result.seed.seconds, 3),
            dict(result.seed.counts),
            tuple(result.seed.symbols),
        ),
        wall_s=round(result.wall_s, 3),
        client_cpu_pct=round(result.client_cpu_pct, 1),
        stopped_early=result.stopped_early,
        overall=QueryFigures.of(every, rows, result.wall_s),
        queries={
            name: QueryFigures.of(s.durations_ms, s.rows, result.wall_s)
            for name, s in result.by_type.items()
        },
    )
