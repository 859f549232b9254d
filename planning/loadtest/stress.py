"""The stress test's goals as verdicts: maximum capacity, graceful degradation, error handling.

- maximum capacity: the highest step whose p95, p99 and error rate meet `capacity_profile`'s
  targets (baseline by default); observed "N req/s (step k of n)", N the step's 2xx answers
  per second; "not measured" with the steps' figures when no step met them;
- graceful degradation: every refusal (429 or 503) carried Retry-After, no request timed out
  (no answer within the definitions' `timeout`) and no other 5xx was answered;
- error handling: every request got an HTTP answer (no timeout, no failed connection).
"""

from __future__ import annotations

from planning.loadtest.measures import StageMeasure
from planning.loadtest.verdict import Judging, LoadVerdict, num, profile_slo
from planning.slo import Slo, SloConfig, satisfies

__all__ = [
    "capacity_step",
    "error_handling",
    "graceful_degradation",
    "max_capacity",
    "step_misses",
]

_CAPACITY_METRICS = (
    ("p95", "request_latency_p95_ms"),
    ("p99", "request_latency_p99_ms"),
    ("errors", "request_error_rate_percent"),
)


def _figure(step: StageMeasure, label: str) -> float | None:
    if label == "errors":
        return step.error_rate_pct if step.requests else None
    return step.p95_ms if label == "p95" else step.p99_ms


def step_misses(slos: SloConfig, profile: str, step: StageMeasure) -> list[str]:
    """What a step missed of `profile`'s latency and error targets ([] when it met them all);
    also what `pincex loadtest run` stops a stress run on."""
    out: list[str] = []
    for label, metric in _CAPACITY_METRICS:
        slo = profile_slo(slos, profile, metric)
        if slo is None or slo.comparator is None or slo.target is None:
            continue
        value = _figure(step, label)
        unit = " %" if label == "errors" else " ms"
        if value is None:
            out.append(f"no {label}")
        elif not satisfies(value, slo.comparator, slo.target):
            out.append(f"{label} {num(value)}{unit} (target {slo.comparator} {num(slo.target)})")
    return out


def capacity_step(j: Judging) -> int | None:
    """The index among the run's steps of the highest that met the capacity profile's targets."""
    steps = j.stages("step")
    met = [k for k, s in enumerate(steps) if not step_misses(j.slos, j.m.capacity_profile, s)]
    return met[-1] if met else None


def _targets(j: Judging, profile: str) -> list[str]:
    out = []
    for label, metric in _CAPACITY_METRICS:
        slo = j.profile_slo(profile, metric)
        if slo is not None:
            out.append(f"{label} {j.target_text(slo)}")
    return out


def max_capacity(j: Judging, slo: Slo) -> LoadVerdict:
    """The highest step that met the capacity profile's targets."""
    name, cp = "max capacity", j.m.capacity_profile
    targets = _targets(j, cp)
    target = f"highest step meeting {cp}'s {', '.join(targets) or 'targets'}"
    steps = j.stages("step")
    if not steps:
        return j.verdict(name, target, None, "not measured", "the run had no steps")
    if not targets:
        why = f"profile {cp} has no latency or error-rate target in slo.yaml to meet"
        return j.verdict(name, target, None, "not measured", why)
    misses = [step_misses(j.slos, cp, s) for s in steps]
    k = capacity_step(j)
    stopped = (
        f"; the run stopped early after {j.m.stopped_early_after}"
        if j.m.stopped_early_after
        else ""
    )
    if k is None:
        first = steps[0]
        why = (
            f"no step met them; the lowest, {first.name} at {num(first.planned_rate)} req/s, "
            f"missed {', '.join(misses[0])}{stopped}"
        )
        return j.verdict(name, target, None, "not measured", why)
    best = steps[k]
    observed = f"{num(best.completed_rps)} req/s (step {k + 1} of {len(steps)})"
    reason = (
        f"max capacity = the highest step meeting {cp}'s targets: {best.name} "
        f"({num(best.planned_rate)} req/s asked) served {num(best.completed_rps)} req/s, "
        f"p95 {num(best.p95_ms or 0)} ms, p99 {num(best.p99_ms or 0)} ms, errors "
        f"{num(best.error_rate_pct)} %"
    )
    if k + 1 < len(steps):
        above = steps[k + 1]
        reason += f"; {above.name} missed {', '.join(misses[k + 1])}"
    else:
        reason += "; the top step met them, so the capacity is at least this"
    return j.verdict(name, target, observed, "met", reason + stopped)


def _other_5xx(status_counts: dict[str, int]) -> str:
    codes = sorted(
        (code, n)
        for code, n in status_counts.items()
        if code.startswith("5") and code != "503" and n
    )
    return ", ".join(f"{n:,} × {code}" for code, n in codes)


def graceful_degradation(j: Judging, slo: Slo) -> LoadVerdict:
    """Refusals answered 429/503 with Retry-After, no timeouts, no other 5xx."""
    m, name = j.m, "graceful degradation"
    timeout = num(j.terms.timeout)
    target = f"refusals 429/503 with Retry-After; no timeout (> {timeout} s); no other 5xx"
    if m.requests == 0:
        return j.verdict(name, target, None, "not measured", "no request was sent")
    bare = m.refusals - m.refusals_with_retry_after
    problems: list[str] = []
    if bare > 0:
        problems.append(f"{bare:,} of {m.refusals:,} refusals without Retry-After")
    if m.timeouts:
        problems.append(f"{m.timeouts:,} requests timed out (no answer within {timeout} s)")
    if m.other_5xx:
        which = _other_5xx(m.status_counts)
        problems.append(f"{m.other_5xx:,} other 5xx answers" + (f" ({which})" if which else ""))
    observed = (
        f"{m.refusals:,} refusals ({m.refusals_with_retry_after:,} with Retry-After), "
        f"{m.timeouts:,} timeouts, {m.other_5xx:,} other 5xx"
    )
    if problems:
        return j.verdict(name, target, observed, "missed", "not graceful: " + "; ".join(problems))
    reason = (
        f"graceful = every refusal a 429 or 503 with Retry-After, no timeout, no other 5xx: "
        f"{m.refusals:,} refusals of {m.requests:,} requests, all with Retry-After"
    )
    return j.verdict(name, target, observed, "met", reason)


def error_handling(j: Judging, slo: Slo) -> LoadVerdict:
    """Every request got an HTTP answer (no timeout, no failed connection)."""
    m, name, target = j.m, "error handling", "every request answered over HTTP"
    if m.requests == 0:
        return j.verdict(name, target, None, "not measured", "no request was sent")
    unanswered = max(m.status_counts.get("0", 0), m.timeouts)
    observed = f"{unanswered:,} of {m.requests:,} unanswered"
    if unanswered:
        reason = (
            f"{unanswered:,} of {m.requests:,} requests got no HTTP answer ({m.timeouts:,} timed "
            f"out after {num(j.terms.timeout)} s, the rest failed to connect or were dropped)"
        )
        return j.verdict(name, target, observed, "missed", reason)
    statuses = ", ".join(f"{code}: {n:,}" for code, n in sorted(m.status_counts.items()) if n)
    reason = f"every one of the {m.requests:,} requests got an HTTP answer ({statuses or 'none'})"
    return j.verdict(name, target, observed, "met", reason)
