"""A run to and from JSON, checked field by field on the way in.

Reading is bounded and streams: a file is read up to `limits.MAX_FILE_BYTES`; the top-level
object is walked key by key, each list counted against its limit as it is read (a file with too
many points is refused at the first point past the limit), and the series, the bulk of a large
run, is validated `PARSE_CHUNK` points at a time, so no parsed copy of the whole document is
ever built beside the run.
"""

from __future__ import annotations

import dataclasses
import itertools
import json
import math
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import TypeAdapter, ValidationError

from collectors.store import limits
from collectors.store.limits import RunFormatError
from collectors.store.model import LatencyFigures, Point, Run, Summary

__all__ = [
    "PARSE_CHUNK",
    "RunFormatError",
    "check_run",
    "run_from_file",
    "run_from_json",
    "run_to_dict",
    "run_to_json",
]

_ADAPTER: TypeAdapter[Run] = TypeAdapter(Run)
_POINTS: TypeAdapter[list[Point]] = TypeAdapter(list[Point])
_PERCENTILES = ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "p999_ms", "max_ms")
_ORDER_REL_TOL = 1e-6
PARSE_CHUNK = 50_000  # series points validated at once
_WHITESPACE = re.compile(r"[ \t\n\r]*")
_DECODER = json.JSONDecoder()  # NaN and Infinity read, as pydantic reads them


def run_to_json(run: Run) -> bytes:
    """The whole run as JSON (UTC times in ISO 8601)."""
    return _ADAPTER.dump_json(run)


def run_to_dict(run: Run) -> dict[str, Any]:
    """The whole run as plain JSON-ready data."""
    data: dict[str, Any] = _ADAPTER.dump_python(run, mode="json")
    return data


def _utc(field: str, value: datetime) -> datetime:
    try:
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)
    except OverflowError:
        raise RunFormatError(f"{field} {value.isoformat()} is out of range") from None


def _where(index: int, summary: Summary) -> str:
    return f"summaries.{index} ({summary.name!r})"


def _check_order(where: str, figures: LatencyFigures) -> None:
    for low, high in itertools.pairwise(_PERCENTILES):
        a, b = getattr(figures, low), getattr(figures, high)
        if a > b and not math.isclose(a, b, rel_tol=_ORDER_REL_TOL):
            raise RunFormatError(
                f"{where}.{low} is {a}, above {high} {b}; "
                "must be p50 <= p90 <= p95 <= p99 <= p999 <= max"
            )


def _check_summary(index: int, summary: Summary) -> None:
    where = _where(index, summary)
    for field, value, is_count in limits.summary_numbers(where, summary):
        if is_count and value < 0:
            raise RunFormatError(f"{field} is {value}; must be >= 0")
        if not is_count and not (math.isfinite(value) and value >= 0):
            raise RunFormatError(f"{field} is {value}; must be a finite number >= 0")
    _check_order(f"{where}.latency", summary.latency)
    if summary.service is not None:
        _check_order(f"{where}.service", summary.service)


def check_run(run: Run) -> None:
    """RunFormatError naming the first field whose figure no measurement can give: negative
    counts, errors above count, negative or non-finite latencies or throughput, percentiles
    out of order (relative tolerance 1e-6), an end before the start, a series point with a
    non-finite value or a negative second.

    A summary's count need not match its histograms (some count messages, not samples).
    """
    started, ended = _utc("started_at", run.started_at), _utc("ended_at", run.ended_at)
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


class _NotJson(Exception):
    """The text is not JSON (a one-line reason)."""


def _list_limit(key: str) -> tuple[int, str] | None:
    """The limit and unit of a top-level list (read now, so a test may lower it)."""
    return {
        "series": (limits.MAX_SERIES_POINTS, "points"),
        "summaries": (limits.MAX_SUMMARIES, "summaries"),
        "histograms": (limits.MAX_HISTOGRAMS, "histograms"),
        "tags": (limits.MAX_TAGS, "tags"),
        "warnings": (limits.MAX_WARNINGS, "warnings"),
    }.get(key)


