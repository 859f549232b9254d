"""One Locust worker's part of a load plan: which requests it sends, when, and what came back.

    share = Share(plan, index=1, count=2)   # requests 1, 3, 5, ... of the plan
    share.start_at(t0)                      # the master's common start (wall clock)
    i = share.take()                        # the next request for a free user (None: no more)
    share.wait_s(i)                         # seconds until it is due (<= 0: due or late)
    share.answered(i, sent, done, status, body, retry_after=..., timed_out=...)

Requests are dealt to workers by index (request i to worker i mod count) and, within a worker,
to whichever user is free next, in order: a user takes a request, sleeps until it is due, sends
it and waits for the answer, then takes the next. A slow answer holds one user; the next due
request goes to another, so with enough users it still leaves on time; when every user is
busy it leaves late, and the latency measured from its due time shows it.

Clocks: the master sends the start as a wall-clock time; each worker turns it into its own
monotonic clock once (`start_at`) and measures every request on that clock. Workers on other
machines therefore assume their wall clocks agree with the master's (same machine, or NTP:
typically within a millisecond on a LAN); any offset shifts that worker's sends against the
schedule, never a request's latency from its send.
"""

from __future__ import annotations

import time

from collectors.loadtest.locust_wire import Batch
from collectors.loadtest.plan import LoadPlan
from collectors.loadtest.requests import RequestMaker

__all__ = ["Share"]

_DIGESTED = ("/api/v1/orders", "/api/v1/market/orderbook")


class Share:
    """The requests `index`, `index + count`, ... of `plan`, and their answers so far."""

    def __init__(self, plan: LoadPlan, index: int, count: int) -> None:
        self.plan = plan
        self.maker = RequestMaker(plan)
        self.due = plan.schedule.due_times()
        self.names = [r.name for r in plan.routes]
        self.batch = Batch()
        self.origin = 0.0  # perf_counter() at the common start
        self.started = False
        self.in_flight = 0  # taken and not yet answered or given up
        self.stopped = False
        self._next = index
        self._step = count
        self._digested = {
            k for k, r in enumerate(plan.routes) if r.endpoint.path.split("?")[0] in _DIGESTED
        }

    def start_at(self, t0: float) -> None:
        """The common start `t0` (wall clock) on this process's monotonic clock."""
        self.origin = time.perf_counter() + (t0 - time.time())
        self.started = True

    def now(self) -> float:
        """Seconds from the common start."""
        return time.perf_counter() - self.origin

    def take(self) -> int | None:
        """The next request of this share for a free user; None once all are taken (or the
        share was stopped)."""
        if self.stopped or self._next >= len(self.due):
            return None
        i = self._next
        self._next += self._step
        self.in_flight += 1
        return i

    def wait_s(self, i: int) -> float:
        return float(self.due[i]) - self.now()

    def answered(
        self,
        i: int,
        sent: float,
        done: float,
        status: int,
        body: bytes | None,
        *,
        retry_after: bool = False,
        timed_out: bool = False,
        error: str = "",
    ) -> None:
        """Record request `i` (times from the common start; `status` 0: no answer)."""
        self.in_flight -= 1
        self.batch.add(i, sent, done, status, retry_after=retry_after, timed_out=timed_out)
        if error:
            self.batch.error(error)
        route = self.plan.route_of(i)
        if status and body and route in self._digested:
            mark = self.maker.digest(route, body)
            if mark == b"X":
                self.batch.crossed += 1
            elif mark:
                self.batch.order_ids.append(int(mark))

    def given_up(self) -> None:
        """A taken request that was never sent (the share was stopped before it was due)."""
        self.in_flight -= 1

    @property
    def finished(self) -> bool:
        """Nothing left to take and nothing in flight."""
        return (self.stopped or self._next >= len(self.due)) and self.in_flight <= 0
