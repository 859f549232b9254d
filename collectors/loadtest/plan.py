"""What a load test sends, engine-neutral: the routes, their mix, the schedule, the users.

    plan = LoadPlan.build(config, total_rate, schedule, target, keys=keys, mid_price=mid)
    plan.route_of(i)         # index into plan.routes of the i-th request
    plan.mix                 # the repeating pattern of route indexes (smooth weighted round robin)

Both engines (ours and Locust) send the same plan and give back a `LoadTestResult`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from collectors.loadtest.config import Endpoint, LoadTestConfig
from collectors.loadtest.schedule import Schedule

__all__ = ["MIX_PERIOD", "LoadPlan", "Route", "mix_pattern"]

MIX_PERIOD = 1000  # requests in one repetition of the mix: shares exact to 0.1 point


@dataclass(frozen=True, slots=True)
class Route:
    """One endpoint of one scenario, with its share of all requests."""

    scenario: str
    endpoint: Endpoint
    share: float  # 0..1 of all requests

    @property
    def name(self) -> str:
        return self.endpoint.name


def mix_pattern(shares: list[float], period: int = MIX_PERIOD) -> npt.NDArray[np.int16]:
    """Route indexes for `period` consecutive requests, interleaved by smooth weighted round
    robin: every window of the pattern holds each route close to its share."""
    current = [0.0] * len(shares)
    total = sum(shares)
    out = np.empty(period, dtype=np.int16)
    for k in range(period):
        for j, s in enumerate(shares):
            current[j] += s
        best = max(range(len(shares)), key=current.__getitem__)
        current[best] -= total
        out[k] = best
    return out


@dataclass(frozen=True)
class LoadPlan:
    target: str  # base URL, no trailing slash
    routes: tuple[Route, ...]
    schedule: Schedule
    symbol: str = "BTCUSD"
    keys: tuple[str, ...] = ()  # seeded users' API keys; empty: bodies without keys
    mid_price: float = 50_000.0  # orders are priced around it
    seed: int = 1
    connections: int = 64
    timeout: float = 10.0  # seconds an answer is awaited before it counts as a timeout
    mix: npt.NDArray[np.int16] = field(default_factory=lambda: np.zeros(1, dtype=np.int16))

    @classmethod
    def build(
        cls,
        config: LoadTestConfig,
        total_rate: float | None,
        schedule: Schedule,
        target: str,
        **kwargs: object,
    ) -> LoadPlan:
        """The routes of every scenario with their shares: `total_rate` split by weight, or
        (None) each scenario at its own rps (see `LoadTestConfig.rates`)."""
        rates = config.rates(total_rate)
        whole = sum(r for _, _, r in rates) or 1.0
        routes = tuple(Route(s.name, e, r / whole) for s, e, r in rates)
        mix = mix_pattern([r.share for r in routes])
        return cls(target.rstrip("/"), routes, schedule, mix=mix, **kwargs)  # type: ignore[arg-type]

    def route_of(self, i: int) -> int:
        return int(self.mix[i % len(self.mix)])

    def routes_of(self, indexes: npt.NDArray[np.int64]) -> npt.NDArray[np.int16]:
        return self.mix[indexes % len(self.mix)]

    @property
    def scenarios(self) -> list[str]:
        return list(dict.fromkeys(r.scenario for r in self.routes))

    def planned_shares(self) -> dict[str, float]:
        out: dict[str, float] = {}
        for r in self.routes:
            out[r.scenario] = out.get(r.scenario, 0.0) + r.share
        return out
