"""Where a load test's limit lies, from the figures measured, and nothing they do not show.

    found = locate(Judging(slos, definitions, measures), verdicts,
                   {"trading_engine_cpu_percent": 41.0})
    found.diagnosis.findings   # planning.diagnose's rules over the server figures
    found.knee                 # our rule: the client saw the knee while the CPU had room

Two sources:
- `planning.diagnose.examine` over the server figures the caller passes (metric -> value, named
  as in slo.yaml), with the client's error rate added as `request_error_rate_percent`;
- the knee rule: when the client saw latency give way (a stress step missed the capacity
  profile's targets above one that met them, or the hold missed its p95/p99 target) while the
  trading engine's CPU was under its target, the limit is not the CPU: the requests wait in a
  queue, and the figures that show which queue are named (the server's queue depth, the
  database's query and lock-wait times) when they were measured.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from planning.diagnose import Diagnosis, examine
from planning.loadtest.stress import step_misses
from planning.loadtest.verdict import Judging, LoadVerdicts, num
from planning.slo import satisfies

__all__ = ["Bottleneck", "Knee", "locate"]

_CPU = "trading_engine_cpu_percent"
_QUEUE_FIGURES = (
    ("database_query_p95_ms", "database query p95", "ms"),
    ("database_lock_wait_avg_ms", "database lock wait", "ms"),
    ("database_pool_utilization_percent", "connection pool use", "%"),
)


@dataclass(frozen=True)
class Knee:
    """The client saw the knee while the CPU had room: a queueing limit, not a CPU one."""

    seen: str  # what the client saw
    cpu: str  # the CPU figure against its target
    evidence: tuple[str, ...]  # the queue figures that were measured
    investigation: str
    resolution: str

    def to_json(self) -> dict[str, object]:
        return {
            "seen": self.seen,
            "cpu": self.cpu,
            "evidence": list(self.evidence),
            "investigation": self.investigation,
            "resolution": self.resolution,
        }


@dataclass(frozen=True)
class Bottleneck:
    diagnosis: Diagnosis
    knee: Knee | None
    notes: tuple[str, ...]  # what could not be said, and why

    def lines(self) -> list[str]:
        out = [
            f"{f.issue}: {f.symptom} (investigate: {f.investigation})"
            for f in self.diagnosis.findings
        ]
        if self.knee is not None:
            k = self.knee
            evidence = f"; {', '.join(k.evidence)}" if k.evidence else ""
            out.append(f"queueing, not CPU: {k.seen} while {k.cpu}{evidence}")
            out.append(f"  investigate: {k.investigation}")
        if not out:
            out.append("no diagnosis rule fired on the figures measured")
        return out + list(self.notes)

    def to_json(self) -> dict[str, object]:
        return {
            "findings": [f.as_dict() for f in self.diagnosis.findings],
            "knee": self.knee.to_json() if self.knee is not None else None,
            "checked": [c.rule for c in self.diagnosis.checked],
            "notes": list(self.notes),
        }


def _knee_seen(j: Judging, verdicts: LoadVerdicts) -> str | None:
    steps = j.stages("step")
    if steps:
        misses = [step_misses(j.slos, j.m.capacity_profile, s) for s in steps]
        for k in range(1, len(steps)):
            if misses[k] and not misses[k - 1]:
                below, at = steps[k - 1], steps[k]
                return (
                    f"p99 went from {num(below.p99_ms or 0)} ms at {num(below.planned_rate)} "
                    f"req/s to {num(at.p99_ms or 0)} ms at {num(at.planned_rate)} req/s"
                )
        return None
    for name in ("p95 latency", "p99 latency"):
        v = verdicts.named(name)
        if v is not None and v.status == "missed" and isinstance(v.observed, int | float):
            return f"{name} {num(v.observed)} ms missed {v.target} at {num(j.m.rate)} req/s"
    return None


def _knee(
    j: Judging, verdicts: LoadVerdicts, figures: Mapping[str, float | None]
) -> tuple[Knee | None, list[str]]:
    seen = _knee_seen(j, verdicts)
    if seen is None:
        return None, []
    cpu = figures.get(_CPU)
    slo = j.slos.table_slo(_CPU)
    if cpu is None or slo is None or slo.comparator is None or slo.target is None:
        return None, [
            f"the client saw the knee ({seen}); the server's CPU was not measured, so "
            "the figures cannot tell a CPU limit from a queueing one"
        ]
    if not satisfies(cpu, slo.comparator, slo.target):
        return None, []  # the CPU rule of the diagnosis has fired: that is the limit shown
    evidence = [
        f"{label} {num(v)} {unit}"
        for key, label, unit in _QUEUE_FIGURES
        if (v := figures.get(key)) is not None
    ]
    if j.m.queue_depth:
        peak = max(depth for _, depth in j.m.queue_depth)
        evidence.insert(0, f"server queue depth peaked at {num(peak)}")
    return (
        Knee(
            seen=seen,
            cpu=f"trading engine CPU {num(cpu)} % {j.target_text(slo)}",
            evidence=tuple(evidence),
            investigation="Look at queueing: the writer queue (pincex_pending_writes) and the "
            "database commit time (pincex_database_commit_duration_seconds) as the rate rises",
            resolution="Shorten or batch the commits, give the writer more throughput, or take "
            "the writes off the request path; then run stress again",
        ),
        [],
    )


def locate(j: Judging, verdicts: LoadVerdicts, server: Mapping[str, float | None]) -> Bottleneck:
    """The diagnosis rules over `server` (+ the client's error rate) and the knee rule.

    Raises SloError for a figure slo.yaml does not name, as `planning.diagnose.examine` does.
    """
    m, slos = j.m, j.slos
    figures: dict[str, float | None] = {"request_error_rate_percent": m.error_rate_pct}
    figures.update(server)
    profile = m.profile if m.profile in slos.profiles else "baseline"
    diagnosis = examine(figures, slos, profile)
    knee, notes = _knee(j, verdicts, figures)
    if not server:
        notes.append("no server figures were given: only the client's side was diagnosed")
    return Bottleneck(diagnosis, knee, tuple(notes))
