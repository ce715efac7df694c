"""All SQL of the query API, one function per question (route handlers hold no SQL)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import psycopg
from psycopg.rows import dict_row

from cloud.api.params import TimeRange
from cloud.stitch.visitors import MIN_VISITOR_S

Conn = psycopg.Connection[tuple[object, ...]]
Rows = list[dict[str, Any]]


def _rows(conn: Conn, sql: str, params: dict[str, Any]) -> Rows:
    with conn.cursor(row_factory=dict_row) as cur:
        return cur.execute(sql, params).fetchall()


def _p(site: str, r: TimeRange, **extra: Any) -> dict[str, Any]:
    return {"site": site, "lo": r.start, "hi": r.end, "bucket": r.bucket, "tz": r.tz.key, **extra}


def footfall(conn: Conn, site: str, r: TimeRange, staff: bool = False) -> Rows:
    """Entries and exits per bucket and line; the crossings of staff tracks (``staff_track``)
    taken out unless ``staff`` (for the days retention has sealed, the staff crossings kept per
    minute in ``staff_footfall_minute``: see :mod:`cloud.analytics.sealed`)."""
    if staff:
        return _rows(
            conn,
            """
            SELECT time_bucket(%(bucket)s, minute, %(tz)s) AS bucket, line_id,
                   sum(ins)::int AS ins, sum(outs)::int AS outs
            FROM footfall_minute
            WHERE site_id = %(site)s AND minute >= %(lo)s AND minute < %(hi)s
            GROUP BY 1, 2 ORDER BY 1, 2
            """,
            _p(site, r),
        )
    return _rows(
        conn,
        """
        WITH f AS (
            SELECT time_bucket(%(bucket)s, minute, %(tz)s) AS bucket, line_id,
                   sum(ins)::int AS ins, sum(outs)::int AS outs
            FROM footfall_minute
            WHERE site_id = %(site)s AND minute >= %(lo)s AND minute < %(hi)s
            GROUP BY 1, 2
        ), sealed AS (
            SELECT coalesce((SELECT until FROM rollup_sealed WHERE site_id = %(site)s),
                            '-infinity') AS until
        ), staff AS (
            SELECT date_trunc('minute', c.at) AS minute, c.line_id,
                   (count(*) FILTER (WHERE c.direction = 1))::int AS ins,
                   (count(*) FILTER (WHERE c.direction = -1))::int AS outs
            FROM line_crossing c
            WHERE c.site_id = %(site)s AND c.at >= %(lo)s AND c.at < %(hi)s
              AND c.at >= (SELECT until FROM sealed)
              AND EXISTS (SELECT 1 FROM staff_track st WHERE st.site_id = c.site_id
                          AND st.camera_id = c.camera_id AND st.track_id = c.track_id)
            GROUP BY 1, 2
            UNION ALL
            SELECT minute, line_id, ins, outs FROM staff_footfall_minute
            WHERE site_id = %(site)s AND minute >= %(lo)s AND minute < %(hi)s
              AND minute < (SELECT until FROM sealed)
        ), s AS (
            SELECT time_bucket(%(bucket)s, minute, %(tz)s) AS bucket, line_id,
                   sum(ins)::int AS ins, sum(outs)::int AS outs
            FROM staff GROUP BY 1, 2
        )
        SELECT f.bucket, f.line_id, greatest(f.ins - coalesce(s.ins, 0), 0) AS ins,
               greatest(f.outs - coalesce(s.outs, 0), 0) AS outs
        FROM f LEFT JOIN s ON s.bucket = f.bucket AND s.line_id = f.line_id
        ORDER BY 1, 2
        """,
        _p(site, r),
    )


_NOT_STAFF = """NOT EXISTS (SELECT 1 FROM staff_track st WHERE st.site_id = {t}.site_id
                  AND st.camera_id = {t}.camera_id AND st.track_id = {t}.track_id)"""
"""A row's local track is not a staff track (``staff_track``), for a table aliased {t}."""


