"""Queues: how many wait in each queue zone (``checkout`` and ``queue`` kinds, or listed in the
site's ``reporting.queues.zones``) and how long each person waited.

A wait is one visitor's time from joining the queue zone to leaving it: that visitor's visits of
the zone less than ``join_gap_s`` apart joined, kept when at least ``min_wait_s`` long
(:class:`footfall.site.reporting.QueueRules`). A visitor is the stitched id of the visit's
local track, or the local track itself (``visitor_of`` absent or without it). Waits are
summarised per interval of their leaving time (count, mean, p90); the queue length at a moment is
the number of waits under way then, and an interval's length the most at once.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from cloud.reports.types import LocalTrack, TrackVisit
from footfall.site import Site


def queue_zones(site: Site) -> list[str]:
    return site.queue_zone_ids()


@dataclass(frozen=True)
class Wait:
    zone_id: str
    visitor_id: str
    joined_s: float
    left_s: float

    @property
    def wait_s(self) -> float:
        return self.left_s - self.joined_s


def waits(
    site: Site,
    visits: Iterable[TrackVisit],
    visitor_of: Mapping[LocalTrack, str] | None = None,
    exclude: Iterable[LocalTrack] = (),
) -> list[Wait]:
    """Every wait in the site's queue zones (tracks in ``exclude``, e.g. staff, left out)."""
    rules = site.reporting.queues
    zones = set(queue_zones(site))
    skip = set(exclude)
    spans: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for v in visits:
        if v.zone_id not in zones or v.track in skip:
            continue
        vid = (visitor_of or {}).get(v.track, f"{v.camera_id}/{v.track_id}")
        spans[(v.zone_id, vid)].append((v.enter_at.timestamp(), v.exit_at.timestamp()))
    out: list[Wait] = []
    for (zone, vid), iv in spans.items():
        iv.sort()
        lo, hi = iv[0]
        for a, b in [*iv[1:], (float("inf"), float("inf"))]:
            if a - hi <= rules.join_gap_s:
                hi = max(hi, b)
                continue
            if hi - lo >= rules.min_wait_s:
                out.append(Wait(zone, vid, lo, hi))
            lo, hi = a, b
    out.sort(key=lambda w: w.left_s)
    return out


def stats(ws: Sequence[Wait]) -> dict[str, float | int | None]:
    """count, mean_s and p90_s of waits (None when there are none)."""
    if not ws:
        return {"waits": 0, "mean_s": None, "p90_s": None}
    s = np.array([w.wait_s for w in ws])
    return {
        "waits": len(ws),
        "mean_s": round(float(s.mean()), 1),
        "p90_s": round(float(np.quantile(s, 0.9)), 1),
    }


def peak_lengths(ws: Sequence[Wait], zone_id: str, edges: Sequence[float]) -> list[int]:
    """The most people waiting at once in ``zone_id`` in each interval [edges[i], edges[i+1])
    (the last interval open-ended); seconds since the epoch."""
    events = sorted(
        [(w.joined_s, 1) for w in ws if w.zone_id == zone_id]
        + [(w.left_s, -1) for w in ws if w.zone_id == zone_id]
    )
    out = [0] * len(edges)
    level = 0
    k = 0
    for i in range(len(edges)):
        hi = edges[i + 1] if i + 1 < len(edges) else float("inf")
        peak = level
        while k < len(events) and events[k][0] < hi:
            level += events[k][1]
            if events[k][0] >= edges[i]:
                peak = max(peak, level)
            k += 1
        out[i] = max(peak, 0)
    return out


def length_at(ws: Sequence[Wait], zone_id: str, at_s: float) -> int:
    """People waiting in ``zone_id`` at ``at_s`` (seconds since the epoch)."""
    return sum(1 for w in ws if w.zone_id == zone_id and w.joined_s <= at_s < w.left_s)
