"""Benchmarks: one section per kind of benchmark in the store (engine, orders, database per query
type, market data, WebSocket connections, generators, the store itself), each with its p99 and
throughput over runs and the latest run's figures; a kind not measured yet gets the command
that measures it."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from collectors.store.frames import RunFilter
from dashboard import data, ui
from dashboard.charts.trend import trend

TREND_RUNS = 300  # newest runs of a kind drawn in its trend
TARGET = "--target http://127.0.0.1:8080"
# kind, heading, what it measures, the command that produces it
KINDS: tuple[tuple[str, str, str, str], ...] = (
    ("engine", "Matching engine", "operations per second through the order book",
     "pincex bench engine --generate 1000000 --seed 1 -o flow.csv && "
     "pincex bench engine --replay flow.csv --json"),
    ("orders", "Orders", "REST order placement at a fixed rate, latency from the due time",
     f"pincex bench orders {TARGET} --rate 1000 --duration 60 --label v1"),
    ("db", "Database", "the specification's queries and the order-book aggregation, per query type",
     "pincex bench db --url sqlite:///data/bench-db.sqlite --label v1"),
    ("market-data", "Market data", "ticker and depth frames: receipt time minus event time",
     f"pincex bench market-data {TARGET} --connections 100 --duration 30 --label v1"),
    ("ws-connections", "WebSocket connections", "connections opened, held and fed",
     f"pincex bench ws-connections {TARGET} --connections 1000 --duration 60 --label v1"),
    ("generators", "Load generators", "our open-model generator and Locust on the same server",
     "pincex bench generators --duration 20 --label v1"),
    ("store", "Run store", "the store's own speed: write, list, merge",
     "pincex bench store --runs 10000 --label v1"),
)  # fmt: skip
NOT_KEPT = {"engine": "`pincex bench engine` prints its figures but does not keep runs yet."}
TABLE = {
    "name": "name",
    "count": "count",
    "errors": "errors",
    "throughput_per_s": "per s",
    "latency_p50_ms": "p50 ms",
    "latency_p95_ms": "p95 ms",
    "latency_p99_ms": "p99 ms",
    "latency_p999_ms": "p99.9 ms",
    "service_p99_ms": "p99 ms from send",
}

# What the latency of each kind of run is measured from.
P99_WORDS = {
    "orders": "p99 from due time (ms)",
    "market-data": "p99 of receipt - event time (ms)",
    "db": "p99 (ms)",
}


def latest_table(summ: pd.DataFrame, run_id: str) -> pd.DataFrame:
    """The latest run's summaries, one row each; the service column only when it was measured."""
    rows = summ[summ["run_id"] == run_id][list(TABLE)].rename(columns=TABLE)
    if rows["p99 ms from send"].isna().all():
        rows = rows.drop(columns="p99 ms from send")
    return rows.reset_index(drop=True)


def config_words(config: dict[str, object]) -> str:
    """'rate 500 · duration 4 · connections 16' (nested values shown as they are)."""
    parts = []
    for key, value in config.items():
        if isinstance(value, dict):
            value = "(" + ", ".join(f"{k} {v}" for k, v in value.items()) + ")"
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        parts.append(f"{key} {value}")
    return " · ".join(parts) or "no config kept"


def section(kind: str, heading: str, what: str) -> None:
    where = RunFilter(kind=kind)
    summ = data.recent_summaries(view.path, view.version, where, TREND_RUNS)
    latest = data.recent_runs(view.path, view.version, where, 1)
    st.subheader(heading)
    st.caption(what)
    if latest.empty or summ.empty:
        ui.blank(f"the {kind} runs kept no summaries")
        return
    row = latest.iloc[0]
    runs = summ["run_id"].nunique()
    more = f" (the newest {TREND_RUNS} drawn)" if runs >= TREND_RUNS else ""
    st.markdown(
        f"{runs} run{'s' * (runs != 1)}{more}; latest: "
        f"[{row['title']}](/runs?run={row['run_id']})"
        + ("" if bool(row["trusted"]) else " — **not trusted**")
    )
    left, right = st.columns(2)
    by_name = " per query type" if kind == "db" else ""
    for col, figure, title in (
        (left, "latency_p99_ms", f"{P99_WORDS.get(kind, 'p99 (ms)')}{by_name}"),
        (right, "throughput_per_s", f"throughput (per s){by_name}"),
    ):
        fig = trend(summ, figure, x="order", title=title)
        if fig is None:
            col.caption(f"— no {title} kept")
        else:
            fig.update_layout(
                legend={"orientation": "h", "yanchor": "top", "y": -0.25, "x": 0},
                margin={"t": 40, "b": 40},
                height=360 + 20 * summ["name"].nunique(),
            )
            col.plotly_chart(fig, width="stretch", key=f"bench_{kind}_{figure}")
    st.dataframe(latest_table(summ, str(row["run_id"])), hide_index=True, width="stretch")
    st.caption(
        f"Config: {config_words(dict(row['config']))}"
        + (f" · Notes: {row['notes']}" if row["notes"] else "")
    )


ui.page_header(
    "Benchmarks",
    "Every kind of benchmark in the store: its p99 and throughput over runs, and the latest "
    "run's figures.",
)
view = ui.store_view()
facets = ui.require_runs(view)

known = {k for k, *_ in KINDS}
present = [(k, h, w, c) for k, h, w, c in KINDS if k in facets.kinds]
others = [(k, k, "runs of this kind", "") for k in facets.kinds if k not in known]
with ui.guarded(view):
    for kind, heading, what, _ in [*present, *others]:
        section(kind, heading, what)
        st.divider()
missing = [(k, h, c) for k, h, _, c in KINDS if k not in facets.kinds]
if missing:
    st.subheader("Not measured yet")
    for kind, heading, command in missing:
        note = f" {NOT_KEPT[kind]}" if kind in NOT_KEPT else ""
        st.markdown(f"**{heading}** (`{kind}`): `{command}`{note}")
