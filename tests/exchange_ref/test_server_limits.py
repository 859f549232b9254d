"""Connection rules of the exchange's HTTP server, against a real server on 127.0.0.1.

Request heads over their limits get 431/414 and the connection closed; slow heads get 408;
idle connections are closed; connections over the per-source and total caps are refused at
accept; WebSocket connections count towards the caps but not the HTTP idle timeout. Small
limits and timeouts come from the settings; every wait below is a bound, not a measurement.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson
import pytest
import uvicorn
import websockets

from exchange_ref.connguard import ConnectionGuard, ConnectionLimits
from exchange_ref.protocol import GuardedConfig
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


def _post_head(path: str, length: int, extra: bytes = b"") -> bytes:
    return (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n".encode()
        + extra
        + f"Content-Length: {length}\r\n\r\n".encode()
    )


class _Errors(logging.Handler):
    """Records at ERROR or above from uvicorn (whose loggers do not propagate to the root)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def _errors_logged() -> Iterator[list[logging.LogRecord]]:
    """Once the server is made: uvicorn's logging set-up drops the handlers it finds."""
    handler = _Errors()
    loggers = [logging.getLogger(name) for name in ("uvicorn.error", "pincex.exchange")]
    for logger in loggers:
        logger.addHandler(handler)
    try:
        yield handler.records
    finally:
        for logger in loggers:
            logger.removeHandler(handler)


def _settled(server: ServerThread) -> None:
    """Wait until the server holds no connection and no request task."""
    deadline = time.monotonic() + BOUND
    while server.server.guard.total or server.server.server_state.tasks:
        assert time.monotonic() < deadline, "a connection or a request task was left behind"
        time.sleep(0.01)


def test_a_stalled_request_body_gets_408_and_frees_the_connection(serve) -> None:
    server = serve(body_timeout_seconds=0.5, header_timeout_seconds=1, idle_timeout_seconds=2)
    with _errors_logged() as errors:
        with _connect(server) as sock:
            sock.sendall(_post_head("/admin/users", 100, ADMIN) + b"{")  # 99 bytes never come
            started = time.monotonic()
            status, body = _refusal(sock)
            waited = time.monotonic() - started
        assert status == 408 and body["code"] == "REQUEST_TIMEOUT"
        assert 0.4 < waited < 0.5 + BOUND / 2
        _settled(server)  # the slot and the task reading the body are released
    assert server.server.guard.stats.body_timeouts == 1
    assert not errors, [r.getMessage() for r in errors]  # no traceback


def test_a_body_trickling_in_is_not_timed_out(serve) -> None:
    server = serve(body_timeout_seconds=0.4, idle_timeout_seconds=5)
    body = orjson.dumps({"count": 1, "balances": {"USD": "1"}})
    with _connect(server) as sock:
        sock.sendall(_post_head("/admin/users", len(body), ADMIN))
        for k in range(len(body)):  # one byte every 0.1 s: longer in all than the timeout
            sock.sendall(body[k : k + 1])
            time.sleep(min(0.1, 1.2 / len(body)))
        assert _read_response(sock)[0] == 201
    assert server.server.guard.stats.body_timeouts == 0


def test_a_pipelined_head_over_the_limit_gets_431(serve) -> None:
    """The next head's bytes that came with the end of the previous request count too."""
    server = serve(max_header_bytes=1024)
    with _connect(server) as sock:
        first = _post_head("/admin/users", 2, ADMIN) + b"{}"
        sock.sendall(first + b"GET /health/live HTTP/1.1\r\nHost: x\r\nX-Big: " + b"a" * 900)
        assert _read_response(sock)[0] == 400  # the first request, answered
        sock.sendall(b"a" * 600 + b"\r\n\r\n")  # this part alone is within the limit
        status, body = _refusal(sock)
    assert status == 431 and body["code"] == "HEADERS_TOO_LARGE"


def test_pipelined_heads_within_the_limit_are_served(serve) -> None:
    server = serve(max_header_bytes=1024)
    pad = b"X-Pad: " + b"p" * 800 + b"\r\n"  # each head about 850 bytes, three of them
    with _connect(server) as sock:
        sock.sendall(_get(extra=pad) + _get(extra=pad) + _get(extra=pad))
        for _ in range(3):
            assert _read_response(sock)[0] == 200


def test_a_partial_pipelined_head_gets_the_header_timeout(serve) -> None:
    server = serve(header_timeout_seconds=0.5, idle_timeout_seconds=60)
    with _connect(server) as sock:
        sock.sendall(_get() + b"GET /health/live HTTP/1.1\r\nX-A: ")
        assert _read_response(sock)[0] == 200
        status, body = _refusal(sock)
    assert status == 408 and body["code"] == "HEADER_TIMEOUT"