def occupancy_history(conn: Conn, site: str, r: TimeRange) -> Rows:
    """Per bucket and zone: the sum and peak of the per-minute snapshots (missing minutes = 0)."""
    return _rows(
        conn,
        """
        SELECT time_bucket(%(bucket)s, minute, %(tz)s) AS bucket, zone_id,
               sum(occupancy)::int AS total, max(occupancy)::int AS peak
        FROM occupancy_minute
        WHERE site_id = %(site)s AND minute >= %(lo)s AND minute < %(hi)s
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
        _p(site, r),
    )


def occupancy_now(conn: Conn, site: str, since: datetime, until: datetime) -> Rows:
    """People whose zone visit covers the last moments (seen in the zone since ``since``)."""
    return _rows(
        conn,
        """
        SELECT zone_id, count(*)::int AS occupancy
        FROM zone_visit
        WHERE site_id = %(site)s AND exit_at >= %(since)s AND enter_at <= %(until)s
          AND enter_at >= %(until)s - INTERVAL '12 hours'
        GROUP BY zone_id ORDER BY zone_id
        """,
        {"site": site, "since": since, "until": until},
    )


def dwell(conn: Conn, site: str, r: TimeRange, staff: bool = False) -> Rows:
    """Visits and dwell per zone; staff tracks' visits left out unless ``staff``."""
    no_staff = "" if staff else "AND " + _NOT_STAFF.format(t="z")
    return _rows(
        conn,
        f"""
        SELECT zone_id, count(*)::int AS visits, avg(dwell_s) AS mean_s,
               percentile_cont(0.5) WITHIN GROUP (ORDER BY dwell_s) AS median_s,
               percentile_cont(0.9) WITHIN GROUP (ORDER BY dwell_s) AS p90_s
        FROM zone_visit z
        WHERE site_id = %(site)s AND enter_at >= %(lo)s AND enter_at < %(hi)s {no_staff}
        GROUP BY zone_id ORDER BY zone_id
        """,
        _p(site, r),
    )


def heatmap(conn: Conn, site: str, floor: str, r: TimeRange, factor: int) -> Rows:
    return _rows(
        conn,
        """
        SELECT time_bucket(%(bucket)s, minute, %(tz)s) AS bucket,
               floor(cell_x::float / %(k)s)::int AS cx, floor(cell_y::float / %(k)s)::int AS cy,
               sum(samples)::bigint AS samples
        FROM heatmap_minute
        WHERE site_id = %(site)s AND floor_id = %(floor)s AND minute >= %(lo)s
          AND minute < %(hi)s
        GROUP BY 1, 2, 3 ORDER BY 1, 2, 3
        """,
        _p(site, r, floor=floor, k=factor),
    )


def flows(conn: Conn, site: str, r: TimeRange) -> Rows:
    """Zone-to-zone moves of one visitor: consecutive visits, counted at the second visit.

    A visitor is the stitched id (mode 'combined') of the visits' local tracks, so a move from
    a zone one camera sees to a zone another camera sees counts; a track the stitcher has not
    decided yet is a visitor of its own.
    """
    return _rows(
        conn,
        """
        WITH z AS (
            SELECT coalesce(a.merged_into, s.visitor_id, z.camera_id || '/' || z.track_id)
                     AS visitor_id,
                   z.zone_id, z.enter_at
            FROM zone_visit z
            LEFT JOIN tracklet_visitor s
              ON s.site_id = z.site_id AND s.camera_id = z.camera_id
             AND s.track_id = z.track_id AND s.mode = 'combined'
            LEFT JOIN visitor_alias a
              ON a.site_id = s.site_id AND a.mode = s.mode AND a.visitor_id = s.visitor_id
            WHERE z.site_id = %(site)s AND z.enter_at >= %(lo)s - INTERVAL '12 hours'
              AND z.enter_at < %(hi)s
        ), v AS (
            SELECT zone_id, enter_at,
                   lag(zone_id) OVER (PARTITION BY visitor_id ORDER BY enter_at, zone_id)
                     AS prev_zone
            FROM z
        )
        SELECT prev_zone AS from_zone, zone_id AS to_zone, count(*)::int AS people
        FROM v
        WHERE prev_zone IS NOT NULL AND prev_zone <> zone_id AND enter_at >= %(lo)s
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
        _p(site, r),
    )


# Local tracks of the range with their stitched visitor (mode 'combined'; the id it was merged
# into, if the stitcher merged it: visitor_alias); a track the stitcher has not decided yet
# stands for a visitor of its own, named "<camera>/<track>".
_TRACK_VISITORS = """
WITH t AS (
    SELECT t.camera_id, t.track_id, t.first_at, t.last_at,
           coalesce(a.merged_into, v.visitor_id, t.camera_id || '/' || t.track_id)
             AS visitor_id,
           v.visitor_id IS NOT NULL AS stitched
    FROM track t
    LEFT JOIN tracklet_visitor v
      ON v.site_id = t.site_id AND v.camera_id = t.camera_id AND v.track_id = t.track_id
     AND v.mode = 'combined'
    LEFT JOIN visitor_alias a
      ON a.site_id = v.site_id AND a.mode = v.mode AND a.visitor_id = v.visitor_id
    WHERE t.site_id = %(site)s AND t.first_at < %(hi)s AND t.last_at >= %(lo)s {no_staff}
)
"""

RETURN_GAP = "30 minutes"
"""A visitor unseen this long and then seen again came back: a returning visitor."""


def visitors(conn: Conn, site: str, r: TimeRange, limit: int) -> Rows:
    """Anonymous visitors (stitched across cameras where decided) seen in the range."""
    return _rows(
        conn,
        _TRACK_VISITORS.format(no_staff="")
        + """
        SELECT visitor_id, bool_and(stitched) AS stitched, min(first_at) AS first_at,
               max(last_at) AS last_at, count(*)::int AS tracks,
               string_agg(DISTINCT camera_id, ' ' ORDER BY camera_id) AS cameras,
               string_agg(camera_id || '/' || track_id, ' ' ORDER BY first_at, camera_id)
                 AS track_ids
        FROM t GROUP BY visitor_id
        ORDER BY min(first_at), visitor_id LIMIT %(limit)s
        """,
        _p(site, r, limit=limit),
    )


def visitor_summary(
    conn: Conn, site: str, r: TimeRange, min_visitor_s: float = MIN_VISITOR_S, staff: bool = False
) -> dict[str, Any]:
    """Unique and returning visitors of the range, from stitched ids (see RETURN_GAP); staff
    tracks (``staff_track``) left out unless ``staff``. A
    visitor whose tracks in the range were seen for less than ``min_visitor_s`` (the site's
    ``counting.min_visitor_s``) in total is held back from both counts (the rule of
    :mod:`cloud.stitch.visitors`) and counted in ``held_back_visitors`` instead; its tracks
    still count in ``stitched_tracks`` and ``unstitched_tracks``."""
    rows = _rows(
        conn,
        _TRACK_VISITORS.format(no_staff="" if staff else "AND " + _NOT_STAFF.format(t="t"))
        + f"""
        , counted AS (
            SELECT visitor_id FROM t GROUP BY visitor_id
            HAVING sum(extract(epoch FROM last_at - first_at)) >= %(min_visitor_s)s
        ), v AS (
            SELECT visitor_id, stitched, first_at,
                   visitor_id IN (SELECT visitor_id FROM counted) AS counted,
                   max(last_at) OVER (PARTITION BY visitor_id ORDER BY first_at, camera_id
                                      ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
                     AS seen_before
            FROM t
        )
        SELECT (count(DISTINCT visitor_id) FILTER (WHERE counted))::int AS unique_visitors,
               (count(DISTINCT visitor_id)
                  FILTER (WHERE counted AND first_at - seen_before >= INTERVAL '{RETURN_GAP}'))::int
                 AS returning_visitors,
               (count(DISTINCT visitor_id) FILTER (WHERE NOT counted))::int
                 AS held_back_visitors,
               (count(*) FILTER (WHERE stitched))::int AS stitched_tracks,
               (count(*) FILTER (WHERE NOT stitched))::int AS unstitched_tracks
        FROM v
        """,
        _p(site, r, min_visitor_s=min_visitor_s),
    )
    return rows[0]


def trajectory(conn: Conn, site: str, camera: str, track: str) -> Rows:
    return _rows(
        conn,
        """
        SELECT o.captured_at AS at, o.floor_id, o.x_m, o.y_m
        FROM observation o JOIN track t USING (site_id, camera_id, track_id)
        WHERE o.site_id = %(site)s AND o.camera_id = %(camera)s AND o.track_id = %(track)s
          AND o.captured_at >= t.first_at AND o.captured_at <= t.last_at
        ORDER BY o.captured_at
        """,
        {"site": site, "camera": camera, "track": track},
    )


def visitor_trajectory(conn: Conn, site: str, visitor: str) -> Rows:
    """Floor positions of a stitched visitor over all its local tracks, in time order."""
    return _rows(
        conn,
        """
        SELECT o.captured_at AS at, o.camera_id, o.track_id, o.floor_id, o.x_m, o.y_m
        FROM tracklet_visitor v
        LEFT JOIN visitor_alias a
          ON a.site_id = v.site_id AND a.mode = v.mode AND a.visitor_id = v.visitor_id
        JOIN track t ON t.site_id = v.site_id AND t.camera_id = v.camera_id
                    AND t.track_id = v.track_id
        JOIN observation o ON o.site_id = t.site_id AND o.camera_id = t.camera_id
                          AND o.track_id = t.track_id
                          AND o.captured_at >= t.first_at AND o.captured_at <= t.last_at
        WHERE v.site_id = %(site)s AND coalesce(a.merged_into, v.visitor_id) = %(visitor)s
          AND v.mode = 'combined'
        ORDER BY o.captured_at, o.camera_id
        """,
        {"site": site, "visitor": visitor},
    )


def cameras(conn: Conn, site: str) -> Rows:
    return _rows(
        conn,
        """
        SELECT DISTINCT ON (camera_id) camera_id, sent_at, status, fps, target_fps,
               latency_ms, dropped_frames, detail, interval_s
        FROM heartbeat WHERE site_id = %(site)s
        ORDER BY camera_id, sent_at DESC
        """,
        {"site": site},
    )


def entries_by_local_hour(
    conn: Conn, site: str, lines: list[str], spans: list[tuple[datetime, datetime]], tz: str
) -> Rows:
    """Entries and exits over ``lines`` per site-local day and hour of day, in the spans."""
    where = " OR ".join(f"(minute >= %(lo{i})s AND minute < %(hi{i})s)" for i in range(len(spans)))
    params: dict[str, Any] = {"site": site, "lines": lines, "tz": tz}
    for i, (lo, hi) in enumerate(spans):
        params |= {f"lo{i}": lo, f"hi{i}": hi}
    return _rows(
        conn,
        f"""
        SELECT (minute AT TIME ZONE %(tz)s)::date AS day,
               extract(hour FROM minute AT TIME ZONE %(tz)s)::int AS hour,
               sum(ins)::int AS ins, sum(outs)::int AS outs
        FROM footfall_minute
        WHERE site_id = %(site)s AND line_id = ANY(%(lines)s) AND ({where})
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
        params,
    )


def entries_between(
    conn: Conn, site: str, lines: list[str], lo: datetime, hi: datetime
) -> tuple[int, int]:
    """(entries, exits) over ``lines`` in [lo, hi)."""
    row = conn.execute(
        """
        SELECT coalesce(sum(ins), 0)::int, coalesce(sum(outs), 0)::int FROM footfall_minute
        WHERE site_id = %s AND line_id = ANY(%s) AND minute >= %s AND minute < %s
        """,
        (site, lines, lo, hi),
    ).fetchone()
    return (int(row[0]), int(row[1])) if row else (0, 0)  # type: ignore[call-overload]


def dwell_distribution(
    conn: Conn, site: str, r: TimeRange, edges: list[float], staff: bool = False
) -> Rows:
    """Per zone: visits, dwell quantiles (5, 25, 50, 75, 95 %) and counts per histogram bin
    (staff tracks' visits left out unless ``staff``).

    ``bin`` is ``width_bucket(dwell_s, edges)``: 0 below the first edge, i for
    [edges[i-1], edges[i]), len(edges) at or above the last.
    """
    no_staff = "" if staff else "AND " + _NOT_STAFF.format(t="z")
    return _rows(
        conn,
        f"""
        WITH v AS (
            SELECT zone_id, dwell_s FROM zone_visit z
            WHERE site_id = %(site)s AND enter_at >= %(lo)s AND enter_at < %(hi)s {no_staff}
        ), q AS (
            SELECT zone_id, count(*)::int AS visits,
                   percentile_cont(ARRAY[0.05, 0.25, 0.5, 0.75, 0.95])
                     WITHIN GROUP (ORDER BY dwell_s) AS quantiles
            FROM v GROUP BY zone_id
        ), h AS (
            SELECT zone_id, width_bucket(dwell_s, %(edges)s::float8[]) AS bin, count(*)::int AS n
            FROM v GROUP BY 1, 2
        )
        SELECT q.zone_id, q.visits, q.quantiles,
               array_agg(ARRAY[h.bin, h.n] ORDER BY h.bin) AS bins
        FROM q JOIN h USING (zone_id)
        GROUP BY q.zone_id, q.visits, q.quantiles ORDER BY q.zone_id
        """,
        _p(site, r, edges=edges),
    )


def camera_history(conn: Conn, site: str, r: TimeRange) -> Rows:
    """Per bucket and camera: heartbeat figures (mean fps and latency, dropped frames), and how
    many heartbeats were degraded, offline or error (``errors``)."""
    return _rows(
        conn,
        """
        SELECT time_bucket(%(bucket)s, sent_at, %(tz)s) AS bucket, camera_id,
               count(*)::int AS heartbeats, avg(fps) AS fps, avg(target_fps) AS target_fps,
               avg(latency_ms) AS latency_ms, max(latency_p95_ms) AS latency_p95_ms,
               sum(dropped_frames)::int AS dropped_frames,
               count(*) FILTER (WHERE status = 'degraded')::int AS degraded,
               count(*) FILTER (WHERE status = 'offline')::int AS offline,
               count(*) FILTER (WHERE status = 'error')::int AS errors
        FROM heartbeat
        WHERE site_id = %(site)s AND sent_at >= %(lo)s AND sent_at < %(hi)s
        GROUP BY 1, 2 ORDER BY 1, 2
        """,
        _p(site, r),
    )
