"""The specification's pre-test checklist, as checks run against a target before a load test.

    result = preflight(url, admin_key=key, profile="baseline", store_path=path,
                       prometheus_url=None, definitions=config.definitions, keys=seeded)
    result.passed        # no check failed (skipped ones do not count)
    result.lines()       # "PASS  target_healthy  ..." one per check, for a terminal
    result.to_json()     # [{"name", "status", "reason"}, ...], stored with the run

Every check is bounded by short timeouts and never raises: whatever goes wrong becomes a
"fail" with the reason in words and the figures it saw. The checks, in order:

- target_healthy        /health/live and /health/ready answer 200 (a server without them:
                        any HTTP answer at the base URL)
- metrics_reset         POST /admin/metrics/reset with the admin key answers 2xx
- monitoring_answering  /metrics answers Prometheus text with pincex_ metrics; the Prometheus
                        server (when one is configured) is ready and answers a query
- test_data_seeded      every seeded key authenticates and holds USD and the base asset
- baseline_pinned       the run store holds a pinned load-test baseline for the profile
- target_idle           the target's request rate over `idle_window` is below `idle_max_rps`
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Literal

import httpx

from collectors.loadtest.preflight_probe import Probe, Reply
from collectors.scrape.parse import Snapshot
from common.loadtest_terms import Definitions

__all__ = ["CHECK_NAMES", "CheckStatus", "Preflight", "PreflightCheck", "preflight"]

CheckStatus = Literal["pass", "fail", "skip"]
CHECK_NAMES: tuple[str, ...] = (
    "target_healthy",
    "metrics_reset",
    "monitoring_answering",
    "test_data_seeded",
    "baseline_pinned",
    "target_idle",
)
# requests the checklist itself sends: not counted when judging whether the target is idle
_OWN_ROUTES = ("/metrics", "/health/", "/admin/")
_SEEDED_BUDGET_S = 10.0  # seconds the seeded keys' check may take in all
_PROMETHEUS_HOW = "set PINCEX_PROMETHEUS_URL (the collectors' settings) to check one"


@dataclass(frozen=True, slots=True)
class PreflightCheck:
    """One item of the checklist: its name, pass / fail / skip, and why in words."""

    name: str
    status: CheckStatus
    reason: str

    def to_json(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "reason": self.reason}


@dataclass(frozen=True)
class Preflight:
    """The checklist's outcome, one check per item in CHECK_NAMES order."""

    target: str
    checks: tuple[PreflightCheck, ...]

    @property
    def passed(self) -> bool:
        """No check failed (a skipped check is not a failure)."""
        return all(c.status != "fail" for c in self.checks)

    @property
    def failed(self) -> tuple[PreflightCheck, ...]:
        return tuple(c for c in self.checks if c.status == "fail")

    def to_json(self) -> list[dict[str, str]]:
        return [c.to_json() for c in self.checks]

    def lines(self) -> list[str]:
        """One printable line per check and a closing verdict."""
        width = max(len(n) for n in CHECK_NAMES)
        out = [f"{c.status.upper():<4}  {c.name:<{width}}  {c.reason}" for c in self.checks]
        failed = self.failed
        out.append(
            "preflight passed"
            if not failed
            else f"preflight failed: {', '.join(c.name for c in failed)}"
        )
        return out


def preflight(
    target: str,
    *,
    admin_key: str,
    profile: str,
    store_path: str | Path,
    prometheus_url: str | None,
    definitions: Definitions,
    keys: Sequence[str] = (),
    symbol: str = "BTCUSD",
    timeout: float = 2.0,
) -> Preflight:
    """Run the checklist against `target` (its base URL); see the module docstring."""
    with Probe(target, timeout) as probe:
        run = _Checks(probe, admin_key, definitions)
        healthy = run.guarded("target_healthy", run.target_healthy)
        checks = [
            healthy,
            run.guarded("metrics_reset", run.metrics_reset),
            run.guarded("monitoring_answering", lambda: run.monitoring(prometheus_url, timeout)),
            run.guarded("test_data_seeded", lambda: run.seeded(keys, symbol)),
            run.guarded("baseline_pinned", lambda: _baseline_pinned(store_path, profile)),
            run.guarded("target_idle", run.idle),
        ]
    return Preflight(probe.base, tuple(checks))


