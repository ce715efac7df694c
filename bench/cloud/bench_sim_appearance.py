"""Why the calibrated simulator stitches so badly: its appearance taken apart.

    python bench/cloud/bench_sim_appearance.py [--scenario moderate] [--seed 1]
        [--variant calibrated|hist|fullrank|precalibration ...]

Simulates the scenario as ``footfall simulate --scenario NAME --evaluate --json --in-process``
does (same chunks, same in-process evaluation: every stitching mode against the simulator's
truth), once per variant of its appearance, all else equal:

* ``calibrated``: the scenario as shipped (identities in a low-rank subspace, per-tracklet
  noise spread; README "Simulator");
* ``hist``: ``moderate`` and ``hard`` as calibrated to the older embedder ``mobilenet_hist``
  (before their calibration to the default ``mobilenet_parts``; ``smoke`` and ``light`` as
  shipped);
* ``fullrank``: the same noise and look-alikes, identities spread over the whole embedding
  (``appearance_rank`` None): only the rank differs;
* ``precalibration``: the appearance errors before the calibration (commit 88a02cb's parent:
  one noise level for every tracklet, full rank).

Prints one JSON line per variant and mode: MTMC IDF1, unique visitors and their error.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import replace

from cloud.stitch.tracklets import from_messages
from footfall.evaluation.stitching import evaluate, local_analytics
from footfall.simulate import Simulation, scenario
from footfall.simulate.scenarios import Scenario
from footfall.simulate_cli import CHUNK_S, MODE_NAMES
from footfall.site import load_site

PRECALIBRATION = {
    "smoke": {"embedding_noise": 0.6},
    "light": {"embedding_noise": 0.5},
    "moderate": {"embedding_noise": 0.8},
    "hard": {"embedding_noise": 1.0},
}
"""Each scenario's ``embedding_noise`` before the calibration (no spread, full rank)."""


HIST = {
    "moderate": {"embedding_noise": 0.7, "embedding_noise_spread": 1.0, "appearance_rank": 3},
    "hard": {"embedding_noise": 1.1, "embedding_noise_spread": 1.1, "appearance_rank": 4},
}
"""``moderate`` and ``hard`` as calibrated to ``mobilenet_hist`` (commit 88a02cb, until they were
calibrated to ``mobilenet_parts``: ``bench/reid/calibrate_sim_appearance.py``)."""


def variant(base: Scenario, name: str) -> Scenario:
    errors = base.errors
    if name == "hist":
        errors = replace(errors, **HIST.get(base.name, {}))  # type: ignore[arg-type]
    elif name == "fullrank":
        errors = replace(errors, appearance_rank=None)
    elif name == "precalibration":
        before = PRECALIBRATION[base.name]
        errors = replace(errors, embedding_noise_spread=0.0, appearance_rank=None, **before)
    elif name != "calibrated":
        raise SystemExit(f"unknown variant {name!r}")
    return replace(base, errors=errors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenario", default="moderate", choices=sorted(PRECALIBRATION))
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument(
        "--variant",
        action="append",
        choices=["calibrated", "hist", "fullrank", "precalibration"],
        help="repeatable; default calibrated, fullrank and precalibration",
    )
    args = parser.parse_args()
    for name in args.variant or ["calibrated", "fullrank", "precalibration"]:
        sc = variant(scenario(args.scenario), name)
        site = load_site(sc.site)
        sim = Simulation(site, sc, args.seed, with_truth=True)
        messages = [m for chunk in sim.chunks(CHUNK_S) for m in chunk]
        crossings, visits = local_analytics(site, messages)
        t = from_messages(site, messages)
        modes = evaluate(site, sim.truth, t, crossings, visits, MODE_NAMES)
        for mode, m in modes.items():
            row = {
                "scenario": args.scenario,
                "seed": args.seed,
                "variant": name,
                "mode": mode,
                "mtmc_idf1": m["mtmc_idf1"],
                "visitors": m["visitors"],
                "true_visitors": m["true_visitors"],
                "unique_visitors_error": m["unique_visitors_error"],
            }
            print(json.dumps(row), flush=True)


if __name__ == "__main__":
    main()
