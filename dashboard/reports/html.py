"""A run's report as one self-contained HTML file: styles inline, Plotly's library inlined once
(or, for the PDF, each chart as an inline PNG); it opens without a network.

    text = render_html(report)                          # interactive charts
    text = render_html(report, images={"latency": png}) # static charts (the PDF's)
"""

from __future__ import annotations

import base64
from collections.abc import Iterable, Mapping, Sequence
from html import escape
from typing import Any

from dashboard.reports.charts import ReportChart, report_charts
from dashboard.reports.content import Delta, RunReport, glance, trust_words, verdict_groups
from dashboard.reports.fmt import (
    STATUS_WORDS,
    margin_text,
    num,
    quantity,
    start_text,
    target_text,
)
from planning.slo import Verdict

__all__ = ["CSS", "render_html"]

CSS = """
:root { --ink:#1d2733; --muted:#5d6b7a; --line:#dde3ea; --band:#f5f7fa;
        --ok:#1e7b34; --bad:#b42318; --na:#6b7785; --accent:#1f5fbf; }
* { box-sizing: border-box; }
body { margin:0; font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial,
       sans-serif; color: var(--ink); background: #fff; }
main { max-width: 1100px; margin: 0 auto; padding: 28px 32px 48px; }
h1 { font-size: 26px; margin: 0 0 4px; }
h2 { font-size: 19px; margin: 34px 0 10px; padding-bottom: 4px;
     border-bottom: 2px solid var(--line); }
h3 { font-size: 15px; margin: 18px 0 6px; }
.title { font-size: 18px; color: var(--accent); margin: 0 0 12px; font-weight: 600; }
.trust { padding: 10px 14px; border-radius: 6px; margin: 12px 0; font-weight: 600; }
.trust.ok { background: #e8f5ec; color: var(--ok); }
.trust.bad { background: #fdecea; color: var(--bad); }
.muted, .note { color: var(--muted); }
.note { font-style: italic; }
table { border-collapse: collapse; width: 100%; margin: 6px 0 12px; font-size: 13.5px; }
th, td { text-align: left; padding: 5px 8px; border-bottom: 1px solid var(--line);
         vertical-align: top; }
th { background: var(--band); font-weight: 600; }
table.facts th { width: 180px; background: none; }
table.verdicts td:first-child { width: 90px; }
table.verdicts td:nth-child(2) { width: 30%; }
table.verdicts td:nth-child(3) { white-space: nowrap; }
.glance { font-size: 14px; color: var(--muted); margin: 4px 0 0; }
table.verdicts td:nth-child(6) { width: 32%; }
table.unmeasured { font-size: 12.5px; color: var(--muted); }
table.unmeasured td:first-child { width: 50%; }
td.n { text-align: right; font-variant-numeric: tabular-nums; white-space: nowrap; }
code { font-size: 12.5px; background: var(--band); padding: 1px 4px; border-radius: 3px; }
.met { color: var(--ok); font-weight: 600; }
.missed { color: var(--bad); font-weight: 600; }
.not_measured, .informational { color: var(--na); }
.worse { color: var(--bad); } .better { color: var(--ok); } .same { color: var(--na); }
.badges span { display: inline-block; margin-right: 8px; padding: 2px 10px; border-radius: 12px;
               font-size: 13px; font-weight: 600; }
.b-met { background:#e8f5ec; color: var(--ok); }
.b-missed { background:#fdecea; color: var(--bad); }
.b-na { background: var(--band); color: var(--na); }
.grid { display: grid; grid-template-columns: 1fr 1fr; gap: 0 28px; }
.chart { margin: 8px 0 18px; page-break-inside: avoid; break-inside: avoid; }
.chart img { width: 100%; height: auto; }
ul.recs li { margin-bottom: 6px; }
.finding { border-left: 4px solid var(--bad); padding: 4px 12px; margin: 10px 0;
           background: #fffafa;
           page-break-inside: avoid; break-inside: avoid; }
footer { margin-top: 40px; font-size: 12.5px; color: var(--muted);
         border-top: 1px solid var(--line);
         padding-top: 10px; }
@media print {
  main { padding: 0; max-width: none; }
  h2 { page-break-after: avoid; break-after: avoid; }
  tr { page-break-inside: avoid; break-inside: avoid; }
  .grid { grid-template-columns: 1fr 1fr; }
}
@page { size: A4; margin: 14mm 12mm; }
"""

