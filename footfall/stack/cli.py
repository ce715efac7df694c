"""``footfall stack up|down|status``: the local TimescaleDB and Kafka-protocol broker."""

from __future__ import annotations

import sys

import click

from footfall.errors import Group
from footfall.stack.profile import PROFILES, StackProfile, profile_for
from footfall.stack.services import ServiceStatus, stack_down, stack_status, stack_up

_profile_option = click.option(
    "--profile",
    type=click.Choice(PROFILES),
    default="demo",
    show_default=True,
    help="demo: broker data kept on disk; test: broker data in memory. Separate ports and data.",
)


def _print_status(profile: StackProfile, statuses: list[ServiceStatus]) -> bool:
    click.echo(f"stack '{profile.name}' in {profile.run_dir}")
    all_ok = True
    for status in statuses:
        state = "up" if status.healthy else ("not answering" if status.running else "stopped")
        all_ok = all_ok and status.healthy
        pid = f"pid {status.pid}" if status.pid else "no process"
        click.echo(f"  {status.name:<9} {state:<14} {status.address:<48} {pid}  log: {status.log}")
        if status.port_taken:
            click.echo(
                f"            {status.address} answers, but not as this stack (no process of "
                "its own): another program holds the port; stop it, or start this stack on "
                "other ports (footfall stack up --pg-port/--broker-port)"
            )
    return all_ok


@click.group(cls=Group)
def stack() -> None:
    """Local PostgreSQL+TimescaleDB and Kafka-protocol broker on loopback, under the checkout's
    .run (or FOOTFALL_RUN_DIR), wherever you run from."""


@stack.command()
@_profile_option
@click.option(
    "--pg-port",
    type=click.IntRange(1, 65535),
    help="PostgreSQL port (default: the one this stack last started with, else 55432 demo, "
    "55442 test); status and down use the ports up recorded.",
)
@click.option(
    "--broker-port",
    type=click.IntRange(1, 65535),
    help="Broker port (default: the one this stack last started with, else 19092 demo, "
    "19192 test).",
)
@click.option(
    "--s3-port",
    # SeaweedFS takes the port and the next 13, and its admin gRPC port 10004 above it.
    type=click.IntRange(1024, 65535 - 10004),
    help="First of the S3 store's ports (demo profile only; it also uses the next 13 and "
    "this + 10004).",
)
@click.option(
    "--timeout",
    "timeout_s",
    type=float,
    default=90.0,
    show_default=True,
    help="Seconds to wait for each service to answer.",
)
def up(
    profile: str,
    pg_port: int | None,
    broker_port: int | None,
    s3_port: int | None,
    timeout_s: float,
) -> None:
    """Start the stack's services (skips those already running) and wait until each answers."""
    prof = profile_for(
        profile, pg_port=pg_port, broker_port=broker_port, s3_port=s3_port, recorded=True
    )
    statuses = stack_up(prof, timeout_s=timeout_s)
    _print_status(prof, statuses)
    click.echo(f"  connection settings: {prof.env_file}")


@stack.command()
@_profile_option
def down(profile: str) -> None:
    """Stop the stack's services; data stays under the run directory."""
    prof = profile_for(profile, recorded=True)
    stopped = stack_down(prof)
    click.echo(f"stack '{prof.name}': stopped {', '.join(stopped) if stopped else 'nothing'}")


@stack.command()
@_profile_option
def status(profile: str) -> None:
    """Show each service, its address and log; exit 1 if any is not answering."""
    prof = profile_for(profile, recorded=True)
    if not _print_status(prof, stack_status(prof)):
        sys.exit(1)
