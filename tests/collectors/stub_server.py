"""A tiny HTTP server that is not the exchange: accepts orders, has no /metrics."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

__all__ = ["NoMetrics", "serving"]


class NoMetrics(BaseHTTPRequestHandler):
    """201 `{}` to any POST, 404 on /metrics, 200 on other GETs."""

    protocol_version = "HTTP/1.1"

    def do_GET(self) -> None:
        self.send_response(404 if self.path == "/metrics" else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        # one write: headers and body apart would meet the client's delayed ACK (40 ms)
        self.wfile.write(b"HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\n{}")

    def log_message(self, *args: object) -> None:
        pass


@contextmanager
def serving(handler: type[BaseHTTPRequestHandler] = NoMetrics) -> Iterator[str]:
    """The server on 127.0.0.1, a free port, in a thread; yields its base URL."""
    http = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=http.serve_forever, daemon=True).start()
    try:
        yield f"http://127.0.0.1:{http.server_address[1]}"
    finally:
        http.shutdown()
        http.server_close()
