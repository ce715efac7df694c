"""The staff pass: recognise staff among the stored tracks and record them (``staff_track``).

Run by the stitch service (``footfall cloud stitch``) every :data:`STAFF_PASS_S`: it reads the
tracklets that ended in the last ``present_s`` (the longest a staff rule looks back) plus
:data:`MARGIN_S`, classifies them (:func:`cloud.reports.staff.classify_staff`) and inserts the
staff tracks with ``ON CONFLICT DO NOTHING``, so passes can repeat and a decision never changes.
The API's footfall, dwell and unique visitors leave these tracks out by default.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import psycopg

from cloud.reports.staff import classify_staff
from cloud.reports.types import TrackVisit
from cloud.stitch.store import load_tracklets
from footfall.site import Site

Conn = psycopg.Connection[tuple[object, ...]]
STAFF_PASS_S = 60.0
"""How often the stitch service runs the staff pass (seconds)."""
MARGIN_S = 600.0
FUTURE_TOLERANCE_S = 60.0


def staff_pass(conn: Conn, site: Site, now: datetime | None = None) -> int:
    """Record the staff tracks among those that ended up to ``now`` (default: the newest stored
    end, at most a minute after the clock); returns how many were new."""
    if now is None:
        latest = datetime.now(UTC) + timedelta(seconds=FUTURE_TOLERANCE_S)
        row: Any = conn.execute(
            "SELECT max(ended_at) FROM tracklet_end WHERE site_id = %s AND ended_at <= %s",
            (site.id, latest),
        ).fetchone()
        if row is None or row[0] is None:
            return 0
        now = row[0]
    assert now is not None
    lo = now - timedelta(seconds=site.reporting.staff.present_s + MARGIN_S)
    t = load_tracklets(conn, site, lo, now)
    if not len(t):
        return 0
    rows: list[Any] = conn.execute(
        "SELECT camera_id, track_id, zone_id, enter_at, exit_at FROM zone_visit "
        "WHERE site_id = %s AND enter_at >= %s AND enter_at <= %s",
        (site.id, lo - timedelta(hours=1), now),
    ).fetchall()
    staff = classify_staff(site, t, [TrackVisit(*r) for r in rows])
    new = [(k, staff.tracks[(k[0], k[2])]) for k in t.keys if (k[0], k[2]) in staff.tracks]
    if not new:
        return 0
    cur = conn.execute(
        "INSERT INTO staff_track (site_id, camera_id, track_id, started_at, rule) "
        "SELECT %s, * FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::text[]) "
        "ON CONFLICT DO NOTHING",
        (
            site.id,
            [k[0] for k, _ in new],
            [k[2] for k, _ in new],
            [k[3] for k, _ in new],
            [rule for _, rule in new],
        ),
    )
    return cur.rowcount
