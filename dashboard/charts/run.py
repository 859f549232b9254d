"""Charts of one run: pure functions, DataFrame in, Plotly figure out (the app and the reports
draw the same figures).

Inputs are the frames of `collectors.store.frames`: `series` (side, name, second, value) and
`percentile_curve` (name, view, percentile, value_ms, nines). A chart whose data is missing is
returned as None, and the caller shows why.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go

__all__ = [
    "NINES_TICKS",
    "errors_over_time",
    "latency_over_time",
    "load_over_time",
    "percentile_plot",
    "resource_charts",
    "series_of",
]

CLIENT = "#1f77b4"
SERVER = ("#2ca02c", "#ff7f0e", "#d62728")  # p50, p95, p99
_LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
    "legend": {"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0},
    "height": 400,
}

# Percentile plot x ticks: the position of p on a "nines" axis is -log10(1 - p/100).
NINES_TICKS: tuple[tuple[float, str], ...] = (
    (0.0, "0%"),
    (math.log10(2), "50%"),
    (1.0, "90%"),
    (2.0, "99%"),
    (3.0, "99.9%"),
    (4.0, "99.99%"),
    (5.0, "99.999%"),
)


def series_of(points: pd.DataFrame, name: str, side: str) -> pd.DataFrame:
    """The (second, value) rows of one series, by second."""
    if points.empty:
        return pd.DataFrame({"second": [], "value": []})
    picked = points[(points["side"] == side) & (points["name"] == name)]
    return picked[["second", "value"]].sort_values("second")


def _figure(title: str, y_title: str, x_title: str = "seconds since start") -> go.Figure:
    fig = go.Figure()
    fig.update_layout(title=title, xaxis_title=x_title, yaxis_title=y_title, **_LAYOUT)
    return fig


# Per kind of run: (client series, its legend words, server quantity, its legend words).
_LATENCY_SERIES: dict[str, tuple[str, str, str, str]] = {
    "orders": (
        "latency_p99_ms",
        "client p99 (from due time)",
        "order_processing",
        "order processing",
    ),
    "market-data": ("", "", "match_to_broadcast", "match to broadcast"),
    "db": ("query_p95_ms", "client p95 over all queries", "", ""),
}


def latency_over_time(points: pd.DataFrame, kind: str = "orders") -> go.Figure | None:
    """Client latency per second (p99 from each request's due time for orders runs) beside the
    server's quantiles of the same seconds (order processing for orders runs, match to broadcast
    for market-data runs), each server quantile with its histogram-bucket bounds as a band."""
    client_name, client_words, quantity, words = _LATENCY_SERIES.get(
        kind, _LATENCY_SERIES["orders"]
    )
    client = series_of(points, client_name, "client") if client_name else series_of(points, "", "")
    server = {
        q: series_of(points, f"{quantity}_{q}_ms", "server")
        if quantity
        else series_of(points, "", "")
        for q in ("p50", "p95", "p99")
    }
    if client.empty and all(s.empty for s in server.values()):
        return None
    fig = _figure("Latency per second", "ms")
    for (q, s), color in zip(server.items(), SERVER, strict=True):
        if s.empty:
            continue
        lo = series_of(points, f"{quantity}_{q}_lo_ms", "server")
        hi = series_of(points, f"{quantity}_{q}_hi_ms", "server")
        if not lo.empty and not hi.empty:
            fig.add_trace(
                go.Scatter(
                    x=hi["second"],
                    y=hi["value"],
                    mode="lines",
                    line={"width": 0},
                    showlegend=False,
                    hoverinfo="skip",
                    legendgroup=q,
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=lo["second"],
                    y=lo["value"],
                    mode="lines",
                    line={"width": 0},
                    fill="tonexty",
                    fillcolor=_alpha(color, 0.15),
                    showlegend=False,
                    hoverinfo="skip",
                    legendgroup=q,
                )
            )
        fig.add_trace(
            go.Scatter(
                x=s["second"],
                y=s["value"],
                mode="lines",
                name=f"server {words} {q}",
                line={"color": color},
                legendgroup=q,
            )
        )
    if not client.empty:
        fig.add_trace(
            go.Scatter(
                x=client["second"],
                y=client["value"],
                mode="lines+markers",
                name=client_words,
                line={"color": CLIENT, "width": 3},
            )
        )
    return fig


def _alpha(hex_color: str, alpha: float) -> str:
    r, g, b = (int(hex_color[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def load_over_time(
    points: pd.DataFrame, planned_per_s: float | None, name: str
) -> go.Figure | None:
    """Planned rate (a flat line at the configured rate) against the achieved rate per second
    of the client series `name` (requests_per_s, orders_per_s, messages_per_s, queries_per_s)."""
    achieved = series_of(points, name, "client")
    if achieved.empty:
        return None
    fig = _figure("Load: planned and achieved", "per second")
    if planned_per_s:
        fig.add_trace(
            go.Scatter(
                x=achieved["second"],
                y=[planned_per_s] * len(achieved),
                mode="lines",
                name="planned",
                line={"dash": "dash", "color": "#7f7f7f"},
            )
        )
    fig.add_trace(
        go.Scatter(
            x=achieved["second"],
            y=achieved["value"],
            mode="lines+markers",
            name=f"achieved ({name})",
            line={"color": CLIENT},
        )
    )
    return fig


def errors_over_time(points: pd.DataFrame) -> go.Figure | None:
    """Client errors per second and the server's orders per second by status."""
    errors = series_of(points, "errors_per_s", "client")
    statuses = (
        sorted({n for n in points["name"].unique() if str(n).startswith("orders_per_s.")})
        if not points.empty
        else []
    )
    if errors.empty and not statuses:
        return None
    fig = _figure("Errors and orders by status", "per second")
    for name in statuses:
        s = series_of(points, name, "server")
        fig.add_trace(
            go.Scatter(
                x=s["second"],
                y=s["value"],
                mode="lines",
                stackgroup="status",
                name=f"server {name.split('.', 1)[1]}",
            )
        )
    if not errors.empty:
        fig.add_trace(
            go.Scatter(
                x=errors["second"],
                y=errors["value"],
                mode="lines+markers",
                name="client errors",
                line={"color": "#d62728", "width": 3},
            )
        )
    return fig


