"""Our open-model engine for a load test: every route of the plan at once, on its schedule.

    result = run_ours(plan)                        # LoadTestResult, engine "ours"
    result = run_ours(plan, dues=constant_dues)    # a part of the schedule (a stress step)

The requests of all scenarios share one schedule of due times and one set of keep-alive
connections, interleaved by the plan's mix; each answer's latency is measured from its due
time and from its send (collectors.bench.httpload). Only an order's id and a crossed book's
mark are kept of the bodies.
"""

from __future__ import annotations

import time
from array import array
from collections.abc import Callable

import numpy as np
import numpy.typing as npt

from collectors.bench.httpload import Request, run_load, run_open_model
from collectors.loadtest.plan import MIX_PERIOD, LoadPlan
from collectors.loadtest.requests import RequestMaker
from collectors.loadtest.result import LoadTestResult

__all__ = ["POOL", "run_ours"]

POOL = 4 * MIX_PERIOD  # requests encoded up front; a whole number of mix periods


def run_ours(
    plan: LoadPlan,
    dues: npt.NDArray[np.float64] | None = None,
    progress: Callable[[int, int], None] | None = None,
    first_index: int = 0,
) -> LoadTestResult:
    """Send the plan (or the requests due at `dues`, numbered from `first_index` so that a
    later part continues the mix) and measure every answer. Stops by itself at the end of
    the schedule plus the drain; Ctrl-C stops it early with what was measured (`aborted`)."""
    if dues is None:
        dues = plan.schedule.due_times()
    count = len(dues)
    if count == 0:
        return _empty(plan)
    maker = RequestMaker(plan)
    offset = first_index - first_index % MIX_PERIOD  # keep i % MIX_PERIOD aligned with the mix

    def build(i: int) -> Request:
        return maker.build(i + offset)

    def digest(i: int, body: bytes) -> bytes:
        return maker.digest(plan.route_of(i + offset), body)

    peak = max(plan.schedule.peak_rate, 1.0)
    cpu0, wall0 = time.process_time(), time.perf_counter()
    result = run_load(
        run_open_model(
            plan.target,
            build,
            peak,
            count,
            plan.connections,
            float(dues[-1]) + 5.0,
            keep_bodies=digest,
            pool=POOL,
            progress=progress,
            dues=array("d", dues.tolist()),
        )
    )
    cpu_pct = (time.process_time() - cpu0) / max(time.perf_counter() - wall0, 1e-9) * 100
    samples = result.samples
    n = len(samples)
    index = np.fromiter((s.index for s in samples), np.int64, n)
    due = np.fromiter((s.due for s in samples), np.float64, n)
    sent = np.fromiter((s.sent for s in samples), np.float64, n)
    done = np.fromiter((s.done for s in samples), np.float64, n)
    status = np.fromiter((s.status for s in samples), np.int32, n)
    retry = np.fromiter((s.retry_after for s in samples), np.bool_, n)
    route = plan.routes_of(index + offset)
    order_ids = [int(s.body) for s in samples if s.body and s.body != b"X" and s.status < 300]
    crossed = sum(1 for s in samples if s.body == b"X")
    # no answer within the timeout, whether one came later or the wait was given up on (a
    # failed connection's `done` is when it failed: quickly, so not a timeout)
    timed_out = done - sent > plan.timeout
    done = np.where(status == 0, np.nan, done)
    return LoadTestResult(
        engine="ours",
        started_at=result.started_at,
        elapsed=max(result.elapsed, float(dues[-1])),
        route=route,
        due=due,
        sent=sent,
        done=done,
        status=status,
        retry_after=retry,
        timed_out=timed_out,
        not_sent=result.not_sent,
        errors=tuple(result.errors[:20]),
        schedule_lag_p99=result.schedule_lag_p99,
        schedule_lag_max=result.schedule_lag_max,
        generator_cpu_pct=round(cpu_pct, 1),
        aborted=result.aborted,
        order_ids=np.array(order_ids, dtype=np.int64),
        crossed_books=crossed,
    )


def _empty(plan: LoadPlan) -> LoadTestResult:
    f = np.empty(0, np.float64)
    return LoadTestResult(
        engine="ours",
        started_at=time.time(),
        elapsed=0.0,
        route=np.empty(0, np.int16),
        due=f,
        sent=f,
        done=f,
        status=np.empty(0, np.int32),
        retry_after=np.empty(0, np.bool_),
        timed_out=np.empty(0, np.bool_),
    )
