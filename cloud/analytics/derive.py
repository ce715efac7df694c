"""Derive dirty tracks from stored observations, and keep the per-minute rollups in step.

Ingest marks every track it adds observations to as dirty, with the earliest time it added
(``dirty_from``). :func:`derive_dirty` takes a set of dirty tracks (row locks, so ingest waits
rather than racing) and derives each one *incrementally*: it reads only the observations after
the track's watermark and resumes from the state the previous pass ended in (``track_state``:
where the track stands with each line -- its established side, and a side seen but not yet
established for ``line_establish_s``; the open visit of each zone; see
:func:`footfall.site.rules.resume_crossings`), appends the new crossings (one whose side was
pending is dated when it was first seen, before the new observations), upserts the visits that
changed, and saves the new state. A track with no state (new, or derived before the
state existed) or with a late observation (at or before its watermark) is re-derived whole: its
crossings and visits are deleted and derived again from all its observations. Either way the
derived rows equal a whole re-derivation, so cost is linear in the new observations.

Then the rollup minutes the changes span are recomputed from the derived tables and the tracks
are marked clean, all in one transaction with the state. Derived rows are a deterministic
function of the stored observations, so redelivered messages, a crashed ingest process or a
replay leave them unchanged. A per-site advisory lock serialises derivation between ingest
processes (rollup minutes are shared by all cameras).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import numpy as np
import psycopg

from footfall.site import Site
from footfall.site.rules import (
    Crossing,
    LineState,
    OpenVisit,
    Track,
    Visit,
    crossing_codes,
    inside_mask,
    resume_crossings_coded,
    resume_visits_masked,
)

Conn = psycopg.Connection[tuple[object, ...]]
TrackKey = tuple[str, str]  # (camera_id, track_id)

_TICK = timedelta(microseconds=1)

MAX_VISIT = timedelta(hours=12)
"""Longest zone visit the occupancy rollup looks back for."""

_LOCK_DIRTY = """
SELECT camera_id, track_id, first_at, last_at, dirty_from FROM track
WHERE site_id = %s AND dirty
ORDER BY camera_id, track_id
LIMIT %s
FOR UPDATE
"""

_LOCK_RANGE = """
SELECT camera_id, track_id, first_at, last_at, NULL FROM track
WHERE site_id = %s AND last_at >= %s AND first_at < %s
ORDER BY camera_id, track_id
FOR UPDATE
"""

_LOAD_POINTS = """
SELECT o.camera_id, o.track_id, o.captured_at, o.floor_id, o.x_m, o.y_m
FROM observation o
JOIN unnest(%s::text[], %s::text[], %s::timestamptz[]) AS t(camera_id, track_id, after)
  ON o.track_id = t.track_id AND o.captured_at > t.after AND o.camera_id = t.camera_id
WHERE o.site_id = %s AND o.captured_at > %s AND o.captured_at <= %s AND o.x_m IS NOT NULL
ORDER BY o.camera_id, o.track_id, o.captured_at
"""

_LOAD_STATES = """
SELECT s.camera_id, s.track_id, s.watermark, s.lines, s.zones
FROM track_state s JOIN unnest(%s::text[], %s::text[]) AS t(camera_id, track_id)
  ON s.camera_id = t.camera_id AND s.track_id = t.track_id
WHERE s.site_id = %s
"""

_SAVE_STATES = """
INSERT INTO track_state (site_id, camera_id, track_id, watermark, lines, zones)
SELECT %s, * FROM unnest(%s::text[], %s::text[], %s::timestamptz[], %s::jsonb[], %s::jsonb[])
ORDER BY 1, 2, 3
ON CONFLICT (site_id, camera_id, track_id) DO UPDATE
SET watermark = excluded.watermark, lines = excluded.lines, zones = excluded.zones
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

_UPSERT_VISITS = """
INSERT INTO zone_visit (site_id, zone_id, camera_id, track_id, enter_at, exit_at, dwell_s)
SELECT %s, * FROM unnest(%s::text[], %s::text[], %s::text[], %s::timestamptz[],
                         %s::timestamptz[], %s::double precision[])
ON CONFLICT (site_id, camera_id, track_id, zone_id, enter_at) DO UPDATE
SET exit_at = excluded.exit_at, dwell_s = excluded.dwell_s
"""

