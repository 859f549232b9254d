"""A load test's shape in time: stages of linear rate, and every request's due time.

    schedule = schedule_for(profile)              # ramp / spike / steps, from config
    schedule.stages                               # (Stage("ramp-up", 0, 60, 0, 5000), ...)
    dues = schedule.due_times()                   # seconds from the start, one per request

Requests are due on a fixed schedule whatever the server does (the open model). Within a stage
the rate moves linearly from `rate_from` to `rate_to`; the k-th request (from 0) is due when the
cumulative count of the rate reaches k, so a ramp from 0 sends its first request at 0 s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from collectors.loadtest.config import Profile

__all__ = ["Schedule", "Stage", "constant_schedule", "schedule_for"]

StageKind = str  # "ramp-up" | "hold" | "ramp-down" | "base" | "spike" | "step"


@dataclass(frozen=True, slots=True)
class Stage:
    kind: StageKind
    start: float  # seconds from the start of the run
    end: float
    rate_from: float  # requests per second at `start`
    rate_to: float  # ... and at `end`
    index: int = 0  # the n-th stage of its kind (spikes and steps count from 1)

    @property
    def seconds(self) -> float:
        return self.end - self.start

    @property
    def planned(self) -> float:
        """Requests planned in the stage (the area under its rate)."""
        return (self.rate_from + self.rate_to) / 2 * self.seconds

    @property
    def name(self) -> str:
        return f"{self.kind} {self.index}" if self.kind in ("spike", "step") else self.kind

    def to_json(self) -> dict[str, object]:
        return {
            "name": self.name,
            "kind": self.kind,
            "start_s": round(self.start, 3),
            "end_s": round(self.end, 3),
            "rate_from": round(self.rate_from, 3),
            "rate_to": round(self.rate_to, 3),
            "planned_requests": int(self.planned),
        }


@dataclass(frozen=True, slots=True)
class Schedule:
    stages: tuple[Stage, ...]

    @property
    def duration(self) -> float:
        return self.stages[-1].end if self.stages else 0.0

    @property
    def peak_rate(self) -> float:
        return max((max(s.rate_from, s.rate_to) for s in self.stages), default=0.0)

    @property
    def planned(self) -> int:
        return len(self.due_times())

    def stage_at(self, t: float) -> Stage | None:
        for s in self.stages:
            if s.start <= t < s.end:
                return s
        return None

    def of_kind(self, *kinds: str) -> tuple[Stage, ...]:
        return tuple(s for s in self.stages if s.kind in kinds)

    def due_times(self) -> npt.NDArray[np.float64]:
        """Every request's due time (seconds from the start), ascending."""
        parts = []
        done = 0.0  # cumulative requests at the start of the stage
        for s in self.stages:
            area = s.planned
            # request k is due where the cumulative count reaches k: k in [done, done + area)
            first = math.ceil(done - 1e-9)
            ks = np.arange(first, done + area - 1e-9, dtype=np.float64)
            if len(ks):
                x = ks - done  # requests into the stage
                r0, slope = s.rate_from, (s.rate_to - s.rate_from) / s.seconds
                if abs(slope) < 1e-12:
                    t = x / r0
                else:  # r0 t + slope t^2 / 2 = x
                    t = (np.sqrt(np.maximum(r0 * r0 + 2 * slope * x, 0.0)) - r0) / slope
                parts.append(np.clip(s.start + t, s.start, s.end))
            done += area
        return np.concatenate(parts) if parts else np.empty(0)


def constant_schedule(rate: float, seconds: float, kind: StageKind = "hold") -> Schedule:
    return Schedule((Stage(kind, 0.0, seconds, rate, rate),))


def schedule_for(profile: Profile) -> Schedule:
    """The stages of a profile (already scaled when it should be)."""
    p = profile
    if p.pattern == "ramp":
        stages = []
        if p.ramp_up > 0:
            stages.append(Stage("ramp-up", 0.0, p.ramp_up, 0.0, p.rate))
        stages.append(Stage("hold", p.ramp_up, p.duration - p.ramp_down, p.rate, p.rate))
        if p.ramp_down > 0:
            stages.append(Stage("ramp-down", p.duration - p.ramp_down, p.duration, p.rate, 0.0))
        return Schedule(tuple(stages))
    if p.pattern == "steps":
        length = p.duration / p.steps
        return Schedule(
            tuple(
                Stage(
                    "step",
                    k * length,
                    (k + 1) * length,
                    p.rate * (k + 1) / p.steps,
                    p.rate * (k + 1) / p.steps,
                    k + 1,
                )
                for k in range(p.steps)
            )
        )
    # spike: base rate with a spike every `spike_every` from `spike_first_at`
    stages = []
    t, n = 0.0, 0
    start = p.spike_first_at
    while start + p.spike_duration <= p.duration + 1e-9:
        if start > t:
            stages.append(Stage("base", t, start, p.rate, p.rate, n))
        n += 1
        stages.append(
            Stage("spike", start, start + p.spike_duration, p.spike_rate, p.spike_rate, n)
        )
        t = start + p.spike_duration
        start += p.spike_every
    if t < p.duration:
        stages.append(Stage("base", t, p.duration, p.rate, p.rate, n))
    return Schedule(tuple(stages))
