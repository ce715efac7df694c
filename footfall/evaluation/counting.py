"""Counting accuracy: line crossings and zone visits of ground-truth tracks against the system's.

Both sides go through the counting rules the cloud uses (:mod:`footfall.site.rules`: line
crossings with hysteresis between established sides, zone visits with a minimum length and a
gap), so the only difference between the "true" and the "system" counts is the tracks they start
from:

* true: the ground-truth tracks (MOTChallenge ``gt.txt``), each person's feet (box
  bottom-centre) frame by frame;
* system: the tracks the edge pipeline produced on the same footage, the same way.

Counting runs in one of two spaces: ``image`` (lines and zones drawn in pixels on the sequence,
hysteresis in pixels) or ``floor`` (the site's lines and zones in metres; feet projected through
the camera's homography, as the edge does in production). Times are ``frame / fps`` seconds.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from footfall.site import CountingLine, CountingRules, Zone
from footfall.site.rules import Track, line_crossings, zone_visits

EPOCH = datetime(2000, 1, 1, tzinfo=UTC)
"""Frame 1 of every sequence is stamped at this instant; only differences matter."""

IMAGE_FLOOR = "image"
"""The floor id of lines and zones drawn in image pixels."""


@dataclass
class LineCount:
    line_id: str
    true_in: int
    true_out: int
    system_in: int
    system_out: int

    @property
    def true_total(self) -> int:
        return self.true_in + self.true_out

    @property
    def system_total(self) -> int:
        return self.system_in + self.system_out

    @property
    def error(self) -> int:
        """System minus true crossings, both directions together."""
        return self.system_total - self.true_total

    def as_dict(self) -> dict[str, Any]:
        return asdict(self) | {"error": self.error}


@dataclass
class ZoneCount:
    zone_id: str
    true_visits: int
    system_visits: int
    true_dwell_s: list[float] = field(default_factory=list)
    system_dwell_s: list[float] = field(default_factory=list)

    @property
    def visit_error(self) -> int:
        return self.system_visits - self.true_visits

    @property
    def true_mean_dwell_s(self) -> float | None:
        return float(np.mean(self.true_dwell_s)) if self.true_dwell_s else None

    @property
    def system_mean_dwell_s(self) -> float | None:
        return float(np.mean(self.system_dwell_s)) if self.system_dwell_s else None

    @property
    def mean_dwell_error_s(self) -> float | None:
        """System minus true mean dwell (None when either side has no visit)."""
        if self.true_mean_dwell_s is None or self.system_mean_dwell_s is None:
            return None
        return self.system_mean_dwell_s - self.true_mean_dwell_s

    @property
    def total_dwell_error_s(self) -> float:
        """System minus true person-seconds in the zone (robust to tracks cut in two)."""
        return float(sum(self.system_dwell_s) - sum(self.true_dwell_s))

    def as_dict(self) -> dict[str, Any]:
        return {
            "zone_id": self.zone_id,
            "true_visits": self.true_visits,
            "system_visits": self.system_visits,
            "visit_error": self.visit_error,
            "true_mean_dwell_s": self.true_mean_dwell_s,
            "system_mean_dwell_s": self.system_mean_dwell_s,
            "mean_dwell_error_s": self.mean_dwell_error_s,
            "true_total_dwell_s": float(sum(self.true_dwell_s)),
            "system_total_dwell_s": float(sum(self.system_dwell_s)),
            "total_dwell_error_s": self.total_dwell_error_s,
        }


@dataclass
class CountingResult:
    space: str
    lines: list[LineCount]
    zones: list[ZoneCount]

    def as_dict(self) -> dict[str, Any]:
        return {
            "space": self.space,
            "lines": [c.as_dict() for c in self.lines],
            "zones": [z.as_dict() for z in self.zones],
            "line_abs_error": self.line_abs_error,
            "line_true_total": sum(c.true_total for c in self.lines),
        }

    @property
    def line_abs_error(self) -> int:
        """Sum over lines and directions of |system - true| crossings."""
        return sum(
            abs(c.system_in - c.true_in) + abs(c.system_out - c.true_out) for c in self.lines
        )


def feet(rows: np.ndarray) -> np.ndarray:
    """(N, 2) box bottom-centres in pixels of MOTChallenge rows."""
    return np.column_stack([rows[:, 2] + rows[:, 4] / 2.0, rows[:, 3] + rows[:, 5]])


def trajectories(rows: np.ndarray, fps: float, points: np.ndarray, floor_id: str) -> list[Track]:
    """One :class:`Track` per id of ``rows`` (frame order), at ``points`` (N, 2); points that
    are not finite (above the horizon) are left out."""
    out: list[Track] = []
    finite = np.isfinite(points).all(axis=1)
    for ident in np.unique(rows[:, 1]):
        mine = (rows[:, 1] == ident) & finite
        order = np.argsort(rows[mine, 0], kind="stable")
        frames = rows[mine, 0][order]
        xy = points[mine][order]
        if not len(frames):
            continue
        at = [EPOCH + timedelta(seconds=(float(f) - 1.0) / fps) for f in frames]
        out.append(Track.columns(at, [floor_id] * len(at), xy[:, 0], xy[:, 1]))
    return out


def image_tracks(rows: np.ndarray, fps: float) -> list[Track]:
    """Tracks of the feet in pixels (floor id ``image``)."""
    return trajectories(rows, fps, feet(rows), IMAGE_FLOOR)


def _crossings(
    tracks: Iterable[Track], line: CountingLine, rules: CountingRules
) -> tuple[int, int]:
    found = [
        c
        for t in tracks
        for c in line_crossings(t, line, rules.line_hysteresis_m, rules.line_establish_s)
    ]
    return sum(c.direction > 0 for c in found), sum(c.direction < 0 for c in found)


def _dwells(tracks: Iterable[Track], zone: Zone, rules: CountingRules) -> list[float]:
    return [
        v.dwell_s
        for t in tracks
        for v in zone_visits(t, zone, rules.min_visit_s, rules.visit_gap_s)
    ]


def compare(
    true_tracks: Sequence[Track],
    system_tracks: Sequence[Track],
    lines: Sequence[CountingLine],
    zones: Sequence[Zone],
    rules: CountingRules,
    space: str,
) -> CountingResult:
    """True against system crossings of every line and visits of every zone.

    ``rules`` are the site's (:class:`footfall.site.CountingRules`); in image space its lengths
    are pixels (``line_hysteresis_m`` is then the hysteresis in pixels; times are seconds in
    both spaces).
    """
    line_counts = []
    for line in lines:
        t_in, t_out = _crossings(true_tracks, line, rules)
        s_in, s_out = _crossings(system_tracks, line, rules)
        line_counts.append(LineCount(line.id, t_in, t_out, s_in, s_out))
    zone_counts = []
    for zone in zones:
        true_dwell = _dwells(true_tracks, zone, rules)
        system_dwell = _dwells(system_tracks, zone, rules)
        zone_counts.append(
            ZoneCount(zone.id, len(true_dwell), len(system_dwell), true_dwell, system_dwell)
        )
    return CountingResult(space, line_counts, zone_counts)
