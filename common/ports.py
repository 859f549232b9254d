"""A port checked free before a server is started on it: a taken port is one clear error."""

from __future__ import annotations

import errno
import socket

__all__ = ["PortUnavailable", "free_port"]


class PortUnavailable(Exception):
    """The port cannot be bound (taken, or not allowed); a one-line reason."""


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def free_port(host: str, port: int, option: str = "--port") -> int:
    """`port` once checked free on `host` (0: a free port chosen now); PortUnavailable, its
    one line naming the `option` that sets it, when it is taken or cannot be bound."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortUnavailable(
                    f"{host}:{port} is already in use; pick another {option}"
                ) from None
            raise PortUnavailable(f"cannot bind {host}:{port}: {exc.strerror or exc}") from None
        bound: int = sock.getsockname()[1]
        return bound
