"""The human summary of a load test and of its preflight checklist."""

from __future__ import annotations

from typing import Any, Protocol

from collectors.loadtest.figures import LoadTestFigures

__all__ = ["preflight_lines", "run_lines"]

_MARK = {"met": "MET   ", "missed": "MISSED", "not measured": "n/m   "}
_CHECK = {"pass": "PASS", "fail": "FAIL", "skip": "skip"}


class _Checklist(Protocol):
    def to_json(self) -> list[dict[str, Any]]: ...


def preflight_lines(result: _Checklist) -> list[str]:
    lines = ["preflight:"]
    for check in result.to_json():
        lines.append(
            f"  {_CHECK.get(check['status'], check['status'])}  {check['name']}: {check['reason']}"
        )
    return lines


def _ms(view: dict[str, float] | None, key: str) -> str:
    return "-" if view is None else f"{view[key]:.1f}"


def run_lines(figures: LoadTestFigures) -> list[str]:
    doc = figures.to_json()
    scaled = f" (scaled x{figures.scale:g})" if figures.scale != 1 else ""
    lines = [
        f"load test {figures.profile}{scaled} against {figures.target} on the "
        f"{figures.engine} engine: {figures.requests:,} requests sent of "
        f"{figures.planned_requests:,} planned in {figures.duration_s:g} s, "
        f"{figures.errors:,} errors",
    ]
    if doc["passed"]:
        lines.append("PASSED: every measured target met")
    else:
        lines.append("FAILED")
    if not figures.verdict.trusted:
        lines.append("NOT TRUSTED: " + "; ".join(figures.verdict.trust_reasons))
    lines.append("stages:")
    for s in doc["stages"]:
        met = "" if "met" not in s else ("  met" if s["met"] else "  missed")
        lines.append(
            f"  {s['name']:<10} {s['start_s']:>7.1f}-{s['end_s']:<7.1f}s "
            f"{s['rate_from']:>8.0f}->{s['rate_to']:<8.0f}req/s  sent {s['requests']:>8,}  "
            f"done {s['completed_rps']:>8.1f}/s  errors {s['errors']:>6,}  "
            f"p95 {_ms(s['latency_ms'], 'p95'):>7}  p99 {_ms(s['latency_ms'], 'p99'):>7} ms{met}"
        )
    if figures.stopped_early_after:
        lines.append(f"  stopped after {figures.stopped_early_after}: the steps before it missed")
    lines.append("scenarios (latency from due time, ms):")
    for name, s in doc["scenarios"].items():
        lines.append(
            f"  {name:<20} share {s['planned_share'] * 100:5.1f}% planned "
            f"{s['achieved_share'] * 100:5.1f}% achieved  {s['requests']:>8,} req  "
            f"{s['errors']:>6,} errors  p50 {_ms(s['latency_ms'], 'p50'):>7}  "
            f"p95 {_ms(s['latency_ms'], 'p95'):>7}  p99 {_ms(s['latency_ms'], 'p99'):>7}"
        )
    failed = {k: v for k, v in figures.status_counts.items() if not k.startswith("2")}
    if failed:
        lines.append(
            "errors by status: "
            + ", ".join(
                f"{n:,} x {'no answer' if code == '0' else 'HTTP ' + code}"
                for code, n in sorted(failed.items())
            )
        )
    if doc["verdicts"]:
        lines.append("verdicts:")
        for v in doc["verdicts"]:
            lines.append(
                f"  {_MARK.get(v['status'], v['status'])}  {v['name']}: target {v['target']}, "
                f"observed {v['observed']} - {v['reason']}"
            )
    if doc["invariants"] is not None:
        lines.append("invariants after the run:")
        for i in doc["invariants"]:
            lines.append(f"  {'ok    ' if i['passed'] else 'BROKEN'}  {i['name']}: {i['detail']}")
    if doc["preflight"]:
        lines.extend(preflight_lines(_Listed(doc["preflight"])))
    analysis = doc.get("analysis")
    if analysis:
        lines.append("analysis:")
        for line in analysis.get("lines", []):
            lines.append(f"  {line}")
    for w in figures.verdict.warnings:
        lines.append(f"warning: {w}")
    return lines


class _Listed:
    def __init__(self, items: list[dict[str, Any]]) -> None:
        self.items = items

    def to_json(self) -> list[dict[str, Any]]:
        return self.items