_PLOTLY_CONFIG = {"displaylogo": False, "responsive": True}


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _table(
    head: Sequence[str],
    rows: Iterable[Sequence[str]],
    numeric: Iterable[int] = (),
    cls: str = "",
) -> str:
    """A table of pre-escaped cells; columns in `numeric` are right-aligned."""
    right = set(numeric)
    out = [
        f"<table class='{cls}'><thead><tr>" if cls else "<table><thead><tr>",
        *(f"<th>{_e(h)}</th>" for h in head),
        "</tr></thead><tbody>",
    ]
    for row in rows:
        cells = (
            f'<td class="n">{cell}</td>' if i in right else f"<td>{cell}</td>"
            for i, cell in enumerate(row)
        )
        out.append("<tr>" + "".join(cells) + "</tr>")
    out.append("</tbody></table>")
    return "".join(out)


def _mapping_table(title: str, data: Mapping[str, Any]) -> str:
    if not data:
        return f"<h3>{_e(title)}</h3><p class='note'>none recorded</p>"
    rows = [(f"<code>{_e(k)}</code>", _e(v)) for k, v in sorted(data.items())]
    return f"<h3>{_e(title)}</h3>" + _table(("key", "value"), rows)


def _summary(report: RunReport) -> str:
    r = report.run
    facts = [
        ("Run id", f"<code>{_e(r.run_id)}</code>"),
        ("Kind · profile", _e(f"{r.kind} · {r.profile}")),
        ("Label", _e(r.label)),
        ("Target", f"<code>{_e(r.target)}</code>"),
        ("Started (UTC)", _e(start_text(r.started_at))),
        ("Ended (UTC)", _e(start_text(r.ended_at))),
        ("Duration", _e(f"{num(r.duration_s)} s")),
        ("Status", _e(r.status)),
        ("Tags", _e(", ".join(r.tags) or "-")),
    ]
    if r.notes:
        facts.append(("Notes", _e(r.notes)))
    body = (
        "<table class='facts'>"
        + "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in facts)
        + "</table>"
    )
    return (
        "<section id='summary'><h2>Summary</h2>"
        + body
        + "<div class='grid'><div>"
        + _mapping_table("Config", r.config)
        + "</div><div>"
        + _mapping_table("Host", r.host)
        + "</div></div></section>"
    )


def _verdict_row(report: RunReport, v: Verdict) -> tuple[str, ...]:
    s, note = v.slo, report.judged.note(v)
    metric = s.metric or ""
    what = f"{s.component} · {s.description}" if s.component else s.description
    trust = "" if report.run.trusted else "<br><small class='missed'>not trusted</small>"
    return (
        f"<span class='{v.status}'>{_e(STATUS_WORDS[v.status])}</span>{trust}",
        f"{_e(what)}<br><code>{_e(metric)}</code>",
        _e(target_text(s)),
        _e(quantity(v.observed, s.unit)),
        _e(margin_text(v)),
        _e(note),
    )


def _verdicts(report: RunReport) -> str:
    judged = report.judged
    counts = judged.verdicts.counts()
    badges = (
        "<p class='badges'>"
        f"<span class='b-met'>{counts['met']} met</span>"
        f"<span class='b-missed'>{counts['missed']} missed</span>"
        f"<span class='b-na'>{counts['not_measured']} not measured</span></p>"
    )
    parts = [
        "<section id='verdicts'><h2>SLO verdicts</h2>"
        "<p>Against the specification's three target tables. Rows the run did not measure are "
        "<b>not measured</b>, never a pass.</p>",
        badges,
    ]
    head = ("verdict", "target row", "target", "observed", "margin", "how")
    for _, title, verdicts in verdict_groups(report):
        parts.append(f"<h3>{_e(title)}</h3>")
        judged_rows = [v for v in verdicts if v.status != "not_measured"]
        if judged_rows:
            rows = (_verdict_row(report, v) for v in judged_rows)
            parts.append(_table(head, rows, numeric=(3, 4), cls="verdicts"))
        parts.append(_unmeasured(report, [v for v in verdicts if v.status == "not_measured"]))
    parts.append("</section>")
    return "".join(parts)


