"""Values as the capacity specification writes them: `3.0x`, `8 CPU, 32GB RAM`, `1 Gbps`."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import TypeVar

from common.yaml_config import ConfigError as _YamlConfigError

__all__ = [
    "ConfigError",
    "Number",
    "parse_bandwidth_mbps",
    "parse_database_spec",
    "parse_multiplier",
]

Number = int | float
T = TypeVar("T")


class ConfigError(_YamlConfigError):
    """The capacity file is missing a key or holds a value that cannot be read."""


_MULTIPLIER = re.compile(r"(\d+(?:\.\d+)?)\s*[xX]")
_DATABASE_SPEC = re.compile(r"(\d+)\s*CPU\s*,\s*(\d+(?:\.\d+)?)\s*GB\s+RAM", re.IGNORECASE)
_BANDWIDTH = re.compile(r"(\d+(?:\.\d+)?)\s*([KMGT])bps", re.IGNORECASE)
_MBPS_PER_UNIT = {"K": 0.001, "M": 1, "G": 1000, "T": 1_000_000}


def _int_if_whole(text: str) -> Number:
    value = float(text)
    return int(value) if value.is_integer() and "." not in text else value


def multiplier(value: object) -> float:
    """`"3.0x"` -> 3.0; a bare positive number is taken as it is (ValueError otherwise)."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        number = float(value)
    elif isinstance(value, str) and (match := _MULTIPLIER.fullmatch(value.strip())):
        number = float(match.group(1))
    else:
        raise ValueError(f"expected a multiplier such as 3.0x, got {value!r}")
    if not number > 0:
        raise ValueError(f"a multiplier must be above 0, got {value!r}")
    return number


def database_spec(value: object) -> tuple[int, Number]:
    """`"8 CPU, 32GB RAM"` -> (8, 32) (ValueError otherwise)."""
    match = _DATABASE_SPEC.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f'expected a database spec such as "8 CPU, 32GB RAM", got {value!r}')
    return int(match.group(1)), _int_if_whole(match.group(2))


def bandwidth_mbps(value: object) -> Number:
    """`"1 Gbps"` -> 1000, decimal units as the script's 1000 Mbps (ValueError otherwise)."""
    match = _BANDWIDTH.fullmatch(value.strip()) if isinstance(value, str) else None
    if match is None:
        raise ValueError(f'expected a bandwidth such as "10 Gbps", got {value!r}')
    mbps = float(match.group(1)) * _MBPS_PER_UNIT[match.group(2).upper()]
    return int(mbps) if mbps.is_integer() else mbps


def _named(read: Callable[[object], T], value: object, key: str) -> T:
    try:
        return read(value)
    except ValueError as exc:
        raise ConfigError(f"{key}: {exc}") from None


def parse_multiplier(value: object, key: str) -> float:
    """`multiplier`, a ConfigError naming `key` when the value cannot be read."""
    return _named(multiplier, value, key)


def parse_database_spec(value: object, key: str) -> tuple[int, Number]:
    """`database_spec`, a ConfigError naming `key` when the value cannot be read."""
    return _named(database_spec, value, key)


def parse_bandwidth_mbps(value: object, key: str) -> Number:
    """`bandwidth_mbps`, a ConfigError naming `key` when the value cannot be read."""
    return _named(bandwidth_mbps, value, key)
