"""Which way is worse for a metric, from its name or from the user's overrides."""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Literal

__all__ = ["Direction", "DirectionError", "direction_of"]

Direction = Literal["higher_is_worse", "lower_is_worse"]

_HIGHER_EXACT = {"order_processing_p95_ms", "database_query_p95_ms"}
_HIGHER_SUFFIX = ("_ms", "_seconds", "latency", "duration")
_HIGHER_PCT = re.compile(r"p50|p90|p95|p99")
_LOWER_EXACT = {"orders_per_second"}
_LOWER_SUFFIX = ("_per_second", "_per_s", "_rps", "_ops", "throughput")


class DirectionError(ValueError):
    """A metric whose name says nothing about which way is worse."""


def direction_of(
    metric: str,
    higher_is_worse: Iterable[str] = (),
    lower_is_worse: Iterable[str] = (),
) -> Direction:
    """Direction of `metric`: explicit overrides first, then the naming rules."""
    higher, lower = set(higher_is_worse), set(lower_is_worse)
    if metric in higher and metric in lower:
        raise DirectionError(f"metric {metric!r} is given as both higher- and lower-is-worse")
    if metric in higher:
        return "higher_is_worse"
    if metric in lower:
        return "lower_is_worse"
    name = metric.lower()
    if name in _HIGHER_EXACT:
        return "higher_is_worse"
    if name in _LOWER_EXACT:
        return "lower_is_worse"
    if name.endswith(_LOWER_SUFFIX):
        return "lower_is_worse"
    if name.endswith(_HIGHER_SUFFIX) or _HIGHER_PCT.search(name):
        return "higher_is_worse"
    raise DirectionError(
        f"cannot tell which way is worse for metric {metric!r}; "
        "pass --higher-is-worse or --lower-is-worse with its name"
    )
