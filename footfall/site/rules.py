"""The counting rules: how positions over time become line crossings, zone visits and heatmap
cells, and their settings. The one home of these rules: the cloud's analytics, the simulator's
ground truth and the replay evaluation all call this module.

* :class:`CountingRules` -- the settings, a site's ``counting:`` section (validated with the site
  model, defaults below), so every process that reads or writes a site's data uses the same.
* :func:`step_crossings` -- a path's steps that cross a counting line's segment (the plain
  geometric test, no hysteresis: the truth of noise-free paths, and
  :meth:`footfall.site.CountingLine.crossing`).
* :func:`line_crossings` / :func:`resume_crossings` -- crossings with hysteresis, for measured
  (noisy) tracks: a side counts only once confirmed ``line_hysteresis_m`` away from the line, and
  a crossing only between sides the track was established on, each for ``line_establish_s``
  (so a track that jumps across the line at an identity switch, for a moment, is not counted).
* :func:`visit_runs` -- the zone-visit rule on times of points inside a zone: a gap longer than
  ``visit_gap_s`` ends a visit, a visit shorter than ``min_visit_s`` is none;
  :func:`zone_visits` / :func:`resume_visits` apply it to a :class:`Track`.

A trajectory is a time-ordered sequence of :class:`Point` (UTC time, floor id, x and y in metres),
or a :class:`Track` (the same as columns). Everything is a deterministic function of the
trajectory, so re-deriving a track from its stored observations gives the same rows (which makes
the cloud's derived analytics exactly-once). The ``resume_*`` functions take the state the
previous part of the trajectory ended in (the :class:`LineState` of a line, the open visit of a
zone) and return the new state with their rows, so a trajectory cut into consecutive parts gives
the same rows as the whole. The per-point geometry is vectorised: only points that change something
are visited in Python.

Lengths are in the coordinates' unit: metres on a floor (the evaluation also counts in image
pixels with the same rule).
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

import numpy as np
import shapely
from pydantic import ConfigDict, Field

from footfall.site.base import Float, SiteModel

if TYPE_CHECKING:
    from footfall.site.line import CountingLine
    from footfall.site.zone import Zone


ESTABLISH_S = 0.5
"""Default ``line_establish_s``: chosen on every replay-evaluation sequence and the simulator
together (figures: the README, "Replay evaluation")."""

MIN_VISITOR_S = 12.0
"""Default ``min_visitor_s``: chosen on the PETS two-view site and the simulator's ``moderate``
and ``hard`` together (README, "Stitching figures")."""

ESTABLISH_S_BEFORE = 0.0
"""``line_establish_s`` of rules recorded before the setting existed: every confirmed side
counted at once (:func:`footfall.site.rules.stored_counting_rules`)."""


class CountingRules(SiteModel):
    """A site's ``counting:`` section: how its trajectories become counts.

    Stored data depends on these (crossings, visits and heatmap cells are derived with them), so
    they belong to the site, not to a process: ingest, recompute and the API all read them from
    the site config, and the cloud refuses to mix data derived with other values.
    """

    model_config = ConfigDict(frozen=True)

    line_hysteresis_m: Float = Field(
        default=0.3,
        ge=0.0,
        le=10.0,
        description="A person must be this far from a counting line on the new side before a "
        "crossing counts (metres; someone standing on the line is not counted again and again).",
    )
    line_establish_s: Float = Field(
        default=ESTABLISH_S,
        ge=0.0,
        le=60.0,
        description="A crossing counts only between sides a track was seen on, at least "
        "line_hysteresis_m from the line, for this long each (seconds; a track that jumps across "
        "the line at an identity switch for a moment is not counted; 0: any confirmed side).",
    )
    min_visit_s: Float = Field(
        default=5.0,
        ge=0.0,
        description="Zone visits shorter than this are not visits (people walking past a "
        "corner), seconds.",
    )
    visit_gap_s: Float = Field(
        default=2.0,
        ge=0.0,
        description="A track outside a zone (or unseen) for up to this long is still in its "
        "visit (jitter at the edge), seconds.",
    )
    min_visitor_s: Float = Field(
        default=MIN_VISITOR_S,
        ge=0.0,
        le=3600.0,
        description="A stitched visitor counts as a unique visitor once its tracks were seen "
        "for this long in all (seconds, every track from its start to its end, summed): short "
        "fragments (a false detection, a glimpse at the edge of a view) are held back. Lower it "
        "on a site whose cameras see people only briefly (entrances only).",
    )
    heatmap_cell_m: Float = Field(
        default=0.5,
        ge=0.05,
        le=100.0,
        description="Base heatmap cell, metres; the API serves whole multiples of it.",
    )

    def describe(self) -> str:
        """One line for people: ``line_hysteresis_m=0.3, line_establish_s=0.5, …``."""
        return ", ".join(f"{k}={v:g}" for k, v in self.model_dump().items())


def stored_counting_rules(data: Mapping[str, object]) -> CountingRules:
    """Rules recorded with stored data (``CountingRules.model_dump()``), read back. A setting
    added later is missing from rules recorded before it: their data was derived without it, so
    it reads as the behaviour of then (``line_establish_s`` 0), never as today's default, and a
    config with today's default is told to re-derive."""
    return CountingRules.model_validate({"line_establish_s": ESTABLISH_S_BEFORE, **data})


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
class LineState:
    """Where a track stands with one counting line after some of its points."""

    side: int = 0
    """The established side: +1 in, -1 out, 0 none (not yet, or forgotten)."""
    seen: int = 0
    """The side of the latest confirming points (0: none, or forgotten)."""
    since: datetime | None = None
    """The first of those points, while ``seen`` is not yet established (else None)."""

    @property
    def pending(self) -> bool:
        """The latest confirming points are on a side not established yet."""
        return self.seen != self.side


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


