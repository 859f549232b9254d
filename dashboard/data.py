"""The app's one way to the run store: cached read-only queries returning DataFrames and the
planning results built on them.

Every function takes the store's path and its `stamp` (the file's modification time and size),
so the cache serves repeated reruns and is refreshed as soon as a collector writes a new run.
Pages call `ui.store_view()` for both, never the store directly.

A store locked by a writer raises `collectors.store.store.StoreError`, which `ui.guarded`
turns into a short notice with a retry button.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path

import pandas as pd
import streamlit as st

from collectors.store import frames
from collectors.store.export import SeedResults
from collectors.store.export import seed_results as export_seed_results
from collectors.store.frames import RunFilter
from collectors.store.headline import PARTS_KINDS
from collectors.store.store import RunNotFound, RunStore
from dashboard import queries
from dashboard.loadtest_record import LoadTestRecord, read_record
from planning.compare import Difference, Distribution, Side, differences
from planning.ramp import LoadDefinition, Ramp, ramp_from_steps
from planning.regress.report import analyse
from planning.regress.stored import Detected, histories_from_summaries
from planning.run_slo import JudgedRun, LatestVerdict

__all__ = [
    "RunFacets",
    "Stamp",
    "baselines",
    "compared",
    "detected",
    "judged",
    "label_counts",
    "latest_runs",
    "latest_verdicts",
    "loadtest_profiles",
    "loadtest_record",
    "loadtest_runs",
    "percentile_curve",
    "ramp",
    "recent_runs",
    "recent_summaries",
    "resolve",
    "run_facets",
    "run_listing",
    "runs",
    "seed_results",
    "series",
    "stamp",
    "steps_ramp",
    "summaries",
    "summary_history",
    "summary_series",
    "warnings",
]

Stamp = tuple[int, int]
_TTL = 600


@st.cache_resource(show_spinner=False)
def _store(path: str) -> RunStore:
    """One RunStore object per path: it remembers that the schema is current, so each query
    opens the file once (read-only) instead of twice."""
    return queries.open_store(path)


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
    return frames.runs(_store(path), where)


@st.cache_data(ttl=_TTL, show_spinner=False)
def summaries(path: str, version: Stamp, where: RunFilter | None = None) -> pd.DataFrame:
    """Summaries of the matching runs with their context, oldest first (frames.summaries)."""
    return frames.summaries(_store(path), where)


@st.cache_data(ttl=_TTL, show_spinner=False)
def series(path: str, version: Stamp, run_id: str) -> pd.DataFrame:
    """One run's per-second points (frames.series)."""
    return frames.series(_store(path), run_id)


@st.cache_data(ttl=_TTL, show_spinner=False)
def percentile_curve(path: str, version: Stamp, run_id: str) -> pd.DataFrame:
    """One run's latency distributions for a percentile plot (frames.percentile_curve)."""
    return frames.percentile_curve(_store(path), run_id)


@st.cache_data(ttl=_TTL, show_spinner=False)
def warnings(path: str, version: Stamp, run_id: str) -> list[str]:
    """One run's warnings."""
    return frames.warnings(_store(path), run_id)


@st.cache_data(ttl=_TTL, show_spinner=False)
def baselines(path: str, version: Stamp) -> pd.DataFrame:
    """Pinned baselines (frames.baselines)."""
    return frames.baselines(_store(path))


@st.cache_data(ttl=_TTL, show_spinner=False)
def judged(path: str, version: Stamp, run_id: str) -> JudgedRun:
    """One run judged against the target tables."""
    return queries.judged_run(_store(path), run_id)


@st.cache_data(ttl=_TTL, show_spinner=False)
def latest_verdicts(path: str, version: Stamp) -> list[LatestVerdict]:
    """Per target-table row, the newest verdict of a stored run."""
    return queries.latest_table_verdicts(_store(path))


@st.cache_data(ttl=_TTL, show_spinner=False)
def detected(path: str, version: Stamp, where: RunFilter | None = None) -> Detected:
    """Change points, drift and outliers in the histories of the matching runs."""
    return queries.detect(_store(path), where)


