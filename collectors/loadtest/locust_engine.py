"""The Locust engine: a load plan sent by a Locust master and N workers, each its own process.

    result = run_locust(plan, workers=2)             # -> LoadTestResult(engine="locust")
    result = run_locust(plan, workers=4, local_workers=0, bind_host="0.0.0.0", port=5557)
        # ... and on each other machine: pincex loadtest worker --master THIS-HOST:5557

The plan goes to the master as a JSON file and from it to every worker as a custom message, so
a worker needs only the master's address. Request i goes to worker i mod N; within a worker
to its next free user, which sleeps until the request is due (open model: see `locust_share`).
Every answer is recorded from Locust's `request` event and comes back to the master in
batches; the master writes the columns, this process reads them into a `LoadTestResult`.

Everything is bounded: the master waits `join_timeout` for the workers, the run ends when
every worker is done or missing (Locust's heartbeat: about 3 s of silence) or at the
schedule's duration + `drain_s` + the plan's timeout; a worker lost mid-run leaves its unsent
(and unreported) requests counted in `not_sent`. Ctrl-C here tells the master to stop: what
was measured comes back with `aborted=True`.

Clocks: every process measures from the common start the master sends as a wall-clock time
(see `locust_share`): workers on other machines must keep their clocks in step (NTP).
The plan, seeded users' API keys included, travels unencrypted (Locust's ZeroMQ): keep the
master and its workers on a trusted network.

Locust monkey-patches the standard library with gevent when imported, so it is never imported
here: the master and workers are `python -m collectors.loadtest.locust_master|locust_worker`.
"""

from __future__ import annotations

import json
import math
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

import numpy as np

from collectors.loadtest.locust_wire import read_outcome, read_start
from collectors.loadtest.plan import LoadPlan
from collectors.loadtest.plan_file import plan_to_json
from collectors.loadtest.result import LoadTestResult, WorkerRecord
from common.ports import free_port

__all__ = [
    "DEFAULT_MASTER_PORT",
    "DRAIN_S",
    "USER_SECONDS",
    "LocustEngineError",
    "parse_master",
    "run_locust",
    "run_worker_process",
]

DEFAULT_MASTER_PORT = 5557  # Locust's own default
DRAIN_S = 2.0  # past the schedule, requests may still be sent this long (then: not sent)
_INTERRUPT_WAIT_S = 30.0  # for an interrupted master to write what it has
_REAP_S = 10.0  # for the workers to quit once the master is done
_SLACK_S = 30.0  # start-up of the processes, on top of every bound they keep themselves
_TICK_S = 0.5  # progress is told this often
USER_SECONDS = 0.05  # default users: enough for answers within 50 ms at the peak rate


Progress = Callable[[float, float], None]  # (seconds done, seconds planned)


class LocustEngineError(Exception):
    """The Locust run could not be made; a one-line reason."""


def parse_master(value: str) -> tuple[str, int]:
    """`HOST[:PORT]` (port 5557 when left out) as (host, port); ValueError otherwise."""
    host, sep, port = value.strip().rpartition(":")
    if not sep or "]" in port:
        host, port = value.strip(), str(DEFAULT_MASTER_PORT)
    host = host.strip("[]")
    if not host:
        raise ValueError(f"expected HOST[:PORT], got {value!r}")
    if not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"expected a port from 1 to 65535, got {port!r} in {value!r}")
    return host, int(port)