# --- line crossings ---------------------------------------------------------------------------


def step_crossings(
    line: CountingLine, x: np.ndarray, y: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Steps i → i+1 of a path (x, y) that cross the segment ``line.a``–``line.b``.

    Returns the indices of the steps' ends (i + 1) and their directions (+1 into the line's
    ``in_side``, -1 out of it). A step crosses when its ends lie strictly on opposite sides of the
    line and it meets the closed segment (passing exactly through an end counts, whichever way
    the step goes); a step that starts or ends on the line crosses nothing.
    """
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    (ax, ay), (bx, by) = line.a, line.b
    side = (bx - ax) * (y - ay) - (by - ay) * (x - ax)  # > 0: right of a→b (y points down)
    s0, s1 = side[:-1], side[1:]
    flip = (s0 != 0) & (s1 != 0) & ((s0 > 0) != (s1 > 0))
    dx, dy = np.diff(x), np.diff(y)
    t0 = dx * (ay - y[:-1]) - dy * (ax - x[:-1])  # a and b on either side of the step's line
    t1 = dx * (by - y[:-1]) - dy * (bx - x[:-1])
    within = (t0 == 0) | (t1 == 0) | ((t0 > 0) != (t1 > 0))
    idx = np.flatnonzero(flip & within)
    entered_right = s1[idx] > 0
    direction = np.where(entered_right == (line.in_side == "right"), 1, -1)
    return idx + 1, direction


def line_crossings(
    points: Sequence[Point] | Track,
    line: CountingLine,
    hysteresis_m: float,
    establish_s: float,
) -> list[Crossing]:
    """Crossings of ``line`` along a whole trajectory (see :func:`resume_crossings`)."""
    return resume_crossings(points, line, hysteresis_m, establish_s, LineState())[0]


def resume_crossings(
    points: Sequence[Point] | Track,
    line: CountingLine,
    hysteresis_m: float,
    establish_s: float,
    state: LineState,
) -> tuple[list[Crossing], LineState]:
    """Crossings of ``line`` with hysteresis, between established sides.

    A point confirms a side when it is at least ``hysteresis_m`` from the line, on the in side or
    the out side, and beside the segment (its projection within ``hysteresis_m`` of the ends).
    Points nearer than that to the line change nothing, so someone standing on the line is not
    counted again and again. A point beside the line's extension (not beside the segment) forgets
    the side, so walking around the end of a line is not a crossing.

    A side is *established* once confirming points of it span ``establish_s`` (from the first of
    them to a later one, with no point confirming the other side or forgetting in between). A
    crossing is counted when the established side changes, at the time of the first confirming
    point on the new side (where the plain rule would count it). So a track must be seen on
    both sides, each for ``establish_s``: one that jumps across the line at an identity switch
    and back, or that starts or ends just after a jump, is not counted; a track that starts on
    one side and walks across is. With ``establish_s`` 0 every confirmed side is established.

    ``state`` is where the track stood before ``points`` (:class:`LineState`; ``LineState()``:
    nowhere); returns the crossings and the state after them. A crossing may be dated before
    ``points`` (its side was pending in ``state``).
    """
    track = Track.of(points)
    return resume_crossings_coded(
        track.at, crossing_codes(track, line, hysteresis_m), line.id, establish_s, state
    )


def crossing_codes(track: Track, line: CountingLine, hysteresis_m: float) -> np.ndarray:
    """Per point: +1 / -1 confirms that side of ``line``, 0 forgets it, 2 changes nothing."""
    if not len(track):
        return np.zeros(0, dtype=np.int64)
    (ax, ay), (bx, by) = line.a, line.b
    length = math.dist(line.a, line.b)
    ux, uy = (bx - ax) / length, (by - ay) / length
    sign = 1.0 if line.in_side == "right" else -1.0
    h = hysteresis_m
    rx, ry = track.x - ax, track.y - ay
    along = rx * ux + ry * uy
    distance = sign * (ux * ry - uy * rx)  # > 0 on the in side (y points down)
    new = np.where(distance >= h, 1, np.where(distance <= -h, -1, 2))
    beside = (track.floor == line.floor) & (along >= -h) & (along <= length + h)
    return np.where(beside, new, 0)


def resume_crossings_coded(
    at: Sequence[datetime],
    codes: np.ndarray,
    line_id: str,
    establish_s: float,
    state: LineState,
) -> tuple[list[Crossing], LineState]:
    """:func:`resume_crossings` from the :func:`crossing_codes` of the points at times ``at``.

    Only runs of equal codes are visited in Python (a track has a few). Times are compared in
    whole microseconds, so a part of a trajectory resumed from its state decides as the whole.
    """
    idx = np.flatnonzero(codes != 2)
    if not len(idx):
        return [], state
    sides = codes[idx]
    firsts = np.flatnonzero(np.concatenate([[True], sides[1:] != sides[:-1]]))
    lasts = np.concatenate([firsts[1:] - 1, [len(sides) - 1]])
    need = _at_least_us(establish_s)
    side, seen, since = state.side, state.seen, state.since
    out: list[Crossing] = []
    for first, last in zip(idx[firsts].tolist(), idx[lasts].tolist(), strict=True):
        code = int(codes[first])
        if code != seen or since is None:  # a new run (not the one pending in the state)
            seen, since = code, at[first]
        if code == 0:  # beside the extension or on another floor: forget
            side, since = 0, None
        elif code == side:
            since = None
        elif (at[last] - since) // _US >= need:
            if side:
                out.append(Crossing(line_id, since, code))
            side, since = code, None
    return out, LineState(side, seen, since)


# --- zone visits ------------------------------------------------------------------------------


def visit_runs(
    t: np.ndarray, gap: float, min_length: float, enter: float | None = None
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The zone-visit rule on ``t``, the ascending times of a track's points inside a zone.

    Two consecutive times more than ``gap`` apart (the person was outside, or unseen, in between)
    end one visit and start the next. Returns each run's first and last index into ``t`` and
    whether it is a visit (its length, last time minus first, at least ``min_length``). With
    ``enter``, the first run started then (a visit carried over from earlier points). ``t``,
    ``gap``, ``min_length`` and ``enter`` share one unit (seconds, or whole microseconds).
    """
    cuts = np.flatnonzero(np.diff(t) > gap)
    starts = np.concatenate([[0], cuts + 1]).astype(np.int64)
    ends = np.concatenate([cuts, [len(t) - 1]]).astype(np.int64)
    first = t[starts]
    if enter is not None:
        first = first.copy()
        first[0] = enter
    return starts, ends, (t[ends] - first) >= min_length


