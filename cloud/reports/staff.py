"""Staff: who works here, recognised from trajectories, so visitor figures can leave them out.

The evidence is a person's trajectory over a long time, which the cross-camera stitcher does not
give reliably where Re-ID is weak (it joins unrelated people into one visitor). So the rules run
on **chains**: one camera's local tracks linked where a track ended and another began within
``CHAIN_GAP_S`` and ``CHAIN_DIST_M`` of its end (a broken track picked up again), the nearest
first. A chain is staff when any one rule of the site's ``reporting.staff`` section holds
(:class:`footfall.site.reporting.StaffRules`):

* it spent ``staff_only_s`` or more in ``staff_only`` zones (back office, loading bay, the
  tills); then only its tracks that entered a staff-only zone are staff, unless
  ``staff_only_whole_chain``: where a cashier and a shopper at the counter swap tracks, the
  chain goes on with the shopper. Its tracks that stayed within ``staff_only_margin_m`` of a
  staff-only zone throughout are staff too: position noise carries a cashier at the counter's
  edge just outside the tills;
* it stood at a **post**: ``post_s`` or more within ``post_radius_m`` of one spot (a stay point,
  :func:`longest_post`) in a zone of ``post_zone_kinds`` (a shop) and outside any queue zone
  (:func:`cloud.reports.queues.queue_zones`: people queue standing still) -- shop staff at the
  door or a counter stand for many minutes; a browsing shopper stops for one or two;
* it stayed ``stay_s`` or more in one zone of ``stay_zone_kinds`` (a shop, a checkout: its
  visits there less than ``stay_gap_s`` apart joined) -- shoppers stay minutes, staff hours;
* it was seen over ``present_s`` or more, first to last sighting.

Every local track of a chain staff by the other rules is staff. Figures "with staff excluded"
drop the staff tracks' crossings, visits and visitors.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from cloud.reports.queues import queue_zones
from cloud.reports.types import LocalTrack, TrackVisit
from cloud.stitch.tracklets import Tracklets
from footfall.site import Site, ZoneKind

CHAIN_GAP_S = 4.0
"""A track that starts at most this long after another ended on the same camera may continue it."""
CHAIN_DIST_M = 1.5
"""…if it starts within this distance of where the other ended (metres). A broken track of
someone standing (a cashier, staff at a shelf) starts again within the position noise; 2 m let
a chain hop from one shopper to the next in a checkout queue and stay there for 15 minutes (on
moderate seed 2, 1,700 shoppers' sightings labelled staff by the stay rule)."""


def link_chains(
    t: Tracklets, gap_s: float = CHAIN_GAP_S, dist_m: float = CHAIN_DIST_M
) -> list[str]:
    """A chain id per row of ``t`` (see the module docstring); rows in any order."""
    ids: list[str] = [""] * len(t)
    waiting: dict[int, list[tuple[float, float, float, str]]] = defaultdict(list)
    for i in np.argsort(t.start, kind="stable").tolist():
        cam = int(t.camera[i])
        start = float(t.start[i])
        path = t.paths[i] if i < len(t.paths) else np.zeros((0, 3))
        open_ = [w for w in waiting[cam] if 0.0 <= start - w[0] <= gap_s or w[0] > start]
        chain = f"{t.keys[i][0]}/{t.keys[i][2]}"
        if len(path):
            best: tuple[float, int] | None = None
            for j, (end, x, y, _) in enumerate(open_):
                if end > start:
                    continue
                d = float(np.hypot(path[0, 1] - x, path[0, 2] - y))
                if d <= dist_m and (best is None or d < best[0]):
                    best = (d, j)
            if best is not None:
                chain = open_.pop(best[1])[3]
            open_.append((float(t.end[i]), float(path[-1, 1]), float(path[-1, 2]), chain))
        waiting[cam] = open_
        ids[i] = chain
    return ids


POST_BIN_S = 10.0
"""Positions are averaged over bins this long before stay points are found (the position noise
of a standing person would otherwise break a stay on one stray sample)."""


def longest_post(path: np.ndarray, radius_m: float, where: shapely.Geometry | None = None) -> float:
    """The longest time (seconds) ``path`` ((m, 3): seconds, x, y; time-ordered) stood within
    ``radius_m`` of one spot: a stay point (Li et al. 2008, "Mining user similarity based on
    location history"), grown from each :data:`POST_BIN_S` bin's mean position while the next
    bin's mean is within ``radius_m`` of the stay's mean so far. Only stays whose mean lies in
    ``where`` count (None: anywhere)."""
    if len(path) < 2:
        return 0.0
    b = np.floor((path[:, 0] - path[0, 0]) / POST_BIN_S).astype(np.int64)
    _, first, n = np.unique(b, return_index=True, return_counts=True)
    t0 = path[first, 0]
    t1 = path[first + n - 1, 0]
    xy = np.add.reduceat(path[:, 1:3], first, axis=0) / n[:, None]
    best = 0.0
    i = 0
    while i < len(xy):
        total = xy[i].copy()
        j = i + 1
        while j < len(xy) and np.hypot(*(xy[j] - total / (j - i))) <= radius_m:
            total += xy[j]
            j += 1
        dur = float(t1[j - 1] - t0[i])
        if dur > best:
            cx, cy = total / (j - i)
            if where is None or shapely.contains_xy(where, cx, cy):
                best = dur
        i = j
    return best


@dataclass(frozen=True)
class StaffResult:
    tracks: dict[LocalTrack, str]
    """Every staff local track and the rule that made its chain staff."""
    chains: int
    """Staff chains (an upper bound on the staff seen: one person may make several)."""

    def is_staff(self, camera_id: str, track_id: str) -> bool:
        return (camera_id, track_id) in self.tracks


def _longest_stay(spans: list[tuple[float, float]], gap_s: float) -> float:
    spans.sort()
    lo, hi = spans[0]
    best = 0.0
    for a, b in spans[1:]:
        if a - hi <= gap_s:
            hi = max(hi, b)
        else:
            best = max(best, hi - lo)
            lo, hi = a, b
    return max(best, hi - lo)


def classify_staff(site: Site, t: Tracklets, visits: Iterable[TrackVisit]) -> StaffResult:
    """The staff tracks of ``t`` by the site's rules (see the module docstring)."""
    rules = site.reporting.staff
    chains = link_chains(t)
    chain_of: dict[LocalTrack, str] = {(k[0], k[2]): c for k, c in zip(t.keys, chains, strict=True)}
    kind = {z.id: z.kind for z in site.zones}
    stay_kinds = set(rules.stay_zone_kinds)
    staff_only: dict[str, float] = defaultdict(float)
    entered: set[LocalTrack] = set()
    stays: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for v in visits:
        chain = chain_of.get(v.track)
        if chain is None:
            continue
        a, b = v.enter_at.timestamp(), v.exit_at.timestamp()
        if kind.get(v.zone_id) == ZoneKind.STAFF_ONLY:
            staff_only[chain] += b - a
            entered.add(v.track)
        if kind.get(v.zone_id) in stay_kinds:
            stays[(chain, v.zone_id)].append((a, b))
    reason: dict[str, str] = {}
    for chain, s in staff_only.items():
        if s >= rules.staff_only_s:
            reason[chain] = "staff_only"
    for (chain, _zone), spans in stays.items():
        if chain not in reason and _longest_stay(spans, rules.stay_gap_s) >= rules.stay_s:
            reason[chain] = "stay"
    rows_of: dict[str, list[int]] = defaultdict(list)
    for i, c in enumerate(chains):
        rows_of[c].append(i)
    floor_of = [c.floor for c in site.cameras]
    queues = set(queue_zones(site))
    post_kinds = set(rules.post_zone_kinds)
    posts = {
        f: shapely.union_all(
            [z.shape() for z in site.zones if z.floor == f and z.kind in post_kinds]
        ).difference(
            shapely.union_all(
                [
                    z.shape()
                    for z in site.zones
                    if z.floor == f and (z.id in queues or z.kind == ZoneKind.STAFF_ONLY)
                ]
            )
        )
        for f in {fl.id for fl in site.floors}
    }
    for c, rows in rows_of.items():
        if c in reason:
            continue
        paths = [t.paths[i] for i in sorted(rows, key=lambda i: t.start[i]) if i < len(t.paths)]
        paths = [p for p in paths if len(p)]
        if not paths or sum(p[-1, 0] - p[0, 0] for p in paths) < rules.post_s:
            continue
        where = posts[floor_of[int(t.camera[rows[0]])]]
        if longest_post(np.concatenate(paths), rules.post_radius_m, where) >= rules.post_s:
            reason[c] = "post"
    first: dict[str, float] = {}
    last: dict[str, float] = {}
    for c, s, e in zip(chains, t.start.tolist(), t.end.tolist(), strict=True):
        first[c] = min(first.get(c, s), s)
        last[c] = max(last.get(c, e), e)
    for c in first:
        if c not in reason and last[c] - first[c] >= rules.present_s:
            reason[c] = "present"
    whole = rules.staff_only_whole_chain
    margin = rules.staff_only_margin_m
    near = {
        f: shapely.union_all(
            [z.shape() for z in site.zones if z.floor == f and z.kind == ZoneKind.STAFF_ONLY]
        ).buffer(margin)
        for f in {fl.id for fl in site.floors}
    }
    for i, k in enumerate(t.keys):
        track = (k[0], k[2])
        if reason.get(chains[i]) != "staff_only" or track in entered or i >= len(t.paths):
            continue
        p = t.paths[i]
        area = near[floor_of[int(t.camera[i])]]
        if margin > 0 and len(p) and shapely.contains_xy(area, p[:, 1], p[:, 2]).all():
            entered.add(track)
    tracks = {
        track: reason[c]
        for track, c in chain_of.items()
        if c in reason and (whole or reason[c] != "staff_only" or track in entered)
    }
    return StaffResult(tracks, len(reason))


def staff_visitors(result: StaffResult, visitor_of: dict[LocalTrack, str]) -> set[str]:
    """Stitched visitors made only of staff tracks (left out of unique visitors)."""
    all_staff: dict[str, bool] = {}
    for track, vid in visitor_of.items():
        all_staff[vid] = all_staff.get(vid, True) and track in result.tracks
    return {v for v, s in all_staff.items() if s}


def without_staff(rows: Sequence[TrackVisit], result: StaffResult) -> list[TrackVisit]:
    return [r for r in rows if r.track not in result.tracks]
