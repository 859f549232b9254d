"""The one `pincex` command, assembled here from the command modules, each loaded on demand.

`pincex --help` lists every command without importing one (their summaries are kept below;
`tests/test_cli.py` checks they match the commands' own help), so it starts fast; running or
asking the help of a command imports its module (and whatever heavy library it needs) only then.
"""

from __future__ import annotations

import importlib
import sys
from dataclasses import dataclass

import click

from common.errors import one_line
from common.ports import PortUnavailable
from common.redact import redact

__all__ = ["COMMANDS", "LazyCommand", "cli", "main"]


@dataclass(frozen=True)
class LazyCommand:
    """Where a command lives (`module:attribute`, the command or a function assembling it)
    and the first paragraph of its help."""

    target: str
    summary: str

    def load(self) -> click.Command:
        module, _, attribute = self.target.partition(":")
        found = getattr(importlib.import_module(module), attribute)
        command = found if isinstance(found, click.Command) else found()
        assert isinstance(command, click.Command), self.target
        return command


COMMANDS: dict[str, LazyCommand] = {
    "bench": LazyCommand(
        "pincex.commands.bench:bench",
        "Benchmarks: each prints a human summary, or one JSON object with --json.",
    ),
    "dashboard": LazyCommand(
        "pincex.commands.dashboard:dashboard",
        "Serve the dashboard (Streamlit, headless) until Ctrl-C or SIGTERM, then exit 0.",
    ),
    "demo": LazyCommand(
        "pincex.commands.demo:demo",
        "The exchange with demo users on 127.0.0.1, a short ramp of orders runs (500 to 2,500 "
        "orders/s), a market-data run, a baseline load test and a database run kept in the run "
        "store, then the dashboard over them; up until Ctrl-C.",
    ),
    "diagnose": LazyCommand(
        "pincex.commands.slo:diagnose", "Match figures to the spec's tuning advice."
    ),
    "exchange": LazyCommand(
        "pincex.commands.exchange:exchange", "The reference exchange (the system under test)."
    ),
    "loadtest": LazyCommand(
        "pincex.commands.loadtest:loadtest",
        "The specification's load tests: baseline, peak, stress and spike, with verdicts.",
    ),
    "plan": LazyCommand(
        "pincex.commands.plan:plan",
        "Capacity planning: the specification's capacity script, USL fits, pods for an SLO.",
    ),
    "regress": LazyCommand(
        "pincex.commands.regress:regress",
        "Did the last change make the trading stack slower? Baseline checks and run histories.",
    ),
    "report": LazyCommand(
        "pincex.commands.report:report",
        "Write a stored run's report, or the measured target tables.",
    ),
    "runs": LazyCommand(
        "pincex.commands.runs:runs",
        "Stored runs: list, show, export, import, delete, pin and unpin baselines.",
    ),
    "slo": LazyCommand("pincex.commands.slo:slo", "Judge results against the spec's SLOs."),
}
"""Every top-level command, by name."""


class _LazyGroup(click.Group):
    """A group whose commands are imported when one is run or its help asked for."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in COMMANDS:
            self.add_command(COMMANDS[cmd_name].load(), cmd_name)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the summaries, importing nothing."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(name) for name in names)
        rows = []
        for name in names:
            loaded = self.commands.get(name)
            shown = loaded or click.Command(name, help=COMMANDS[name].summary)
            rows.append((name, shown.get_short_help_str(limit)))
        with formatter.section("Commands"):
            formatter.write_dl(rows)


class _StoreSource:
    """The run store as planning's RunSource, imported on first use (pandas is slow to load)."""

    def __getattr__(self, name: str) -> object:
        from dashboard.queries import StoreRunSource

        return getattr(StoreRunSource(), name)


@click.group(cls=_LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pincex-perf-lab")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """PinCEX Perf Lab: measure the exchange, judge it against its targets, plan its capacity."""
    from pincex.sources import provide

    provide(ctx, _StoreSource())  # type: ignore[arg-type]


def main() -> None:
    """Run the CLI; a usage mistake is one `error:` line on stderr and exit code 2."""
    try:
        code = cli.main(prog_name="pincex", standalone_mode=False)
    except click.exceptions.NoArgsIsHelpError as exc:
        # A group given no command: its help, as `--help` shows it.
        click.echo(exc.ctx.get_help() if exc.ctx is not None else exc.format_message())
        sys.exit(0)
    except click.UsageError as exc:
        where = f"{exc.ctx.command_path}: " if exc.ctx is not None else ""
        click.echo(f"error: {where}{redact(one_line(exc.format_message()))}", err=True)
        sys.exit(exc.exit_code)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except click.Abort:
        click.echo("error: aborted", err=True)
        sys.exit(130)
    except PortUnavailable as exc:  # `--port` of exchange serve, dashboard, demo
        click.echo(f"error: {one_line(str(exc))}", err=True)
        sys.exit(2)
    # Without standalone mode click returns the code a command exited with (ctx.exit(n)).
    sys.exit(code if isinstance(code, int) else 0)