_MARK_CLEAN = """
UPDATE track t SET dirty = false, dirty_from = NULL
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
    whole: int = 0
    """Tracks re-derived whole (new, or with late observations); the rest were incremental."""


@dataclass
class TrackState:
    """Where the derivation of one track stopped: resumed by the next pass."""

    watermark: datetime | None = None
    lines: dict[str, LineState] = field(default_factory=dict)
    zones: dict[str, OpenVisit] = field(default_factory=dict)

    @classmethod
    def from_row(cls, watermark: object, lines: object, zones: object) -> TrackState:
        assert isinstance(lines, dict) and isinstance(zones, dict)
        return cls(
            watermark if isinstance(watermark, datetime) else None,
            {str(k): _line_state(v) for k, v in lines.items()},
            {
                str(k): (datetime.fromisoformat(v[0]), datetime.fromisoformat(v[1]))
                for k, v in zones.items()
            },
        )

    def lines_json(self) -> str:
        """Per line: the established side (an int, as before line_establish_s existed) or,
        while another side is pending, [side, pending side, its first time]."""
        out: dict[str, object] = {}
        for k, v in self.lines.items():
            if v.pending and v.since is not None:
                out[k] = [v.side, v.seen, v.since.isoformat()]
            elif v.side:
                out[k] = v.side
        return json.dumps(out, sort_keys=True)

    def pending_since(self) -> list[datetime]:
        """First times of sides pending establishment: a crossing may be dated then."""
        return [v.since for v in self.lines.values() if v.pending and v.since is not None]

    def zones_json(self) -> str:
        return json.dumps(
            {k: [e.isoformat(), last.isoformat()] for k, (e, last) in self.zones.items()},
            sort_keys=True,
        )


def _line_state(value: object) -> LineState:
    """A line's state as :meth:`TrackState.lines_json` stores it."""
    if isinstance(value, list):
        side, seen, since = value
        return LineState(int(side), int(seen), datetime.fromisoformat(str(since)))
    side = int(value)  # type: ignore[call-overload]
    return LineState(side, side)


def _derive_coded(
    at: Sequence[datetime],
    codes: Sequence[np.ndarray],
    masks: Sequence[np.ndarray],
    site: Site,
    state: TrackState,
) -> tuple[list[Crossing], list[Visit], TrackState]:
    """Resume one track's derivation from ``state`` over its next points (time order at ``at``),
    given their per-line crossing codes and per-zone inside masks."""
    crossings: list[Crossing] = []
    visits: list[Visit] = []
    new = TrackState(at[-1] if len(at) else state.watermark)
    for line, line_codes in zip(site.lines, codes, strict=True):
        found, line_state = resume_crossings_coded(
            at,
            line_codes,
            line.id,
            site.counting.line_establish_s,
            state.lines.get(line.id, LineState()),
        )
        crossings += found
        if line_state.side or line_state.pending:
            new.lines[line.id] = line_state
    for zone, mask in zip(site.zones, masks, strict=True):
        changed, open_visit = resume_visits_masked(
            at,
            mask,
            zone.id,
            site.counting.min_visit_s,
            site.counting.visit_gap_s,
            state.zones.get(zone.id),
        )
        visits += changed
        if open_visit is not None:
            new.zones[zone.id] = open_visit
    return crossings, visits, new


def _spans(rows: list[tuple[object, ...]]) -> dict[TrackKey, tuple[int, int]]:
    """Rows in (camera, track, ...) order: each track's [start, end) row range."""
    out: dict[TrackKey, tuple[int, int]] = {}
    start = 0
    for end in range(1, len(rows) + 1):
        if end < len(rows) and rows[end][:2] == rows[start][:2]:
            continue
        out[(str(rows[start][0]), str(rows[start][1]))] = (start, end)
        start = end
    return out


