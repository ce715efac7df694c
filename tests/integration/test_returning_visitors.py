"""Returning visitors: a stitched visitor unseen for ``RETURN_GAP`` (30 minutes), then seen again.

Local tracks and their stitched visitors are written straight into the tables the stitcher
fills, so that each case is exact; the API's own query counts them.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import psycopg
import pytest

from cloud.api.params import TimeRange
from cloud.api.queries import RETURN_GAP, visitor_summary
from cloud.migrate import migrate

pytestmark = pytest.mark.integration

T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


# (camera, track, first minute, last minute, stitched visitor or None)
TRACKS = [
    # v-back: gone 35 minutes, then on another camera: returning.
    ("cam-a", "t1", 0, 5, "v-back"),
    ("cam-b", "t2", 40, 45, "v-back"),
    # v-soon: gone 15 minutes: not returning.
    ("cam-a", "t3", 0, 5, "v-soon"),
    ("cam-b", "t4", 20, 25, "v-soon"),
    # v-long: a long track overlaps a short one; the gap counts from the latest end (minute 50).
    ("cam-a", "t5", 0, 5, "v-long"),
    ("cam-b", "t6", 3, 50, "v-long"),
    ("cam-c", "t7", 60, 65, "v-long"),
    # Tracks not stitched (yet) are a visitor each, whenever they are seen.
    ("cam-c", "t8", 0, 1, None),
    ("cam-c", "t9", 60, 61, None),
]


def test_only_a_visitor_unseen_for_the_gap_and_seen_again_is_returning(database_url: str) -> None:
    assert RETURN_GAP == "30 minutes"
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        for camera, track, first, last, visitor in TRACKS:
            conn.execute(
                "INSERT INTO track (site_id, camera_id, track_id, run_id, first_at, last_at) "
                "VALUES ('demo', %s, %s, 'r1', %s, %s)",
                (camera, track, _at(first), _at(last)),
            )
            if visitor is not None:
                conn.execute(
                    "INSERT INTO tracklet_visitor (site_id, camera_id, run_id, track_id, "
                    "started_at, mode, visitor_id, ended_at) "
                    "VALUES ('demo', %s, 'r1', %s, %s, 'combined', %s, %s)",
                    (camera, track, _at(first), visitor, _at(last)),
                )
        conn.commit()
        day = TimeRange(_at(-60), _at(24 * 60), timedelta(hours=1), ZoneInfo("UTC"))
        summary = visitor_summary(conn, "demo", day)
        assert summary == {
            "unique_visitors": 5,
            "returning_visitors": 1,
            "held_back_visitors": 0,
            "stitched_tracks": 7,
            "unstitched_tracks": 2,
        }
        # A range that ends before the return sees no returning visitor.
        early = TimeRange(_at(-60), _at(30), timedelta(hours=1), ZoneInfo("UTC"))
        assert visitor_summary(conn, "demo", early)["returning_visitors"] == 0
