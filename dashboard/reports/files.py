"""The Reports page's downloads as bytes, built when asked (a download button's callable):
a run's report in each format, the run's data in the exporters' shapes, the spec tables.

    data = report_file("data/pincex.duckdb", run_id, "pdf")
    data = run_data("data/pincex.duckdb", run_id, "summaries.parquet")
"""

from __future__ import annotations

import tempfile
from pathlib import Path

import orjson

from collectors.store.codec import run_to_json
from collectors.store.export import seed_results, summaries_csv, write_parquet
from dashboard import queries

__all__ = ["DATA_FILES", "REPORT_FORMATS", "report_file", "run_data", "spec_tables_file"]

REPORT_FORMATS: dict[str, tuple[str, str, str]] = {
    # format: (button label, file suffix, mime type)
    "html": ("HTML", "html", "text/html"),
    "md": ("Markdown", "md", "text/markdown"),
    "json": ("JSON", "json", "application/json"),
    "pdf": ("PDF", "pdf", "application/pdf"),
}
DATA_FILES: dict[str, tuple[str, str]] = {
    # what: (button label, mime type)
    "run.json": ("Run JSON", "application/json"),
    "summaries.csv": ("Summaries CSV", "text/csv"),
    "summaries.parquet": ("Summaries Parquet", "application/vnd.apache.parquet"),
    "series.parquet": ("Series Parquet", "application/vnd.apache.parquet"),
    "performance-results.json": ("Spec results", "application/json"),
}


def report_file(store_path: str, run_id: str, fmt: str) -> bytes:
    """The run's report in `fmt` (html, md, json, pdf)."""
    from dashboard.reports.build import build_report

    report = build_report(queries.open_store(store_path), run_id)
    if fmt == "html":
        from dashboard.reports.html import render_html

        return render_html(report).encode()
    if fmt == "md":
        from dashboard.reports.markdown import render_markdown

        return render_markdown(report).encode()
    if fmt == "json":
        from dashboard.reports.document import report_json

        return report_json(report)
    if fmt == "pdf":
        from dashboard.reports.pdf import render_pdf

        return render_pdf(report)
    raise ValueError(f"unknown report format {fmt!r}")


def run_data(store_path: str, run_id: str, what: str) -> bytes:
    """The run's data as one of DATA_FILES, through the store's exporters."""
    store = queries.open_store(store_path)
    if what in ("summaries.parquet", "series.parquet"):
        with tempfile.TemporaryDirectory(prefix="pincex-export-") as tmp:
            summaries, series = write_parquet(store, run_id, Path(tmp) / "run.parquet")
            return (summaries if what == "summaries.parquet" else series).read_bytes()
    run = store.get(run_id)
    if what == "run.json":
        return run_to_json(run) + b"\n"
    if what == "summaries.csv":
        return summaries_csv(run).encode()
    if what == "performance-results.json":
        seed = seed_results(store, run)
        return orjson.dumps(seed.values, option=orjson.OPT_INDENT_2) + b"\n"
    raise ValueError(f"unknown data file {what!r}")


def spec_tables_file(store_path: str, fmt: str) -> bytes:
    """The specification's target tables, measured, as Markdown or JSON."""
    from dashboard.reports.spec_tables import (
        spec_tables,
        spec_tables_document,
        spec_tables_markdown,
    )

    tables = spec_tables(queries.open_store(store_path))
    if fmt == "json":
        return orjson.dumps(spec_tables_document(tables), option=orjson.OPT_INDENT_2) + b"\n"
    return spec_tables_markdown(tables).encode()
