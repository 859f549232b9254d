"""One load-test expectation judged (`LoadVerdict`), all of a run's (`LoadVerdicts`), and the
`Judging` context the judges share: the targets, the definitions, the measures and the scale.

    judging = Judging(slos, definitions, measures)
    judging.verdict("p95 latency", "< 10 ms", 7.2, "met", "p95 over the hold: 7.2 ms < 10 ms")
    # reason "scaled x0.1: p95 over the hold: ..." when the run was scaled

A scaled run (`--scale F`) multiplies every rate and every duration of its schedule by F, so the
judges scale what is a rate or a duration the same way: throughput targets, the recovery target,
the definitions' windows (`sustained_window`, `recovered_consecutive` seconds) and the queue
depth limit (a count of requests, which grows with the rate). Latency and error-rate targets are
not scaled. Every reason of a scaled run starts with "scaled x0.1: ".
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

from common.loadtest_terms import Definitions
from planning.loadtest.measures import LoadTestMeasures, StageMeasure
from planning.slo import Slo, SloConfig

__all__ = ["Judging", "LoadVerdict", "LoadVerdicts", "Observed", "VerdictStatus", "num"]

VerdictStatus = Literal["met", "missed", "not measured"]
Observed = str | float | int | None


@dataclass(frozen=True, slots=True)
class LoadVerdict:
    """One expected result: what was asked, what was seen, and the definition applied."""

    name: str
    target: str
    observed: Observed
    status: VerdictStatus
    reason: str

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "target": self.target,
            "observed": self.observed,
            "status": self.status,
            "reason": self.reason,
        }


@dataclass(frozen=True, slots=True)
class LoadVerdicts:
    """Every verdict of one run; `passed` when none missed (the caller ANDs it with trust)."""

    profile: str
    scale: float
    verdicts: tuple[LoadVerdict, ...]

    @property
    def passed(self) -> bool:
        return not self.missed

    @property
    def missed(self) -> tuple[LoadVerdict, ...]:
        return tuple(v for v in self.verdicts if v.status == "missed")

    def named(self, name: str) -> LoadVerdict | None:
        return next((v for v in self.verdicts if v.name == name), None)

    def to_json(self) -> list[dict[str, object]]:
        return [v.to_json() for v in self.verdicts]


def num(value: float) -> str:
    """A figure as people read it: 7.25, 0.05, 1,500, 12.3."""
    if not math.isfinite(value):
        return str(value)
    if abs(value) >= 100:
        return f"{value:,.0f}"
    if float(value).is_integer():
        return str(int(value))
    return f"{value:.3g}"


_UNITS = {"ms": " ms", "%": " %", "s": " s", "req/s": " req/s", "count": ""}


def profile_slo(slos: SloConfig, profile: str, metric: str) -> Slo | None:
    """The numeric target on `metric` in `profile` (None when it has none, or no profile)."""
    if profile not in slos.profiles:
        return None
    slo = next((s for s in slos.profiles[profile].slos if s.metric == metric), None)
    return slo if slo is not None and not slo.informational else None


@dataclass(frozen=True)
class Judging:
    """What every judge needs: targets, definitions, measures; scaling and wording helpers."""

    slos: SloConfig
    terms: Definitions
    m: LoadTestMeasures

    @property
    def scaled(self) -> bool:
        return self.m.rates_x != 1.0 or self.m.times_x != 1.0

    @property
    def scale_words(self) -> str:
        """'scaled x0.1' or, when rates and durations were scaled apart,
        'scaled (rates x0.1, durations x0.05)'."""
        r, t = self.m.rates_x, self.m.times_x
        return f"scaled x{r:g}" if r == t else f"scaled (rates x{r:g}, durations x{t:g})"

    def verdict(
        self, name: str, target: str, observed: Observed, status: VerdictStatus, reason: str
    ) -> LoadVerdict:
        """A verdict whose reason says the run was scaled, when it was."""
        if self.scaled:
            reason = f"{self.scale_words}: {reason}"
        return LoadVerdict(name, target, observed, status, reason)

    def seconds(self, unscaled: float) -> float:
        """A duration of the definitions or targets, scaled like the run's schedule."""
        return unscaled * self.m.times_x

    def windows(self, unscaled_seconds: float) -> int:
        """How many of the series' windows make `unscaled_seconds` once scaled (at least 1)."""
        return max(1, round(self.seconds(unscaled_seconds) / self.m.series.window_s))

    def target_text(self, slo: Slo, scale_rate: bool = False) -> str:
        """'< 10 ms'; a rate target scaled with the run when `scale_rate`."""
        assert slo.comparator is not None and slo.target is not None
        value = slo.target * self.m.rates_x if scale_rate else slo.target
        return f"{slo.comparator} {num(value)}{_UNITS.get(slo.unit or '', ' ' + (slo.unit or ''))}"

    def profile_slo(self, profile: str, metric: str) -> Slo | None:
        """The numeric target on `metric` in `profile` (None when it has none, or no profile)."""
        return profile_slo(self.slos, profile, metric)

    def stages(self, kind: str) -> tuple[StageMeasure, ...]:
        return tuple(s for s in self.m.stages if s.kind == kind)

    def hold(self) -> StageMeasure | None:
        return next(iter(self.stages("hold")), None)

    @property
    def end(self) -> float:
        """The end of the run: its last stage's end (else the series' end)."""
        if self.m.stages:
            return max(s.end for s in self.m.stages)
        series = self.m.series
        return series.start[-1] + series.window_s if series.start else 0.0

    def window_indices(self, start: float, end: float) -> list[int]:
        """The windows lying wholly within [start, end]."""
        series, eps = self.m.series, 1e-9
        return [
            i
            for i, s in enumerate(series.start)
            if s >= start - eps and s + series.window_s <= end + eps
        ]
