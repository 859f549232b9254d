"""A stored run judged against the SLOs: which target rows the run measured, with what figure.

    facts = RunFacts(kind="orders", config={"rate": 20000}, duration_s=60)
    figures = run_figures(load_config(), facts, summaries, series)
    judged = judge_run(load_config(), facts, summaries, series)
    judged.verdicts.verdicts   # one Verdict per target-table row: met / missed / not_measured
    judge_run(slos, facts, summaries, series, profile="baseline")   # a load test's expectations

Pure: the caller reads the run (summaries and series as DataFrames, see
`collectors.store.frames`) and passes it in. Every figure says how it was derived (`how`), and
every target the run did not measure says why (`why_not`), so a blank is never a silent pass.

How each target row is measured from a run:
- orders runs: order-processing p95/p99 = the headline summary's latency from each request's due
  time (corrected for coordinated omission); sustained throughput = achieved orders/s over the
  run, judged only when the offered rate reached the target (a 1,000/s run cannot show
  10,000/s); peak throughput = the same for runs of 60 s or more offered at least the peak target.
- market-data runs: market-data latency = p99 of (receipt - event time) over every frame.
- db runs: query p95 = the slowest query type's p95.
- the server's series of any run: exchange-process CPU (mean of the per-second %), memory (peak
  RSS), network (mean in + out), disk (mean read + write), order-book update latency (median of
  the per-second p99), pool use (peak %), cache hit ratio (mean %).
- with a load-test profile (orders runs): request p95/p99 = the headline's latency from due
  time; error rate = errors / requests over every summary; throughput = achieved requests/s,
  judged only when the offered requests/s reached the target.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd

from planning.slo import SloConfig, Verdict, Verdicts, evaluate

__all__ = [
    "JudgedRun",
    "LatestVerdict",
    "RunFacts",
    "RunFigures",
    "judge_run",
    "latest_verdicts",
    "run_figures",
]

_GIB = 2**30


@dataclass(frozen=True)
class RunFacts:
    """What a run is, beyond its figures."""

    kind: str
    config: Mapping[str, Any] = field(default_factory=dict)
    duration_s: float = 0.0
    run_id: str = ""
    label: str = ""
    profile: str = ""
    started_at: datetime | None = None
    trusted: bool = True
    status: str = "complete"
    warnings: tuple[str, ...] = ()


@dataclass(frozen=True)
class RunFigures:
    """SLO metric -> value measured by the run; how each was derived; why others were not."""

    values: dict[str, float]
    how: dict[str, str]
    why_not: dict[str, str]


@dataclass(frozen=True)
class JudgedRun:
    """A run's verdicts against the target tables, with the figures' provenance."""

    facts: RunFacts
    verdicts: Verdicts
    figures: RunFigures

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON: the verdicts, each with `how` or `why_not`."""
        out = self.verdicts.as_dict()
        for row in out["verdicts"]:
            metric = row["metric"] or ""
            row["how"] = self.figures.how.get(metric)
            row["why_not"] = None if row["status"] != "not_measured" else self.why_not(metric)
        f = self.facts
        out["run"] = {
            "id": f.run_id,
            "kind": f.kind,
            "profile": f.profile,
            "label": f.label,
            "started_at": None if f.started_at is None else f.started_at.isoformat(),
            "trusted": f.trusted,
            "status": f.status,
            "warnings": list(f.warnings),
        }
        out["trusted"] = f.trusted
        return out

    def why_not(self, metric: str) -> str:
        """Why the run has no figure for this metric."""
        return self.figures.why_not.get(metric, f"{_a(self.facts.kind)} run does not measure it")

    def note(self, verdict: Verdict) -> str:
        """What a reader needs beside a verdict: why it was not measured, that it is a goal
        without a number, or how its figure was measured."""
        metric = verdict.slo.metric or ""
        if verdict.status == "not_measured":
            return self.why_not(metric)
        if verdict.status == "informational":
            return "a goal without a number: reported, never judged"
        return self.figures.how.get(metric) or ""


