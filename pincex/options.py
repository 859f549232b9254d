"""Options and the progress bar every stored benchmark command shares."""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, TypeVar

import click
import orjson

from collectors.settings import get_settings
from collectors.store.limits import MAX_TAGS, RunFormatError, check_name
from common.errors import UsageFailure

__all__ = [
    "echo_json",
    "fail_if_not_stored",
    "progress_bar",
    "scrape_option",
    "store_options",
    "store_path_of",
]

_F = TypeVar("_F", bound=Callable[..., Any])


def _label(_ctx: click.Context, _param: click.Parameter, value: str) -> str:
    try:
        check_name("--label", value)
    except RunFormatError as exc:
        raise click.BadParameter(str(exc)) from None
    return value


def _tags(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> tuple[str, ...]:
    if len(values) > MAX_TAGS:
        raise click.BadParameter(f"at most {MAX_TAGS} tags, got {len(values)}")
    try:
        for value in values:
            check_name("--tag", value)
    except RunFormatError as exc:
        raise click.BadParameter(str(exc)) from None
    return values


def store_options(fn: _F) -> _F:
    """--label, --tag, --store, --no-store: where and how the run is kept (the label and tags
    checked as the store will check them, before anything is measured)."""
    for option in reversed(
        [
            click.option(
                "--label",
                default="unlabelled",
                show_default=True,
                callback=_label,
                help="version label of the system under test, kept with the run",
            ),
            click.option(
                "--tag",
                "tags",
                multiple=True,
                callback=_tags,
                help="a tag kept with the run (repeatable)",
            ),
            click.option(
                "--store",
                "store_path",
                default=None,
                help="run store file (default PINCEX_STORE_PATH or data/pincex.duckdb)",
            ),
            click.option("--no-store", is_flag=True, help="do not keep the run in the run store"),
        ]
    ):
        fn = option(fn)
    return fn


def scrape_option(fn: _F) -> _F:
    """--scrape-interval: how often the target's /metrics is read during the run."""
    return click.option(
        "--scrape-interval",
        type=click.FloatRange(min=0),
        default=1.0,
        show_default=True,
        help="seconds between scrapes of the target's /metrics (0: do not scrape)",
    )(fn)


def store_path_of(store_path: str | None, no_store: bool) -> str | None:
    """The store the run goes to, or None with --no-store."""
    return None if no_store else (store_path or get_settings().store_path)


@contextmanager
def progress_bar(enabled: bool, label: str) -> Iterator[Callable[[float, float], None] | None]:
    """A progress bar on stderr fed by `callback(done, total)`; None when not enabled (with
    --json, or when the command prints other fixed lines). The bar appears at the first
    report, so a command that fails before measuring prints only its error line."""
    if not enabled:
        yield None
        return
    scale = 1000  # fractional totals (seconds) shown in thousandths
    state: dict[str, Any] = {"bar": None, "last": 0}

    def update(done: float, total: float) -> None:
        bar = state["bar"]
        if bar is None:
            bar = click.progressbar(
                length=1, label=label, file=sys.stderr, show_eta=False, show_percent=True
            )
            bar.__enter__()
            state["bar"] = bar
        bar.length = max(int(total * scale), 1)
        now = int(done * scale)
        bar.update(now - state["last"])
        state["last"] = now

    try:
        yield update
    finally:
        if state["bar"] is not None:
            state["bar"].__exit__(None, None, None)


def fail_if_not_stored(figures: dict[str, Any]) -> None:
    """After the figures are printed: exit 1 with one line when the store refused the run."""
    if "store_error" in figures:
        raise UsageFailure(f"the run was measured but not stored: {figures['store_error']}", 1)


def echo_json(figures: dict[str, Any]) -> None:
    """--json: the figures as one object on stdout, then the store's refusal (if any) as the
    command's one error line."""
    click.echo(orjson.dumps(figures).decode())
    fail_if_not_stored(figures)