class _Checks:
    """The checks that ask the target, sharing one probe and what earlier checks learnt."""

    def __init__(self, probe: Probe, admin_key: str, definitions: Definitions) -> None:
        self.probe = probe
        self.admin_key = admin_key
        self.definitions = definitions
        self.exchange = False  # the target answered the exchange's health routes
        self.reachable = True

    def guarded(self, name: str, check: Callable[[], tuple[CheckStatus, str]]) -> PreflightCheck:
        try:
            status, reason = check()
        except Exception as exc:
            status, reason = "fail", f"the check itself failed: {type(exc).__name__}: {exc}"
        return PreflightCheck(name, status, reason)

    def target_healthy(self) -> tuple[CheckStatus, str]:
        live = self.probe.get("/health/live")
        if live.error is not None:
            self.reachable = False
            return "fail", f"cannot reach {self.probe.base}: {live.error}"
        ready = self.probe.get("/health/ready")
        self.exchange = _answers_like_exchange(live) or _answers_like_exchange(ready)
        answers = f"/health/live answered {live.described}, /health/ready {ready.described}"
        if live.status == 200 and ready.status == 200:
            return "pass", (
                f"/health/live and /health/ready answered 200 ({live.ms:.0f} ms, {ready.ms:.0f} ms)"
            )
        if self.exchange:  # the exchange, not live or not ready yet (503 while it starts)
            return "fail", f"{answers} (both should be 200)"
        base = self.probe.get("/")
        if base.error is not None:
            return "fail", f"{answers}, and its base URL: {base.error}"
        return "pass", (
            f"no /health routes ({answers}): not the exchange; the base URL answered "
            f"HTTP {base.status}, so something is serving"
        )

    def metrics_reset(self) -> tuple[CheckStatus, str]:
        if not self.admin_key:
            return "skip", "no admin key given: the target's metrics were not reset"
        if not self.reachable:
            return "fail", f"cannot reach {self.probe.base} to reset its metrics"
        reply = self.probe.post("/admin/metrics/reset", headers={"X-API-Key": self.admin_key})
        if reply.ok:
            return "pass", f"POST /admin/metrics/reset answered {reply.status}: counters zeroed"
        hint = {401: " (the admin key was refused)", 403: " (the admin key was refused)"}.get(
            reply.status or 0, "" if self.exchange else " (not the exchange?)"
        )
        return "fail", f"POST /admin/metrics/reset answered {reply.described}{hint}"

    def monitoring(self, prometheus_url: str | None, timeout: float) -> tuple[CheckStatus, str]:
        if not self.reachable:
            own: tuple[CheckStatus, str] = ("fail", f"cannot reach {self.probe.base}/metrics")
        else:
            own = self.target_metrics()
        if prometheus_url:
            prom = _prometheus(prometheus_url, timeout)
        else:
            prom = ("skip", f"no Prometheus server configured ({_PROMETHEUS_HOW})")
        statuses = {own[0], prom[0]}
        status: CheckStatus = (
            "fail" if "fail" in statuses else "pass" if "pass" in statuses else "skip"
        )
        return status, f"{own[1]}; {prom[1]}"

    def target_metrics(self) -> tuple[CheckStatus, str]:
        snapshot, problem = self.probe.scrape()
        if snapshot is None:
            if self.exchange:
                return "fail", f"the exchange's {problem}"
            return "skip", f"the target exports no metrics (not the exchange): {problem}"
        ours = [name for name in snapshot.samples if name.startswith("pincex_")]
        if not ours:
            if self.exchange:
                return "fail", f"/metrics answered {len(snapshot)} samples but no pincex_ metrics"
            return "skip", (
                f"/metrics answered {len(snapshot)} samples, none of them pincex_ "
                "(not the exchange)"
            )
        return "pass", f"/metrics answered {len(ours)} pincex_ metrics"

    def seeded(self, keys: Sequence[str], symbol: str) -> tuple[CheckStatus, str]:
        if not keys:
            return "skip", "no seeded users' keys given (the test data is seeded by the run)"
        if not self.reachable:
            many = "s" if len(keys) != 1 else ""
            return "fail", f"cannot reach {self.probe.base} to check {len(keys)} key{many}"
        assets = ("USD", symbol.removesuffix("USD"))
        lowest: dict[str, Decimal] = {}
        deadline = time.monotonic() + _SEEDED_BUDGET_S
        for n, key in enumerate(keys, start=1):
            if time.monotonic() > deadline:
                return "fail", (
                    f"only {n - 1} of {len(keys)} keys checked within {_SEEDED_BUDGET_S:g} s: "
                    "the target answers too slowly to check the rest"
                )
            reply = self.probe.get("/api/v1/account/balance", headers={"X-API-Key": key})
            if reply.status != 200:
                return "fail", (
                    f"key {n} of {len(keys)}: GET /api/v1/account/balance answered "
                    f"{reply.described}"
                )
            held = _available(reply)
            for asset in assets:
                amount = held.get(asset, Decimal(0))
                if amount <= 0:
                    return "fail", f"key {n} of {len(keys)} holds no {asset} (available {amount})"
                lowest[asset] = min(lowest.get(asset, amount), amount)
        least = ", ".join(f"{a} {lowest[a]:,f}" for a in assets)
        held_assets = " and ".join(assets)
        return "pass", f"{len(keys)} keys authenticate and hold {held_assets} (least: {least})"

    def idle(self) -> tuple[CheckStatus, str]:
        d = self.definitions
        if not self.reachable:
            return "fail", f"cannot reach {self.probe.base} to measure its load"
        first, problem = self.probe.scrape()
        if first is None or "pincex_http_requests_total" not in first.samples:
            why = problem or "no pincex_http_requests_total in /metrics"
            return "skip", f"the target's load cannot be measured: {why}"
        self.probe.sleep(d.idle_window)
        second, problem = self.probe.scrape()
        if second is None:
            return "fail", f"the second scrape of /metrics failed: {problem}"
        before, after = _load_requests(first), _load_requests(second)
        seconds = max(second.at - first.at, 1e-9)
        handled = after - before if after >= before else after  # a reset in between
        rate = handled / seconds
        figures = (
            f"{handled:g} requests in {seconds:.1f} s = {rate:.3g}/s "
            f"(idle below {d.idle_max_rps:g}/s)"
        )
        return ("pass" if rate < d.idle_max_rps else "fail"), f"{figures}"


