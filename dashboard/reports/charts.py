"""The figures of a run's report: the run charts of `dashboard.charts.run`, in report order,
each with the reason when the run has no data for it."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts import run as run_charts
from dashboard.reports.content import RunReport

__all__ = ["ReportChart", "report_charts"]

# the client series that counts a run's load, by kind (the first one present otherwise)
_LOAD_SERIES = {
    "orders": "orders_per_s",
    "market-data": "messages_per_s",
    "db": "queries_per_s",
}
_ANY_LOAD = ("orders_per_s", "requests_per_s", "messages_per_s", "queries_per_s")


@dataclass(frozen=True)
class ReportChart:
    """A titled figure, or the reason there is none."""

    key: str
    title: str
    figure: go.Figure | None
    reason: str = ""


def _load_name(report: RunReport) -> str | None:
    points = report.series
    if points.empty:
        return None
    client = set(points.loc[points["side"] == "client", "name"].astype(str))
    wanted = _LOAD_SERIES.get(report.run.kind)
    if wanted in client:
        return wanted
    return next((n for n in _ANY_LOAD if n in client), None)


def _distribution(report: RunReport) -> go.Figure | None:
    curve = report.curve
    if report.comparison is not None and not report.baseline_curve.empty and not curve.empty:
        mine = curve[curve["view"] == "latency"].assign(name=lambda f: "this run: " + f["name"])
        base = report.baseline_curve[report.baseline_curve["view"] == "latency"]
        base = base.assign(name=lambda f: "baseline: " + f["name"])
        both = pd.concat([mine, base], ignore_index=True)
        return run_charts.percentile_plot(both, "Latency distribution against the baseline")
    return run_charts.percentile_plot(curve)


def _styled(fig: go.Figure | None) -> go.Figure | None:
    """The legend under the plot, so a long one never covers the title."""
    if fig is None:
        return None
    fig.update_layout(
        legend={"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0},
        margin={"l": 60, "r": 20, "t": 50, "b": 40},
        height=max(int(fig.layout.height or 340), 360),
    )
    return fig


def report_charts(report: RunReport) -> list[ReportChart]:
    """The report's charts in order: latency over time, distribution, load, errors, resources."""
    points = report.series
    load = _load_name(report)
    planned = report.run.config.get("rate") if report.run.kind == "orders" else None
    planned_rate = float(planned) if isinstance(planned, (int, float)) else None
    out = [
        ReportChart(
            "latency",
            "Latency over time",
            _styled(run_charts.latency_over_time(points, report.run.kind)),
            "the run holds no per-second latency series",
        ),
        ReportChart(
            "distribution",
            "Latency distribution",
            _styled(_distribution(report)),
            "the run holds no latency histograms",
        ),
        ReportChart(
            "load",
            "Load over time",
            None
            if load is None
            else _styled(run_charts.load_over_time(points, planned_rate, load)),
            "the run holds no per-second load series",
        ),
        ReportChart(
            "errors",
            "Errors over time",
            _styled(run_charts.errors_over_time(points)),
            "the run holds no per-second error or status series",
        ),
    ]
    resources = run_charts.resource_charts(points)
    if not resources:
        out.append(
            ReportChart("resources", "Resources", None, "the run holds no server-side series")
        )
    for title, fig in resources.items():
        key = f"resource-{title.lower().replace(' ', '-')}"
        out.append(ReportChart(key, title, _styled(fig)))
    return out
