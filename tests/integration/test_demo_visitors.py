"""The demo's printed visitor figure is the API's: a visitor the stitcher merged into another
(``visitor_alias``, migration 009) is that other, not a second person.

Local tracks, their stitched visitors and one merge are written straight into the tables the
stitcher fills, so that the expected figure is exact.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from cloud.migrate import migrate
from footfall.demo import _summary
from footfall.site import load_site

pytestmark = pytest.mark.integration

SITE = load_site(Path(__file__).resolve().parents[2] / "configs" / "sites" / "demo.yaml")
T0 = datetime(2026, 11, 20, 10, 0, tzinfo=UTC)

# (camera, track, first second, last second, stitched visitor or None)
TRACKS = [
    ("cam-a", "t1", 0, 60, "v-a"),
    ("cam-b", "t2", 90, 150, "v-b"),  # v-b was later merged into v-a: one person
    ("cam-b", "t3", 0, 60, "v-c"),
    ("cam-c", "t4", 0, 60, None),  # not stitched yet: a visitor of its own
    ("cam-c", "t5", 100, 103, "v-d"),  # seen 3 s in all: under min_visitor_s, held back
]


def test_a_merged_visitor_is_printed_once(database_url: str) -> None:
    assert SITE.counting.min_visitor_s > 3
    with psycopg.connect(database_url) as conn:
        migrate(conn)
        for camera, track, first, last, visitor in TRACKS:
            lo, hi = T0 + timedelta(seconds=first), T0 + timedelta(seconds=last)
            conn.execute(
                "INSERT INTO track (site_id, camera_id, track_id, run_id, first_at, last_at) "
                "VALUES ('demo', %s, %s, 'r1', %s, %s)",
                (camera, track, lo, hi),
            )
            if visitor is not None:
                conn.execute(
                    "INSERT INTO tracklet_visitor (site_id, camera_id, run_id, track_id, "
                    "started_at, mode, visitor_id, ended_at) "
                    "VALUES ('demo', %s, 'r1', %s, %s, 'combined', %s, %s)",
                    (camera, track, lo, visitor, hi),
                )
        conn.execute(
            "INSERT INTO visitor_alias (site_id, mode, visitor_id, merged_into, seen_at) "
            "VALUES ('demo', 'combined', 'v-b', 'v-a', %s)",
            (T0 + timedelta(minutes=5),),
        )
        conn.commit()
    printed = _summary(database_url, SITE)
    found = re.search(r"visitors (\d+) \(.*?(\d+) more seen under .*? from (\d+) local", printed)
    assert found is not None, printed
    # v-a (with v-b merged into it), v-c and the unstitched cam-c/t4; v-d held back.
    assert (int(found[1]), int(found[2]), int(found[3])) == (3, 1, 5), printed
    assert "1 not stitched yet" in printed
