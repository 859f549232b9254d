"""`pincex dashboard` serves the app on loopback, prints its URL, and stops cleanly."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.dashboard.conftest import FilledStore


def _start(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "pincex", "dashboard", *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=dict(os.environ),
    )


def read_url(proc: subprocess.Popen[str]) -> str:
    """The URL from the `Dashboard: URL` line (the command prints it once the app answers)."""
    assert proc.stdout is not None
    for line in proc.stdout:
        if line.startswith("Dashboard: "):
            return line.split(": ", 1)[1].strip()
    proc.wait(10)
    raise AssertionError(f"no URL printed; exit {proc.returncode}: {proc.stderr.read()}")  # type: ignore[union-attr]


@pytest.fixture
def served(filled_store: FilledStore) -> Iterator[tuple[subprocess.Popen[str], str]]:
    proc = _start("--port", "0", "--store", str(filled_store.path))
    try:
        yield proc, read_url(proc)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_prints_a_url_that_answers_and_stops_on_sigterm(
    served: tuple[subprocess.Popen[str], str],
) -> None:
    proc, url = served
    assert url.startswith("http://127.0.0.1:") and url.endswith("/")
    assert httpx.get(f"{url}_stcore/health", timeout=10).text == "ok"
    assert httpx.get(url, timeout=10).status_code == 200
    proc.send_signal(signal.SIGTERM)
    assert proc.wait(30) == 0
    with pytest.raises(httpx.TransportError):
        httpx.get(f"{url}_stcore/health", timeout=2)


def test_a_taken_port_is_one_error_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _start("--port", str(port), "--store", str(tmp_path / "runs.duckdb"))
        out, err = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "already in use" in lines[0], err


@pytest.mark.parametrize("host", ["0.0.0.0", "192.0.2.1"])
def test_a_host_off_loopback_needs_allow_remote(tmp_path: Path, host: str) -> None:
    proc = _start("--host", host, "--port", "0", "--store", str(tmp_path / "runs.duckdb"))
    _out, err = proc.communicate(timeout=60)
    assert proc.returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "--allow-remote" in lines[0], err
