"""A run history's findings drawn and told: pure functions, detector results in, Plotly figures
or sentences out.

The x axis is the run's position in the history (the detector's index), each point naming its
run; a step is a vertical line between the last run at the old level and the first at the new
one, with the median of each level drawn across its runs; drift is a fitted line over its runs;
outliers are crosses, apart from the line.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from planning.regress.detect import Change, Detection, Outlier, Trend
from planning.regress.stored import StoredHistory

__all__ = [
    "change_words",
    "figure_words",
    "history_figure",
    "history_title",
    "moved_words",
    "outlier_words",
    "run_name",
    "trend_words",
]

_COLORS = {"regression": "#d62728", "improvement": "#2ca02c"}
_LINE = "#1f77b4"
_DRIFT = "#ff7f0e"
_LAYOUT = {
    "template": "plotly_white",
    "margin": {"l": 50, "r": 20, "t": 50, "b": 40},
    "legend": {"orientation": "h", "yanchor": "top", "y": -0.22, "x": 0},
    "height": 400,
}
_VIEWS = {"latency": "from due time", "service": "from send"}
_NOISE = {
    "gaussian": "roughly normal run-to-run noise",
    "heavy_tailed": "heavy-tailed noise (occasional far runs)",
    "bimodal": "two-level (bimodal) noise",
    "unknown": "noise of unknown shape",
}


def figure_words(metric: str) -> str:
    """'p99 from due time (ms)', 'throughput (/s)' for a history's metric column."""
    if metric == "throughput_per_s":
        return "throughput (/s)"
    view, _, rest = metric.partition("_")
    quantile = rest.removesuffix("_ms")
    return f"{quantile} {_VIEWS.get(view, view)} (ms)"


def moved_words(history_ids: list[str]) -> str:
    """The figures that moved with a step, in words, from their history ids."""
    return ", ".join(figure_words(hid.rsplit("/", 1)[-1]) for hid in history_ids)


def history_title(h: StoredHistory) -> str:
    """'orders · single · POST /api/v1/orders: p99 from due time (ms)'."""
    return f"{h.kind} · {h.profile} · {h.name}: {figure_words(h.history.metric)}"


def run_name(h: StoredHistory, i: int) -> str:
    """The i-th run of the history as people see it: 'label · kind · start'."""
    started = pd.Timestamp(h.started_at[i]).strftime("%Y-%m-%d %H:%M:%S")
    return f"{h.labels[i]} · {h.kind} · {started}"


def _link(h: StoredHistory, i: int) -> str:
    return f"[{run_name(h, i)}](/runs?run={h.run_ids[i]})"


def _unit(h: StoredHistory) -> str:
    return "/s" if h.history.metric.endswith("_per_s") else "ms"


def _fmt(value: float) -> str:
    return f"{value:#.3g}" if abs(value) < 1000 else f"{value:,.0f}"


def change_words(h: StoredHistory, c: Change) -> str:
    """A step explained: size with interval, before/after, runs since, noise, why not an
    outlier, and the run where the new level starts (a link to its detail)."""
    lo, hi = c.interval_pct
    unit = _unit(h)
    b, a = c.before, c.after
    return "\n".join(
        [
            f"**{c.direction.capitalize()}**: {figure_words(h.history.metric)} "
            f"{_fmt(b.median)} → {_fmt(a.median)} {unit}, {c.change_pct:+.1f} % "
            f"(95 % CI {lo:+.1f} % to {hi:+.1f} %).",
            f"- new level starts at {_link(h, c.index)} (run #{c.index} of "
            f"#0–#{len(h.run_ids) - 1}); {c.runs_since} runs since",
            f"- before: median {_fmt(b.median)} {unit}, spread {_fmt(b.spread)} over {b.runs} runs;"
            f" after: median {_fmt(a.median)} {unit}, spread {_fmt(a.spread)} over {a.runs} runs",
            f"- noise: {_NOISE.get(c.noise, c.noise)}; the step is {c.effect_in_noise:.1f}× the "
            f"noise, confidence {c.confidence:.3f}",
            f"- why not an outlier: {c.why_not_outlier}",
        ]
    )


def trend_words(h: StoredHistory, t: Trend) -> str:
    """Drift explained: its runs, slope, total change with interval, why not a step."""
    lo, hi = t.interval_pct
    return (
        f"**Drift ({t.direction})** from {_link(h, t.start)} to {_link(h, t.end)}: "
        f"{t.slope_pct_per_run:+.2f} % per run, {t.total_change_pct:+.1f} % in all "
        f"(95 % CI {lo:+.1f} % to {hi:+.1f} %); not a step: {t.why_not_step}"
    )


