"""The `pincex bench generators` command."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator
from typing import Any

import click

from collectors.bench.generators import (
    GeneratorsConfig,
    build_comparison_run,
    comparison,
    phases,
    run_generators,
)
from collectors.bench.generators_figures import LOCUST_CLASSES, OURS, GeneratorsFigures
from collectors.bench.nginx_server import find_nginx, nginx_server
from collectors.bench.runs import kept
from collectors.bench.target import check_target
from collectors.settings import get_settings
from common.errors import UsageFailure
from pincex.commands.bench_command import BenchCommand, echo_outcome, exit_for
from pincex.options import (
    BenchContext,
    allow_remote_option,
    connections_option,
    echo_json,
    json_option,
    keep_options,
    progress_bar,
    rate_option,
    target_option,
)

__all__ = ["generators", "table_lines"]


def _cpus(
    server_cpu: int | None, generator_cpu: int | None, own_server: bool
) -> tuple[int | None, int | None]:
    """The cores to pin to: as given (each must be available), else the first two available
    (server, generator); nothing pinned when only one core is available."""
    available = sorted(os.sched_getaffinity(0))
    for name, cpu in (("--server-cpu", server_cpu), ("--generator-cpu", generator_cpu)):
        if cpu is not None and cpu not in available:
            raise UsageFailure(f"{name} {cpu}: not an available core (available: {available})")
    if len(available) < 2:
        return server_cpu, generator_cpu
    if server_cpu is None and own_server:
        server_cpu = available[0]
    if generator_cpu is None:
        generator_cpu = next(c for c in [*available[1:], available[0]] if c != server_cpu)
    return server_cpu, generator_cpu


def _classes(value: str) -> tuple[str, ...]:
    keys = tuple(k.strip().lower() for k in value.split(",") if k.strip())
    for key in keys:
        if key not in LOCUST_CLASSES:
            raise UsageFailure(f"--locust-classes: unknown class {key!r} (known: fast, http)")
    return tuple(dict.fromkeys(keys))


@contextlib.contextmanager
def _server(
    target: str | None, allow_remote: bool, cpu: int | None, emit: Any
) -> Iterator[dict[str, Any]]:
    if target is not None:
        check_target(target, allow_remote)
        yield {"kind": "target", "url": target.rstrip("/"), "cpu": None}
        return
    binary = find_nginx(get_settings().nginx or None)
    with nginx_server(binary, cpu) as server:
        emit(
            f"server: {server.version} at {server.url}"
            + (f" on core {cpu}" if cpu is not None else "")
        )
        yield {"kind": "nginx", "url": server.url, "cpu": cpu, "version": server.version}


def table_lines(figures: GeneratorsFigures) -> list[str]:
    """The comparison as an aligned table, one row per generator, then the ratios."""
    head = ("generator", "model", "requests", "req/s", "CPU %", "p50 ms", "p99 ms", "max ms")
    rows = [head]
    ours = figures.ours
    for g in figures.generators:
        lat = g.latency
        model = (
            f"open {ours.rate:g}/s" if g is ours else f"closed {figures.config.locust_users} users"
        )
        rows.append(
            (
                g.name,
                model,
                f"{g.requests:,}",
                f"{g.rps:,.0f}",
                f"{g.cpu_pct:.0f}",
                f"{lat.p50:.2f}",
                f"{lat.p99:.2f}",
                f"{lat.max:.2f}",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(head))]
    lines = [
        "  ".join(
            c.ljust(w) if i < 2 else c.rjust(w)
            for i, (c, w) in enumerate(zip(r, widths, strict=True))
        )
        for r in rows
    ]
    if not ours.verdict.trusted:
        lines.append(f"{OURS} NOT TRUSTED: " + "; ".join(ours.verdict.trust_reasons))
    for key, ratio in figures.ratios.items():
        shown = f"{ratio:.2f}x" if ratio is not None else "n/a (Locust sent nothing)"
        lines.append(f"ratio {OURS} / {LOCUST_CLASSES[key][0]}: {shown}")
    lines.extend(f"note: {n}" for n in figures.notes)
    return lines


@click.command(cls=BenchCommand)
@target_option("a server to load (default: start nginx here)", from_settings=False)
@allow_remote_option
@rate_option(20000, "our generator's fixed rate, requests per second")
@click.option(
    "--duration",
    type=click.IntRange(1, 600),
    default=10,
    show_default=True,
    help="seconds per generator",
)
@connections_option("our generator's keep-alive connections")
@click.option(
    "--locust-users",
    type=click.IntRange(1, 1000),
    default=64,
    show_default=True,
    help="Locust users (one process, no wait time)",
)
@click.option(
    "--locust-classes",
    default="fast,http",
    show_default=True,
    help="Locust user classes to run: fast (FastHttpUser), http (HttpUser)",
)
@click.option(
    "--server-cpu",
    type=click.IntRange(min=0),
    default=None,
    help="core nginx is pinned to (default: the first available)",
)
@click.option(
    "--generator-cpu",
    type=click.IntRange(min=0),
    default=None,
    help="core each generator is pinned to (default: the next available)",
)
@keep_options
@json_option
def generators(
    target: str | None,
    allow_remote: bool,
    rate: float,
    duration: int,
    connections: int,
    locust_users: int,
    locust_classes: str,
    server_cpu: int | None,
    generator_cpu: int | None,
    bench: BenchContext,
    as_json: bool,
) -> None:
    """Our open-model generator and Locust against the same server, in one run, side by side.

    Without --target, nginx is started on a free 127.0.0.1 port answering a fixed JSON body,
    pinned to one core; each generator runs in its own process pinned to another core
    (taskset), one after the other: `pincex bench orders` at --rate, then Locust flat out
    with --locust-users users of each class in --locust-classes.

    \b
    pincex bench generators --duration 20 --json
    pincex bench generators --target http://127.0.0.1:8390 --locust-classes fast

    Ctrl-C stops the running generator, prints and keeps what was measured (marked aborted)
    and exits 130; our generator's errors past the trust limit (over 1%) exit 1 after the
    figures.
    """
    classes = _classes(locust_classes)
    server_cpu, generator_cpu = _cpus(server_cpu, generator_cpu, target is None)

    def emit(line: str) -> None:
        if not as_json:
            click.echo(line, err=True)

    with _server(target, allow_remote, server_cpu, emit) as server:
        cfg = GeneratorsConfig(
            server["url"],
            rate,
            duration,
            connections,
            locust_users,
            classes,
            generator_cpu,
            allow_remote,
        )
        for line in phases(cfg):
            emit(line)
        try:
            with progress_bar(not as_json, "seconds run") as progress:
                compared = run_generators(cfg, progress)
        except KeyboardInterrupt:
            raise UsageFailure("aborted before anything was measured", 130) from None
    figures = comparison(server, cfg, compared)
    if bench.store_path is not None:
        run = build_comparison_run(cfg, figures, compared, bench.label, bench.tags)
        figures = kept(figures, bench.store_path, run)
    if as_json:
        echo_json(figures.to_json())
    else:
        for line in table_lines(figures):
            click.echo(line)
        echo_outcome(figures, bench.store_path)
    exit_for(figures.store_error, figures.aborted, figures.ours.errors_over_limit)
