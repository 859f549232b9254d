"""What the store takes: sizes, integer and time bounds, names. One check for every route.

    check_storable(run)      # RunFormatError naming the first field the store cannot take
    trimmed(run)             # a benchmark's run with its free text cut to the limits
    cut(text, limit)         # at most `limit` characters, "…" marking a cut

`RunStore.write_many` calls `check_storable` on every run before it opens the file or spools,
so nothing outside these limits enters the store from `pincex runs import`, a benchmark or the
spool. The limits are module constants, read when a check runs.
"""

from __future__ import annotations

import dataclasses
import math
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import orjson

from collectors.store import histograms
from collectors.store.model import HISTOGRAM_VIEWS, RUN_STATUSES, Run, Summary

__all__ = [
    "INT64_MAX",
    "INT64_MIN",
    "MAX_FIELD_NAME_CHARS",
    "MAX_FILE_BYTES",
    "MAX_HISTOGRAMS",
    "MAX_HISTOGRAM_BUCKETS",
    "MAX_HISTOGRAM_CHARS",
    "MAX_ID_CHARS",
    "MAX_JSON_BYTES",
    "MAX_NAME_CHARS",
    "MAX_NOTES_CHARS",
    "MAX_SERIES_POINTS",
    "MAX_SUMMARIES",
    "MAX_TAGS",
    "MAX_TARGET_CHARS",
    "MAX_WARNINGS",
    "MAX_WARNING_CHARS",
    "NAME_RULE",
    "TOKEN_RULE",
    "RunFormatError",
    "check_name",
    "check_storable",
    "cut",
    "limits_text",
    "shown",
    "summary_numbers",
    "too_many",
    "trimmed",
]


class RunFormatError(ValueError):
    """The text is not a run: not JSON, wrong shape, missing fields or wrong types, beyond the
    store's limits, or (when checked) figures no measurement can give."""


MAX_FILE_BYTES = 128 * 2**20  # an exported run read by `runs import` or from the spool
MAX_SERIES_POINTS = 1_000_000  # ~7 h of a benchmark's ~40 per-second series
MAX_SUMMARIES = 1_000
MAX_HISTOGRAMS = 2_000  # two views per summary
MAX_HISTOGRAM_CHARS = 512 * 1024  # one encoded histogram (ours, full: under 300 kB)
MAX_HISTOGRAM_BUCKETS = 65_536  # counts in one histogram (ours: 23,552)
MAX_TAGS = 32
MAX_WARNINGS = 256
MAX_ID_CHARS = 64  # run id and kind
MAX_NAME_CHARS = 128  # label, profile, each tag
MAX_FIELD_NAME_CHARS = 256  # a summary's, series' or histogram's name
MAX_TARGET_CHARS = 1_024
MAX_NOTES_CHARS = 4_096
MAX_WARNING_CHARS = 2_000
MAX_JSON_BYTES = 64 * 1024  # config and host, each, as JSON
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # BIGINT: a summary's count and errors
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(2200, 1, 1, tzinfo=UTC)

# run id and kind: they name files (the spool's `<id>.json`, an export's default name)
TOKEN_RULE = "letters, digits, '.', '_' or '-', starting with a letter or digit"
_TOKEN = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]*", re.ASCII)
# label, profile, tags: short names people type (any script's letters and digits)
NAME_RULE = (
    "letters, digits, spaces and . _ : / @ + = # , ( ) -, starting with a letter or digit, "
    "not ending in a space"
)
_NAME = re.compile(r"[^\W_][\w .:/@+=#,()-]*")
_SHOWN_CHARS = 40


def cut(text: str, limit: int) -> str:
    """`text` if it has at most `limit` characters, else its start and "…" (`limit` in all)."""
    return text if len(text) <= limit else text[: max(limit - 1, 0)] + "…"


def shown(value: Any) -> str:
    """A value for a one-line message: its repr, cut (control characters escaped)."""
    if isinstance(value, str):
        return repr(cut(value, _SHOWN_CHARS))
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() > 130:
        return f"an integer of {value.bit_length()} bits"
    return cut(repr(value), _SHOWN_CHARS)


def too_many(field: str, limit: int, unit: str, count: int | None = None) -> RunFormatError:
    """The refusal of a list over its limit (`count` None: counting stopped past the limit)."""
    held = f"more than {limit:,}" if count is None else f"{count:,}"
    return RunFormatError(f"{field} holds {held} {unit}; at most {limit:,}")


