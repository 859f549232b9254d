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

from dataclasses import replace
from typing import Any, Literal

import pandas as pd

from collectors.store import frames
from collectors.store.frames import RunFilter
from collectors.store.store import RunStore
from dashboard import queries
from dashboard.reports.content import (
    HEADLINE_FIGURES,
    Alert,
    Comparison,
    Delta,
    RunInfo,
    RunReport,
    as_datetime,
    finite,
    run_info,
)
from planning.diagnose import Diagnosis, examine
from planning.regress.detect import DEFAULT_SETTINGS
from planning.regress.stored import Detected
from planning.run_slo import JudgedRun, judge_run, run_figures
from planning.slo import SloConfig, SloError, load_config

__all__ = ["build_report", "headline_figures"]

_SAME_WITHIN_PCT = 1.0  # a delta smaller than this share of the baseline reads "same"


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
    b = finite(base) if isinstance(base, (int, float)) else None
    c = finite(cur) if isinstance(cur, (int, float)) else None
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
    base = run_info(row, frames.warnings(store, baseline_id))
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
    when = as_datetime(value)
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
    run = run_info(row, warnings)
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
