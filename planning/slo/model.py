"""The SLO model: known metrics, targets grouped in tables and profiles, verdicts on figures.

`SloConfig` is what `config/slo.yaml` describes (read by `planning.slo.config`); a `Verdict` is one
target judged against a figure (made by `planning.slo.evaluation`).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from common.yaml_config import ConfigError as _YamlConfigError

__all__ = [
    "Comparator",
    "ConfigError",
    "Metric",
    "Overall",
    "ResultsError",
    "Section",
    "Slo",
    "SloConfig",
    "SloError",
    "Status",
    "Verdict",
    "Verdicts",
]

Comparator = Literal["<", "<=", ">", ">="]
Status = Literal["met", "missed", "not_measured", "informational"]
Overall = Literal["met", "missed", "not_measured", "informational"]


class SloError(ValueError):
    """Input the SLO evaluator cannot use; the message is one line."""


class ConfigError(SloError, _YamlConfigError):
    """A malformed SLO config; the message names the file, the entry and its line."""


class ResultsError(SloError):
    """A results file, or a results mapping, that cannot be evaluated."""


@dataclass(frozen=True)
class Metric:
    """A known metric: its unit, the component it describes and how the spec measures it."""

    name: str
    unit: str
    component: str
    description: str
    measurement: str | None


@dataclass(frozen=True)
class Slo:
    """One target: `metric comparator target` in `unit`, from a table or a load-test profile.

    An informational SLO (comparator None) is a goal the spec states without a number; it is
    reported, with the metric's figure when there is one, and never judged.
    """

    metric: str | None
    comparator: Comparator | None
    target: float | None
    unit: str | None
    spec: str
    description: str
    measurement: str | None
    component: str | None
    table: str | None = None
    profile: str | None = None

    @property
    def informational(self) -> bool:
        return self.comparator is None


@dataclass(frozen=True)
class Section:
    """A target table or a load-test profile: a titled list of SLOs."""

    name: str
    title: str
    slos: tuple[Slo, ...]
    command: str | None = None
    pattern: str | None = None


@dataclass(frozen=True)
class SloConfig:
    """The whole config: known metrics, aliases, target tables and load-test profiles."""

    source: str
    metrics: Mapping[str, Metric]
    aliases: Mapping[str, str]
    tables: Mapping[str, Section]
    profiles: Mapping[str, Section]

    def select(self, profile: str | None) -> tuple[Slo, ...]:
        """The SLOs evaluated for `profile`: its expectations, or all tables when None."""
        if profile is None:
            return tuple(slo for table in self.tables.values() for slo in table.slos)
        return self.profile(profile).slos

    def profile(self, name: str) -> Section:
        """The named profile, or an SloError listing the known ones."""
        if name not in self.profiles:
            known = ", ".join(self.profiles) or "none"
            raise SloError(f"unknown profile {name!r} in {self.source} (profiles: {known})")
        return self.profiles[name]

    def table_slo(self, metric: str) -> Slo | None:
        """The target-table SLO on `metric`, if any table has one."""
        return next((s for s in self.select(None) if s.metric == metric), None)


@dataclass(frozen=True)
class Verdict:
    """An SLO judged against a figure. `margin` > 0 is headroom, < 0 how far it was missed."""

    slo: Slo
    status: Status
    observed: float | None = None
    margin: float | None = None
    margin_percent: float | None = None
    result_key: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        s = self.slo
        return {
            "metric": s.metric,
            "description": s.description,
            "table": s.table,
            "profile": s.profile,
            "component": s.component,
            "comparator": s.comparator,
            "target": s.target,
            "unit": s.unit,
            "spec": s.spec,
            "measurement": s.measurement,
            "status": self.status,
            "observed": self.observed,
            "margin": self.margin,
            "margin_percent": self.margin_percent,
            "result_key": self.result_key,
        }


@dataclass(frozen=True)
class Verdicts:
    """Every selected SLO's verdict and the overall one.

    `overall` is "missed" if any SLO missed; else "not_measured" if any numeric SLO lacks a figure
    (unless `allow_unmeasured`), or if none has one at all; else "met". A selection with no
    numeric SLO (the stress profile) is "informational". `ignored` lists result keys that name
    known metrics outside this selection.
    """

    profile: str | None
    tables: tuple[str, ...]
    verdicts: tuple[Verdict, ...]
    overall: Overall
    allow_unmeasured: bool
    ignored: tuple[str, ...] = ()

    @property
    def passed(self) -> bool:
        """True when nothing measured missed and nothing required is unmeasured."""
        return self.overall in ("met", "informational")

    def counts(self) -> dict[str, int]:
        """How many verdicts have each status."""
        counts = dict.fromkeys(get_args(Status), 0)
        for v in self.verdicts:
            counts[v.status] += 1
        return counts

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "scope": "tables" if self.profile is None else "profile",
            "profile": self.profile,
            "tables": list(self.tables),
            "overall": self.overall,
            "passed": self.passed,
            "allow_unmeasured": self.allow_unmeasured,
            "counts": self.counts(),
            "verdicts": [v.as_dict() for v in self.verdicts],
            "ignored": list(self.ignored),
        }