@st.cache_data(ttl=_TTL, show_spinner=False)
def ramp(
    path: str, version: Stamp, where: RunFilter | None = None, load: LoadDefinition = "inflight"
) -> Ramp:
    """(load, throughput) points of the matching runs and the best rate that met the p99."""
    return queries.ramp(_store(path), where, load)


# -- the overview and runs pages: small cached answers, so a rerun unpickles little -------------

_HEADLINE_COLUMNS = ("headline", "p99_ms", "throughput_per_s")


@dataclass(frozen=True)
class RunFacets:
    """What the run filters can choose from: distinct kinds, profiles, labels, tags, the first
    and last start, and how many runs there are."""

    kinds: list[str]
    profiles: list[str]
    labels: list[str]
    tags: list[str]
    first: datetime | None
    last: datetime | None
    count: int


_FACETS_SQL = """
    SELECT list_sort(list_distinct(list(kind))), list_sort(list_distinct(list(profile))),
           list_sort(list_distinct(list(label))),
           list_sort(list_distinct(flatten(list(CAST(tags AS VARCHAR[]))))),
           min(started_at), max(started_at), count(*)
    FROM runs
"""


@st.cache_data(ttl=_TTL, show_spinner=False)
def run_facets(path: str, version: Stamp) -> RunFacets:
    """The values the run filters offer (every run in the store)."""
    if not Path(path).is_file():
        return RunFacets([], [], [], [], None, None, 0)
    with _store(path).reading() as con:
        kinds, profiles, labels, tags, first, last, count = con.execute(_FACETS_SQL).fetchone()
    return RunFacets(kinds or [], profiles or [], labels or [], tags or [], first, last, int(count))


@st.cache_data(ttl=_TTL, show_spinner=False)
def run_listing(
    path: str, version: Stamp, where: RunFilter | None = None, limit: int = 500
) -> tuple[pd.DataFrame, int]:
    """The newest `limit` runs matching `where` (without config and host) and how many match."""
    store = _store(path)
    frame = frames.runs(store, where, limit=limit)
    if len(frame) < limit:
        return frame.drop(columns=["config", "host"]), len(frame)
    cond, params = (where or RunFilter()).where()
    with store.reading() as con:
        (count,) = con.execute(f"SELECT count(*) FROM runs {cond}", params).fetchone()
    return frame.drop(columns=["config", "host"]), int(count)


@st.cache_data(ttl=_TTL, show_spinner=False)
def resolve(path: str, version: Stamp, ref: str) -> str:
    """The run id `ref` names (an id, a unique prefix of 8+ characters, or `latest`);
    `RunNotFound` (one line) when none or more than one does."""
    return _store(path).resolve(ref.strip())


@st.cache_data(ttl=_TTL, show_spinner=False)
def latest_runs(path: str, version: Stamp) -> pd.DataFrame:
    """The newest run of each (kind, profile), newest first (frames.latest_runs), with its
    headline summary (the one with the most samples): `headline`, `p99_ms` (from due time)
    and `throughput_per_s`."""
    store = _store(path)
    latest = frames.latest_runs(store)
    if latest.empty:
        return latest.assign(**{c: pd.Series(dtype=object) for c in _HEADLINE_COLUMNS})
    ids = tuple(str(r) for r in latest["run_id"])
    summ = frames.summaries(store, RunFilter(run_ids=ids))
    if summ.empty:
        return latest.assign(headline=None, p99_ms=float("nan"), throughput_per_s=float("nan"))
    summ = summ.assign(count=pd.to_numeric(summ["count"]))
    heads = summ.loc[summ.groupby("run_id")["count"].idxmax()].set_index("run_id")
    picked = heads.reindex(latest["run_id"])
    out = latest.assign(
        headline=picked["name"].to_numpy(),
        p99_ms=pd.to_numeric(picked["latency_p99_ms"]).to_numpy(),
        throughput_per_s=pd.to_numeric(picked["throughput_per_s"]).to_numpy(),
    )
    return _overall_headlines(store, out)


