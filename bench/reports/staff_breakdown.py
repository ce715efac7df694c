"""Why staff are found or missed: each simulated staff member's sightings, where they were and
how many the staff rules labelled, without stitching (the rules run on single-camera chains).

Simulates a scenario (its window, crowd and errors), derives every local track's zone visits
and line crossings with the site's counting rules as the cloud does, classifies staff with the
site's ``reporting.staff`` rules (:func:`cloud.reports.staff.classify_staff`) and prints one
JSON line: precision and recall of the staff label over sightings (as ``footfall simulate
--evaluate`` scores them), the staff sightings by where their track was
(:func:`footfall.evaluation.reporting.staff_sightings_where`) and the same per staff member, with
the cameras that saw them; and how much of each staff-only and stay zone any camera's field of
view (the convex hull of its calibration's floor points, as the simulator has it) covers.

    python bench/reports/staff_breakdown.py --scenario moderate --seed 1
"""

from __future__ import annotations

import argparse
import json
import time
from collections import Counter

import numpy as np
import shapely

from cloud.reports.staff import classify_staff
from cloud.reports.types import TrackVisit
from cloud.stitch.tracklets import from_messages
from footfall.evaluation.reporting import evaluate_staff, staff_sightings_where
from footfall.evaluation.stitching import local_analytics
from footfall.simulate import Simulation, scenario, with_overrides
from footfall.site import Site, ZoneKind, load_site


def zone_coverage(site: Site) -> dict[str, float]:
    """Per staff-only zone and zone of the staff rules' stay kinds: the share of its area that
    some camera sees."""
    views: dict[str, list[shapely.Geometry]] = {}
    for c in site.cameras:
        points = np.array([p.floor for p in c.calibration.points], dtype=np.float64)
        views.setdefault(c.floor, []).append(shapely.convex_hull(shapely.MultiPoint(points)))
    kinds = {ZoneKind.STAFF_ONLY, *site.reporting.staff.stay_zone_kinds}
    out = {}
    for z in site.zones:
        if z.kind in kinds:
            shape = z.shape()
            seen = shapely.union_all(views.get(z.floor, [])).intersection(shape).area
            out[z.id] = round(seen / shape.area, 3)
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="moderate", help="Scenario to simulate.")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--duration-s", type=float, help="Simulate this long instead.")
    args = ap.parse_args()
    sc = scenario(args.scenario)
    if args.duration_s is not None:
        sc = with_overrides(sc, duration_s=args.duration_s)
    site = load_site(sc.site)
    began = time.perf_counter()
    sim = Simulation(site, sc, args.seed, with_truth=True)
    messages = [m for chunk in sim.chunks() for m in chunk]
    _crossings, visits = local_analytics(site, messages)
    t = from_messages(site, messages)
    tv = [TrackVisit(v.camera_id, v.track_id, v.zone_id, v.enter_at, v.exit_at) for v in visits]
    staff = classify_staff(site, t, tv)
    people = sorted(p for p, role, _g, _v in sim.truth.people if role == "staff")
    out = {"scenario": sc.name, "seed": args.seed, "duration_s": sc.duration_s}
    out.update(evaluate_staff(sim.truth, t, staff))
    out.update(staff_sightings_where(site, sim.truth, t, tv, set(people), staff.tracks))
    per = []
    for p in people:
        row = staff_sightings_where(site, sim.truth, t, tv, {p}, staff.tracks)
        cameras: Counter[str] = Counter()
        for k in t.keys:
            cameras[k[0]] += sim.truth.tracks.get((k[0], k[1], k[2]), Counter()).get(p, 0)
        row["cameras"] = {c: n for c, n in cameras.most_common() if n}
        per.append({"person": p, **row})
    out["staff"] = per
    out["zone_coverage"] = zone_coverage(site)
    out["run_s"] = round(time.perf_counter() - began, 1)
    print(json.dumps(out, separators=(",", ":")))


if __name__ == "__main__":
    main()
