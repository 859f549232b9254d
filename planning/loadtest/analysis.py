"""The post-test analysis of a load test, stored with the run and printed. Pure.

    analysis = analyse(
        measures, verdicts, slos, definitions, capacity_config,
        run=RunFigures(...), baseline=pinned_or_none,       # the store's figures and histograms
        server={"trading_engine_cpu_percent": 41.0},        # named as in slo.yaml
        pods=1, order_share=0.7,
    )
    analysis.to_json(); "\\n".join(analysis.lines())

Four parts:
- the comparison with the pinned baseline of the profile (`planning.loadtest.baseline`);
- the bottleneck (`planning.loadtest.bottleneck`: the diagnosis rules and the knee rule);
- the recommendations: the resolution of each finding, then one per missed verdict;
- whether the capacity model should be updated (`planning.loadtest.capacity_check`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from common.loadtest_terms import Definitions
from planning.capacity import CapacityConfig
from planning.diagnose import QUICK_REFERENCE
from planning.loadtest.baseline import BaselineComparison, RunFigures, compare_with_baseline
from planning.loadtest.bottleneck import Bottleneck, locate
from planning.loadtest.capacity_check import CapacityCheck, capacity_check
from planning.loadtest.measures import LoadTestMeasures
from planning.loadtest.verdict import Judging, LoadVerdicts
from planning.slo import SloConfig

__all__ = ["MISSED_ADVICE", "Analysis", "analyse"]

MISSED_ADVICE: dict[str, str] = {
    "p95 latency": "Find where the latency goes: compare the due-time view with the send-time "
    "view (waiting before the send is queueing at the client or the connection pool; after it, "
    "the server), then profile the slowest endpoint",
    "p99 latency": "Find what makes the tail: the slowest endpoint's p99 by scenario, stalls "
    "(garbage collection, commits, lock waits) in the seconds where the p99 peaks",
    "error rate": ", then ".join(QUICK_REFERENCE["High Error Rates"]),
    "throughput": "The server did not complete the rate asked: it runs past its capacity there; "
    "find the knee with the stress profile and add capacity or make requests cheaper",
    "stable": "Latency drifted during the hold: look for what grows with time (memory, queues, "
    "table and book sizes, connection churn)",
    "graceful degradation": "Refuse excess load early with 429/503 and Retry-After (admission "
    "control) rather than timing out or failing with other 5xx",
    "error handling": "Answer every request: bound the server's queues and shed load so overload "
    "is refused, not dropped or left to time out",
    "recovery": "Drain faster after bursts: bound queues, shed load during spikes, keep headroom "
    "for the spike rate",
    "data corruption": "Fix the failed invariant before any performance work: a fast wrong "
    "answer is a failure",
    "queue depth": "Bound the writer queue and the requests in flight, and refuse above the bound",
}
"""What to do about each missed verdict, by verdict name."""


@dataclass(frozen=True)
class Analysis:
    comparison: BaselineComparison
    bottleneck: Bottleneck
    recommendations: tuple[str, ...]
    capacity: CapacityCheck

    def to_json(self) -> dict[str, object]:
        return {
            "comparison": self.comparison.to_json(),
            "bottleneck": self.bottleneck.to_json(),
            "recommendations": list(self.recommendations),
            "capacity_model": self.capacity.to_json(),
        }

    def lines(self) -> list[str]:
        """The analysis as text lines, one heading per part."""
        out = ["Compared with the baseline:"]
        out += [f"  {line}" for line in self.comparison.lines()]
        out.append("Bottleneck:")
        out += [f"  {line}" for line in self.bottleneck.lines()]
        out.append("Recommendations:")
        out += [f"  - {r}" for r in self.recommendations] or ["  none: every target was met"]
        out.append("Capacity model:")
        out.append(f"  {self.capacity.reason}")
        return out


def _recommendations(bottleneck: Bottleneck, verdicts: LoadVerdicts) -> tuple[str, ...]:
    out: list[str] = []
    for f in bottleneck.diagnosis.findings:
        out.append(f"{f.issue} ({f.component}): {f.resolution}")
    if bottleneck.knee is not None:
        out.append(f"Queueing below the CPU limit: {bottleneck.knee.resolution}")
    for v in verdicts.missed:
        advice = MISSED_ADVICE.get(v.name)
        if advice is not None:
            out.append(f"{v.name} missed: {advice}")
    return tuple(dict.fromkeys(out))


def analyse(
    m: LoadTestMeasures,
    verdicts: LoadVerdicts,
    slos: SloConfig,
    definitions: Definitions,
    capacity: CapacityConfig,
    *,
    run: RunFigures | None = None,
    baseline: RunFigures | None = None,
    server: Mapping[str, float | None] | None = None,
    pods: int = 1,
    order_share: float = 1.0,
) -> Analysis:
    """The post-test analysis of `m` judged as `verdicts`.

    `run` and `baseline` are this run's and the pinned baseline's figures (no comparison when
    either is None); `server` the server's figures named as in slo.yaml; `pods` the instances
    behind the target and `order_share` the orders' share of the requests, for the per-pod
    capacity. Raises SloError for a server figure slo.yaml does not name.
    """
    j = Judging(slos, definitions, m)
    if run is None:
        comparison = BaselineComparison(None, (), "no comparison: the run's figures were not kept")
    else:
        comparison = compare_with_baseline(run, baseline, m.profile)
    bottleneck = locate(j, verdicts, server or {})
    return Analysis(
        comparison=comparison,
        bottleneck=bottleneck,
        recommendations=_recommendations(bottleneck, verdicts),
        capacity=capacity_check(j, verdicts, capacity, pods=pods, order_share=order_share),
    )
