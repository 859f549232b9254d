"""The Locust engine with real parts: a master and workers in subprocesses, a real exchange or a
server whose service times are known, the plan from config/loadtest.yaml."""

from __future__ import annotations

import _thread
import contextlib
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler

import numpy as np
import pytest
from click.testing import CliRunner

from collectors.bench.admin import AdminClient
from collectors.loadtest.config import load_loadtest_config
from collectors.loadtest.locust_engine import (
    LocustEngineError,
    parse_master,
    run_locust,
)
from collectors.loadtest.plan import LoadPlan
from collectors.loadtest.plan_file import PlanFileError, plan_from_json, plan_to_json
from collectors.loadtest.result import LoadTestResult
from collectors.loadtest.schedule import constant_schedule, schedule_for
from common.ports import free_port
from exchange_ref.server import ServerThread
from pincex.commands.loadtest_worker import worker
from tests.collectors.known_server import realized_ms, spawn
from tests.collectors.stub_server import serving
from tests.factories import exchange_settings


def _plan(target: str, rate: float, seconds: float, **kwargs: object) -> LoadPlan:
    config = load_loadtest_config()
    return LoadPlan.build(config, rate, constant_schedule(rate, seconds), target, **kwargs)


def _accounted(plan: LoadPlan, result: LoadTestResult) -> None:
    assert result.engine == "locust"
    assert len(result) + result.not_sent == plan.schedule.planned
    # each request at most once (constant schedules: every due time distinct), on its route
    assert (np.diff(result.due) > 0).all()
    index = np.searchsorted(plan.schedule.due_times(), result.due)
    assert np.array_equal(result.route, plan.routes_of(index.astype(np.int64)))


def _when_served(url: str, count: int, then: Callable[[], None]) -> threading.Thread:
    """A thread calling `then` once the known server at `url` has answered `count` requests
    (the run is under way, whatever the machine's start-up time)."""

    def watch() -> None:
        deadline = time.monotonic() + 60
        while len(realized_ms(url)) < count and time.monotonic() < deadline:
            time.sleep(0.1)
        then()

    thread = threading.Thread(target=watch, daemon=True)
    thread.start()
    return thread


def _cli_worker(port: int) -> subprocess.Popen[bytes]:
    """`pincex loadtest worker --master 127.0.0.1:PORT`, as on another machine."""
    code = "from pincex.commands.loadtest_worker import worker; worker()"
    return subprocess.Popen(
        [sys.executable, "-c", code, "--master", f"127.0.0.1:{port}"],
        stdin=subprocess.DEVNULL,
    )


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    thread = ServerThread(exchange_settings(tmp_path_factory.mktemp("locust"))).start()
    try:
        yield thread
    finally:
        thread.stop()


def test_the_configs_mix_against_the_exchange_with_a_remote_style_worker(
    exchange: ServerThread,
) -> None:
    keys = AdminClient(exchange.url, "test-admin-key-0123456").seed_users(8, "BTCUSD", "lc")
    plan = _plan(exchange.url, 150.0, 4.0, keys=tuple(keys), connections=16)
    port = free_port("127.0.0.1", 0)
    remote = _cli_worker(port)
    try:
        result = run_locust(plan, workers=2, local_workers=1, port=port)
        assert remote.wait(timeout=30) == 0  # the master let it go
    finally:
        if remote.poll() is None:
            remote.kill()
            remote.wait()
    _accounted(plan, result)
    assert result.not_sent == 0 and not result.aborted
    assert len(result.workers) == 2
    assert all(w.missing_s is None and w.joined_s < 0 for w in result.workers)
    assert sum(w.requests for w in result.workers) == len(result)
    # authenticated: the orders and account routes answered 2xx with the seeded keys
    assert result.ok.mean() > 0.99, np.unique(result.status, return_counts=True)
    assert len(result.order_ids) > 0 and result.crossed_books == 0
    # the achieved mix within 3 points of the planned one, per route
    counts = np.bincount(result.route, minlength=len(plan.routes)) / len(result)
    for route, achieved in zip(plan.routes, counts, strict=True):
        assert abs(achieved - route.share) < 0.03, (route.name, achieved, route.share)
    latency, service = result.latency_ms(), result.service_ms()
    assert np.isfinite(latency).all() and np.isfinite(service).all()
    assert (latency >= service - 1e-6).all()
    # arrivals spread over each second: no second's first tenth holds a burst
    sent_frac = result.sent % 1.0
    assert (sent_frac < 0.1).mean() < 0.2
    assert 0 < result.generator_cpu_pct < 400


