"""(load, throughput) points from stored runs of a ramp, for the USL fit, and the highest rate
that met the p99 target, measured.

    ramp = ramp_from_summaries(summaries, load="inflight", p99_target_ms=25)
    fit = fit_usl(ramp.points)            # planning.usl
    ramp.best                             # the fastest run whose p99 met the target

A ramp is a set of open-model runs of one kind at increasing offered rates. Each run gives one
point: its throughput (orders/s: requests/s of its headline summary times the batch size) and
its load, either
- "inflight" (default): requests in flight by Little's law, N = X * R, X the throughput and R the
  mean service time (from the send; the due-time view when the run has no service view), or
- "connections": the run's configured connection count (a closed-model view; an open-model
  generator keeps this fixed, so it is only useful when the ramp varied it).
Runs that are not trusted still give points (they are marked), but never the "best" rate.

The steps of one stress load test are a ramp too (`ramp_from_steps`): each step is a point, its
load requests in flight by Little's law from its completed rate and mean latency (from the due
time: a step keeps no service view).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import pandas as pd

from planning.usl import Points

__all__ = ["LoadDefinition", "Ramp", "RampPoint", "ramp_from_steps", "ramp_from_summaries"]

LoadDefinition = Literal["inflight", "connections"]

_LOAD_WORDS = {
    "inflight": "requests in flight by Little's law (throughput x mean service time)",
    "connections": "the run's connection count",
}


@dataclass(frozen=True)
class RampPoint:
    """One run of the ramp."""

    run_id: str
    label: str
    offered_per_s: float
    throughput_per_s: float
    load: float
    p99_ms: float
    trusted: bool
    met_p99: bool


@dataclass(frozen=True)
class Ramp:
    """The ramp's points (load order), the USL input and the best measured rate."""

    points_by_run: tuple[RampPoint, ...]
    load_definition: LoadDefinition
    p99_target_ms: float
    skipped: tuple[str, ...]

    @property
    def load_words(self) -> str:
        """How load is defined, in words."""
        return _LOAD_WORDS[self.load_definition]

    @property
    def points(self) -> Points:
        """USL input: (load, throughput) of every run with both above zero."""
        usable = [p for p in self.points_by_run if p.load > 0 and p.throughput_per_s > 0]
        return Points(tuple(p.load for p in usable), tuple(p.throughput_per_s for p in usable))

    @property
    def best(self) -> RampPoint | None:
        """The trusted run with the highest throughput whose p99 met the target."""
        ok = [p for p in self.points_by_run if p.trusted and p.met_p99]
        return max(ok, key=lambda p: p.throughput_per_s, default=None)


def ramp_from_summaries(
    summaries: pd.DataFrame,
    configs: dict[str, dict[str, object]],
    load: LoadDefinition = "inflight",
    p99_target_ms: float = 25.0,
) -> Ramp:
    """A ramp from a summaries frame (run_id, label, trusted, name, count, throughput_per_s,
    latency_*, service_*) and each run's config (for its offered rate and connections)."""
    points: list[RampPoint] = []
    skipped: list[str] = []
    if not summaries.empty:
        heads = summaries.sort_values("count", ascending=False, kind="stable").drop_duplicates(
            "run_id"
        )
        for row in heads.itertuples(index=False):
            config = configs.get(str(row.run_id), {})
            requests_per_s = float(row.throughput_per_s)
            batch = max(int(config.get("batch_size") or 0), 1)  # type: ignore[call-overload]
            x = requests_per_s * batch
            mean = row.service_mean_ms
            mean_ms = float(row.latency_mean_ms) if pd.isna(mean) else float(mean)
            if load == "inflight":
                n = requests_per_s * mean_ms / 1000.0
            else:
                n = float(config.get("connections") or 0)  # type: ignore[arg-type]
            if x <= 0 or n <= 0:
                skipped.append(f"{row.run_id}: no throughput or no load to place it")
            p99 = float(row.latency_p99_ms)
            points.append(
                RampPoint(
                    run_id=str(row.run_id),
                    label=str(row.label),
                    offered_per_s=float(config.get("rate") or 0.0),  # type: ignore[arg-type]
                    throughput_per_s=x,
                    load=n,
                    p99_ms=p99,
                    trusted=bool(row.trusted),
                    met_p99=p99 < p99_target_ms,
                )
            )
    points.sort(key=lambda p: (p.load, p.throughput_per_s))
    return Ramp(tuple(points), load, p99_target_ms, tuple(skipped))


def _figure(value: object) -> float:
    """A number from a frame cell; 0.0 for a missing one (NaN, None)."""
    number = pd.to_numeric(value, errors="coerce")
    return 0.0 if pd.isna(number) else float(number)


def ramp_from_steps(
    steps: pd.DataFrame, run_id: str, trusted: bool, p99_target_ms: float = 25.0
) -> Ramp:
    """A ramp from the steps of one stress run: a frame with one row per step and columns
    name, rate_to (offered), completed_rps (else achieved_rate), mean_ms (else p50_ms) and
    p99_ms. Each step is labelled by its name; the run's trust is every step's."""
    points: list[RampPoint] = []
    skipped: list[str] = []
    for row in steps.to_dict("records"):
        x = _figure(row.get("completed_rps")) or _figure(row.get("achieved_rate"))
        mean_ms = _figure(row.get("mean_ms")) or _figure(row.get("p50_ms"))
        n = x * mean_ms / 1000.0
        name = str(row.get("name") or f"step {len(points) + 1}")
        if x <= 0 or n <= 0:
            skipped.append(f"{name}: no throughput or no latency to place it")
        p99 = _figure(row.get("p99_ms"))
        points.append(
            RampPoint(
                run_id=run_id,
                label=name,
                offered_per_s=_figure(row.get("rate_to")),
                throughput_per_s=x,
                load=n,
                p99_ms=p99,
                trusted=trusted,
                met_p99=0 < p99 < p99_target_ms,
            )
        )
    points.sort(key=lambda p: (p.load, p.throughput_per_s))
    return Ramp(tuple(points), "inflight", p99_target_ms, tuple(skipped))
