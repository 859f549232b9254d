"""`pincex report`: a stored run's report (HTML, Markdown, PDF, JSON), or the specification's
target tables with what was measured. Heavy modules load inside the command, so `pincex --help`
stays fast."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

import click

from common.errors import UsageFailure
from common.paths import STORE_DEFAULT_HELP, missing_output_folder

if TYPE_CHECKING:
    from collectors.store.store import RunStore

__all__ = ["FORMATS", "report"]

FORMATS: tuple[str, ...] = ("html", "md", "pdf", "json")
_SUFFIXES = {".html": "html", ".htm": "html", ".md": "md", ".markdown": "md", ".pdf": "pdf",
             ".json": "json"}  # fmt: skip
_SPEC_FORMATS = ("md", "json")


@click.command("report")
@click.option(
    "--run",
    "run_ref",
    metavar="ID|latest",
    default=None,
    help="The run: its id, an id prefix (8+ characters) or latest (the default).",
)
@click.option(
    "--baseline",
    "baseline_ref",
    metavar="ID",
    default=None,
    help="Compare with this run (default: the pinned baseline of the run's kind and profile).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(FORMATS),
    default=None,
    help="html (one self-contained file), md (a pull-request comment), pdf or json. Default: "
    "from the -o file's suffix, else md.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path),
    default=None,
    metavar="FILE",
    help="File to write (default stdout; a PDF only to a file or a pipe).",
)
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    metavar="PATH",
    help=f"The run store ({STORE_DEFAULT_HELP}).",
)
@click.option(
    "--spec-tables",
    is_flag=True,
    help="Instead of a run's report: the specification's three target tables with a measured "
    "column and the date of the run behind each value (md or json).",
)
def report(
    run_ref: str | None,
    baseline_ref: str | None,
    fmt: str | None,
    output: Path | None,
    store_path: Path | None,
    spec_tables: bool,
) -> None:
    """Write a stored run's report, or the measured target tables.

    The report holds the run's summary and trust verdict, its SLO verdicts (met, missed or not
    measured, with how each figure was derived), its latency over time and distribution, the
    comparison with its baseline, the regressions that touch it, the diagnosis rules its
    figures trigger, and recommendations. HTML is one file that opens without a network; PDF
    draws its charts as images through the system Chromium.

    Exits 0 when written, 2 on bad input (unknown run, empty store, unwritable file), 1 when
    the store or the PDF printer fails.

    \b
    pincex report --run latest -o report.html
    pincex report --run 3f2a9c1e --baseline 77b0e2d4 --format md > comment.md
    pincex report --run latest --format pdf -o report.pdf
    pincex report --spec-tables -o targets.md
    """
    fmt = _format(fmt, output, spec_tables)
    if spec_tables and (run_ref is not None or baseline_ref is not None):
        raise UsageFailure("--spec-tables takes no --run or --baseline")
    if fmt == "pdf" and output is None and sys.stdout.isatty():
        raise UsageFailure("a PDF is binary: write it to a file with -o FILE (or pipe it)")
    target = _writable(output)
    with _failures():
        store = _store(store_path)
        data = (
            _spec_tables(store, fmt) if spec_tables else _report(store, run_ref, baseline_ref, fmt)
        )
    _write(data, target)


def _format(fmt: str | None, output: Path | None, spec_tables: bool) -> str:
    if fmt is None:
        if output is not None and output.suffix.lower() in _SUFFIXES:
            fmt = _SUFFIXES[output.suffix.lower()]
        elif output is not None and output.suffix:
            raise UsageFailure(
                f"cannot tell the format from {output.name}; give --format {'|'.join(FORMATS)}"
            )
        else:
            fmt = "md"
    if spec_tables and fmt not in _SPEC_FORMATS:
        raise UsageFailure(f"--spec-tables writes md or json, not {fmt}")
    return fmt


def _writable(output: Path | None) -> Path | None:
    """The output path, checked before any work: not a directory, in a folder that exists
    (nothing is created)."""
    if output is None:
        return None
    problem = missing_output_folder(output)
    if problem is not None:
        raise UsageFailure(f"-o {output}: {problem}")
    return output


def _write(data: bytes, output: Path | None) -> None:
    if output is None:
        sys.stdout.flush()
        stream: BinaryIO = sys.stdout.buffer
        stream.write(data)
        stream.flush()
        return
    try:
        output.write_bytes(data)
    except OSError as exc:
        raise UsageFailure(f"-o {output}: {exc.strerror or exc}") from None
    click.echo(f"wrote {output}", err=True)


@contextmanager
def _failures() -> Iterator[None]:
    """The store's and the printer's failures as one `error:` line."""
    import duckdb

    from collectors.store.store import RunNotFound, StoreError
    from dashboard.reports.pdf import PdfError

    try:
        yield
    except RunNotFound as exc:
        raise UsageFailure(str(exc), 2) from None
    except StoreError as exc:
        raise UsageFailure(str(exc), 1) from None
    except PdfError as exc:
        raise UsageFailure(f"pdf: {exc}", 1) from None
    except duckdb.Error as exc:
        raise UsageFailure(f"run store: {exc}", 1) from None


def _store(store_path: Path | None) -> RunStore:
    from collectors.settings import open_run_store

    store = open_run_store(store_path)
    if not store.path.is_file():
        raise UsageFailure(f"no run store at {store.path} (measure something first: `make demo`)")
    return store


def _report(store: RunStore, run_ref: str | None, baseline_ref: str | None, fmt: str) -> bytes:
    from dashboard.reports.build import build_report

    built = build_report(store, run_ref or "latest", baseline_ref)
    if fmt == "html":
        from dashboard.reports.html import render_html

        return render_html(built).encode()
    if fmt == "md":
        from dashboard.reports.markdown import render_markdown

        return render_markdown(built).encode()
    if fmt == "json":
        from dashboard.reports.document import report_json

        return report_json(built)
    from dashboard.reports.pdf import render_pdf

    return render_pdf(built)


def _spec_tables(store: RunStore, fmt: str) -> bytes:
    import orjson

    from dashboard.reports.spec_tables import (
        spec_tables,
        spec_tables_document,
        spec_tables_markdown,
    )

    tables = spec_tables(store)
    if not tables:
        raise UsageFailure(f"no runs in {store.path}: nothing was measured yet")
    if fmt == "json":
        return orjson.dumps(spec_tables_document(tables), option=orjson.OPT_INDENT_2) + b"\n"
    return spec_tables_markdown(tables).encode()
