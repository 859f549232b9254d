"""Two runs side by side: pure functions, frames in, Plotly figures (or tables) out.

Inputs are the frames of `collectors.store.frames` (`series`, `percentile_curve`) and the
results of `planning.compare`. A chart whose data is missing is None; the caller says why.
"""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from dashboard.charts.run import NINES_TICKS, series_of
from planning.compare import VIEW_WORDS, ContextChange, Difference, describe

__all__ = [
    "A_COLOR",
    "B_COLOR",
    "aligned_series",
    "changes_frame",
    "differences_frame",
    "overlaid_distributions",
    "rate_series_name",
]

A_COLOR = "#1f77b4"
B_COLOR = "#ff7f0e"
_LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 50, "r": 20, "t": 60, "b": 40},
    "legend": {"orientation": "h", "yanchor": "top", "y": -0.18, "x": 0},
}
# (client series, legend words): the per-second latency and achieved rate of each kind of run
_LATENCY = (("latency_p99_ms", "client p99"), ("query_p95_ms", "client query p95"))
_SERVER_LATENCY = (
    ("order_processing_p99_ms", "server p99"),
    ("book_update_p99_ms", "server book-update p99"),
)
_RATES = ("orders_per_s", "requests_per_s", "messages_per_s", "queries_per_s")


def rate_series_name(points: pd.DataFrame) -> str | None:
    """The client series holding a run's achieved rate, if it has one."""
    names = set(points.loc[points["side"] == "client", "name"]) if not points.empty else set()
    return next((n for n in _RATES if n in names), None)


def _first(
    points: pd.DataFrame, names: tuple[tuple[str, str], ...], side: str
) -> tuple[pd.DataFrame, str] | None:
    for name, words in names:
        s = series_of(points, name, side)
        if not s.empty:
            return s, words
    return None


def aligned_series(
    a: pd.DataFrame, b: pd.DataFrame, a_name: str = "A", b_name: str = "B"
) -> go.Figure | None:
    """Both runs' per-second series on seconds since start: p99 latency (client solid, server
    dotted where it was scraped) above, achieved rate below."""
    fig = make_subplots(
        rows=2,
        cols=1,
        shared_xaxes=True,
        vertical_spacing=0.08,
        subplot_titles=("Latency per second", "Achieved rate per second"),
    )
    drawn = 0
    for points, name, color in ((a, a_name, A_COLOR), (b, b_name, B_COLOR)):
        for found, dash in (
            (_first(points, _LATENCY, "client"), "solid"),
            (_first(points, _SERVER_LATENCY, "server"), "dot"),
        ):
            if found is None:
                continue
            s, words = found
            fig.add_trace(
                go.Scatter(
                    x=s["second"],
                    y=s["value"],
                    mode="lines+markers",
                    name=f"{name}: {words}",
                    line={"color": color, "dash": dash},
                ),
                row=1,
                col=1,
            )
            drawn += 1
        rate = rate_series_name(points)
        if rate is not None:
            s = series_of(points, rate, "client")
            fig.add_trace(
                go.Scatter(
                    x=s["second"],
                    y=s["value"],
                    mode="lines+markers",
                    name=f"{name}: {rate}",
                    line={"color": color},
                ),
                row=2,
                col=1,
            )
            drawn += 1
    if not drawn:
        return None
    fig.update_layout(height=620, **_LAYOUT)
    fig.update_yaxes(title_text="ms", row=1, col=1)
    fig.update_yaxes(title_text="per second", row=2, col=1)
    fig.update_xaxes(title_text="seconds since start", row=2, col=1)
    return fig


def overlaid_distributions(
    a: pd.DataFrame, b: pd.DataFrame, name: str, a_name: str = "A", b_name: str = "B"
) -> go.Figure | None:
    """Both runs' percentile plots of the summary `name` on one log-log "nines" figure: run A
    blue, run B orange; from due time solid, from send dashed."""
    fig = go.Figure()
    for curve, label, color in ((a, a_name, A_COLOR), (b, b_name, B_COLOR)):
        if curve.empty:
            continue
        picked = curve[curve["name"] == name]
        for view, group in picked.groupby("view", sort=True):
            fig.add_trace(
                go.Scatter(
                    x=group["nines"],
                    y=group["value_ms"],
                    mode="lines",
                    name=f"{label}: {VIEW_WORDS.get(str(view), str(view))}",
                    line={"color": color, "dash": "solid" if view == "latency" else "dash"},
                    customdata=group["percentile"],
                    hovertemplate="p%{customdata:.3f}: %{y:.3f} ms<extra>%{fullData.name}</extra>",
                )
            )
    if not fig.data:
        return None
    fig.update_layout(
        title=f"Latency distribution: {name}",
        xaxis_title="percentile",
        yaxis_title="ms (log)",
        height=480,
        **_LAYOUT,
    )
    fig.update_xaxes(tickvals=[t for t, _ in NINES_TICKS], ticktext=[lbl for _, lbl in NINES_TICKS])
    fig.update_yaxes(type="log")
    return fig


def differences_frame(diffs: list[Difference]) -> pd.DataFrame:
    """Every figure A → B as a table: figure, A, B, change, change %, 95 % interval, matters."""
    rows = []
    for d in diffs:
        lo, hi = d.interval_pct if d.interval_pct is not None else d.interval
        unit = "%" if d.interval_pct is not None else (" pts" if d.unit == "%" else f" {d.unit}")
        rows.append(
            {
                "figure": d.name,
                "unit": d.unit,
                "A": round(d.a, 4),
                "B": round(d.b, 4),
                "change": round(d.delta, 4),
                "change %": None if d.delta_pct is None else round(d.delta_pct, 1),
                "95 % CI": f"{lo:+.3g}{unit} to {hi:+.3g}{unit}",
                "matters": d.matters,
                "verdict": d.verdict,
                "in words": describe(d),
            }
        )
    return pd.DataFrame(
        rows,
        columns=[
            "figure",
            "unit",
            "A",
            "B",
            "change",
            "change %",
            "95 % CI",
            "matters",
            "verdict",
            "in words",
        ],
    )


def changes_frame(changes: list[ContextChange]) -> pd.DataFrame:
    """What else changed, as a table: area, key, A, B (values as text)."""
    return pd.DataFrame(
        [{"area": c.area, "key": c.key, "A": _text(c.a), "B": _text(c.b)} for c in changes],
        columns=["area", "key", "A", "B"],
    )


def _text(value: object) -> str:
    return "—" if value is None else str(value)
