"""Checking a benchmark's target URL: loopback unless the caller says otherwise."""

from __future__ import annotations

import ipaddress
from urllib.parse import SplitResult, urlsplit

import httpx

from common.errors import UsageFailure

__all__ = ["check_reachable", "check_target"]


def check_target(
    target: str, allow_remote: bool, schemes: tuple[str, ...] = ("http",)
) -> SplitResult:
    """The parsed URL, or a one-line UsageFailure: a bad scheme or port, or a host off
    loopback without `allow_remote`."""
    url = urlsplit(target)
    if url.scheme not in schemes or not url.hostname:
        wanted = " or ".join(f"{s}://" for s in schemes)
        raise UsageFailure(f"--target must be an {wanted} URL, got {target!r}")
    try:
        url.port  # noqa: B018 - raises on a bad port
    except ValueError:
        raise UsageFailure(f"--target has a bad port: {target!r}") from None
    try:
        loopback = ipaddress.ip_address(url.hostname).is_loopback
    except ValueError:
        loopback = url.hostname == "localhost"
    if not loopback and not allow_remote:
        raise UsageFailure(
            f"{url.hostname} is not a loopback address; pass --allow-remote to load it"
        )
    return url


def check_reachable(base: str, timeout: float = 3.0) -> None:
    """A one-line UsageFailure unless something answers HTTP at `base` (any status will do)."""
    try:
        httpx.get(base.rstrip("/") + "/", timeout=timeout)
    except httpx.HTTPError as exc:
        raise UsageFailure(f"cannot reach {base}: {type(exc).__name__}: {exc}") from None
