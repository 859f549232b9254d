"""Synthetic load-test runs shaped like those `pincex loadtest run` stores, for the dashboard's
own bench store and the tests of the Load tests page.

    run = loadtest_run(profile="stress", pattern="steps", rate=3000, seconds=40)
    run.config["verdicts"], run.config["steps"]      # what the page shows

Figures are drawn from lognormal latencies with a fixed seed: the same arguments give the same
run. A ramp run holds `rate` after a ramp-up; a spike run doubles it four-fold twice; a stress
run steps up to `rate` in four steps, the last one missing the p99 target.
"""

from __future__ import annotations

import math
import random
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from collectors.store.model import Histogram, Point, Run, Summary
from collectors.store.summarise import summarise

__all__ = ["ENDPOINTS", "SCENARIOS", "loadtest_run"]

# scenario -> (planned share, endpoints)
SCENARIOS: dict[str, tuple[float, tuple[str, ...]]] = {
    "order_placement": (0.7, ("POST /api/v1/orders",)),
    "market_data": (0.2, ("GET /api/v1/market/ticker", "GET /api/v1/market/orderbook")),
    "account_operations": (0.1, ("GET /api/v1/account/balance", "GET /api/v1/account/orders")),
}
ENDPOINTS: tuple[str, ...] = tuple(e for _, eps in SCENARIOS.values() for e in eps)
_P99_TARGET_MS = 25.0
_LAGGED = "the generator fell behind its schedule (p99 lag 40 ms)"
_PREFLIGHT = (
    ("target_healthy", "pass", "/health/live and /health/ready answered 200"),
    ("metrics_reset", "pass", "POST /admin/metrics/reset answered 200: counters zeroed"),
    ("monitoring_answering", "pass", "/metrics answered 41 pincex_ metrics"),
    ("test_data_seeded", "skip", "no seeded users' keys given"),
    ("baseline_pinned", "fail", "no load-test baseline pinned for this profile"),
    ("target_idle", "pass", "0 requests in 2.0 s = 0/s (idle below 5/s)"),
)
_INVARIANTS = (
    ("acknowledged_orders_present", "every acknowledged order is stored"),
    ("funds_conserved", "balances reconcile with trades per asset"),
    ("no_negative_balance", "no balance below zero"),
    ("book_never_crossed", "0 crossed books seen"),
)


def _stages(pattern: str, rate: float, seconds: int) -> list[dict[str, Any]]:
    """(name, kind, start, end, rate_from, rate_to) of the pattern, as the stored dicts."""
    cut = seconds / 6
    if pattern == "ramp":
        raw = [("ramp-up", "ramp-up", 0.0, cut, 0.0, rate),
               ("hold", "hold", cut, seconds - cut, rate, rate),
               ("ramp-down", "ramp-down", seconds - cut, float(seconds), rate, 0.0)]  # fmt: skip
    elif pattern == "spike":
        raw, t = [], 0.0
        for n, start in enumerate((seconds * 0.25, seconds * 0.65), start=1):
            raw.append((f"base {n - 1}", "base", t, start, rate, rate))
            raw.append((f"spike {n}", "spike", start, start + cut / 2, rate * 4, rate * 4))
            t = start + cut / 2
        raw.append(("base 2", "base", t, float(seconds), rate, rate))
    else:
        length = seconds / 4
        raw = [(f"step {k}", "step", (k - 1) * length, k * length, rate * k / 4, rate * k / 4)
               for k in range(1, 5)]  # fmt: skip
    return [
        {"name": name, "kind": kind, "start_s": round(start, 3), "end_s": round(end, 3),
         "rate_from": r0, "rate_to": r1, "planned_requests": int((r0 + r1) / 2 * (end - start))}
        for name, kind, start, end, r0, r1 in raw
    ]  # fmt: skip


def _offered(stages: list[dict[str, Any]], second: float) -> float:
    for s in stages:
        if s["start_s"] <= second < s["end_s"]:
            frac = (second - s["start_s"]) / max(s["end_s"] - s["start_s"], 1e-9)
            return float(s["rate_from"] + (s["rate_to"] - s["rate_from"]) * frac)
    return 0.0


def _p99_at(offered: float, capacity: float) -> float:
    """A p99 that climbs steeply as the offered rate nears `capacity`."""
    load = min(offered / capacity, 0.98)
    return 4.0 / (1.0 - load)


