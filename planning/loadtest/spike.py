"""The spike test's expectations as verdicts: recovery after each spike, queue depth.

- recovered: the first window after a spike's end that starts `recovered_consecutive` seconds
  (scaled, in whole windows) of windows in a row, each with p99 under the
  `recovered_p99_profile`'s p99 target and its error rate under that profile's error target,
  all before the next spike starts (or the run ends). The recovery time is that window's start
  minus the spike's end; the worst spike counts. A spike with no such stretch before the next
  one is "not recovered within X s", X the time it had. The target (30 s) scales with the run.
  Only whole windows after the spike's end count, so recovery is known to one window.
- queue depth manageable: the server's queue (pending writes + requests in flight) peaks under
  `queue_depth_limit` and is back under 10 % of it at the end of every spike's recovery window
  (the spike's end plus the recovery target, at most the next spike's start), read at the last
  sample taken by then. The limit is a count of requests: it scales with the run's rates.
"""

from __future__ import annotations

from planning.loadtest.measures import StageMeasure
from planning.loadtest.verdict import Judging, LoadVerdict, num
from planning.slo import Slo, satisfies

__all__ = ["queue_depth", "recovered_at", "recovery"]

_DRAINED_FRACTION = 0.10


def _spans(j: Judging) -> list[tuple[StageMeasure, float]]:
    """Each spike with the time its recovery must happen by (the next spike, or the end)."""
    spikes = j.stages("spike")
    ends = [s.start for s in spikes[1:]] + [j.end]
    return list(zip(spikes, ends, strict=True))


def _good(j: Judging, i: int, p99: Slo, errors: Slo | None) -> bool:
    series = j.m.series
    value = series.p99_ms[i]
    if value is None or p99.comparator is None or p99.target is None:
        return False
    if not satisfies(value, p99.comparator, p99.target):
        return False
    if errors is None or errors.comparator is None or errors.target is None:
        return True
    requests = series.requests[i]
    rate = series.errors[i] / requests * 100 if requests else 0.0
    return satisfies(rate, errors.comparator, errors.target)


def recovered_at(
    j: Judging, after: float, until: float, p99: Slo, errors: Slo | None
) -> float | None:
    """The start of the first stretch of good windows in [after, until], or None."""
    needed = j.windows(j.terms.recovered_consecutive)
    idx = j.window_indices(after, until)
    run = 0
    for pos, i in enumerate(idx):
        contiguous = pos > 0 and idx[pos - 1] == i - 1
        run = (run + 1 if contiguous else 1) if _good(j, i, p99, errors) else 0
        if run == needed:
            return j.m.series.start[idx[pos - needed + 1]]
    return None


def recovery(j: Judging, slo: Slo) -> LoadVerdict:
    """Recovery within the (scaled) target after every spike; the worst spike counts."""
    assert slo.comparator is not None and slo.target is not None
    limit = j.seconds(slo.target)
    name, target = "recovery", f"{slo.comparator} {num(limit)} s after each spike"
    spans = _spans(j)
    if not spans:
        return j.verdict(name, target, None, "not measured", "the run had no spike")
    rp = j.terms.recovered_p99_profile
    p99, errors = (
        j.profile_slo(rp, "request_latency_p99_ms"),
        j.profile_slo(rp, "request_error_rate_percent"),
    )
    if p99 is None or p99.target is None:
        why = f"profile {rp} has no p99 target to recover to"
        return j.verdict(name, target, None, "not measured", why)
    needed = j.windows(j.terms.recovered_consecutive)
    stretch = num(needed * j.m.series.window_s)
    errors_text = f" and errors {j.target_text(errors)}" if errors is not None else ""
    definition = (
        f"recovered = {needed} windows ({stretch} s) in a row with p99 {j.target_text(p99)}"
        f"{errors_text} ({rp}'s targets)"
    )
    times: list[tuple[str, float]] = []
    lost: list[tuple[str, float]] = []
    for spike, until in spans:
        at = recovered_at(j, spike.end, until, p99, errors)
        if at is None:
            lost.append((spike.name, until - spike.end))
        else:
            times.append((spike.name, at - spike.end))
    each = ", ".join(f"{n} {num(t)} s" for n, t in times)
    if lost:
        worst_name, had = lost[0]
        observed = f"not recovered within {num(had)} s ({worst_name})"
        unrecovered = ", ".join(f"{n} within {num(t)} s" for n, t in lost)
        reason = f"{definition}; not recovered: {unrecovered}" + (
            f"; recovered: {each}" if each else ""
        )
        return j.verdict(name, target, observed, "missed", reason)
    worst_name, worst = max(times, key=lambda nt: nt[1])
    met = satisfies(worst, slo.comparator, limit)
    reason = (
        f"{definition}; worst {worst_name}: {num(worst)} s after its end "
        f"{'meets' if met else 'misses'} {target} (each: {each})"
    )
    return j.verdict(name, target, round(worst, 3), "met" if met else "missed", reason)


def queue_depth(j: Judging, slo: Slo) -> LoadVerdict:
    """The server's queue peaks under the (scaled) limit and drains after every spike."""
    limit = j.terms.queue_depth_limit * j.m.rates_x
    drained = limit * _DRAINED_FRACTION
    name = "queue depth"
    target = f"peak < {num(limit)}; < {num(drained)} by each recovery window's end"
    samples = j.m.queue_depth
    if not samples:
        why = "the server's queue depth was not read (it is read from the exchange's /metrics)"
        return j.verdict(name, target, None, "not measured", why)
    peak = max(depth for _, depth in samples)
    recovery_slo = j.profile_slo(j.m.profile, "recovery_time_seconds")
    window = j.seconds(recovery_slo.target) if recovery_slo and recovery_slo.target else None
    problems: list[str] = []
    unread: list[str] = []
    if peak >= limit:
        problems.append(f"peaked at {num(peak)}")
    for spike, until in _spans(j):
        by = until if window is None else min(spike.end + window, until)
        seen = [(t, d) for t, d in samples if spike.end <= t <= by]
        if not seen:
            unread.append(spike.name)
        elif seen[-1][1] >= drained:
            problems.append(f"{num(seen[-1][1])} at {num(by - spike.end)} s after {spike.name}")
    definition = (
        f"manageable = the queue (pending writes + requests in flight) peaks under {num(limit)} "
        f"and is under {num(drained)} (10 %) by the end of each spike's recovery window"
    )
    if problems:
        reason = f"{definition}: {'; '.join(problems)}"
        return j.verdict(name, target, round(peak, 1), "missed", reason)
    if unread:
        reason = f"{definition}: no sample after {', '.join(unread)}"
        return j.verdict(name, target, round(peak, 1), "not measured", reason)
    return j.verdict(name, target, round(peak, 1), "met", f"{definition}: peak {num(peak)}")
