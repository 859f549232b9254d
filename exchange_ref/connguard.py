"""Connection admission, timeouts and draining for the exchange's HTTP server.

One `ConnectionGuard` per server. It counts open connections per source address and in total
(HTTP and WebSocket alike, from accept to close) and refuses a connection over either cap at
accept time; it sweeps the HTTP connections that have not been upgraded a few times a second and
tells each the time, so a connection idle past `idle_timeout`, a request head still
incomplete `header_timeout` after its first byte, or a request body with no byte for
`body_timeout` is closed (the per-request hot path only stores a timestamp or bumps a counter,
no timer is armed); an exception in one connection's check is logged and the sweep goes on;
and on shutdown it drains: requests arriving during `shutdown_grace` seconds are answered 503
by the protocol, then idle connections are closed and requests still waiting for their body
answered 503.

    guard = ConnectionGuard(ConnectionLimits(max_per_source=100))
    guard.start(loop)      # the sweep
    if guard.admit(host): ... guard.release(host)
    guard.drain()          # on shutdown: the grace window, then idle connections closed
    guard.stop()

The protocol side is `exchange_ref.protocol`.
"""

from __future__ import annotations

import asyncio
import logging
import resource
import traceback
from dataclasses import dataclass, field
from typing import Protocol

__all__ = ["ConnectionGuard", "ConnectionLimits", "GuardStats", "Swept", "fd_room"]

log = logging.getLogger("pincex.exchange")

_FD_RESERVE = 1024  # descriptors kept for the database, log files and the interpreter
_REPORT_EVERY = 10.0  # seconds between log lines about refused connections


