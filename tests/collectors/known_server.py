"""A tiny HTTP/1.1 server on 127.0.0.1 whose service times are known exactly (tests only)."""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import threading
import time
import urllib.request
from collections.abc import Callable

__all__ = ["KnownServer", "realized_ms", "spawn"]

_RESPONSE = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"


class KnownServer:
    """Answers every request after `delay(n)` seconds (n = request number, from 0).

    `blocking=True` sleeps on the event loop, so the whole server stalls (a freeze);
    otherwise requests are delayed independently.
    """

    def __init__(self, delay: Callable[[int, float], float], blocking: bool = False) -> None:
        self.delay = delay
        self.blocking = blocking
        self.port = 0
        self.count = 0
        self.started = 0.0
        # seconds from each request's last byte read to its answer written
        self.realized: list[float] = []
        self._loop = asyncio.new_event_loop()
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                if length:
                    await reader.readexactly(length)
                if head.startswith(b"GET /__realized "):
                    await self._answer_realized(writer)
                    continue
                began = time.perf_counter()
                n = self.count
                self.count += 1
                wait = self.delay(n, time.perf_counter() - self.started)
                if self.blocking:
                    time.sleep(wait)
                else:
                    await asyncio.sleep(wait)
                writer.write(_RESPONSE)
                await writer.drain()
                self.realized.append(time.perf_counter() - began)
        except (asyncio.IncompleteReadError, ConnectionError):
            writer.close()

    async def _answer_realized(self, writer: asyncio.StreamWriter) -> None:
        body = json.dumps(self.realized).encode()
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
            f"Content-Length: {len(body)}\r\n\r\n"
        )
        writer.write(head.encode() + body)
        await writer.drain()

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        server = self._loop.run_until_complete(asyncio.start_server(self._handle, "127.0.0.1", 0))
        self.port = server.sockets[0].getsockname()[1]
        self.started = time.perf_counter()
        self._ready.set()
        self._loop.run_forever()
        server.close()

    def __enter__(self) -> KnownServer:
        self._thread.start()
        self._ready.wait(10)
        return self

    def __exit__(self, *exc: object) -> None:
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def spawn(*args: str) -> tuple[subprocess.Popen[str], str]:
    """Run a known server in its own process (so it never shares a GIL with the generator):
    `spawn("--cycle", "0.01,0.02")` or `spawn("--freeze-at", "1.5,4.5", "--freeze-for", "1")`.
    Returns the process and its URL."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.collectors.known_server", *args],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout is not None
    port = int(proc.stdout.readline())
    return proc, f"http://127.0.0.1:{port}"


def realized_ms(url: str) -> list[float]:
    """The service times the server really gave (ms, in order): a sleep overshoots its
    nominal time on a loaded machine, so tests bound figures by these, not by the nominal ones."""
    with urllib.request.urlopen(url + "/__realized", timeout=10) as resp:
        return [s * 1000 for s in json.loads(resp.read())]


def _main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cycle", default="")
    parser.add_argument("--freeze-at", default="")
    parser.add_argument("--freeze-for", type=float, default=1.0)
    parser.add_argument("--base", type=float, default=0.001)
    parser.add_argument(
        "--serial",
        action="store_true",
        help="serve one request at a time (the cycle's times block the server): a server of "
        "fixed capacity 1/time whose queue grows under more load and drains after it",
    )
    args = parser.parse_args()
    if args.cycle:
        cycle = [float(x) for x in args.cycle.split(",")]
        server = KnownServer(lambda n, _t: cycle[n % len(cycle)], blocking=args.serial)
    else:
        starts = [float(x) for x in args.freeze_at.split(",")]
        done: set[float] = set()

        def delay(_n: int, t: float) -> float:
            for start in starts:
                if t >= start and start not in done:
                    done.add(start)
                    return max(start + args.freeze_for - t, 0.0)
            return float(args.base)

        server = KnownServer(delay, blocking=True)
    with server:
        print(server.port, flush=True)
        try:
            while True:
                time.sleep(3600)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    _main()
