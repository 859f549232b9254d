"""Runs: the stored history with filters and the trend of any figure over runs; `?run=ID` (an
id or a prefix of 8+ characters) opens one run: trust in words first, then its load, latency,
distribution, errors, resources, SLO verdicts, summaries and warnings."""

from __future__ import annotations

from datetime import date, datetime, time

import pandas as pd
import streamlit as st

from collectors.store.frames import RunFilter
from collectors.store.store import RunNotFound
from dashboard import data, ui
from dashboard.charts import run as charts
from dashboard.charts.trend import PERCENTILES, VIEWS, figure_column, trend
from planning.run_slo import JudgedRun

LIMIT = 500  # rows shown in the history table
SERIES_SHOWN = 200  # summary series offered in the trend's picker
TREND_RUNS = 1000  # the newest runs drawn in a trend
LOAD_SERIES = ("requests_per_s", "orders_per_s", "messages_per_s", "queries_per_s")
HISTORY_COLUMNS = ("run", "kind", "profile", "label", "tags", "duration_s", "status", "trust",
                   "warning_count", "detail")  # fmt: skip
QUANTILES = ("mean", "p50", "p90", "p95", "p99", "p999", "max")


def trust_words(trusted: bool, status: str, notes: str | None, warnings: list[str]) -> str:
    """The run's trust verdict as a sentence, reasons included."""
    if trusted:
        words = "**Trusted**: nothing in how this run was measured casts doubt on its figures."
    elif warnings:
        words = "**Not trusted**, because:\n" + "\n".join(f"- {w}" for w in warnings)
    else:
        words = "**Not trusted**: the collector gave no reason."
    if status != "complete":
        words += f"\n\n**Status {status}**" + (f": {notes}" if notes else ".")
    return words


def load_name(kind: str, names: set[str]) -> str | None:
    """The client series of the achieved load: orders/s for orders runs (the planned rate is
    in orders), else the first of requests, orders, messages or queries per second."""
    prefer = ("orders_per_s", *LOAD_SERIES) if kind == "orders" else LOAD_SERIES
    return next((n for n in prefer if n in names), None)


def summary_table(summ: pd.DataFrame, view: str) -> pd.DataFrame:
    """One view's figures of every summary (ms): name, count, errors, throughput, quantiles."""
    cols = {f"{view}_{q}_ms": q for q in QUANTILES}
    out = summ[["name", "count", "errors", "throughput_per_s", *cols]].rename(columns=cols)
    return out.rename(columns={"throughput_per_s": "per s"})