def _latency_figures(p99: float) -> dict[str, float]:
    return {"mean": round(p99 / 4.2, 3), "p50": round(p99 / 5, 3), "p90": round(p99 / 2, 3),
            "p95": round(p99 / 1.6, 3), "p99": round(p99, 3), "p999": round(p99 * 1.6, 3),
            "max": round(p99 * 2.2, 3)}  # fmt: skip


def _figures(summary: Summary, service: bool = True) -> dict[str, dict[str, float]]:
    def of(f: Any) -> dict[str, float]:
        return {"mean": f.mean_ms, "p50": f.p50_ms, "p90": f.p90_ms, "p95": f.p95_ms,
                "p99": f.p99_ms, "p999": f.p999_ms, "max": f.max_ms}  # fmt: skip

    out = {"latency_ms": of(summary.latency)}
    if service and summary.service is not None:
        out["service_time_ms"] = of(summary.service)
    return out


def _summaries(
    rng: np.random.Generator, p99_ms: float, requests: int, errors: int, seconds: int
) -> tuple[list[Summary], list[Histogram], dict[str, dict[str, Any]]]:
    """'all requests', one per scenario and one per endpoint, with their histograms; and the
    stored scenario table."""
    sigma = 0.5
    scale_us = p99_ms * 1000 / math.exp(2.326 * sigma)
    by_endpoint: dict[str, tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]] = {}
    sums: list[Summary] = []
    hists: list[Histogram] = []
    scenarios: dict[str, dict[str, Any]] = {}
    everything: list[tuple[np.ndarray[Any, Any], np.ndarray[Any, Any]]] = []
    for n, (scenario, (share, endpoints)) in enumerate(SCENARIOS.items()):
        achieved = share + (0.01, -0.006, -0.004)[n]
        count = max(int(requests * achieved), 20)
        per = count // len(endpoints)
        parts = []
        for endpoint in endpoints:
            service = rng.lognormal(math.log(scale_us * (0.8 + 0.2 * n)), sigma, per)
            latency = service + rng.exponential(scale_us / 10, per)
            by_endpoint[endpoint] = (latency, service)
            parts.append((latency, service))
        latency = np.concatenate([p[0] for p in parts])
        service = np.concatenate([p[1] for p in parts])
        everything.append((latency, service))
        errs = int(errors * share)
        s, h = summarise(f"scenario:{scenario}", latency, service, errors=errs, duration_s=seconds)
        sums.append(s)
        hists.extend(h)
        scenarios[scenario] = {
            "planned_share": share, "achieved_share": round(achieved, 4), "requests": s.count,
            "errors": errs, "achieved_rate": round(s.throughput_per_s, 3), **_figures(s),
        }  # fmt: skip
    latency = np.concatenate([p[0] for p in everything])
    service = np.concatenate([p[1] for p in everything])
    head, h = summarise("all requests", latency, service, errors=errors, duration_s=seconds)
    out = [head, *sums]
    hists = h + hists
    for endpoint, (lat, svc) in by_endpoint.items():
        s, h = summarise(endpoint, lat, svc, errors=0, duration_s=seconds)
        out.append(s)
        hists.extend(h)
    return out, hists, scenarios


def _verdicts(profile: str, p95: float, p99: float, error_pct: float) -> list[dict[str, Any]]:
    rows = [("p95_latency_ms", "< 10 ms", p95, p95 < 10, f"P95 {p95:.3g} ms"),
            ("p99_latency_ms", "< 25 ms", p99, p99 < 25, f"P99 {p99:.3g} ms"),
            ("error_rate_pct", "< 0.1 %", error_pct, error_pct < 0.1,
             f"{error_pct:.3g} % of requests failed")]  # fmt: skip
    out: list[dict[str, Any]] = [
        {"name": name, "target": target, "observed": round(value, 4),
         "status": "met" if ok else "missed", "reason": f"{why} ({profile} target {target})"}
        for name, target, value, ok, why in rows
    ]  # fmt: skip
    out.append({"name": "throughput_sustained", "target": "sustained", "observed": None,
                "status": "not measured",
                "reason": "no hold stage long enough for a sustained window"})  # fmt: skip
    return out


