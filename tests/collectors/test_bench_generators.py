"""`pincex bench generators`: ours and Locust against one real server, in one run."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys

import httpx
import orjson
import pytest
from click.testing import CliRunner

from collectors.bench.generators import LOCUST_NOTE, locust_figures
from collectors.store.store import RunStore
from pincex.cli import cli
from tests.collectors.known_server import KnownServer

SHORT = ["--rate", "200", "--duration", "2", "--locust-users", "2"]


@pytest.fixture(scope="module")
def server():
    with KnownServer(lambda _n, _t: 0.0) as known:
        yield known


@pytest.fixture(scope="module")
def stored(server, tmp_path_factory):
    """One comparison with both Locust classes, kept in a fresh store."""
    store = tmp_path_factory.mktemp("generators") / "store.duckdb"
    args = ["bench", "generators", "--target", server.url, *SHORT, "--json"]
    result = CliRunner().invoke(cli, [*args, "--store", str(store), "--label", "t1"])
    assert result.exit_code == 0, result.output
    return orjson.loads(result.stdout), store


def test_both_generators_measure_the_same_server(stored, server):
    doc, _ = stored
    assert doc["server"] == {"kind": "target", "url": server.url, "cpu": None}
    ours, fast, http = doc["generators"]
    assert [g["name"] for g in doc["generators"]] == [
        "pincex open model",
        "locust FastHttpUser",
        "locust HttpUser",
    ]
    assert ours["requests"] == 400 and ours["errors"] == 0
    assert ours["achieved_rate"] == pytest.approx(200, rel=0.1)
    assert set(ours["latency_ms"]) == {"mean", "p50", "p90", "p95", "p99", "p999", "max"}
    assert ours["service_time_ms"]["p99"] <= ours["latency_ms"]["p99"]
    for g in (fast, http):
        assert g["requests"] > 0 and g["failures"] == 0 and g["users"] == 2
        assert g["rps"] > 0 and 0 < g["cpu_pct"] <= 110
        assert g["latency_ms"]["p50"] <= g["latency_ms"]["p99"] <= g["latency_ms"]["max"]
        assert g["note"] == LOCUST_NOTE
    assert doc["ratio_vs_locust_fast"] == pytest.approx(ours["rps"] / fast["rps"], abs=0.001)
    assert doc["ratio_vs_locust_http"] == pytest.approx(ours["rps"] / http["rps"], abs=0.001)


def test_the_comparison_is_stored_as_one_run(stored):
    doc, store = stored
    [listing] = RunStore(store).list_runs(kind="generators")
    assert listing.id == doc["run_id"]
    run = RunStore(store).get(doc["run_id"])
    assert (run.kind, run.profile, run.label) == ("generators", "comparison", "t1")
    assert [s.name for s in run.summaries] == [g["name"] for g in doc["generators"]]
    assert [s.count for s in run.summaries] == [g["requests"] for g in doc["generators"]]
    assert {h.name for h in run.histograms} == {s.name for s in run.summaries}


def test_human_table_and_no_store(server, tmp_path):
    store = tmp_path / "never.duckdb"
    args = ["bench", "generators", "--target", server.url, *SHORT, "--locust-classes", "fast"]
    result = CliRunner().invoke(cli, [*args, "--no-store", "--store", str(store)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert lines[0].split()[:4] == ["generator", "model", "requests", "req/s"]
    assert lines[1].startswith("pincex open model") and "open 200/s" in lines[1]
    assert lines[2].startswith("locust FastHttpUser") and "closed 2 users" in lines[2]
    assert any(line.startswith("ratio pincex open model / locust FastHttpUser: ") for line in lines)
    assert "stored as run" not in result.stdout
    assert not store.exists()
    assert "locust FastHttpUser: 2 users" in result.stderr


def test_locust_figures_from_its_final_statistics():
    entry = {
        "num_requests": 10,
        "num_failures": 1,
        "total_response_time": 25.0,
        "max_response_time": 7.4,
        "response_times": {"1": 5, "2": 4, "7": 1},
        "start_time": 100.0,
        "last_request_timestamp": 102.0,
    }
    figures, summary, hists = locust_figures("locust X", 3, [entry], 40.0, 45.0)
    assert (figures.requests, figures.failures, figures.rps) == (10, 1, 5.0)
    lat = figures.latency
    assert lat.mean == 2.5 and lat.max == 7.4
    assert lat.p50 == pytest.approx(1, rel=0.01) and lat.p90 == pytest.approx(2, abs=0.001)
    assert list(figures.to_json()) == [
        "name", "model", "users", "requests", "failures", "rps", "latency_ms", "cpu_pct",
        "process_cpu_pct", "note",
    ]  # fmt: skip
    assert (summary.count, summary.errors, summary.service) == (10, 1, summary.latency)
    assert {h.view for h in hists} == {"latency", "service"}


@pytest.mark.skipif(
    shutil.which("nginx") is None
    and shutil.which("nginx", path="/usr/sbin:/usr/local/sbin") is None,
    reason="nginx is not installed here (scripts/sysdeps.sh installs it)",
)
def test_without_target_it_starts_and_stops_nginx():
    args = ["bench", "generators", "--rate", "500", "--duration", "2", "--locust-users", "2"]
    result = CliRunner().invoke(cli, [*args, "--locust-classes", "fast", "--no-store", "--json"])
    assert result.exit_code == 0, result.output
    doc = orjson.loads(result.stdout)
    assert doc["server"]["kind"] == "nginx" and doc["server"]["version"].startswith("nginx/")
    assert all(g["requests"] > 0 for g in doc["generators"])
    with pytest.raises(httpx.ConnectError):
        httpx.get(doc["server"]["url"], timeout=2)


def _pincex(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pincex", "bench", "generators", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **env},
    )


@pytest.mark.parametrize(
    ("args", "env", "says"),
    [
        ((), {"PINCEX_NGINX": "/nonexistent"}, "nginx is not installed"),
        (("--rate", "-1"), {}, "--rate"),
        (("--target", "ftp://127.0.0.1:1"), {}, "--target"),
        (("--locust-classes", "fast,slow"), {}, "unknown class 'slow'"),
    ],
)
def test_mistakes_are_one_line_errors(args, env, says):
    result = _pincex(*args, **env)
    assert result.returncode != 0 and result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], result.stderr
