"""A throw-away nginx on 127.0.0.1 answering every request with a fixed JSON body.

Run from its binary with a generated config in a temporary directory (pid, logs and temp paths
inside it, so it runs as non-root too), on a free port; always stopped on the way out.

\b
    with nginx_server(find_nginx(None), cpu=0) as server:
        ...  # load server.url
"""

from __future__ import annotations

import contextlib
import http.client
import os
import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from collectors.bench.errors import BenchFailed, BenchUsageError

__all__ = ["FIXED_BODY", "NginxServer", "find_nginx", "nginx_config", "nginx_server", "pinned"]

FIXED_BODY = '{"orderId":"1","status":"NEW"}'
_NOT_INSTALLED = "nginx is not installed (apt-get install nginx-light), or give --target URL"


@dataclass(frozen=True, slots=True)
class NginxServer:
    """A running nginx: its URL, binary, version and the CPU it is pinned to (None: not)."""

    url: str
    binary: str
    version: str
    cpu: int | None
    pid: int


def find_nginx(override: str | None) -> str:
    """The nginx binary: `override` (PINCEX_NGINX) if given, else the one on PATH or in
    /usr/sbin; a BenchUsageError when there is none."""
    if override:
        if not (os.path.isfile(override) and os.access(override, os.X_OK)):
            raise BenchUsageError(
                f"{_NOT_INSTALLED} (PINCEX_NGINX={override} is not an executable)"
            )
        return override
    found = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin:/usr/local/sbin")
    if found is None:
        raise BenchUsageError(_NOT_INSTALLED)
    return found


def pinned(cmd: list[str], cpu: int | None) -> list[str]:
    """`cmd` run under `taskset -c cpu` when a CPU is given and taskset exists."""
    taskset = shutil.which("taskset")
    if cpu is None or taskset is None:
        return cmd
    return [taskset, "-c", str(cpu), *cmd]


def nginx_config(prefix: Path, port: int) -> str:
    """One worker, no access log, every path under `prefix`, `return 200` with FIXED_BODY."""
    temp = "\n".join(
        f"  {name}_temp_path {prefix / name};"
        for name in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi")
    )
    return f"""worker_processes 1;
daemon off;
master_process off;
pid {prefix / "nginx.pid"};
error_log {prefix / "error.log"} warn;
events {{ worker_connections 4096; }}
http {{
  access_log off;
{temp}
  server {{
    listen 127.0.0.1:{port};
    keepalive_requests 100000000;
    keepalive_timeout 300s;
    location / {{
      default_type application/json;
      return 200 '{FIXED_BODY}';
    }}
  }}
}}
"""


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def _answers(port: int) -> bool:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
    try:
        conn.request("POST", "/api/v1/orders", body=b"{}")
        return conn.getresponse().status == 200
    except OSError:
        return False
    finally:
        conn.close()


def _version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "-v"], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.TimeoutExpired):
        return "unknown"
    text = (out.stderr or out.stdout).strip()
    return text.rpartition(" ")[2] or "unknown"


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    proc.terminate()  # nginx: fast shutdown
    try:
        proc.wait(5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _last_line(*files: Path) -> str:
    for path in files:
        with contextlib.suppress(OSError):
            lines = path.read_text(errors="replace").strip().splitlines()
            if lines:
                return lines[-1]
    return ""


def _start(binary: str, prefix: Path, cpu: int | None) -> tuple[subprocess.Popen[bytes], int]:
    last_error = ""
    for _ in range(5):
        port = _free_port()
        conf = prefix / "nginx.conf"
        conf.write_text(nginx_config(prefix, port))
        errors = prefix / "stderr.log"
        with errors.open("wb") as stderr:
            proc = subprocess.Popen(
                pinned(
                    [binary, "-p", str(prefix), "-e", str(prefix / "error.log"), "-c", str(conf)],
                    cpu,
                ),
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and proc.poll() is None:
            if _answers(port):
                return proc, port
            time.sleep(0.05)
        _stop(proc)
        last_error = (
            _last_line(errors, prefix / "error.log") or f"nginx exited with {proc.returncode}"
        )
        if "Address already in use" not in last_error:
            break
    raise BenchFailed(f"nginx did not start: {last_error}")


@contextlib.contextmanager
def nginx_server(binary: str, cpu: int | None) -> Iterator[NginxServer]:
    """A running nginx on a free 127.0.0.1 port, pinned to `cpu`; stopped on exit (errors and
    Ctrl-C included), its temporary directory removed."""
    with tempfile.TemporaryDirectory(prefix="pincex-nginx-") as tmp:
        proc, port = _start(binary, Path(tmp), cpu)
        try:
            yield NginxServer(f"http://127.0.0.1:{port}", binary, _version(binary), cpu, proc.pid)
        finally:
            _stop(proc)
