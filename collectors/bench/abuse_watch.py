"""What `pincex bench abuse` watches while it attacks: the health probe and the server's memory.

The probe runs in a child process (so the attacks' event loop cannot delay it) and GETs
`/health/live` every `interval` seconds on one keep-alive connection, recording when each probe
started (monotonic, comparable across processes) and how long it took, or that it failed. The
exchange's process is found from its listening port through /proc when it runs on this host;
its resident memory is sampled from /proc/PID/status.
"""

from __future__ import annotations

import multiprocessing
import os
import socket
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection

from collectors.bench.abuse_figures import ProbeFigures

__all__ = ["HealthProbe", "ProbeSample", "find_listening_pid", "probe_summary", "rss_mb"]

_PROBE_TIMEOUT = 5.0  # seconds a probe may take before it counts as failed


@dataclass(frozen=True, slots=True)
class ProbeSample:
    at: float  # time.monotonic() when the probe was sent
    ms: float  # its latency, or the time until it failed
    ok: bool  # answered 200


def _read_answer(sock: socket.socket) -> int:
    buf = b""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        buf += chunk
    head, body = buf.split(b"\r\n\r\n", 1)
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    while len(body) < length:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed")
        body += chunk
    return int(head[9:12])


def _probe_main(
    host: str, port: int, source: str | None, interval: float, control: Connection
) -> None:
    """The child process: probe until told to stop, then send the samples back."""
    request = f"GET /health/live HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode()
    samples: list[tuple[float, float, bool]] = []
    sock: socket.socket | None = None
    next_at = time.monotonic()
    ready = False
    while not control.poll():
        start = time.monotonic()
        ok = False
        try:
            if sock is None:
                sock = socket.create_connection(
                    (host, port), _PROBE_TIMEOUT, (source, 0) if source else None
                )
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            sock.sendall(request)
            ok = _read_answer(sock) == 200
        except OSError:
            if sock is not None:
                sock.close()
            sock = None
        samples.append((start, (time.monotonic() - start) * 1000, ok))
        if ok and not ready:
            control.send("ready")
            ready = True
        next_at = max(next_at + interval, time.monotonic())
        time.sleep(max(next_at - time.monotonic(), 0))
    control.send(samples)
    control.close()


class HealthProbe:
    """`/health/live` probed from a child process for as long as the probe is open."""

    def __init__(self, host: str, port: int, source: str | None, interval: float) -> None:
        # fork: the command has no threads yet, and a spawned child would import the CLI again
        ctx = multiprocessing.get_context("fork")
        self._control, child = ctx.Pipe()
        self._proc = ctx.Process(
            target=_probe_main, args=(host, port, source, interval, child), daemon=True
        )
        self.samples: list[ProbeSample] = []

    def __enter__(self) -> HealthProbe:
        """Start probing; returns once the first probe was answered (or after 10 s)."""
        self._proc.start()
        if self._control.poll(10):
            self._control.recv()
        return self

    def __exit__(self, *exc: object) -> None:
        self._control.send("stop")
        while self._control.poll(_PROBE_TIMEOUT + 5):
            message = self._control.recv()
            if isinstance(message, list):  # not a late "ready"
                self.samples = [ProbeSample(*s) for s in message]
                break
        self._proc.join(5)
        if self._proc.is_alive():
            self._proc.kill()


def probe_summary(samples: list[ProbeSample], start: float, end: float) -> ProbeFigures:
    """Count, failures and p50/p99/max latency (ms) of the probes sent in [start, end)."""
    window = [s for s in samples if start <= s.at < end]
    latencies = sorted(s.ms for s in window)
    if not latencies:
        return ProbeFigures()

    def pick(q: float) -> float:
        return round(latencies[min(len(latencies) - 1, int(q * len(latencies)))], 2)

    return ProbeFigures(
        count=len(window),
        failed=sum(not s.ok for s in window),
        p50_ms=pick(0.50),
        p99_ms=pick(0.99),
        max_ms=round(latencies[-1], 2),
    )


def rss_mb(pid: int) -> tuple[float, float] | None:
    """(current, peak) resident memory of `pid` in MB, or None when it cannot be read."""
    try:
        with open(f"/proc/{pid}/status") as fh:
            fields = dict(line.split(":", 1) for line in fh if ":" in line)
        return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024
    except (OSError, KeyError, ValueError):
        return None


def find_listening_pid(port: int) -> int | None:
    """The process holding a listening TCP socket on `port`, read from /proc (this host, and
    a process this user may inspect), or None."""
    inodes = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        try:
            with open(table) as fh:
                next(fh, None)
                for line in fh:
                    parts = line.split()
                    listening = len(parts) > 9 and parts[3] == "0A"
                    if listening and int(parts[1].rsplit(":", 1)[1], 16) == port:
                        inodes.add(f"socket:[{parts[9]}]")
        except OSError:
            continue
    if not inodes:
        return None
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            for fd in os.listdir(f"/proc/{entry}/fd"):
                if os.readlink(f"/proc/{entry}/fd/{fd}") in inodes:
                    return int(entry)
        except OSError:
            continue
    return None