def _a(kind: str) -> str:
    """The kind with its article: "an orders", "a db"."""
    return f"{'an' if kind[:1].lower() in ('a', 'e', 'i', 'o', 'u') else 'a'} {kind}"


def _headline(summaries: pd.DataFrame) -> pd.Series | None:
    if summaries.empty:
        return None
    return summaries.loc[summaries["count"].astype(float).idxmax()]


def _points(series: pd.DataFrame, name: str, side: str = "server") -> pd.Series:
    if series.empty:
        return pd.Series(dtype=float)
    picked = series[(series["side"] == side) & (series["name"] == name)]
    return picked["value"].astype(float).dropna()


def _orders(
    facts: RunFacts, summaries: pd.DataFrame, series: pd.DataFrame, out: RunFigures, slos: SloConfig
) -> None:
    head = _headline(summaries)
    if head is None:
        return
    where = f"client, from each request's due time, {head['name']}"
    out.values["order_processing_p95_ms"] = float(head["latency_p95_ms"])
    out.how["order_processing_p95_ms"] = f"p95 {where}"
    out.values["order_processing_p99_ms"] = float(head["latency_p99_ms"])
    out.how["order_processing_p99_ms"] = f"p99 {where}"
    per_second = _points(series, "orders_per_s", side="client")
    batch = int(facts.config.get("batch_size") or 0)
    if len(per_second):
        achieved = float(per_second.mean())
    else:
        achieved = float(head["throughput_per_s"]) * max(batch, 1)
    offered = float(facts.config.get("rate") or 0.0)
    for metric, minimum_s in (
        ("order_throughput_per_second", 0.0),
        ("peak_order_throughput_per_second", 60.0),
    ):
        slo = slos.table_slo(metric)
        target = None if slo is None else slo.target
        if target is None:
            continue
        if offered < target:
            out.why_not[metric] = (
                f"offered {offered:,.0f} orders/s, below the {target:,.0f}/s target: "
                "the run cannot show it"
            )
        elif facts.duration_s < minimum_s:
            out.why_not[metric] = (
                f"the run lasted {facts.duration_s:.0f} s; the target is over {minimum_s:.0f} s"
            )
        else:
            out.values[metric] = achieved
            out.how[metric] = (
                f"achieved orders/s over {facts.duration_s:.0f} s (offered {offered:,.0f})"
            )


_REQUEST_KINDS = ("orders",)
_SUMMARY_METRICS: dict[str, tuple[str, ...]] = {
    "orders": (
        "order_processing_p95_ms",
        "order_processing_p99_ms",
        "order_throughput_per_second",
        "peak_order_throughput_per_second",
    ),
    "market-data": ("market_data_latency_ms",),
    "db": ("database_query_p95_ms",),
}


def _requests(
    facts: RunFacts, summaries: pd.DataFrame, out: RunFigures, slos: SloConfig, profile: str
) -> None:
    """The load-test profiles' request figures: latency and errors of the requests sent,
    and the requests/s achieved (judged only when the run offered at least the target)."""
    names = (
        "request_latency_p95_ms",
        "request_latency_p99_ms",
        "request_error_rate_percent",
        "request_throughput_rps",
    )
    if facts.kind not in _REQUEST_KINDS:
        for metric in names:
            out.why_not[metric] = (
                f"{_a(facts.kind)} run sends no HTTP requests to judge against a load-test profile"
            )
        return
    head = _headline(summaries)
    if head is None:
        for metric in names:
            out.why_not[metric] = "the run holds no summary figures"
        return
    where = f"client, from each request's due time, {head['name']}"
    out.values["request_latency_p95_ms"] = float(head["latency_p95_ms"])
    out.how["request_latency_p95_ms"] = f"p95 {where}"
    out.values["request_latency_p99_ms"] = float(head["latency_p99_ms"])
    out.how["request_latency_p99_ms"] = f"p99 {where}"
    count = float(summaries["count"].astype(float).sum())
    errors = float(summaries["errors"].astype(float).sum())
    if count > 0:
        out.values["request_error_rate_percent"] = errors / count * 100
        out.how["request_error_rate_percent"] = f"{errors:,.0f} errors in {count:,.0f} requests"
    batch = int(facts.config.get("batch_size") or 0)
    offered = float(facts.config.get("rate") or 0.0) / max(batch, 1)
    target = next(
        (
            s.target
            for s in slos.select(profile)
            if s.metric == "request_throughput_rps" and s.target is not None
        ),
        None,
    )
    achieved = float(summaries["throughput_per_s"].astype(float).sum())
    if target is not None and offered < target:
        out.why_not["request_throughput_rps"] = (
            f"offered {offered:,.0f} requests/s, below the {target:,.0f}/s target: "
            "the run cannot show it"
        )
    else:
        out.values["request_throughput_rps"] = achieved
        out.how["request_throughput_rps"] = (
            f"achieved requests/s over {facts.duration_s:.0f} s (offered {offered:,.0f})"
        )


