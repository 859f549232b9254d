"""Overview: does the stack meet its targets? The specification's three target tables with the
latest verdict of every row, the latest run of each kind and profile, open regressions and the
pinned baselines."""

from __future__ import annotations

import pandas as pd
import streamlit as st

from dashboard import data, ui
from planning.regress.stored import Detected
from planning.run_slo import LatestVerdict, RunFacts
from planning.slo import load_config

OPEN_WITHIN_RUNS = 20  # a regression is open while its history has at most this many runs since
DETECT_RUNS = 60  # the detector looks at the newest runs of each history
LINK = st.column_config.LinkColumn("detail", display_text="open", width="small")


def _run_name(run: RunFacts | None) -> str:
    if run is None:
        return ""
    if run.started_at is None:
        return f"{run.label} · {run.kind}"
    return ui.run_title({"label": run.label, "kind": run.kind, "started_at": run.started_at})


def _target(v: LatestVerdict) -> str:
    s = v.verdict.slo
    if s.comparator is None or s.target is None:
        return s.spec
    return f"{s.comparator} {s.target:,g} {s.unit or ''}".strip()


def _with_unit(value: float | None, unit: str) -> str:
    text = ui.figure_text(value)
    return text if text == "—" or not unit else f"{text} {unit}"


def _margin(v: LatestVerdict) -> str:
    if v.verdict.margin is None:
        return "—"
    pct = v.verdict.margin_percent
    text = _with_unit(v.verdict.margin, v.verdict.slo.unit or "")
    return text if pct is None else f"{text} ({pct:+.0f} %)"


def verdict_frame(rows: list[LatestVerdict], component: bool = False) -> pd.DataFrame:
    """One table row per target: status (and "not trusted" beside it when the run behind it was
    not), target, observed, margin, how it was measured or why not, the run it came from; the
    component when the table mixes them."""
    out = []
    for v in rows:
        run = v.run
        unit = v.verdict.slo.unit or ""
        name = _run_name(run)
        untrusted = run is not None and not run.trusted
        row = {
            "status": ui.status_label(v.verdict.status),
            "trust": "⚠ not trusted" if untrusted else "",
        }
        if component:
            row["component"] = v.verdict.slo.component or ""
        row |= {
            "target": v.verdict.slo.description,
            "goal": _target(v),
            "observed": _with_unit(v.verdict.observed, unit),
            "margin": _margin(v),
            "how measured / why not": v.how or v.why_not or "",
            "run": name,
            "metric": v.verdict.slo.metric or "",
        }
        out.append(row)
    return pd.DataFrame(out)


VERDICT_COLUMNS = {
    "how measured / why not": st.column_config.TextColumn(width="large"),
    "run": st.column_config.TextColumn(width="medium"),
}


def _counts(rows: list[LatestVerdict]) -> str:
    n = {s: sum(v.verdict.status == s for v in rows) for s in ui.STATUS_LABELS}
    return (
        f":green-badge[{n['met']} met] :red-badge[{n['missed']} missed] "
        f":gray-badge[{n['not_measured']} not measured]"
    )


def _open_regressions(found: Detected) -> pd.DataFrame:
    rows = []
    for h, report in zip(found.histories, found.reports, strict=True):
        for change in report.detection.changes:
            if change.direction != "regression" or change.runs_since > OPEN_WITHIN_RUNS:
                continue
            start = {"label": h.labels[change.index], "kind": h.kind}
            rows.append(
                {
                    "series": f"{h.kind}/{h.profile}/{h.name}",
                    "figure": h.history.metric,
                    "size %": round(change.change_pct, 1),
                    "interval %": f"{change.interval_pct[0]:+.1f} to {change.interval_pct[1]:+.1f}",
                    "starts at": ui.run_title({**start, "started_at": h.started_at[change.index]}),
                    "runs since": change.runs_since,
                    "detail": f"runs?run={h.run_ids[change.index]}",
                }
            )
    return pd.DataFrame(rows)


ui.page_header(
    "Overview",
    "Does the stack meet its targets? The latest verdict of every target row, the latest runs, "
    "open regressions and the pinned baselines.",
)
view = ui.store_view()
ui.require_runs(view)
latest = ui.load(view, lambda: data.latest_runs(view.path, view.version))

verdicts = ui.load(view, lambda: data.latest_verdicts(view.path, view.version))
for name, table in load_config().tables.items():
    rows = [v for v in verdicts if v.verdict.slo.table == name]
    st.subheader(table.title)
    st.markdown(_counts(rows))
    height = 35 * (len(rows) + 1) + 3  # every row, no inner scrolling
    frame = verdict_frame(rows, component=name == "system_resources")
    st.dataframe(
        ui.verdict_styler(frame),
        hide_index=True,
        width="stretch",
        height=height,
        column_config=VERDICT_COLUMNS,
    )

st.subheader("Latest run of each kind and profile")
shown = latest.assign(
    run=latest["title"],
    trust=["trusted" if t else "⚠ not trusted" for t in latest["trusted"]],
    detail=[f"runs?run={r}" for r in latest["run_id"]],
)
st.dataframe(
    shown[
        [
            "run",
            "kind",
            "profile",
            "headline",
            "p99_ms",
            "throughput_per_s",
            "trust",
            "status",
            "detail",
        ]
    ],
    hide_index=True,
    width="stretch",
    column_config={
        "p99_ms": st.column_config.NumberColumn("p99 ms (from due time)", format="%.3f"),
        "throughput_per_s": st.column_config.NumberColumn("throughput /s", format="%.1f"),
        "detail": LINK,
    },
)

st.subheader("Open regressions")
found = ui.load(view, lambda: data.recent_detected(view.path, view.version, DETECT_RUNS))
regressions = _open_regressions(found)
if regressions.empty:
    st.caption(f"No regression in the last {OPEN_WITHIN_RUNS} runs of any history.")
else:
    st.dataframe(regressions, hide_index=True, width="stretch", column_config={"detail": LINK})
st.page_link(
    "views/regressions.py", label="Every history and change point", icon=":material/trending_up:"
)

st.subheader("Pinned baselines")
pinned = ui.load(view, lambda: data.baselines(view.path, view.version))
if pinned.empty:
    st.caption(
        "No baseline pinned. Pin one with `pincex runs pin RUN_ID` (one per kind and profile)."
    )
else:
    st.dataframe(
        pinned.assign(run=pinned["title"], detail=[f"runs?run={r}" for r in pinned["run_id"]])[
            ["kind", "profile", "run", "pinned_at", "detail"]
        ],
        hide_index=True,
        width="stretch",
        column_config={"detail": LINK},
    )
