"""A run's report as Markdown for a pull-request comment: headings and tables, no HTML, no
scripts.

    text = render_markdown(report)
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from dashboard.reports.content import Delta, RunReport, glance, trust_words, verdict_groups
from dashboard.reports.fmt import (
    STATUS_EMOJI,
    STATUS_WORDS,
    margin_text,
    num,
    quantity,
    start_text,
    target_text,
)

__all__ = ["render_markdown", "table"]

_TAG = re.compile(r"<[A-Za-z/!?]")
_VERDICT_EMOJI = {"worse": "🔺 worse", "better": "🟢 better", "same": "same", "n/a": "n/a"}


def _cell(value: object) -> str:
    """Text safe inside a Markdown table cell (no pipes, no newlines, no HTML)."""
    text = " ".join(str(value).split()).replace("|", "\\|")
    return _TAG.sub(lambda m: "&lt;" + m.group(0)[1:], text)


def table(head: Sequence[str], rows: Iterable[Sequence[object]], right: Iterable[int] = ()) -> str:
    """A GitHub table; columns in `right` are right-aligned."""
    aligned = set(right)
    lines = [
        "| " + " | ".join(_cell(h) for h in head) + " |",
        "|" + "|".join("---:" if i in aligned else "---" for i in range(len(head))) + "|",
    ]
    lines += ["| " + " | ".join(_cell(c) for c in row) + " |" for row in rows]
    return "\n".join(lines)


def _summary(report: RunReport) -> list[str]:
    r = report.run
    facts = [
        ("run id", f"`{r.run_id}`"),
        ("kind · profile", f"{r.kind} · {r.profile}"),
        ("label", r.label),
        ("target", f"`{r.target}`"),
        ("started (UTC)", start_text(r.started_at)),
        ("duration", f"{num(r.duration_s)} s"),
        ("status", r.status),
        ("tags", ", ".join(r.tags) or "-"),
    ]
    config = ", ".join(f"{k}={v}" for k, v in sorted(r.config.items())) or "-"
    host = ", ".join(f"{k}={v}" for k, v in sorted(r.host.items())) or "-"
    facts += [("config", config), ("host", host)]
    return [table(("run", r.title), facts)]


def _verdicts(report: RunReport) -> list[str]:
    judged = report.judged
    c = judged.verdicts.counts()
    out = [
        "## SLO verdicts",
        "",
        f"✅ {c['met']} met · ❌ {c['missed']} missed · ⚪ {c['not_measured']} not measured "
        "(rows the run did not measure are never a pass)",
    ]
    trust = "" if report.run.trusted else " ⚠️ not trusted"
    for _, title, verdicts in verdict_groups(report):
        rows = []
        for v in verdicts:
            metric = v.slo.metric or ""
            if v.status == "not_measured":
                note = judged.why_not(metric)
            elif v.status == "informational":
                note = "a goal without a number"
            else:
                note = judged.figures.how.get(metric) or ""
            status = f"{STATUS_EMOJI[v.status]} {STATUS_WORDS[v.status]}{trust}"
            rows.append(
                (
                    status,
                    f"`{metric}`",
                    target_text(v.slo),
                    quantity(v.observed, v.slo.unit),
                    margin_text(v),
                    note,
                )
            )
        head = ("verdict", "metric", "target", "observed", "margin", "how / why not")
        out += ["", f"### {title}", "", table(head, rows, right=(3, 4))]
    return out


def _figures(report: RunReport) -> list[str]:
    if report.summaries.empty:
        return ["## Figures", "", "_The run holds no summary figures._"]
    rows = []
    for _, row in report.summaries.iterrows():
        rows.append(
            (
                row["name"],
                num(float(row["count"])),
                num(float(row["errors"])),
                num(float(row["throughput_per_s"])),
                num(float(row["latency_p50_ms"])),
                num(float(row["latency_p95_ms"])),
                num(float(row["latency_p99_ms"])),
                num(float(row["latency_p999_ms"])),
                num(float(row["latency_max_ms"])),
            )
        )
    head = ("summary", "count", "errors", "per s", "p50 ms", "p95 ms", "p99 ms", "p99.9 ms", "max")
    return [
        "## Headline figures",
        "",
        f"Headline summary: **{report.headline}**; latency from each request's due time.",
        "",
        table(head, rows, right=range(1, len(head))),
    ]


def _delta_table(deltas: Sequence[Delta]) -> str:
    rows = [
        (
            d.name,
            quantity(d.baseline, d.unit),
            quantity(d.current, d.unit),
            quantity(d.change, d.unit, signed=True),
            "-" if d.change_pct is None else f"{d.change_pct:+.1f}%",
            _VERDICT_EMOJI[d.verdict],
        )
        for d in deltas
    ]
    return table(("figure", "baseline", "this run", "change", "change %", ""), rows, (1, 2, 3, 4))


def _baseline(report: RunReport) -> list[str]:
    c = report.comparison
    if c is None:
        return ["## Comparison with the baseline", "", f"_No comparison: {report.baseline_note}._"]
    out = [
        "## Comparison with the baseline",
        "",
        f"Baseline: **{c.baseline.title}** (`{c.baseline.run_id}`), {c.why}."
        + ("" if c.baseline.trusted else " ⚠️ The baseline is not trusted."),
        "",
        _delta_table(c.headline),
    ]
    if c.targets:
        out += ["", "Target figures:", "", _delta_table(c.targets)]
    if c.changed:
        out += ["", "What else changed:", "", *(f"- {line}" for line in c.changed)]
    return out


def _regressions(report: RunReport) -> list[str]:
    out = ["## Regressions", "", f"{report.regression_note}."]
    if report.alerts:
        out += [""] + [f"- **{a.where}**: {a.text}" for a in report.alerts]
    return out


def _diagnosis(report: RunReport) -> list[str]:
    d = report.diagnosis
    if d is None:
        return ["## Diagnosis", "", f"_{report.diagnosis_note or 'no diagnosis'}_"]
    if not d.findings:
        return [
            "## Diagnosis",
            "",
            f"No rule fired ({len(d.checked)} rules checked against the measured figures).",
        ]
    rows = [
        (
            f.issue + (f" ({f.component})" if f.component else ""),
            f.symptom,
            f.investigation,
            f.resolution,
        )
        for f in d.findings
    ]
    return [
        "## Diagnosis",
        "",
        table(("finding", "symptom", "investigate", "resolve"), rows),
    ]


def render_markdown(report: RunReport) -> str:
    """The report as GitHub-flavoured Markdown."""
    r = report.run
    icon = "✅" if r.trusted else "⚠️"
    parts = [
        f"# Run report: {r.title}",
        "",
        f"{icon} **{trust_words(r)}**",
        "",
        glance(report),
        "",
        *_summary(report),
        "",
        *_verdicts(report),
        "",
        *_figures(report),
        "",
        *_baseline(report),
        "",
        *_regressions(report),
        "",
        *_diagnosis(report),
        "",
        "## Recommendations",
        "",
        *(f"- {line}" for line in report.recommendations),
        "",
        f"_Generated {report.generated_at:%Y-%m-%d %H:%M:%S} UTC by `pincex report`._",
    ]
    return "\n".join(parts) + "\n"