def _market_data(summaries: pd.DataFrame, out: RunFigures) -> None:
    head = _headline(summaries)
    if head is None:
        return
    out.values["market_data_latency_ms"] = float(head["latency_p99_ms"])
    out.how["market_data_latency_ms"] = (
        f"p99 of receipt - event time over {int(head['count']):,} frames"
    )


def _db(summaries: pd.DataFrame, out: RunFigures) -> None:
    if summaries.empty:
        return
    worst = summaries.loc[summaries["latency_p95_ms"].astype(float).idxmax()]
    out.values["database_query_p95_ms"] = float(worst["latency_p95_ms"])
    out.how["database_query_p95_ms"] = (
        f"p95 of the slowest of {len(summaries)} query types ({worst['name']})"
    )


# target-table metric -> the server series it is read from
_SERVER_SERIES: dict[str, tuple[str, ...]] = {
    "trading_engine_cpu_percent": ("cpu_percent",),
    "trading_engine_memory_gib": ("memory_rss_bytes",),
    "trading_engine_network_mbps": ("network_bytes_per_s",),
    "trading_engine_disk_mb_per_second": ("disk_read_bytes_per_s", "disk_write_bytes_per_s"),
    "order_book_update_latency_ms": ("book_update_p99_ms",),
    "database_pool_utilization_percent": ("db_pool_use_percent",),
    "database_cache_hit_ratio_percent": ("cache_hit_ratio",),
}


def _server(series: pd.DataFrame, out: RunFigures) -> None:
    def put(metric: str, value: float, how: str) -> None:
        out.values[metric] = value
        out.how[metric] = f"server, exchange process: {how}"
        out.why_not.pop(metric, None)

    if not series.empty and (series["side"] == "server").any():
        for metric, names in _SERVER_SERIES.items():
            out.why_not[metric] = (
                f"the server's series hold no {' or '.join(names)} (the exchange did not report it)"
            )

    cpu = _points(series, "cpu_percent")
    if len(cpu):
        put(
            "trading_engine_cpu_percent",
            float(cpu.mean()),
            f"mean of {len(cpu)} s (max {cpu.max():.1f} %)",
        )
    rss = _points(series, "memory_rss_bytes")
    if len(rss):
        put("trading_engine_memory_gib", float(rss.max()) / _GIB, "peak resident memory")
    net = _points(series, "network_bytes_per_s")
    if len(net):
        put("trading_engine_network_mbps", float(net.mean()) * 8 / 1e6, "mean of in + out")
    reads, writes = (
        _points(series, "disk_read_bytes_per_s"),
        _points(series, "disk_write_bytes_per_s"),
    )
    if len(reads) or len(writes):
        disk = (float(reads.mean()) if len(reads) else 0.0) + (
            float(writes.mean()) if len(writes) else 0.0
        )
        put("trading_engine_disk_mb_per_second", disk / 1e6, "mean of read + write")
    book = _points(series, "book_update_p99_ms")
    if len(book):
        put(
            "order_book_update_latency_ms",
            float(book.median()),
            f"median of per-second p99 (worst second {book.max():.3f} ms)",
        )
    pool = _points(series, "db_pool_use_percent")
    if len(pool):
        put("database_pool_utilization_percent", float(pool.max()), "peak of per-second use")
    cache = _points(series, "cache_hit_ratio")
    if len(cache):
        put("database_cache_hit_ratio_percent", float(cache.mean()) * 100, "mean hit ratio")


