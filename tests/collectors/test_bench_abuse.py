"""`pincex bench abuse`: tiny scenarios against a real exchange with small limits; the JSON
shape, what the server did, and that the command stops by itself."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from exchange_ref.server import ServerThread
from tests.factories import exchange_settings

PER_SOURCE = 30


def _bench(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pincex", "bench", "abuse", *args],
        capture_output=True,
        text=True,
        timeout=timeout,  # the command must stop by itself well before this
        env=dict(os.environ, PINCEX_TARGET="http://127.0.0.1:9"),
    )


@pytest.fixture
def exchange(tmp_path: Path) -> Iterator[ServerThread]:
    settings = exchange_settings(
        tmp_path,
        admin_key="test-admin-key-0123456",
        header_timeout_seconds=0.5,
        idle_timeout_seconds=0.7,
        max_connections_per_source=PER_SOURCE,
        max_header_bytes=8192,
    )
    with ServerThread(settings) as server:
        yield server


def test_bench_abuse_reports_each_scenario_and_stops_by_itself(exchange: ServerThread) -> None:
    done = _bench(
        "--target", exchange.url, "--json", "--duration", "3", "--connections", "5",
        "--huge-header-mb", "0.5", "--header-lines", "20000", "--body-mb", "0.5",
        "--batch-mb", "0.5", "--flood", "60", "--probe-interval-ms", "10",
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    result = orjson.loads(done.stdout)
    assert result["pid"] == os.getpid()  # found from the listening port
    assert result["baseline"]["probe"]["count"] > 0
    scenarios = {s["name"]: s for s in result["scenarios"]}
    assert list(scenarios) == [
        "slowloris", "idle", "huge-header", "many-headers", "big-body", "big-batch", "flood",
    ]  # fmt: skip
    for s in scenarios.values():
        assert set(s) == {"name", "seconds", "server", "probe", "peak_rss_mb", "target"}
        assert s["seconds"] <= 3 + 1
        assert set(s["probe"]) == {"count", "failed", "p50_ms", "p99_ms", "max_ms"}
        assert isinstance(s["peak_rss_mb"], float)
        if s["name"] in ("slowloris", "idle", "big-body", "big-batch"):
            assert set(s["target"]) >= {"probe_met", "rss_met", "met"}
        else:
            assert s["target"] is None
    slow = scenarios["slowloris"]["server"]
    assert slow["closed_by_server"] == slow["opened"] == 5
    assert slow["statuses"] == {"408": 5}
    idle = scenarios["idle"]["server"]
    assert idle["closed_by_server"] == 5 and idle["statuses"] == {}
    for name in ("huge-header", "many-headers"):
        server = scenarios[name]["server"]
        assert server["status"] == 431 and server["closed_by_server"], name
    flood = scenarios["flood"]["server"]
    assert flood["held"] <= PER_SOURCE
    assert flood["refused_by_server"] >= 60 - PER_SOURCE - flood["connect_failed"]
    for s in ("big-body", "big-batch"):
        assert scenarios[s]["server"]["bytes_to_send"] > 500_000


def test_bench_abuse_human_summary_names_every_scenario(exchange: ServerThread) -> None:
    done = _bench(
        "--target", exchange.url, "--scenarios", "idle,huge-header", "--duration", "2",
        "--connections", "2", "--huge-header-mb", "0.1", "--pid", str(os.getpid()),
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    lines = done.stdout.splitlines()
    assert lines[0].startswith("baseline (no attack): /health/live p50")
    assert lines[1].startswith("idle (") and "2 of 2 closed by the server" in lines[1]
    assert lines[2].startswith("huge-header (") and "status 431" in lines[2]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--target", "http://10.1.2.3:8080"], "not a loopback address"),
        (["--target", "http://127.0.0.1:9", "--scenarios", "nope"], "unknown nope"),
        (["--target", "http://127.0.0.1:9", "--scenarios", "idle"], "cannot reach"),
    ],
)
def test_bench_abuse_refuses_bad_arguments_in_one_line(args: list[str], message: str) -> None:
    done = _bench(*args, timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert len(done.stderr.strip().splitlines()) == 1
    assert done.stderr.startswith("error: ")
    assert message in done.stderr
