"""Site occupancy over a simulated day: entries − exits as counted, balanced, and the truth.

Simulates a scenario's crowd from the site's opening time until half an hour after its closing
time (``reporting.occupancy``), derives every local track's line crossings and zone visits with
the site's counting rules as the cloud does (streamed: a track is derived when it ends, so a
whole day fits in memory), balances the site occupancy from the entrance lines
(:mod:`cloud.reports.occupancy`) and prints, as one JSON line, the mean absolute error per
minute of the raw and the balanced occupancy against the visitors truly inside, and what each
holds at closing time.

    python bench/reports/occupancy_day.py --scenario light
"""

from __future__ import annotations

import argparse
import json
import time
from collections import defaultdict
from datetime import datetime

from footfall.contract import FrameObservations, TrackletEnded
from footfall.evaluation.reporting import evaluate_occupancy
from footfall.evaluation.stitching import LocalCrossing, LocalVisit
from footfall.simulate import Simulation, scenario, with_overrides
from footfall.site import load_site
from footfall.site.rules import Track, line_crossings, zone_visits


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--scenario", default="light", help="Scenario whose crowd and errors to use.")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--visitors-per-day", type=int, help="Crowd size instead of the scenario's.")
    args = ap.parse_args()
    base = scenario(args.scenario)
    site = load_site(base.site)
    hours = site.reporting.occupancy
    opens = hours.opens_at.hour + hours.opens_at.minute / 60
    closes = hours.closes_at.hour + hours.closes_at.minute / 60
    changes: dict[str, object] = {"start_hour": opens, "duration_s": (closes - opens + 0.5) * 3600}
    if args.visitors_per_day is not None:
        changes["visitors_per_day"] = args.visitors_per_day
    sc = with_overrides(base, **changes)
    began = time.perf_counter()
    sim = Simulation(site, sc, args.seed, with_truth=False)
    rules = site.counting
    points: dict[tuple[str, str], list[tuple[datetime, str, float, float]]] = defaultdict(list)
    crossings: list[LocalCrossing] = []
    visits: list[LocalVisit] = []

    def derive(key: tuple[str, str]) -> None:
        pts = sorted(points.pop(key, []))
        if not pts:
            return
        tr = Track.columns(*zip(*pts, strict=True))
        for line in site.lines:
            for c in line_crossings(tr, line, rules.line_hysteresis_m, rules.line_establish_s):
                crossings.append(LocalCrossing(key[0], key[1], c.line_id, c.at, c.direction))
        for zone in site.zones:
            for v in zone_visits(tr, zone, rules.min_visit_s, rules.visit_gap_s):
                visits.append(LocalVisit(key[0], key[1], v.zone_id, v.enter_at, v.exit_at))

    for chunk in sim.chunks(60.0):
        for m in chunk:
            if isinstance(m, FrameObservations):
                for o in m.tracks:
                    if o.floor_xy is not None and o.floor_id is not None:
                        points[(m.camera_id, o.track_id)].append(
                            (m.captured_at, o.floor_id, o.floor_xy[0], o.floor_xy[1])
                        )
            elif isinstance(m, TrackletEnded):
                derive((m.camera_id, m.track_id))
    for key in list(points):
        derive(key)
    out = {
        "scenario": sc.name,
        "seed": args.seed,
        "visitors_per_day": sc.visitors_per_day,
        "window": f"{opens:g}h to {closes + 0.5:g}h",
        **evaluate_occupancy(site, sim.people, sim.t0, sc.duration_s, crossings, visits),
        "seconds": round(time.perf_counter() - began),
    }
    print(json.dumps(out))


if __name__ == "__main__":
    main()
