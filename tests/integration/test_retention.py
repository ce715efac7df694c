"""Retention and stitching against hostile time, on a real TimescaleDB.

* Every table after the migrations is either in the retention plan or explicitly listed as
  holding no per-person data.
* A tracklet dated a year ahead neither freezes the stitching of its site nor escapes
  retention; old rows of every per-person table (stitched visitor ids included) are dropped.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest

from cloud.analytics.retention import (
    HYPERTABLES,
    NO_PERSONAL_DATA,
    PLAIN_TABLES,
    enforce_retention,
)
from cloud.migrate import migrate
from cloud.settings import RetentionSettings
from cloud.stitch.stitcher import StitchSettings
from cloud.stitch.store import stitch_pass
from footfall.site import load_site

pytestmark = pytest.mark.integration

SITE = load_site(Path(__file__).resolve().parents[2] / "configs" / "sites" / "demo.yaml")
RUN = "ab" * 16
DIMS = 16

Conn = psycopg.Connection[tuple[Any, ...]]


def test_every_table_is_in_the_retention_plan_or_holds_no_personal_data(
    database_url: str,
) -> None:
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        conn.commit()
        tables = {
            str(r[0])
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables "
                "WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'"
            )
        }
        hypertables = {
            str(r[0])
            for r in conn.execute(
                "SELECT hypertable_name FROM timescaledb_information.hypertables "
                "WHERE hypertable_schema = current_schema()"
            )
        }
    planned = set(HYPERTABLES) | set(PLAIN_TABLES)
    unplanned = tables - planned - set(NO_PERSONAL_DATA)
    assert not unplanned, (
        f"tables {sorted(unplanned)} are in no retention window: add each to "
        "cloud/analytics/retention.py (HYPERTABLES or PLAIN_TABLES), or to NO_PERSONAL_DATA "
        "with the reason it holds nothing about a person"
    )
    assert planned <= tables, f"the plan names tables that do not exist: {planned - tables}"
    assert set(NO_PERSONAL_DATA) <= tables
    assert not planned & set(NO_PERSONAL_DATA)
    # drop_chunks works only on hypertables; plain tables are cut by a DELETE
    assert set(HYPERTABLES) <= hypertables
    assert not set(PLAIN_TABLES) & hypertables
    assert "tracklet_visitor" in HYPERTABLES


def _tracklet(
    conn: Conn, camera: str, track: str, start: datetime, end: datetime, vector: list[float]
) -> None:
    conn.execute(
        "INSERT INTO tracklet_start VALUES (%s, %s, %s, %s, %s, 'node')",
        (SITE.id, camera, RUN, track, start),
    )
    conn.execute(
        "INSERT INTO tracklet_end VALUES (%s, %s, %s, %s, %s, %s, 'node', 50, 0.9, 'test')",
        (SITE.id, camera, RUN, track, start, end),
    )
    conn.execute(
        "INSERT INTO embedding VALUES (%s, %s, %s, %s, 'tracklet_end', %s, 'test', 0.9, %s)",
        (SITE.id, camera, RUN, track, end, vector),
    )
    for at in (start, end):
        conn.execute(
            "INSERT INTO observation VALUES (%s, %s, %s, %s, %s, 0, 0, 10, 10, 0.9, NULL, "
            "NULL, NULL)",
            (SITE.id, camera, at, track, RUN),
        )
    conn.execute(
        "INSERT INTO track (site_id, camera_id, track_id, run_id, first_at, last_at) "
        "VALUES (%s, %s, %s, %s, %s, %s)",
        (SITE.id, camera, track, RUN, start, end),
    )


def _decided(conn: Conn) -> set[str]:
    return {
        str(r[0])
        for r in conn.execute(
            "SELECT track_id FROM tracklet_visitor WHERE site_id = %s AND mode = 'combined'",
            (SITE.id,),
        )
    }


def _count(conn: Conn, table: str, where: str, *params: object) -> int:
    row = conn.execute(f"SELECT count(*) FROM {table} WHERE {where}", params).fetchone()
    assert row is not None
    return int(row[0])


def test_a_future_dated_tracklet_neither_freezes_stitching_nor_escapes_retention(
    database_url: str,
) -> None:
    now = datetime.now(UTC)
    future = now + timedelta(days=365)
    cameras = [c.id for c in SITE.cameras]
    vectors = [[float(i == d) for d in range(DIMS)] for i in range(DIMS)]
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        for i in range(4):  # four people, each seen by one camera in the last few minutes
            end = now - timedelta(minutes=5 - i)
            _tracklet(
                conn,
                cameras[i % len(cameras)],
                f"real{i}",
                end - timedelta(seconds=40),
                end,
                vectors[i],
            )
        _tracklet(conn, cameras[0], "future", future - timedelta(seconds=30), future, vectors[9])
        conn.commit()

        settings = StitchSettings()
        stitch_pass(conn, SITE, settings)
        conn.commit()
        # The newest stored end (a year ahead) is not "now": the real tracklets are decided,
        # but for the newest real one, which waits ``delay_s`` for what ends after it.
        assert _decided(conn) == {"real0", "real1", "real2"}

        # A tracklet that ended 30 s ago moves "now" on: later passes are not frozen either.
        end = datetime.now(UTC) - timedelta(seconds=30)
        _tracklet(conn, cameras[1], "late", end - timedelta(seconds=20), end, vectors[5])
        conn.commit()
        stitch_pass(conn, SITE, settings)
        conn.commit()
        assert _decided(conn) == {f"real{i}" for i in range(4)}

        # Something old in every per-person table, stitched visitor ids included.
        old = now - timedelta(days=40)
        _tracklet(conn, cameras[2], "old", old - timedelta(seconds=30), old, vectors[7])
        conn.execute(
            "INSERT INTO tracklet_visitor (site_id, camera_id, run_id, track_id, started_at, "
            "mode, visitor_id, ended_at) VALUES (%s, %s, %s, 'old', %s, 'combined', 'v-old', %s)",
            (SITE.id, cameras[2], RUN, old - timedelta(seconds=30), old),
        )
        conn.execute(
            "INSERT INTO embedding VALUES (%s, %s, %s, 'real0', 'tracklet_start', %s, 'test', "
            "0.9, %s)",
            (SITE.id, cameras[0], RUN, now - timedelta(hours=30), vectors[0]),
        )
        conn.commit()

        enforce_retention(conn, RetentionSettings(), datetime.now(UTC))
        conn.commit()

        for table, column in [
            ("tracklet_start", "started_at"),
            ("tracklet_end", "ended_at"),
            ("embedding", "at"),
            ("observation", "captured_at"),
            ("track", "last_at"),
        ]:
            assert _count(conn, table, f"{column} > %s", now + timedelta(days=1)) == 0, table
            assert _count(conn, table, "track_id LIKE 'real%%'") > 0, table
        assert _count(conn, "tracklet_end", "track_id = 'future'") == 0
        for table in ("tracklet_start", "tracklet_end", "observation", "track", "tracklet_visitor"):
            assert _count(conn, table, "track_id = 'old'") == 0, table
        # embeddings are kept 24 hours: the 30-hour-old one is gone, the recent ones stay
        assert _count(conn, "embedding", "at < %s", now - timedelta(hours=24)) == 0
        assert _count(conn, "embedding", "track_id LIKE 'real%%'") == 4
        assert _decided(conn) == {f"real{i}" for i in range(4)}


def test_rows_within_the_clock_tolerance_are_kept(database_url: str) -> None:
    """A node whose clock runs a little ahead loses nothing."""
    now = datetime.now(UTC)
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        ahead = now + timedelta(seconds=RetentionSettings().future_tolerance_s / 2)
        _tracklet(conn, SITE.cameras[0].id, "ahead", ahead - timedelta(seconds=10), ahead, [1.0])
        conn.commit()
        enforce_retention(conn, RetentionSettings(), now)
        conn.commit()
        for table in ("tracklet_start", "tracklet_end", "embedding", "observation", "track"):
            assert _count(conn, table, "track_id = 'ahead'") >= 1, table


def test_a_pass_commits_and_leaves_no_transaction_open(database_url: str) -> None:
    """Ingest's analytics connection is not in autocommit mode: a pass must still commit (an
    open transaction would keep its deletes' locks and stall ingest's writer)."""
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        conn.commit()
        enforce_retention(conn, RetentionSettings(), datetime.now(UTC))
        assert conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
