"""How well stitching recovers the simulator's truth, per stitching mode.

Inputs: the site, the simulation's ground truth, the tracklets (from the messages in process, or
from the database after the real ingest), and the per-local-track line crossings and zone visits
that the cloud's analytics derived. Outputs per mode (and for ``local``: every local track its
own visitor, the state before this issue):

* ``mtmc_idf1`` -- IDF1 over global ids at the detection level
  (:mod:`~footfall.evaluation.stitch_metrics`).
* ``unique_visitors_error`` -- (stitched ids counted as unique visitors − true people seen by
  any camera) / true people; a visitor seen for less than
  the site's ``counting.min_visitor_s`` (12 s) in total is held back from the count, as the API
  does (``visitors`` the ids counted, ``visitors_held_back`` the others).
* ``entrance_count_error`` -- (entries counted − true entries) / true entries, on the counting
  lines of entrance zones; an entry of a visitor on the same line within 30 s of the visitor's
  previous one is the same entry seen twice (overlapping cameras, a broken track), so it counts
  once.
* ``dwell_error`` -- |mean dwell − true mean dwell| / true mean dwell over the zones that
  cameras cover to at least 65 % (the others are mostly unseen: nobody can measure dwell there);
  a visitor's zone visits from all their tracklets are merged when less than 5 s apart.
* ``tracklets_per_s`` -- stitching speed of the mode in this run.

And, once (under ``local``: line counts do not depend on stitching), ``line_abs_error`` -- the
sum over the counting lines that cameras see (to at least 65 % of their length) and both
directions of |crossings counted − true crossings|, raw per-track crossings as the footfall
rollups count them (``line_crossings`` and ``true_line_crossings`` the totals).
"""

from __future__ import annotations

import time
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import shapely

from cloud.stitch.stitcher import MODES, StitchSettings, stitch
from cloud.stitch.topology import CameraTopology
from cloud.stitch.tracklets import Tracklets
from cloud.stitch.visitors import counted as counted_visitors
from footfall.contract import FrameObservations, Message
from footfall.evaluation.stitch_metrics import id_scores, relative_error
from footfall.simulate.truth import Truth
from footfall.site import CountingRules, Site, ZoneKind
from footfall.site.rules import Track, line_crossings, zone_visits

MERGE_GAP_S = 30.0
"""Entries of one visitor on one line closer than this are one entry seen twice."""
DWELL_GAP_S = 5.0
"""Zone visits of one visitor closer than this are one visit (a broken track, a hand-over)."""
MIN_COVERAGE = 0.65
LocalKey = tuple[str, str]
"""(camera_id, track_id): a local track, as the derived tables key it."""


@dataclass(frozen=True)
class LocalCrossing:
    camera_id: str
    track_id: str
    line_id: str
    at: datetime
    direction: int


@dataclass(frozen=True)
class LocalVisit:
    camera_id: str
    track_id: str
    zone_id: str
    enter_at: datetime
    exit_at: datetime


def local_analytics(
    site: Site, messages: Iterable[Message], rules: CountingRules | None = None
) -> tuple[list[LocalCrossing], list[LocalVisit]]:
    """Crossings and visits per local track, as the cloud's analytics derive them (with the
    site's counting rules unless ``rules`` are given)."""
    s = rules or site.counting
    points: dict[LocalKey, list[tuple[datetime, str, float, float]]] = defaultdict(list)
    for m in messages:
        if isinstance(m, FrameObservations) and m.site_id == site.id:
            for o in m.tracks:
                if o.floor_xy is not None and o.floor_id is not None:
                    points[(m.camera_id, o.track_id)].append(
                        (m.captured_at, o.floor_id, o.floor_xy[0], o.floor_xy[1])
                    )
    crossings: list[LocalCrossing] = []
    visits: list[LocalVisit] = []
    for (camera, track), pts in points.items():
        pts.sort()
        tr = Track.columns(*zip(*pts, strict=True))
        for line in site.lines:
            for c in line_crossings(tr, line, s.line_hysteresis_m, s.line_establish_s):
                crossings.append(LocalCrossing(camera, track, c.line_id, c.at, c.direction))
        for zone in site.zones:
            for v in zone_visits(tr, zone, s.min_visit_s, s.visit_gap_s):
                visits.append(LocalVisit(camera, track, v.zone_id, v.enter_at, v.exit_at))
    return crossings, visits


