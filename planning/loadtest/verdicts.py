"""A load test judged: the profile's expected results in `config/slo.yaml` as verdicts.

    verdicts = judge(load_config(), definitions, measures)
    verdicts.passed                   # no verdict missed (the caller ANDs it with trust)
    verdicts.to_json()                # [{"name", "target", "observed", "status", "reason"}, ...]

Each entry of the run's profile in slo.yaml becomes one verdict; the vague words are judged by
the definitions of `config/loadtest.yaml` (`Definitions`), and each reason quotes the one it
applied, with the figures:
- latency (p95, p99) and error rate: over the hold stage (the profile's rate), else the run;
- "Throughput > N RPS sustained" (N scaled with the run): the hold's 2xx answers reach N per
  second, less one window's worth over the hold (answers to requests due at its end arrive
  after it, and an open-model generator offering N cannot complete more), and no
  `sustained_window` of the hold averages under `sustained_floor_pct` % of N;
- "System remains stable": the median per-window p99 of the hold's last third within
  `stable_within_pct` % of its first third's, and no upward trend in the per-window p99 over the
  hold (one-sided Mann-Kendall at `trend_alpha`, `planning.loadtest.trend`);
- the stress and spike expectations: `planning.loadtest.stress`, `planning.loadtest.spike`;
- data corruption (every profile, whenever the invariants were checked or a crossed book was
  seen): every invariant held and no orderbook answer showed best bid >= best ask.
A profile missing from slo.yaml is judged on correctness only. Scaling: `Judging`.
"""

from __future__ import annotations

import statistics
from collections.abc import Callable

from common.loadtest_terms import Definitions
from planning.loadtest.measures import LoadTestMeasures, StageMeasure
from planning.loadtest.spike import queue_depth, recovery
from planning.loadtest.stress import error_handling, graceful_degradation, max_capacity
from planning.loadtest.trend import MIN_POINTS, mann_kendall
from planning.loadtest.verdict import Judging, LoadVerdict, LoadVerdicts, num
from planning.slo import Slo, SloConfig, satisfies

__all__ = ["judge"]

Judge = Callable[[Judging, Slo], LoadVerdict]


def judge(slos: SloConfig, definitions: Definitions, m: LoadTestMeasures) -> LoadVerdicts:
    """Every expected result of `m.profile` judged on the measures."""
    j = Judging(slos, definitions, m)
    section = slos.profiles.get(m.profile)
    out = [_judge_one(j, slo) for slo in section.slos] if section is not None else []
    if not any(v.name == "data corruption" for v in out) and (
        m.invariants is not None or m.crossed_books_seen
    ):
        out.append(corruption(j, None))
    return LoadVerdicts(m.profile, m.scale, tuple(out))


def _judge_one(j: Judging, slo: Slo) -> LoadVerdict:
    by_metric: dict[str, Judge] = {
        "request_latency_p95_ms": lambda j, s: _latency(j, s, "p95"),
        "request_latency_p99_ms": lambda j, s: _latency(j, s, "p99"),
        "request_error_rate_percent": _error_rate,
        "request_throughput_rps": _throughput,
        "max_capacity_rps": max_capacity,
        "recovery_time_seconds": recovery,
        "data_corruption_count": corruption,
        "queue_depth_max": queue_depth,
    }
    by_words: dict[str, Judge] = {
        "stable": _stable,
        "graceful": graceful_degradation,
        "error handling": error_handling,
    }
    if slo.metric in by_metric:
        return by_metric[slo.metric](j, slo)
    words = slo.spec.lower()
    for key, judge_words in by_words.items():
        if key in words:
            return judge_words(j, slo)
    return j.verdict(
        slo.spec, slo.spec, None, "not measured", f"no definition says how to judge {slo.spec!r}"
    )


def _where(j: Judging, hold: StageMeasure | None) -> str:
    if hold is None:
        return "over the run"
    return f"over the hold ({num(hold.end - hold.start)} s at {num(hold.planned_rate)} req/s)"


def _against(
    j: Judging, slo: Slo, name: str, observed: float | None, what: str, missing: str
) -> LoadVerdict:
    """`observed` (over the hold, else the run) against the slo's target."""
    target, hold = j.target_text(slo), j.hold()
    where = _where(j, hold)
    if observed is None or slo.comparator is None or slo.target is None:
        return j.verdict(name, target, None, "not measured", f"{missing} {where}")
    met = satisfies(observed, slo.comparator, slo.target)
    shown = f"{num(observed)}{' %' if slo.unit == '%' else ' ms'}"
    reason = f"{what} {where}: {shown} {'meets' if met else 'misses'} {target}"
    return j.verdict(name, target, round(observed, 4), "met" if met else "missed", reason)


def _latency(j: Judging, slo: Slo, which: str) -> LoadVerdict:
    hold = j.hold()
    source = hold if hold is not None else j.m
    observed = source.p95_ms if which == "p95" else source.p99_ms
    what = f"{which} of the latency from each request's due time"
    return _against(j, slo, f"{which} latency", observed, what, "no request was answered")