def limits_text() -> str:
    """The limits in words, for `pincex runs import --help`."""
    return (
        f"Limits: a file of at most {MAX_FILE_BYTES // 2**20} MiB; at most "
        f"{MAX_SERIES_POINTS:,} series points, {MAX_SUMMARIES:,} summaries, "
        f"{MAX_HISTOGRAMS:,} histograms (each at most {MAX_HISTOGRAM_CHARS // 1024} KiB encoded "
        f"and {MAX_HISTOGRAM_BUCKETS:,} buckets), {MAX_TAGS} tags and {MAX_WARNINGS} warnings "
        f"(each at most {MAX_WARNING_CHARS:,} characters); id and kind 1-{MAX_ID_CHARS} "
        f"{TOKEN_RULE}; label, profile and each tag 1-{MAX_NAME_CHARS} characters: "
        f"{NAME_RULE}; target at most {MAX_TARGET_CHARS:,} characters, notes "
        f"{MAX_NOTES_CHARS:,}, summary, series and histogram names {MAX_FIELD_NAME_CHARS}; "
        f"config and host at most {MAX_JSON_BYTES // 1024} KiB of JSON each, with 64-bit "
        "integers; counts and errors 64-bit integers; summary figures finite; start and end "
        f"between {_EARLIEST.year} and {_LATEST.year}."
    )


def _length(field: str, text: str, limit: int) -> None:
    if len(text) > limit:
        raise RunFormatError(f"{field} is {len(text):,} characters; at most {limit:,}")


def _token(field: str, text: str, what: str) -> None:
    _length(field, text, MAX_ID_CHARS)
    if not _TOKEN.fullmatch(text):
        raise RunFormatError(f"{field} {shown(text)} is not {what}: 1-{MAX_ID_CHARS} {TOKEN_RULE}")


def _name(field: str, text: str) -> None:
    _length(field, text, MAX_NAME_CHARS)
    if not _NAME.fullmatch(text) or text.endswith(" "):
        raise RunFormatError(f"{field} {shown(text)} is not a name: 1-{MAX_NAME_CHARS} {NAME_RULE}")


def check_name(field: str, text: str) -> None:
    """A label, profile or tag as the store keeps it, or RunFormatError saying why not."""
    _name(field, text)


def _printable(field: str, text: str, limit: int) -> None:
    _length(field, text, limit)
    if not text.isprintable():
        raise RunFormatError(f"{field} {shown(text)} holds a control or line-break character")


def _count(field: str, items: list[Any], limit: int, unit: str) -> None:
    if len(items) > limit:
        raise too_many(field, limit, unit, len(items))


def _json_object(field: str, value: dict[str, Any]) -> None:
    try:
        size = len(orjson.dumps(value))
    except orjson.JSONEncodeError as exc:  # an integer beyond 64 bits, a key not text
        raise RunFormatError(f"{field} cannot be stored as JSON ({exc}; 64-bit integers)") from None
    if size > MAX_JSON_BYTES:
        raise RunFormatError(f"{field} is {size:,} bytes of JSON; at most {MAX_JSON_BYTES:,} bytes")


def _time(field: str, value: datetime) -> None:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if not _EARLIEST <= value < _LATEST:
        raise RunFormatError(
            f"{field} {value.isoformat()} is not between {_EARLIEST.year} and {_LATEST.year}"
        )


def _int64(field: str, value: float) -> None:
    if not INT64_MIN <= value <= INT64_MAX:
        raise RunFormatError(f"{field} is {shown(value)}; must fit a 64-bit integer")


def summary_numbers(where: str, summary: Summary) -> Iterator[tuple[str, float, bool]]:
    """(field, value, is_count) of every number of a summary, named below `where`: count and
    errors (counts), throughput, then each latency view's figures. The store's limits and the
    codec's plausibility checks both walk a summary through this."""
    yield f"{where}.count", summary.count, True
    yield f"{where}.errors", summary.errors, True
    yield f"{where}.throughput_per_s", summary.throughput_per_s, False
    for view, figures in (("latency", summary.latency), ("service", summary.service)):
        if figures is not None:
            for name, value in vars(figures).items():
                yield f"{where}.{view}.{name}", value, False


def _summary(index: int, summary: Summary) -> None:
    field = f"summaries.{index}"
    _printable(f"{field} name", summary.name, MAX_FIELD_NAME_CHARS)
    for name, value, is_count in summary_numbers(f"{field} ({shown(summary.name)})", summary):
        if is_count:
            _int64(name, value)
        elif not math.isfinite(value):
            raise RunFormatError(f"{name} is {value}; must be finite")