def covered_zones(site: Site, min_coverage: float = MIN_COVERAGE) -> set[str]:
    """Zones whose area the cameras' fields of view cover to at least ``min_coverage``."""
    hulls: dict[str, list[shapely.Geometry]] = defaultdict(list)
    for c in site.cameras:
        hulls[c.floor].append(
            shapely.MultiPoint([p.floor for p in c.calibration.points]).convex_hull
        )
    out = set()
    for z in site.zones:
        seen = shapely.union_all(hulls.get(z.floor, []))
        if z.shape().intersection(seen).area >= min_coverage * z.shape().area:
            out.add(z.id)
    return out


def covered_lines(site: Site, min_coverage: float = MIN_COVERAGE) -> set[str]:
    """Counting lines whose length the cameras' fields of view cover to ``min_coverage``."""
    hulls: dict[str, list[shapely.Geometry]] = defaultdict(list)
    for c in site.cameras:
        hulls[c.floor].append(
            shapely.MultiPoint([p.floor for p in c.calibration.points]).convex_hull
        )
    out = set()
    for ln in site.lines:
        seg = shapely.LineString([ln.a, ln.b])
        seen = shapely.union_all(hulls.get(ln.floor, []))
        if seg.intersection(seen).length >= min_coverage * seg.length:
            out.add(ln.id)
    return out


def line_count_errors(
    site: Site, truth: Truth, crossings: Sequence[LocalCrossing]
) -> dict[str, int]:
    """Raw line counts (every local track's crossings, as the footfall rollups) against the
    true crossings, per covered line and direction."""
    lines = covered_lines(site)
    counted: Counter[tuple[str, int]] = Counter(
        (c.line_id, c.direction) for c in crossings if c.line_id in lines
    )
    true: Counter[tuple[str, int]] = Counter(
        (c.line_id, c.direction) for c in truth.crossings if c.line_id in lines
    )
    return {
        "line_crossings": sum(counted.values()),
        "true_line_crossings": sum(true.values()),
        "line_abs_error": sum(abs(counted[k] - true[k]) for k in counted.keys() | true.keys()),
    }


def _merged_dwell(
    spans: dict[tuple[str, str], list[tuple[float, float]]], min_visit_s: float
) -> list[float]:
    out = []
    for intervals in spans.values():
        intervals.sort()
        lo, hi = intervals[0]
        for a, b in intervals[1:]:
            if a - hi <= DWELL_GAP_S:
                hi = max(hi, b)
            else:
                out.append(hi - lo)
                lo, hi = a, b
        out.append(hi - lo)
    return [d for d in out if d >= min_visit_s]