def _floor_minute(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


def _site_lock(conn: Conn, site_id: str) -> None:
    conn.execute("SELECT pg_advisory_xact_lock(hashtext('footfall-derive/' || %s))", (site_id,))


def _load_states(
    conn: Conn, site_id: str, cams: list[str], tids: list[str]
) -> dict[TrackKey, TrackState]:
    cur = conn.execute(_LOAD_STATES, (cams, tids, site_id))
    return {
        (str(cam), str(tid)): TrackState.from_row(wm, lines, zones)
        for cam, tid, wm, lines, zones in cur.fetchall()
    }


def derive_tracks(
    conn: Conn,
    site: Site,
    rows: list[tuple[object, ...]],
    incremental: bool = True,
) -> DeriveResult:
    """Derive the locked tracks ``rows`` (camera, track, first_at, last_at, dirty_from).

    With ``incremental`` a track resumes from its saved state when all its new observations
    (from ``dirty_from``) are after its watermark; otherwise, and always without
    ``incremental``, it is re-derived whole. The caller commits.
    """
    result = DeriveResult(tracks=len(rows))
    if not rows:
        return result
    cams = [str(r[0]) for r in rows]
    tids = [str(r[1]) for r in rows]
    saved = _load_states(conn, site.id, cams, tids) if incremental else {}
    states: dict[TrackKey, TrackState] = {}
    after: list[datetime] = []
    whole_cams: list[str] = []
    whole_tids: list[str] = []
    lo: datetime | None = None  # earliest derived row that may change (rollup range)
    whole_lo: datetime | None = None
    whole_hi: datetime | None = None
    hi: datetime = max(r[3] for r in rows)  # type: ignore[type-var,assignment]
    for cam, tid, first_at, last_at, dirty_from in rows:
        key = (str(cam), str(tid))
        assert isinstance(first_at, datetime) and isinstance(last_at, datetime)
        state = saved.get(key)
        if (
            state is not None
            and state.watermark is not None
            and isinstance(dirty_from, datetime)
            and dirty_from > state.watermark
        ):
            states[key] = state
            after.append(state.watermark)
            changed_from = min(
                [dirty_from, *(e for e, _ in state.zones.values()), *state.pending_since()]
            )
        else:
            states[key] = TrackState()
            after.append(first_at - _TICK)
            whole_cams.append(key[0])
            whole_tids.append(key[1])
            whole_lo = first_at if whole_lo is None else min(whole_lo, first_at)
            whole_hi = last_at if whole_hi is None else max(whole_hi, last_at)
            changed_from = first_at
        lo = changed_from if lo is None else min(lo, changed_from)
    assert lo is not None
    result.whole = len(whole_cams)
    cur = conn.execute(_LOAD_POINTS, (cams, tids, after, site.id, min(after), hi))
    loaded = cur.fetchall()
    spans = _spans(loaded)
    # The geometry of all points at once (one numpy/shapely call per line and zone), then each
    # track resumes over its slice: only the points that change something are visited in Python.
    if loaded:
        _, _, at_col, floor_col, x_col, y_col = zip(*loaded, strict=True)
        points = Track.columns(at_col, floor_col, x_col, y_col)
    else:
        points = Track.columns([], [], [], [])
    codes = [crossing_codes(points, line, site.counting.line_hysteresis_m) for line in site.lines]
    masks = [inside_mask(points, zone) for zone in site.zones]
    crossings: list[tuple[TrackKey, Crossing]] = []
    visits: list[tuple[TrackKey, Visit]] = []
    for key in sorted(states):
        a, b = spans.get(key, (0, 0))
        found, changed, states[key] = _derive_coded(
            points.at[a:b],
            [c[a:b] for c in codes],
            [m[a:b] for m in masks],
            site,
            states[key],
        )
        crossings += [(key, c) for c in found]
        visits += [(key, v) for v in changed]
    if whole_cams:
        params = (whole_cams, whole_tids, site.id, whole_lo, whole_hi)
        conn.execute(_DELETE_CROSSINGS, params)
        conn.execute(_DELETE_VISITS, params)
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
            _UPSERT_VISITS,
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
    keys = sorted(states)
    conn.execute(
        _SAVE_STATES,
        (
            site.id,
            [k[0] for k in keys],
            [k[1] for k in keys],
            [states[k].watermark for k in keys],
            [states[k].lines_json() for k in keys],
            [states[k].zones_json() for k in keys],
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


def derive_dirty(conn: Conn, site: Site, max_tracks: int = 2000) -> DeriveResult:
    """Re-derive up to ``max_tracks`` dirty tracks of ``site`` in one transaction."""
    with conn.transaction():
        _site_lock(conn, site.id)
        rows = conn.execute(_LOCK_DIRTY, (site.id, max_tracks)).fetchall()
        return derive_tracks(conn, site, rows)


def derive_all_dirty(conn: Conn, site: Site) -> DeriveResult:
    """Derive until no dirty track is left."""
    total = DeriveResult()
    while True:
        step = derive_dirty(conn, site)
        if step.tracks == 0:
            return total
        total.tracks += step.tracks
        total.crossings += step.crossings
        total.visits += step.visits
        total.whole += step.whole


def recompute(conn: Conn, site: Site, start: datetime, end: datetime) -> DeriveResult:
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
        result = derive_tracks(conn, site, rows, incremental=False)
        rebuild_rollups(conn, site.id, lo, hi)
        rebuild_heatmap(conn, site.id, lo, hi, site.counting.heatmap_cell_m)
    return result


def stored_span(conn: Conn, site_id: str) -> tuple[datetime, datetime] | None:
    """[first, after last) time of the site's stored tracks; None when it has none."""
    row = conn.execute(
        "SELECT min(first_at), max(last_at) FROM track WHERE site_id = %s", (site_id,)
    ).fetchone()
    conn.commit()
    if row is None or row[0] is None:
        return None
    first, last = row
    assert isinstance(first, datetime) and isinstance(last, datetime)
    return first, last + timedelta(microseconds=1)


def rebuild_heatmap(conn: Conn, site_id: str, lo: datetime, hi: datetime, cell_m: float) -> None:
    """Recompute heatmap minutes in [lo, hi) (whole minutes) from stored observations."""
    params = {"site": site_id, "lo": lo, "hi": hi, "cell": cell_m}
    for sql in _REBUILD_HEATMAP:
        conn.execute(sql, params)
