"""What `runs list` shows of a run: its identity and context with a headline summary."""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson

from collectors.store.headline import PARTS_KINDS, overall_summaries
from collectors.store.model import Summary
from collectors.store.rows import build_frozen, summary_from_row

__all__ = ["RunListing", "listing", "with_overall_headlines"]


@dataclass(frozen=True)
class RunListing:
    """A run's identity and context with its headline summary (the one with most requests)."""

    id: str
    kind: str
    profile: str
    target: str
    label: str
    started_at: datetime
    ended_at: datetime
    status: str
    tags: list[str]
    trusted: bool
    notes: str
    headline: Summary | None


def with_overall_headlines(con: Any, listings: list[RunListing]) -> list[RunListing]:
    """Runs whose summaries are parts of a whole (`headline.PARTS_KINDS`) headed by every
    part together rather than by their largest part."""
    overall = overall_summaries(con, [item.id for item in listings if item.kind in PARTS_KINDS])
    return [
        replace(item, headline=overall[item.id]) if item.id in overall else item
        for item in listings
    ]


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_LISTING_NAMES = tuple(f.name for f in fields(RunListing))


def listing(row: tuple[Any, ...]) -> RunListing:
    return build_frozen(
        RunListing,
        _LISTING_NAMES,
        (
            row[0],
            row[1],
            row[2],
            row[3],
            row[4],
            _EPOCH + timedelta(microseconds=row[5]),
            _EPOCH + timedelta(microseconds=row[6]),
            row[7],
            orjson.loads(row[8]),
            row[9],
            row[10],
            summary_from_row(row[12:]) if row[11] else None,
        ),
    )