def test_latency_from_the_due_time_covers_a_known_service_time() -> None:
    proc, url = spawn("--cycle", "0.05")
    try:
        plan = _plan(url, 60.0, 3.0, connections=16)
        told: list[tuple[float, float]] = []
        result = run_locust(plan, workers=2, progress=lambda d, t: told.append((d, t)))
        served = realized_ms(url)
    finally:
        proc.kill()
        proc.wait()
    _accounted(plan, result)
    assert result.not_sent == 0 and (result.status == 200).all()
    assert len(served) == len(result)
    assert result.latency_ms().min() >= min(served) >= 50.0
    assert (result.latency_ms() >= result.service_ms() - 1e-6).all()
    # progress from the common start on, in seconds of the schedule
    assert told and all(t == 3.0 and 0 <= d <= 3.0 for d, t in told)
    assert [d for d, _ in told] == sorted(d for d, _ in told) and told[-1][0] > 2.0


class _Refusing(BaseHTTPRequestHandler):
    """Orders refused 429 with Retry-After, the ticker 503 without, the balance answered
    after 2 s (past the plan's timeout), anything else 200."""

    protocol_version = "HTTP/1.1"

    def _answer(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.path.startswith("/api/v1/account/balance"):
            time.sleep(2.0)
            head = "200 OK"
        elif self.path.startswith("/api/v1/orders"):
            head = "429 Too Many Requests\r\nRetry-After: 1"
        elif self.path.startswith("/api/v1/market/ticker"):
            head = "503 Service Unavailable"
        else:
            head = "200 OK"
        with contextlib.suppress(OSError):  # the client may have given up on it
            self.wfile.write(f"HTTP/1.1 {head}\r\nContent-Length: 2\r\n\r\n{{}}".encode())

    do_GET = do_POST = _answer

    def log_message(self, *args: object) -> None:
        pass


def test_refusals_retry_after_and_timeouts_are_recorded_per_request() -> None:
    with serving(_Refusing) as url:
        plan = _plan(url, 50.0, 2.0, connections=16, timeout=0.6)
        result = run_locust(plan, workers=1)
    _accounted(plan, result)
    assert result.not_sent == 0
    names = [r.endpoint.path for r in plan.routes]
    kind = np.array(names)[result.route]
    orders, ticker = kind == "/api/v1/orders", kind == "/api/v1/market/ticker"
    slow = kind == "/api/v1/account/balance"
    assert orders.any() and ticker.any() and slow.any()
    assert (result.status[orders] == 429).all() and result.retry_after[orders].all()
    assert (result.status[ticker] == 503).all() and not result.retry_after[ticker].any()
    assert (result.status[slow] == 0).all() and result.timed_out[slow].all()
    assert np.isnan(result.done[slow]).all() and np.isnan(result.latency_ms()[slow]).all()
    assert not result.timed_out[~slow].any()
    assert result.errors == ("GET /api/v1/account/balance: TimeoutError: timed out",)


def test_a_worker_killed_mid_run_is_missing_and_the_run_still_ends() -> None:
    proc, url = spawn("--cycle", "0.002")
    port = free_port("127.0.0.1", 0)
    plan = _plan(url, 100.0, 5.0, connections=8)
    out: dict[str, LoadTestResult] = {}
    run = threading.Thread(
        target=lambda: out.update(r=run_locust(plan, workers=2, local_workers=1, port=port))
    )
    victim = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "collectors.loadtest.locust_worker",
            "--master",
            f"127.0.0.1:{port}",
        ],
        stdin=subprocess.DEVNULL,
    )
    try:
        run.start()
        _when_served(url, 150, victim.kill).join()  # 1.5 s into the 5 s run
        victim.wait()
        run.join(timeout=60)
        assert not run.is_alive(), "the run did not end by itself"
    finally:
        proc.kill()
        proc.wait()
        if victim.poll() is None:
            victim.kill()
            victim.wait()
    result = out["r"]
    _accounted(plan, result)
    missing = [w for w in result.workers if w.missing_s is not None]
    assert len(missing) == 1 and len(result.workers) == 2
    assert 0 < missing[0].missing_s < 30  # type: ignore[operator]
    assert result.not_sent > 0  # the lost worker's unsent requests
    assert 0 < missing[0].requests < plan.schedule.planned / 2


