"""The cloud's incremental derivation in the database equals one pass over everything (issue 16).

Observations written a few seconds at a time, each batch derived at once (tracks resume from
``track_state``: a line's side that is not yet established for ``line_establish_s`` is saved
pending, and the crossing found in a later batch is dated at its first point), must leave the
same crossings, zone visits and per-minute rollups as the same observations written and derived
in one pass. Real TimescaleDB, two scratch databases.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
import pytest
from synthetic import site_messages

from cloud.analytics.derive import derive_all_dirty
from cloud.ingest.writer import BatchWriter
from cloud.migrate import migrate
from footfall.contract import FrameObservations
from footfall.site import load_site

pytestmark = pytest.mark.integration

SITE = load_site(Path(__file__).resolve().parents[2] / "configs" / "sites" / "demo.yaml")
T0 = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)

TABLES = {
    "line_crossing": "line_id, camera_id, track_id, at, direction",
    "zone_visit": "zone_id, camera_id, track_id, enter_at, exit_at",
    "footfall_minute": "line_id, minute, ins, outs",
    "occupancy_minute": "zone_id, minute, occupancy",
}


def snapshot(conn: psycopg.Connection[tuple[object, ...]]) -> dict[str, list[tuple[object, ...]]]:
    return {
        table: conn.execute(f"SELECT {cols} FROM {table} ORDER BY {cols}").fetchall()
        for table, cols in TABLES.items()
    }


def test_derived_batch_by_batch_equals_derived_at_once(
    make_database: Callable[[], str],
) -> None:
    assert SITE.counting.line_establish_s > 0
    frames = sorted(
        (
            m
            for m in site_messages(SITE, T0, 900.0, fps=4.0, walkers_per_minute=8.0, seed=11)
            if isinstance(m, FrameObservations)
        ),
        key=lambda f: (f.captured_at, f.camera_id),
    )
    batch = timedelta(seconds=3)
    pending_saved = 0
    with psycopg.connect(make_database()) as conn:
        migrate(conn)
        writer = BatchWriter(conn, 0.5)
        start = 0
        while start < len(frames):
            end = start
            while end < len(frames) and frames[end].captured_at < frames[start].captured_at + batch:
                end += 1
            writer.write(frames[start:end])
            derive_all_dirty(conn, SITE)
            for (lines,) in conn.execute("SELECT lines FROM track_state").fetchall():
                data = lines if isinstance(lines, dict) else json.loads(str(lines))
                pending_saved += sum(isinstance(v, list) for v in data.values())
            conn.commit()  # end the read, so the next batch is a transaction of its own
            start = end
        in_batches = snapshot(conn)
    with psycopg.connect(make_database()) as conn:
        migrate(conn)
        BatchWriter(conn, 0.5).write(frames)
        result = derive_all_dirty(conn, SITE)
        assert result.whole == result.tracks  # one pass: every track derived whole
        at_once = snapshot(conn)
    assert len(at_once["line_crossing"]) > 20 and len(at_once["zone_visit"]) > 5
    assert pending_saved > 0  # batches did end with a side pending establishment
    for table in TABLES:
        assert in_batches[table] == at_once[table], table
