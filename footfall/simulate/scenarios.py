"""Named simulation scenarios, from a seconds-long smoke test to a 224-camera load test.

A scenario says how many people come (visitors per day along the arrival curve, the part of the
day simulated), how they behave (groups, returns, staff) and how the cameras err (missed
detections, position noise, broken tracks, identity switches, Re-ID embedding noise and
look-alikes, camera clock skew). Every rate is per person-second or per track-minute, so the
same scenario is equally hard on a bigger site.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, replace
from pathlib import Path

REPO_SITES = Path(__file__).resolve().parents[2] / "configs" / "sites"


@dataclass(frozen=True)
class Errors:
    """How the simulated edge nodes err."""

    miss_rate: float = 0.05
    """Probability that a person in view is not detected in a frame (the track survives)."""
    position_noise_m: float = 0.15
    """Standard deviation of the reported floor position, metres (per axis)."""
    break_per_min: float = 0.3
    """Broken tracks: a track ends and the person gets a new track id after 0.5-3 s unseen."""
    switch_per_min: float = 0.5
    """Identity switches: when someone else is within 1.5 m, two tracks swap people."""
    embedding_noise: float = 0.6
    """Re-ID noise: a tracklet's embedding is normalise(identity + noise·N(0, I/d));
    same-person cosine similarity is about 1/(1 + noise²)."""
    embedding_noise_spread: float = 0.0
    """Tracklets are not equally good (occlusion, pose, light): each tracklet's noise is
    multiplied by exp(spread·N(0, 1)), which widens the low tail of same-person similarity."""
    appearance_rank: int | None = None
    """How many directions people's looks vary along (clothing colours, build…): identities span
    a random subspace of this many dimensions, so two different people's cosine similarity
    spreads about 1/√rank around 0, as a real embedder's does around its own mean; None: the
    whole embedding (spread 1/√embedding_dims)."""
    lookalike_fraction: float = 0.3
    """Share of visitors who dress like someone else (their identities share a base vector)."""
    lookalike_similarity: float = 0.6
    """Cosine similarity of two look-alikes' identities (before tracklet noise)."""
    clock_skew_s: float = 0.5
    """Each camera's clock is off by a uniform amount in ± this many seconds."""
    ghost_per_camera_hour: float = 2.0
    """False tracks (reflections, mannequins): short tracklets of nobody, per camera-hour."""


@dataclass(frozen=True)
class Scenario:
    """One named simulation: site, crowd, behaviour and errors."""

    name: str
    description: str
    site: Path
    visitors_per_day: int
    start_hour: float
    """Site-local hour the simulated window starts (the mall opens at 9 and closes at 21)."""
    duration_s: float
    fps: float = 2.0
    """Frames per second every camera reports (the edge may process fewer frames than its
    camera delivers; 2-5 fps is typical for counting)."""
    group_fraction: float = 0.25
    """Share of visitors who come in groups of 2-4 (walking together, same plan)."""
    return_fraction: float = 0.1
    """Share of visitors who leave and come back later the same day."""
    staff: int = 4
    """Staff who are there the whole window, moving between their store and breaks."""
    errors: Errors = Errors()
    embedding_dims: int = 128
    appearance_like: str = ""
    """Which measured real Re-ID this scenario's appearance is as hard as (README, "Simulator":
    ``bench/reid/bench_reid_separation.py`` on PETS09-S2L1 ground-truth crops)."""
    appearance_auc: float | None = None
    """That real embedder's AUC: the probability that two tracklets of one person are more
    similar than two of different people; the scenario's own tracklets land near it."""
    date: str = "2026-11-20"


