"""The OpenAPI document is honest and no input produces a 5xx (schemathesis), and /metrics
passes `promtool check metrics`."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.exchange_ref.api.conftest import ADMIN, key


def _schemathesis(url: str, api_key: str, examples: int, seed: int, *extra: str) -> str:
    """Run schemathesis against the exchange's OpenAPI document with `not_a_server_error`;
    return its output once it passed."""
    exe = Path(sys.executable).with_name("schemathesis")
    result = subprocess.run(
        [
            str(exe), "run", f"{url}/openapi.json", *extra,
            "--checks", "not_a_server_error",
            "--max-examples", str(examples),
            "--seed", str(seed),
            "--header", f"X-API-Key: {api_key}",
            "--request-timeout", "10",
            "--phases", "examples,coverage,fuzzing",
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-4000:] + result.stderr[-2000:]
    return result.stdout


@pytest.mark.parametrize("who", ["user", "admin"])
def test_schemathesis_finds_no_server_error(live, who):
    api_key = live.users(1)[0]["apiKey"] if who == "user" else ADMIN["X-API-Key"]
    out = _schemathesis(live.url, api_key, 40, 1)
    assert "Unresolvable references" not in out


def test_schemathesis_on_the_order_routes_finds_no_server_error(live):
    """A longer fuzz of the two order routes alone (both paths: `live` runs each)."""
    api_key = live.users(1)[0]["apiKey"]
    out = _schemathesis(
        live.url, api_key, 150, 2, "--include-path-regex", "^/api/v1/orders(/batch)?$"
    )
    assert "2 selected" in out, out[:2000]


def test_metrics_pass_promtool(live):
    promtool = shutil.which("promtool")
    if promtool is None:
        pytest.fail("promtool is missing: `make test` installs Debian's prometheus package")
    user = live.users(2)
    live.client.post(
        "/api/v1/orders",
        headers=key(user[0]),
        json={
            "symbol": "BTCUSD",
            "side": "SELL",
            "type": "LIMIT",
            "timeInForce": "GTC",
            "quantity": 1,
            "price": 50000,
        },
    )
    live.client.post(
        "/api/v1/orders",
        headers=key(user[1]),
        json={"symbol": "BTCUSD", "side": "BUY", "type": "MARKET", "quantity": 0.5},
    )
    text = live.client.get("/metrics").text
    result = subprocess.run(
        [promtool, "check", "metrics"], input=text, capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.strip() == "" and result.stderr.strip() == "", (
        result.stdout + result.stderr
    )
