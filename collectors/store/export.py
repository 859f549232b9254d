"""A stored run in other shapes: summaries as CSV or Parquet, the spec's results JSON.

Seed JSON (`performance-results.json` of the specification) takes:

- `order_processing_p95_ms`: the orders run's corrected (`latency` view) p95 of its order
  endpoint (the summary whose name holds "order", else its headline summary);
- `orders_per_second`: that summary's throughput per second;
- `database_query_p95_ms`: the db run's overall p95, recomputed from the merged `latency`
  histograms of all its query types (its headline p95 when it has no histograms).

Keys come from the exported run when it is of that kind, otherwise from the latest run of
the other kind (orders/db) with the same version label. A key no run supplies is named in
`SeedResults.missing` with the reason: the specification's script reads a missing key as 0,
so `pincex runs export --format seed-json` refuses to write a partial file unless asked.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from collectors.store import histograms
from collectors.store.model import Run, Summary
from collectors.store.rows import SUMMARY_COLUMNS
from collectors.store.store import RunStore

__all__ = [
    "DB_KIND",
    "ORDERS_KIND",
    "SEED_KEYS",
    "SeedResults",
    "seed_results",
    "summaries_csv",
    "write_parquet",
]

ORDERS_KIND = "orders"
DB_KIND = "db"


def summaries_csv(run: Run) -> str:
    """The run's summaries as CSV, one row per name, both latency views."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["run_id", *SUMMARY_COLUMNS])
    for s in run.summaries:
        lat = [getattr(s.latency, f) for f in _FIELDS]
        svc = ["" if s.service is None else getattr(s.service, f) for f in _FIELDS]
        writer.writerow([run.id, s.name, s.count, s.errors, s.throughput_per_s, *lat, *svc])
    return out.getvalue()


_FIELDS = ("mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms")


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def write_parquet(store: RunStore, run_id: str, output: Path) -> list[Path]:
    """Write the run's summaries and series as Parquet (DuckDB COPY); the files written.

    `output` names the summaries file; the series go beside it as `<stem>.series.parquet`.
    """
    store.get(run_id)  # RunNotFound before any file is made (its folder must exist)
    series_path = output.with_name(f"{output.stem}.series.parquet")
    rid = _literal(run_id)
    with store.reading() as con:
        con.execute(
            f"COPY (SELECT * EXCLUDE (position) FROM summaries WHERE run_id = {rid} "
            f"ORDER BY position) TO {_literal(str(output))} (FORMAT PARQUET)"
        )
        con.execute(
            f"COPY (SELECT * EXCLUDE (position) FROM series WHERE run_id = {rid} "
            f"ORDER BY position) TO {_literal(str(series_path))} (FORMAT PARQUET)"
        )
    return [output, series_path]


SEED_KEYS: tuple[str, ...] = (
    "order_processing_p95_ms",
    "orders_per_second",
    "database_query_p95_ms",
)


@dataclass(frozen=True)
class SeedResults:
    """The spec's results keys, the run each was taken from, and why any key is missing."""

    values: dict[str, float] = field(default_factory=dict)
    sources: dict[str, str] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)
    label: str = ""

    def missing_text(self) -> str:
        """The missing keys, each group with its reason: `a, b (no orders run labelled 'v1')`."""
        by_reason: dict[str, list[str]] = {}
        for key, reason in self.missing.items():
            by_reason.setdefault(reason, []).append(key)
        return ", ".join(f"{', '.join(keys)} ({reason})" for reason, keys in by_reason.items())


def _order_summary(run: Run) -> Summary | None:
    for s in run.summaries:
        if "order" in s.name.lower():
            return s
    return run.headline()


def _db_p95(run: Run) -> float | None:
    encoded = [h.encoded for h in run.histograms if h.view == "latency"]
    if encoded:
        merged: Any = histograms.merge(encoded)
        if merged.get_total_count() > 0:
            return histograms.percentiles_ms(merged, (95,))[95.0]
    head = run.headline()
    return None if head is None else head.latency.p95_ms


def _orders_per_second(run: Run, summary: Summary) -> float:
    """Orders accepted per second of the run: the client's per-second counts over its measured
    time (a batch carries many orders), else the summary's request throughput."""
    counts = [p.value for p in run.series if p.side == "client" and p.series == "orders_per_s"]
    seconds = (run.ended_at - run.started_at).total_seconds()
    if counts and seconds > 0:
        return sum(counts) / seconds
    return summary.throughput_per_s


def seed_results(store: RunStore, run: Run) -> SeedResults:
    """The seed JSON of `run`, filling the other kind's keys from its latest same-label run."""
    orders_run = run if run.kind == ORDERS_KIND else store.latest_by_label(run.label, ORDERS_KIND)
    db_run = run if run.kind == DB_KIND else store.latest_by_label(run.label, DB_KIND)
    values: dict[str, float] = {}
    sources: dict[str, str] = {}
    missing: dict[str, str] = {}
    order_keys = ("order_processing_p95_ms", "orders_per_second")
    if orders_run is None:
        missing.update(dict.fromkeys(order_keys, f"no {ORDERS_KIND} run labelled {run.label!r}"))
    elif (summary := _order_summary(orders_run)) is None:
        missing.update(
            dict.fromkeys(order_keys, f"{ORDERS_KIND} run {orders_run.id} has no summaries")
        )
    else:
        values["order_processing_p95_ms"] = summary.latency.p95_ms
        values["orders_per_second"] = _orders_per_second(orders_run, summary)
        sources.update(dict.fromkeys(order_keys, orders_run.id))
    if db_run is None:
        missing["database_query_p95_ms"] = f"no {DB_KIND} run labelled {run.label!r}"
    elif (p95 := _db_p95(db_run)) is None:
        missing["database_query_p95_ms"] = f"{DB_KIND} run {db_run.id} has no figures"
    else:
        values["database_query_p95_ms"] = p95
        sources["database_query_p95_ms"] = db_run.id
    return SeedResults(values, sources, missing, run.label)
