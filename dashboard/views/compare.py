"""Compare: two runs (default: the latest against the pinned baseline of its kind and profile, or
the previous such run), aligned by seconds since start; distributions overlaid; the differences
that matter with their 95 % intervals; what else changed. `?a=ID&b=ID` picks the runs."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from collectors.store.frames import RunFilter
from collectors.store.store import RunNotFound
from dashboard import data, ui
from dashboard.charts import compare as charts
from planning.compare import context_changes, default_pair, describe

RECENT = 200  # runs offered in the pickers (plus any named by the URL or pinned)
WHY = {
    "baseline": "the newest run with a pinned baseline of its kind and profile, against it",
    "previous": "the newest run that has an earlier run of its kind and profile, against that "
    "run (no baseline pinned: `pincex runs pin ID` pins one)",
    "alone": "the latest run against the run before it: no two recent runs share a kind and "
    "profile yet, so pick the pair",
}
VERDICT = {"worse": ":red[**worse**]", "better": ":green[**better**]", "same": "same"}

ui.page_header(
    "Compare",
    "Two runs side by side: their seconds aligned, their distributions overlaid, the "
    "differences that matter with 95 % intervals, and what else changed.",
)
view = ui.store_view()
ui.require_runs(view)
recent = ui.load(view, lambda: data.recent_runs(view.path, view.version, None, RECENT))


def _from_url(key: str) -> str | None:
    ref = st.query_params.get(key)
    if not ref:
        return None
    try:
        return ui.load(view, lambda: data.resolve(view.path, view.version, ref))
    except RunNotFound as exc:
        st.warning(f"`?{key}={ref}`: {exc}")
        return None


pins = ui.load(view, lambda: data.baselines(view.path, view.version))
pinned_of = {
    (str(k), str(p)): str(r)
    for k, p, r in zip(pins["kind"], pins["profile"], pins["run_id"], strict=True)
}
# The newest run that has something to be compared with: its pinned baseline, or an earlier run
# of its kind and profile among the recent ones (a db run is not compared with a market-data run).
pair = default_pair(str(recent.iloc[0]["run_id"]), None, None)
for i, row in enumerate(recent.itertuples(index=False)):
    key = (str(row.kind), str(row.profile))
    earlier = recent.iloc[i + 1 :]
    earlier = earlier[(earlier["kind"] == key[0]) & (earlier["profile"] == key[1])]
    previous = str(earlier["run_id"].iloc[0]) if not earlier.empty else None
    candidate = default_pair(str(row.run_id), pinned_of.get(key), previous)
    if candidate.a is not None:
        pair = candidate
        break
url_a, url_b = _from_url("a"), _from_url("b")
want_a, want_b = url_a or pair.a, url_b or pair.b
extra = tuple(r for r in (want_a, want_b) if r and r not in set(recent["run_id"]))
if extra:
    more = ui.load(
        view, lambda: data.recent_runs(view.path, view.version, RunFilter(run_ids=extra))
    )
    recent = pd.concat([recent, more], ignore_index=True)
runs = recent.set_index("run_id", drop=False)
ids = list(runs.index)


def _title(run_id: str) -> str:
    return str(runs.at[run_id, "title"])


left, right = st.columns(2)
a_id = left.selectbox(
    "Run A (before)",
    ids,
    index=ids.index(want_a) if want_a in ids else min(1, len(ids) - 1),
    format_func=_title,
    key="cmp_a",
)
b_id = right.selectbox(
    "Run B (after)",
    ids,
    index=ids.index(want_b) if want_b in ids else 0,
    format_func=_title,
    key="cmp_b",
)
st.query_params["a"], st.query_params["b"] = a_id, b_id
if (a_id, b_id) == (pair.a, pair.b) or (pair.a is None and (a_id, b_id) == (ids[1], pair.b)):
    st.caption(f"Showing {WHY[pair.why]}.")
if a_id == b_id:
    st.info("Run A and run B are the same run: pick two different runs to compare.")
    st.stop()
row_a, row_b = runs.loc[a_id], runs.loc[b_id]
for row, side in ((row_a, "A"), (row_b, "B")):
    if not bool(row["trusted"]):
        st.warning(
            f"Run {side} ({row['title']}) is marked **not trusted**: read its figures "
            f"with care (see [its detail](/runs?run={row['run_id']}))."
        )

summ = ui.load(
    view, lambda: data.summaries(view.path, view.version, RunFilter(run_ids=(a_id, b_id)))
)
names_b = summ[summ["run_id"] == b_id].sort_values("count", ascending=False)["name"].tolist()
common = [n for n in names_b if n in set(summ.loc[summ["run_id"] == a_id, "name"])]

st.subheader("The differences that matter")
if not common:
    ui.blank("the two runs share no summary (endpoint, stream or query type) to compare")
else:
    name = st.selectbox("Summary", common, key="cmp_name") if len(common) > 1 else common[0]
    diffs = ui.load(view, lambda: data.compared(view.path, view.version, a_id, b_id, name))
    mattering = [d for d in diffs if d.matters]
    st.markdown(f"**{name}**: {_title(a_id)} → {_title(b_id)}")
    if mattering:
        st.markdown("\n".join(f"- {VERDICT[d.verdict]}: {describe(d)}" for d in mattering))
    else:
        st.success(
            "No difference that matters: every interval includes 0, or the change is "
            "under 5 % (0.1 point for the error rate)."
        )
    with st.expander(f"All {len(diffs)} figures with their intervals"):
        st.dataframe(charts.differences_frame(diffs), hide_index=True, width="stretch")
        st.caption(
            "Quantiles: exact bootstrap of each histogram (order statistics), mean: its "
            "normal limit, throughput: Poisson counts, error rate: Agresti-Caffo; fixed "
            "seed. Matters = the 95 % interval excludes 0 and the change is at least 5 %."
        )

st.subheader("Second by second")
points_a = ui.load(view, lambda: data.series(view.path, view.version, a_id))
points_b = ui.load(view, lambda: data.series(view.path, view.version, b_id))
fig = charts.aligned_series(points_a, points_b, "A", "B")
if fig is None:
    ui.blank("neither run kept per-second series")
else:
    st.plotly_chart(fig, width="stretch")

st.subheader("Distributions")
if common:
    curve_a = ui.load(view, lambda: data.percentile_curve(view.path, view.version, a_id))
    curve_b = ui.load(view, lambda: data.percentile_curve(view.path, view.version, b_id))
    fig = charts.overlaid_distributions(curve_a, curve_b, name, "A", "B")
    if fig is None:
        ui.blank(f"neither run kept a latency histogram of {name}")
    else:
        st.plotly_chart(fig, width="stretch")
else:
    ui.blank("no summary in common")

st.subheader("What else changed")
keys = ("label", "kind", "profile", "target", "trusted", "status", "config", "host")
changes = context_changes({k: row_a[k] for k in keys}, {k: row_b[k] for k in keys})
if changes:
    st.dataframe(charts.changes_frame(changes), hide_index=True, width="stretch")
else:
    st.caption("Nothing else: same label, kind, profile, target, trust, config and host facts.")
st.caption(f"A: [{_title(a_id)}](/runs?run={a_id}) · B: [{_title(b_id)}](/runs?run={b_id})")
