"""How `pincex plan usl` and `pincex plan size` print their results (lines for a person, plain
data for --json); the commands themselves are in `plan.py`."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from planning.capacity import powershell_number

if TYPE_CHECKING:  # numpy, pandas and scipy load when a command runs, not at `pincex --help`
    from planning.ramp import Ramp
    from planning.sizing import SizingPlan
    from planning.usl import Curve, USLFit

__all__ = ["ramp_json", "ramp_lines", "size_lines", "usl_lines"]


def ramp_json(ramp: Ramp) -> dict[str, Any]:
    """The stored runs behind a fit: how load is defined, each run's point, the best rate."""
    best = ramp.best
    return {
        "load_definition": ramp.load_definition,
        "load_words": ramp.load_words,
        "p99_target_ms": ramp.p99_target_ms,
        "runs": [asdict(p) for p in ramp.points_by_run],
        "skipped": list(ramp.skipped),
        "best": None if best is None else asdict(best),
    }


def ramp_lines(ramp: Ramp) -> list[str]:
    """The runs table and the highest rate that met the p99 SLO, measured."""
    lines = [f"load: {ramp.load_words}"]
    rows = [("run", "label", "offered/s", "orders/s", "load", "p99 ms", "p99 SLO", "trusted")]
    for p in ramp.points_by_run:
        rows.append(
            (
                p.run_id,
                p.label,
                f"{p.offered_per_s:,.0f}",
                f"{p.throughput_per_s:,.1f}",
                f"{p.load:.4g}",
                f"{p.p99_ms:.3f}",
                "met" if p.met_p99 else "MISSED",
                "yes" if p.trusted else "NO",
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    lines += [
        "  " + "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    ]
    lines += [f"skipped: {reason}" for reason in ramp.skipped]
    best = ramp.best
    slo = f"p99 < {ramp.p99_target_ms:g} ms"
    if best is None:
        untrusted = sum(1 for p in ramp.points_by_run if not p.trusted)
        lines.append(
            f"highest rate that met the p99 SLO per pod, measured: none (no trusted run met "
            f"{slo}; {untrusted} of {len(ramp.points_by_run)} runs not trusted)"
        )
    else:
        lines.append(
            f"highest rate that met the p99 SLO per pod, measured: {best.throughput_per_s:,.1f}"
            f" orders/s (run {best.run_id}, {best.label}, p99 {best.p99_ms:.3f} ms, {slo})"
        )
    return lines


def span(interval: tuple[float, float | None] | None) -> str:
    if interval is None:
        return "no interval"
    low, high = interval
    return f"[{low:.6g}, {'open' if high is None else format(high, '.6g')}]"


def usl_lines(fit: USLFit, path: Path | str) -> list[str]:
    c, iv = fit.curve, fit.intervals
    peak_n, peak_x = (
        "none" if v is None else f"{v:.6g}" for v in (c.peak_concurrency, c.peak_throughput)
    )
    rows = [
        ("sigma (contention)", f"{c.sigma:.6g}", span(iv.sigma)),
        ("kappa (coherency)", f"{c.kappa:.6g}", span(iv.kappa)),
        ("lambda (X at N=1)", f"{c.lam:.6g}", span(iv.lam)),
        ("peak concurrency N*", peak_n, span(iv.peak_concurrency)),
        ("peak throughput X(N*)", peak_x, span(iv.peak_throughput)),
    ]
    lines = [
        f"USL fit of {path} ({fit.method}, {fit.points} points, loads up to {fit.max_load:g}):"
    ]
    lines += [f"  {name:<22} {value:<12} {iv.level:.0%} {span}" for name, value, span in rows]
    lines.append(f"  R² {fit.r_squared:.6f}, residual sd {fit.residual_sd:.6g}")
    lines.append(f"  intervals: {iv.method}")
    lines += [f"warning: {warning}" for warning in fit.warnings]
    return lines


def money(value: float | None) -> str:
    return "open" if value is None else f"${powershell_number(value)}"


def size_lines(p: SizingPlan, source: Curve | USLFit) -> list[str]:
    from planning.usl import USLFit

    curve = source.curve if isinstance(source, USLFit) else source
    lines = [
        f"Sizing for {p.target_rate:g}/s at P99 <= {p.slo_p99_ms:g} ms (per pod: sigma "
        f"{curve.sigma:.6g}, kappa {curve.kappa:.6g}, lambda {curve.lam:.6g}):",
        f"  Operating point: concurrency {p.concurrency}, {p.per_pod_throughput:.6g}/s per pod, "
        f"mean latency {p.mean_latency_ms:.4g} ms (Little's law)",
        f"  Idle pod P99 latency: {p.idle_p99_ms:.4g} ms",
    ]
    if not p.reachable:
        return [*lines, f"  Unreachable: {p.reason}"]
    at = p.at_recommended
    assert at is not None
    lines += [
        f"  Pods: {p.recommended_pods} recommended (SLO {p.slo_pods}, stable {p.stable_pods}, "
        f"headroom x{p.headroom:g} {p.headroom_pods})",
        f"  At {at.pods} pods: {at.arrival_rate:.6g}/s each, utilization {at.utilization:.1%}, "
        f"P(wait) {at.p_wait:.4g}, P99 wait {at.p99_wait_ms:.4g} ms, "
        f"P99 latency {at.p99_latency_ms:.4g} ms, mean latency {at.mean_latency_ms:.4g} ms",
        f"  Monthly cost: {money(p.monthly_cost)} at {money(p.cost_per_pod)}/pod",
    ]
    if p.pods_range is not None and p.throughput_interval is not None:
        low, high = p.pods_range
        cost_low, cost_high = p.monthly_cost_range or (None, None)
        x_low, x_high = p.throughput_interval
        lines.append(
            f"  Range (95 % interval of X({p.concurrency}): {x_low:.6g} to {x_high:.6g}/s): "
            f"{low} to {'open' if high is None else high} pods, "
            f"{money(cost_low)} to {money(cost_high)} a month"
        )
    return lines
