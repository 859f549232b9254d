"""The Locust master of the load-test engine: hands out the plan, starts the run, gathers it.

    python -m collectors.loadtest.locust_master --plan plan.json --port 5557 --workers 2 \
        --users 64 --out FOLDER

1. binds on `--bind-host:--port` (a `MasterRunner` through Locust's `Environment`) and waits
   up to `--join-timeout` for `--workers` workers;
2. sends each its part of the plan (`pincex_plan`: the plan, its index, the worker count) and
   waits for each to build its requests (`pincex_ready`);
3. starts `--users` users across them (Locust's own dispatch), then the common start
   (`pincex_go`: a wall-clock time `_LEAD_S` ahead, so every user is up before it);
4. gathers batches until every worker is done or missing (heartbeat lost: missing since its
   last batch), or the time bound (duration + drain + timeout) passes, or SIGINT/SIGTERM (the
   run is then `aborted`); workers not done by then are told to stop and send what they have
   (`_STOP_WAIT_S` at most);
5. tells the workers to quit and writes the outcome (`locust_wire.Columns.write`) to `--out`.

A failure before the start (too few workers, a worker refusing the plan) is one line on
stderr and exit 3. Importing this module monkey-patches the standard library (Locust).
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import time
from pathlib import Path
from typing import Any

import gevent
import locust  # noqa: F401  (before our modules: it patches the standard library with gevent)
from gevent.event import Event
from locust.env import Environment
from locust.log import setup_logging
from locust.rpc.protocol import Message
from locust.runners import STATE_MISSING, MasterRunner

from collectors.loadtest.locust_wire import (
    BATCH,
    DONE,
    GO,
    PLAN,
    READY,
    STOP,
    Columns,
    write_start,
)
from collectors.loadtest.locustfile_plan import PlanUser
from collectors.loadtest.plan_file import PlanFileError, plan_from_json

__all__ = ["main", "run_master"]

_LEAD_S = 1.5  # from the go message to the common start
_READY_TIMEOUT_S = 30.0  # for every worker to build its share's requests
_STOP_WAIT_S = 3.0  # after a stop, for the workers' last batches
_POLL_S = 0.2


class MasterFailed(Exception):
    """The run could not start; a one-line reason."""


class _Master:
    def __init__(self, runner: MasterRunner, expected: int) -> None:
        self.runner = runner
        self.expected = expected
        self.columns = Columns()
        self.joined: dict[str, float] = {}  # wall clock of each worker's connection
        self.hosts: dict[str, str] = {}
        self.ready: dict[str, str] = {}  # worker -> "" or its refusal
        self.done: set[str] = set()
        self.missing: dict[str, float] = {}  # wall clock when last heard, once missing
        self.heard: dict[str, float] = {}  # wall clock of each worker's last message
        self.stop = Event()

    def on_connect(self, client_id: str, **_kwargs: Any) -> None:
        self.joined.setdefault(client_id, time.time())

    def on_ready(self, environment: Environment, msg: Message, **_kwargs: Any) -> None:
        self.ready[str(msg.data["worker"])] = str(msg.data.get("error", ""))
        self.hosts[str(msg.data["worker"])] = str(msg.data.get("host", ""))

    def on_batch(self, environment: Environment, msg: Message, **_kwargs: Any) -> None:
        worker = str(msg.data["worker"])
        self.columns.absorb(msg.data)
        self.heard[worker] = time.time()
        self.missing.pop(worker, None)  # a heartbeat lost under load, not the worker

    def on_done(self, environment: Environment, msg: Message, **_kwargs: Any) -> None:
        self.on_batch(environment, msg)
        self.done.add(str(msg.data["worker"]))

    def wait_for(self, what: str, test: Any, timeout: float) -> None:
        until = time.monotonic() + timeout
        while not test():
            if self.stop.is_set():
                raise MasterFailed(f"interrupted while waiting for {what}")
            if time.monotonic() > until:
                raise MasterFailed(f"waited {timeout:g} s for {what}")
            gevent.sleep(_POLL_S)

    def check_missing(self, workers: list[str]) -> None:
        """Workers gone from Locust's list, or whose heartbeat Locust lost: missing since the
        last message heard from them."""
        for w in workers:
            if w in self.done or w in self.missing:
                continue
            client = self.runner.clients.get(w)
            if client is None or client.state == STATE_MISSING:
                self.missing[w] = self.heard.get(w, time.time())

    def ended(self, workers: list[str]) -> bool:
        return all(w in self.done or w in self.missing for w in workers)

    def wait_end(self, workers: list[str], seconds: float, interruptible: bool) -> None:
        """Until every worker is done or missing, `seconds` pass, or (`interruptible`) a stop
        signal comes."""
        until = time.monotonic() + seconds
        while time.monotonic() < until and not (interruptible and self.stop.is_set()):
            self.check_missing(workers)
            if self.ended(workers):
                return
            gevent.sleep(_POLL_S)
        self.check_missing(workers)

    def workers_json(self, t0: float) -> list[dict[str, Any]]:
        return [
            {
                "id": w,
                "host": self.hosts.get(w) or w.rsplit("_", 1)[0],
                "joined_s": at - t0,
                "missing_s": self.missing[w] - t0 if w in self.missing else None,
                "requests": self.columns.requests.get(w, 0),
            }
            for w, at in sorted(self.joined.items(), key=lambda kv: kv[1])
        ]


def run_master(
    plan_data: dict[str, Any],
    bind_host: str,
    port: int,
    workers: int,
    users: int,
    out: Path,
    join_timeout: float,
    drain_s: float,
) -> None:
    """One run from start to outcome (see the module's steps); MasterFailed before the start."""
    plan = plan_from_json(plan_data)
    environment = Environment(user_classes=[PlanUser])
    runner = environment.create_master_runner(bind_host, port)
    master = _Master(runner, workers)
    environment.events.worker_connect.add_listener(master.on_connect)
    runner.register_message(READY, master.on_ready)
    runner.register_message(BATCH, master.on_batch)
    runner.register_message(DONE, master.on_done)
    for sig in (signal.SIGINT, signal.SIGTERM):
        gevent.signal_handler(sig, master.stop.set)
    cpu0 = time.process_time()
    try:
        try:
            master.wait_for(
                f"{workers} worker(s) to join",
                lambda: len(runner.clients.ready) >= workers,
                join_timeout,
            )
        except MasterFailed as exc:
            raise MasterFailed(f"{exc} ({len(runner.clients.ready)} joined)") from None
        chosen = sorted(c.id for c in runner.clients.ready)[:workers]
        for k, w in enumerate(chosen):
            data = {"plan": plan_data, "index": k, "count": workers, "drain": drain_s}
            runner.send_message(PLAN, data, client_id=w)
        master.wait_for(
            "every worker to build its requests",
            lambda: all(w in master.ready for w in chosen),
            _READY_TIMEOUT_S,
        )
        refused = [f"{w}: {master.ready[w]}" for w in chosen if master.ready[w]]
        if refused:
            raise MasterFailed(f"a worker refused the plan ({refused[0]})")
        runner.start(max(users, workers), spawn_rate=max(users, workers))
        t0 = time.time() + _LEAD_S
        cpu0 = time.process_time()
        runner.send_message(GO, {"t0": t0})
        write_start(out, t0)
        bound = t0 + plan.schedule.duration + drain_s + plan.timeout + 5.0
        master.wait_end(chosen, bound - time.time(), interruptible=True)
        aborted = master.stop.is_set()
        ended = time.time()
        if not master.ended(chosen):  # interrupted, or a worker past its bound: last batches
            runner.send_message(STOP)
            master.wait_end(chosen, _STOP_WAIT_S, interruptible=False)
        meta = {
            "t0": t0,
            "ended": ended,
            "aborted": aborted,
            "workers": master.workers_json(t0),
            "master_cpu_s": time.process_time() - cpu0,
            "wall_s": max(time.time() - t0, 1e-9),
        }
        master.columns.write(out, meta)
    finally:
        runner.quit()
        gevent.sleep(0.3)  # the quit messages leave before the process does


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="locust_master", description=__doc__.splitlines()[0])
    parser.add_argument("--plan", required=True, type=Path)
    parser.add_argument("--bind-host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--workers", type=int, required=True)
    parser.add_argument("--users", type=int, required=True)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--join-timeout", type=float, default=30.0)
    parser.add_argument("--drain", type=float, default=2.0)
    args = parser.parse_args(argv)
    setup_logging("WARNING")
    try:
        plan_data = json.loads(args.plan.read_text(encoding="utf-8"))
        run_master(
            plan_data,
            args.bind_host,
            args.port,
            args.workers,
            args.users,
            args.out,
            args.join_timeout,
            args.drain,
        )
    except (MasterFailed, PlanFileError, OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 3
    return 0


if __name__ == "__main__":
    sys.exit(main())
