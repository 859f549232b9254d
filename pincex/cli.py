"""The one `pincex` command: each package contributes its own group of sub-commands."""

from __future__ import annotations

import sys

import click

from common.errors import one_line
from common.redact import redact
from pincex.commands.bench import bench
from pincex.commands.dashboard import dashboard
from pincex.commands.demo import demo
from pincex.commands.exchange import exchange
from pincex.commands.plan import plan
from pincex.commands.regress import regress
from pincex.commands.report import report
from pincex.commands.runs import runs
from pincex.commands.slo import diagnose, slo
from planning.sources import provide

__all__ = ["cli", "main"]


class _StoreSource:
    """The run store as planning's RunSource, imported on first use (pandas is slow to load)."""

    def __getattr__(self, name: str) -> object:
        from dashboard.queries import StoreRunSource

        return getattr(StoreRunSource(), name)


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pincex-perf-lab")
@click.pass_context
def cli(ctx: click.Context) -> None:
    """PinCEX Perf Lab: measure the exchange, judge it against its targets, plan its capacity."""
    provide(ctx, _StoreSource())  # type: ignore[arg-type]


cli.add_command(exchange)
cli.add_command(bench)
cli.add_command(demo)
cli.add_command(dashboard)
cli.add_command(runs)
cli.add_command(slo)
cli.add_command(diagnose)
cli.add_command(plan)
cli.add_command(regress)
cli.add_command(report)


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
    # Without standalone mode click returns the code a command exited with (ctx.exit(n)).
    sys.exit(code if isinstance(code, int) else 0)
