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
  linked camera within its window; ``every``: all of a person's tracklets one visitor);
* ``appearance ceilings``: oracles that join a person's tracklet to the person's earlier ones only
  where the calibrated appearance could pick that person out: the person's gallery embedding
  (the quality-weighted mean of their tracklets that ended before it started, the true identities
  given) is the most similar to the tracklet's among the candidates, every true person who could
  have walked to where it starts (same floor: at ``max_speed_mps``) and was last seen no earlier
  than the true one (``since the true one``: generous, the people around in that gap only) or
  within the last ``--window-s`` (``within W s``: everyone a stitcher with that memory would
  weigh); ``ranked first`` joins on appearance alone, ``+ hand-over or ranked first`` also across
  every hand-over (the ``+ hand-over`` ceiling's joins, right whatever the appearance). An
  upper bound for a stitcher that decides by appearance rank among the people present.
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


def oracle_ids(
    t: Tracklets,
    topo: CameraTopology,
    by_person: dict[int, list[int]],
    kinds: tuple[str, ...] | None,
    ranked: np.ndarray | None = None,
) -> list[str]:
    """Visitor ids of an oracle: each row its true person, a person's consecutive tracklets
    (in order of their start) joined across ``kinds`` of relation (None: every one; a broken
    track on the same camera under 10 s only) or where ``ranked`` is true for the later one."""
    oracle = [f"row{r}" for r in range(len(t))]
    for p, rows in by_person.items():
        if p < 0:
            continue
        part = 0
        for i, r in enumerate(rows):
            if i and kinds is not None:
                kind, band = relation(topo, t, rows[i - 1], r)
                joined = kind in kinds and (kind != "same camera" or band == "<10 s")
                if not joined and not (ranked is not None and ranked[r]):
                    part += 1
            oracle[r] = f"p{p}/{part}"
    return oracle


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


def ranked_first(
    t: Tracklets, topo: CameraTopology, person: np.ndarray, window_s: float | None
) -> np.ndarray:
    """Per row: its true person was seen before and their gallery embedding (the quality-weighted
    mean of their tracklets that ended before this one started) is the most similar to the row's
    among the candidates: every true person seen before on another floor (after at least 30 s)
    or on the same floor within walking reach (``max_speed_mps``, clock skew and position slack
    of the default settings), last seen no earlier than the true one (``window_s`` None) or
    within the last ``window_s`` seconds (see the module docstring)."""
    s = StitchSettings()
    people = sorted({int(p) for p in person.tolist() if p >= 0})
    index = {p: i for i, p in enumerate(people)}
    sums = np.zeros((len(people), t.embedding.shape[1]))
    last_end = np.full(len(people), -np.inf)
    last_xy = np.full((len(people), 2), np.nan)
    last_floor = np.full(len(people), -1)
    first_xy, end_xy = t.first_xy, t.last_xy
    by_end = np.argsort(t.end, kind="stable")
    out = np.zeros(len(t), dtype=bool)
    k = 0
    for b in np.argsort(t.start, kind="stable").tolist():
        while k < len(t) and t.end[by_end[k]] <= t.start[b]:
            r = int(by_end[k])
            k += 1
            if person[r] < 0:
                continue
            i = index[int(person[r])]
            sums[i] += max(float(t.quality[r]), 0.05) * t.embedding[r]
            if t.end[r] >= last_end[i]:
                last_end[i] = t.end[r]
                last_xy[i] = end_xy[r]
                last_floor[i] = topo.floor[t.camera[r]]
        if person[b] < 0 or not np.isfinite(last_end[index[int(person[b])]]):
            continue
        i = index[int(person[b])]
        gap = t.start[b] - last_end
        since = last_end >= (last_end[i] if window_s is None else t.start[b] - window_s)
        floor = int(topo.floor[t.camera[b]])
        dist = np.hypot(*(last_xy - first_xy[b]).T)
        reach = s.max_speed_mps * (gap + s.skew_tolerance_s) + s.position_slack_m
        walkable = np.where(last_floor == floor, ~(dist > reach), gap >= 30.0)
        cand = np.flatnonzero(since & walkable & np.isfinite(last_end))
        cand = np.union1d(cand, [i])
        norms = np.linalg.norm(sums[cand], axis=1)
        sims = (sums[cand] @ t.embedding[b]) / np.maximum(norms, 1e-12)
        out[b] = bool(sims[np.searchsorted(cand, i)] >= sims.max())
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="moderate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--window-s", type=float, default=600.0)
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
        oracle = oracle_ids(t, topo, by_person, kinds)
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

    links = sum(len(rows) - 1 for p, rows in by_person.items() if p >= 0)
    for window, label in [
        (None, "since the true one"),
        (args.window_s, f"within {args.window_s:g} s"),
    ]:
        ranked = ranked_first(t, topo, person, window)
        for name, kinds in [
            ("ranked first", ()),
            ("+ hand-over or ranked first", CEILINGS["+ hand-over"]),
        ]:
            m = score_mode(
                site, sim.truth, t, oracle_ids(t, topo, by_person, kinds, ranked), crossings, visits
            )
            print(
                json.dumps(
                    {
                        **head,
                        "appearance_ceiling": f"{name}, {label}",
                        "ranked_first": int(ranked.sum()),
                        "links": links,
                        "mtmc_idf1": m["mtmc_idf1"],
                        "visitors": m["visitors"],
                        "unique_visitors_error": m["unique_visitors_error"],
                    }
                )
            )


if __name__ == "__main__":
    main()
