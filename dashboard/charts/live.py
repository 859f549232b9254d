"""Live charts: pure functions over `dashboard.live.live_frame` (time, then one column per
series); a chart whose series are all missing is None, and the caller says why."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

__all__ = ["latency_chart", "orders_chart", "resources_chart"]

_LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 50, "r": 20, "t": 40, "b": 30},
    "legend": {"orientation": "h", "yanchor": "top", "y": -0.15, "x": 0},
    "height": 320,
}
_QUANTILE_COLOURS = {"p50": "#2ca02c", "p95": "#ff7f0e", "p99": "#d62728"}  # as the run charts
_STATUS_COLOURS = {
    "filled": "#2ca02c",
    "partial": "#17becf",
    "pending": "#1f77b4",
    "cancelled": "#7f7f7f",
    "rejected": "#d62728",
}


def _lines(
    frame: pd.DataFrame, columns: dict[str, str], title: str, y_title: str
) -> go.Figure | None:
    present = {c: name for c, name in columns.items() if c in frame and frame[c].notna().any()}
    if not present:
        return None
    fig = go.Figure()
    for column, name in present.items():
        fig.add_trace(go.Scatter(x=frame["time"], y=frame[column], name=name, mode="lines+markers"))
    fig.update_layout(title=title, yaxis_title=y_title, **_LAYOUT)
    fig.update_yaxes(rangemode="tozero")
    return fig


def orders_chart(frame: pd.DataFrame, statuses: list[str]) -> go.Figure | None:
    """Orders/s by status, stacked, with the total."""
    if "orders_per_s" not in frame:
        return None
    frame = frame[frame["orders_per_s"].notna()]  # the first sample has no rate yet
    fig = _lines(frame, {"orders_per_s": "total"}, "Orders processed per second", "orders/s")
    if fig is None:
        return None
    fig.data[0].update(line={"color": "#000000", "dash": "dot"})
    for status in statuses:
        column = f"orders_per_s.{status}"
        fig.add_trace(
            go.Scatter(
                x=frame["time"],
                y=frame[column],
                name=status,
                stackgroup="status",
                line={"color": _STATUS_COLOURS.get(status)},
            )
        )
    return fig


def latency_chart(frame: pd.DataFrame) -> go.Figure | None:
    """Order-processing p50/p95/p99 of each interval, ms."""
    fig = _lines(
        frame,
        {f"order_processing_p{q}_ms": f"p{q}" for q in (50, 95, 99)},
        "Order processing latency (server side)",
        "ms",
    )
    if fig is not None:
        for trace in fig.data:
            trace.update(line={"color": _QUANTILE_COLOURS.get(str(trace.name))})
    return fig


def resources_chart(frame: pd.DataFrame) -> go.Figure | None:
    """CPU % of the exchange process, HTTP requests in flight and WebSocket connections."""
    return _lines(
        frame,
        {
            "cpu_percent": "CPU %",
            "http_in_flight": "HTTP in flight",
            "ws_connections": "WebSocket connections",
            "db_pool_active": "DB pool active",
        },
        "CPU and connections",
        "value",
    )
