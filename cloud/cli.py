"""``footfall cloud …`` commands."""

from __future__ import annotations

import click

from cloud import settings
from cloud.bus import BrokerError, ensure_topics, list_topics
from cloud.db import DatabaseError, connect, timescaledb_version
from footfall.contract import topics


@click.group()
def cloud() -> None:
    """Cloud service: ingest, stitching, analytics and the query API."""


@cloud.command()
@click.option("--database-url", help="PostgreSQL URL (env FOOTFALL_DATABASE_URL).")
@click.option("--bootstrap-servers", help="Broker host:port (env FOOTFALL_BOOTSTRAP_SERVERS).")
@click.option(
    "--create-topics/--no-create-topics",
    default=True,
    show_default=True,
    help="Create the contract's topics when they are missing.",
)
def check(database_url: str | None, bootstrap_servers: str | None, create_topics: bool) -> None:
    """Check that the database (with TimescaleDB) and the broker answer; set up topics."""
    url = settings.database_url(database_url)
    servers = settings.bootstrap_servers(bootstrap_servers)
    try:
        with connect(url) as conn:
            version = timescaledb_version(conn)
        click.echo(f"database  ok  {url}  (TimescaleDB {version})")
        created = ensure_topics(servers) if create_topics else []
        present = list_topics(servers)
    except (DatabaseError, BrokerError) as exc:
        raise click.ClickException(str(exc)) from None
    ours = sorted(t for t in topics.ALL_TOPICS if t in present)
    click.echo(f"broker    ok  {servers}  (topics: {', '.join(ours) or 'none'})")
    if created:
        click.echo(f"          created {', '.join(created)}")
