"""The specification's three target tables with a "measured" column: per row, the newest
figure a stored run gave, its verdict and the date of the run behind it (the specification asks
for the tables to be updated after each test).

    tables = spec_tables(store)          # queries.latest_table_verdicts, grouped by table
    text = spec_tables_markdown(tables)
    doc = spec_tables_document(tables)
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from collectors.store.store import RunStore
from dashboard import queries
from dashboard.reports.fmt import STATUS_EMOJI, STATUS_WORDS, num, start_text
from dashboard.reports.markdown import table
from planning.run_slo import LatestVerdict
from planning.slo import SloConfig, load_config

__all__ = [
    "SpecRow",
    "SpecTable",
    "spec_tables",
    "spec_tables_document",
    "spec_tables_markdown",
]


@dataclass(frozen=True)
class SpecRow:
    """One target row: the spec's words, the measured figure and where it came from."""

    metric: str
    component: str
    description: str
    target: str
    measured: str
    observed: float | None
    unit: str | None
    status: str
    run_id: str | None
    run: str | None
    date: str | None
    trusted: bool | None
    note: str

    def as_dict(self) -> dict[str, Any]:
        """Plain data for JSON."""
        return dict(vars(self))


@dataclass(frozen=True)
class SpecTable:
    """A target table of the specification, measured."""

    name: str
    title: str
    rows: tuple[SpecRow, ...]


def _measured(observed: float | None, unit: str | None) -> str:
    if observed is None:
        return "-"
    if unit == "%":
        return f"{num(observed)}%"
    return f"{num(observed)} {unit}" if unit else num(observed)


def _row(v: LatestVerdict) -> SpecRow:
    s, run = v.verdict.slo, v.run
    return SpecRow(
        metric=s.metric or "",
        component=s.component or "",
        description=s.description,
        target=s.spec,
        measured=_measured(v.verdict.observed, s.unit),
        observed=v.verdict.observed,
        unit=s.unit,
        status=v.verdict.status,
        run_id=None if run is None else run.run_id,
        run=None if run is None else f"{run.label} · {run.kind} · {start_text(run.started_at)}",
        date=None if run is None or run.started_at is None else f"{run.started_at:%Y-%m-%d}",
        trusted=None if run is None else run.trusted,
        note=v.how or v.why_not or "",
    )


def spec_tables(store: RunStore, slos: SloConfig | None = None) -> list[SpecTable]:
    """The target tables in the config's order, each row with its newest measured verdict;
    empty when the store holds no runs."""
    config = slos or load_config()
    latest = queries.latest_table_verdicts(store, config)
    by_table: dict[str, list[SpecRow]] = {}
    for v in latest:
        by_table.setdefault(v.verdict.slo.table or "", []).append(_row(v))
    return [
        SpecTable(name, section.title, tuple(by_table.get(name, ())))
        for name, section in config.tables.items()
        if name in by_table
    ]


def spec_tables_markdown(tables: list[SpecTable], generated: datetime | None = None) -> str:
    """The tables as Markdown: the spec's columns, then measured, verdict and the run's date."""
    when = generated or datetime.now(UTC)
    out = [
        "# Performance targets, measured",
        "",
        "Each row: the newest stored run that measured it (a row no run measured says why).",
    ]
    for t in tables:
        rows = []
        for r in t.rows:
            status = f"{STATUS_EMOJI.get(r.status, '')} {STATUS_WORDS.get(r.status, r.status)}"
            if r.trusted is False:
                status += " ⚠️ not trusted"
            rows.append(
                (
                    r.component,
                    r.description,
                    r.target,
                    r.measured,
                    status,
                    r.date or "-",
                    r.run or r.note,
                )
            )
        head = ("Component", "Metric", "Target", "Measured", "Verdict", "Date", "Run / why not")
        out += ["", f"## {t.title}", "", table(head, rows)]
    out += ["", f"_Generated {when:%Y-%m-%d %H:%M:%S} UTC by `pincex report --spec-tables`._"]
    return "\n".join(out) + "\n"


def spec_tables_document(
    tables: list[SpecTable], generated: datetime | None = None
) -> dict[str, Any]:
    """The tables as plain data for JSON."""
    when = generated or datetime.now(UTC)
    return {
        "generated_at": when.isoformat(),
        "tables": [
            {"name": t.name, "title": t.title, "rows": [r.as_dict() for r in t.rows]}
            for t in tables
        ],
    }