class _TinyServer(uvicorn.Server):
    """uvicorn with the guarded protocol around a test app, its guard swept."""

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        self.config.guard.start(asyncio.get_running_loop())  # type: ignore[attr-defined]


@pytest.fixture
def tiny() -> Iterator[object]:
    servers: list[tuple[_TinyServer, threading.Thread]] = []

    def start(app: object, **limits: Any) -> _TinyServer:
        guard = ConnectionGuard(ConnectionLimits(**limits))
        config = GuardedConfig(app, guard, host="127.0.0.1", port=0, log_level="warning")
        server = _TinyServer(config)
        thread = threading.Thread(target=server.run, daemon=True)
        thread.start()
        servers.append((server, thread))
        deadline = time.monotonic() + BOUND
        while not (server.started and server.servers):
            assert time.monotonic() < deadline
            time.sleep(0.01)
        return server

    yield start
    for server, thread in servers:
        server.should_exit = True
        thread.join(BOUND)


def _tiny_connect(server: _TinyServer) -> socket.socket:
    port = server.servers[0].sockets[0].getsockname()[1]
    sock = socket.create_connection(("127.0.0.1", port))
    sock.settimeout(BOUND)
    return sock


def test_the_app_reading_a_stalled_body_gets_a_disconnect(tiny) -> None:
    seen: list[str] = []
    finished = threading.Event()

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        try:
            while True:
                message = await receive()
                seen.append(message["type"])
                if message["type"] != "http.request" or not message.get("more_body"):
                    break
            await send({"type": "http.response.start", "status": 200, "headers": []})
            await send({"type": "http.response.body", "body": b"late"})
        finally:
            finished.set()

    server = tiny(app, body_timeout=0.3, header_timeout=5.0, idle_timeout=5.0)
    with _tiny_connect(server) as sock:
        sock.sendall(_post_head("/", 10) + b"abc")
        status, body = _refusal(sock)  # nothing of the app's late answer either
    assert status == 408 and body["code"] == "REQUEST_TIMEOUT"
    assert finished.wait(BOUND)
    assert seen[-1] == "http.disconnect"


def test_a_slow_answer_after_the_body_is_not_timed_out(tiny) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        while (await receive()).get("more_body"):
            pass
        await asyncio.sleep(1.2)  # the app at work (a commit, say): four body timeouts
        headers = [(b"content-length", b"4")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"done"})

    server = tiny(app, body_timeout=0.3, header_timeout=5.0, idle_timeout=5.0)
    with _tiny_connect(server) as sock:
        sock.sendall(_post_head("/", 3) + b"abc")
        status, _, body = _read_response(sock)
    assert (status, body) == (200, b"done")
    assert server.config.guard.stats.body_timeouts == 0  # type: ignore[attr-defined]


def test_waiting_for_100_continue_is_not_a_stalled_body(tiny) -> None:
    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        await asyncio.sleep(1.0)  # the app asks for the body late: 100 Continue only then
        while (await receive()).get("more_body"):
            pass
        headers = [(b"content-length", b"2")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b"ok"})

    server = tiny(app, body_timeout=0.3, header_timeout=5.0, idle_timeout=5.0)
    with _tiny_connect(server) as sock:
        sock.sendall(_post_head("/", 3, b"Expect: 100-continue\r\n"))
        assert sock.recv(65536).startswith(b"HTTP/1.1 100 ")
        sock.sendall(b"abc")
        status, _, body = _read_response(sock)
    assert (status, body) == (200, b"ok")
    assert server.config.guard.stats.body_timeouts == 0  # type: ignore[attr-defined]


class _Checked:
    """A connection as the sweep sees it; `fail` makes its check raise."""

    def __init__(self, fail: bool) -> None:
        self.fail = fail
        self.checks = 0

    def check_deadlines(self, now: float) -> None:
        self.checks += 1
        if self.fail:
            raise RuntimeError("a bug in one connection's check")

    def end_of_grace(self) -> None:
        pass


def test_the_sweep_survives_a_failing_check(caplog: pytest.LogCaptureFixture) -> None:
    guard = ConnectionGuard(ConnectionLimits(header_timeout=0.2, idle_timeout=0.2))
    bad, good = _Checked(fail=True), _Checked(fail=False)

    async def scenario() -> None:
        guard.start(asyncio.get_running_loop())
        guard.http.update((bad, good))
        await asyncio.sleep(0.6)  # about twelve sweeps
        guard.stop()

    with caplog.at_level("ERROR"):
        asyncio.run(scenario())
    assert good.checks >= 5 and bad.checks >= 5  # the failing one did not stop the others
    errors = [r for r in caplog.records if r.levelname == "ERROR"]
    assert len(errors) == 1, [r.getMessage() for r in errors]  # logged once, not each sweep
    assert errors[0].exc_info is not None and "a bug in one" in str(errors[0].exc_info[1])
    assert guard.stats.sweep_errors == bad.checks
