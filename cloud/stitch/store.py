"""The stitcher's database side: read stored tracklets, write decisions, run one pass.

The stitcher runs as a pass over the stored tracklets rather than as a consumer of its own:
a tracklet needs its end (embedding) *and* its floor positions (frame messages on another
topic, which Kafka does not order with it), and both are in the database once ingest has
committed them. A pass (:func:`stitch_pass`) loads the tracklets of the last ``ttl_s`` that
ended at least ``delay_s`` before the newest one (never one later than the clock allows),
replays the ones already decided into the gallery, decides the others and writes them with
``ON CONFLICT DO NOTHING`` — so passes can be repeated, run after a crash, or run while ingest
goes on, and a decision never changes. Visitors the stitcher merges (later evidence showed two
to be one person) go to ``visitor_alias`` (migration 009): the merged id → the id it became,
read back by the next pass and resolved by the API.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np
import psycopg

from cloud.stitch.stitcher import Stitcher, StitchSettings
from cloud.stitch.topology import CameraTopology
from cloud.stitch.tracklets import EPOCH, Tracklets, downsample
from footfall.site import Site

Conn = psycopg.Connection[tuple[object, ...]]

_TRACKLETS = """
SELECT e.camera_id, e.run_id, e.track_id, e.started_at, e.ended_at, e.frame_count,
       e.quality, v.vector, e.embedding_model
FROM tracklet_end e
LEFT JOIN embedding v ON v.site_id = e.site_id AND v.camera_id = e.camera_id
 AND v.run_id = e.run_id AND v.track_id = e.track_id AND v.kind = 'tracklet_end'
 AND v.at = e.ended_at
WHERE e.site_id = %(site)s AND e.ended_at >= %(lo)s AND e.ended_at <= %(hi)s
"""

_PATHS = """
SELECT o.camera_id, o.track_id, extract(epoch FROM o.captured_at)::float8, o.x_m, o.y_m
FROM observation o
WHERE o.site_id = %(site)s AND o.captured_at >= %(lo)s AND o.captured_at <= %(hi)s
  AND o.x_m IS NOT NULL
ORDER BY o.camera_id, o.track_id, o.captured_at
"""

_DECIDED = """
SELECT camera_id, run_id, track_id, started_at, visitor_id FROM tracklet_visitor
WHERE site_id = %(site)s AND mode = %(mode)s AND ended_at >= %(lo)s AND ended_at <= %(hi)s
"""

_CREATE_STAGING = """
CREATE TEMPORARY TABLE IF NOT EXISTS tracklet_visitor_in (
    site_id text, camera_id text, run_id text, track_id text, started_at timestamptz,
    mode text, visitor_id text, ended_at timestamptz
) ON COMMIT DELETE ROWS
"""

_INSERT = """
INSERT INTO tracklet_visitor (site_id, camera_id, run_id, track_id, started_at, mode,
                              visitor_id, ended_at)