def score_mode(
    site: Site,
    truth: Truth,
    t: Tracklets,
    ids: Sequence[str],
    crossings: Sequence[LocalCrossing],
    visits: Sequence[LocalVisit],
) -> dict[str, Any]:
    """The metrics of one assignment of visitor ids to the rows of ``t``."""
    by_key = {(k[0], k[1], k[2]): vid for k, vid in zip(t.keys, ids, strict=True)}
    by_local = {(k[0], k[2]): vid for k, vid in zip(t.keys, ids, strict=True)}
    shared = []
    for key, counts in truth.tracks.items():
        pred = by_key.get(key, f"missing/{key[0]}/{key[2]}")
        for person, n in counts.items():
            shared.append((pred, person if person >= 0 else None, n))
    scores = id_scores(shared)
    true_people = {p for counts in truth.tracks.values() for p in counts if p >= 0}
    entrance_lines = {
        ln.id
        for ln in site.lines
        if ln.zone is not None and site.zone(ln.zone).kind == ZoneKind.ENTRANCE
    }
    true_entries = sum(
        1 for c in truth.crossings if c.line_id in entrance_lines and c.direction == 1
    )
    entries = sorted(
        (by_local.get((c.camera_id, c.track_id), f"{c.camera_id}/{c.track_id}"), c.line_id, c.at)
        for c in crossings
        if c.line_id in entrance_lines and c.direction == 1
    )
    counted = 0
    last: dict[tuple[str, str], datetime] = {}
    for vid, line, at in entries:
        prev = last.get((vid, line))
        if prev is None or (at - prev).total_seconds() > MERGE_GAP_S:
            counted += 1
        last[(vid, line)] = at
    zones = covered_zones(site)
    spans: dict[tuple[str, str], list[tuple[float, float]]] = defaultdict(list)
    for v in visits:
        if v.zone_id in zones:
            vid = by_local.get((v.camera_id, v.track_id), f"{v.camera_id}/{v.track_id}")
            spans[(vid, v.zone_id)].append((v.enter_at.timestamp(), v.exit_at.timestamp()))
    dwell = _merged_dwell(spans, site.counting.min_visit_s)
    true_dwell = [v.dwell_s for v in truth.visits if v.zone_id in zones]
    mean_true = float(np.mean(true_dwell)) if true_dwell else 0.0
    mean_pred = float(np.mean(dwell)) if dwell else 0.0
    seen = zip(ids, t.start.tolist(), t.end.tolist(), strict=True)
    unique = counted_visitors(seen, site.counting.min_visitor_s)
    return {
        "mtmc_idf1": round(scores.idf1, 4),
        "idp": round(scores.idp, 4),
        "idr": round(scores.idr, 4),
        "visitors": len(unique),
        "visitors_held_back": len(set(ids) - unique),
        "true_visitors": len(true_people),
        "unique_visitors_error": round(relative_error(len(unique), len(true_people)), 4),
        "entries": counted,
        "true_entries": true_entries,
        "entrance_count_error": round(relative_error(counted, true_entries), 4),
        "mean_dwell_s": round(mean_pred, 1),
        "true_mean_dwell_s": round(mean_true, 1),
        "dwell_error": round(abs(relative_error(mean_pred, mean_true)), 4),
    }


def evaluate(
    site: Site,
    truth: Truth,
    t: Tracklets,
    crossings: Sequence[LocalCrossing],
    visits: Sequence[LocalVisit],
    modes: Sequence[str] = MODES,
    base: StitchSettings | None = None,
    assigned: dict[str, Sequence[str]] | None = None,
) -> dict[str, dict[str, Any]]:
    """Metrics per mode (plus ``local``). ``assigned`` gives ids decided elsewhere (by the
    database pass) per mode, scored instead of this process's; every mode is stitched here
    too, in process, to measure ``tracklets_per_s``."""
    base = base or StitchSettings()
    topo = CameraTopology.of(site)
    out: dict[str, dict[str, Any]] = {}
    local = [f"{k[0]}/{k[2]}" for k in t.keys]
    out["local"] = score_mode(site, truth, t, local, crossings, visits)
    out["local"] |= line_count_errors(site, truth, crossings)
    for mode in modes:
        settings = StitchSettings(**{**base.__dict__, "mode": mode, "threshold": None})
        began = time.perf_counter()
        ids: Sequence[str] = stitch(t, topo, settings, seed=0)
        elapsed = time.perf_counter() - began
        if assigned is not None and mode in assigned:
            ids = assigned[mode]
        out[mode] = score_mode(site, truth, t, ids, crossings, visits)
        out[mode]["tracklets_per_s"] = round(len(t) / max(elapsed, 1e-9))
    return out