def percentile_plot(curve: pd.DataFrame, title: str = "Latency distribution") -> go.Figure | None:
    """Latency by percentile on a log-log "nines" axis, one line per histogram and view (the
    due-time view solid, the service-time view dashed)."""
    if curve.empty:
        return None
    fig = _figure(title, "ms (log)", "percentile")
    for (name, view), group in curve.groupby(["name", "view"], sort=True):
        label = "from due time" if view == "latency" else "from send (service)"
        fig.add_trace(
            go.Scatter(
                x=group["nines"],
                y=group["value_ms"],
                mode="lines",
                name=f"{name}: {label}",
                line={"dash": "solid" if view == "latency" else "dash"},
                customdata=group["percentile"],
                hovertemplate="p%{customdata:.3f}: %{y:.3f} ms<extra>%{fullData.name}</extra>",
            )
        )
    fig.update_xaxes(tickvals=[t for t, _ in NINES_TICKS], ticktext=[lbl for _, lbl in NINES_TICKS])
    fig.update_yaxes(type="log")
    return fig


_RESOURCES: tuple[tuple[str, str, tuple[tuple[str, str, float], ...]], ...] = (
    ("CPU", "% of one core", (("cpu_percent", "exchange CPU", 1.0),)),
    ("Memory", "MiB", (("memory_rss_bytes", "resident", 1 / 2**20),)),
    (
        "Network",
        "Mbit/s",
        (("network_in_bytes_per_s", "in", 8e-6), ("network_out_bytes_per_s", "out", 8e-6)),
    ),
    (
        "Disk",
        "MB/s",
        (("disk_read_bytes_per_s", "read", 1e-6), ("disk_write_bytes_per_s", "write", 1e-6)),
    ),
    ("Database pool", "% in use", (("db_pool_use_percent", "pool use", 1.0),)),
    ("Event-loop lag", "ms", (("event_loop_lag_p99_ms", "lag p99", 1.0),)),
)


def resource_charts(points: pd.DataFrame) -> dict[str, go.Figure]:
    """The server's resources per second, one figure each where the run has the series:
    CPU, memory, network, disk, database pool, event-loop lag."""
    out: dict[str, go.Figure] = {}
    for title, unit, lines in _RESOURCES:
        fig = _figure(title, unit)
        fig.update_layout(height=300, legend={"y": -0.4})
        drawn = False
        for name, label, scale in lines:
            s = series_of(points, name, "server")
            if s.empty:
                continue
            drawn = True
            fig.add_trace(go.Scatter(x=s["second"], y=s["value"] * scale, mode="lines", name=label))
        if drawn:
            out[title] = fig
    return out
