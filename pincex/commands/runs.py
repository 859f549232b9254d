"""`pincex runs ...`: list, show, export, import, delete, pin and unpin stored runs."""

from __future__ import annotations

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
from common.errors import UsageFailure
from common.paths import STORE_DEFAULT_HELP, missing_output_folder
from pincex.commands.runs_view import bounded, listing_dict, listing_table, show_text

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
        _echo_json({"runs": [listing_dict(i, i.id in pinned) for i in items]})
        return
    if not items:
        click.echo("no runs")
        return
    click.echo(listing_table(items, pinned))


@runs.command("show")
@click.argument("run_id")
@click.option("--json", "as_json", is_flag=True, help="Print the whole run as one JSON object.")
@_with_store
def show(store: RunStore, run_id: str, as_json: bool) -> None:
    """One run: context, summaries (both latency views), series and histograms held."""
    with _failures():
        run = store.get(run_id)
    if as_json:
        _echo_json(run_to_dict(bounded(run)))
    else:
        click.echo(show_text(run))


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
