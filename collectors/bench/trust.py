"""When a run's figures cannot be trusted, and why, in words."""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "ERROR_RATE_LIMIT",
    "SCHEDULE_LAG_LIMIT_MS",
    "TrustInputs",
    "error_limit_passed",
    "error_rate_passed",
    "trust_reasons",
]

# Past this p99 delay between a request's due time and its release, the latency from the due
# time carries the generator's own delay: a quiet generator releases on time to well under a
# millisecond; on a busy machine the operating system wakes it late (measured: a 2 ms
# `time.sleep` overshot by 1.5-9 ms at p99 on a loaded two-core host).
SCHEDULE_LAG_LIMIT_MS = 5.0
ERROR_RATE_LIMIT = 0.01  # past this share of errors the figures describe failures


@dataclass(frozen=True, slots=True)
class TrustInputs:
    generator_cpu_pct: float  # the load generator's CPU over the run, % of one core
    target_rate: float  # requests per second asked for
    achieved_rate: float  # requests per second sent
    samples: int  # latency samples behind the percentiles
    error_rate: float  # 0..1
    highest_claimed: float | None = 99.9  # the highest percentile the run reports; None: none
    schedule_lag_p99_ms: float = 0.0  # how late the generator itself released requests (p99)
    schedule_lag_max_ms: float = 0.0  # ... and the latest of them


def trust_reasons(t: TrustInputs) -> list[str]:
    """Reasons the run is not to be trusted; empty when it is."""
    reasons = []
    if t.generator_cpu_pct > 90:
        reasons.append(
            f"the load generator itself was the limit: its CPU was {t.generator_cpu_pct:.0f}% "
            "of a core (over 90%)"
        )
    if t.target_rate > 0 and t.achieved_rate < 0.95 * t.target_rate:
        reasons.append(
            f"the achieved rate {t.achieved_rate:.1f}/s is below 95% of the target "
            f"{t.target_rate:.1f}/s"
        )
    if t.highest_claimed is None:
        pass
    elif t.samples < 1_000 and t.highest_claimed >= 99:
        reasons.append(f"only {t.samples} samples: too few for a p99 (needs 1,000)")
    elif t.samples < 10_000 and t.highest_claimed >= 99.9:
        reasons.append(f"only {t.samples} samples: too few for a p99.9 (needs 10,000)")
    if t.schedule_lag_p99_ms > SCHEDULE_LAG_LIMIT_MS:
        reasons.append(
            f"the load generator fell behind its own schedule: 1% of requests were released "
            f"over {t.schedule_lag_p99_ms:.0f} ms late (limit {SCHEDULE_LAG_LIMIT_MS:.0f} ms; "
            f"the latest {t.schedule_lag_max_ms:.0f} ms) while it used "
            f"{t.generator_cpu_pct:.0f}% of a core, so the latency from due time includes "
            "its own delay"
        )
    if error_limit_passed(t):
        reasons.append(f"the target answered {t.error_rate:.1%} of requests with errors (over 1%)")
    return reasons


def error_limit_passed(t: TrustInputs) -> bool:
    """The target answered too many requests with errors for the figures to mean much (the
    commands then exit non-zero)."""
    return error_rate_passed(t.error_rate)


def error_rate_passed(error_rate: float) -> bool:
    """A share of errors (0..1) past the trust limit."""
    return error_rate > ERROR_RATE_LIMIT
