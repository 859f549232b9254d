"""A Locust worker of the load-test engine: connects to a master and sends its share of the plan.

    python -m collectors.loadtest.locust_worker --master 127.0.0.1:5557
    pincex loadtest worker --master HOST[:PORT]       # the same, from another machine

The worker needs nothing but the master's address: the plan comes from the master (custom
message `pincex_plan`), then the common start (`pincex_go`). Its answers go back in batches
about twice a second (`pincex_batch`), the last one as `pincex_done` once every request of
its share is answered or given up. It ends when the master says quit, or by itself
`_SELF_QUIT_S` after its share's time bound when the master is gone.

Importing this module monkey-patches the standard library with gevent (Locust): run it as its
own process only.
"""

from __future__ import annotations

import argparse
import math
import socket
import sys
import time
from typing import Any

import gevent
import locust  # noqa: F401  (before our modules: it patches the standard library with gevent)
from locust import runners
from locust.env import Environment
from locust.log import setup_logging
from locust.rpc.protocol import Message
from locust.runners import WorkerRunner

from collectors.loadtest.locust_engine import parse_master
from collectors.loadtest.locust_share import Share
from collectors.loadtest.locust_wire import BATCH, DONE, GO, PLAN, READY, STOP
from collectors.loadtest.locustfile_plan import SLOT, PlanUser, record
from collectors.loadtest.plan_file import PlanFileError, plan_from_json

__all__ = ["main", "run_worker"]

FLUSH_S = 0.5  # a batch goes to the master this often
_STOP_GRACE_S = 1.0  # after a stop, in-flight requests this long before the last batch goes
_SELF_QUIT_S = 30.0  # past the share's bound, the worker quits even without the master


class _Worker:
    def __init__(self, runner: WorkerRunner) -> None:
        self.runner = runner
        self.drain_s = 0.0
        self.cpu0 = 0.0
        self.wall0 = 0.0
        self.stop_at: float | None = None  # seconds from the start when STOP came

    @property
    def id(self) -> str:
        return str(self.runner.client_id)

    def on_plan(self, environment: Environment, msg: Message, **_kwargs: Any) -> None:
        if SLOT.share is not None:
            return  # one plan per worker process
        try:
            plan = plan_from_json(msg.data["plan"])
            index, count = int(msg.data["index"]), int(msg.data["count"])
            self.drain_s = float(msg.data["drain"])
        except (PlanFileError, KeyError, TypeError, ValueError) as exc:
            self.runner.send_message(READY, {"worker": self.id, "error": str(exc)})
            return
        PlanUser.host = plan.target
        PlanUser.network_timeout = plan.timeout
        PlanUser.connection_timeout = plan.timeout
        SLOT.share = Share(plan, index, count)
        self.runner.send_message(READY, {"worker": self.id, "host": socket.gethostname()})

    def on_go(self, environment: Environment, msg: Message, **_kwargs: Any) -> None:
        share = SLOT.share
        if share is None or share.started:
            return
        share.start_at(float(msg.data["t0"]))
        self.cpu0, self.wall0 = time.process_time(), time.perf_counter()
        SLOT.go.set()
        gevent.spawn(self.flush_loop, share)

    def on_stop(self, environment: Environment, msg: Message, **_kwargs: Any) -> None:
        share = SLOT.share
        if share is not None and not share.stopped:
            share.stopped = True
            self.stop_at = share.now()

    def send(self, share: Share, kind: str) -> None:
        cpu = time.process_time() - self.cpu0
        wall = time.perf_counter() - self.wall0
        self.runner.send_message(kind, share.batch.take(self.id, cpu, wall))

    def flush_loop(self, share: Share) -> None:
        """Batches to the master until the share is finished (or past its time bound)."""
        plan = share.plan
        take_until = plan.schedule.duration + self.drain_s
        give_up_at = take_until + plan.timeout + 1.0
        while True:
            gevent.sleep(FLUSH_S)
            now = share.now()
            if now > take_until and not share.stopped:
                share.stopped = True
            late_stop = self.stop_at is not None and now > self.stop_at + _STOP_GRACE_S
            if share.finished or late_stop or now > give_up_at:
                self.send(share, DONE)
                break
            if len(share.batch):
                self.send(share, BATCH)
        gevent.sleep(_SELF_QUIT_S)
        self.runner.quit()  # the master never said quit: it is gone


def run_worker(host: str, port: int, connect_timeout: float = 60.0) -> int:
    """Serve one master until it says quit (or is gone); the exit code. ConnectionError
    when no master answers within `connect_timeout` seconds."""
    setup_logging("WARNING")
    environment = Environment(user_classes=[PlanUser])
    # Locust tries every CONNECT_TIMEOUT seconds, 1 + CONNECT_RETRY_COUNT times
    runners.CONNECT_TIMEOUT = max(1, min(runners.CONNECT_TIMEOUT, int(connect_timeout)))
    tries = math.ceil(connect_timeout / runners.CONNECT_TIMEOUT - 1e-9)
    runners.CONNECT_RETRY_COUNT = max(tries - 1, 0)
    try:
        runner = environment.create_worker_runner(host, port)
    except ConnectionError:
        raise ConnectionError(
            f"no Locust master answered at {host}:{port} within {connect_timeout:g} s"
        ) from None
    worker = _Worker(runner)
    runner.register_message(PLAN, worker.on_plan)
    runner.register_message(GO, worker.on_go)
    runner.register_message(STOP, worker.on_stop)
    environment.events.request.add_listener(record)
    runner.greenlet.join()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="locust_worker", description=__doc__.splitlines()[0])
    parser.add_argument("--master", required=True, help="HOST[:PORT] of the master")
    parser.add_argument("--connect-timeout", type=float, default=60.0)
    args = parser.parse_args(argv)
    try:
        host, port = parse_master(args.master)
        return run_worker(host, port, args.connect_timeout)
    except (ValueError, OSError, ConnectionError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        return 130


if __name__ == "__main__":
    sys.exit(main())
