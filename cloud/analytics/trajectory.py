"""Line crossings and zone visits of one local track, from its floor positions.

A trajectory is a time-ordered sequence of :class:`Point` (UTC time, floor id, x and y in metres).
Both functions are deterministic functions of the trajectory, so re-deriving a track from its
stored observations always gives the same rows (which makes derived analytics exactly-once).
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


def line_crossings(
    points: Sequence[Point], line: CountingLine, hysteresis_m: float
) -> list[Crossing]:
    """Crossings of ``line`` with hysteresis.

    A point confirms a side when it is at least ``hysteresis_m`` from the line, on the in side or
    the out side, and beside the segment (its projection within ``hysteresis_m`` of the ends).
    Points nearer than that to the line change nothing, so someone standing on the line is not
    counted again and again. A crossing is counted, at the time of the confirming point, when the
    confirmed side changes. A point beside the line's extension (not beside the segment) forgets
    the confirmed side, so walking around the end of a line is not a crossing.
    """
    (ax, ay), (bx, by) = line.a, line.b
    length = math.dist(line.a, line.b)
    ux, uy = (bx - ax) / length, (by - ay) / length
    sign = 1.0 if line.in_side == Side.RIGHT else -1.0
    out: list[Crossing] = []
    side = 0
    for p in points:
        if p.floor_id != line.floor:
            side = 0
            continue
        rx, ry = p.x_m - ax, p.y_m - ay
        along = rx * ux + ry * uy
        if along < -hysteresis_m or along > length + hysteresis_m:
            side = 0
            continue
        distance = sign * (ux * ry - uy * rx)  # > 0 on the in side (y points down)
        if distance >= hysteresis_m:
            new = 1
        elif distance <= -hysteresis_m:
            new = -1
        else:
            continue
        if side and new != side:
            out.append(Crossing(line.id, p.at, new))
        side = new
    return out


def zone_visits(
    points: Sequence[Point], zone: Zone, min_visit_s: float, gap_s: float
) -> list[Visit]:
    """Visits of ``zone``: runs of points inside it, from the first to the last point inside.

    Two points inside the zone more than ``gap_s`` apart (the person was outside, or unseen, in
    between) belong to different visits. Visits shorter than ``min_visit_s`` are dropped.
    """
    visits: list[Visit] = []
    enter: datetime | None = None
    last: datetime | None = None
    # One vectorised test for the whole track: the same predicate as Zone.contains (inside or
    # on the edge), without building a shapely Point per position (the derivation's main cost).
    xs = np.fromiter((p.x_m for p in points), dtype=float, count=len(points))
    ys = np.fromiter((p.y_m for p in points), dtype=float, count=len(points))
    inside = shapely.intersects_xy(zone.shape(), xs, ys).tolist()
    for p, is_inside in zip(points, inside, strict=True):
        if p.floor_id != zone.floor or not is_inside:
            continue
        if enter is None or last is None:
            enter = p.at
        elif (p.at - last).total_seconds() > gap_s:
            visits.append(Visit(zone.id, enter, last))
            enter = p.at
        last = p.at
    if enter is not None and last is not None:
        visits.append(Visit(zone.id, enter, last))
    return [v for v in visits if v.dwell_s >= min_visit_s]
