"""Re-derive dirty tracks from stored observations, and keep the per-minute rollups in step.

Ingest marks every track it adds observations to as dirty. :func:`derive_dirty` takes a set of
dirty tracks (row locks, so ingest waits rather than racing), loads each track's whole
trajectory, replaces its line crossings and zone visits with freshly derived ones, recomputes the
rollup minutes the tracks span from the derived tables, and marks the tracks clean, all in one
transaction. Derived rows are a deterministic function of the stored observations, so redelivered
messages, a crashed ingest process or a replay leave them unchanged. A per-site advisory lock
serialises derivation between ingest processes (rollup minutes are shared by all cameras).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

import psycopg

from cloud.analytics.trajectory import Crossing, Point, Visit, line_crossings, zone_visits
from cloud.settings import AnalyticsSettings
from footfall.site import Site

Conn = psycopg.Connection[tuple[object, ...]]
TrackKey = tuple[str, str]  # (camera_id, track_id)

MAX_VISIT = timedelta(hours=12)
"""Longest zone visit the occupancy rollup looks back for."""

_LOCK_DIRTY = """
SELECT camera_id, track_id, first_at, last_at FROM track
WHERE site_id = %s AND dirty
ORDER BY camera_id, track_id
LIMIT %s
FOR UPDATE
"""

_LOCK_RANGE = """
SELECT camera_id, track_id, first_at, last_at FROM track
WHERE site_id = %s AND last_at >= %s AND first_at < %s
ORDER BY camera_id, track_id
FOR UPDATE
"""

_LOAD_POINTS = """
SELECT o.camera_id, o.track_id, o.captured_at, o.floor_id, o.x_m, o.y_m
FROM observation o
JOIN unnest(%s::text[], %s::text[]) AS t(camera_id, track_id)
  ON o.camera_id = t.camera_id AND o.track_id = t.track_id
WHERE o.site_id = %s AND o.captured_at >= %s AND o.captured_at <= %s AND o.x_m IS NOT NULL
ORDER BY o.camera_id, o.track_id, o.captured_at
"""

_DELETE_CROSSINGS = """
DELETE FROM line_crossing l USING unnest(%s::text[], %s::text[]) AS t(camera_id, track_id)
WHERE l.site_id = %s AND l.at >= %s AND l.at <= %s
  AND l.camera_id = t.camera_id AND l.track_id = t.track_id
"""

_DELETE_VISITS = """
DELETE FROM zone_visit v USING unnest(%s::text[], %s::text[]) AS t(camera_id, track_id)
WHERE v.site_id = %s AND v.enter_at >= %s AND v.enter_at <= %s
  AND v.camera_id = t.camera_id AND v.track_id = t.track_id
"""

_INSERT_CROSSINGS = """
INSERT INTO line_crossing (site_id, line_id, camera_id, track_id, at, direction)
SELECT %s, * FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[], %s::smallint[])
"""

_INSERT_VISITS = """
INSERT INTO zone_visit (site_id, zone_id, camera_id, track_id, enter_at, exit_at, dwell_s)
SELECT %s, * FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[],
                         %s::timestamptz[], %s::double precision[])
"""

_MARK_CLEAN = """
UPDATE track t SET dirty = false
FROM unnest(%s::text[], %s::text[]) AS u(camera_id, track_id)
WHERE t.site_id = %s AND t.camera_id = u.camera_id AND t.track_id = u.track_id
"""

_ROLLUP_FOOTFALL = (
    """
DELETE FROM footfall_minute WHERE site_id = %(site)s AND minute >= %(lo)s AND minute < %(hi)s
""",
    """
INSERT INTO footfall_minute (site_id, line_id, minute, ins, outs)
SELECT site_id, line_id, time_bucket(INTERVAL '1 minute', at),
       count(*) FILTER (WHERE direction > 0), count(*) FILTER (WHERE direction < 0)
FROM line_crossing
WHERE site_id = %(site)s AND at >= %(lo)s AND at < %(hi)s
GROUP BY 1, 2, 3
""",
)

_ROLLUP_OCCUPANCY = (
    """
DELETE FROM occupancy_minute WHERE site_id = %(site)s AND minute >= %(lo)s AND minute < %(hi)s
""",
    """
INSERT INTO occupancy_minute (site_id, zone_id, minute, occupancy)
SELECT v.site_id, v.zone_id, m.minute, count(*)
FROM generate_series(%(lo)s::timestamptz, %(hi)s::timestamptz - INTERVAL '1 minute',
                     INTERVAL '1 minute') AS m(minute)
JOIN zone_visit v
  ON v.enter_at <= m.minute + INTERVAL '1 minute' AND v.exit_at >= m.minute + INTERVAL '1 minute'
WHERE v.site_id = %(site)s AND v.enter_at >= %(lo)s::timestamptz - %(max_visit)s
  AND v.enter_at < %(hi)s
GROUP BY 1, 2, 3
""",
)

_REBUILD_HEATMAP = (
    """
DELETE FROM heatmap_minute WHERE site_id = %(site)s AND minute >= %(lo)s AND minute < %(hi)s
""",
    """
INSERT INTO heatmap_minute (site_id, floor_id, minute, cell_x, cell_y, samples)
SELECT site_id, floor_id, time_bucket(INTERVAL '1 minute', captured_at),
       floor(x_m / %(cell)s)::integer, floor(y_m / %(cell)s)::integer, count(*)
FROM observation
WHERE site_id = %(site)s AND captured_at >= %(lo)s AND captured_at < %(hi)s
  AND x_m IS NOT NULL AND floor_id IS NOT NULL
