"""A run to and from JSON, checked field by field on the way in."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime
from typing import Any

import orjson
from pydantic import TypeAdapter, ValidationError

from collectors.store import histograms
from collectors.store.model import Run

__all__ = ["RunFormatError", "run_from_json", "run_to_dict", "run_to_json"]

_ADAPTER: TypeAdapter[Run] = TypeAdapter(Run)


class RunFormatError(ValueError):
    """The text is not a run: not JSON, wrong shape, missing fields or wrong types."""


def run_to_json(run: Run) -> bytes:
    """The whole run as JSON (UTC times in ISO 8601)."""
    return _ADAPTER.dump_json(run)


def run_to_dict(run: Run) -> dict[str, Any]:
    """The whole run as plain JSON-ready data."""
    data: dict[str, Any] = _ADAPTER.dump_python(run, mode="json")
    return data


def _utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


def run_from_json(text: bytes | str) -> Run:
    """A run from the JSON of `run_to_json`; RunFormatError with a one-line reason otherwise."""
    try:
        data = orjson.loads(text)
    except orjson.JSONDecodeError as exc:
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
    return dataclasses.replace(run, started_at=_utc(run.started_at), ended_at=_utc(run.ended_at))
