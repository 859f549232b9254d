"""Read-only views of the run store as pandas DataFrames: what the dashboard, the reports and the
store-reading CLI commands share.

    store = open_run_store()                # collectors.settings: the default store
    runs = frames.runs(store, RunFilter(kind="orders", label="v1.4"))
    summ = frames.summaries(store, RunFilter(kind="orders"))      # one row per run x summary
    pts = frames.series(store, run_id)                            # side, name, second, value
    curve = frames.percentile_curve(store, run_id)                # name, view, percentile, ms

Every function opens the store read-only (retrying briefly while a writer holds it) and returns
a frame with fixed columns, empty when there is nothing, so a page never has to special-case an
empty store. A store file that does not exist yet reads as empty and is not created.
Times are naive UTC `datetime64` columns; `title` names a run as people see it:
"label · kind · YYYY-mm-dd HH:MM:SS".
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import orjson
import pandas as pd

from collectors.store import histograms
from collectors.store.rows import SUMMARY_COLUMNS
from collectors.store.store import RunStore

__all__ = [
    "CURVE_PERCENTILES",
    "RUN_COLUMNS",
    "SUMMARY_FRAME_COLUMNS",
    "RunFilter",
    "baselines",
    "histogram_buckets",
    "histogram_percentiles",
    "latest_runs",
    "percentile_curve",
    "recent_summaries",
    "run_titles",
    "runs",
    "series",
    "summaries",
    "warnings",
]

RUN_COLUMNS: tuple[str, ...] = (
    "run_id",
    "kind",
    "profile",
    "target",
    "label",
    "started_at",
    "ended_at",
    "duration_s",
    "status",
    "trusted",
    "tags",
    "config",
    "host",
    "notes",
    "warning_count",
    "title",
)
_RUN_SQL = """
    SELECT run_id, kind, profile, target, label, started_at, ended_at,
           epoch_ms(ended_at) / 1000.0 - epoch_ms(started_at) / 1000.0 AS duration_s,
           status, trusted, tags, config, host, notes, warning_count
    FROM runs
