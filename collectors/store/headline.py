"""A run's headline summary when its summaries are parts of one whole.

A db run keeps one summary per query type (`orders_by_user`, `insert order`...): none of them
is the run's figure. Its headline is every query together: counts and rates added, the mean
weighted by count, the percentiles read from the query types' merged histograms (so they are
the percentiles of all the samples, not an average of percentiles).
"""

from __future__ import annotations

from collections.abc import Sequence

from collectors.store import histograms
from collectors.store.model import Histogram, LatencyFigures, Summary
from collectors.store.summarise import figures_from_histogram

__all__ = ["OVERALL_NAME", "PARTS_KINDS", "overall_summary"]

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