def loadtest_run(
    profile: str = "baseline",
    pattern: str = "ramp",
    *,
    rate: float = 400.0,
    seconds: int = 30,
    capacity: float | None = None,
    label: str = "v1",
    started_at: datetime | None = None,
    trusted: bool = True,
    seed: int = 1,
    run_id: str | None = None,
) -> Run:
    """One synthetic load-test run (see the module docstring); `capacity` (default: twice the
    rate, or 0.8 of the top step for a stress run) is where the p99 climbs past the target."""
    rng = np.random.default_rng(seed)
    capacity = capacity or (rate * 0.8 if pattern == "steps" else rate * 2)
    stages = _stages(pattern, rate, seconds)
    started = started_at or datetime(2026, 11, 2, 9, 0, tzinfo=UTC)
    series: list[Point] = []
    requests = 0
    for second in range(seconds):
        offered = _offered(stages, second + 0.5)
        achieved = min(offered, capacity * 1.05)
        p99 = _p99_at(offered, capacity)
        requests += int(achieved)
        values = (("requests_per_s", achieved), ("errors_per_s", 0.0),
                  ("completed_per_s", achieved * 0.995), ("latency_p99_ms", p99))  # fmt: skip
        for name, value in values:
            series.append(Point("client", name, float(second), value))
            for scenario, (share, _eps) in SCENARIOS.items():
                v = value if name == "latency_p99_ms" else value * share
                series.append(Point("client", f"{name}:{scenario}", float(second), v))
    errors = requests // 2000
    hold_p99 = _p99_at(min(rate, capacity), capacity)
    summaries, hists, scenarios = _summaries(rng, hold_p99, requests, errors, seconds)
    for stage in stages:
        offered = max(stage["rate_from"], stage["rate_to"])
        span = stage["end_s"] - stage["start_s"]
        done = int(min(offered, capacity * 1.05) * span)
        stage.update(
            requests=done, errors=done // 2000, achieved_rate=round(done / max(span, 1e-9), 3),
            completed_rps=round(done / max(span, 1e-9) * 0.995, 3),
            latency_ms=_latency_figures(_p99_at(offered, capacity)),
        )  # fmt: skip
    head = summaries[0].latency
    error_pct = 100.0 * errors / max(requests, 1)
    verdicts = _verdicts(profile, head.p95_ms, head.p99_ms, error_pct)
    passed = all(v["status"] != "missed" for v in verdicts) and trusted
    config: dict[str, Any] = {
        "profile": profile, "pattern": pattern, "scale": 0.1, "engine": "ours",
        "target": "http://127.0.0.1:8080",
        "planned_requests": sum(s["planned_requests"] for s in stages),
        "requests": requests, "errors": errors, "stages": stages, "scenarios": scenarios,
        "verdicts": verdicts, "passed": passed, "trusted": trusted,
        "trust_reasons": [] if trusted else [_LAGGED],
        "preflight": [{"name": n, "status": st, "reason": r} for n, st, r in _PREFLIGHT],
        "invariants": [{"name": n, "passed": True, "detail": d} for n, d in _INVARIANTS],
        "analysis": {
            "comparison": {"baseline_run": None, "moved": [], "unchanged": [],
                           "note": "no comparison with a baseline: none is pinned"},
            "bottleneck": {
                "findings": [{"issue": "High CPU Usage", "component": "Trading Engine",
                              "symptom": "CPU Usage 96% breaks the target < 70%",
                              "investigation": "Check goroutines, GC frequency",
                              "resolution": "Optimize algorithms, tune GOGC"}],
                "knee": None, "checked": ["high_cpu_usage.trading_engine"], "notes": [],
            },
            "recommendations": ["High CPU Usage (Trading Engine): Optimize algorithms, tune GOGC"],
            "capacity_model": {"measured_per_pod": round(capacity, 1), "bound": "at least",
                               "configured_per_pod": 2000.0,
                               "difference_pct": round((capacity / 2000 - 1) * 100, 2),
                               "update": abs(capacity / 2000 - 1) > 0.2,
                               "reason": "measured against capacity.yaml"},
        },
    }  # fmt: skip
    if pattern == "steps":
        config["steps"] = [{**s, "met": s["latency_ms"]["p99"] < _P99_TARGET_MS} for s in stages]
    return Run(
        id=run_id or str(uuid.UUID(int=random.Random(seed).getrandbits(128), version=4)),
        kind="loadtest",
        profile=profile,
        target="http://127.0.0.1:8080",
        label=label,
        started_at=started,
        ended_at=started + timedelta(seconds=seconds),
        config=config,
        summaries=summaries,
        series=series,
        histograms=hists,
        trusted=trusted,
        warnings=[] if trusted else list(config["trust_reasons"]),
        notes="synthetic load test (dashboard.bench_loadtest)",
    )
