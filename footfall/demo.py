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
    if _footfall("edge", "check", "--site", site_file, "--frame", "90") != 0:
        return 1

    _step(f"edge → broker: the first {DEMO_FRAMES} frames of every camera through the edge node")
    spool = profile.run_dir / "spool"
    if _footfall(
        "edge", "run", "--site", site_file, "--node", "demo-node", "--sink", "kafka",
        "--bootstrap-servers", profile.bootstrap_servers, "--spool-dir", str(spool),
        "--fast", "--max-frames", str(DEMO_FRAMES),
    ) != 0:  # fmt: skip
        return 1

    _step("broker → cloud: ingest into TimescaleDB (stops once the topics are drained)")
    if _footfall(
        "cloud", "ingest", *env_args, "--site", site_file, "--idle-exit-s", "10",
    ) != 0:  # fmt: skip
        return 1

    _step("cloud: cross-camera stitching pass (one anonymous visitor id per person)")
    if _footfall(
        "cloud", "stitch", "--database-url", profile.database_url, "--site", site_file, "--once",
    ) != 0:  # fmt: skip
        return 1

    _step("what the cloud computed (all demo runs so far)")
    click.echo(_summary(profile.database_url))

    _step("where to look")
    click.echo(f"  stack status:   footfall stack status   (logs under {profile.log_dir})")
    click.echo(f"  database:       psql {profile.database_url}")
    click.echo(f"  broker:         {profile.bootstrap_servers} (Kafka protocol)")
    click.echo(
        f"  API:            footfall cloud apikey create --site {site.site.id} --database-url "
        f"{profile.database_url}"
    )
    click.echo(
        f"                  footfall cloud api --database-url {profile.database_url}  "
        "(then http://127.0.0.1:8080/docs)"
    )
    click.echo(
        f"  dashboard:      http://127.0.0.1:8080/dashboard/{site.site.id}/overview "
        "(sign in with that key)"
    )
    click.echo("  stop the stack: footfall stack down")
    return 0


DEMO_FRAMES = 100

_SUMMARY_SQL = """
SELECT 'line  ' || rpad(line_id, 24) || ' in ' || sum(ins) || ', out ' || sum(outs)
  FROM footfall_minute GROUP BY line_id
UNION ALL
SELECT 'zone  ' || rpad(zone_id, 24) || ' ' || count(*) || ' visits, mean dwell '
       || round(avg(dwell_s)::numeric, 1) || ' s'
  FROM zone_visit GROUP BY zone_id
UNION ALL
SELECT 'visitors ' || count(DISTINCT visitor_id) || ' (stitched across cameras, from '
       || count(*) || ' local tracks)'
  FROM tracklet_visitor WHERE mode = 'combined'
UNION ALL
SELECT 'frames ' || count(*) || ' from ' || count(DISTINCT camera_id) || ' cameras' FROM frame
"""


def _summary(database_url: str) -> str:
    result = subprocess.run(
        ["psql", "-X", "-q", "-t", "-A", database_url, "-c", _SUMMARY_SQL],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if result.returncode != 0:
        return f"  (could not read the results: {result.stderr.strip()})"
    return "\n".join(f"  {line}" for line in result.stdout.strip().splitlines())