def verdict_rows(judged: JudgedRun) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the targets the run measured with their verdicts, the ones it did not with why)."""
    measured, unmeasured = [], []
    for v in judged.verdicts.verdicts:
        s, metric = v.slo, v.slo.metric or ""
        if v.status in ("met", "missed"):
            measured.append(
                {
                    "status": ui.status_label(v.status),
                    "target": s.description,
                    "goal": f"{s.comparator} {s.target:,g} {s.unit or ''}".strip()
                    if s.target is not None
                    else s.spec,
                    "observed": v.observed,
                    "unit": s.unit or "",
                    "margin": v.margin,
                    "margin %": v.margin_percent,
                    "how": judged.figures.how.get(metric, ""),
                    "metric": metric,
                }
            )
        else:
            unmeasured.append({"target": s.description, "why not": judged.why_not(metric)})
    return pd.DataFrame(measured), pd.DataFrame(unmeasured)


def _chart(fig: object | None, reason: str, key: str) -> None:
    if fig is None:
        ui.blank(reason)
    else:
        st.plotly_chart(fig, key=key, theme=None)


def _filters(f: data.RunFacets) -> RunFilter:
    with st.sidebar:
        st.subheader("Filter runs")
        kind = st.selectbox("Kind", ["any", *f.kinds], key="runs_kind")
        profile = st.selectbox("Profile", ["any", *f.profiles], key="runs_profile")
        label = st.selectbox("Label", ["any", *f.labels], key="runs_label")
        tag = st.selectbox("Tag", ["any", *f.tags], key="runs_tag")
        first = (f.first or datetime.now()).date()
        last = (f.last or datetime.now()).date()
        dates = st.date_input("Started between", (first, last), key="runs_dates")
        trust = st.radio(
            "Trust", ["any", "trusted", "not trusted"], horizontal=True, key="runs_trust"
        )
    picked = [d for d in (dates if isinstance(dates, tuple) else (dates,)) if isinstance(d, date)]
    return RunFilter(
        kind=None if kind == "any" else kind,
        profile=None if profile == "any" else profile,
        label=None if label == "any" else label,
        tag=None if tag == "any" else tag,
        since=datetime.combine(picked[0], time.min) if picked else None,
        until=datetime.combine(picked[-1], time.max) if picked else None,
        trusted=None if trust == "any" else trust == "trusted",
    )


def _history(view: ui.StoreView, facets: data.RunFacets) -> None:
    where = _filters(facets)
    listing, total = ui.load(view, lambda: data.run_listing(view.path, view.version, where, LIMIT))
    more = f"; the newest {LIMIT} are shown" if total > LIMIT else ""
    st.caption(f"{total} of {facets.count} runs match the filters{more}. Select a row to open it.")
    if listing.empty:
        ui.blank("no run matches these filters")
        return
    table = listing.assign(
        run=listing["title"],
        tags=[", ".join(map(str, t)) for t in listing["tags"]],
        trust=["trusted" if t else "⚠ not trusted" for t in listing["trusted"]],
        detail=[f"runs?run={r}" for r in listing["run_id"]],
    )
    event = st.dataframe(
        table[list(HISTORY_COLUMNS)],
        hide_index=True,
        width="stretch",
        key="runs_table",
        on_select="rerun",
        selection_mode="single-row",
        column_config={
            "duration_s": st.column_config.NumberColumn("seconds", format="%.1f"),
            "warning_count": st.column_config.NumberColumn("warnings"),
            "detail": st.column_config.LinkColumn("detail", display_text="open"),
        },
    )
    rows = event.selection.rows if event is not None else []
    if rows:
        st.query_params["run"] = str(listing["run_id"].iloc[rows[0]])
        st.rerun()
    _trend(view, where)


def _trend(view: ui.StoreView, where: RunFilter) -> None:
    st.subheader("Trend over runs")
    names = ui.load(view, lambda: data.summary_series(view.path, view.version, where))
    if names.empty:
        ui.blank("the matching runs hold no summary figures")
        return
    names = names.head(SERIES_SHOWN)
    left, mid, right = st.columns([3, 2, 2])
    i = left.selectbox(
        "Summary (kind/profile/name)",
        range(len(names)),
        format_func=lambda j: "{kind}/{profile}/{name} · {runs} runs".format(**names.iloc[j]),
        key="trend_series",
    )
    what = mid.radio("Figure", ["latency", "throughput"], horizontal=True, key="trend_figure")
    latency_view = right.radio(
        "View", list(VIEWS), format_func=lambda v: VIEWS[v][1], key="trend_view",
        disabled=what != "latency",
    )  # fmt: skip
    pct = st.segmented_control("Percentile", list(PERCENTILES), default="p99", key="trend_pct")
    by_order = st.toggle("Space runs evenly (run order)", key="trend_order")
    pick = names.iloc[i]
    history = ui.load(
        view,
        lambda: data.summary_history(
            view.path,
            view.version,
            where,
            str(pick["kind"]),
            str(pick["profile"]),
            str(pick["name"]),
        ),
    )
    column = (
        "throughput_per_s" if what == "throughput" else figure_column(pct or "p99", latency_view)
    )
    if len(history) > TREND_RUNS:
        st.caption(
            f"The newest {TREND_RUNS:,} of {len(history):,} runs; narrow the filters to see older."
        )
        history = history.tail(TREND_RUNS)
    fig = trend(history, column, x="order" if by_order else "time")
    _chart(fig, f"no run of this summary has {column} (a view the runs did not record)", "trend")


def _resolve(view: ui.StoreView, ref: str) -> str | None:
    try:
        return data.resolve(view.path, view.version, ref)
    except RunNotFound as exc:
        st.error(f"Cannot open run {ref!r}: {exc}")
        st.page_link("views/runs.py", label="All runs", icon=":material/arrow_back:")
        return None


def _detail(view: ui.StoreView, ref: str) -> None:
    run_id = ui.load(view, lambda: _resolve(view, ref))
    if run_id is None:
        return
    path, version = view.path, view.version
    run = ui.load(view, lambda: data.runs(path, version, RunFilter(run_ids=(run_id,)))).iloc[0]
    warnings = ui.load(view, lambda: data.warnings(path, version, run_id))
    st.page_link("views/runs.py", label="All runs", icon=":material/arrow_back:")
    st.subheader(str(run["title"]))
    st.caption(f"run id `{run_id}` · profile {run['profile']} · target {run['target']}")
    words = trust_words(bool(run["trusted"]), str(run["status"]), run["notes"], warnings)
    (st.success if run["trusted"] and run["status"] == "complete" else st.warning)(words)
    _baseline(view, run)
    with st.expander("Config and host"):
        left, right = st.columns(2)
        left.json(run["config"], expanded=True)
        right.json(run["host"], expanded=True)

    points = ui.load(view, lambda: data.series(path, version, run_id))
    names = set(points.loc[points["side"] == "client", "name"]) if not points.empty else set()
    name = load_name(str(run["kind"]), names)
    planned = run["config"].get("rate") if run["kind"] == "orders" else None
    left, right = st.columns(2)
    with left:
        fig = charts.load_over_time(points, planned, name) if name else None
        _chart(fig, "no per-second load series in this run", "load")
    with right:
        _chart(
            charts.latency_over_time(points, str(run["kind"])),
            "no per-second latency in this run",
            "latency",
        )
    curve = ui.load(view, lambda: data.percentile_curve(path, version, run_id))
    left, right = st.columns(2)
    with left:
        _chart(charts.percentile_plot(curve), "no latency histogram in this run", "distribution")
    with right:
        _chart(charts.errors_over_time(points), "no error or status series in this run", "errors")
    st.subheader("Resources")
    resources = charts.resource_charts(points)
    if not resources:
        ui.blank("no server-side series in this run")
    for column, (title, fig) in zip(st.columns(3) * 2, resources.items(), strict=False):
        with column:
            st.plotly_chart(fig, key=f"res-{title}", theme=None)
    _verdicts(view, run_id, bool(run["trusted"]))
    _summaries(view, run_id)
    st.subheader("Warnings")
    for w in warnings:
        st.markdown(f"- {w}")
    if not warnings:
        st.caption("None.")


def _baseline(view: ui.StoreView, run: pd.Series) -> None:
    pinned = ui.load(view, lambda: data.baselines(view.path, view.version))
    kind, profile, run_id = run["kind"], run["profile"], run["run_id"]
    mine = (
        pinned[(pinned["kind"] == kind) & (pinned["profile"] == profile)]
        if not pinned.empty
        else pinned
    )
    if not mine.empty and mine["run_id"].iloc[0] == run_id:
        st.info(f"Pinned baseline of {kind}/{profile}. Unpin with `pincex runs unpin {run_id}`.")
    elif not mine.empty:
        st.info(
            f"The baseline of {kind}/{profile} is {mine['title'].iloc[0]}. "
            f"To compare against this run instead: `pincex runs pin {run_id}`."
        )
    else:
        st.info(
            f"No baseline pinned for {kind}/{profile}. Pin this run: `pincex runs pin {run_id}`."
        )


def _verdicts(view: ui.StoreView, run_id: str, trusted: bool) -> None:
    st.subheader("SLO verdicts")
    judged = ui.load(view, lambda: data.judged(view.path, view.version, run_id))
    measured, unmeasured = verdict_rows(judged)
    if not trusted:
        st.caption("⚠ Not trusted: every verdict below stands on figures this run itself doubts.")
    if measured.empty:
        ui.blank("this run measured none of the target rows")
    else:
        st.dataframe(ui.verdict_styler(measured), hide_index=True, width="stretch", key="slo_table")
    with st.expander(f"{len(unmeasured)} targets not measured by this run"):
        st.dataframe(unmeasured, hide_index=True, width="stretch")


def _summaries(view: ui.StoreView, run_id: str) -> None:
    st.subheader("Summaries")
    summ = ui.load(
        view, lambda: data.summaries(view.path, view.version, RunFilter(run_ids=(run_id,)))
    )
    if summ.empty:
        ui.blank("no summary figures in this run")
        return
    st.markdown("From each request's due time (corrected for coordinated omission), ms")
    st.dataframe(summary_table(summ, "latency"), hide_index=True, width="stretch")
    if summ["service_p50_ms"].notna().any():
        st.markdown("From each request's send (service time), ms")
        st.dataframe(summary_table(summ, "service"), hide_index=True, width="stretch")
    else:
        ui.blank("this run recorded one latency view only")


ui.page_header(
    "Runs", "Every stored run: filter the history, follow a figure over runs, open one run."
)
view = ui.store_view()
facets = ui.require_runs(view)
ref = st.query_params.get("run")
if ref:
    _detail(view, ref)
else:
    _history(view, facets)
