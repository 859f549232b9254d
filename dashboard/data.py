"""The app's one way to the run store: cached read-only queries returning DataFrames and the
planning results built on them.

Every function takes the store's path and its `stamp` (the file's modification time and size),
so the cache serves repeated reruns and is refreshed as soon as a collector writes a new run.
Pages call `ui.store_view()` for both, never the store directly.

A store locked by a writer raises `collectors.store.store.StoreError`, which `ui.guarded`
turns into a short notice with a retry button.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from collectors.store import frames
from collectors.store.frames import RunFilter
from dashboard import queries
from planning.ramp import LoadDefinition, Ramp
from planning.regress.stored import Detected
from planning.run_slo import JudgedRun, LatestVerdict

__all__ = [
    "Stamp",
    "baselines",
    "detected",
    "judged",
    "latest_verdicts",
    "percentile_curve",
    "ramp",
    "runs",
    "series",
    "stamp",
    "summaries",
    "warnings",
]

Stamp = tuple[int, int]
_TTL = 600


def stamp(path: str) -> Stamp:
    """(mtime_ns, size) of the store file, (0, 0) when there is none yet."""
    try:
        info = Path(path).stat()
    except OSError:
        return (0, 0)
    return (info.st_mtime_ns, info.st_size)


@st.cache_data(ttl=_TTL, show_spinner=False)
def runs(path: str, version: Stamp, where: RunFilter | None = None) -> pd.DataFrame:
    """Runs matching `where`, newest first (frames.runs)."""
    return frames.runs(queries.open_store(path), where)


@st.cache_data(ttl=_TTL, show_spinner=False)
def summaries(path: str, version: Stamp, where: RunFilter | None = None) -> pd.DataFrame:
    """Summaries of the matching runs with their context, oldest first (frames.summaries)."""
    return frames.summaries(queries.open_store(path), where)


@st.cache_data(ttl=_TTL, show_spinner=False)
def series(path: str, version: Stamp, run_id: str) -> pd.DataFrame:
    """One run's per-second points (frames.series)."""
    return frames.series(queries.open_store(path), run_id)


@st.cache_data(ttl=_TTL, show_spinner=False)
def percentile_curve(path: str, version: Stamp, run_id: str) -> pd.DataFrame:
    """One run's latency distributions for a percentile plot (frames.percentile_curve)."""
    return frames.percentile_curve(queries.open_store(path), run_id)


@st.cache_data(ttl=_TTL, show_spinner=False)
def warnings(path: str, version: Stamp, run_id: str) -> list[str]:
    """One run's warnings."""
    return frames.warnings(queries.open_store(path), run_id)


@st.cache_data(ttl=_TTL, show_spinner=False)
def baselines(path: str, version: Stamp) -> pd.DataFrame:
    """Pinned baselines (frames.baselines)."""
    return frames.baselines(queries.open_store(path))


@st.cache_data(ttl=_TTL, show_spinner=False)
def judged(path: str, version: Stamp, run_id: str) -> JudgedRun:
    """One run judged against the target tables."""
    return queries.judged_run(queries.open_store(path), run_id)


@st.cache_data(ttl=_TTL, show_spinner=False)
def latest_verdicts(path: str, version: Stamp) -> list[LatestVerdict]:
    """Per target-table row, the newest verdict of a stored run."""
    return queries.latest_table_verdicts(queries.open_store(path))


@st.cache_data(ttl=_TTL, show_spinner=False)
def detected(path: str, version: Stamp, where: RunFilter | None = None) -> Detected:
    """Change points, drift and outliers in the histories of the matching runs."""
    return queries.detect(queries.open_store(path), where)


@st.cache_data(ttl=_TTL, show_spinner=False)
def ramp(
    path: str, version: Stamp, where: RunFilter | None = None, load: LoadDefinition = "inflight"
) -> Ramp:
    """(load, throughput) points of the matching runs and the best rate that met the p99."""
    return queries.ramp(queries.open_store(path), where, load)