def _load_requests(snapshot: Snapshot) -> float:
    """The target's handled requests, not counting the checklist's own routes."""
    samples = snapshot.get("pincex_http_requests_total")
    total = 0.0
    for labels, value in samples.items():
        route = dict(labels).get("route", "")
        if not route.startswith(_OWN_ROUTES):
            total += value
    return total


def _answers_like_exchange(reply: Reply) -> bool:
    """The exchange's health routes answer a JSON object with a status (or an error code)."""
    try:
        body = reply.json()
    except ValueError:
        return False
    return isinstance(body, dict) and ("status" in body or "code" in body)


def _available(reply: Reply) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    try:
        for row in reply.json()["balances"]:
            out[str(row["asset"])] = Decimal(str(row["available"]))
    except (KeyError, TypeError, ValueError, InvalidOperation):
        return {}
    return out


def _prometheus(url: str, timeout: float) -> tuple[CheckStatus, str]:
    base = url.rstrip("/")
    try:
        with httpx.Client(base_url=base, timeout=timeout) as client:
            ready = client.get("/-/ready")
            if ready.status_code != 200:
                return "fail", f"Prometheus at {base}: /-/ready answered HTTP {ready.status_code}"
            answer = client.get("/api/v1/query", params={"query": "up"})
    except (httpx.HTTPError, httpx.InvalidURL) as exc:
        return "fail", f"cannot reach Prometheus at {base}: {type(exc).__name__}: {exc}"
    try:
        found = answer.json()["data"]["result"] if answer.status_code == 200 else None
    except (ValueError, KeyError, TypeError):
        found = None
    if not found:
        return "fail", (
            f"Prometheus at {base} is ready but the query `up` returned no result "
            f"(HTTP {answer.status_code}): is it scraping anything?"
        )
    return "pass", f"Prometheus at {base} is ready and `up` has {len(found)} series"


def _baseline_pinned(store_path: str | Path, profile: str) -> tuple[CheckStatus, str]:
    from collectors.store.store import RunStore, StoreError  # duckdb: loaded only here

    store = RunStore(Path(store_path))
    if not store.exists():
        return "fail", f"no run store at {store.path}"
    try:
        pinned = store.baselines()
    except StoreError as exc:
        return "fail", f"cannot read the run store: {exc}"
    run_id = pinned.get(("loadtest", profile))
    if run_id is None:
        others = sorted(p for k, p in pinned if k == "loadtest")
        known = f" (pinned load-test profiles: {', '.join(others)})" if others else ""
        return "fail", (
            f"no load-test baseline pinned for profile {profile!r} in {store.path}{known}; "
            "pin one with `pincex runs pin RUN`"
        )
    return "pass", f"run {run_id[:8]} is the pinned load-test baseline of {profile!r}"
