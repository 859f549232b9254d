"""Checking a benchmark's target URL: loopback unless the caller says otherwise."""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, urlsplit, urlunsplit

import httpx

from collectors.bench.errors import BenchUsageError

__all__ = ["base_url", "check_reachable", "check_target", "http_base"]


def check_target(
    target: str, allow_remote: bool, schemes: tuple[str, ...] = ("http",)
) -> SplitResult:
    """The parsed URL, or a BenchUsageError: a bad scheme or port, or a host off
    loopback without `allow_remote`."""
    url = urlsplit(target)
    if url.scheme not in schemes or not url.hostname:
        wanted = " or ".join(f"{s}://" for s in schemes)
        raise BenchUsageError(f"--target must be an {wanted} URL, got {target!r}")
    try:
        url.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise BenchUsageError(f"--target has a bad port: {target!r}") from None
    try:
        loopback = ipaddress.ip_address(url.hostname).is_loopback
    except ValueError:
        loopback = url.hostname == "localhost"
    if not loopback and not allow_remote:
        raise BenchUsageError(
            f"{url.hostname} is not a loopback address; pass --allow-remote to load it"
        )
    return url


def base_url(target: str, allow_remote: bool, schemes: tuple[str, ...] = ("http",)) -> str:
    """The checked target as a base URL (no trailing slash): `check_target`, then ws(s)://
    becomes http(s):// and a trailing /ws is dropped."""
    check_target(target, allow_remote, schemes)
    return http_base(target)


def http_base(target: str) -> str:
    """The exchange's REST base: ws(s):// becomes http(s)://, a trailing /ws or / is dropped."""
    url = urlsplit(target.rstrip("/"))
    scheme = {"ws": "http", "wss": "https"}.get(url.scheme, url.scheme)
    path = url.path.removesuffix("/ws")
    return urlunsplit((scheme, url.netloc, path, "", "")).rstrip("/")


def check_reachable(base: str, timeout: float = 3.0) -> None:
    """A BenchUsageError unless something answers HTTP at `base` (any status will do)."""
    try:
        httpx.get(base.rstrip("/") + "/", timeout=timeout)
    except httpx.HTTPError as exc:
        raise BenchUsageError(f"cannot reach {base}: {type(exc).__name__}: {exc}") from None
