"""Charts of one load test: pure functions, DataFrame in, Plotly figure out.

Inputs are `collectors.store.frames.series` (side, name, second, value) and the tables of
`dashboard.loadtest_record` (stages, scenarios, steps). A chart whose data is missing is
returned as None, and the caller shows why.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from dashboard.charts.run import series_of

__all__ = ["scenario_latency_chart", "stages_timeline", "steps_chart"]

OFFERED = "#7f7f7f"
ACHIEVED = "#1f77b4"
COMPLETED = "#2ca02c"
P99 = "#d62728"
SPIKE_BAND = "rgba(214,39,40,0.12)"
STAGE_BANDS = ("rgba(31,119,180,0.05)", "rgba(31,119,180,0.11)")
_LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 55, "r": 55, "t": 60, "b": 40},
    "legend": {"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0},
    "height": 440,
}


def _rate_and_p99_axes(fig: go.Figure, title: str) -> None:
    """Requests per second on the left axis, p99 ms on the right one (traces on `y2`)."""
    fig.update_layout(
        title=title,
        yaxis={"title": "requests per second", "rangemode": "tozero"},
        yaxis2={"title": "p99 ms", "overlaying": "y", "side": "right", "rangemode": "tozero",
                "showgrid": False},
        **_LAYOUT,
    )  # fmt: skip


def _offered(stages: pd.DataFrame, share: float) -> tuple[list[float], list[float]]:
    """The planned rate (times `share`) as a line through each stage's start and end rates."""
    xs: list[float] = []
    ys: list[float] = []
    for row in stages.sort_values("start_s").itertuples(index=False):
        xs += [float(row.start_s), float(row.end_s)]
        ys += [float(row.rate_from or 0.0) * share, float(row.rate_to or 0.0) * share]
    return xs, ys


def _bands(fig: go.Figure, stages: pd.DataFrame) -> None:
    """A shaded band per stage, named at the top; spikes in red."""
    for n, row in enumerate(stages.sort_values("start_s").itertuples(index=False)):
        spike = row.kind == "spike"
        fig.add_vrect(
            x0=float(row.start_s),
            x1=float(row.end_s),
            fillcolor=SPIKE_BAND if spike else STAGE_BANDS[n % 2],
            line_width=0,
            layer="below",
            annotation_text=str(row.name),
            annotation_position="top left",
            annotation_font={"size": 10, "color": P99 if spike else "#555"},
        )


def stages_timeline(
    points: pd.DataFrame, stages: pd.DataFrame, scenario: str | None = None, share: float = 1.0
) -> go.Figure | None:
    """Offered rate (from the stages) against achieved and completed requests per second, and
    the p99 per second (from the due time) on a second axis, over stage bands; of one
    `scenario` (its series `<name>:<scenario>`, offered times its planned `share`) when given."""
    suffix = f":{scenario}" if scenario else ""
    achieved = series_of(points, f"requests_per_s{suffix}", "client")
    completed = series_of(points, f"completed_per_s{suffix}", "client")
    p99 = series_of(points, f"latency_p99_ms{suffix}", "client")
    if achieved.empty and p99.empty and stages.empty:
        return None
    fig = go.Figure()
    if not stages.empty:
        _bands(fig, stages)
        xs, ys = _offered(stages, share)
        fig.add_trace(go.Scatter(x=xs, y=ys, mode="lines", name="offered (planned)",
                                 line={"color": OFFERED, "dash": "dash"}))  # fmt: skip
    for frame, name, colour in ((achieved, "achieved (sent)", ACHIEVED),
                                (completed, "completed", COMPLETED)):  # fmt: skip
        if not frame.empty:
            fig.add_trace(go.Scatter(x=frame["second"], y=frame["value"], mode="lines",
                                     name=f"{name} per s", line={"color": colour}))  # fmt: skip
    if not p99.empty:
        fig.add_trace(go.Scatter(x=p99["second"], y=p99["value"], mode="lines", yaxis="y2",
                                 name="p99 ms (from due time)",
                                 line={"color": P99, "width": 2}))  # fmt: skip
    of = f" of {scenario}" if scenario else ""
    _rate_and_p99_axes(fig, f"Stages: offered against achieved rate, and p99 per second{of}")
    fig.update_layout(xaxis_title="seconds since start")
    return fig


def scenario_latency_chart(scenarios: pd.DataFrame) -> go.Figure | None:
    """p50, p95 and p99 (from the due time) per scenario, grouped bars."""
    if scenarios.empty:
        return None
    fig = go.Figure()
    for column, words, colour in (("p50_ms", "p50", "#2ca02c"), ("p95_ms", "p95", "#ff7f0e"),
                                  ("p99_ms", "p99", P99)):  # fmt: skip
        values = pd.to_numeric(scenarios[column], errors="coerce")
        if values.notna().any():
            fig.add_trace(go.Bar(x=scenarios["scenario"], y=values, name=words,
                                 marker_color=colour))  # fmt: skip
    if not fig.data:
        return None
    fig.update_layout(title="Latency per scenario (from due time)", barmode="group",
                      yaxis_title="ms", **_LAYOUT)  # fmt: skip
    return fig


def steps_chart(steps: pd.DataFrame, best: int | None) -> go.Figure | None:
    """Each stress step: offered and achieved rate, and its p99 on a second axis; the maximum
    capacity (the highest step that met its targets) starred."""
    if steps.empty:
        return None
    offered = pd.to_numeric(steps["rate_to"], errors="coerce")
    achieved = pd.to_numeric(steps["achieved_rate"], errors="coerce")
    p99 = pd.to_numeric(steps["p99_ms"], errors="coerce")
    met = steps["met"].astype(bool)
    fig = go.Figure()
    fig.add_trace(go.Bar(x=steps["name"], y=offered, name="offered per s",
                         marker_color="rgba(127,127,127,0.35)"))  # fmt: skip
    fig.add_trace(go.Bar(x=steps["name"], y=achieved, name="achieved per s",
                         marker_color=[ACHIEVED if m else "#9ecae1" for m in met]))  # fmt: skip
    fig.add_trace(go.Scatter(x=steps["name"], y=p99, mode="lines+markers", yaxis="y2",
                             name="p99 ms", line={"color": P99},
                             marker={"symbol": ["circle" if m else "x" for m in met],
                                     "size": 10}))  # fmt: skip
    if best is not None:
        row = steps.loc[best]
        fig.add_annotation(x=row["name"], y=float(achieved.loc[best]), text="★ max capacity",
                           showarrow=True, arrowhead=2, ay=-40,
                           font={"color": COMPLETED})  # fmt: skip
    _rate_and_p99_axes(fig, "Stress steps: the highest rate that still met the targets")
    fig.update_layout(barmode="overlay")
    return fig
