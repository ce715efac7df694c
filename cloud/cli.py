"""``footfall cloud …`` commands."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Final

import click
from pydantic_settings import BaseSettings

from cloud import settings
from cloud.api.database import DatabaseLimits
from cloud.db import connect, timescaledb_version
from cloud.deepstream.cli import deepstream_bridge
from cloud.settings import (
    AnalyticsSettings,
    IngestSettings,
    RetentionSettings,
    StitchSettings,
    overriding,
)
from cloud.transport.kafka import client_errors_on_one_line, ensure_topics, list_topics, topic_name
from footfall.broker_security import BrokerSecurity
from footfall.contract import topics
from footfall.errors import Group
from footfall.site import Site
from footfall.site.folder import SITES_DIR_ENV, SitesWatch
from footfall.site.folder import load_sites as load_site_configs
from footfall.site.folder import sites_dir as resolve_sites_dir

DB_OPTION = click.option("--database-url", help="PostgreSQL URL (env FOOTFALL_DATABASE_URL).")
BROKER_OPTION = click.option(
    "--bootstrap-servers", help="Broker host:port (env FOOTFALL_BOOTSTRAP_SERVERS)."
)
SITE_OPTION = click.option(
    "--site",
    "site_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Site config file (repeat for several sites); given, only these sites, not the sites "
    "folder's.",
)
SITES_DIR_OPTION = click.option(
    "--sites-dir",
    type=click.Path(file_okay=False),
    help="Folder of site configs (*.yaml): every site in it, unless --site names files "
    f"[default: this checkout's configs/sites, wherever you run from; env {SITES_DIR_ENV}].",
)


def site_options(f: click.decorators.FC) -> click.decorators.FC:
    """``--site FILE`` (repeatable) and ``--sites-dir DIR``."""
    return SITE_OPTION(SITES_DIR_OPTION(f))


def _setting(
    model: type[BaseSettings], name: str, *decls: str, **kw: Any
) -> Callable[[click.decorators.FC], click.decorators.FC]:
    """An option that overrides setting ``name`` of ``model`` (its default and environment
    variable in the help; left out, the environment or the default applies)."""
    env = f"{model.model_config.get('env_prefix', '')}{name.upper()}"
    text = kw.pop("help", "")
    hint = f"[default: {settings.default(model, name)}; env {env}]"
    return click.option(*decls, name, default=None, help=f"{text} {hint}".strip(), **kw)


class IsoDateTime(click.ParamType[datetime]):
    """An ISO 8601 date or date-time, with or without an offset (``Z`` too); naive is site-local."""

    name = "datetime"

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        try:
            return datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" else text)
        except ValueError:
            self.fail(
                f"{value!r} is not an ISO 8601 time; use e.g. 2026-12-01T00:00 (site-local), "
                "2026-12-01T00:00+01:00 or 2026-12-01T00:00Z",
                param,
                ctx,
            )


def load_sites(files: tuple[str, ...], folder: str | None = None) -> list[Site]:
    """The sites of ``files``, else those of the sites folder (see
    :func:`footfall.site.folder.sites_dir`)."""
    return load_site_configs(files, folder)


def sites_watch(files: tuple[str, ...], folder: str | None = None) -> SitesWatch:
    """What a long-running command re-reads: the files given, else the sites folder; read
    once, so call it before loading the sites (a file written in between is not missed)."""
    watch = (
        SitesWatch(files=tuple(Path(f) for f in files))
        if files
        else SitesWatch(folder=resolve_sites_dir(folder))
    )
    watch.changes()
    return watch


@click.group(cls=Group)
def cloud() -> None:
    """Cloud service: ingest, stitching, analytics and the query API."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s %(message)s")
    logging.getLogger("kafka").setLevel(logging.WARNING)  # its INFO is connection chatter
    client_errors_on_one_line()  # a dropped connection is one line, not a traceback