_US = timedelta(microseconds=1)
_PER_S = 1_000_000


def _over_us(seconds: float) -> int:
    """The largest whole number of microseconds ``d`` with ``d / 10**6 <= seconds``: a time
    difference is more than ``seconds`` (``timedelta.total_seconds() > seconds``) exactly when its
    microseconds are more than this."""
    d = math.floor(seconds * _PER_S)
    while (d + 1) / _PER_S <= seconds:
        d += 1
    while d / _PER_S > seconds:
        d -= 1
    return d


def _at_least_us(seconds: float) -> int:
    """The smallest whole number of microseconds ``d`` with ``d / 10**6 >= seconds``."""
    d = math.ceil(seconds * _PER_S)
    while (d - 1) / _PER_S >= seconds:
        d -= 1
    while d / _PER_S < seconds:
        d += 1
    return d


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
    """Visits of ``zone``: runs of points inside it, from the first to the last point inside
    (:func:`visit_runs`: a gap over ``gap_s`` splits, visits under ``min_visit_s`` are dropped).

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
    """:func:`resume_visits` from the :func:`inside_mask` of the points at times ``at``.

    Times are compared in whole microseconds, so the rule is exactly ``timedelta`` arithmetic.
    """
    times = [at[i] for i in np.flatnonzero(inside).tolist()]
    enter: datetime | None = None
    if open_visit is not None:
        enter, last = open_visit
        times.insert(0, last)
    if not times:
        return [], None
    ref = times[0]
    us = np.fromiter(((t - ref) // _US for t in times), dtype=np.int64, count=len(times))
    starts, ends, long = visit_runs(
        us,
        _over_us(gap_s),
        _at_least_us(min_visit_s),
        None if enter is None else (enter - ref) // _US,
    )
    begun = [times[s] for s in starts.tolist()]
    if enter is not None:
        begun[0] = enter
    visits = [Visit(zone_id, begun[k], times[e]) for k, e in enumerate(ends.tolist()) if long[k]]
    return visits, (begun[-1], times[int(ends[-1])])