SELECT * FROM tracklet_visitor_in ON CONFLICT DO NOTHING
"""


def load_tracklets(conn: Conn, site: Site, lo: datetime, hi: datetime) -> Tracklets:
    """Tracklets of ``site`` that ended in [lo, hi], with their positions about once a second
    (those without appearance too: their embedding is NULL)."""
    p = {"site": site.id, "lo": lo, "hi": hi}
    rows: list[Any] = conn.execute(_TRACKLETS, p).fetchall()
    if rows:
        p["lo"] = min(r[3] for r in rows)
    points: list[Any] = conn.execute(_PATHS, p).fetchall() if rows else []
    paths: dict[tuple[str, str], np.ndarray] = {}
    start = 0
    for i in range(1, len(points) + 1):
        if i == len(points) or points[i][:2] != points[start][:2]:
            arr = np.array([r[2:] for r in points[start:i]], dtype=np.float64)
            paths[(points[start][0], points[start][1])] = downsample(arr)
            start = i
    return Tracklets.build(site, [r[:8] for r in rows], paths, [r[8] for r in rows])


_ALIASES = """
SELECT visitor_id, merged_into FROM visitor_alias WHERE site_id = %(site)s AND mode = %(mode)s
"""

_SAVE_ALIAS = """
INSERT INTO visitor_alias (site_id, mode, visitor_id, merged_into, seen_at)
VALUES (%s, %s, %s, %s, %s)
ON CONFLICT (site_id, mode, visitor_id) DO UPDATE
SET merged_into = EXCLUDED.merged_into, seen_at = greatest(visitor_alias.seen_at, EXCLUDED.seen_at)
"""


def load_aliases(conn: Conn, site_id: str, mode: str) -> dict[str, str]:
    """Visitor ids merged into another (id → the id it became) in ``mode``."""
    rows: list[Any] = conn.execute(_ALIASES, {"site": site_id, "mode": mode}).fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def save_aliases(
    conn: Conn,
    site_id: str,
    mode: str,
    stitcher: Stitcher,
    before: dict[str, str],
) -> int:
    """Write the merges of a pass: every merged id with the id it resolves to now (rows whose
    target was merged on are rewritten, so one lookup always gives the final id)."""
    rows = []
    for vid in stitcher.aliases:
        into = stitcher.resolve(vid)
        if before.get(vid) != into:
            seen = stitcher.merged_seen.get(vid)
            at = EPOCH + timedelta(seconds=seen) if seen is not None else datetime.now(UTC)
            rows.append((site_id, mode, vid, into, at))
    if rows:
        with conn.cursor() as cur:
            cur.executemany(_SAVE_ALIAS, rows)
    return len(rows)


def load_decided(conn: Conn, site_id: str, mode: str, t: Tracklets) -> list[str]:
    """The visitor id decided for each row of ``t`` in ``mode`` ('' where none), as it stands
    now: the id it was merged into, if it was."""
    lo = min((k[3] for k in t.keys), default=EPOCH)
    rows: list[Any] = conn.execute(
        "SELECT v.camera_id, v.run_id, v.track_id, v.started_at, "
        "coalesce(a.merged_into, v.visitor_id) FROM tracklet_visitor v "
        "LEFT JOIN visitor_alias a ON a.site_id = v.site_id AND a.mode = v.mode "
        "AND a.visitor_id = v.visitor_id "
        "WHERE v.site_id = %s AND v.mode = %s AND v.started_at >= %s",
        (site_id, mode, lo),
    ).fetchall()
    found = {(r[0], r[1], r[2], r[3]): str(r[4]) for r in rows}
    return [found.get(k, "") for k in t.keys]


def save(conn: Conn, site_id: str, mode: str, t: Tracklets, ids: Sequence[str]) -> None:
    """Write decisions (rows of ``t`` with a non-empty id) idempotently, in one transaction."""
    with conn.transaction():
        conn.execute(_CREATE_STAGING)
        with conn.cursor().copy("COPY tracklet_visitor_in FROM STDIN") as copy:
            for key, end, vid in zip(t.keys, t.end.tolist(), ids, strict=True):
                if vid:
                    ended = EPOCH + timedelta(seconds=end)
                    copy.write_row((site_id, key[0], key[1], key[2], key[3], mode, vid, ended))
        conn.execute(_INSERT)


@dataclass(frozen=True)
class PassResult:
    tracklets: int
    decided: int
    visitors: int
    merged: int = 0
    """Visitor ids merged into another (or re-pointed) by the pass."""


def stitch_pass(
    conn: Conn,
    site: Site,
    settings: StitchSettings,
    now: datetime | None = None,
    since: datetime | None = None,
    clock: datetime | None = None,
) -> PassResult:
    """Decide the tracklets that ended at least ``delay_s`` before ``now`` and are not decided
    yet; see the module docstring. Tracklets that ended before ``since`` (default: ``ttl_s``
    before) are not looked at.

    ``now`` defaults to the newest stored tracklet end, bounded by the clock (``clock``,
    default the service's): ends more than ``future_tolerance_s`` after it cannot be real and
    are left out, so one future-dated tracklet neither becomes "now" (which would freeze the
    site's stitching until then) nor is decided (retention deletes it)."""
    if now is None:
        latest = (clock or datetime.now(UTC)) + timedelta(seconds=settings.future_tolerance_s)
        row: Any = conn.execute(
            "SELECT max(ended_at) FROM tracklet_end WHERE site_id = %s AND ended_at <= %s",
            (site.id, latest),
        ).fetchone()
        if row is None or row[0] is None:
            return PassResult(0, 0, 0)
        now = row[0]
    assert now is not None
    hi = now - timedelta(seconds=settings.delay_s)
    lo = since if since is not None else hi - timedelta(seconds=settings.ttl_s)
    t = load_tracklets(conn, site, lo, hi)
    decided_rows: list[Any] = conn.execute(
        _DECIDED, {"site": site.id, "mode": settings.mode, "lo": lo, "hi": hi}
    ).fetchall()
    decided = {(r[0], r[1], r[2], r[3]): str(r[4]) for r in decided_rows}
    fixed = {i: decided[k] for i, k in enumerate(t.keys) if k in decided}
    dims = t.embedding.shape[1] if len(t) else 1
    before = load_aliases(conn, site.id, settings.mode)
    stitcher = Stitcher(CameraTopology.of(site), settings, dims, aliases=before)
    ids = stitcher.run(t, fixed)
    new = [vid if i not in fixed else "" for i, vid in enumerate(ids)]
    save(conn, site.id, settings.mode, t, new)
    merged = save_aliases(conn, site.id, settings.mode, stitcher, before)
    return PassResult(len(t), sum(1 for v in new if v), len(set(ids)), merged)