def fd_room() -> int:
    """Connections this process can hold: its open-file limit less a reserve."""
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1 << 30
    return max(soft - _FD_RESERVE, soft // 2)


@dataclass(frozen=True, slots=True)
class ConnectionLimits:
    """What one connection, one source address and the whole server may hold."""

    max_header_bytes: int = 32 * 1024  # request line + header fields, from the first byte
    max_header_count: int = 100
    max_url_bytes: int = 8 * 1024
    header_timeout: float = 10.0  # first byte of a request head to its end
    idle_timeout: float = 20.0  # no request in progress (since opening or the last response)
    body_timeout: float = 10.0  # no byte of an incomplete request body (the app not at fault)
    max_per_source: int = 4096
    max_total: int = 60_000
    shutdown_grace: float = 1.0  # requests arriving on open connections get 503, then close

    @property
    def sweep_interval(self) -> float:
        """Seconds between sweeps: a quarter of the shortest timeout, 50 ms to 1 s."""
        shortest = min(self.header_timeout, self.idle_timeout, self.body_timeout)
        return min(max(shortest / 4, 0.05), 1.0)


class Swept(Protocol):
    """An HTTP connection the guard sweeps."""

    def check_deadlines(self, now: float) -> None: ...

    def end_of_grace(self) -> None: ...


@dataclass(slots=True)
class GuardStats:
    """Counters since start: connections refused at accept time, requests refused, closes."""

    refused_per_source: int = 0
    refused_total: int = 0
    heads_too_large: int = 0
    header_timeouts: int = 0
    body_timeouts: int = 0
    idle_closed: int = 0
    shutting_down_503: int = 0
    sweep_errors: int = 0  # exceptions raised by a connection's check (a bug; logged)
    peak_total: int = 0
    by_source_refused: dict[str, int] = field(default_factory=dict)


class ConnectionGuard:
    """Per-source and total connection caps, the timeout sweep, and the shutdown drain."""

    def __init__(self, limits: ConnectionLimits) -> None:
        self.limits = limits
        self.per_source: dict[str, int] = {}
        self.total = 0
        self.http: set[Swept] = set()  # HTTP connections not upgraded, swept for timeouts
        self.draining = False
        self.stats = GuardStats()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._grace: asyncio.TimerHandle | None = None
        self._grace_over = False
        self._reported = (0, 0, 0)
        self._logged_errors: set[tuple[str, str, int]] = set()  # (type, file, line) logged
        self._next_report = 0.0

    def admit(self, host: str) -> bool:
        """Count a new connection from `host`, or refuse it (False) when over a cap."""
        if self.total >= self.limits.max_total:
            self.stats.refused_total += 1
            return False
        count = self.per_source.get(host, 0)
        if count >= self.limits.max_per_source:
            self.stats.refused_per_source += 1
            refused = self.stats.by_source_refused
            if host in refused or len(refused) < 64:
                refused[host] = refused.get(host, 0) + 1
            return False
        self.per_source[host] = count + 1
        self.total += 1
        if self.total > self.stats.peak_total:
            self.stats.peak_total = self.total
        return True

    def release(self, host: str) -> None:
        """A connection admitted from `host` is closed."""
        count = self.per_source.get(host, 0) - 1
        if count > 0:
            self.per_source[host] = count
        else:
            self.per_source.pop(host, None)
        self.total -= 1

    def start(self, loop: asyncio.AbstractEventLoop) -> None:
        """Sweep the HTTP connections every `limits.sweep_interval` seconds on `loop`."""
        self._loop = loop
        self._next_report = loop.time() + _REPORT_EVERY
        self._sweeper = loop.call_later(self.limits.sweep_interval, self._sweep)

    def stop(self) -> None:
        for handle in (self._sweeper, self._grace):
            if handle is not None:
                handle.cancel()
        self._sweeper = self._grace = None

    def drain(self) -> None:
        """Shutdown: requests from now on are refused with 503 by the protocol; after the grace
        window, connections with no request in progress are closed and requests still waiting
        for their body are answered 503."""
        if self.draining:
            return
        self.draining = True
        if self._loop is None:
            self._end_grace()
        else:
            self._grace = self._loop.call_later(self.limits.shutdown_grace, self._end_grace)

    @property
    def grace_over(self) -> bool:
        """The drain's grace window has ended: idle connections are closed at once."""
        return self._grace_over

    def _end_grace(self) -> None:
        self._grace = None
        self._grace_over = True
        for conn in list(self.http):
            try:
                conn.end_of_grace()
            except Exception as exc:
                self._failed(exc, "ending the drain's grace window")

    def _sweep(self) -> None:
        loop = self._loop
        if loop is None:
            return
        now = loop.time()
        try:
            for conn in list(self.http):
                try:
                    conn.check_deadlines(now)
                except Exception as exc:
                    self._failed(exc, "checking a connection's deadlines")
            if now >= self._next_report:
                self._next_report = now + _REPORT_EVERY
                self._report()
        except Exception as exc:
            self._failed(exc, "reporting")
        finally:
            self._sweeper = loop.call_later(self.limits.sweep_interval, self._sweep)

    def _failed(self, exc: Exception, doing: str) -> None:
        """A bug met while sweeping: counted, and logged with its traceback the first time it
        is met (by where it was raised), so one broken connection cannot flood the log."""
        self.stats.sweep_errors += 1
        frames = traceback.extract_tb(exc.__traceback__)
        where = (frames[-1].filename, frames[-1].lineno or 0) if frames else ("", 0)
        key = (type(exc).__qualname__, *where)
        if key not in self._logged_errors and len(self._logged_errors) < 64:
            self._logged_errors.add(key)
            log.error(
                "connection guard: %s raised; the sweep goes on (the same error is only counted "
                "from now on)",
                doing,
                exc_info=exc,
            )

    def _report(self) -> None:
        s = self.stats
        refused = (
            s.refused_per_source + s.refused_total,
            s.heads_too_large + s.header_timeouts + s.body_timeouts,
            s.sweep_errors,
        )
        if refused != self._reported:
            log.warning(
                "connection guard: %d connections refused at accept (%d per-source cap %d, "
                "%d total cap %d), %d request heads too large, %d header timeouts, %d body "
                "timeouts, %d errors in the sweep; %d open",
                refused[0],
                s.refused_per_source,
                self.limits.max_per_source,
                s.refused_total,
                self.limits.max_total,
                s.heads_too_large,
                s.header_timeouts,
                s.body_timeouts,
                s.sweep_errors,
                self.total,
            )
            self._reported = refused
