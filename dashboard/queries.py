"""The store joined to planning: stored runs judged, histories detected, ramps fitted.

Used alike by the app (through `dashboard.data`, which caches these), the reports and the
store-reading CLI commands (`pincex slo check --run`, `regress detect --store`,
`plan usl --from-runs`). No Streamlit here.

    store = open_store()                    # the default store (common.paths)
    judged = judged_run(store, "latest")    # planning.run_slo.JudgedRun
    found = detect(store, RunFilter(kind="orders"))
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path

import duckdb
import pandas as pd

from collectors.settings import open_run_store
from collectors.store import frames
from collectors.store.frames import RunFilter
from collectors.store.store import RunNotFound, RunStore, StoreError
from planning.ramp import LoadDefinition, Ramp, ramp_from_summaries
from planning.regress.report import analyse
from planning.regress.stored import Detected, histories_from_summaries
from planning.run_slo import JudgedRun, LatestVerdict, RunFacts, judge_run, latest_verdicts
from planning.slo import SloConfig, load_config
from planning.sources import SourceError

__all__ = [
    "StoreRunSource",
    "detect",
    "facts_of",
    "judged_latest",
    "judged_run",
    "latest_table_verdicts",
    "open_store",
    "ramp",
]


def open_store(path: str | Path | None = None) -> RunStore:
    """The run store at `path`, or the settings' default (`common.paths`' resolution)."""
    return open_run_store(path)


def facts_of(row: pd.Series) -> RunFacts:
    """RunFacts from a row of `frames.runs`."""
    started = row["started_at"]
    return RunFacts(
        kind=str(row["kind"]),
        config=dict(row["config"]),
        duration_s=float(row["duration_s"]),
        run_id=str(row["run_id"]),
        label=str(row["label"]),
        profile=str(row["profile"]),
        started_at=None if pd.isna(started) else pd.Timestamp(started).to_pydatetime(),
        trusted=bool(row["trusted"]),
        status=str(row["status"]),
    )


def judged_run(
    store: RunStore,
    ref: str,
    slos: SloConfig | None = None,
    *,
    profile: str | None = None,
    allow_unmeasured: bool = False,
) -> JudgedRun:
    """The run `ref` (an id, an id prefix, or `latest`) judged against the target tables, or
    against a load-test profile's expected results; its facts carry its warnings."""
    run_id = store.resolve(ref)
    row = frames.runs(store, RunFilter(run_ids=(run_id,))).iloc[0]
    facts = replace(facts_of(row), warnings=tuple(frames.warnings(store, run_id)))
    return judge_run(
        slos or load_config(),
        facts,
        frames.summaries(store, RunFilter(run_ids=(run_id,))),
        frames.series(store, run_id),
        profile=profile,
        allow_unmeasured=allow_unmeasured,
    )


def judged_latest(store: RunStore, slos: SloConfig | None = None) -> list[JudgedRun]:
    """The latest run of each (kind, profile), judged; newest first."""
    config = slos or load_config()
    latest = frames.latest_runs(store)
    if latest.empty:
        return []
    ids = tuple(str(r) for r in latest["run_id"])
    summaries = frames.summaries(store, RunFilter(run_ids=ids))
    out: list[JudgedRun] = []
    for _, row in latest.iterrows():
        run_id = str(row["run_id"])
        out.append(
            judge_run(
                config,
                facts_of(row),
                summaries[summaries["run_id"] == run_id],
                frames.series(store, run_id),
            )
        )
    return out


def latest_table_verdicts(store: RunStore, slos: SloConfig | None = None) -> list[LatestVerdict]:
    """Per target-table row, the newest verdict a stored run gave (or not measured, why)."""
    config = slos or load_config()
    judged = judged_latest(store, config)
    if not judged:
        return []
    return latest_verdicts(judged)


def detect(store: RunStore, where: RunFilter | None = None) -> Detected:
    """Histories of the matching runs (start order) and the detector's findings on each."""
    histories = histories_from_summaries(frames.summaries(store, where))
    reports = analyse([h.history for h in histories])
    return Detected(histories, reports)


def ramp(
    store: RunStore,
    where: RunFilter | None = None,
    load: LoadDefinition = "inflight",
    p99_target_ms: float | None = None,
) -> Ramp:
    """(load, throughput) points of the matching runs (default: orders runs) and the best rate
    whose p99 met `p99_target_ms` (default: the trading-engine table's p99 target)."""
    where = where or RunFilter(kind="orders")
    if p99_target_ms is None:
        slo = load_config().table_slo("order_processing_p99_ms")
        p99_target_ms = 25.0 if slo is None or slo.target is None else float(slo.target)
    listing = frames.runs(store, where)
    configs = {str(r): dict(c) for r, c in zip(listing["run_id"], listing["config"], strict=True)}
    return ramp_from_summaries(frames.summaries(store, where), configs, load, p99_target_ms)


class StoreRunSource:
    """What the planning CLI commands ask of the store (planning.sources.RunSource).

    A store that does not exist is an error (it is never created by reading), and the store's
    own failures come out as `SourceError`: a missing run is the caller's mistake (exit 2), a
    locked or unreadable store is not (exit 1).
    """

    def judged_run(
        self,
        store_path: Path | None,
        ref: str,
        *,
        slos: SloConfig | None = None,
        profile: str | None = None,
        allow_unmeasured: bool = False,
    ) -> JudgedRun:
        with _source_errors():
            store = _existing_store(store_path)
            return judged_run(store, ref, slos, profile=profile, allow_unmeasured=allow_unmeasured)

    def detected(
        self,
        store_path: Path | None,
        kind: str | None,
        label: str | None,
        profile: str | None,
    ) -> Detected:
        where = RunFilter(kind=kind, label=label, profile=profile)
        with _source_errors():
            return detect(_existing_store(store_path), where)

    def ramp(self, store_path: Path | None, label: str | None, load: LoadDefinition) -> Ramp:
        with _source_errors():
            store = _existing_store(store_path)
            return ramp(store, RunFilter(kind="orders", label=label), load)


def _existing_store(path: Path | None) -> RunStore:
    store = open_store(path)
    if not store.path.is_file():
        raise SourceError(f"no run store at {store.path}", 2)
    return store


@contextmanager
def _source_errors() -> Iterator[None]:
    try:
        yield
    except RunNotFound as exc:
        raise SourceError(str(exc), 2) from None
    except StoreError as exc:
        raise SourceError(str(exc), 1) from None
    except duckdb.Error as exc:
        raise SourceError(f"run store: {exc}", 1) from None
    except OSError as exc:
        raise SourceError(f"run store: {exc.strerror or exc}: {exc.filename or ''}", 1) from None
