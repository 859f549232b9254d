"""SIGTERM under continuous order traffic: every request sent gets an HTTP answer.

The exchange runs as a real `pincex exchange serve` process. Several raw keep-alive clients post
orders back to back; SIGTERM lands in the middle. Every request written to a socket must be
answered (2xx, or 503 SHUTTING_DOWN with `Connection: close`), never reset or left without a
reply, and every order a 2xx acknowledged must be in the database afterwards.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import orjson
import sqlalchemy as sa

from exchange_ref.server import ServerThread
from tests.factories import exchange_settings

ADMIN_KEY = "test-admin-key-0123456"
CLIENTS = 8
TRIALS = 3


class ExchangeProcess:
    """`pincex exchange serve` in a child process on 127.0.0.1, port 0."""

    def __init__(self, tmp: Path, db_url: str) -> None:
        self.port_file = tmp / f"port-{time.monotonic_ns()}"
        serve = ["exchange", "serve", "--port", "0", "--db", db_url, "--log-level", "warning"]
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "pincex", *serve, "--port-file", str(self.port_file)],
            env=dict(os.environ, PINCEX_ADMIN_KEY=ADMIN_KEY),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
        )
        deadline = time.monotonic() + 60
        while not self.port_file.exists():
            if self.proc.poll() is not None:
                raise RuntimeError(f"exchange exited: {self.proc.stderr.read().decode()}")  # type: ignore[union-attr]
            if time.monotonic() > deadline:
                self.proc.kill()
                raise TimeoutError("exchange did not start")
            time.sleep(0.05)
        self.port = int(self.port_file.read_text())
        self.url = f"http://127.0.0.1:{self.port}"

    def wait(self, timeout: float = 30) -> int:
        try:
            return self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
            raise

    def close(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        if self.proc.stderr is not None:
            self.proc.stderr.close()


@dataclass
class Outcomes:
    """What became of every request written to a socket."""

    statuses: dict[int, int] = field(default_factory=dict)
    failures: list[str] = field(default_factory=list)
    acked: list[int] = field(default_factory=list)
    bodies_503: list[dict[str, object]] = field(default_factory=list)

    @property
    def answered(self) -> int:
        return sum(self.statuses.values())


async def _read_response(reader: asyncio.StreamReader) -> tuple[int, dict[str, str], bytes]:
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {}
    for line in lines[1:]:
        if ":" in line:
            name, value = line.split(":", 1)
            headers[name.strip().lower()] = value.strip()
    body = await reader.readexactly(int(headers.get("content-length", "0")))
    return status, headers, body


def _order(i: int) -> bytes:
    side = "BUY" if i % 2 else "SELL"
    price = 50_000 + (i % 7) - 3 if side == "BUY" else 50_000 - (i % 7) + 3
    return orjson.dumps(
        [
            {"symbol": "BTCUSD", "side": side, "quantity": "0.01", "price": str(price + k)}
            for k in range(5)
        ]
    )


async def _client(port: int, api_key: str, out: Outcomes) -> None:
    """Post order batches back to back on one keep-alive connection, opening a new one when
    the server closes it; stop once a connection is refused (the server stopped listening)."""
    i = 0
    while True:
        try:
            reader, writer = await asyncio.open_connection("127.0.0.1", port)
        except OSError:
            return
        try:
            while True:
                body = _order(i)
                i += 1
                writer.write(
                    b"POST /api/v1/orders/batch HTTP/1.1\r\nHost: x\r\n"
                    b"Content-Type: application/json\r\nX-API-Key: "
                    + api_key.encode()
                    + b"\r\nContent-Length: "
                    + str(len(body)).encode()
                    + b"\r\n\r\n"
                    + body
                )
                try:
                    status, headers, payload = await asyncio.wait_for(_read_response(reader), 30)
                except asyncio.IncompleteReadError:
                    out.failures.append("connection closed without a response")
                    return
                except OSError as exc:
                    out.failures.append(f"{type(exc).__name__}: {exc}")
                    return
                out.statuses[status] = out.statuses.get(status, 0) + 1
                if status == 200:
                    out.acked.extend(o["orderId"] for o in orjson.loads(payload)["successful"])
                elif status == 503:
                    out.bodies_503.append(orjson.loads(payload))
                if headers.get("connection", "").lower() == "close":
                    break
        finally:
            writer.close()


async def _trial(proc: ExchangeProcess, keys: list[str]) -> Outcomes:
    out = Outcomes()
    tasks = [
        asyncio.create_task(_client(proc.port, keys[k % len(keys)], out)) for k in range(CLIENTS)
    ]
    deadline = time.monotonic() + 30
    while out.answered < 300 and time.monotonic() < deadline and not out.failures:
        await asyncio.sleep(0.01)
    proc.proc.send_signal(signal.SIGTERM)
    await asyncio.wait_for(asyncio.gather(*tasks), 60)
    return out


def _stored_order_ids(db_url: str) -> set[int]:
    engine = sa.create_engine(db_url)
    try:
        with engine.connect() as conn:
            return {row[0] for row in conn.execute(sa.text("SELECT id FROM orders"))}
    finally:
        engine.dispose()


def test_sigterm_answers_every_request_in_flight(tmp_path: Path) -> None:
    for trial in range(TRIALS):
        db_url = f"sqlite:///{tmp_path / f'term-{trial}.db'}"
        proc = ExchangeProcess(tmp_path, db_url)
        try:
            users = httpx.post(
                proc.url + "/admin/users",
                json={"count": 4, "balances": {"USD": "100000000", "BTC": "10000"}},
                headers={"X-API-Key": ADMIN_KEY},
            ).json()["users"]
            out = asyncio.run(_trial(proc, [u["apiKey"] for u in users]))
            assert proc.wait() == 0
        finally:
            proc.close()
        assert out.failures == [], f"trial {trial}: {out.failures} ({out.statuses})"
        assert set(out.statuses) <= {200, 503}, out.statuses
        assert out.statuses.get(200, 0) >= 300
        for body in out.bodies_503:
            assert body["code"] == "SHUTTING_DOWN", body
        stored = _stored_order_ids(db_url)
        lost = [oid for oid in out.acked if oid not in stored]
        assert not lost, f"trial {trial}: {len(lost)} acknowledged orders missing"


def _get(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n")
    head = b""
    while b"\r\n\r\n" not in head:
        chunk = sock.recv(4096)
        if not chunk:
            raise ConnectionError("closed without a response")
        head += chunk
    head, body = head.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {k.strip().lower(): v.strip() for k, v in (x.split(":", 1) for x in lines[1:])}
    while len(body) < int(headers["content-length"]):
        body += sock.recv(4096)
    return int(lines[0].split(" ")[1]), headers, body


def test_requests_arriving_while_draining_get_503_then_idle_connections_close(
    tmp_path: Path,
) -> None:
    settings = exchange_settings(tmp_path, admin_key=ADMIN_KEY, shutdown_grace_seconds=2.0)
    server = ServerThread(settings).start()
    try:
        port = server.server.bound_port
        busy, idle = (socket.create_connection(("127.0.0.1", port), 10) for _ in range(2))
        with busy, idle:
            for sock in (busy, idle):
                assert _get(sock)[0] == 200  # both kept alive, idle now
            server.server.should_exit = True
            deadline = time.monotonic() + 10
            while all(s.is_serving() for s in server.server.servers):
                assert time.monotonic() < deadline, "shutdown did not begin"
                time.sleep(0.005)
            status, headers, body = _get(busy)  # a request on an idle keep-alive connection
            assert status == 503 and headers["connection"] == "close"
            assert orjson.loads(body)["code"] == "SHUTTING_DOWN"
            assert headers["retry-after"] == "1"
            assert busy.recv(1) == b""  # then closed
            assert idle.recv(1) == b""  # closed once the grace window ended, unused
    finally:
        server.stop()
    assert not server.thread.is_alive()


def test_a_request_stuck_in_its_body_is_answered_503_when_draining(tmp_path: Path) -> None:
    """SIGTERM while a request's body is incomplete: 503 SHUTTING_DOWN (or a clean close)
    soon after the grace window, not the drain timeout's cancellation and its 500."""
    settings = exchange_settings(
        tmp_path,
        admin_key=ADMIN_KEY,
        shutdown_grace_seconds=0.3,
        drain_timeout_seconds=6,
        body_timeout_seconds=60,  # the drain, not the body timeout, ends this request
    )
    server = ServerThread(settings).start()
    errors: list[logging.LogRecord] = []
    handler = logging.Handler(logging.ERROR)
    handler.emit = errors.append  # type: ignore[method-assign]
    # uvicorn's logger does not propagate to the root, and its set-up (when the server is
    # made) drops the handlers it finds: one of ours, from now on.
    uvicorn_log = logging.getLogger("uvicorn.error")
    uvicorn_log.addHandler(handler)
    try:
        sock = socket.create_connection(("127.0.0.1", server.server.bound_port), 10)
        with sock:
            sock.sendall(
                b"POST /admin/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
                b"X-API-Key: " + ADMIN_KEY.encode() + b"\r\nContent-Length: 100\r\n\r\n{"
            )
            deadline = time.monotonic() + 10
            while not server.server.server_state.tasks:  # the app is reading the body
                assert time.monotonic() < deadline
                time.sleep(0.005)
            started = time.monotonic()
            stopper = threading.Thread(target=server.stop)
            stopper.start()
            reply = b""
            while chunk := sock.recv(65536):
                reply += chunk
            stopper.join(10)
            took = time.monotonic() - started
    finally:
        server.stop()
        uvicorn_log.removeHandler(handler)
    assert not server.thread.is_alive()
    assert not errors, [r.getMessage() for r in errors]  # no cancelled task, no 500
    assert took < 3, f"the stop took {took:.1f} s (drain timeout 6 s)"
    if reply:  # a clean close without an answer is acceptable, a 500 is not
        head, body = reply.split(b"\r\n\r\n", 1)
        assert head.startswith(b"HTTP/1.1 503 "), reply
        assert b"connection: close" in head.lower()
        assert orjson.loads(body)["code"] == "SHUTTING_DOWN"
