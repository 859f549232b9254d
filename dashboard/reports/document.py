"""A run's report as one JSON object for machines.

doc = report_document(report)
doc["run"], doc["verdicts"], doc["figures"], doc["baseline"], doc["findings"],
doc["regressions"], doc["recommendations"]
"""

from __future__ import annotations

import math
from typing import Any

import orjson

from dashboard.reports.content import Delta, RunReport

__all__ = ["report_document", "report_json"]


def _finite(x: float | None) -> float | None:
    return None if x is None or not math.isfinite(x) else float(x)


def _delta(d: Delta) -> dict[str, Any]:
    return {
        "key": d.key,
        "name": d.name,
        "unit": d.unit,
        "baseline": _finite(d.baseline),
        "current": _finite(d.current),
        "change": _finite(d.change),
        "change_pct": _finite(d.change_pct),
        "verdict": d.verdict,
    }


def report_document(report: RunReport) -> dict[str, Any]:
    """Plain data: the run, its verdicts (each with how or why not), its figures, the baseline
    comparison, diagnosis findings, regressions touching it and recommendations."""
    judged = report.judged.as_dict()
    judged.pop("run", None)
    c = report.comparison
    baseline: dict[str, Any] = {"run": None, "why": None, "note": report.baseline_note}
    if c is not None:
        baseline = {
            "run": c.baseline.as_dict(),
            "why": c.why,
            "note": None,
            "summary": c.summary,
            "headline": [_delta(d) for d in c.headline],
            "targets": [_delta(d) for d in c.targets],
            "changed": list(c.changed),
        }
    diagnosis = report.diagnosis
    summaries = [
        {k: (_finite(v) if isinstance(v, float) else v) for k, v in row.items()}
        for row in report.summaries.drop(
            columns=["run_id", "kind", "profile", "label", "started_at", "trusted", "position"],
            errors="ignore",
        ).to_dict("records")
    ]
    return {
        "report": "pincex run report",
        "generated_at": report.generated_at.isoformat(),
        "store": report.store_path,
        "run": report.run.as_dict(),
        "verdicts": judged,
        "figures": {
            "headline_summary": report.headline,
            "headline": {k: _finite(v) for k, v in report.figures.items()},
            "targets": {k: _finite(v) for k, v in report.judged.figures.values.items()},
            "how": dict(report.judged.figures.how),
            "summaries": summaries,
        },
        "baseline": baseline,
        "findings": [] if diagnosis is None else [f.as_dict() for f in diagnosis.findings],
        "diagnosis": None if diagnosis is None else diagnosis.as_dict(),
        "diagnosis_note": report.diagnosis_note,
        "regressions": [a.as_dict() for a in report.alerts],
        "regression_note": report.regression_note,
        "recommendations": list(report.recommendations),
    }


def report_json(report: RunReport) -> bytes:
    """`report_document` as indented JSON bytes, ending with a newline."""
    options = orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY | orjson.OPT_NON_STR_KEYS
    return orjson.dumps(report_document(report), option=options, default=str) + b"\n"
