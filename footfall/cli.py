"""The ``footfall`` command line: one program, a group of subcommands per part of the system.

``footfall edge …`` and ``footfall cloud …`` are loaded only when used, after checking that their
extra is installed, so the base install stays light and a missing extra gets one clear sentence.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click

from footfall.deepstream.cli import deepstream
from footfall.errors import Group
from footfall.evaluation.cli import eval_command
from footfall.extras import missing_extra_message, missing_modules
from footfall.simulate_cli import simulate
from footfall.site.cli import site_group, validate_config
from footfall.stack.cli import stack


class ExtraGroup(Group):
    """A command group that lives in an optional extra; imported on first use."""

    def __init__(self, *args: Any, extra: str, target: str, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.extra = extra
        self.target = target

    def _load(self) -> click.Group:
        missing = missing_modules(self.extra)
        if missing:
            raise click.ClickException(missing_extra_message(self.extra, missing))
        module_name, _, attr = self.target.partition(":")
        group = getattr(importlib.import_module(module_name), attr)
        assert isinstance(group, click.Group)
        return group

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        self._load()  # fails with the install hint before anything else, --help included
        return super().parse_args(ctx, args)

    def invoke(self, ctx: click.Context) -> Any:
        # The loaded group's own callback (e.g. logging set-up) runs before its subcommand.
        callback = self._load().callback
        if callback is not None:
            ctx.invoke(callback)
        return super().invoke(ctx)

    def list_commands(self, ctx: click.Context) -> list[str]:
        return self._load().list_commands(ctx)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        return self._load().get_command(ctx, cmd_name)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="footfall")
def main() -> None:
    """footfall: multi-camera footfall analytics for shopping malls."""
    # Every command's user errors (footfall.errors.UserError) are reported by ``Group``: one
    # sentence, exit 1; anything else keeps its traceback.


main.add_command(
    ExtraGroup(
        name="edge",
        extra="edge",
        target="edge.cli:edge",
        help="Edge node: footage → detection → tracking → floor positions → Kafka.",
    )
)
main.add_command(
    ExtraGroup(
        name="cloud",
        extra="cloud",
        target="cloud.cli:cloud",
        help="Cloud service: ingest, stitching, analytics and the query API.",
    )
)
main.add_command(stack)
main.add_command(eval_command)
main.add_command(validate_config, name="validate-config")
main.add_command(site_group)
main.add_command(simulate)
main.add_command(deepstream)


@main.command()
@click.option(
    "--site",
    "site_file",
    default="configs/sites/demo.yaml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Site config whose cameras' real footage the demo runs.",
)
@click.option(
    "--frames",
    default=100,
    show_default=True,
    type=click.IntRange(2),
    help="Frames of each camera's footage through the edge.",
)
@click.option(
    "--serve/--no-serve",
    default=True,
    show_default=True,
    help="After the summary, keep the cloud running with a simulated mall fed live and print "
    "the dashboard's sign-in address (until Ctrl-C); --no-serve returns at once (scripts).",
)
@click.option(
    "--port",
    default=8080,
    show_default=True,
    type=click.IntRange(1, 65535),
    help="Port of the API and dashboard (with --serve).",
)
@click.option(
    "--mall-site",
    "mall_file",
    default="configs/sites/two_floor_mall.yaml",
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Site config of the simulated mall fed live (ingested with --no-serve too).",
)
def demo(site_file: str, frames: int, serve: bool, port: int, mall_file: str) -> None:
    """Run real footage end to end, print its counts next to the ground truth, then serve a
    living dashboard (a simulated mall fed on this clock) until Ctrl-C."""
    from footfall.demo import run_demo

    source = click.get_current_context().get_parameter_source("port")
    if not serve and source is click.core.ParameterSource.COMMANDLINE:
        raise click.UsageError("--port works only with --serve; leave out --no-serve or --port")
    try:
        code = run_demo(site_file, frames=frames, serve=serve, port=port, mall_file=mall_file)
    except KeyboardInterrupt:
        click.echo(
            "\ndemo stopped (Ctrl-C or SIGTERM) before it was serving; the stack keeps running."
        )
        code = 130
    sys.exit(code)


if __name__ == "__main__":
    main()
