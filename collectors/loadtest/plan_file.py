"""A `LoadPlan` as JSON, so it can travel to Locust's processes (and machines) whole.

    data = plan_to_json(plan)          # target, routes, stages, mix, keys, seed, symbol, ...
    plan = plan_from_json(data)        # the same plan; PlanFileError when data is not one

The mix travels as its indexes, so every process deals the same route to the same request.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from collectors.loadtest.config import Endpoint
from collectors.loadtest.plan import LoadPlan, Route
from collectors.loadtest.schedule import Schedule, Stage

__all__ = ["PLAN_VERSION", "PlanFileError", "plan_from_json", "plan_to_json"]

PLAN_VERSION = 1


class PlanFileError(Exception):
    """The data is not a load plan this version reads; a one-line reason."""


def plan_to_json(plan: LoadPlan) -> dict[str, Any]:
    """Everything a remote process needs to send the plan's requests."""
    return {
        "version": PLAN_VERSION,
        "target": plan.target,
        "routes": [
            {
                "scenario": r.scenario,
                "path": r.endpoint.path,
                "method": r.endpoint.method,
                "weight": r.endpoint.weight,
                "share": r.share,
            }
            for r in plan.routes
        ],
        "stages": [
            {
                "kind": s.kind,
                "start": s.start,
                "end": s.end,
                "rate_from": s.rate_from,
                "rate_to": s.rate_to,
                "index": s.index,
            }
            for s in plan.schedule.stages
        ],
        "mix": [int(k) for k in plan.mix],
        "symbol": plan.symbol,
        "keys": list(plan.keys),
        "mid_price": plan.mid_price,
        "seed": plan.seed,
        "connections": plan.connections,
        "timeout": plan.timeout,
    }


def plan_from_json(data: object) -> LoadPlan:
    """The plan `plan_to_json` wrote; PlanFileError naming the first flaw otherwise."""
    if not isinstance(data, dict):
        raise PlanFileError(f"a load plan is a JSON object, got {type(data).__name__}")
    if data.get("version") != PLAN_VERSION:
        raise PlanFileError(
            f"load plan version {data.get('version')!r} (this reads {PLAN_VERSION})"
        )
    try:
        routes = tuple(
            Route(
                str(r["scenario"]),
                Endpoint(str(r["path"]), str(r["method"]), float(r["weight"])),
                float(r["share"]),
            )
            for r in data["routes"]
        )
        stages = tuple(
            Stage(
                str(s["kind"]),
                float(s["start"]),
                float(s["end"]),
                float(s["rate_from"]),
                float(s["rate_to"]),
                int(s["index"]),
            )
            for s in data["stages"]
        )
        mix = np.array([int(k) for k in data["mix"]], dtype=np.int16)
        plan = LoadPlan(
            target=str(data["target"]),
            routes=routes,
            schedule=Schedule(stages),
            symbol=str(data["symbol"]),
            keys=tuple(str(k) for k in data["keys"]),
            mid_price=float(data["mid_price"]),
            seed=int(data["seed"]),
            connections=int(data["connections"]),
            timeout=float(data["timeout"]),
            mix=mix,
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise PlanFileError(f"load plan: bad or missing field ({exc})") from None
    if not routes or not len(mix) or int(mix.min()) < 0 or int(mix.max()) >= len(routes):
        raise PlanFileError("load plan: its mix names routes it does not have")
    return plan
