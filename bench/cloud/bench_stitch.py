"""Stitching speed: tracklets per second of each mode on a simulated scenario, in process.

    python bench/cloud/bench_stitch.py [--scenario hard] [--seed 1] [--repeat 3]
        [--duration-s S] [--start-hour H]

Simulates the scenario (not timed), builds its tracklets as the cloud stores them, then
stitches them in each mode and prints tracklets/s (best of --repeat), the largest gallery
(visitors held in memory at once) and MTMC IDF1 against the simulator's truth.
"""

from __future__ import annotations

import argparse
import time

from cloud.stitch.stitcher import MODES, Stitcher, StitchSettings
from cloud.stitch.topology import CameraTopology
from cloud.stitch.tracklets import from_messages
from footfall.evaluation.stitching import score_mode
from footfall.simulate import Simulation, scenario, with_overrides
from footfall.site import load_site


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="hard")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--duration-s", type=float, default=None)
    parser.add_argument("--start-hour", type=float, default=None)
    args = parser.parse_args()
    sc = scenario(args.scenario)
    if args.duration_s:
        sc = with_overrides(sc, duration_s=args.duration_s)
    if args.start_hour is not None:
        sc = with_overrides(sc, start_hour=args.start_hour)
    site = load_site(sc.site)
    began = time.perf_counter()
    sim = Simulation(site, sc, args.seed)
    t = from_messages(site, sim.messages())
    print(
        f"scenario {sc.name}: {len(site.cameras)} cameras, {len(sim.people)} people, "
        f"{len(t)} tracklets (simulated in {time.perf_counter() - began:.0f} s)"
    )
    topo = CameraTopology.of(site)
    print(f"{'mode':<12}{'tracklets/s':>14}{'peak gallery':>14}{'MTMC IDF1':>11}")
    for mode in MODES:
        best = float("inf")
        ids: list[str] = []
        peak = 0
        for _ in range(args.repeat):
            st = Stitcher(topo, StitchSettings(mode=mode), t.embedding.shape[1], seed=0)
            start = time.perf_counter()
            ids = st.run(t)
            best = min(best, time.perf_counter() - start)
            peak = st.peak_gallery
        idf1 = score_mode(site, sim.truth, t, ids, [], [])["mtmc_idf1"]
        print(f"{mode:<12}{len(t) / best:>14,.0f}{peak:>14}{idf1:>11.3f}")


if __name__ == "__main__":
    main()
