"""`pincex dashboard`: the Streamlit app served headless on loopback, stopped cleanly.

    server = start_dashboard("127.0.0.1", 8501, "data/pincex.duckdb")
    print(server.url)          # http://127.0.0.1:8501/
    server.stop()

The app runs as a child process (`python -m streamlit run dashboard/app.py`), reading the store
named by PINCEX_STORE_PATH; `pincex demo` starts it the same way.
"""

from __future__ import annotations

import collections
import ipaddress
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import click

import dashboard as dashboard_package
from collectors.settings import resolve_store_path
from common.errors import UsageFailure, one_line
from common.paths import STORE_DEFAULT_HELP
from common.ports import free_port

__all__ = [
    "APP",
    "DashboardServer",
    "dashboard",
    "dashboard_bench",
    "start_dashboard",
    "wait_for_signal",
]

APP = Path(dashboard_package.__file__).resolve().parent / "app.py"
_READY_TIMEOUT_S = 90.0


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _url(host: str, port: int) -> str:
    shown = f"[{host}]" if ":" in host else host
    return f"http://{shown}:{port}/"


@dataclass
class DashboardServer:
    """A running `streamlit run dashboard/app.py` child: its URL, and how to stop it."""

    proc: subprocess.Popen[str]
    url: str
    _last_lines: collections.deque[str] = field(
        default_factory=lambda: collections.deque(maxlen=20)
    )
    _forward: threading.Event = field(default_factory=threading.Event)
    _reader: threading.Thread | None = None

    def alive(self) -> bool:
        return self.proc.poll() is None

    def last_error(self) -> str:
        """The child's last line on stderr (why it stopped), or a generic reason."""
        if self._reader is not None and not self.alive():
            self._reader.join(2.0)  # the child's last words, read to the end
        lines = [line for line in self._last_lines if line.strip()]
        return one_line(lines[-1]) if lines else f"exit code {self.proc.returncode}"

    def stop(self, timeout_s: float = 15.0) -> None:
        """SIGTERM, then SIGKILL after `timeout_s`; returns once the child is gone."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout_s)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()

    def _pump(self) -> None:
        """Keep the child's stderr: buffered before it is ready, passed through after."""
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self._last_lines.append(line.rstrip("\n"))
            if self._forward.is_set():
                sys.stderr.write(line)
                sys.stderr.flush()


def start_dashboard(
    host: str,
    port: int,
    store_path: str | os.PathLike[str],
    *,
    allow_remote: bool = False,
    ready_timeout_s: float = _READY_TIMEOUT_S,
) -> DashboardServer:
    """Start the app on host:port (0: a free port) over the store, and return once it answers
    `/_stcore/health`. Bad input and a child that does not come up are `UsageFailure`s."""
    import httpx

    if not _is_loopback(host) and not allow_remote:
        raise UsageFailure(
            f"--host {host} is not loopback: the dashboard serves 127.0.0.1 only "
            "unless --allow-remote is given"
        )
    port = free_port(host, port)
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(APP),
        "--server.headless", "true",
        "--server.address", host,
        "--server.port", str(port),
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    env = {**os.environ, "PINCEX_STORE_PATH": str(Path(store_path).resolve())}
    proc = subprocess.Popen(
        cmd,
        env=env,
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,  # Ctrl-C reaches this process only; it stops the child
    )
    server = DashboardServer(proc, _url(host, port))
    server._reader = threading.Thread(target=server._pump, name="dashboard-stderr", daemon=True)
    server._reader.start()
    health = f"{server.url}_stcore/health"
    deadline = time.monotonic() + ready_timeout_s
    with httpx.Client(timeout=2.0, trust_env=False) as client:
        while True:
            if not server.alive():
                server.proc.wait()
                raise UsageFailure(f"the dashboard did not start: {server.last_error()}", 1)
            try:
                if client.get(health).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                server.stop()
                raise UsageFailure(
                    f"the dashboard did not answer {health} within {ready_timeout_s:.0f} s", 1
                )
            time.sleep(0.2)
    server._forward.set()
    return server


