"""Capacity charts: pure functions, DataFrame in, Plotly figure out.

Inputs are the frames of `planning.whatif`: `runway_frame` (month, resource, unit, required,
capacity, share) and `usl_frame` (load, throughput, low, high), and a ramp's points
(load, throughput_per_s, p99_ms, met_p99, trusted, offered_per_s).
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

__all__ = ["runway_chart", "usl_chart"]

_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#9467bd")
_LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
    "legend": {"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0},
    "height": 440,
}


def runway_chart(runway: pd.DataFrame, months: int) -> go.Figure:
    """Each resource's requirement as a share of today's fleet, month by month; a marker
    where it first passes 100 % (the month it runs out)."""
    traces: list[go.Scatter] = []
    for colour, (resource, rows) in zip(
        _COLOURS * 2, runway.groupby("resource", sort=False), strict=False
    ):
        rows = rows.sort_values("month")
        unit, capacity = rows["unit"].iloc[0], rows["capacity"].iloc[0]
        traces.append(
            go.Scatter(
                x=rows["month"],
                y=rows["share"],
                name=f"{resource} (today {capacity:g} {unit})",
                mode="lines+markers",
                line={"color": colour},
                customdata=rows[["required"]].assign(unit=unit),
                hovertemplate="month %{x}: needs %{customdata[0]:.4g} %{customdata[1]}"
                " (%{y:.0f} % of today)<extra>" + str(resource) + "</extra>",
            )
        )
        over = rows[rows["share"] > 100]
        if not over.empty:
            first = over.iloc[0]
            traces.append(
                go.Scatter(
                    x=[first["month"]],
                    y=[first["share"]],
                    mode="markers",
                    marker={"symbol": "x", "size": 14, "color": colour},
                    name=f"{resource} runs out: month {int(first['month'])}",
                    showlegend=False,
                    hovertemplate="%{fullData.name}<extra></extra>",
                )
            )
    fig = go.Figure(traces)
    fig.update_layout(
        title=f"Runway of today's fleet over {months} months",
        xaxis_title="months from now",
        yaxis_title="requirement, % of today's capacity",
        shapes=[
            {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": 100, "y1": 100,
             "line": {"dash": "dash", "color": "#d62728"}}
        ],
        annotations=[
            {"xref": "paper", "x": 1, "y": 100, "xanchor": "right", "yanchor": "bottom",
             "showarrow": False, "text": "today's fleet (100 %); ✕ the month it runs out"}
        ],
        **_LAYOUT,
    )  # fmt: skip
    fig.update_xaxes(range=[-0.3, months + 0.3], dtick=1 if months <= 24 else None)
    return fig


def usl_chart(
    points: pd.DataFrame, curve: pd.DataFrame | None, load_words: str, title: str
) -> go.Figure:
    """Measured (load, throughput) points (met the p99 or not, trusted or not) with the fitted
    USL curve and its 95 % interval band when there is a fit."""
    traces: list[go.Scatter] = []
    if curve is not None and not curve.empty:
        band = curve.dropna(subset=["low", "high"])
        if not band.empty:
            traces.append(
                go.Scatter(
                    x=pd.concat([band["load"], band["load"][::-1]]),
                    y=pd.concat([band["high"], band["low"][::-1]]),
                    fill="toself",
                    fillcolor="rgba(31,119,180,0.15)",
                    line={"width": 0},
                    name="95 % interval",
                    hoverinfo="skip",
                )
            )
        traces.append(
            go.Scatter(
                x=curve["load"],
                y=curve["throughput"],
                name="USL fit",
                mode="lines",
                line={"color": "#1f77b4"},
                hovertemplate="load %{x:.3g}: %{y:.4g} orders/s<extra>fit</extra>",
            )
        )
    for met, name, colour in ((True, "met the p99", "#2ca02c"), (False, "missed", "#d62728")):
        rows = points[points["met_p99"] == met]
        if rows.empty:
            continue
        traces.append(
            go.Scatter(
                x=rows["load"],
                y=rows["throughput_per_s"],
                mode="markers",
                name=f"runs: {name}",
                marker={
                    "color": colour,
                    "size": 10,
                    "symbol": ["circle" if t else "circle-open" for t in rows["trusted"]],
                },
                customdata=rows[["offered_per_s", "p99_ms"]],
                hovertemplate="load %{x:.3g}: %{y:.4g} orders/s<br>offered %{customdata[0]:g}/s,"
                " p99 %{customdata[1]:.3g} ms<extra></extra>",
            )
        )
    fig = go.Figure(traces)
    fig.update_layout(
        title=title,
        xaxis_title=f"load: {load_words}",
        yaxis_title="throughput, orders/s",
        **_LAYOUT,
    )
    fig.update_xaxes(rangemode="tozero")
    fig.update_yaxes(rangemode="tozero")
    return fig