def _unmeasured(report: RunReport, verdicts: list[Verdict]) -> str:
    """Rows the run did not measure, grouped by the reason."""
    if not verdicts:
        return ""
    by_reason: dict[str, list[str]] = {}
    for v in verdicts:
        s = v.slo
        what = f"{s.component} · {s.description}" if s.component else s.description
        cell = f"{_e(what)} <span class='muted'>({_e(target_text(s))})</span>"
        by_reason.setdefault(report.judged.why_not(s.metric or ""), []).append(cell)
    rows = (("<br>".join(cells), _e(reason)) for reason, cells in by_reason.items())
    return f"<p class='muted'>Not measured ({len(verdicts)}):</p>" + _table(
        ("target rows", "why not"), rows, cls="unmeasured"
    )


_SUMMARY_COLUMNS = (
    ("count", "count"),
    ("errors", "errors"),
    ("throughput_per_s", "per s"),
    ("latency_p50_ms", "p50 ms"),
    ("latency_p95_ms", "p95 ms"),
    ("latency_p99_ms", "p99 ms"),
    ("latency_p999_ms", "p99.9 ms"),
    ("latency_max_ms", "max ms"),
    ("service_p99_ms", "service p99 ms"),
)


def _figures(report: RunReport) -> str:
    summ = report.summaries
    if summ.empty:
        return (
            "<section id='figures'><h2>Figures</h2><p class='note'>— the run holds no summary "
            "figures</p></section>"
        )
    rows = []
    for _, row in summ.iterrows():
        cells = [_e(row["name"])]
        for key, _label in _SUMMARY_COLUMNS:
            value = row.get(key)
            cells.append(_e(num(None if value is None else float(value))))
        rows.append(cells)
    head = ("summary", *(label for _, label in _SUMMARY_COLUMNS))
    return (
        "<section id='figures'><h2>Figures</h2>"
        f"<p>Headline summary: <b>{_e(report.headline or '-')}</b> (the one with the most "
        "samples). Latency is measured from each request's due time (corrected for "
        "coordinated omission); service time from its send.</p>"
        + _table(head, rows, numeric=range(1, len(head)))
        + "</section>"
    )


def _chart_html(chart: ReportChart, images: Mapping[str, bytes] | None, first: bool) -> str:
    if chart.figure is None:
        return (
            f"<div class='chart'><h3>{_e(chart.title)}</h3>"
            f"<p class='note'>— {_e(chart.reason)}</p></div>"
        )
    if images is not None:
        png = images.get(chart.key)
        if png is None:
            return f"<div class='chart'><p class='note'>— {_e(chart.title)}: not drawn</p></div>"
        data = base64.b64encode(png).decode()
        return (
            f"<div class='chart'><img alt='{_e(chart.title)}' "
            f"src='data:image/png;base64,{data}'></div>"
        )
    div = chart.figure.to_html(full_html=False, include_plotlyjs=first, config=_PLOTLY_CONFIG)
    return f"<div class='chart'>{div}</div>"


def _charts(report: RunReport, images: Mapping[str, bytes] | None) -> str:
    parts = ["<section id='charts'><h2>Latency, load and resources</h2>"]
    first = True
    grid: list[str] = []  # the resource charts, two abreast
    for chart in report_charts(report):
        html = _chart_html(chart, images, first and chart.figure is not None)
        if chart.figure is not None:
            first = False
        if chart.key.startswith("resource-") and chart.figure is not None:
            grid.append(html)
        else:
            parts.append(html)
    if grid:
        parts.append("<h3>Resources of the exchange process</h3><div class='grid'>")
        parts += [f"<div>{html}</div>" for html in grid]
        parts.append("</div>")
    parts.append("</section>")
    return "".join(parts)