def _spawn(module: str, args: list[str], stderr: IO[bytes]) -> subprocess.Popen[bytes]:
    # its own process group: a Ctrl-C at the terminal reaches only this process, which
    # stops the run in order (master first)
    return subprocess.Popen(
        [sys.executable, "-m", f"collectors.loadtest.{module}", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        process_group=0,
    )


def _last_line(path: Path) -> str:
    lines = path.read_text(encoding="utf-8", errors="replace").strip().splitlines()
    errors = [line for line in lines if line.startswith("error: ")]
    return (errors or lines or ["no output on stderr"])[-1].removeprefix("error: ").strip()


def run_locust(
    plan: LoadPlan,
    workers: int,
    *,
    users: int | None = None,
    local_workers: int | None = None,
    bind_host: str = "127.0.0.1",
    port: int = 0,
    join_timeout: float = 30.0,
    drain_s: float = DRAIN_S,
    progress: Progress | None = None,
) -> LoadTestResult:
    """Send `plan` through a Locust master and `workers` workers (`local_workers` of them
    started here, all by default; the rest join with `pincex loadtest worker`), with `users`
    users in all (by default the plan's `connections`, or more: enough that answers within
    `USER_SECONDS` at the peak rate never hold a due request back); `progress(seconds done,
    seconds planned)` about twice a second once the run has started. LocustEngineError when
    the run could not start; PortUnavailable when the master's port is taken; a
    KeyboardInterrupt when Ctrl-C came before anything was measured."""
    if workers < 1:
        raise LocustEngineError(f"at least one worker is needed, got {workers}")
    local = workers if local_workers is None else local_workers
    if not 0 <= local <= workers:
        raise LocustEngineError(f"local workers must be 0 to {workers}, got {local}")
    if users is None:
        users = max(plan.connections, math.ceil(plan.schedule.peak_rate * USER_SECONDS))
    users = max(users, workers)
    port = free_port(bind_host, port, "--master-port")
    connect = {"0.0.0.0": "127.0.0.1", "::": "::1"}.get(bind_host, bind_host)
    bound = join_timeout + plan.schedule.duration + drain_s + plan.timeout + _SLACK_S
    interrupted = False
    with tempfile.TemporaryDirectory(prefix="pincex-locust-") as tmp:
        folder = Path(tmp)
        (folder / "plan.json").write_text(json.dumps(plan_to_json(plan)), encoding="utf-8")
        master_log = folder / "master.log"
        options = {
            "--plan": folder / "plan.json",
            "--bind-host": bind_host,
            "--port": port,
            "--workers": workers,
            "--users": users,
            "--out": folder,
            "--join-timeout": join_timeout,
            "--drain": drain_s,
        }
        with master_log.open("wb") as log:
            master = _spawn("locust_master", [str(x) for kv in options.items() for x in kv], log)
        started: list[subprocess.Popen[bytes]] = []
        try:
            for k in range(local):
                with (folder / f"worker-{k}.log").open("wb") as log:
                    started.append(_spawn("locust_worker", ["--master", f"{connect}:{port}"], log))
            try:
                _wait(master, bound, folder, plan.schedule.duration, progress)
            except KeyboardInterrupt:
                interrupted = True
                master.send_signal(signal.SIGINT)
                master.wait(timeout=_INTERRUPT_WAIT_S)
        except subprocess.TimeoutExpired:
            raise LocustEngineError(
                f"the Locust master overran its {bound:.0f} s bound and was killed"
            ) from None
        finally:
            if master.poll() is None:
                master.kill()
                master.wait()
            _reap(started)
        if master.returncode != 0:
            if interrupted:
                raise KeyboardInterrupt
            raise LocustEngineError(
                f"the Locust master failed (exit {master.returncode}): {_last_line(master_log)}"
            )
        try:
            arrays, meta = read_outcome(folder)
        except (OSError, ValueError) as exc:
            raise LocustEngineError(f"the Locust master left no outcome: {exc}") from None
    return _result(plan, arrays, meta, interrupted)


def _wait(
    master: subprocess.Popen[bytes],
    bound: float,
    folder: Path,
    duration: float,
    progress: Progress | None,
) -> None:
    """Until the master ends (TimeoutExpired past `bound` seconds), telling `progress`."""
    until = time.monotonic() + bound
    t0: float | None = None
    while True:
        try:
            master.wait(timeout=min(_TICK_S, max(until - time.monotonic(), 0.01)))
            return
        except subprocess.TimeoutExpired:
            if time.monotonic() >= until:
                raise
        if progress is not None:
            t0 = t0 or read_start(folder)
            if t0 is not None:
                progress(min(max(time.time() - t0, 0.0), duration), duration)


def _reap(processes: list[subprocess.Popen[bytes]]) -> None:
    until = time.monotonic() + _REAP_S
    for proc in processes:
        try:
            proc.wait(timeout=max(until - time.monotonic(), 0.01))
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _result(
    plan: LoadPlan, arrays: dict[str, Any], meta: dict[str, Any], interrupted: bool
) -> LoadTestResult:
    index = arrays["index"].astype(np.int64)
    dues = plan.schedule.due_times()
    due = dues[index]
    sent = arrays["sent"]
    lag = sent - due
    t0 = float(meta["t0"])
    aborted = interrupted or bool(meta["aborted"])
    duration = plan.schedule.duration
    elapsed = min(max(float(meta["ended"]) - t0, 0.0), duration) if aborted else duration
    cpu_s = float(meta["master_cpu_s"]) + sum(float(c) for c in meta["worker_cpu_s"].values())
    return LoadTestResult(
        engine="locust",
        started_at=t0,
        elapsed=elapsed,
        route=plan.routes_of(index),
        due=due,
        sent=sent,
        done=arrays["done"],
        status=arrays["status"],
        retry_after=arrays["retry_after"],
        timed_out=arrays["timed_out"],
        not_sent=len(dues) - len(index),
        errors=tuple(meta["errors"]),
        schedule_lag_p99=float(np.percentile(lag, 99)) if len(lag) else 0.0,
        schedule_lag_max=float(lag.max()) if len(lag) else 0.0,
        generator_cpu_pct=round(cpu_s / float(meta["wall_s"]) * 100, 1),
        aborted=aborted,
        order_ids=arrays["order_ids"],
        crossed_books=int(meta["crossed_books"]),
        workers=tuple(
            WorkerRecord(
                id=str(w["id"]),
                host=str(w["host"]),
                joined_s=float(w["joined_s"]),
                missing_s=None if w["missing_s"] is None else float(w["missing_s"]),
                requests=int(w["requests"]),
            )
            for w in meta["workers"]
        ),
    )


def run_worker_process(host: str, port: int, connect_timeout: float = 60.0) -> int:
    """A worker for the master at host:port in its own process (Locust stays out of this
    one), until the master lets it go; its exit code (2 with one line on stderr when no
    master answered within `connect_timeout` seconds). Ctrl-C stops it."""
    module = "collectors.loadtest.locust_worker"
    args = ["--master", f"{host}:{port}", "--connect-timeout", str(connect_timeout)]
    proc = subprocess.Popen([sys.executable, "-m", module, *args], stdin=subprocess.DEVNULL)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        proc.send_signal(signal.SIGINT)
        try:
            return proc.wait(timeout=_REAP_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            return 130
