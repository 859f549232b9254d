"""Run the detector over histories and shape its findings as JSON or a short table."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import asdict, dataclass

from planning.regress.detect import DEFAULT_SETTINGS, Change, Detection, DetectorSettings, detect
from planning.regress.directions import direction_of
from planning.regress.history import RunHistory

__all__ = ["HistoryReport", "analyse", "report_json", "report_lines"]

_RELATED_WINDOW = 2


@dataclass(frozen=True)
class HistoryReport:
    """One history's detection, with its direction and the metrics that moved with it."""

    history: RunHistory
    direction: str
    detection: Detection
    moved_with: dict[int, list[str]]


def analyse(
    histories: Iterable[RunHistory],
    higher_is_worse: Iterable[str] = (),
    lower_is_worse: Iterable[str] = (),
    settings: DetectorSettings = DEFAULT_SETTINGS,
) -> list[HistoryReport]:
    """Detect in every history; directions first, so a bad name fails before any work."""
    hs = list(histories)
    higher, lower = list(higher_is_worse), list(lower_is_worse)
    directions = [direction_of(h.metric, higher, lower) for h in hs]
    found = [detect(h.values, d, settings) for h, d in zip(hs, directions, strict=True)]
    # second look: a metric is re-tested where other metrics of its series changed
    for i, (h, d) in enumerate(zip(hs, directions, strict=True)):
        hints = sorted(
            {
                c.index
                for other, other_det in zip(hs, found, strict=True)
                if other.series == h.series and other.metric != h.metric
                for c in other_det.changes
            }
        )
        if hints and found[i].enough_data:
            again = detect(h.values, d, settings, hints=hints)
            if len(again.changes) > len(found[i].changes):
                found[i] = again
    reports = []
    for h, d, det in zip(hs, directions, found, strict=True):
        moved: dict[int, list[str]] = {}
        for c in det.changes:
            moved[c.index] = [
                other.id
                for other, other_det in zip(hs, found, strict=True)
                if other.series == h.series and other.metric != h.metric
                if any(abs(o.index - c.index) <= _RELATED_WINDOW for o in other_det.changes)
            ]
        reports.append(HistoryReport(h, d, det, moved))
    return reports


def _change_json(change: Change, moved_with: list[str]) -> dict[str, object]:
    out = asdict(change)
    out["interval_pct"] = list(change.interval_pct)
    out["moved_with"] = moved_with
    return out


def report_json(reports: list[HistoryReport]) -> dict[str, object]:
    """The `detect --json` object: series, trends, outliers and histories too short to judge."""
    series: dict[str, object] = {}
    trends: dict[str, object] = {}
    outliers: dict[str, object] = {}
    short: list[str] = []
    noise: dict[str, str] = {}
    for r in reports:
        hid = r.history.id
        det = r.detection
        if not det.enough_data:
            short.append(hid)
            continue
        noise[hid] = det.noise
        series[hid] = [_change_json(c, r.moved_with.get(c.index, [])) for c in det.changes]
        trends[hid] = [{**asdict(t), "interval_pct": list(t.interval_pct)} for t in det.trends]
        outliers[hid] = [asdict(o) for o in det.outliers]
    return {
        "series": series,
        "trends": trends,
        "outliers": outliers,
        "not_enough_data": short,
        "noise": noise,
    }


def report_lines(
    reports: list[HistoryReport], min_runs: int = DEFAULT_SETTINGS.min_runs
) -> list[str]:
    """A short table per alert, then one line per trend, outlier group and short history."""
    lines: list[str] = []
    for r in reports:
        hid, det = r.history.id, r.detection
        if not det.enough_data:
            lines.append(f"{hid}: not enough data yet ({det.runs} runs; need {min_runs})")
            continue
        for c in det.changes:
            lo, hi = c.interval_pct
            lines += [
                f"{hid}: {c.direction} at run {c.index} ({c.runs_since} runs since)",
                f"  change      {c.change_pct:+.1f}%  (95% CI {lo:+.1f}% .. {hi:+.1f}%)",
                f"  before      median {c.before.median:.6g}  spread {c.before.spread:.3g}"
                f"  ({c.before.runs} runs)",
                f"  after       median {c.after.median:.6g}  spread {c.after.spread:.3g}"
                f"  ({c.after.runs} runs)",
                f"  confidence  {c.confidence:.4f}  noise {c.noise}",
                f"  why a step  {c.why_not_outlier}",
            ]
            moved = r.moved_with.get(c.index, [])
            if moved:
                jointly = " (confirmed jointly)" if c.confirmed_by_related else ""
                lines.append(f"  moved with  {', '.join(moved)}{jointly}")
        for t in det.trends:
            lines.append(
                f"{hid}: trend ({t.direction}) runs {t.start}-{t.end}: "
                f"{t.total_change_pct:+.1f}% total, {t.slope_pct_per_run:+.2f}%/run"
            )
        if det.outliers:
            idx = ", ".join(str(o.index) for o in det.outliers)
            lines.append(f"{hid}: outliers at runs {idx} (not steps)")
        if not (det.changes or det.trends or det.outliers):
            lines.append(f"{hid}: no change ({det.runs} runs, noise {det.noise})")
    return lines
