"""Results files: one JSON object of metric name to number (or null: not measured)."""

from __future__ import annotations

import math
from pathlib import Path

import orjson

from planning.slo.model import ResultsError

__all__ = ["figure", "load_results"]


def figure(key: str, value: object) -> float | None:
    """`value` of result `key` as a number (None: not measured); a ResultsError otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        shown = repr(value)
        shown = shown if len(shown) <= 40 else shown[:37] + "..."
        raise ResultsError(f"value of {key!r} is not a number: {shown}")
    if not math.isfinite(value):
        raise ResultsError(f"value of {key!r} is not a finite number: {value}")
    return value


def load_results(path: str | Path) -> dict[str, float | None]:
    """Read a results file: one JSON object of metric name to number (or null: not measured).

    Raises ResultsError, naming the file, for a missing file, bad JSON, a non-object or a
    non-numeric value; names are checked later, against a config.
    """
    data = _parse_json(Path(path))
    if not isinstance(data, dict):
        kinds = {list: "an array", str: "a string", bool: "a boolean", type(None): "null"}
        kind = kinds.get(type(data), "a number")
        raise ResultsError(f"{path}: expected a JSON object of metric names to numbers, not {kind}")
    try:
        return {key: figure(key, value) for key, value in data.items()}
    except ResultsError as exc:
        raise ResultsError(f"{path}: {exc}") from None


def _parse_json(path: Path) -> object:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ResultsError(f"{path}: no such file") from None
    except OSError as exc:
        raise ResultsError(f"{path}: {exc.strerror or exc}") from None
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise ResultsError(f"{path}: not valid JSON ({exc})") from None