def _overall_headlines(store: RunStore, latest: pd.DataFrame) -> pd.DataFrame:
    """A db run (its summaries are query types) headed by every query type together."""
    parts = latest["kind"].isin(PARTS_KINDS)
    if not parts.any():
        return latest
    overall = store.overall_summaries([str(r) for r in latest.loc[parts, "run_id"]])
    out = latest.copy()
    for index, run_id in latest.loc[parts, "run_id"].items():
        summary = overall.get(str(run_id))
        if summary is not None:
            out.loc[index, _HEADLINE_COLUMNS] = [
                summary.name,
                summary.latency.p99_ms,
                summary.throughput_per_s,
            ]
    return out


@st.cache_data(ttl=_TTL, show_spinner=False)
def summary_series(path: str, version: Stamp, where: RunFilter | None = None) -> pd.DataFrame:
    """The summary series of the matching runs: kind, profile, name and how many runs have it,
    most runs first."""
    summ = frames.summaries(_store(path), where)
    if summ.empty:
        return pd.DataFrame(
            {c: pd.Series(dtype=object) for c in ("kind", "profile", "name", "runs")}
        )
    counted = summ.groupby(["kind", "profile", "name"], sort=True)["run_id"].nunique()
    out = counted.rename("runs").reset_index()
    return out.sort_values("runs", ascending=False, kind="stable").reset_index(drop=True)


@st.cache_data(ttl=_TTL, show_spinner=False)
def summary_history(
    path: str, version: Stamp, where: RunFilter | None, kind: str, profile: str, name: str
) -> pd.DataFrame:
    """One summary series (kind, profile, name) over the matching runs, oldest first, with each
    run's `title` (frames.summaries columns)."""
    narrowed = replace(where or RunFilter(), kind=kind, profile=profile)
    summ = frames.summaries(_store(path), narrowed)
    picked = summ[summ["name"] == name].reset_index(drop=True) if not summ.empty else summ
    return picked.assign(title=frames.run_titles(picked))


# -- the compare, regressions and benchmarks pages ----------------------------------------------


@st.cache_data(ttl=_TTL, show_spinner=False)
def recent_runs(
    path: str, version: Stamp, where: RunFilter | None = None, limit: int = 200
) -> pd.DataFrame:
    """The newest `limit` runs matching `where`, newest first, with config and host."""
    return frames.runs(_store(path), where, limit=limit)


@st.cache_data(ttl=_TTL, show_spinner=False)
def recent_summaries(
    path: str, version: Stamp, where: RunFilter | None = None, runs: int = 500
) -> pd.DataFrame:
    """Summaries of the newest `runs` matching runs, oldest first (frames.recent_summaries)."""
    return frames.recent_summaries(_store(path), where, runs)


@st.cache_data(ttl=_TTL, show_spinner=False)
def compared(path: str, version: Stamp, a: str, b: str, name: str) -> list[Difference]:
    """Run A → run B on the summary `name`: every figure's difference with its interval
    (planning.compare.differences), [] when either run lacks the summary."""
    store = _store(path)
    summ = frames.summaries(store, RunFilter(run_ids=(a, b)))
    sides: list[Side] = []
    for run_id in (a, b):
        rows = summ[(summ["run_id"] == run_id) & (summ["name"] == name)] if not summ.empty else summ
        if rows.empty:
            return []
        row = rows.iloc[0]
        buckets = frames.histogram_buckets(store, run_id)
        views: dict[str, Distribution] = {}
        if not buckets.empty:
            for view, part in buckets[buckets["name"] == name].groupby("view"):
                views[str(view)] = Distribution.of(part["value_us"], part["count"])
        sides.append(
            Side(int(row["count"]), int(row["errors"]), float(row["throughput_per_s"]), views)
        )
    return differences(sides[0], sides[1])


@st.cache_data(ttl=_TTL, show_spinner=False)
def seed_results(path: str, version: Stamp, run_id: str) -> SeedResults:
    """The specification's performance-results.json of a run (collectors.store.export), with
    the run behind each key and why any key is missing."""
    store = _store(path)
    return export_seed_results(store, store.get(run_id))


