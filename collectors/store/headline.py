"""A run's headline summary when its summaries are parts of one whole.

A db run keeps one summary per query type (`orders_by_user`, `insert order`...): none of them
is the run's figure. Its headline is every query together: counts and rates added, the mean
weighted by count, the percentiles read from the query types' merged histograms (so they are
the percentiles of all the samples, not an average of percentiles).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from collectors.store import histograms
from collectors.store.model import Histogram, LatencyFigures, Summary
from collectors.store.rows import SUMMARY_COLUMNS, summary_from_row
from collectors.store.summarise import figures_from_histogram

__all__ = ["OVERALL_NAME", "PARTS_KINDS", "overall_summaries", "overall_summary"]

PARTS_KINDS = frozenset({"db"})
"""Kinds of run whose summaries are disjoint parts of the measured whole."""

OVERALL_NAME = "all queries"


def _merged(summaries: Sequence[Summary], encoded: list[str], view: str) -> LatencyFigures | None:
    """One view of every part: None when a part lacks it (no figure is made up)."""
    figures = [s.latency if view == "latency" else s.service for s in summaries]
    if not encoded or any(f is None for f in figures):
        return None
    total = sum(s.count for s in summaries)
    weighted = sum(s.count * f.mean_ms for s, f in zip(summaries, figures, strict=True) if f)
    return figures_from_histogram(histograms.merge(encoded), weighted / total if total else 0.0)


def overall_summary(summaries: Sequence[Summary], hists: Sequence[Histogram]) -> Summary | None:
    """Every part together (None without summaries; the latency view None when a part's
    histogram is missing, so no figure is made up)."""
    if not summaries:
        return None
    if len(summaries) == 1:
        return summaries[0]
    names = {s.name for s in summaries}

    def encoded(view: str) -> list[str]:
        found = [h.encoded for h in hists if h.view == view and h.name in names]
        return found if len(found) == len(names) else []

    latency = _merged(summaries, encoded("latency"), "latency")
    if latency is None:
        return None
    return Summary(
        name=OVERALL_NAME,
        count=sum(s.count for s in summaries),
        errors=sum(s.errors for s in summaries),
        throughput_per_s=sum(s.throughput_per_s for s in summaries),
        latency=latency,
        service=_merged(summaries, encoded("service"), "service"),
    )


def overall_summaries(con: Any, ids: list[str]) -> dict[str, Summary]:
    """run id -> every part of the run together (`headline.overall_summary`), for the runs
    that have summaries."""
    if not ids:
        return {}
    summaries: dict[str, list[Summary]] = {}
    cols = ", ".join(SUMMARY_COLUMNS)
    for row in con.execute(
        f"SELECT run_id, {cols} FROM summaries WHERE run_id IN (SELECT unnest(?::VARCHAR[])) "
        "ORDER BY run_id, position",
        [ids],
    ).fetchall():
        summaries.setdefault(row[0], []).append(summary_from_row(row[1:]))
    hists: dict[str, list[Histogram]] = {}
    for run_id, name, view, encoded in con.execute(
        "SELECT run_id, name, view, encoded FROM histograms "
        "WHERE run_id IN (SELECT unnest(?::VARCHAR[])) ORDER BY run_id, position",
        [ids],
    ).fetchall():
        hists.setdefault(run_id, []).append(Histogram(name, view, encoded))
    found = {
        run_id: overall_summary(parts, hists.get(run_id, [])) for run_id, parts in summaries.items()
    }
    return {run_id: summary for run_id, summary in found.items() if summary is not None}