@cloud.command()
@DB_OPTION
@BROKER_OPTION
@click.option(
    "--create-topics/--no-create-topics",
    default=True,
    show_default=True,
    help="Create the contract's topics when they are missing.",
)
@click.option(
    "--topic-namespace",
    default="",
    help="Prefix of the topic names, as given to ingest and the edge (tests, tenants).",
)
def check(
    database_url: str | None,
    bootstrap_servers: str | None,
    create_topics: bool,
    topic_namespace: str,
) -> None:
    """Check that the database (with TimescaleDB) and the broker answer; set up topics."""
    url = settings.database_url(database_url)
    servers = settings.bootstrap_servers(bootstrap_servers)
    with connect(url) as conn:
        version = timescaledb_version(conn)
    click.echo(f"database  ok  {url}  (TimescaleDB {version})")
    created = ensure_topics(servers, namespace=topic_namespace) if create_topics else []
    present = list_topics(servers)
    names = [topic_name(t, topic_namespace) for t in topics.ALL_TOPICS]
    ours = sorted(t for t in names if t in present)
    over = BrokerSecurity.from_env()
    how = "" if over.security_protocol == "PLAINTEXT" else f"{over.describe()}; "
    click.echo(f"broker    ok  {servers}  ({how}topics: {', '.join(ours) or 'none'})")
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
@site_options
@_setting(IngestSettings, "group_id", "--group-id", help="Kafka consumer group.")
@_setting(
    IngestSettings,
    "topic_namespace",
    "--topic-namespace",
    help="Prefix of the topic names (tests, tenants).",
)
@_setting(
    IngestSettings,
    "batch_messages",
    "--batch-messages",
    type=click.IntRange(1),
    help="Write a batch when it holds this many records.",
)
@_setting(
    IngestSettings,
    "batch_seconds",
    "--batch-seconds",
    type=click.FloatRange(0.01),
    help="…or when its first record is this old.",
)
@_setting(
    IngestSettings,
    "analytics_interval_s",
    "--analytics-interval-s",
    type=click.FloatRange(0.0),
    help="Derive crossings, visits and rollups at most this often.",
)
@_setting(
    IngestSettings,
    "max_future_skew_s",
    "--max-future-skew-s",
    type=click.FloatRange(0.0),
    help="Dead-letter messages stamped further than this ahead of this host's clock.",
)
@_setting(
    IngestSettings,
    "sites_rescan_s",
    "--sites-rescan-s",
    type=click.FloatRange(0.1),
    help="Read the site configs again this often (a site file added later is taken up, and "
    "the records held for it ingested).",
)
@_setting(
    RetentionSettings,
    "observations_days",
    "--retain-observations-days",
    type=click.FloatRange(0.01),
)
@_setting(
    RetentionSettings, "embeddings_hours", "--retain-embeddings-hours", type=click.FloatRange(0.01)
)
@_setting(RetentionSettings, "rollups_days", "--retain-rollups-days", type=click.FloatRange(1.0))
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
    sites_dir: str | None,
    group_id: str | None,
    topic_namespace: str | None,
    batch_messages: int | None,
    batch_seconds: float | None,
    analytics_interval_s: float | None,
    max_future_skew_s: float | None,
    sites_rescan_s: float | None,
    observations_days: float | None,
    embeddings_hours: float | None,
    rollups_days: float | None,
    idle_exit_s: float | None,
) -> None:
    """Consume the contract topics into TimescaleDB, exactly once; SIGTERM drains and commits.

    Crossings, visits and heatmap cells follow each site config's counting: section, recorded
    with the data: a site whose stored data was derived with other rules is refused. Records of
    a site or camera without a config are held, never dropped, and ingested once its config
    appears (the configs are read again every --sites-rescan-s)."""
    from cloud.ingest.service import run_ingest

    watch = sites_watch(site_files, sites_dir)
    sites = load_sites(site_files, sites_dir)
    run_ingest(
        settings.database_url(database_url),
        settings.bootstrap_servers(bootstrap_servers),
        sites,
        overriding(
            IngestSettings,
            group_id=group_id,
            topic_namespace=topic_namespace,
            batch_messages=batch_messages,
            batch_seconds=batch_seconds,
            analytics_interval_s=analytics_interval_s,
            max_future_skew_s=max_future_skew_s,
            sites_rescan_s=sites_rescan_s,
        ),
        overriding(
            RetentionSettings,
            observations_days=observations_days,
            embeddings_hours=embeddings_hours,
            rollups_days=rollups_days,
        ),
        idle_exit_s=idle_exit_s,
        watch=watch,
    )


