"""A run's report content, gathered from the store: what the HTML, Markdown, PDF and JSON say.

    store = queries.open_store("data/pincex.duckdb")
    report = build_report(store, "latest")                # baseline: the pinned one, if any
    report = build_report(store, run_id, baseline_ref="3f2a9c1e")
    report.judged.verdicts, report.comparison, report.alerts, report.diagnosis

Everything is read once here (summaries, series, latency curves, the judged verdicts, the
detector's findings on the run's (kind, profile) histories, the diagnosis rules); the renderers
only format it. A part that cannot be filled says why (`baseline_note`, `regression_note`,
`diagnosis_note`), so a report never silently drops a section.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal

import pandas as pd

from collectors.store import frames
from collectors.store.frames import RunFilter
from collectors.store.store import RunStore
from dashboard import queries
from planning.diagnose import Diagnosis, examine
from planning.regress.detect import DEFAULT_SETTINGS
from planning.regress.stored import Detected
from planning.run_slo import JudgedRun, judge_run, run_figures
from planning.slo import SloConfig, SloError, Verdict, load_config

__all__ = [
    "HEADLINE_FIGURES",
    "Alert",
    "Comparison",
    "Delta",
    "RunInfo",
    "RunReport",
    "build_report",
    "glance",
    "headline_figures",
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
_SAME_WITHIN_PCT = 1.0  # a delta smaller than this share of the baseline reads "same"


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
            "change_pct": _finite(self.change_pct),
            "interval_pct": None if self.interval_pct is None else list(self.interval_pct),
            "before": _finite(self.before),
            "after": _finite(self.after),
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


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _when(value: Any) -> datetime | None:
    if value is None or (not isinstance(value, datetime) and pd.isna(value)):
        return None
    when: datetime = pd.Timestamp(value).to_pydatetime()
    return when


def _run_info(row: pd.Series, warnings: list[str]) -> RunInfo:
    notes = row["notes"]
    return RunInfo(
        run_id=str(row["run_id"]),
        kind=str(row["kind"]),
        profile=str(row["profile"]),
        label=str(row["label"]),
        target=str(row["target"]),
        started_at=_when(row["started_at"]),
        ended_at=_when(row["ended_at"]),
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


def headline_figures(summaries: pd.DataFrame, name: str | None = None) -> dict[str, float | None]:
    """The figures of one summary (`name`, else the one with the most samples):
    HEADLINE_FIGURES keys, plus `count` and `errors`."""
    if summaries.empty:
        return {}
    picked = summaries[summaries["name"] == name] if name is not None else summaries.iloc[:0]
    row = (
        picked.iloc[0]
        if not picked.empty
        else summaries.loc[pd.to_numeric(summaries["count"]).idxmax()]
    )
    out: dict[str, float | None] = {}
    for key, *_ in HEADLINE_FIGURES:
        if key in row.index:
            value = pd.to_numeric(row[key], errors="coerce")
            out[key] = None if pd.isna(value) else float(value)
    count, errors = float(row["count"]), float(row["errors"])
    out["count"] = count
    out["errors"] = errors
    out["error_rate_percent"] = errors / count * 100 if count > 0 else None
    return out


def _headline_name(summaries: pd.DataFrame) -> str | None:
    if summaries.empty:
        return None
    return str(summaries.loc[pd.to_numeric(summaries["count"]).idxmax()]["name"])


def _delta(key: str, name: str, unit: str, worse_up: bool, base: Any, cur: Any) -> Delta:
    b = _finite(base) if isinstance(base, (int, float)) else None
    c = _finite(cur) if isinstance(cur, (int, float)) else None
    if b is None or c is None:
        return Delta(key, name, unit, b, c, None, None, "n/a")
    change = c - b
    pct = None if b == 0 else change / abs(b) * 100
    if change == 0 or (pct is not None and abs(pct) < _SAME_WITHIN_PCT):
        verdict: Literal["worse", "better", "same", "n/a"] = "same"
    else:
        verdict = "worse" if (change > 0) == worse_up else "better"
    return Delta(key, name, unit, b, c, change, pct, verdict)


def _differences(a: dict[str, Any], b: dict[str, Any], what: str) -> list[str]:
    out = []
    for key in sorted(set(a) | set(b)):
        if a.get(key) != b.get(key):
            out.append(f"{what} {key}: {_short(b.get(key))} → {_short(a.get(key))}")
    return out


def _short(value: Any) -> str:
    text = "(none)" if value is None else str(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _compare(
    store: RunStore,
    slos: SloConfig,
    run: RunInfo,
    judged: JudgedRun,
    summaries: pd.DataFrame,
    baseline_id: str,
    why: str,
) -> Comparison:
    row = frames.runs(store, RunFilter(run_ids=(baseline_id,))).iloc[0]
    base = _run_info(row, frames.warnings(store, baseline_id))
    base_summaries = frames.summaries(store, RunFilter(run_ids=(baseline_id,)))
    name = _headline_name(summaries)
    shared = name if name is not None and (base_summaries["name"] == name).any() else None
    cur_fig = headline_figures(summaries, name)
    base_fig = headline_figures(base_summaries, shared)
    headline = tuple(
        _delta(key, label, unit, worse, base_fig.get(key), cur_fig.get(key))
        for key, label, unit, worse in HEADLINE_FIGURES
        if cur_fig.get(key) is not None or base_fig.get(key) is not None
    )
    base_judged = judge_run(
        slos,
        queries.facts_of(row),
        base_summaries,
        frames.series(store, baseline_id),
    )
    targets = []
    for v in judged.verdicts.verdicts:
        metric = v.slo.metric or ""
        cur, old = judged.figures.values.get(metric), base_judged.figures.values.get(metric)
        if cur is None and old is None:
            continue
        worse_up = v.slo.comparator in ("<", "<=")
        targets.append(
            _delta(metric, v.slo.description, v.slo.unit or "", worse_up, old, cur),
        )
    changed = []
    if base.kind != run.kind:
        changed.append(f"kind: {base.kind} → {run.kind} (figures compared by summary name)")
    if shared is None and name is not None:
        changed.append(f"summary: the baseline has no {name!r}; its headline summary is used")
    for what in ("label", "profile", "target"):
        if getattr(base, what) != getattr(run, what):
            changed.append(f"{what}: {getattr(base, what)} → {getattr(run, what)}")
    changed += _differences(run.config, base.config, "config")
    changed += _differences(run.host, base.host, "host")
    return Comparison(base, why, name or "-", headline, tuple(targets), tuple(changed))


def _baseline(
    store: RunStore, run: RunInfo, baseline_ref: str | None
) -> tuple[str | None, str, str]:
    """(baseline run id or None, why it was chosen, a note when there is none)."""
    if baseline_ref is not None:
        found = store.resolve(baseline_ref)
        if found == run.run_id:
            return None, "", "the baseline given is this run itself: nothing to compare"
        return found, "given with --baseline", ""
    pinned = store.baselines().get((run.kind, run.profile))
    where = f"{run.kind}/{run.profile}"
    if pinned is None:
        return (
            None,
            "",
            f"no baseline is pinned for {where} (pin one with `pincex runs pin ID`, or give "
            "--baseline ID)",
        )
    if pinned == run.run_id:
        return None, "", f"this run is the pinned baseline of {where}: nothing to compare"
    return pinned, f"the pinned baseline of {where}", ""


def _alerts(found: Detected, run_id: str) -> tuple[list[Alert], str]:
    alerts: list[Alert] = []
    histories = short = 0
    for h, rep in zip(found.histories, found.reports, strict=True):
        if run_id not in h.run_ids:
            continue
        histories += 1
        det = rep.detection
        if not det.enough_data:
            short += 1
            continue
        i = h.run_ids.index(run_id)
        series, figure = h.history.series, h.history.metric
        level = [c for c in det.changes if c.index <= i]
        if level and level[-1].direction == "regression":
            c = level[-1]
            lo, hi = c.interval_pct
            where: Literal["starts here", "open"] = "starts here" if c.index == i else "open"
            start = f"{h.labels[c.index]} · {_start(h.started_at[c.index])}"
            lead = (
                "starts at this run"
                if where == "starts here"
                else f"open since run {start}; this run is at the new level"
            )
            text = (
                f"{figure} of {series} {lead}: {c.change_pct:+.1f}% (95% CI {lo:+.1f}% .. "
                f"{hi:+.1f}%), median {c.before.median:.4g} → {c.after.median:.4g} over "
                f"{c.before.runs} and {c.after.runs} runs; {c.runs_since} runs since; "
                f"noise {c.noise}; {c.why_not_outlier}"
            )
            alerts.append(
                Alert(
                    where, series, figure, h.run_ids[c.index], start, c.change_pct,
                    (lo, hi), c.before.median, c.after.median, c.runs_since, text,
                )
            )  # fmt: skip
        for o in det.outliers:
            if o.index != i:
                continue
            text = (
                f"{figure} of {series}: this run is an outlier ({o.deviation_pct:+.1f}% from the "
                f"expected {o.expected:.4g}, {o.direction}); the level did not follow it"
            )
            alerts.append(
                Alert(
                    "outlier", series, figure, run_id, "this run", o.deviation_pct, None,
                    o.expected, o.value, None, text,
                )
            )  # fmt: skip
    if histories == 0:
        note = "no history holds this run (it has no summary figures)"
    elif short == histories:
        note = (
            f"its {histories} histories are too short to judge: detection needs "
            f"{DEFAULT_SETTINGS.min_runs} runs of the same kind and profile"
        )
    elif not alerts:
        note = f"no regression touches this run ({histories - short} histories judged)"
    else:
        note = f"{histories - short} histories judged"
        if short:
            note += f", {short} too short"
    return alerts, note


def _start(value: object) -> str:
    when = _when(value)
    return "-" if when is None else when.strftime("%Y-%m-%d %H:%M:%S")


def _diagnosis(
    slos: SloConfig,
    judged: JudgedRun,
    summaries: pd.DataFrame,
    series: pd.DataFrame,
) -> tuple[Diagnosis | None, str | None]:
    results: dict[str, float | None] = dict(judged.figures.values)
    facts = judged.facts
    if facts.kind == "orders" and not summaries.empty:
        requests = run_figures(slos, facts, summaries, series, profile="baseline")
        rate = requests.values.get("request_error_rate_percent")
        if rate is not None:
            results["request_error_rate_percent"] = rate
    if not results:
        return None, "the run measured no figure the diagnosis rules watch"
    try:
        return examine(results, slos, "baseline"), None
    except SloError as exc:
        return None, f"the diagnosis could not run: {exc}"


_ADVICE: tuple[tuple[str, str], ...] = (
    (
        "order_processing_",
        "compare the server's order-processing p99 with the client's to tell server work from "
        "queueing, then profile matching and persistence (`pincex bench engine`)",
    ),
    (
        "order_throughput",
        "look for the saturated resource (CPU, pool use, event-loop lag) and find the knee with "
        "a ramp of runs (`pincex plan usl --from-runs`)",
    ),
    (
        "peak_order_throughput",
        "look for the saturated resource and find the knee with a ramp of runs "
        "(`pincex plan usl --from-runs`)",
    ),
    (
        "order_book_update",
        "profile the book update path (`pincex bench engine`); check the event-loop lag",
    ),
    (
        "market_data_latency",
        "check the fan-out per connection and the event-loop lag; batch or conflate depth updates",
    ),
)


def _recommendations(
    judged: JudgedRun,
    diagnosis: Diagnosis | None,
    alerts: list[Alert],
    comparison: Comparison | None,
    run: RunInfo,
) -> list[str]:
    out: list[str] = []
    if not run.trusted:
        out.append(
            "Re-run before acting on these figures: the run is not trusted "
            f"({'; '.join(run.warnings) or 'marked so when stored'})."
        )
    diagnosed = {f.metric for f in diagnosis.findings} if diagnosis is not None else set()
    for f in diagnosis.findings if diagnosis is not None else ():
        where = f" ({f.component})" if f.component else ""
        out.append(
            f"{f.issue}{where}: {f.symptom}. Investigate: {f.investigation}. "
            f"Resolve: {f.resolution}."
        )
    for v in judged.verdicts.verdicts:
        metric = v.slo.metric or ""
        if v.status != "missed" or metric in diagnosed:
            continue
        advice = next((a for prefix, a in _ADVICE if metric.startswith(prefix)), None)
        missed = f"{v.slo.description} missed its target {v.slo.spec}"
        if v.margin is not None and v.margin_percent is not None:
            missed += f" by {abs(v.margin_percent):.1f}%"
        out.append(f"{missed}: {advice or 'see the figure and how it was derived above'}.")
    for a in alerts:
        if a.where == "starts here":
            out.append(
                f"{a.figure} of {a.series} regressed at this run ({a.change_pct:+.1f}%): look at "
                "what changed since the previous run of the series (label, config, host)."
            )
        elif a.where == "open":
            out.append(
                f"{a.figure} of {a.series} is still at the level of the regression that began "
                f"at run {a.run_title} ({a.change_pct:+.1f}%): it has not been fixed since."
            )
    if comparison is not None:
        same_load = run.config.get("rate") == comparison.baseline.config.get("rate")
        worse = [
            d
            for d in comparison.headline
            if d.verdict == "worse"
            and abs(d.change_pct or 0) > 10
            and (same_load or d.key != "throughput_per_s")
        ]
        if worse:
            names = ", ".join(f"{d.name} {d.change_pct:+.0f}%" for d in worse)
            out.append(
                f"Against the baseline ({comparison.baseline.title}) these figures are more than "
                f"10% worse: {names}. One run is noisy: repeat it before calling it a regression."
            )
    unmeasured = judged.verdicts.counts()["not_measured"]
    if unmeasured:
        out.append(
            f"{unmeasured} target rows are not measured by this run; the verdict table says why "
            "for each. A market-data run, a db run and an orders run long and fast enough cover "
            "the most."
        )
    if not out:
        out.append("Every measured target is met and no rule fired: nothing to act on.")
    return out


def build_report(
    store: RunStore,
    ref: str,
    baseline_ref: str | None = None,
    slos: SloConfig | None = None,
) -> RunReport:
    """The report of the run `ref` (id, id prefix or `latest`), compared with `baseline_ref`
    (default: the pinned baseline of the run's kind and profile). RunNotFound / StoreError
    from the store pass through."""
    config = slos or load_config()
    run_id = store.resolve(ref)
    rows = frames.runs(store, RunFilter(run_ids=(run_id,)))
    row = rows.iloc[0]
    warnings = frames.warnings(store, run_id)
    run = _run_info(row, warnings)
    summaries = frames.summaries(store, RunFilter(run_ids=(run_id,)))
    series = frames.series(store, run_id)
    facts = replace(queries.facts_of(row), warnings=tuple(warnings))
    judged = judge_run(config, facts, summaries, series)
    baseline_id, why, note = _baseline(store, run, baseline_ref)
    comparison = None
    baseline_curve = pd.DataFrame(columns=["name", "view", "percentile", "value_ms", "nines"])
    if baseline_id is not None:
        comparison = _compare(store, config, run, judged, summaries, baseline_id, why)
        baseline_curve = frames.percentile_curve(store, baseline_id)
    found = queries.detect(store, RunFilter(kind=run.kind, profile=run.profile))
    alerts, regression_note = _alerts(found, run_id)
    diagnosis, diagnosis_note = _diagnosis(config, judged, summaries, series)
    return RunReport(
        run=run,
        judged=judged,
        summaries=summaries,
        series=series,
        curve=frames.percentile_curve(store, run_id),
        headline=_headline_name(summaries),
        figures=headline_figures(summaries),
        comparison=comparison,
        baseline_note=note,
        baseline_curve=baseline_curve,
        alerts=tuple(alerts),
        regression_note=regression_note,
        diagnosis=diagnosis,
        diagnosis_note=diagnosis_note,
        recommendations=tuple(_recommendations(judged, diagnosis, alerts, comparison, run)),
        store_path=str(store.path),
        table_titles={name: t.title for name, t in config.tables.items()},
    )