"""
SUMMARY_FRAME_COLUMNS: tuple[str, ...] = (
    "run_id",
    "kind",
    "profile",
    "label",
    "started_at",
    "trusted",
    "position",
    *SUMMARY_COLUMNS,
)

# The percentile plot's x positions: 0 .. 99.999 spaced evenly in "nines" (1 / (1 - p)).
CURVE_PERCENTILES: tuple[float, ...] = tuple(
    float(round(100 * (1 - 10 ** (-k / 8)), 6)) for k in range(0, 41)
)


@dataclass(frozen=True)
class RunFilter:
    """Which runs: every field that is set must match (`tag` is one of the run's tags,
    `since`/`until` bound the start time, naive UTC)."""

    kind: str | None = None
    profile: str | None = None
    label: str | None = None
    tag: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    trusted: bool | None = None
    run_ids: tuple[str, ...] | None = None

    def where(self, alias: str = "") -> tuple[str, list[Any]]:
        """The SQL condition (`WHERE ...` or empty) and its parameters."""
        a = f"{alias}." if alias else ""
        clauses: list[str] = []
        params: list[Any] = []
        for column in ("kind", "profile", "label"):
            value = getattr(self, column)
            if value is not None:
                clauses.append(f"{a}{column} = ?")
                params.append(value)
        if self.tag is not None:
            clauses.append(f"list_contains(CAST({a}tags AS VARCHAR[]), ?)")
            params.append(self.tag)
        if self.since is not None:
            clauses.append(f"{a}started_at >= ?")
            params.append(self.since)
        if self.until is not None:
            clauses.append(f"{a}started_at <= ?")
            params.append(self.until)
        if self.trusted is not None:
            clauses.append(f"{a}trusted = ?")
            params.append(self.trusted)
        if self.run_ids is not None:
            clauses.append(f"{a}run_id IN (SELECT unnest(?::VARCHAR[]))")
            params.append(list(self.run_ids))
        return ("WHERE " + " AND ".join(clauses) if clauses else ""), params


def _exists(store: RunStore) -> bool:
    return store.path.exists()


def _frame(
    store: RunStore, sql: str, params: Sequence[Any], columns: Sequence[str]
) -> pd.DataFrame:
    if not _exists(store):
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    with store.reading() as con:
        frame: pd.DataFrame = con.execute(sql, list(params)).df()
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    return frame


def run_titles(frame: pd.DataFrame) -> pd.Series:
    """'label · kind · start' for each row of a frame with those columns."""
    if frame.empty:
        return pd.Series(dtype=object)
    started = pd.to_datetime(frame["started_at"]).dt.strftime("%Y-%m-%d %H:%M:%S")
    return frame["label"].astype(str) + " · " + frame["kind"].astype(str) + " · " + started


def _run_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """A frame of _RUN_SQL rows as RUN_COLUMNS: JSON columns decoded, the title added."""
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in RUN_COLUMNS})
    for column in ("tags", "config", "host"):
        frame[column] = [orjson.loads(v) for v in frame[column]]
    frame["trusted"] = frame["trusted"].astype(bool)
    frame["title"] = run_titles(frame)
    return frame.reset_index(drop=True)


def runs(store: RunStore, where: RunFilter | None = None, limit: int | None = None) -> pd.DataFrame:
    """Runs matching `where`, newest first: RUN_COLUMNS (tags a list, config and host dicts)."""
    cond, params = (where or RunFilter()).where()
    limit_sql = "" if limit is None else f" LIMIT {int(limit)}"
    sql = f"{_RUN_SQL} {cond} ORDER BY started_at DESC, run_id{limit_sql}"
    frame = _frame(store, sql, params, RUN_COLUMNS[:-1])
    return _run_frame(frame)


def latest_runs(store: RunStore) -> pd.DataFrame:
    """The newest run of each (kind, profile), newest first: RUN_COLUMNS."""
    sql = f"""{_RUN_SQL}
        QUALIFY row_number() OVER (PARTITION BY kind, profile ORDER BY started_at DESC, run_id) = 1
        ORDER BY started_at DESC, run_id"""
    frame = _frame(store, sql, [], RUN_COLUMNS[:-1])
    return _run_frame(frame)


def summaries(store: RunStore, where: RunFilter | None = None) -> pd.DataFrame:
    """Every summary of the matching runs with its run's context, oldest run first:
    SUMMARY_FRAME_COLUMNS (service_* null where a run has only one latency view)."""
    cond, params = (where or RunFilter()).where("r")
    cols = ", ".join(f"s.{c}" for c in SUMMARY_COLUMNS)
    sql = f"""
        SELECT r.run_id, r.kind, r.profile, r.label, r.started_at, r.trusted, s.position, {cols}
        FROM summaries s JOIN runs r USING (run_id) {cond}
        ORDER BY r.started_at, r.run_id, s.position
    """
    frame = _frame(store, sql, params, SUMMARY_FRAME_COLUMNS)
    if not frame.empty:
        frame["trusted"] = frame["trusted"].astype(bool)
    return frame


def series(store: RunStore, run_id: str, side: str | None = None) -> pd.DataFrame:
    """The run's per-second points: side, name, second, value (by name, then second)."""
    sql = "SELECT side, name, second, value FROM series WHERE run_id = ?"
    params: list[Any] = [run_id]
    if side is not None:
        sql += " AND side = ?"
        params.append(side)
    sql += " ORDER BY side, name, second"
    return _frame(store, sql, params, ("side", "name", "second", "value"))


def warnings(store: RunStore, run_id: str) -> list[str]:
    """The run's warnings, in order."""
    frame = _frame(
        store,
        "SELECT message FROM warnings WHERE run_id = ? ORDER BY position",
        [run_id],
        ("message",),
    )
    return [str(m) for m in frame["message"]]


