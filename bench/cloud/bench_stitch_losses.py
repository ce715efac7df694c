"""Where combined stitching loses on a simulated scenario, and what a perfect stitcher would get.

    python bench/cloud/bench_stitch_losses.py [--scenario moderate] [--seed 1]

Simulates the scenario as ``footfall simulate --scenario NAME --evaluate --json --in-process``
does, stitches it in ``combined`` mode and prints, as JSON lines:

* ``losses``: each stitched visitor's tracklets in order of their start, every consecutive pair
  counted as right (both tracklets mostly show one person) or wrong, and every consecutive pair
  of one true person's tracklets that got two visitors as missed; by how the two tracklets
  relate (the same camera, overlapping views, a linked camera within its walking window, two
  cameras at once, another camera) and the unseen gap between them;
* ``ceilings``: the MTMC IDF1 and unique visitors of oracle stitchers that give each tracklet its
  true person (the person most of its frames show) but join a person's consecutive tracklets
  only across some relations (``same camera`` within 10 s; ``+ overlap``; ``+ hand-over``: a
  linked camera within its window; ``every``: all of a person's tracklets one visitor).
"""

from __future__ import annotations

import argparse
import itertools
import json
from collections import Counter, defaultdict

import numpy as np

from cloud.settings import StitchSettings
from cloud.stitch.stitcher import stitch
from cloud.stitch.topology import CameraTopology
from cloud.stitch.tracklets import Tracklets, from_messages
from footfall.evaluation.stitching import local_analytics, score_mode
from footfall.simulate import Simulation, scenario
from footfall.simulate_cli import CHUNK_S
from footfall.site import load_site


def relation(topo: CameraTopology, t: Tracklets, a: int, b: int) -> tuple[str, str]:
    """How tracklet b (starting later) relates to tracklet a, and the gap's band."""
    ca, cb = int(t.camera[a]), int(t.camera[b])
    gap = float(t.start[b] - t.end[a])
    if gap < -2.0:
        kind = "at once, overlapping" if topo.overlap[ca, cb] and ca != cb else "at once, other"
    elif ca == cb:
        kind = "same camera"
    elif topo.overlap[ca, cb]:
        kind = "overlap"
    elif topo.linked[ca, cb] and gap <= topo.max_walk_s[ca, cb] + 2.0:
        kind = "hand-over"
    else:
        kind = "other camera"
    band = "<10 s" if gap < 10 else "<60 s" if gap < 60 else "<300 s" if gap < 300 else ">=300 s"
    return kind, band


CEILINGS = {
    "same camera": ("same camera",),
    "+ overlap": ("same camera", "overlap", "at once, overlapping"),
    "+ hand-over": ("same camera", "overlap", "at once, overlapping", "hand-over"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="moderate")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    sc = scenario(args.scenario)
    site = load_site(sc.site)
    sim = Simulation(site, sc, args.seed, with_truth=True)
    messages = [m for chunk in sim.chunks(CHUNK_S) for m in chunk]
    crossings, visits = local_analytics(site, messages)
    t = from_messages(site, messages)
    topo = CameraTopology.of(site)
    ids = stitch(t, topo, StitchSettings(mode="combined"), seed=0)
    person = np.array(
        [
            c.most_common(1)[0][0] if (c := sim.truth.tracks.get((k[0], k[1], k[2]))) else -(10**9)
            for k in t.keys
        ]
    )
    head = {"scenario": args.scenario, "seed": args.seed, "cameras": len(site.cameras)}
    combined = score_mode(site, sim.truth, t, ids, crossings, visits)
    frames = np.asarray(t.frames)
    print(
        json.dumps(
            {
                **head,
                "tracklets": len(t),
                "under_10_frames": int((frames < 10).sum()),
                "combined_mtmc_idf1": combined["mtmc_idf1"],
                "combined_visitors": combined["visitors"],
                "true_visitors": combined["true_visitors"],
            }
        )
    )
    by_visitor: dict[str, list[int]] = defaultdict(list)
    by_person: dict[int, list[int]] = defaultdict(list)
    for r in range(len(t)):
        by_visitor[ids[r]].append(r)
        by_person[int(person[r])].append(r)
    right: Counter[tuple[str, str]] = Counter()
    wrong: Counter[tuple[str, str]] = Counter()
    missed: Counter[tuple[str, str]] = Counter()
    for rows in by_visitor.values():
        rows.sort(key=lambda r: t.start[r])
        for a, b in itertools.pairwise(rows):
            (wrong if person[a] != person[b] else right)[relation(topo, t, a, b)] += 1
    for p, rows in by_person.items():
        rows.sort(key=lambda r: t.start[r])
        if p < 0:
            continue
        for a, b in itertools.pairwise(rows):
            if ids[a] != ids[b]:
                missed[relation(topo, t, a, b)] += 1
    for key in sorted(set(right) | set(wrong) | set(missed)):
        row = {"relation": key[0], "gap": key[1], "right": right[key], "wrong": wrong[key]}
        print(json.dumps({**head, "losses": row | {"missed": missed[key]}}))
    for name, kinds in [*CEILINGS.items(), ("every", None)]:
        oracle = [f"row{r}" for r in range(len(t))]
        for p, rows in by_person.items():
            if p < 0:
                continue
            part = 0
            for i, r in enumerate(rows):
                if i and kinds is not None:
                    kind, band = relation(topo, t, rows[i - 1], r)
                    if kind not in kinds or (kind == "same camera" and band != "<10 s"):
                        part += 1
                oracle[r] = f"p{p}/{part}"
        m = score_mode(site, sim.truth, t, oracle, crossings, visits)
        print(
            json.dumps(
                {
                    **head,
                    "ceiling": name,
                    "mtmc_idf1": m["mtmc_idf1"],
                    "visitors": m["visitors"],
                    "unique_visitors_error": m["unique_visitors_error"],
                }
            )
        )


if __name__ == "__main__":
    main()
