"""Run histories from CSV (`series,metric,value`, one row per run in run order)."""

from __future__ import annotations

import csv
import io
import math
from dataclasses import dataclass
from pathlib import Path

__all__ = ["HistoryError", "RunHistory", "parse_histories", "read_histories"]

_HEADER = ["series", "metric", "value"]


class HistoryError(ValueError):
    """A history file that cannot be read."""


@dataclass(frozen=True)
class RunHistory:
    """One metric of one series: its values in run order (index 0 is the first run)."""

    series: str
    metric: str
    values: list[float]

    @property
    def id(self) -> str:
        return f"{self.series}/{self.metric}"


def parse_histories(text: str, name: str = "input") -> list[RunHistory]:
    """Parse CSV text into histories, in order of first appearance."""
    rows = list(csv.reader(io.StringIO(text)))
    rows = [r for r in rows if r and any(c.strip() for c in r)]
    if not rows:
        raise HistoryError(f"{name} is empty (expected a header series,metric,value)")
    header = [c.strip().lower() for c in rows[0]]
    if header != _HEADER:
        raise HistoryError(f"{name} header is {','.join(rows[0])!r}; expected series,metric,value")
    if len(rows) == 1:
        raise HistoryError(f"{name} has a header but no runs")
    grouped: dict[tuple[str, str], list[float]] = {}
    for line_no, row in enumerate(rows[1:], start=2):
        if len(row) != 3:
            raise HistoryError(f"{name} line {line_no}: expected 3 fields, got {len(row)}")
        series, metric, raw = (c.strip() for c in row)
        if not series or not metric:
            raise HistoryError(f"{name} line {line_no}: empty series or metric")
        try:
            value = float(raw)
        except ValueError:
            raise HistoryError(f"{name} line {line_no}: value {raw!r} is not a number") from None
        if not math.isfinite(value):
            raise HistoryError(f"{name} line {line_no}: value {raw!r} is not finite")
        grouped.setdefault((series, metric), []).append(value)
    return [RunHistory(s, m, v) for (s, m), v in grouped.items()]


def read_histories(path: str | Path) -> list[RunHistory]:
    """Read a history CSV file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise HistoryError(f"input file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HistoryError(f"input file {path} cannot be read: {exc}") from None
    return parse_histories(text, name=str(path))