@st.cache_data(ttl=_TTL, show_spinner=False)
def label_counts(path: str, version: Stamp, where: RunFilter | None = None) -> list[str]:
    """The labels of the matching runs, the label with the most runs first (a small answer,
    so a rerun unpickles little)."""
    if not Path(path).is_file():
        return []
    cond, params = (where or RunFilter()).where()
    sql = f"SELECT label FROM runs {cond} GROUP BY label ORDER BY count(*) DESC, label"
    with _store(path).reading() as con:
        return [str(row[0]) for row in con.execute(sql, params).fetchall()]


@st.cache_data(ttl=_TTL, show_spinner=False)
def recent_detected(path: str, version: Stamp, last_runs: int = 50) -> Detected:
    """Change points in the newest `last_runs` runs of every history (kind, profile, summary
    name): what is still open, found without running the detector over all of history."""
    summ = frames.summaries(_store(path))
    if not summ.empty:
        ordered = summ.sort_values(["started_at", "run_id", "position"], kind="stable")
        summ = ordered.groupby(["kind", "profile", "name"], sort=False).tail(last_runs)
    histories = histories_from_summaries(summ)
    return Detected(histories, analyse([h.history for h in histories]))


# -- the load tests page, and a stress run's steps as the capacity page's ramp ------------------

_LOADTEST = "loadtest"
LOADTEST_COLUMNS = ("run_id", "profile", "label", "started_at", "status", "trusted", "title",
                    "pattern", "passed", "steps")  # fmt: skip


@st.cache_data(ttl=_TTL, show_spinner=False)
def loadtest_profiles(path: str, version: Stamp) -> list[str]:
    """The profiles of the stored load-test runs, alphabetical."""
    if not Path(path).is_file():
        return []
    sql = "SELECT DISTINCT profile FROM runs WHERE kind = ? ORDER BY profile"
    with _store(path).reading() as con:
        return [str(row[0]) for row in con.execute(sql, [_LOADTEST]).fetchall()]


@st.cache_data(ttl=_TTL, show_spinner=False)
def loadtest_runs(
    path: str, version: Stamp, profile: str | None = None, limit: int = 200
) -> pd.DataFrame:
    """The newest `limit` load-test runs (of `profile` when given), newest first:
    LOADTEST_COLUMNS, `pattern` and `passed` from the stored result, `steps` how many stress
    steps it kept."""
    frame = frames.runs(_store(path), RunFilter(kind=_LOADTEST, profile=profile), limit=limit)
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in LOADTEST_COLUMNS})
    configs = [c if isinstance(c, dict) else {} for c in frame["config"]]
    steps = [c.get("steps") for c in configs]
    return frame.assign(
        pattern=[str(c.get("pattern") or "") for c in configs],
        passed=[c.get("passed") if isinstance(c.get("passed"), bool) else None for c in configs],
        steps=[len(s) if isinstance(s, list) else 0 for s in steps],
    )[list(LOADTEST_COLUMNS)]


@st.cache_data(ttl=_TTL, show_spinner=False)
def loadtest_record(path: str, version: Stamp, run_id: str) -> LoadTestRecord:
    """One load-test run's stored result as tables (dashboard.loadtest_record); RunNotFound
    when there is no such run."""
    frame = frames.runs(_store(path), RunFilter(run_ids=(run_id,)))
    if frame.empty:
        raise RunNotFound(f"no run with id {run_id}")
    config = frame["config"].iloc[0]
    return read_record(config if isinstance(config, dict) else {})


@st.cache_data(ttl=_TTL, show_spinner=False)
def steps_ramp(path: str, version: Stamp, run_id: str, p99_target_ms: float = 25.0) -> Ramp:
    """The steps of a stress load test as a ramp for the USL fit (planning.ramp_from_steps)."""
    record = loadtest_record(path, version, run_id)
    return ramp_from_steps(record.steps, run_id, record.trusted, p99_target_ms)
