"""`pincex runs ...`: list, show, export, import, delete, pin and unpin stored runs."""

from __future__ import annotations

import dataclasses
import functools
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import duckdb
import orjson

from collectors.settings import open_run_store, resolve_store_path
from collectors.store import (
    DuplicateRun,
    InvalidRun,
    RunFormatError,
    RunListing,
    RunNotFound,
    RunStore,
    StoreError,
    limits,
    run_to_dict,
    run_to_json,
)
from collectors.store.codec import run_from_file
from collectors.store.export import (
    DB_KIND,
    ORDERS_KIND,
    seed_results,
    summaries_csv,
    write_parquet,
)
from collectors.store.headline import PARTS_KINDS, overall_summary
from collectors.store.limits import cut
from collectors.store.model import LatencyFigures, Run, Summary
from common.errors import UsageFailure
from common.paths import STORE_DEFAULT_HELP, missing_output_folder

__all__ = ["runs"]

_JSON_OPTS = orjson.OPT_INDENT_2


@contextmanager
def _failures() -> Iterator[None]:
    try:
        yield
    except (RunNotFound, DuplicateRun, InvalidRun) as exc:
        raise UsageFailure(str(exc), 2) from None
    except StoreError as exc:
        raise UsageFailure(str(exc), 1) from None
    except duckdb.Error as exc:
        raise UsageFailure(f"run store: {exc}", 1) from None
    except OSError as exc:
        raise UsageFailure(f"{exc.strerror or exc}: {exc.filename or ''}".strip(), 1) from None


def _echo_json(data: Any) -> None:
    click.echo(orjson.dumps(data, option=_JSON_OPTS).decode())


def _figures(f: LatencyFigures | None) -> dict[str, float] | None:
    return None if f is None else dict(vars(f))


def _plain(text: str) -> str:
    """Text for a terminal: control characters (escapes, line breaks) shown as `?`."""
    return text if text.isprintable() else "".join(c if c.isprintable() else "?" for c in text)


def _tags(tags: list[str]) -> list[str]:
    return [cut(t, limits.MAX_NAME_CHARS) for t in tags[: limits.MAX_TAGS]]


def _bounded(run: Run) -> Run:
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


def _listing_dict(item: RunListing, pinned: bool = False) -> dict[str, Any]:
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


_STORE_HELP = f"DuckDB run store ({STORE_DEFAULT_HELP})."


@dataclass(frozen=True)
class _GroupStore:
    """`pincex runs --store X ...`: the store given before the subcommand (the older place)."""

    path: Path | None


@click.group()
@click.option(
    "--store",
    "store_path",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help=_STORE_HELP + " Also accepted after the subcommand, as with every command.",
)
@click.pass_context
def runs(ctx: click.Context, store_path: Path | None) -> None:
    """Stored runs: list, show, export, import, delete, pin and unpin baselines."""
    ctx.obj = _GroupStore(store_path)


def _store(given: Path | None, creates: bool) -> RunStore:
    """The store named after the subcommand, else before it, else the default; a usage error
    naming it when it does not exist and the command only reads or changes runs in it."""
    ctx = click.get_current_context()
    group = ctx.find_object(_GroupStore)
    before = None if group is None else group.path
    if (
        given is not None
        and before is not None
        and (resolve_store_path(given) != resolve_store_path(before))
    ):
        raise UsageFailure(f"--store given twice ({before} and {given}): give it once")
    store = open_run_store(given or before)
    if not creates and not store.exists():
        raise UsageFailure(f"no run store at {store.path}")
    return store


def _store_option(creates: bool) -> Callable[[Callable[..., None]], Callable[..., None]]:
    """The subcommand's `--store` option; the command gets the RunStore as its first argument.
    Only a command that `creates` runs may start a new store file."""

    def decorate(fn: Callable[..., None]) -> Callable[..., None]:
        @functools.wraps(fn)
        def wrapper(*args: Any, store_path: Path | None, **kwargs: Any) -> None:
            fn(_store(store_path, creates), *args, **kwargs)

        return click.option(
            "--store",
            "store_path",
            type=click.Path(dir_okay=False, path_type=Path),
            default=None,
            help=_STORE_HELP,
        )(wrapper)

    return decorate


_with_store = _store_option(creates=False)
_with_new_or_existing_store = _store_option(creates=True)


@runs.command("list")
@click.option("--kind", default=None, help="Only runs of this kind (orders, db, loadtest...).")
@click.option("--label", default=None, help="Only runs of this version label.")
@click.option(
    "--limit",
    type=click.IntRange(min=1),
    default=50,
    show_default=True,
    help="at most this many runs, newest first",
)
@click.option("--json", "as_json", is_flag=True, help="Print one JSON object.")
@_with_store
def list_(store: RunStore, kind: str | None, label: str | None, limit: int, as_json: bool) -> None:
    """Runs, newest first, with their headline summary (the name with most requests; for a
    db run, every query type together).

    A run whose figures are not trusted shows `untrusted` as its status (`partial, untrusted`
    when it was also cut short); `pinned` marks the baseline of its kind and profile
    (`pincex runs pin ID`).
    """
    with _failures():
        items = store.list_runs(kind=kind, label=label, limit=limit)
        pinned = set(store.baselines().values()) if items else set()
    if as_json:
        _echo_json({"runs": [_listing_dict(i, i.id in pinned) for i in items]})
        return
    if not items:
        click.echo("no runs")
        return
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
    click.echo(_table(rows))


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


def _show_text(run: Run) -> str:
    run = _bounded(run)
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


