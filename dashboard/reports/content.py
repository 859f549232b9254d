"""What a run's report says, as data: the run, its comparison with a baseline, the regression
alerts touching it, and the report as a whole; the few words every renderer shares (the trust
verdict, the one-line glance, the verdicts by target table). `build` fills these from the store.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal

import pandas as pd

from planning.diagnose import Diagnosis
from planning.run_slo import JudgedRun
from planning.slo import Verdict

__all__ = [
    "HEADLINE_FIGURES",
    "Alert",
    "Comparison",
    "Delta",
    "RunInfo",
    "RunReport",
    "as_datetime",
    "finite",
    "glance",
    "run_info",
    "trust_words",
    "verdict_groups",
]

# (summary column, what people call it, unit, higher is worse)
HEADLINE_FIGURES: tuple[tuple[str, str, str, bool], ...] = (
    ("latency_p50_ms", "p50 latency (from due time)", "ms", True),
    ("latency_p95_ms", "p95 latency (from due time)", "ms", True),
    ("latency_p99_ms", "p99 latency (from due time)", "ms", True),
    ("latency_p999_ms", "p99.9 latency (from due time)", "ms", True),
    ("latency_max_ms", "max latency (from due time)", "ms", True),
    ("service_p99_ms", "p99 service time (from send)", "ms", True),
    ("throughput_per_s", "throughput", "/s", False),
    ("error_rate_percent", "error rate", "%", True),
)


@dataclass(frozen=True)
class RunInfo:
    """A run's identity and context, as the report shows it."""

    run_id: str
    kind: str
    profile: str
    label: str
    target: str
    started_at: datetime | None
    ended_at: datetime | None
    duration_s: float
    status: str
    trusted: bool
    tags: tuple[str, ...]
    config: dict[str, Any]
    host: dict[str, Any]
    notes: str
    warnings: tuple[str, ...] = ()

    @property
    def title(self) -> str:
        """'label · kind · YYYY-mm-dd HH:MM:SS'."""
        start = "-" if self.started_at is None else self.started_at.strftime("%Y-%m-%d %H:%M:%S")
        return f"{self.label} · {self.kind} · {start}"

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "id": self.run_id,
            "title": self.title,
            "kind": self.kind,
            "profile": self.profile,
            "label": self.label,
            "target": self.target,
            "started_at": _iso(self.started_at),
            "ended_at": _iso(self.ended_at),
            "duration_s": self.duration_s,
            "status": self.status,
            "trusted": self.trusted,
            "trust": trust_words(self),
            "tags": list(self.tags),
            "config": self.config,
            "host": self.host,
            "notes": self.notes,
            "warnings": list(self.warnings),
        }


@dataclass(frozen=True)
class Delta:
    """One figure of the run beside the baseline's: change and whether it is worse."""

    key: str
    name: str
    unit: str
    baseline: float | None
    current: float | None
    change: float | None
    change_pct: float | None
    verdict: Literal["worse", "better", "same", "n/a"]


@dataclass(frozen=True)
class Comparison:
    """The run against its baseline: headline and target figures, and what else changed."""

    baseline: RunInfo
    why: str  # "pinned baseline of orders/single" or "given with --baseline"
    summary: str  # the summary name compared
    headline: tuple[Delta, ...]
    targets: tuple[Delta, ...]
    changed: tuple[str, ...]


@dataclass(frozen=True)
class Alert:
    """A detected regression touching the run: it starts at this run, or it is still open
    (the run sits on the level an earlier regression moved to); or the run is an outlier."""

    where: Literal["starts here", "open", "outlier"]
    series: str  # kind/profile/summary name
    figure: str
    run_id: str
    run_title: str
    change_pct: float
    interval_pct: tuple[float, float] | None
    before: float | None
    after: float | None
    runs_since: int | None
    text: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return {
            "where": self.where,
            "series": self.series,
            "figure": self.figure,
            "run_id": self.run_id,
            "run": self.run_title,
            "change_pct": finite(self.change_pct),
            "interval_pct": None if self.interval_pct is None else list(self.interval_pct),
            "before": finite(self.before),
            "after": finite(self.after),
            "runs_since": self.runs_since,
            "text": self.text,
        }


@dataclass(frozen=True, eq=False)
class RunReport:
    """Everything a report of one run says."""

    run: RunInfo
    judged: JudgedRun
    summaries: pd.DataFrame
    series: pd.DataFrame
    curve: pd.DataFrame
    headline: str | None
    figures: dict[str, float | None]
    comparison: Comparison | None
    baseline_note: str
    baseline_curve: pd.DataFrame
    alerts: tuple[Alert, ...]
    regression_note: str
    diagnosis: Diagnosis | None
    diagnosis_note: str | None
    recommendations: tuple[str, ...]
    store_path: str
    table_titles: dict[str, str] = field(default_factory=dict)
    generated_at: datetime = field(default_factory=lambda: datetime.now(UTC))


def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.isoformat()


def finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def as_datetime(value: Any) -> datetime | None:
    if value is None or (not isinstance(value, datetime) and pd.isna(value)):
        return None
    when: datetime = pd.Timestamp(value).to_pydatetime()
    return when


def run_info(row: pd.Series, warnings: list[str]) -> RunInfo:
    notes = row["notes"]
    return RunInfo(
        run_id=str(row["run_id"]),
        kind=str(row["kind"]),
        profile=str(row["profile"]),
        label=str(row["label"]),
        target=str(row["target"]),
        started_at=as_datetime(row["started_at"]),
        ended_at=as_datetime(row["ended_at"]),
        duration_s=float(row["duration_s"]),
        status=str(row["status"]),
        trusted=bool(row["trusted"]),
        tags=tuple(str(t) for t in row["tags"]),
        config=dict(row["config"]),
        host=dict(row["host"]),
        notes="" if notes is None or (isinstance(notes, float) and pd.isna(notes)) else str(notes),
        warnings=tuple(warnings),
    )


def trust_words(run: RunInfo) -> str:
    """The run's trust verdict in words, first thing a reader sees."""
    status = "" if run.status == "complete" else f" The run is {run.status}."
    if not run.trusted:
        why = "; ".join(run.warnings) or "it was marked so when stored"
        return f"Not trusted: {why}.{status} Read its figures as indications only."
    if run.warnings:
        return f"Trusted, with {len(run.warnings)} warning(s): {'; '.join(run.warnings)}.{status}"
    return f"Trusted: no warnings were raised while it ran.{status}"


def glance(report: RunReport) -> str:
    """One line: the verdict counts, the headline figures and the baseline."""
    c = report.judged.verdicts.counts()
    parts = [f"{c['met']} met, {c['missed']} missed, {c['not_measured']} not measured"]
    p99, rate = report.figures.get("latency_p99_ms"), report.figures.get("throughput_per_s")
    if p99 is not None and rate is not None:
        parts.append(f"{report.headline}: p99 {p99:.4g} ms at {rate:,.1f}/s")
    if report.comparison is not None:
        parts.append(f"baseline {report.comparison.baseline.title}")
    else:
        parts.append("no baseline")
    return " · ".join(parts)


def verdict_groups(report: RunReport) -> list[tuple[str, str, list[Verdict]]]:
    """The run's verdicts by target table, in the config's order: (name, title, verdicts)."""
    groups: dict[str, list[Verdict]] = {}
    for v in report.judged.verdicts.verdicts:
        groups.setdefault(v.slo.table or "", []).append(v)
    return [(name, report.table_titles.get(name, name), vs) for name, vs in groups.items()]