def histogram_percentiles(
    store: RunStore, run_id: str, percentiles: Sequence[float]
) -> pd.DataFrame:
    """Percentiles (ms) of each of the run's histograms: name, view, percentile, value_ms."""
    frame = _frame(
        store,
        "SELECT name, view, encoded FROM histograms WHERE run_id = ? ORDER BY position",
        [run_id],
        ("name", "view", "encoded"),
    )
    rows: list[tuple[str, str, float, float]] = []
    for name, view, encoded in frame.itertuples(index=False):
        hist = histograms.decode(encoded)
        if int(hist.get_total_count()) == 0:
            continue
        values = histograms.percentiles_ms(hist, percentiles)
        rows.extend((name, view, p, v) for p, v in values.items())
    return pd.DataFrame(rows, columns=["name", "view", "percentile", "value_ms"])


def percentile_curve(store: RunStore, run_id: str) -> pd.DataFrame:
    """The run's latency distributions for a percentile plot (CURVE_PERCENTILES), with
    `nines` = -log10(1 - p/100) for a log x axis: name, view, percentile, value_ms, nines."""
    frame = histogram_percentiles(store, run_id, CURVE_PERCENTILES)
    frame["nines"] = -np.log10(np.maximum(1 - frame["percentile"].astype(float) / 100, 1e-7))
    return frame


def baselines(store: RunStore) -> pd.DataFrame:
    """Pinned baselines: kind, profile, run_id, pinned_at, label, started_at, title."""
    sql = """
        SELECT b.kind, b.profile, b.run_id, b.pinned_at, r.label, r.started_at
        FROM baselines b JOIN runs r USING (run_id) ORDER BY b.kind, b.profile
    """
    columns = ("kind", "profile", "run_id", "pinned_at", "label", "started_at", "title")
    frame = _frame(store, sql, [], columns[:-1])
    if frame.empty:
        return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})
    frame["title"] = run_titles(frame)
    return frame


def histogram_buckets(store: RunStore, run_id: str) -> pd.DataFrame:
    """The run's histograms as their non-empty buckets: name, view, value_us, count (a bucket's
    value is its highest equivalent value, as the stored percentiles read it)."""
    frame = _frame(
        store,
        "SELECT name, view, encoded FROM histograms WHERE run_id = ? ORDER BY position",
        [run_id],
        ("name", "view", "encoded"),
    )
    parts: list[pd.DataFrame] = []
    for name, view, encoded in frame.itertuples(index=False):
        hist = histograms.decode(encoded)
        counts = np.ctypeslib.as_array(hist.counts)
        index = np.flatnonzero(counts)
        values = [
            hist.get_highest_equivalent_value(hist.get_value_from_index(int(i))) for i in index
        ]
        parts.append(
            pd.DataFrame(
                {
                    "name": name,
                    "view": view,
                    "value_us": np.asarray(values, dtype=np.float64),
                    "count": counts[index].astype(np.int64),
                }
            )
        )
    if not parts:
        return pd.DataFrame(
            {c: pd.Series(dtype=object) for c in ("name", "view", "value_us", "count")}
        )
    return pd.concat(parts, ignore_index=True)


def recent_summaries(
    store: RunStore, where: RunFilter | None = None, runs: int = 500
) -> pd.DataFrame:
    """`summaries` of only the newest `runs` matching runs, oldest first."""
    cond, params = (where or RunFilter()).where("r")
    cols = ", ".join(f"s.{c}" for c in SUMMARY_COLUMNS)
    sql = f"""
        WITH recent AS (
            SELECT r.run_id FROM runs r {cond}
            ORDER BY r.started_at DESC, r.run_id LIMIT {int(runs)}
        )
        SELECT r.run_id, r.kind, r.profile, r.label, r.started_at, r.trusted, s.position, {cols}
        FROM summaries s JOIN runs r USING (run_id) JOIN recent USING (run_id)
        ORDER BY r.started_at, r.run_id, s.position
    """
    frame = _frame(store, sql, params, SUMMARY_FRAME_COLUMNS)
    if not frame.empty:
        frame["trusted"] = frame["trusted"].astype(bool)
    return frame
