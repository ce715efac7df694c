"""Retention without TimescaleDB policies: the service calls drop_chunks on a schedule."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from cloud.settings import RetentionSettings

Conn = psycopg.Connection[tuple[object, ...]]

RAW_TABLES = ("observation", "frame", "heartbeat", "tracklet_start", "tracklet_end")
DERIVED_TABLES = ("line_crossing", "zone_visit")
ROLLUP_TABLES = ("footfall_minute", "occupancy_minute", "heatmap_minute")


@dataclass(frozen=True)
class RetentionCutoffs:
    raw: datetime
    embeddings: datetime
    rollups: datetime


def cutoffs(settings: RetentionSettings, now: datetime) -> RetentionCutoffs:
    return RetentionCutoffs(
        raw=now - timedelta(days=settings.observations_days),
        embeddings=now - timedelta(hours=settings.embeddings_hours),
        rollups=now - timedelta(days=settings.rollups_days),
    )


def enforce_retention(conn: Conn, settings: RetentionSettings, now: datetime) -> int:
    """Drop chunks older than each table's retention; returns the number of chunks dropped.

    Raw observations and the crossings and visits derived from them share one retention (the
    derived rows cannot be rebuilt without them); rollups are kept much longer.
    """
    cut = cutoffs(settings, now)
    plan = [(t, cut.raw) for t in RAW_TABLES + DERIVED_TABLES]
    plan += [("embedding", cut.embeddings)] + [(t, cut.rollups) for t in ROLLUP_TABLES]
    dropped = 0
    with conn.transaction():
        for table, older_than in plan:
            rows = conn.execute(
                "SELECT drop_chunks(%s::regclass, older_than => %s)", (table, older_than)
            )
            dropped += len(rows.fetchall())
        conn.execute("DELETE FROM track WHERE last_at < %s", (cut.raw,))
        # A state whose watermark is older may belong to a track still alive: dropping it only
        # means that track's next derivation is whole (from the observations retention kept).
        conn.execute("DELETE FROM track_state WHERE watermark < %s", (cut.raw,))
    return dropped