def _series(run: Run) -> None:
    _count("series", run.series, MAX_SERIES_POINTS, "points")
    names: dict[tuple[str, str], int] = {}
    for index, point in enumerate(run.series):
        if (point.side, point.series) not in names:
            names[(point.side, point.series)] = index
        if not math.isfinite(point.second):
            raise RunFormatError(
                f"series.{index} ({point.side}/{shown(point.series)}).second is {point.second}; "
                "must be finite"
            )
    for (side, name), index in names.items():
        if side not in ("client", "server"):
            raise RunFormatError(f"series.{index}.side is {shown(side)}; client or server")
        _printable(f"series.{index} ({side}/{shown(name)}) name", name, MAX_FIELD_NAME_CHARS)


def _histograms(run: Run) -> None:
    _count("histograms", run.histograms, MAX_HISTOGRAMS, "histograms")
    for index, hist in enumerate(run.histograms):
        _printable(f"histograms.{index} name", hist.name, MAX_FIELD_NAME_CHARS)
        where = f"histograms.{index} ({shown(hist.name)}/{hist.view})"
        if hist.view not in HISTOGRAM_VIEWS:
            raise RunFormatError(f"{where}.view is not one of {', '.join(HISTOGRAM_VIEWS)}")
        _length(where, hist.encoded, MAX_HISTOGRAM_CHARS)
        try:
            histograms.check_encoded(hist.encoded, MAX_HISTOGRAM_BUCKETS)
        except ValueError as exc:
            raise RunFormatError(f"{where} {exc}") from None


def check_storable(run: Run) -> None:
    """RunFormatError naming the first field the store cannot take: a list over its limit, a
    text over its length, an id, kind, label, profile or tag that is not a name, an integer
    beyond 64 bits, a non-finite summary figure or series second, a start or end out of
    range, config or host that is not small JSON, a histogram that does not decode within
    its buckets.

    What a measurement can give (percentiles in order, counts >= 0...) is `codec.check_run`'s,
    for imports; this is what every route must meet.
    """
    _token("id", run.id, "a run id")
    _token("kind", run.kind, "a kind")
    _name("profile", run.profile)
    _name("label", run.label)
    _count("tags", run.tags, MAX_TAGS, "tags")
    for index, tag in enumerate(run.tags):
        _name(f"tags.{index}", tag)
    _printable("target", run.target, MAX_TARGET_CHARS)
    _length("notes", run.notes, MAX_NOTES_CHARS)
    if run.status not in RUN_STATUSES:
        raise RunFormatError(f"status {shown(run.status)} is not one of {', '.join(RUN_STATUSES)}")
    _time("started_at", run.started_at)
    _time("ended_at", run.ended_at)
    _json_object("config", run.config)
    _json_object("host", run.host)
    _count("warnings", run.warnings, MAX_WARNINGS, "warnings")
    for index, message in enumerate(run.warnings):
        _length(f"warnings.{index}", message, MAX_WARNING_CHARS)
    _count("summaries", run.summaries, MAX_SUMMARIES, "summaries")
    for index, summary in enumerate(run.summaries):
        _summary(index, summary)
    _series(run)
    _histograms(run)


def trimmed(run: Run) -> Run:
    """The run with its free text (notes, warnings) cut to the limits, the warnings past the
    limit replaced by one that counts them, and series over the point limit thinned to every
    k-th sampled second (said in a warning); names and figures untouched."""
    series = run.series
    thinned: list[str] = []
    if len(series) > MAX_SERIES_POINTS:
        seconds = sorted({point.second for point in series})
        step = math.ceil(len(series) / MAX_SERIES_POINTS)
        kept = set(seconds[::step])
        series = [point for point in series if point.second in kept]
        while len(series) > MAX_SERIES_POINTS:  # uneven seconds: thin once more
            step += 1
            kept = set(seconds[::step])
            series = [point for point in series if point.second in kept]
        thinned = [
            f"series thinned to one sampled second in {step}: {len(run.series):,} points are "
            f"over the store's limit of {MAX_SERIES_POINTS:,}"
        ]
    warnings = [cut(w, MAX_WARNING_CHARS) for w in [*run.warnings, *thinned]]
    if len(warnings) > MAX_WARNINGS:
        dropped = len(warnings) - (MAX_WARNINGS - 1)
        warnings = [*warnings[: MAX_WARNINGS - 1], f"{dropped} more warnings not kept"]
    notes = cut(run.notes, MAX_NOTES_CHARS)
    if warnings == run.warnings and notes == run.notes and series is run.series:
        return run
    return dataclasses.replace(run, notes=notes, warnings=warnings, series=series)
