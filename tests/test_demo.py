"""`pincex demo`: the exchange with demo users, a measured ramp, market-data and db runs kept
in the store, then the dashboard; up until Ctrl-C, then both stop."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from collectors.store import frames
from collectors.store.store import RunStore
from pincex.commands.demo import RAMP_RATES

ORDER = {
    "symbol": "BTCUSD",
    "side": "BUY",
    "type": "LIMIT",
    "timeInForce": "GTC",
    "quantity": 0.5,
    "price": 50000,
}


def _lines_until_ready(proc: subprocess.Popen[str], timeout_s: float) -> list[str]:
    assert proc.stdout is not None
    lines: list[str] = []
    deadline = time.monotonic() + timeout_s
    while not any(line.startswith("Press Ctrl-C") for line in lines):
        assert time.monotonic() < deadline and proc.poll() is None, (lines, proc.stderr)
        lines.append(proc.stdout.readline().rstrip("\n"))
    return lines


def test_demo_measures_stores_and_serves_the_dashboard_until_interrupted(tmp_path: Path) -> None:
    store = tmp_path / "runs.duckdb"
    proc = subprocess.Popen(
        [sys.executable, "-m", "pincex", "demo", "--port", "0", "--dashboard-port", "0",
         "--db", f"sqlite:///{tmp_path / 'demo.db'}", "--load-seconds", "1",
         "--store", str(store)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        # the database benchmark's file goes to the data directory, whatever the folder
        env={**os.environ, "PINCEX_DATA_DIR": str(tmp_path / "data")},
    )  # fmt: skip
    try:
        lines = _lines_until_ready(proc, 300)
        exchange = next(line.split(": ", 1)[1] for line in lines if line.startswith("PinCEX"))
        dashboard = next(line.split()[1] for line in lines if line.startswith("Dashboard: "))
        keys = [line.split()[-1] for line in lines if line.strip().startswith("demo-")]
        assert len(keys) == 3
        # one progress line before each step and one result line after it
        steps = [i for i, line in enumerate(lines) if line.startswith("[")]
        assert len(steps) == len(RAMP_RATES) + 3, lines
        for i in steps:
            assert "p99" in lines[i + 1] and "trusted" in lines[i + 1], lines[i + 1]
        assert httpx.get(f"{dashboard}_stcore/health", timeout=10).text == "ok"
        r = httpx.post(
            f"{exchange}/api/v1/orders", headers={"X-API-Key": keys[0]}, json=ORDER, timeout=10
        )
        assert r.status_code == 201, r.text

        runs = frames.runs(RunStore(store))
        assert set(runs["label"]) == {"demo"}
        ramp = runs[runs["tags"].map(lambda tags: "ramp" in list(tags))]
        assert sorted(ramp["config"].map(lambda c: c["rate"])) == [float(r) for r in RAMP_RATES]
        kinds = ["db", "loadtest", "market-data"] + ["orders"] * len(RAMP_RATES)
        assert sorted(runs["kind"]) == kinds
        loadtest = runs[runs["kind"] == "loadtest"].iloc[0]
        assert loadtest["profile"] == "baseline" and loadtest["config"]["invariants"]
        assert (tmp_path / "data" / "demo-bench-db.sqlite").is_file()

        proc.send_signal(signal.SIGINT)
        assert proc.wait(60) == 0
        with pytest.raises(httpx.TransportError):
            httpx.get(f"{dashboard}_stcore/health", timeout=2)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
