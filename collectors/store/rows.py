"""Runs to table rows and back (batched inserts through DuckDB `unnest` of lists; series, the
bulk of a long run, in Arrow chunks of `SERIES_CHUNK` points)."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from datetime import UTC, datetime
from typing import Any, TypeVar

import orjson

from collectors.store.model import Histogram, LatencyFigures, Point, Run, Summary

__all__ = [
    "SERIES_CHUNK",
    "SUMMARY_COLUMNS",
    "build_frozen",
    "insert_runs",
    "read_run",
    "summary_from_row",
]

T = TypeVar("T")

SERIES_CHUNK = 100_000  # series rows per insert: ~10 MB of columns at a time
_SERIES_COLUMNS = ("run_id", "position", "side", "name", "second", "value")

_FIGURES = ("mean_ms", "p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms")
SUMMARY_COLUMNS: tuple[str, ...] = (
    "name",
    "count",
    "errors",
    "throughput_per_s",
    *(f"latency_{f}" for f in _FIGURES),
    *(f"service_{f}" for f in _FIGURES),
)
_RUN_COLUMNS = (
    "run_id",
    "kind",
    "profile",
    "target",
    "label",
    "started_at",
    "ended_at",
    "status",
    "config",
    "host",
    "tags",
    "trusted",
    "summary_count",
    "series_count",
    "histogram_count",
    "warning_count",
    "stored_at",
    "notes",
)


def _naive_utc(value: datetime) -> datetime:
    if value.tzinfo is None:
        return value
    return value.astimezone(UTC).replace(tzinfo=None)


def _json(value: Any) -> str:
    return orjson.dumps(value).decode()


def _insert_columns(con: Any, table: str, columns: Sequence[str], data: list[list[Any]]) -> None:
    """INSERT one row per list position: `SELECT unnest(?), unnest(?), ...` zips the lists."""
    if not data or not data[0]:
        return
    casts = ", ".join(f"unnest(?::{kind}[])" for kind in _types(columns))
    con.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {casts}", data)


_TYPES = {
    "run_id": "VARCHAR",
    "name": "VARCHAR",
    "side": "VARCHAR",
    "view": "VARCHAR",
    "encoded": "VARCHAR",
    "message": "VARCHAR",
    "position": "INTEGER",
    "count": "BIGINT",
    "errors": "BIGINT",
    "kind": "VARCHAR",
    "profile": "VARCHAR",
    "target": "VARCHAR",
    "label": "VARCHAR",
    "status": "VARCHAR",
    "config": "VARCHAR",
    "host": "VARCHAR",
    "tags": "VARCHAR",
    "notes": "VARCHAR",
    "started_at": "TIMESTAMP",
    "ended_at": "TIMESTAMP",
    "stored_at": "TIMESTAMP",
    "trusted": "BOOLEAN",
    "summary_count": "INTEGER",
    "series_count": "INTEGER",
    "histogram_count": "INTEGER",
    "warning_count": "INTEGER",
}


def _types(columns: Sequence[str]) -> list[str]:
    return [_TYPES.get(c, "DOUBLE") for c in columns]


def insert_runs(con: Any, runs: Sequence[Run]) -> None:
    """Insert the runs' rows; the caller owns the transaction."""
    stored_at = datetime.now(UTC).replace(tzinfo=None)
    run_rows = [
        (
            run.id,
            run.kind,
            run.profile,
            run.target,
            run.label,
            _naive_utc(run.started_at),
            _naive_utc(run.ended_at),
            run.status,
            _json(run.config),
            _json(run.host),
            _json(run.tags),
            run.trusted,
            len(run.summaries),
            len(run.series),
            len(run.histograms),
            len(run.warnings),
            stored_at,
            run.notes,
        )
        for run in runs
    ]
    run_cols: list[list[Any]] = [list(col) for col in zip(*run_rows, strict=True)]
    _insert_columns(con, "runs", _RUN_COLUMNS, run_cols)

    summary_cols: list[list[Any]] = [[] for _ in range(2 + len(SUMMARY_COLUMNS))]
    hist_cols: list[list[Any]] = [[] for _ in range(5)]
    warn_cols: list[list[Any]] = [[] for _ in range(3)]
    for run in runs:
        for pos, s in enumerate(run.summaries):
            values = [run.id, pos, *_summary_values(s)]
            for col, value in zip(summary_cols, values, strict=True):
                col.append(value)
        for pos, h in enumerate(run.histograms):
            for col, value in zip(hist_cols, (run.id, pos, h.name, h.view, h.encoded), strict=True):
                col.append(value)
        for pos, message in enumerate(run.warnings):
            for col, value in zip(warn_cols, (run.id, pos, message), strict=True):
                col.append(value)
    _insert_columns(con, "summaries", ("run_id", "position", *SUMMARY_COLUMNS), summary_cols)
    _insert_series(con, runs)
    _insert_columns(con, "histograms", ("run_id", "position", "name", "view", "encoded"), hist_cols)
    _insert_columns(con, "warnings", ("run_id", "position", "message"), warn_cols)