def wait_for_signal(watched: dict[str, Callable[[], bool]]) -> str | None:
    """Block until SIGINT or SIGTERM (None), or until a watched part is no longer alive (its
    name)."""
    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    while not stop.wait(0.5):
        for name, alive in watched.items():
            if not alive():
                return name
    return None


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="address to serve on")
@click.option(
    "--port",
    type=click.IntRange(0, 65535),
    default=8501,
    show_default=True,
    help="port (0: a free one)",
)
@click.option(
    "--store",
    "store_path",
    default=None,
    help=f"run store file ({STORE_DEFAULT_HELP}; a missing store is shown empty, not created)",
)
@click.option("--allow-remote", is_flag=True, help="allow a --host that is not loopback")
def dashboard(host: str, port: int, store_path: str | None, allow_remote: bool) -> None:
    """Serve the dashboard (Streamlit, headless) until Ctrl-C or SIGTERM, then exit 0.

    \b
    pincex dashboard                       # http://127.0.0.1:8501/
    pincex dashboard --port 0 --store runs.duckdb
    """
    store = resolve_store_path(store_path)
    server = start_dashboard(host, port, store, allow_remote=allow_remote)
    click.echo(f"Dashboard: {server.url}")
    click.echo(f"  store:     {store}")
    click.echo("Press Ctrl-C to stop.")
    try:
        died = wait_for_signal({"dashboard": server.alive})
    finally:
        server.stop()
    if died is not None:
        raise UsageFailure(f"the dashboard stopped unexpectedly: {server.last_error()}", 1)


@click.command("dashboard")
@click.option(
    "--runs", type=click.IntRange(min=1), default=10_000, show_default=True,
    help="Generated runs in the store the pages read.",
)  # fmt: skip
@click.option(
    "--repeat", type=click.IntRange(min=1, max=100), default=5, show_default=True,
    help="Warm reruns of each page after its cold run; the warm figure is their median.",
)  # fmt: skip
@click.option(
    "--keep",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Generate the store in this folder and keep it (reused when it is already there).",
)
@click.option(
    "--page-timeout", type=click.FloatRange(min=1), default=30.0, show_default=True,
    help="Seconds after which a page's run is given up (reported as its error).",
)  # fmt: skip
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
def dashboard_bench(
    runs: int, repeat: int, keep: Path | None, page_timeout: float, as_json: bool
) -> None:
    """The dashboard's speed: every page's script timed through Streamlit's AppTest on a
    generated store of --runs runs (target: under 1 s each); cold (first, empty data cache) and
    warm (median of --repeat reruns) figures in ms."""
    import tempfile

    from collectors.store.store import RunStore
    from dashboard.bench import TARGET_MS, DashboardBenchResult, fill_store, time_pages
    from pincex.options import echo_json, progress_bar

    with tempfile.TemporaryDirectory(prefix="pincex-dashboard-bench-") as tmp:
        folder = keep or Path(tmp)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"dashboard-bench-{runs}.duckdb"
        started = time.perf_counter()
        reused = path.is_file()
        if reused:
            store = RunStore(path)
        else:
            with progress_bar(True, "runs generated") as progress:
                store = fill_store(path, runs, progress=progress)
        fill_s = time.perf_counter() - started
        with progress_bar(True, "pages timed   ") as progress:
            pages = time_pages(store, repeat=repeat, timeout_s=page_timeout, progress=progress)
    result = DashboardBenchResult(runs, repeat, fill_s, pages).as_dict()
    if as_json:
        echo_json(result)
        return
    made = f"reused from {path}" if reused else f"generated in {fill_s:.1f} s"
    click.echo(f"{runs:,} runs {made}; page scripts through AppTest:")
    for page in result["pages"]:
        verdict = "met" if page["cold_met"] and page["warm_met"] else "OVER"
        error = f"  error: {page['error']}" if page["error"] else ""
        click.echo(
            f"  {page['page']:<14} cold {page['cold_ms']:8.1f} ms  warm {page['warm_ms']:8.1f} ms"
            f"  (target < {TARGET_MS:.0f} ms: {verdict}){error}"
        )