@cloud.command()
@DB_OPTION
@site_options
@click.option(
    "--from",
    "start",
    type=IsoDateTime(),
    help="Start, ISO 8601: site-local unless it has an offset, e.g. 2026-12-01T00:00, "
    "2026-12-01T00:00+01:00 or 2026-12-01T00:00Z (with --adopt-rules: default the first "
    "stored track).",
)
@click.option(
    "--to",
    "end",
    type=IsoDateTime(),
    help="End, exclusive, like --from (with --adopt-rules: default after the last stored track).",
)
@click.option(
    "--adopt-rules",
    is_flag=True,
    help="The site config's counting: section changed: re-derive all the site's stored data "
    "with it and record it as the site's rules (restart ingest and the API afterwards).",
)
def recompute(
    database_url: str | None,
    site_files: tuple[str, ...],
    sites_dir: str | None,
    start: datetime | None,
    end: datetime | None,
    adopt_rules: bool,
) -> None:
    """Rebuild crossings, visits, rollups and heatmap of a time range from stored observations,
    with each site config's counting: rules (refused when they differ from those of the stored
    data, unless --adopt-rules re-derives all of it)."""
    from zoneinfo import ZoneInfo

    from cloud.analytics import rules
    from cloud.analytics.derive import recompute as run_recompute
    from cloud.analytics.derive import stored_span
    from cloud.migrate import migrate

    if not adopt_rules and (start is None or end is None):
        raise click.UsageError("--from and --to are required (or --adopt-rules for all data)")
    sites = load_sites(site_files, sites_dir)
    with connect(settings.database_url(database_url)) as conn:
        migrate(conn)
        for site in sites:
            if not adopt_rules:
                rules.agree_rules(conn, site)
            span = stored_span(conn, site.id)
            if span is None and (start is None or end is None):
                rules.adopt_rules(conn, site)
                conn.commit()
                click.echo(f"{site.id}: no stored tracks; recorded {rules.describe(site.counting)}")
                continue
            tz = ZoneInfo(site.site.timezone)
            lo, hi = (span[0], span[1]) if span is not None else (start, end)
            if start is not None:
                lo = start if start.tzinfo else start.replace(tzinfo=tz)
            if end is not None:
                hi = end if end.tzinfo else end.replace(tzinfo=tz)
            assert lo is not None and hi is not None
            if hi <= lo:
                raise click.BadParameter("--to must be after --from", param_hint="--to")
            if adopt_rules and span is not None and (lo > span[0] or hi < span[1]):
                raise click.UsageError(
                    f"--adopt-rules re-derives all of site {site.id!r}'s stored data, "
                    f"{span[0].isoformat()} .. {span[1].isoformat()}: leave out --from and --to "
                    "or cover that range"
                )
            result = run_recompute(conn, site, lo, hi)
            if adopt_rules:
                rules.adopt_rules(conn, site)
                conn.commit()
            click.echo(
                f"{site.id}: re-derived {result.tracks} tracks "
                f"({result.crossings} crossings, {result.visits} visits) in {lo} .. {hi}"
                + (f"; recorded {rules.describe(site.counting)}" if adopt_rules else "")
            )


@cloud.group()
def apikey() -> None:
    """API keys (stored as sha256 hashes; each reads one or more sites; revocable)."""


