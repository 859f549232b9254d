"""A load test against the pinned baseline run of its profile: the figures that moved.

    now = RunFigures("r2", requests=6000, errors=0, throughput_per_s=100.0,
                     histograms={"latency": encoded, "service": encoded_service})
    comparison = compare_with_baseline(now, pinned)   # pinned: RunFigures or None
    comparison.moved                                  # differences whose interval excludes 0

The figures and their 95 % intervals are `planning.compare`'s (`differences`, `describe`), as
`pincex runs compare` and the dashboard give them; the histograms are the store's encoded
HdrHistograms (microseconds), read here into `Distribution`s bucket by bucket, each bucket at
its highest equivalent value as the stored percentiles read it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt
from hdrh.histogram import HdrHistogram

from planning.compare import Difference, Distribution, Side, describe, differences

__all__ = ["BaselineComparison", "RunFigures", "compare_with_baseline", "distribution"]


@dataclass(frozen=True)
class RunFigures:
    """One run as the comparison needs it: counts, rate and the encoded histograms per view
    ("latency": from the due time, "service": from the send), one or several per view (the
    endpoints' or scenarios' histograms, merged)."""

    run_id: str
    requests: int
    errors: int
    throughput_per_s: float
    histograms: Mapping[str, str | Sequence[str]] = field(default_factory=dict)


def _buckets(encoded: str) -> tuple[list[int], npt.NDArray[np.int64]]:
    histogram = HdrHistogram.decode(encoded.encode("ascii"))
    counts = np.ctypeslib.as_array(histogram.counts)
    filled = np.flatnonzero(counts)
    top = histogram.get_highest_equivalent_value
    return [top(histogram.get_value_from_index(int(i))) for i in filled], counts[filled]


def distribution(*encoded: str) -> Distribution:
    """Encoded HdrHistograms (V2, compressed, base64) as one set of (value µs, count) buckets:
    several (a run's endpoints or scenarios) merge exactly."""
    values: list[int] = []
    counts: list[npt.NDArray[np.int64]] = []
    for text in encoded:
        v, c = _buckets(text)
        values += v
        counts.append(c)
    return Distribution.of(values, np.concatenate(counts) if counts else [])


def _side(run: RunFigures) -> Side:
    views = {
        view: distribution(*([texts] if isinstance(texts, str) else texts))
        for view, texts in run.histograms.items()
    }
    return Side(run.requests, run.errors, run.throughput_per_s, views)


@dataclass(frozen=True)
class BaselineComparison:
    """This run against the pinned baseline: every difference, those that moved first."""

    baseline_run: str | None
    differences: tuple[Difference, ...] = ()
    note: str = ""

    @property
    def moved(self) -> tuple[Difference, ...]:
        return tuple(d for d in self.differences if d.matters)

    def lines(self) -> list[str]:
        if self.baseline_run is None:
            return [self.note]
        head = f"against the pinned baseline {self.baseline_run}:"
        if not self.moved:
            return [f"{head} nothing moved beyond its 95 % interval and 5 %"]
        return [head, *(f"  {d.verdict}: {describe(d)}" for d in self.moved)]

    def to_json(self) -> dict[str, object]:
        return {
            "baseline_run": self.baseline_run,
            "note": self.note,
            "moved": [_difference_json(d) for d in self.moved],
            "unchanged": [d.name for d in self.differences if not d.matters],
        }


def _difference_json(d: Difference) -> dict[str, object]:
    return {
        "figure": d.name,
        "unit": d.unit,
        "baseline": d.a,
        "this_run": d.b,
        "change": d.delta,
        "change_pct": d.delta_pct,
        "interval": list(d.interval),
        "interval_pct": list(d.interval_pct) if d.interval_pct is not None else None,
        "verdict": d.verdict,
        "text": describe(d),
    }


def compare_with_baseline(
    run: RunFigures, baseline: RunFigures | None, profile: str = ""
) -> BaselineComparison:
    """`run` against `baseline` (None: no baseline pinned for the profile, or it is this run)."""
    if baseline is None or baseline.run_id == run.run_id:
        why = (
            "this run is the pinned baseline"
            if baseline is not None
            else "none is pinned (`pincex runs pin ID`)"
        )
        note = f"no comparison with a baseline{f' of {profile}' if profile else ''}: {why}"
        return BaselineComparison(None, (), note)
    found = differences(_side(baseline), _side(run))
    return BaselineComparison(baseline.run_id, tuple(found))
