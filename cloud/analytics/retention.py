"""Retention without TimescaleDB policies: the service calls drop_chunks on a schedule.

Every table that holds per-person data is in :data:`HYPERTABLES` or :data:`PLAIN_TABLES`, each
with the window of :class:`~cloud.settings.RetentionSettings` that bounds it; the tables that
hold none are listed, with the reason, in :data:`NO_PERSONAL_DATA` (a test fails on a table in
neither). Time comes from the service's clock, bounded by the data: rows dated more than
``future_tolerance_s`` after it cannot be real (a wrong edge clock, or hostile input) and are
deleted by every pass, so no row outlives its window by more than that tolerance.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Final, Literal

import psycopg
from psycopg import sql

from cloud.analytics.sealed import seal
from cloud.settings import RetentionSettings
from footfall.site import Site

Conn = psycopg.Connection[tuple[object, ...]]
Window = Literal["raw", "embeddings", "rollups"]

log = logging.getLogger("footfall.cloud.retention")

RAW_TABLES = ("observation", "frame", "heartbeat", "tracklet_start", "tracklet_end")
DERIVED_TABLES = ("line_crossing", "zone_visit", "tracklet_visitor", "staff_track")
"""Per-person rows derived from raw ones (crossings, visits, stitched visitor ids, staff
tracks): they share the raw retention, as they cannot be rebuilt without the raw rows."""
ROLLUP_TABLES = (
    "footfall_minute",
    "occupancy_minute",
    "heatmap_minute",
    # written from the raw rows before they are dropped (cloud.analytics.sealed)
    "zone_visitors_day",
    "zone_visit_hour",
    "staff_footfall_minute",
)

HYPERTABLES: Final[dict[str, Window]] = {
    **dict.fromkeys(RAW_TABLES + DERIVED_TABLES, "raw"),
    "embedding": "embeddings",
    **dict.fromkeys(ROLLUP_TABLES, "rollups"),
}
"""Hypertable -> its retention window; chunks are dropped by the table's time dimension."""

PLAIN_TABLES: Final[dict[str, str]] = {
    # Local tracks (first and last seen) and their incremental-derivation state: as long as
    # the observations they describe. Dropping a state whose watermark is older only means the
    # track's next derivation is whole (from the observations retention kept).
    "track": "last_at",
    "track_state": "watermark",
    # Records held until their site's config arrives: aged by the message's own time, as the
    # raw rows they would become.
    "held_record": "at",
    # Stitched visitor ids merged into another (which anonymous ids are one person): as long
    # as the tracklets they join, cut by when the visitors were last seen.
    "visitor_alias": "seen_at",
}
"""Ordinary tables with per-person rows -> the time column cut at the raw window."""

NO_PERSONAL_DATA: Final[dict[str, str]] = {
    "api_key": "sha256 hashes of API keys, a name, when each expires or was revoked",
    "api_key_site": "the sites each API key may read",
    "alert": "alerts fired and cleared on a zone, an entrance or a camera, with the figure",
    "pos_transaction": "transactions per store and interval from the tills (counts, no buyers)",
    "webhook_outbox": "alert notifications queued for and sent to the site's webhooks",
    "schema_version": "which migrations ran, and when",
    "site_rules": "the counting rules each site's derived rows were made with",
    "rollup_sealed": "which days of each site the rollups kept past the raw window hold",
}
"""Tables that hold nothing about a person, so retention leaves them alone."""


@dataclass(frozen=True)
class RetentionCutoffs:
    raw: datetime
    embeddings: datetime
    rollups: datetime
    future: datetime
    """Rows dated after this cannot be real."""

    def of(self, window: Window) -> datetime:
        cut: datetime = getattr(self, window)
        return cut


def cutoffs(settings: RetentionSettings, now: datetime) -> RetentionCutoffs:
    return RetentionCutoffs(
        raw=now - timedelta(days=settings.observations_days),
        embeddings=now - timedelta(hours=settings.embeddings_hours),
        rollups=now - timedelta(days=settings.rollups_days),
        future=now + timedelta(seconds=settings.future_tolerance_s),
    )


def _time_columns(conn: Conn) -> dict[str, str]:
    """Each hypertable's time dimension (the column its chunks are cut by)."""
    rows = conn.execute(
        "SELECT hypertable_name, column_name FROM timescaledb_information.dimensions "
        "WHERE hypertable_schema = current_schema() AND dimension_number = 1"
    ).fetchall()
    return {str(table): str(column) for table, column in rows}


_DROP_OLDER = "SELECT drop_chunks(%s::regclass, older_than => %s)"
_DROP_NEWER = "SELECT drop_chunks(%s::regclass, newer_than => %s)"


def _count(conn: Conn, query: str, params: tuple[object, ...]) -> int:
    return len(conn.execute(query, params).fetchall())


def _delete_after(conn: Conn, table: str, column: str, after: datetime) -> int:
    # A literal bound, so that only the chunks that may hold such rows are scanned.
    query = sql.SQL("DELETE FROM {} WHERE {} > {}").format(
        sql.Identifier(table), sql.Identifier(column), sql.Literal(after)
    )
    return conn.execute(query).rowcount


def enforce_retention(
    conn: Conn, settings: RetentionSettings, now: datetime, sites: Sequence[Site] = ()
) -> int:
    """Seal the rollups of ``sites`` (:func:`cloud.analytics.sealed.seal`: the site-local days
    whose raw rows may be dropped now are rolled up first), then drop chunks older than each
    table's retention and delete rows dated after ``now + future_tolerance_s``; returns the
    number of chunks dropped (old or future). A site not in ``sites`` has its raw rows dropped
    without those rollups.

    ``now`` is the service's clock, never the newest stored row: one row dated in 2099 must
    neither escape retention nor hold the others back.
    """
    cut = cutoffs(settings, now)
    dropped = future_chunks = future_rows = 0
    # Everything inside the transaction: on a connection that is not in autocommit mode, a query
    # before it would open an implicit transaction that ``transaction()`` only nests in (a
    # savepoint), so nothing would commit and the deletes' locks would block ingest's writer.
    with conn.transaction():
        for site in sites:  # before anything is dropped, in the same transaction
            seal(conn, site, cut.raw)
        columns = _time_columns(conn)
        for table, window in HYPERTABLES.items():
            dropped += _count(conn, _DROP_OLDER, (table, cut.of(window)))
            # Chunks wholly in the future, then the future rows of the chunk holding the bound.
            future_chunks += _count(conn, _DROP_NEWER, (table, cut.future))
            future_rows += _delete_after(conn, table, columns[table], cut.future)
        for table, column in PLAIN_TABLES.items():
            conn.execute(
                sql.SQL("DELETE FROM {} WHERE {} < %s").format(
                    sql.Identifier(table), sql.Identifier(column)
                ),
                (cut.raw,),
            )
            future_rows += _delete_after(conn, table, column, cut.future)
    if future_chunks or future_rows:
        log.warning(
            "retention deleted %d chunks and %d rows dated after %s (more than %g s ahead of "
            "this clock): check the edge nodes' clocks",
            future_chunks,
            future_rows,
            cut.future.isoformat(),
            settings.future_tolerance_s,
        )
    return dropped + future_chunks
