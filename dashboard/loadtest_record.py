"""A stored load-test run's config (what `pincex loadtest run --json` printed, kept with the run)
read into typed tables for the Load tests page.

    record = read_record(config)          # never raises: unreadable parts are in `problems`
    record.verdicts, record.stages, record.scenarios, record.steps, record.preflight, ...

Every table has fixed columns and is empty when the run did not keep that part (an older run, a
run aborted before its analysis), so the page never special-cases a missing key.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

__all__ = [
    "Analysis",
    "LoadTestRecord",
    "max_capacity_step",
    "read_record",
]

VERDICT_COLUMNS = ("name", "target", "observed", "status", "reason")
STAGE_COLUMNS = (
    "name", "kind", "start_s", "end_s", "rate_from", "rate_to", "planned_requests", "requests",
    "errors", "achieved_rate", "completed_rps", "mean_ms", "p50_ms", "p95_ms", "p99_ms", "max_ms",
)  # fmt: skip
STEP_COLUMNS = (*STAGE_COLUMNS, "met")
SCENARIO_COLUMNS = (
    "scenario", "planned_share", "achieved_share", "requests", "errors", "achieved_rate",
    "p50_ms", "p95_ms", "p99_ms", "max_ms", "service_p50_ms", "service_p99_ms",
)  # fmt: skip
PREFLIGHT_COLUMNS = ("name", "status", "reason")
INVARIANT_COLUMNS = ("name", "passed", "detail")


@dataclass(frozen=True)
class Analysis:
    """The post-test analysis: the baseline comparison, bottleneck, recommendations and the
    capacity-model update (each None or empty when the run kept none)."""

    baseline: Mapping[str, Any] | None = None
    bottleneck: tuple[str, ...] = ()
    recommendations: tuple[str, ...] = ()
    capacity_update: Mapping[str, Any] | None = None

    @property
    def empty(self) -> bool:
        parts = (self.baseline, self.bottleneck, self.recommendations, self.capacity_update)
        return not any(parts)


def _empty(columns: Sequence[str]) -> pd.DataFrame:
    return pd.DataFrame({c: pd.Series(dtype=object) for c in columns})


@dataclass(frozen=True)
class LoadTestRecord:
    """One load-test run as the page shows it."""

    profile: str = ""
    pattern: str = ""
    scale: float | None = None
    engine: str = ""
    target: str = ""
    planned_requests: int | None = None
    requests: int | None = None
    errors: int | None = None
    passed: bool | None = None
    trusted: bool = True
    trust_reasons: tuple[str, ...] = ()
    verdicts: pd.DataFrame = field(default_factory=lambda: _empty(VERDICT_COLUMNS))
    stages: pd.DataFrame = field(default_factory=lambda: _empty(STAGE_COLUMNS))
    scenarios: pd.DataFrame = field(default_factory=lambda: _empty(SCENARIO_COLUMNS))
    steps: pd.DataFrame = field(default_factory=lambda: _empty(STEP_COLUMNS))
    preflight: pd.DataFrame = field(default_factory=lambda: _empty(PREFLIGHT_COLUMNS))
    invariants: pd.DataFrame | None = None  # None: not checked (a target other than the exchange)
    analysis: Analysis = field(default_factory=Analysis)
    problems: tuple[str, ...] = ()

    @property
    def verdict_words(self) -> str:
        """'passed', 'failed: 2 targets missed', 'not trusted: ...' for the banner."""
        missed = int((self.verdicts["status"] == "missed").sum()) if len(self.verdicts) else 0
        if missed:
            return f"failed: {missed} target{'s' if missed != 1 else ''} missed"
        if not self.trusted:
            return "failed: the run is not trusted"
        if self.passed is False:
            return "failed"
        if self.verdicts.empty:
            return "no verdicts kept"
        return "passed"


def _number(value: object) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None


def _count(value: object) -> int | None:
    number = _number(value)
    return None if number is None else int(number)


def _text(value: object) -> str:
    return "" if value is None else str(value)


def _texts(value: object) -> tuple[str, ...]:
    if isinstance(value, str):
        return (value,)
    if isinstance(value, Sequence):
        return tuple(_text(v) for v in value)
    return ()


def _dicts(value: object, part: str, problems: list[str]) -> list[Mapping[str, Any]]:
    if value is None:
        return []
    if not isinstance(value, list) or not all(isinstance(v, Mapping) for v in value):
        problems.append(f"{part}: expected a list of objects, got {type(value).__name__}")
        return []
    return value


def _latency(row: Mapping[str, Any], key: str, prefix: str = "") -> dict[str, float | None]:
    figures = row.get(key)
    figures = figures if isinstance(figures, Mapping) else {}
    quantities = ("mean", "p50", "p95", "p99", "max")
    return {f"{prefix}{q}_ms": _number(figures.get(q)) for q in quantities}


def _stage_row(row: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"name": _text(row.get("name")), "kind": _text(row.get("kind"))}
    for key in ("start_s", "end_s", "rate_from", "rate_to", "achieved_rate", "completed_rps"):
        out[key] = _number(row.get(key))
    for key in ("planned_requests", "requests", "errors"):
        out[key] = _count(row.get(key))
    out.update(_latency(row, "latency_ms"))
    return out


def _frame(rows: list[dict[str, Any]], columns: Sequence[str]) -> pd.DataFrame:
    if not rows:
        return _empty(columns)
    return pd.DataFrame(rows, columns=list(columns))


def _scenarios(value: object, problems: list[str]) -> pd.DataFrame:
    if value is None:
        return _empty(SCENARIO_COLUMNS)
    if not isinstance(value, Mapping):
        problems.append(f"scenarios: expected an object, got {type(value).__name__}")
        return _empty(SCENARIO_COLUMNS)
    rows = []
    for name, raw in value.items():
        row = raw if isinstance(raw, Mapping) else {}
        lat = _latency(row, "latency_ms")
        svc = _latency(row, "service_time_ms", "service_")
        rows.append({
            "scenario": str(name),
            "planned_share": _number(row.get("planned_share")),
            "achieved_share": _number(row.get("achieved_share")),
            "requests": _count(row.get("requests")),
            "errors": _count(row.get("errors")),
            "achieved_rate": _number(row.get("achieved_rate")),
            **{k: lat[k] for k in ("p50_ms", "p95_ms", "p99_ms", "max_ms")},
            "service_p50_ms": svc["service_p50_ms"],
            "service_p99_ms": svc["service_p99_ms"],
        })  # fmt: skip
    return _frame(rows, SCENARIO_COLUMNS)


def _analysis(value: object, problems: list[str]) -> Analysis:
    if value is None:
        return Analysis()
    if not isinstance(value, Mapping):
        problems.append(f"analysis: expected an object, got {type(value).__name__}")
        return Analysis()
    update = value.get("capacity_model")
    return Analysis(
        _comparison(value.get("comparison")),
        _bottleneck(value.get("bottleneck")),
        _texts(value.get("recommendations")),
        update if isinstance(update, Mapping) else None,
    )


def _comparison(value: object) -> Mapping[str, Any] | None:
    """The figures that moved against the pinned baseline (figure -> its text), or the note
    saying why there was no comparison; None when the run kept none."""
    if not isinstance(value, Mapping):
        return None
    moved = [m for m in value.get("moved") or [] if isinstance(m, Mapping)]
    if moved:
        return {_text(m.get("figure")): _text(m.get("text")) for m in moved}
    note = _text(value.get("note"))
    return {"note": note} if note else None


def _bottleneck(value: object) -> tuple[str, ...]:
    """Each finding and the knee the client saw, as one line each."""
    if not isinstance(value, Mapping):
        return _texts(value)
    out = []
    for f in value.get("findings") or []:
        if isinstance(f, Mapping):
            out.append(
                f"{_text(f.get('issue'))}: {_text(f.get('symptom'))} "
                f"(investigate: {_text(f.get('investigation'))})"
            )
    knee = value.get("knee")
    if isinstance(knee, Mapping):
        evidence = "; ".join(_texts(knee.get("evidence")))
        out.append(
            f"{_text(knee.get('seen'))} while {_text(knee.get('cpu'))}"
            + (f" ({evidence})" if evidence else "")
            + f" (investigate: {_text(knee.get('investigation'))})"
        )
    out.extend(_texts(value.get("notes")))
    return tuple(out)


def read_record(config: Mapping[str, Any]) -> LoadTestRecord:
    """The record of a stored load-test run's config; never raises (see `problems`)."""
    problems: list[str] = []
    verdicts = [
        {"name": _text(v.get("name")), "target": _text(v.get("target")),
         "observed": v.get("observed") if _number(v.get("observed")) is not None
         else _text(v.get("observed")) or None,
         "status": _text(v.get("status")), "reason": _text(v.get("reason"))}
        for v in _dicts(config.get("verdicts"), "verdicts", problems)
    ]  # fmt: skip
    stages = [_stage_row(s) for s in _dicts(config.get("stages"), "stages", problems)]
    steps = [
        {**_stage_row(s), "met": bool(s.get("met"))}
        for s in _dicts(config.get("steps"), "steps", problems)
    ]
    preflight = [
        {"name": _text(c.get("name")), "status": _text(c.get("status")),
         "reason": _text(c.get("reason"))}
        for c in _dicts(config.get("preflight"), "preflight", problems)
    ]  # fmt: skip
    raw_invariants = config.get("invariants")
    invariants = None
    if raw_invariants is not None:
        invariants = _frame(
            [
                {"name": _text(i.get("name")), "passed": bool(i.get("passed")),
                 "detail": _text(i.get("detail"))}
                for i in _dicts(raw_invariants, "invariants", problems)
            ],
            INVARIANT_COLUMNS,
        )  # fmt: skip
    passed = config.get("passed")
    return LoadTestRecord(
        profile=_text(config.get("profile")),
        pattern=_text(config.get("pattern")),
        scale=_number(config.get("scale")),
        engine=_text(config.get("engine")),
        target=_text(config.get("target")),
        planned_requests=_count(config.get("planned_requests")),
        requests=_count(config.get("requests")),
        errors=_count(config.get("errors")),
        passed=passed if isinstance(passed, bool) else None,
        trusted=config.get("trusted") is not False,
        trust_reasons=_texts(config.get("trust_reasons")),
        verdicts=_frame(verdicts, VERDICT_COLUMNS),
        stages=_frame(stages, STAGE_COLUMNS),
        scenarios=_scenarios(config.get("scenarios"), problems),
        steps=_frame(steps, STEP_COLUMNS),
        preflight=_frame(preflight, PREFLIGHT_COLUMNS),
        invariants=invariants,
        analysis=_analysis(config.get("analysis"), problems),
        problems=tuple(problems),
    )


def max_capacity_step(steps: pd.DataFrame) -> int | None:
    """The index of the highest-rate step that met its targets (the stress test's maximum
    capacity), or None when no step met them."""
    if steps.empty:
        return None
    met = steps[steps["met"].astype(bool)]
    if met.empty:
        return None
    rates = pd.to_numeric(met["rate_to"]).fillna(0.0)
    return int(rates.idxmax())
