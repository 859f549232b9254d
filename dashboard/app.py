"""PinCEX Perf Lab's dashboard: the entry point only routes (`streamlit run dashboard/app.py`)."""

from __future__ import annotations

from pathlib import Path

import streamlit as st

# One short script per page. Not `pages/`: Streamlit would also list a folder of that name as an
# old-style multipage app, and a deep link (/capacity) opened first would run the page without
# this router (file names in the sidebar, no page config).
HERE = Path(__file__).parent / "views"

# (file, title, url path, icon): each page has a fixed URL path.
PAGES: tuple[tuple[str, str, str, str], ...] = (
    ("overview.py", "Overview", "", ":material/dashboard:"),
    ("runs.py", "Runs", "runs", ":material/list:"),
    ("compare.py", "Compare", "compare", ":material/compare_arrows:"),
    ("regressions.py", "Regressions", "regressions", ":material/trending_up:"),
    ("capacity.py", "Capacity", "capacity", ":material/dns:"),
    ("benchmarks.py", "Benchmarks", "benchmarks", ":material/speed:"),
    ("loadtests.py", "Load tests", "loadtests", ":material/stacked_line_chart:"),
    ("live.py", "Live", "live", ":material/monitor_heart:"),
    ("reports.py", "Reports", "reports", ":material/description:"),
)

st.set_page_config(page_title="PinCEX Perf Lab", page_icon=":material/speed:", layout="wide")
pages = [
    st.Page(HERE / file, title=title, url_path=path or None, icon=icon, default=not path)
    for file, title, path, icon in PAGES
]
st.navigation(pages).run()
