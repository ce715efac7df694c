"""``footfall cloud …`` commands."""

from __future__ import annotations

import logging
from datetime import datetime

import click

from cloud import settings
from cloud.api.database import DatabaseLimits
from cloud.db import connect, timescaledb_version
from cloud.settings import AnalyticsSettings, IngestSettings, RetentionSettings, StitchSettings
from cloud.transport.kafka import ensure_topics, list_topics
from footfall.contract import topics
from footfall.errors import Group
from footfall.site import Site, load_site

DB_OPTION = click.option("--database-url", help="PostgreSQL URL (env FOOTFALL_DATABASE_URL).")
BROKER_OPTION = click.option(
    "--bootstrap-servers", help="Broker host:port (env FOOTFALL_BOOTSTRAP_SERVERS)."
)
SITE_OPTION = click.option(
    "--site",
    "site_files",
    multiple=True,
    default=("configs/sites/demo.yaml",),
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Site config (repeat for several sites).",
)


def _analytics_options(f: click.decorators.FC) -> click.decorators.FC:
    d = AnalyticsSettings()
    for option in (
        click.option(
            "--line-hysteresis-m",
            default=d.line_hysteresis_m,
            show_default=True,
            type=click.FloatRange(0.0, 10.0),
            help="Counting-line hysteresis band, metres.",
        ),
        click.option(
            "--min-visit-s",
            default=d.min_visit_s,
            show_default=True,
            type=click.FloatRange(0.0),
            help="Shortest zone visit, seconds.",
        ),
        click.option(
            "--visit-gap-s",
            default=d.visit_gap_s,
            show_default=True,
            type=click.FloatRange(0.0),
            help="Longest absence inside one visit, seconds.",
        ),
        click.option(
            "--heatmap-cell-m",
            default=d.heatmap_cell_m,
            show_default=True,
            type=click.FloatRange(0.05, 100.0),
            help="Base heatmap cell, metres.",
        ),
    ):
        f = option(f)
    return f


def _analytics(kw: dict[str, float]) -> AnalyticsSettings:
    return AnalyticsSettings(
        line_hysteresis_m=kw["line_hysteresis_m"],
        min_visit_s=kw["min_visit_s"],
        visit_gap_s=kw["visit_gap_s"],
        heatmap_cell_m=kw["heatmap_cell_m"],
    )


def load_sites(files: tuple[str, ...]) -> list[Site]:
    sites = []
    for file in files:
        sites.append(load_site(file))
    return sites


