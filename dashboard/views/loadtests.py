"""Load tests: pick a stored load-test run (newest first, by profile; `?run=ID` opens one) and
see its verdicts with a pass / fail banner, the stages over time, the scenario mix, latency per
scenario, a stress run's steps with the maximum capacity, the pre-test checklist, the
correctness invariants and the post-test analysis."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import pandas as pd
import streamlit as st

from collectors.store.store import RunNotFound
from dashboard import data, ui
from dashboard.charts.loadtest import scenario_latency_chart, stages_timeline, steps_chart
from dashboard.loadtest_record import LoadTestRecord, max_capacity_step

ALL = "(every profile)"
ALL_REQUESTS = "all requests"
# a first run has no pinned baseline to pass the preflight with: --force, then pin it
RUN_COMMAND = (
    "pincex loadtest run --profile baseline --target http://127.0.0.1:8080 --scale 0.05 "
    "--label v1 --admin-key $PINCEX_ADMIN_KEY --force"
)
CHECK_LABELS = {"pass": "✓ pass", "fail": "✗ fail", "skip": "– skip"}


def verdict_table(record: LoadTestRecord) -> pd.DataFrame:
    """The verdicts as the SLO tables show them (status words coloured by ui.verdict_styler)."""
    table = record.verdicts.copy()
    statuses = table["status"].astype(str).str.replace(" ", "_")
    table["status"] = [ui.status_label(s) for s in statuses]
    table["observed"] = [ui.figure_text(v) if not isinstance(v, str) else v
                         for v in table["observed"]]  # fmt: skip
    return table[["name", "target", "observed", "status", "reason"]]


def mix_table(scenarios: pd.DataFrame) -> pd.DataFrame:
    """Planned against achieved share per scenario, in % and the gap in points."""
    planned = pd.to_numeric(scenarios["planned_share"], errors="coerce") * 100
    achieved = pd.to_numeric(scenarios["achieved_share"], errors="coerce") * 100
    return pd.DataFrame({
        "scenario": scenarios["scenario"],
        "planned %": planned.round(2),
        "achieved %": achieved.round(2),
        "gap (points)": (achieved - planned).round(2),
        "requests": scenarios["requests"],
        "errors": scenarios["errors"],
        "achieved per s": scenarios["achieved_rate"],
    })  # fmt: skip


def steps_table(steps: pd.DataFrame, best: int | None) -> pd.DataFrame:
    """One row per stress step: its rate, what it achieved, its p99, met or not, and the
    maximum capacity marked."""
    return pd.DataFrame({
        "step": steps["name"],
        "offered per s": steps["rate_to"],
        "achieved per s": steps["achieved_rate"],
        "completed per s": steps["completed_rps"],
        "p95 ms": steps["p95_ms"],
        "p99 ms": steps["p99_ms"],
        "errors": steps["errors"],
        "targets": ["✓ met" if m else "✗ missed" for m in steps["met"].astype(bool)],
        "max capacity": ["★" if i == best else "" for i in steps.index],
    })  # fmt: skip


def _banner(record: LoadTestRecord, run: pd.Series) -> None:
    words = record.verdict_words
    scaled = f" · scaled ×{record.scale:g}" if record.scale not in (None, 1.0) else ""
    what = f"{record.profile or run['profile']} ({record.pattern or 'pattern not kept'}){scaled}"
    if words == "passed":
        st.success(f"**PASSED** · {what} · every measured target met · trusted")
    elif words == "no verdicts kept":
        st.info(f"{what}: this run kept no verdicts.")
    else:
        st.error(f"**FAILED** · {what} · {words}")
    if not record.trusted:
        reasons = "\n".join(f"- {r}" for r in record.trust_reasons) or "- no reason kept"
        st.warning(f"**Not trusted**, because:\n{reasons}")
    if run["status"] != "complete":
        st.warning(f"Status **{run['status']}**: the run was cut short; figures are partial.")
    st.caption(
        f"Engine {record.engine or '?'} · target {record.target or run.get('target', '?')} · "
        f"{ui.figure_text(record.requests)} requests of {ui.figure_text(record.planned_requests)}"
        f" planned · {ui.figure_text(record.errors)} errors · run {run['run_id']}"
    )
    for problem in record.problems:
        st.caption(f"⚠ part of the stored result could not be read: {problem}")


def _timeline(view: ui.StoreView, record: LoadTestRecord, run_id: str) -> None:
    st.subheader("Stages")
    points = ui.load(view, lambda: data.series(view.path, view.version, run_id))
    shares = dict(zip(record.scenarios["scenario"], record.scenarios["planned_share"], strict=True))
    scenario = st.radio("Requests", [ALL_REQUESTS, *shares], horizontal=True, key="lt_series")
    picked = None if scenario == ALL_REQUESTS else str(scenario)
    share = float(shares.get(picked) or 1.0) if picked else 1.0
    fig = stages_timeline(points, record.stages, picked, share)
    if fig is None:
        ui.blank("this run kept no stages and no per-second series")
    else:
        st.plotly_chart(fig, width="stretch", key="lt_timeline")
    if not record.stages.empty:
        with st.expander(f"{len(record.stages)} stages"):
            st.dataframe(record.stages, hide_index=True, width="stretch")


def _scenarios(record: LoadTestRecord) -> None:
    st.subheader("Scenario mix")
    if record.scenarios.empty:
        ui.blank("this run kept no scenario figures")
        return
    st.dataframe(mix_table(record.scenarios), hide_index=True, width="stretch", key="lt_mix")
    st.markdown("**Latency per scenario**")
    fig = scenario_latency_chart(record.scenarios)
    if fig is not None:
        st.plotly_chart(fig, width="stretch", key="lt_scenario_latency")
    latency = record.scenarios.drop(
        columns=["planned_share", "achieved_share", "requests", "errors", "achieved_rate"]
    )
    st.dataframe(latency, hide_index=True, width="stretch", key="lt_latency")


def _steps(record: LoadTestRecord) -> None:
    st.subheader("Stress steps")
    best = max_capacity_step(record.steps)
    if best is None:
        st.warning("No step met the targets: the maximum capacity is below the first step.")
    else:
        row = record.steps.loc[best]
        st.markdown(
            f"Maximum capacity: **{ui.figure_text(row['achieved_rate'])} requests/s** "
            f"({row['name']}, offered {ui.figure_text(row['rate_to'])}/s, "
            f"p99 {ui.figure_text(row['p99_ms'])} ms). Use these steps as the ramp of the USL "
            "fit on the Capacity page."
        )
    st.dataframe(steps_table(record.steps, best), hide_index=True, width="stretch", key="lt_steps")
    fig = steps_chart(record.steps, best)
    if fig is not None:
        st.plotly_chart(fig, width="stretch", key="lt_steps_chart")


def _checks(record: LoadTestRecord) -> None:
    st.subheader("Pre-test checklist")
    if record.preflight.empty:
        ui.blank("this run kept no pre-test checklist")
    else:
        table = record.preflight.assign(
            status=[CHECK_LABELS.get(s, s) for s in record.preflight["status"]]
        )
        st.dataframe(table, hide_index=True, width="stretch", key="lt_preflight")
    st.subheader("Correctness invariants")
    if record.invariants is None:
        ui.blank("not checked: the target was not the exchange")
    elif record.invariants.empty:
        ui.blank("no invariant was checked")
    else:
        table = record.invariants.assign(
            passed=["✓ held" if p else "✗ broken" for p in record.invariants["passed"]]
        )
        st.dataframe(table, hide_index=True, width="stretch", key="lt_invariants")


def _figures(title: str, figures: Mapping[str, Any]) -> None:
    """A flat mapping as a two-column table, a nested one as JSON."""
    st.markdown(f"**{title}**")
    if any(isinstance(v, Mapping | list) for v in figures.values()):
        st.json(dict(figures), expanded=False)
        return
    rows = pd.DataFrame({"figure": list(figures), "value": [str(v) for v in figures.values()]})
    st.dataframe(rows, hide_index=True)


def _analysis(record: LoadTestRecord) -> None:
    st.subheader("Post-test analysis")
    a = record.analysis
    if a.empty:
        ui.blank("this run kept no post-test analysis")
        return
    if a.baseline and set(a.baseline) != {"note"}:
        _figures("Against the pinned baseline: what moved", a.baseline)
    else:
        note = (a.baseline or {}).get("note") or "none was pinned for this profile"
        st.markdown(f"**Against the pinned baseline**: {note}.")
    for title, items in (("Bottleneck", a.bottleneck), ("Recommendations", a.recommendations)):
        st.markdown(f"**{title}**")
        st.markdown("\n".join(f"- {item}" for item in items) if items else "— none")
    if a.capacity_update:
        _figures("Capacity model", a.capacity_update)


ui.page_header(
    "Load tests",
    "The specification's load tests as run: verdicts, stages, scenario mix, stress steps, "
    "the checklists and the analysis.",
)
view = ui.store_view()
ui.require_runs(view)
profiles = ui.load(view, lambda: data.loadtest_profiles(view.path, view.version))
if not profiles:
    st.info(f"No load-test runs in `{view.path}` yet. Run one:")
    st.code(RUN_COMMAND, language="sh")
    st.stop()
left, right = st.columns([1, 3])
profile = left.selectbox("Profile", [ALL, *profiles], key="lt_profile")
chosen = None if profile == ALL else profile
runs = ui.load(view, lambda: data.loadtest_runs(view.path, view.version, chosen))
ids = [str(r) for r in runs["run_id"]]
titles = {
    str(r.run_id): f"{r.title} · {r.profile} · "
    + ("passed" if r.passed is True else "failed" if r.passed is False else "no verdict")
    for r in runs.itertuples(index=False)
}
wanted = st.query_params.get("run")
start = next((i for i, r in enumerate(ids) if wanted and r.startswith(wanted)), 0)


def _title(run_id: str) -> str:
    return titles.get(run_id, run_id)


run_id = str(right.selectbox("Run (newest first)", ids, index=start, format_func=_title,
                             key="lt_run"))  # fmt: skip
try:
    record = ui.load(view, lambda: data.loadtest_record(view.path, view.version, run_id))
except RunNotFound as exc:
    st.error(str(exc))
    st.stop()
run = runs.set_index("run_id").loc[run_id].copy()
run["run_id"] = run_id
_banner(record, run)
st.subheader("Verdicts")
if record.verdicts.empty:
    ui.blank("this run kept no verdicts")
else:
    st.dataframe(ui.verdict_styler(verdict_table(record)), hide_index=True, width="stretch",
                 key="lt_verdicts")  # fmt: skip
_timeline(view, record, run_id)
_scenarios(record)
if not record.steps.empty:
    _steps(record)
_checks(record)
_analysis(record)
