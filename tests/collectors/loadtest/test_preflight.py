"""The pre-test checklist against real targets: the exchange on 127.0.0.1 port 0, a server
without health routes, nothing listening, a busy exchange, a real Prometheus, run stores with
and without a pinned baseline."""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from collectors.bench.admin import AdminClient
from collectors.loadtest.preflight import CHECK_NAMES, Preflight, preflight
from collectors.store.store import RunStore
from common.loadtest_terms import Definitions
from common.ports import free_port
from dashboard.bench_loadtest import loadtest_run
from exchange_ref.server import ServerThread
from tests.collectors.stub_server import NoMetrics, serving
from tests.factories import exchange_settings

ADMIN = "test-admin-key-0123456"
QUICK = Definitions(idle_window=0.5)


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    thread = ServerThread(exchange_settings(tmp_path_factory.mktemp("preflight-ex"))).start()
    try:
        yield thread
    finally:
        thread.stop()


@pytest.fixture
def pinned_store(tmp_path: Path) -> Path:
    """A run store whose load-test baseline for profile "baseline" is pinned."""
    store = RunStore(tmp_path / "pinned.duckdb")
    run = loadtest_run(profile="baseline")
    store.write(run)
    store.pin(run.id)
    return store.path


def _run(target: str, store: Path, **given: object) -> Preflight:
    options: dict[str, object] = {
        "admin_key": "",
        "profile": "baseline",
        "store_path": store,
        "prometheus_url": None,
        "definitions": QUICK,
    }
    options.update(given)
    return preflight(target, **options)  # type: ignore[arg-type]


def _by_name(result: Preflight) -> dict[str, tuple[str, str]]:
    assert tuple(c.name for c in result.checks) == CHECK_NAMES
    return {c.name: (c.status, c.reason) for c in result.checks}


def test_a_ready_exchange_passes_every_check(exchange: ServerThread, pinned_store: Path) -> None:
    keys = AdminClient(exchange.url, ADMIN).seed_users(2, "BTCUSD", "pre")
    result = _run(exchange.url, pinned_store, admin_key=ADMIN, keys=keys)
    checks = _by_name(result)
    assert result.passed, result.lines()
    assert checks["target_healthy"][0] == "pass"
    assert "/health/live and /health/ready answered 200" in checks["target_healthy"][1]
    assert checks["metrics_reset"][0] == "pass"
    assert "answered 200" in checks["metrics_reset"][1]
    status, reason = checks["monitoring_answering"]
    assert status == "pass" and "pincex_ metrics" in reason and "PINCEX_PROMETHEUS_URL" in reason
    assert checks["test_data_seeded"][0] == "pass"
    assert "2 keys authenticate and hold USD and BTC" in checks["test_data_seeded"][1]
    assert checks["baseline_pinned"][0] == "pass"
    status, reason = checks["target_idle"]
    assert status == "pass" and "0 requests" in reason and "idle below 5/s" in reason
    assert result.to_json()[0] == {
        "name": "target_healthy",
        "status": "pass",
        "reason": checks["target_healthy"][1],
    }
    assert result.lines()[-1] == "preflight passed"


def test_without_key_keys_or_store_the_exchange_skips_and_fails_with_reasons(
    exchange: ServerThread, tmp_path: Path
) -> None:
    missing = tmp_path / "nowhere" / "runs.duckdb"
    checks = _by_name(_run(exchange.url, missing, keys=["not-a-key"]))
    no_key = "no admin key given: the target's metrics were not reset"
    assert checks["metrics_reset"] == ("skip", no_key)
    status, reason = checks["test_data_seeded"]
    assert status == "fail" and "key 1 of 1" in reason and "HTTP 401" in reason
    assert checks["baseline_pinned"] == ("fail", f"no run store at {missing}")
    assert not missing.parent.exists()  # reading never creates a store
    wrong = _by_name(_run(exchange.url, missing, admin_key="wrong-admin-key-000000"))
    assert wrong["metrics_reset"][0] == "fail" and "refused" in wrong["metrics_reset"][1]


def test_a_store_without_the_profiles_baseline_fails(
    exchange: ServerThread, pinned_store: Path
) -> None:
    checks = _by_name(_run(exchange.url, pinned_store, profile="peak"))
    status, reason = checks["baseline_pinned"]
    assert status == "fail"
    assert "no load-test baseline pinned for profile 'peak'" in reason
    assert "pinned load-test profiles: baseline" in reason


def test_a_busy_exchange_is_not_idle(exchange: ServerThread, pinned_store: Path) -> None:
    stop = threading.Event()

    def hammer() -> None:
        with httpx.Client(base_url=exchange.url, timeout=5) as client:
            while not stop.is_set():
                client.get("/api/v1/market/ticker", params={"symbol": "BTCUSD"})

    worker = threading.Thread(target=hammer, daemon=True)
    worker.start()
    try:
        time.sleep(0.2)
        slow = Definitions(idle_window=1.0)
        checks = _by_name(_run(exchange.url, pinned_store, definitions=slow))
    finally:
        stop.set()
        worker.join(10)
    status, reason = checks["target_idle"]
    assert status == "fail", reason
    rate = float(reason.split(" = ")[1].split("/s")[0])
    assert rate >= 5.0 and "idle below 5/s" in reason


