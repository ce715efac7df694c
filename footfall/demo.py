"""``make demo`` / ``footfall demo``: bring up the local stack and run the embedded demo site.

Each step is real and prints what it found. Steps for parts of the system that do not exist yet
are named as such rather than imitated.
"""

from __future__ import annotations

import subprocess
import sys

import click

from footfall.site import SiteConfigError, load_site
from footfall.stack import StackError, profile_for, stack_up


def _step(title: str) -> None:
    click.secho(f"\n== {title}", bold=True)


def _footfall(*args: str) -> int:
    """Run a ``footfall`` subcommand in a child process (each group loads its own extra)."""
    return subprocess.call([sys.executable, "-m", "footfall.cli", *args])


def run_demo(site_file: str) -> int:
    profile = profile_for("demo")
    _step(f"local stack '{profile.name}' (TimescaleDB + Kafka-protocol broker, loopback only)")
    try:
        for status in stack_up(profile):
            click.echo(
                f"  {status.name:<8} {'up' if status.healthy else 'DOWN':<5} {status.address}"
            )
    except StackError as exc:
        click.echo(f"  {exc}", err=True)
        return 1

    _step(f"site config {site_file}")
    try:
        site = load_site(site_file)
    except SiteConfigError as exc:
        click.echo(str(exc), err=True)
        return 1
    click.echo(
        f"  site '{site.site.id}': {len(site.floors)} floor(s), {len(site.cameras)} camera(s), "
        f"{len(site.zones)} zone(s), {len(site.lines)} counting line(s)"
    )

    _step("cloud: database and broker reachable, contract topics in place")
    env_args = [
        "--database-url",
        profile.database_url,
        "--bootstrap-servers",
        profile.bootstrap_servers,
    ]
    if _footfall("cloud", "check", *env_args) != 0:
        return 1

    _step("edge: detector weights and one frame of each camera's footage through YOLOv8")
    if _footfall("edge", "check", "--site", site_file, "--frame", "60") != 0:
        return 1

    _step("where to look")
    click.echo(f"  stack status:   footfall stack status   (logs under {profile.log_dir})")
    click.echo(f"  database:       psql {profile.database_url}")
    click.echo(f"  broker:         {profile.bootstrap_servers} (Kafka protocol)")
    click.echo(
        "  not built yet:  the continuous edge pipeline (issue 4) and cloud analytics (issue 5);"
    )
    click.echo("                  this demo runs what exists and fakes nothing.")
    click.echo("  stop the stack: footfall stack down")
    return 0
