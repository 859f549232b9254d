"""The Locust users of a load plan: whatever config/loadtest.yaml's routes say, paced open-model.

The user class holds no route of its own: a worker receives the plan from the master (a custom
message), builds a `Share` of it, and every `PlanUser` takes that share's next request, sleeps
until it is due, and sends `RequestMaker(plan).build(i)` (seeded users' `X-API-Key` against the
exchange) through Locust's `FastHttpUser` client, named after its route. Each answer is
recorded from Locust's `request` event (`record`), with the request's index and send time
carried in the event's context.

Runs only in Locust's own processes (`locust_master`, `locust_worker`): importing Locust
monkey-patches the standard library with gevent, so the `pincex` process never imports this.
"""

from __future__ import annotations

from typing import Any

import gevent
from gevent.event import Event
from locust import FastHttpUser, constant, task
from locust.exception import StopUser

from collectors.loadtest.locust_share import Share

__all__ = ["SLOT", "PlanUser", "Slot", "record"]

_CONTEXT_KEY = "pincex"


class Slot:
    """This process's share of the plan, once the master has sent it; `go` is set at the
    common start's announcement."""

    def __init__(self) -> None:
        self.share: Share | None = None
        self.go = Event()


SLOT = Slot()  # one per worker process: Locust builds its users without arguments


class PlanUser(FastHttpUser):
    """Sends its worker's share of the plan, each request at its due time."""

    host = "http://127.0.0.1"  # replaced by the plan's target before any user starts
    wait_time = constant(0)
    network_timeout = 10.0  # replaced by the plan's timeout
    connection_timeout = 10.0

    @task
    def paced(self) -> None:
        SLOT.go.wait()
        share = SLOT.share
        if share is None:
            raise StopUser()
        while (i := share.take()) is not None:
            wait = share.wait_s(i)
            if wait > 0:
                gevent.sleep(wait)
            if share.stopped:
                share.given_up()
                break
            request = share.maker.build(i)
            headers = dict(request.headers)
            if request.body:
                headers["Content-Type"] = "application/json"
            self.client.request(
                request.method,
                request.path,
                name=share.names[share.plan.route_of(i)],
                data=request.body or None,  # type: ignore[arg-type]  # bytes go as they are
                headers=headers,
                context={_CONTEXT_KEY: (i, share.now())},
            )
        raise StopUser()


def _causes(exception: object) -> list[BaseException]:
    """The exception and what it wraps (geventhttpclient: `RetriesExceeded(original=...)`)."""
    chain: list[BaseException] = []
    while isinstance(exception, BaseException) and len(chain) < 4:
        chain.append(exception)
        exception = getattr(exception, "original", None) or exception.__cause__
    return chain


def _is_timeout(chain: list[BaseException]) -> bool:
    return any(isinstance(e, TimeoutError | gevent.Timeout) for e in chain)


def _error_text(route: str, chain: list[BaseException]) -> str:
    inner = chain[-1]
    text = f"{route}: {type(inner).__name__}: {inner}"
    return text.splitlines()[0][:200]


def record(
    context: dict[str, Any] | None,
    response: Any,
    exception: BaseException | None,
    **_kwargs: Any,
) -> None:
    """Locust `request` event listener: the answer of a paced request into the share."""
    share = SLOT.share
    tag = context.get(_CONTEXT_KEY) if context else None
    if share is None or tag is None:
        return
    done = share.now()
    i, sent = tag
    status = int(getattr(response, "status_code", 0) or 0)
    headers = getattr(response, "headers", None) if status else None
    chain = [] if status else _causes(exception)
    error = _error_text(share.names[share.plan.route_of(i)], chain) if chain else ""
    share.answered(
        i,
        sent,
        done,
        status,
        response.content if status else None,
        retry_after=bool(headers is not None and headers.get("Retry-After") is not None),
        timed_out=_is_timeout(chain),
        error=error,
    )