def run_figures(
    slos: SloConfig,
    facts: RunFacts,
    summaries: pd.DataFrame,
    series: pd.DataFrame,
    profile: str | None = None,
) -> RunFigures:
    """The target-table figures a run measured (see the module docstring); with `profile`,
    also the request figures that load-test profile's expected results are judged on."""
    out = RunFigures({}, {}, {})
    if profile is not None:
        _requests(facts, summaries, out, slos, profile)
    if summaries.empty and facts.kind in ("orders", "market-data", "db"):
        for metric in _SUMMARY_METRICS[facts.kind]:
            out.why_not[metric] = "the run holds no summary figures"
    if facts.kind == "orders":
        _orders(facts, summaries, series, out, slos)
    elif facts.kind == "market-data":
        _market_data(summaries, out)
    elif facts.kind == "db":
        _db(summaries, out)
    _server(series, out)
    if series.empty or not (series["side"] == "server").any():
        for slo in slos.select(None):
            metric = slo.metric or ""
            if metric.startswith("trading_engine_") or metric in (
                "order_book_update_latency_ms",
                "database_pool_utilization_percent",
                "database_cache_hit_ratio_percent",
            ):
                out.why_not.setdefault(metric, "the run holds no server-side series")
    out.why_not.setdefault(
        "database_replication_lag_ms", "the reference stack has no replica to measure"
    )
    out.why_not.setdefault(
        "database_lock_wait_avg_ms", "lock waits are not among the series a run keeps"
    )
    for slo in slos.select(None):
        if (slo.metric or "").startswith("database_primary_"):
            out.why_not.setdefault(
                slo.metric or "",
                "no database server watched: SQLite runs inside the exchange process",
            )
    for prefix in ("market_data_service_", "websocket_service_", "authentication_service_"):
        for slo in slos.select(None):
            if (slo.metric or "").startswith(prefix):
                out.why_not.setdefault(
                    slo.metric or "",
                    "shared with the trading engine: one exchange process serves this component",
                )
    return out


def judge_run(
    slos: SloConfig,
    facts: RunFacts,
    summaries: pd.DataFrame,
    series: pd.DataFrame,
    *,
    profile: str | None = None,
    allow_unmeasured: bool = False,
) -> JudgedRun:
    """The run's figures judged against the three target tables, or against `profile`'s
    expected results (`allow_unmeasured` as in `planning.slo.evaluate()`)."""
    figures = run_figures(slos, facts, summaries, series, profile)
    values = dict(figures.values)
    if profile is not None:
        used = {s.metric for s in slos.select(profile)}
        values = {k: v for k, v in values.items() if k in used}
    verdicts = evaluate(slos, values, profile, allow_unmeasured=allow_unmeasured)
    return JudgedRun(facts, verdicts, figures)


@dataclass(frozen=True)
class LatestVerdict:
    """The newest measured verdict of one target row, and the run it came from."""

    verdict: Verdict
    run: RunFacts | None
    how: str | None
    why_not: str | None


def latest_verdicts(judged: list[JudgedRun]) -> list[LatestVerdict]:
    """Per target row, the verdict of the newest run that measured it (runs newest first in
    `judged`); rows no run measured are `not_measured` with the newest run's reason."""
    if not judged:
        return []
    rows: list[LatestVerdict] = []
    for i, base in enumerate(judged[0].verdicts.verdicts):
        metric = base.slo.metric or ""
        found: LatestVerdict | None = None
        for j in judged:
            v = j.verdicts.verdicts[i]
            if v.status in ("met", "missed"):
                found = LatestVerdict(v, j.facts, j.figures.how.get(metric), None)
                break
        if found is None:
            reasons = [j.why_not(metric) for j in judged]
            specific = [r for r in reasons if not r.endswith("run does not measure it")]
            found = LatestVerdict(base, None, None, (specific or reasons)[0])
        rows.append(found)
    return rows
