"""Run histories built from stored runs' summaries, and alerts that name the run they start at.

    hist = histories_from_summaries(summaries)        # a frame from collectors.store.frames
    reports = analyse([h.history for h in hist])
    out = stored_report_json(reports, hist)           # report_json + the run id of each change

One history per (kind, profile, summary name, figure), runs in start order. The figures are the
p50/p95/p99 latency of both views (`latency_*`: from each request's due time; `service_*`:
from its send) and the throughput. A history's series is "kind/profile/summary name", its
metric the figure's column name, so the detector's direction rules read it (`_ms` higher is
worse, `_per_s` lower is worse).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from planning.regress.history import RunHistory
from planning.regress.report import HistoryReport, report_json

__all__ = [
    "FIGURES",
    "Detected",
    "StoredHistory",
    "histories_from_summaries",
    "stored_report_json",
]

FIGURES: tuple[str, ...] = (
    "latency_p50_ms",
    "latency_p95_ms",
    "latency_p99_ms",
    "service_p50_ms",
    "service_p95_ms",
    "service_p99_ms",
    "throughput_per_s",
)


@dataclass(frozen=True)
class StoredHistory:
    """A history and, position by position, the run each value came from."""

    history: RunHistory
    run_ids: list[str]
    started_at: list[object]
    labels: list[str]
    kind: str
    profile: str
    name: str


def histories_from_summaries(
    summaries: pd.DataFrame, figures: tuple[str, ...] = FIGURES
) -> list[StoredHistory]:
    """Histories from a frame with run_id, kind, profile, label, started_at, name and the
    figure columns (one row per run and summary). A figure a run lacks (a view it did not
    record) is left out of that history rather than filled."""
    if summaries.empty:
        return []
    ordered = summaries.sort_values(["started_at", "run_id", "position"], kind="stable")
    out: list[StoredHistory] = []
    for (kind, profile, name), group in ordered.groupby(
        ["kind", "profile", "name"], sort=True, dropna=False
    ):
        for figure in figures:
            if figure not in group:
                continue
            values = pd.to_numeric(group[figure], errors="coerce")
            keep = values.notna() & np.isfinite(values.astype(float))
            if not keep.any():
                continue
            picked = group[keep]
            out.append(
                StoredHistory(
                    history=RunHistory(
                        f"{kind}/{profile}/{name}", figure, [float(v) for v in values[keep]]
                    ),
                    run_ids=[str(r) for r in picked["run_id"]],
                    started_at=list(picked["started_at"]),
                    labels=[str(x) for x in picked["label"]],
                    kind=str(kind),
                    profile=str(profile),
                    name=str(name),
                )
            )
    return out


def stored_report_json(
    reports: list[HistoryReport], histories: list[StoredHistory]
) -> dict[str, object]:
    """`report_json` of the reports, each change, outlier and trend also naming its run(s):
    `run_id` (where the new level starts, or the outlier), `label`, and for trends the first
    and last run."""
    out = report_json(reports)
    by_id = {h.history.id: h for h in histories}
    series = out["series"]
    outliers = out["outliers"]
    trends = out["trends"]
    assert isinstance(series, dict) and isinstance(outliers, dict) and isinstance(trends, dict)
    for hid, changes in series.items():
        h = by_id[hid]
        for change in changes:
            i = int(change["index"])
            change["run_id"] = h.run_ids[i]
            change["label"] = h.labels[i]
            change["previous_run_id"] = h.run_ids[i - 1] if i > 0 else None
    for hid, found in outliers.items():
        h = by_id[hid]
        for outlier in found:
            i = int(outlier["index"])
            outlier["run_id"] = h.run_ids[i]
            outlier["label"] = h.labels[i]
    for hid, found in trends.items():
        h = by_id[hid]
        for trend in found:
            trend["first_run_id"] = h.run_ids[int(trend["start"])]
            trend["last_run_id"] = h.run_ids[int(trend["end"])]
    return out


@dataclass(frozen=True)
class Detected:
    """Change points found in stored histories."""

    histories: list[StoredHistory]
    reports: list[HistoryReport]

    def as_json(self) -> dict[str, object]:
        """The `regress detect --json` object, alerts naming their runs."""
        return stored_report_json(self.reports, self.histories)