def _error_rate(j: Judging, slo: Slo) -> LoadVerdict:
    hold = j.hold()
    source = hold if hold is not None else j.m
    requests, errors = source.requests, source.errors
    rate = errors / requests * 100 if requests else None
    what = f"non-2xx answers and unanswered requests, {errors:,} of {requests:,}"
    return _against(j, slo, "error rate", rate, what, "no request was due")


def _throughput(j: Judging, slo: Slo) -> LoadVerdict:
    assert slo.target is not None
    n = slo.target * j.m.rates_x
    name, target = "throughput", f"> {num(n)} req/s sustained"
    hold = j.hold()
    if hold is None or hold.end <= hold.start:
        return j.verdict(name, target, None, "not measured", "the run had no hold stage")
    series, terms = j.m.series, j.terms
    seconds = hold.end - hold.start
    reach = n * (1 - series.window_s / seconds)
    idx = j.window_indices(hold.start, hold.end)
    k = min(j.windows(terms.sustained_window), len(idx))
    floor = n * terms.sustained_floor_pct / 100
    lowest: float | None = None
    for first in range(len(idx) - k + 1) if k else ():
        span = idx[first : first + k]
        rate = sum(series.completed[i] for i in span) / (k * series.window_s)
        lowest = rate if lowest is None else min(lowest, rate)
    low_ok = lowest is None or lowest >= floor
    met = hold.completed_rps >= reach and low_ok
    window = num(k * series.window_s)
    lowest_text = "no whole window" if lowest is None else f"lowest {window} s {num(lowest)} req/s"
    reason = (
        f"sustained = the hold's 2xx answers per second reach {num(n)} (less one "
        f"{num(series.window_s)} s window's worth: {num(reach)}) and no {window} s of it under "
        f"{num(terms.sustained_floor_pct)} % ({num(floor)} req/s): {num(hold.completed_rps)} "
        f"req/s over {num(seconds)} s, {lowest_text}"
    )
    return j.verdict(name, target, round(hold.completed_rps, 3), "met" if met else "missed", reason)


def _stable(j: Judging, slo: Slo) -> LoadVerdict:
    terms = j.terms
    name = "stable"
    target = (
        f"p99 last third within {num(terms.stable_within_pct)} % of the first; no upward "
        f"trend (Mann-Kendall, p >= {num(terms.trend_alpha)})"
    )
    hold = j.hold()
    values: list[float] = []
    if hold is not None:
        p99 = j.m.series.p99_ms
        values = [v for i in j.window_indices(hold.start, hold.end) if (v := p99[i]) is not None]
    if len(values) < max(MIN_POINTS, 3):
        why = f"the hold has {len(values)} windows with answers; the test needs {MIN_POINTS}"
        return j.verdict(name, target, None, "not measured", why)
    third = len(values) // 3
    first, last = statistics.median(values[:third]), statistics.median(values[-third:])
    change = (last - first) / first * 100 if first > 0 else 0.0
    mk = mann_kendall(values)
    within = abs(change) <= terms.stable_within_pct
    rising = mk.rising(terms.trend_alpha)
    observed = f"p99 {num(first)} → {num(last)} ms ({change:+.0f} %), trend p {mk.p_up:.3g}"
    reason = (
        f"stable = the median per-window p99 of the hold's last third within "
        f"{num(terms.stable_within_pct)} % of the first third's ({num(first)} → {num(last)} ms, "
        f"{change:+.1f} %{'' if within else ', outside'}) and no upward trend over its "
        f"{len(values)} windows (Mann-Kendall S {mk.s}, one-sided p {mk.p_up:.3g} "
        f"{'<' if rising else '>='} {num(terms.trend_alpha)}{': rising' if rising else ''})"
    )
    return j.verdict(name, target, observed, "met" if within and not rising else "missed", reason)


def corruption(j: Judging, slo: Slo | None) -> LoadVerdict:
    """No data corruption: every invariant held and no crossed book was seen."""
    m, name, target = j.m, "data corruption", "0 failed invariants, no crossed book"
    crossed = m.crossed_books_seen
    if m.invariants is None and not crossed:
        why = "the invariants were not checked (they are checked against the exchange only)"
        return j.verdict(name, target, None, "not measured", why)
    checks = m.invariants or ()
    failed = [c for c in checks if not c.passed]
    parts = [f"{c.name} failed ({c.detail})" for c in failed]
    if crossed:
        parts.append(f"a crossed book (best bid >= best ask) in {crossed:,} orderbook answers")
    if m.invariants is None:
        parts.append("the invariants were not checked")
    count = len(failed) + (1 if crossed else 0)
    if count:
        definition = "no corruption = every invariant held and no crossed book was seen"
        return j.verdict(name, target, count, "missed", f"{definition}: {'; '.join(parts)}")
    names = ", ".join(c.name for c in checks)
    reason = (
        f"all {len(checks)} invariants held ({names}); no orderbook answer showed a crossed book"
    )
    return j.verdict(name, target, 0, "met", reason)