def test_ctrl_c_returns_what_was_measured_marked_aborted() -> None:
    proc, url = spawn("--cycle", "0.002")
    plan = _plan(url, 100.0, 20.0, connections=8)
    try:
        _when_served(url, 200, _thread.interrupt_main)  # 2 s into the 20 s run
        result = run_locust(plan, workers=1)
    finally:
        proc.kill()
        proc.wait()
    assert result.aborted
    assert 0 < len(result) < plan.schedule.planned
    _accounted(plan, result)
    assert result.elapsed < plan.schedule.duration / 2  # stopped, not run to the end


def test_the_plan_travels_whole_and_bad_plans_are_one_line() -> None:
    config = load_loadtest_config()
    profile = config.profile("spike").scaled(0.01)
    plan = LoadPlan.build(
        config, profile.rate, schedule_for(profile), "http://x", keys=("a", "b"), seed=7
    )
    back = plan_from_json(plan_to_json(plan))
    assert back.routes == plan.routes and back.schedule == plan.schedule
    assert np.array_equal(back.mix, plan.mix) and back.keys == plan.keys and back.seed == 7
    assert np.array_equal(back.schedule.due_times(), plan.schedule.due_times())
    for bad, why in (([], "JSON object"), ({"version": 9}, "version 9"), ({"version": 1}, "field")):
        with pytest.raises(PlanFileError, match=why):
            plan_from_json(bad)
    data = plan_to_json(plan)
    data["mix"] = [0, 99]
    with pytest.raises(PlanFileError, match="mix"):
        plan_from_json(data)


def test_master_addresses_and_bad_ones() -> None:
    assert parse_master("10.0.0.5") == ("10.0.0.5", 5557)
    assert parse_master("10.0.0.5:6000") == ("10.0.0.5", 6000)
    assert parse_master("[::1]:6000") == ("::1", 6000)
    assert parse_master("[::1]") == ("::1", 5557)
    for bad in ("", ":6000", "host:0", "host:x", "host:70000"):
        with pytest.raises(ValueError):
            parse_master(bad)
    result = CliRunner().invoke(worker, ["--master", "host:x"])
    assert result.exit_code == 2
    assert result.output.strip().count("\n") == 0 and "--master" in result.output
    with pytest.raises(LocustEngineError, match="at least one worker"):
        run_locust(_plan("http://127.0.0.1:1", 10.0, 1.0), workers=0)


def test_a_worker_without_a_master_is_one_line_within_its_timeout() -> None:
    code = "from pincex.commands.loadtest_worker import worker; worker()"
    port = free_port("127.0.0.1", 0)
    began = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code, "--master", f"127.0.0.1:{port}", "--connect-timeout", "1"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert out.returncode == 2
    assert out.stderr.strip() == f"error: no Locust master answered at 127.0.0.1:{port} within 1 s"
    assert time.monotonic() - began < 20


def test_a_master_without_workers_fails_in_one_line_within_its_bound() -> None:
    plan = _plan("http://127.0.0.1:1", 10.0, 1.0)
    began = time.monotonic()
    with pytest.raises(LocustEngineError, match="waited 2 s for 1 worker"):
        run_locust(plan, workers=1, local_workers=0, join_timeout=2.0)
    assert time.monotonic() - began < 30


def test_the_pincex_side_never_imports_locust() -> None:
    code = (
        "import sys, collectors.loadtest.locust_engine, pincex.commands.loadtest_worker; "
        "print(sorted(m for m in ('locust', 'gevent') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
