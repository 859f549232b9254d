"""Should the capacity model be updated? The per-pod capacity a load test measured against
`config/capacity.yaml`'s (`calculate_capacity.trading_engine.orders_per_pod`, the script's
"baseline capacity per pod").

    check = capacity_check(judging, verdicts, load_config(), pods=1, order_share=0.7)
    check.update, check.reason

What the run measured, in orders per second per pod (its request rate x the share of orders in
the mix / the pods behind the target):
- stress: the max capacity step's 2xx rate, a point estimate; "at least" when the top step met
  the targets (the knee is higher), "at most" the lowest step's rate when no step met them;
- ramp profiles: the hold's 2xx rate; a lower bound ("at least") when the hold met its latency,
  error and throughput targets, an upper bound ("at most") when it missed one;
- spike: nothing (its rates are not the knee's).
"update" when the figures differ by more than `UPDATE_PCT` % in a way the bound allows: a
point estimate either way, a lower bound above the model, an upper bound below it. Scaling the
run changes the load asked, not the server, so a scaled run's figure is compared as measured.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from planning.capacity import CapacityConfig
from planning.loadtest.stress import capacity_step
from planning.loadtest.verdict import Judging, LoadVerdicts, num

__all__ = ["UPDATE_PCT", "CapacityCheck", "CapacityCheckError", "capacity_check"]

UPDATE_PCT = 20.0
Bound = Literal["about", "at least", "at most"]
_HOLD_TARGETS = ("p95 latency", "p99 latency", "error rate", "throughput")


class CapacityCheckError(ValueError):
    """Figures the check cannot use (no pod, an order share outside (0, 1])."""


@dataclass(frozen=True)
class CapacityCheck:
    measured_per_pod: float | None  # orders/s per pod
    bound: Bound | None
    configured_per_pod: float
    difference_pct: float | None
    update: bool
    reason: str

    def to_json(self) -> dict[str, object]:
        return {
            "measured_per_pod": self.measured_per_pod,
            "bound": self.bound,
            "configured_per_pod": self.configured_per_pod,
            "difference_pct": self.difference_pct,
            "update": self.update,
            "reason": self.reason,
        }


def _measured(j: Judging, verdicts: LoadVerdicts) -> tuple[float, Bound, str] | None:
    m, steps = j.m, j.stages("step")
    if steps:
        k = capacity_step(j)
        if k is None:
            return steps[0].planned_rate, "at most", "no stress step met the targets"
        bound: Bound = "at least" if k == len(steps) - 1 else "about"
        return steps[k].completed_rps, bound, f"stress max capacity, {steps[k].name}"
    hold = j.hold()
    if hold is None or m.pattern == "spike":
        return None
    missed = [n for n in _HOLD_TARGETS if (v := verdicts.named(n)) and v.status == "missed"]
    if missed:
        return hold.completed_rps, "at most", f"the hold's rate, which missed {', '.join(missed)}"
    return hold.completed_rps, "at least", "the hold's rate, which met its targets"


def capacity_check(
    j: Judging,
    verdicts: LoadVerdicts,
    capacity: CapacityConfig,
    *,
    pods: int = 1,
    order_share: float = 1.0,
) -> CapacityCheck:
    """The run's per-pod capacity against the model's; `update` past UPDATE_PCT %."""
    if pods < 1:
        raise CapacityCheckError(f"pods must be at least 1, got {pods}")
    if not 0 < order_share <= 1:
        raise CapacityCheckError(f"order share must be in (0, 1], got {order_share}")
    configured = float(capacity.script.orders_per_pod)
    found = _measured(j, verdicts)
    if found is None:
        why = f"a {j.m.pattern} run does not measure capacity: the model stands as it is"
        return CapacityCheck(None, None, configured, None, False, why)
    rate, bound, source = found
    per_pod = rate * order_share / pods
    diff = (per_pod - configured) / configured * 100
    beyond = abs(diff) > UPDATE_PCT
    update = beyond and (bound == "about" or (bound == "at least") == (diff > 0))
    how = (
        f"{num(rate)} req/s x {num(order_share * 100)} % orders / {pods} pod"
        f"{'s' if pods != 1 else ''}"
    )
    figures = (
        f"measured {bound} {num(per_pod)} orders/s per pod ({source}: {how}) against "
        f"{num(configured)} in capacity.yaml ({diff:+.0f} %)"
    )
    if update:
        reason = f"update the capacity model: {figures}, more than {num(UPDATE_PCT)} % apart"
    elif beyond:
        reason = f"keep the model: {figures}; a bound on that side does not contradict it"
    else:
        reason = f"keep the model: {figures}, within {num(UPDATE_PCT)} %"
    return CapacityCheck(round(per_pod, 3), bound, configured, round(diff, 2), update, reason)
