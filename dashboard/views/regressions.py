"""Regressions: the histories of stored runs (per kind, profile, summary and figure), each with
its change points marked on the trend, drift and outliers apart, and each alert told in words;
at the top, the latest run against its pinned baseline."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from collectors.store.frames import RunFilter
from dashboard import data, ui
from dashboard.charts import regress as charts
from planning.regress.detect import DEFAULT_SETTINGS
from planning.regress.report import HistoryReport
from planning.regress.stored import StoredHistory

ALL = "(all)"
SHOWN = 6  # histories with findings drawn in full; the rest through the picker
TOLD = 5  # newest steps of a history told in words
WINDOWS = {200: "newest 200 runs", 500: "newest 500 runs", 0: "every run"}
HEADLINE = (
    ("latency_p50_ms", "p50", "ms"),
    ("latency_p99_ms", "p99", "ms"),
    ("throughput_per_s", "throughput", "/s"),
)

ui.page_header(
    "Regressions",
    "Change points, drift and outliers in the history of every figure, each explained: how "
    "big (with its interval), before and after, since which run, and why it is not noise.",
)
view = ui.store_view()
facets = ui.require_runs(view)

cols = st.columns(4)
kind = cols[0].selectbox("Kind", [ALL, *facets.kinds], key="reg_kind")
profile = cols[1].selectbox("Profile", [ALL, *facets.profiles], key="reg_profile")
label = cols[2].selectbox("Label", [ALL, *facets.labels], key="reg_label")
window = cols[3].selectbox(
    "Runs analysed", list(WINDOWS), index=0, format_func=WINDOWS.__getitem__, key="reg_window"
)
where = RunFilter(
    kind=None if kind == ALL else kind,
    profile=None if profile == ALL else profile,
    label=None if label == ALL else label,
)
newest = ui.load(view, lambda: data.recent_runs(view.path, view.version, where, window or 1))
if newest.empty:
    st.info("No run matches these filters.")
    st.stop()
if window and len(newest) == window:
    since = pd.Timestamp(newest["started_at"].min()).to_pydatetime()
    where = RunFilter(where.kind, where.profile, where.label, since=since)


def baseline_section(latest: pd.Series) -> None:
    """The latest matching run against the pinned baseline of its kind and profile."""
    pins = data.baselines(view.path, view.version)
    pin = pins[(pins["kind"] == latest["kind"]) & (pins["profile"] == latest["profile"])]
    if pin.empty:
        st.caption(
            f"No baseline pinned for {latest['kind']} · {latest['profile']} "
            "(`pincex runs pin ID` pins one)."
        )
        return
    base_id, run_id = str(pin["run_id"].iloc[0]), str(latest["run_id"])
    if base_id == run_id:
        st.caption(f"The latest run, {latest['title']}, is the pinned baseline.")
        return
    summ = data.summaries(view.path, view.version, RunFilter(run_ids=(base_id, run_id)))
    heads = summ.sort_values("count", ascending=False).drop_duplicates("run_id")
    if len(heads) < 2 or heads["name"].nunique() > 1:
        ui.blank("the baseline and the latest run have no headline summary in common")
        return
    base, new = heads.set_index("run_id").loc[base_id], heads.set_index("run_id").loc[run_id]
    st.markdown(
        f"**Latest vs pinned baseline** ({new['name']}): {latest['title']} against "
        f"{pin['title'].iloc[0]} · [compare them](/compare?a={base_id}&b={run_id})"
    )
    out = st.columns(len(HEADLINE) + 1)
    for col, (column, words, unit) in zip(out, HEADLINE, strict=False):
        was, now = float(base[column]), float(new[column])
        pct = f"{(now - was) / was * 100:+.1f} %" if was else None
        if column.endswith("_per_s"):
            col.metric(f"{words} ({unit})", f"{now:.4g}", pct, delta_color="normal")
        else:
            col.metric(f"{words} ({unit})", f"{now:.4g}", pct, delta_color="inverse")
    rate_new, rate_base = _error_pct(new), _error_pct(base)
    out[-1].metric(
        "error rate (%)",
        f"{rate_new:.2f}",
        f"{rate_new - rate_base:+.2f} pts",
        delta_color="inverse",
    )


def _error_pct(summary: pd.Series) -> float:
    return 100 * float(summary["errors"]) / max(float(summary["count"]), 1.0)


def show(h: StoredHistory, r: HistoryReport, key: str) -> None:
    det = r.detection
    st.plotly_chart(charts.history_figure(h, det), width="stretch", key=key)
    for c in det.changes[::-1][:TOLD]:
        st.markdown(charts.change_words(h, c))
        if r.moved_with.get(c.index):
            st.caption("Moved with it: " + charts.moved_words(r.moved_with[c.index]))
    if len(det.changes) > TOLD:
        st.caption(f"… and {len(det.changes) - TOLD} earlier steps (marked on the chart).")
    for t in det.trends[::-1][:TOLD]:
        st.markdown(charts.trend_words(h, t))
    if det.outliers:
        st.markdown("\n\n".join(charts.outlier_words(h, o) for o in det.outliers[::-1][:TOLD]))
    if len(det.outliers) > TOLD:
        st.caption(f"… and {len(det.outliers) - TOLD} earlier outliers (crosses on the chart).")
    if not (det.changes or det.trends or det.outliers):
        st.caption(f"No change over {det.runs} runs (noise: {det.noise}).")


with ui.guarded(view):
    baseline_section(newest.iloc[0])
    found = data.detected(view.path, view.version, where)

pairs = list(zip(found.histories, found.reports, strict=True))
judged = [(h, r) for h, r in pairs if r.detection.enough_data]
short = [(h, r) for h, r in pairs if not r.detection.enough_data]


def rank(pair: tuple[StoredHistory, HistoryReport]) -> tuple[int, int]:
    det = pair[1].detection
    regress = any(c.direction == "regression" for c in det.changes)
    return (0 if regress else 1 if det.changes else 2 if det.trends else 3, -len(det.changes))


findings = sorted(
    (
        p
        for p in judged
        if p[1].detection.changes or p[1].detection.trends or p[1].detection.outliers
    ),
    key=rank,
)
alerts = sum(len(r.detection.changes) for _, r in judged)
st.subheader(f"{alerts} change point{'s' * (alerts != 1)} in {len(judged)} histories")
if not findings and judged:
    st.success("No change, drift or outlier in any history with enough runs.")
for i, (h, r) in enumerate(findings[:SHOWN]):
    with st.container(border=True):
        show(h, r, f"reg_finding_{i}")
if len(findings) > SHOWN:
    st.caption(f"{len(findings) - SHOWN} more histories with findings: pick them below.")

if judged:
    with st.expander(f"Any of the {len(judged)} histories with enough runs"):
        titles = [charts.history_title(h) for h, _ in judged]
        pick = st.selectbox(
            "History", range(len(judged)), format_func=titles.__getitem__, key="reg_history"
        )
        show(*judged[pick], key="reg_picked")
if short:
    runs_of: dict[str, int] = {}
    for h, r in short:
        key = f"{h.kind} · {h.profile} · {h.name}"
        runs_of[key] = max(runs_of.get(key, 0), r.detection.runs)
    listed = "; ".join(f"{k}: {n} run{'s' * (n != 1)}" for k, n in list(runs_of.items())[:8])
    more = f"; and {len(runs_of) - 8} more" if len(runs_of) > 8 else ""
    st.info(
        f"Too short to judge yet (the detector needs {DEFAULT_SETTINGS.min_runs} runs of a "
        f"figure; run the benchmark again to add some): {listed}{more}."
    )
