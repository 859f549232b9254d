"""A summary figure over runs: pure, DataFrame in, Plotly figure out (the app and the reports
draw the same trend).

    col = figure_column("p99.9", "service")              # "service_p999_ms"
    fig = trend(history, col)                            # history: frames.summaries rows
    fig = trend(history, "throughput_per_s", x="order")  # runs evenly spaced, oldest first

The input has one row per run and summary (`run_id`, `kind`, `profile`, `name`, `label`,
`started_at`, `trusted` and the figure's column; `title` when the caller has it). One line per
(kind, profile, name); a run not trusted is drawn with a hollow cross instead of a dot.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
import plotly.graph_objects as go

__all__ = ["PERCENTILES", "VIEWS", "figure_column", "figure_title", "trend"]

# Percentile picker label -> column infix.
PERCENTILES: dict[str, str] = {
    "p50": "p50",
    "p90": "p90",
    "p95": "p95",
    "p99": "p99",
    "p99.9": "p999",
}
# View -> column prefix and how people call it.
VIEWS: dict[str, tuple[str, str]] = {
    "latency": ("latency", "from due time"),
    "service": ("service", "from send (service time)"),
}
XAxis = Literal["time", "order"]

_UNTRUSTED = "#7f7f7f"
_LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
    "legend": {"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0},
    "height": 380,
}


def figure_column(percentile: str, view: str = "latency") -> str:
    """The summary column of a percentile ('p50' .. 'p99.9') in a view ('latency': from each
    request's due time, 'service': from its send)."""
    return f"{VIEWS[view][0]}_{PERCENTILES[percentile]}_ms"


def figure_title(column: str) -> str:
    """How a summary column reads: 'p99 from due time (ms)', 'throughput (per s)'."""
    if column == "throughput_per_s":
        return "throughput (per s)"
    prefix, _, rest = column.partition("_")
    quantile = rest.removesuffix("_ms")
    shown = {v: k for k, v in PERCENTILES.items()}.get(quantile, quantile)
    view = VIEWS.get(prefix, (prefix, prefix))[1]
    return f"{shown} {view} (ms)"


def _titles(frame: pd.DataFrame) -> pd.Series:
    if "title" in frame:
        return frame["title"].astype(str)
    started = pd.to_datetime(frame["started_at"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    return frame["label"].astype(str) + " · " + frame["kind"].astype(str) + " · " + started


def trend(
    summaries: pd.DataFrame, figure: str, *, x: XAxis = "time", title: str | None = None
) -> go.Figure | None:
    """`figure` (a summary column) over runs, one line per (kind, profile, name); x is the run's
    start time or its place in start order; hover names the run. None when no run has a value."""
    if summaries.empty or figure not in summaries:
        return None
    frame = summaries.assign(
        _value=pd.to_numeric(summaries[figure], errors="coerce"),
        _started=pd.to_datetime(summaries["started_at"]),
        _title=_titles(summaries),
    ).dropna(subset=["_value"])
    if frame.empty:
        return None
    frame = frame.sort_values(["_started", "run_id"], kind="stable")
    order = {rid: i + 1 for i, rid in enumerate(dict.fromkeys(frame["run_id"]))}
    frame["_order"] = frame["run_id"].map(order)
    fig = go.Figure()
    fig.update_layout(
        title=title or figure_title(figure),
        xaxis_title="run start (UTC)" if x == "time" else "run (oldest first)",
        yaxis_title=figure_title(figure),
        **_LAYOUT,
    )
    groups = frame.groupby(["kind", "profile", "name"], sort=True)
    for (kind, profile, name), group in groups:
        trusted = group["trusted"].astype(bool).to_numpy()
        hover = group[["_title", "label", "run_id"]].astype(str).to_numpy()
        fig.add_trace(
            go.Scatter(
                x=group["_started"] if x == "time" else group["_order"],
                y=group["_value"].to_numpy(),
                mode="lines+markers",
                name=str(name) if groups.ngroups == 1 else f"{kind}/{profile}/{name}",
                marker={
                    "symbol": np.where(trusted, "circle", "x-thin-open"),
                    "size": np.where(trusted, 7, 11),
                    "line": {"width": 2},
                },
                customdata=hover,
                hovertemplate=(
                    "%{customdata[0]}<br>label %{customdata[1]} · run %{customdata[2]}"
                    "<br>%{y:.4g}<extra></extra>"
                ),
            )
        )
    if not frame["trusted"].astype(bool).all():
        fig.add_trace(
            go.Scatter(
                x=[None],
                y=[None],
                mode="markers",
                name="not trusted",
                marker={
                    "symbol": "x-thin-open",
                    "size": 11,
                    "color": _UNTRUSTED,
                    "line": {"width": 2},
                },
                hoverinfo="skip",
            )
        )
    return fig