GROUP BY 1, 2, 3, 4, 5
""",
)


@dataclass
class DeriveResult:
    tracks: int = 0
    crossings: int = 0
    visits: int = 0


def _floor_minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _site_lock(conn: Conn, site_id: str) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('footfall-derive/' || %s))", (site_id,))


def derive_tracks(
    conn: Conn, site: Site, settings: AnalyticsSettings, rows: list[tuple[object, ...]]
) -> DeriveResult:
    """Re-derive the locked tracks ``rows`` (camera, track, first_at, last_at); caller commits."""
    result = DeriveResult(tracks=len(rows))
    if not rows:
        return result
    cams = [str(r[0]) for r in rows]
    tids = [str(r[1]) for r in rows]
    lo: datetime = min(r[2] for r in rows)  # type: ignore[type-var,assignment]
    hi: datetime = max(r[3] for r in rows)  # type: ignore[type-var,assignment]
    points: dict[TrackKey, list[Point]] = defaultdict(list)
    cur = conn.execute(_LOAD_POINTS, (cams, tids, site.id, lo, hi))
    for cam, tid, at, floor_id, x, y in cur.fetchall():
        points[(str(cam), str(tid))].append(Point(at, str(floor_id), float(x), float(y)))  # type: ignore[arg-type]
    crossings: list[tuple[TrackKey, Crossing]] = []
    visits: list[tuple[TrackKey, Visit]] = []
    for key in sorted(points):
        track = points[key]
        for line in site.lines:
            crossings += [(key, c) for c in line_crossings(track, line, settings.line_hysteresis_m)]
        for zone in site.zones:
            visits += [
                (key, v)
                for v in zone_visits(track, zone, settings.min_visit_s, settings.visit_gap_s)
            ]
    conn.execute(_DELETE_CROSSINGS, (cams, tids, site.id, lo, hi))
    conn.execute(_DELETE_VISITS, (cams, tids, site.id, lo, hi))
    if crossings:
        conn.execute(
            _INSERT_CROSSINGS,
            (
                site.id,
                [c.line_id for _, c in crossings],
                [k[0] for k, _ in crossings],
                [k[1] for k, _ in crossings],
                [c.at for _, c in crossings],
                [c.direction for _, c in crossings],
            ),
        )
    if visits:
        conn.execute(
            _INSERT_VISITS,
            (
                site.id,
                [v.zone_id for _, v in visits],
                [k[0] for k, _ in visits],
                [k[1] for k, _ in visits],
                [v.enter_at for _, v in visits],
                [v.exit_at for _, v in visits],
                [v.dwell_s for _, v in visits],
            ),
        )
    conn.execute(_MARK_CLEAN, (cams, tids, site.id))
    minute = timedelta(minutes=1)
    rebuild_rollups(conn, site.id, _floor_minute(lo) - minute, _floor_minute(hi) + minute)
    result.crossings, result.visits = len(crossings), len(visits)
    return result


def rebuild_rollups(conn: Conn, site_id: str, lo: datetime, hi: datetime) -> None:
    """Recompute footfall and occupancy minutes in [lo, hi) (whole minutes) from derived rows."""
    params = {"site": site_id, "lo": lo, "hi": hi, "max_visit": MAX_VISIT}
    for sql in _ROLLUP_FOOTFALL + _ROLLUP_OCCUPANCY:
        conn.execute(sql, params)


def derive_dirty(
    conn: Conn, site: Site, settings: AnalyticsSettings, max_tracks: int = 2000
) -> DeriveResult:
    """Re-derive up to ``max_tracks`` dirty tracks of ``site`` in one transaction."""
    with conn.transaction():
        _site_lock(conn, site.id)
        rows = conn.execute(_LOCK_DIRTY, (site.id, max_tracks)).fetchall()
        return derive_tracks(conn, site, settings, rows)


def derive_all_dirty(conn: Conn, site: Site, settings: AnalyticsSettings) -> DeriveResult:
    """Derive until no dirty track is left."""
    total = DeriveResult()
    while True:
        step = derive_dirty(conn, site, settings)
        if step.tracks == 0:
            return total
        total.tracks += step.tracks
        total.crossings += step.crossings
        total.visits += step.visits


def recompute(
    conn: Conn, site: Site, settings: AnalyticsSettings, start: datetime, end: datetime
) -> DeriveResult:
    """Rebuild crossings, visits, rollups and heatmap for tracks seen in [start, end).

    For a redrawn zone or line: every track overlapping the range is re-derived whole, and the
    rollups of the minutes those tracks span are rebuilt (so the range may grow to whole tracks).
    """
    with conn.transaction():
        _site_lock(conn, site.id)
        rows = conn.execute(_LOCK_RANGE, (site.id, start, end)).fetchall()
        lo = _floor_minute(start)
        hi = _floor_minute(end)
        if hi != end:
            hi += timedelta(minutes=1)
        result = derive_tracks(conn, site, settings, rows)
        rebuild_rollups(conn, site.id, lo, hi)
        rebuild_heatmap(conn, site.id, lo, hi, settings.heatmap_cell_m)
    return result


def rebuild_heatmap(conn: Conn, site_id: str, lo: datetime, hi: datetime, cell_m: float) -> None:
    """Recompute heatmap minutes in [lo, hi) (whole minutes) from stored observations."""
    params = {"site": site_id, "lo": lo, "hi": hi, "cell": cell_m}
    for sql in _REBUILD_HEATMAP:
        conn.execute(sql, params)