class Expiry(click.ParamType[datetime]):
    """When a key stops working: a duration from now (``90m``, ``12h``, ``30d``, ``8w``), a date
    (``2027-01-31``: from 00:00 UTC that day) or an ISO 8601 time with an offset."""

    name = "expiry"
    UNITS: Final = {"m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}

    def convert(
        self, value: Any, param: click.Parameter | None, ctx: click.Context | None
    ) -> datetime:
        if isinstance(value, datetime):
            return value
        text = str(value).strip()
        now = datetime.now(UTC)
        when: datetime | None = None
        if text[:-1].isdigit() and text[-1:] in self.UNITS:
            when = now + timedelta(seconds=int(text[:-1]) * self.UNITS[text[-1]])
        else:
            try:
                when = datetime.fromisoformat(text[:-1] + "+00:00" if text[-1:] in "zZ" else text)
            except ValueError:
                when = None
            if when is not None and when.tzinfo is None:
                when = when.replace(tzinfo=UTC) if len(text) == 10 else None
        if when is None:
            self.fail(
                f"{value!r} is not an expiry; use a duration (90m, 12h, 30d, 8w), a date "
                "(2027-01-31, from 00:00 UTC) or a time with its offset (2027-01-31T18:00+01:00)",
                param,
                ctx,
            )
        if when <= now:
            self.fail(f"{value!r} is in the past; give a later time or a duration", param, ctx)
        return when


@apikey.command("create")
@DB_OPTION
@click.option(
    "--site",
    "site_ids",
    required=True,
    multiple=True,
    help="Site id the key may read (repeat for a key of several sites).",
)
@click.option("--name", default="default", show_default=True, help="What the key is for.")
@click.option(
    "--expires",
    type=Expiry(),
    help="When the key stops working: 30d, 12h, 2027-01-31 (00:00 UTC) or an ISO time with "
    "offset [default: never].",
)
@click.option(
    "--site-config",
    "site_files",
    multiple=True,
    type=click.Path(dir_okay=False),
    help="Config of the sites the API serves (repeat for several; default: the sites folder's); "
    "each --site must be one of them.",
)
@SITES_DIR_OPTION
def apikey_create(
    database_url: str | None,
    site_ids: tuple[str, ...],
    name: str,
    expires: datetime | None,
    site_files: tuple[str, ...],
    sites_dir: str | None,
) -> None:
    """Create a key and print it once (only its hash is stored)."""
    from cloud.api.auth import create_key
    from cloud.migrate import migrate

    configured = sorted(s.id for s in load_sites(site_files, sites_dir))
    unknown = [s for s in site_ids if s not in configured]
    if unknown:
        where = (
            ", ".join(site_files)
            if site_files
            else f"the sites folder {resolve_sites_dir(sites_dir)}"
        )
        raise click.ClickException(
            f"site {unknown[0]!r} is not a configured site (configured in {where}: "
            f"{', '.join(configured)}); pass its config with --site-config FILE (or its folder "
            "with --sites-dir), or use one of those ids"
        )
    with connect(settings.database_url(database_url)) as conn:
        migrate(conn)
        click.echo(create_key(conn, site_ids, name, expires))


def _when(at: datetime | None) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if at is not None else "-"


@apikey.command("list")
@DB_OPTION
@click.option("--site", "site_id", help="Only the keys that may read this site.")
@click.option("--json", "as_json", is_flag=True, help="One JSON object per key, one a line.")
def apikey_list(database_url: str | None, site_id: str | None, as_json: bool) -> None:
    """List the keys: id, state (active, expired, revoked), sites, name, created, expires."""
    import json

    from cloud.api.auth import list_keys
    from cloud.migrate import migrate

    with connect(settings.database_url(database_url)) as conn:
        migrate(conn)
        keys = list_keys(conn, site_id)
    now = datetime.now(UTC)
    if as_json:
        for k in keys:
            click.echo(
                json.dumps(
                    {
                        "id": k.id,
                        "state": k.state(now),
                        "sites": list(k.sites),
                        "name": k.name,
                        "created_at": k.created_at.isoformat(),
                        "expires_at": k.expires_at.isoformat() if k.expires_at else None,
                        "revoked_at": k.revoked_at.isoformat() if k.revoked_at else None,
                    }
                )
            )
        return
    if not keys:
        click.echo("no API keys" + (f" for site {site_id}" if site_id else ""))
        return
    rows = [
        (k.id, k.state(now), ",".join(k.sites), k.name, _when(k.created_at), _when(k.expires_at))
        for k in keys
    ]
    head = ("ID", "STATE", "SITES", "NAME", "CREATED", "EXPIRES")
    widths = [max(len(r[i]) for r in [head, *rows]) for i in range(len(head) - 1)]
    for row in [head, *rows]:
        click.echo(
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=False)) + "  " + row[-1]
        )


@apikey.command("revoke")
@DB_OPTION
@click.argument("key")
def apikey_revoke(database_url: str | None, key: str) -> None:
    """Revoke KEY (its id from `apikey list`, or the token): refused at once by every API."""
    from cloud.api.auth import KeyNotFound, revoke_key
    from cloud.migrate import migrate

    with connect(settings.database_url(database_url)) as conn:
        migrate(conn)
        try:
            found = revoke_key(conn, key)
        except KeyNotFound as exc:
            raise click.ClickException(
                f"{exc}; see the ids with footfall cloud apikey list (or give the whole token)"
            ) from None
    click.echo(
        f"revoked {found.id} ({found.name}; sites {', '.join(found.sites)}) at "
        f"{_when(found.revoked_at)}"
    )


