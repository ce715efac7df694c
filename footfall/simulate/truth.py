"""Ground truth of a simulation: the true person behind every track, true line crossings and
true zone visits (from the noise-free paths at the frame times, true clock).

Files written by :meth:`Truth.write` (CSV with a header row):

* ``people.csv`` -- ``person, role, group, visits``: every simulated person (``role`` is
  visitor or staff; ``visits`` 2 for someone who left and came back).
* ``tracklets.csv`` -- ``camera_id, run_id, track_id, person, frames``: how many of a track's
  observations show each person (a track with an identity switch has two rows; a false track
  has ``person`` empty).
* ``crossings.csv`` -- ``person, line_id, at, direction`` (+1 in, -1 out).
* ``visits.csv`` -- ``person, zone_id, enter_at, exit_at, dwell_s`` (inside the zone with no
  gap over the site's ``counting.visit_gap_s``, 2 s by default, and at least
  ``counting.min_visit_s``, 5 s).
"""

from __future__ import annotations

import csv
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path

import numpy as np
import shapely

from footfall.site import Site
from footfall.site.rules import step_crossings, visit_runs

TrackKey = tuple[str, str, str]
"""(camera_id, run_id, track_id)"""


def person_id(index: int) -> str:
    """The public name of a true person in ground-truth files ('' for nobody)."""
    return f"p{index:06d}" if index >= 0 else ""


@dataclass(frozen=True)
class TrueCrossing:
    person: int
    line_id: str
    at: datetime
    direction: int


@dataclass(frozen=True)
class TrueVisit:
    person: int
    zone_id: str
    enter_at: datetime
    exit_at: datetime

    @property
    def dwell_s(self) -> float:
        return (self.exit_at - self.enter_at).total_seconds()


@dataclass
class Truth:
    people: list[tuple[int, str, int, int]] = field(default_factory=list)
    """(person, role, group, visits)"""
    tracks: dict[TrackKey, Counter[int]] = field(default_factory=dict)
    crossings: list[TrueCrossing] = field(default_factory=list)
    visits: list[TrueVisit] = field(default_factory=list)

    def write(self, folder: Path) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        with open(folder / "people.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["person", "role", "group", "visits"])
            for p, role, group, visits in self.people:
                w.writerow([person_id(p), role, person_id(group), visits])
        with open(folder / "tracklets.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["camera_id", "run_id", "track_id", "person", "frames"])
            for (camera, run, track), counts in self.tracks.items():
                for p, n in sorted(counts.items()):
                    w.writerow([camera, run, track, person_id(p), n])
        with open(folder / "crossings.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["person", "line_id", "at", "direction"])
            for c in self.crossings:
                w.writerow([person_id(c.person), c.line_id, c.at.isoformat(), c.direction])
        with open(folder / "visits.csv", "w", newline="") as f:
            w = csv.writer(f)
            w.writerow(["person", "zone_id", "enter_at", "exit_at", "dwell_s"])
            for v in self.visits:
                w.writerow(
                    [
                        person_id(v.person),
                        v.zone_id,
                        v.enter_at.isoformat(),
                        v.exit_at.isoformat(),
                        f"{v.dwell_s:.3f}",
                    ]
                )


def person_truth(
    site: Site,
    floor_ids: list[str],
    person: int,
    times: np.ndarray,
    floor: np.ndarray,
    x: np.ndarray,
    y: np.ndarray,
    t0: datetime,
) -> tuple[list[TrueCrossing], list[TrueVisit]]:
    """True crossings and visits of one person sampled at ``times`` (seconds from ``t0``).

    Crossings are the path's steps across a line's segment (noise-free paths need no
    hysteresis); visits follow the site's ``counting:`` rules (gap and minimum length).
    """
    rules = site.counting
    crossings: list[TrueCrossing] = []
    visits: list[TrueVisit] = []
    if len(times) < 2:
        return crossings, visits
    for line in site.lines:
        f = floor_ids.index(line.floor)
        on = floor == f
        if not on.any():
            continue
        idx, direction = step_crossings(line, x, y)
        keep = on[idx] & on[idx - 1]
        for i, d in zip(idx[keep].tolist(), direction[keep].tolist(), strict=True):
            crossings.append(
                TrueCrossing(person, line.id, t0 + timedelta(seconds=float(times[i])), int(d))
            )
    for zone in site.zones:
        f = floor_ids.index(zone.floor)
        on = floor == f
        if not on.any():
            continue
        inside = on.copy()
        inside[on] = shapely.intersects_xy(zone.shape(), x[on], y[on])
        ts = times[inside]
        if not len(ts):
            continue
        starts, ends, long = visit_runs(ts, rules.visit_gap_s, rules.min_visit_s)
        for s, e in zip(starts[long].tolist(), ends[long].tolist(), strict=True):
            visits.append(
                TrueVisit(
                    person,
                    zone.id,
                    t0 + timedelta(seconds=float(ts[s])),
                    t0 + timedelta(seconds=float(ts[e])),
                )
            )
    return crossings, visits