def _site(name: str) -> Path:
    return REPO_SITES / name


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            name="smoke",
            description="10 minutes, ~50 people, every error type, Re-ID like OSNet x0.25; "
            "about a second",
            site=_site("two_floor_mall.yaml"),
            visitors_per_day=2000,
            start_hour=11.0,
            duration_s=600.0,
            staff=2,
            return_fraction=0.0,
            appearance_like="OSNet x0.25 (MSMT17), a 10-crop tracklet on PETS09-S2L1",
            appearance_auc=0.971,
            # few people: switch often enough to be seen; appearance as hard as OSNet x0.25
            errors=Errors(
                switch_per_min=2.0,
                embedding_noise=0.5,
                embedding_noise_spread=0.6,
                appearance_rank=8,
            ),
        ),
        Scenario(
            name="light",
            description="1 hour at a quiet time, few errors, Re-ID like OSNet x0.25",
            site=_site("two_floor_mall.yaml"),
            visitors_per_day=3000,
            start_hour=10.0,
            duration_s=3600.0,
            appearance_like="OSNet x0.25 (MSMT17), a 10-crop tracklet on PETS09-S2L1",
            appearance_auc=0.971,
            errors=Errors(
                miss_rate=0.02,
                position_noise_m=0.1,
                break_per_min=0.1,
                switch_per_min=0.2,
                embedding_noise=0.5,  # appearance as hard as OSNet x0.25
                embedding_noise_spread=0.6,
                appearance_rank=8,
                lookalike_fraction=0.1,
                clock_skew_s=0.2,
                ghost_per_camera_hour=1.0,
            ),
        ),
        Scenario(
            name="moderate",
            description="1.5 hours around the lunch peak, realistic errors, Re-ID like the "
            "default offline embedder",
            site=_site("two_floor_mall.yaml"),
            visitors_per_day=6000,
            start_hour=11.5,
            duration_s=5400.0,
            staff=6,
            appearance_like="mobilenet_parts (default), a 10-crop tracklet on PETS09-S2L1",
            appearance_auc=0.923,
            # appearance as hard as the default embedder per tracklet (calibrated by
            # bench/reid/calibrate_sim_appearance.py: reports/eval/sim_appearance)
            errors=Errors(
                embedding_noise=0.65,
                embedding_noise_spread=0.8,
                appearance_rank=4,
                lookalike_fraction=0.4,
                lookalike_similarity=0.7,
            ),
        ),
        Scenario(
            name="hard",
            description="1.5 hours of the evening peak, crowded, many look-alikes, Re-ID like "
            "the default offline embedder on single crops",
            site=_site("two_floor_mall.yaml"),
            visitors_per_day=12000,
            start_hour=16.5,
            duration_s=5400.0,
            staff=8,
            group_fraction=0.35,
            return_fraction=0.15,
            appearance_like="mobilenet_parts (default), single crops on PETS09-S2L1",
            appearance_auc=0.886,
            errors=Errors(
                miss_rate=0.1,
                position_noise_m=0.3,
                break_per_min=0.8,
                switch_per_min=1.0,
                embedding_noise=1.05,  # as hard as the default embedder per crop (calibrated)
                embedding_noise_spread=0.9,
                appearance_rank=5,
                lookalike_fraction=0.5,
                lookalike_similarity=0.75,
                clock_skew_s=1.5,
                ghost_per_camera_hour=6.0,
            ),
        ),
        Scenario(
            name="load",
            description="a 224-camera mall, 50,000 visitors a day (load generator)",
            site=_site("generated/mall_224.yaml"),
            visitors_per_day=50_000,
            start_hour=9.0,
            duration_s=12 * 3600.0,
            staff=60,
        ),
    )
}


def scenario(name: str) -> Scenario:
    """The scenario called ``name``; KeyError naming the valid ones otherwise."""
    try:
        return SCENARIOS[name]
    except KeyError:
        close = difflib.get_close_matches(name, SCENARIOS, n=1)
        hint = f" — did you mean {close[0]!r}?" if close else ""
        raise KeyError(
            f"unknown scenario {name!r}{hint}; choose one of {', '.join(SCENARIOS)}"
        ) from None


def with_overrides(base: Scenario, **changes: object) -> Scenario:
    """A copy of ``base`` with some fields changed (``duration_s``, ``visitors_per_day``…)."""
    return replace(base, **changes)  # type: ignore[arg-type]
