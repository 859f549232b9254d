"""How `bench orders` ends when it is interrupted or when the target only answered errors."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from http.server import BaseHTTPRequestHandler

import orjson
from click.testing import CliRunner

from collectors.store.store import RunStore
from pincex.commands.bench_orders import orders
from tests.collectors.known_server import realized_ms, spawn
from tests.collectors.stub_server import serving


class Unauthorized(BaseHTTPRequestHandler):
    """401 to every POST, as the exchange answers orders without a valid key."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.wfile.write(b"HTTP/1.1 401 Unauthorized\r\nContent-Length: 2\r\n\r\n{}")

    def log_message(self, *args: object) -> None:
        pass


def test_a_run_of_errors_prints_them_by_status_and_exits_1(tmp_path):
    args = ["--rate", "50", "--duration", "1", "--scrape-interval", "0", "--no-store"]
    with serving(Unauthorized) as url:
        human = CliRunner().invoke(orders, ["--target", url, *args])
        as_json = CliRunner().invoke(orders, ["--target", url, *args, "--json"])
    assert human.exit_code == 1, human.output
    assert "errors by status: 50 x HTTP 401" in human.stdout
    assert "NOT TRUSTED" in human.stdout  # the figures come first ...
    line = human.stderr.strip().splitlines()[-1]  # ... then one error line (after the bar)
    assert line.startswith("error: the target answered too many requests with errors")
    assert as_json.exit_code == 1
    assert orjson.loads(as_json.stdout)["status_counts"] == {"401": 50}


def test_ctrl_c_keeps_what_was_measured_marked_aborted(tmp_path):
    store = tmp_path / "runs.duckdb"
    load = ["--rate", "200", "--duration", "60", "--store", str(store), "--json"]
    proc, url = spawn("--cycle", "0.001")
    try:
        bench = subprocess.Popen(
            [sys.executable, "-m", "pincex", "bench", "orders", "--target", url, *load],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 30
        while len(realized_ms(url)) < 200 and time.monotonic() < deadline:
            time.sleep(0.2)
        bench.send_signal(signal.SIGINT)
        out, err = bench.communicate(timeout=30)
    finally:
        proc.kill()
        proc.wait()
    assert bench.returncode == 130, err
    doc = orjson.loads(out)
    assert doc["aborted"] is True
    assert 200 <= doc["requests"] < doc["planned_requests"] == 12_000
    assert doc["warnings"][0].startswith("aborted (interrupted)")
    assert err.strip().splitlines()[-1].startswith("error: aborted")
    run = RunStore(str(store)).get(doc["run_id"])
    assert run.status == "aborted"
    assert any(w.startswith("aborted (interrupted)") for w in run.warnings)
    assert run.summaries[0].count == doc["requests"]


def test_ctrl_c_in_market_data_keeps_what_was_measured(tmp_path):
    from exchange_ref.server import ServerThread
    from tests.factories import exchange_settings

    store = tmp_path / "runs.duckdb"
    server = ServerThread(exchange_settings(tmp_path / "exchange")).start()
    try:
        args = ["--connections", "3", "--duration", "120", "--order-rate", "0"]
        args += ["--scrape-interval", "0", "--store", str(store)]
        bench = subprocess.Popen(
            [sys.executable, "-m", "pincex", "bench", "market-data", "--target", server.url, *args],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert bench.stderr is not None
        seen = ""
        while "seconds measured" not in seen:  # the progress bar: the hold has begun
            char = bench.stderr.read(1)
            assert char, seen
            seen += char
        time.sleep(0.5)
        bench.send_signal(signal.SIGINT)
        out, err = bench.communicate(timeout=60)
    finally:
        server.stop()
    assert bench.returncode == 130, seen + err
    assert "warning: aborted (interrupted)" in out
    run_id = out.split("stored as run ")[1].split()[0]
    assert f"stored as run {run_id} in {store.resolve()}" in out  # the store it went to
    run = RunStore(str(store)).get(run_id)
    assert run.status == "aborted" and run.kind == "market-data"
    assert any(w.startswith("aborted (interrupted)") for w in run.warnings)
