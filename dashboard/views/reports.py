"""Reports: download a run's report (HTML, Markdown, JSON, PDF) and its data (JSON, CSV,
Parquet, the specification's performance-results.json), and the target tables measured.
Files are built when their button is clicked."""

from __future__ import annotations

from functools import partial

import pandas as pd
import streamlit as st

from collectors.store.frames import RunFilter
from collectors.store.store import RunNotFound
from dashboard import data, ui
from dashboard.reports.files import (
    DATA_FILES,
    REPORT_FORMATS,
    report_file,
    run_data,
    spec_tables_file,
)
from dashboard.reports.pdf import PdfError, find_browser

NEWEST = 200

ui.page_header(
    "Reports",
    "A run's report to share (HTML, Markdown for a pull request, JSON, PDF), its data, and the "
    "specification's target tables with what was measured.",
)
view = ui.store_view()
ui.require_runs(view)
listing, total = ui.load(view, lambda: data.run_listing(view.path, view.version, None, NEWEST))

titles: dict[str, str] = dict(zip(listing["run_id"], listing["title"], strict=True))
rows: dict[str, pd.Series] = {str(r["run_id"]): r for _, r in listing.iterrows()}
wanted = st.query_params.get("run")
chosen = str(listing["run_id"].iloc[0])
if wanted:
    with ui.guarded(view):
        try:
            chosen = data.resolve(view.path, view.version, wanted)
        except RunNotFound as exc:
            st.warning(f"`?run={wanted}`: {exc}; showing the newest run.")
    if chosen not in titles:
        one, _count = ui.load(
            view,
            lambda: data.run_listing(view.path, view.version, RunFilter(run_ids=(chosen,)), 1),
        )
        titles = {chosen: str(one["title"].iloc[0]), **titles}
        rows[chosen] = one.iloc[0]
ids = list(titles)
run_id = st.selectbox(
    f"Run (the newest {min(NEWEST, total)} of {total})",
    ids,
    index=ids.index(chosen),
    format_func=lambda r: titles[r],
)
st.query_params["run"] = run_id
row = rows[run_id]
judged = ui.load(view, lambda: data.judged(view.path, view.version, run_id))
counts = judged.verdicts.counts()
trust = "" if bool(row["trusted"]) else " · :orange-badge[not trusted]"
st.markdown(
    f"id `{run_id}` · {row['kind']} / {row['profile']} · "
    f":green-badge[{counts['met']} met] :red-badge[{counts['missed']} missed] "
    f":gray-badge[{counts['not_measured']} not measured]{trust}"
)
stem = f"{row['label']}-{row['kind']}-{run_id[:8]}".replace("/", "_").replace(" ", "_")

st.subheader("Report")
st.caption(
    "Summary, SLO verdicts, latency over time and distribution, the comparison with the pinned "
    "baseline, regressions, diagnosis and recommendations. Built on click; the PDF takes a few "
    "seconds."
)
try:
    find_browser()
    no_pdf = ""
except PdfError as exc:
    no_pdf = str(exc)
for col, (fmt, (label, suffix, mime)) in zip(
    st.columns(len(REPORT_FORMATS)), REPORT_FORMATS.items(), strict=True
):
    with col:
        st.download_button(
            label,
            data=partial(report_file, view.path, run_id, fmt),
            file_name=f"report-{stem}.{suffix}",
            mime=mime,
            on_click="ignore",
            icon=":material/download:",
            key=f"report-{fmt}",
            disabled=fmt == "pdf" and bool(no_pdf),
            help=no_pdf if fmt == "pdf" and no_pdf else None,
            width="stretch",
        )
if no_pdf:
    ui.blank(f"PDF: {no_pdf}")

st.subheader("Data")
seed = ui.load(view, lambda: data.seed_results(view.path, view.version, run_id))
for col, (what, (label, mime)) in zip(st.columns(len(DATA_FILES)), DATA_FILES.items(), strict=True):
    missing = what == "performance-results.json" and bool(seed.missing)
    with col:
        st.download_button(
            label,
            data=partial(run_data, view.path, run_id, what),
            file_name=f"{stem}-{what}" if what != "performance-results.json" else what,
            mime=mime,
            on_click="ignore",
            key=f"data-{what}",
            disabled=missing,
            help=f"performance-results.json: missing {seed.missing_text()}" if missing else None,
            width="stretch",
        )
if seed.missing:
    ui.blank(f"performance-results.json cannot be filled: missing {seed.missing_text()}")
else:
    st.caption(
        "Spec results is the specification's performance-results.json: "
        + "; ".join(f"{k} from run {v[:8]}" for k, v in seed.sources.items())
    )

st.subheader("Specification tables")
st.caption(
    "The three target tables with a measured column and the date of the run behind each value."
)
SPEC_FILES = (
    ("md", "Tables Markdown", "text/markdown"),
    ("json", "Tables JSON", "application/json"),
)
for col, (fmt, label, mime) in zip(st.columns(4)[:2], SPEC_FILES, strict=True):
    with col:
        st.download_button(
            label,
            data=partial(spec_tables_file, view.path, fmt),
            file_name=f"performance-targets.{fmt}",
            mime=mime,
            on_click="ignore",
            key=f"spec-{fmt}",
            width="stretch",
        )
