"""Line crossings and zone visits of one local track, from its floor positions.

A trajectory is a time-ordered sequence of :class:`Point` (UTC time, floor id, x and y in metres).
Both functions are deterministic functions of the trajectory, so re-deriving a track from its
stored observations always gives the same rows (which makes derived analytics exactly-once).

Both can also resume: :func:`resume_crossings` and :func:`resume_visits` take the state that the
previous part of the trajectory ended in (the confirmed side of a line, the open visit of a zone)
and return the new state with their rows, so a trajectory cut into consecutive parts gives the
same rows as the whole (incremental derivation, see :mod:`cloud.analytics.derive`). They take
the trajectory as a :class:`Track` (columns as arrays, built once per track) or as points, and
do the per-point geometry vectorised: only points that change something are visited in Python.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

import numpy as np
import shapely

from footfall.site import CountingLine, Side, Zone


@dataclass(frozen=True)
class Point:
    at: datetime
    floor_id: str
    x_m: float
    y_m: float


@dataclass(frozen=True)
class Crossing:
    line_id: str
    at: datetime
    direction: int
    """+1 into the line's ``in_side``, -1 out of it."""


@dataclass(frozen=True)
class Visit:
    zone_id: str
    enter_at: datetime
    exit_at: datetime

    @property
    def dwell_s(self) -> float:
        return (self.exit_at - self.enter_at).total_seconds()


OpenVisit = tuple[datetime, datetime]
"""(enter_at, last point inside) of a zone visit that later points may still extend."""


@dataclass(frozen=True)
class Track:
    """A trajectory as columns: times, floor ids and positions as arrays of the same length."""

    at: list[datetime]
    floor: np.ndarray
    x: np.ndarray
    y: np.ndarray

    @classmethod
    def of(cls, points: Sequence[Point] | Track) -> Track:
        if isinstance(points, Track):
            return points
        return cls.columns(
            [p.at for p in points],
            [p.floor_id for p in points],
            [p.x_m for p in points],
            [p.y_m for p in points],
        )

    @classmethod
    def columns(
        cls,
        at: Sequence[datetime],
        floor: Sequence[str],
        x: Sequence[float],
        y: Sequence[float],
    ) -> Track:
        return cls(
            list(at),
            np.array(floor, dtype=object),
            np.array(x, dtype=float),
            np.array(y, dtype=float),
        )

    def __len__(self) -> int:
        return len(self.at)


def line_crossings(
    points: Sequence[Point] | Track, line: CountingLine, hysteresis_m: float
) -> list[Crossing]:
    """Crossings of ``line`` along a whole trajectory (see :func:`resume_crossings`)."""
    return resume_crossings(points, line, hysteresis_m, 0)[0]


def resume_crossings(
    points: Sequence[Point] | Track, line: CountingLine, hysteresis_m: float, side: int
) -> tuple[list[Crossing], int]:
    """Crossings of ``line`` with hysteresis.

    A point confirms a side when it is at least ``hysteresis_m`` from the line, on the in side or
    the out side, and beside the segment (its projection within ``hysteresis_m`` of the ends).
    Points nearer than that to the line change nothing, so someone standing on the line is not
    counted again and again. A crossing is counted, at the time of the confirming point, when the
    confirmed side changes. A point beside the line's extension (not beside the segment) forgets
    the confirmed side, so walking around the end of a line is not a crossing.

    ``side`` is the confirmed side before ``points`` (0: none); returns the crossings and the
    confirmed side after them.
    """
    track = Track.of(points)
    return resume_crossings_coded(
        track.at, crossing_codes(track, line, hysteresis_m), line.id, side
    )