@click.group(cls=Group)
def cloud() -> None:
    """Cloud service: ingest, stitching, analytics and the query API."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)  # its INFO is connection chatter


@cloud.command()
@DB_OPTION
@BROKER_OPTION
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
    with connect(url) as conn:
        version = timescaledb_version(conn)
    click.echo(f"database  ok  {url}  (TimescaleDB {version})")
    created = ensure_topics(servers) if create_topics else []
    present = list_topics(servers)
    ours = sorted(t for t in topics.ALL_TOPICS if t in present)
    click.echo(f"broker    ok  {servers}  (topics: {', '.join(ours) or 'none'})")
    if created:
        click.echo(f"          created {', '.join(created)}")


@cloud.command("migrate")
@DB_OPTION
def migrate_command(database_url: str | None) -> None:
    """Apply the database migrations this database lacks (ingest and api do it on start too)."""
    from cloud.migrate import current_version, migrate

    url = settings.database_url(database_url)
    with connect(url) as conn:
        applied = migrate(conn)
        version = current_version(conn)
    for m in applied:
        click.echo(f"applied {m.version:03d}_{m.name}")
    click.echo(f"schema version {version}")


@cloud.command()
@DB_OPTION
@BROKER_OPTION
@SITE_OPTION
@_analytics_options
@click.option("--group-id", default=IngestSettings.group_id, show_default=True)
@click.option("--topic-namespace", default="", help="Prefix of the topic names (tests, tenants).")
@click.option(
    "--batch-messages",
    default=IngestSettings.batch_messages,
    show_default=True,
    type=click.IntRange(1),
    help="Write a batch when it holds this many records.",
)
@click.option(
    "--batch-seconds",
    default=IngestSettings.batch_seconds,
    show_default=True,
    type=click.FloatRange(0.01),
    help="…or when its first record is this old.",
)
@click.option(
    "--analytics-interval-s",
    default=IngestSettings.analytics_interval_s,
    show_default=True,
    type=click.FloatRange(0.0),
    help="Derive crossings, visits and rollups at most this often.",
)
@click.option(
    "--max-future-skew-s",
    default=IngestSettings.max_future_skew_s,
    show_default=True,
    type=click.FloatRange(0.0),
    help="Dead-letter messages stamped further than this ahead of this host's clock.",
)
@click.option(
    "--retain-observations-days",
    default=RetentionSettings.observations_days,
    show_default=True,
    type=click.FloatRange(0.01),
)
@click.option(
    "--retain-embeddings-hours",
    default=RetentionSettings.embeddings_hours,
    show_default=True,
    type=click.FloatRange(0.01),
)
@click.option(
    "--retain-rollups-days",
    default=RetentionSettings.rollups_days,
    show_default=True,
    type=click.FloatRange(1.0),
)
@click.option(
    "--idle-exit-s",
    type=click.FloatRange(0.1),
    default=None,
    help="Stop after this long without records (tests, back-fills).",
)
def ingest(
    database_url: str | None,
    bootstrap_servers: str | None,
    site_files: tuple[str, ...],
    group_id: str,
    topic_namespace: str,
    batch_messages: int,
    batch_seconds: float,
    analytics_interval_s: float,
    max_future_skew_s: float,
    retain_observations_days: float,
    retain_embeddings_hours: float,
    retain_rollups_days: float,
    idle_exit_s: float | None,
    **analytics: float,
) -> None:
    """Consume the contract topics into TimescaleDB, exactly once; SIGTERM drains and commits."""
    from cloud.ingest.service import run_ingest

    sites = load_sites(site_files)
    run_ingest(
        settings.database_url(database_url),
        settings.bootstrap_servers(bootstrap_servers),
        sites,
        IngestSettings(
            group_id=group_id,
            topic_namespace=topic_namespace,
            batch_messages=batch_messages,
            batch_seconds=batch_seconds,
            analytics_interval_s=analytics_interval_s,
            max_future_skew_s=max_future_skew_s,
        ),
        _analytics(analytics),
        RetentionSettings(
            observations_days=retain_observations_days,
            embeddings_hours=retain_embeddings_hours,
            rollups_days=retain_rollups_days,
        ),
        idle_exit_s=idle_exit_s,
    )


@cloud.command()
@DB_OPTION
@SITE_OPTION
@_analytics_options
@click.option(
    "--from",
    "start",
    required=True,
    type=click.DateTime(),
    help="Start (site-local time unless it has an offset), e.g. 2026-11-01T00:00.",
)
@click.option("--to", "end", required=True, type=click.DateTime(), help="End (exclusive).")
def recompute(
    database_url: str | None,
    site_files: tuple[str, ...],
    start: datetime,
    end: datetime,
    **analytics: float,
) -> None:
    """Rebuild crossings, visits, rollups and heatmap of a time range from stored observations."""
    from zoneinfo import ZoneInfo

    from cloud.analytics.derive import recompute as run_recompute
    from cloud.migrate import migrate

    sites = load_sites(site_files)
    with connect(settings.database_url(database_url)) as conn:
        migrate(conn)
        for site in sites:
            tz = ZoneInfo(site.site.timezone)
            lo = start if start.tzinfo else start.replace(tzinfo=tz)
            hi = end if end.tzinfo else end.replace(tzinfo=tz)
            if hi <= lo:
                raise click.BadParameter("--to must be after --from", param_hint="--to")
            result = run_recompute(conn, site, _analytics(analytics), lo, hi)
            click.echo(
                f"{site.id}: re-derived {result.tracks} tracks "
                f"({result.crossings} crossings, {result.visits} visits) in {lo} .. {hi}"
            )


@cloud.group()
def apikey() -> None:
    """API keys (stored as sha256 hashes, each scoped to one site)."""


@apikey.command("create")
@DB_OPTION
@click.option("--site", "site_id", required=True, help="Site id the key may read.")
@click.option("--name", default="default", show_default=True, help="What the key is for.")
@click.option(
    "--site-config",
    "site_files",
    multiple=True,
    default=("configs/sites/demo.yaml",),
    show_default=True,
    type=click.Path(dir_okay=False),
    help="Config of the sites the API serves (repeat for several); --site must be one of them.",
)
def apikey_create(
    database_url: str | None, site_id: str, name: str, site_files: tuple[str, ...]
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from cloud.api.auth import create_key
    from cloud.migrate import migrate

    configured = sorted(s.id for s in load_sites(site_files))
    if site_id not in configured:
        raise click.ClickException(
            f"site {site_id!r} is not a configured site (configured in "
            f"{', '.join(site_files)}: {', '.join(configured)}); pass its config with "
            "--site-config FILE, or use one of those ids"
        )
    with connect(settings.database_url(database_url)) as conn:
        migrate(conn)
        click.echo(create_key(conn, site_id, name))


@cloud.command()
@DB_OPTION
@SITE_OPTION
@_analytics_options
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option(
    "--port", default=8080, show_default=True, type=click.IntRange(1, 65535), help="Port."
)
@click.option(
    "--pool-size",
    default=DatabaseLimits.pool_size,
    show_default=True,
    type=click.IntRange(1, 256),
    help="Database connections (and the worker threads that use them).",
)
@click.option(
    "--max-waiting",
    default=DatabaseLimits.max_waiting,
    show_default=True,
    type=click.IntRange(0),
    help="Requests that may wait for a connection; more are answered 503 at once.",
)
@click.option(
    "--wait-timeout-s",
    default=DatabaseLimits.wait_timeout_s,
    show_default=True,
    type=click.FloatRange(0.1, 300),
    help="A request that waited this long for a connection is answered 503.",
)
@click.option(
    "--stream-tick-s",
    default=1.0,
    show_default=True,
    type=click.FloatRange(0.1, 60),
    help="Live occupancy is computed once per site per tick for all open streams.",
)
@click.option(
    "--stream-lifetime-s",
    default=3600.0,
    show_default=True,
    type=click.FloatRange(1),
    help="A live stream ends after this long (dashboards reconnect).",
)
@click.option(
    "--failed-keys-per-minute",
    default=30,
    show_default=True,
    type=click.IntRange(1),
    help="Wrong keys one client address may send a minute before it gets 429.",
)
@BROKER_OPTION
@click.option(
    "--access-log/--no-access-log",
    default=False,
    show_default=True,
    help="Log every request (off: only start-up, warnings and errors).",
)
def api(
    database_url: str | None,
    site_files: tuple[str, ...],
    host: str,
    port: int,
    pool_size: int,
    max_waiting: int,
    wait_timeout_s: float,
    stream_tick_s: float,
    stream_lifetime_s: float,
    failed_keys_per_minute: int,
    bootstrap_servers: str | None,
    access_log: bool,
    **analytics: float,
) -> None:
    """Serve the query API (OpenAPI docs at /docs; /healthz and /readyz for load balancers)."""
    import socket

    import uvicorn

    with socket.socket() as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise click.ClickException(
                f"cannot listen on {host}:{port} ({exc.strerror}); another process (an API "
                "already running?) holds it: stop it or pick another --port"
            ) from None

    from cloud.api.app import ApiSettings, create_app

    app = create_app(
        ApiSettings(
            settings.database_url(database_url),
            load_sites(site_files),
            _analytics(analytics),
            limits=DatabaseLimits(pool_size, max_waiting, wait_timeout_s),
            stream_tick_s=stream_tick_s,
            stream_lifetime_s=stream_lifetime_s,
            failed_keys_per_minute=failed_keys_per_minute,
            bootstrap_servers=settings.bootstrap_servers(bootstrap_servers),
        )
    )
    from cloud.api.dashboard import missing_asset_message

    problem = missing_asset_message()
    click.echo(
        f"dashboard: {problem}"
        if problem
        else f"dashboard: http://{host}:{port}/dashboard/ (sign in with a key from "
        "footfall cloud apikey create)"
    )
    # Open live streams would hold a graceful shutdown forever: give them 5 s.
    uvicorn.run(
        app,
        host=host,
        port=port,
        log_level="info",
        access_log=access_log,
        timeout_graceful_shutdown=5,
    )


@cloud.command("stitch")
@DB_OPTION
@SITE_OPTION
@click.option(
    "--mode",
    "modes",
    multiple=True,
    type=click.Choice(["combined", "appearance", "spacetime"]),
    default=("combined",),
    show_default=True,
    help="Stitching mode (repeat for several; the API serves 'combined').",
)
@click.option(
    "--delay-s",
    default=StitchSettings.delay_s,
    show_default=True,
    type=click.FloatRange(0.0),
    help="Decide a tracklet this long after it ended ('now' is the newest stored end, "
    "never one over a minute ahead of this clock).",
)
@click.option(
    "--ttl-s",
    default=StitchSettings.ttl_s,
    show_default=True,
    type=click.FloatRange(1.0),
    help="Forget visitors not seen for this long (gallery memory bound).",
)
@click.option(
    "--interval-s",
    default=5.0,
    show_default=True,
    type=click.FloatRange(0.1),
    help="Seconds between passes.",
)
@click.option("--once", is_flag=True, help="One pass, then exit.")
def stitch_command(
    database_url: str | None,
    site_files: tuple[str, ...],
    modes: tuple[str, ...],
    delay_s: float,
    ttl_s: float,
    interval_s: float,
    once: bool,
) -> None:
    """Give every stored tracklet a site-wide anonymous visitor id; SIGTERM stops it."""
    import signal
    import threading

    from cloud.stitch.run import run_stitcher

    sites = load_sites(site_files)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run_stitcher(
        settings.database_url(database_url),
        sites,
        [StitchSettings(mode=m, delay_s=delay_s, ttl_s=ttl_s) for m in modes],
        interval_s,
        stop,
        once=once,
    )
