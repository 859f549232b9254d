"""Prometheus text exposition parsed into a `Snapshot`: sample name -> labels -> value.

snap = parse_exposition(body, at=time.monotonic())
snap.get("pincex_orders_processed_total")  # {(("side", "BUY"), ...): 12.0, ...}
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from prometheus_client.parser import text_string_to_metric_families

__all__ = ["Labels", "ParseError", "Snapshot", "labels_of", "parse_exposition"]

Labels = tuple[tuple[str, str], ...]
"""A sample's labels as sorted (name, value) pairs: hashable and order-free."""


class ParseError(ValueError):
    """The body is not Prometheus text exposition."""


@dataclass(frozen=True)
class Snapshot:
    """Every sample of one scrape, taken at `at` seconds (a monotonic clock)."""

    at: float
    samples: Mapping[str, Mapping[Labels, float]] = field(default_factory=dict)

    def get(self, name: str) -> Mapping[Labels, float]:
        """The samples named `name` (empty when the target did not export it)."""
        return self.samples.get(name, {})

    def __len__(self) -> int:
        return sum(len(values) for values in self.samples.values())


def labels_of(labels: Mapping[str, str]) -> Labels:
    """`labels` as a `Labels` key."""
    return tuple(sorted(labels.items()))


def parse_exposition(text: str, at: float) -> Snapshot:
    """Parse a /metrics body; raise `ParseError` when it is not Prometheus text."""
    samples: dict[str, dict[Labels, float]] = {}
    try:
        for family in text_string_to_metric_families(text):
            for sample in family.samples:
                samples.setdefault(sample.name, {})[labels_of(sample.labels)] = float(sample.value)
    except (ValueError, TypeError, IndexError, KeyError) as exc:
        raise ParseError(f"not Prometheus text exposition: {exc}") from exc
    return Snapshot(at, samples)