def crossing_codes(track: Track, line: CountingLine, hysteresis_m: float) -> np.ndarray:
    """Per point: +1 / -1 confirms that side of ``line``, 0 forgets it, 2 changes nothing."""
    if not len(track):
        return np.zeros(0, dtype=np.int64)
    (ax, ay), (bx, by) = line.a, line.b
    length = math.dist(line.a, line.b)
    ux, uy = (bx - ax) / length, (by - ay) / length
    sign = 1.0 if line.in_side == Side.RIGHT else -1.0
    h = hysteresis_m
    rx, ry = track.x - ax, track.y - ay
    along = rx * ux + ry * uy
    distance = sign * (ux * ry - uy * rx)  # > 0 on the in side (y points down)
    new = np.where(distance >= h, 1, np.where(distance <= -h, -1, 2))
    beside = (track.floor == line.floor) & (along >= -h) & (along <= length + h)
    return np.where(beside, new, 0)


def resume_crossings_coded(
    at: Sequence[datetime], codes: np.ndarray, line_id: str, side: int
) -> tuple[list[Crossing], int]:
    """:func:`resume_crossings` from the :func:`crossing_codes` of the points at times ``at``."""
    idx = np.flatnonzero(codes != 2)
    if not len(idx):
        return [], side
    sides = codes[idx]
    before = np.empty_like(sides)
    before[0] = side
    before[1:] = sides[:-1]
    changed = idx[(sides != 0) & (before != 0) & (sides != before)]
    out = [Crossing(line_id, at[i], int(codes[i])) for i in changed.tolist()]
    return out, int(sides[-1])


def zone_visits(
    points: Sequence[Point] | Track, zone: Zone, min_visit_s: float, gap_s: float
) -> list[Visit]:
    """Visits of ``zone`` along a whole trajectory (see :func:`resume_visits`)."""
    return resume_visits(points, zone, min_visit_s, gap_s, None)[0]


def resume_visits(
    points: Sequence[Point] | Track,
    zone: Zone,
    min_visit_s: float,
    gap_s: float,
    open_visit: OpenVisit | None,
) -> tuple[list[Visit], OpenVisit | None]:
    """Visits of ``zone``: runs of points inside it, from the first to the last point inside.

    Two points inside the zone more than ``gap_s`` apart (the person was outside, or unseen, in
    between) belong to different visits. Visits shorter than ``min_visit_s`` are dropped.

    ``open_visit`` is the last visit before ``points`` (None: none). Returns the visits that end
    in ``points`` or before them but may have changed (the open visit given, closed or extended,
    and every later one), and the visit that is open after them. Rows keyed by (zone, enter_at)
    and overwritten with these give the same table as the whole trajectory's visits.
    """
    track = Track.of(points)
    return resume_visits_masked(
        track.at, inside_mask(track, zone), zone.id, min_visit_s, gap_s, open_visit
    )


def inside_mask(track: Track, zone: Zone) -> np.ndarray:
    """Per point: inside ``zone`` or on its edge (the predicate of Zone.contains), vectorised."""
    if not len(track):
        return np.zeros(0, dtype=bool)
    on_floor: np.ndarray = track.floor == zone.floor
    return on_floor & shapely.intersects_xy(zone.shape(), track.x, track.y)


def resume_visits_masked(
    at: Sequence[datetime],
    inside: np.ndarray,
    zone_id: str,
    min_visit_s: float,
    gap_s: float,
    open_visit: OpenVisit | None,
) -> tuple[list[Visit], OpenVisit | None]:
    """:func:`resume_visits` from the :func:`inside_mask` of the points at times ``at``."""
    visits: list[Visit] = []
    enter, last = open_visit if open_visit is not None else (None, None)
    for i in np.flatnonzero(inside).tolist():
        t = at[i]
        if enter is None or last is None:
            enter = t
        elif (t - last).total_seconds() > gap_s:
            visits.append(Visit(zone_id, enter, last))
            enter = t
        last = t
    state: OpenVisit | None = None
    if enter is not None and last is not None:
        visits.append(Visit(zone_id, enter, last))
        state = (enter, last)
    return [v for v in visits if v.dwell_s >= min_visit_s], state
