"""`pincex loadtest run` end to end: every profile at a tiny scale against a real exchange on
127.0.0.1, with its verdicts, the invariants audited and the run kept; bad input, a target that
is down, Ctrl-C and the Locust engine."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from collectors.store.store import RunStore
from dashboard.loadtest_record import read_record
from exchange_ref.server import ServerThread
from tests.factories import exchange_settings

ADMIN = "test-admin-key-0123456"
INVARIANTS = {
    "orders_present",
    "funds_conserved",
    "balances_reconcile_with_trades",
    "no_negative_balance",
    "locks_match_open_orders",
    "no_overfilled_order",
    "book_not_crossed",
    "durable_matches_memory",
}
# each profile at a tiny scale: (--scale, --duration) and the verdicts its expected results give
PROFILES = {
    "baseline": (0.04, "4s", {"p95 latency", "p99 latency", "error rate", "throughput"}),
    "peak": (0.02, "4s", {"p95 latency", "p99 latency", "error rate", "stable"}),
    "stress": (0.01, "4s", {"max capacity", "graceful degradation", "error handling"}),
    "spike": (0.05, "5s", {"recovery", "queue depth"}),
}


def loadtest(
    *args: str, store: Path, timeout: float = 180, **popen: object
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pincex", "loadtest", *args],
        capture_output=True,
        text=True,
        timeout=timeout,  # the command stops by itself well before this
        env=dict(os.environ, PINCEX_STORE_PATH=str(store), PINCEX_ADMIN_KEY=""),
        **popen,  # type: ignore[call-overload]
    )


@pytest.fixture(scope="module")
def exchange(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerThread]:
    with ServerThread(exchange_settings(tmp_path_factory.mktemp("lt-ex"), admin_key=ADMIN)) as ex:
        yield ex


@pytest.mark.parametrize("profile", list(PROFILES))
def test_every_profile_at_a_tiny_scale_is_judged_audited_and_kept(
    exchange: ServerThread, tmp_path: Path, profile: str
) -> None:
    scale, duration, expected = PROFILES[profile]
    store = tmp_path / "runs.duckdb"
    done = loadtest(
        "run", "--profile", profile, "--scale", str(scale), "--duration", duration,
        "--target", exchange.url, "--admin-key", ADMIN, "--force", "--json", store=store,
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    doc = orjson.loads(done.stdout)
    assert doc["profile"] == profile and doc["scale"] == scale and doc["engine"] == "ours"
    assert doc["requests"] > 0
    # every request of the stages run was sent or counted as not sent (a stress run may stop
    # early: its stages are those it ran)
    sent = doc["requests"] + doc["not_sent"]
    assert abs(sent - sum(s["planned_requests"] for s in doc["stages"])) <= len(doc["stages"])
    if doc.get("stopped_early_after") is None:
        assert sent == doc["planned_requests"]
    # the exit code follows the verdicts and the trust, as k6 thresholds do
    assert (done.returncode == 0) == doc["passed"]
    assert doc["passed"] == (
        doc["trusted"] and all(v["status"] != "missed" for v in doc["verdicts"])
    )
    names = {v["name"] for v in doc["verdicts"]}
    assert expected <= names and "data corruption" in names
    for v in doc["verdicts"]:
        assert set(v) == {"name", "target", "observed", "status", "reason"}
        assert v["status"] in ("met", "missed", "not measured")
        assert v["reason"].startswith(f"scaled x{scale:g}") or v["reason"].startswith("scaled (")
    # the exchange stayed correct under the load
    assert {i["name"] for i in doc["invariants"]} == INVARIANTS
    assert all(i["passed"] for i in doc["invariants"]), doc["invariants"]
    corruption = next(v for v in doc["verdicts"] if v["name"] == "data corruption")
    assert corruption["status"] == "met"
    for name, scenario in doc["scenarios"].items():
        assert abs(scenario["achieved_share"] - scenario["planned_share"]) <= 0.03, name
    assert [p["name"] for p in doc["preflight"]][:2] == ["target_healthy", "metrics_reset"]
    assert set(doc["analysis"]) >= {"comparison", "bottleneck", "recommendations", "capacity_model"}
    run = RunStore(str(store)).get(doc["run_id"])
    assert (run.kind, run.profile) == ("loadtest", profile)
    assert run.config["verdicts"] == doc["verdicts"]
    assert {s.name for s in run.summaries} >= {"all requests", "scenario:order_placement"}
    # the dashboard reads every part of the stored run
    record = read_record(run.config)
    assert record.problems == () and not record.analysis.empty
    if profile == "stress":
        steps = doc["steps"]
        assert steps and all("met" in s for s in steps)
        assert [s["rate_to"] for s in steps] == sorted(s["rate_to"] for s in steps)
    if profile == "spike":
        assert next(s["name"] for s in doc["stages"] if s["kind"] == "spike") == "spike 1"


def test_a_failed_preflight_refuses_to_start_and_says_which(
    exchange: ServerThread, tmp_path: Path
) -> None:
    """No baseline is pinned in an empty store: the run refuses without --force."""
    done = loadtest(
        "run", "--profile", "baseline", "--scale", "0.01", "--duration", "2s",
        "--target", exchange.url, "--admin-key", ADMIN, store=tmp_path / "none.duckdb",
    )  # fmt: skip
    assert done.returncode == 1
    assert "FAIL  baseline_pinned" in done.stdout
    assert done.stderr.strip().splitlines() == [
        "error: not started: preflight failed (baseline_pinned); fix it or pass --force"
    ]
    assert not (tmp_path / "none.duckdb").exists()


def test_preflight_of_a_target_that_is_down(tmp_path: Path) -> None:
    done = loadtest(
        "preflight", "--target", "http://127.0.0.1:9", "--json", store=tmp_path / "s.duckdb"
    )
    assert done.returncode == 1
    checks = {c["name"]: c for c in orjson.loads(done.stdout)["checks"]}
    assert checks["target_healthy"]["status"] == "fail"
    assert "cannot reach" in checks["target_healthy"]["reason"]
    assert done.stderr.startswith("error: preflight failed: target_healthy")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--profile", "soak"], "no profile 'soak'"),
        (["--scale", "0"], "--scale"),
        (["--duration", "soon"], "expected a duration"),
        (["--engine", "ours", "--workers", "3"], "are for --engine locust"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(
    exchange: ServerThread, tmp_path: Path, args: list[str], message: str
) -> None:
    done = loadtest("run", "--target", exchange.url, *args, store=tmp_path / "s.duckdb")
    assert done.returncode == 2, done.stderr
    assert len(done.stderr.strip().splitlines()) == 1 and message in done.stderr
    assert "Traceback" not in done.stderr


def test_a_bad_config_is_refused_with_its_line(exchange: ServerThread, tmp_path: Path) -> None:
    config = tmp_path / "loadtest.yaml"
    text = (Path(__file__).parents[2] / "config" / "loadtest.yaml").read_text()
    config.write_text(text.replace("weight: 20", "weight: twenty"))
    done = loadtest(
        "run", "--config", str(config), "--target", exchange.url, store=tmp_path / "s.duckdb"
    )
    assert done.returncode == 2
    assert "scenarios[1].weight: expected a number" in done.stderr and "(line " in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1


def test_ctrl_c_keeps_what_was_measured_as_aborted(exchange: ServerThread, tmp_path: Path) -> None:
    store = tmp_path / "runs.duckdb"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pincex", "loadtest", "run", "--profile", "baseline",
         "--scale", "0.02", "--duration", "60s", "--target", exchange.url,
         "--admin-key", ADMIN, "--force", "--json"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=dict(os.environ, PINCEX_STORE_PATH=str(store)),
    )  # fmt: skip
    # the load starts after seeding and the preflight (its idle check takes 2 s)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and _answered(exchange) < 200:
        time.sleep(0.2)
    proc.send_signal(signal.SIGINT)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 130, err
    doc = orjson.loads(out)
    assert doc["aborted"] is True and 0 < doc["requests"] < doc["planned_requests"]
    assert RunStore(str(store)).get(doc["run_id"]).status == "aborted"


def _answered(exchange: ServerThread) -> float:
    import httpx

    text = httpx.get(exchange.url + "/metrics", timeout=5).text
    total = 0.0
    for line in text.splitlines():
        if line.startswith("pincex_http_requests_total{") and 'route="/api/v1/orders"' in line:
            total += float(line.rsplit(" ", 1)[1])
    return total


def test_the_locust_engine_runs_the_same_plan_with_two_workers(
    exchange: ServerThread, tmp_path: Path
) -> None:
    done = loadtest(
        "run", "--profile", "baseline", "--scale", "0.02", "--duration", "4s",
        "--engine", "locust", "--workers", "2", "--target", exchange.url,
        "--admin-key", ADMIN, "--force", "--json", store=tmp_path / "runs.duckdb",
    )  # fmt: skip
    assert done.returncode in (0, 1), done.stderr
    doc = orjson.loads(done.stdout)
    assert doc["engine"] == "locust"
    assert len(doc["workers"]) == 2 and all(w["missing_s"] is None for w in doc["workers"])
    assert doc["requests"] + doc["not_sent"] == doc["planned_requests"]
    assert all(i["passed"] for i in doc["invariants"])
    for scenario in doc["scenarios"].values():
        assert abs(scenario["achieved_share"] - scenario["planned_share"]) <= 0.03


def test_a_flawed_config_is_refused_before_the_target_is_tried(tmp_path: Path) -> None:
    done = loadtest(
        "run", "--config", str(tmp_path / "absent.yaml"), "--target", "http://127.0.0.1:9",
        store=tmp_path / "s.duckdb",
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == f"error: {tmp_path / 'absent.yaml'}: no such file"