@runs.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the whole run as one JSON object.")
@_with_store
def show(store: RunStore, run_id: str, as_json: bool) -> None:
    """One run: context, summaries (both latency views), series and histograms held."""
    with _failures():
        run = store.get(run_id)
    if as_json:
        _echo_json(run_to_dict(_bounded(run)))
    else:
        click.echo(_show_text(run))


def _check_folder(output: Path | None) -> None:
    """A usage error naming the -o file's folder when it does not exist (nothing is created)."""
    problem = None if output is None else missing_output_folder(output)
    if problem is not None:
        raise UsageFailure(f"-o {output}: {problem}")


def _emit(data: bytes, output: Path | None) -> None:
    if output is None:
        click.echo(data.decode(), nl=False)
        return
    with _failures():
        output.write_bytes(data)
    click.echo(f"wrote {output}", err=True)


@runs.command("export")
@click.argument("run_id")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["json", "csv", "parquet", "seed-json"]),
    default="json",
    show_default=True,
    help="json: the whole run; csv: its summaries only; parquet: summaries (FILE) and "
    "series (FILE stem + .series.parquet); seed-json: the spec's performance-results.json.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="File to write (default stdout; parquet: <id>.parquet).",
)
@click.option(
    "--allow-missing",
    is_flag=True,
    help="seed-json only: write the keys found even when an orders or db run is missing "
    "(with a warning; the spec's script reads a missing key as 0).",
)
@_with_store
def export(
    store: RunStore, run_id: str, fmt: str, output: Path | None, allow_missing: bool
) -> None:
    """Export a run as JSON (importable), CSV, Parquet or the spec's results JSON.

    The -o file's folder must exist (it is not created).

    seed-json needs an orders run and a db run with the run's label (the run itself or the
    latest of the other kind); without one it fails, naming the missing keys, unless
    --allow-missing.
    """
    if allow_missing and fmt != "seed-json":
        raise UsageFailure("--allow-missing applies to --format seed-json only")
    _check_folder(output)
    with _failures():
        if fmt == "parquet":
            paths = write_parquet(store, run_id, output or Path(f"{run_id}.parquet"))
            for path in paths:
                click.echo(str(path))
            return
        run = store.get(run_id)
        if fmt == "json":
            data = run_to_json(run) + b"\n"
        elif fmt == "csv":
            click.echo("note: csv holds the run's summaries only (one row per name)", err=True)
            data = summaries_csv(run).encode()
        else:
            seed = seed_results(store, run)
            if seed.missing and not allow_missing:
                raise UsageFailure(
                    f"seed-json needs an {ORDERS_KIND} run and a {DB_KIND} run labelled "
                    f"{seed.label!r}; missing {seed.missing_text()}"
                )
            if seed.missing:
                click.echo(
                    f"warning: seed-json written without {seed.missing_text()}; "
                    "the spec's script reads a missing key as 0",
                    err=True,
                )
            for key, source in seed.sources.items():
                click.echo(f"note: {key} from run {source}", err=True)
            data = orjson.dumps(seed.values, option=_JSON_OPTS) + b"\n"
    _emit(data, output)


_IMPORT_HELP = f"""Store a run exported with `pincex runs export ID --format json`.

The file is refused whole (one error line, exit 2, nothing written), naming the field, when
it is not a run, breaks a limit of the store, or holds figures no measurement gives (negative
counts, errors above count, negative or non-finite latencies, percentiles out of order, an end
before the start, bad series points). A locked store spools the run (exit 1).

{limits.limits_text()}
"""


@runs.command("import", help=_IMPORT_HELP)
@click.argument("file", type=click.Path(dir_okay=False, path_type=Path))
@_with_new_or_existing_store
def import_(store: RunStore, file: Path) -> None:
    try:
        run = run_from_file(file, check=True)
    except OSError as exc:
        raise UsageFailure(f"{file}: {exc.strerror or exc}", 2) from None
    except RunFormatError as exc:
        raise UsageFailure(f"{file}: {exc}", 2) from None
    with _failures():
        try:
            store.write(run)
        except InvalidRun as exc:
            raise UsageFailure(f"{file}: {exc}", 2) from None
    click.echo(run.id)
    click.echo(f"stored in {store.path}", err=True)


@runs.command("delete")
@click.argument("run_id")
@_with_store
def delete(store: RunStore, run_id: str) -> None:
    """Delete a run and everything stored with it."""
    with _failures():
        store.delete(run_id)
    click.echo(f"deleted {run_id}")


@runs.command("pin")
@click.argument("run_ref", metavar="ID")
@_with_store
def pin(store: RunStore, run_ref: str) -> None:
    """Pin a run as the baseline of its kind and profile (replacing the one pinned before).

    ID is a run id, a unique id prefix of 8+ characters, or `latest`. Comparison and
    regression views default to the pinned baseline.
    """
    with _failures():
        run_id = store.resolve(run_ref)
        kind, profile, replaced = store.pin(run_id)
    was = "" if replaced is None else f" (replacing {replaced})"
    click.echo(f"pinned {run_id} as the {kind}/{profile} baseline{was}")


@runs.command("unpin")
@click.argument("run_ref", metavar="ID")
@_with_store
def unpin(store: RunStore, run_ref: str) -> None:
    """Remove the pin on a run (ID: an id, a unique 8+ character prefix, or `latest`)."""
    with _failures():
        run_id = store.resolve(run_ref)
        try:
            kind, profile = store.unpin(run_id)
        except StoreError as exc:
            raise UsageFailure(str(exc), 2) from None
    click.echo(f"unpinned {run_id}: {kind}/{profile} has no pinned baseline now")
