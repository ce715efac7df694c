"""Calibrate each simulator scenario's appearance to a real embedder measured on real crops.

    python bench/reid/calibrate_sim_appearance.py --real FILE [--scenarios moderate,hard]
        [--seeds 1,2] [--people 19] [--out reports/eval/sim_appearance]

``--real`` is the JSON of ``bench/reid/bench_reid_separation.py --json FILE``: the figures of
real Re-ID on PETS09-S2L1 View_001 ground-truth crops (per crop and per 10-crop tracklet).
Each scenario is calibrated to the real figure it names in :data:`TARGETS` (the product's
default embedder, ``mobilenet_parts``, for ``moderate`` and ``hard``; OSNet x0.25 for
``smoke`` and ``light``, whose figures are only checked unless named in ``--scenarios``).

Method. The appearance model of :class:`footfall.simulate.sim.Simulation` has three knobs the
calibration sets (``Errors.appearance_rank``, ``embedding_noise``, ``embedding_noise_spread``;
the crowd's look-alikes, ``lookalike_fraction`` and ``lookalike_similarity``, stay as the
scenario has them: they describe the crowd, not the camera). A tracklet's embedding depends only
on which people it showed for how many frames, so the scenario is simulated once per seed for
as long as ``tests/simulate/test_appearance_calibration.py`` does, and every grid point redraws
identities and tracklet noise for those same tracklets with the simulator's own formulas
(:func:`redraw`). Each point is scored with :func:`footfall.simulate.appearance.separation` and
compared with the real figure on the scale where different people average 0 ("scaled"): the
loss weighs AUC (within 0.01), the same-person mean and spread and the different-person spread
(within 0.05) and retrieval mAP in galleries of ``--people`` people (within 0.10: the simulator's
people have fewer tracklets each than PETS's, so its mAP is only roughly comparable). The best
point is then checked on the simulator itself (:func:`tracklet_embeddings`, the scenario with
those settings), beside the scenario as it ships. Writes ``metrics.json`` and ``report.md``.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from collections import Counter
from dataclasses import replace
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from footfall.contract import TrackletEnded  # noqa: E402
from footfall.simulate import scenario  # noqa: E402
from footfall.simulate.appearance import Separation, separation, tracklet_embeddings  # noqa: E402
from footfall.simulate.scenarios import Errors, Scenario, with_overrides  # noqa: E402
from footfall.simulate.sim import (  # noqa: E402
    Simulation,
    appearance_basis,
    identity_vectors,
    tracklet_embedding,
    unit_vectors,
)
from footfall.site import load_site  # noqa: E402

TARGETS = {
    "smoke": ("pets/osnet_x0_25/segment", "OSNet x0.25 (MSMT17), 10-crop tracklets"),
    "light": ("pets/osnet_x0_25/segment", "OSNet x0.25 (MSMT17), 10-crop tracklets"),
    "moderate": ("pets/mobilenet_parts/segment", "mobilenet_parts (default), 10-crop tracklets"),
    "hard": ("pets/mobilenet_parts/crop", "mobilenet_parts (default), single crops"),
}
"""Scenario → (key of the real figure in ``--real``, what it is)."""

DURATION_S = {"smoke": 300.0, "light": 300.0, "moderate": 300.0, "hard": 200.0}
"""Simulated seconds per scenario, as the calibration test runs them."""

RANKS = (3, 4, 5, 6, 7, 8, 10, 12, 14, 16, 20, 24, 32)
COARSE = ((3, 4, 6, 8, 10, 12, 16, 24), (0.4, 0.6, 0.8, 1.0, 1.2, 1.4, 1.6), (0.0, 0.5, 0.8, 1.1))
"""The first grid (ranks, noises, spreads); the second is around its best point: the ranks next
to it in :data:`RANKS`, noise ± 0.1 and spread ± 0.2 in half steps."""


def fine(rank: int, noise: float, spread: float) -> tuple[tuple[float, ...], ...]:
    k = RANKS.index(rank)
    ranks = RANKS[max(k - 1, 0) : k + 2]
    noises = tuple(round(noise + d, 2) for d in (-0.1, -0.05, 0.0, 0.05, 0.1) if noise + d > 0)
    spreads = tuple(round(spread + d, 2) for d in (-0.2, -0.1, 0.0, 0.1, 0.2) if spread + d >= 0)
    return ranks, noises, spreads


Tracks = list[tuple[Counter[int], int]]
"""Per ended tracklet: frames per person shown (ghosts negative), majority person."""


def tracks_of(sc: Scenario, seed: int, duration_s: float) -> tuple[Tracks, int, int]:
    """The ended tracklets of ``sc`` run for ``duration_s`` (as
    :func:`tracklet_embeddings` takes them), with the number of people and of ghosts."""
    sc = with_overrides(sc, duration_s=min(duration_s, sc.duration_s))
    sim = Simulation(load_site(sc.site), sc, seed=seed)
    out: Tracks = []
    for chunk in sim.chunks():
        for m in chunk:
            if isinstance(m, TrackletEnded) and m.embedding is not None:
                people = sim.truth.tracks.get((m.camera_id, m.run_id, m.track_id))
                if people:
                    out.append((Counter(people), people.most_common(1)[0][0]))
    return out, len(sim.people), len(sim.ghost_identities)


def redraw(
    tracks: Tracks, people: int, ghosts: int, errors: Errors, dims: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """Tracklet embeddings and labels for ``tracks`` under ``errors``' appearance, drawn with
    :class:`Simulation`'s own functions (identities, ghosts, then each tracklet's noise)."""
    rng = np.random.default_rng(seed)
    basis = appearance_basis(rng, dims, errors.appearance_rank)
    ids = identity_vectors(rng, people, dims, errors, basis)
    ghost_ids = unit_vectors(rng, max(ghosts, 1), dims, basis)
    vectors = np.empty((len(tracks), dims))
    labels = np.empty(len(tracks), dtype=np.int64)
    for k, (shown, label) in enumerate(tracks):
        mix = np.zeros(dims)
        for p, n in shown.items():
            mix += n * (ids[p] if p >= 0 else ghost_ids[(-p - 1) % len(ghost_ids)])
        vectors[k] = tracklet_embedding(rng, mix, sum(shown.values()), errors)
        labels[k] = label
    return vectors, labels


def figures(s: Separation | dict[str, object]) -> dict[str, float]:
    """The figures the calibration matches: AUC, mAP, scaled same mean/std, scaled diff std."""
    d = s.as_dict() if isinstance(s, Separation) else s
    return {
        "auc": float(d["auc"]),  # type: ignore[arg-type]
        "map": float(d["map"]),  # type: ignore[arg-type]
        "same": float(d["scaled_same_mean"]),  # type: ignore[arg-type]
        "same_std": float(d["scaled_same_std"]),  # type: ignore[arg-type]
        "diff_std": float(d["scaled_diff_std"]),  # type: ignore[arg-type]
    }


TOLERANCE = {"auc": 0.01, "same": 0.05, "same_std": 0.05, "diff_std": 0.05, "map": 0.10}


def loss(got: dict[str, float], want: dict[str, float]) -> float:
    return float(sum(((got[k] - want[k]) / tol) ** 2 for k, tol in TOLERANCE.items()))


def mean_figures(runs: list[dict[str, float]]) -> dict[str, float]:
    return {k: float(np.mean([r[k] for r in runs])) for k in runs[0]}


def check(sc: Scenario, seeds: list[int], people: int) -> dict[str, float]:
    """The figures of the simulator itself (its tracklets), averaged over ``seeds``."""
    runs = []
    for seed in seeds:
        x, y = tracklet_embeddings(sc, seed=seed, duration_s=DURATION_S[sc.name])
        runs.append(figures(separation(x, y, people=people)))
    return mean_figures(runs)


Point = tuple[float, int, float, float, dict[str, float]]
"""(loss, rank, noise, spread, figures) of one grid point."""


def calibrate(
    sc: Scenario,
    runs: list[tuple[Tracks, int, int]],
    seeds: list[int],
    want: dict[str, float],
    people: int,
) -> list[Point]:
    """Every grid point tried (:data:`COARSE`, then :func:`fine` around its best), best first."""
    grid: list[Point] = []
    done: set[tuple[int, float, float]] = set()

    def point(rank: int, noise: float, spread: float) -> Point:
        errors = replace(
            sc.errors, appearance_rank=rank, embedding_noise=noise, embedding_noise_spread=spread
        )
        got = mean_figures(
            [
                figures(separation(*redraw(tr, n, g, errors, sc.embedding_dims, seed), people))
                for (tr, n, g), seed in zip(runs, seeds, strict=True)
            ]
        )
        return (loss(got, want), rank, noise, spread, got)

    def search(points: tuple[tuple[float, ...], ...]) -> None:
        for rank, noise, spread in itertools.product(*points):
            if (int(rank), noise, spread) not in done:
                done.add((int(rank), noise, spread))
                grid.append(point(int(rank), noise, spread))

    search(COARSE)
    grid.sort(key=lambda r: r[0])
    search(fine(grid[0][1], grid[0][2], grid[0][3]))
    grid.sort(key=lambda r: r[0])
    return grid


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--real", type=Path, required=True, help="bench_reid_separation.py --json")
    ap.add_argument("--scenarios", default="moderate,hard", help="scenarios to calibrate")
    ap.add_argument("--seeds", default="1,2")
    ap.add_argument("--people", type=int, default=19, help="people per retrieval gallery")
    ap.add_argument("--out", type=Path, default=ROOT / "reports" / "eval" / "sim_appearance")
    args = ap.parse_args()
    real = json.loads(args.real.read_text())
    seeds = [int(s) for s in args.seeds.split(",")]
    wanted = [s for s in args.scenarios.split(",") if s]
    result: dict[str, object] = {
        "command": "python bench/reid/calibrate_sim_appearance.py " + " ".join(sys.argv[1:]),
        "real": {k: figures(v) for k, v in real.items() if k.startswith("pets/")},
        "scenarios": {},
    }
    t0 = time.perf_counter()
    for name in TARGETS:
        sc = scenario(name)
        key, like = TARGETS[name]
        want = figures(real[key])
        row: dict[str, object] = {"like": like, "real_key": key, "real": want}
        shipped = sc.errors
        row["shipped"] = {
            "rank": shipped.appearance_rank,
            "noise": shipped.embedding_noise,
            "spread": shipped.embedding_noise_spread,
            "figures": check(sc, seeds, args.people),
        }
        if name in wanted:
            runs = [tracks_of(sc, seed, DURATION_S[name]) for seed in seeds]
            grid = calibrate(sc, runs, seeds, want, args.people)
            best = grid[0]
            print(f"{name}: best of {len(grid)} {best[1:4]} loss {best[0]:.2f}", flush=True)
            chosen = replace(
                shipped,
                appearance_rank=best[1],
                embedding_noise=best[2],
                embedding_noise_spread=best[3],
            )
            row["calibrated"] = {
                "rank": best[1],
                "noise": best[2],
                "spread": best[3],
                "loss": best[0],
                "redrawn": best[4],
                "figures": check(replace(sc, errors=chosen), seeds, args.people),
                "runners_up": [
                    {"rank": r, "noise": n, "spread": s, "loss": lo} for lo, r, n, s, _ in grid[1:6]
                ],
            }
        row["shipped"]["loss"] = loss(row["shipped"]["figures"], want)  # type: ignore[index]
        result["scenarios"][name] = row  # type: ignore[index]
        print(json.dumps({name: row}), flush=True)
    result["seconds"] = round(time.perf_counter() - t0)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "metrics.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "report.md").write_text(report(result))
    print(f"wrote {args.out}/metrics.json and report.md in {result['seconds']} s")
    return 0


def _cells(f: dict[str, float]) -> str:
    return (
        f"{f['auc']:.3f} | {f['same']:.2f} ± {f['same_std']:.2f} | ± {f['diff_std']:.2f} | "
        f"{100 * f['map']:.1f}"
    )


def report(result: dict[str, object]) -> str:
    lines = [
        "# Simulator appearance calibrated to real Re-ID",
        "",
        f"Regenerate: `{result['command']}` "
        "(the real figures: `python bench/reid/bench_reid_separation.py --scenarios '' "
        "--json FILE`, PETS09-S2L1 View_001 ground-truth crops).",
        "",
        "Figures on the scale where different people average 0: AUC, same-person cosine mean ± "
        "std, different-person std, retrieval mAP (%) in galleries of 19 people. Simulator "
        "figures: its own tracklets (`tracklet_embeddings`), averaged over the seeds.",
        "",
        "| scenario | as hard as | settings (rank, noise, spread) | AUC | same | different | mAP |",
        "|---|---|---|---|---|---|---|",
    ]
    for name, row in result["scenarios"].items():  # type: ignore[attr-defined]
        lines.append(f"| {name} | real: {row['like']} | — | {_cells(row['real'])} |")
        sh = row["shipped"]
        label = "before" if "calibrated" in row else "as shipped (checked, kept)"
        lines.append(
            f"| {name} | {label} | {sh['rank']}, {sh['noise']}, {sh['spread']} | "
            f"{_cells(sh['figures'])} |"
        )
        if "calibrated" in row:
            ca = row["calibrated"]
            lines.append(
                f"| {name} | calibrated | {ca['rank']}, {ca['noise']}, {ca['spread']} | "
                f"{_cells(ca['figures'])} |"
            )
    lines.append("")
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
