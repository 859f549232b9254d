"""A run to and from JSON, checked field by field on the way in."""

from __future__ import annotations

import dataclasses
import itertools
import math
from datetime import UTC, datetime
from typing import Any

import pydantic_core
from pydantic import TypeAdapter, ValidationError

from collectors.store import histograms
from collectors.store.model import LatencyFigures, Run, Summary

__all__ = ["RunFormatError", "check_run", "run_from_json", "run_to_dict", "run_to_json"]

_ADAPTER: TypeAdapter[Run] = TypeAdapter(Run)
_PERCENTILES = ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms")
_ORDER_REL_TOL = 1e-6


class RunFormatError(ValueError):
    """The text is not a run: not JSON, wrong shape, missing fields or wrong types, or
    (when checked) figures no measurement can give."""


def run_to_json(run: Run) -> bytes:
    """The whole run as JSON (UTC times in ISO 8601)."""
    return _ADAPTER.dump_json(run)


def run_to_dict(run: Run) -> dict[str, Any]:
    """The whole run as plain JSON-ready data."""
    data: dict[str, Any] = _ADAPTER.dump_python(run, mode="json")
    return data


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def _where(index: int, summary: Summary) -> str:
    return f"summaries.{index} ({summary.name!r})"


def _check_figures(where: str, figures: LatencyFigures) -> None:
    for name, value in vars(figures).items():
        if not (math.isfinite(value) and value >= 0):
            raise RunFormatError(f"{where}.{name} is {value}; must be a finite number >= 0")
    for low, high in itertools.pairwise(_PERCENTILES):
        a, b = getattr(figures, low), getattr(figures, high)
        if a > b and not math.isclose(a, b, rel_tol=_ORDER_REL_TOL):
            raise RunFormatError(
                f"{where}.{low} is {a}, above {high} {b}; "
                "must be p50 <= p90 <= p95 <= p99 <= p999 <= max"
            )


def _check_summary(index: int, summary: Summary) -> None:
    where = _where(index, summary)
    if summary.count < 0:
        raise RunFormatError(f"{where}.count is {summary.count}; must be >= 0")
    if summary.errors < 0:
        raise RunFormatError(f"{where}.errors is {summary.errors}; must be >= 0")
    if not (math.isfinite(summary.throughput_per_s) and summary.throughput_per_s >= 0):
        raise RunFormatError(
            f"{where}.throughput_per_s is {summary.throughput_per_s}; must be a finite number >= 0"
        )
    _check_figures(f"{where}.latency", summary.latency)
    if summary.service is not None:
        _check_figures(f"{where}.service", summary.service)


def check_run(run: Run) -> None:
    """RunFormatError naming the first field whose figure no measurement can give: negative
    counts, errors above count, negative or non-finite latencies or throughput, percentiles
    out of order (relative tolerance 1e-6), an end before the start, a series point with a
    non-finite value or a negative second.

    A summary's count need not match its histograms (some count messages, not samples).
    """
    started, ended = _utc(run.started_at), _utc(run.ended_at)
    if ended < started:
        raise RunFormatError(
            f"ended_at {ended.isoformat()} is before started_at {started.isoformat()}"
        )
    for index, summary in enumerate(run.summaries):
        _check_summary(index, summary)
    for index, point in enumerate(run.series):
        where = f"series.{index} ({point.side}/{point.series})"
        if not (math.isfinite(point.second) and point.second >= 0):
            raise RunFormatError(f"{where}.second is {point.second}; must be a finite number >= 0")
        if not math.isfinite(point.value):
            raise RunFormatError(
                f"{where}.value is {point.value} at second {point.second}; must be finite"
            )


def run_from_json(text: bytes | str, *, check: bool = False) -> Run:
    """A run from the JSON of `run_to_json`; RunFormatError with a one-line reason otherwise.

    With `check`, also `check_run` (for runs from outside, as `pincex runs import` takes);
    the store's spool replay leaves it off so that no run a benchmark wrote is turned away.
    """
    try:
        data = pydantic_core.from_json(text, allow_inf_nan=True)
    except ValueError as exc:
        raise RunFormatError(f"not JSON ({exc})") from None
    if not isinstance(data, dict):
        raise RunFormatError("not a run: expected a JSON object")
    try:
        run = _ADAPTER.validate_json(text, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "run"
        raise RunFormatError(f"not a run: {where}: {first['msg']}") from None
    if not run.id.strip() or not run.kind.strip():
        raise RunFormatError("not a run: id and kind must not be empty")
    for hist in run.histograms:
        try:
            histograms.decode(hist.encoded)
        except Exception as exc:
            raise RunFormatError(
                f"not a run: histogram {hist.name}/{hist.view} does not decode ({exc})"
            ) from None
    run = dataclasses.replace(run, started_at=_utc(run.started_at), ended_at=_utc(run.ended_at))
    if check:
        check_run(run)
    return run