@cloud.command()
@DB_OPTION
@site_options
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
@_setting(
    AnalyticsSettings,
    "sites_rescan_s",
    "--sites-rescan-s",
    type=click.FloatRange(0.1),
    help="Read the sites folder again this often (a site file added or changed later is served).",
)
def api(
    database_url: str | None,
    site_files: tuple[str, ...],
    sites_dir: str | None,
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
    sites_rescan_s: float | None,
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

    from cloud.analytics.rules import agree_rules
    from cloud.api.app import ApiSettings, create_app
    from cloud.migrate import migrate

    url = settings.database_url(database_url)
    watch = sites_watch(site_files, sites_dir)
    sites = load_sites(site_files, sites_dir)
    with connect(url) as conn:  # refuse before serving numbers made with other rules
        migrate(conn)
        for site in sites:
            agree_rules(conn, site)
    app = create_app(
        ApiSettings(
            url,
            sites,
            overriding(AnalyticsSettings, sites_rescan_s=sites_rescan_s),
            limits=DatabaseLimits(pool_size, max_waiting, wait_timeout_s),
            stream_tick_s=stream_tick_s,
            stream_lifetime_s=stream_lifetime_s,
            failed_keys_per_minute=failed_keys_per_minute,
            bootstrap_servers=settings.bootstrap_servers(bootstrap_servers),
            watch=watch,
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
@site_options
@click.option(
    "--mode",
    "modes",
    multiple=True,
    type=click.Choice(["combined", "appearance", "spacetime"]),
    default=("combined",),
    show_default=True,
    help="Stitching mode (repeat for several; the API serves 'combined').",
)
@_setting(
    StitchSettings,
    "delay_s",
    "--delay-s",
    type=click.FloatRange(0.0),
    help="Decide a tracklet this long after it ended ('now' is the newest stored end, "
    "never one over a minute ahead of this clock).",
)
@_setting(
    StitchSettings,
    "ttl_s",
    "--ttl-s",
    type=click.FloatRange(1.0),
    help="Forget visitors not seen for this long (gallery memory bound).",
)
@_setting(
    StitchSettings,
    "sites_rescan_s",
    "--sites-rescan-s",
    type=click.FloatRange(0.1),
    help="Read the sites folder again this often (a site file added or changed later is stitched).",
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
    sites_dir: str | None,
    modes: tuple[str, ...],
    delay_s: float | None,
    ttl_s: float | None,
    sites_rescan_s: float | None,
    interval_s: float,
    once: bool,
) -> None:
    """Give every stored tracklet a site-wide anonymous visitor id; SIGTERM stops it."""
    import signal
    import threading

    from cloud.stitch.run import run_stitcher

    watch = None if once else sites_watch(site_files, sites_dir)
    sites = load_sites(site_files, sites_dir)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run_stitcher(
        settings.database_url(database_url),
        sites,
        [overriding(StitchSettings, mode=m, delay_s=delay_s, ttl_s=ttl_s) for m in modes],
        interval_s,
        stop,
        once=once,
        watch=watch,
        rescan_s=overriding(StitchSettings, sites_rescan_s=sites_rescan_s).sites_rescan_s,
    )


@cloud.command("alerts")
@DB_OPTION
@site_options
@click.option(
    "--interval-s",
    type=click.FloatRange(0.1),
    default=None,
    help="Seconds between passes [default: 15; env FOOTFALL_ALERTS_INTERVAL_S].",
)
@click.option("--once", is_flag=True, help="One pass (evaluate, deliver what is due), then exit.")
def alerts_command(
    database_url: str | None,
    site_files: tuple[str, ...],
    sites_dir: str | None,
    interval_s: float | None,
    once: bool,
) -> None:
    """Evaluate each site's alert rules, store fired and cleared alerts and send them to the
    site's webhooks (signed, retried until delivered); SIGTERM stops it."""
    import signal
    import threading

    from cloud.alerts.run import AlertSettings, run_alerts

    sites = load_sites(site_files, sites_dir)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    run_alerts(
        settings.database_url(database_url),
        sites,
        overriding(AlertSettings, interval_s=interval_s),
        stop,
        once=once,
    )


cloud.add_command(deepstream_bridge)