class _Walker:
    """A cursor over JSON text that decodes one value at a time."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def peek(self) -> str:
        match = _WHITESPACE.match(self.text, self.pos)
        self.pos = match.end() if match else self.pos
        return self.text[self.pos : self.pos + 1]

    def take(self, allowed: str) -> str:
        char = self.peek()
        if not char or char not in allowed:
            found = repr(char) if char else "the end"
            raise _NotJson(f"expected one of {allowed!r} at char {self.pos}, found {found}")
        self.pos += 1
        return char

    def value(self) -> tuple[Any, int]:
        """The next value and where it started."""
        self.peek()
        start = self.pos
        try:
            value, self.pos = _DECODER.raw_decode(self.text, start)
        except RecursionError:
            raise _NotJson(f"nested too deeply at char {start}") from None
        except ValueError as exc:
            raise _NotJson(str(exc)) from None
        return value, start

    def items(self, field: str, limit: int, unit: str) -> Iterator[tuple[int, bool]]:
        """Walk a list (the cursor on its `[`): yield after each item, stop past the limit."""
        self.take("[")
        if self.peek() == "]":
            self.pos += 1
            return
        count = 0
        while True:
            self.value()
            count += 1
            if count > limit:
                raise limits.too_many(field, limit, unit)
            end = self.pos
            last = self.take(",]") == "]"
            yield end, last
            if last:
                return


def _points(text: str, first: int) -> list[Point]:
    """The points of a chunk of series text (items `first`...), validated as a whole run's."""
    try:
        return _POINTS.validate_json(f"[{text}]", strict=True)
    except ValidationError as exc:
        error = exc.errors()[0]
        if error["type"] == "json_invalid":
            raise RunFormatError(f"not JSON ({error['msg']})") from None
        index, *rest = error["loc"] or (0,)
        where = ".".join(["series", str(first + int(index)), *map(str, rest)])
        raise RunFormatError(f"not a run: {where}: {error['msg']}") from None


def _walk(text: str) -> tuple[str, list[Point] | None]:
    """The run's JSON without its series, and the series' points (None when absent or not a
    list: then they stay in the JSON for the validator to name)."""
    walker = _Walker(text)
    if walker.peek() != "{":
        walker.value()
        if walker.peek():
            raise _NotJson(f"extra data at char {walker.pos}")
        raise RunFormatError("not a run: expected a JSON object")
    walker.take("{")
    fields: list[str] = []
    points: list[Point] | None = None
    if walker.peek() == "}":
        walker.pos += 1
    else:
        while True:
            key, key_start = walker.value()
            if not isinstance(key, str):
                raise _NotJson(f"expected a key at char {key_start}")
            key_text = text[key_start : walker.pos]
            walker.take(":")
            listed = _list_limit(key)
            if key == "series" and walker.peek() == "[":
                points = _read_series(walker)
            elif listed is not None and walker.peek() == "[":
                start = walker.pos
                for _ in walker.items(key, *listed):
                    pass
                fields.append(f"{key_text}:{text[start : walker.pos]}")
            else:
                _, start = walker.value()
                fields.append(f"{key_text}:{text[start : walker.pos]}")
            if walker.take(",}") == "}":
                break
    if walker.peek():
        raise _NotJson(f"extra data at char {walker.pos}")
    return "{" + ",".join(fields) + "}", points


def _read_series(walker: _Walker) -> list[Point]:
    limit, unit = limits.MAX_SERIES_POINTS, "points"
    points: list[Point] = []
    chunk_start, in_chunk = walker.pos + 1, 0
    for end, last in walker.items("series", limit, unit):
        in_chunk += 1
        if in_chunk == PARSE_CHUNK or last:
            points.extend(_points(walker.text[chunk_start:end], len(points)))
            chunk_start, in_chunk = walker.pos, 0
    return points


def _decoded(data: bytes) -> str:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise RunFormatError(f"not JSON (not UTF-8: {exc.reason} at byte {exc.start})") from None


def run_from_json(text: bytes | str, *, check: bool = False) -> Run:
    """A run from the JSON of `run_to_json`; RunFormatError with a one-line reason otherwise
    (lists past their limits included; the store checks the rest of its limits on writing).

    With `check`, also `check_run` (for runs from outside, as `pincex runs import` takes);
    the store's spool replay leaves it off so that no run a benchmark wrote is turned away.
    """
    if isinstance(text, bytes):
        text = _decoded(text)
    try:
        rest, points = _walk(text)
    except _NotJson as exc:
        raise RunFormatError(f"not JSON ({exc})") from None
    try:
        run = _ADAPTER.validate_json(rest, strict=True)
    except ValidationError as exc:
        first = exc.errors()[0]
        if first["type"] == "json_invalid":
            raise RunFormatError(f"not JSON ({first['msg']})") from None
        where = ".".join(str(part) for part in first["loc"]) or "run"
        raise RunFormatError(f"not a run: {where}: {first['msg']}") from None
    run = dataclasses.replace(
        run,
        started_at=_utc("started_at", run.started_at),
        ended_at=_utc("ended_at", run.ended_at),
        series=run.series if points is None else points,
    )
    if check:
        check_run(run)
    return run


def run_from_file(path: Path, *, check: bool = False) -> Run:
    """`run_from_json` of a file read up to `limits.MAX_FILE_BYTES` (RunFormatError past it;
    OSError when it cannot be read)."""
    most = limits.MAX_FILE_BYTES
    with open(path, "rb") as handle:
        size = os.fstat(handle.fileno()).st_size
        if size > most:
            raise RunFormatError(
                f"the file is {size:,} bytes, larger than the limit of {most:,} bytes"
            )
        data = handle.read(most + 1)
    if len(data) > most:
        raise RunFormatError(f"the file is larger than the limit of {most:,} bytes")
    text = _decoded(data)
    del data  # the text alone while parsing
    return run_from_json(text, check=check)
