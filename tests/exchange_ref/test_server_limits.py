"""Connection rules of the exchange's HTTP server, against a real server on 127.0.0.1.

Request heads over their limits get 431/414 and the connection closed; slow heads get 408;
idle connections are closed; connections over the per-source and total caps are refused at
accept; WebSocket connections count towards the caps but not the HTTP idle timeout. Small
limits and timeouts come from the settings; every wait below is a bound, not a measurement.
"""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest
import websockets

from exchange_ref.server import ServerThread
from tests.factories import exchange_settings

ADMIN_KEY = "test-admin-key-0123456"
ADMIN = f"X-API-Key: {ADMIN_KEY}\r\n".encode()
BOUND = 10.0  # seconds any expected close or answer may take at most


@pytest.fixture
def serve(tmp_path: Path) -> Iterator[object]:
    servers: list[ServerThread] = []

    def start(**overrides: object) -> ServerThread:
        settings = exchange_settings(tmp_path, admin_key=ADMIN_KEY, **overrides)
        server = ServerThread(settings).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.stop()


def _connect(server: ServerThread, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.socket()
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", server.server.bound_port))
    sock.settimeout(BOUND)
    return sock


_BUFFERS: dict[int, bytes] = {}  # bytes read past a response, per socket (pipelining)


def _read_response(sock: socket.socket) -> tuple[int, dict[str, str], bytes]:
    """One response: status, headers (lower-case names), body (Content-Length)."""
    buf = _BUFFERS.pop(sock.fileno(), b"")
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed before a response head: {buf!r}")
        buf += chunk
    head, rest = buf.split(b"\r\n\r\n", 1)
    lines = head.decode("latin-1").split("\r\n")
    headers = {}
    for line in lines[1:]:
        name, value = line.split(":", 1)
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    if rest[length:]:
        _BUFFERS[sock.fileno()] = rest[length:]
    return int(lines[0].split(" ")[1]), headers, rest[:length]


def _closed(sock: socket.socket) -> bool:
    """True when the peer closes (EOF or reset) within BOUND seconds, False when it sends."""
    try:
        return sock.recv(65536) == b""
    except ConnectionResetError:
        return True


def _get(path: str = "/health/live", extra: bytes = b"") -> bytes:
    return f"GET {path} HTTP/1.1\r\nHost: x\r\n".encode() + extra + b"\r\n"


def _refusal(sock: socket.socket) -> tuple[int, dict[str, object]]:
    status, headers, body = _read_response(sock)
    assert headers["connection"] == "close"
    assert _closed(sock)
    return status, orjson.loads(body)


def test_a_normal_keep_alive_connection_serves_many_requests(serve) -> None:
    server = serve(max_header_bytes=1024, idle_timeout_seconds=5)
    with _connect(server) as sock:
        for _ in range(3):
            sock.sendall(_get())
            status, headers, _ = _read_response(sock)
            assert status == 200 and headers.get("connection") != "close"
        sock.sendall(_get() + _get())  # pipelined
        assert _read_response(sock)[0] == 200
        assert _read_response(sock)[0] == 200


def test_a_body_past_the_head_limit_is_not_part_of_the_head(serve) -> None:
    server = serve(max_header_bytes=1024)
    body = orjson.dumps({"count": 1, "balances": {"USD": "1"}, "pad": "x" * 200_000})
    with _connect(server) as sock:
        sock.sendall(
            b"POST /admin/users HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            + ADMIN
            + f"Content-Length: {len(body)}\r\n\r\n".encode()
            + body
        )
        assert _read_response(sock)[0] == 201


def test_a_head_over_the_byte_limit_gets_431_and_is_closed(serve) -> None:
    server = serve(max_header_bytes=8192)
    with _connect(server) as sock:
        sock.sendall(_get(extra=b"X-Big: " + b"a" * 20_000 + b"\r\n"))
        status, body = _refusal(sock)
    assert status == 431 and body["code"] == "HEADERS_TOO_LARGE"


def test_a_streamed_huge_header_is_refused_before_it_ends(serve) -> None:
    server = serve(max_header_bytes=8192)
    with _connect(server) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: ")
        sent = 0
        with pytest.raises(OSError):  # the server closes while the header is still coming
            while sent < 64 << 20:
                sock.sendall(b"a" * 65536)
                sent += 65536
        assert sent < 64 << 20
    assert server.server.guard.stats.heads_too_large == 1


def test_too_many_header_fields_get_431(serve) -> None:
    server = serve(max_header_count=20)
    with _connect(server) as sock:
        sock.sendall(_get(extra=b"".join(b"X-%d: 1\r\n" % i for i in range(30))))
        status, body = _refusal(sock)
    assert status == 431 and "header fields" in str(body["message"])
    with _connect(server) as sock:  # at the limit is fine
        sock.sendall(_get(extra=b"".join(b"X-%d: 1\r\n" % i for i in range(19))))
        assert _read_response(sock)[0] == 200


def test_a_long_url_gets_414(serve) -> None:
    server = serve(max_url_bytes=1024, max_header_bytes=65536)
    with _connect(server) as sock:
        sock.sendall(_get("/health/live?" + "q" * 4000))
        status, body = _refusal(sock)
    assert status == 414 and body["code"] == "URL_TOO_LONG"


def test_a_head_slower_than_the_header_timeout_gets_408(serve) -> None:
    server = serve(header_timeout_seconds=0.3, idle_timeout_seconds=60)
    with _connect(server) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\n")
        status, body = _refusal(sock)
    assert status == 408 and body["code"] == "HEADER_TIMEOUT"


def test_slowloris_trickling_bytes_is_cut_at_the_header_timeout(serve) -> None:
    server = serve(header_timeout_seconds=0.5, idle_timeout_seconds=60)
    with _connect(server) as sock:
        sock.sendall(b"GET /health/live HTTP/1.1\r\nX-A: ")
        sock.settimeout(0.05)
        deadline = time.monotonic() + BOUND
        closed = False
        while not closed and time.monotonic() < deadline:
            try:
                sock.sendall(b"a")
                closed = sock.recv(65536).startswith(b"HTTP/1.1 408")
            except TimeoutError:
                continue
            except OSError:
                closed = True
    assert closed
    assert server.server.guard.stats.header_timeouts == 1


def test_an_idle_connection_is_closed_after_the_idle_timeout(serve) -> None:
    server = serve(idle_timeout_seconds=0.3)
    with _connect(server) as fresh, _connect(server) as used:
        used.sendall(_get())
        assert _read_response(used)[0] == 200
        assert _closed(fresh)  # never sent a byte
        assert _closed(used)  # kept alive after its response, then idle
    assert server.server.guard.stats.idle_closed == 2


def test_connections_over_the_per_source_cap_are_refused_at_accept(serve) -> None:
    server = serve(max_connections_per_source=3)
    held = [_connect(server) for _ in range(3)]
    try:
        for sock in held:
            sock.sendall(_get())
            assert _read_response(sock)[0] == 200
        with _connect(server) as extra:
            assert _closed(extra)
        with _connect(server, "127.0.0.2") as other:  # another source is not affected
            other.sendall(_get())
            assert _read_response(other)[0] == 200
        held.pop().close()
        deadline = time.monotonic() + BOUND
        while server.server.guard.per_source.get("127.0.0.1", 0) > 2:
            assert time.monotonic() < deadline
            time.sleep(0.01)
        with _connect(server) as again:  # a closed connection frees its slot
            again.sendall(_get())
            assert _read_response(again)[0] == 200
    finally:
        for sock in held:
            sock.close()
    assert server.server.guard.stats.refused_per_source == 1


def test_connections_over_the_total_cap_are_refused(serve) -> None:
    server = serve(max_connections=2)
    with _connect(server, "127.0.0.2") as a, _connect(server, "127.0.0.3") as b:
        for sock in (a, b):
            sock.sendall(_get())
            assert _read_response(sock)[0] == 200
        with _connect(server, "127.0.0.4") as c:
            assert _closed(c)
    assert server.server.guard.stats.refused_total == 1


def test_websockets_count_towards_the_cap_but_not_the_idle_timeout(serve) -> None:
    server = serve(idle_timeout_seconds=0.2, max_connections_per_source=2)
    ws_url = server.url.replace("http://", "ws://") + "/ws"
    guard = server.server.guard

    async def scenario() -> None:
        async with websockets.connect(ws_url) as one, websockets.connect(ws_url) as two:
            assert guard.per_source["127.0.0.1"] == 2
            await asyncio.sleep(1.0)  # five idle timeouts
            for k, ws in enumerate((one, two)):
                await ws.send(orjson.dumps({"method": "LIST_SUBSCRIPTIONS", "id": k}).decode())
                assert orjson.loads(await ws.recv()) == {"result": [], "id": k}
            third = await asyncio.to_thread(_connect, server)
            with third:
                assert await asyncio.to_thread(_closed, third)
        deadline = time.monotonic() + BOUND
        while guard.per_source.get("127.0.0.1", 0) > 0:
            assert time.monotonic() < deadline
            await asyncio.sleep(0.01)

    asyncio.run(scenario())
    assert guard.total == 0