def _insert_series(con: Any, runs: Sequence[Run]) -> None:
    """The runs' series points, `SERIES_CHUNK` rows per insert (across runs)."""
    pieces: list[tuple[str, int, Sequence[Point]]] = []
    held = 0
    for run in runs:
        start = 0
        while start < len(run.series):
            piece = run.series[start : start + SERIES_CHUNK - held]
            pieces.append((run.id, start, piece))
            held += len(piece)
            start += len(piece)
            if held >= SERIES_CHUNK:
                _insert_series_chunk(con, _series_columns(pieces))
                pieces, held = [], 0
    if pieces:
        _insert_series_chunk(con, _series_columns(pieces))


def _series_columns(pieces: list[tuple[str, int, Sequence[Point]]]) -> dict[str, list[Any]]:
    columns: dict[str, list[Any]] = {name: [] for name in _SERIES_COLUMNS}
    for run_id, start, points in pieces:
        columns["run_id"].extend([run_id] * len(points))
        columns["position"].extend(range(start, start + len(points)))
        columns["side"].extend([p.side for p in points])
        columns["name"].extend([p.series for p in points])
        columns["second"].extend([p.second for p in points])
        columns["value"].extend([p.value for p in points])
    return columns


def _insert_series_chunk(con: Any, columns: dict[str, list[Any]]) -> None:
    """One INSERT of series rows from Arrow columns (a fifth of the time of `unnest` lists)."""
    import pyarrow as pa  # here: only writers of series pay for its import

    table = pa.table(
        {
            "run_id": pa.array(columns["run_id"], pa.string()),
            "position": pa.array(columns["position"], pa.int32()),
            "side": pa.array(columns["side"], pa.string()),
            "name": pa.array(columns["name"], pa.string()),
            "second": pa.array(columns["second"], pa.float64()),
            "value": pa.array(columns["value"], pa.float64()),
        }
    )
    con.register("_series_chunk", table)
    try:
        names = ", ".join(_SERIES_COLUMNS)
        con.execute(f"INSERT INTO series ({names}) SELECT {names} FROM _series_chunk")
    finally:
        con.unregister("_series_chunk")


def _summary_values(s: Summary) -> list[Any]:
    lat = [getattr(s.latency, f) for f in _FIGURES]
    svc = [None] * len(_FIGURES) if s.service is None else [getattr(s.service, f) for f in _FIGURES]
    return [s.name, s.count, s.errors, s.throughput_per_s, *lat, *svc]


_FIGURE_NAMES = tuple(f.name for f in dataclasses.fields(LatencyFigures))
_SUMMARY_NAMES = tuple(f.name for f in dataclasses.fields(Summary))


def build_frozen(cls: type[T], names: Sequence[str], values: Iterable[Any]) -> T:
    """A frozen dataclass from trusted values (store rows), without the per-field
    `object.__setattr__` of its `__init__`: listings build tens of thousands of these."""
    obj = object.__new__(cls)
    obj.__dict__.update(zip(names, values, strict=True))
    return obj


def summary_from_row(row: Sequence[Any]) -> Summary:
    """A Summary from the SUMMARY_COLUMNS of a row."""
    service = row[11:18]
    return build_frozen(
        Summary,
        _SUMMARY_NAMES,
        (
            row[0],
            row[1],
            row[2],
            row[3],
            build_frozen(LatencyFigures, _FIGURE_NAMES, row[4:11]),
            None if service[0] is None else build_frozen(LatencyFigures, _FIGURE_NAMES, service),
        ),
    )


def read_run(con: Any, run_id: str) -> Run | None:
    """The whole run from an open connection, or None."""
    row = con.execute(
        "SELECT kind, profile, target, label, started_at, ended_at, status, config, host, "
        "tags, trusted, notes FROM runs WHERE run_id = ?",
        [run_id],
    ).fetchone()
    if row is None:
        return None
    summaries = con.execute(
        f"SELECT {', '.join(SUMMARY_COLUMNS)} FROM summaries WHERE run_id = ? ORDER BY position",
        [run_id],
    ).fetchall()
    series = con.execute(
        "SELECT side, name, second, value FROM series WHERE run_id = ? ORDER BY position",
        [run_id],
    ).fetchall()
    hists = con.execute(
        "SELECT name, view, encoded FROM histograms WHERE run_id = ? ORDER BY position",
        [run_id],
    ).fetchall()
    warnings = con.execute(
        "SELECT message FROM warnings WHERE run_id = ? ORDER BY position", [run_id]
    ).fetchall()
    return Run(
        id=run_id,
        kind=row[0],
        profile=row[1],
        target=row[2],
        label=row[3],
        started_at=row[4].replace(tzinfo=UTC),
        ended_at=row[5].replace(tzinfo=UTC),
        status=row[6],
        config=orjson.loads(row[7]),
        host=orjson.loads(row[8]),
        tags=orjson.loads(row[9]),
        trusted=bool(row[10]),
        notes=row[11],
        summaries=[summary_from_row(s) for s in summaries],
        series=[Point(side, name, float(sec), float(val)) for side, name, sec, val in series],
        histograms=[Histogram(name, view, encoded) for name, view, encoded in hists],
        warnings=[w[0] for w in warnings],
    )
