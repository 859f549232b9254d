"""The `pincex bench abuse` command."""

from __future__ import annotations

import click

from collectors.bench.abuse import SCENARIOS, AbuseConfig, run_abuse
from collectors.bench.abuse_figures import (
    AbuseFigures,
    Closes,
    Flood,
    ProbeFigures,
    ScenarioFailed,
    ScenarioFigures,
)
from collectors.bench.abuse_watch import find_listening_pid, rss_mb
from collectors.bench.target import check_reachable, check_target
from common.errors import UsageFailure
from common.fdlimit import raise_fd_limit
from pincex.commands.bench_command import BenchCommand
from pincex.options import echo_json, json_option, target_option

__all__ = ["abuse"]

_FD_RESERVE = 64


def _scenarios(value: str) -> tuple[str, ...]:
    names = tuple(n.strip() for n in value.split(",") if n.strip())
    unknown = [n for n in names if n not in SCENARIOS]
    if unknown or not names:
        raise UsageFailure(
            f"--scenarios: unknown {', '.join(unknown) or '(none given)'}; "
            f"known: {', '.join(SCENARIOS)}"
        )
    return names


@click.command("abuse", cls=BenchCommand)
@target_option("exchange URL on loopback (default PINCEX_TARGET or http://127.0.0.1:8080)")
@click.option(
    "--pid", type=click.IntRange(min=1), default=None,
    help="the exchange's process id, for its memory (default: found from the port via /proc)",
)  # fmt: skip
@click.option(
    "--scenarios", default=",".join(SCENARIOS), show_default=True,
    help="comma-separated scenarios to run, in this order",
)  # fmt: skip
@click.option(
    "--duration", type=click.FloatRange(0.5, 600), default=25.0, show_default=True,
    help="seconds each scenario may last at most",
)  # fmt: skip
@click.option(
    "--connections", type=click.IntRange(1, 20_000), default=200, show_default=True,
    help="connections of the slowloris and idle scenarios",
)  # fmt: skip
@click.option(
    "--huge-header-mb", type=click.FloatRange(0.001, 1024), default=100.0, show_default=True,
    help="MB streamed as one header value",
)  # fmt: skip
@click.option(
    "--header-lines", type=click.IntRange(1, 50_000_000), default=2_000_000, show_default=True,
    help="header lines streamed in one request",
)  # fmt: skip
@click.option(
    "--body-mb", type=click.FloatRange(0.001, 4096), default=300.0, show_default=True,
    help="MB of body POSTed to /admin/users without a key",
)  # fmt: skip
@click.option(
    "--batch-mb", type=click.FloatRange(0.001, 4096), default=120.0, show_default=True,
    help="MB of JSON order array POSTed to /api/v1/orders/batch",
)  # fmt: skip
@click.option(
    "--flood", type=click.IntRange(1, 60_000), default=6000, show_default=True,
    help="connections opened from one source address",
)  # fmt: skip
@click.option(
    "--probe-interval-ms", type=click.FloatRange(5, 1000), default=15.0, show_default=True,
    help="milliseconds between GET /health/live probes",
)  # fmt: skip
@click.option(
    "--api-key", default=None,
    help="key sent with the big batch (default: a random valid-looking key)",
)  # fmt: skip
@json_option
def abuse(
    target: str,
    pid: int | None,
    scenarios: str,
    duration: float,
    connections: int,
    huge_header_mb: float,
    header_lines: int,
    body_mb: float,
    batch_mb: float,
    flood: int,
    probe_interval_ms: float,
    api_key: str | None,
    as_json: bool,
) -> None:
    """Hostile clients against a running exchange on loopback, one scenario after another:
    slowloris, idle connections, a huge header, many header lines, a big body to /admin/users,
    a big order batch, a connection flood from one source. Meanwhile GET /health/live is
    probed; per scenario: its p50/p99/max, what the server did (statuses, closes, bytes it
    took), the exchange's peak RSS, and the target (probe p99 < 50 ms, RSS < 300 MB) for the
    slow-client and big-body scenarios.

    \b
    pincex bench abuse --target http://127.0.0.1:8080 --json
    pincex bench abuse --scenarios slowloris,flood --duration 15
    """
    url = check_target(target, allow_remote=False)
    names = _scenarios(scenarios)
    base = f"http://{url.hostname}:{url.port or 80}"
    check_reachable(base)
    if pid is not None and rss_mb(pid) is None:
        raise UsageFailure(f"--pid {pid}: no such process whose memory can be read")
    found = pid if pid is not None else find_listening_pid(url.port or 80)
    raise_fd_limit(max(connections, flood) + _FD_RESERVE)
    cfg = AbuseConfig(
        host=url.hostname or "127.0.0.1",
        port=url.port or 80,
        pid=found,
        scenarios=names,
        duration=duration,
        connections=connections,
        huge_header_mb=huge_header_mb,
        header_lines=header_lines,
        body_mb=body_mb,
        batch_mb=batch_mb,
        flood=flood,
        probe_interval=probe_interval_ms / 1000,
    )
    if api_key:
        cfg.api_key = api_key
    if not as_json:
        click.echo(
            f"attacking {base} ({len(names)} scenarios, up to {duration:g} s each) ...", err=True
        )
    result = run_abuse(cfg)
    if as_json:
        echo_json(result.to_json())
        return
    for line in summary_lines(result):
        click.echo(line)


def _probe_text(probe: ProbeFigures) -> str:
    if not probe.count:
        return "/health/live: no probes"
    failed = f", {probe.failed} failed" if probe.failed else ""
    return (
        f"/health/live p50 {probe.p50_ms} ms, p99 {probe.p99_ms} ms, "
        f"max {probe.max_ms} ms ({probe.count} probes{failed})"
    )


def _server_text(scenario: ScenarioFigures) -> str:
    server = scenario.server
    if isinstance(server, ScenarioFailed):
        return f"failed: {server.error}"
    if isinstance(server, Closes):
        low, _, high = server.closed_after_s
        statuses = ", ".join(f"{k} x{v}" for k, v in server.statuses.items()) or "no answer"
        return (
            f"{server.closed_by_server} of {server.opened} closed by the server "
            f"(after {low}-{high} s, {statuses}), {server.open_at_end} open"
        )
    if isinstance(server, Flood):
        return (
            f"{server.held} held, {server.refused_by_server} refused by the server, "
            f"{server.connect_failed} failed to connect, of {server.attempted}"
        )
    written_mb = server.bytes_written / (1 << 20)
    closed = (
        f"closed after {server.closed_after_s} s"
        if server.closed_after_s is not None
        else "not closed"
    )
    return (
        f"status {server.status or 'none'}, {closed}, "
        f"{written_mb:.2f} of {server.bytes_to_send / (1 << 20):.2f} MB written"
    )


def summary_lines(result: AbuseFigures) -> list[str]:
    """The human summary: the baseline, then one line per scenario."""
    lines = [f"baseline (no attack): {_probe_text(result.baseline)}"]
    for s in result.scenarios:
        rss = s.peak_rss_mb
        rss_text = f"peak RSS {rss} MB" if rss is not None else "peak RSS unknown"
        verdict = ""
        if s.target is not None:
            met = s.target.met
            verdict = (
                "; target unmeasured"
                if met is None
                else "; target met"
                if met
                else "; TARGET MISSED"
            )
        lines.append(
            f"{s.name} ({s.seconds} s): {_server_text(s)}; "
            f"{_probe_text(s.probe)}; {rss_text}{verdict}"
        )
    lines.extend(f"warning: {w}" for w in result.warnings)
    return lines
