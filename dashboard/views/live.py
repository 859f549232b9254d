"""Live: a running exchange's /metrics every 2 s (orders/s by status, order-processing
p50/p95/p99, CPU, memory, connections); a target that does not answer is a notice. Reads no
run store: an empty store does not stop it."""

from __future__ import annotations

import math
from datetime import datetime

import streamlit as st

from dashboard import live, ui
from dashboard.charts.live import latency_chart, orders_chart, resources_chart

STATE = "live_state"


def _show(value: float | None, fmt: str, unit: str = "") -> str:
    return "—" if value is None or not math.isfinite(value) else format(value, fmt) + unit


def _metrics(values: dict[str, float]) -> None:
    get = values.get
    top = st.columns(4)
    top[0].metric("Orders/s", _show(get("orders_per_s"), ",.0f"))
    for col, q in zip(top[1:], (50, 95, 99), strict=True):
        col.metric(f"Order processing p{q}", _show(get(f"order_processing_p{q}_ms"), ".3g", " ms"))
    bottom = st.columns(4)
    bottom[0].metric("CPU", _show(get("cpu_percent"), ".0f", " %"))
    rss = get("memory_rss_bytes")
    bottom[1].metric("Memory (RSS)", _show(None if rss is None else rss / 1e6, ",.0f", " MB"))
    bottom[2].metric(
        "HTTP in flight · WebSockets",
        f"{_show(get('http_in_flight'), '.0f')} · {_show(get('ws_connections'), '.0f')}",
    )
    bottom[3].metric(
        "DB pool active / max",
        f"{_show(get('db_pool_active'), '.0f')} / {_show(get('db_pool_max'), '.0f')}",
        help=f"waiting: {_show(get('db_pool_waiting'), '.0f')}",
    )


@st.fragment(run_every=2)
def _panel(url: str) -> None:
    state = st.session_state.get(STATE)
    if state is None or state["url"] != url:
        state = {"url": url, "previous": None, "history": []}
        st.session_state[STATE] = state
    try:
        snapshot = live.scrape(url)
    except live.ScrapeError as exc:
        st.warning(f"No metrics from {url}: {exc}")
        return
    values = live.sample(state["previous"], snapshot)
    state["previous"] = snapshot
    state["history"] = live.remember(state["history"], values, datetime.now())
    frame = live.live_frame(state["history"])
    st.caption(f"Reading {url} · {datetime.now():%H:%M:%S} · {len(frame)} samples kept")
    _metrics(values)
    if "orders_per_s" not in values:
        ui.blank("rates and latencies need two scrapes: they appear at the next refresh (2 s)")
    elif "order_processing_p99_ms" not in values:
        ui.blank("no order was processed in the last interval: no latency to show")
    by_status = live.statuses(frame)
    if by_status and "orders_per_s" in values:
        st.caption(
            "By status: "
            + " · ".join(f"{s} {values.get(f'orders_per_s.{s}', 0.0):,.0f}/s" for s in by_status)
        )
    if len(frame) < 2:
        ui.blank("the charts start with the second sample")
        return
    left, right = st.columns(2)
    for column, chart, reason in (
        (left, orders_chart(frame, by_status), "no orders/s yet"),
        (right, latency_chart(frame), "no order-processing latency yet"),
        (left, resources_chart(frame), "no CPU or connection figures"),
    ):
        with column:
            if chart is None:
                ui.blank(reason)
            else:
                st.plotly_chart(chart, width="stretch")


ui.page_header(
    "Live",
    "A running exchange's /metrics read every 2 s: orders/s by status, order-processing "
    "latency, CPU, memory and connections over the last two minutes.",
)
default = st.query_params.get("url", live.DEFAULT_URL)
url = st.sidebar.text_input("Exchange /metrics URL", default, key="live_url").strip()
allow_remote = st.sidebar.checkbox("Allow a remote host", key="live_allow_remote")
problem = live.check_url(url, allow_remote)
if problem is not None:
    st.warning(f"Not reading {url}: {problem}.")
    st.stop()
_panel(url)
