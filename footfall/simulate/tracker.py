"""One camera's simulated tracker: who is in view per frame → local tracks, with its errors.

Missed detections (a frame without the person; the track survives), broken tracks (the track
ends, the person is unseen for 0.5-3 s and gets a new track), identity switches (two people
within 1.5 m swap tracks as one walks past the other), and tracks lost when nobody was
detected for 2 s. Each track remembers how many frames it followed each person: the ground
truth of its observations.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

import numpy as np

from footfall.simulate.scenarios import Errors

MOVING_MPS = 0.3
"""Someone faster than this (m/s) is walking, not standing."""
LOST_AFTER_S = 2.0
"""A track that detected nobody for this long ends (the edge tracker's track buffer)."""


@dataclass
class Track:
    track_id: str
    first_k: int
    last_k: int
    frames: int = 0
    people: Counter[int] = field(default_factory=Counter)
    """Frames observed per true person (ghosts have negative indices)."""
    ending: bool = False


@dataclass
class Observed:
    """One detection in one frame: the track, its true person, the row of its position."""

    track: Track
    person: int
    row: int


class CameraTracker:
    def __init__(self, errors: Errors, fps: float, rng: np.random.Generator) -> None:
        self.errors = errors
        self.fps = fps
        self.rng = rng
        self.active: dict[int, Track] = {}
        self.suppressed: dict[int, int] = {}
        self.lost_after = max(1, round(LOST_AFTER_S * fps))
        self.p_break = errors.break_per_min / 60.0 / fps
        self.p_switch = errors.switch_per_min / 60.0 / fps

    def _new_id(self) -> str:
        return f"{int(self.rng.integers(0, 2**63)):016x}"

    def step(
        self, k: int, people: np.ndarray, rows: np.ndarray, xy: np.ndarray, speed: np.ndarray
    ) -> tuple[list[Observed], list[Track], list[Track]]:
        """Frame ``k`` with ``people`` in view (true positions ``xy[rows]``, speeds
        ``speed[rows]`` in m/s).

        Returns the detections, the tracks started and the tracks ended in this frame.
        """
        started: list[Track] = []
        ended: list[Track] = []
        seen: list[tuple[int, int]] = []
        miss = self.rng.random(len(people)) < self.errors.miss_rate
        for person, row, missed in zip(people.tolist(), rows.tolist(), miss.tolist(), strict=True):
            if missed or self.suppressed.get(person, -1) > k:
                continue
            if person not in self.active:
                track = Track(self._new_id(), k, k)
                self.active[person] = track
                started.append(track)
            seen.append((person, row))
        # identity switches: two detected people close together swap tracks when one of
        # them walks past the other (people standing or sitting side by side keep theirs)
        if len(seen) > 1 and self.p_switch > 0:
            for i in np.flatnonzero(self.rng.random(len(seen)) < self.p_switch).tolist():
                p, r = seen[i]
                d = np.hypot(*(xy[[s[1] for s in seen]] - xy[r]).T)
                d[i] = np.inf
                j = int(np.argmin(d))
                moving = max(float(speed[r]), float(speed[seen[j][1]])) > MOVING_MPS
                if d[j] < 1.5 and moving:
                    q = seen[j][0]
                    self.active[p], self.active[q] = self.active[q], self.active[p]
        out: list[Observed] = []
        for person, row in seen:
            track = self.active[person]
            track.last_k = k
            track.frames += 1
            track.people[person] += 1
            out.append(Observed(track, person, row))
        # broken tracks: this frame is the track's last; the person is unseen for a while
        if self.p_break > 0:
            for i in np.flatnonzero(self.rng.random(len(seen)) < self.p_break).tolist():
                person = seen[i][0]
                broken = self.active.pop(person, None)
                if broken is not None and not broken.ending:
                    broken.ending = True
                    ended.append(broken)
                gap = self.rng.uniform(0.5, 3.0) * self.fps
                self.suppressed[person] = k + 1 + int(gap)
        for person, track in list(self.active.items()):
            if k - track.last_k >= self.lost_after:
                del self.active[person]
                if not track.ending:
                    track.ending = True
                    ended.append(track)
        return out, started, ended

    def finish(self) -> list[Track]:
        """End every open track (the end of the simulation)."""
        out = [t for t in self.active.values() if not t.ending]
        for t in out:
            t.ending = True
        self.active.clear()
        return out