class _NoHealth(NoMetrics):
    """Not the exchange: 404 on /health/* and /metrics, 200 elsewhere."""

    def do_GET(self) -> None:
        if self.path.startswith("/health/"):
            self.send_response(404)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        super().do_GET()


class _LiveOnly(NoMetrics):
    """Not the exchange: a plain-text /health/live, 404 on /health/ready and /metrics."""

    def do_GET(self) -> None:
        body = b"ok" if self.path == "/health/live" else b""
        code = 404 if self.path in ("/health/ready", "/metrics") else 200
        self.send_response(code)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


class _Starting(NoMetrics):
    """Answers /health as the exchange does while it rebuilds its books: live, not ready."""

    def do_GET(self) -> None:
        ready = self.path == "/health/ready"
        body = b'{"status": "starting"}' if ready else b'{"status": "live"}'
        self.send_response(503 if ready else 200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@pytest.mark.parametrize("handler", [_NoHealth, _LiveOnly], ids=["no-health", "live-only"])
def test_a_server_without_health_routes_passes_by_answering(
    pinned_store: Path, handler: type[NoMetrics]
) -> None:
    with serving(handler) as url:
        result = _run(url, pinned_store)
    checks = _by_name(result)
    status, reason = checks["target_healthy"]
    assert status == "pass" and "no /health routes" in reason
    assert "/health/ready HTTP 404" in reason and "the base URL answered HTTP 200" in reason
    assert checks["monitoring_answering"][0] == "skip"
    assert "not the exchange" in checks["monitoring_answering"][1]
    assert checks["test_data_seeded"][0] == "skip"
    assert checks["target_idle"][0] == "skip"
    assert result.passed


def test_an_exchange_that_is_not_ready_fails(pinned_store: Path) -> None:
    with serving(_Starting) as url:
        checks = _by_name(_run(url, pinned_store))
    assert checks["target_healthy"] == (
        "fail",
        "/health/live answered HTTP 200, /health/ready HTTP 503 (both should be 200)",
    )
    # it answered as the exchange does, so its missing /metrics is a failure, not a skip
    assert checks["monitoring_answering"][0] == "fail"


@pytest.mark.parametrize("port", ["free", "bad"])
def test_a_target_that_is_down_fails_or_skips_every_check(tmp_path: Path, port: str) -> None:
    # nothing listens on a free port; a port that is not a number cannot even be asked
    url = f"http://127.0.0.1:{free_port('127.0.0.1', 0) if port == 'free' else 'x1'}"
    began = time.monotonic()
    result = _run(url, tmp_path / "runs.duckdb", admin_key=ADMIN, keys=["k"])
    assert time.monotonic() - began < 30
    checks = _by_name(result)
    assert not result.passed
    assert all(status in ("fail", "skip") for status, _ in checks.values())
    assert checks["target_healthy"][0] == "fail"
    assert checks["target_healthy"][1].startswith(f"cannot reach {url}")
    for name in ("metrics_reset", "monitoring_answering", "test_data_seeded", "target_idle"):
        assert checks[name][0] == "fail" and "cannot reach" in checks[name][1], name
    assert result.lines()[-1].startswith("preflight failed: target_healthy, metrics_reset")


@pytest.fixture(scope="module")
def prometheus(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Prometheus on 127.0.0.1 scraping itself every second; its URL once `up` answers."""
    folder = tmp_path_factory.mktemp("prometheus")
    port = free_port("127.0.0.1", 0)
    config = folder / "prometheus.yml"
    config.write_text(
        "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: self\n"
        f"    static_configs:\n      - targets: ['127.0.0.1:{port}']\n"
    )
    proc = subprocess.Popen(
        ["prometheus", f"--config.file={config}", f"--storage.tsdb.path={folder / 'data'}",
         f"--web.listen-address=127.0.0.1:{port}"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                answer = httpx.get(f"{url}/api/v1/query", params={"query": "up"}, timeout=1)
                if answer.status_code == 200 and answer.json()["data"]["result"]:
                    break
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        else:
            pytest.fail("prometheus did not answer `up` within 30 s")
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


def test_a_configured_prometheus_is_checked(
    exchange: ServerThread, pinned_store: Path, prometheus: str
) -> None:
    checks = _by_name(_run(exchange.url, pinned_store, prometheus_url=prometheus))
    status, reason = checks["monitoring_answering"]
    assert status == "pass", reason
    assert f"Prometheus at {prometheus} is ready and `up` has 1 series" in reason
    down = f"http://127.0.0.1:{free_port('127.0.0.1', 0)}"
    checks = _by_name(_run(exchange.url, pinned_store, prometheus_url=down))
    status, reason = checks["monitoring_answering"]
    assert status == "fail" and f"cannot reach Prometheus at {down}" in reason