def outlier_words(h: StoredHistory, o: Outlier) -> str:
    """An outlier told: its run, value against the level, and that the level did not follow."""
    burst = f", in a burst of {o.burst_length}" if o.burst_length > 1 else ""
    if o.index + o.burst_length >= len(h.run_ids):
        why = "the newest run(s): not a step unless the runs that follow stay at that level"
    else:
        why = "the runs after it came back to the level, so it is not a step"
    return (
        f"**Outlier** at {_link(h, o.index)}: {_fmt(o.value)} {_unit(h)} against a level of "
        f"{_fmt(o.expected)} ({o.deviation_pct:+.1f} %{burst}); {why}"
    )


def _drift_line(values: np.ndarray, t: Trend) -> tuple[list[int], list[float]]:
    xs = list(range(t.start, t.end + 1))
    seg = values[t.start : t.end + 1]
    rate = 1 + t.slope_pct_per_run / 100
    if np.all(seg > 0) and rate > 0:
        steps = np.arange(len(seg))
        log0 = float(np.mean(np.log(seg)) - np.mean(steps) * math.log(rate))
        return xs, [math.exp(log0) * rate**k for k in steps]
    slope = float(np.median(seg)) * t.slope_pct_per_run / 100
    mid = float(np.mean(seg)) - slope * (len(seg) - 1) / 2
    return xs, [mid + slope * k for k in range(len(seg))]


def history_figure(h: StoredHistory, detection: Detection) -> go.Figure:
    """The history over runs with its steps (vertical line, before/after medians), drift
    (fitted line) and outliers (crosses) marked."""
    values = np.asarray(h.history.values, dtype=np.float64)
    xs = list(range(len(values)))
    started = pd.to_datetime(pd.Series(h.started_at)).dt.strftime("%Y-%m-%d %H:%M:%S")
    names = [f"{label} · {h.kind} · {when}" for label, when in zip(h.labels, started, strict=True)]
    fig = go.Figure()
    fig.add_trace(
        go.Scatter(
            x=xs,
            y=values,
            mode="lines+markers",
            name=figure_words(h.history.metric),
            line={"color": _LINE},
            customdata=names,
            hovertemplate="%{customdata}<br>%{y:.4g}<extra></extra>",
        )
    )
    bounds = [0, *(c.index for c in detection.changes), len(values)]
    shapes: list[dict[str, object]] = []
    levels: dict[str, tuple[list[float | None], list[float | None]]] = {}
    for k, c in enumerate(detection.changes):
        color = _COLORS.get(c.direction, "#7f7f7f")
        shapes.append(
            {"type": "line", "xref": "x", "yref": "paper", "x0": c.index - 0.5,
             "x1": c.index - 0.5, "y0": 0, "y1": 1,
             "line": {"color": color, "dash": "dash", "width": 2}}
        )  # fmt: skip
        lx, ly = levels.setdefault(c.direction, ([], []))
        for lo, hi, level in (
            (bounds[k], c.index - 1, c.before.median),
            (c.index, bounds[k + 2] - 1, c.after.median),
        ):
            lx += [lo - 0.3, hi + 0.3, None]
            ly += [level, level, None]
    for direction, (lx, ly) in levels.items():
        fig.add_trace(
            go.Scatter(
                x=lx,
                y=ly,
                mode="lines",
                line={"color": _COLORS.get(direction, "#7f7f7f"), "width": 3},
                opacity=0.6,
                name=f"level medians around a {direction}",
                hovertemplate="median %{y:.4g}<extra></extra>",
            )
        )
    for i, t in enumerate(detection.trends):
        tx, ty = _drift_line(values, t)
        fig.add_trace(
            go.Scatter(
                x=tx,
                y=ty,
                mode="lines",
                line={"color": _DRIFT, "dash": "dot", "width": 3},
                name="drift",
                showlegend=i == 0,
                legendgroup="drift",
            )
        )
    if detection.outliers:
        idx = [o.index for o in detection.outliers]
        fig.add_trace(
            go.Scatter(
                x=idx,
                y=[values[i] for i in idx],
                mode="markers",
                marker={"symbol": "x", "size": 13, "color": "#9467bd", "line": {"width": 2}},
                name="outlier",
                customdata=[names[i] for i in idx],
                hovertemplate="outlier: %{customdata}<br>%{y:.4g}<extra></extra>",
            )
        )
    fig.update_layout(
        title=history_title(h),
        xaxis_title="run # (in start order)",
        yaxis_title=_unit(h),
        shapes=shapes,
        **_LAYOUT,
    )
    if len(xs) <= 30:
        fig.update_xaxes(tickvals=xs)
    return fig