def _delta_rows(deltas: Sequence[Delta]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for d in deltas:
        pct = "-" if d.change_pct is None else f"{d.change_pct:+.1f}%"
        rows.append(
            (
                _e(d.name),
                _e(quantity(d.baseline, d.unit)),
                _e(quantity(d.current, d.unit)),
                _e(quantity(d.change, d.unit, signed=True)),
                _e(pct),
                f"<span class='{d.verdict.replace('/', '')}'>{_e(d.verdict)}</span>",
            )
        )
    return rows


def _baseline(report: RunReport) -> str:
    c = report.comparison
    head = "<section id='baseline'><h2>Comparison with the baseline</h2>"
    if c is None:
        return head + f"<p class='note'>No comparison: {_e(report.baseline_note)}.</p></section>"
    cols = ("figure", "baseline", "this run", "change", "change %", "")
    parts = [
        head,
        f"<p>Baseline: <b>{_e(c.baseline.title)}</b> (<code>{_e(c.baseline.run_id)}</code>), "
        f"{_e(c.why)}. {_e(_trust_line(c.baseline.trusted))}</p>",
        f"<h3>Headline figures ({_e(c.summary)})</h3>",
        _table(cols, _delta_rows(c.headline), numeric=(1, 2, 3, 4)),
    ]
    if c.targets:
        parts += [
            "<h3>Target figures</h3>",
            _table(cols, _delta_rows(c.targets), numeric=(1, 2, 3, 4)),
        ]
    if c.changed:
        items = "".join(f"<li>{_e(line)}</li>" for line in c.changed)
        parts.append(f"<h3>What else changed</h3><ul>{items}</ul>")
    else:
        parts.append("<p class='muted'>Label, target, config and host are the same.</p>")
    parts.append("</section>")
    return "".join(parts)


def _trust_line(trusted: bool) -> str:
    """A short note on the baseline's trust."""
    return "" if trusted else "The baseline run is not trusted."


def _regressions(report: RunReport) -> str:
    head = "<section id='regressions'><h2>Regressions</h2>"
    r = report.run
    intro = (
        f"<p>Change points in the histories of {_e(r.kind)}/{_e(r.profile)} runs that touch this "
        f"run: {_e(report.regression_note)}.</p>"
    )
    if not report.alerts:
        return head + intro + "</section>"
    items = "".join(
        f"<li><b>{_e(a.where)}</b>: {_e(a.text)} (<code>{_e(a.run_id[:8])}</code>)</li>"
        for a in report.alerts
    )
    return head + intro + f"<ul>{items}</ul></section>"


def _diagnosis(report: RunReport) -> str:
    head = "<section id='diagnosis'><h2>Diagnosis</h2>"
    d = report.diagnosis
    if d is None:
        return head + f"<p class='note'>{_e(report.diagnosis_note or 'no diagnosis')}</p></section>"
    tally = (
        f"{len(d.checked)} rules checked against the measured figures, "
        f"{len(d.not_evaluated)} lacking a figure or target."
    )
    if not d.findings:
        return head + f"<p>No rule fired. {_e(tally)}</p></section>"
    parts = [head, f"<p>{len(d.findings)} finding(s). {_e(tally)}</p>"]
    for f in d.findings:
        where = f" ({f.component})" if f.component else ""
        parts.append(
            f"<div class='finding'><b>{_e(f.issue)}{_e(where)}</b>: {_e(f.symptom)}"
            f"<br><span class='muted'>Investigate:</span> {_e(f.investigation)}"
            f"<br><span class='muted'>Resolve:</span> {_e(f.resolution)}"
            f"<br><span class='muted'>Source: {_e(f.source)}</span></div>"
        )
    parts.append("</section>")
    return "".join(parts)


def _recommendations(report: RunReport) -> str:
    items = "".join(f"<li>{_e(line)}</li>" for line in report.recommendations)
    return (
        "<section id='recommendations'><h2>Recommendations</h2>"
        f"<ul class='recs'>{items}</ul></section>"
    )


def render_html(report: RunReport, images: Mapping[str, bytes] | None = None) -> str:
    """The whole report as one HTML document; `images` (chart key -> PNG) draws static
    charts instead of interactive ones."""
    r = report.run
    trust_class = "ok" if r.trusted else "bad"
    generated = report.generated_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>Run report: {_e(r.title)}</title><style>{CSS}</style></head><body><main>"
        "<header><h1>PinCEX Perf Lab · run report</h1>"
        f"<p class='title'>{_e(r.title)}</p>"
        f"<p class='trust {trust_class}'>{_e(trust_words(r))}</p>"
        f"<p class='glance'>{_e(glance(report))}</p></header>"
        + _summary(report)
        + _verdicts(report)
        + _figures(report)
        + _charts(report, images)
        + _baseline(report)
        + _regressions(report)
        + _diagnosis(report)
        + _recommendations(report)
        + f"<footer>Generated {_e(generated)} from the run store <code>{_e(report.store_path)}"
        "</code> by <code>pincex report</code>.</footer></main></body></html>\n"
    )
