"""How `pincex runs` prints runs: the listing table and JSON, a run's text, every text cut to
the store's limits and shown without control characters."""

from __future__ import annotations

import dataclasses
from typing import Any

from collectors.store import RunListing, limits
from collectors.store.headline import PARTS_KINDS, overall_summary
from collectors.store.limits import cut
from collectors.store.model import LatencyFigures, Run, Summary

__all__ = ["bounded", "listing_dict", "listing_table", "show_text"]


def _figures(f: LatencyFigures | None) -> dict[str, float] | None:
    return None if f is None else dict(vars(f))


def _plain(text: str) -> str:
    """Text for a terminal: control characters (escapes, line breaks) shown as `?`."""
    return text if text.isprintable() else "".join(c if c.isprintable() else "?" for c in text)


def _tags(tags: list[str]) -> list[str]:
    return [cut(t, limits.MAX_NAME_CHARS) for t in tags[: limits.MAX_TAGS]]


def bounded(run: Run) -> Run:
    """The run with every text cut to the store's limit for it: an older store may hold
    longer ones, and nothing printed is unbounded."""
    names = limits.MAX_FIELD_NAME_CHARS

    def name(value: str) -> str:
        return cut(value, names)

    return dataclasses.replace(
        run,
        id=cut(run.id, limits.MAX_ID_CHARS),
        kind=cut(run.kind, limits.MAX_ID_CHARS),
        profile=cut(run.profile, limits.MAX_NAME_CHARS),
        label=cut(run.label, limits.MAX_NAME_CHARS),
        target=cut(run.target, limits.MAX_TARGET_CHARS),
        notes=cut(run.notes, limits.MAX_NOTES_CHARS),
        tags=_tags(run.tags),
        warnings=[cut(w, limits.MAX_WARNING_CHARS) for w in run.warnings],
        summaries=[
            s if len(s.name) <= names else dataclasses.replace(s, name=name(s.name))
            for s in run.summaries
        ],
        series=[
            p if len(p.series) <= names else dataclasses.replace(p, series=name(p.series))
            for p in run.series
        ],
        histograms=[
            h if len(h.name) <= names else dataclasses.replace(h, name=name(h.name))
            for h in run.histograms
        ],
    )


def listing_dict(item: RunListing, pinned: bool = False) -> dict[str, Any]:
    head = item.headline
    return {
        "id": cut(item.id, limits.MAX_ID_CHARS),
        "kind": cut(item.kind, limits.MAX_ID_CHARS),
        "profile": cut(item.profile, limits.MAX_NAME_CHARS),
        "target": cut(item.target, limits.MAX_TARGET_CHARS),
        "label": cut(item.label, limits.MAX_NAME_CHARS),
        "started_at": item.started_at.isoformat(),
        "ended_at": item.ended_at.isoformat(),
        "status": item.status,
        "tags": _tags(item.tags),
        "trusted": item.trusted,
        "pinned": pinned,
        "notes": cut(item.notes, limits.MAX_NOTES_CHARS),
        "headline": None
        if head is None
        else {
            "name": cut(head.name, limits.MAX_FIELD_NAME_CHARS),
            "count": head.count,
            "errors": head.errors,
            "throughput_per_s": head.throughput_per_s,
            "latency": _figures(head.latency),
            "service": _figures(head.service),
        },
    }


def _table(rows: list[list[str]]) -> str:
    rows = [[_plain(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def listing_table(items: list[RunListing], pinned: set[str]) -> str:
    """The aligned table of `runs list`: one row per run with its headline figures."""
    rows = [["id", "kind", "label", "status", "pinned", "started (UTC)", "headline", "n", "req/s",
             "p95 ms", "p99 ms"]]  # fmt: skip
    for i in items:
        h = i.headline
        rows.append(
            [
                cut(i.id, limits.MAX_ID_CHARS),
                cut(i.kind, limits.MAX_ID_CHARS),
                cut(i.label, limits.MAX_NAME_CHARS),
                _status(i.status, i.trusted),
                "pinned" if i.id in pinned else "",
                i.started_at.strftime("%Y-%m-%d %H:%M:%S"),
                "-" if h is None else cut(h.name, limits.MAX_FIELD_NAME_CHARS),
                "-" if h is None else str(h.count),
                "-" if h is None else f"{h.throughput_per_s:.1f}",
                "-" if h is None else f"{h.latency.p95_ms:.2f}",
                "-" if h is None else f"{h.latency.p99_ms:.2f}",
            ]
        )
    return _table(rows)


def _status(status: str, trusted: bool) -> str:
    if trusted:
        return status
    return "untrusted" if status == "complete" else f"{status}, untrusted"


_NAMES_SHOWN = 100  # series and histogram names listed by `runs show`


def _some(names: list[str], most: int = _NAMES_SHOWN) -> str:
    shown = ", ".join(names[:most])
    return shown if len(names) <= most else f"{shown}, … {len(names) - most:,} more"


def _shown_summaries(run: Run) -> list[Summary]:
    """The summaries `runs show` prints: a db run's every-query figure first."""
    shown = run.summaries[: limits.MAX_SUMMARIES]
    if run.kind in PARTS_KINDS and len(run.summaries) > 1:
        overall = overall_summary(run.summaries, run.histograms)
        if overall is not None:
            return [overall, *shown]
    return shown


def show_text(run: Run) -> str:
    run = bounded(run)
    lines = [
        f"run {run.id}",
        f"  kind {run.kind}  profile {run.profile}  label {run.label}  status {run.status}"
        f"  trusted {'yes' if run.trusted else 'no'}",
        f"  target {run.target}",
        f"  {run.started_at.isoformat()} .. {run.ended_at.isoformat()}",
        f"  tags {', '.join(run.tags) or '-'}",
    ]
    if run.notes:
        lines.append(f"  notes {run.notes}")
    lines.extend(f"  warning: {w}" for w in run.warnings[: limits.MAX_WARNINGS])
    if len(run.warnings) > limits.MAX_WARNINGS:
        lines.append(f"  … {len(run.warnings) - limits.MAX_WARNINGS:,} more warnings")
    lines = [_plain(line) for line in lines]
    if run.summaries:
        rows = [["name", "count", "errors", "req/s", "view", "mean", "p50", "p90", "p95", "p99",
                 "p99.9", "max"]]  # fmt: skip
        for s in _shown_summaries(run):
            for view, f in (("latency", s.latency), ("service", s.service)):
                if f is None:
                    continue
                rows.append(
                    [s.name, str(s.count), str(s.errors), f"{s.throughput_per_s:.1f}", view]
                    + [f"{v:.3f}" for v in vars(f).values()]
                )
        lines.append("")
        lines.append(_table(rows))
        if len(run.summaries) > limits.MAX_SUMMARIES:
            lines.append(f"… {len(run.summaries) - limits.MAX_SUMMARIES:,} more summaries")
    names = sorted({(p.side, p.series) for p in run.series})
    if names:
        lines.append("")
        lines.append(_plain("series: " + _some([f"{side}/{name}" for side, name in names])))
    if run.histograms:
        names_held = [f"{h.name}/{h.view}" for h in run.histograms]
        lines.append(_plain("histograms: " + _some(names_held)))
    return "\n".join(lines)
